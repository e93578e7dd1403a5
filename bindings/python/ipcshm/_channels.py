"""Channel (libipcshm 1.2, ipcshm_channel_*): a bounded queue of messages from
one sender to one receiver, between processes and languages, over the C ABI.

The calls that carry messages (send_bytes, recv_bytes, recv_bytes_into and
the raw halves of reserve/commit and peek/release) are those of the end that
Channel inherits: the compiled module's ipcshm._ext.ChannelEnd (ext/channel.c)
or, without it, _channel_ends.End (ctypes). This module adds what is not on
the way of a message: opening, roles, numpy, iteration, polling, asyncio;
_channel_views.py has the views' context managers, _channel_info.py
ChannelInfo and channel_info().
"""

from __future__ import annotations

import asyncio
import ctypes
import errno
import math
import os
import select
import time
import typing
import weakref
from typing import TYPE_CHECKING, Any, Optional, SupportsIndex, Tuple, Union

from . import _accel, _channel_ends, _handles
from ._args import _FS_ENCODING, _FS_ERRORS, _PREFIXES, _fileno, _id_bytes, _perms
from ._channel_info import ChannelInfo, _new_info, channel_info
from ._channel_views import PeekedMessage, Reservation
from ._errors import _check, _error
from ._events import _readable
from ._native import (IPCSHM_END_CLOSED, IPCSHM_END_DIED, IPCSHM_HUGEPAGES, IPCSHM_LOCKED,
                      IPCSHM_OPEN_OR_CREATE, IPCSHM_PERSISTENT, IPCSHM_PREFAULT,
                      IPCSHM_RECEIVER, IPCSHM_SENDER, ipcshm_channel_info_t)
from ._native import lib as _lib
from ._primitives import _timeout_ns

__all__ = ["Channel", "ChannelInfo", "channel_info"]

_TEMPLATE = b"/ipcshm-ch-XXXXXX"
_ROLES = {"sender": IPCSHM_SENDER, "receiver": IPCSHM_RECEIVER,
          IPCSHM_SENDER: IPCSHM_SENDER, IPCSHM_RECEIVER: IPCSHM_RECEIVER}
_ROLE_NAMES = {IPCSHM_SENDER: "sender", IPCSHM_RECEIVER: "receiver"}

if TYPE_CHECKING:
    class _Base:
        """The methods of an end (ext/channel.c, or _channel_ends._End)."""
        _role: int
        _slot_size: int
        _view_kind: int
        _viewref: Optional[weakref.ref[Any]]

        @property
        def _ptr(self) -> int: ...
        def _open_end(self, how: str, *args: Any) -> int: ...
        def _close_end(self) -> int: ...
        def _views_alive(self) -> bool: ...
        def _view_again(self, readonly: bool, nbytes: Optional[int]) -> memoryview: ...
        def _peek(self, timeout_ns: int) -> memoryview: ...
        def _release(self) -> None: ...
        def _reserve(self, timeout_ns: int) -> memoryview: ...
        def _commit(self, length: int) -> None: ...

        def send_bytes(self, buf: Any, offset: int = 0, size: Optional[int] = None, *,
                       timeout: Optional[float] = None) -> None:
            """Sends `size` bytes of `buf` (any bytes-like object) from `offset`
            as one message, copied into the next free slot; waits while every
            slot is full."""

        def recv_bytes(self, maxlength: Optional[int] = None, *,
                       timeout: Optional[float] = None) -> bytes:
            """The next message as bytes, waiting while there is none. A message
            longer than `maxlength` is MessageTooLongError (it stays)."""
            ...

        def recv_bytes_into(self, buf: Any, offset: int = 0, *,
                            timeout: Optional[float] = None) -> int:
            """Copies the next message into the writable buffer `buf` from
            `offset` and returns its length. A message longer than the room is
            MessageTooLongError with its ``length`` (it stays)."""
            ...
elif _accel.ext is not None:
    class _Base(_accel.ext.ChannelEnd, _channel_ends.ZeroCopy):
        __slots__ = ()
else:
    class _Base(_channel_ends.End, _channel_ends.ZeroCopy):
        __slots__ = ()


def _role(role: Union[str, int]) -> int:
    try:
        return _ROLES[role]
    except (KeyError, TypeError):
        raise ValueError("a channel end's role is 'sender' or 'receiver' (or "
                         "IPCSHM_SENDER, IPCSHM_RECEIVER), not %r" % (role,)) from None


def _u32(value: SupportsIndex, what: str, low: int) -> int:
    import operator
    n = operator.index(value)
    if not low <= n <= 0xFFFFFFFF:
        raise ValueError("%s must be in %d..2**32-1, not %d" % (what, low, n))
    return n


def _ident(name: Union[str, bytes]) -> bytes:
    if isinstance(name, str) and "\0" not in name:
        ident = name.encode(_FS_ENCODING, _FS_ERRORS)
        if ident[:1] != b"/" and not (ident == b"private" or ident.startswith(_PREFIXES)):
            ident = b"/" + ident
        return ident
    return _id_bytes(name)


class Channel(_Base):
    """One end of a channel (ipcshm_channel_*): a bounded first-in first-out
    queue of messages from one sender to one receiver, in any process and
    language, without pickling, a feeder thread or a copy through the kernel.

    Channel(id=None, role="receiver", *, create=False, slot_size=None,
            slot_count=64, perms=0o600, volatile=True, open_or_create=False,
            prefault=False, locked=False, hugepages=False)

    ``role`` is "sender" or "receiver": a channel has at most one live end of
    each (a second one is OSError EBUSY while the first lives; once it closed
    or its process died, a new end may take the role). create=True makes a
    channel of `slot_count` slots of `slot_size` bytes (the longest message)
    in the POSIX object `id` ("/name", or a bare name; None picks a unique
    one) or in a memfd ("memfd:label", passed to the peer with send_handle()
    and Channel.recv_handle(), or object_fd() and Channel.from_fd()).
    open_or_create=True opens the role in a channel of this user's that
    exists (same slot size and count), else creates it. Without either, opens
    the role of the existing channel `id`. volatile=False keeps the channel
    (and its messages) until ipcshm.remove(id); by default it goes with its
    last end.

    Messages: send_bytes()/recv_bytes()/recv_bytes_into() copy
    (multiprocessing.Connection's names and arguments); reserve() and peek()
    write and read them in place; send()/recv() do numpy arrays. A receiver
    iterates (``for msg in ch``) until the sender's role is vacant.

    Timeouts are seconds: None waits for ever, 0 only tries (BlockingIOError
    if it would wait), otherwise TimeoutError once they passed; Ctrl-C ends a
    wait. A peer that closed or died is BrokenPipeError: a send once the
    receiver is gone; a receive once the channel is empty and the sender
    gone. A message longer than the slot, or than the room given to receive
    it, is MessageTooLongError (``.length``; the message stays). close()
    closes the end (also at exit and when the object is dropped)."""

    __slots__ = ("_id", "_readiness", "__weakref__")
    _id: str
    _readiness: int

    def _fresh(self) -> None:
        self._readiness = -1
        self._viewref = None
        self._view_kind = 0

    def __init__(self, id: Optional[Union[str, bytes]] = None,
                 role: Union[str, int] = "receiver", *, create: bool = False,
                 slot_size: Optional[SupportsIndex] = None, slot_count: SupportsIndex = 64,
                 perms: int = 0o600, volatile: bool = True, open_or_create: bool = False,
                 prefault: bool = False, locked: bool = False,
                 hugepages: bool = False) -> None:
        self._fresh()
        r = _role(role)
        flags = (IPCSHM_PREFAULT if prefault else 0) | (IPCSHM_LOCKED if locked else 0)
        if create or open_or_create:
            if slot_size is None:
                raise ValueError("creating a channel needs slot_size (the longest "
                                 "message, in bytes)")
            size = _u32(slot_size, "slot_size", 1)
            count = _u32(slot_count, "slot_count", 1)
            flags |= ((0 if volatile else IPCSHM_PERSISTENT)
                      | (IPCSHM_OPEN_OR_CREATE if open_or_create else 0)
                      | (IPCSHM_HUGEPAGES if hugepages else 0))
            ident = _TEMPLATE if id is None else _ident(id)
            self._open_end("create", ident, size, count, _perms(perms), flags, r)
        else:
            if id is None:
                raise ValueError("'id' can only be None with create=True")
            if slot_size is not None or not volatile or hugepages or perms != 0o600:
                raise ValueError("slot_size, slot_count, perms, volatile and hugepages "
                                 "apply to create=True or open_or_create=True")
            if flags:
                raise ValueError("prefault and locked apply to creating a channel")
            self._open_end("open", _ident(id), r)
        self._opened()

    def _opened(self) -> None:
        _open_ends.add(self)
        c = self._handle_info()
        self._slot_size = c.slot_size
        h = ctypes.c_void_p()
        _check(_lib.ipcshm_channel_handle(self._ptr, ctypes.byref(h)))
        raw = _lib.ipcshm_id(h)
        self._id = raw.decode("utf-8", "surrogateescape") if raw else ""

    @classmethod
    def from_fd(cls, fd: Any, role: Union[str, int] = "receiver") -> "Channel":
        """Opens the end of `role` of the channel in the POSIX or memfd object
        open as `fd` (an int or an object with fileno(): inherited, or from
        object_fd()); fd stays the caller's."""
        self = cls.__new__(cls)
        self._fresh()
        self._open_end("fd", _fileno(fd), _role(role))
        self._opened()
        return self

    @classmethod
    def recv_handle(cls, sock: Any, role: Union[str, int] = "receiver") -> "Channel":
        """Receives a channel that send_handle() sent on the UNIX-domain socket
        `sock` and opens its end of `role` (as ipcshm.h, channels rule 5)."""
        from ._shared_memory import SharedMemory
        obj = SharedMemory.recv(sock)
        try:
            fd = obj.fd()
            try:
                return cls.from_fd(fd, role)
            finally:
                os.close(fd)
        finally:
            obj.close()

    def send_handle(self, sock: Any) -> None:
        """Sends the channel's object over the connected UNIX-domain socket
        `sock`, for Channel.recv_handle() (or ipcshm_recv and
        ipcshm_channel_open_fd) in the peer."""
        _check(_lib.ipcshm_send(_fileno(sock), self._object_handle()))

    def object_fd(self) -> int:
        """A new descriptor of the channel's object (close-on-exec), which the
        caller closes: for Channel.from_fd() in a process that inherits it."""
        fd: int = _check(_lib.ipcshm_fd(self._object_handle()))
        return fd

    def _object_handle(self) -> ctypes.c_void_p:
        h = ctypes.c_void_p()
        _check(_lib.ipcshm_channel_handle(self._ptr, ctypes.byref(h)))
        return h

    # properties -----------------------------------------------------------------

    @property
    def id(self) -> str:
        """The channel's id ("/name", or "memfd:label")."""
        return self._id

    @property
    def role(self) -> str:
        """'sender' or 'receiver'."""
        return _ROLE_NAMES[self._role]

    @property
    def slot_size(self) -> int:
        """The longest message, in bytes."""
        return self._slot_size

    @property
    def closed(self) -> bool:
        try:
            self._ptr
        except ValueError:
            return True
        return False

    def _handle_info(self) -> ipcshm_channel_info_t:
        c = _new_info()
        _check(_lib.ipcshm_channel_handle_info(self._ptr, ctypes.byref(c)))
        return c

    def info(self) -> ChannelInfo:
        """ChannelInfo of this channel (a snapshot)."""
        return ChannelInfo._from_c(self._handle_info())

    # zero-copy ------------------------------------------------------------------

    def reserve(self, nbytes: Optional[SupportsIndex] = None, *,
                timeout: Optional[float] = None) -> Reservation:
        """Reserves the next free slot (waiting while there is none) for a
        message of `nbytes` (by default the slot size), written in place::

            with ch.reserve(a.nbytes) as buf:
                np.frombuffer(buf, a.dtype)[:] = a.ravel()

        See Reservation."""
        import operator
        n = self._slot_size if nbytes is None else operator.index(nbytes)
        if not 0 <= n <= self._slot_size:
            raise _too_long(n, self._slot_size)
        buf = self._reserve(_timeout_ns(timeout))
        if n != self._slot_size:
            part = buf[:n]
            buf.release()
            buf = part
        return Reservation(self, buf, n)

    def peek(self, *, timeout: Optional[float] = None) -> PeekedMessage:
        """The next message, in place (waiting while there is none)::

            with ch.peek() as msg:
                total += np.frombuffer(msg, np.float32).sum()

        See PeekedMessage."""
        return PeekedMessage(self, self._peek(_timeout_ns(timeout)))

    # numpy ----------------------------------------------------------------------

    def send(self, array: Any, *, timeout: Optional[float] = None) -> None:
        """Sends the bytes of `array` (a numpy array, or anything numpy takes;
        C order) as one message, written once, straight into the slot (also
        for an array that is not contiguous). The receiver gives its dtype and
        shape to recv()."""
        import numpy as np
        a = np.asanyarray(array)
        with self.reserve(a.nbytes, timeout=timeout) as buf:
            dst = np.frombuffer(buf, dtype=a.dtype).reshape(a.shape) if a.nbytes else None
            if dst is not None:
                np.copyto(dst, a, casting="no")
            del dst

    def recv(self, dtype: Any = "u1", shape: Optional[Tuple[int, ...]] = None, *,
             timeout: Optional[float] = None) -> Any:
        """The next message as a new numpy array of `dtype` (and `shape`: by
        default one dimension), copied once from the slot. A message whose
        length does not fit the dtype or shape is ValueError (and stays)."""
        import numpy as np
        dt = np.dtype(dtype)
        with self.peek(timeout=timeout) as msg:
            n = msg.nbytes
            if dt.itemsize == 0 or n % dt.itemsize:
                raise ValueError("a message of %d bytes is not an array of %s" % (n, dt))
            if shape is not None and math.prod(shape) * dt.itemsize != n:
                raise ValueError("a message of %d bytes is not an array of %s of shape %r"
                                 % (n, dt, tuple(shape)))
            a = np.frombuffer(msg, dtype=dt)
            out = a.reshape(shape) if shape is not None else a
            out = out.copy()
            del a
        return out

    # iteration, polling, asyncio -----------------------------------------------

    def __iter__(self) -> typing.Iterator[bytes]:
        """The messages (recv_bytes()) until the sender's role is vacant and
        the channel empty; other errors raise."""
        while True:
            try:
                yield self.recv_bytes()
            except BrokenPipeError:
                return

    def fileno(self) -> int:
        """A descriptor that is readable when this end can go on without
        waiting (a message is there; a slot is free; the peer is gone), for
        select, poll or an event loop (ipcshm_channel_fd). It belongs to the
        channel (close() closes it): read it, do not close it."""
        fd = self._readiness
        if fd < 0:
            fd = _check(_lib.ipcshm_channel_fd(self._ptr))
            self._readiness = fd
        return fd

    def poll(self, timeout: Optional[float] = 0.0) -> bool:
        """True if the next receive (for a sender: send) would not wait: a
        message is there (a slot is free), or the peer's role is vacant.
        Waits up to `timeout` seconds (None: for ever) for that."""
        limit = _timeout_ns(timeout)
        deadline = None if limit < 0 else time.monotonic() + limit / 1e9
        while True:
            c = self._handle_info()
            if self._role == IPCSHM_RECEIVER:
                ready = c.queued > 0 or c.sender in (IPCSHM_END_CLOSED, IPCSHM_END_DIED)
            else:
                ready = (c.queued < c.slot_count
                         or c.receiver in (IPCSHM_END_CLOSED, IPCSHM_END_DIED))
            if ready:
                return True
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            fd = self.fileno()
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            if poller.poll(None if left is None else max(1, int(left * 1000))):
                _drain(fd)

    async def _async(self, call: Any, timeout: Optional[float]) -> Any:
        limit = _timeout_ns(timeout)
        loop = asyncio.get_running_loop()
        deadline = None if limit < 0 else loop.time() + limit / 1e9
        while True:
            try:
                return call()
            except BlockingIOError:
                pass
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                raise TimeoutError(errno.ETIMEDOUT, "the channel's timeout passed")
            fd = self.fileno()
            if await _readable(loop, fd, left):
                _drain(fd)

    async def recv_bytes_async(self, maxlength: Optional[int] = None, *,
                               timeout: Optional[float] = None) -> bytes:
        """recv_bytes() for asyncio: ``msg = await ch.recv_bytes_async()`` lets
        the event loop run other tasks meanwhile (it waits on fileno() with
        loop.add_reader)."""
        result: bytes = await self._async(
            lambda: self.recv_bytes(maxlength, timeout=0), timeout)
        return result

    async def send_bytes_async(self, buf: Any, offset: int = 0, size: Optional[int] = None,
                               *, timeout: Optional[float] = None) -> None:
        """send_bytes() for asyncio (waits on fileno() while the channel is full)."""
        await self._async(lambda: self.send_bytes(buf, offset, size, timeout=0), timeout)

    def __aiter__(self) -> typing.AsyncIterator[bytes]:
        return self._aiter()

    async def _aiter(self) -> typing.AsyncIterator[bytes]:
        while True:
            try:
                yield await self.recv_bytes_async()
            except BrokenPipeError:
                return

    # closing --------------------------------------------------------------------

    def close(self) -> None:
        """Closes the end: its role becomes vacant (the peer gets
        BrokenPipeError once it has what was committed), a reserved slot is
        dropped, a peeked message stays for the next receiver; a volatile
        channel whose other end is closed too goes. BufferError while a view
        of a peeked message or reserved slot is alive (the end stays open).
        Closing twice is fine."""
        if self._views_alive():
            raise BufferError("cannot close %r: a view of its %s is still alive"
                              % (self, "peeked message" if self._view_kind == 1
                                 else "reserved slot"))
        fd, self._readiness = self._readiness, -1
        rc = self._close_end()
        if fd >= 0:
            os.close(fd)
        if rc < 0 and rc != -errno.EBADF:
            raise _error(rc)

    def __enter__(self) -> "Channel":
        return self

    def __del__(self) -> None:
        # (the end itself closes when its owner dies: only fileno()'s descriptor)
        fd = getattr(self, "_readiness", -1)
        if fd >= 0:
            self._readiness = -1
            try:
                os.close(fd)
            except OSError:
                pass

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle %r: an end holds its role in this process; pass "
                        "the id (or send_handle()) and open the end in the other "
                        "process" % self)

    def __repr__(self) -> str:
        state = ", closed" if self.closed else ""
        return "<ipcshm.Channel %r %s%s>" % (getattr(self, "_id", "?"),
                                             _ROLE_NAMES.get(self._role, "?"), state)


def _too_long(length: int, limit: int) -> Exception:
    from ._errors import MessageTooLongError
    return MessageTooLongError(length, limit, -errno.EMSGSIZE,
                               b"a message of %d bytes is longer than a slot (%d bytes)"
                               % (length, limit))


def _drain(fd: int) -> None:
    """Reads what waits in a channel's descriptor (8-byte hints)."""
    while True:
        try:
            if not os.read(fd, 64):
                return          # end of file: the end was closed (the call says so)
        except (BlockingIOError, InterruptedError):
            return


# The open ends, closed at exit (but those whose views are alive: a thread may
# still read them; the kernel drops their roles when the process ends).
_open_ends: "weakref.WeakSet[Channel]" = weakref.WeakSet()


def _close_at_exit() -> None:
    for ch in list(_open_ends):
        try:
            if not ch._views_alive():
                ch.close()
        except Exception:   # (at exit: nothing to tell it to)
            pass


_handles.before_exit.append(_close_at_exit)
