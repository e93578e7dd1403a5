#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
// Written for Rust 1.63 (Debian 12's rustc), edition 2021, std only.

use std::ffi::{CStr, CString};
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::os::raw::c_int;
// OwnedFd, BorrowedFd and AsFd are stable since Rust 1.63 (Debian 12's rustc).
use std::os::unix::io::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;

/// The raw declarations this crate is built on (`ipcshm-sys`).
pub use ipcshm_sys as sys;

const EINVAL: i32 = 22;
const ERANGE: i32 = 34;
const EBADMSG: i32 = 74;

// ---------------------------------------------------------------------------
// Errors

/// A failure reported by libipcshm: the errno value and the library's message,
/// which names the call and the object (`shm_open("/x"): Permission denied`).
///
/// The API returns [`std::io::Error`], built from this type with
/// `io::Error::new(kind, Error)`. The tradeoff: `io::Error::from_raw_os_error`
/// would keep [`io::Error::raw_os_error`] but lose the message, and the message is
/// what tells *which* object and which call failed. So the `io::Error` carries
///
/// - the [`io::ErrorKind`] that std derives from the errno (`ENOENT` →
///   `NotFound`, `EEXIST` → `AlreadyExists`, `EACCES`/`EPERM` →
///   `PermissionDenied`, `EINVAL` → `InvalidInput`, ...);
/// - this `Error` as its inner error, so `Display` shows the message and
///   [`Error::from_io`] or [`errno`] give the errno back;
///
/// and `raw_os_error()` of that `io::Error` is `None`: use [`errno`] instead,
/// which also answers for errors built by std from an errno.
///
/// ```
/// # let id = format!("/ipcshm-doc-missing-{}", std::process::id());
/// let err = ipcshm::Shm::attach(&id).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// assert_eq!(ipcshm::errno(&err), Some(2)); // ENOENT
/// assert!(err.to_string().contains(&id));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    errno: i32,
    message: String,
}

impl Error {
    /// An error with this (positive) errno value and message.
    pub fn new(errno: i32, message: impl Into<String>) -> Error {
        Error {
            errno: errno.saturating_abs(),
            message: message.into(),
        }
    }

    /// The errno value (positive: `ENOENT` is 2).
    pub fn errno(&self) -> i32 {
        self.errno
    }

    /// The library's message for this failure.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The [`io::ErrorKind`] of the errno, as std maps it; `EBADMSG` (a
    /// corrupt array header, an array of another element type, a message that
    /// is not from [`Shm::send`]) is [`io::ErrorKind::InvalidData`], which std
    /// leaves uncategorized.
    pub fn kind(&self) -> io::ErrorKind {
        if self.errno == EBADMSG {
            return io::ErrorKind::InvalidData;
        }
        io::Error::from_raw_os_error(self.errno).kind()
    }

    /// The `Error` inside an `io::Error` that this crate returned, if it is one.
    pub fn from_io(err: &io::Error) -> Option<&Error> {
        err.get_ref()
            .and_then(|inner| inner.downcast_ref::<Error>())
    }

    /// The message of the last failure on this thread, for `errno`.
    fn last(errno: i32) -> Error {
        // SAFETY: never NULL; valid until the next failing call on this thread.
        let text = unsafe { CStr::from_ptr(sys::ipcshm_last_error()) };
        let mut message = text.to_string_lossy().into_owned();
        if message.is_empty() {
            message = strerror(errno);
        }
        Error::new(errno, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (os error {})", self.message, self.errno)
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    fn from(err: Error) -> io::Error {
        io::Error::new(err.kind(), err)
    }
}

/// The errno value of an `io::Error`: of the [`Error`] inside one that this
/// crate returned, else its `raw_os_error()`.
pub fn errno(err: &io::Error) -> Option<i32> {
    Error::from_io(err)
        .map(|e| e.errno())
        .or_else(|| err.raw_os_error())
}

fn strerror(errno: i32) -> String {
    // SAFETY: never NULL, a static string.
    unsafe { CStr::from_ptr(sys::ipcshm_strerror(errno)) }
        .to_string_lossy()
        .into_owned()
}

/// A negative return value into an error carrying the library's message.
fn check(rc: c_int) -> io::Result<c_int> {
    if rc >= 0 {
        Ok(rc)
    } else {
        Err(Error::last(-rc).into())
    }
}

fn c_id(id: &str) -> io::Result<CString> {
    CString::new(id)
        .map_err(|_| Error::new(EINVAL, format!("id {:?} contains a NUL byte", id)).into())
}

// ---------------------------------------------------------------------------
// Access modes

mod sealed {
    pub trait Sealed {}
}

/// The access mode of a mapping, [`ReadWrite`] or [`ReadOnly`], as a type
/// parameter of [`Shm`] and [`ShmOptions`]. Sealed.
pub trait Access: sealed::Sealed {
    /// The library flags of this mode.
    const FLAGS: u32;
}

/// A mapping that can be written: [`Shm::as_mut_slice`] exists.
#[derive(Debug)]
pub enum ReadWrite {}

/// A read-only mapping (`IPCSHM_READONLY`; needs only read permission). The
/// memory is mapped without write permission, and `Shm<ReadOnly>` has no
/// `as_mut_slice`: writing is a compile-time error, not a run-time one.
///
/// ```compile_fail
/// let mut ro = ipcshm::Shm::attach_readonly("/some-object").unwrap();
/// ro.as_mut_slice()[0] = 1; // no method `as_mut_slice` for Shm<ReadOnly>
/// ```
#[derive(Debug)]
pub enum ReadOnly {}

impl sealed::Sealed for ReadWrite {}
impl sealed::Sealed for ReadOnly {}
impl Access for ReadWrite {
    const FLAGS: u32 = 0;
}
impl Access for ReadOnly {
    const FLAGS: u32 = sys::IPCSHM_READONLY;
}

// ---------------------------------------------------------------------------
// Options

/// How to create or attach an object: permissions, lifetime, mapping flags, and
/// the access mode (a type parameter, changed by [`readonly`](Self::readonly)).
///
/// ```
/// use ipcshm::ShmOptions;
/// # let id = format!("/ipcshm-doc-opts-{}", std::process::id());
/// let opts = ShmOptions::new().perms(0o640).persistent(true);
/// let (shm, created) = opts.open_or_create(&id, 4096)?;
/// assert!(created);
/// let (again, created) = opts.open_or_create(&id, 4096)?;
/// assert!(!created);
/// drop((shm, again));
/// ipcshm::Shm::remove(&id)?; // persistent: stays until removed
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct ShmOptions<A: Access = ReadWrite> {
    perms: u32,
    flags: u32,
    access: PhantomData<A>,
}

impl<A: Access> Clone for ShmOptions<A> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A: Access> Copy for ShmOptions<A> {}

impl Default for ShmOptions<ReadWrite> {
    fn default() -> Self {
        ShmOptions::new()
    }
}

impl ShmOptions<ReadWrite> {
    /// The defaults: permissions 0600, volatile, exclusive create, read-write.
    pub fn new() -> ShmOptions<ReadWrite> {
        ShmOptions {
            perms: 0o600,
            flags: 0,
            access: PhantomData,
        }
    }

    /// Map read-only (needs only read permission): the objects come back as
    /// [`Shm<ReadOnly>`].
    pub fn readonly(self) -> ShmOptions<ReadOnly> {
        ShmOptions {
            perms: self.perms,
            flags: self.flags,
            access: PhantomData,
        }
    }
}

impl<A: Access> ShmOptions<A> {
    fn flag(mut self, flag: u32, on: bool) -> Self {
        if on {
            self.flags |= flag;
        } else {
            self.flags &= !flag;
        }
        self
    }

    /// Permission bits of a created object (0..=0o777; default 0600), applied
    /// exactly, not masked by the umask; owner read+write are always added.
    pub fn perms(mut self, perms: u32) -> Self {
        self.perms = perms;
        self
    }

    /// Create: the object stays until [`Shm::remove`] (or reboot) instead of
    /// being destroyed when its last user detaches (the default, volatile).
    pub fn persistent(self, on: bool) -> Self {
        self.flag(sys::IPCSHM_PERSISTENT, on)
    }

    /// Populate the pages at map time.
    pub fn prefault(self, on: bool) -> Self {
        self.flag(sys::IPCSHM_PREFAULT, on)
    }

    /// Keep the pages in RAM (mlock / SHM_LOCK); `EPERM`/`ENOMEM` past
    /// RLIMIT_MEMLOCK.
    pub fn locked(self, on: bool) -> Self {
        self.flag(sys::IPCSHM_LOCKED, on)
    }

    /// POSIX create: reserve the backing store now, so that a full /dev/shm is
    /// an error (`ENOSPC`) at create rather than SIGBUS at first write.
    pub fn reserve(self, on: bool) -> Self {
        self.flag(sys::IPCSHM_RESERVE, on)
    }

    /// Create (libipcshm 1.1): back the object with huge pages. System V
    /// (`SHM_HUGETLB`) and memfd (`MFD_HUGETLB`) take them from the pool in
    /// `/proc/sys/vm/nr_hugepages` and round the size up to a whole huge page;
    /// POSIX objects have them only where /dev/shm is mounted with `huge=`.
    /// None available: an error (`ENOMEM`, or `EOPNOTSUPP` for POSIX) whose
    /// message says what to change. [`Info::hugepages`] tells a memfd in huge
    /// pages.
    pub fn hugepages(self, on: bool) -> Self {
        self.flag(sys::IPCSHM_HUGEPAGES, on)
    }

    /// The flags that attaching takes: the access mode, `prefault`, `locked`.
    fn attach_flags(&self) -> u32 {
        (self.flags | A::FLAGS)
            & !(sys::IPCSHM_PERSISTENT | sys::IPCSHM_RESERVE | sys::IPCSHM_HUGEPAGES)
    }

    /// Creates the object `id` of `size` bytes (≥ 1); an existing id is
    /// `AlreadyExists` and is left untouched. New memory reads as zeros.
    pub fn create(&self, id: &str, size: usize) -> io::Result<Shm<A>> {
        self.create_with(id, size, 0).map(|(shm, _)| shm)
    }

    /// Attaches the object `id` if it exists, belongs to the caller's user
    /// (else `PermissionDenied`) and has at least `size` bytes; otherwise creates
    /// it. The `bool` is `true` when it was created (so the caller knows whether
    /// to initialise it).
    pub fn open_or_create(&self, id: &str, size: usize) -> io::Result<(Shm<A>, bool)> {
        self.create_with(id, size, sys::IPCSHM_OPEN_OR_CREATE)
    }

    fn create_with(&self, id: &str, size: usize, extra: u32) -> io::Result<(Shm<A>, bool)> {
        let cid = c_id(id)?;
        let mut raw: *mut sys::ipcshm_t = std::ptr::null_mut();
        // SAFETY: a NUL-terminated id and a valid out-pointer.
        let rc = check(unsafe {
            sys::ipcshm_create(
                cid.as_ptr(),
                size as u64,
                self.perms,
                self.flags | extra | A::FLAGS,
                &mut raw,
            )
        })?;
        // SAFETY: a fresh handle, owned by nobody else.
        let shm = unsafe { Shm::from_raw(raw)? };
        Ok((shm, rc == 1))
    }

    /// Attaches the existing object `id` (`"/name"`, `"key:…"`, `"shmid:N"`).
    /// A missing object, or a volatile one whose users are all gone, is
    /// `NotFound`. Only `prefault`, `locked` and the access mode apply;
    /// `persistent`, `reserve`, `hugepages` and `perms` concern creation and
    /// are ignored.
    pub fn attach(&self, id: &str) -> io::Result<Shm<A>> {
        let cid = c_id(id)?;
        let mut raw: *mut sys::ipcshm_t = std::ptr::null_mut();
        // SAFETY: a NUL-terminated id and a valid out-pointer.
        check(unsafe { sys::ipcshm_attach(cid.as_ptr(), self.attach_flags(), &mut raw) })?;
        // SAFETY: a fresh handle, owned by nobody else.
        unsafe { Shm::from_raw(raw) }
    }

    /// Maps the POSIX or memfd object open as `fd` (libipcshm 1.1,
    /// `ipcshm_attach_fd`): a descriptor from [`Shm::fd`], received over a
    /// socket or inherited. The object is opened anew, so the new `Shm` is a
    /// user of its own; `fd` is only borrowed, and stays open and unchanged.
    /// Flags as for [`attach`](Self::attach). A read-only descriptor needs
    /// [`readonly`](ShmOptions::readonly) (else `PermissionDenied`); a
    /// descriptor of anything else (a file on disk, a socket) is
    /// `InvalidInput`; a POSIX object whose name was removed meanwhile is
    /// `NotFound`.
    pub fn attach_fd(&self, fd: impl AsFd) -> io::Result<Shm<A>> {
        let fd = fd.as_fd();
        let mut raw: *mut sys::ipcshm_t = std::ptr::null_mut();
        // SAFETY: a descriptor borrowed for the call and a valid out-pointer.
        check(unsafe { sys::ipcshm_attach_fd(fd.as_raw_fd(), self.attach_flags(), &mut raw) })?;
        // SAFETY: a fresh handle, owned by nobody else.
        unsafe { Shm::from_raw(raw) }
    }

    /// Receives one object sent by [`Shm::send`] on the connected UNIX-domain
    /// socket `sock` and maps it, as [`attach_fd`](Self::attach_fd) would
    /// (libipcshm 1.1, `ipcshm_recv`). Blocks as the socket does
    /// (`WouldBlock` if it is non-blocking and nothing is there yet). A
    /// message that is not from `send` is `InvalidData` (`EBADMSG`); the peer
    /// closing the socket is `ConnectionReset`.
    ///
    /// The message is consumed even when mapping fails, e.g. a read-only
    /// object received without [`readonly`](ShmOptions::readonly)
    /// (`PermissionDenied`): agree on the access mode beforehand.
    pub fn recv(&self, sock: impl AsFd) -> io::Result<Shm<A>> {
        let sock = sock.as_fd();
        let mut raw: *mut sys::ipcshm_t = std::ptr::null_mut();
        // SAFETY: a socket borrowed for the call and a valid out-pointer.
        check(unsafe { sys::ipcshm_recv(sock.as_raw_fd(), self.attach_flags(), &mut raw) })?;
        // SAFETY: a fresh handle, owned by nobody else.
        unsafe { Shm::from_raw(raw) }
    }
}

impl ShmOptions<ReadWrite> {
    /// Creates the object `id` holding a zeroed array of `T` with dimensions
    /// `dims` (column-major: the first dimension varies fastest, as in Julia;
    /// 1..=65535 dimensions, each may be 0), in the "WA-1" layout of
    /// InterProcessCommunication.jl's `WrappedArray`, so that Julia, C, Python
    /// and other Rust processes read it (libipcshm 1.1,
    /// `ipcshm_array_create`). Read the elements with [`Shm::array`] /
    /// [`Shm::array_mut`]. Permissions, lifetime and mapping flags as for
    /// [`create`](Self::create).
    ///
    /// Only read-write options have this method: the header has to be written.
    ///
    /// ```
    /// let mut shm = ipcshm::ShmOptions::new().create_array::<f64>("memfd:doc", &[3, 2])?;
    /// let mut a = shm.array_mut::<f64>()?;
    /// assert_eq!(a.dims(), &[3, 2]);
    /// *a.get_mut(&[2, 1]).unwrap() = 6.0; // the last element, column-major
    /// assert_eq!(a[5], 6.0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn create_array<T: Element>(&self, id: &str, dims: &[usize]) -> io::Result<Shm> {
        self.create_array_with::<T>(id, dims, 0).map(|(shm, _)| shm)
    }

    /// Attaches the array `id` if it exists, belongs to the caller's user and
    /// has the same element type and dimensions (else `AlreadyExists`);
    /// otherwise creates it. The `bool` is `true` when it was created.
    pub fn open_or_create_array<T: Element>(
        &self,
        id: &str,
        dims: &[usize],
    ) -> io::Result<(Shm, bool)> {
        self.create_array_with::<T>(id, dims, sys::IPCSHM_OPEN_OR_CREATE)
    }

    fn create_array_with<T: Element>(
        &self,
        id: &str,
        dims: &[usize],
        extra: u32,
    ) -> io::Result<(Shm, bool)> {
        let cid = c_id(id)?;
        let bad = |what: String| -> io::Error { Error::new(EINVAL, what).into() };
        let cdims = dims
            .iter()
            .map(|&d| i64::try_from(d))
            .collect::<Result<Vec<i64>, _>>()
            .map_err(|_| {
                bad(format!(
                    "array {:?}: a dimension of {:?} exceeds i64",
                    id, dims
                ))
            })?;
        let ndims = u32::try_from(dims.len())
            .map_err(|_| bad(format!("array {:?}: {} dimensions", id, dims.len())))?;
        let mut raw: *mut sys::ipcshm_t = std::ptr::null_mut();
        // SAFETY: a NUL-terminated id, `ndims` dimensions, a valid out-pointer.
        let rc = check(unsafe {
            sys::ipcshm_array_create(
                cid.as_ptr(),
                T::ETYPE.code(),
                ndims,
                cdims.as_ptr(),
                self.perms,
                self.flags | extra,
                &mut raw,
            )
        })?;
        // SAFETY: a fresh read-write handle, owned by nobody else.
        let shm = unsafe { Shm::from_raw(raw)? };
        Ok((shm, rc == 1))
    }
}

// ---------------------------------------------------------------------------
// Shm

/// One mapping of one shared memory object; `Drop` detaches it. A volatile
/// object (the default) is destroyed when its last user, in any process,
/// detaches or dies; a persistent one stays until [`Shm::remove`].
///
/// `Shm` is `Shm<ReadWrite>`; read-only mappings are [`Shm<ReadOnly>`].
///
/// # Memory shared with other processes
///
/// [`as_slice`](Self::as_slice) gives `&[u8]` and
/// [`as_mut_slice`](Self::as_mut_slice) (read-write only, taking `&mut self`)
/// gives `&mut [u8]`. Within this process and this handle the borrow checker
/// makes those borrows sound, as for any buffer. But the bytes are also those of
/// every other mapping of the object: in other processes, and in other `Shm`
/// handles of the same object in this process. Neither Rust nor this crate can
/// see those. While a slice is borrowed, **the user must ensure, by the protocol
/// between the processes, that**
///
/// - no other mapping writes the bytes while an `as_slice` borrow lives, and
/// - no other mapping reads or writes them while an `as_mut_slice` borrow lives.
///
/// Typical protocols: one side writes, then tells the other over a pipe, a
/// socket, a semaphore or by exiting, and only then does the other side read;
/// or a lock in the shared memory guards the data. Breaking the rule is a data
/// race: the compiler may assume the borrowed bytes do not change, so reads can
/// be torn, stale or inconsistent with each other.
///
/// For memory that others modify *while* you look at it (lock-free flags,
/// counters, ring buffers), do not form slices: use [`as_ptr`](Self::as_ptr) /
/// [`as_mut_ptr`](Shm::as_mut_ptr) with `std::ptr::read_volatile` /
/// `write_volatile`, or view aligned words as `std::sync::atomic::AtomicU32`/
/// `AtomicU64`, which work across processes on one machine.
///
/// Why the slice accessors are still safe functions: the mapping itself (its
/// address, length and lifetime) is fully under this type's control — it cannot
/// be unmapped while a slice borrows it, and its length is the object's — and
/// the remaining hazard, writers outside the process, exists for every shared
/// mapping and cannot be excluded by any API. Like other shared-memory and
/// mmap crates, this one offers the slices and documents the contract rather
/// than making every access `unsafe` (which `shared_memory`'s `as_slice` does)
/// or every constructor `unsafe` (which `memmap2` does); the common pattern
/// "write, then signal; wait, then read" needs nothing else.
///
/// # Threads
///
/// `Shm` is `Send` and `Sync`: the library's handles may be used from several
/// threads at once and detached from any thread (ipcshm.h, rule 3), the methods
/// taking `&self` only read (the memory, the cached id, or the object's
/// metadata through the library), and writing through a slice needs `&mut self`.
pub struct Shm<A: Access = ReadWrite> {
    raw: NonNull<sys::ipcshm_t>,
    ptr: NonNull<u8>,
    len: usize,
    id: String,
    access: PhantomData<A>,
}

// SAFETY: see "Threads" above. The handle is a validated, thread-safe library
// object; the memory is plain bytes; &self methods do not write; &mut self is
// required to write through a slice.
unsafe impl<A: Access> Send for Shm<A> {}
unsafe impl<A: Access> Sync for Shm<A> {}

impl Shm<ReadWrite> {
    /// Creates the object `id` of `size` bytes with the defaults (permissions
    /// 0600, volatile, exclusive, read-write). See [`ShmOptions`] for the rest.
    ///
    /// `id` is `"/name"` (POSIX; a name ending in `XXXXXX` is a template filled
    /// with random characters, see [`id`](Self::id)), `"key:0x1234"` (System V by
    /// key), `"private"` (a fresh System V segment) or `"memfd:label"` (an
    /// anonymous object, libipcshm 1.1: it has no name; other processes get it
    /// as a descriptor through [`send`](Shm::send) / [`recv`](Self::recv) or
    /// [`fd`](Shm::fd) / [`from_fd`](Self::from_fd). It is always new and
    /// volatile: `persistent` and `open_or_create` are `InvalidInput` for it).
    pub fn create(id: &str, size: usize) -> io::Result<Shm> {
        ShmOptions::new().create(id, size)
    }

    /// Creates the array `id` of `T` with the defaults; see
    /// [`ShmOptions::create_array`].
    pub fn create_array<T: Element>(id: &str, dims: &[usize]) -> io::Result<Shm> {
        ShmOptions::new().create_array::<T>(id, dims)
    }

    /// Maps the object open as `fd`, read-write; see [`ShmOptions::attach_fd`].
    pub fn from_fd(fd: impl AsFd) -> io::Result<Shm> {
        ShmOptions::new().attach_fd(fd)
    }

    /// Maps the object open as `fd`, read-only; see [`ShmOptions::attach_fd`].
    pub fn from_fd_readonly(fd: impl AsFd) -> io::Result<Shm<ReadOnly>> {
        ShmOptions::new().readonly().attach_fd(fd)
    }

    /// Receives an object sent by [`send`](Shm::send) and maps it read-write;
    /// see [`ShmOptions::recv`] (and `ShmOptions::new().readonly().recv(..)`
    /// for read-only objects).
    pub fn recv(sock: impl AsFd) -> io::Result<Shm> {
        ShmOptions::new().recv(sock)
    }

    /// Attaches the existing object `id` read-write.
    pub fn attach(id: &str) -> io::Result<Shm> {
        ShmOptions::new().attach(id)
    }

    /// Attaches the existing object `id` read-only (needs only read permission).
    pub fn attach_readonly(id: &str) -> io::Result<Shm<ReadOnly>> {
        ShmOptions::new().readonly().attach(id)
    }

    /// Removes the name of an object (`shm_unlink`; System V: `IPC_RMID`). Users
    /// that have it mapped keep their memory. An object already gone is `Ok`.
    pub fn remove(id: &str) -> io::Result<()> {
        let cid = c_id(id)?;
        // SAFETY: a NUL-terminated id.
        check(unsafe { sys::ipcshm_remove(cid.as_ptr()) }).map(|_| ())
    }

    /// Sets the permission bits of `id` to `perms | 0o600`. Only the owner (or
    /// root) may.
    pub fn chmod(id: &str, perms: u32) -> io::Result<()> {
        let cid = c_id(id)?;
        // SAFETY: a NUL-terminated id.
        check(unsafe { sys::ipcshm_chmod(cid.as_ptr(), perms) }).map(|_| ())
    }

    /// Information about the object `id` (needs only read permission).
    pub fn info_of(id: &str) -> io::Result<Info> {
        let cid = c_id(id)?;
        let mut info = sys::ipcshm_info_t::new();
        // SAFETY: a NUL-terminated id; info is a valid ipcshm_info_t with its size.
        check(unsafe { sys::ipcshm_info(cid.as_ptr(), &mut info) })?;
        Ok(Info::from(info))
    }

    /// The memory, writable. See "Memory shared with other processes" above for
    /// what other processes must not do while the borrow lives.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: the mapping is `len` bytes, readable and writable, and stays
        // mapped for the borrow of self; &mut self excludes other borrows of this
        // handle (other mappings: the documented contract).
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    /// The address of the mapping, for writing through raw pointers (volatile
    /// or atomic accesses shared with other processes). Invalid after
    /// [`resize`](Self::resize).
    pub fn as_mut_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Changes the size of a POSIX or memfd object to `size` bytes (≥ 1) and
    /// maps it anew (libipcshm 1.1, `ipcshm_resize`). The mapping may move:
    /// that is why this takes `&mut self`, so that no slice or array view of
    /// the old mapping can outlive the call. Grown memory reads as zeros;
    /// `reserve`, `locked` and `prefault` given at create or attach apply to
    /// it. The new length may be larger than asked (huge pages round up): see
    /// [`len`](Shm::len).
    ///
    /// Other processes see the new size when they attach; their mappings keep
    /// their old length, and bytes they map beyond a shrunken end fault
    /// (SIGBUS). So shrink only what nobody else maps: no other process, and
    /// no other `Shm` in this one. A memfd object cannot shrink, nor grow once
    /// sealed with `F_SEAL_GROW` (`PermissionDenied`); System V segments cannot
    /// be resized (`EOPNOTSUPP`). On failure the mapping is unchanged.
    pub fn resize(&mut self, size: usize) -> io::Result<()> {
        // SAFETY: our handle; &mut self: no borrow of the mapping is alive.
        let rc = unsafe { sys::ipcshm_resize(self.raw.as_ptr(), size as u64) };
        // Read the address and length back whatever the result: a resize that
        // moved the mapping can still report a later failure (prefault).
        self.refresh();
        check(rc).map(|_| ())
    }

    fn refresh(&mut self) {
        // SAFETY: our live handle.
        let (ptr, size) = unsafe {
            (
                sys::ipcshm_pointer(self.raw.as_ptr()) as *mut u8,
                sys::ipcshm_size(self.raw.as_ptr()),
            )
        };
        match (NonNull::new(ptr), usize::try_from(size)) {
            (Some(p), Ok(len)) if len <= isize::MAX as usize => {
                self.ptr = p;
                self.len = len;
            }
            // Not expected from the library; keep the invariant that (ptr,
            // len) describe memory we may access: none.
            _ => {
                self.ptr = NonNull::dangling();
                self.len = 0;
            }
        }
    }

    /// The array of `T` in this object, writable; see [`Shm::array`] for what
    /// is checked. Takes `&mut self`, as [`as_mut_slice`](Self::as_mut_slice)
    /// does.
    pub fn array_mut<T: Element>(&mut self) -> io::Result<ArrayViewMut<'_, T>> {
        let (data, len, dims) = self.typed_array::<T>()?;
        // SAFETY: typed_array checked that `len` elements of T from `data` lie
        // in our read-write mapping, aligned; &mut self excludes other borrows
        // of it (other mappings: the documented contract); every bit pattern
        // is a valid T (Element is sealed to such types).
        let data = unsafe { std::slice::from_raw_parts_mut(data as *mut T, len) };
        Ok(ArrayViewMut { data, dims })
    }
}

impl<A: Access> Shm<A> {
    /// Takes ownership of a handle from `ipcshm-sys`; `Drop` detaches it. On
    /// error, the handle is detached.
    ///
    /// # Safety
    /// `raw` is a live handle that nothing else detaches or uses after this
    /// call, and its mapping is read-write if `A` is [`ReadWrite`].
    pub unsafe fn from_raw(raw: *mut sys::ipcshm_t) -> io::Result<Shm<A>> {
        let raw = NonNull::new(raw)
            .ok_or_else(|| io::Error::from(Error::new(22, "from_raw: the handle is NULL")))?;
        let ptr = sys::ipcshm_pointer(raw.as_ptr()) as *mut u8;
        let size = sys::ipcshm_size(raw.as_ptr());
        let idp = sys::ipcshm_id(raw.as_ptr());
        let fail = |errno: i32, what: &str| -> io::Error {
            sys::ipcshm_detach(raw.as_ptr());
            Error::new(errno, what.to_string()).into()
        };
        let ptr = match NonNull::new(ptr) {
            Some(p) if !idp.is_null() && size > 0 => p,
            _ => return Err(fail(9 /* EBADF */, "not a live ipcshm handle")),
        };
        let len = match usize::try_from(size) {
            Ok(len) if len <= isize::MAX as usize => len,
            _ => {
                return Err(fail(
                    27, /* EFBIG */
                    "the mapping exceeds the address space",
                ));
            }
        };
        // ids given from Rust are UTF-8, and the library's canonical forms
        // ("/name" with random letters, "shmid:N") are ASCII.
        let id = CStr::from_ptr(idp).to_string_lossy().into_owned();
        Ok(Shm {
            raw,
            ptr,
            len,
            id,
            access: PhantomData,
        })
    }

    /// The canonical id (`"/name"`, `"shmid:N"` or `"memfd:label"`). The first
    /// two attach the same object from another process: a template's
    /// filled-in name, the `shmid:N` of a `"private"` or `"key:…"` segment. A
    /// memfd object travels as a descriptor instead ([`send`](Self::send),
    /// [`fd`](Self::fd)).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The size of the mapping in bytes (System V: as the kernel keeps it).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always `false`: objects have at least one byte.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the mapping is read-only (`Shm<ReadOnly>`).
    pub fn is_readonly(&self) -> bool {
        A::FLAGS & sys::IPCSHM_READONLY != 0
    }

    /// The address of the mapping.
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    /// The memory. See "Memory shared with other processes" above for what other
    /// processes must not do while the borrow lives.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: the mapping is `len` readable bytes and stays mapped for the
        // borrow of self; writes through this handle need &mut self (writes
        // through other mappings: the documented contract).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// Information about the object this handle maps.
    pub fn info(&self) -> io::Result<Info> {
        let mut info = sys::ipcshm_info_t::new();
        // SAFETY: a live handle; info is a valid ipcshm_info_t with its size.
        check(unsafe { sys::ipcshm_handle_info(self.raw.as_ptr(), &mut info) })?;
        Ok(Info::from(info))
    }

    /// A new descriptor of the object (libipcshm 1.1, `ipcshm_fd`):
    /// close-on-exec, read-only if this mapping is, owned by the caller (closed
    /// when the `OwnedFd` drops). Give it to another process (over a socket, or
    /// across exec) to map the object there with [`Shm::from_fd`]. POSIX and
    /// memfd objects only (System V: `EOPNOTSUPP`; pass the `shmid:N` id).
    ///
    /// memfd objects are sealed against shrinking; to freeze the size, or to
    /// keep receivers from writing, before giving it away, add `F_SEAL_GROW` /
    /// `F_SEAL_FUTURE_WRITE` with `fcntl(F_ADD_SEALS)` on this descriptor.
    pub fn fd(&self) -> io::Result<OwnedFd> {
        // SAFETY: our live handle.
        let fd = check(unsafe { sys::ipcshm_fd(self.raw.as_ptr()) })?;
        // SAFETY: a new descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// Sends the object over the connected UNIX-domain socket `sock` (stream,
    /// seqpacket or datagram; e.g. `&UnixStream`) as a descriptor (SCM_RIGHTS)
    /// in one small message, for [`Shm::recv`] / [`ShmOptions::recv`] at the
    /// other end (libipcshm 1.1, `ipcshm_send`). This `Shm` stays mapped.
    /// POSIX and memfd objects only (System V: `EOPNOTSUPP`).
    pub fn send(&self, sock: impl AsFd) -> io::Result<()> {
        let sock = sock.as_fd();
        // SAFETY: our live handle and a socket borrowed for the call.
        check(unsafe { sys::ipcshm_send(sock.as_raw_fd(), self.raw.as_ptr()) }).map(|_| ())
    }

    /// The array header of the object, whatever its element type (libipcshm
    /// 1.1, `ipcshm_array_header`), for objects whose type is not known in
    /// advance. Not an array, or a corrupt header: `InvalidData`.
    pub fn array_header(&self) -> io::Result<ArrayHeader> {
        let (etype, dims, offset) = self.read_array_header()?;
        Ok(ArrayHeader {
            etype,
            dims,
            offset,
        })
    }

    /// The array of `T` in this object (libipcshm 1.1): its dimensions
    /// (column-major) and its elements, in place (no copy).
    ///
    /// The header is read once through `ipcshm_array_header` (which copies it
    /// out of the shared memory and checks magic, element type, dimensions,
    /// offset and size), then checked again here: `T`'s code must be the
    /// header's element type, and the elements must lie within this mapping,
    /// aligned for `T`. Otherwise `InvalidData` (errno `EBADMSG`), with a
    /// message naming the object and both types.
    ///
    /// The elements are shared memory, under the same contract as
    /// [`as_slice`](Self::as_slice).
    ///
    /// ```
    /// let shm = ipcshm::Shm::create_array::<i32>("memfd:doc", &[4])?;
    /// assert_eq!(shm.array::<i32>()?.as_slice(), &[0, 0, 0, 0]);
    /// let err = shm.array::<f32>().unwrap_err(); // the header says Int32
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn array<T: Element>(&self) -> io::Result<ArrayView<'_, T>> {
        let (data, len, dims) = self.typed_array::<T>()?;
        // SAFETY: typed_array checked that `len` elements of T from `data` lie
        // in our mapping, aligned; the mapping lives as long as the borrow of
        // self; every bit pattern is a valid T (Element is sealed).
        let data = unsafe { std::slice::from_raw_parts(data as *const T, len) };
        Ok(ArrayView { data, dims })
    }

    /// (element type, dimensions, offset) from one copy of the header: the
    /// offset comes from the same copy as the dimensions (a second read, such
    /// as `ipcshm_array_data`, could see a header rewritten meanwhile).
    fn read_array_header(&self) -> io::Result<(ElementType, Vec<usize>, usize)> {
        let mut cdims = vec![0i64; 8];
        let mut tries = 0;
        let (code, ndims, offset) = loop {
            let (mut code, mut ndims, mut offset) = (0u32, 0u32, 0u64);
            // SAFETY: our live handle; valid out-pointers; `cdims` has room for
            // the `maxdims` we give.
            let rc = unsafe {
                sys::ipcshm_array_header(
                    self.raw.as_ptr(),
                    &mut code,
                    &mut ndims,
                    cdims.as_mut_ptr(),
                    cdims.len() as u32,
                    &mut offset,
                )
            };
            tries += 1;
            // -ERANGE: more dimensions than room, and *ndims tells how many. (A
            // header rewritten meanwhile could ask again: a few tries only.)
            if rc == -ERANGE && ndims as usize > cdims.len() && tries < 4 {
                cdims.resize(ndims as usize, 0);
                continue;
            }
            check(rc)?;
            break (code, ndims as usize, offset);
        };
        let invalid = |what: String| -> io::Error {
            Error::new(EBADMSG, format!("array header of {:?}: {}", self.id, what)).into()
        };
        let etype = ElementType::from_code(code)
            .ok_or_else(|| invalid(format!("unknown element type {}", code)))?;
        if ndims == 0 || ndims > cdims.len() {
            return Err(invalid(format!("{} dimensions", ndims)));
        }
        let dims = cdims[..ndims]
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<Result<Vec<usize>, _>>()
            .map_err(|_| invalid(format!("dimensions {:?}", &cdims[..ndims])))?;
        let offset = usize::try_from(offset).map_err(|_| invalid(format!("offset {}", offset)))?;
        Ok((etype, dims, offset))
    }

    /// The address and element count of the array of `T`, checked to lie in
    /// this mapping and to be aligned; and its dimensions.
    fn typed_array<T: Element>(&self) -> io::Result<(*mut u8, usize, Vec<usize>)> {
        let (etype, dims, offset) = self.read_array_header()?;
        let invalid = |what: String| -> io::Error {
            Error::new(EBADMSG, format!("array {:?}: {}", self.id, what)).into()
        };
        if etype != T::ETYPE {
            return Err(invalid(format!(
                "holds {:?} elements (code {}), not {:?} ({}, code {})",
                etype,
                etype.code(),
                T::ETYPE,
                std::any::type_name::<T>(),
                T::ETYPE.code()
            )));
        }
        let len = dims
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or_else(|| invalid(format!("dimensions {:?} overflow", dims)))?;
        len.checked_mul(std::mem::size_of::<T>())
            .and_then(|bytes| bytes.checked_add(offset))
            .filter(|&end| end <= self.len)
            .ok_or_else(|| {
                invalid(format!(
                    "{} elements at offset {} exceed the mapping's {} bytes",
                    len, offset, self.len
                ))
            })?;
        // offset + len * size <= self.len: within the mapping (an empty array
        // may start at its end).
        let data = self.ptr.as_ptr().wrapping_add(offset);
        if data as usize % std::mem::align_of::<T>() != 0 {
            return Err(invalid(format!(
                "offset {} is not aligned for {}",
                offset,
                std::any::type_name::<T>()
            )));
        }
        Ok((data, len, dims))
    }

    /// The library's handle, for calls through [`sys`]. It stays owned by this
    /// `Shm`: do not detach it.
    pub fn as_raw(&self) -> *mut sys::ipcshm_t {
        self.raw.as_ptr()
    }

    /// Detaches now and reports the library's result (`Drop` ignores it).
    pub fn detach(self) -> io::Result<()> {
        let mut this = std::mem::ManuallyDrop::new(self);
        drop(std::mem::take(&mut this.id));
        // SAFETY: the handle is ours, and this is its last use: Drop does not run.
        check(unsafe { sys::ipcshm_detach(this.raw.as_ptr()) }).map(|_| ())
    }
}

impl<A: Access> Drop for Shm<A> {
    fn drop(&mut self) {
        // SAFETY: the handle is ours and this is its last use. An error cannot be
        // reported from Drop; Shm::detach reports it.
        unsafe {
            sys::ipcshm_detach(self.raw.as_ptr());
        }
    }
}

impl<A: Access> fmt::Debug for Shm<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shm")
            .field("id", &self.id)
            .field("len", &self.len)
            .field("readonly", &self.is_readonly())
            .field("ptr", &self.ptr)
            .finish()
    }
}

impl<A: Access> AsRef<[u8]> for Shm<A> {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsMut<[u8]> for Shm<ReadWrite> {
    fn as_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

// ---------------------------------------------------------------------------
// Info

/// The kind of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// POSIX named object (`shm_open`).
    Posix,
    /// System V segment.
    SysV,
    /// Anonymous memfd object.
    Memfd,
    /// A kind this version of the crate does not know.
    Other(u32),
}

/// What the library tells of an object ([`Shm::info`], [`Shm::info_of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Info {
    /// POSIX, System V, ...
    pub kind: Kind,
    /// Size in bytes (System V: shm_segsz).
    pub size: u64,
    /// System V attach count; POSIX: 0.
    pub nattch: u64,
    /// System V: last attach; POSIX: st_atime (seconds since the epoch).
    pub atime: i64,
    /// System V: last detach; POSIX: st_mtime.
    pub dtime: i64,
    /// Last change.
    pub ctime: i64,
    /// Permission bits (0o777).
    pub mode: u32,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Creator user id (POSIX: the owner).
    pub cuid: u32,
    /// Creator group id (POSIX: the owner's).
    pub cgid: u32,
    /// System V creator pid; `None` for POSIX.
    pub cpid: Option<i32>,
    /// System V pid of the last shmat/shmdt; `None` for POSIX.
    pub lpid: Option<i32>,
    /// System V key (0 once removed or private); 0 for POSIX.
    pub key: i32,
    /// System V identifier; `None` for POSIX.
    pub shmid: Option<i32>,
    /// Whether the object is known to be persistent (not volatile).
    pub persistent: bool,
    /// Whether the object is a memfd in huge pages (libipcshm 1.1).
    pub hugepages: bool,
}

impl From<sys::ipcshm_info_t> for Info {
    fn from(i: sys::ipcshm_info_t) -> Info {
        let some = |v: i32| if v < 0 { None } else { Some(v) };
        Info {
            kind: match i.kind {
                sys::IPCSHM_KIND_POSIX => Kind::Posix,
                sys::IPCSHM_KIND_SYSV => Kind::SysV,
                sys::IPCSHM_KIND_MEMFD => Kind::Memfd,
                other => Kind::Other(other),
            },
            size: i.size,
            nattch: i.nattch,
            atime: i.atime,
            dtime: i.dtime,
            ctime: i.ctime,
            mode: i.mode,
            uid: i.uid,
            gid: i.gid,
            cuid: i.cuid,
            cgid: i.cgid,
            cpid: some(i.cpid),
            lpid: some(i.lpid),
            key: i.key,
            shmid: some(i.shmid),
            persistent: i.flags & sys::IPCSHM_PERSISTENT != 0,
            hugepages: i.flags & sys::IPCSHM_HUGEPAGES != 0,
        }
    }
}

// ---------------------------------------------------------------------------
// Typed arrays (libipcshm 1.1)

/// The element type of an array, as the "WA-1" header codes it
/// (`IPCSHM_INT8` = 1 .. `IPCSHM_COMPLEX128` = 12; Julia's `Int8` ..
/// `ComplexF64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElementType {
    /// `i8`, code 1.
    Int8,
    /// `u8`, code 2.
    UInt8,
    /// `i16`, code 3.
    Int16,
    /// `u16`, code 4.
    UInt16,
    /// `i32`, code 5.
    Int32,
    /// `u32`, code 6.
    UInt32,
    /// `i64`, code 7.
    Int64,
    /// `u64`, code 8.
    UInt64,
    /// `f32`, code 9.
    Float32,
    /// `f64`, code 10.
    Float64,
    /// Two `f32` (re, im), 8 bytes: [`Complex<f32>`] or `[f32; 2]`, code 11.
    Complex64,
    /// Two `f64` (re, im), 16 bytes: [`Complex<f64>`] or `[f64; 2]`, code 12.
    Complex128,
}

impl ElementType {
    const ALL: [ElementType; 12] = [
        ElementType::Int8,
        ElementType::UInt8,
        ElementType::Int16,
        ElementType::UInt16,
        ElementType::Int32,
        ElementType::UInt32,
        ElementType::Int64,
        ElementType::UInt64,
        ElementType::Float32,
        ElementType::Float64,
        ElementType::Complex64,
        ElementType::Complex128,
    ];

    /// The header's code (`sys::IPCSHM_INT8` ..).
    pub const fn code(self) -> u32 {
        match self {
            ElementType::Int8 => sys::IPCSHM_INT8,
            ElementType::UInt8 => sys::IPCSHM_UINT8,
            ElementType::Int16 => sys::IPCSHM_INT16,
            ElementType::UInt16 => sys::IPCSHM_UINT16,
            ElementType::Int32 => sys::IPCSHM_INT32,
            ElementType::UInt32 => sys::IPCSHM_UINT32,
            ElementType::Int64 => sys::IPCSHM_INT64,
            ElementType::UInt64 => sys::IPCSHM_UINT64,
            ElementType::Float32 => sys::IPCSHM_FLOAT32,
            ElementType::Float64 => sys::IPCSHM_FLOAT64,
            ElementType::Complex64 => sys::IPCSHM_COMPLEX64,
            ElementType::Complex128 => sys::IPCSHM_COMPLEX128,
        }
    }

    /// The type of a header code; `None` for a code this crate does not know.
    pub fn from_code(code: u32) -> Option<ElementType> {
        ElementType::ALL.iter().copied().find(|t| t.code() == code)
    }

    /// The size of one element in bytes.
    pub const fn size(self) -> usize {
        match self {
            ElementType::Int8 | ElementType::UInt8 => 1,
            ElementType::Int16 | ElementType::UInt16 => 2,
            ElementType::Int32 | ElementType::UInt32 | ElementType::Float32 => 4,
            ElementType::Int64
            | ElementType::UInt64
            | ElementType::Float64
            | ElementType::Complex64 => 8,
            ElementType::Complex128 => 16,
        }
    }
}

/// A complex number as arrays store it: real part, then imaginary part
/// (`#[repr(C)]`, the layout of C's `float complex` / Julia's `ComplexF32` for
/// `Complex<f32>`, and of `double complex` / `ComplexF64` for `Complex<f64>`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Complex<T> {
    /// The real part.
    pub re: T,
    /// The imaginary part.
    pub im: T,
}

impl<T> Complex<T> {
    /// `re + im·i`.
    pub const fn new(re: T, im: T) -> Complex<T> {
        Complex { re, im }
    }
}

mod sealed_element {
    pub trait Sealed {}
}

/// A type that array elements can have: the integers `i8`..`u64`, `f32`,
/// `f64`, and [`Complex<f32>`] / [`Complex<f64>`] (or `[f32; 2]` / `[f64; 2]`).
/// Each maps to one [`ElementType`] code.
///
/// Sealed: every bit pattern must be a valid value, since the bytes come from
/// other processes, and the size and alignment must be those of the code; the
/// crate implements it for exactly those types.
pub trait Element: Copy + Send + Sync + 'static + sealed_element::Sealed {
    /// The element type of the header.
    const ETYPE: ElementType;
}

macro_rules! element {
    ($($t:ty => $e:ident),* $(,)?) => {$(
        impl sealed_element::Sealed for $t {}
        impl Element for $t {
            const ETYPE: ElementType = ElementType::$e;
        }
    )*};
}

element! {
    i8 => Int8, u8 => UInt8, i16 => Int16, u16 => UInt16,
    i32 => Int32, u32 => UInt32, i64 => Int64, u64 => UInt64,
    f32 => Float32, f64 => Float64,
    Complex<f32> => Complex64, Complex<f64> => Complex128,
    [f32; 2] => Complex64, [f64; 2] => Complex128,
}

/// The header of an array, whatever its element type ([`Shm::array_header`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArrayHeader {
    /// The element type.
    pub etype: ElementType,
    /// The dimensions, column-major (the first varies fastest).
    pub dims: Vec<usize>,
    /// Where the elements start, in bytes from the start of the object.
    pub offset: usize,
}

impl ArrayHeader {
    /// The number of elements (the product of the dimensions).
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    /// Whether the array has no element (a dimension is 0).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The position in the elements of a column-major multi-index, if in bounds.
fn column_major(dims: &[usize], index: &[usize]) -> Option<usize> {
    if index.len() != dims.len() {
        return None;
    }
    let mut pos = 0usize;
    for (&i, &d) in index.iter().zip(dims).rev() {
        if i >= d {
            return None;
        }
        pos = pos * d + i;
    }
    Some(pos)
}

/// An array in shared memory, read in place ([`Shm::array`]): its dimensions
/// and its elements, column-major. Derefs to `[T]`; [`get`](Self::get) takes a
/// multi-index. Borrows the `Shm`, so the mapping cannot go away (or move, by
/// [`Shm::resize`]) while the view lives.
#[derive(Debug)]
pub struct ArrayView<'a, T> {
    data: &'a [T],
    dims: Vec<usize>,
}

impl<'a, T: Element> ArrayView<'a, T> {
    /// The dimensions, column-major (the first varies fastest).
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The elements, in memory order.
    pub fn as_slice(&self) -> &'a [T] {
        self.data
    }

    /// The element at a multi-index `[i, j, ...]` (as many as dimensions, each
    /// in bounds), or `None`.
    pub fn get(&self, index: &[usize]) -> Option<&'a T> {
        column_major(&self.dims, index).map(|pos| &self.data[pos])
    }
}

impl<'a, T: Element> Deref for ArrayView<'a, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.data
    }
}

/// An array in shared memory, writable in place ([`Shm::array_mut`]). Derefs
/// to `[T]` and `mut [T]`.
#[derive(Debug)]
pub struct ArrayViewMut<'a, T> {
    data: &'a mut [T],
    dims: Vec<usize>,
}

impl<'a, T: Element> ArrayViewMut<'a, T> {
    /// The dimensions, column-major (the first varies fastest).
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The elements, in memory order.
    pub fn as_slice(&self) -> &[T] {
        self.data
    }

    /// The elements, writable.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        self.data
    }

    /// The element at a multi-index `[i, j, ...]`, or `None`.
    pub fn get(&self, index: &[usize]) -> Option<&T> {
        column_major(&self.dims, index).map(|pos| &self.data[pos])
    }

    /// The element at a multi-index `[i, j, ...]`, writable, or `None`.
    pub fn get_mut(&mut self, index: &[usize]) -> Option<&mut T> {
        column_major(&self.dims, index).map(move |pos| &mut self.data[pos])
    }
}

impl<'a, T: Element> Deref for ArrayViewMut<'a, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.data
    }
}

impl<'a, T: Element> DerefMut for ArrayViewMut<'a, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.data
    }
}

// ---------------------------------------------------------------------------
// Library

/// The size of a memory page in bytes.
pub fn page_size() -> usize {
    // SAFETY: no arguments.
    unsafe { sys::ipcshm_page_size() as usize }
}

/// The version `(major, minor, patch)` of the libipcshm that is loaded.
pub fn library_version() -> (u32, u32, u32) {
    // SAFETY: no arguments.
    let v = unsafe { sys::ipcshm_version() };
    (v >> 16, (v >> 8) & 0xff, v & 0xff)
}

#[cfg(test)]
mod array_tests {
    use super::*;

    #[test]
    fn codes_sizes_and_layouts_agree() {
        for (i, t) in ElementType::ALL.iter().enumerate() {
            assert_eq!(t.code(), i as u32 + 1);
            assert_eq!(ElementType::from_code(t.code()), Some(*t));
        }
        assert_eq!(ElementType::from_code(0), None);
        assert_eq!(ElementType::from_code(13), None);
        fn size<T: Element>() {
            assert_eq!(std::mem::size_of::<T>(), T::ETYPE.size());
            assert!(
                std::mem::align_of::<T>() <= 64,
                "elements start at 64-byte offsets"
            );
        }
        size::<i8>();
        size::<u8>();
        size::<i16>();
        size::<u16>();
        size::<i32>();
        size::<u32>();
        size::<i64>();
        size::<u64>();
        size::<f32>();
        size::<f64>();
        size::<Complex<f32>>();
        size::<Complex<f64>>();
        size::<[f32; 2]>();
        size::<[f64; 2]>();
    }

    #[test]
    fn column_major_indexing() {
        let dims = [3, 2, 4];
        assert_eq!(column_major(&dims, &[0, 0, 0]), Some(0));
        assert_eq!(column_major(&dims, &[1, 0, 0]), Some(1));
        assert_eq!(column_major(&dims, &[0, 1, 0]), Some(3));
        assert_eq!(column_major(&dims, &[0, 0, 1]), Some(6));
        assert_eq!(column_major(&dims, &[2, 1, 3]), Some(23));
        assert_eq!(column_major(&dims, &[3, 0, 0]), None);
        assert_eq!(column_major(&dims, &[0, 0]), None);
        assert_eq!(column_major(&[0], &[0]), None);
    }
}
