"""Arguments on their way to the library: ids, descriptors, sizes, permissions,
flags. ctypes would pass a C string up to its first NUL and keep the low bits of
an integer too big for its C type, so both are refused here, as CPython's own
functions refuse them: ValueError("embedded null byte"), OverflowError."""

from __future__ import annotations

import operator
import os
import sys
from typing import Any, SupportsIndex, Union

from ._native import (IPCSHM_HUGEPAGES, IPCSHM_LOCKED, IPCSHM_OPEN_OR_CREATE,
                      IPCSHM_PERSISTENT, IPCSHM_PREFAULT, IPCSHM_READONLY,
                      IPCSHM_RESERVE, IPCSHM_UNSEALED)

# name=None with create=True: the library fills the X's (unguessable, retried on
# EEXIST), like CPython's "psm_" + random names (14 bytes at most, as CPython keeps).
_TEMPLATE = b"/psm_XXXXXXXX"
_PREFIXES = (b"key:", b"shmid:", b"memfd:")    # ids that are not POSIX names
# os.fsencode()'s, for the inline path of SharedMemory()
_FS_ENCODING, _FS_ERRORS = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()

_INT_MIN, _INT_MAX = -2**31, 2**31 - 1            # C int, as on Linux
_INT64_MIN, _INT64_MAX = -2**63, 2**63 - 1
_UINT64_MAX = 2**64 - 1


def _id_bytes(name: Union[str, bytes]) -> bytes:
    """The library id of a name: "x" and "/x" are "/x"; System V ids pass as they are."""
    if isinstance(name, str):
        raw = os.fsencode(name)
    elif isinstance(name, bytes):
        raw = name
    else:
        raise TypeError("a shared memory name or id is a str, not %s"
                        % type(name).__name__)
    if b"\0" in raw:
        raise ValueError("embedded null byte")
    if raw.startswith(b"/") or raw == b"private" or raw.startswith(_PREFIXES):
        return raw
    return b"/" + raw


def _path_bytes(path: Union[str, bytes, os.PathLike[Any]]) -> bytes:
    """A file system path (str, bytes, os.PathLike) as the C string for it."""
    raw = os.fsencode(path)
    if b"\0" in raw:
        raise ValueError("embedded null byte")
    return raw


def _fileno(obj: Any) -> int:
    """The descriptor of an int or of an object with fileno() (a socket, a file)."""
    try:
        fd = operator.index(obj)
    except TypeError:
        fileno = getattr(obj, "fileno", None)
        if fileno is None:
            raise TypeError("a descriptor is an int or has fileno(), not %s"
                            % type(obj).__name__) from None
        fd = operator.index(fileno())
    if not _INT_MIN <= fd <= _INT_MAX:
        raise OverflowError("descriptor %d does not fit in a C int" % fd)
    return fd


def _checked_size(size: SupportsIndex, what: str = "size") -> int:
    """A size in bytes for a uint64_t: OverflowError from 2**64 on."""
    n = operator.index(size)
    if n < 0:
        raise ValueError("'%s' must be a positive integer, not %d" % (what, n))
    if n > _UINT64_MAX:
        raise OverflowError("'%s' %d does not fit in 64 bits" % (what, n))
    return n


def _int64(value: SupportsIndex, what: str) -> int:
    """An int64_t (an array dimension): OverflowError outside its range."""
    n = operator.index(value)
    if not _INT64_MIN <= n <= _INT64_MAX:
        raise OverflowError("%s %d does not fit in 64 bits" % (what, n))
    return n


def _perms(perms: SupportsIndex) -> int:
    """A permission mode for a uint32_t; the library refuses bits above 0o777."""
    n = operator.index(perms)
    if not 0 <= n <= 0xFFFFFFFF:
        raise ValueError("perms %r is not a permission mode (0..0o777)" % n)
    return n


# The flags of the other constructors (SharedMemory() spells them out: its hot path).
def _attach_flags(readonly: bool, prefault: bool, locked: bool,
                  unsealed: bool = False) -> int:
    return ((IPCSHM_READONLY if readonly else 0) | (IPCSHM_PREFAULT if prefault else 0)
            | (IPCSHM_LOCKED if locked else 0) | (IPCSHM_UNSEALED if unsealed else 0))


def _create_flags(volatile: bool, open_or_create: bool, reserve: bool,
                  hugepages: bool) -> int:
    return ((0 if volatile else IPCSHM_PERSISTENT)
            | (IPCSHM_OPEN_OR_CREATE if open_or_create else 0)
            | (IPCSHM_RESERVE if reserve else 0)
            | (IPCSHM_HUGEPAGES if hugepages else 0))
