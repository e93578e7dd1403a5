"""ShareableList: CPython's multiprocessing.shared_memory.ShareableList, byte for
byte, over an ipcshm.SharedMemory, without CPython's known bugs.

The layout (CPython's), native-endian:

    int64 N                          the number of items
    int64 offsets[N + 1]             where each item's slot starts in the data
                                     area (offsets[N]: where the data ends)
    data area                        the slots, at (N + 2) * 8
    char formats[N][8]               each item's struct format, NUL-padded
    int8 codes[N]                    0 int, float or bool; 1 str; 2 bytes; 3 None

Slots are 8 bytes for an int ("q"), a float ("d"), a bool ("xxxxxxx?") or None
("xxxxxx?x"), and a multiple of 8 for str (UTF-8) and bytes, larger than the
value. CPython reads a str or bytes value as its whole slot ("16s") and strips
the trailing NULs, so it loses a value's own trailing NULs (cpython#96779,
cpython#106939); and it sizes a str's slot by characters, not UTF-8 bytes, so
that struct truncates a value with multi-byte characters (cpython#145261).

Here a slot is sized by the encoded bytes, and a str or bytes value is written
with a format that reads exactly its bytes, and that CPython reads too:
"5s3x" (5 bytes, then the slot's 3 padding bytes: the format still covers its
slot). A format that ends in "x", or an "Ns" that reads less than its slot, is
exact: read as it is, nothing stripped. A bare "Ns" as long as its slot is
CPython's: its trailing NULs are padding or lost already, and are stripped, as
CPython does. CPython reads every list made here (and sees what it always
sees: the values, trailing NULs stripped), and writes into it as into its own.

Limits: a str or bytes value has fewer than 10,000,000 bytes (its format has 8
characters at most, as CPython's). For values of 100,000 bytes or more the
format cannot cover the slot ("123456sx", "1234567s"); for one of 1,000,000
bytes or more it is a bare "Ns" shorter than its slot, into which CPython's
own __setitem__ writes only N bytes (it keeps a slot's "s" format).
"""

from __future__ import annotations

import operator
import re
import struct
import types
import collections.abc
from typing import Any, List, Optional, SupportsIndex, Tuple, Union

from ._shared_memory import SharedMemory

_ENCODING = "utf8"
_ALIGNMENT = 8
_MAX_BYTES = 10_000_000 - 1             # "9999999s": 8 characters

_INT, _STR, _BYTES, _NONE = 0, 1, 2, 3   # the codes, CPython's
_SCALAR_FORMATS = {int: "q", float: "d", bool: "xxxxxxx?", type(None): "xxxxxx?x"}
_EXACT = re.compile(r"(\d+)s(\d*)x\Z")   # ours: exactly that many bytes
_WHOLE = re.compile(r"(\d+)s\Z")         # CPython's (or ours when shorter than its slot)

Item = Union[int, float, bool, str, bytes, None]


class UnsupportedItemError(TypeError, KeyError):
    """A value that a ShareableList cannot hold. CPython raises KeyError (its
    table of types has no entry for it): this is one, and a TypeError."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _room_for(nbytes: int) -> int:
    """The slot of a str or bytes value of `nbytes`: a multiple of 8 larger than
    it (CPython's rule, applied to the encoded bytes)."""
    return _ALIGNMENT * (nbytes // _ALIGNMENT + 1)


def _exact_format(nbytes: int, room: int) -> str:
    """A struct format for a value of `nbytes` in a slot of `room` bytes that
    CPython reads, and that says the value is exact where 8 characters can
    (see the module's docstring)."""
    covering = "%ds%dx" % (nbytes, room - nbytes)     # "0x" when it fills its slot
    if len(covering) <= 8:
        return covering
    if nbytes < room and nbytes < 1_000_000:
        return "%dsx" % nbytes
    return "%ds" % nbytes        # nbytes < room: exact; == room: read as CPython's


def _encoded(value: Any) -> Tuple[str, Any, int]:
    """(format or "" for str/bytes, what struct packs, the code) of `value`."""
    kind = type(value)
    if kind is str:
        return "", value.encode(_ENCODING), _STR
    if kind is bytes:
        return "", value, _BYTES
    fmt = _SCALAR_FORMATS.get(kind)
    if fmt is None:
        raise UnsupportedItemError(
            "a ShareableList holds int, float, bool, str, bytes and None, not %s"
            % kind.__name__)
    return fmt, value, _NONE if value is None else _INT


class ShareableList:
    """A list of int, float, bool, str, bytes and None in shared memory, of fixed
    length, with the interface and byte format of CPython's ShareableList.

    ShareableList(sequence) makes a new one (a unique name, or `name`);
    ShareableList(name=name) attaches an existing one, made here or by CPython.
    ``shm`` is its SharedMemory (volatile, as ipcshm's objects are: it goes
    with its last user)."""

    _alignment = _ALIGNMENT
    shm: SharedMemory

    def __init__(self, sequence: Optional[collections.abc.Iterable[Item]] = None, *,
                 name: Optional[str] = None) -> None:
        if name is None or sequence is not None:
            self._create(tuple(sequence or ()), name)
        else:
            self._attach(SharedMemory(name))

    # Creating and attaching ------------------------------------------------------

    def _create(self, items: Tuple[Item, ...], name: Optional[str]) -> None:
        formats: List[str] = []
        values: List[Any] = []
        codes: List[int] = []
        offsets = [0]
        for item in items:
            fmt, value, code = _encoded(item)
            if fmt:
                room = _ALIGNMENT
            else:
                if len(value) > _MAX_BYTES:
                    raise ValueError("a str or bytes item of a ShareableList has fewer "
                                     "than 10,000,000 bytes (this one has %d)" % len(value))
                room = _room_for(len(value))
                fmt = _exact_format(len(value), room)
            offsets.append(offsets[-1] + room)
            formats.append(fmt)
            values.append(value)
            codes.append(code)
        n = len(items)
        data_start = (n + 2) * 8
        shm = SharedMemory(name, create=True, size=data_start + offsets[-1] + 9 * n)
        try:
            buf = shm.buf
            struct.pack_into("q%dq" % (n + 1), buf, 0, n, *offsets)
            for i in range(n):
                _pack_value(buf, data_start + offsets[i], offsets[i + 1] - offsets[i],
                            formats[i], values[i], codes[i])
            at = data_start + offsets[-1]
            struct.pack_into("8s" * n, buf, at, *(f.encode("ascii") for f in formats))
            struct.pack_into("%db" % n, buf, at + 8 * n, *codes)
            del buf
        except BaseException:
            shm.close()
            shm.unlink()
            raise
        self._adopt(shm, n, offsets)

    def _attach(self, shm: SharedMemory) -> None:
        """Reads and checks the header of `shm` (shared memory: trusted no further
        than the checks)."""
        try:
            size = shm.size
            buf = shm.buf
            if size < 16:
                raise ValueError("it has %d bytes, fewer than a header" % size)
            n = struct.unpack_from("q", buf, 0)[0]
            if n < 0 or (n + 2) * 8 > size:
                raise ValueError("its length %d does not fit in its %d bytes" % (n, size))
            offsets = list(struct.unpack_from("%dq" % (n + 1), buf, 8))
            if offsets[0] != 0 or any(b < a for a, b in zip(offsets, offsets[1:])):
                raise ValueError("its offsets are not in order")
            if (n + 2) * 8 + offsets[-1] + 9 * n > size:
                raise ValueError("its items do not fit in its %d bytes" % size)
            del buf
        except (ValueError, struct.error) as e:
            shm.close()
            raise ValueError("%s does not hold a ShareableList: %s" % (shm.name, e)) from None
        self._adopt(shm, n, offsets)

    def _adopt(self, shm: SharedMemory, n: int, offsets: List[int]) -> None:
        self.shm = shm
        self._list_len = n
        self._allocated_offsets = offsets
        self._offset_data_start = (n + 2) * 8
        self._offset_packing_formats = self._offset_data_start + offsets[-1]
        self._offset_back_transform_codes = self._offset_packing_formats + 8 * n

    @classmethod
    def _from_shm(cls, shm: SharedMemory) -> ShareableList:
        self = cls.__new__(cls)
        self._attach(shm)
        return self

    # Items ----------------------------------------------------------------------

    def _position(self, position: Any) -> int:
        i = operator.index(position)
        if i < 0:
            i += self._list_len
        if not 0 <= i < self._list_len:
            raise IndexError("index out of range")
        return i

    def _slot(self, i: int) -> Tuple[int, int]:
        """(where the slot of item i starts in the buffer, its size)."""
        offsets = self._allocated_offsets
        return self._offset_data_start + offsets[i], offsets[i + 1] - offsets[i]

    def _get_packing_format(self, position: int) -> str:
        i = self._position(position)
        raw: bytes = struct.unpack_from("8s", self.shm.buf,
                                        self._offset_packing_formats + i * 8)[0]
        return raw.rstrip(b"\0").decode(_ENCODING)

    def __getitem__(self, position: SupportsIndex) -> Item:
        i = self._position(position)
        buf = self.shm.buf
        fmt = self._get_packing_format(i)
        code = struct.unpack_from("b", buf, self._offset_back_transform_codes + i)[0]
        if code == _NONE:
            return None
        at, room = self._slot(i)
        try:
            if struct.calcsize(fmt) > room:
                raise ValueError("a format larger than its slot")
            values = struct.unpack_from(fmt, buf, at)
            if len(values) != 1 or (code != _INT) != isinstance(values[0], bytes):
                raise ValueError("a format that does not match its code")
        except (ValueError, struct.error) as e:
            raise ValueError("item %d of %s is corrupt (format %r, code %d): %s"
                             % (i, self.shm.name, fmt, code, e)) from None
        value = values[0]
        if code == _INT:
            return value                    # type: ignore[no-any-return]
        if code not in (_STR, _BYTES):
            raise ValueError("item %d of %s has the unknown code %d"
                             % (i, self.shm.name, code))
        whole = _WHOLE.match(fmt)
        if whole is not None and int(whole.group(1)) >= room:
            value = value.rstrip(b"\0")     # CPython's padding, and its loss
        return value.decode(_ENCODING) if code == _STR else value  # type: ignore[no-any-return]

    def __setitem__(self, position: SupportsIndex, value: Item) -> None:
        i = self._position(position)
        at, room = self._slot(i)
        fmt, data, code = _encoded(value)
        if fmt:
            if room < struct.calcsize(fmt):
                raise ValueError("item %d of %s has %d bytes, fewer than a %s needs"
                                 % (i, self.shm.name, room, type(value).__name__))
        else:
            if len(data) > room:
                raise ValueError("bytes/str item exceeds available storage")
            fmt = _exact_format(len(data), room)
        buf = self.shm.buf
        # CPython's order: the format and the code, then the value.
        struct.pack_into("8s", buf, self._offset_packing_formats + i * 8,
                         fmt.encode("ascii"))
        struct.pack_into("b", buf, self._offset_back_transform_codes + i, code)
        _pack_value(buf, at, room, fmt, data, code)

    def __len__(self) -> int:
        return self._list_len

    def __iter__(self) -> collections.abc.Iterator[Item]:
        for i in range(self._list_len):
            yield self[i]

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:
        # By the SharedMemory: plain pickle attaches it by name, multiprocessing
        # hands it over attached (_multiprocessing.py).
        return (_rebuild, (type(self), self.shm))

    def __repr__(self) -> str:
        return "%s(%s, name=%r)" % (type(self).__name__, list(self), self.shm.name)

    @property
    def format(self) -> str:
        """The struct formats of all items, as stored (CPython's property)."""
        return "".join(self._get_packing_format(i) for i in range(self._list_len))

    def count(self, value: Any) -> int:
        """L.count(value) -> integer -- return number of occurrences of value."""
        return sum(value == entry for entry in self)

    def index(self, value: Any) -> int:
        """L.index(value) -> integer -- return first index of value.
        Raises ValueError if the value is not present."""
        for position, entry in enumerate(self):
            if value == entry:
                return position
        raise ValueError("%r not in this container" % (value,))

    @classmethod
    def __class_getitem__(cls, item: Any) -> types.GenericAlias:
        """ShareableList[int] and such, for annotations (as CPython's)."""
        return types.GenericAlias(cls, item)


def _pack_value(buf: memoryview, at: int, room: int, fmt: str, value: Any,
                code: int) -> None:
    """Writes one value into its slot: str and bytes with zeros to its end."""
    if code in (_STR, _BYTES):
        struct.pack_into("%ds" % room, buf, at, value)
    elif code == _NONE:
        struct.pack_into(fmt, buf, at, False)
    else:
        struct.pack_into(fmt, buf, at, value)


def _rebuild(cls: type, shm: SharedMemory) -> ShareableList:
    return cls._from_shm(shm)  # type: ignore[attr-defined,no-any-return]
