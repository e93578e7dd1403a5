"""Objects by id: ShmInfo (every field of ipcshm_info_t) and info(), remove(),
chmod(); the library's version(), page_size() and System V's ftok()."""

from __future__ import annotations

import ctypes
import dataclasses
import operator
import os
from typing import Any, SupportsIndex, Tuple, Union

from ._args import _id_bytes, _path_bytes, _perms
from ._errors import _check
from ._native import (IPCSHM_HUGEPAGES, IPCSHM_KIND_MEMFD, IPCSHM_KIND_POSIX,
                      IPCSHM_KIND_SYSV, IPCSHM_PERSISTENT, ipcshm_info_t)
from ._native import lib as _lib

_KIND_NAMES = {IPCSHM_KIND_POSIX: "IPCSHM_KIND_POSIX", IPCSHM_KIND_SYSV: "IPCSHM_KIND_SYSV",
               IPCSHM_KIND_MEMFD: "IPCSHM_KIND_MEMFD"}
_FLAG_NAMES = ((IPCSHM_PERSISTENT, "IPCSHM_PERSISTENT"), (IPCSHM_HUGEPAGES, "IPCSHM_HUGEPAGES"))


def _kind_text(kind: int) -> str:
    return _KIND_NAMES.get(kind, str(kind))


def _flags_text(flags: int) -> str:
    names = [name for bit, name in _FLAG_NAMES if flags & bit]
    rest = flags & ~sum(bit for bit, _ in _FLAG_NAMES)
    if rest:
        names.append(hex(rest))
    return "|".join(names) or "0"


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

    def __repr__(self) -> str:
        """Kinds and flags by name, the mode in octal and the key in hex (as
        ipcs prints it: the 32 bits of the key, 0x%08x); the rest in decimal."""
        shown = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "kind":
                text = _kind_text(value)
            elif f.name == "mode":
                text = "0o%03o" % value
            elif f.name == "key":
                text = "0x%08x" % (value & 0xFFFFFFFF)
            elif f.name == "flags":
                text = _flags_text(value)
            else:
                text = str(value)
            shown.append("%s=%s" % (f.name, text))
        return "%s(%s)" % (type(self).__name__, ", ".join(shown))

    __str__ = __repr__

    @property
    def hugepages(self) -> bool:
        """True for a memfd object in huge pages (the flag the library reports)."""
        return bool(self.flags & IPCSHM_HUGEPAGES)

    @property
    def persistent(self) -> bool:
        return bool(self.flags & IPCSHM_PERSISTENT)

    @property
    def volatile(self) -> bool:
        return not self.flags & IPCSHM_PERSISTENT

    @classmethod
    def _from_c(cls, c: ipcshm_info_t) -> ShmInfo:
        return cls(*(getattr(c, f) for f, _ in ipcshm_info_t._fields_))


def _new_info() -> ipcshm_info_t:
    c = ipcshm_info_t()
    c.struct_size = ctypes.sizeof(ipcshm_info_t)
    return c


def remove(id: Union[str, bytes]) -> None:
    """Removes the name of an object (POSIX shm_unlink, System V IPC_RMID).

    Users that have it mapped keep their memory; an object already gone is fine."""
    _check(_lib.ipcshm_remove(_id_bytes(id)))


def info(id: Union[str, bytes]) -> ShmInfo:
    """ShmInfo of the object `id` (needs only read permission)."""
    c = _new_info()
    _check(_lib.ipcshm_info(_id_bytes(id), ctypes.byref(c)))
    return ShmInfo._from_c(c)


def chmod(id: Union[str, bytes], perms: SupportsIndex) -> None:
    """Sets the permission bits of `id` to perms | 0o600 (owner or root only)."""
    _check(_lib.ipcshm_chmod(_id_bytes(id), _perms(perms)))


def version() -> Tuple[int, int, int]:
    """(major, minor, patch) of the loaded libipcshm."""
    v: int = _lib.ipcshm_version()
    return (v >> 16, (v >> 8) & 0xFF, v & 0xFF)


def page_size() -> int:
    """The size of a page in bytes."""
    size: int = _lib.ipcshm_page_size()
    return size


def ftok(path: Union[str, bytes, os.PathLike[Any]], proj: SupportsIndex) -> int:
    """ftok(path, proj) as a System V key, for "key:%d" % key. `path` is a str,
    bytes or os.PathLike naming an existing file; `proj` is 1..255 (ValueError
    otherwise: ftok would keep only its low 8 bits)."""
    n = operator.index(proj)
    if not 1 <= n <= 255:
        raise ValueError("proj %d is not 1..255" % n)
    key = ctypes.c_int32()
    _check(_lib.ipcshm_ftok(_path_bytes(path), n, ctypes.byref(key)))
    return key.value
