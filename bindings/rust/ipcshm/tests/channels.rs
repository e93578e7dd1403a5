//! Channels (libipcshm 1.2) between real processes: Rust to C and C to Rust
//! with a million messages of random lengths (in order, exactly once, each
//! checked byte for byte), a sender killed at random moments and in the middle
//! of a zero-copy write, a killed receiver, a second sender, a memfd channel
//! passed over a socket, and the poll descriptor.
//!
//! The C side is tests/channel_peer (built by meson, its path in
//! IPCSHM_CHANNEL_PEER); its messages are those of tests/channel_msg.h, which
//! `chmsg` below writes and checks the same way. The Rust side of the crash
//! tests is this test binary, re-executed.

mod common;

use common::*;
use ipcshm::{ChannelOptions, EndState, Receiver, Sender, Shm};
use std::io::{ErrorKind, Write};
use std::os::unix::io::{AsRawFd, BorrowedFd};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const EPIPE: i32 = 32;

/// tests/channel_msg.h in Rust: message `seq` of the stream `seed`.
mod chmsg {
    pub const HEAD: usize = 16;

    pub fn mix(mut x: u64) -> u64 {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }

    pub fn len(seed: u64, seq: u64, max_len: usize) -> usize {
        HEAD + (mix(seed.wrapping_mul(31).wrapping_add(seq)) % (max_len - HEAD + 1) as u64) as usize
    }

    fn fnv(p: &[u8]) -> u32 {
        p.iter().fold(2_166_136_261u32, |h, &b| {
            (h ^ b as u32).wrapping_mul(16_777_619)
        })
    }

    /// Writes message seq into `p` (its whole length).
    pub fn fill(p: &mut [u8], seed: u64, seq: u64) {
        let mut x = mix(seed ^ (seq << 20) ^ 0x5bd1_e995);
        for i in HEAD..p.len() {
            if i & 7 == 0 {
                x = mix(x);
            }
            p[i] = (x >> ((i & 7) * 8)) as u8;
        }
        let sum = fnv(&p[HEAD..]);
        let len = p.len() as u32;
        p[..8].copy_from_slice(&seq.to_ne_bytes());
        p[8..12].copy_from_slice(&len.to_ne_bytes());
        p[12..16].copy_from_slice(&sum.to_ne_bytes());
    }

    /// Panics unless `got` is exactly message seq.
    pub fn check(got: &[u8], seed: u64, seq: u64, max_len: usize, scratch: &mut [u8]) {
        let n = len(seed, seq, max_len);
        let claims = if got.len() >= 8 {
            u64::from_ne_bytes(got[..8].try_into().unwrap())
        } else {
            u64::MAX
        };
        assert_eq!(
            got.len(),
            n,
            "message {} has {} bytes, not {} (it claims to be message {})",
            seq,
            got.len(),
            n,
            claims
        );
        fill(&mut scratch[..n], seed, seq);
        assert!(
            got == &scratch[..n],
            "message {} is wrong (it claims to be message {})",
            seq,
            claims
        );
    }
}

fn channel_peer() -> Option<Command> {
    match std::env::var_os("IPCSHM_CHANNEL_PEER") {
        Some(p) if !p.is_empty() => Some(Command::new(p)),
        _ => {
            eprintln!("SKIP: IPCSHM_CHANNEL_PEER is not set (meson test sets it)");
            None
        }
    }
}

const MILLION: u64 = 1_000_000;
const MAX_LEN: usize = 200;

#[test]
fn rust_to_c_a_million_messages_in_order_exactly_once() {
    let mut peer = match channel_peer() {
        Some(p) => p,
        None => return,
    };
    let seed = nanos() as u64;
    let mut tx = ChannelOptions::new(MAX_LEN, 64)
        .create_sender("memfd:rs-to-c")
        .unwrap();
    // The C receiver gets the memfd channel as its standard input ("fd:0").
    peer.args(["recv", "fd:0", &MILLION.to_string(), &seed.to_string()])
        .args([MAX_LEN.to_string().as_str(), "--peek-every", "7"]);
    let proc = KillOnDrop(spawn_with_stdin(peer, tx.object_fd().unwrap()));
    let _watchdog = Watchdog::new(proc.0.id(), 300);
    let mut buf = [0u8; MAX_LEN];
    for seq in 0..MILLION {
        let len = chmsg::len(seed, seq, MAX_LEN);
        chmsg::fill(&mut buf[..len], seed, seq);
        let sent = match seq % 5 {
            // Zero-copy, committed explicitly...
            0 => tx.reserve().and_then(|mut slot| {
                slot.write_at(0, &buf[..len])?;
                slot.commit(len)
            }),
            // ... or on drop, written in two pieces through io::Write.
            1 => tx.reserve().and_then(|mut slot| {
                slot.write_all(&buf[..len / 2])?;
                slot.write_all(&buf[len / 2..len])
            }),
            2 => tx
                .send_timeout(&buf[..len], Some(Duration::from_secs(60)))
                .map(|ok| {
                    assert!(ok, "message {}: no free slot for a minute", seq);
                }),
            _ => tx.send(&buf[..len]),
        };
        if let Err(e) = sent {
            panic!("message {}: {}", seq, e);
        }
    }
    let info = tx.info().unwrap();
    assert_eq!(info.sent, MILLION);
    tx.close().unwrap();
    let out = proc_output(proc);
    expect_success("channel_peer recv", &out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("ready\nreceived {}\n", MILLION)
    );
}

/// Waits for the child and collects what it wrote (its stderr is short).
fn proc_output(mut proc: KillOnDrop) -> std::process::Output {
    use std::io::Read;
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    if let Some(mut out) = proc.0.stdout.take() {
        out.read_to_end(&mut stdout).unwrap();
    }
    if let Some(mut err) = proc.0.stderr.take() {
        err.read_to_end(&mut stderr).unwrap();
    }
    let status = proc.0.wait().unwrap();
    std::process::Output {
        status,
        stdout,
        stderr,
    }
}

#[test]
fn c_to_rust_a_million_messages_in_order_exactly_once() {
    let mut peer = match channel_peer() {
        Some(p) => p,
        None => return,
    };
    let seed = nanos() as u64 ^ 0xabcdef;
    let id = unique("c-to-rs");
    let _cleanup = Cleanup(id.clone());
    let mut rx = ChannelOptions::new(MAX_LEN, 64)
        .create_receiver(&id)
        .unwrap();
    peer.args(["send", &id, &MILLION.to_string(), &seed.to_string()])
        .args([MAX_LEN.to_string().as_str(), "--zero-copy-every", "3"])
        .stdout(Stdio::null());
    let proc = KillOnDrop(peer.spawn().unwrap());
    let _watchdog = Watchdog::new(proc.0.id(), 300);
    let mut buf = vec![0u8; MAX_LEN];
    let mut scratch = vec![0u8; MAX_LEN];
    let tail = 1000;
    for seq in 0..MILLION - tail {
        match seq % 4 {
            0 => {
                let n = rx.recv(&mut buf).unwrap();
                chmsg::check(&buf[..n], seed, seq, MAX_LEN, &mut scratch);
            }
            1 => {
                let v = rx.recv_vec().unwrap();
                chmsg::check(&v, seed, seq, MAX_LEN, &mut scratch);
            }
            2 => {
                let slot = rx.peek().unwrap();
                let n = slot.len();
                slot.read_at(0, &mut buf[..n]).unwrap();
                drop(slot); // released
                chmsg::check(&buf[..n], seed, seq, MAX_LEN, &mut scratch);
            }
            _ => {
                let n = rx
                    .recv_timeout(&mut buf, Some(Duration::from_secs(60)))
                    .unwrap()
                    .expect("a message within a minute");
                chmsg::check(&buf[..n], seed, seq, MAX_LEN, &mut scratch);
            }
        }
    }
    // The rest through the iterator, which ends when the sender is gone.
    let mut seq = MILLION - tail;
    for msg in rx.iter() {
        chmsg::check(&msg.unwrap(), seed, seq, MAX_LEN, &mut scratch);
        seq += 1;
    }
    assert_eq!(seq, MILLION, "the iterator ended early");
    let err = rx.recv(&mut buf).unwrap_err();
    assert_error(&err, ErrorKind::BrokenPipe, EPIPE, "");
    let info = rx.info().unwrap();
    assert_eq!(
        (info.sent, info.received, info.queued),
        (MILLION, MILLION, 0)
    );
    assert_eq!(info.sender, EndState::Closed);
    let out = proc_output(proc);
    expect_success("channel_peer send", &out);
    drop(rx);
    assert!(
        !dev_shm(&id).exists(),
        "a volatile channel outlived its ends"
    );
}

/// The sender of the crash tests (a re-executed child): opens the role of
/// the channel `id`, the counter object `id + "-n"`, and sends the stream
/// `seed` for ever, every third message through reserve/commit written in
/// two halves with a pause between; after each message, its count goes to
/// the counter.
fn crash_sender(id: &str) {
    let mut parts = id.split(' ');
    let (id, seed) = (
        parts.next().unwrap(),
        parts.next().unwrap().parse::<u64>().unwrap(),
    );
    let mut tx = Sender::open(id).unwrap();
    let counter = Shm::attach(&format!("{}-n", id)).unwrap();
    say("READY");
    let mut buf = [0u8; MAX_LEN];
    for seq in 0.. {
        let len = chmsg::len(seed, seq, MAX_LEN);
        chmsg::fill(&mut buf[..len], seed, seq);
        if seq % 3 == 0 {
            let mut slot = tx.reserve().unwrap();
            slot.write_at(0, &buf[..len / 2]).unwrap();
            let until = Instant::now() + Duration::from_micros(chmsg::mix(seq) % 50);
            while Instant::now() < until {}
            slot.write_at(len / 2, &buf[len / 2..len]).unwrap();
            slot.commit_written().unwrap();
        } else {
            tx.send(&buf[..len]).unwrap();
        }
        counter.atomic_u64()[0].store(seq + 1, Ordering::Release);
    }
}

#[test]
fn a_killed_sender_leaves_every_committed_message_then_broken_pipe() {
    if let Some((role, id)) = child_role() {
        assert_eq!(role, "sender");
        crash_sender(&id);
        return;
    }
    let mut scratch = vec![0u8; MAX_LEN];
    for round in 0..4u64 {
        let seed = nanos() as u64 + round;
        let id = unique("ch-kill");
        let _cleanup = Cleanup(id.clone());
        let _cleanup_n = Cleanup(format!("{}-n", id));
        let mut rx = ChannelOptions::new(MAX_LEN, 16)
            .create_receiver(&id)
            .unwrap();
        let counter = Shm::create(&format!("{}-n", id), 4096).unwrap();
        let mut child = LineChild::spawn(
            "a_killed_sender_leaves_every_committed_message_then_broken_pipe",
            "sender",
            &format!("{} {}", id, seed),
        );
        child.expect("READY");
        // Take some messages (a number that varies by round), then kill it
        // while it runs.
        let mut seq = 0u64;
        let mut buf = vec![0u8; MAX_LEN];
        let first = chmsg::mix(seed) % 3000;
        while seq < first {
            let n = rx.recv(&mut buf).unwrap();
            chmsg::check(&buf[..n], seed, seq, MAX_LEN, &mut scratch);
            seq += 1;
        }
        unsafe { kill(child.pid() as i32, 9) };
        let status = child.wait();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9));
        let killed = Instant::now();
        let counted = counter.atomic_u64()[0].load(Ordering::Acquire);
        loop {
            match rx.recv(&mut buf) {
                Ok(n) => {
                    chmsg::check(&buf[..n], seed, seq, MAX_LEN, &mut scratch);
                    seq += 1;
                }
                Err(e) => {
                    assert_error(&e, ErrorKind::BrokenPipe, EPIPE, "");
                    break;
                }
            }
        }
        // The counter is written after each commit: every message it
        // counts was delivered, and at most one more (committed, not yet
        // counted when the kill came).
        assert!(
            seq == counted || seq == counted + 1,
            "round {}: received {} messages, the sender counted {}",
            round,
            seq,
            counted
        );
        let waited = killed.elapsed();
        assert!(
            waited < Duration::from_secs(5),
            "BrokenPipe came {:?} after the sender's death",
            waited
        );
        let info = rx.info().unwrap();
        assert_eq!(info.sender, EndState::Died);
    }
}

#[test]
fn a_sender_killed_inside_a_zero_copy_write_delivers_nothing_of_it() {
    if let Some((role, id)) = child_role() {
        assert_eq!(role, "half");
        let mut tx = Sender::open(&id).unwrap();
        for m in [&b"one"[..], b"two", b"three"] {
            tx.send(m).unwrap();
        }
        let mut slot = tx.reserve().unwrap();
        slot.write_at(0, b"half of a mess").unwrap();
        say("RESERVED");
        hear(); // killed here
        slot.write_at(14, b"age").unwrap();
        return;
    }
    let id = unique("ch-half");
    let _cleanup = Cleanup(id.clone());
    let mut rx = Receiver::create(&id, 64, 8).unwrap();
    let mut child = LineChild::spawn(
        "a_sender_killed_inside_a_zero_copy_write_delivers_nothing_of_it",
        "half",
        &id,
    );
    child.expect("RESERVED");
    unsafe { kill(child.pid() as i32, 9) };
    child.wait();
    let got: Vec<Vec<u8>> = rx.iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(got, [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]);
    assert_eq!(rx.info().unwrap().sender, EndState::Died);
    // A new sender takes the vacant role and carries on.
    let mut tx = Sender::open(&id).unwrap();
    tx.send(b"four").unwrap();
    assert_eq!(rx.recv_vec().unwrap(), b"four");
    drop(tx);
    assert_eq!(rx.iter().count(), 0);
}

#[test]
fn a_blocked_sender_gets_broken_pipe_when_the_receiver_is_killed() {
    let mut peer = match channel_peer() {
        Some(p) => p,
        None => return,
    };
    let id = unique("ch-rxkill");
    let _cleanup = Cleanup(id.clone());
    let mut tx = Sender::create(&id, 32, 2).unwrap();
    peer.args(["hold", &id, "receiver"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut holder = KillOnDrop(peer.spawn().unwrap());
    let mut ready = [0u8; 6];
    std::io::Read::read_exact(holder.0.stdout.as_mut().unwrap(), &mut ready).unwrap();
    assert_eq!(&ready, b"ready\n");
    assert_eq!(tx.info().unwrap().receiver, EndState::Open);
    tx.send(b"a").unwrap();
    tx.send(b"b").unwrap();
    assert!(!tx.try_send(b"c").unwrap(), "two slots, both full");
    let pid = holder.0.id();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        unsafe { kill(pid as i32, 9) };
    });
    let err = tx
        .send_timeout(b"c", Some(Duration::from_secs(30)))
        .unwrap_err();
    assert_error(&err, ErrorKind::BrokenPipe, EPIPE, "");
    killer.join().unwrap();
    let _ = holder.0.wait();
    assert_eq!(tx.info().unwrap().receiver, EndState::Died);
    // What was sent stays for a next receiver.
    let mut rx = Receiver::open(&id).unwrap();
    assert_eq!(rx.recv_vec().unwrap(), b"a");
    assert_eq!(rx.recv_vec().unwrap(), b"b");
}

#[test]
fn a_second_sender_is_busy_while_the_first_lives() {
    let mut peer = match channel_peer() {
        Some(p) => p,
        None => return,
    };
    let id = unique("ch-busy");
    let _cleanup = Cleanup(id.clone());
    let mut rx = Receiver::create(&id, 32, 4).unwrap();
    peer.args(["hold", &id, "sender"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut holder = KillOnDrop(peer.spawn().unwrap());
    let mut ready = [0u8; 6];
    std::io::Read::read_exact(holder.0.stdout.as_mut().unwrap(), &mut ready).unwrap();
    let err = Sender::open(&id).unwrap_err();
    assert_error(&err, err.kind(), EBUSY, &id);
    let err = Receiver::open(&id).unwrap_err(); // ours, in this process
    assert_eq!(ipcshm::errno(&err), Some(EBUSY));
    // The holder closes its end: the role is vacant, the receiver sees the
    // close, and a new sender may take the role.
    drop(holder.0.stdin.take());
    assert!(holder.0.wait().unwrap().success());
    assert_eq!(rx.info().unwrap().sender, EndState::Closed);
    assert_eq!(
        ipcshm::errno(&rx.try_recv(&mut [0u8; 32]).unwrap_err()),
        Some(EPIPE)
    );
    let mut tx = Sender::open(&id).unwrap();
    tx.send(b"mine").unwrap();
    assert_eq!(rx.recv_vec().unwrap(), b"mine");
}

#[test]
fn a_memfd_channel_passed_over_a_socket() {
    if let Some((role, _)) = child_role() {
        assert_eq!(role, "receiver");
        // SAFETY: standard input is the socket, open for the whole process.
        let sock = unsafe { BorrowedFd::borrow_raw(0) };
        let mut rx = Receiver::recv_channel(sock).unwrap();
        assert!(!rx.created());
        let mut sum = 0u64;
        let mut count = 0u64;
        for msg in rx.iter() {
            let msg = msg.unwrap();
            sum += msg.iter().map(|&b| b as u64).sum::<u64>();
            count += 1;
        }
        say(&format!("GOT {} {}", count, sum));
        return;
    }
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let mut tx = Sender::create("memfd:rs-passed", 1024, 4).unwrap();
    assert!(tx.created());
    assert!(tx.id().starts_with("memfd:"), "{}", tx.id());
    let mut cmd = child("a_memfd_channel_passed_over_a_socket", "receiver", "-");
    cmd.stdin(Stdio::from(std::os::unix::io::OwnedFd::from(theirs)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let proc = cmd.spawn().unwrap();
    let _watchdog = Watchdog::new(proc.id(), 60);
    tx.send_channel(&ours).unwrap();
    let mut expect = 0u64;
    for i in 0..1000u64 {
        let msg: Vec<u8> = (0..(i % 1000) as usize)
            .map(|k| (k as u64 * i) as u8)
            .collect();
        expect += msg.iter().map(|&b| b as u64).sum::<u64>();
        tx.send(&msg).unwrap();
    }
    drop(tx);
    let out = proc.wait_with_output().unwrap();
    expect_success("receiver", &out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("IPCSHM-GOT 1000 {}", expect)),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn the_poll_descriptor_becomes_readable_after_a_send_in_another_process() {
    let mut peer = match channel_peer() {
        Some(p) => p,
        None => return,
    };
    #[repr(C)]
    struct PollFd {
        fd: i32,
        events: i16,
        revents: i16,
    }
    extern "C" {
        fn poll(fds: *mut PollFd, n: u64, timeout: i32) -> i32;
    }
    let id = unique("ch-poll");
    let _cleanup = Cleanup(id.clone());
    let mut rx = Receiver::create(&id, MAX_LEN, 4).unwrap();
    let fd = rx.as_raw_fd();
    assert_eq!(rx.as_raw_fd(), fd, "one descriptor for the end's life");
    let mut p = PollFd {
        fd,
        events: 1, // POLLIN
        revents: 0,
    };
    assert_eq!(
        unsafe { poll(&mut p, 1, 0) },
        0,
        "readable with nothing sent"
    );
    let seed = 5u64;
    peer.args(["send", &id, "1", &seed.to_string(), &MAX_LEN.to_string()])
        .stdout(Stdio::null());
    let mut proc = KillOnDrop(peer.spawn().unwrap());
    assert_eq!(unsafe { poll(&mut p, 1, 30_000) }, 1);
    let mut hint = [0u8; 8];
    // SAFETY: the end's descriptor, open while `rx` lives.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let mut file = std::fs::File::from(borrowed.try_clone_to_owned().unwrap());
    std::io::Read::read_exact(&mut file, &mut hint).unwrap();
    let mut scratch = vec![0u8; MAX_LEN];
    let msg = rx
        .try_recv_vec()
        .unwrap()
        .expect("the message the descriptor announced");
    chmsg::check(&msg, seed, 0, MAX_LEN, &mut scratch);
    assert!(proc.0.wait().unwrap().success());
    // Then the sender's close: readable again, and receiving says BrokenPipe.
    assert_eq!(unsafe { poll(&mut p, 1, 30_000) }, 1);
    assert_eq!(rx.try_recv_vec().unwrap_err().kind(), ErrorKind::BrokenPipe);
}
