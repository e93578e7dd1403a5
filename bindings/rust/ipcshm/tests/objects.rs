//! Tests of the safe API against the real library: objects created and
//! attached, in one process and between two (POSIX and System V), read-only
//! mappings, open_or_create, templates, info and chmod, errors, permissions
//! seen by another user, threads, huge pages.

mod common;

use common::*;
use ipcshm::{Kind, ReadOnly, Shm, ShmOptions};
use std::io::ErrorKind;
use std::os::unix::process::ExitStatusExt;

#[test]
fn create_write_attach_read_in_process() {
    let id = unique("rw");
    let _cleanup = Cleanup(id.clone());
    let a = Shm::create(&id, 10_000).unwrap();
    assert_eq!(a.id(), id);
    assert_eq!(a.len(), 10_000);
    assert!(!a.is_empty() && !a.is_readonly());
    assert!(
        bytes(&a).iter().all(|&b| b == 0),
        "new memory reads as zeros"
    );
    a.write_at(0, b"ping").unwrap();
    a.write_at(9_999, &[0x5a]).unwrap();

    let b = Shm::attach(&id).unwrap();
    assert_eq!(b.len(), 10_000);
    assert_ne!(a.as_ptr(), b.as_ptr(), "a second mapping");
    assert_eq!(&bytes(&b)[..4], b"ping");
    assert_eq!(bytes(&b)[9_999], 0x5a);
    b.write_at(4, b"pong").unwrap();
    assert_eq!(&bytes(&a)[..8], b"pingpong");
    assert_eq!(bytes(&a), bytes(&b));
    assert!(format!("{:?}", a).contains(&id));
    b.detach().unwrap();
    a.detach().unwrap();
}

#[test]
fn two_processes_exchange_data_posix() {
    if let Some((role, id)) = child_role() {
        assert_eq!(role, "exchange");
        return exchange_child(&id);
    }
    let id = unique("mp");
    let _cleanup = Cleanup(id.clone());
    exchange_parent(
        Shm::create(&id, 4096).unwrap(),
        "two_processes_exchange_data_posix",
    );
}

#[test]
fn two_processes_exchange_data_system_v() {
    if let Some((role, id)) = child_role() {
        assert_eq!(role, "exchange");
        return exchange_child(&id);
    }
    let shm = Shm::create("private", 4096).unwrap();
    let _cleanup = Cleanup(shm.id().to_string());
    assert!(shm.id().starts_with("shmid:"), "{}", shm.id());
    exchange_parent(shm, "two_processes_exchange_data_system_v");
}

fn exchange_parent(shm: Shm, test: &str) {
    shm.write_at(0, b"hello from parent").unwrap();
    shm.write_at(4095, &[0xa5]).unwrap();
    let out = run(child(test, "exchange", shm.id())).unwrap();
    expect_success("exchange", &out);
    // The child has exited: its writes are complete.
    assert_eq!(&bytes(&shm)[100..116], b"hello from child");
    assert_eq!(bytes(&shm)[4094], 0x5a);
    // The parent's handle is still a user: the object still exists.
    assert!(ipcshm::info_of(shm.id()).is_ok());
}

fn exchange_child(id: &str) {
    let shm = Shm::attach(id).unwrap();
    assert_eq!(shm.id(), id);
    assert!(shm.len() >= 4096);
    assert_eq!(&bytes(&shm)[..17], b"hello from parent");
    assert_eq!(bytes(&shm)[4095], 0xa5);
    shm.write_at(100, b"hello from child").unwrap();
    shm.write_at(4094, &[0x5a]).unwrap();
    println!("child {}: wrote back", std::process::id());
}

#[test]
fn read_only_mapping() {
    if let Some((role, id)) = child_role() {
        assert_eq!(role, "write-readonly");
        let ro: Shm<ReadOnly> = Shm::attach_readonly(&id).unwrap();
        assert_eq!(&bytes(&ro)[..4], b"data");
        println!("writing through a read-only mapping: this must fault");
        // Deliberately bypass the type: the mapping itself must refuse.
        unsafe { std::ptr::write_volatile(ro.as_ptr() as *mut u8, b'X') };
        println!("the write did not fault");
        std::process::exit(3);
    }
    let id = unique("ro");
    let _cleanup = Cleanup(id.clone());
    let rw = Shm::create(&id, 64).unwrap();
    rw.write_at(0, b"data").unwrap();
    let ro = ShmOptions::new().readonly().attach(&id).unwrap();
    assert!(ro.is_readonly());
    assert_eq!(&bytes(&ro)[..4], b"data");
    rw.write_at(4, b"!").unwrap();
    assert_eq!(bytes(&ro)[4], b'!', "a read-only mapping sees the writes");
    assert_eq!(ro.info().unwrap().size, 64);

    let out = run(child("read_only_mapping", "write-readonly", &id)).unwrap();
    assert_eq!(
        out.status.signal(),
        Some(SIGSEGV),
        "{:?}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(&bytes(&rw)[..5], b"data!", "the data is unchanged");

    // Creating read-only maps the new object read-only.
    let id2 = unique("ro2");
    let _cleanup2 = Cleanup(id2.clone());
    let ro2 = ShmOptions::new().readonly().create(&id2, 10).unwrap();
    assert!(ro2.is_readonly());
    assert_eq!(bytes(&ro2), &[0u8; 10]);
}

#[test]
fn open_or_create_reports_creation() {
    let id = unique("ooc");
    let _cleanup = Cleanup(id.clone());
    let opts = ShmOptions::new().perms(0o640);
    let (a, created) = opts.open_or_create(&id, 128).unwrap();
    assert!(created);
    a.write_at(0, &[42]).unwrap();
    let (b, created) = opts.open_or_create(&id, 128).unwrap();
    assert!(!created);
    assert_eq!(bytes(&b)[0], 42);
    let (c, created) = opts.open_or_create(&id, 64).unwrap();
    assert!(!created, "a smaller size attaches the existing object");
    assert_eq!(c.len(), 128);
    let err = opts.open_or_create(&id, 4096).unwrap_err();
    assert!(err.to_string().contains(&id), "{}", err);
    eprintln!("open_or_create of a bigger size: {:?}: {}", err.kind(), err);
}

#[test]
fn template_names_are_filled_in() {
    let template = format!("/ipcshm-rs-tpl-{}-XXXXXX", std::process::id());
    let a = Shm::create(&template, 32).unwrap();
    let _cleanup = Cleanup(a.id().to_string());
    assert_ne!(a.id(), template);
    assert_eq!(a.id().len(), template.len());
    assert!(a.id().starts_with(&template[..template.len() - 6]));
    let b = Shm::create(&template, 32).unwrap();
    let _cleanup_b = Cleanup(b.id().to_string());
    assert_ne!(a.id(), b.id());
    let a2 = Shm::attach(a.id()).unwrap();
    assert_eq!(a2.id(), a.id());
}

#[test]
fn info_of_a_posix_object() {
    let id = unique("info");
    let _cleanup = Cleanup(id.clone());
    let shm = ShmOptions::new().perms(0o640).create(&id, 3000).unwrap();
    let info = shm.info().unwrap();
    assert_eq!(info, ipcshm::info_of(&id).unwrap());
    assert_eq!(info.kind, Kind::Posix);
    assert_eq!(info.size, 3000);
    assert_eq!(info.mode, 0o640, "mode without the volatile mark");
    assert_eq!(info.uid, unsafe { geteuid() });
    assert_eq!(info.cuid, info.uid);
    assert_eq!(
        (info.cpid, info.lpid, info.shmid, info.key),
        (None, None, None, 0)
    );
    assert!(!info.persistent);
    ipcshm::chmod(&id, 0o604).unwrap();
    assert_eq!(ipcshm::info_of(&id).unwrap().mode, 0o604);
    ipcshm::chmod(&id, 0).unwrap();
    assert_eq!(
        ipcshm::info_of(&id).unwrap().mode,
        0o600,
        "owner rw always included"
    );
    assert!(
        !ipcshm::info_of(&id).unwrap().persistent,
        "chmod keeps the volatile mark"
    );
}

#[test]
#[allow(deprecated)]
fn deprecated_methods_still_work() {
    let id = unique("deprecated");
    let _cleanup = Cleanup(id.clone());
    let shm = ShmOptions::new().persistent(true).create(&id, 100).unwrap();
    assert_eq!(Shm::info_of(&id).unwrap(), ipcshm::info_of(&id).unwrap());
    Shm::chmod(&id, 0o640).unwrap();
    assert_eq!(ipcshm::info_of(&id).unwrap().mode, 0o640);
    Shm::remove(&id).unwrap();
    assert_eq!(
        ipcshm::info_of(&id).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    drop(shm);
}

#[test]
fn errors_carry_kind_errno_and_message() {
    let id = unique("err");
    let _cleanup = Cleanup(id.clone());
    let err = Shm::attach(&id).unwrap_err();
    assert_error(&err, ErrorKind::NotFound, ENOENT, &id);
    assert_eq!(err.raw_os_error(), None, "the documented tradeoff");
    let inner = ipcshm::Error::from_io(&err).unwrap();
    assert!(err.to_string().ends_with("(os error 2)"), "{}", err);
    assert!(err.to_string().starts_with(inner.message()));

    let orig = Shm::create(&id, 100).unwrap();
    orig.write_at(0, b"mine").unwrap();
    let err = Shm::create(&id, 5000).unwrap_err();
    assert_error(&err, ErrorKind::AlreadyExists, EEXIST, &id);
    assert_eq!(
        &bytes(&orig)[..4],
        b"mine",
        "the existing object is untouched"
    );
    assert_eq!(ipcshm::info_of(&id).unwrap().size, 100);

    for bad in ["no-slash", "/a/b", "key:zz", "shmid:-1", "/."] {
        let err = Shm::attach(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}: {}", bad, err);
        assert_eq!(ipcshm::errno(&err), Some(EINVAL));
        assert!(
            err.to_string().contains(bad),
            "the message {:?} does not name {}",
            err.to_string(),
            bad
        );
    }
    let err = Shm::create(&unique("zero"), 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", err);
    let err = ShmOptions::new()
        .perms(0o1777)
        .create(&unique("perm"), 1)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", err);
    let err = Shm::attach("/nul\0byte").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(ipcshm::errno(&err), Some(EINVAL));
    let err = Shm::create("private", 1 << 62).unwrap_err();
    eprintln!("huge System V segment: {:?}: {}", err.kind(), err);
    assert!(
        matches!(ipcshm::errno(&err), Some(EINVAL) | Some(12) | Some(28)),
        "{}",
        err
    );
}

#[test]
fn permissions_of_other_users() {
    if let Some((role, id)) = child_role() {
        match role.as_str() {
            "denied" => {
                let err = Shm::attach(&id).unwrap_err();
                assert_error(&err, ErrorKind::PermissionDenied, EACCES, &id);
                let err = Shm::attach_readonly(&id).unwrap_err();
                assert_error(&err, ErrorKind::PermissionDenied, EACCES, &id);
                let err = ipcshm::chmod(&id, 0o666).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{}", err);
            }
            "readable" => {
                let ro = Shm::attach_readonly(&id).unwrap();
                assert_eq!(&bytes(&ro)[..6], b"secret");
                let err = Shm::attach(&id).unwrap_err();
                assert_error(&err, ErrorKind::PermissionDenied, EACCES, &id);
                assert!(
                    ipcshm::info_of(&id).is_ok(),
                    "info needs only read permission"
                );
            }
            "create" => {
                let shm = ShmOptions::new()
                    .persistent(true)
                    .perms(0o666)
                    .create(&id, 64)
                    .unwrap();
                assert_eq!(shm.info().unwrap().uid, NOBODY);
            }
            other => panic!("role {}", other),
        }
        println!("child role {} ok", role);
        return;
    }
    let test = "permissions_of_other_users";
    let id = unique("perm");
    let _cleanup = Cleanup(id.clone());
    let shm = Shm::create(&id, 64).unwrap(); // 0600
    shm.write_at(0, b"secret").unwrap();
    let out = match as_nobody(child(test, "denied", &id)) {
        Some(out) => out,
        None => return,
    };
    expect_success("denied", &out);
    ipcshm::chmod(&id, 0o644).unwrap();
    let out = as_nobody(child(test, "readable", &id)).unwrap();
    expect_success("readable", &out);

    // An object of another user: open_or_create refuses it.
    let theirs = unique("theirs");
    let _cleanup_theirs = Cleanup(theirs.clone());
    let out = as_nobody(child(test, "create", &theirs)).unwrap();
    expect_success("create", &out);
    assert_eq!(ipcshm::info_of(&theirs).unwrap().uid, NOBODY);
    let err = ShmOptions::new().open_or_create(&theirs, 64).unwrap_err();
    assert_error(&err, ErrorKind::PermissionDenied, EACCES, &theirs);
}

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Shm>();
    send_sync::<Shm<ReadOnly>>();
    let id = unique("threads");
    let _cleanup = Cleanup(id.clone());
    let shm = Shm::create(&id, 1 << 16).unwrap();
    let pattern: Vec<u8> = (0..1 << 16).map(|i| i as u8).collect();
    shm.write_at(0, &pattern).unwrap();
    let shm = &shm;
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(move || {
                let sum: u64 = bytes(shm).iter().map(|&b| b as u64).sum();
                assert_eq!(sum, 256 * (255 * 256 / 2));
                assert_eq!(shm.info().unwrap().size, 1 << 16);
            });
        }
    });
    // Moved to another thread and dropped there.
    let moved = Shm::attach(&id).unwrap();
    std::thread::spawn(move || drop(moved)).join().unwrap();
}

#[test]
fn hugepages_or_a_clear_error() {
    for id in ["memfd:ipcshm-rs-huge", "private"] {
        match ShmOptions::new().hugepages(true).create(id, 1) {
            Ok(shm) => {
                let _cleanup = Cleanup(shm.id().to_string());
                eprintln!("{}: huge pages, {} bytes", id, shm.len());
                // memfd sizes round up to a whole huge page; System V
                // reports the size the kernel keeps (1 byte here).
                if id.starts_with("memfd:") {
                    assert!(shm.len() >= 2 << 20, "rounded up to a huge page");
                    assert!(shm.info().unwrap().hugepages);
                } else {
                    assert_eq!(shm.len(), 1, "System V keeps the size asked for");
                }
            }
            Err(err) => {
                eprintln!("{}: no huge pages here: {}", id, err);
                assert!(
                    matches!(
                        ipcshm::errno(&err),
                        Some(12) | Some(EOPNOTSUPP) | Some(EPERM)
                    ),
                    "{}",
                    err
                );
                assert!(ipcshm::Error::from_io(&err).unwrap().message().len() > 10);
            }
        }
    }
}

#[test]
fn library_facts() {
    let (major, _, _) = ipcshm::library_version();
    assert_eq!(major, ipcshm::sys::IPCSHM_VERSION_MAJOR);
    assert!(ipcshm::page_size().is_power_of_two());
}
