"""ipcshm: shared memory between processes, over libipcshm (ctypes, no dependencies).

``SharedMemory`` has the surface of ``multiprocessing.shared_memory.SharedMemory``
(``name``, ``size``, ``buf``, ``close()``, ``unlink()``, context manager, pickling)
and adds System V segments, volatile lifetimes, read-only mappings, ``id``,
``info()``, ``readonly``, ``volatile``, ``created`` and ``chmod()``.

Ids and names::

    "/name", "name"     POSIX object; ``name`` reports it without the '/', as CPython
    "key:0x1234"        System V segment by key (create or attach)
    "private"           a fresh System V segment (create only)
    "shmid:65538"       System V segment by identifier (attach only)

A bare name is a POSIX name (``"x"`` is ``"/x"``); for a POSIX object that is
called ``private`` or starts with ``key:``/``shmid:``, write the leading '/'.

Errors raise ``FileNotFoundError`` (ENOENT), ``FileExistsError`` (EEXIST),
``PermissionError`` (EACCES, EPERM), ``ValueError`` (EINVAL, with an ``errno``
attribute) or ``OSError`` (anything else), with the library's message
(``ipcshm_last_error()``).

``buf`` is a memoryview of the mapping. While it, or any view or array made from
it, is alive, ``close()`` raises ``BufferError`` and keeps the mapping; a view is
never left pointing at unmapped memory. A ``SharedMemory`` that is dropped without
``close()`` is detached once its last view is gone (or at interpreter exit).
"""

import ctypes
import dataclasses
import errno as _errno
import operator
import os
import sys
import weakref

from . import _native
from ._native import (IPCSHM_KIND_MEMFD, IPCSHM_KIND_POSIX, IPCSHM_KIND_SYSV,
                      IPCSHM_LOCKED, IPCSHM_OPEN_OR_CREATE, IPCSHM_PERSISTENT,
                      IPCSHM_PREFAULT, IPCSHM_READONLY, IPCSHM_RESERVE, ipcshm_info_t,
                      library_path)

__all__ = [
    "SharedMemory", "ShmInfo", "remove", "info", "chmod", "version", "page_size",
    "ftok", "library_path", "ipcshm_info_t",
    "IPCSHM_READONLY", "IPCSHM_PERSISTENT", "IPCSHM_OPEN_OR_CREATE", "IPCSHM_PREFAULT",
    "IPCSHM_LOCKED", "IPCSHM_RESERVE",
    "IPCSHM_KIND_POSIX", "IPCSHM_KIND_SYSV", "IPCSHM_KIND_MEMFD",
]

_lib = _native.lib
_create = _lib.ipcshm_create
_attach = _lib.ipcshm_attach
_detach = _lib.ipcshm_detach
_pointer = _lib.ipcshm_pointer
_size = _lib.ipcshm_size
_id = _lib.ipcshm_id

# name=None with create=True: the library fills the X's (unguessable, retried on
# EEXIST), like CPython's "psm_" + random names (14 bytes at most, as CPython keeps).
_TEMPLATE = b"/psm_XXXXXXXX"
_SYSV_PREFIXES = (b"key:", b"shmid:", b"memfd:")


# --- errors -----------------------------------------------------------------------

def _message(err):
    text = _lib.ipcshm_last_error()
    if not text:
        text = _lib.ipcshm_strerror(err)
    return text.decode("utf-8", "replace")


def _error(rc):
    """The exception for a negative return value `rc` (-errno) of the last call."""
    err = -rc
    msg = _message(err)
    if err == _errno.ENOENT:
        return FileNotFoundError(err, msg)
    if err == _errno.EEXIST:
        return FileExistsError(err, msg)
    if err in (_errno.EACCES, _errno.EPERM):
        return PermissionError(err, msg)
    if err == _errno.EINVAL:
        e = ValueError(msg)
        e.errno = err  # ValueError has no errno of its own: one attribute for all
        return e
    return OSError(err, msg)


def _check(rc):
    if rc < 0:
        raise _error(rc)
    return rc


# --- ids --------------------------------------------------------------------------

def _id_bytes(name):
    """The library id of a name: "x" and "/x" are "/x"; System V ids pass as they are."""
    if isinstance(name, str):
        raw = os.fsencode(name)
    elif isinstance(name, bytes):
        raw = name
    else:
        raise TypeError("a shared memory name or id is a str, not %s"
                        % type(name).__name__)
    if raw.startswith(b"/") or raw == b"private" or raw.startswith(_SYSV_PREFIXES):
        return raw
    return b"/" + raw


def _perms(perms):
    perms = operator.index(perms)
    if not 0 <= perms <= 0xFFFFFFFF:
        raise ValueError("perms %r is not a permission mode (0..0o777)" % perms)
    return perms


# --- info -------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ShmInfo:
    """Every field of ipcshm_info_t (see include/ipcshm.h)."""
    struct_size: int
    kind: int      # IPCSHM_KIND_POSIX / _SYSV / _MEMFD
    size: int      # bytes (System V: shm_segsz)
    nattch: int    # System V attach count; POSIX: 0
    atime: int     # System V: last attach; POSIX: st_atime (seconds)
    dtime: int     # System V: last detach; POSIX: st_mtime
    ctime: int     # last change
    mode: int      # permission bits (0o777)
    uid: int
    gid: int
    cuid: int
    cgid: int
    cpid: int      # System V creator pid; POSIX: -1
    lpid: int      # System V last shmat/shmdt pid; POSIX: -1
    key: int       # System V key (0 once removed, or private); POSIX: 0
    shmid: int     # System V identifier; POSIX: -1
    flags: int     # IPCSHM_PERSISTENT when not volatile

    @property
    def persistent(self):
        return bool(self.flags & IPCSHM_PERSISTENT)

    @property
    def volatile(self):
        return not self.flags & IPCSHM_PERSISTENT

    @classmethod
    def _from_c(cls, c):
        return cls(*(getattr(c, f) for f, _ in ipcshm_info_t._fields_))


def _new_info():
    c = ipcshm_info_t()
    c.struct_size = ctypes.sizeof(ipcshm_info_t)
    return c


# --- module functions -------------------------------------------------------------

def remove(id):
    """Removes the name of an object (POSIX shm_unlink, System V IPC_RMID).

    Users that have it mapped keep their memory; an object already gone is fine."""
    _check(_lib.ipcshm_remove(_id_bytes(id)))


def info(id):
    """ShmInfo of the object `id` (needs only read permission)."""
    c = _new_info()
    _check(_lib.ipcshm_info(_id_bytes(id), ctypes.byref(c)))
    return ShmInfo._from_c(c)


def chmod(id, perms):
    """Sets the permission bits of `id` to perms | 0o600 (owner or root only)."""
    _check(_lib.ipcshm_chmod(_id_bytes(id), _perms(perms)))


def version():
    """(major, minor, patch) of the loaded libipcshm."""
    v = _lib.ipcshm_version()
    return (v >> 16, (v >> 8) & 0xFF, v & 0xFF)


def page_size():
    """The size of a page in bytes."""
    return _lib.ipcshm_page_size()


def ftok(path, proj):
    """ftok(path, proj) as a System V key (proj 1..255); use it as "key:%d" % key."""
    key = ctypes.c_int32()
    _check(_lib.ipcshm_ftok(os.fsencode(path), proj, ctypes.byref(key)))
    return key.value


# --- SharedMemory -----------------------------------------------------------------

# At interpreter exit, weakref.finalize detaches the mappings still open. Views of
# them may outlive that (a global numpy array read by a later atexit handler), so
# anonymous memory then takes the mapping's place: such a late reader sees zeros,
# not a SIGSEGV. MAP_FIXED_NOREPLACE never replaces anything mapped meanwhile.
_libc = ctypes.CDLL(None, use_errno=True)
_mmap = _libc.mmap
_mmap.restype = ctypes.c_void_p
_mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                  ctypes.c_int, ctypes.c_long]
_PROT_READ, _PROT_WRITE = 1, 2
_MAP_PRIVATE, _MAP_ANONYMOUS, _MAP_FIXED_NOREPLACE = 0x02, 0x20, 0x100000


def _release_handle(handle, pid, arr_ref, addr, size, prot,
                    detach=_detach, getpid=os.getpid, mmap=_mmap):
    # Runs once: when the mapping's last view is gone (close() or garbage
    # collection), or at exit. Everything it needs is bound here, so it works
    # during interpreter shutdown. A forked child does not detach the handle it
    # inherited: the library would take it for the last user of the parent's
    # volatile object and remove it.
    if getpid() != pid:
        return
    views_may_live = arr_ref() is not None   # only at exit: otherwise arr is dead
    detach(handle)
    if views_may_live:
        mmap(addr, size, prot, _MAP_PRIVATE | _MAP_ANONYMOUS | _MAP_FIXED_NOREPLACE, -1, 0)


def _view_of(arr, readonly):
    """The one memoryview (format 'B') that the mapping exports to the user."""
    raw = memoryview(arr)   # format '<B' from ctypes: not indexable as is
    view = raw.cast("B")
    raw.release()
    if readonly:
        ro = view.toreadonly()
        view.release()
        view = ro
    return view


def _reattach(id, readonly):
    return SharedMemory(id, readonly=readonly)


class SharedMemory:
    """A mapping of a shared memory object, like multiprocessing.shared_memory's.

    SharedMemory(name=None, create=False, size=0, *, perms=0o600, readonly=False,
                 volatile=True, open_or_create=False, prefault=False, locked=False,
                 reserve=False)

    create=True makes a new object of `size` bytes (exclusive: an existing name is
    FileExistsError); name=None then picks a unique POSIX name. open_or_create=True
    attaches the object if it exists (and belongs to this user), else creates it;
    ``created`` tells which. Without either, attaches the existing object `name`.
    volatile=True (the default) destroys the object when its last user, in any
    process, closes it or dies; volatile=False keeps it until unlink()/remove().
    perms, volatile and reserve belong to creation: attaching with them is a
    ValueError. readonly maps read-only (``buf`` is a read-only memoryview).
    prefault populates the pages, locked keeps them in RAM (mlock), reserve
    allocates a POSIX object's backing store now (ENOSPC now, not SIGBUS later).
    """

    __slots__ = ("_handle", "_id", "_size", "_arr", "_buf", "_readonly", "_created",
                 "_finalizer", "__weakref__")

    def __init__(self, name=None, create=False, size=0, *, perms=0o600, readonly=False,
                 volatile=True, open_or_create=False, prefault=False, locked=False,
                 reserve=False):
        self._buf = None
        self._finalizer = None
        size = operator.index(size)
        if size < 0:
            raise ValueError("'size' must be a positive integer")
        flags = ((IPCSHM_READONLY if readonly else 0)
                 | (IPCSHM_PREFAULT if prefault else 0)
                 | (IPCSHM_LOCKED if locked else 0))
        handle = ctypes.c_void_p()
        if create or open_or_create:
            if size == 0:
                raise ValueError("'size' must be a positive number different from zero")
            flags |= ((0 if volatile else IPCSHM_PERSISTENT)
                      | (IPCSHM_OPEN_OR_CREATE if open_or_create else 0)
                      | (IPCSHM_RESERVE if reserve else 0))
            ident = _TEMPLATE if name is None else _id_bytes(name)
            rc = _check(_create(ident, size, _perms(perms), flags, ctypes.byref(handle)))
        else:
            if name is None:
                raise ValueError("'name' can only be None if create=True")
            if not volatile or reserve or perms != 0o600:
                raise ValueError("volatile, reserve and perms apply to create=True or "
                                 "open_or_create=True, not to attaching")
            rc = _check(_attach(_id_bytes(name), flags, ctypes.byref(handle)))
        h = handle.value
        try:
            self._id = _id(h).decode("utf-8", "surrogateescape")
            self._size = _size(h)
            self._readonly = bool(readonly)
            self._created = rc == 1
            arr = (ctypes.c_ubyte * self._size).from_address(_pointer(h))
            view = _view_of(arr, self._readonly)
        except BaseException:
            _detach(h)
            raise
        # The finalizer hangs on the ctypes array, which every view made from buf
        # keeps alive (through the memoryview's managed buffer): if the user drops
        # this object without close(), the mapping goes only with its last view.
        self._handle = h
        self._arr = arr
        self._buf = view
        self._finalizer = weakref.finalize(
            arr, _release_handle, h, os.getpid(), weakref.ref(arr), ctypes.addressof(arr),
            self._size, _PROT_READ | (0 if readonly else _PROT_WRITE))

    # CPython's surface ---------------------------------------------------------

    @property
    def name(self):
        """The name as CPython gives it: POSIX without the '/'; else the id."""
        return self._id[1:] if self._id.startswith("/") else self._id

    @property
    def size(self):
        """Size of the mapping in bytes."""
        return self._size

    @property
    def buf(self):
        """A memoryview of the mapping (read-only if readonly); None once closed."""
        return self._buf

    def close(self):
        """Detaches this mapping. The object itself stays unless it is volatile and
        this was its last user.

        BufferError if a view made from ``buf`` (a slice, memoryview(buf), a numpy
        array, a ctypes object) is still alive: the mapping then stays, ``buf`` is
        a fresh view, and close() can be called again once those views are gone.
        The memoryview that ``buf`` returned before is released by close(), as
        CPython does. Closing twice is fine."""
        buf = self._buf
        if buf is None:
            return
        try:
            buf.release()   # fails if something holds a buffer from buf itself
        except BufferError:
            raise BufferError("cannot close %r: a buffer exported from its memoryview "
                              "is still alive" % self) from None
        arr = self._arr
        # References now: self._arr, `arr`, getrefcount's argument. One more is a
        # live managed buffer, i.e. a view derived from buf (slices and
        # memoryview(buf) share buf's managed buffer, which holds the array).
        if sys.getrefcount(arr) > 3:
            self._buf = _view_of(arr, self._readonly)
            raise BufferError("cannot close %r: views of its memory (slices of buf, "
                              "arrays over it) are still alive" % self)
        self._buf = None
        self._arr = None
        del arr             # the array dies now: its finalizer detaches
        self._finalizer()   # (a no-op then; detaches if something kept it)

    def unlink(self):
        """Removes the object's name (POSIX shm_unlink, System V IPC_RMID), as
        CPython's unlink(). Mappings stay valid until closed."""
        _check(_lib.ipcshm_remove(self._id.encode("utf-8", "surrogateescape")))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __reduce__(self):
        return (_reattach, (self._id, self._readonly))

    def __repr__(self):
        state = "" if self._buf is not None else ", closed"
        ro = ", readonly=True" if self._readonly else ""
        return "%s(%r, size=%d%s%s)" % (type(self).__name__, self.name, self._size, ro,
                                        state)

    # ipcshm's additions ----------------------------------------------------------

    @property
    def id(self):
        """The canonical id ("/name" or "shmid:N") that attaches the same object."""
        return self._id

    @property
    def closed(self):
        return self._buf is None

    @property
    def readonly(self):
        return self._readonly

    @property
    def created(self):
        """True if this SharedMemory created the object (open_or_create: maybe not)."""
        return self._created

    @property
    def volatile(self):
        """True if the object goes with its last user (from info().flags)."""
        return self.info().volatile

    def info(self):
        """ShmInfo of the object (through the mapping while open, else by id)."""
        if self._buf is None:
            return info(self._id)
        c = _new_info()
        _check(_lib.ipcshm_handle_info(self._handle, ctypes.byref(c)))
        return ShmInfo._from_c(c)

    def chmod(self, perms):
        """Sets the permission bits to perms | 0o600 (owner or root only)."""
        _check(_lib.ipcshm_chmod(self._id.encode("utf-8", "surrogateescape"),
                                 _perms(perms)))
