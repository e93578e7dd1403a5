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
//   shm.rs          Shm: one mapping, its lifetime, resize; unsafe slices
//   memory.rs       safe access to the shared bytes: copies, atomic views
//   info.rs         Info, Kind; remove, chmod, info_of (objects by id)
//   descriptors.rs  fd, from_fd, attach_fd; send, recv over UNIX sockets
//   array.rs        typed arrays: ElementType, Element, Complex, headers
//   typed_array.rs  TypedArray: safe access to an array's elements, by copy
//   array_view.rs   ArrayView, ArrayViewMut: unsafe slices of the elements
//   primitive.rs    signalling (1.2): a primitive's place, timeouts, EINTR;
//                   Shm::wait_u32, Shm::wake_u32
//   event.rs        Event
//   semaphore.rs    Semaphore
//   mutex.rs        Mutex, MutexGuard, LockError, OwnerDead
//   channel.rs      channels (1.2): the ends Sender and Receiver, Messages
//   channel_options.rs  ChannelOptions: how to create a channel
//   channel_info.rs ChannelInfo, EndState, channel_info: what the library
//                   tells of a channel
//   channel_end.rs  the handle under both ends (crate-private)
//   channel_slot.rs their zero-copy guards SlotMut and Slot, and why their
//                   safe accessors copy
//
// A new concern gets a file of its own and a line here. Types that live in shared memory follow memory.rs: safe methods
// never form a Rust reference to bytes that other mappings write, only
// atomics and copies; anything else is an `unsafe fn` with a `# Safety` section.

/// The raw declarations this crate is built on (`ipcshm-sys`).
pub use ipcshm_sys as sys;

mod access;
mod array;
mod array_view;
mod channel;
mod channel_end;
mod channel_info;
mod channel_options;
mod channel_slot;
mod descriptors;
mod error;
mod event;
mod info;
mod memory;
mod mutex;
mod options;
mod primitive;
mod semaphore;
mod shm;
mod typed_array;

pub use access::{Access, ReadOnly, ReadWrite};
pub use array::{ArrayHeader, Complex, Element, ElementType};
pub use array_view::{ArrayView, ArrayViewMut};
pub use channel::{Messages, Receiver, Sender};
pub use channel_info::{channel_info, ChannelInfo, EndState};
pub use channel_options::ChannelOptions;
pub use channel_slot::{Slot, SlotMut};
pub use error::{errno, Error};
pub use event::Event;
pub use info::{chmod, info_of, remove, Info, Kind};
pub use mutex::{LockError, Mutex, MutexGuard, OwnerDead};
pub use options::ShmOptions;
pub use semaphore::Semaphore;
pub use shm::Shm;
pub use typed_array::TypedArray;

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
