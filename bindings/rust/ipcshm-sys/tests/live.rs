//! Calls into the loaded libipcshm through the raw declarations: the struct_size
//! protocol of ipcshm_info_t, handle validation, messages, the low-level System V
//! functions. Objects are System V "private" segments (gone with their last
//! detach) or POSIX names unique to this run, removed by a guard even on panic.

use ipcshm_sys::*;
use std::ffi::{CStr, CString};
use std::ptr;

const ENOENT: i32 = 2;
const EBADF: i32 = 9;
const EEXIST: i32 = 17;
const EINVAL: i32 = 22;
const IPC_CREAT: i32 = 0o1000;
const IPC_STAT: i32 = 2;

fn last_error() -> String {
    unsafe { CStr::from_ptr(ipcshm_last_error()) }
        .to_string_lossy()
        .into_owned()
}

fn unique(tag: &str) -> String {
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
struct Cleanup(CString);
impl Drop for Cleanup {
    fn drop(&mut self) {
        unsafe { ipcshm_remove(self.0.as_ptr()) };
    }
}

#[test]
fn version_matches_header_major() {
    let v = unsafe { ipcshm_version() };
    assert_eq!(v >> 16, IPCSHM_VERSION_MAJOR, "library 0x{:06x}", v);
    assert!(
        v >= IPCSHM_VERSION,
        "library 0x{:06x} older than header 0x{:06x}",
        v,
        IPCSHM_VERSION
    );
}

#[test]
fn strerror_and_page_size() {
    let neg = unsafe { CStr::from_ptr(ipcshm_strerror(-ENOENT)) }.to_owned();
    let pos = unsafe { CStr::from_ptr(ipcshm_strerror(ENOENT)) }.to_owned();
    assert_eq!(neg, pos);
    assert!(!neg.to_bytes().is_empty());
    let page = unsafe { ipcshm_page_size() };
    assert!(page >= 4096 && page.is_power_of_two(), "page size {}", page);
}

#[test]
fn info_struct_size_protocol() {
    let id = CString::new("private").unwrap();
    let mut h: *mut ipcshm_t = ptr::null_mut();
    let rc = unsafe { ipcshm_create(id.as_ptr(), 1000, 0o600, 0, &mut h) };
    assert_eq!(rc, 1, "{}", last_error());
    assert!(!h.is_null());

    // The struct as this crate declares it: accepted and filled.
    let mut info = ipcshm_info_t::new();
    assert_eq!(
        unsafe { ipcshm_handle_info(h, &mut info) },
        0,
        "{}",
        last_error()
    );
    assert_eq!(info.struct_size, 88);
    assert_eq!(info.kind, IPCSHM_KIND_SYSV);
    assert_eq!(info.size, 1000);
    assert!(info.shmid >= 0);
    assert_eq!(info.mode & 0o777, 0o600);

    // By id: the canonical "shmid:N".
    let canon = unsafe { CStr::from_ptr(ipcshm_id(h)) }.to_owned();
    assert_eq!(canon.to_str().unwrap(), format!("shmid:{}", info.shmid));
    let mut by_id = ipcshm_info_t::new();
    assert_eq!(
        unsafe { ipcshm_info(canon.as_ptr(), &mut by_id) },
        0,
        "{}",
        last_error()
    );
    assert_eq!(by_id.shmid, info.shmid);

    // One byte short of the first version: refused, nothing written.
    let mut short = ipcshm_info_t::new();
    short.struct_size = 87;
    let before = short;
    assert_eq!(unsafe { ipcshm_handle_info(h, &mut short) }, -EINVAL);
    assert_eq!(short, before);
    assert!(last_error().contains("struct_size"), "{}", last_error());

    // A caller from a later version with a bigger struct: the library fills the
    // 88 bytes it knows, keeps struct_size and leaves the rest alone.
    #[repr(C)]
    struct Bigger {
        info: ipcshm_info_t,
        later: [u64; 2],
    }
    let mut big = Bigger {
        info: ipcshm_info_t::new(),
        later: [0xdead_beef; 2],
    };
    big.info.struct_size = std::mem::size_of::<Bigger>() as u32;
    let rc = unsafe { ipcshm_handle_info(h, &mut big as *mut Bigger as *mut ipcshm_info_t) };
    assert_eq!(rc, 0, "{}", last_error());
    assert_eq!(big.info.struct_size, 104);
    assert_eq!(big.info.shmid, info.shmid);
    assert_eq!(big.later, [0xdead_beef; 2]);

    assert_eq!(unsafe { ipcshm_detach(h) }, 0);
    // volatile: the segment is gone with its only attachment
    let mut gone = ipcshm_info_t::new();
    assert_eq!(
        unsafe { ipcshm_info(canon.as_ptr(), &mut gone) },
        -ENOENT,
        "{}",
        last_error()
    );
}

#[test]
fn handles_are_validated() {
    unsafe {
        assert!(ipcshm_pointer(ptr::null()).is_null());
        assert_eq!(ipcshm_size(ptr::null()), 0);
        assert!(ipcshm_id(ptr::null()).is_null());
        assert_eq!(ipcshm_detach(ptr::null_mut()), -EINVAL);
        let mut info = ipcshm_info_t::new();
        assert_eq!(ipcshm_handle_info(ptr::null(), &mut info), -EINVAL);
        assert_eq!(ipcshm_info(ptr::null(), &mut info), -EINVAL);
        assert_eq!(
            ipcshm_create(ptr::null(), 1, 0o600, 0, &mut ptr::null_mut()),
            -EINVAL
        );

        let id = CString::new("private").unwrap();
        let mut h = ptr::null_mut();
        assert_eq!(ipcshm_create(id.as_ptr(), 4096, 0o600, 0, &mut h), 1);
        assert_eq!(ipcshm_detach(h), 0);
        assert_eq!(ipcshm_detach(h), -EBADF);
        assert!(ipcshm_pointer(h).is_null());
        assert_eq!(ipcshm_size(h), 0);
    }
}

#[test]
fn errors_name_the_object_and_leave_out_params_alone() {
    let name = unique("err");
    let id = CString::new(name.clone()).unwrap();
    let _guard = Cleanup(id.clone());
    let sentinel = 0x1 as *mut ipcshm_t;
    let mut h = sentinel;
    assert_eq!(unsafe { ipcshm_attach(id.as_ptr(), 0, &mut h) }, -ENOENT);
    assert_eq!(h, sentinel, "out-parameter touched on failure");
    assert!(
        last_error().contains(&name),
        "message {:?} does not name {}",
        last_error(),
        name
    );

    let mut h = ptr::null_mut();
    assert_eq!(
        unsafe { ipcshm_create(id.as_ptr(), 64, 0o600, IPCSHM_PERSISTENT, &mut h) },
        1
    );
    let mut h2 = sentinel;
    assert_eq!(
        unsafe { ipcshm_create(id.as_ptr(), 64, 0o600, 0, &mut h2) },
        -EEXIST
    );
    assert_eq!(h2, sentinel);
    assert!(last_error().contains(&name), "{}", last_error());
    assert_eq!(unsafe { ipcshm_detach(h) }, 0);
    assert_eq!(unsafe { ipcshm_remove(id.as_ptr()) }, 0);
    assert_eq!(
        unsafe { ipcshm_remove(id.as_ptr()) },
        0,
        "already gone is 0"
    );

    let bad = CString::new("no-slash").unwrap();
    assert_eq!(unsafe { ipcshm_attach(bad.as_ptr(), 0, &mut h2) }, -EINVAL);
    assert!(!last_error().is_empty());
}

#[test]
fn low_level_system_v() {
    unsafe {
        assert!(ipcshm_sysv_shmid_ds_size() >= 64);
        let mut shmid = -1;
        assert_eq!(
            ipcshm_sysv_get(0, 4096, IPC_CREAT | 0o600, &mut shmid),
            0,
            "{}",
            last_error()
        );
        assert!(shmid >= 0);
        struct Rm(i32);
        impl Drop for Rm {
            fn drop(&mut self) {
                unsafe { ipcshm_sysv_remove(self.0) };
            }
        }
        let _rm = Rm(shmid);
        let mut p: *mut c_void = ptr::null_mut();
        assert_eq!(ipcshm_sysv_attach(shmid, 0, &mut p), 0, "{}", last_error());
        *(p as *mut u8) = 42;
        let mut ds = vec![0u8; ipcshm_sysv_shmid_ds_size() as usize];
        assert_eq!(
            ipcshm_sysv_ctl(
                shmid,
                IPC_STAT,
                ds.as_mut_ptr() as *mut c_void,
                ds.len() as u64
            ),
            0
        );
        // a short buffer is refused
        assert_eq!(
            ipcshm_sysv_ctl(shmid, IPC_STAT, ds.as_mut_ptr() as *mut c_void, 8),
            -EINVAL
        );
        let mut q: *mut c_void = ptr::null_mut();
        assert_eq!(ipcshm_sysv_attach(shmid, 1, &mut q), 0);
        assert_eq!(*(q as *const u8), 42);
        assert_eq!(ipcshm_sysv_detach(q), 0);
        assert_eq!(ipcshm_sysv_detach(p), 0);
        assert_eq!(ipcshm_sysv_detach(p), -EINVAL);
        assert_eq!(ipcshm_sysv_remove(shmid), 0);
        assert_eq!(ipcshm_sysv_remove(shmid), 0, "already removed is 0");

        let root = CString::new("/").unwrap();
        let mut key = 0;
        assert_eq!(
            ipcshm_ftok(root.as_ptr(), 1, &mut key),
            0,
            "{}",
            last_error()
        );
        assert_ne!(key, 0);
        assert_eq!(ipcshm_ftok(root.as_ptr(), 0, &mut key), -EINVAL);
    }
}

/// The 1.1 calls on bad input (no array support needed): NULL handles and
/// out-pointers, a System V segment without descriptor, a descriptor of a
/// regular file; and a memfd object through ipcshm_fd / ipcshm_attach_fd.
#[test]
fn descriptors_and_resize_raw() {
    const EOPNOTSUPP: i32 = 95;
    unsafe {
        assert_eq!(ipcshm_fd(ptr::null()), -EINVAL);
        assert_eq!(ipcshm_resize(ptr::null_mut(), 1), -EINVAL);
        assert_eq!(ipcshm_send(0, ptr::null()), -EINVAL);
        assert_eq!(ipcshm_attach_fd(0, 0, ptr::null_mut()), -EINVAL);
        assert_eq!(ipcshm_recv(0, 0, ptr::null_mut()), -EINVAL);
        assert_eq!(
            ipcshm_array_header(
                ptr::null(),
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
                0,
                ptr::null_mut()
            ),
            -EINVAL
        );
        assert!(ipcshm_array_data(ptr::null()).is_null());

        // System V has no descriptor and cannot be resized.
        let private = CString::new("private").unwrap();
        let mut h = ptr::null_mut();
        assert_eq!(ipcshm_create(private.as_ptr(), 4096, 0o600, 0, &mut h), 1);
        assert_eq!(ipcshm_fd(h), -EOPNOTSUPP, "{}", last_error());
        assert_eq!(ipcshm_resize(h, 8192), -EOPNOTSUPP, "{}", last_error());
        assert_eq!(ipcshm_detach(h), 0);

        // A regular file is not a shared memory object.
        let file = std::fs::File::open("/proc/self/exe").unwrap();
        let sentinel = 0x1 as *mut ipcshm_t;
        let mut h2 = sentinel;
        use std::os::unix::io::AsRawFd;
        assert_eq!(
            ipcshm_attach_fd(file.as_raw_fd(), IPCSHM_READONLY, &mut h2),
            -EINVAL
        );
        assert_eq!(h2, sentinel, "out-parameter touched on failure");

        // memfd: a descriptor maps the same memory; the caller's fd stays open.
        let id = CString::new("memfd:ipcshm-sys-live").unwrap();
        let mut m = ptr::null_mut();
        assert_eq!(
            ipcshm_create(id.as_ptr(), 100, 0o600, 0, &mut m),
            1,
            "{}",
            last_error()
        );
        assert_eq!(
            CStr::from_ptr(ipcshm_id(m)).to_str().unwrap(),
            "memfd:ipcshm-sys-live"
        );
        *(ipcshm_pointer(m) as *mut u8) = 0x77;
        let fd = ipcshm_fd(m);
        assert!(fd >= 0, "{}", last_error());
        let mut m2 = ptr::null_mut();
        assert_eq!(ipcshm_attach_fd(fd, 0, &mut m2), 0, "{}", last_error());
        assert_ne!(ipcshm_pointer(m2), ipcshm_pointer(m));
        assert_eq!(*(ipcshm_pointer(m2) as *const u8), 0x77);
        // Not an array: the header check refuses it.
        let mut nd = 0u32;
        assert!(
            ipcshm_array_header(
                m2,
                ptr::null_mut(),
                &mut nd,
                ptr::null_mut(),
                0,
                ptr::null_mut()
            ) < 0
        );
        assert!(ipcshm_array_data(m2).is_null());
        assert_eq!(ipcshm_detach(m2), 0);
        assert_eq!(ipcshm_detach(m), 0);
        // fcntl(F_GETFD) on our descriptor: still open, and close-on-exec.
        extern "C" {
            fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
            fn close(fd: c_int) -> c_int;
        }
        const F_GETFD: c_int = 1;
        const FD_CLOEXEC: c_int = 1;
        assert_eq!(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        assert_eq!(close(fd), 0);
    }
}

/// The 1.2 signalling calls through the raw declarations: NULL and misaligned
/// pointers, memory that holds no primitive, and each primitive once, in an
/// 8-aligned private buffer (between the threads of one process any memory
/// does).
#[test]
fn signalling_raw() {
    const EAGAIN: i32 = 11;
    const EOVERFLOW: i32 = 75;
    const ETIMEDOUT: i32 = 110;
    let mut mem = vec![0u64; 4 * IPCSHM_EVENT_SIZE as usize / 8];
    let base = mem.as_mut_ptr() as *mut u8;
    unsafe {
        let (ev, sem, m) = (
            base as *mut c_void,
            base.add(64) as *mut c_void,
            base.add(128) as *mut c_void,
        );
        let mut seq = 7u64;
        let mut value = 7u32;
        for rc in [
            ipcshm_event_init(ptr::null_mut()),
            ipcshm_event_notify(base.add(4) as *mut c_void),
            ipcshm_event_sequence(ptr::null(), &mut seq),
            ipcshm_event_wait(ptr::null_mut(), &mut seq, 0),
            ipcshm_event_fd(base.add(1) as *mut c_void),
            ipcshm_sem_init(ptr::null_mut(), 0),
            ipcshm_sem_post(base.add(4) as *mut c_void),
            ipcshm_sem_wait(ptr::null_mut(), 0),
            ipcshm_sem_value(ptr::null(), &mut value),
            ipcshm_mutex_init(base.add(4) as *mut c_void),
            ipcshm_mutex_lock(ptr::null_mut(), 0),
            ipcshm_mutex_consistent(ptr::null_mut()),
            ipcshm_mutex_unlock(ptr::null_mut()),
            ipcshm_wait(ptr::null(), 0, 0),
            ipcshm_wait(base.add(2) as *const u32, 0, 0),
            ipcshm_wake(ptr::null_mut(), 1),
        ] {
            assert_eq!(rc, -EINVAL, "{}", last_error());
        }
        // Zeros: no primitive was ever initialised there.
        assert_eq!(ipcshm_event_sequence(ev, &mut seq), -EINVAL);
        assert_eq!(ipcshm_sem_value(sem, &mut value), -EINVAL);
        assert_eq!(ipcshm_mutex_lock(m, 0), -EINVAL);
        assert_eq!((seq, value), (7, 7), "out-parameters touched on failure");

        assert_eq!(ipcshm_event_init(ev), 0);
        assert_eq!(ipcshm_event_wait(ev, &mut seq, 0), 0); // 7 != 0: at once
        assert_eq!(seq, 0);
        assert_eq!(ipcshm_event_wait(ev, &mut seq, 0), -EAGAIN);
        assert_eq!(ipcshm_event_wait(ev, &mut seq, 1_000_000), -ETIMEDOUT);
        assert_eq!(ipcshm_event_notify(ev), 0);
        assert_eq!(ipcshm_event_sequence(ev, &mut seq), 0);
        assert_eq!(seq, 1);
        // Another kind's memory is not an event.
        assert_eq!(ipcshm_sem_value(ev, &mut value), -EINVAL);

        assert_eq!(ipcshm_sem_init(sem, u32::MAX), 0);
        assert_eq!(ipcshm_sem_post(sem), -EOVERFLOW);
        assert_eq!(ipcshm_sem_init(sem, 1), 0);
        assert_eq!(ipcshm_sem_wait(sem, 0), 0);
        assert_eq!(ipcshm_sem_wait(sem, 0), -EAGAIN);
        assert_eq!(ipcshm_sem_value(sem, &mut value), 0);
        assert_eq!(value, 0);

        assert_eq!(ipcshm_mutex_init(m), 0);
        assert_eq!(ipcshm_mutex_unlock(m), -1 /* EPERM */);
        assert_eq!(ipcshm_mutex_lock(m, -1), 0);
        assert_eq!(ipcshm_mutex_lock(m, 0), -35 /* EDEADLK */);
        assert_eq!(ipcshm_mutex_consistent(m), -EINVAL);
        assert_eq!(ipcshm_mutex_unlock(m), 0);

        // wait/wake on a plain word: the value differs, so no sleep.
        let word = base.add(192) as *mut u32;
        assert_eq!(ipcshm_wait(word, 1, -1), 0);
        assert_eq!(ipcshm_wait(word, 0, 0), -EAGAIN);
        assert_eq!(ipcshm_wake(word, u32::MAX), 0);
    }
    drop(mem);
}
