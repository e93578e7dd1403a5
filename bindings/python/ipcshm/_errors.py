"""Errors: a negative return value of the library (-errno) as the Python exception
for it, with the library's message (ipcshm_last_error())."""

from __future__ import annotations

import errno as _errno
import io

from ._native import lib as _lib


def _message(err: int) -> str:
    text: bytes = _lib.ipcshm_last_error()
    if not text:
        text = _lib.ipcshm_strerror(err)
    return text.decode("utf-8", "replace")


def _error(rc: int) -> Exception:
    """The exception for a negative return value `rc` (-errno) of the last call."""
    err = -rc
    msg = _message(err)
    if err == _errno.ENOENT:
        return FileNotFoundError(err, msg)
    if err == _errno.EEXIST:
        return FileExistsError(err, msg)
    if err in (_errno.EACCES, _errno.EPERM):
        return PermissionError(err, msg)
    if err in (_errno.EINVAL, _errno.EBADMSG):
        e = ValueError(msg)
        setattr(e, "errno", err)  # ValueError has no errno of its own: one for all
        return e
    if err == _errno.EOPNOTSUPP:
        return io.UnsupportedOperation(err, msg)
    return OSError(err, msg)   # OSError picks the subclass of err (ConnectionResetError...)


def _check(rc: int) -> int:
    if rc < 0:
        raise _error(rc)
    return rc
