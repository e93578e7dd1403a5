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
``PermissionError`` (EACCES, EPERM), ``InvalidArgumentError`` (EINVAL,
EBADMSG: an ``OSError``, as CPython raises for a bad name, and a
``ValueError``), ``io.UnsupportedOperation`` (EOPNOTSUPP: an ``OSError`` and a
``ValueError`` too) or ``OSError`` (anything else, as its subclass for the
errno: ``ConnectionResetError``, ``BlockingIOError``, ...), with the library's
message (``ipcshm_last_error()``).

``buf`` is a memoryview of the mapping. While it, or any view or array made from
it, is alive, ``close()`` raises ``BufferError`` and keeps the mapping; a view is
never left pointing at unmapped memory, not even at interpreter exit. A
``SharedMemory`` that is dropped without ``close()`` is detached once its last view
is gone (or at interpreter exit). A read-only mapping's buffers are read-only all
the way down (``buf.obj`` too). Handles are owned from the moment the library
returns them: a KeyboardInterrupt at any moment leaks nothing.
"""

# One module per concern; every public name is here:
#   _errors.py         exceptions from the library's -errno and message
#   _args.py           ids, descriptors, permissions, flags on their way in
#   _info.py           ShmInfo; info(), remove(), chmod(); version(), page_size(), ftok()
#   _handles.py        ownership of the library's handles; what exit detaches
#   _buffers.py        buf and its exporter: views keep the mapping, read-only stays so
#   _accel.py          the compiled module ipcshm._ext (ext/*.c), or ctypes: which
#                      makes handles and buffers
#   _shared_memory.py  SharedMemory: create, attach, close, resize, info
#   _descriptors.py    from_fd(), fd(); send(), recv() over UNIX sockets
#   _arrays.py         typed arrays with numpy: create_array(), ndarray(), array()
#   _primitives.py     signalling (1.2): a primitive's place, timeouts, Ctrl-C; wait_word()
#   _events.py         Event (and its asyncio wait), _semaphores.py Semaphore,
#   _mutexes.py        Mutex, OwnerDeadError, NotRecoverableError
#   _multiprocessing.py  SharedMemory across multiprocessing: handed over attached
#   _shareable_list.py ShareableList in CPython's byte format, without its bugs
#   _channels.py       Channel (1.2): a queue of messages between two ends, over
#                      _channel_ends.py (ctypes) or ext/channel.c;
#                      _channel_views.py its reserve/peek views, _channel_info.py
#                      ChannelInfo, channel_info()
#   _manager.py        SharedMemoryManager (imported when first used: it imports
#                      multiprocessing.managers)
# A new concern gets a module of its own and a line here (and, if it has a
# compiled fast path, a file in ext/ and a line in ext/module.c). A handle that
# the library returns goes straight into the object that owns it (its
# out-parameter), and every buffer over shared memory is exported as
# _buffers.py (or ext/exporter.c) does it.

from ._accel import extension_path
from ._arrays import array
from ._errors import InvalidArgumentError
from ._info import ShmInfo, chmod, ftok, info, page_size, remove, version
from ._native import (IPCSHM_COMPLEX64, IPCSHM_COMPLEX128, IPCSHM_FLOAT32,
                      IPCSHM_FLOAT64, IPCSHM_HUGEPAGES, IPCSHM_INT8, IPCSHM_INT16,
                      IPCSHM_INT32, IPCSHM_INT64, IPCSHM_KIND_MEMFD, IPCSHM_KIND_POSIX,
                      IPCSHM_KIND_SYSV, IPCSHM_LOCKED, IPCSHM_OPEN_OR_CREATE,
                      IPCSHM_PERSISTENT, IPCSHM_PREFAULT, IPCSHM_READONLY, IPCSHM_RESERVE,
                      IPCSHM_UINT8, IPCSHM_UINT16, IPCSHM_UINT32, IPCSHM_UINT64,
                      IPCSHM_UNSEALED, ipcshm_info_t, library_path)
from ._shared_memory import SharedMemory, _reattach
from ._shareable_list import ShareableList, UnsupportedItemError
from . import _multiprocessing  # noqa: F401  (registers SharedMemory's reducer)
from ._version import __version__

# The names pickles and reprs use are ipcshm's, whichever module defines them
# (a SharedMemory pickles as ipcshm._reattach(id, readonly)).
for _public in (SharedMemory, ShmInfo, InvalidArgumentError, ShareableList,
                UnsupportedItemError, _reattach, array, chmod, ftok, info, page_size,
                remove, version):
    _public.__module__ = __name__
del _public

__all__ = [
    "SharedMemory", "ShareableList", "SharedMemoryManager", "SharedMemoryServer",
    "ShmInfo", "InvalidArgumentError", "UnsupportedItemError", "array", "remove", "info", "chmod", "version",
    "page_size", "ftok", "library_path", "extension_path", "ipcshm_info_t",
    "IPCSHM_READONLY", "IPCSHM_PERSISTENT", "IPCSHM_OPEN_OR_CREATE", "IPCSHM_PREFAULT",
    "IPCSHM_HUGEPAGES", "IPCSHM_LOCKED", "IPCSHM_RESERVE", "IPCSHM_UNSEALED",
    "IPCSHM_KIND_POSIX", "IPCSHM_KIND_SYSV", "IPCSHM_KIND_MEMFD",
    "IPCSHM_INT8", "IPCSHM_UINT8", "IPCSHM_INT16", "IPCSHM_UINT16", "IPCSHM_INT32",
    "IPCSHM_UINT32", "IPCSHM_INT64", "IPCSHM_UINT64", "IPCSHM_FLOAT32", "IPCSHM_FLOAT64",
    "IPCSHM_COMPLEX64", "IPCSHM_COMPLEX128",
]

# Signalling (libipcshm 1.2): events, semaphores and robust mutexes in shared memory.
from ._events import Event  # noqa: E402
from ._mutexes import Mutex, NotRecoverableError, OwnerDeadError  # noqa: E402
from ._primitives import (IPCSHM_EVENT_SIZE, IPCSHM_MUTEX_SIZE,  # noqa: E402
                          IPCSHM_SEM_SIZE, wait_word, wake_word)
from ._semaphores import Semaphore  # noqa: E402

for _public in (Event, Semaphore, Mutex, OwnerDeadError, NotRecoverableError, wait_word,
                wake_word):
    _public.__module__ = __name__
del _public

__all__ += [
    "Event", "Semaphore", "Mutex", "OwnerDeadError", "NotRecoverableError", "wait_word",
    "wake_word", "IPCSHM_EVENT_SIZE", "IPCSHM_SEM_SIZE", "IPCSHM_MUTEX_SIZE",
]

# Channels (libipcshm 1.2): a bounded queue of messages from one sender to one receiver.
from ._channels import Channel, ChannelInfo, channel_info  # noqa: E402
from ._errors import MessageTooLongError  # noqa: E402
from ._native import (IPCSHM_END_CLOSED, IPCSHM_END_DIED, IPCSHM_END_NEVER,  # noqa: E402
                      IPCSHM_END_OPEN, IPCSHM_RECEIVER, IPCSHM_SENDER)

for _public in (Channel, ChannelInfo, channel_info, MessageTooLongError):
    _public.__module__ = __name__
del _public

__all__ += [
    "Channel", "ChannelInfo", "channel_info", "MessageTooLongError", "IPCSHM_SENDER",
    "IPCSHM_RECEIVER", "IPCSHM_END_NEVER", "IPCSHM_END_OPEN", "IPCSHM_END_CLOSED",
    "IPCSHM_END_DIED",
]


def __getattr__(name: str) -> object:
    # SharedMemoryManager and its server, on first use (multiprocessing.managers
    # is a large import that most programs do not need).
    if name in ("SharedMemoryManager", "SharedMemoryServer"):
        from . import _manager
        for cls in (_manager.SharedMemoryManager, _manager.SharedMemoryServer):
            cls.__module__ = __name__
            globals()[cls.__name__] = cls
        return globals()[name]
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
