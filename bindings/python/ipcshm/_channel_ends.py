"""The end of a channel over ctypes (the fallback of the compiled module's
ipcshm._ext.ChannelEnd, ext/channel.c): it owns one ipcshm_channel_t * and
makes the calls that carry messages, with the same names, arguments and
errors as the compiled one. Channel (_channels.py) inherits from one of the
two (_accel.py chooses), so that its hot methods are these, with no Python
frame of its own in between.

Ownership as _handles.py does it for ipcshm_t *: the library writes the new
end straight into ``_out``, and a weak reference's callback (a ctypes
function: no Python code runs) closes it when the object dies, so a Ctrl-C at
any moment leaks nothing.

Views of a slot (peek, reserve): the memory of a message or of a reserved slot
is exported through one object per view (a ctypes array over the slot, which
holds the end), and every Python view made from it holds that object. It is
alive exactly while a view is, so "is a view left?" is a weak reference's
question: the message is released, or the slot committed, only when none is
(else BufferError, as SharedMemory.close() raises), and the end is not closed
while a view of its mapping lives.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import weakref
from typing import TYPE_CHECKING, Any, Callable, Optional, Set, Tuple

from ._errors import MessageTooLongError, _check, _error
from ._native import lib as _lib
from ._primitives import _address, _retry, _timeout_ns

_create = _lib.ipcshm_channel_create
_open = _lib.ipcshm_channel_open
_open_fd = _lib.ipcshm_channel_open_fd
_send = _lib.ipcshm_channel_send
_recv = _lib.ipcshm_channel_recv
_reserve = _lib.ipcshm_channel_reserve
_commit = _lib.ipcshm_channel_commit
_peek = _lib.ipcshm_channel_peek
_release = _lib.ipcshm_channel_release
_close = _lib.ipcshm_channel_close

# ipcshm_channel_close with a second, ignored argument: the weak reference
# that a callback receives (as _handles.py's detach callback).
_close_callback = _lib["ipcshm_channel_close"]
_close_callback.restype = ctypes.c_int
_close_callback.argtypes = [ctypes.c_void_p, ctypes.py_object]

_live: Set[weakref.ref[Any]] = set()


def _buffer_span(buf: Any, offset: int, size: Optional[int]) -> tuple[memoryview, int, int]:
    """(view, offset, size) of the bytes to send, checked as
    multiprocessing.Connection.send_bytes checks them."""
    m = memoryview(buf)
    if not m.c_contiguous:
        raise BufferError("send_bytes needs a contiguous buffer")
    n = m.nbytes
    if offset < 0:
        raise ValueError("offset is negative")
    if n < offset:
        raise ValueError("buffer length < offset")
    if size is None:
        size = n - offset
    elif size < 0:
        raise ValueError("size is negative")
    elif offset + size > n:
        raise ValueError("buffer length < offset + size")
    return m, offset, size


def _waiting(fn: Callable[[int], int], timeout_ns: int) -> int:
    """fn(timeout) as _primitives._retry calls it (Ctrl-C ends a wait); a
    timeout > 0 that passed is -ETIMEDOUT (TimeoutError), also when the last
    try said -EAGAIN."""
    rc = _retry(fn, timeout_ns)
    if rc == -errno.EAGAIN and timeout_ns != 0:
        return -errno.ETIMEDOUT
    return rc


class End:
    """One end of a channel (ctypes). The methods that Channel documents:
    send_bytes, recv_bytes, recv_bytes_into; and the raw halves of the
    zero-copy calls (_peek_raw, _release_raw, _reserve_raw, _commit_raw) and
    of opening and closing."""

    __slots__ = ("_out", "_watch", "_slot_size", "_role", "_viewref", "_view_kind")
    _out: ctypes.c_void_p
    _slot_size: int
    _role: int
    _viewref: Optional[weakref.ref[Any]]
    _view_kind: int

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        self = super().__new__(cls)
        self._out = ctypes.c_void_p()
        self._slot_size = 0
        self._role = 0
        self._viewref = None
        self._view_kind = 0
        return self

    # opening and closing ------------------------------------------------------

    def _own(self, rc: int, role: int) -> int:
        if rc < 0:
            raise _error(rc)
        out = self._out
        self._watch = weakref.ref(self, functools.partial(_close_callback, out))
        _live.add(self._watch)
        self._role = role
        return rc

    def _open_end(self, how: str, *args: Any) -> int:
        """_create(id, slot_size, slot_count, perms, flags, role), _open(id,
        role) or _open_fd(fd, role): the library writes the end into _out."""
        if self._out.value:
            raise ValueError("this channel end is open already")
        ref = ctypes.byref(self._out)
        if how == "create":
            rc = _create(*args, ref)
        elif how == "open":
            rc = _open(*args, ref)
        else:
            rc = _open_fd(*args, ref)
        return self._own(rc, args[-1])

    def _close_end(self) -> int:
        """Closes the end (ipcshm_channel_close); 0, or -errno."""
        out = self._out
        h = out.value
        if not h:
            return 0
        out.value = None
        _live.discard(self._watch)
        return int(_close(h))

    @property
    def _ptr(self) -> int:
        """The end's value (for the calls made over ctypes in _channels.py)."""
        h = self._out.value
        if not h:
            raise ValueError("I/O operation on a closed channel")
        return h

    # copying ------------------------------------------------------------------

    def send_bytes(self, buf: Any, offset: int = 0, size: Optional[int] = None, *,
                   timeout: Optional[float] = None) -> None:
        if buf.__class__ is bytes and offset == 0 and size is None:
            addr: Any = buf         # (ctypes passes the bytes' own memory)
            size = len(buf)
            m = None
        else:
            m, offset, size = _buffer_span(buf, offset, size)
            addr = (_address(m) if size else 0) + offset
        h = self._ptr
        t = -1 if timeout is None else _timeout_ns(timeout)
        rc = _send(h, addr, size, 0)        # first without waiting
        if (rc == -errno.EAGAIN or rc == -errno.EINTR) and t != 0:
            rc = _waiting(lambda t: int(_send(h, addr, size, t)), t)
        del m
        if rc < 0:
            if rc == -errno.EMSGSIZE:
                raise MessageTooLongError(size, self._slot_size, rc)
            raise _error(rc)

    def recv_bytes(self, maxlength: Optional[int] = None, *,
                   timeout: Optional[float] = None) -> bytes:
        h = self._ptr
        t = -1 if timeout is None else _timeout_ns(timeout)
        if maxlength is not None:
            if maxlength < 0:
                raise ValueError("negative maxlength")
            buf = ctypes.create_string_buffer(maxlength)
            got = ctypes.c_uint64()
            ref = ctypes.byref(got)
            rc = _waiting(lambda t: int(_recv(h, buf, maxlength, ref, t)), t)
            if rc < 0:
                if rc == -errno.EMSGSIZE:
                    raise MessageTooLongError(got.value, maxlength, rc)
                raise _error(rc)
            return buf.raw[:got.value]
        vref = self._viewref
        if vref is not None and vref() is not None:
            raise BufferError("cannot receive: a view of the peeked message is still alive")
        ptr = ctypes.c_void_p()
        n = ctypes.c_uint64()
        pref, nref = ctypes.byref(ptr), ctypes.byref(n)
        rc = _peek(h, pref, nref, 0)        # first without waiting
        if rc < 0:
            if (rc == -errno.EAGAIN or rc == -errno.EINTR) and t != 0:
                rc = _waiting(lambda t: int(_peek(h, pref, nref, t)), t)
            _check(rc)
        data = ctypes.string_at(ptr.value or 0, n.value) if n.value else b""
        _check(_release(h))
        self._view_kind = 0     # (a message peeked before, with no view left: taken now)
        self._viewref = None
        return data

    def recv_bytes_into(self, buf: Any, offset: int = 0, *,
                        timeout: Optional[float] = None) -> int:
        m = memoryview(buf)
        if m.readonly:
            raise TypeError("recv_bytes_into needs a writable buffer")
        if not m.c_contiguous:
            raise BufferError("recv_bytes_into needs a contiguous buffer")
        n = m.nbytes
        if not 0 <= offset <= n:
            raise ValueError("offset out of bounds")
        h = self._ptr
        cap = n - offset
        addr = (_address(m) + offset) if cap else 0
        got = ctypes.c_uint64()
        ref = ctypes.byref(got)
        rc = _waiting(lambda t: int(_recv(h, addr, cap, ref, t)), _timeout_ns(timeout))
        del m
        if rc < 0:
            if rc == -errno.EMSGSIZE:
                raise MessageTooLongError(got.value, cap, rc)
            raise _error(rc)
        return got.value

    # the raw halves of zero-copy (ext/channel.c has the same) -----------------

    def _peek_raw(self, timeout_ns: int) -> Tuple[int, int]:
        h = self._ptr
        ptr = ctypes.c_void_p()
        n = ctypes.c_uint64()
        pref, nref = ctypes.byref(ptr), ctypes.byref(n)
        _check(_waiting(lambda t: int(_peek(h, pref, nref, t)), timeout_ns))
        return ptr.value or 0, n.value

    def _reserve_raw(self, timeout_ns: int) -> int:
        h = self._ptr
        ptr = ctypes.c_void_p()
        pref = ctypes.byref(ptr)
        _check(_waiting(lambda t: int(_reserve(h, pref, t)), timeout_ns))
        return ptr.value or 0

    def _release_raw(self) -> None:
        _check(_release(self._ptr))

    def _commit_raw(self, length: int) -> None:
        rc = int(_commit(self._ptr, length))
        if rc == -errno.EMSGSIZE:
            raise MessageTooLongError(length, self._slot_size, rc)
        _check(rc)


class ZeroCopy:
    """The views of peek and reserve, for both ends (over their raw calls).
    The end it is mixed with has _viewref and _view_kind (slots, or members
    of the compiled ChannelEnd, whose recv_bytes looks at them)."""

    if not TYPE_CHECKING:
        __slots__ = ()
    _viewref: Optional[weakref.ref[Any]]
    _view_kind: int         # 0 none, 1 peeked, 2 reserved
    _slot_size: int

    def _views_alive(self) -> bool:
        ref = self._viewref
        return ref is not None and ref() is not None

    def _export(self, ptr: int, size: int, readonly: bool, kind: int) -> memoryview:
        exporter: Any
        if size:
            exporter = (ctypes.c_ubyte * size).from_address(ptr)
        else:
            exporter = ctypes.create_string_buffer(0)
        exporter.end = self             # views keep the end (and its mapping)
        raw = memoryview(exporter)      # ('<B': cast to 'B', as _buffers.py does)
        view = raw.cast("B")
        raw.release()
        if readonly:
            ro = view.toreadonly()
            view.release()
            view = ro
        self._viewref = weakref.ref(exporter)
        self._view_kind = kind
        return view

    def _view_again(self, readonly: bool, nbytes: Optional[int]) -> memoryview:
        """A new view (of `nbytes`, or all) from the exporter of the live views."""
        ref = self._viewref
        exporter = ref() if ref is not None else None
        if exporter is None:
            raise ValueError("no view of a slot is alive")
        raw = memoryview(exporter)
        view = raw.cast("B")
        raw.release()
        if readonly:
            ro = view.toreadonly()
            view.release()
            view = ro
        if nbytes is not None and nbytes != len(view):
            part = view[:nbytes]
            view.release()
            view = part
        return view

    def _check_no_view(self, what: str) -> None:
        if self._views_alive():
            raise BufferError("cannot %s: a view of the %s is still alive" % (
                what, "peeked message" if self._view_kind == 1 else "reserved slot"))

    def _peek(self, timeout_ns: int) -> memoryview:
        """A read-only view of the next message, in place (ipcshm_channel_peek)."""
        self._check_no_view("peek")
        ptr, n = self._peek_raw(timeout_ns)     # type: ignore[attr-defined]
        return self._export(ptr, n, True, 1)

    def _release(self) -> None:
        """Releases the peeked message (ipcshm_channel_release); BufferError
        while a view of it lives."""
        self._check_no_view("release the message")
        self._viewref = None
        self._view_kind = 0
        self._release_raw()     # type: ignore[attr-defined]

    def _reserve(self, timeout_ns: int) -> memoryview:
        """A writable view of the next free slot (ipcshm_channel_reserve)."""
        self._check_no_view("reserve")
        ptr = self._reserve_raw(timeout_ns)     # type: ignore[attr-defined]
        return self._export(ptr, self._slot_size, False, 2)

    def _commit(self, length: int) -> None:
        """Sends the first `length` bytes of the reserved slot
        (ipcshm_channel_commit); BufferError while a view of it lives."""
        self._check_no_view("commit the slot")
        if length < 0:
            raise ValueError("negative length")
        try:
            self._commit_raw(length)        # type: ignore[attr-defined]
        except MessageTooLongError:
            raise       # (the slot stays reserved)
        except BaseException:
            self._viewref = None
            self._view_kind = 0
            raise
        self._viewref = None
        self._view_kind = 0
