"""ipcshm: shared memory between processes, over libipcshm (ctypes, no dependencies).

``SharedMemory`` has the surface of ``multiprocessing.shared_memory.SharedMemory``
(``name``, ``size``, ``buf``, ``close()``, ``unlink()``, context manager, pickling)
and adds System V segments, volatile lifetimes, read-only mappings, ``id``,
``info()``, ``readonly``, ``volatile``, ``created`` and ``chmod()``; since 1.1,
memfd objects, descriptors (``fd()``, ``from_fd()``), passing objects over UNIX
sockets (``send()``, ``recv()``), ``resize()`` and typed arrays as numpy arrays
(``array()``, ``SharedMemory.create_array()``, ``SharedMemory.ndarray()``; numpy
is imported only by these).

Ids and names::

    "/name", "name"     POSIX object; ``name`` reports it without the '/', as CPython
    "key:0x1234"        System V segment by key (create or attach)
    "private"           a fresh System V segment (create only)
    "shmid:65538"       System V segment by identifier (attach only)
    "memfd:label"       anonymous object (create only): other processes get it
                        through a descriptor (send/recv, fd/from_fd)

A bare name is a POSIX name (``"x"`` is ``"/x"``); for a POSIX object that is
called ``private`` or starts with ``key:``/``shmid:``, write the leading '/'.

Errors raise ``FileNotFoundError`` (ENOENT), ``FileExistsError`` (EEXIST),
``PermissionError`` (EACCES, EPERM), ``ValueError`` (EINVAL, EBADMSG, with an
``errno`` attribute), ``io.UnsupportedOperation`` (EOPNOTSUPP: an ``OSError``
and a ``ValueError``) or ``OSError`` (anything else, as its subclass for the
errno: ``ConnectionResetError``, ``BlockingIOError``, ...), with the library's
message (``ipcshm_last_error()``).

``buf`` is a memoryview of the mapping. While it, or any view or array made from
it, is alive, ``close()`` raises ``BufferError`` and keeps the mapping; a view is
never left pointing at unmapped memory. A ``SharedMemory`` that is dropped without
``close()`` is detached once its last view is gone (or at interpreter exit).
"""

import ctypes
import dataclasses
import errno as _errno
import io
import math
import operator
import os
import sys
import weakref

from . import _native
from ._version import __version__
from ._native import (IPCSHM_COMPLEX64, IPCSHM_COMPLEX128, IPCSHM_FLOAT32,
                      IPCSHM_FLOAT64, IPCSHM_HUGEPAGES, IPCSHM_INT8, IPCSHM_INT16,
                      IPCSHM_INT32, IPCSHM_INT64, IPCSHM_KIND_MEMFD, IPCSHM_KIND_POSIX,
                      IPCSHM_KIND_SYSV, IPCSHM_LOCKED, IPCSHM_OPEN_OR_CREATE,
                      IPCSHM_PERSISTENT, IPCSHM_PREFAULT, IPCSHM_READONLY, IPCSHM_RESERVE,
                      IPCSHM_UINT8, IPCSHM_UINT16, IPCSHM_UINT32, IPCSHM_UINT64,
                      ipcshm_info_t, library_path)

__all__ = [
    "SharedMemory", "ShmInfo", "array", "remove", "info", "chmod", "version",
    "page_size", "ftok", "library_path", "ipcshm_info_t",
    "IPCSHM_READONLY", "IPCSHM_PERSISTENT", "IPCSHM_OPEN_OR_CREATE", "IPCSHM_PREFAULT",
    "IPCSHM_HUGEPAGES", "IPCSHM_LOCKED", "IPCSHM_RESERVE",
    "IPCSHM_KIND_POSIX", "IPCSHM_KIND_SYSV", "IPCSHM_KIND_MEMFD",
    "IPCSHM_INT8", "IPCSHM_UINT8", "IPCSHM_INT16", "IPCSHM_UINT16", "IPCSHM_INT32",
    "IPCSHM_UINT32", "IPCSHM_INT64", "IPCSHM_UINT64", "IPCSHM_FLOAT32", "IPCSHM_FLOAT64",
    "IPCSHM_COMPLEX64", "IPCSHM_COMPLEX128",
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
    if err in (_errno.EINVAL, _errno.EBADMSG):
        e = ValueError(msg)
        e.errno = err  # ValueError has no errno of its own: one attribute for all
        return e
    if err == _errno.EOPNOTSUPP:
        return io.UnsupportedOperation(err, msg)
    return OSError(err, msg)   # OSError picks the subclass of err (ConnectionResetError...)


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


def _fileno(obj):
    """The descriptor of an int or of an object with fileno() (a socket, a file)."""
    try:
        return operator.index(obj)
    except TypeError:
        pass
    fileno = getattr(obj, "fileno", None)
    if fileno is None:
        raise TypeError("a descriptor is an int or has fileno(), not %s"
                        % type(obj).__name__)
    return fileno()


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
    flags: int     # IPCSHM_PERSISTENT when not volatile; IPCSHM_HUGEPAGES: memfd in
                   # huge pages

    @property
    def hugepages(self):
        """True for a memfd object in huge pages (the flag the library reports)."""
        return bool(self.flags & IPCSHM_HUGEPAGES)

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


# The flags of the other constructors (SharedMemory() spells them out: its hot path).
def _attach_flags(readonly, prefault, locked):
    return ((IPCSHM_READONLY if readonly else 0) | (IPCSHM_PREFAULT if prefault else 0)
            | (IPCSHM_LOCKED if locked else 0))


def _create_flags(volatile, open_or_create, reserve, hugepages):
    return ((0 if volatile else IPCSHM_PERSISTENT)
            | (IPCSHM_OPEN_OR_CREATE if open_or_create else 0)
            | (IPCSHM_RESERVE if reserve else 0)
            | (IPCSHM_HUGEPAGES if hugepages else 0))


class SharedMemory:
    """A mapping of a shared memory object, like multiprocessing.shared_memory's.

    SharedMemory(name=None, create=False, size=0, *, perms=0o600, readonly=False,
                 volatile=True, open_or_create=False, prefault=False, locked=False,
                 reserve=False, hugepages=False)

    create=True makes a new object of `size` bytes (exclusive: an existing name is
    FileExistsError); name=None then picks a unique POSIX name. open_or_create=True
    attaches the object if it exists (and belongs to this user), else creates it;
    ``created`` tells which. Without either, attaches the existing object `name`.
    volatile=True (the default) destroys the object when its last user, in any
    process, closes it or dies; volatile=False keeps it until unlink()/remove().
    perms, volatile, reserve and hugepages belong to creation: attaching with them
    is a ValueError. readonly maps read-only (``buf`` is a read-only memoryview).
    prefault populates the pages, locked keeps them in RAM (mlock), reserve
    allocates a POSIX object's backing store now (ENOSPC now, not SIGBUS later),
    hugepages backs the object with huge pages (OSError if none are available).

    "memfd:label" with create=True makes an anonymous object; other processes get
    it by send()/recv() or fd()/from_fd(). Other constructors: from_fd(), recv(),
    create_array().
    """

    __slots__ = ("_handle", "_id", "_size", "_arr", "_buf", "_readonly", "_created",
                 "_finalizer", "__weakref__")

    def __init__(self, name=None, create=False, size=0, *, perms=0o600, readonly=False,
                 volatile=True, open_or_create=False, prefault=False, locked=False,
                 reserve=False, hugepages=False):
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
                      | (IPCSHM_RESERVE if reserve else 0)
                      | (IPCSHM_HUGEPAGES if hugepages else 0))
            ident = _TEMPLATE if name is None else _id_bytes(name)
            rc = _check(_create(ident, size, _perms(perms), flags, ctypes.byref(handle)))
        else:
            if name is None:
                raise ValueError("'name' can only be None if create=True")
            if not volatile or reserve or hugepages or perms != 0o600:
                raise ValueError("volatile, reserve, hugepages and perms apply to "
                                 "create=True or open_or_create=True, not to attaching")
            rc = _check(_attach(_id_bytes(name), flags, ctypes.byref(handle)))
        # What _adopt() and _map() do, inline: this is the hot path.
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
        self._handle = h
        self._arr = arr
        self._buf = view
        self._finalizer = weakref.finalize(
            arr, _release_handle, h, os.getpid(), weakref.ref(arr), ctypes.addressof(arr),
            self._size, _PROT_READ | (0 if readonly else _PROT_WRITE))

    def _adopt(self, h, rc, readonly):
        """Takes the new handle `h` (detached if this fails) and maps it, as
        __init__ does."""
        try:
            self._id = _id(h).decode("utf-8", "surrogateescape")
            self._readonly = bool(readonly)
            self._created = rc == 1
            self._handle = h
            self._map(os.getpid())
        except BaseException:
            _detach(h)
            raise

    def _map(self, pid):
        """buf over the handle's mapping, as it is now (again after a resize); `pid`
        is the process that made the handle (a forked child does not detach it)."""
        h = self._handle
        size = _size(h)
        arr = (ctypes.c_ubyte * size).from_address(_pointer(h))
        view = _view_of(arr, self._readonly)
        # The finalizer hangs on the ctypes array, which every view made from buf
        # keeps alive (through the memoryview's managed buffer): if the user drops
        # this object without close(), the mapping goes only with its last view.
        self._size = size
        self._arr = arr
        self._buf = view
        self._finalizer = weakref.finalize(
            arr, _release_handle, h, pid, weakref.ref(arr), ctypes.addressof(arr),
            size, _PROT_READ | (0 if self._readonly else _PROT_WRITE))

    @classmethod
    def _new(cls, h, rc, readonly):
        self = cls.__new__(cls)
        self._buf = None
        self._finalizer = None
        self._adopt(h, rc, readonly)
        return self

    @classmethod
    def from_fd(cls, fd, readonly=False, *, prefault=False, locked=False):
        """Maps the POSIX or memfd object open as `fd` (an int or an object with
        fileno()). The mapping is a user of its own; `fd` stays the caller's.
        A read-only descriptor needs readonly=True (else PermissionError)."""
        flags = _attach_flags(readonly, prefault, locked)
        handle = ctypes.c_void_p()
        rc = _check(_lib.ipcshm_attach_fd(_fileno(fd), flags, ctypes.byref(handle)))
        return cls._new(handle.value, rc, readonly)

    @classmethod
    def recv(cls, sock, readonly=False, *, prefault=False, locked=False):
        """Receives an object that send() sent on the UNIX-domain socket `sock` (a
        socket.socket or a descriptor) and maps it. Blocks as the socket does; a
        socket.socket's timeout applies (TimeoutError). ConnectionResetError if the
        peer closed the socket; ValueError for a message that is not from send()."""
        fd = _fileno(sock)
        gettimeout = getattr(sock, "gettimeout", None)
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
            if not poller.poll(None if timeout is None else timeout * 1000):
                raise TimeoutError("timed out")
        flags = _attach_flags(readonly, prefault, locked)
        handle = ctypes.c_void_p()
        rc = _check(_lib.ipcshm_recv(fd, flags, ctypes.byref(handle)))
        return cls._new(handle.value, rc, readonly)

    @classmethod
    def create_array(cls, name, dtype, shape, *, perms=0o600, volatile=True,
                     open_or_create=False, prefault=False, locked=False, reserve=False,
                     hugepages=False):
        """Creates the object `name` ("memfd:label", None for a unique POSIX name)
        holding a zero-filled array of numpy `dtype` (int8..uint64, float32, float64,
        complex64, complex128; else TypeError) and `shape`, with its "WA-1" header;
        ndarray() gives the array. open_or_create=True attaches an existing array of
        the same dtype and shape (another one is FileExistsError). The options are
        those of SharedMemory()."""
        etype = _etype_of(dtype)
        dims, ndims = _dims_of(shape)
        flags = (_attach_flags(False, prefault, locked)
                 | _create_flags(volatile, open_or_create, reserve, hugepages))
        ident = _TEMPLATE if name is None else _id_bytes(name)
        handle = ctypes.c_void_p()
        rc = _check(_lib.ipcshm_array_create(ident, etype, ndims, dims, _perms(perms),
                                             flags, ctypes.byref(handle)))
        return cls._new(handle.value, rc, False)

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
        CPython's unlink(). Mappings stay valid until closed. A memfd object has no
        name: nothing to do."""
        rc = _lib.ipcshm_remove(self._id.encode("utf-8", "surrogateescape"))
        if rc < 0 and not self._id.startswith("memfd:"):
            raise _error(rc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __reduce__(self):
        if self._id.startswith("memfd:"):
            raise TypeError("cannot pickle %r: a memfd object has no name; pass it with "
                            "send()/recv() or fd()/from_fd()" % self)
        return (_reattach, (self._id, self._readonly))

    def __repr__(self):
        state = "" if self._buf is not None else ", closed"
        ro = ", readonly=True" if self._readonly else ""
        return "%s(%r, size=%d%s%s)" % (type(self).__name__, self.name, self._size, ro,
                                        state)

    # ipcshm's additions ----------------------------------------------------------

    @property
    def id(self):
        """The canonical id ("/name", "shmid:N" or "memfd:label"); the first two
        attach the same object from another process."""
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

    def _open_handle(self, what):
        if self._buf is None:
            raise ValueError("cannot %s %r" % (what, self))
        return self._handle

    def fd(self):
        """A new descriptor of the object (close-on-exec; read-only if the mapping
        is), which the caller closes with os.close(). For from_fd() in another
        process, or fcntl(F_ADD_SEALS) on a memfd. System V segments have none:
        io.UnsupportedOperation (pass their id instead)."""
        return _check(_lib.ipcshm_fd(self._open_handle("get a descriptor of")))

    def send(self, sock):
        """Sends the object over the connected UNIX-domain socket `sock` (a
        socket.socket or a descriptor), for recv() in the other process. This
        mapping stays. System V: io.UnsupportedOperation (pass their id instead)."""
        _check(_lib.ipcshm_send(_fileno(sock), self._open_handle("send")))

    def resize(self, size):
        """Changes the size of the object (POSIX or memfd) and maps it anew: ``buf``
        and ``size`` are then the new mapping's (the size may be rounded up to a
        huge page). BufferError while a view made from ``buf`` is alive, since the
        mapping may move. Other processes see the new size when they attach.
        PermissionError for a read-only mapping or a memfd that is sealed
        (F_SEAL_GROW) or shrinking; io.UnsupportedOperation for System V."""
        size = operator.index(size)
        if not 0 < size < 1 << 64:
            raise ValueError("'size' must be 1..2**64-1, not %d" % size)
        h = self._open_handle("resize")
        buf = self._buf
        try:
            buf.release()
        except BufferError:
            raise BufferError("cannot resize %r: a buffer exported from its memoryview "
                              "is still alive" % self) from None
        arr = self._arr
        if sys.getrefcount(arr) > 3:    # as in close(): a view derived from buf
            self._buf = _view_of(arr, self._readonly)
            raise BufferError("cannot resize %r: views of its memory (slices of buf, "
                              "arrays over it) are still alive" % self)
        # No view is left: the old mapping may go. The handle stays: the old
        # array's finalizer must not detach it (it gives back its arguments,
        # among them the pid that owns the handle).
        pid = self._finalizer.detach()[2][1]
        self._buf = self._arr = None
        del arr, buf
        rc = _lib.ipcshm_resize(h, size)
        err = _error(rc) if rc < 0 else None
        try:
            self._map(pid)      # a failed resize changed nothing: the old mapping
        except BaseException:
            _detach(h)
            raise
        if err is not None:
            raise err

    def ndarray(self):
        """The typed array that the object holds, as a zero-copy numpy array
        (column-major, order='F'; read-only if the mapping is), from the "WA-1"
        header. The array keeps the mapping alive, and close() raises BufferError
        while it lives. ValueError if the header is not valid (the library says
        what is wrong)."""
        np = _numpy()
        h = self._open_handle("read the array of")
        etype, ndims, offset = ctypes.c_uint32(), ctypes.c_uint32(), ctypes.c_uint64()
        room = _MAX_DIMS_FIRST_TRY
        dims = (ctypes.c_int64 * room)()
        rc = _lib.ipcshm_array_header(h, ctypes.byref(etype), ctypes.byref(ndims), dims,
                                      room, ctypes.byref(offset))
        if rc == -_errno.ERANGE:        # more dimensions than room: ask again
            room = ndims.value
            dims = (ctypes.c_int64 * room)()
            rc = _lib.ipcshm_array_header(h, ctypes.byref(etype), ctypes.byref(ndims),
                                          dims, room, ctypes.byref(offset))
        _check(rc)
        code = _ETYPE_DTYPES.get(etype.value)
        if code is None:
            raise TypeError("%s holds elements of type %d, which has no numpy dtype here"
                            % (self._id, etype.value))
        shape = tuple(dims[:ndims.value])
        # frombuffer holds a memoryview of buf (read-only stays read-only: numpy
        # refuses to make it writeable); reshape(order='F') is a view of it.
        flat = np.frombuffer(self._buf, dtype=code, count=math.prod(shape),
                             offset=offset.value)
        return flat.reshape(shape, order="F")


# --- typed arrays (numpy, imported only here) --------------------------------------

# Element type codes of the "WA-1" header and their numpy dtypes (native byte order).
_ETYPE_DTYPES = {
    IPCSHM_INT8: "i1", IPCSHM_UINT8: "u1", IPCSHM_INT16: "i2", IPCSHM_UINT16: "u2",
    IPCSHM_INT32: "i4", IPCSHM_UINT32: "u4", IPCSHM_INT64: "i8", IPCSHM_UINT64: "u8",
    IPCSHM_FLOAT32: "f4", IPCSHM_FLOAT64: "f8", IPCSHM_COMPLEX64: "c8",
    IPCSHM_COMPLEX128: "c16",
}
_DTYPE_ETYPES = {code: e for e, code in _ETYPE_DTYPES.items()}
_MAX_DIMS_FIRST_TRY = 8


def _numpy():
    import numpy   # lazily: ipcshm works without numpy, arrays need it
    return numpy


def _etype_of(dtype):
    """The element type code of a numpy dtype (or anything numpy.dtype() takes)."""
    dt = _numpy().dtype(dtype)
    code = "%s%d" % (dt.kind, dt.itemsize)
    if dt.isnative and dt.fields is None and dt.subdtype is None and code in _DTYPE_ETYPES:
        return _DTYPE_ETYPES[code]
    raise TypeError("dtype %s is not an element type of shared arrays: int8..uint64, "
                    "float32, float64, complex64, complex128, in native byte order" % dt)


def _dims_of(shape):
    """A ctypes int64 array of the dimensions (an int is one dimension)."""
    try:
        dims = (operator.index(shape),)
    except TypeError:
        dims = tuple(operator.index(d) for d in shape)
    for d in dims:
        if not -1 << 63 <= d < 1 << 63:   # int64; the library checks the rest
            raise ValueError("dimension %d of shape %r is not 0..2**63-1" % (d, shape))
    return (ctypes.c_int64 * len(dims))(*dims), len(dims)


def array(name, dtype=None, shape=None, create=False, *, readonly=False, perms=0o600,
          volatile=True, open_or_create=False, prefault=False, locked=False,
          reserve=False, hugepages=False):
    """A numpy array in shared memory: zero-copy, column-major (order='F': the first
    dimension varies fastest), in the "WA-1" header that Julia's IPC.jl reads.

    create=True (or open_or_create=True) makes the array object `name` of `dtype`
    and `shape`, zero-filled; see SharedMemory.create_array(). Otherwise attaches
    `name` and reads its header; dtype and shape, if given, must be the array's
    (else ValueError). The array keeps the mapping alive: it is detached when the
    array and its views are gone. For the SharedMemory itself (its id, send()),
    use SharedMemory.create_array() / SharedMemory(name) and ndarray().
    """
    if create or open_or_create:
        if readonly:
            raise ValueError("readonly applies to attaching: creating writes the header")
        if dtype is None or shape is None:
            raise ValueError("creating an array needs its dtype and shape")
        shm = SharedMemory.create_array(
            name, dtype, shape, perms=perms, volatile=volatile,
            open_or_create=open_or_create, prefault=prefault, locked=locked,
            reserve=reserve, hugepages=hugepages)
        return shm.ndarray()
    if not volatile or reserve or hugepages or perms != 0o600:
        raise ValueError("volatile, reserve, hugepages and perms apply to create=True or "
                         "open_or_create=True, not to attaching")
    shm = SharedMemory(name, readonly=readonly, prefault=prefault, locked=locked)
    a = shm.ndarray()
    wrong_dtype = dtype is not None and _numpy().dtype(dtype) != a.dtype
    wrong_shape = shape is not None and tuple(_dims_of(shape)[0]) != a.shape
    if wrong_dtype or wrong_shape:
        found = "dtype %s, shape %r" % (a.dtype, a.shape)
        del a
        shm.close()
        raise ValueError("%s holds an array of %s, not of dtype %s, shape %r"
                         % (shm.id, found, dtype, shape))
    return a
