"""Mutex: a robust mutex in shared memory (ipcshm_mutex_*, libipcshm 1.2) with
threading.Lock's surface, and the exceptions of its owner's death."""

from __future__ import annotations

import errno
from typing import Any, Optional, SupportsIndex

from ._errors import _check, _message
from ._native import lib as _lib
from ._primitives import _Primitive, _retry, _timeout_ns

_init = _lib.ipcshm_mutex_init
_lock = _lib.ipcshm_mutex_lock
_consistent = _lib.ipcshm_mutex_consistent
_unlock = _lib.ipcshm_mutex_unlock


class OwnerDeadError(OSError):
    """Raised by Mutex.acquire() (and ``with mutex:``) when the mutex's previous
    owner died holding it (EOWNERDEAD). The calling thread holds the mutex now,
    and the exception carries it (``mutex``): the data it guards may be
    half-updated. Repair it, call consistent(), then release() the mutex (the
    exception is a context manager that releases it at the end of its block)::

        try:
            with m:
                use(data)
        except ipcshm.OwnerDeadError as e:
            with e:                 # holds the mutex; releases it at the end
                repair(data)
                e.consistent()

    Releasing it without consistent() makes the mutex unusable for everyone
    (NotRecoverableError), so that data that may be torn is never trusted by
    accident. The exception does not release the mutex by itself: until
    release(), this thread holds it."""

    mutex: Optional[Mutex] = None

    def consistent(self) -> None:
        """Marks the data repaired (ipcshm_mutex_consistent); the mutex stays held."""
        self._held().consistent()

    def release(self) -> None:
        """Releases the mutex (after consistent(), as usual; without it, the
        mutex becomes not recoverable)."""
        self._held().release()

    def _held(self) -> Mutex:
        if self.mutex is None:
            raise ValueError("this OwnerDeadError carries no mutex")
        return self.mutex

    def __enter__(self) -> OwnerDeadError:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class NotRecoverableError(OSError):
    """Raised by Mutex.acquire() when the mutex was released after its owner's
    death without consistent() (ENOTRECOVERABLE): nobody holds it, and it stays
    unusable until it is initialised again (Mutex.init())."""


class Mutex(_Primitive):
    """A robust mutex (ipcshm_mutex_*) at `offset` (8-aligned, 64 bytes) of
    `shm`, a SharedMemory (or any buffer), shared by every process and
    language that maps it, with threading.Lock's methods and context manager.

    Mutex(shm, offset=0, *, init=False)

    init=True initialises it, unlocked: once, by the creator of the memory,
    before others use it. Memory that is not a mutex is a ValueError (EINVAL;
    EBADMSG for impossible contents).

    The owner's death never wedges the others: when the thread that holds it
    dies (its process killed, SIGKILL included, or the thread ended), the next
    acquire() takes it and raises OwnerDeadError, which carries it. A lock
    belongs to the thread that took it: it is not recursive (a second
    acquire() by the same thread is OSError EDEADLK), another thread's
    release() is PermissionError (EPERM), and a forked child does not hold its
    parent's locks. Processes that share a mutex must be in one pid namespace.
    The Mutex keeps the mapping alive (close() raises BufferError while it
    lives). In read-only memory every call is PermissionError (EACCES).
    """

    __slots__ = ()

    def __init__(self, shm: Any, offset: SupportsIndex = 0, *, init: bool = False) -> None:
        super().__init__(shm, offset)
        if init:
            self.init()

    def init(self) -> None:
        """Makes the memory an unlocked mutex (ipcshm_mutex_init). Once, before
        anyone uses it (or to make a not recoverable mutex usable again, when
        nobody uses it)."""
        _check(_init(self._writable("ipcshm_mutex_init")))

    def acquire(self, blocking: bool = True, timeout: Optional[float] = None) -> bool:
        """Takes the mutex, waiting while another thread holds it, as
        threading.Lock.acquire: True when taken; False if blocking=False and
        it is held by a live thread, or after `timeout` seconds (None or -1: no
        limit). Ctrl-C (a signal handler's exception) ends the wait.

        OwnerDeadError (this thread holds the mutex then) if its previous
        owner died holding it; NotRecoverableError if it was released after
        that without consistent(); OSError EDEADLK if this thread holds it
        already."""
        ptr = self._writable("ipcshm_mutex_lock")
        rc = _retry(lambda t: int(_lock(ptr, t)), _timeout_ns(timeout, blocking))
        if rc == 0:
            return True
        if rc in (-errno.ETIMEDOUT, -errno.EAGAIN):
            return False
        if rc == -errno.EOWNERDEAD:
            dead = OwnerDeadError(errno.EOWNERDEAD, _message(errno.EOWNERDEAD))
            dead.mutex = self
            raise dead
        if rc == -errno.ENOTRECOVERABLE:
            raise NotRecoverableError(errno.ENOTRECOVERABLE, _message(errno.ENOTRECOVERABLE))
        _check(rc)
        raise AssertionError("ipcshm_mutex_lock returned %d" % rc)  # pragma: no cover

    def release(self) -> None:
        """Releases the mutex and wakes one waiter. PermissionError (EPERM) if
        this thread does not hold it. After OwnerDeadError without
        consistent(), the mutex becomes not recoverable."""
        _check(_unlock(self._writable("ipcshm_mutex_unlock")))

    def consistent(self) -> None:
        """After OwnerDeadError: marks the data repaired; the mutex stays held
        (release it as usual). ValueError (EINVAL) otherwise."""
        _check(_consistent(self._writable("ipcshm_mutex_consistent")))

    def __enter__(self) -> Mutex:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
