"""Errors: a negative return value of the library (-errno) as the Python exception
for it, with the library's message (ipcshm_last_error())."""

from __future__ import annotations

import errno as _errno
import io
from typing import Optional

from ._native import lib as _lib


class InvalidArgumentError(OSError, ValueError):
    """EINVAL or EBADMSG from the library (a malformed id, a bad flag, a corrupt
    array header). Both an OSError, as CPython's shm_open() raises for a bad
    name, and a ValueError, as Python raises for a bad argument (so
    io.UnsupportedOperation is both, for EOPNOTSUPP)."""


def _message(err: int) -> str:
    text: bytes = _lib.ipcshm_last_error()
    if not text:
        text = _lib.ipcshm_strerror(err)
    return text.decode("utf-8", "replace")


def _error(rc: int, text: Optional[bytes] = None) -> Exception:
    """The exception for a negative return value `rc` (-errno) of the last call
    (whose message is `text`, or ipcshm_last_error())."""
    err = -rc
    msg = _message(err) if text is None else text.decode("utf-8", "replace")
    if err == _errno.ENOENT:
        return FileNotFoundError(err, msg)
    if err == _errno.EEXIST:
        return FileExistsError(err, msg)
    if err in (_errno.EACCES, _errno.EPERM):
        return PermissionError(err, msg)
    if err in (_errno.EINVAL, _errno.EBADMSG):
        return InvalidArgumentError(err, msg)
    if err == _errno.EOPNOTSUPP:
        return io.UnsupportedOperation(err, msg)
    return OSError(err, msg)   # OSError picks the subclass of err (ConnectionResetError...)


def _check(rc: int) -> int:
    if rc < 0:
        raise _error(rc)
    return rc


class MessageTooLongError(OSError):
    """EMSGSIZE from a channel: a message longer than the slot size (send), or
    than the buffer or ``maxlength`` given to receive it (the message then
    stays in the channel: receive it again with room for ``length`` bytes).
    ``length`` is the message's length, ``limit`` the room there was."""

    length: int
    limit: int

    def __init__(self, length: int, limit: int, rc: int = -_errno.EMSGSIZE,
                 text: Optional[bytes] = None) -> None:
        msg = _message(-rc) if text is None else text.decode("utf-8", "replace")
        super().__init__(_errno.EMSGSIZE, msg)
        self.length = length
        self.limit = limit

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (self.length, self.limit, -_errno.EMSGSIZE,
                             str(self.strerror).encode()))
