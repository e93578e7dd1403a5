//! Safe access to the shared bytes: copies and atomics, never a reference.
//! Two handles of one object in one process, threads, and another process
//! write the bytes while this one reads them; none of it needs `unsafe`.

mod common;

use common::*;
use ipcshm::Shm;
use std::io::ErrorKind;
use std::process::Stdio;
use std::sync::atomic::Ordering;

#[test]
fn two_handles_of_one_object_see_each_others_writes() {
    let a = Shm::create("memfd:ipcshm-rs-alias", 4096).unwrap();
    let b = Shm::from_fd(a.fd().unwrap()).unwrap();
    assert_ne!(a.as_ptr(), b.as_ptr(), "two mappings of the same bytes");
    for i in 0u64..10_000 {
        a.write_at(8, &i.to_ne_bytes()).unwrap();
        // Every read goes to memory: b sees what a wrote last, at once.
        let mut got = [0u8; 8];
        b.read_at(8, &mut got).unwrap();
        assert_eq!(u64::from_ne_bytes(got), i);
        b.atomic_u64()[2].store(i + 1, Ordering::Relaxed);
        assert_eq!(a.load_u64(2, Ordering::Relaxed), Some(i + 1));
    }
    // Unaligned and odd-sized ranges copy exactly, at the edges too.
    let data: Vec<u8> = (0..=255u8).cycle().take(1001).collect();
    for offset in [0, 1, 3, 7, 4096 - 1001] {
        a.write_at(offset, &data).unwrap();
        assert_eq!(
            b.read_vec(offset, data.len()).unwrap(),
            data,
            "at {}",
            offset
        );
    }
    // Nothing past the end, nothing written or read there.
    let err = a.write_at(4090, b"1234567").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", err);
    assert!(err.to_string().contains("memfd:ipcshm-rs-alias"), "{}", err);
    assert_eq!(b.read_vec(4090, 6).unwrap(), &data[1001 - 6..]);
    assert_eq!(
        b.read_at(4095, &mut [0u8; 2]).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        b.read_at(usize::MAX, &mut [0u8; 2]).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert!(
        b.read_at(4096, &mut []).is_ok(),
        "an empty range at the end"
    );
    assert_eq!(
        (
            a.load_u8(4095, Ordering::Relaxed),
            a.load_u8(4096, Ordering::Relaxed)
        ),
        (Some(data[1000]), None)
    );
    assert_eq!(
        (a.load_u32(1024, Ordering::Relaxed), a.atomic_u32().len()),
        (None, 1024)
    );
    assert_eq!(
        (a.load_u64(512, Ordering::Relaxed), a.atomic_u64().len()),
        (None, 512)
    );
    assert_eq!(a.atomic_u8().len(), 4096);
}

#[test]
fn threads_with_two_handles_hand_over_through_atomics() {
    let a = Shm::create("memfd:ipcshm-rs-threads", 1 << 16).unwrap();
    let b = Shm::from_fd(a.fd().unwrap()).unwrap();
    let payload: Vec<u8> = (0..60_000u32).map(|i| (i % 251) as u8).collect();
    let _watchdog = Watchdog::new(std::process::id(), 60); // a hang kills the test
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            // A load in a loop: it must go to memory every time (a plain
            // `&[u8]` read here could be hoisted out of the loop).
            while b.load_u32(0, Ordering::Acquire) != Some(1) {
                std::hint::spin_loop();
            }
            b.read_vec(64, payload.len()).unwrap()
        });
        a.write_at(64, &payload).unwrap();
        a.atomic_u32()[0].store(1, Ordering::Release);
        assert!(reader.join().unwrap() == payload, "the payload arrived");
    });
}

#[test]
fn atomics_between_processes() {
    if let Some((role, id)) = child_role() {
        assert_eq!(role, "atomics");
        let shm = Shm::attach(&id).unwrap();
        // Wait for the parent's go, then answer with a payload and a flag.
        while shm.load_u32(0, Ordering::Acquire) != Some(1) {
            std::thread::yield_now();
        }
        let question = shm.read_vec(64, 5).unwrap();
        assert_eq!(question, b"ping?");
        shm.write_at(128, b"pong!").unwrap();
        shm.atomic_u32()[1].store(2, Ordering::Release);
        println!("child {}: answered", std::process::id());
        return;
    }
    let id = unique("atomics");
    let _cleanup = Cleanup(id.clone());
    let shm = Shm::create(&id, 4096).unwrap();
    let proc = child("atomics_between_processes", "atomics", &id)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    shm.write_at(64, b"ping?").unwrap();
    shm.atomic_u32()[0].store(1, Ordering::Release);
    let reader = Shm::attach_readonly(&id).unwrap(); // a read-only mapping loads too
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while reader.load_u32(1, Ordering::Acquire) != Some(2) {
        assert!(
            std::time::Instant::now() < deadline,
            "no answer from the child"
        );
        std::thread::yield_now();
    }
    assert_eq!(reader.read_vec(128, 5).unwrap(), b"pong!");
    wait_child(proc, "atomics");
}
