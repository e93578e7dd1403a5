#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
// Written for Rust 1.63 (Debian 12's rustc), edition 2021, std only.
//
// One module per concern; every public item is re-exported here, so paths are
// `ipcshm::Shm`, `ipcshm::ShmOptions`, ... whatever file holds them:
//
//   error.rs        Error, errno(): the library's errno and message as io::Error
//   access.rs       ReadWrite, ReadOnly: the access mode type parameter
//   options.rs      ShmOptions: create, open_or_create, attach
//   shm.rs          Shm: one mapping, its lifetime, resize, raw accessors
//   info.rs         Info, Kind; remove, chmod, info_of (objects by id)
//   descriptors.rs  fd, from_fd, attach_fd; send, recv over UNIX sockets
//   array.rs        typed arrays: ElementType, Element, Complex, headers, views

/// The raw declarations this crate is built on (`ipcshm-sys`).
pub use ipcshm_sys as sys;

mod access;
mod array;
mod descriptors;
mod error;
mod info;
mod options;
mod shm;

pub use access::{Access, ReadOnly, ReadWrite};
pub use array::{ArrayHeader, ArrayView, ArrayViewMut, Complex, Element, ElementType};
pub use error::{errno, Error};
pub use info::{Info, Kind};
pub use options::ShmOptions;
pub use shm::Shm;

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
