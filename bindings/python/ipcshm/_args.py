"""Arguments on their way to the library: ids, descriptors, permissions, flags."""

import operator
import os

from ._native import (IPCSHM_HUGEPAGES, IPCSHM_LOCKED, IPCSHM_OPEN_OR_CREATE,
                      IPCSHM_PERSISTENT, IPCSHM_PREFAULT, IPCSHM_READONLY,
                      IPCSHM_RESERVE)

# name=None with create=True: the library fills the X's (unguessable, retried on
# EEXIST), like CPython's "psm_" + random names (14 bytes at most, as CPython keeps).
_TEMPLATE = b"/psm_XXXXXXXX"
_SYSV_PREFIXES = (b"key:", b"shmid:", b"memfd:")


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


# The flags of the other constructors (SharedMemory() spells them out: its hot path).
def _attach_flags(readonly, prefault, locked):
    return ((IPCSHM_READONLY if readonly else 0) | (IPCSHM_PREFAULT if prefault else 0)
            | (IPCSHM_LOCKED if locked else 0))


def _create_flags(volatile, open_or_create, reserve, hugepages):
    return ((0 if volatile else IPCSHM_PERSISTENT)
            | (IPCSHM_OPEN_OR_CREATE if open_or_create else 0)
            | (IPCSHM_RESERVE if reserve else 0)
            | (IPCSHM_HUGEPAGES if hugepages else 0))
