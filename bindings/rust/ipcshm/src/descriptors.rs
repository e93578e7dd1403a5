//! Descriptors and sockets (libipcshm 1.1): a `Shm` from a descriptor
//! (`from_fd`, `ShmOptions::attach_fd`), a new descriptor of one (`fd`), and
//! objects passed over UNIX-domain sockets (`send`, `recv`).

use crate::error::check;
use crate::{sys, Access, ReadOnly, ReadWrite, Shm, ShmOptions};
use std::io;
use std::os::unix::io::{AsFd, AsRawFd, FromRawFd, OwnedFd};

impl<A: Access> ShmOptions<A> {
    /// Maps the POSIX or memfd object open as `fd` (libipcshm 1.1,
    /// `ipcshm_attach_fd`): a descriptor from [`Shm::fd`], received over a
    /// socket or inherited. The object is opened anew, so the new `Shm` is a
    /// user of its own; `fd` is only borrowed, and stays open and unchanged.
    /// Flags as for [`attach`](Self::attach). A read-only descriptor needs
    /// [`readonly`](ShmOptions::readonly) (else `PermissionDenied`); a
    /// descriptor of anything else (a file on disk, a socket) is
    /// `InvalidInput`; a POSIX object whose name was removed meanwhile is
    /// `NotFound`.
    pub fn attach_fd(&self, fd: impl AsFd) -> io::Result<Shm<A>> {
        let fd = fd.as_fd();
        let mut raw: *mut sys::ipcshm_t = std::ptr::null_mut();
        // SAFETY: a descriptor borrowed for the call and a valid out-pointer.
        check(unsafe { sys::ipcshm_attach_fd(fd.as_raw_fd(), self.attach_flags(), &mut raw) })?;
        // SAFETY: a fresh handle, owned by nobody else.
        unsafe { Shm::from_raw(raw) }
    }

    /// Receives one object sent by [`Shm::send`] on the connected UNIX-domain
    /// socket `sock` and maps it, as [`attach_fd`](Self::attach_fd) would
    /// (libipcshm 1.1, `ipcshm_recv`). Blocks as the socket does
    /// (`WouldBlock` if it is non-blocking and nothing is there yet). A
    /// message that is not from `send` is `InvalidData` (`EBADMSG`); the peer
    /// closing the socket is `ConnectionReset`.
    ///
    /// The message is consumed even when mapping fails, e.g. a read-only
    /// object received without [`readonly`](ShmOptions::readonly)
    /// (`PermissionDenied`): agree on the access mode beforehand.
    pub fn recv(&self, sock: impl AsFd) -> io::Result<Shm<A>> {
        let sock = sock.as_fd();
        let mut raw: *mut sys::ipcshm_t = std::ptr::null_mut();
        // SAFETY: a socket borrowed for the call and a valid out-pointer.
        check(unsafe { sys::ipcshm_recv(sock.as_raw_fd(), self.attach_flags(), &mut raw) })?;
        // SAFETY: a fresh handle, owned by nobody else.
        unsafe { Shm::from_raw(raw) }
    }
}

impl Shm<ReadWrite> {
    /// Maps the object open as `fd`, read-write; see [`ShmOptions::attach_fd`].
    pub fn from_fd(fd: impl AsFd) -> io::Result<Shm> {
        ShmOptions::new().attach_fd(fd)
    }

    /// Maps the object open as `fd`, read-only; see [`ShmOptions::attach_fd`].
    pub fn from_fd_readonly(fd: impl AsFd) -> io::Result<Shm<ReadOnly>> {
        ShmOptions::new().readonly().attach_fd(fd)
    }

    /// Receives an object sent by [`send`](Shm::send) and maps it read-write;
    /// see [`ShmOptions::recv`] (and `ShmOptions::new().readonly().recv(..)`
    /// for read-only objects).
    pub fn recv(sock: impl AsFd) -> io::Result<Shm> {
        ShmOptions::new().recv(sock)
    }
}

impl<A: Access> Shm<A> {
    /// A new descriptor of the object (libipcshm 1.1, `ipcshm_fd`):
    /// close-on-exec, read-only if this mapping is, owned by the caller (closed
    /// when the `OwnedFd` drops). Give it to another process (over a socket, or
    /// across exec) to map the object there with [`Shm::from_fd`]. POSIX and
    /// memfd objects only (System V: `EOPNOTSUPP`; pass the `shmid:N` id).
    ///
    /// memfd objects are sealed against shrinking; to freeze the size, or to
    /// keep receivers from writing, before giving it away, add `F_SEAL_GROW` /
    /// `F_SEAL_FUTURE_WRITE` with `fcntl(F_ADD_SEALS)` on this descriptor.
    /// A read-write descriptor of a POSIX object can truncate it
    /// (`File::set_len`), which makes every mapping's bytes past the new end
    /// fault: see "Truncation by others" in [`Shm`]'s documentation.
    pub fn fd(&self) -> io::Result<OwnedFd> {
        // SAFETY: our live handle.
        let fd = check(unsafe { sys::ipcshm_fd(self.raw.as_ptr()) })?;
        // SAFETY: a new descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// Sends the object over the connected UNIX-domain socket `sock` (stream,
    /// seqpacket or datagram; e.g. `&UnixStream`) as a descriptor (SCM_RIGHTS)
    /// in one small message, for [`Shm::recv`] / [`ShmOptions::recv`] at the
    /// other end (libipcshm 1.1, `ipcshm_send`). This `Shm` stays mapped.
    /// POSIX and memfd objects only (System V: `EOPNOTSUPP`).
    pub fn send(&self, sock: impl AsFd) -> io::Result<()> {
        let sock = sock.as_fd();
        // SAFETY: our live handle and a socket borrowed for the call.
        check(unsafe { sys::ipcshm_send(sock.as_raw_fd(), self.raw.as_ptr()) }).map(|_| ())
    }
}
