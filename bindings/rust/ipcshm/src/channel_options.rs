//! `ChannelOptions`: how to create a channel (slot size and count, permissions, lifetime).

use crate::channel::{Receiver, Sender};
use crate::channel_end::End;
use crate::error::{c_id, Error, EINVAL};
use crate::sys;
use std::io;

/// How to create a channel: the size and number of its slots, permissions
/// and lifetime. Then [`create_sender`](Self::create_sender) or
/// [`create_receiver`](Self::create_receiver) makes it and opens the end of
/// that role; the peer opens the other one ([`Receiver::open`],
/// [`Receiver::from_fd`], ...).
///
/// ```
/// use ipcshm::ChannelOptions;
/// # let id = format!("/ipcshm-doc-chopts-{}", std::process::id());
/// // 16 messages of up to 4 KiB each, readable and writable by the group too.
/// let tx = ChannelOptions::new(4096, 16).perms(0o660).create_sender(&id)?;
/// assert_eq!((tx.slot_size(), tx.slot_count()), (4096, 16));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ChannelOptions {
    slot_size: usize,
    slot_count: usize,
    perms: u32,
    flags: u32,
}

impl ChannelOptions {
    /// A channel of `slot_count` (1 to 2^30) slots of `slot_size` (at least 1)
    /// bytes: it holds `slot_count` messages of up to `slot_size` bytes each.
    /// The defaults: permissions 0600, volatile (gone when both ends closed),
    /// exclusive (the id must not exist). Out of range: `InvalidInput` when
    /// creating.
    pub fn new(slot_size: usize, slot_count: usize) -> ChannelOptions {
        ChannelOptions {
            slot_size,
            slot_count,
            perms: 0o600,
            flags: 0,
        }
    }

    fn flag(mut self, flag: u32, on: bool) -> Self {
        if on {
            self.flags |= flag;
        } else {
            self.flags &= !flag;
        }
        self
    }

    /// Permission bits of a new object (default 0o600). A peer needs read and
    /// write permission to open an end.
    pub fn perms(mut self, perms: u32) -> Self {
        self.perms = perms;
        self
    }

    /// Keep the channel, and the messages in it, until [`crate::remove`]
    /// (default: volatile, gone once both ends closed or died).
    pub fn persistent(self, on: bool) -> Self {
        self.flag(sys::IPCSHM_PERSISTENT, on)
    }

    /// Open the role in an existing channel of the caller's with the same
    /// slot size and count (else `AlreadyExists`) instead of failing;
    /// [`Sender::created`] / [`Receiver::created`] tell which happened.
    pub fn open_or_create(self, on: bool) -> Self {
        self.flag(sys::IPCSHM_OPEN_OR_CREATE, on)
    }

    /// Populate the pages at once.
    pub fn prefault(self, on: bool) -> Self {
        self.flag(sys::IPCSHM_PREFAULT, on)
    }

    /// Keep the pages in RAM (mlock).
    pub fn locked(self, on: bool) -> Self {
        self.flag(sys::IPCSHM_LOCKED, on)
    }

    /// Huge pages (see [`ShmOptions::hugepages`](crate::ShmOptions::hugepages));
    /// such a channel has no poll descriptor ([`Sender::fd`]: `EOPNOTSUPP`).
    pub fn hugepages(self, on: bool) -> Self {
        self.flag(sys::IPCSHM_HUGEPAGES, on)
    }

    /// POSIX: reserve the backing store now (fallocate).
    pub fn reserve(self, on: bool) -> Self {
        self.flag(sys::IPCSHM_RESERVE, on)
    }

    /// Creates the channel `id` (`"/name"`, `"/nameXXXXXX"`, or
    /// `"memfd:label"`; System V ids are `Unsupported`) and opens its sender.
    pub fn create_sender(&self, id: &str) -> io::Result<Sender> {
        self.create(id, sys::IPCSHM_SENDER).map(Sender)
    }

    /// Creates the channel `id` and opens its receiver; as
    /// [`create_sender`](Self::create_sender).
    pub fn create_receiver(&self, id: &str) -> io::Result<Receiver> {
        self.create(id, sys::IPCSHM_RECEIVER).map(Receiver)
    }

    fn create(&self, id: &str, role: u32) -> io::Result<End> {
        let size = u32_arg(self.slot_size, "slot size", id)?;
        let count = u32_arg(self.slot_count, "slot count", id)?;
        let cid = c_id(id)?;
        let mut created = false;
        End::open(role, |out| {
            // SAFETY: a C string and a valid out-pointer for the call.
            let rc = unsafe {
                sys::ipcshm_channel_create(
                    cid.as_ptr(),
                    size,
                    count,
                    self.perms,
                    self.flags,
                    role,
                    out,
                )
            };
            created = rc == 1;
            rc
        })
        .map(|mut end| {
            end.created = created;
            end
        })
    }
}

fn u32_arg(value: usize, what: &str, id: &str) -> io::Result<u32> {
    u32::try_from(value).map_err(|_| {
        Error::new(
            EINVAL,
            format!("channel {:?}: a {} of {} is out of range", id, what, value),
        )
        .into()
    })
}
