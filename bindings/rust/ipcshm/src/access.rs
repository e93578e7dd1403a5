//! Access modes of a mapping: `ReadWrite` and `ReadOnly`, a type parameter of
//! `Shm` and `ShmOptions`.

use crate::sys;

mod sealed {
    pub trait Sealed {}
}

/// The access mode of a mapping, [`ReadWrite`] or [`ReadOnly`], as a type
/// parameter of [`Shm`](crate::Shm) and [`ShmOptions`](crate::ShmOptions). Sealed.
pub trait Access: sealed::Sealed {
    /// The library flags of this mode.
    const FLAGS: u32;
}

/// A mapping that can be written: [`Shm::write_at`](crate::Shm::write_at),
/// the atomic views ([`Shm::atomic_u32`](crate::Shm::atomic_u32), ...),
/// [`TypedArray::set`](crate::TypedArray::set), [`Shm::resize`](crate::Shm::resize)
/// exist.
#[derive(Debug)]
pub enum ReadWrite {}

/// A read-only mapping (`IPCSHM_READONLY`; needs only read permission). The
/// memory is mapped without write permission, and `Shm<ReadOnly>` has none
/// of the writers (`write_at`, the atomic views, `as_mut_slice`, a typed
/// array's `set`, `resize`): writing is a compile-time error, not a fault
/// at run time. It reads with [`Shm::read_at`](crate::Shm::read_at),
/// [`Shm::load_u32`](crate::Shm::load_u32), ...
///
/// ```
/// # let id = format!("/ipcshm-doc-ro-{}", std::process::id());
/// # let _rw = ipcshm::Shm::create(&id, 64)?;
/// let ro = ipcshm::Shm::attach_readonly(&id)?;
/// assert_eq!(ro.read_vec(0, 4)?, [0, 0, 0, 0]);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// ```compile_fail,E0599
/// # let id = format!("/ipcshm-doc-ro-{}", std::process::id());
/// # let _rw = ipcshm::Shm::create(&id, 64)?;
/// let ro = ipcshm::Shm::attach_readonly(&id)?;
/// ro.write_at(0, b"x")?; // no method `write_at` for Shm<ReadOnly>
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// ```compile_fail,E0599
/// # let id = format!("/ipcshm-doc-ro-{}", std::process::id());
/// # let _rw = ipcshm::Shm::create(&id, 64)?;
/// let ro = ipcshm::Shm::attach_readonly(&id)?;
/// ro.atomic_u8()[0].store(1, std::sync::atomic::Ordering::Relaxed); // no method
/// # Ok::<(), std::io::Error>(())
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
