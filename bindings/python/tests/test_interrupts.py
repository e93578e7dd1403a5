"""Exceptions that arrive at any moment (KeyboardInterrupt from Ctrl-C, or any
exception a signal handler raises) leak nothing: a handle the library returned
is owned by a Python object from the moment the call returns, and is detached
exactly once whatever is interrupted (a create, a close, a resize, a
finalizer).

A child process runs thousands of operations under a timer that fires every
100 microseconds; its handler raises whenever ipcshm's code (or the loop's own
call into it) is running. Then the child counts its descriptors and the
mappings of the objects, and the parent counts the names left in /dev/shm."""
import os
import textwrap

import pytest

from conftest import run_python, unique_name

CHILD = textwrap.dedent("""
    import errno, gc, os, signal, socket, sys
    import ipcshm
    kind, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    label = prefix.lstrip("/")

    class Interrupted(BaseException):
        pass

    hits = 0
    package = os.path.dirname(ipcshm.__file__)
    callers = ("attempt", "make", "<lambda>")

    def handler(signum, frame):
        # Raises where ipcshm's code, or the call into it, was running; not in
        # the loop below, which must go on.
        global hits
        code = frame.f_code if frame is not None else None
        if code is not None and (code.co_filename.startswith(package)
                                 or code.co_name in callers):
            hits += 1
            raise Interrupted

    def fds():
        return len(os.listdir("/proc/self/fd"))

    def mappings():
        with open("/proc/self/maps") as f:
            return sum(1 for line in f if label in line)

    before = (fds(), mappings())
    base = None
    if kind == "posix":
        make = lambda: ipcshm.SharedMemory(prefix + "XXXXXX", create=True, size=4096)
    elif kind == "posix-readonly":
        base = ipcshm.SharedMemory(prefix + "base", create=True, size=4096)
        make = lambda: ipcshm.SharedMemory(base.id, readonly=True)
    elif kind == "memfd":
        make = lambda: ipcshm.SharedMemory("memfd:" + label + "XXXXXX", create=True,
                                           size=4096)
    elif kind == "sysv":
        label = "SYSV"
        make = lambda: ipcshm.SharedMemory("private", create=True, size=4096)
    elif kind == "from_fd":
        base = ipcshm.SharedMemory("memfd:" + label, create=True, size=4096)
        fd = base.fd()
        make = lambda: ipcshm.SharedMemory.from_fd(fd, readonly=True)
    elif kind == "array":
        import numpy    # imported before the timer starts
        make = lambda: ipcshm.SharedMemory.create_array(prefix + "XXXXXX", "f8", (8, 8))
    elif kind == "resize":
        base = ipcshm.SharedMemory(prefix + "XXXXXX", create=True, size=4096)
        sizes = [4096, 3 * 4096, 8192]

        def make():
            try:
                base.resize(sizes[hits % 3])
            except OSError as e:
                # Shrinking a volatile object is EBUSY while another process
                # holds a lock on it for a moment (`ipcshm gc` or a holder
                # census of another test on this machine): not a leak.
                if e.errno != errno.EBUSY:
                    raise
            assert len(base.buf) == base.size
            return base

    def attempt():
        shm = make()
        if shm is not base:
            if shm.readonly:
                assert shm.buf[0] == 0
            else:
                shm.buf[0] = 1
            shm.close()

    signal.signal(signal.SIGALRM, handler)
    signal.siginterrupt(signal.SIGALRM, False)
    signal.setitimer(signal.ITIMER_REAL, 0.0001, 0.0001)
    done = 0
    while done < n:
        try:
            attempt()
        except Interrupted:
            pass
        done += 1
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    gc.collect()
    if base is not None:
        base.close()
    if kind == "from_fd":
        os.close(fd)
    after = (fds(), mappings())
    print(hits, before[0], after[0], before[1], after[1])
""")

# (With the compiled module less of each operation is Python code where the
# handler can raise: the counts give either backend enough interruptions.)
CASES = {"posix": 20000, "memfd": 20000, "sysv": 10000, "posix-readonly": 10000,
         "from_fd": 10000, "array": 5000, "resize": 30000}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_interrupted_operations_leak_nothing(kind):
    prefix = "/" + unique_name("intr-" + kind)
    n = CASES[kind]
    try:
        r = run_python(CHILD, kind, prefix, n, timeout=240)
        hits, fds_before, fds_after, maps_before, maps_after = map(int, r.stdout.split())
        assert r.stderr == "", r.stderr
        # Enough interruptions, at many places, to mean something.
        assert hits >= min(n // 10, 500), (hits, n)
        assert fds_after == fds_before, "descriptors leaked: %d -> %d" % (fds_before,
                                                                         fds_after)
        assert maps_after == maps_before, "mappings leaked: %d -> %d" % (maps_before,
                                                                        maps_after)
        left = [f for f in os.listdir("/dev/shm") if f.startswith(prefix[1:])]
        assert not left, "%d names left in /dev/shm" % len(left)
    finally:
        for f in os.listdir("/dev/shm"):
            if f.startswith(prefix[1:]):
                os.unlink("/dev/shm/" + f)
