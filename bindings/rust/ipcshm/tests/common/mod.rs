//! Helpers shared by the integration tests: names unique to this run and the
//! guard that removes them, children that re-execute the test binary, error
//! checks.
//!
//! Multi-process tests re-execute their test binary as the child: the same
//! test, selected with `--exact NAME`, with `IPCSHM_CHILD=ROLE` and
//! `IPCSHM_CHILD_ID=ID` in its environment, plays the child's part. Every
//! object has a name unique to this run (pid + time + counter), and a
//! `Cleanup` guard removes it when the test ends, even by a panic.
#![allow(dead_code)] // each test binary uses some of them

use ipcshm::{Access, Shm};
use std::env;
use std::io::ErrorKind;
use std::os::unix::io::OwnedFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub const ENOENT: i32 = 2;

pub const EEXIST: i32 = 17;

pub const EACCES: i32 = 13;

pub const EINVAL: i32 = 22;

pub const SIGSEGV: i32 = 11;

pub const NOBODY: u32 = 65534;

pub const EPERM: i32 = 1;

pub const EBADMSG: i32 = 74;

pub const EBUSY: i32 = 16;

pub const EOPNOTSUPP: i32 = 95;

extern "C" {
    pub fn geteuid() -> u32;
    pub fn kill(pid: i32, sig: i32) -> i32;
}

/// Kills a child that is still running after `secs` seconds, so that a broken
/// handshake fails the test instead of hanging it.
pub struct Watchdog(Option<std::sync::mpsc::Sender<()>>);

impl Watchdog {
    pub fn new(pid: u32, secs: u64) -> Watchdog {
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

pub fn nanos() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

/// "/ipcshm-rs-TAG-PID-NANOS-N": unique to this run.
pub fn unique(tag: &str) -> String {
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
pub fn unique_key() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let k = (std::process::id() << 12) ^ nanos() ^ (N.fetch_add(1, Ordering::Relaxed) as u32);
    format!("key:0x{:x}", (k & 0x3fff_ffff) | 0x4000_0000)
}

/// Removes an id when dropped: nothing is left behind, even when a test fails.
pub struct Cleanup(pub String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Err(e) = ipcshm::remove(&self.0) {
            eprintln!("cleanup of {}: {}", self.0, e);
        }
    }
}

/// A copy of every byte of the mapping.
pub fn bytes<A: Access>(shm: &Shm<A>) -> Vec<u8> {
    shm.read_vec(0, shm.len()).unwrap()
}

pub fn dev_shm(id: &str) -> std::path::PathBuf {
    std::path::Path::new("/dev/shm").join(id.trim_start_matches('/'))
}

pub fn child_role() -> Option<(String, String)> {
    match (env::var("IPCSHM_CHILD"), env::var("IPCSHM_CHILD_ID")) {
        (Ok(role), Ok(id)) => Some((role, id)),
        _ => None,
    }
}

/// This test binary, to run the test `test` as a child with `role` on `id`.
pub fn child(test: &str, role: &str, id: &str) -> Command {
    let mut cmd = Command::new(env::current_exe().unwrap());
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("IPCSHM_CHILD", role)
        .env("IPCSHM_CHILD_ID", id)
        .stdin(Stdio::null());
    cmd
}

/// Runs a child to its end, killed if it takes more than a minute.
pub fn run(mut cmd: Command) -> std::io::Result<Output> {
    let proc = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let _watchdog = Watchdog::new(proc.id(), 60);
    proc.wait_with_output()
}

pub fn expect_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "child {} failed: {:?}\n--- stdout\n{}--- stderr\n{}",
        what,
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn assert_error(err: &std::io::Error, kind: ErrorKind, errno: i32, id: &str) {
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

/// Runs the child as user nobody; None when that is impossible (not root).
pub fn as_nobody(mut cmd: Command) -> Option<Output> {
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

/// Spawns a child whose stdin is `fd` (a socket or an object's descriptor):
/// the way these tests hand a descriptor to a re-executed process. The
/// `Command`, and with it the parent's copy of `fd`, is dropped at once.
pub fn spawn_with_stdin(mut cmd: Command, fd: OwnedFd) -> std::process::Child {
    cmd.stdin(Stdio::from(fd))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

pub fn wait_child(proc: std::process::Child, what: &str) {
    let _watchdog = Watchdog::new(proc.id(), 60);
    let out = proc.wait_with_output().unwrap();
    expect_success(what, &out);
}

/// Kills a child process when dropped (a test that fails midway leaves none).
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn read_ne<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    bytes[at..at + N].try_into().unwrap()
}

/// True if the thread `tid` of process `pid` sleeps in a futex wait, as a
/// waiter of an event, a semaphore or a mutex does once it stopped spinning.
pub fn sleeping_in_futex(pid: u32, tid: u32) -> bool {
    let dir = format!("/proc/{}/task/{}", pid, tid);
    let wchan = std::fs::read_to_string(format!("{}/wchan", dir)).unwrap_or_default();
    let stat = std::fs::read_to_string(format!("{}/stat", dir)).unwrap_or_default();
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("");
    wchan.contains("futex") && state == "S"
}

/// Waits until that thread sleeps in a futex wait; panics after 30 s.
pub fn wait_until_sleeping(pid: u32, tid: u32) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !sleeping_in_futex(pid, tid) {
        assert!(
            std::time::Instant::now() < deadline,
            "thread {} of {} never slept in a futex wait",
            tid,
            pid
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// The calling thread's id.
pub fn gettid() -> u32 {
    extern "C" {
        fn gettid() -> i32;
    }
    unsafe { gettid() as u32 }
}

/// A re-executed child with piped stdin and stdout, read line by line.
pub struct LineChild {
    pub proc: KillOnDrop,
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
    _watchdog: Watchdog,
}

impl LineChild {
    pub fn spawn(test: &str, role: &str, id: &str) -> LineChild {
        use std::io::BufRead;
        let mut proc = child(test, role, id)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let lines = std::io::BufReader::new(proc.stdout.take().unwrap()).lines();
        let watchdog = Watchdog::new(proc.id(), 120);
        LineChild {
            proc: KillOnDrop(proc),
            lines,
            _watchdog: watchdog,
        }
    }

    pub fn pid(&self) -> u32 {
        self.proc.0.id()
    }

    /// The next line of the child that starts with "IPCSHM-" (the test
    /// harness prints its own lines too), without that prefix.
    pub fn expect(&mut self, want: &str) -> String {
        for line in self.lines.by_ref() {
            let line = line.unwrap();
            if let Some(rest) = line.trim().strip_prefix("IPCSHM-") {
                assert!(
                    rest.starts_with(want),
                    "child said {:?}, wanted {:?}",
                    rest,
                    want
                );
                return rest.to_string();
            }
        }
        panic!("the child ended before saying {:?}", want);
    }

    pub fn send(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.proc.0.stdin.as_mut().unwrap();
        writeln!(stdin, "{}", line).unwrap();
        stdin.flush().unwrap();
    }

    pub fn wait(mut self) -> std::process::ExitStatus {
        drop(self.proc.0.stdin.take());
        self.proc.0.wait().unwrap()
    }
}

/// In a child: prints a line for LineChild::expect.
pub fn say(what: &str) {
    use std::io::Write;
    println!("\nIPCSHM-{}", what);
    std::io::stdout().flush().unwrap();
}

/// In a child: the next line of stdin.
pub fn hear() -> String {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    line.trim().to_string()
}
