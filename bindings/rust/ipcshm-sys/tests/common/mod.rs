//! Helpers shared by the tests that call the loaded libipcshm: errno values,
//! the library's last message, names unique to this run and the guard that
//! removes them. Objects are System V "private" segments (gone with their last
//! detach) or POSIX names unique to this run, removed by a guard even on panic.
#![allow(dead_code)] // each test binary uses some of them

use ipcshm_sys::*;
use std::ffi::{CStr, CString};

pub const ENOENT: i32 = 2;
pub const EBADF: i32 = 9;
pub const EEXIST: i32 = 17;
pub const EINVAL: i32 = 22;
pub const IPC_CREAT: i32 = 0o1000;
pub const IPC_STAT: i32 = 2;

pub fn last_error() -> String {
    unsafe { CStr::from_ptr(ipcshm_last_error()) }
        .to_string_lossy()
        .into_owned()
}

pub fn unique(tag: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "/ipcshm-sys-{}-{}-{}-{}",
        tag,
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Removes the object in Drop, so a failing test leaves nothing behind.
pub struct Cleanup(pub CString);
impl Drop for Cleanup {
    fn drop(&mut self) {
        unsafe { ipcshm_remove(self.0.as_ptr()) };
    }
}
