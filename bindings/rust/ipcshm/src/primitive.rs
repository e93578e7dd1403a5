//! What the signalling primitives (libipcshm 1.2: `event.rs`, `semaphore.rs`,
//! `mutex.rs`) share: their place in a mapping, `Duration` timeouts, waits
//! resumed after a signal handler ran; and wait/wake on a 32-bit word of a
//! mapping (`Shm::wait_u32`, `Shm::wake_u32`).
//!
//! A primitive is a raw pointer into the mapping of a `Shm` that it borrows:
//! the mapping cannot be detached (`Shm` by value) or moved (`resize`, `&mut`)
//! while a primitive lives. Its bytes are only ever touched by the library,
//! through that pointer, with atomic operations: no Rust reference to them is
//! formed, so other mappings, threads and processes may use the same primitive
//! at the same time.

use crate::error::{check, Error, EINVAL};
use crate::{sys, Access, Shm};
use std::io;
use std::os::raw::{c_int, c_void};
use std::ptr::NonNull;
use std::time::{Duration, Instant};

pub(crate) const EAGAIN: c_int = 11;
pub(crate) const EINTR: c_int = 4;
pub(crate) const ETIMEDOUT: c_int = 110;

/// The address of the `size` bytes at `offset` of the mapping, which must be
/// 8-byte aligned and inside it: else `InvalidInput`, naming `what`.
pub(crate) fn place<A: Access>(
    shm: &Shm<A>,
    offset: usize,
    size: usize,
    align: usize,
    what: &str,
) -> io::Result<NonNull<c_void>> {
    if offset % align != 0 {
        return Err(Error::new(
            EINVAL,
            format!(
                "{}: offset {} of {:?} is not a multiple of {}",
                what,
                offset,
                shm.id(),
                align
            ),
        )
        .into());
    }
    match offset.checked_add(size) {
        Some(end) if end <= shm.len() => {}
        _ => {
            return Err(Error::new(
                EINVAL,
                format!(
                    "{}: offset {} of {:?} leaves no room for {} bytes in a mapping of {}",
                    what,
                    offset,
                    shm.id(),
                    size,
                    shm.len()
                ),
            )
            .into())
        }
    }
    // SAFETY: offset + size <= len (checked): inside the mapping, not null.
    let p = unsafe { shm.ptr.as_ptr().add(offset) } as *mut c_void;
    Ok(NonNull::new(p).expect("a mapping is never at address 0"))
}

/// A timeout for the library: `None` waits for ever (-1), `Some(ZERO)` only
/// tries (0), anything else in nanoseconds (saturated at `i64::MAX`, 292 years).
pub(crate) fn timeout_ns(timeout: Option<Duration>) -> i64 {
    match timeout {
        None => -1,
        Some(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
    }
}

/// Calls `f(timeout)` until it returns anything but `-EINTR` (a signal handler
/// ran while it slept), with what is left of `timeout`: as the C++ wrapper
/// does, since a Rust program has no interrupt to hand on. Returns the last
/// result (`-ETIMEDOUT` or `-EAGAIN` when the time ran out).
pub(crate) fn retry(mut f: impl FnMut(i64) -> c_int, timeout: Option<Duration>) -> c_int {
    let total = timeout_ns(timeout);
    if total <= 0 {
        loop {
            let rc = f(total);
            if rc != -EINTR {
                return rc;
            }
        }
    }
    // (A deadline past what Instant can hold: as good as for ever.)
    let deadline = timeout.and_then(|d| Instant::now().checked_add(d));
    let mut left = total;
    loop {
        let rc = f(left);
        if rc != -EINTR {
            return rc;
        }
        if let Some(deadline) = deadline {
            left = timeout_ns(Some(deadline.saturating_duration_since(Instant::now())));
        }
    }
}

/// The error of a wait without a timeout that came back without what it
/// waited for: the library broke its contract (never expected).
pub(crate) fn no_result(call: &str) -> io::Error {
    Error::new(
        ETIMEDOUT,
        format!(
            "{}: a wait without a timeout returned without a result",
            call
        ),
    )
    .into()
}

/// `Ok(true)` for 0, `Ok(false)` for a timeout (`-ETIMEDOUT`, `-EAGAIN`),
/// the library's error otherwise.
pub(crate) fn taken(rc: c_int) -> io::Result<bool> {
    if rc == -ETIMEDOUT || rc == -EAGAIN {
        return Ok(false);
    }
    check(rc).map(|_| true)
}

impl<A: Access> Shm<A> {
    /// Sleeps while the aligned 32-bit word at `index` (bytes `4 * index ..`)
    /// holds `expected`: `ipcshm_wait`, the futex contract, in any access mode
    /// (libipcshm 1.2). `Ok(true)` when woken by [`wake_u32`](Self::wake_u32)
    /// (in any process) or if the word held another value; `Ok(false)` when
    /// `timeout` passed (`None`: no limit; `Some(Duration::ZERO)` only looks).
    /// Wake-ups may be spurious: look at the word again. Waits that a signal
    /// handler interrupts are resumed. Past the end: `InvalidInput`.
    ///
    /// A waker changes the word, then wakes: a waiter that read the word
    /// before the change sleeps only if the word still holds `expected` when
    /// the kernel looks, so the wake-up is never lost.
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    /// use std::time::Duration;
    /// let shm = ipcshm::Shm::create("memfd:doc", 64)?;
    /// assert!(!shm.wait_u32(0, 0, Some(Duration::from_millis(1)))?); // timed out
    /// shm.atomic_u32()[0].store(1, Ordering::Release); // usually another process
    /// shm.wake_u32(0, u32::MAX)?;
    /// assert!(shm.wait_u32(0, 0, None)?); // holds 1, not 0: at once
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn wait_u32(
        &self,
        index: usize,
        expected: u32,
        timeout: Option<Duration>,
    ) -> io::Result<bool> {
        let word = self.word(index)?;
        // SAFETY: an aligned word of our mapping, which `self` keeps mapped;
        // the library only reads it (through the kernel).
        taken(retry(
            |t| unsafe { sys::ipcshm_wait(word.as_ptr(), expected, t) },
            timeout,
        ))
    }

    /// Wakes up to `count` (`u32::MAX`: all) waiters of
    /// [`wait_u32`](Self::wait_u32) (or `ipcshm_wait`, in any process and
    /// language) on the word at `index`, and returns how many it woke. Change
    /// the word first (an atomic store, in a read-write mapping). Works in any
    /// access mode: a wake does not write the word.
    pub fn wake_u32(&self, index: usize, count: u32) -> io::Result<u32> {
        let word = self.word(index)?;
        // SAFETY: an aligned word of our mapping, kept mapped by `self`.
        let rc = check(unsafe { sys::ipcshm_wake(word.as_ptr(), count) })?;
        Ok(rc as u32)
    }

    fn word(&self, index: usize) -> io::Result<NonNull<u32>> {
        let offset = index.saturating_mul(4);
        let p = place(self, offset, 4, 4, "the 32-bit word")?;
        Ok(p.cast())
    }
}
