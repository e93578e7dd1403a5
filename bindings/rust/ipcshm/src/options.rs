//! `ShmOptions`: how to create or attach an object (permissions, lifetime,
//! mapping flags, access mode).

use crate::error::{c_id, check};
use crate::{sys, Access, ReadOnly, ReadWrite, Shm};
use std::io;
use std::marker::PhantomData;

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
/// ipcshm::remove(&id)?; // persistent: stays until removed
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct ShmOptions<A: Access = ReadWrite> {
    pub(crate) perms: u32,
    pub(crate) flags: u32,
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

    /// Create: the object stays until [`remove`](crate::remove) (or reboot) instead of
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
    /// message says what to change. [`Info::hugepages`](crate::Info::hugepages) tells a memfd in huge
    /// pages.
    pub fn hugepages(self, on: bool) -> Self {
        self.flag(sys::IPCSHM_HUGEPAGES, on)
    }

    /// [`attach_fd`](Self::attach_fd) and [`recv`](Self::recv) (libipcshm
    /// 1.2): accept a memfd that is not sealed against shrinking
    /// (`F_SEAL_SHRINK`). Without it such a memfd is refused
    /// (`PermissionDenied`, `EPERM`): whoever else holds it can truncate it
    /// and make this mapping's bytes past the new end fault (SIGBUS), which no
    /// safe accessor of [`Shm`] can prevent. memfd objects made by libipcshm
    /// are always sealed; a memfd from elsewhere may not be. Ignored when
    /// creating, and for other objects.
    pub fn unsealed(self, on: bool) -> Self {
        self.flag(sys::IPCSHM_UNSEALED, on)
    }

    /// The flags that attaching takes: the access mode, `prefault`, `locked`,
    /// `unsealed`.
    pub(crate) fn attach_flags(&self) -> u32 {
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
                (self.flags | extra | A::FLAGS) & !sys::IPCSHM_UNSEALED,
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
}
