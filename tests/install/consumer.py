#!/usr/bin/env python3
"""A Python program of a user: the installed package ipcshm (pip or python3-ipcshm)
over an installed libipcshm, found by its SONAME (tests/install/install_test.py
and tests/packaging/debian-root.sh run it).

    consumer.py ID LIB   attaches ID (made by consumer.c), checks its pattern and
                         answers with the complement of every byte

LIB is the library the package must have loaded (ipcshm.library_path)."""
import os
import sys

import ipcshm

SIZE = 10000


def main():
    ident, lib = sys.argv[1], sys.argv[2]
    if os.path.realpath(ipcshm.library_path) != os.path.realpath(lib):
        sys.exit("consumer.py: loaded %s, expected %s" % (ipcshm.library_path, lib))
    if ipcshm.version()[:2] != tuple(int(x) for x in ipcshm.__version__.split(".")[:2]):
        sys.exit("consumer.py: library %r, package %s" % (ipcshm.version(),
                                                          ipcshm.__version__))
    with ipcshm.SharedMemory(ident) as shm:
        if shm.size != SIZE:
            sys.exit("consumer.py: size %d" % shm.size)
        want = bytes((i * 7 + 1) & 0xFF for i in range(SIZE))
        if bytes(shm.buf) != want:
            sys.exit("consumer.py: %s does not hold the pattern" % ident)
        shm.buf[:] = bytes(~b & 0xFF for b in want)
    print("consumer.py: checked %s and wrote the answer (ipcshm %s, %s)"
          % (ident, ipcshm.__version__, ipcshm.library_path))


if __name__ == "__main__":
    main()
