"""Ownership of the library's handles (ipcshm_t *).

A _Handle is made before the C call that creates a handle, and the call writes
the new handle straight into it (``handle.ref`` is the out-parameter): from the
moment the call returns, a Python object owns the handle. Nothing has to run
between the call and the ownership, so an exception that arrives there (a
KeyboardInterrupt from Ctrl-C, an asynchronous exception of another thread)
cannot leak it: the _Handle is dropped with the frame and detaches it.

The detach itself runs no Python code: when a _Handle dies, a weak reference's
callback, a functools.partial over a ctypes function, calls ipcshm_detach in C.
A signal can interrupt Python code between any two calls, and would otherwise
be able to skip a detach written in Python; in C it cannot. Each handle is
detached exactly once: by that callback, or at exit (below), never both.

At interpreter exit the handles still alive are detached, so that volatile
objects go as they should, except those whose memory Python views may still be
reading (a daemon thread in a numpy loop keeps running while the interpreter
shuts down): those mappings are left to the kernel, which unmaps them when the
process ends. See _buffers.py for which mappings the views use.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import weakref
from typing import Any, Callable, List, Optional, Set, Tuple

from ._errors import _error
from ._native import lib as _lib

# ipcshm_detach with a second, ignored argument: the weak reference that a
# callback receives. On Linux's C ABIs the caller removes the arguments, so a
# function ignores those it does not declare.
_detach_callback = _lib["ipcshm_detach"]
_detach_callback.restype = ctypes.c_int
_detach_callback.argtypes = [ctypes.c_void_p, ctypes.py_object]
_detach = _lib.ipcshm_detach

# The weak references to live _Handles, with their callbacks. The callbacks of
# weak references that die with their referent (as one held by the _Handle
# itself would, in a garbage cycle) are not called: these live here. Dead ones
# are pruned as new handles come.
_live: Set[weakref.ref[_Handle]] = set()
_prune_at = 64


class _Handle:
    """Owns one library handle: ``out`` (a ctypes c_void_p, NULL until the
    library fills it) is detached when this object dies."""

    __slots__ = ("out", "ref", "direct", "created", "_watch", "__weakref__")
    out: ctypes.c_void_p
    ref: Any                    # ctypes.byref(out): the out-parameter
    direct: Optional[weakref.ref[Any]]
    created: bool               # the call that made it returned 1
    _watch: weakref.ref[_Handle]

    def __init__(self) -> None:
        global _prune_at
        out = ctypes.c_void_p()
        self.out = out
        self.ref = ctypes.byref(out)
        # A weak reference to the exporter of the buffers when they are the
        # library's own mapping (not a duplicate): then live views keep the
        # handle attached at exit.
        self.direct = None
        self.created = False
        if len(_live) >= _prune_at:
            # (list() copies in one C call: other threads may add meanwhile)
            _live.difference_update([r for r in list(_live) if r() is None])
            _prune_at = max(64, 2 * len(_live))
        watch = weakref.ref(self, functools.partial(_detach_callback, out))
        self._watch = watch
        _live.add(watch)

    def detach_now(self) -> None:
        """Detaches at once, on a failure path (a traceback may keep this object
        alive for long); the callback then finds NULL. Between the two lines an
        exception could only leak the handle, never detach it twice. Not while
        a view of the library's own mapping lives: it is detached after it."""
        direct = self.direct
        if direct is not None and direct() is not None:
            return
        out = self.out
        h = out.value
        if h:
            out.value = None
            _detach(h)

    def forget(self) -> None:
        """After a failed call: nothing to detach (the library left ``out``
        alone), and no callback to run, which would only set the thread's last
        error message."""
        _live.discard(self._watch)

    @property
    def id(self) -> str:
        """The canonical id of the handle's object (ipcshm_id)."""
        raw: Optional[bytes] = _id(self.out)
        if raw is None:
            raise ValueError("the handle is detached")
        return raw.decode("utf-8", "surrogateescape")


_id = _lib.ipcshm_id


def _owned(handle: _Handle, rc: int) -> _Handle:
    """`handle` once the call that filled it returned `rc`, or its exception."""
    if rc < 0:
        handle.forget()
        raise _error(rc)
    handle.created = rc == 1
    return handle


# The calls that make handles (the ctypes backend; _accel.py picks this or the
# compiled module's). Each owns its handle as the call returns, and raises for
# a negative result.

def create(ident: bytes, size: int, perms: int, flags: int) -> _Handle:
    handle = _Handle()
    return _owned(handle, _lib.ipcshm_create(ident, size, perms, flags, handle.ref))


def attach(ident: bytes, flags: int) -> _Handle:
    handle = _Handle()
    return _owned(handle, _lib.ipcshm_attach(ident, flags, handle.ref))


def attach_fd(fd: int, flags: int) -> _Handle:
    handle = _Handle()
    return _owned(handle, _lib.ipcshm_attach_fd(fd, flags, handle.ref))


def recv(fd: int, flags: int) -> _Handle:
    handle = _Handle()
    return _owned(handle, _lib.ipcshm_recv(fd, flags, handle.ref))


def array_create(ident: bytes, etype: int, dims: Tuple[int, ...], perms: int,
                 flags: int) -> _Handle:
    cdims = (ctypes.c_int64 * len(dims))(*dims)
    handle = _Handle()
    return _owned(handle, _lib.ipcshm_array_create(ident, etype, len(dims), cdims, perms,
                                                   flags, handle.ref))


# Called first at exit (_buffers.py's: release the buffers that nothing else
# uses, so that their handles count as free of views).
before_exit: List[Callable[[], None]] = []
# Called after this module's handles are detached (the compiled module's).
after_exit: List[Callable[[], None]] = []


def exit_detach() -> None:
    """At exit (atexit; and multiprocessing's exit, for children that end with
    os._exit): detaches every handle but those that views may still read.
    Running it twice does nothing more."""
    for hook in before_exit:
        hook()
    for r in list(_live):
        handle = r()
        if handle is None or not handle.out.value:
            continue
        direct = handle.direct
        if direct is not None and direct() is not None:
            continue    # views of the library's mapping may still be read
        _detach(handle.out)
        handle.out.value = None
    # Whatever dies later during the interpreter's shutdown detaches nothing.
    _live.clear()
    for hook in after_exit:
        hook()


# Set by _multiprocessing.py: True while multiprocessing's own exit function
# (util._exit_function, an atexit handler too) is still to run and will call
# exit_detach() itself, after it has flushed its queues, whose feeder threads
# may still hand objects over; then ipcshm's atexit handler leaves it to that.
exit_later: Callable[[], bool] = lambda: False


def _atexit() -> None:
    if not exit_later():
        exit_detach()


atexit.register(_atexit)
