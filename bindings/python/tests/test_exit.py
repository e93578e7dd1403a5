"""Interpreter exit while a daemon thread still reads and writes shared memory.
Daemon threads keep running while the interpreter shuts down (a numpy loop
releases the GIL), so the memory under their views must stay mapped until the
process ends: no gap, ever. The handles are detached at exit all the same where
views do not need them (a volatile POSIX object goes with its last user)."""
import textwrap

import pytest

import ipcshm
from conftest import run_python, shm_exists, shmid_exists, unique_name

np = pytest.importorskip("numpy")

CHILD = textwrap.dedent("""
    import sys, threading
    import numpy as np
    import ipcshm
    kind, name = sys.argv[1], sys.argv[2]
    if kind == "posix-direct":
        ipcshm._buffers._duplicating = False
    ident = {"posix": name, "posix-direct": name, "sysv": "private",
             "memfd": "memfd:exit-XXXXXX"}[kind]
    shm = ipcshm.SharedMemory(ident, create=True, size=8 << 20)
    a = np.frombuffer(shm.buf, dtype=np.float64)
    running = threading.Event()

    def spin():
        while True:
            np.add(a, 1.0, out=a)          # the GIL is released for the loop
            running.set()

    threading.Thread(target=spin, daemon=True).start()
    running.wait()
    print(shm.id, flush=True)
    # The interpreter exits now, with the thread inside np.add.
""")


def run_exits(kind, runs):
    name = unique_name("exit-" + kind)
    for i in range(runs):
        r = run_python(CHILD, kind, name, check=False, timeout=60)
        ident = r.stdout.strip()
        try:
            assert r.returncode == 0, "run %d of %d: exit status %d\n%s" % (
                i + 1, runs, r.returncode, r.stderr)
            assert r.stderr == "", r.stderr
            yield ident
        finally:
            if ident and not ident.startswith("memfd:"):
                ipcshm.remove(ident)


def test_exit_with_a_thread_in_a_numpy_loop_over_a_posix_object():
    for ident in run_exits("posix", 20):
        assert not shm_exists(ident), "volatile: gone with its only user"


@pytest.mark.parametrize("kind", ["posix-direct", "sysv", "memfd"])
def test_exit_with_a_thread_in_a_numpy_loop_over_other_kinds(kind):
    for ident in run_exits(kind, 5):
        if kind == "sysv":
            assert not shmid_exists(int(ident.split(":")[1]))
        elif kind == "posix-direct":
            # The library's own mapping stayed (a view used it) until the
            # process ended; the name is reclaimed like a dead user's.
            with pytest.raises(FileNotFoundError):
                ipcshm.SharedMemory(ident)
            assert not shm_exists(ident)


def test_exit_detaches_what_no_view_uses():
    # Without live views, every handle is detached at exit: volatile objects of
    # every kind go, persistent ones stay.
    vol, per, direct = (unique_name("exit-" + t) for t in ("vol", "per", "direct"))
    code = textwrap.dedent("""
        import sys, ipcshm
        keep = [ipcshm.SharedMemory(sys.argv[1], create=True, size=4096),
                ipcshm.SharedMemory(sys.argv[2], create=True, size=4096, volatile=False),
                ipcshm.SharedMemory("private", create=True, size=4096)]
        ipcshm._buffers._duplicating = False
        keep.append(ipcshm.SharedMemory(sys.argv[3], create=True, size=4096))
        print(keep[2].id)
        """)
    try:
        r = run_python(code, vol, per, direct)
        seg = int(r.stdout.split(":")[1])
        assert not shm_exists(vol) and not shm_exists(direct) and shm_exists(per)
        assert not shmid_exists(seg)
    finally:
        for n in (vol, per, direct):
            ipcshm.remove(n)


def test_forked_child_exits_without_destroying_the_parents_objects():
    # The child detaches the handles it inherited at its exit; the library
    # knows they are inherited and destroys nothing.
    name = unique_name("exit-fork")
    code = textwrap.dedent("""
        import os, sys, ipcshm
        shm = ipcshm.SharedMemory(sys.argv[1], create=True, size=4096)
        view = shm.buf[:10]
        pid = os.fork()
        if pid == 0:
            view[0] = 9
            sys.exit(0)
        assert os.waitpid(pid, 0)[1] == 0
        assert os.path.exists("/dev/shm/" + sys.argv[1]) and view[0] == 9
        print("ok")
        """)
    try:
        assert run_python(code, name).stdout == "ok\n"
        assert not shm_exists(name)
    finally:
        ipcshm.remove(name)
