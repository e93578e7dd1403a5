//! libipcshm 1.1: memfd objects, descriptors inherited by a child, objects
//! sent over UNIX-domain sockets to another process, foreign messages.

mod common;

use common::*;
use ipcshm::{Kind, ReadOnly, Shm, ShmOptions};
use std::io::ErrorKind;
use std::os::unix::io::OwnedFd;
use std::os::unix::net::{UnixDatagram, UnixStream};

#[test]
fn memfd_send_recv_between_processes() {
    if let Some((role, id)) = child_role() {
        assert_eq!(role, "memfd-recv");
        // stdin is our end of the parent's UnixStream::pair.
        let shm = Shm::recv(std::io::stdin()).unwrap();
        assert_eq!(shm.id(), id, "the receiver sees the sender's label");
        assert_eq!(shm.info().unwrap().kind, Kind::Memfd);
        assert_eq!(shm.len(), 8192);
        assert_eq!(&bytes(&shm)[..17], b"memfd from parent");
        assert_eq!(bytes(&shm)[8191], 0xa5);
        shm.write_at(100, b"hello from child").unwrap();
        // And an object of our own back: it outlives us while in flight.
        let own = Shm::create("memfd:ipcshm-rs-child", 64).unwrap();
        own.write_at(0, b"made by child").unwrap();
        own.send(std::io::stdin()).unwrap();
        println!("child {}: received, wrote back, sent", std::process::id());
        return;
    }
    let shm = Shm::create("memfd:ipcshm-rs-XXXXXX", 8192).unwrap();
    assert!(shm.id().starts_with("memfd:ipcshm-rs-"), "{}", shm.id());
    assert!(
        !shm.id().ends_with("XXXXXX"),
        "the label template is filled in"
    );
    let info = shm.info().unwrap();
    assert_eq!(info.kind, Kind::Memfd);
    assert!(!info.persistent && !info.hugepages);
    assert_eq!(info.size, 8192);
    assert!(bytes(&shm).iter().all(|&b| b == 0));
    shm.write_at(0, b"memfd from parent").unwrap();
    shm.write_at(8191, &[0xa5]).unwrap();

    let (ours, theirs) = UnixStream::pair().unwrap();
    let proc = spawn_with_stdin(
        child("memfd_send_recv_between_processes", "memfd-recv", shm.id()),
        OwnedFd::from(theirs),
    );
    shm.send(&ours).unwrap();
    wait_child(proc, "memfd-recv");
    // The child has exited: its writes are complete.
    assert_eq!(&bytes(&shm)[100..116], b"hello from child");
    let back = Shm::recv(&ours).unwrap();
    assert_eq!(back.id(), "memfd:ipcshm-rs-child");
    assert_eq!(&bytes(&back)[..13], b"made by child");
    // The peer is gone: the next receive says so.
    let err = Shm::recv(&ours).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{}", err);
}

#[test]
fn memfd_ids_refuse_persistent_and_open_or_create() {
    let err = ShmOptions::new()
        .persistent(true)
        .create("memfd:ipcshm-rs-p", 10)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", err);
    let err = ShmOptions::new()
        .open_or_create("memfd:ipcshm-rs-o", 10)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", err);
    let err = Shm::attach("memfd:ipcshm-rs-a").unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidInput,
        "memfd is create only: {}",
        err
    );
}

#[test]
fn recv_refuses_other_messages_and_reports_a_closed_peer() {
    // A datagram socket, so that the whole message is consumed (on a stream,
    // what the library does not read of a foreign message stays queued).
    let (a, b) = UnixDatagram::pair().unwrap();
    a.send(b"not an ipcshm message").unwrap();
    let err = Shm::recv(&b).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{}", err);
    assert_eq!(ipcshm::errno(&err), Some(EBADMSG));
    let (a, b) = UnixStream::pair().unwrap();
    drop(a);
    let err = Shm::recv(&b).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{}", err);

    // Read-only travels: a read-only handle sends a read-only object.
    let (a, b) = UnixStream::pair().unwrap();
    let id = unique("sendro");
    let _cleanup = Cleanup(id.clone());
    let rw = Shm::create(&id, 64).unwrap();
    rw.write_at(0, &[9]).unwrap();
    let ro = Shm::attach_readonly(&id).unwrap();
    ro.send(&a).unwrap();
    ro.send(&a).unwrap();
    let err = Shm::recv(&b).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{}", err);
    assert_eq!(ipcshm::errno(&err), Some(EACCES));
    let got: Shm<ReadOnly> = ShmOptions::new().readonly().recv(&b).unwrap();
    assert_eq!(got.id(), id);
    assert_eq!(bytes(&got)[0], 9);

    // System V segments travel by id, not by descriptor.
    let seg = Shm::create("private", 64).unwrap();
    let _cleanup_seg = Cleanup(seg.id().to_string());
    assert_eq!(ipcshm::errno(&seg.send(&a).unwrap_err()), Some(EOPNOTSUPP));
    assert_eq!(ipcshm::errno(&seg.fd().unwrap_err()), Some(EOPNOTSUPP));
}

#[test]
fn fd_inherited_by_a_child_maps_the_object() {
    if let Some((role, id)) = child_role() {
        assert_eq!(role, "from-fd");
        // stdin is a descriptor of the parent's object.
        let shm = Shm::from_fd(std::io::stdin()).unwrap();
        assert_eq!(shm.id(), id);
        assert_eq!(&bytes(&shm)[..6], b"by fd!");
        shm.write_at(6, b"child!").unwrap();
        println!(
            "child {}: mapped the inherited descriptor",
            std::process::id()
        );
        return;
    }
    let id = unique("fd");
    let _cleanup = Cleanup(id.clone());
    let shm = Shm::create(&id, 4096).unwrap();
    shm.write_at(0, b"by fd!").unwrap();
    let fd = shm.fd().unwrap();

    // In this process: a second mapping, a user of its own; fd stays ours.
    let again = Shm::from_fd(&fd).unwrap();
    assert_eq!(again.id(), id);
    assert_ne!(again.as_ptr(), shm.as_ptr());
    assert_eq!(&bytes(&again)[..6], b"by fd!");
    drop(again);

    let proc = spawn_with_stdin(
        child("fd_inherited_by_a_child_maps_the_object", "from-fd", &id),
        fd,
    );
    wait_child(proc, "from-fd");
    assert_eq!(&bytes(&shm)[..12], b"by fd!child!");

    // A read-only handle gives a read-only descriptor.
    let ro = Shm::attach_readonly(&id).unwrap();
    let rofd = ro.fd().unwrap();
    let err = Shm::from_fd(&rofd).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{}", err);
    assert_eq!(ipcshm::errno(&err), Some(EACCES));
    let ro2 = Shm::from_fd_readonly(&rofd).unwrap();
    assert_eq!(&bytes(&ro2)[..6], b"by fd!");

    // A descriptor of something else.
    let file = std::fs::File::open("/proc/self/exe").unwrap();
    let err = Shm::from_fd_readonly(&file).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", err);
}

extern "C" {
    fn memfd_create(name: *const std::os::raw::c_char, flags: std::os::raw::c_uint) -> i32;
}

/// A memfd that is not sealed against shrinking (made here, not by libipcshm,
/// as a peer could send one) is refused unless `unsealed(true)` accepts it.
#[test]
fn unsealed_memfd_is_refused_unless_accepted() {
    use std::os::unix::io::FromRawFd;
    // SAFETY: a NUL-terminated name; the descriptor is new and owned here.
    let raw = unsafe {
        memfd_create(
            b"ipcshm-rs-unsealed\0".as_ptr().cast(),
            1, /* CLOEXEC */
        )
    };
    assert!(
        raw >= 0,
        "memfd_create: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: `raw` is a descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    std::fs::File::from(fd.try_clone().unwrap())
        .set_len(4096)
        .unwrap();
    let err = Shm::from_fd(&fd).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{}", err);
    assert!(err.to_string().contains("F_SEAL_SHRINK"), "{}", err);
    let shm = ShmOptions::new().unsealed(true).attach_fd(&fd).unwrap();
    assert_eq!(shm.len(), 4096);
    // Over a socket as well: refused by default, accepted on request.
    let (a, b) = UnixStream::pair().unwrap();
    shm.send(&a).unwrap();
    let err = Shm::recv(&b).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{}", err);
    shm.send(&a).unwrap();
    let got = ShmOptions::new().unsealed(true).recv(&b).unwrap();
    assert_eq!(got.len(), 4096);
    // Creating ignores it (the library refuses the flag at create).
    let made = ShmOptions::new()
        .unsealed(true)
        .create("memfd:ipcshm-rs-u", 64)
        .unwrap();
    assert_eq!(made.len(), 64);
}
