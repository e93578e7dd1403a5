//! `ChannelInfo`, `EndState` and `channel_info`: what the library tells of a channel.

use crate::error::{c_id, check};
use crate::{sys, Kind};
use std::io;

/// The state of a channel's role, as [`ChannelInfo`] tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EndState {
    /// No end ever took the role.
    Never,
    /// An end holds it.
    Open,
    /// Vacant: its last end closed.
    Closed,
    /// Vacant: its last end's process died holding it.
    Died,
    /// A state this version of the crate does not know.
    Other(u32),
}

impl From<u32> for EndState {
    fn from(v: u32) -> EndState {
        match v {
            sys::IPCSHM_END_NEVER => EndState::Never,
            sys::IPCSHM_END_OPEN => EndState::Open,
            sys::IPCSHM_END_CLOSED => EndState::Closed,
            sys::IPCSHM_END_DIED => EndState::Died,
            other => EndState::Other(other),
        }
    }
}

/// What the library tells of a channel ([`channel_info`], [`Sender::info`](crate::Sender::info),
/// [`Receiver::info`](crate::Receiver::info)): its shape, which ends are alive, and its counters (a
/// snapshot).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChannelInfo {
    /// [`Kind::Posix`] or [`Kind::Memfd`].
    pub kind: Kind,
    /// The longest message, in bytes.
    pub slot_size: usize,
    /// How many messages the channel holds at most.
    pub slot_count: usize,
    /// The sender's role.
    pub sender: EndState,
    /// The receiver's role.
    pub receiver: EndState,
    /// Messages committed and not yet released: what the receiver has still
    /// to take (`multiprocessing.Queue.qsize`).
    pub queued: u64,
    /// Messages committed since the channel was made.
    pub sent: u64,
    /// Messages released since the channel was made.
    pub received: u64,
}

impl From<sys::ipcshm_channel_info_t> for ChannelInfo {
    fn from(i: sys::ipcshm_channel_info_t) -> ChannelInfo {
        ChannelInfo {
            kind: match i.kind {
                sys::IPCSHM_KIND_POSIX => Kind::Posix,
                sys::IPCSHM_KIND_SYSV => Kind::SysV,
                sys::IPCSHM_KIND_MEMFD => Kind::Memfd,
                other => Kind::Other(other),
            },
            slot_size: i.slot_size as usize,
            slot_count: i.slot_count as usize,
            sender: i.sender.into(),
            receiver: i.receiver.into(),
            queued: i.queued,
            sent: i.sent,
            received: i.received,
        }
    }
}

/// What the library tells of the channel `"/name"` without opening an end
/// (read permission suffices; `ipcshm ls` shows the same). An object that is
/// not a channel is `InvalidData`; a missing one `NotFound`.
pub fn channel_info(id: &str) -> io::Result<ChannelInfo> {
    let cid = c_id(id)?;
    let mut info = sys::ipcshm_channel_info_t::new();
    // SAFETY: a C string and a struct whose struct_size is set.
    check(unsafe { sys::ipcshm_channel_info(cid.as_ptr(), &mut info) })?;
    Ok(info.into())
}
