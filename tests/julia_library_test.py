#!/usr/bin/env python3
"""Checks, on this machine's dynamic loader, what IpcShm's `__init__` relies on to
honour ENV["IPCSHM_LIBRARY"] at load time (bindings/julia/IpcShm/src/library.jl):
every ccall names the library by its SONAME, libipcshm.so.1, and once a file with
that SONAME has been loaded (under any file name, from any folder), looking up the
SONAME finds that library, even where the loader's search path would not. A
library with another SONAME is not found that way, which is why `load_library`
compares the two before it accepts a file.

Each case runs in a new process with no LD_LIBRARY_PATH, loading with dlopen as
Julia's Libdl.dlopen does (through ctypes).

usage: julia_library_test.py LIBRARY
"""
import ctypes.util
import os
import shutil
import subprocess
import sys
import tempfile

SONAME = "libipcshm.so.1"

PROBE = r"""
import ctypes, sys
mode = ctypes.RTLD_GLOBAL | 1  # RTLD_LAZY
first = sys.argv[1]
try:
    lib = ctypes.CDLL(first, mode=mode) if first != "-" else None
except OSError as e:
    print("first-failed", e); sys.exit(0)
try:
    byname = ctypes.CDLL(sys.argv[2], mode=mode)
except OSError:
    print("soname-not-found"); sys.exit(0)
same = lib is not None and ctypes.cast(lib.ipcshm_version, ctypes.c_void_p).value == \
    ctypes.cast(byname.ipcshm_version, ctypes.c_void_p).value
print("same" if same else "different")
"""


def probe(first, env):
    out = subprocess.run([sys.executable, "-c", PROBE, first, SONAME], env=env,
                         capture_output=True, text=True, check=True).stdout
    return out.split()[0]


def installed():
    """Whether the loader finds libipcshm.so.1 on its own (an installed copy)."""
    out = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True).stdout
    return any(line.strip().startswith(SONAME + " ") for line in out.splitlines())


def main():
    library = sys.argv[1]
    other = ctypes.util.find_library("c")      # any library of another SONAME
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    errors = []
    with tempfile.TemporaryDirectory() as tmp:
        renamed = os.path.join(tmp, "renamed-ipcshm.so")
        shutil.copyfile(os.path.realpath(library), renamed)
        cases = [
            (os.path.realpath(library), "same",
             "the build's library, loaded by path, is what its SONAME resolves to"),
            (renamed, "same",
             "a copy under another file name is found by its SONAME once loaded"),
            (other, "soname-not-found" if not installed() else "different",
             "a library with another SONAME does not stand for libipcshm.so.1"),
        ]
        if not installed():
            cases.append(("-", "soname-not-found",
                          "without loading it first, the SONAME alone is not found here"))
        for first, expected, what in cases:
            seen = probe(first, env)
            status = "ok" if seen == expected else "FAIL"
            print(f"{status}: {what} ({first}: {seen})")
            if seen != expected:
                errors.append(what)
    print(f"{len(cases)} cases: {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
