//! Tests of the safe API against the real library: data between processes,
//! lifetimes (volatile, persistent, System V), read-only mappings, errors and
//! permissions; since 1.1 memfd objects passed over sockets and inherited
//! descriptors, resize, huge pages and typed arrays.
//!
//! Multi-process tests re-execute this test binary as the child: the same test,
//! selected with `--exact NAME`, with `IPCSHM_CHILD=ROLE` and `IPCSHM_CHILD_ID=ID`
//! in its environment, plays the child's part.
//!
//! Every object has a name unique to this run (pid + time + counter), and a
//! `Cleanup` guard removes it when the test ends, even by a panic.

use ipcshm::{Access, Complex, Element, ElementType, Info, Kind, ReadOnly, Shm, ShmOptions};
use std::env;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::os::unix::io::OwnedFd;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const ENOENT: i32 = 2;
const EEXIST: i32 = 17;
const EACCES: i32 = 13;
const EINVAL: i32 = 22;
const SIGSEGV: i32 = 11;
const NOBODY: u32 = 65534;

extern "C" {
    fn geteuid() -> u32;
    fn kill(pid: i32, sig: i32) -> i32;
}

/// Kills a child that is still running after `secs` seconds, so that a broken
/// handshake fails the test instead of hanging it.
struct Watchdog(Option<std::sync::mpsc::Sender<()>>);
impl Watchdog {
    fn new(pid: u32, secs: u64) -> Watchdog {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                rx.recv_timeout(std::time::Duration::from_secs(secs))
            {
                eprintln!("watchdog: killing child {} after {} s", pid, secs);
                unsafe { kill(pid as i32, 9) };
            }
        });
        Watchdog(Some(tx))
    }
}
impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.0.take()); // disconnects: the thread ends without killing
    }
}

fn nanos() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

/// "/ipcshm-rs-TAG-PID-NANOS-N": unique to this run.
fn unique(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "/ipcshm-rs-{}-{}-{}-{}",
        tag,
        std::process::id(),
        nanos(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// "key:0x…": a System V key unique to this run.
fn unique_key() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let k = (std::process::id() << 12) ^ nanos() ^ (N.fetch_add(1, Ordering::Relaxed) as u32);
    format!("key:0x{:x}", (k & 0x3fff_ffff) | 0x4000_0000)
}

/// Removes an id when dropped: nothing is left behind, even when a test fails.
struct Cleanup(String);
impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Err(e) = ipcshm::remove(&self.0) {
            eprintln!("cleanup of {}: {}", self.0, e);
        }
    }
}

/// A copy of every byte of the mapping.
fn bytes<A: Access>(shm: &Shm<A>) -> Vec<u8> {
    shm.read_vec(0, shm.len()).unwrap()
}

fn dev_shm(id: &str) -> std::path::PathBuf {
    std::path::Path::new("/dev/shm").join(id.trim_start_matches('/'))
}

fn child_role() -> Option<(String, String)> {
    match (env::var("IPCSHM_CHILD"), env::var("IPCSHM_CHILD_ID")) {
        (Ok(role), Ok(id)) => Some((role, id)),
        _ => None,
    }
}

/// This test binary, to run the test `test` as a child with `role` on `id`.
fn child(test: &str, role: &str, id: &str) -> Command {
    let mut cmd = Command::new(env::current_exe().unwrap());
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("IPCSHM_CHILD", role)
        .env("IPCSHM_CHILD_ID", id)
        .stdin(Stdio::null());
    cmd
}

/// Runs a child to its end, killed if it takes more than a minute.
fn run(mut cmd: Command) -> std::io::Result<Output> {
    let proc = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let _watchdog = Watchdog::new(proc.id(), 60);
    proc.wait_with_output()
}

fn expect_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "child {} failed: {:?}\n--- stdout\n{}--- stderr\n{}",
        what,
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn assert_error(err: &std::io::Error, kind: ErrorKind, errno: i32, id: &str) {
    assert_eq!(err.kind(), kind, "{}", err);
    assert_eq!(ipcshm::errno(err), Some(errno), "{}", err);
    let inner = ipcshm::Error::from_io(err).expect("an ipcshm::Error inside");
    assert_eq!(inner.errno(), errno);
    assert!(
        err.to_string().contains(id),
        "the message {:?} does not name {}",
        err.to_string(),
        id
    );
}

// ---------------------------------------------------------------------------

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

/// Runs the child as user nobody; None when that is impossible (not root).
fn as_nobody(mut cmd: Command) -> Option<Output> {
    if unsafe { geteuid() } != 0 {
        eprintln!("SKIP: permission checks need root to run a child as another user");
        return None;
    }
    cmd.uid(NOBODY).gid(NOBODY);
    match run(cmd) {
        Ok(out) => Some(out),
        Err(e) => {
            eprintln!("SKIP: cannot run a child as uid {}: {}", NOBODY, e);
            None
        }
    }
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

// ---------------------------------------------------------------------------
// Safe access to shared bytes: copies and atomics, never a reference. Two
// handles of one object in one process, threads, and another process write
// the bytes while this one reads them; none of it needs `unsafe`.

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

#[test]
fn typed_arrays_by_copy_refuse_what_is_not_theirs() {
    let shm = Shm::create_array::<u16>("memfd:ipcshm-rs-typed", &[3, 4]).unwrap();
    let a = shm.typed_array::<u16>().unwrap();
    assert_eq!((a.len(), a.is_empty(), a.dims()), (12, false, &[3, 4][..]));
    a.fill(7);
    assert_eq!(a.to_vec(), vec![7; 12]);
    a.set(&[2, 3], 9).unwrap();
    assert_eq!((a.get(&[2, 3]), a.get_flat(11)), (Some(9), Some(9)));
    for bad in [&[3, 0][..], &[0, 4], &[0], &[0, 0, 0]] {
        let err = a.set(bad, 1).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{:?}: {}", bad, err);
        assert_eq!(a.get(bad), None);
    }
    assert_eq!(
        a.set_flat(12, 1).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(a.get_flat(12), None);
    let err = a.copy_from_slice(&[1; 11]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", err);
    assert_eq!(
        a.to_vec(),
        [vec![7; 11], vec![9]].concat(),
        "nothing written"
    );
    let mut out = [0u16; 12];
    a.copy_to_slice(&mut out).unwrap();
    assert_eq!(out[11], 9);
    assert!(a.copy_to_slice(&mut [0u16; 13]).is_err());
    // The elements are the object's, seen by another mapping at once.
    let other = Shm::from_fd_readonly(shm.fd().unwrap()).unwrap();
    let o = other.typed_array::<u16>().unwrap();
    a.set(&[1, 0], 500).unwrap();
    assert_eq!(o.get(&[1, 0]), Some(500));
    assert!(format!("{:?}", o).contains("UInt16"));
}

#[test]
fn library_facts() {
    let (major, _, _) = ipcshm::library_version();
    assert_eq!(major, ipcshm::sys::IPCSHM_VERSION_MAJOR);
    assert!(ipcshm::page_size().is_power_of_two());
}

// ---------------------------------------------------------------------------
// libipcshm 1.1: memfd objects, descriptors, sockets, resize, huge pages,
// typed arrays.

const EPERM: i32 = 1;
const EBADMSG: i32 = 74;
const EBUSY: i32 = 16;
const EOPNOTSUPP: i32 = 95;

/// Spawns a child whose stdin is `fd` (a socket or an object's descriptor):
/// the way these tests hand a descriptor to a re-executed process. The
/// `Command`, and with it the parent's copy of `fd`, is dropped at once.
fn spawn_with_stdin(mut cmd: Command, fd: OwnedFd) -> std::process::Child {
    cmd.stdin(Stdio::from(fd))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_child(proc: std::process::Child, what: &str) {
    let _watchdog = Watchdog::new(proc.id(), 60);
    let out = proc.wait_with_output().unwrap();
    expect_success(what, &out);
}

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

/// Kills a child process when dropped (a test that fails midway leaves none).
struct KillOnDrop(std::process::Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// The library refuses to shrink a volatile POSIX object that other handles
// hold (their mappings would lose the bytes past the new end: SIGBUS), with
// EBUSY; growing stays allowed. Expected to fail until libipcshm has that
// check (should_panic: the first shrink succeeds and the test panics there);
// once the library refuses, the test passes and should_panic makes it fail:
// then remove the attribute.
#[test]
#[should_panic(expected = "the library let a shrink through")]
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

#[test]
fn hugepages_or_a_clear_error() {
    for id in ["memfd:ipcshm-rs-huge", "private"] {
        match ShmOptions::new().hugepages(true).create(id, 1) {
            Ok(shm) => {
                let _cleanup = Cleanup(shm.id().to_string());
                eprintln!("{}: huge pages, {} bytes", id, shm.len());
                assert!(shm.len() >= 2 << 20, "rounded up to a huge page");
                if id.starts_with("memfd:") {
                    assert!(shm.info().unwrap().hugepages);
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

fn read_ne<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    bytes[at..at + N].try_into().unwrap()
}

#[test]
fn array_3x2_f64_read_in_a_child() {
    if let Some((role, id)) = child_role() {
        assert_eq!(role, "array");
        let shm = Shm::attach_readonly(&id).unwrap();
        let a = shm.typed_array::<f64>().unwrap();
        assert_eq!(a.dims(), &[3, 2]);
        assert_eq!(a.to_vec(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(a.get(&[2, 0]), Some(3.0));
        assert_eq!(a.get(&[0, 1]), Some(4.0), "column-major");
        assert_eq!(a.get(&[3, 0]), None);
        assert_eq!(a.get(&[0]), None, "one index per dimension");
        assert_eq!((a.get_flat(5), a.get_flat(6)), (Some(6.0), None));
        let h = shm.array_header().unwrap();
        assert_eq!(
            (h.etype, h.dims.clone(), h.offset, h.len()),
            (ElementType::Float64, vec![3, 2], 64, 6)
        );
        let err = shm.typed_array::<f32>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData, "{}", err);
        assert_eq!(ipcshm::errno(&err), Some(EBADMSG));
        assert!(err.to_string().contains(&id), "{}", err);
        println!("child {}: read the 3x2 array", std::process::id());
        return;
    }
    let id = unique("array");
    let _cleanup = Cleanup(id.clone());
    let mut shm = Shm::create_array::<f64>(&id, &[3, 2]).unwrap();
    {
        // SAFETY: no other mapping of the object exists until the child
        // starts, after this block.
        let mut a = unsafe { shm.array_mut::<f64>() }.unwrap();
        assert_eq!(a.dims(), &[3, 2]);
        assert_eq!(a.as_slice(), &[0.0; 6], "a new array is zeros");
        a.as_mut_slice()
            .copy_from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 9.0]);
        *a.get_mut(&[2, 1]).unwrap() = 6.0;
    }
    // The "WA-1" header, byte for byte as InterProcessCommunication.jl has it.
    let bytes = &bytes(&shm);
    assert_eq!(u32::from_ne_bytes(read_ne(bytes, 0)), 0x5741_2D31);
    assert_eq!(
        u32::from_ne_bytes(read_ne(bytes, 0)),
        ipcshm::sys::WA1_MAGIC
    );
    assert_eq!(u16::from_ne_bytes(read_ne(bytes, 4)), 10, "IPCSHM_FLOAT64");
    assert_eq!(u16::from_ne_bytes(read_ne(bytes, 6)), 2, "ndims");
    assert_eq!(i64::from_ne_bytes(read_ne(bytes, 8)), 64, "offset");
    assert_eq!(i64::from_ne_bytes(read_ne(bytes, 16)), 3);
    assert_eq!(i64::from_ne_bytes(read_ne(bytes, 24)), 2);
    assert_eq!(f64::from_ne_bytes(read_ne(bytes, 64 + 5 * 8)), 6.0);
    assert!(shm.len() >= 64 + 6 * 8);

    let out = run(child("array_3x2_f64_read_in_a_child", "array", &id)).unwrap();
    expect_success("array", &out);
}

fn roundtrip<T: Element + PartialEq + std::fmt::Debug>(value: T) {
    let shm = Shm::create_array::<T>("memfd:ipcshm-rs-etype", &[2, 1, 3]).unwrap();
    let h = shm.array_header().unwrap();
    assert_eq!(h.etype, T::ETYPE);
    assert_eq!(
        h.etype.code() as u16,
        u16::from_ne_bytes(read_ne(&bytes(&shm), 4))
    );
    assert_eq!(h.dims, vec![2, 1, 3]);
    assert_eq!(h.offset, 64, "round_up(16 + 8 * 3, 64)");
    let a = shm.typed_array::<T>().unwrap();
    a.set_flat(5, value).unwrap();
    assert_eq!(a.len(), 6);
    assert_eq!(a.get(&[1, 0, 2]), Some(value));
    // The bytes are the value's, in place: at offset + 5 elements.
    let size = std::mem::size_of::<T>();
    let mut raw = vec![0u8; size];
    shm.read_at(64 + 5 * size, &mut raw).unwrap();
    // SAFETY: `value` is a plain value of `size` bytes without padding.
    let want = unsafe { std::slice::from_raw_parts(&value as *const T as *const u8, size) };
    assert_eq!(raw, want);
    // A copy out and a copy back in.
    let mut all = a.to_vec();
    assert_eq!(all.len(), 6);
    all[0] = value;
    a.copy_from_slice(&all).unwrap();
    assert_eq!(a.get_flat(0), Some(value));
    // SAFETY: nothing else maps this memfd object.
    let slice = unsafe { shm.array::<T>() }.unwrap();
    assert_eq!((slice[0], slice[5]), (value, value));
}

#[test]
fn arrays_of_every_element_type() {
    roundtrip::<i8>(-5);
    roundtrip::<u8>(250);
    roundtrip::<i16>(-30_000);
    roundtrip::<u16>(60_000);
    roundtrip::<i32>(-2_000_000_000);
    roundtrip::<u32>(4_000_000_000);
    roundtrip::<i64>(-1 << 60);
    roundtrip::<u64>(1 << 63);
    roundtrip::<f32>(1.5);
    roundtrip::<f64>(-2.25);
    roundtrip::<Complex<f32>>(Complex::new(1.0, -1.0));
    roundtrip::<Complex<f64>>(Complex::new(0.5, 2.0));
    roundtrip::<[f32; 2]>([3.0, 4.0]);
    roundtrip::<[f64; 2]>([5.0, 6.0]);

    // [f32; 2] and Complex<f32> are the same element type.
    let shm = Shm::create_array::<Complex<f32>>("memfd:ipcshm-rs-c", &[2]).unwrap();
    let c = shm.typed_array::<Complex<f32>>().unwrap();
    c.set(&[1], Complex::new(7.0, 8.0)).unwrap();
    assert_eq!(
        shm.typed_array::<[f32; 2]>().unwrap().get(&[1]),
        Some([7.0, 8.0])
    );
    assert_eq!(
        shm.typed_array::<Complex<f64>>().unwrap_err().kind(),
        ErrorKind::InvalidData
    );
}

#[test]
fn array_errors() {
    // Wrong element type: InvalidData, naming both types.
    let shm = Shm::create_array::<i16>("memfd:ipcshm-rs-i16", &[5]).unwrap();
    let err = shm.typed_array::<u16>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{}", err);
    assert!(
        err.to_string().contains("Int16") && err.to_string().contains("UInt16"),
        "{}",
        err
    );
    assert_eq!(shm.typed_array::<i16>().unwrap().len(), 5);

    // Not an array: the library's header check refuses it.
    let id = unique("notarray");
    let _cleanup = Cleanup(id.clone());
    let plain = Shm::create(&id, 4096).unwrap();
    let err = plain.typed_array::<u8>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{}", err);
    assert_eq!(ipcshm::errno(&err), Some(EBADMSG));
    assert_eq!(
        plain.array_header().unwrap_err().kind(),
        ErrorKind::InvalidData
    );

    // A dimension may be 0; no dimensions at all is refused.
    let empty = Shm::create_array::<u32>("memfd:ipcshm-rs-empty", &[0, 4]).unwrap();
    let a = empty.typed_array::<u32>().unwrap();
    assert!(a.is_empty());
    assert_eq!(a.dims(), &[0, 4]);
    let err = Shm::create_array::<u32>("memfd:ipcshm-rs-nodims", &[]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", err);

    // open_or_create: the same type and dimensions attach; others are refused.
    let id = unique("arrooc");
    let _cleanup = Cleanup(id.clone());
    let opts = ShmOptions::new().perms(0o640);
    let (first, created) = opts.open_or_create_array::<i64>(&id, &[4, 4]).unwrap();
    assert!(created);
    first
        .typed_array::<i64>()
        .unwrap()
        .set(&[3, 3], 42)
        .unwrap();
    let (second, created) = opts.open_or_create_array::<i64>(&id, &[4, 4]).unwrap();
    assert!(!created);
    assert_eq!(
        second.typed_array::<i64>().unwrap().get_flat(15).unwrap(),
        42
    );
    let err = opts.open_or_create_array::<i64>(&id, &[4, 5]).unwrap_err();
    assert_error(&err, ErrorKind::AlreadyExists, EEXIST, &id);
    let err = opts.open_or_create_array::<u64>(&id, &[4, 4]).unwrap_err();
    assert_error(&err, ErrorKind::AlreadyExists, EEXIST, &id);
    let err = Shm::create_array::<i64>(&id, &[4, 4]).unwrap_err();
    assert_error(&err, ErrorKind::AlreadyExists, EEXIST, &id);

    // A header written by hand, as IPC.jl's WrappedArray writes it: readable.
    let id = unique("handmade");
    let _cleanup = Cleanup(id.clone());
    let shm = Shm::create(&id, 4096).unwrap();
    let write_header = |shm: &Shm, etype: u16, dims: &[i64], offset: i64| {
        shm.write_at(0, &0x5741_2D31u32.to_ne_bytes()).unwrap();
        shm.write_at(4, &etype.to_ne_bytes()).unwrap();
        shm.write_at(6, &(dims.len() as u16).to_ne_bytes()).unwrap();
        shm.write_at(8, &offset.to_ne_bytes()).unwrap();
        for (i, d) in dims.iter().enumerate() {
            shm.write_at(16 + 8 * i, &d.to_ne_bytes()).unwrap();
        }
    };
    write_header(&shm, 9, &[10], 64);
    for i in 0..10 {
        let v = i as f32 * 0.5;
        shm.write_at(64 + 4 * i, &v.to_ne_bytes()).unwrap();
    }
    let a = shm.typed_array::<f32>().unwrap();
    assert_eq!((a.dims(), a.get(&[9])), (&[10][..], Some(4.5)));
    drop(a);
    // Hostile headers: InvalidData, never a read past the mapping.
    for (etype, dims, offset, what) in [
        (9u16, vec![1i64 << 40], 64i64, "too many elements"),
        (9, vec![-1], 64, "negative dimension"),
        (9, vec![10], 4000, "offset near the end"),
        (9, vec![10], 8, "offset inside the header"),
        (13, vec![10], 64, "unknown element type"),
        (9, vec![], 64, "no dimension"),
        (
            10,
            vec![1 << 31, 1 << 31, 1 << 31],
            64,
            "overflowing product",
        ),
    ] {
        write_header(&shm, etype, &dims, offset);
        let err = shm.typed_array::<f32>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData, "{}: {}", what, err);
        assert_eq!(
            shm.array_header().unwrap_err().kind(),
            ErrorKind::InvalidData,
            "{}",
            what
        );
    }

    // A dimension of 0 makes the array empty whatever the others are: the
    // library counts 0 elements before multiplying, so [2^62, 4, 0] is a valid
    // empty array even though 2^62 * 4 alone overflows.
    write_header(&shm, 10, &[1 << 62, 4, 0], 64);
    let h = shm.array_header().unwrap();
    assert_eq!(h.dims, vec![1usize << 62, 4, 0]);
    assert_eq!((h.len(), h.is_empty()), (0, true));
    let a = shm.typed_array::<f64>().unwrap();
    assert_eq!((a.len(), a.dims()), (0, &[1usize << 62, 4, 0][..]));
    drop(a);
    write_header(&shm, 10, &[0, i64::MAX, i64::MAX], 64);
    assert_eq!(shm.array_header().unwrap().len(), 0);
    assert!(shm.typed_array::<f64>().unwrap().is_empty());

    // Many dimensions: the header is read again with room for all of them.
    let dims = [1usize; 20];
    let many = Shm::create_array::<u8>("memfd:ipcshm-rs-many", &dims).unwrap();
    assert_eq!(many.typed_array::<u8>().unwrap().dims(), &dims[..]);
}
