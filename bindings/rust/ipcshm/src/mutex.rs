//! `Mutex`: a robust mutex in shared memory (`ipcshm_mutex_*`, libipcshm
//! 1.2), its guard, and owner death as a result of its own (`LockError`).

use crate::error::{check, Error};
use crate::primitive::{no_result, place, retry, EAGAIN, ETIMEDOUT};
use crate::{sys, ReadWrite, Shm};
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::os::raw::{c_int, c_void};
use std::ptr::NonNull;
use std::time::Duration;

const EOWNERDEAD: c_int = 130;
const ENOTRECOVERABLE: c_int = 131;

/// A robust mutex (`ipcshm_mutex_*`) at an 8-aligned offset of a read-write
/// mapping, shared by every process and language that maps the object. It
/// borrows the [`Shm`]. The data it guards is wherever the processes agree
/// (typically next to it in the same object, read and written with the
/// `Shm`'s copies and atomics): the mutex orders those accesses, it does not
/// hand out references to them.
///
/// The owner's death never wedges the others: when the thread that holds it
/// dies (its process killed, `SIGKILL` included, or the thread ended), the
/// next [`lock`](Mutex::lock) takes it and says so with
/// [`LockError::OwnerDead`], which holds the lock: repair the data, then
/// [`OwnerDead::consistent`] gives the guard back. Dropping the `OwnerDead`
/// instead unlocks the mutex and makes it not recoverable for everyone
/// ([`LockError::NotRecoverable`]), so that data that may be torn is never
/// trusted by accident.
///
/// ```
/// use ipcshm::{LockError, Mutex, Shm};
/// let shm = Shm::create("memfd:doc", 4096)?;
/// let m = Mutex::new(&shm, 0)?;
/// m.init()?; // once, by the creator, before anyone uses it
/// let guard = match m.lock() {
///     Ok(guard) => guard,
///     Err(LockError::OwnerDead(dead)) => {
///         shm.write_at(64, &[0; 8])?; // repair what the dead owner left
///         dead.consistent()?
///     }
///     Err(e) => return Err(e.into()),
/// };
/// shm.write_at(64, &1u64.to_ne_bytes())?; // the data the mutex guards
/// drop(guard); // unlocks
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// A lock belongs to the thread that took it: it is not recursive (`EDEADLK`),
/// and its [`MutexGuard`] is neither `Send` nor `Sync`, so it is unlocked by
/// that thread. A forked child does not hold its parent's locks. The
/// processes that share a mutex must be in one pid namespace (see
/// `ipcshm_mutex_lock`). `Mutex` itself is `Send`, `Sync` and `Copy`.
///
/// ```compile_fail,E0277
/// let shm = ipcshm::Shm::create("memfd:doc", 4096)?;
/// let m = ipcshm::Mutex::new(&shm, 0)?;
/// m.init()?;
/// let guard = m.lock().map_err(std::io::Error::from)?;
/// std::thread::scope(|s| {
///     s.spawn(move || drop(guard)); // `*const ()` cannot be sent between threads
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Mutex<'a> {
    ptr: NonNull<c_void>,
    offset: usize,
    shm: PhantomData<&'a Shm<ReadWrite>>,
}

// SAFETY: the library's mutex calls are atomic operations on the shared
// bytes, safe from any thread; ownership is per thread, enforced by the
// library (-EPERM) and, for guards, by MutexGuard being !Send.
unsafe impl Send for Mutex<'_> {}
unsafe impl Sync for Mutex<'_> {}

impl Clone for Mutex<'_> {
    fn clone(&self) -> Self {
        *self
    }
}
impl Copy for Mutex<'_> {}

impl<'a> Mutex<'a> {
    /// The mutex at `offset` of the mapping (8-aligned, `IPCSHM_MUTEX_SIZE`
    /// bytes inside it; else `InvalidInput`). Memory that is not a mutex is
    /// `InvalidInput` (`EINVAL`; `InvalidData`, `EBADMSG`, for impossible
    /// contents) at the first call.
    pub fn new(shm: &'a Shm, offset: usize) -> io::Result<Mutex<'a>> {
        let ptr = place(
            shm,
            offset,
            sys::IPCSHM_MUTEX_SIZE as usize,
            8,
            "ipcshm::Mutex",
        )?;
        Ok(Mutex {
            ptr,
            offset,
            shm: PhantomData,
        })
    }

    /// The offset of the mutex in its mapping.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Makes the memory an unlocked mutex (`ipcshm_mutex_init`): once, before
    /// anyone uses it, or to make a not recoverable mutex usable again while
    /// nobody uses it.
    pub fn init(&self) -> io::Result<()> {
        // SAFETY: a place in the borrowed, writable mapping.
        check(unsafe { sys::ipcshm_mutex_init(self.ptr.as_ptr()) }).map(|_| ())
    }

    /// Takes the mutex, waiting while another thread holds it; the guard
    /// unlocks it when dropped. Waits that a signal handler interrupts are
    /// resumed. See [`LockError`] for what else can happen.
    pub fn lock(&self) -> Result<MutexGuard<'a>, LockError<'a>> {
        self.lock_timeout(None)?
            .ok_or_else(|| LockError::Io(no_result("ipcshm_mutex_lock")))
    }

    /// Takes the mutex if no live thread holds it: `Ok(None)` otherwise. A
    /// mutex whose owner died is taken ([`LockError::OwnerDead`]), never
    /// reported busy.
    pub fn try_lock(&self) -> Result<Option<MutexGuard<'a>>, LockError<'a>> {
        self.lock_timeout(Some(Duration::ZERO))
    }

    /// [`lock`](Self::lock) for at most `timeout` (`None`: no limit):
    /// `Ok(None)` when it passed.
    pub fn lock_timeout(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Option<MutexGuard<'a>>, LockError<'a>> {
        // SAFETY: as in init.
        let rc = retry(
            |t| unsafe { sys::ipcshm_mutex_lock(self.ptr.as_ptr(), t) },
            timeout,
        );
        match rc {
            0 => Ok(Some(self.guard())),
            rc if rc == -ETIMEDOUT || rc == -EAGAIN => Ok(None),
            rc if rc == -EOWNERDEAD => Err(LockError::OwnerDead(OwnerDead {
                guard: self.guard(),
                error: Error::last(EOWNERDEAD),
            })),
            rc if rc == -ENOTRECOVERABLE => Err(LockError::NotRecoverable(
                Error::last(ENOTRECOVERABLE).into(),
            )),
            rc => Err(LockError::Io(Error::last(-rc).into())),
        }
    }

    /// The guard of the lock this thread just took.
    fn guard(&self) -> MutexGuard<'a> {
        MutexGuard {
            ptr: self.ptr,
            shm: PhantomData,
            thread: PhantomData,
        }
    }
}

impl fmt::Debug for Mutex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex")
            .field("offset", &self.offset)
            .field("ptr", &self.ptr)
            .finish()
    }
}

/// The lock of a [`Mutex`], held by the thread that took it: dropping it
/// unlocks the mutex (and wakes one waiter). Not `Send`, not `Sync`: the
/// library lets only the owning thread unlock.
#[must_use = "dropping the guard unlocks the mutex at once"]
pub struct MutexGuard<'a> {
    ptr: NonNull<c_void>,
    shm: PhantomData<&'a Shm<ReadWrite>>,
    thread: PhantomData<*const ()>,
}

impl MutexGuard<'_> {
    /// Unlocks now and reports the library's result (`Drop` ignores it).
    pub fn unlock(self) -> io::Result<()> {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: the mapping is borrowed for 'a; this thread holds the lock.
        check(unsafe { sys::ipcshm_mutex_unlock(this.ptr.as_ptr()) }).map(|_| ())
    }
}

impl Drop for MutexGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: as in unlock. An error (the mutex overwritten meanwhile)
        // cannot be reported from Drop; unlock() reports it.
        unsafe {
            sys::ipcshm_mutex_unlock(self.ptr.as_ptr());
        }
    }
}

impl fmt::Debug for MutexGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MutexGuard")
            .field("ptr", &self.ptr)
            .finish()
    }
}

/// What [`Mutex::lock`] (and its timed and trying forms) gives instead of a
/// guard.
///
/// For `?` in a function that returns `io::Result`, a `LockError` converts
/// into an `io::Error`; an [`OwnerDead`] converted so is dropped, which
/// unlocks the mutex without repair: it becomes not recoverable for everyone.
/// Match on `OwnerDead` to repair instead.
#[derive(Debug)]
pub enum LockError<'a> {
    /// The previous owner died holding the mutex (`EOWNERDEAD`). This thread
    /// holds it now, inside the [`OwnerDead`]: the data it guards may be
    /// half-updated.
    OwnerDead(OwnerDead<'a>),
    /// The mutex was unlocked after an owner's death without
    /// [`OwnerDead::consistent`] (`ENOTRECOVERABLE`): nobody holds it, and it
    /// stays so until [`Mutex::init`].
    NotRecoverable(io::Error),
    /// Any other failure: `EDEADLK` (this thread holds it already), memory
    /// that is not a mutex (`InvalidInput`, `InvalidData`), a process in
    /// another pid namespace (`EOPNOTSUPP`), ...
    Io(io::Error),
}

impl fmt::Display for LockError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::OwnerDead(dead) => fmt::Display::fmt(dead, f),
            LockError::NotRecoverable(e) | LockError::Io(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for LockError<'_> {}

impl From<LockError<'_>> for io::Error {
    fn from(err: LockError<'_>) -> io::Error {
        match err {
            // Dropping the OwnerDead unlocks without repair: not recoverable.
            LockError::OwnerDead(dead) => dead.error.clone().into(),
            LockError::NotRecoverable(e) | LockError::Io(e) => e,
        }
    }
}

/// The lock of a [`Mutex`] whose previous owner died holding it: this thread
/// holds it. Repair the data it guards, then [`consistent`](Self::consistent)
/// gives the [`MutexGuard`]. Dropped without that, it unlocks the mutex and
/// makes it not recoverable for everyone.
pub struct OwnerDead<'a> {
    guard: MutexGuard<'a>,
    error: Error,
}

impl<'a> OwnerDead<'a> {
    /// Marks the data repaired (`ipcshm_mutex_consistent`): the mutex is good
    /// again, and still held, by the returned guard.
    pub fn consistent(self) -> io::Result<MutexGuard<'a>> {
        // SAFETY: the mapping is borrowed for 'a; this thread holds the lock.
        check(unsafe { sys::ipcshm_mutex_consistent(self.guard.ptr.as_ptr()) })?;
        Ok(self.guard)
    }

    /// The library's message (it names the dead owner's thread id) and errno.
    pub fn error(&self) -> &Error {
        &self.error
    }
}

impl fmt::Debug for OwnerDead<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnerDead")
            .field("guard", &self.guard)
            .field("error", &self.error)
            .finish()
    }
}

impl fmt::Display for OwnerDead<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}
