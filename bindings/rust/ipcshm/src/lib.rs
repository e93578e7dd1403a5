#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
// Written for Rust 1.63 (Debian 12's rustc), edition 2021, std only.

use std::ffi::{CStr, CString};
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::os::raw::c_int;
use std::ptr::NonNull;

/// The raw declarations this crate is built on (`ipcshm-sys`).
pub use ipcshm_sys as sys;

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

    /// The [`io::ErrorKind`] of the errno, as std maps it.
    pub fn kind(&self) -> io::ErrorKind {
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
    CString::new(id).map_err(|_| {
        Error::new(
            22, /* EINVAL */
            format!("id {:?} contains a NUL byte", id),
        )
        .into()
    })
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
    /// `persistent`, `reserve` and `perms` concern creation and are ignored.
    pub fn attach(&self, id: &str) -> io::Result<Shm<A>> {
        let cid = c_id(id)?;
        let flags = (self.flags | A::FLAGS) & !(sys::IPCSHM_PERSISTENT | sys::IPCSHM_RESERVE);
        let mut raw: *mut sys::ipcshm_t = std::ptr::null_mut();
        // SAFETY: a NUL-terminated id and a valid out-pointer.
        check(unsafe { sys::ipcshm_attach(cid.as_ptr(), flags, &mut raw) })?;
        // SAFETY: a fresh handle, owned by nobody else.
        unsafe { Shm::from_raw(raw) }
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
    /// key) or `"private"` (a fresh System V segment).
    pub fn create(id: &str, size: usize) -> io::Result<Shm> {
        ShmOptions::new().create(id, size)
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
    /// or atomic accesses shared with other processes).
    pub fn as_mut_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
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

    /// The canonical id (`"/name"` or `"shmid:N"`) that attaches the same object
    /// from another process: a template's filled-in name, the `shmid:N` of a
    /// `"private"` or `"key:…"` segment.
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
        }
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
