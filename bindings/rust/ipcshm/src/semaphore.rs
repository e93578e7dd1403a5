//! `Semaphore`: a counting semaphore in shared memory (`ipcshm_sem_*`,
//! libipcshm 1.2).

use crate::error::check;
use crate::primitive::{no_result, place, retry, taken};
use crate::{sys, Access, ReadWrite, Shm};
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::os::raw::c_void;
use std::ptr::NonNull;
use std::time::Duration;

/// A counting semaphore (`ipcshm_sem_*`) at an 8-aligned offset of a mapping,
/// shared by every process and language that maps the object, with the
/// names of InterProcessCommunication.jl (`post`, `wait`, `try_wait`,
/// `value`). It borrows the [`Shm`].
///
/// The count is a count, not an ownership: a process that dies after
/// [`wait`](Semaphore::wait) does not give its unit back (as POSIX
/// semaphores); use a [`Mutex`](crate::Mutex) where a dead holder must be
/// noticed.
///
/// ```
/// use ipcshm::{Semaphore, Shm};
/// use std::time::Duration;
/// let shm = Shm::create("memfd:doc", 4096)?;
/// let sem = Semaphore::new(&shm, 0)?;
/// sem.init(1)?; // once, by the creator, before anyone uses it
/// sem.wait()?;
/// assert!(!sem.try_wait()?);
/// sem.post()?; // usually another process
/// assert!(sem.wait_timeout(Some(Duration::from_secs(1)))?);
/// assert_eq!(sem.value()?, 0);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// In a read-only mapping (`Semaphore<ReadOnly>`) only `value` exists.
/// `Semaphore` is `Send`, `Sync` and `Copy`.
pub struct Semaphore<'a, A: Access = ReadWrite> {
    ptr: NonNull<c_void>,
    offset: usize,
    shm: PhantomData<&'a Shm<A>>,
}

// SAFETY: as for Event: atomic operations of the library, from any thread; the
// pointer stays valid for 'a.
unsafe impl<A: Access> Send for Semaphore<'_, A> {}
unsafe impl<A: Access> Sync for Semaphore<'_, A> {}

impl<A: Access> Clone for Semaphore<'_, A> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A: Access> Copy for Semaphore<'_, A> {}

impl<'a, A: Access> Semaphore<'a, A> {
    /// The semaphore at `offset` of the mapping (8-aligned, `IPCSHM_SEM_SIZE`
    /// bytes inside it; else `InvalidInput`). Memory that is not a semaphore
    /// is `InvalidInput` (`EINVAL`; `InvalidData` for impossible contents) at
    /// the first call.
    pub fn new(shm: &'a Shm<A>, offset: usize) -> io::Result<Semaphore<'a, A>> {
        let ptr = place(
            shm,
            offset,
            sys::IPCSHM_SEM_SIZE as usize,
            8,
            "ipcshm::Semaphore",
        )?;
        Ok(Semaphore {
            ptr,
            offset,
            shm: PhantomData,
        })
    }

    /// The current count (IPC.jl's `sem[]`).
    pub fn value(&self) -> io::Result<u32> {
        let mut value = 0u32;
        // SAFETY: a place in the borrowed mapping, read atomically.
        check(unsafe { sys::ipcshm_sem_value(self.ptr.as_ptr(), &mut value) })?;
        Ok(value)
    }

    /// The offset of the semaphore in its mapping.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl<'a> Semaphore<'a, ReadWrite> {
    /// Makes the memory a semaphore with the count `value`
    /// (`ipcshm_sem_init`): once, before anyone uses it.
    pub fn init(&self, value: u32) -> io::Result<()> {
        // SAFETY: a place in the borrowed, writable mapping.
        check(unsafe { sys::ipcshm_sem_init(self.ptr.as_ptr(), value) }).map(|_| ())
    }

    /// Adds one to the count and wakes one waiter. `EOVERFLOW` (count
    /// unchanged) at `u32::MAX`.
    pub fn post(&self) -> io::Result<()> {
        // SAFETY: as in init.
        check(unsafe { sys::ipcshm_sem_post(self.ptr.as_ptr()) }).map(|_| ())
    }

    /// Takes one from the count, waiting while it is 0. Waits that a signal
    /// handler interrupts are resumed.
    pub fn wait(&self) -> io::Result<()> {
        if self.wait_timeout(None)? {
            Ok(())
        } else {
            Err(no_result("ipcshm_sem_wait"))
        }
    }

    /// Takes one if the count is not 0: `Ok(false)` otherwise.
    pub fn try_wait(&self) -> io::Result<bool> {
        self.wait_timeout(Some(Duration::ZERO))
    }

    /// [`wait`](Self::wait) for at most `timeout` (`None`: no limit):
    /// `Ok(false)` when it passed.
    pub fn wait_timeout(&self, timeout: Option<Duration>) -> io::Result<bool> {
        // SAFETY: as in init.
        taken(retry(
            |t| unsafe { sys::ipcshm_sem_wait(self.ptr.as_ptr(), t) },
            timeout,
        ))
    }
}

impl<A: Access> fmt::Debug for Semaphore<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("offset", &self.offset)
            .field("ptr", &self.ptr)
            .finish()
    }
}
