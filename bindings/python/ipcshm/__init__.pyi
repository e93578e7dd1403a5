# Type hints of the package ipcshm (PEP 561: the package ships py.typed). The
# names and signatures are those of ipcshm/__init__.py; a test runs mypy's
# stubtest against the module, so the two cannot drift apart.
import dataclasses
import os
from multiprocessing.managers import BaseManager, Server
import types
from collections.abc import Iterable, Iterator
from typing import Any, Callable, List, Optional, Protocol, Sequence, SupportsIndex, Tuple, Union

import numpy
import numpy.typing

from ._native import (IPCSHM_COMPLEX64 as IPCSHM_COMPLEX64,
                      IPCSHM_COMPLEX128 as IPCSHM_COMPLEX128,
                      IPCSHM_FLOAT32 as IPCSHM_FLOAT32, IPCSHM_FLOAT64 as IPCSHM_FLOAT64,
                      IPCSHM_HUGEPAGES as IPCSHM_HUGEPAGES, IPCSHM_INT8 as IPCSHM_INT8,
                      IPCSHM_INT16 as IPCSHM_INT16, IPCSHM_INT32 as IPCSHM_INT32,
                      IPCSHM_INT64 as IPCSHM_INT64, IPCSHM_KIND_MEMFD as IPCSHM_KIND_MEMFD,
                      IPCSHM_KIND_POSIX as IPCSHM_KIND_POSIX,
                      IPCSHM_KIND_SYSV as IPCSHM_KIND_SYSV, IPCSHM_LOCKED as IPCSHM_LOCKED,
                      IPCSHM_OPEN_OR_CREATE as IPCSHM_OPEN_OR_CREATE,
                      IPCSHM_PERSISTENT as IPCSHM_PERSISTENT,
                      IPCSHM_PREFAULT as IPCSHM_PREFAULT, IPCSHM_READONLY as IPCSHM_READONLY,
                      IPCSHM_RESERVE as IPCSHM_RESERVE, IPCSHM_UINT8 as IPCSHM_UINT8,
                      IPCSHM_UINT16 as IPCSHM_UINT16, IPCSHM_UINT32 as IPCSHM_UINT32,
                      IPCSHM_UINT64 as IPCSHM_UINT64,
                      IPCSHM_UNSEALED as IPCSHM_UNSEALED, ipcshm_info_t as ipcshm_info_t,
                      library_path as library_path)

__version__: str
# The compiled module in use (ipcshm._ext), or None: ctypes alone.
extension_path: Optional[str]
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

# An object id or POSIX name: "/name", "name", "key:0x1234", "private",
# "shmid:N", "memfd:label" (str, or bytes/os.PathLike as os.fsencode takes).
_Id = Union[str, bytes]
class _HasFileno(Protocol):
    def fileno(self) -> int: ...

# A descriptor: an int, or anything with fileno() (a socket.socket, a file).
_Fd = Union[SupportsIndex, _HasFileno]
# What numpy accepts as a shape: an int or a sequence of ints.
_Shape = Union[SupportsIndex, Sequence[SupportsIndex]]
# A numpy array over shared memory (column-major, order='F').
_Array = numpy.ndarray[Any, numpy.dtype[Any]]


class InvalidArgumentError(OSError, ValueError):
    """EINVAL or EBADMSG from the library: both an OSError and a ValueError."""


@dataclasses.dataclass(frozen=True)
class ShmInfo:
    """Every field of ipcshm_info_t (see include/ipcshm.h)."""
    struct_size: int
    kind: int
    size: int
    nattch: int
    atime: int
    dtime: int
    ctime: int
    mode: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    cpid: int
    lpid: int
    key: int
    shmid: int
    flags: int

    # Kinds and flags by name, the mode in octal, the key in hex (0x%08x).
    def __repr__(self) -> str: ...
    def __str__(self) -> str: ...
    @property
    def hugepages(self) -> bool: ...
    @property
    def persistent(self) -> bool: ...
    @property
    def volatile(self) -> bool: ...
    @classmethod
    def _from_c(cls, c: ipcshm_info_t) -> "ShmInfo": ...


class SharedMemory:
    """A mapping of a shared memory object, like multiprocessing.shared_memory's."""

    # track (CPython 3.13's): when creating, False makes the object persistent
    # (as volatile=False); volatile, if given, decides instead.
    def __init__(self, name: Optional[_Id] = None, create: bool = False,
                 size: SupportsIndex = 0, *, track: bool = True, perms: int = 0o600,
                 readonly: bool = False, volatile: Optional[bool] = None,
                 open_or_create: bool = False, prefault: bool = False,
                 locked: bool = False, reserve: bool = False,
                 hugepages: bool = False) -> None: ...
    @classmethod
    def from_fd(cls, fd: _Fd, readonly: bool = False, *, prefault: bool = False,
                locked: bool = False, unsealed: bool = False) -> "SharedMemory": ...
    @classmethod
    def recv(cls, sock: _Fd, readonly: bool = False, *, prefault: bool = False,
             locked: bool = False, unsealed: bool = False) -> "SharedMemory": ...
    @classmethod
    def create_array(cls, name: Optional[_Id], dtype: numpy.typing.DTypeLike,
                     shape: _Shape, *, perms: int = 0o600, volatile: bool = True,
                     open_or_create: bool = False, prefault: bool = False,
                     locked: bool = False, reserve: bool = False,
                     hugepages: bool = False) -> "SharedMemory": ...

    # CPython's surface
    @property
    def name(self) -> str: ...
    @property
    def size(self) -> int: ...
    # A memoryview of the mapping; None once closed (typed as CPython's is).
    @property
    def buf(self) -> memoryview: ...
    def close(self) -> None: ...
    def unlink(self) -> None: ...
    def __enter__(self) -> "SharedMemory": ...
    def __exit__(self, *exc: object) -> None: ...
    def __reduce__(self) -> Tuple[Callable[[str, bool], "SharedMemory"], Tuple[str, bool]]: ...

    # ipcshm's additions
    @property
    def id(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    @property
    def readonly(self) -> bool: ...
    @property
    def created(self) -> bool: ...
    @property
    def volatile(self) -> bool: ...
    def info(self) -> ShmInfo: ...
    def chmod(self, perms: int) -> None: ...
    def fd(self) -> int: ...
    def send(self, sock: _Fd) -> None: ...
    def resize(self, size: SupportsIndex) -> None: ...
    def ndarray(self) -> _Array: ...


def remove(id: _Id) -> None: ...
def info(id: _Id) -> ShmInfo: ...
def chmod(id: _Id, perms: int) -> None: ...
def version() -> Tuple[int, int, int]: ...
def page_size() -> int: ...
def ftok(path: Union[str, bytes, os.PathLike[str], os.PathLike[bytes]],
         proj: int) -> int: ...
def array(name: Optional[_Id], dtype: numpy.typing.DTypeLike = None,
          shape: Optional[_Shape] = None, create: bool = False, *,
          readonly: bool = False, perms: int = 0o600, volatile: bool = True,
          open_or_create: bool = False, prefault: bool = False, locked: bool = False,
          reserve: bool = False, hugepages: bool = False) -> _Array: ...


# A value that a ShareableList holds.
_Item = Union[int, float, bool, str, bytes, None]


class UnsupportedItemError(TypeError, KeyError):
    """A value that a ShareableList cannot hold (CPython: KeyError)."""


class ShareableList:
    """A fixed-length list in shared memory, in CPython's ShareableList format."""

    shm: SharedMemory
    def __init__(self, sequence: Optional[Iterable[_Item]] = None, *,
                 name: Optional[str] = None) -> None: ...
    def __getitem__(self, position: SupportsIndex) -> _Item: ...
    def __setitem__(self, position: SupportsIndex, value: _Item) -> None: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[_Item]: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]: ...
    @property
    def format(self) -> str: ...
    def count(self, value: object) -> int: ...
    def index(self, value: object) -> int: ...
    def __class_getitem__(cls, item: Any) -> types.GenericAlias: ...


class SharedMemoryServer(Server):
    """The server of a SharedMemoryManager: tracks (attaches) its objects."""

    public: List[str]
    def create(self, c: Any, typeid: str, /, *args: Any, **kwargs: Any) -> Any: ...
    def shutdown(self, c: Any) -> Any: ...
    def track_segment(self, c: Any, segment_name: str) -> None: ...
    def release_segment(self, c: Any, segment_name: str) -> None: ...
    def list_segments(self, c: Any) -> List[str]: ...


class SharedMemoryManager(BaseManager):
    """CPython's SharedMemoryManager for ipcshm's SharedMemory and ShareableList."""

    def get_server(self) -> SharedMemoryServer: ...
    def SharedMemory(self, size: int) -> SharedMemory: ...
    def ShareableList(self, sequence: Optional[Iterable[_Item]]) -> ShareableList: ...

# Signalling (libipcshm 1.2): the modules' own hints.
from ._events import Event as Event
from ._mutexes import Mutex as Mutex
from ._mutexes import NotRecoverableError as NotRecoverableError
from ._mutexes import OwnerDeadError as OwnerDeadError
from ._primitives import IPCSHM_EVENT_SIZE as IPCSHM_EVENT_SIZE
from ._primitives import IPCSHM_MUTEX_SIZE as IPCSHM_MUTEX_SIZE
from ._primitives import IPCSHM_SEM_SIZE as IPCSHM_SEM_SIZE
from ._primitives import wait_word as wait_word
from ._primitives import wake_word as wake_word
from ._semaphores import Semaphore as Semaphore

__all__ += [
    "Event", "Semaphore", "Mutex", "OwnerDeadError", "NotRecoverableError", "wait_word",
    "wake_word", "IPCSHM_EVENT_SIZE", "IPCSHM_SEM_SIZE", "IPCSHM_MUTEX_SIZE",
]

# Channels (libipcshm 1.2): the modules' own hints.
from ._channels import Channel as Channel
from ._channels import ChannelInfo as ChannelInfo
from ._channels import channel_info as channel_info
from ._errors import MessageTooLongError as MessageTooLongError
from ._native import IPCSHM_END_CLOSED as IPCSHM_END_CLOSED
from ._native import IPCSHM_END_DIED as IPCSHM_END_DIED
from ._native import IPCSHM_END_NEVER as IPCSHM_END_NEVER
from ._native import IPCSHM_END_OPEN as IPCSHM_END_OPEN
from ._native import IPCSHM_RECEIVER as IPCSHM_RECEIVER
from ._native import IPCSHM_SENDER as IPCSHM_SENDER

__all__ += [
    "Channel", "ChannelInfo", "channel_info", "MessageTooLongError", "IPCSHM_SENDER",
    "IPCSHM_RECEIVER", "IPCSHM_END_NEVER", "IPCSHM_END_OPEN", "IPCSHM_END_CLOSED",
    "IPCSHM_END_DIED",
]
