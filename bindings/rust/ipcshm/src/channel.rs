//! Channels (libipcshm 1.2, `ipcshm_channel_*`): `Sender` and `Receiver`, the
//! two ends of a bounded first-in first-out queue of messages in a POSIX or
//! memfd object, and `Messages`, a receiver's iterator. Creating one is in
//! channel_options.rs, what the library tells of one in channel_info.rs, the
//! handle under both ends in channel_end.rs, the zero-copy guards in
//! channel_slot.rs.

use crate::channel_end::End;
use crate::channel_slot::{Slot, SlotMut};
use crate::error::{Error, EINVAL, EMSGSIZE};
use crate::primitive::{no_result, retry, taken};
use crate::{sys, Access, ChannelInfo, ChannelOptions, Shm};
use std::fmt;
use std::io;
use std::os::raw::c_void;
use std::os::unix::io::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::ptr::{self, NonNull};
use std::time::Duration;

/// The length of a received message as usize (the library never gives more
/// than the slot size, which fits in u32).
fn msg_len(len: u64) -> usize {
    usize::try_from(len).unwrap_or(usize::MAX)
}

/// The sending end of a channel (libipcshm 1.2, SPEC §9): it copies messages
/// in ([`send`](Self::send)) or writes them in place
/// ([`reserve`](Self::reserve)); at most one live `Sender` per channel
/// (another one is `EBUSY` while it lives), in any process or language.
///
/// ```
/// use ipcshm::{ChannelOptions, Receiver, Sender};
/// # let id = format!("/ipcshm-doc-sender-{}", std::process::id());
/// let mut tx = ChannelOptions::new(256, 8).create_sender(&id)?;
/// let mut rx = Receiver::open(&id)?; // usually another process
/// tx.send(b"hello")?;
/// let mut slot = tx.reserve()?; // zero-copy: written in the channel
/// slot.write_at(0, b"world")?;
/// slot.commit_written()?;
/// drop(tx); // the receiver gets what was sent, then BrokenPipe
/// let got: Vec<Vec<u8>> = rx.iter().collect::<Result<_, _>>()?;
/// assert_eq!(got, [b"hello".to_vec(), b"world".to_vec()]);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// Calls that wait (while every slot is full) come in three forms: `send`
/// waits for ever, `try_send` never waits, `send_timeout` waits up to a
/// `Duration` (`None`: for ever); the last two say `Ok(false)` (`Ok(None)`)
/// when the time ran out. A signal handler that runs while one sleeps does
/// not end it: the wait is resumed with what is left of the timeout. Once the
/// receiver closed or died (after having opened), sending is
/// [`BrokenPipe`](io::ErrorKind::BrokenPipe) and nothing is sent.
///
/// # Threads
///
/// `Sender` is `Send` but not `Sync`: the library lets any thread use an end,
/// one at a time (ipcshm.h, channels rule 7). Every call takes `&mut self`,
/// so a reserved slot ([`SlotMut`]) borrows the end and no other call can
/// happen on it meanwhile.
///
/// ```compile_fail,E0277
/// fn shared<T: Sync>(_: &T) {}
/// let tx = ipcshm::Sender::create("memfd:doc", 8, 1)?;
/// shared(&tx); // error[E0277]: cannot be shared between threads safely
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Sender(pub(crate) End);

/// The receiving end of a channel (libipcshm 1.2, SPEC §9): it copies
/// messages out ([`recv`](Self::recv), [`recv_vec`](Self::recv_vec),
/// [`iter`](Self::iter)) or reads them in place ([`peek`](Self::peek)); at
/// most one live `Receiver` per channel. Once the sender closed or died and
/// every committed message was received, receiving is
/// [`BrokenPipe`](io::ErrorKind::BrokenPipe) (the iterator ends there).
/// Waiting, timeouts and threads as for [`Sender`].
///
/// ```compile_fail,E0277
/// fn shared<T: Sync>(_: &T) {}
/// let rx = ipcshm::Receiver::create("memfd:doc", 8, 1)?;
/// shared(&rx); // error[E0277]: cannot be shared between threads safely
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Receiver(pub(crate) End);

/// The methods both ends have.
macro_rules! end_methods {
    ($role:expr) => {
        /// Opens this role of the channel `"/name"` (read and write
        /// permission needed). `NotFound` if it does not exist (or all its
        /// ends died: the name is then removed); `EBUSY` if a live end holds
        /// the role; `InvalidData` if the object is not a channel. A
        /// `"memfd:…"` id has no name: `InvalidInput` (see `from_fd`).
        pub fn open(id: &str) -> io::Result<Self> {
            End::by_id(id, $role).map(Self)
        }

        /// Opens this role of the channel in the POSIX or memfd object open
        /// as `fd`: from [`object_fd`](Self::object_fd) of the other end,
        /// inherited, or received over a socket. `fd` is only borrowed; the
        /// end keeps the object open.
        pub fn from_fd(fd: impl AsFd) -> io::Result<Self> {
            End::by_fd(fd.as_fd(), $role).map(Self)
        }

        /// Opens this role of the channel whose object `shm` maps (e.g. a
        /// [`Shm::recv`] of what the other end's
        /// [`send_channel`](Self::send_channel) sent). `shm` may be dropped
        /// afterwards: the end keeps the object.
        pub fn from_shm<A: Access>(shm: &Shm<A>) -> io::Result<Self> {
            End::by_shm(shm, $role).map(Self)
        }

        /// Receives a channel that the other end sent with
        /// [`send_channel`](Self::send_channel) over the UNIX-domain socket
        /// `sock`, and opens this role of it: how a memfd channel reaches
        /// another process.
        pub fn recv_channel(sock: impl AsFd) -> io::Result<Self> {
            let shm = Shm::recv(sock)?;
            Self::from_shm(&shm)
        }

        /// Sends the channel's object over the connected UNIX-domain socket
        /// `sock` as a descriptor (`ipcshm_send`), for
        /// [`recv_channel`](Self::recv_channel) (or `ipcshm_recv` and
        /// `ipcshm_channel_open_fd` in C) at the other end.
        pub fn send_channel(&self, sock: impl AsFd) -> io::Result<()> {
            self.0.send_channel(sock.as_fd())
        }

        /// A new descriptor of the channel's object (close-on-exec): give it
        /// to a process that opens the other role with `from_fd`.
        pub fn object_fd(&self) -> io::Result<OwnedFd> {
            self.0.object_fd()
        }

        /// The channel's id: `"/name"` (a template's name filled in) or
        /// `"memfd:label"`.
        pub fn id(&self) -> &str {
            &self.0.id
        }

        /// The longest message, in bytes.
        pub fn slot_size(&self) -> usize {
            self.0.slot_size
        }

        /// How many messages the channel holds at most.
        pub fn slot_count(&self) -> usize {
            self.0.slot_count
        }

        /// `true` if this end created the channel, `false` if it opened an
        /// existing one (`open`, `from_fd`, or
        /// [`open_or_create`](ChannelOptions::open_or_create) finding one).
        pub fn created(&self) -> bool {
            self.0.created
        }

        /// What the library tells of the channel now: the peer's state, the
        /// counters (this end's own role is [`EndState::Open`](crate::EndState::Open)).
        pub fn info(&self) -> io::Result<ChannelInfo> {
            self.0.info()
        }

        /// A new descriptor (non-blocking, close-on-exec) that becomes
        /// readable when this end can make progress without waiting: a
        /// message to receive, a slot free to send, or the peer gone (the
        /// call then fails with `BrokenPipe`). When it is readable, read its
        /// 8 bytes (a hint), then call the `try_` forms until they say there
        /// is nothing more, and wait again. A helper thread of the library
        /// watches the channel while it is open, and makes the peer's
        /// messages cost a system call each: make one only to poll. Channels
        /// in huge pages: `EOPNOTSUPP`. [`AsRawFd`] gives one that lives as
        /// long as the end.
        pub fn fd(&self) -> io::Result<OwnedFd> {
            self.0.fd()
        }

        /// The descriptor of [`fd`](Self::fd), made at the first call and
        /// kept (closed with the end): for `poll`, epoll or an event loop.
        pub fn poll_fd(&self) -> io::Result<BorrowedFd<'_>> {
            self.0.poll_fd()
        }

        /// Closes the end, reporting the library's error if any (dropping
        /// it closes it too). The role becomes vacant: the peer gets
        /// `BrokenPipe` once it has what was committed.
        pub fn close(self) -> io::Result<()> {
            self.0.close()
        }

        /// The library's handle, for `ipcshm-sys` calls. It stays owned by
        /// this end: do not close it.
        pub fn as_raw(&self) -> *mut sys::ipcshm_channel_t {
            self.0.as_ptr()
        }
    };
}

impl Sender {
    /// Creates the channel `id` with `slot_count` slots of `slot_size` bytes
    /// (permissions 0600, volatile, exclusive) and opens its sender; see
    /// [`ChannelOptions`] for the rest.
    pub fn create(id: &str, slot_size: usize, slot_count: usize) -> io::Result<Sender> {
        ChannelOptions::new(slot_size, slot_count).create_sender(id)
    }

    end_methods!(sys::IPCSHM_SENDER);

    /// Sends `msg` as one message, waiting while every slot is full. A
    /// message longer than [`slot_size`](Self::slot_size) is `InvalidInput`
    /// (`EMSGSIZE`); the receiver gone is `BrokenPipe`.
    pub fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        if self.send_timeout(msg, None)? {
            Ok(())
        } else {
            Err(no_result("ipcshm_channel_send"))
        }
    }

    /// Sends `msg` if a slot is free now: `Ok(false)` if none is.
    pub fn try_send(&mut self, msg: &[u8]) -> io::Result<bool> {
        self.send_timeout(msg, Some(Duration::ZERO))
    }

    /// Sends `msg`, waiting up to `timeout` for a free slot (`None`: for
    /// ever): `Ok(false)` if none came free in time.
    pub fn send_timeout(&mut self, msg: &[u8], timeout: Option<Duration>) -> io::Result<bool> {
        if self.0.pending {
            // A forgotten reservation holds the end: send through it.
            let id = self.0.id.clone();
            return match self.reserve_timeout(timeout)? {
                None => Ok(false),
                Some(mut slot) => {
                    if msg.len() > slot.capacity() {
                        let err = too_long(&id, msg.len(), slot.capacity());
                        slot.abandon();
                        return Err(err);
                    }
                    slot.write_at(0, msg)?;
                    slot.commit_written().map(|_| true)
                }
            };
        }
        let ch = self.0.as_ptr();
        let rc = retry(
            // SAFETY: our live end and msg.len() readable bytes.
            |t| unsafe {
                sys::ipcshm_channel_send(ch, msg.as_ptr() as *const c_void, msg.len() as u64, t)
            },
            timeout,
        );
        taken(rc)
    }

    /// Reserves the next free slot for a message written in place, waiting
    /// while there is none; see [`SlotMut`] for writing, committing, and
    /// what happens to a slot that is dropped or forgotten.
    pub fn reserve(&mut self) -> io::Result<SlotMut<'_>> {
        match self.reserve_timeout(None)? {
            Some(slot) => Ok(slot),
            None => Err(no_result("ipcshm_channel_reserve")),
        }
    }

    /// Reserves a slot if one is free now: `Ok(None)` if none is.
    pub fn try_reserve(&mut self) -> io::Result<Option<SlotMut<'_>>> {
        self.reserve_timeout(Some(Duration::ZERO))
    }

    /// Reserves a slot, waiting up to `timeout` (`None`: for ever):
    /// `Ok(None)` if none came free in time.
    pub fn reserve_timeout(
        &mut self,
        timeout: Option<Duration>,
    ) -> io::Result<Option<SlotMut<'_>>> {
        let ch = self.0.as_ptr();
        let mut slot: *mut c_void = ptr::null_mut();
        // SAFETY: our live end and a valid out-pointer.
        let rc = retry(
            |t| unsafe { sys::ipcshm_channel_reserve(ch, &mut slot, t) },
            timeout,
        );
        if !taken(rc)? {
            return Ok(None);
        }
        let ptr = NonNull::new(slot as *mut u8).ok_or_else(|| {
            io::Error::from(Error::new(EINVAL, "ipcshm_channel_reserve gave no slot"))
        })?;
        self.0.pending = true;
        // SAFETY: the library reserved `slot_size` bytes at ptr for this end,
        // inside the end's mapping, until commit or close.
        Ok(Some(unsafe { SlotMut::new(&mut self.0, ptr) }))
    }
}

pub(crate) fn too_long(id: &str, len: usize, cap: usize) -> io::Error {
    Error::new(
        EMSGSIZE,
        format!(
            "channel {:?}: a message of {} bytes does not fit its slots of {} bytes",
            id, len, cap
        ),
    )
    .into()
}

impl Receiver {
    /// Creates the channel `id` with `slot_count` slots of `slot_size` bytes
    /// (permissions 0600, volatile, exclusive) and opens its receiver; see
    /// [`ChannelOptions`] for the rest.
    pub fn create(id: &str, slot_size: usize, slot_count: usize) -> io::Result<Receiver> {
        ChannelOptions::new(slot_size, slot_count).create_receiver(id)
    }

    end_methods!(sys::IPCSHM_RECEIVER);

    /// Copies the next message into `buf` and returns its length, waiting
    /// while there is none. A message longer than `buf` stays in the channel
    /// and is `InvalidInput` (`EMSGSIZE`) whose [`Error::message_len`] is its
    /// length: call again with a buffer that long (or use
    /// [`recv_vec`](Self::recv_vec)). `BrokenPipe` once the channel is
    /// empty and the sender closed or died.
    pub fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.recv_timeout(buf, None)? {
            Some(n) => Ok(n),
            None => Err(no_result("ipcshm_channel_recv")),
        }
    }

    /// Receives a message into `buf` if one is there now: `Ok(None)` if
    /// none is.
    pub fn try_recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        self.recv_timeout(buf, Some(Duration::ZERO))
    }

    /// Receives a message into `buf`, waiting up to `timeout` (`None`: for
    /// ever): `Ok(None)` if none came in time.
    pub fn recv_timeout(
        &mut self,
        buf: &mut [u8],
        timeout: Option<Duration>,
    ) -> io::Result<Option<usize>> {
        if self.0.pending {
            // A forgotten peek holds the end: take that message through it.
            return match self.peek_timeout(timeout)? {
                None => Ok(None),
                Some(slot) => {
                    let n = slot.len();
                    if n > buf.len() {
                        let err = slot.too_small(buf.len());
                        slot.keep();
                        return Err(err);
                    }
                    slot.read_at(0, &mut buf[..n])?;
                    slot.release().map(|_| Some(n))
                }
            };
        }
        let ch = self.0.as_ptr();
        let mut len = 0u64;
        let cap = buf.len() as u64;
        let p = buf.as_mut_ptr() as *mut c_void;
        // SAFETY: our live end, cap writable bytes at p, a valid out-pointer.
        let rc = retry(
            |t| unsafe { sys::ipcshm_channel_recv(ch, p, cap, &mut len, t) },
            timeout,
        );
        if rc == -EMSGSIZE {
            return Err(Error::last(EMSGSIZE).with_message_len(msg_len(len)).into());
        }
        Ok(if taken(rc)? { Some(msg_len(len)) } else { None })
    }

    /// Receives the next message as a new `Vec` of its length, waiting while
    /// there is none (read in place, then released: one copy).
    pub fn recv_vec(&mut self) -> io::Result<Vec<u8>> {
        match self.recv_vec_timeout(None)? {
            Some(v) => Ok(v),
            None => Err(no_result("ipcshm_channel_peek")),
        }
    }

    /// Receives a message as a `Vec` if one is there now.
    pub fn try_recv_vec(&mut self) -> io::Result<Option<Vec<u8>>> {
        self.recv_vec_timeout(Some(Duration::ZERO))
    }

    /// Receives a message as a `Vec`, waiting up to `timeout`.
    pub fn recv_vec_timeout(&mut self, timeout: Option<Duration>) -> io::Result<Option<Vec<u8>>> {
        match self.peek_timeout(timeout)? {
            None => Ok(None),
            Some(slot) => {
                let v = slot.to_vec();
                slot.release().map(|_| Some(v))
            }
        }
    }

    /// The next message, in place in its slot, waiting while there is none;
    /// see [`Slot`] for reading it and what happens when it drops.
    pub fn peek(&mut self) -> io::Result<Slot<'_>> {
        match self.peek_timeout(None)? {
            Some(slot) => Ok(slot),
            None => Err(no_result("ipcshm_channel_peek")),
        }
    }

    /// The next message in place if one is there now.
    pub fn try_peek(&mut self) -> io::Result<Option<Slot<'_>>> {
        self.peek_timeout(Some(Duration::ZERO))
    }

    /// The next message in place, waiting up to `timeout` (`None`: for ever).
    pub fn peek_timeout(&mut self, timeout: Option<Duration>) -> io::Result<Option<Slot<'_>>> {
        let ch = self.0.as_ptr();
        let mut msg: *const c_void = ptr::null();
        let mut len = 0u64;
        // SAFETY: our live end and valid out-pointers.
        let rc = retry(
            |t| unsafe { sys::ipcshm_channel_peek(ch, &mut msg, &mut len, t) },
            timeout,
        );
        if !taken(rc)? {
            return Ok(None);
        }
        let len = msg_len(len);
        let ptr = NonNull::new(msg as *mut u8).ok_or_else(|| {
            io::Error::from(Error::new(EINVAL, "ipcshm_channel_peek gave no message"))
        })?;
        if len > self.0.slot_size {
            // Never from the library (it checks lengths against slot_size).
            return Err(Error::new(
                crate::error::EBADMSG,
                format!("channel {:?}: a message longer than a slot", self.0.id),
            )
            .into());
        }
        self.0.pending = true;
        // SAFETY: the library gave the message's `len` bytes at ptr, inside
        // the end's mapping, until release or close.
        Ok(Some(unsafe { Slot::new(&mut self.0, ptr, len) }))
    }

    /// An iterator over the messages (as `Vec`s), waiting for each, that
    /// ends when the sender closed or died and every committed message was
    /// received (`BrokenPipe`). Any other error is yielded once, and ends it.
    pub fn iter(&mut self) -> Messages<'_> {
        Messages {
            rx: self,
            done: false,
        }
    }
}

/// The messages of a [`Receiver`] until its sender is gone
/// ([`Receiver::iter`]).
pub struct Messages<'a> {
    rx: &'a mut Receiver,
    done: bool,
}

impl Iterator for Messages<'_> {
    type Item = io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<io::Result<Vec<u8>>> {
        if self.done {
            return None;
        }
        match self.rx.recv_vec() {
            Ok(v) => Some(Ok(v)),
            Err(e) => {
                self.done = true;
                if e.kind() == io::ErrorKind::BrokenPipe {
                    None
                } else {
                    Some(Err(e))
                }
            }
        }
    }
}

impl std::iter::FusedIterator for Messages<'_> {}

impl<'a> IntoIterator for &'a mut Receiver {
    type Item = io::Result<Vec<u8>>;
    type IntoIter = Messages<'a>;

    fn into_iter(self) -> Messages<'a> {
        self.iter()
    }
}

/// # Panics
/// If the library cannot make the descriptor (see [`Sender::poll_fd`], which
/// reports the error instead).
impl AsRawFd for Sender {
    fn as_raw_fd(&self) -> RawFd {
        match self.0.poll_fd() {
            Ok(fd) => fd.as_raw_fd(),
            Err(e) => panic!("Sender::as_raw_fd: {}", e),
        }
    }
}

/// # Panics
/// If the library cannot make the descriptor (see [`Receiver::poll_fd`],
/// which reports the error instead).
impl AsRawFd for Receiver {
    fn as_raw_fd(&self) -> RawFd {
        match self.0.poll_fd() {
            Ok(fd) => fd.as_raw_fd(),
            Err(e) => panic!("Receiver::as_raw_fd: {}", e),
        }
    }
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("id", &self.0.id)
            .field("slot_size", &self.0.slot_size)
            .field("slot_count", &self.0.slot_count)
            .finish()
    }
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("id", &self.0.id)
            .field("slot_size", &self.0.slot_size)
            .field("slot_count", &self.0.slot_count)
            .finish()
    }
}
