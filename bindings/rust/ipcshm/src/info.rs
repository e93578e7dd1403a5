//! Objects by id: `Info` and `Kind`, what the library tells of an object, and
//! the functions that act on an object by its id (`remove`, `chmod`, `info_of`).

use crate::error::{c_id, check};
use crate::{sys, Access, Shm};
use std::io;

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

/// What the library tells of an object ([`Shm::info`], [`info_of`]).
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

/// Removes the name of an object (`shm_unlink`; System V: `IPC_RMID`), as
/// `std::fs::remove_file` removes a file's. Users that have it mapped keep
/// their memory (a volatile object goes with its last one). An object already
/// gone is `Ok`, as InterProcessCommunication.jl's `shmrm`.
///
/// ```
/// let id = format!("/ipcshm-doc-remove-{}", std::process::id());
/// let shm = ipcshm::ShmOptions::new().persistent(true).create(&id, 64)?;
/// ipcshm::remove(&id)?;
/// assert_eq!(ipcshm::info_of(&id).unwrap_err().kind(), std::io::ErrorKind::NotFound);
/// shm.write_at(0, b"still mapped")?;
/// ipcshm::remove(&id)?; // already gone: Ok
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn remove(id: &str) -> io::Result<()> {
    let cid = c_id(id)?;
    // SAFETY: a NUL-terminated id.
    check(unsafe { sys::ipcshm_remove(cid.as_ptr()) }).map(|_| ())
}

/// Sets the permission bits of the object `id` to `perms | 0o600` (System V:
/// `IPC_SET`; POSIX: `fchmod`, keeping the volatile mark). Only the owner (or
/// root) may.
pub fn chmod(id: &str, perms: u32) -> io::Result<()> {
    let cid = c_id(id)?;
    // SAFETY: a NUL-terminated id.
    check(unsafe { sys::ipcshm_chmod(cid.as_ptr(), perms) }).map(|_| ())
}

/// Information about the object `id` (needs only read permission), as
/// `std::fs::metadata` for a path; [`Shm::info`] for a mapping.
pub fn info_of(id: &str) -> io::Result<Info> {
    let cid = c_id(id)?;
    let mut info = sys::ipcshm_info_t::new();
    // SAFETY: a NUL-terminated id; info is a valid ipcshm_info_t with its size.
    check(unsafe { sys::ipcshm_info(cid.as_ptr(), &mut info) })?;
    Ok(Info::from(info))
}

/// The functions of libipcshm 1.1's crate, now free functions.
impl Shm {
    /// Removes the name of an object; see [`remove`](crate::remove).
    #[deprecated(since = "1.2.0", note = "use the free function ipcshm::remove")]
    pub fn remove(id: &str) -> io::Result<()> {
        remove(id)
    }

    /// Sets the permission bits of `id`; see [`chmod`](crate::chmod).
    #[deprecated(since = "1.2.0", note = "use the free function ipcshm::chmod")]
    pub fn chmod(id: &str, perms: u32) -> io::Result<()> {
        chmod(id, perms)
    }

    /// Information about the object `id`; see [`info_of`](crate::info_of).
    #[deprecated(since = "1.2.0", note = "use the free function ipcshm::info_of")]
    pub fn info_of(id: &str) -> io::Result<Info> {
        info_of(id)
    }
}

impl<A: Access> Shm<A> {
    /// Information about the object this handle maps.
    pub fn info(&self) -> io::Result<Info> {
        let mut info = sys::ipcshm_info_t::new();
        // SAFETY: a live handle; info is a valid ipcshm_info_t with its size.
        check(unsafe { sys::ipcshm_handle_info(self.raw.as_ptr(), &mut info) })?;
        Ok(Info::from(info))
    }
}
