//! The 1.1 calls through the raw declarations (descriptors, resize, array headers) on bad input and a memfd.

mod common;

use common::*;
use ipcshm_sys::*;
use std::ffi::{CStr, CString};
use std::ptr;

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
