//! libipcshm 1.1: resize, seen by later attaches; shrinking what other
//! handles map is refused.

mod common;

use common::*;
use ipcshm::Shm;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::process::Stdio;

// The library refuses to shrink a volatile POSIX object that other handles
// hold (their mappings would lose the bytes past the new end: SIGBUS), with
// EBUSY; growing stays allowed.
#[test]
fn shrinking_what_other_handles_map_is_refused() {
    if let Some((role, id)) = child_role() {
        assert_eq!(role, "holder");
        let shm = Shm::attach(&id).unwrap();
        println!("\nIPCSHM-CHILD-ATTACHED");
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).unwrap();
        // Every byte this mapping had is still there (no SIGBUS).
        assert_eq!(shm.read_vec(shm.len() - 4, 4).unwrap(), b"tail");
        println!("\nIPCSHM-CHILD-DONE {}", shm.len());
        return;
    }
    let id = unique("shrink");
    let _cleanup = Cleanup(id.clone());
    let mut shm = Shm::create(&id, 8192).unwrap();
    shm.write_at(8188, b"tail").unwrap();

    // Another handle in this process.
    let other = Shm::attach(&id).unwrap();
    let err = shm
        .resize(4096)
        .expect_err("EBUSY expected, but the library let a shrink through");
    assert_eq!(ipcshm::errno(&err), Some(EBUSY), "{}", err);
    assert!(err.to_string().contains(&id), "{}", err);
    assert_eq!(
        (shm.len(), ipcshm::info_of(&id).unwrap().size),
        (8192, 8192)
    );
    assert_eq!(other.read_vec(8188, 4).unwrap(), b"tail");
    shm.resize(16384).unwrap(); // growing takes nothing away
    assert_eq!(shm.len(), 16384);
    shm.write_at(16380, b"tail").unwrap();
    drop(other);

    // A handle in another process.
    let proc = child("shrinking_what_other_handles_map_is_refused", "holder", &id)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut proc = KillOnDrop(proc);
    let mut lines = BufReader::new(proc.0.stdout.take().unwrap()).lines();
    assert!(lines
        .by_ref()
        .map(|l| l.unwrap())
        .any(|l| l.contains("IPCSHM-CHILD-ATTACHED")));
    let err = shm
        .resize(100)
        .expect_err("EBUSY expected, but the library let a shrink through");
    assert_eq!(ipcshm::errno(&err), Some(EBUSY), "{}", err);
    assert_eq!(shm.len(), 16384);
    writeln!(proc.0.stdin.take().unwrap(), "go").unwrap();
    // Read to the end: the child still writes its test summary.
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(
        rest.iter().any(|l| l.contains("IPCSHM-CHILD-DONE 16384")),
        "{:?}",
        rest
    );
    assert!(proc.0.wait().unwrap().success());

    // Alone again: shrinking is allowed.
    shm.resize(100).unwrap();
    assert_eq!((shm.len(), ipcshm::info_of(&id).unwrap().size), (100, 100));
}

#[test]
fn resize_is_seen_by_a_later_attach() {
    if let Some((role, id)) = child_role() {
        let shm = Shm::attach_readonly(&id).unwrap();
        let expect: usize = role.strip_prefix("resized-").unwrap().parse().unwrap();
        assert_eq!(shm.len(), expect, "a later attach sees the new size");
        assert_eq!(ipcshm::info_of(&id).unwrap().size, expect as u64);
        assert_eq!(&bytes(&shm)[..6], b"before");
        if expect > 4096 {
            assert!(bytes(&shm)[4096..expect - 5].iter().all(|&b| b == 0));
            assert_eq!(&bytes(&shm)[expect - 5..], b"after");
        }
        println!("child {}: saw {} bytes", std::process::id(), expect);
        return;
    }
    let test = "resize_is_seen_by_a_later_attach";
    let id = unique("resize");
    let _cleanup = Cleanup(id.clone());
    let mut shm = Shm::create(&id, 4096).unwrap();
    shm.write_at(0, b"before").unwrap();
    let grown = 3 * 4096 + 100;
    shm.resize(grown).unwrap();
    assert_eq!(shm.len(), grown);
    assert_eq!(
        &bytes(&shm)[..6],
        b"before",
        "the data moves with the mapping"
    );
    assert!(
        bytes(&shm)[4096..].iter().all(|&b| b == 0),
        "grown memory reads as zeros"
    );
    shm.write_at(grown - 5, b"after").unwrap();
    let out = run(child(test, &format!("resized-{}", grown), &id)).unwrap();
    expect_success("resized (grown)", &out);

    shm.resize(100).unwrap(); // nobody else maps it now
    assert_eq!(shm.len(), 100);
    let out = run(child(test, "resized-100", &id)).unwrap();
    expect_success("resized (shrunk)", &out);

    // memfd objects grow but never shrink; a failure changes nothing.
    let mut m = Shm::create("memfd:ipcshm-rs-resize", 100).unwrap();
    m.write_at(99, &[1]).unwrap();
    m.resize(10_000).unwrap();
    assert_eq!((m.len(), bytes(&m)[99], bytes(&m)[9_999]), (10_000, 1, 0));
    let err = m.resize(50).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{}", err);
    assert_eq!(ipcshm::errno(&err), Some(EPERM));
    assert_eq!((m.len(), bytes(&m)[99]), (10_000, 1));
    assert_eq!(m.resize(0).unwrap_err().kind(), ErrorKind::InvalidInput);

    // System V segments cannot be resized.
    let mut seg = Shm::create("private", 4096).unwrap();
    let _cleanup_seg = Cleanup(seg.id().to_string());
    let err = seg.resize(8192).unwrap_err();
    assert_eq!(ipcshm::errno(&err), Some(EOPNOTSUPP), "{}", err);
    assert_eq!(seg.len(), 4096);
}
