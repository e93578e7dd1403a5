//! `Shm`: one mapping of one object, its lifetime (`Drop` detaches) and the
//! accessors that hand out its address and, unsafely, references to its bytes.

use crate::error::{check, Error};
use crate::{sys, Access, ReadOnly, ReadWrite, ShmOptions};
use std::ffi::CStr;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::ptr::NonNull;

/// One mapping of one shared memory object; `Drop` detaches it. A volatile
/// object (the default) is destroyed when its last user, in any process,
/// detaches or dies; a persistent one stays until [`remove`](crate::remove).
///
/// `Shm` is `Shm<ReadWrite>`; read-only mappings are [`Shm<ReadOnly>`].
///
/// # Memory shared with other processes
///
/// The bytes of a mapping are also those of every other mapping of the
/// object: in other processes, and in other `Shm` of the same object in this
/// process (attached again by id, [`from_fd`](Shm::from_fd),
/// [`recv`](Shm::recv), `open_or_create`). Rust cannot see those writers, so
/// the safe accessors never form a Rust reference to the shared bytes:
///
/// - [`read_at`](Self::read_at) / [`read_vec`](Self::read_vec) copy bytes
///   out and [`write_at`](Shm::write_at) copies them in, with atomic accesses
///   (8-byte words where aligned);
/// - [`atomic_u8`](Shm::atomic_u8), [`atomic_u32`](Shm::atomic_u32) and
///   [`atomic_u64`](Shm::atomic_u64) view a read-write mapping as atomics,
///   for flags, counters and lock-free protocols between processes;
///   [`load_u8`](Self::load_u8), [`load_u32`](Self::load_u32) and
///   [`load_u64`](Self::load_u64) read such words in every access mode;
/// - typed arrays are read and written element by element, by copy:
///   [`typed_array`](Self::typed_array) (`get`, `set`, `to_vec`, ...).
///
/// A concurrent writer can make a copy of several words inconsistent (torn),
/// never undefined: for consistent records, agree on a protocol (write, then
/// signal; a lock or a sequence number in the shared memory).
///
/// For speed, [`as_slice`](Self::as_slice), [`as_mut_slice`](Shm::as_mut_slice),
/// [`array`](Self::array) and [`array_mut`](Shm::array_mut) give plain slices
/// of the mapping. They are `unsafe`: the compiler assumes that the bytes
/// under a `&[u8]` do not change and that nothing else touches the bytes
/// under a `&mut [u8]`, and only the processes' protocol, which Rust cannot
/// check, can make that true. Their `# Safety` sections say what the caller
/// promises. For the same reason `Shm` is not `AsRef<[u8]>`:
///
/// ```
/// fn checksum(bytes: impl AsRef<[u8]>) -> u32 {
///     bytes.as_ref().iter().map(|&b| b as u32).sum()
/// }
/// let shm = ipcshm::Shm::create("memfd:doc", 64)?;
/// shm.write_at(0, &[1, 2, 3])?;
/// assert_eq!(checksum(shm.read_vec(0, 64)?), 6); // a copy
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// ```compile_fail,E0277
/// fn checksum(bytes: impl AsRef<[u8]>) -> u32 {
///     bytes.as_ref().iter().map(|&b| b as u32).sum()
/// }
/// let shm = ipcshm::Shm::create("memfd:doc", 64)?;
/// checksum(&shm); // the trait `AsRef<[u8]>` is not implemented for `Shm`
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// Two handles of one object in one process cannot give two `&mut [u8]` to
/// the same bytes in safe code any more:
///
/// ```compile_fail,E0133
/// let mut a = ipcshm::Shm::create("memfd:doc", 64)?;
/// let mut b = ipcshm::Shm::from_fd(a.fd()?)?;
/// let (x, y) = (a.as_mut_slice(), b.as_mut_slice()); // error[E0133]
/// x[0] = 1;
/// y[0] = 2;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// while copies and atomics through both are defined:
///
/// ```
/// use std::sync::atomic::Ordering;
/// let a = ipcshm::Shm::create("memfd:doc", 64)?;
/// let b = ipcshm::Shm::from_fd(a.fd()?)?;
/// a.write_at(0, &[1])?;
/// b.write_at(0, &[2])?;
/// assert_eq!(a.read_vec(0, 1)?, [2]);
/// b.atomic_u32()[1].store(7, Ordering::Release);
/// assert_eq!(a.load_u32(1, Ordering::Acquire), Some(7));
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Truncation by others
///
/// A POSIX object can be shrunk by anyone allowed to write it: `ftruncate` on
/// a descriptor of it (such as the one [`fd`](Self::fd) returns) or on its
/// file in `/dev/shm`. Bytes of a mapping beyond the new end are gone: any
/// access to them, safe or not, kills the process with `SIGBUS`. The library
/// refuses to shrink, through [`resize`](Shm::resize), a volatile POSIX
/// object that other handles still hold (`EBUSY`), but it cannot stop a
/// persistent object being shrunk, nor `ftruncate` by another program: give
/// write access only to programs that keep to the size. memfd objects are
/// sealed against shrinking and System V segments cannot change size, so
/// both are immune.
///
/// # Threads
///
/// `Shm` is `Send` and `Sync`: the library's handles may be used from several
/// threads at once and detached from any thread (ipcshm.h, rule 3); every
/// access to the shared bytes through `&self` is atomic, and resizing or
/// detaching needs `&mut self` or `self`, so no other borrow outlives them.
pub struct Shm<A: Access = ReadWrite> {
    pub(crate) raw: NonNull<sys::ipcshm_t>,
    pub(crate) ptr: NonNull<u8>,
    pub(crate) len: usize,
    pub(crate) id: String,
    access: PhantomData<A>,
}

// SAFETY: see "Threads" above. The handle is a validated, thread-safe library
// object; the methods taking &self access the shared bytes atomically (the
// unsafe slice accessors leave exclusion to their caller's contract); moving
// or unmapping the mapping needs &mut self or self.
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
    ///
    /// Errors are `std::io::Error`s whose kind comes from the errno and whose
    /// message is the library's, naming the call and the object. Their
    /// [`raw_os_error()`](io::Error::raw_os_error) is `None` (it cannot be
    /// kept along with the message): [`ipcshm::errno`](crate::errno) gives
    /// the errno, of this crate's errors and of std's alike.
    ///
    /// ```
    /// # let id = format!("/ipcshm-doc-create-{}", std::process::id());
    /// let shm = ipcshm::Shm::create(&id, 4096)?;
    /// let err = ipcshm::Shm::create(&id, 4096).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    /// assert_eq!(err.raw_os_error(), None);
    /// assert_eq!(ipcshm::errno(&err), Some(17)); // EEXIST
    /// assert!(err.to_string().contains(&id));
    /// # Ok::<(), std::io::Error>(())
    /// ```
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

    /// The memory as a `&mut [u8]`, for code that needs a plain slice (speed,
    /// APIs taking slices). The safe alternatives, which never alias, are
    /// [`write_at`](Shm::write_at), [`read_at`](Shm::read_at) and the atomic
    /// views; see "Memory shared with other processes" above.
    ///
    /// # Safety
    ///
    /// For as long as the returned slice lives:
    ///
    /// - no other mapping of the object reads or writes the bytes: not
    ///   another `Shm` of it in this process, not a mapping in another
    ///   process (typically: the other side waits until this one signals
    ///   that it is done, or a lock in the shared memory is held);
    /// - the object is not truncated (see "Truncation by others" above).
    ///
    /// Breaking either is undefined behaviour: the compiler may keep values
    /// in registers, reorder or drop accesses, as for any `&mut`.
    ///
    /// ```
    /// let mut shm = ipcshm::Shm::create("memfd:doc", 64)?;
    /// // SAFETY: no other mapping of this new memfd object exists yet.
    /// let bytes = unsafe { shm.as_mut_slice() };
    /// bytes[..5].copy_from_slice(b"hello");
    /// assert_eq!(shm.read_vec(0, 5)?, b"hello");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// Without `unsafe`, it does not compile:
    ///
    /// ```compile_fail,E0133
    /// let mut shm = ipcshm::Shm::create("memfd:doc", 64)?;
    /// let bytes = shm.as_mut_slice(); // error[E0133]: call to unsafe function
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub unsafe fn as_mut_slice(&mut self) -> &mut [u8] {
        // The mapping is `len` bytes, readable and writable, and stays mapped
        // for the borrow of self; &mut self excludes every other access through
        // this handle; other mappings and truncation: the caller's contract.
        std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len)
    }

    /// The address of the mapping, for writing through raw pointers. Invalid
    /// after [`resize`](Self::resize).
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
    /// their old length. Shrinking takes bytes away from every other mapping
    /// of the object: beyond the new end, their accesses fault (`SIGBUS`). So
    /// the library refuses to shrink a volatile POSIX object that other
    /// handles still hold, here or in other processes (errno `EBUSY`:
    /// `ipcshm::errno(&err) == Some(16)`); shrink a persistent one only when
    /// nobody else maps it (see "Truncation by others" above). A memfd object
    /// cannot shrink, nor grow once sealed with `F_SEAL_GROW`
    /// (`PermissionDenied`); System V segments cannot be resized
    /// (`EOPNOTSUPP`). On failure the mapping is unchanged.
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

    /// The address of the mapping. Invalid after [`resize`](Shm::resize).
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    /// The memory as a `&[u8]`, for code that needs a plain slice. The safe
    /// alternatives are [`read_at`](Self::read_at) and
    /// [`read_vec`](Self::read_vec); see "Memory shared with other processes"
    /// above.
    ///
    /// # Safety
    ///
    /// For as long as the returned slice lives:
    ///
    /// - nothing writes the bytes: no other mapping of the object (another
    ///   `Shm` of it in this process, a mapping in another process), and not
    ///   this `Shm` through its safe writers, which take `&self`
    ///   ([`write_at`](Shm::write_at), the atomic views, a typed array's
    ///   `set`) from other threads;
    /// - the object is not truncated (see "Truncation by others" above).
    ///
    /// Otherwise the slice can read stale values that are no longer in memory
    /// (the compiler may load the bytes once and keep them), and a data race
    /// is undefined behaviour.
    ///
    /// ```
    /// # let id = format!("/ipcshm-doc-as-slice-{}", std::process::id());
    /// let shm = ipcshm::Shm::create(&id, 64)?;
    /// shm.write_at(0, b"done")?;
    /// let reader = ipcshm::Shm::attach_readonly(&id)?;
    /// // SAFETY: nothing writes the object while `bytes` lives: the only
    /// // writer, above, has finished, and no other process knows the name.
    /// let bytes = unsafe { reader.as_slice() };
    /// assert_eq!(&bytes[..4], b"done");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// ```compile_fail,E0133
    /// let shm = ipcshm::Shm::create("memfd:doc", 64)?;
    /// let bytes = shm.as_slice(); // error[E0133]: call to unsafe function
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub unsafe fn as_slice(&self) -> &[u8] {
        // The mapping is `len` readable bytes and stays mapped for the borrow
        // of self; writers and truncation: the caller's contract.
        std::slice::from_raw_parts(self.ptr.as_ptr(), self.len)
    }

    /// The library's handle, for calls through [`sys`]. It stays owned by this
    /// `Shm`, which caches the mapping's address and length: do not detach it
    /// (`ipcshm_detach`) and do not resize it (`ipcshm_resize`, which may move
    /// or shrink the mapping behind this `Shm`'s back; use
    /// [`resize`](Shm::resize)). Calls that only read (`ipcshm_handle_info`,
    /// `ipcshm_fd`, `ipcshm_send`, `ipcshm_array_header`, ...) are fine.
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
