"""The C ABI of libipcshm as ctypes sees it: loading, prototypes, constants.

Nothing here is a second implementation: every operation is a call into
libipcshm.so.1. The rest of the package (``ipcshm/__init__.py``) builds the
Python surface on top of these names.

Which library is loaded, as for any library that ctypes wraps:

1. ``$IPCSHM_LIBRARY``, a path to the shared library (an error if it cannot be
   loaded: a path that was asked for is never silently replaced by another);
2. otherwise ``libipcshm.so.1``, its SONAME, through the dynamic loader's search:
   ``LD_LIBRARY_PATH``, the loader's cache (an installed library:
   ``/usr/lib/<triplet>``, ``/usr/local/lib/<triplet>`` after ``ldconfig``).

Neither: an ``ImportError`` that names both and says what to install or set.
``library_path`` tells the file that was loaded.
"""

import ctypes
import os
from ctypes import (POINTER, c_char_p, c_int, c_int32, c_int64, c_uint32, c_uint64,
                    c_void_p)
from typing import Any, Dict, List, Tuple

ENV_VAR = "IPCSHM_LIBRARY"
SONAME = "libipcshm.so.1"
# What provides SONAME on Debian (and the package for building against it).
DEBIAN_PACKAGE = "libipcshm1"

# Flags (uint32_t); 0 is the safe default: volatile, exclusive create, read-write.
IPCSHM_READONLY = 1 << 0
IPCSHM_PERSISTENT = 1 << 1
IPCSHM_OPEN_OR_CREATE = 1 << 2
IPCSHM_PREFAULT = 1 << 3
IPCSHM_HUGEPAGES = 1 << 4          # since 1.1
IPCSHM_LOCKED = 1 << 5
IPCSHM_RESERVE = 1 << 6
IPCSHM_UNSEALED = 1 << 7

# Object kinds (ipcshm_info_t.kind).
IPCSHM_KIND_POSIX = 1
IPCSHM_KIND_SYSV = 2
IPCSHM_KIND_MEMFD = 3

# Element types of typed arrays (the "WA-1" header's etype), since 1.1.
(IPCSHM_INT8, IPCSHM_UINT8, IPCSHM_INT16, IPCSHM_UINT16, IPCSHM_INT32, IPCSHM_UINT32,
 IPCSHM_INT64, IPCSHM_UINT64, IPCSHM_FLOAT32, IPCSHM_FLOAT64, IPCSHM_COMPLEX64,
 IPCSHM_COMPLEX128) = range(1, 13)

# The sizes of the signalling primitives (since 1.2), each 8-byte aligned.
IPCSHM_EVENT_SIZE = 64
IPCSHM_SEM_SIZE = 64
IPCSHM_MUTEX_SIZE = 64

# Channels (since 1.2): the roles of an end, and the states of a role
# (ipcshm_channel_info_t.sender and .receiver).
IPCSHM_SENDER = 1
IPCSHM_RECEIVER = 2
IPCSHM_END_NEVER = 0
IPCSHM_END_OPEN = 1
IPCSHM_END_CLOSED = 2
IPCSHM_END_DIED = 3

# The version of include/ipcshm.h these declarations follow.
IPCSHM_VERSION_MAJOR = 1
IPCSHM_VERSION_MINOR = 2
IPCSHM_VERSION_PATCH = 0
IPCSHM_VERSION = ((IPCSHM_VERSION_MAJOR << 16) | (IPCSHM_VERSION_MINOR << 8)
                  | IPCSHM_VERSION_PATCH)


class ipcshm_info_t(ctypes.Structure):
    """struct ipcshm_info: 88 bytes, no padding; set struct_size before a call."""
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
    _fields_ = [
        ("struct_size", c_uint32),
        ("kind", c_uint32),
        ("size", c_uint64),
        ("nattch", c_uint64),
        ("atime", c_int64),
        ("dtime", c_int64),
        ("ctime", c_int64),
        ("mode", c_uint32),
        ("uid", c_uint32),
        ("gid", c_uint32),
        ("cuid", c_uint32),
        ("cgid", c_uint32),
        ("cpid", c_int32),
        ("lpid", c_int32),
        ("key", c_int32),
        ("shmid", c_int32),
        ("flags", c_uint32),
    ]


INFO_SIZE = 88
if ctypes.sizeof(ipcshm_info_t) != INFO_SIZE:  # pragma: no cover - a broken build
    raise ImportError("ipcshm_info_t is %d bytes here, the C ABI says %d"
                      % (ctypes.sizeof(ipcshm_info_t), INFO_SIZE))

class ipcshm_channel_info_t(ctypes.Structure):
    """struct ipcshm_channel_info (since 1.2): 48 bytes; set struct_size before
    a call."""
    struct_size: int
    kind: int
    slot_size: int
    slot_count: int
    sender: int
    receiver: int
    queued: int
    sent: int
    received: int
    _fields_ = [
        ("struct_size", c_uint32),
        ("kind", c_uint32),
        ("slot_size", c_uint32),
        ("slot_count", c_uint32),
        ("sender", c_uint32),
        ("receiver", c_uint32),
        ("queued", c_uint64),
        ("sent", c_uint64),
        ("received", c_uint64),
    ]


CHANNEL_INFO_SIZE = 48
if ctypes.sizeof(ipcshm_channel_info_t) != CHANNEL_INFO_SIZE:  # pragma: no cover
    raise ImportError("ipcshm_channel_info_t is %d bytes here, the C ABI says %d"
                      % (ctypes.sizeof(ipcshm_channel_info_t), CHANNEL_INFO_SIZE))

# ipcshm_t * is opaque: a c_void_p. uint64_t is c_uint64 (never the default int,
# which would truncate). Every function of include/ipcshm.h, with its restype and
# argtypes; a test checks this table against the header.
_handle = c_void_p
_out_handle = POINTER(c_void_p)
PROTOTYPES: Dict[str, Tuple[Any, List[Any]]] = {
    "ipcshm_create": (c_int, [c_char_p, c_uint64, c_uint32, c_uint32, _out_handle]),
    "ipcshm_attach": (c_int, [c_char_p, c_uint32, _out_handle]),
    "ipcshm_detach": (c_int, [_handle]),
    "ipcshm_remove": (c_int, [c_char_p]),
    "ipcshm_pointer": (c_void_p, [_handle]),
    "ipcshm_size": (c_uint64, [_handle]),
    "ipcshm_id": (c_char_p, [_handle]),
    "ipcshm_info": (c_int, [c_char_p, POINTER(ipcshm_info_t)]),
    "ipcshm_handle_info": (c_int, [_handle, POINTER(ipcshm_info_t)]),
    "ipcshm_chmod": (c_int, [c_char_p, c_uint32]),
    "ipcshm_fd": (c_int, [_handle]),
    "ipcshm_attach_fd": (c_int, [c_int, c_uint32, _out_handle]),
    "ipcshm_resize": (c_int, [_handle, c_uint64]),
    "ipcshm_send": (c_int, [c_int, _handle]),
    "ipcshm_recv": (c_int, [c_int, c_uint32, _out_handle]),
    "ipcshm_array_create": (c_int, [c_char_p, c_uint32, c_uint32, POINTER(c_int64),
                                    c_uint32, c_uint32, _out_handle]),
    "ipcshm_array_header": (c_int, [_handle, POINTER(c_uint32), POINTER(c_uint32),
                                    POINTER(c_int64), c_uint32, POINTER(c_uint64)]),
    "ipcshm_array_data": (c_void_p, [_handle]),
    "ipcshm_version": (c_uint32, []),
    "ipcshm_strerror": (c_char_p, [c_int]),
    "ipcshm_last_error": (c_char_p, []),
    "ipcshm_page_size": (c_uint64, []),
    "ipcshm_sysv_get": (c_int, [c_int32, c_uint64, c_int32, POINTER(c_int32)]),
    "ipcshm_sysv_attach": (c_int, [c_int32, c_int, POINTER(c_void_p)]),
    "ipcshm_sysv_detach": (c_int, [c_void_p]),
    "ipcshm_sysv_ctl": (c_int, [c_int32, c_int32, c_void_p, c_uint64]),
    "ipcshm_sysv_remove": (c_int, [c_int32]),
    "ipcshm_sysv_shmid_ds_size": (c_uint64, []),
    "ipcshm_ftok": (c_int, [c_char_p, c_int32, POINTER(c_int32)]),
    # Signalling (since 1.2): primitives are addresses in a mapping (void *).
    "ipcshm_wait": (c_int, [POINTER(c_uint32), c_uint32, c_int64]),
    "ipcshm_wake": (c_int, [POINTER(c_uint32), c_uint32]),
    "ipcshm_event_init": (c_int, [c_void_p]),
    "ipcshm_event_notify": (c_int, [c_void_p]),
    "ipcshm_event_sequence": (c_int, [c_void_p, POINTER(c_uint64)]),
    "ipcshm_event_wait": (c_int, [c_void_p, POINTER(c_uint64), c_int64]),
    "ipcshm_event_fd": (c_int, [c_void_p]),
    "ipcshm_sem_init": (c_int, [c_void_p, c_uint32]),
    "ipcshm_sem_post": (c_int, [c_void_p]),
    "ipcshm_sem_wait": (c_int, [c_void_p, c_int64]),
    "ipcshm_sem_value": (c_int, [c_void_p, POINTER(c_uint32)]),
    "ipcshm_mutex_init": (c_int, [c_void_p]),
    "ipcshm_mutex_lock": (c_int, [c_void_p, c_int64]),
    "ipcshm_mutex_consistent": (c_int, [c_void_p]),
    "ipcshm_mutex_unlock": (c_int, [c_void_p]),
    # Channels (since 1.2): ipcshm_channel_t * is opaque too (a c_void_p).
    "ipcshm_channel_create": (c_int, [c_char_p, c_uint32, c_uint32, c_uint32, c_uint32,
                                      c_uint32, _out_handle]),
    "ipcshm_channel_open": (c_int, [c_char_p, c_uint32, _out_handle]),
    "ipcshm_channel_open_fd": (c_int, [c_int, c_uint32, _out_handle]),
    "ipcshm_channel_send": (c_int, [_handle, c_void_p, c_uint64, c_int64]),
    "ipcshm_channel_recv": (c_int, [_handle, c_void_p, c_uint64, POINTER(c_uint64),
                                    c_int64]),
    "ipcshm_channel_reserve": (c_int, [_handle, POINTER(c_void_p), c_int64]),
    "ipcshm_channel_commit": (c_int, [_handle, c_uint64]),
    "ipcshm_channel_peek": (c_int, [_handle, POINTER(c_void_p), POINTER(c_uint64),
                                    c_int64]),
    "ipcshm_channel_release": (c_int, [_handle]),
    "ipcshm_channel_close": (c_int, [_handle]),
    "ipcshm_channel_handle": (c_int, [_handle, _out_handle]),
    "ipcshm_channel_info": (c_int, [c_char_p, POINTER(ipcshm_channel_info_t)]),
    "ipcshm_channel_handle_info": (c_int, [_handle, POINTER(ipcshm_channel_info_t)]),
    "ipcshm_channel_fd": (c_int, [_handle]),
}


class _DlInfo(ctypes.Structure):
    dli_fname: bytes
    dli_fbase: int
    dli_sname: bytes
    dli_saddr: int
    _fields_ = [("dli_fname", c_char_p), ("dli_fbase", c_void_p),
                ("dli_sname", c_char_p), ("dli_saddr", c_void_p)]


def _file_of(lib: ctypes.CDLL, fallback: str) -> str:
    """The file the loader mapped for `lib` (dladdr of one of its functions): a
    library found by SONAME does not say where it was found otherwise."""
    try:
        dladdr = ctypes.CDLL(None).dladdr
        dladdr.argtypes = [c_void_p, POINTER(_DlInfo)]
        dladdr.restype = c_int
        info = _DlInfo()
        addr = ctypes.cast(lib.ipcshm_version, c_void_p)
        if dladdr(addr, ctypes.byref(info)) and info.dli_fname:
            return os.path.realpath(os.fsdecode(info.dli_fname))
    except (AttributeError, OSError):
        pass
    return fallback


def _load() -> Tuple[ctypes.CDLL, str]:
    wanted = os.environ.get(ENV_VAR)
    if wanted:
        try:
            return ctypes.CDLL(wanted), wanted
        except OSError as e:
            raise ImportError("ipcshm: cannot load %s=%s: %s" % (ENV_VAR, wanted, e)) from e
    try:
        lib = ctypes.CDLL(SONAME)
    except OSError as e:
        raise ImportError(
            "ipcshm: cannot load the C library: %s is not set, and the dynamic loader "
            "does not find %s (%s). Install it (Debian: apt install %s), or set "
            "LD_LIBRARY_PATH to the directory that holds %s (the lib/<triplet> of the "
            "prefix it was installed to), or set %s to the library's path (a meson "
            "build's src/%s)." % (ENV_VAR, SONAME, e, DEBIAN_PACKAGE, SONAME, ENV_VAR,
                                  SONAME)) from e
    return lib, _file_of(lib, SONAME)


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    for name, (restype, argtypes) in PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


lib, library_path = _load()
_declare(lib)
