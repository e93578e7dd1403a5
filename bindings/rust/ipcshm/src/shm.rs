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
    pub(crate) raw: NonNull<sys::ipcshm_t>,
    pub(crate) ptr: NonNull<u8>,
    pub(crate) len: usize,
    pub(crate) id: String,
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

    /// Attaches the existing object `id` read-write.
    pub fn attach(id: &str) -> io::Result<Shm> {
        ShmOptions::new().attach(id)
    }

    /// Attaches the existing object `id` read-only (needs only read permission).
    pub fn attach_readonly(id: &str) -> io::Result<Shm<ReadOnly>> {
        ShmOptions::new().readonly().attach(id)
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
