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

/// A mapping that can be written: [`Shm::as_mut_slice`](crate::Shm::as_mut_slice) exists.
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
