"""SharedMemory: one mapping of one object, with the surface of CPython's
multiprocessing.shared_memory.SharedMemory. The library's handle is owned by a
handle object (_handles.py's _Handle, or the compiled module's Handle: see
_accel.py) from the moment the call that makes it returns; the buffers and
what keeps the mapping alive while they live are _buffers.py's (or the
compiled module's).
Descriptors and sockets (_descriptors.py) and typed arrays (_arrays.py) add
their methods through mixins."""

from __future__ import annotations

import ctypes
import errno
import operator
import os
from typing import Any, Callable, Optional, SupportsIndex, Tuple, Type, TypeVar, Union

from . import _buffers
from ._accel import attach as _attach
from ._accel import create as _create
from ._accel import export as _export
from ._accel import remove as _remove
from ._args import (_FS_ENCODING, _FS_ERRORS, _PREFIXES, _TEMPLATE, _UINT64_MAX,
                    _checked_size, _id_bytes, _perms)
from ._arrays import _ArrayMethods
from ._descriptors import _DescriptorMethods
from ._errors import _check, _error
from ._info import ShmInfo, _new_info, info
from ._native import (IPCSHM_HUGEPAGES, IPCSHM_LOCKED, IPCSHM_OPEN_OR_CREATE,
                      IPCSHM_PERSISTENT, IPCSHM_PREFAULT, IPCSHM_READONLY,
                      IPCSHM_RESERVE)
from ._native import lib as _lib


_T = TypeVar("_T", bound="SharedMemory")


def _reattach(id: str, readonly: bool) -> SharedMemory:
    return SharedMemory(id, readonly=readonly)


class SharedMemory(_DescriptorMethods, _ArrayMethods):
    """A mapping of a shared memory object, like multiprocessing.shared_memory's.

    SharedMemory(name=None, create=False, size=0, *, track=True, perms=0o600,
                 readonly=False, volatile=None, open_or_create=False, prefault=False,
                 locked=False, reserve=False, hugepages=False)

    create=True makes a new object of `size` bytes (exclusive: an existing name is
    FileExistsError); name=None then picks a unique POSIX name. open_or_create=True
    attaches the object if it exists (and belongs to this user), else creates it;
    ``created`` tells which. Without either, attaches the existing object `name`.
    volatile=True (the default) destroys the object when its last user, in any
    process, closes it or dies; volatile=False keeps it until unlink()/remove().
    track is CPython 3.13's: there is no resource tracker here, and volatile
    objects already go with their last user; track=False (when creating and
    volatile is not given) makes a persistent object, as 3.13's untracked
    objects outlive their process.
    perms, volatile, reserve and hugepages belong to creation: attaching with them
    is a ValueError. readonly maps read-only (``buf`` is a read-only memoryview).
    prefault populates the pages, locked keeps them in RAM (mlock), reserve
    allocates a POSIX object's backing store now (ENOSPC now, not SIGBUS later),
    hugepages backs the object with huge pages (OSError if none are available).

    "memfd:label" with create=True makes an anonymous object; other processes get
    it by send()/recv() or fd()/from_fd(). Other constructors: from_fd(), recv(),
    create_array().
    """

    __slots__ = ("_handle", "_id", "_size", "_buf", "_exporter", "_readonly",
                 "_prefault", "_created", "_unlinked", "_persistent", "__weakref__")
    _handle: Optional[Any]          # None once closed (see _accel.py)
    _id: str
    _size: int
    _buf: Optional[memoryview]      # None once closed (or until mapped again)
    _exporter: Optional[Callable[[], Any]]   # a weak reference to the exporter
    _readonly: bool
    _prefault: bool
    _created: bool
    _unlinked: bool                 # unlink() removed the name
    _persistent: bool               # known to be persistent (this one created it so)

    def __init__(self, name: Optional[Union[str, bytes]] = None, create: bool = False,
                 size: SupportsIndex = 0, *, track: bool = True, perms: int = 0o600,
                 readonly: bool = False, volatile: Optional[bool] = None,
                 open_or_create: bool = False, prefault: bool = False,
                 locked: bool = False, reserve: bool = False,
                 hugepages: bool = False) -> None:
        self._handle = None
        self._buf = None
        self._persistent = False
        # (the checks of _args.py, inline for the common types: this is the
        # path that every create and attach takes)
        if size.__class__ is int and 0 <= size <= _UINT64_MAX:    # type: ignore[operator]
            nbytes: int = size      # type: ignore[assignment]
        else:
            nbytes = _checked_size(size)
        flags = ((IPCSHM_READONLY if readonly else 0)
                 | (IPCSHM_PREFAULT if prefault else 0)
                 | (IPCSHM_LOCKED if locked else 0))
        if name.__class__ is str and "\0" not in name:           # type: ignore[operator]
            ident = name.encode(_FS_ENCODING, _FS_ERRORS)          # type: ignore[union-attr]
            if ident[:1] != b"/" and not (ident == b"private" or ident.startswith(_PREFIXES)):
                ident = b"/" + ident
        elif name is not None:
            ident = _id_bytes(name)
        if create or open_or_create:
            if nbytes == 0:
                raise ValueError("'size' must be a positive number different from zero")
            # track (CPython 3.13): False keeps the object when this process
            # ends, as volatile=False does; True, as volatile objects go with
            # their last user. An explicit volatile decides.
            if volatile is None:
                volatile = track
            self._persistent = not volatile and not open_or_create
            flags |= ((0 if volatile else IPCSHM_PERSISTENT)
                      | (IPCSHM_OPEN_OR_CREATE if open_or_create else 0)
                      | (IPCSHM_RESERVE if reserve else 0)
                      | (IPCSHM_HUGEPAGES if hugepages else 0))
            handle = _create(_TEMPLATE if name is None else ident, nbytes,
                             perms if perms.__class__ is int and 0 <= perms <= 0o777
                             else _perms(perms), flags)
        else:
            if name is None:
                raise ValueError("'name' can only be None if create=True")
            if volatile is False or reserve or hugepages or perms != 0o600:
                raise ValueError("volatile, reserve, hugepages and perms apply to "
                                 "create=True or open_or_create=True, not to attaching")
            handle = _attach(ident, flags)
        # `handle` owns what the call made, whatever happens from here on.
        self._adopt(handle, readonly, prefault)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        from . import _multiprocessing      # (which imports this module)
        _multiprocessing.register(cls)      # multiprocessing hands subclasses over too

    def _adopt(self, handle: Any, readonly: bool, prefault: bool) -> None:
        """Takes the new `handle` (see _accel.py) and maps it; detaches it if
        that fails (now: the traceback would keep it alive)."""
        self._handle = handle
        self._unlinked = False
        try:
            self._id = handle.id
            self._readonly = bool(readonly)
            self._prefault = bool(prefault)
            self._created = handle.created
            self._map()
        except BaseException:
            # (_map may have made buf already: nothing here may keep it, and
            # detach_now() leaves a handle whose mapping a view still uses to
            # go with that view)
            self._handle = None
            self._buf = None
            self._exporter = None
            handle.detach_now()
            raise

    def _map(self) -> None:
        """buf over the handle's mapping, as it is now (again after a resize)."""
        handle = self._handle
        assert handle is not None
        # A POSIX object's views get a mapping of their own (_buffers.py: so
        # that its handle can be detached at exit, and a volatile object go
        # with its last user, while a view is still read), but for a read-write
        # mapping of an object known to be persistent, which no detach at exit
        # would remove.
        direct = self._persistent and not self._readonly
        buf, exporter, size = _export(handle, self._id, self._readonly, self._prefault,
                                      _buffers._duplicating and not direct)
        self._size = size
        self._exporter = exporter
        self._buf = buf
        if handle.direct and self._id[:1] == "/" and not direct:
            _buffers.direct_posix.add(self)

    @classmethod
    def _new(cls: Type[_T], handle: Any, readonly: bool, prefault: bool = False) -> _T:
        """The SharedMemory of a new `handle` (see _accel.py)."""
        self = cls.__new__(cls)
        self._handle = None
        self._buf = None
        self._persistent = False
        self._adopt(handle, readonly, prefault)
        return self

    # CPython's surface ---------------------------------------------------------

    @property
    def name(self) -> str:
        """The name as CPython gives it: POSIX without the '/'; else the id."""
        return self._id[1:] if self._id.startswith("/") else self._id

    @property
    def size(self) -> int:
        """Size of the mapping in bytes."""
        return self._size

    @property
    def buf(self) -> memoryview:
        """A memoryview of the mapping (read-only if readonly); None once closed.
        ``buf.obj``, the exporter of every view, is read-only with it."""
        if self._buf is None and self._handle is not None:
            self._map()     # after a resize() that an exception interrupted
        return self._buf    # type: ignore[return-value]  # None once closed, as CPython's

    def _release_views(self, what: str) -> None:
        """Releases ``buf``; BufferError (with a fresh ``buf``) if another view of
        the mapping is still alive, which is exactly when its exporter is."""
        buf = self._buf
        assert buf is not None and self._exporter is not None
        try:
            buf.release()   # fails if something holds a buffer from buf itself
        except BufferError:
            raise BufferError("cannot %s %r: a buffer exported from its memoryview is "
                              "still alive" % (what, self)) from None
        del buf
        if self._exporter() is not None:
            fresh = _buffers.reexport(self._exporter)
            if fresh is not None:       # (else the last view went meanwhile)
                self._buf = fresh
                raise BufferError("cannot %s %r: views of its memory (slices of buf, "
                                  "arrays over it, buf.obj) are still alive"
                                  % (what, self))

    def close(self) -> None:
        """Detaches this mapping. The object itself stays unless it is volatile and
        this was its last user.

        BufferError if a view made from ``buf`` (a slice, memoryview(buf), a numpy
        array, a ctypes object, ``buf.obj``) is still alive: the mapping then
        stays, ``buf`` is a fresh view, and close() can be called again once those
        views are gone. The memoryview that ``buf`` returned before is released by
        close(), as CPython does. Closing twice is fine."""
        if self._buf is not None:
            self._release_views("close")
            self._buf = None
        # The last references to the handle (the exporter is gone, and with it
        # the keeper's place in _buffers._keepers): it is detached now.
        self._exporter = None
        self._handle = None

    def unlink(self) -> None:
        """Removes the object's name (POSIX shm_unlink, System V IPC_RMID), as
        CPython's unlink(). Mappings stay valid until closed. A memfd object has no
        name: nothing to do.

        A name that is gone already is fine the first time (a volatile object
        goes with its last user, which may be this one's close()), and
        FileNotFoundError when this SharedMemory unlinked it before, as
        CPython's second unlink() is."""
        ident = self._id
        if self._unlinked:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), ident)
        if ident[:6] == "memfd:":
            return
        rc: int = _remove(ident.encode("utf-8", "surrogateescape"))
        if rc < 0:
            raise _error(rc)
        self._unlinked = True

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __reduce__(self) -> Tuple[Callable[[str, bool], SharedMemory], Tuple[str, bool]]:
        if self._id.startswith("memfd:"):
            raise TypeError("cannot pickle %r: a memfd object has no name; pass it with "
                            "send()/recv() or fd()/from_fd()" % self)
        return (_reattach, (self._id, self._readonly))

    def __repr__(self) -> str:
        if not hasattr(self, "_id"):
            return "<%s, not mapped>" % type(self).__name__
        state = "" if self._handle is not None else ", closed"
        ro = ", readonly=True" if self._readonly else ""
        return "%s(%r, size=%d%s%s)" % (type(self).__name__, self.name,
                                        getattr(self, "_size", 0), ro, state)

    # ipcshm's additions ----------------------------------------------------------

    @property
    def id(self) -> str:
        """The canonical id ("/name", "shmid:N" or "memfd:label"); the first two
        attach the same object from another process."""
        return self._id

    @property
    def closed(self) -> bool:
        return self._handle is None

    @property
    def readonly(self) -> bool:
        return self._readonly

    @property
    def created(self) -> bool:
        """True if this SharedMemory created the object (open_or_create: maybe not)."""
        return self._created

    @property
    def volatile(self) -> bool:
        """True if the object goes with its last user (from info().flags)."""
        return self.info().volatile

    def info(self) -> ShmInfo:
        """ShmInfo of the object (through the mapping while open, else by id)."""
        handle = self._handle
        if handle is None:
            return info(self._id)
        out = handle.out
        del handle      # (a traceback must not keep the handle: only `out`)
        c = _new_info()
        _check(_lib.ipcshm_handle_info(out, ctypes.byref(c)))
        return ShmInfo._from_c(c)

    def chmod(self, perms: int) -> None:
        """Sets the permission bits to perms | 0o600 (owner or root only)."""
        _check(_lib.ipcshm_chmod(self._id.encode("utf-8", "surrogateescape"),
                                 _perms(perms)))

    def _open_handle(self, what: str) -> Any:
        """The _Handle of an open mapping (ValueError once closed). Callers keep
        only its ``out`` in their frames: a traceback that held the _Handle would
        keep it attached after close()."""
        handle = self._handle
        if handle is None:
            raise ValueError("cannot %s %r" % (what, self))
        return handle

    def resize(self, size: SupportsIndex) -> None:
        """Changes the size of the object (POSIX or memfd) and maps it anew: ``buf``
        and ``size`` are then the new mapping's (the size may be rounded up to a
        huge page). BufferError while a view made from ``buf`` is alive, since the
        mapping may move. PermissionError for a read-only mapping or a memfd that
        is sealed (F_SEAL_GROW) or shrinking; io.UnsupportedOperation for System V.

        Other processes see the new size when they attach; their mappings keep
        their old length. Shrinking takes the bytes past the new end away from
        every other mapping of the object, here or in other processes: touching
        them there kills that process (SIGBUS). So the library refuses to shrink
        a volatile POSIX object that other handles still hold (OSError with errno
        EBUSY); shrink a persistent one only when nobody else maps it. A memfd
        object cannot shrink at all."""
        if _checked_size(size) == 0:
            raise ValueError("'size' must be a positive number different from zero")
        out = self._open_handle("resize").out
        if self._buf is not None:
            self._release_views("resize")
        # No view is left (the old exporter is gone); the handle stays ours
        # throughout: a failure, or an exception from here on, leaves this
        # SharedMemory closed at worst, and its handle detached with it.
        self._buf = None
        rc: int = _lib.ipcshm_resize(out, operator.index(size))
        err = _error(rc) if rc < 0 else None
        # A failed resize changed nothing: the old mapping again. (If this is
        # interrupted, ``buf`` maps the handle's mapping when next asked for.)
        self._map()
        if err is not None:
            raise err
