"""The compiled fast path: ipcshm._ext, a small C module over the same C ABI
(bindings/python/ext), makes handles and exports buffers in C; without it,
ctypes does (_handles.py, _buffers.py). Both own a handle from the moment the
library returns it, and give the same objects the same guarantees.

Which one is used:

1. ``$IPCSHM_PURE`` set (and not "0"): ctypes only;
2. ``$IPCSHM_EXTENSION``, a path to a built module (a meson build's
   ``bindings/python/ext/_ext.*.so``): that one, or an ImportError (a module
   that was asked for is never replaced by another);
3. otherwise ``ipcshm/_ext*.so`` if the package was installed with it (a build
   without a compiler or Python's headers installs the package without it),
   else ctypes.

``extension_path`` tells the module that was loaded (None: ctypes). The module
calls the functions of the library that _native.py loaded (their addresses are
given to it), so ``$IPCSHM_LIBRARY`` chooses the library for both.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import importlib.util
import os
import sys
import types
from typing import Any, Callable, Optional, Tuple

from . import _buffers, _handles
from ._errors import _error
from ._native import lib as _lib

PURE_VAR = "IPCSHM_PURE"
PATH_VAR = "IPCSHM_EXTENSION"
# The interface this package speaks with the module (ext/module.c).
API_VERSION = 2
# The library's functions that the module calls (ext/api.c).
_FUNCTIONS = ("ipcshm_create", "ipcshm_attach", "ipcshm_attach_fd", "ipcshm_recv",
              "ipcshm_array_create", "ipcshm_detach", "ipcshm_pointer", "ipcshm_size",
              "ipcshm_id", "ipcshm_remove", "ipcshm_last_error", "ipcshm_strerror",
              "ipcshm_channel_create", "ipcshm_channel_open", "ipcshm_channel_open_fd",
              "ipcshm_channel_send", "ipcshm_channel_recv", "ipcshm_channel_reserve",
              "ipcshm_channel_commit", "ipcshm_channel_peek", "ipcshm_channel_release",
              "ipcshm_channel_close")


def _from_path(path: str) -> types.ModuleType:
    loader = importlib.machinery.ExtensionFileLoader(__package__ + "._ext", path)
    spec = importlib.util.spec_from_file_location(__package__ + "._ext", path,
                                                  loader=loader)
    if spec is None:
        raise ImportError("ipcshm: %s=%s is not an extension module" % (PATH_VAR, path))
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    sys.modules[spec.name] = module     # (as an import of ipcshm._ext would)
    return module


def _installed() -> Optional[types.ModuleType]:
    """ipcshm._ext next to this file, if the package was built with it."""
    try:
        return importlib.import_module(__package__ + "._ext")
    except ImportError:
        return None


def _load() -> Tuple[Optional[types.ModuleType], Optional[str]]:
    if os.environ.get(PURE_VAR, "") not in ("", "0"):
        return None, None
    wanted = os.environ.get(PATH_VAR)
    module: Optional[types.ModuleType]
    if wanted:
        try:
            module = _from_path(wanted)
        except (ImportError, OSError) as e:
            raise ImportError("ipcshm: cannot load %s=%s: %s" % (PATH_VAR, wanted, e)) from e
    else:
        module = _installed()
        if module is None:
            return None, None
    if getattr(module, "API_VERSION", None) != API_VERSION:
        if wanted:
            raise ImportError("ipcshm: %s=%s speaks version %r of the module's interface, "
                              "this package %d" % (PATH_VAR, wanted,
                                                   getattr(module, "API_VERSION", None),
                                                   API_VERSION))
        return None, None       # a stale build next to newer sources: not used
    addresses = {name: ctypes.cast(getattr(_lib, name), ctypes.c_void_p).value
                 for name in _FUNCTIONS}
    module.bind(addresses, _error)
    from ._errors import MessageTooLongError
    module.set_msgsize_error(MessageTooLongError)
    return module, getattr(module, "__file__", wanted)


ext, extension_path = _load()

# The functions that make handles: (bytes id, ...) -> a handle object with
# ``out`` (for ctypes calls), ``id``, ``created``, ``direct`` and detach_now().
create: Callable[[bytes, int, int, int], Any]
attach: Callable[[bytes, int], Any]
attach_fd: Callable[[int, int], Any]
recv: Callable[[int, int], Any]
array_create: Callable[[bytes, int, Tuple[int, ...], int, int], Any]

remove: Callable[[bytes], int]           # ipcshm_remove(id): 0 or -errno
# export(handle, ident, readonly, prefault, duplicating) -> (buf, a weak
# reference to the exporter of every view, size)
export: Callable[[Any, str, bool, bool, bool], Tuple[memoryview, Any, int]]

if ext is not None:
    # The module's exporter makes a second mapping of a POSIX object's pages
    # (as _buffers.py explains: the handle is then free to go at exit while a
    # view is still read); a read-only mapping needs none, its exporter gives
    # read-only buffers only.
    create, attach, attach_fd, recv, array_create, remove, export = (
        ext.create, ext.attach, ext.attach_fd, ext.recv, ext.array_create, ext.remove,
        ext.export)
    _handles.after_exit.append(ext.detach_at_exit)
else:
    create, attach, attach_fd, recv, array_create = (
        _handles.create, _handles.attach, _handles.attach_fd, _handles.recv,
        _handles.array_create)
    remove = _lib.ipcshm_remove
    export = _buffers.export
