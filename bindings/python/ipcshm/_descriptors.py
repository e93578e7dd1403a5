"""Descriptors and sockets (libipcshm 1.1): SharedMemory.from_fd() and fd(), and
objects passed over UNIX-domain sockets, send() and recv(). SharedMemory
inherits these methods from _DescriptorMethods."""

from __future__ import annotations

import os
from typing import Any, Optional

from . import _accel
from ._args import _attach_flags, _fileno
from ._errors import _check
from ._native import lib as _lib


class _DescriptorMethods:
    # Methods of SharedMemory (``cls`` and ``self`` are one: typed as Any, since
    # they use its _new() and _open_handle(); ipcshm/__init__.pyi has the types).
    __slots__ = ()

    @classmethod
    def from_fd(cls: Any, fd: Any, readonly: bool = False, *, prefault: bool = False,
                locked: bool = False, unsealed: bool = False) -> Any:
        """Maps the POSIX or memfd object open as `fd` (an int or an object with
        fileno()). The mapping is a user of its own; `fd` stays the caller's.
        A read-only descriptor needs readonly=True (else PermissionError).

        A memfd that is not sealed against shrinking (F_SEAL_SHRINK; every memfd
        the library makes is) is PermissionError unless unsealed=True: whoever
        else holds a descriptor of it can truncate it, and this process is then
        killed (SIGBUS) when it touches the memory past the new end, whatever
        language touches it. Accept it only from a peer you trust not to."""
        flags = _attach_flags(readonly, prefault, locked, unsealed)
        n = _fileno(fd)
        return cls._new(_accel.attach_fd(n, flags), readonly, prefault)

    @classmethod
    def recv(cls: Any, sock: Any, readonly: bool = False, *, prefault: bool = False,
             locked: bool = False, unsealed: bool = False) -> Any:
        """Receives an object that send() sent on the UNIX-domain socket `sock` (a
        socket.socket or a descriptor) and maps it. Blocks as the socket does; a
        socket.socket's timeout applies (TimeoutError). ConnectionResetError if the
        peer closed the socket; ValueError for a message that is not from send().
        unsealed=True accepts a memfd that is not sealed against shrinking, with
        the risk that from_fd() describes (else PermissionError, and the object
        received is dropped)."""
        fd = _fileno(sock)
        gettimeout = getattr(sock, "gettimeout", None)
        timeout: Optional[float]
        if gettimeout is not None:
            timeout = gettimeout()
        else:
            timeout = None if os.get_blocking(fd) else 0
        if timeout != 0:
            # Wait here, where a signal (Ctrl-C) interrupts the wait: the library's
            # recvmsg retries on EINTR.
            import select
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            if not poller.poll(None if timeout is None else int(timeout * 1000)):
                raise TimeoutError("timed out")
        flags = _attach_flags(readonly, prefault, locked, unsealed)
        return cls._new(_accel.recv(fd, flags), readonly, prefault)

    def fd(self: Any) -> int:
        """A new descriptor of the object (close-on-exec; read-only if the mapping
        is), which the caller closes with os.close(). For from_fd() in another
        process, or fcntl(F_ADD_SEALS) on a memfd. System V segments have none:
        io.UnsupportedOperation (pass their id instead)."""
        return _check(_lib.ipcshm_fd(self._open_handle("get a descriptor of").out))

    def send(self: Any, sock: Any) -> None:
        """Sends the object over the connected UNIX-domain socket `sock` (a
        socket.socket or a descriptor), for recv() in the other process. This
        mapping stays. System V: io.UnsupportedOperation (pass their id instead)."""
        n = _fileno(sock)
        _check(_lib.ipcshm_send(n, self._open_handle("send").out))
