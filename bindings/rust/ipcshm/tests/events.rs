//! Events (libipcshm 1.2) through the safe API, in real processes: a waiter in
//! a re-executed child woken by a notify here and back, the descriptor
//! becoming readable after another process's notify, timeouts, places and
//! memory that is no event, read-only mappings, and waits resumed after a
//! signal handler ran.

mod common;

use common::*;
use ipcshm::{Event, ReadOnly, Shm};
use std::io::ErrorKind;
use std::os::unix::io::AsRawFd;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn events_are_send_and_sync() {
    assert_send_sync::<Event<'static>>();
    assert_send_sync::<Event<'static, ReadOnly>>();
}

#[test]
fn a_waiter_in_another_process_wakes_on_notify() {
    if let Some((role, id)) = child_role() {
        assert_eq!(role, "waiter");
        let shm = Shm::attach(&id).unwrap();
        let ev = Event::new(&shm, 64).unwrap();
        let mut seen = ev.sequence().unwrap();
        say(&format!("SEEN {}", seen));
        while hear() == "wait" {
            say("WAITING");
            seen = ev.wait(seen).unwrap();
            say(&format!("WOKE {}", seen));
        }
        ev.notify().unwrap(); // and one for the parent
        return;
    }
    let id = unique("ev-wake");
    let _cleanup = Cleanup(id.clone());
    let shm = Shm::create(&id, 4096).unwrap();
    let ev = Event::new(&shm, 64).unwrap();
    ev.init().unwrap();
    let mut child = LineChild::spawn("a_waiter_in_another_process_wakes_on_notify", "waiter", &id);
    assert_eq!(child.expect("SEEN"), "SEEN 0");
    for round in 1..=3u64 {
        child.send("wait");
        child.expect("WAITING");
        wait_until_sleeping(child.pid(), child.pid());
        ev.notify().unwrap();
        assert_eq!(child.expect("WOKE"), format!("WOKE {}", round));
    }
    let seen = ev.sequence().unwrap();
    child.send("done");
    assert_eq!(ev.wait(seen).unwrap(), 4);
    assert!(child.wait().success());
}

#[test]
fn the_descriptor_becomes_readable_after_a_notify_in_another_process() {
    if let Some((_, id)) = child_role() {
        let shm = Shm::attach(&id).unwrap();
        Event::new(&shm, 0).unwrap().notify().unwrap();
        return;
    }
    #[repr(C)]
    struct PollFd {
        fd: i32,
        events: i16,
        revents: i16,
    }
    extern "C" {
        fn poll(fds: *mut PollFd, n: u64, timeout: i32) -> i32;
    }
    let id = unique("ev-fd");
    let _cleanup = Cleanup(id.clone());
    let shm = Shm::create(&id, 4096).unwrap();
    let ev = Event::new(&shm, 0).unwrap();
    ev.init().unwrap();
    let fd = ev.fd().unwrap();
    let mut p = PollFd {
        fd: fd.as_raw_fd(),
        events: 1, // POLLIN
        revents: 0,
    };
    assert_eq!(
        unsafe { poll(&mut p, 1, 0) },
        0,
        "readable before any notify"
    );
    let out = run(child(
        "the_descriptor_becomes_readable_after_a_notify_in_another_process",
        "notifier",
        &id,
    ))
    .unwrap();
    expect_success("notifier", &out);
    assert_eq!(unsafe { poll(&mut p, 1, 30_000) }, 1);
    let mut file = std::fs::File::from(fd);
    let mut seq = [0u8; 8];
    std::io::Read::read_exact(&mut file, &mut seq).unwrap();
    assert_eq!(u64::from_ne_bytes(seq), 1);
    let again = std::io::Read::read(&mut file, &mut seq).unwrap_err();
    assert_eq!(again.kind(), ErrorKind::WouldBlock);
    drop(shm); // the descriptor goes on working without the mapping
}

#[test]
fn timeouts() {
    let shm = Shm::create("memfd:ev-timeouts", 4096).unwrap();
    let ev = Event::new(&shm, 128).unwrap();
    ev.init().unwrap();
    assert_eq!(ev.wait_timeout(0, Some(Duration::ZERO)).unwrap(), None);
    let start = Instant::now();
    assert_eq!(
        ev.wait_timeout(0, Some(Duration::from_millis(50))).unwrap(),
        None
    );
    assert!(start.elapsed() >= Duration::from_millis(50));
    ev.notify().unwrap();
    assert_eq!(ev.wait_timeout(0, Some(Duration::ZERO)).unwrap(), Some(1));
    // A timeout too long for the library's nanoseconds is as good as none.
    assert_eq!(ev.wait_timeout(0, Some(Duration::MAX)).unwrap(), Some(1));
}

#[test]
fn places_and_memory_that_is_no_event() {
    let shm = Shm::create("memfd:ev-places", 4096).unwrap();
    for bad in [4usize, 1, 4096 - 56, 4096, usize::MAX - 7] {
        let err = Event::new(&shm, bad).unwrap_err();
        assert_error(&err, ErrorKind::InvalidInput, EINVAL, "ipcshm::Event");
    }
    let last = Event::new(&shm, 4096 - 64).unwrap();
    assert_eq!(last.offset(), 4096 - 64);
    // Zeros: never initialised.
    let ev = Event::new(&shm, 0).unwrap();
    for err in [
        ev.sequence().unwrap_err(),
        ev.notify().unwrap_err(),
        ev.wait(0).unwrap_err(),
        ev.fd().unwrap_err(),
    ] {
        assert_eq!(ipcshm::errno(&err), Some(EINVAL), "{}", err);
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
    // Another kind of primitive.
    ipcshm::Semaphore::new(&shm, 64).unwrap().init(3).unwrap();
    let err = Event::new(&shm, 64).unwrap().sequence().unwrap_err();
    assert!(err.to_string().contains("semaphore"), "{}", err);
    // Impossible contents: a layout version no library wrote.
    ev.init().unwrap();
    shm.write_at(4, &[0xff; 4]).unwrap();
    let err = ev.wait(0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert_eq!(ipcshm::errno(&err), Some(EBADMSG));
}

#[test]
fn read_only_mappings_read_the_sequence() {
    let id = unique("ev-ro");
    let _cleanup = Cleanup(id.clone());
    let shm = Shm::create(&id, 4096).unwrap();
    let ev = Event::new(&shm, 0).unwrap();
    ev.init().unwrap();
    ev.notify().unwrap();
    let ro = Shm::attach_readonly(&id).unwrap();
    let view: Event<ReadOnly> = Event::new(&ro, 0).unwrap();
    assert_eq!(view.sequence().unwrap(), 1);
    assert_eq!(ro.load_u64(1, Ordering::Acquire), Some(1)); // the sequence word
}

#[test]
fn a_wait_is_resumed_after_a_signal_handler_ran() {
    extern "C" {
        fn signal(sig: i32, handler: extern "C" fn(i32)) -> usize;
        fn pthread_self() -> usize;
        fn pthread_kill(thread: usize, sig: i32) -> i32;
    }
    const SIGUSR1: i32 = 10;
    static HANDLED: AtomicU32 = AtomicU32::new(0);
    extern "C" fn count(_: i32) {
        HANDLED.fetch_add(1, Ordering::SeqCst);
    }
    let shm = Shm::create("memfd:ev-eintr", 4096).unwrap();
    let ev = Event::new(&shm, 0).unwrap();
    ev.init().unwrap();
    unsafe { signal(SIGUSR1, count) };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        // (moved: a Sender is not Sync before Rust 1.72; the Event is Copy)
        let waiter = s.spawn(move || {
            tx.send((gettid(), unsafe { pthread_self() })).unwrap();
            ev.wait_timeout(0, Some(Duration::from_secs(60)))
        });
        let (tid, thread) = rx.recv().unwrap();
        for n in 1..=2 {
            wait_until_sleeping(std::process::id(), tid);
            assert_eq!(unsafe { pthread_kill(thread, SIGUSR1) }, 0);
            while HANDLED.load(Ordering::SeqCst) < n {
                std::thread::yield_now();
            }
        }
        wait_until_sleeping(std::process::id(), tid); // waiting again
        ev.notify().unwrap();
        assert_eq!(waiter.join().unwrap().unwrap(), Some(1));
    });
    assert_eq!(HANDLED.load(Ordering::SeqCst), 2);
}
