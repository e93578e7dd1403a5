//! Raw FFI declarations of libipcshm, one for each function, constant and type of
//! `include/ipcshm.h` (version 1.2). The header and its comments are the
//! contract; read them for the semantics. The safe API is the `ipcshm` crate.
//!
//! Conventions of the C API (from the header):
//! - functions that can fail return `c_int`: 0 or a non-negative result on
//!   success, a negative errno value (`-ENOENT`, `-EACCES`, ...) on failure;
//! - `ipcshm_last_error()` then names the call and the object in a thread-local
//!   message, valid until the next failing call on the same thread;
//! - handles are opaque, validated pointers; one handle may be used from several
//!   threads at once.
//!
//! Linking: `links = "ipcshm"`; the build script takes the library directory from
//! `IPCSHM_LIB_DIR`, else from `pkg-config --libs-only-L ipcshm`, else leaves it to
//! the default search path.
//!
//! The tests of this crate check these declarations against the header: the
//! function names, their C types (a C program assigns each function to a pointer
//! of the type these declarations imply, compiled with
//! `-Werror=incompatible-pointer-types`), the constants, and the size and field
//! offsets of [`ipcshm_info_t`].
#![allow(non_camel_case_types)]

use std::marker::{PhantomData, PhantomPinned};
// std::os::raw rather than core::ffi (c_int etc. there need Rust 1.64; Debian 12
// has 1.63). Re-exported so that users spell the same types, e.g. the `*const
// c_char` of `CStr::as_ptr()` (i8 on x86_64, u8 on aarch64).
pub use std::os::raw::{c_char, c_int, c_void};

/// `IPCSHM_VERSION_MAJOR`: the version of the header these declarations follow.
pub const IPCSHM_VERSION_MAJOR: u32 = 1;
/// `IPCSHM_VERSION_MINOR`
pub const IPCSHM_VERSION_MINOR: u32 = 2;
/// `IPCSHM_VERSION_PATCH`
pub const IPCSHM_VERSION_PATCH: u32 = 0;
/// `IPCSHM_VERSION`: `(major << 16) | (minor << 8) | patch`, as `ipcshm_version()`.
pub const IPCSHM_VERSION: u32 =
    (IPCSHM_VERSION_MAJOR << 16) | (IPCSHM_VERSION_MINOR << 8) | IPCSHM_VERSION_PATCH;

/// Map read-only; needs only read permission; a write through the mapping faults.
pub const IPCSHM_READONLY: u32 = 1 << 0;
/// Create: not volatile; the object stays until removed.
pub const IPCSHM_PERSISTENT: u32 = 1 << 1;
/// Create: attach the object if it exists and belongs to the caller's user
/// (else -EACCES), otherwise create it.
pub const IPCSHM_OPEN_OR_CREATE: u32 = 1 << 2;
/// Populate the pages at map time.
pub const IPCSHM_PREFAULT: u32 = 1 << 3;
/// Create (since 1.1): back the object with huge pages (System V: SHM_HUGETLB;
/// memfd: MFD_HUGETLB; POSIX: only where /dev/shm is mounted with `huge=`).
/// None available: -ENOMEM (-EOPNOTSUPP for POSIX), with a message that says
/// what to change.
pub const IPCSHM_HUGEPAGES: u32 = 1 << 4;
/// Keep the pages in RAM (mlock); -EPERM/-ENOMEM past RLIMIT_MEMLOCK.
pub const IPCSHM_LOCKED: u32 = 1 << 5;
/// POSIX create: reserve the backing store now (fallocate).
pub const IPCSHM_RESERVE: u32 = 1 << 6;
/// `ipcshm_attach_fd` / `ipcshm_recv` (since 1.2): accept a memfd that is not
/// sealed against shrinking (without it: -EPERM).
pub const IPCSHM_UNSEALED: u32 = 1 << 7;

/// `ipcshm_info_t::kind` of a POSIX named object.
pub const IPCSHM_KIND_POSIX: u32 = 1;
/// `ipcshm_info_t::kind` of a System V segment.
pub const IPCSHM_KIND_SYSV: u32 = 2;
/// `ipcshm_info_t::kind` of a memfd object.
pub const IPCSHM_KIND_MEMFD: u32 = 3;

/// Array element type (since 1.1), `uint16 etype` of the "WA-1" header: `int8_t`.
pub const IPCSHM_INT8: u32 = 1;
/// `uint8_t`.
pub const IPCSHM_UINT8: u32 = 2;
/// `int16_t`.
pub const IPCSHM_INT16: u32 = 3;
/// `uint16_t`.
pub const IPCSHM_UINT16: u32 = 4;
/// `int32_t`.
pub const IPCSHM_INT32: u32 = 5;
/// `uint32_t`.
pub const IPCSHM_UINT32: u32 = 6;
/// `int64_t`.
pub const IPCSHM_INT64: u32 = 7;
/// `uint64_t`.
pub const IPCSHM_UINT64: u32 = 8;
/// `float` (IEEE binary32).
pub const IPCSHM_FLOAT32: u32 = 9;
/// `double` (IEEE binary64).
pub const IPCSHM_FLOAT64: u32 = 10;
/// Complex of two `float` (real, imaginary): 8 bytes (Julia's `ComplexF32`).
pub const IPCSHM_COMPLEX64: u32 = 11;
/// Complex of two `double` (real, imaginary): 16 bytes (Julia's `ComplexF64`).
pub const IPCSHM_COMPLEX128: u32 = 12;

/// The size in bytes of an event (since 1.2), at an 8-byte aligned place of a
/// mapping.
pub const IPCSHM_EVENT_SIZE: u32 = 64;
/// The size in bytes of a semaphore (since 1.2), 8-byte aligned.
pub const IPCSHM_SEM_SIZE: u32 = 64;
/// The size in bytes of a robust mutex (since 1.2), 8-byte aligned.
pub const IPCSHM_MUTEX_SIZE: u32 = 64;

/// The magic number at the start of an array object: "WA-1" as a native-endian
/// `uint32` (0x57412D31). Not in the header (which states it in a comment); the
/// layout is `magic: u32, etype: u16, ndims: u16, offset: i64, dims: [i64;
/// ndims]`, the elements at `offset = round_up(16 + 8 * ndims, 64)`.
pub const WA1_MAGIC: u32 = 0x5741_2D31;

/// The opaque handle type, `ipcshm_t` (C: `struct ipcshm_handle`). Only ever
/// used behind a pointer. The marker makes it `!Send`, `!Sync` and `!Unpin`, as
/// the Rustonomicon recommends for opaque C types; the `ipcshm` crate states its
/// own `Send`/`Sync` with the reasons.
#[repr(C)]
pub struct ipcshm_t {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// What `ipcshm_info()` tells of an object: 88 bytes, no implicit padding; grows
/// only at its end. Set `struct_size` to `size_of::<ipcshm_info_t>()` before the
/// call ([`ipcshm_info_t::new`] does).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ipcshm_info_t {
    /// Set by the caller: `sizeof(ipcshm_info_t)`.
    pub struct_size: u32,
    /// `IPCSHM_KIND_*`.
    pub kind: u32,
    /// Bytes (System V: shm_segsz).
    pub size: u64,
    /// System V attach count; POSIX: 0.
    pub nattch: u64,
    /// System V: last attach; POSIX: st_atime (seconds).
    pub atime: i64,
    /// System V: last detach; POSIX: st_mtime.
    pub dtime: i64,
    /// Last change (seconds).
    pub ctime: i64,
    /// Permission bits (0777).
    pub mode: u32,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Creator user id (POSIX: same as owner).
    pub cuid: u32,
    /// Creator group id (POSIX: same as owner).
    pub cgid: u32,
    /// System V creator pid; POSIX: -1.
    pub cpid: i32,
    /// System V last shmat/shmdt pid; POSIX: -1.
    pub lpid: i32,
    /// System V key (0 once removed or private); POSIX: 0.
    pub key: i32,
    /// System V identifier; POSIX: -1.
    pub shmid: i32,
    /// `IPCSHM_PERSISTENT` when the object is not volatile; `IPCSHM_HUGEPAGES`
    /// when it is a memfd in huge pages.
    pub flags: u32,
}

impl ipcshm_info_t {
    /// A zeroed struct whose `struct_size` is set, ready for `ipcshm_info()`.
    pub const fn new() -> Self {
        ipcshm_info_t {
            struct_size: std::mem::size_of::<ipcshm_info_t>() as u32,
            kind: 0,
            size: 0,
            nattch: 0,
            atime: 0,
            dtime: 0,
            ctime: 0,
            mode: 0,
            uid: 0,
            gid: 0,
            cuid: 0,
            cgid: 0,
            cpid: 0,
            lpid: 0,
            key: 0,
            shmid: 0,
            flags: 0,
        }
    }
}

// Keep one declaration per item, in the header's order, in the form
// `pub fn name(arg: Type, ...) -> Type;` : tests/header.rs parses this block to
// check it against the header.
extern "C" {
    pub fn ipcshm_create(
        id: *const c_char,
        size: u64,
        perms: u32,
        flags: u32,
        out: *mut *mut ipcshm_t,
    ) -> c_int;
    pub fn ipcshm_attach(id: *const c_char, flags: u32, out: *mut *mut ipcshm_t) -> c_int;
    pub fn ipcshm_detach(h: *mut ipcshm_t) -> c_int;
    pub fn ipcshm_remove(id: *const c_char) -> c_int;
    pub fn ipcshm_pointer(h: *const ipcshm_t) -> *mut c_void;
    pub fn ipcshm_size(h: *const ipcshm_t) -> u64;
    pub fn ipcshm_id(h: *const ipcshm_t) -> *const c_char;
    pub fn ipcshm_info(id: *const c_char, info: *mut ipcshm_info_t) -> c_int;
    pub fn ipcshm_handle_info(h: *const ipcshm_t, info: *mut ipcshm_info_t) -> c_int;
    pub fn ipcshm_chmod(id: *const c_char, perms: u32) -> c_int;
    pub fn ipcshm_version() -> u32;
    pub fn ipcshm_strerror(err: c_int) -> *const c_char;
    pub fn ipcshm_last_error() -> *const c_char;
    pub fn ipcshm_page_size() -> u64;
    pub fn ipcshm_fd(h: *const ipcshm_t) -> c_int;
    pub fn ipcshm_attach_fd(fd: c_int, flags: u32, out: *mut *mut ipcshm_t) -> c_int;
    pub fn ipcshm_resize(h: *mut ipcshm_t, size: u64) -> c_int;
    pub fn ipcshm_send(sock: c_int, h: *const ipcshm_t) -> c_int;
    pub fn ipcshm_recv(sock: c_int, flags: u32, out: *mut *mut ipcshm_t) -> c_int;
    pub fn ipcshm_array_create(
        id: *const c_char,
        etype: u32,
        ndims: u32,
        dims: *const i64,
        perms: u32,
        flags: u32,
        out: *mut *mut ipcshm_t,
    ) -> c_int;
    pub fn ipcshm_array_header(
        h: *const ipcshm_t,
        etype: *mut u32,
        ndims: *mut u32,
        dims: *mut i64,
        maxdims: u32,
        offset: *mut u64,
    ) -> c_int;
    pub fn ipcshm_array_data(h: *const ipcshm_t) -> *mut c_void;
    pub fn ipcshm_sysv_get(key: i32, size: u64, shmflg: i32, shmid: *mut i32) -> c_int;
    pub fn ipcshm_sysv_attach(shmid: i32, readonly: c_int, ptr: *mut *mut c_void) -> c_int;
    pub fn ipcshm_sysv_detach(ptr: *const c_void) -> c_int;
    pub fn ipcshm_sysv_ctl(shmid: i32, cmd: i32, buf: *mut c_void, bufsize: u64) -> c_int;
    pub fn ipcshm_sysv_remove(shmid: i32) -> c_int;
    pub fn ipcshm_sysv_shmid_ds_size() -> u64;
    pub fn ipcshm_ftok(path: *const c_char, proj: i32, key: *mut i32) -> c_int;
    pub fn ipcshm_wait(word: *const u32, expected: u32, timeout_ns: i64) -> c_int;
    pub fn ipcshm_wake(word: *mut u32, count: u32) -> c_int;
    pub fn ipcshm_event_init(ev: *mut c_void) -> c_int;
    pub fn ipcshm_event_notify(ev: *mut c_void) -> c_int;
    pub fn ipcshm_event_sequence(ev: *const c_void, seq: *mut u64) -> c_int;
    pub fn ipcshm_event_wait(ev: *mut c_void, seen: *mut u64, timeout_ns: i64) -> c_int;
    pub fn ipcshm_event_fd(ev: *mut c_void) -> c_int;
    pub fn ipcshm_sem_init(sem: *mut c_void, value: u32) -> c_int;
    pub fn ipcshm_sem_post(sem: *mut c_void) -> c_int;
    pub fn ipcshm_sem_wait(sem: *mut c_void, timeout_ns: i64) -> c_int;
    pub fn ipcshm_sem_value(sem: *const c_void, value: *mut u32) -> c_int;
    pub fn ipcshm_mutex_init(m: *mut c_void) -> c_int;
    pub fn ipcshm_mutex_lock(m: *mut c_void, timeout_ns: i64) -> c_int;
    pub fn ipcshm_mutex_consistent(m: *mut c_void) -> c_int;
    pub fn ipcshm_mutex_unlock(m: *mut c_void) -> c_int;
}
