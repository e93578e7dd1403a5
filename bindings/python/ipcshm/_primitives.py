"""What the signalling primitives (libipcshm 1.2: _events.py, _semaphores.py,
_mutexes.py) share: their place in a mapping, timeouts in seconds, waits that
Ctrl-C interrupts; and wait_word()/wake_word() (ipcshm_wait, ipcshm_wake).

A primitive holds a 64-byte memoryview of the mapping, made from the
SharedMemory's ``buf`` (or from any buffer it was given): like every view, it
keeps the buffer's exporter, and with it the mapping, alive. So the rule of
_buffers.py holds for primitives too: SharedMemory.close() and resize() raise
BufferError while a primitive of the mapping lives, and the memory under a
primitive is never unmapped, not even at interpreter exit while a daemon thread
waits on it. The library is given the address of that view (for a POSIX
object, Python's own second mapping of the same pages: futexes of shared
mappings are keyed by the page, not the address, so every mapping of the
object, in any process, sees the same primitive).

The library remembers, per thread, pages it found writable until *it* unmaps
something (ipcshm.h, rule 3 of signalling); Python's second mappings are
unmapped by Python. So calls that write a primitive are refused here, in
Python, for read-only memory (PermissionError, EACCES, as the library would
say), and never reach the library with an address whose writability it might
remember from an earlier mapping there.
"""

from __future__ import annotations

import ctypes
import errno
import io
import math
import operator
import threading
import time
from typing import Any, Callable, Optional, SupportsIndex, Tuple

from ._errors import _check
from ._native import IPCSHM_EVENT_SIZE, IPCSHM_MUTEX_SIZE, IPCSHM_SEM_SIZE
from ._native import lib as _lib
from ._shared_memory import SharedMemory

__all__ = ["IPCSHM_EVENT_SIZE", "IPCSHM_SEM_SIZE", "IPCSHM_MUTEX_SIZE",
           "wait_word", "wake_word"]

_INT64_MAX = 2**63 - 1
_UINT32_MAX = 2**32 - 1
_UINT64_MAX = 2**64 - 1

# The address of a buffer, in one C call that also releases it (as _buffers.py
# takes it): read-only buffers included, and nothing left exported if an
# exception comes after it.
_as_read_buffer = getattr(ctypes.pythonapi, "PyObject_AsReadBuffer", None)
if _as_read_buffer is not None:
    _as_read_buffer.restype = ctypes.c_int
    _as_read_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(ctypes.c_void_p),
                                ctypes.POINTER(ctypes.c_ssize_t)]

# Runs the signal handlers whose signals arrived (in the main thread; 0
# elsewhere); a handler's exception (KeyboardInterrupt) is raised from here.
_check_signals = ctypes.pythonapi.PyErr_CheckSignals
_check_signals.restype = ctypes.c_int
_check_signals.argtypes = []

# A wait in the main thread is made of calls of at most this long, with the
# signal handlers run between two: a signal that arrives while the library
# spins, or between two of its sleeps, does not end its wait (ipcshm.h,
# signalling rule 5); its handler then runs within this time, not when the
# wait ends.
_SLICE_NS = 250_000_000


def _address(view: memoryview) -> int:
    """The address of the first byte of `view`."""
    if _as_read_buffer is not None:
        addr, n = ctypes.c_void_p(), ctypes.c_ssize_t()
        _as_read_buffer(view, ctypes.byref(addr), ctypes.byref(n))
        return addr.value or 0
    if not view.readonly:
        return ctypes.addressof(ctypes.c_char.from_buffer(view))
    raise io.UnsupportedOperation(   # pragma: no cover - CPython has the function
        errno.EOPNOTSUPP, "this Python cannot tell the address of a read-only buffer")


def _placed(mem: Any, offset: SupportsIndex, size: int, align: int,
            what: str) -> Tuple[memoryview, int, Any, int]:
    """(view of the `size` bytes at `offset` of `mem`, their address, the
    SharedMemory or None, offset) for a primitive called `what`. `mem` is a
    SharedMemory or any object with a contiguous buffer (an mmap, a
    memoryview). TypeError, or ValueError with what is wrong."""
    at = operator.index(offset)
    shm: Any = None
    if isinstance(mem, SharedMemory):
        shm = mem
        whole = mem.buf
        if whole is None:
            raise ValueError("cannot place %s in %r: it is closed" % (what, mem))
        name = repr(mem.id)
    else:
        try:
            whole = memoryview(mem)
        except TypeError:
            raise TypeError("%s needs a SharedMemory or a buffer (an mmap, a memoryview), "
                            "not %s" % (what, type(mem).__name__)) from None
        if not whole.c_contiguous:
            raise ValueError("%s needs contiguous memory" % what)
        if whole.format != "B" or whole.ndim != 1:
            whole = whole.cast("B")
        name = "a buffer"
    length = whole.nbytes
    if at < 0:
        raise ValueError("%s: offset %d is negative" % (what, at))
    if at % align != 0:
        raise ValueError("%s: offset %d is not a multiple of %d: a primitive starts "
                         "%d-byte aligned" % (what, at, align, align))
    if at > length - size:
        raise ValueError("%s: offset %d leaves no room for its %d bytes in %s of %d bytes"
                         % (what, at, size, name, length))
    view = whole[at:at + size]
    addr = _address(view)
    if addr % align != 0:
        raise ValueError("%s: the memory at offset %d (address 0x%x) is not %d-byte "
                         "aligned" % (what, at, addr, align))
    return view, addr, shm, at


def _timeout_ns(timeout: Optional[float], blocking: bool = True) -> int:
    """A timeout in seconds (None: for ever), or blocking=False, as the library's
    nanoseconds: -1 for ever, 0 only tries, otherwise at least 1."""
    if not blocking:
        if timeout is not None and timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking call")
        return 0
    if timeout is None:
        return -1
    seconds = float(timeout)
    if math.isnan(seconds):
        raise ValueError("timeout is NaN")
    if seconds == -1:           # threading.Lock.acquire's "for ever"
        return -1
    if seconds < 0:
        raise ValueError("timeout value must be a non-negative number (or None)")
    if seconds == 0:
        return 0
    if seconds * 1e9 >= _INT64_MAX:
        return -1               # (292 years or more)
    return max(1, math.ceil(seconds * 1e9))


def _retry(fn: Callable[[int], int], timeout_ns: int) -> int:
    """fn(timeout) until it returns anything but -EINTR, with what is left of
    the timeout. On -EINTR, and between the slices of a long wait in the main
    thread, the signal handlers run: a handler's exception (KeyboardInterrupt
    for Ctrl-C) ends the wait. Returns fn's last result (-ETIMEDOUT or -EAGAIN
    when time ran out)."""
    if timeout_ns == 0:
        rc = fn(0)
        while rc == -errno.EINTR:
            _check_signals()
            rc = fn(0)
        return rc
    main = threading.current_thread() is threading.main_thread()
    deadline = None if timeout_ns < 0 else time.monotonic_ns() + timeout_ns
    while True:
        if deadline is None:
            left = -1
        else:
            left = deadline - time.monotonic_ns()
            if left <= 0:
                return fn(0)    # one last try: the deadline passed in a handler
        sliced = main and (left < 0 or left > _SLICE_NS)
        rc = fn(_SLICE_NS if sliced else left)
        if rc == -errno.EINTR or (sliced and rc == -errno.ETIMEDOUT):
            _check_signals()
            continue
        return rc


def _read_only(call: str, what: str) -> PermissionError:
    """The error of a call that writes a primitive in read-only memory (as the
    library says it: EACCES)."""
    return PermissionError(errno.EACCES, "%s: %s is in memory this process may only "
                           "read (a read-only mapping)" % (call, what))


class _Primitive:
    """A primitive at a place of a mapping: the view that keeps the mapping
    alive, its address, and what it was made from (for repr and pickling)."""

    __slots__ = ("_view", "_ptr", "_shm", "_offset", "__weakref__")
    _SIZE = 64
    _view: memoryview
    _ptr: int
    _shm: Any
    _offset: int

    def __init__(self, mem: Any, offset: SupportsIndex) -> None:
        what = type(self).__name__
        self._view, self._ptr, self._shm, self._offset = _placed(
            mem, offset, self._SIZE, 8, "ipcshm." + what)

    @property
    def offset(self) -> int:
        """The offset of the primitive in its mapping (or buffer)."""
        return self._offset

    @property
    def readonly(self) -> bool:
        """True if the primitive is in read-only memory: only the calls that
        read it (Event.sequence(), Semaphore.value()) work there."""
        return self._view.readonly

    def _writable(self, call: str) -> int:
        """The address, for a call that writes the primitive."""
        if self._view.readonly:
            raise _read_only(call, "%s at offset %d" % (type(self).__name__.lower(),
                                                        self._offset))
        return self._ptr

    def __reduce__(self) -> Tuple[Any, Tuple[Any, int]]:
        # As the SharedMemory it is in: attached again by id where it arrives.
        if self._shm is None:
            raise TypeError("cannot pickle %r: only a primitive in a SharedMemory can be "
                            "pickled" % self)
        return (type(self), (self._shm, self._offset))

    def __repr__(self) -> str:
        where = repr(self._shm) if self._shm is not None else "a buffer"
        return "<ipcshm.%s at offset %d of %s>" % (type(self).__name__, self._offset, where)


def _word(mem: Any, offset: SupportsIndex) -> Tuple[memoryview, int]:
    view, addr, _, _ = _placed(mem, offset, 4, 4, "a 32-bit word")
    return view, addr


def _u32(value: SupportsIndex, what: str) -> int:
    n = operator.index(value)
    if not 0 <= n <= _UINT32_MAX:
        raise OverflowError("%s %d is outside 0..2**32-1" % (what, n))
    return n


_wait = _lib.ipcshm_wait
_wake = _lib.ipcshm_wake
_u32p = ctypes.POINTER(ctypes.c_uint32)


def wait_word(mem: Any, offset: SupportsIndex, expected: SupportsIndex,
              timeout: Optional[float] = None) -> bool:
    """Sleeps while the 32-bit word at `offset` (4-aligned) of `mem` (a
    SharedMemory or a buffer; read-only memory too) holds `expected`
    (ipcshm_wait, the futex contract). True when woken by wake_word() or if
    the word held another value; False when `timeout` seconds passed (None:
    no limit; 0: only looks). Wake-ups may be spurious: check the word again.
    A signal handler's exception (Ctrl-C) ends the wait."""
    view, addr = _word(mem, offset)
    want = _u32(expected, "expected value")
    word = ctypes.cast(addr, _u32p)
    rc = _retry(lambda t: int(_wait(word, want, t)), _timeout_ns(timeout))
    del view        # (kept alive until the call returned)
    if rc in (-errno.ETIMEDOUT, -errno.EAGAIN):
        return False
    _check(rc)
    return True


def wake_word(mem: Any, offset: SupportsIndex, count: Optional[int] = None) -> int:
    """Wakes up to `count` (None: all) waiters of wait_word() on the 32-bit word
    at `offset` of `mem`, in any process, and returns how many it woke. Change
    the word before waking: a waiter that has not slept yet then sees it."""
    view, addr = _word(mem, offset)
    n = _UINT32_MAX if count is None else _u32(count, "count")
    rc: int = _check(_wake(ctypes.cast(addr, _u32p), n))
    del view
    return rc
