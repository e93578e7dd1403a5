//! Lifetimes across processes: a volatile POSIX object lives until its last
//! handle, in any process, detaches or dies; a persistent one until removed;
//! System V segments by shmid and by key.

mod common;

use common::*;
use ipcshm::{Info, Kind, Shm, ShmOptions};
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

#[test]
fn volatile_posix_lives_until_its_last_handle() {
    let id = unique("vol");
    let _cleanup = Cleanup(id.clone());
    let first = Shm::create(&id, 100).unwrap();
    first.write_at(0, &[7]).unwrap();
    assert!(!first.info().unwrap().persistent);
    let second = Shm::attach(&id).unwrap();
    drop(first); // the creator detaches first: the object stays
    assert!(dev_shm(&id).exists());
    let third = Shm::attach(&id).unwrap();
    assert_eq!(bytes(&third)[0], 7);
    drop(second);
    drop(third); // the last user
    assert!(!dev_shm(&id).exists(), "{} left behind", id);
    let err = ipcshm::info_of(&id).unwrap_err();
    assert_error(&err, ErrorKind::NotFound, ENOENT, &id);
    let err = Shm::attach(&id).unwrap_err();
    assert_error(&err, ErrorKind::NotFound, ENOENT, &id);
}

#[test]
fn volatile_posix_outlives_its_creator_in_another_process() {
    if let Some((role, id)) = child_role() {
        assert_eq!(role, "holder");
        // Attach, tell the parent, wait until it has detached, check the object
        // is still there, detach (the last user).
        let shm = Shm::attach(&id).unwrap();
        println!("\nIPCSHM-CHILD-ATTACHED");
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "detached");
        assert_eq!(&bytes(&shm)[..3], b"abc");
        let again = Shm::attach(&id).expect("the parent detached, but this process still uses it");
        drop(again);
        drop(shm);
        assert!(
            !dev_shm(&id).exists(),
            "the last user detached: {} should be gone",
            id
        );
        println!("\nIPCSHM-CHILD-DONE");
        return;
    }
    let id = unique("hold");
    let _cleanup = Cleanup(id.clone());
    let shm = Shm::create(&id, 64).unwrap();
    shm.write_at(0, b"abc").unwrap();
    let mut proc = child(
        "volatile_posix_outlives_its_creator_in_another_process",
        "holder",
        &id,
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let _watchdog = Watchdog::new(proc.id(), 60);
    let mut lines = BufReader::new(proc.stdout.take().unwrap()).lines();
    assert!(
        lines
            .by_ref()
            .map(|l| l.unwrap())
            .any(|l| l.contains("IPCSHM-CHILD-ATTACHED")),
        "the child did not attach"
    );
    drop(shm); // the creator goes first
    assert!(
        dev_shm(&id).exists(),
        "the creator's detach removed an object still in use"
    );
    writeln!(proc.stdin.take().unwrap(), "detached").unwrap();
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let status = proc.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut proc.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        status.success(),
        "child: {:?}\n{:?}\n{}",
        status,
        rest,
        stderr
    );
    assert!(
        rest.iter().any(|l| l.contains("IPCSHM-CHILD-DONE")),
        "{:?}",
        rest
    );
    assert_eq!(
        ipcshm::info_of(&id).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn volatile_posix_is_reclaimed_after_its_users_die() {
    if let Some((role, id)) = child_role() {
        assert_eq!(role, "die");
        let _shm = Shm::attach(&id).unwrap();
        println!("\nIPCSHM-CHILD-ATTACHED");
        std::thread::sleep(std::time::Duration::from_secs(60)); // killed before
        return;
    }
    let id = unique("die");
    let _cleanup = Cleanup(id.clone());
    let shm = Shm::create(&id, 64).unwrap();
    let mut proc = child(
        "volatile_posix_is_reclaimed_after_its_users_die",
        "die",
        &id,
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let _watchdog = Watchdog::new(proc.id(), 60);
    let mut lines = BufReader::new(proc.stdout.take().unwrap()).lines();
    assert!(lines
        .by_ref()
        .map(|l| l.unwrap())
        .any(|l| l.contains("IPCSHM-CHILD-ATTACHED")));
    drop(shm); // the child still holds it
    assert!(dev_shm(&id).exists());
    proc.kill().unwrap(); // SIGKILL: no detach
    assert_eq!(proc.wait().unwrap().signal(), Some(9));
    // All users are gone: the next attach reclaims the name and finds nothing.
    let err = Shm::attach(&id).unwrap_err();
    assert_error(&err, ErrorKind::NotFound, ENOENT, &id);
    assert!(!dev_shm(&id).exists(), "{} was not reclaimed", id);
}

#[test]
fn persistent_stays_until_removed() {
    let id = unique("pers");
    let _cleanup = Cleanup(id.clone());
    let opts = ShmOptions::new().persistent(true);
    let shm = opts.create(&id, 256).unwrap();
    shm.write_at(0, b"keep").unwrap();
    assert!(shm.info().unwrap().persistent);
    drop(shm);
    let info = ipcshm::info_of(&id).unwrap();
    assert!(info.persistent);
    assert_eq!(info.size, 256);
    let shm = Shm::attach(&id).unwrap();
    assert_eq!(&bytes(&shm)[..4], b"keep");
    // Removing the name keeps the memory of users that have it mapped.
    ipcshm::remove(&id).unwrap();
    assert_eq!(&bytes(&shm)[..4], b"keep");
    assert_eq!(
        ipcshm::info_of(&id).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert!(!dev_shm(&id).exists());
    ipcshm::remove(&id).unwrap(); // already gone: Ok
    drop(shm);
}

#[test]
fn system_v_private_and_shmid() {
    let shm = Shm::create("private", 1000).unwrap();
    let id = shm.id().to_string();
    let _cleanup = Cleanup(id.clone());
    let n: i32 = id
        .strip_prefix("shmid:")
        .expect("canonical shmid:N")
        .parse()
        .unwrap();
    let info = shm.info().unwrap();
    assert_eq!(info.kind, Kind::SysV);
    assert_eq!(info.shmid, Some(n));
    assert_eq!(info.size, 1000, "System V size as the kernel keeps it");
    assert_eq!(shm.len(), 1000);
    assert_eq!(info.cpid, Some(std::process::id() as i32));
    assert!(!info.persistent);

    let other = Shm::attach(&id).unwrap();
    other.write_at(999, &[1]).unwrap();
    assert_eq!(bytes(&shm)[999], 1);
    assert_eq!(ipcshm::info_of(&id).unwrap().nattch, 2);
    assert!(
        Shm::create("shmid:1", 10).is_err(),
        "shmid:N is attach only"
    );
    drop(other);
    drop(shm);
    // volatile: the kernel destroyed it with its last attachment
    let err = ipcshm::info_of(&id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{}", err);
}

#[test]
fn system_v_key_persistent() {
    let key = unique_key();
    let _cleanup = Cleanup(key.clone());
    let shm = ShmOptions::new()
        .persistent(true)
        .perms(0o640)
        .create(&key, 5000)
        .unwrap();
    assert!(shm.id().starts_with("shmid:"), "{}", shm.id());
    let shmid = shm.id().to_string();
    shm.write_at(0, b"key").unwrap();
    drop(shm);
    let info: Info = ipcshm::info_of(&key).unwrap();
    assert_eq!(info.kind, Kind::SysV);
    assert!(info.persistent);
    assert_eq!(info.mode & 0o777, 0o640);
    assert_eq!(format!("shmid:{}", info.shmid.unwrap()), shmid);
    let by_key = Shm::attach(&key).unwrap();
    assert_eq!(&bytes(&by_key)[..3], b"key");
    let err = Shm::create(&key, 5000).unwrap_err();
    assert_error(&err, ErrorKind::AlreadyExists, EEXIST, &key);
    drop(by_key);
    ipcshm::remove(&key).unwrap();
    assert_eq!(
        ipcshm::info_of(&key).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        ipcshm::info_of(&shmid).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}
