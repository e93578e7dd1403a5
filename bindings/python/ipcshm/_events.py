"""Event: a doorbell with a sequence number in shared memory (ipcshm_event_*,
libipcshm 1.2), with an awaitable wait for asyncio over its descriptor
(ipcshm_event_fd and loop.add_reader)."""

from __future__ import annotations

import asyncio
import ctypes
import errno
import operator
import os
from typing import Any, Optional, SupportsIndex

from ._errors import _check
from ._native import lib as _lib
from ._primitives import _UINT64_MAX, _Primitive, _retry, _timeout_ns

_init = _lib.ipcshm_event_init
_notify = _lib.ipcshm_event_notify
_sequence = _lib.ipcshm_event_sequence
_wait = _lib.ipcshm_event_wait
_fd = _lib.ipcshm_event_fd


def _seen(value: SupportsIndex) -> int:
    n = operator.index(value)
    if not 0 <= n <= _UINT64_MAX:
        raise OverflowError("a sequence is in 0..2**64-1, not %d" % n)
    return n


class Event(_Primitive):
    """An event (ipcshm_event_*) at `offset` (8-aligned, 64 bytes) of `shm`, a
    SharedMemory (or any buffer): a 64-bit sequence number that notify()
    increments, waking every waiter, in any process and language.

    Event(shm, offset=0, *, init=False)

    init=True initialises it (sequence 0): once, by the creator of the memory,
    before others use it. Memory that is not an event is a ValueError
    (EINVAL; EBADMSG for impossible contents).

    A waiter reads the sequence, looks at the shared state the event
    announces changes of, and waits for the sequence to move on from what it
    read: a notify() in between is never lost, and several are seen as one::

        seen = ev.sequence()
        while not ready():
            seen = ev.wait(seen)

    With a Mutex this is a condition variable (read the sequence while holding
    the mutex, release it, then wait): see examples/condition.py.

    The Event keeps the mapping alive: the SharedMemory's close() raises
    BufferError while it lives. In read-only memory only sequence() works;
    the rest is PermissionError (EACCES).
    """

    __slots__ = ()

    def __init__(self, shm: Any, offset: SupportsIndex = 0, *, init: bool = False) -> None:
        super().__init__(shm, offset)
        if init:
            self.init()

    def init(self) -> None:
        """Makes the memory an event with sequence 0 (ipcshm_event_init). Once,
        before anyone uses it: initialising an event in use breaks it."""
        _check(_init(self._writable("ipcshm_event_init")))

    def notify(self) -> None:
        """Increments the sequence and wakes every waiter (and makes every
        descriptor of fd() readable). No system call when nobody waits."""
        _check(_notify(self._writable("ipcshm_event_notify")))

    def sequence(self) -> int:
        """The current sequence (works in read-only memory too)."""
        out = ctypes.c_uint64()
        _check(_sequence(self._ptr, ctypes.byref(out)))
        return out.value

    def wait(self, seen: SupportsIndex, timeout: Optional[float] = None) -> Optional[int]:
        """Waits until the sequence differs from `seen` and returns it (at once
        if it differs already). None if `timeout` seconds passed first (None:
        no limit; 0 only looks); compare with None, since a sequence may be 0.
        Ctrl-C (a signal handler's exception) ends the wait; other signals do
        not."""
        ptr = self._writable("ipcshm_event_wait")
        cell = ctypes.c_uint64(_seen(seen))
        ref = ctypes.byref(cell)
        rc = _retry(lambda t: int(_wait(ptr, ref, t)), _timeout_ns(timeout))
        if rc in (-errno.ETIMEDOUT, -errno.EAGAIN):
            return None
        _check(rc)
        return cell.value

    def fd(self) -> int:
        """A new descriptor (non-blocking, close-on-exec) that becomes readable
        after every notify() that comes after this call, for select, poll,
        epoll or an event loop; the caller reads it (8 bytes: a sequence; see
        ipcshm_event_fd for the rest) and closes it with os.close(). It stays
        usable after the mapping is closed. Memory that cannot be mapped twice
        (huge pages, a private buffer) is io.UnsupportedOperation."""
        fd: int = _check(_fd(self._writable("ipcshm_event_fd")))
        return fd

    async def wait_async(self, seen: SupportsIndex,
                         timeout: Optional[float] = None) -> Optional[int]:
        """wait() for asyncio: ``seq = await ev.wait_async(seen)`` lets the
        event loop run other tasks meanwhile. Returns the new sequence, or None
        after `timeout` seconds (None: no limit). It waits on a descriptor of
        fd() with loop.add_reader (a selector event loop, as asyncio's default
        on Linux), which it closes when it returns, fails or is cancelled."""
        want = _seen(seen)
        limit = _timeout_ns(timeout)
        loop = asyncio.get_running_loop()
        deadline = None if limit < 0 else loop.time() + limit / 1e9
        fd = self.fd()      # first: a notify from here on makes it readable
        try:
            while True:
                seq = self.sequence()
                if seq != want:
                    return seq
                left = None if deadline is None else deadline - loop.time()
                if left is not None and left <= 0:
                    return None
                if not await _readable(loop, fd, left):
                    continue        # timed out: the loop's last look decides
                if _drain(fd):
                    # End of file: the event was overwritten. sequence() says
                    # how (an error), or a new descriptor watches it again.
                    self.sequence()
                    os.close(fd)
                    fd = -1
                    fd = self.fd()
        finally:
            if fd >= 0:
                os.close(fd)


def _wake(fut: asyncio.Future[bool], value: bool) -> None:
    if not fut.done():
        fut.set_result(value)


async def _readable(loop: asyncio.AbstractEventLoop, fd: int,
                    timeout: Optional[float]) -> bool:
    """True once `fd` is readable, False after `timeout` seconds."""
    fut: asyncio.Future[bool] = loop.create_future()
    loop.add_reader(fd, _wake, fut, True)
    timer = None if timeout is None else loop.call_later(timeout, _wake, fut, False)
    try:
        return await fut
    finally:
        loop.remove_reader(fd)
        if timer is not None:
            timer.cancel()


def _drain(fd: int) -> bool:
    """Reads what waits in an event descriptor; True at end of file."""
    while True:
        try:
            data = os.read(fd, 64)
        except BlockingIOError:
            return False
        except InterruptedError:    # pragma: no cover - os.read retries (PEP 475)
            continue
        if not data:
            return True
