//! The zero-copy guards of a channel: `SlotMut`, a reserved slot that the
//! sender writes in place and commits, and `Slot`, a message that the
//! receiver reads in place and releases; what they do when dropped,
//! forgotten or unwound, and why their safe accessors copy.
//!
//! # Soundness
//!
//! A slot is memory of a shared object: the mapping of this end, and of every
//! other process (or other handle in this process) that maps the object. The
//! channel protocol gives exclusivity among honest peers: after a successful
//! reserve, the slot is this sender's until it commits (the receiver reads
//! nothing of it before), and after a peek the sender writes nothing of that
//! slot until the receiver releases it. But the library cannot stop a process
//! that may write the object (its permission bits, a descriptor given away)
//! from writing any byte at any time, nor this process from mapping the
//! object a second time (`Shm::attach` of the channel's id) and writing
//! through that mapping, in safe code. A `&[u8]` or `&mut [u8]` over the slot
//! would then be undefined behaviour reachable from safe code: the compiler
//! may assume the bytes do not change under a `&[u8]` (and read one twice,
//! after a bounds check, getting two values), or that nothing else sees
//! writes through a `&mut [u8]`.
//!
//! So, as the rest of the crate (memory.rs): the safe accessors of the guards
//! never form a reference to the slot's bytes. They copy with atomic loads
//! and stores (`read_at`, `to_vec`, `write_at`, `io::Write`), 8 bytes at a
//! time in the 64-byte aligned slot, or give atomic views (`&[AtomicU8]`,
//! `&[AtomicU64]`), which Rust defines whoever else writes the bytes. A
//! hostile writer can garble the message, never the receiver's memory
//! safety. The slices (`as_slice`, `as_mut_slice`) are `unsafe fn`s whose
//! contract is the honest-peer exclusivity above, for code that wants to hand
//! the slot to an API that takes slices.
//!
//! The slot stays mapped while its guard lives: the guard borrows the end
//! mutably, and only closing the end (by value or in its `Drop`) unmaps it.
//! A POSIX object shrunk under the mapping by someone with write permission
//! (`ftruncate`) makes any access to the lost pages, by the library too,
//! fault (`SIGBUS`): see "Truncation by others" in [`Shm`](crate::Shm).

use crate::channel::too_long;
use crate::channel_end::End;
use crate::error::{check, Error, EINVAL, EMSGSIZE};
use crate::memory::{load, store};
use crate::sys;
use std::fmt;
use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, AtomicU8};

/// A reserved slot of a [`Sender`](crate::Sender), written in place and then
/// sent by [`commit`](Self::commit) / [`commit_written`](Self::commit_written)
/// or by dropping it (zero-copy sending, `ipcshm_channel_reserve` and
/// `ipcshm_channel_commit`).
///
/// Write with [`write_at`](Self::write_at) or [`std::io::Write`] (copies in
/// with atomic stores), or through the atomic views; the guard counts the
/// written length (the end of the furthest write, or what
/// [`set_len`](Self::set_len) says).
///
/// What becomes of the slot:
/// - `commit(len)` sends its first `len` bytes, `commit_written()` the
///   written length; both report errors (`BrokenPipe`: the receiver is gone,
///   nothing was sent).
/// - Dropping it commits the written length, errors ignored, so that
///   `reserve`, write, end of scope sends the message. An early return
///   (`?`) between two writes therefore sends what was written so far: call
///   [`abandon`](Self::abandon) on the paths that must not send.
/// - Dropped while the thread panics (unwinding), it sends nothing: a
///   message whose writing was interrupted is never delivered. The same for
///   [`abandon`](Self::abandon) and [`std::mem::forget`]. The library then
///   keeps the slot reserved for this end (it has no call to drop a
///   reservation short of closing the end): the next `reserve` gives the
///   same slot again, to be written anew, and the next `send` copies its
///   message into it and commits that. Nothing of the abandoned bytes is
///   ever delivered; if the end closes or the process dies first, they are
///   dropped.
///
/// ```
/// use std::io::Write;
/// let mut tx = ipcshm::ChannelOptions::new(64, 4).create_sender("memfd:doc")?;
/// let mut rx = ipcshm::Receiver::from_fd(tx.object_fd()?)?;
/// {
///     let mut slot = tx.reserve()?;
///     write!(slot, "frame {}", 7)?;
/// } // committed here
/// assert_eq!(rx.recv_vec()?, b"frame 7");
/// tx.reserve()?.abandon(); // nothing is sent
/// assert!(rx.try_recv_vec()?.is_none());
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// A guard borrows its end: no other call on the end while it lives.
///
/// ```compile_fail,E0499
/// let mut tx = ipcshm::ChannelOptions::new(64, 4).create_sender("memfd:doc")?;
/// let slot = tx.reserve()?;
/// tx.send(b"x")?; // error[E0499]: `tx` is borrowed by `slot`
/// drop(slot);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// `SlotMut` is `Send` (the end may be used from any thread, one at a time)
/// and not `Sync`.
pub struct SlotMut<'a> {
    end: &'a mut End,
    ptr: NonNull<u8>,
    cap: usize,
    len: usize,
}

// SAFETY: the guard is an exclusive borrow of a Send end plus the address of
// the end's reserved slot; the library lets any thread commit (one at a time,
// which the exclusive borrow ensures).
unsafe impl Send for SlotMut<'_> {}

impl<'a> SlotMut<'a> {
    /// # Safety
    /// `ptr` is the slot the library reserved for `end`: `end.slot_size`
    /// bytes, 64-byte aligned, in the end's mapping.
    pub(crate) unsafe fn new(end: &'a mut End, ptr: NonNull<u8>) -> SlotMut<'a> {
        let cap = end.slot_size;
        SlotMut {
            end,
            ptr,
            cap,
            len: 0,
        }
    }

    /// The slot's size: the longest message it can hold.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// The written length: what [`commit_written`](Self::commit_written)
    /// and dropping send.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sets the written length, e.g. after writing through
    /// [`as_atomic_u8`](Self::as_atomic_u8) or an unsafe slice; past the
    /// capacity: `InvalidInput`.
    pub fn set_len(&mut self, len: usize) -> io::Result<()> {
        if len > self.cap {
            return Err(self.out_of_range(0, len));
        }
        self.len = len;
        Ok(())
    }

    fn out_of_range(&self, offset: usize, len: usize) -> io::Error {
        Error::new(
            EINVAL,
            format!(
                "channel slot: {} bytes at offset {} do not fit its {} bytes",
                len, offset, self.cap
            ),
        )
        .into()
    }

    /// Copies `data` into the slot at `offset` (atomic stores; see the
    /// module's soundness notes) and extends the written length to its end.
    /// Past the capacity: `InvalidInput`, nothing written.
    pub fn write_at(&mut self, offset: usize, data: &[u8]) -> io::Result<()> {
        let end = match offset.checked_add(data.len()) {
            Some(end) if end <= self.cap => end,
            _ => return Err(self.out_of_range(offset, data.len())),
        };
        // SAFETY: offset..end lies in the slot (checked), which is ours and
        // mapped while the guard lives; `data` is private memory.
        unsafe { store(self.ptr.as_ptr().add(offset), data.as_ptr(), data.len()) };
        self.len = self.len.max(end);
        Ok(())
    }

    /// The slot as atomic bytes: reads and writes in place, defined whoever
    /// else writes them. Writes through it do not change the written length
    /// ([`set_len`](Self::set_len) or [`commit`](Self::commit) with a
    /// length).
    pub fn as_atomic_u8(&self) -> &[AtomicU8] {
        // SAFETY: cap bytes of the slot, mapped while &self lives; atomics
        // permit concurrent access by others.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr() as *const AtomicU8, self.cap) }
    }

    /// The slot's whole 8-byte words as atomics (the slot is 64-byte
    /// aligned), for wide writes in place.
    pub fn as_atomic_u64(&self) -> &[AtomicU64] {
        // SAFETY: as as_atomic_u8; the slot is 64-byte aligned (the
        // library's layout), so every 8-byte word is aligned.
        debug_assert_eq!(self.ptr.as_ptr() as usize % 8, 0);
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr() as *const AtomicU64, self.cap / 8) }
    }

    /// The slot's address (`capacity()` bytes, 64-byte aligned), valid while
    /// the guard lives.
    pub fn as_mut_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// The slot as a mutable slice, to hand it to code that takes one
    /// (writes through it do not change the written length).
    ///
    /// # Safety
    /// No one else reads or writes the slot while the slice lives: no other
    /// process that may write the channel's object (every such process
    /// keeps to the channel protocol, as the library does: the receiver does
    /// not read a slot before its commit), and no other mapping of the
    /// object in this process (`Shm::attach` of the channel's id,
    /// `Shm::from_fd` of its descriptor) accessing these bytes.
    pub unsafe fn as_mut_slice(&mut self) -> &mut [u8] {
        std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.cap)
    }

    /// Sends the slot's first `len` bytes as one message. `len` past the
    /// capacity is `InvalidInput` (`EMSGSIZE`) and the slot stays reserved
    /// (as after [`abandon`](Self::abandon)); the receiver gone is
    /// `BrokenPipe` and nothing is sent.
    pub fn commit(self, len: usize) -> io::Result<()> {
        let mut this = std::mem::ManuallyDrop::new(self);
        if len > this.cap {
            return Err(too_long(this.end.id(), len, this.cap));
        }
        // SAFETY: our live end, which holds this reservation.
        let rc = unsafe { sys::ipcshm_channel_commit(this.end.as_ptr(), len as u64) };
        if rc != -EMSGSIZE {
            // Sent, or dropped by the library (EPIPE): no longer pending.
            this.end.pending = false;
        }
        check(rc).map(|_| ())
    }

    /// Sends the written length ([`len`](Self::len)) as one message.
    pub fn commit_written(self) -> io::Result<()> {
        let len = self.len;
        self.commit(len)
    }

    /// Sends nothing: the bytes written are never delivered. The slot stays
    /// reserved for this end, and the next `reserve` or `send` reuses it.
    pub fn abandon(self) {
        std::mem::forget(self);
    }
}

impl Drop for SlotMut<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return; // interrupted: deliver nothing (see the type's docs)
        }
        // SAFETY: our live end, which holds this reservation.
        let rc = unsafe { sys::ipcshm_channel_commit(self.end.as_ptr(), self.len as u64) };
        if rc != -EMSGSIZE {
            self.end.pending = false;
        }
    }
}

impl io::Write for SlotMut<'_> {
    /// Appends at the written length; fewer bytes than given once the slot
    /// is full (0 when it is: `write_all` then fails with `WriteZero`).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(self.cap - self.len);
        let at = self.len;
        self.write_at(at, &buf[..n])?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl fmt::Debug for SlotMut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlotMut")
            .field("capacity", &self.cap)
            .field("len", &self.len)
            .finish()
    }
}

/// A message of a [`Receiver`](crate::Receiver), read in place in its slot
/// and then released to the sender by [`release`](Self::release) or by
/// dropping it (zero-copy receiving, `ipcshm_channel_peek` and
/// `ipcshm_channel_release`).
///
/// Read it with [`read_at`](Self::read_at) / [`to_vec`](Self::to_vec)
/// (copies out with atomic loads) or through the atomic views (see the
/// module's soundness notes); the sender writes nothing of it until it is
/// released.
///
/// What becomes of the message:
/// - `release()` or dropping the guard releases it: it is received.
/// - Dropped while the thread panics (unwinding), or given up by
///   [`keep`](Self::keep) or [`std::mem::forget`], it stays in the channel,
///   unreleased, as when a receiver dies between peek and release: the next
///   `peek`, `recv` or `recv_vec` of this end gets the same message again,
///   and if the end closes first, the next receiver does. A message whose
///   handling panicked is thus received again rather than lost.
///
/// ```
/// let mut tx = ipcshm::ChannelOptions::new(64, 4).create_sender("memfd:doc")?;
/// let mut rx = ipcshm::Receiver::from_fd(tx.object_fd()?)?;
/// tx.send(b"in place")?;
/// let msg = rx.peek()?;
/// assert_eq!(msg.len(), 8);
/// let mut head = [0u8; 2];
/// msg.read_at(0, &mut head)?;
/// assert_eq!(&head, b"in");
/// drop(msg); // released
/// assert!(rx.try_peek()?.is_none());
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// A slice of the message is an `unsafe` call (see the module's soundness
/// notes): safe code cannot hold a `&[u8]` that another mapping writes.
///
/// ```compile_fail,E0133
/// let mut tx = ipcshm::ChannelOptions::new(64, 4).create_sender("memfd:doc")?;
/// let mut rx = ipcshm::Receiver::from_fd(tx.object_fd()?)?;
/// tx.send(b"x")?;
/// let msg = rx.peek()?;
/// let bytes: &[u8] = msg.as_slice(); // error[E0133]: call to unsafe function
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// `Slot` is `Send` and not `Sync`, as [`SlotMut`].
pub struct Slot<'a> {
    end: &'a mut End,
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: as SlotMut: an exclusive borrow of a Send end and the address of
// the message it peeked; any thread may release (one at a time).
unsafe impl Send for Slot<'_> {}

impl<'a> Slot<'a> {
    /// # Safety
    /// `ptr` is the message the library peeked for `end`: `len` bytes
    /// (`len <= end.slot_size`) in the end's mapping.
    pub(crate) unsafe fn new(end: &'a mut End, ptr: NonNull<u8>, len: usize) -> Slot<'a> {
        Slot { end, ptr, len }
    }

    /// The message's length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the message is empty (messages of 0 bytes exist).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn too_small(&self, cap: usize) -> io::Error {
        Error::new(
            EMSGSIZE,
            format!(
                "channel receive: the message has {} bytes, the buffer {}",
                self.len, cap
            ),
        )
        .with_message_len(self.len)
        .into()
    }

    /// Copies `buf.len()` bytes of the message from `offset` into `buf`
    /// (atomic loads). Past the message's end: `InvalidInput`, `buf`
    /// untouched.
    pub fn read_at(&self, offset: usize, buf: &mut [u8]) -> io::Result<()> {
        match offset.checked_add(buf.len()) {
            Some(end) if end <= self.len => {}
            _ => {
                return Err(Error::new(
                    EINVAL,
                    format!(
                        "channel message: {} bytes at offset {} are past its {} bytes",
                        buf.len(),
                        offset,
                        self.len
                    ),
                )
                .into())
            }
        }
        // SAFETY: offset..end lies in the message (checked), mapped while
        // the guard lives; `buf` is private memory.
        unsafe { load(self.ptr.as_ptr().add(offset), buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// A copy of the message.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = vec![0u8; self.len];
        // SAFETY: the message's len bytes, mapped while the guard lives.
        unsafe { load(self.ptr.as_ptr(), v.as_mut_ptr(), self.len) };
        v
    }

    /// The message as atomic bytes, read in place.
    pub fn as_atomic_u8(&self) -> &[AtomicU8] {
        // SAFETY: len bytes of the slot, mapped while &self lives; atomics
        // permit concurrent access by others. The mapping is writable (the
        // receiver's end maps read-write), so an atomic store through this
        // view is no fault, only a change of the message.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr() as *const AtomicU8, self.len) }
    }

    /// The message's whole 8-byte words as atomics (the slot is 64-byte
    /// aligned; a tail of `len % 8` bytes is left out).
    pub fn as_atomic_u64(&self) -> &[AtomicU64] {
        debug_assert_eq!(self.ptr.as_ptr() as usize % 8, 0);
        // SAFETY: as as_atomic_u8, with aligned words inside the message.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr() as *const AtomicU64, self.len / 8) }
    }

    /// The message's address (`len()` bytes, 64-byte aligned), valid while
    /// the guard lives.
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    /// The message as a slice, to hand it to code that takes one.
    ///
    /// # Safety
    /// No one writes the message while the slice lives: no other process
    /// that may write the channel's object (every such process keeps to the
    /// channel protocol, as the library does: the sender does not write a
    /// peeked slot before its release), and no other mapping of the object
    /// in this process (`Shm::attach` of the channel's id, `Shm::from_fd` of
    /// its descriptor) writing these bytes.
    pub unsafe fn as_slice(&self) -> &[u8] {
        std::slice::from_raw_parts(self.ptr.as_ptr(), self.len)
    }

    /// Releases the message's slot to the sender: it is received.
    pub fn release(self) -> io::Result<()> {
        let mut this = std::mem::ManuallyDrop::new(self);
        // SAFETY: our live end, which holds this peek.
        let rc = unsafe { sys::ipcshm_channel_release(this.end.as_ptr()) };
        this.end.pending = false;
        check(rc).map(|_| ())
    }

    /// Leaves the message in the channel, unreleased: the next peek or
    /// receive of this end (or the next receiver) gets it again.
    pub fn keep(self) {
        std::mem::forget(self);
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return; // keep it for a receive that completes (see the docs)
        }
        // SAFETY: our live end, which holds this peek.
        unsafe { sys::ipcshm_channel_release(self.end.as_ptr()) };
        self.end.pending = false;
    }
}

impl fmt::Debug for Slot<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot").field("len", &self.len).finish()
    }
}
