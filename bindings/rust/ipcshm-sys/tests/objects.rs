//! Objects through the raw declarations: version, messages, the struct_size protocol, handle validation, System V.

mod common;

use common::*;
use ipcshm_sys::*;
use std::ffi::{CStr, CString};
use std::ptr;

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
