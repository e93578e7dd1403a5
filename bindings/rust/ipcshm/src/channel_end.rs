//! `End`: one open end of a channel, either role: the library's handle under `Sender` and `Receiver`.

use crate::channel_info::ChannelInfo;
use crate::error::{c_id, check, Error, EINVAL};
use crate::{sys, Access, Shm};
use std::cell::Cell;
use std::ffi::CStr;
use std::io;
use std::os::raw::c_int;
use std::os::unix::io::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::{self, NonNull};

/// One open end, either role: the library's handle and what the binding
/// keeps of it.
pub(crate) struct End {
    raw: NonNull<sys::ipcshm_channel_t>,
    pub(crate) slot_size: usize,
    pub(crate) slot_count: usize,
    pub(crate) id: String,
    pub(crate) created: bool,
    /// A reserve (sender) or peek (receiver) whose guard was forgotten, or
    /// dropped during a panic, without commit or release: the library still
    /// holds it, so the next send (recv) goes through reserve and commit
    /// (peek and release), which give the same slot (message) again.
    pub(crate) pending: bool,
    /// The poll descriptor of `AsRawFd` (-1: not made yet). A `Cell`: the end
    /// is `!Sync` anyway.
    poll: Cell<RawFd>,
}

// SAFETY: an end may be used from any thread, one thread at a time (ipcshm.h,
// channels rule 7): moving it to another thread is fine. It is not Sync: two
// threads calling into one end at once is refused only on a best effort
// basis by the library, and `poll` is a Cell.
unsafe impl Send for End {}

impl End {
    /// Runs `open` (a library call that stores a new end in its argument)
    /// and takes ownership of the end.
    pub(crate) fn open(
        role: u32,
        open: impl FnOnce(*mut *mut sys::ipcshm_channel_t) -> c_int,
    ) -> io::Result<End> {
        let mut raw: *mut sys::ipcshm_channel_t = ptr::null_mut();
        check(open(&mut raw))?;
        let raw = NonNull::new(raw)
            .ok_or_else(|| io::Error::from(Error::new(EINVAL, "the library returned no end")))?;
        let mut end = End {
            raw,
            slot_size: 0,
            slot_count: 0,
            id: String::new(),
            created: false,
            pending: false,
            poll: Cell::new(-1),
        };
        // On error `end` drops and closes the handle.
        let info = end.info()?;
        end.slot_size = info.slot_size;
        end.slot_count = info.slot_count;
        // SAFETY: the end's own object handle, valid while the end is open.
        let idp = unsafe { sys::ipcshm_id(end.handle()?) };
        if !idp.is_null() {
            // SAFETY: a C string owned by the handle.
            end.id = unsafe { CStr::from_ptr(idp) }
                .to_string_lossy()
                .into_owned();
        }
        debug_assert!(role == sys::IPCSHM_SENDER || role == sys::IPCSHM_RECEIVER);
        Ok(end)
    }

    pub(crate) fn by_id(id: &str, role: u32) -> io::Result<End> {
        let cid = c_id(id)?;
        // SAFETY: a C string and a valid out-pointer.
        End::open(role, |out| unsafe {
            sys::ipcshm_channel_open(cid.as_ptr(), role, out)
        })
    }

    pub(crate) fn by_fd(fd: BorrowedFd<'_>, role: u32) -> io::Result<End> {
        // SAFETY: a descriptor borrowed for the call and a valid out-pointer.
        End::open(role, |out| unsafe {
            sys::ipcshm_channel_open_fd(fd.as_raw_fd(), role, out)
        })
    }

    pub(crate) fn by_shm<A: Access>(shm: &Shm<A>, role: u32) -> io::Result<End> {
        let fd = shm.fd()?;
        End::by_fd(fd.as_fd(), role)
    }

    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn as_ptr(&self) -> *mut sys::ipcshm_channel_t {
        self.raw.as_ptr()
    }

    pub(crate) fn handle(&self) -> io::Result<*const sys::ipcshm_t> {
        let mut h: *const sys::ipcshm_t = ptr::null();
        // SAFETY: our live end and a valid out-pointer.
        check(unsafe { sys::ipcshm_channel_handle(self.as_ptr(), &mut h) })?;
        Ok(h)
    }

    pub(crate) fn info(&self) -> io::Result<ChannelInfo> {
        let mut info = sys::ipcshm_channel_info_t::new();
        // SAFETY: our live end and a struct whose struct_size is set.
        check(unsafe { sys::ipcshm_channel_handle_info(self.as_ptr(), &mut info) })?;
        Ok(info.into())
    }

    pub(crate) fn object_fd(&self) -> io::Result<OwnedFd> {
        let h = self.handle()?;
        // SAFETY: the end's object handle, valid while the end is open.
        let fd = check(unsafe { sys::ipcshm_fd(h) })?;
        // SAFETY: a new descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    pub(crate) fn send_channel(&self, sock: BorrowedFd<'_>) -> io::Result<()> {
        let h = self.handle()?;
        // SAFETY: the end's object handle and a socket borrowed for the call.
        check(unsafe { sys::ipcshm_send(sock.as_raw_fd(), h) }).map(|_| ())
    }

    pub(crate) fn fd(&self) -> io::Result<OwnedFd> {
        // SAFETY: our live end.
        let fd = check(unsafe { sys::ipcshm_channel_fd(self.as_ptr()) })?;
        // SAFETY: a new descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    pub(crate) fn poll_fd(&self) -> io::Result<BorrowedFd<'_>> {
        if self.poll.get() < 0 {
            let fd = self.fd()?;
            self.poll.set(into_raw(fd));
        }
        // SAFETY: our descriptor, open until the end drops.
        Ok(unsafe { BorrowedFd::borrow_raw(self.poll.get()) })
    }

    pub(crate) fn close(mut self) -> io::Result<()> {
        let rc = self.close_now();
        std::mem::forget(self);
        check(rc).map(|_| ())
    }

    fn close_now(&mut self) -> c_int {
        let fd = self.poll.replace(-1);
        if fd >= 0 {
            // SAFETY: our descriptor; nothing borrows it (close needs the end
            // by value or in Drop).
            drop(unsafe { OwnedFd::from_raw_fd(fd) });
        }
        // SAFETY: our live end, closed once.
        unsafe { sys::ipcshm_channel_close(self.as_ptr()) }
    }
}

fn into_raw(fd: OwnedFd) -> RawFd {
    use std::os::unix::io::IntoRawFd;
    fd.into_raw_fd()
}

impl Drop for End {
    fn drop(&mut self) {
        // Errors cannot be reported from drop; `close` reports them.
        let _ = self.close_now();
    }
}
