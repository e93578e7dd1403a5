"""The buffers of a mapping: what ``SharedMemory.buf`` views, and what keeps the
mapping alive while a view of it lives.

Every view of a mapping (``buf``, its slices and casts, ``memoryview(buf)``,
numpy arrays and ctypes objects made from it, ``buf.obj`` and views of that)
holds one object, the exporter, and nothing else does: the SharedMemory keeps
only a weak reference to it.

- So "is a view left?" is exact: the exporter is alive. close() and resize()
  release ``buf`` and look (no reference counting, which depends on the
  interpreter), and raise BufferError if it is.
- The exporter keeps the library's handle alive (a _Keeper): a SharedMemory
  dropped without close() is detached when its last view is gone.
- A read-only mapping's exporter exports read-only buffers only, so no Python
  code can write through ``buf.obj`` (or anything else it reaches) into memory
  mapped without write permission: a write is a TypeError, not a SIGSEGV.

The exporters:

- An ``mmap.mmap`` (a _Mapping) whose anonymous memory is replaced by a
  duplicate of the library's mapping (mremap with old size 0: a second mapping
  of the same pages, with the same protection), with ACCESS_READ for a
  read-only mapping: for POSIX objects, and for every read-only mapping.
  Python's views then never point into the library's own mapping, so the
  handle can be detached at interpreter exit (a volatile POSIX object must go
  with its last user) while a thread that still runs reads through a view:
  no gap in the memory, ever. (A read-only duplicate of a System V segment
  counts as a second attachment in its shm_nattch.)
- A ctypes array over the library's own mapping, for read-write System V and
  memfd mappings (and POSIX ones that cannot be duplicated). Such a handle
  stays attached at interpreter exit while a view lives (_handles.py): the
  kernel unmaps it when the process ends.
- When no duplicate can be made (hugetlbfs memory, which mremap cannot
  duplicate; RLIMIT_MEMLOCK for a locked mapping; the anonymous memory it
  replaces, which the kernel counts against its commit limit until then, for
  an object larger than the memory: see vm.overcommit_memory), a read-only
  POSIX or memfd mapping is an ``mmap.mmap`` of a descriptor of the object; a
  read-only System V segment cannot be exported soundly then, and is
  io.UnsupportedOperation.
"""

from __future__ import annotations

import ctypes
import errno
import io
import mmap
import weakref
from typing import Any, Callable, Optional, Set, Tuple, cast

from . import _handles
from ._handles import _Handle
from ._native import lib as _lib

_pointer = _lib.ipcshm_pointer
_size = _lib.ipcshm_size

_libc = ctypes.CDLL(None, use_errno=True)
_mremap = _libc.mremap
_mremap.restype = ctypes.c_void_p
_mremap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int,
                    ctypes.c_void_p]
_MREMAP_MAYMOVE, _MREMAP_FIXED = 1, 2
_MAP_FAILED = ctypes.c_void_p(-1).value
_MADV_POPULATE_READ, _MADV_POPULATE_WRITE = 22, 23      # Linux 5.14

# ipcshm_fd, whose descriptor io.FileIO owns as soon as the call returns (the
# restype is called in C with the result: nothing can come between).
_fd_file = _lib["ipcshm_fd"]
_fd_file.restype = io.FileIO
_fd_file.argtypes = [ctypes.c_void_p]

# The address of a buffer, in one C call that also releases it (nothing to
# release later if an exception comes between two calls). Part of the stable
# ABI; without it, no duplicate is made.
_as_read_buffer = getattr(ctypes.pythonapi, "PyObject_AsReadBuffer", None)
if _as_read_buffer is not None:
    _as_read_buffer.restype = ctypes.c_int
    _as_read_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(ctypes.c_void_p),
                                ctypes.POINTER(ctypes.c_ssize_t)]

class _Keeper(weakref.ref):  # type: ignore[type-arg]
    """A weak reference to an exporter that holds the exporter's _Handle. It lives
    in _keepers until the exporter dies; then its callback, _keepers.discard,
    drops it (in C: no Python code runs, so no exception can come between), and
    with it the _Handle, unless the SharedMemory still holds them."""

    __slots__ = ("handle",)
    __hash__ = object.__hash__      # the exporter may be unhashable (a memoryview)
    __eq__ = object.__eq__
    handle: _Handle


_keepers: Set[_Keeper] = set()

# Tests set this to False to take the other exporters (of both backends:
# SharedMemory passes it to export()).
_duplicating = True


class _Mapping(mmap.mmap):
    """An mmap.mmap whose memory is a shared object's (a duplicate of a library
    mapping, or a mapping of a descriptor). It cannot be resized."""

    __slots__ = ()

    def resize(self, newsize: int) -> None:
        raise TypeError("the mapping of a SharedMemory cannot be resized through its "
                        "buffer's exporter: use SharedMemory.resize()")


def _duplicate(ptr: int, size: int, readonly: bool,
               duplicating: bool) -> Optional[_Mapping]:
    """A _Mapping of the `size` bytes mapped at `ptr`, or None."""
    if _as_read_buffer is None or not duplicating:
        return None
    try:
        dup = _Mapping(-1, size, access=mmap.ACCESS_READ if readonly else mmap.ACCESS_WRITE)
    except OSError:
        return None
    addr, n = ctypes.c_void_p(), ctypes.c_ssize_t()
    _as_read_buffer(dup, ctypes.byref(addr), ctypes.byref(n))
    # The anonymous pages are replaced, atomically, by the same pages as at
    # `ptr`, with the same protection; `dup` owns the range from its creation,
    # and unmaps it when it dies.
    got = _mremap(ptr, 0, size, _MREMAP_MAYMOVE | _MREMAP_FIXED, addr)
    if got in (None, _MAP_FAILED) or got != addr.value:
        dup.close()
        return None
    return dup


def _map_descriptor(h: ctypes.c_void_p, size: int) -> Optional[_Mapping]:
    """A read-only _Mapping of a descriptor of the handle's object, or None."""
    try:
        file: io.FileIO = _fd_file(h)
    except (OSError, ValueError):          # -errno: no descriptor (System V)
        return None
    with file:
        try:
            return _Mapping(file.fileno(), size, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            return None


def export(handle: _Handle, ident: str, readonly: bool, prefault: bool,
           duplicating: bool = True) -> Tuple[memoryview, _Keeper, int]:
    """(buf, a _Keeper of its exporter, size) for the mapping of `handle` (a
    _Handle) of the object `ident`; the exporter keeps the handle alive.
    duplicating=False makes no second mapping (tests take the other ways so)."""
    h = handle.out
    size: int = _size(h)
    ptr: Optional[int] = _pointer(h)
    if not ptr or not size:
        raise ValueError("the library gave no mapping (a detached handle?)")
    exporter: Any = None
    if readonly or ident.startswith("/"):
        exporter = _duplicate(ptr, size, readonly, duplicating)
        if exporter is None and readonly and not ident.startswith("shmid:"):
            exporter = _map_descriptor(h, size)
    if exporter is not None:
        if prefault:
            # Page table entries for this mapping too (the pages are there).
            try:
                exporter.madvise(_MADV_POPULATE_READ if readonly else _MADV_POPULATE_WRITE)
            except OSError:
                pass
        buf = memoryview(exporter)
        handle.direct = None
    elif not readonly:
        exporter = (ctypes.c_ubyte * size).from_address(ptr)
        raw = memoryview(exporter)      # format '<B' from ctypes: not indexable
        buf = raw.cast("B")
        raw.release()
        handle.direct = weakref.ref(exporter)
    else:
        raise io.UnsupportedOperation(
            errno.EOPNOTSUPP, "cannot map %s read-only in Python: a read-only buffer "
            "needs a second mapping of it, which the kernel refuses (huge pages, or "
            "more than it lets a process commit); attach it read-write, or use a "
            "POSIX or memfd object" % ident)
    keeper = _Keeper(exporter, cast(Callable[[Any], None], _keepers.discard))
    keeper.handle = handle
    _keepers.add(keeper)
    return buf, keeper, size


# The SharedMemory objects of POSIX objects whose views use the library's own
# mapping (the duplicate failed). At exit their ``buf`` is released, so that a
# handle that no other view uses is detached, and its volatile object removed,
# as a duplicate's would be; one that views still use stays mapped (and its
# name is left for the next attach or `ipcshm gc` to reclaim).
direct_posix: weakref.WeakSet[Any] = weakref.WeakSet()    # of SharedMemory


def _release_at_exit() -> None:
    for shm in list(direct_posix):
        buf = shm._buf
        if buf is not None:
            try:
                buf.release()
            except BufferError:     # a buffer of buf itself is held: a view
                pass


_handles.before_exit.append(_release_at_exit)


def reexport(keeper: Callable[[], Any]) -> Optional[memoryview]:
    """A new ``buf`` from the exporter that `keeper` (a weak reference, of
    either backend) refers to, if it is alive."""
    exporter = keeper()
    if exporter is None:
        return None
    raw = memoryview(exporter)
    if raw.format == "B":
        return raw
    buf = raw.cast("B")     # a ctypes array's '<B'
    raw.release()
    return buf
