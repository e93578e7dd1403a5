"""Semaphore: a counting semaphore in shared memory (ipcshm_sem_*, libipcshm
1.2), with the surface of threading.Semaphore."""

from __future__ import annotations

import ctypes
import errno
import operator
from typing import Any, Optional, SupportsIndex

from ._errors import _check
from ._native import lib as _lib
from ._primitives import _Primitive, _retry, _timeout_ns, _u32

_init = _lib.ipcshm_sem_init
_post = _lib.ipcshm_sem_post
_wait = _lib.ipcshm_sem_wait
_value = _lib.ipcshm_sem_value


class Semaphore(_Primitive):
    """A counting semaphore (ipcshm_sem_*) at `offset` (8-aligned, 64 bytes) of
    `shm`, a SharedMemory (or any buffer), shared by every process and
    language that maps it, with threading.Semaphore's methods.

    Semaphore(shm, offset=0, *, init=False, value=0)

    init=True initialises it with the count `value` (0..2**32-1): once, by the
    creator of the memory, before others use it. Memory that is not a
    semaphore is a ValueError (EINVAL; EBADMSG for impossible contents).

    The count is a count, not an ownership: a process that dies after
    acquire() does not give its unit back (as POSIX semaphores); use a Mutex
    where a dead holder must be noticed. The Semaphore keeps the mapping
    alive (close() raises BufferError while it lives). In read-only memory
    only value() works; the rest is PermissionError (EACCES).
    """

    __slots__ = ()

    def __init__(self, shm: Any, offset: SupportsIndex = 0, *, init: bool = False,
                 value: SupportsIndex = 0) -> None:
        super().__init__(shm, offset)
        if init:
            self.init(value)
        elif operator.index(value) != 0:
            raise ValueError("value=%d applies to init=True: an existing semaphore keeps "
                             "its count" % operator.index(value))

    def init(self, value: SupportsIndex = 0) -> None:
        """Makes the memory a semaphore with the count `value` (ipcshm_sem_init).
        Once, before anyone uses it."""
        count = _u32(value, "a semaphore's value")
        _check(_init(self._writable("ipcshm_sem_init"), count))

    def acquire(self, blocking: bool = True, timeout: Optional[float] = None) -> bool:
        """Takes one from the count, waiting while it is 0, as
        threading.Semaphore.acquire: True when taken; False if blocking=False
        and the count is 0, or after `timeout` seconds (None: no limit).
        Ctrl-C (a signal handler's exception) ends the wait."""
        ptr = self._writable("ipcshm_sem_wait")
        rc = _retry(lambda t: int(_wait(ptr, t)), _timeout_ns(timeout, blocking))
        if rc in (-errno.ETIMEDOUT, -errno.EAGAIN):
            return False
        _check(rc)
        return True

    def release(self, n: int = 1) -> None:
        """Adds `n` to the count (one at a time: ipcshm_sem_post), waking as
        many waiters. OSError EOVERFLOW at 2**32-1 (the units added before
        stay)."""
        count = operator.index(n)
        if count < 1:
            raise ValueError("n must be one or more")
        ptr = self._writable("ipcshm_sem_post")
        for _ in range(count):
            _check(_post(ptr))

    def value(self) -> int:
        """The current count (works in read-only memory too)."""
        out = ctypes.c_uint32()
        _check(_value(self._ptr, ctypes.byref(out)))
        return out.value

    def __enter__(self) -> Semaphore:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
