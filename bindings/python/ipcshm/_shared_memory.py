"""SharedMemory: one mapping of one object, with the surface of CPython's
multiprocessing.shared_memory.SharedMemory; its buffers and its lifetime.
Descriptors and sockets (_descriptors.py) and typed arrays (_arrays.py) add
their methods through mixins."""

import ctypes
import os
import sys
import weakref

from ._args import _TEMPLATE, _checked_size, _id_bytes, _perms
from ._arrays import _ArrayMethods
from ._descriptors import _DescriptorMethods
from ._errors import _check, _error
from ._info import ShmInfo, _new_info, info
from ._native import (IPCSHM_HUGEPAGES, IPCSHM_LOCKED, IPCSHM_OPEN_OR_CREATE,
                      IPCSHM_PERSISTENT, IPCSHM_PREFAULT, IPCSHM_READONLY,
                      IPCSHM_RESERVE)
from ._native import lib as _lib

_create = _lib.ipcshm_create
_attach = _lib.ipcshm_attach
_detach = _lib.ipcshm_detach
_pointer = _lib.ipcshm_pointer
_size = _lib.ipcshm_size
_id = _lib.ipcshm_id


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


class SharedMemory(_DescriptorMethods, _ArrayMethods):
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
        size = _checked_size(size)
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

    def resize(self, size):
        """Changes the size of the object (POSIX or memfd) and maps it anew: ``buf``
        and ``size`` are then the new mapping's (the size may be rounded up to a
        huge page). BufferError while a view made from ``buf`` is alive, since the
        mapping may move. Other processes see the new size when they attach.
        PermissionError for a read-only mapping or a memfd that is sealed
        (F_SEAL_GROW) or shrinking; io.UnsupportedOperation for System V."""
        if _checked_size(size) == 0:
            raise ValueError("'size' must be a positive number different from zero")
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
