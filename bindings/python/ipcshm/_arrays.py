"""Typed arrays (libipcshm 1.1) as numpy arrays: the "WA-1" header of Julia's
InterProcessCommunication.jl, SharedMemory.create_array() and ndarray() (which
SharedMemory inherits from _ArrayMethods), and ipcshm.array(). numpy is
imported only when an array is made."""

from __future__ import annotations

import ctypes
import errno as _errno
import math
import operator
from typing import Any, Optional, Tuple, Union

from ._args import (_TEMPLATE, _attach_flags, _create_flags, _id_bytes, _int64,
                    _perms)
from . import _accel
from ._errors import _check
from ._native import (IPCSHM_COMPLEX64, IPCSHM_COMPLEX128, IPCSHM_FLOAT32,
                      IPCSHM_FLOAT64, IPCSHM_INT8, IPCSHM_INT16, IPCSHM_INT32,
                      IPCSHM_INT64, IPCSHM_UINT8, IPCSHM_UINT16, IPCSHM_UINT32,
                      IPCSHM_UINT64)
from ._native import lib as _lib

# Element type codes of the "WA-1" header and their numpy dtypes (native byte order).
_ETYPE_DTYPES = {
    IPCSHM_INT8: "i1", IPCSHM_UINT8: "u1", IPCSHM_INT16: "i2", IPCSHM_UINT16: "u2",
    IPCSHM_INT32: "i4", IPCSHM_UINT32: "u4", IPCSHM_INT64: "i8", IPCSHM_UINT64: "u8",
    IPCSHM_FLOAT32: "f4", IPCSHM_FLOAT64: "f8", IPCSHM_COMPLEX64: "c8",
    IPCSHM_COMPLEX128: "c16",
}
_DTYPE_ETYPES = {code: e for e, code in _ETYPE_DTYPES.items()}
_MAX_DIMS_FIRST_TRY = 8


def _numpy() -> Any:
    import numpy   # lazily: ipcshm works without numpy, arrays need it
    return numpy


def _etype_of(dtype: Any) -> int:
    """The element type code of a numpy dtype (or anything numpy.dtype() takes)."""
    dt = _numpy().dtype(dtype)
    code = "%s%d" % (dt.kind, dt.itemsize)
    if dt.isnative and dt.fields is None and dt.subdtype is None and code in _DTYPE_ETYPES:
        return _DTYPE_ETYPES[code]
    raise TypeError("dtype %s is not an element type of shared arrays: int8..uint64, "
                    "float32, float64, complex64, complex128, in native byte order" % dt)


def _dims_of(shape: Any) -> Tuple[int, ...]:
    """The dimensions as a tuple of int64_t values (an int is one dimension)."""
    try:
        given: Tuple[Any, ...] = (operator.index(shape),)
    except TypeError:
        given = tuple(shape)
    # int64_t each; the library checks the rest (>= 0, the element count)
    return tuple(_int64(d, "dimension") for d in given)



class _ArrayMethods:
    # Methods of SharedMemory (``cls`` and ``self`` are one: typed as Any, since
    # they use its _new(), _open_handle() and buf; ipcshm/__init__.pyi has the
    # types).
    __slots__ = ()

    @classmethod
    def create_array(cls: Any, name: Optional[Union[str, bytes]], dtype: Any,
                     shape: Any, *, perms: int = 0o600, volatile: bool = True,
                     open_or_create: bool = False, prefault: bool = False,
                     locked: bool = False, reserve: bool = False,
                     hugepages: bool = False) -> Any:
        """Creates the object `name` ("memfd:label", None for a unique POSIX name)
        holding a zero-filled array of numpy `dtype` (int8..uint64, float32, float64,
        complex64, complex128; else TypeError) and `shape`, with its "WA-1" header;
        ndarray() gives the array. open_or_create=True attaches an existing array of
        the same dtype and shape (another one is FileExistsError). The options are
        those of SharedMemory()."""
        etype = _etype_of(dtype)
        dims = _dims_of(shape)
        flags = (_attach_flags(False, prefault, locked)
                 | _create_flags(volatile, open_or_create, reserve, hugepages))
        ident = _TEMPLATE if name is None else _id_bytes(name)
        mode = _perms(perms)
        return cls._new(_accel.array_create(ident, etype, dims, mode, flags), False,
                        prefault)

    # CPython's surface ---------------------------------------------------------

    def ndarray(self: Any) -> Any:
        """The typed array that the object holds, as a zero-copy numpy array
        (column-major, order='F'; read-only if the mapping is), from the "WA-1"
        header. The array keeps the mapping alive, and close() raises BufferError
        while it lives. ValueError if the header is not valid (the library says
        what is wrong)."""
        np = _numpy()
        h = self._open_handle("read the array of").out
        etype, ndims, offset = ctypes.c_uint32(), ctypes.c_uint32(), ctypes.c_uint64()
        room = _MAX_DIMS_FIRST_TRY
        dims = (ctypes.c_int64 * room)()
        rc: int = _lib.ipcshm_array_header(h, ctypes.byref(etype), ctypes.byref(ndims),
                                           dims, room, ctypes.byref(offset))
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
        shape: Tuple[int, ...] = tuple(dims[:ndims.value])
        # frombuffer holds a memoryview of buf (read-only stays read-only: numpy
        # refuses to make it writeable); reshape(order='F') is a view of it.
        flat = np.frombuffer(self.buf, dtype=code, count=math.prod(shape),
                             offset=offset.value)
        return flat.reshape(shape, order="F")


def array(name: Optional[Union[str, bytes]], dtype: Any = None, shape: Any = None,
          create: bool = False, *, readonly: bool = False, perms: int = 0o600,
          volatile: bool = True, open_or_create: bool = False, prefault: bool = False,
          locked: bool = False, reserve: bool = False, hugepages: bool = False) -> Any:
    """A numpy array in shared memory: zero-copy, column-major (order='F': the first
    dimension varies fastest), in the "WA-1" header that Julia's IPC.jl reads.

    create=True (or open_or_create=True) makes the array object `name` of `dtype`
    and `shape`, zero-filled; see SharedMemory.create_array(). Otherwise attaches
    `name` and reads its header; dtype and shape, if given, must be the array's
    (else ValueError). The array keeps the mapping alive: it is detached when the
    array and its views are gone. For the SharedMemory itself (its id, send()),
    use SharedMemory.create_array() / SharedMemory(name) and ndarray().
    """
    from ._shared_memory import SharedMemory   # (which imports this module)
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
    if name is None:
        raise ValueError("'name' can only be None if create=True")
    shm = SharedMemory(name, readonly=readonly, prefault=prefault, locked=locked)
    a = shm.ndarray()
    wrong_dtype = dtype is not None and _numpy().dtype(dtype) != a.dtype
    wrong_shape = shape is not None and _dims_of(shape) != a.shape
    if wrong_dtype or wrong_shape:
        found = "dtype %s, shape %r" % (a.dtype, a.shape)
        del a
        shm.close()
        raise ValueError("%s holds an array of %s, not of dtype %s, shape %r"
                         % (shm.id, found, dtype, shape))
    return a
