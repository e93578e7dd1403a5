//! `Event`: a doorbell with a sequence number in shared memory
//! (`ipcshm_event_*`, libipcshm 1.2).

use crate::error::check;
use crate::primitive::{no_result, place, retry, EAGAIN, ETIMEDOUT};
use crate::{sys, Access, ReadWrite, Shm};
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::os::raw::c_void;
use std::os::unix::io::{FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::time::Duration;

/// An event (`ipcshm_event_*`) at an 8-aligned offset of a mapping: a 64-bit
/// sequence number that [`notify`](Event::notify) increments, waking every
/// waiter, in any process and language that maps the object. It borrows the
/// [`Shm`]: the mapping stays while the event lives.
///
/// A waiter reads the [`sequence`](Event::sequence), looks at the shared
/// state whose changes the event announces, and waits for the sequence to
/// move on from what it read: a notify in between is never lost, and several
/// are seen as one. With a [`Mutex`](crate::Mutex) this is a condition
/// variable (read the sequence while holding the mutex, unlock, then wait;
/// `examples/condition.rs`).
///
/// ```
/// use ipcshm::{Event, Shm};
/// let shm = Shm::create("memfd:doc", 4096)?;
/// let ev = Event::new(&shm, 64)?;
/// ev.init()?; // once, by the creator, before anyone uses it
/// let seen = ev.sequence()?;
/// ev.notify()?; // usually another process
/// assert_eq!(ev.wait(seen)?, seen + 1);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// In a read-only mapping (`Event<ReadOnly>`) only `sequence` exists: the
/// other calls write the event.
///
/// ```compile_fail,E0599
/// # let id = format!("/ipcshm-doc-event-ro-{}", std::process::id());
/// # let _rw = ipcshm::Shm::create(&id, 4096)?;
/// let ro = ipcshm::Shm::attach_readonly(&id)?;
/// let ev = ipcshm::Event::new(&ro, 0)?;
/// ev.notify()?; // no method `notify` for Event<ReadOnly>
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// An event cannot outlive its `Shm`:
///
/// ```compile_fail,E0505
/// let shm = ipcshm::Shm::create("memfd:doc", 4096)?;
/// let ev = ipcshm::Event::new(&shm, 0)?;
/// drop(shm); // error[E0505]: cannot move out of `shm` while borrowed
/// ev.notify()?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// `Event` is `Send`, `Sync` and `Copy`: every call may come from any thread.
pub struct Event<'a, A: Access = ReadWrite> {
    ptr: NonNull<c_void>,
    offset: usize,
    shm: PhantomData<&'a Shm<A>>,
}

// SAFETY: the library's event calls are atomic operations on the shared
// bytes, safe from any thread at once; the pointer stays valid for 'a (the
// Shm is borrowed, and Shm is Sync).
unsafe impl<A: Access> Send for Event<'_, A> {}
unsafe impl<A: Access> Sync for Event<'_, A> {}

impl<A: Access> Clone for Event<'_, A> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A: Access> Copy for Event<'_, A> {}

impl<'a, A: Access> Event<'a, A> {
    /// The event at `offset` of the mapping (8-aligned, `IPCSHM_EVENT_SIZE`
    /// bytes inside it; else `InvalidInput`). Nothing is checked in the memory
    /// until a call: memory that is not an event is then `InvalidInput`
    /// (`EINVAL`; `InvalidData`, `EBADMSG`, for impossible contents).
    pub fn new(shm: &'a Shm<A>, offset: usize) -> io::Result<Event<'a, A>> {
        let ptr = place(
            shm,
            offset,
            sys::IPCSHM_EVENT_SIZE as usize,
            8,
            "ipcshm::Event",
        )?;
        Ok(Event {
            ptr,
            offset,
            shm: PhantomData,
        })
    }

    /// The current sequence.
    pub fn sequence(&self) -> io::Result<u64> {
        let mut seq = 0u64;
        // SAFETY: a place in the borrowed mapping; the library reads it
        // atomically and writes `seq` only.
        check(unsafe { sys::ipcshm_event_sequence(self.ptr.as_ptr(), &mut seq) })?;
        Ok(seq)
    }

    /// The offset of the event in its mapping.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl<'a> Event<'a, ReadWrite> {
    /// Makes the memory an event with sequence 0 (`ipcshm_event_init`): once,
    /// by the creator of the object, before anyone uses it (initialising an
    /// event in use breaks it for its users).
    pub fn init(&self) -> io::Result<()> {
        // SAFETY: a place in the borrowed, writable mapping.
        check(unsafe { sys::ipcshm_event_init(self.ptr.as_ptr()) }).map(|_| ())
    }

    /// Increments the sequence and wakes every waiter (and makes every
    /// descriptor of [`fd`](Self::fd) readable). No system call when nobody
    /// waits.
    pub fn notify(&self) -> io::Result<()> {
        // SAFETY: as in init.
        check(unsafe { sys::ipcshm_event_notify(self.ptr.as_ptr()) }).map(|_| ())
    }

    /// Waits until the sequence differs from `seen`, and returns it (at once
    /// if it differs already). Waits that a signal handler interrupts are
    /// resumed.
    pub fn wait(&self, seen: u64) -> io::Result<u64> {
        self.wait_timeout(seen, None)?
            .ok_or_else(|| no_result("ipcshm_event_wait"))
    }

    /// [`wait`](Self::wait) for at most `timeout` (`None`: no limit;
    /// `Some(Duration::ZERO)` only looks): `Ok(None)` when it passed.
    pub fn wait_timeout(&self, seen: u64, timeout: Option<Duration>) -> io::Result<Option<u64>> {
        let mut cell = seen;
        // SAFETY: as in init; `cell` is ours, written by the library.
        let rc = retry(
            |t| unsafe { sys::ipcshm_event_wait(self.ptr.as_ptr(), &mut cell, t) },
            timeout,
        );
        if rc == -ETIMEDOUT || rc == -EAGAIN {
            return Ok(None);
        }
        check(rc)?;
        Ok(Some(cell))
    }

    /// A new descriptor (non-blocking, close-on-exec) that becomes readable
    /// after every notify that comes after this call, for `poll`/`epoll` or an
    /// async runtime (tokio's `AsyncFd`). Read 8 bytes at a time (a sequence,
    /// native byte order; `WouldBlock` when nothing is there); a read of 0
    /// bytes means the event was overwritten. Drop it to stop. It stays valid
    /// after the `Shm` is gone (see `ipcshm_event_fd`); memory that cannot be
    /// mapped twice (huge pages) is `EOPNOTSUPP`.
    pub fn fd(&self) -> io::Result<OwnedFd> {
        // SAFETY: as in init.
        let fd = check(unsafe { sys::ipcshm_event_fd(self.ptr.as_ptr()) })?;
        // SAFETY: a new descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

impl<A: Access> fmt::Debug for Event<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("offset", &self.offset)
            .field("ptr", &self.ptr)
            .finish()
    }
}
