//! Robust mutexes (libipcshm 1.2) through the safe API, in real processes:
//! mutual exclusion among re-executed children and their threads, an owner
//! killed while a waiter here is blocked (`LockError::OwnerDead`,
//! `consistent`), an owner dead without repair making the mutex not
//! recoverable, a thread that ends holding it, and the guard's rules.

mod common;

use common::*;
use ipcshm::{LockError, Mutex, Shm};
use std::time::{Duration, Instant};

const EDEADLK: i32 = 35;
const EOWNERDEAD: i32 = 130;
const ENOTRECOVERABLE: i32 = 131;
const SIGKILL: i32 = 9;

#[test]
fn mutexes_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Mutex<'static>>();
}

fn counter(shm: &Shm) -> u64 {
    let mut b = [0u8; 8];
    shm.read_at(64, &mut b).unwrap();
    u64::from_ne_bytes(b)
}

#[test]
fn mutual_exclusion_across_processes_and_threads() {
    const PROCS: usize = 3;
    const THREADS: usize = 4;
    const ROUNDS: u64 = 2000;
    if let Some((_, id)) = child_role() {
        let shm = Shm::attach(&id).unwrap();
        let m = Mutex::new(&shm, 0).unwrap();
        std::thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    for _ in 0..ROUNDS {
                        let guard = m.lock().unwrap();
                        // Read, let the others run, write: a lost update
                        // without mutual exclusion.
                        let n = counter(&shm);
                        std::thread::yield_now();
                        shm.write_at(64, &(n + 1).to_ne_bytes()).unwrap();
                        drop(guard);
                    }
                });
            }
        });
        return;
    }
    let id = unique("mx-count");
    let _cleanup = Cleanup(id.clone());
    let shm = Shm::create(&id, 4096).unwrap();
    let m = Mutex::new(&shm, 0).unwrap();
    m.init().unwrap();
    let children: Vec<_> = (0..PROCS)
        .map(|_| {
            child(
                "mutual_exclusion_across_processes_and_threads",
                "counter",
                &id,
            )
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
        })
        .collect();
    for c in children {
        let _watchdog = Watchdog::new(c.id(), 240);
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{:?}", out.status);
    }
    assert_eq!(counter(&shm), PROCS as u64 * THREADS as u64 * ROUNDS);
    assert!(m.try_lock().unwrap().is_some());
}

fn hold(id: &str) {
    let shm = Shm::attach(id).unwrap();
    let m = Mutex::new(&shm, 128).unwrap();
    let guard = m.lock().unwrap();
    say("HELD");
    if hear() == "exit" {
        // The process ends holding the lock (killed otherwise).
        std::mem::forget(guard);
        std::process::exit(0);
    }
}

#[test]
fn a_blocked_waiter_gets_the_lock_of_a_killed_owner() {
    if let Some((_, id)) = child_role() {
        hold(&id);
        return;
    }
    let id = unique("mx-killed");
    let _cleanup = Cleanup(id.clone());
    let shm = Shm::create(&id, 4096).unwrap();
    let m = Mutex::new(&shm, 128).unwrap();
    m.init().unwrap();
    let mut holder = LineChild::spawn(
        "a_blocked_waiter_gets_the_lock_of_a_killed_owner",
        "holder",
        &id,
    );
    holder.expect("HELD");
    assert!(m.try_lock().unwrap().is_none());
    assert!(m
        .lock_timeout(Some(Duration::from_millis(50)))
        .unwrap()
        .is_none());
    let me = gettid();
    let pid = holder.pid();
    let killer = std::thread::spawn(move || {
        wait_until_sleeping(std::process::id(), me);
        unsafe { kill(pid as i32, SIGKILL) };
    });
    let start = Instant::now();
    let dead = match m.lock() {
        Err(LockError::OwnerDead(dead)) => dead,
        other => panic!("expected OwnerDead, got {:?}", other.map(|_| ())),
    };
    assert!(start.elapsed() < Duration::from_secs(30));
    killer.join().unwrap();
    assert_eq!(dead.error().errno(), EOWNERDEAD);
    assert!(dead.to_string().contains("died"), "{}", dead);
    // This thread holds it: a second lock is EDEADLK, not a wait.
    match m.lock() {
        Err(LockError::Io(e)) => assert_eq!(ipcshm::errno(&e), Some(EDEADLK)),
        other => panic!("expected EDEADLK, got {:?}", other.map(|_| ())),
    }
    let guard = dead.consistent().unwrap();
    guard.unlock().unwrap();
    drop(m.lock().unwrap()); // good again
    assert!(!holder.wait().success());
}

#[test]
fn an_owner_dead_dropped_without_repair_is_not_recoverable() {
    if let Some((_, id)) = child_role() {
        hold(&id);
        return;
    }
    let id = unique("mx-notrec");
    let _cleanup = Cleanup(id.clone());
    let shm = Shm::create(&id, 4096).unwrap();
    let m = Mutex::new(&shm, 128).unwrap();
    m.init().unwrap();
    let mut holder = LineChild::spawn(
        "an_owner_dead_dropped_without_repair_is_not_recoverable",
        "holder",
        &id,
    );
    holder.expect("HELD");
    holder.send("exit");
    assert!(holder.wait().success());
    // `?` into io::Error: the lock is given up unrepaired.
    let err = std::io::Error::from(m.lock().unwrap_err());
    assert_eq!(ipcshm::errno(&err), Some(EOWNERDEAD));
    for _ in 0..2 {
        match m.try_lock() {
            Err(LockError::NotRecoverable(e)) => {
                assert_eq!(ipcshm::errno(&e), Some(ENOTRECOVERABLE))
            }
            other => panic!("expected NotRecoverable, got {:?}", other.map(|_| ())),
        }
    }
    m.init().unwrap(); // nobody uses it: usable again
    drop(m.lock().unwrap());
}

#[test]
fn a_thread_that_ends_holding_it_is_a_dead_owner() {
    let shm = Shm::create("memfd:mx-thread", 4096).unwrap();
    let m = Mutex::new(&shm, 0).unwrap();
    m.init().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| std::mem::forget(m.lock().unwrap()));
    });
    match m.lock_timeout(Some(Duration::from_secs(30))) {
        Err(LockError::OwnerDead(dead)) => drop(dead.consistent().unwrap()),
        other => panic!("expected OwnerDead, got {:?}", other.map(|_| ())),
    }
    drop(m.try_lock().unwrap().expect("free and consistent"));
}

#[test]
fn guards_unlock_on_drop_and_belong_to_their_thread() {
    let shm = Shm::create("memfd:mx-guard", 4096).unwrap();
    let m = Mutex::new(&shm, 64).unwrap();
    m.init().unwrap();
    let guard = m.lock().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| assert!(m.try_lock().unwrap().is_none()));
    });
    drop(guard);
    std::thread::scope(|s| {
        s.spawn(|| drop(m.try_lock().unwrap().expect("unlocked by the drop")));
    });
    let err = Mutex::new(&shm, 60).unwrap_err();
    assert_error(
        &err,
        std::io::ErrorKind::InvalidInput,
        EINVAL,
        "ipcshm::Mutex",
    );
    let zeros = Mutex::new(&shm, 256).unwrap();
    match zeros.lock() {
        Err(LockError::Io(e)) => assert_eq!(ipcshm::errno(&e), Some(EINVAL)),
        other => panic!("expected EINVAL, got {:?}", other.map(|_| ())),
    };
}
