"""The compiled module ipcshm._ext (ext/*.c), for setuptools: everything else
about the package is in pyproject.toml.

The module is optional: a build without a C compiler or without Python's
headers (Debian: python3-dev) installs the package all the same, over ctypes
alone, and says so in pip's log. IPCSHM_BUILD_EXTENSION=no leaves it out,
=yes makes its failure an error (=auto, the default: try)."""
import os

from setuptools import Extension, setup

_choice = os.environ.get("IPCSHM_BUILD_EXTENSION", "auto")
if _choice not in ("auto", "yes", "no"):
    raise SystemExit("IPCSHM_BUILD_EXTENSION=%s: say auto, yes or no" % _choice)

_ext = Extension(
    "ipcshm._ext",
    sources=["ext/api.c", "ext/channel.c", "ext/exporter.c", "ext/handle.c", "ext/module.c"],
    depends=["ext/api.h", "ext/channel.h", "ext/exporter.h", "ext/handle.h", "ipcshm/decl.h"],
    optional=_choice == "auto",
)

setup(ext_modules=[] if _choice == "no" else [_ext])
