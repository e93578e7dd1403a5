"""No Python code path writes into a read-only mapping. The memory of a
readonly=True SharedMemory is mapped without write permission, so a write would
kill the process (SIGSEGV); every object that Python reaches from its buffers
(``buf``, ``buf.obj``, numpy's ``.base`` chain, ...) must refuse to write
instead. Each case runs in a child process, since a failure is a crash."""
import errno
import gc
import io
import textwrap

import pytest

import ipcshm
from conftest import EXTENSION, run_python, shm_exists, unique_name

# Every kind of read-only mapping, with the exporters it can get (_buffers.py):
# a duplicate of the library's mapping, or, where the kernel cannot duplicate
# it ("-descriptor" forces that), a mapping of a descriptor of the object.
KINDS = ["posix", "posix-descriptor", "sysv", "memfd-fd", "memfd-recv",
         "memfd-descriptor"]

SETUP = textwrap.dedent("""
    import ctypes, socket, sys
    import ipcshm
    kind, name = sys.argv[1], sys.argv[2]
    if kind.endswith("-descriptor"):
        ipcshm._buffers._duplicating = False
    if kind.startswith("posix"):
        rw = ipcshm.SharedMemory(name, create=True, size=4096)
        ro = ipcshm.SharedMemory(name, readonly=True)
    elif kind == "sysv":
        rw = ipcshm.SharedMemory("private", create=True, size=4096)
        ro = ipcshm.SharedMemory(rw.id, readonly=True)
    elif kind in ("memfd-fd", "memfd-descriptor"):
        rw = ipcshm.SharedMemory("memfd:ro-XXXXXX", create=True, size=4096)
        fd = rw.fd()
        ro = ipcshm.SharedMemory.from_fd(fd, readonly=True)
    else:
        rw = ipcshm.SharedMemory("memfd:ro-XXXXXX", create=True, size=4096)
        a, b = socket.socketpair()
        rw.send(a)
        ro = ipcshm.SharedMemory.recv(b, readonly=True)
    rw.buf[:4] = b"keep"
    assert ro.readonly and ro.buf.readonly

    def refused(what, attempt):
        try:
            attempt()
        except Exception as e:
            print(what, type(e).__name__, flush=True)
        else:
            print(what, "WROTE", flush=True)
""")

ATTEMPTS = textwrap.dedent("""
    obj = ro.buf.obj
    refused("buf[0]", lambda: ro.buf.__setitem__(0, 1))
    refused("buf.obj[0]", lambda: obj.__setitem__(0, 1))
    refused("memoryview(buf.obj)[0]", lambda: memoryview(obj).__setitem__(0, 1))
    refused("cast", lambda: memoryview(obj).cast("B").__setitem__(0, 1))
    refused("ctypes", lambda: (ctypes.c_char * 4).from_buffer(obj))
    refused("ctypes buf", lambda: (ctypes.c_char * 4).from_buffer(ro.buf))
    refused("write", lambda: obj.write(b"x"))
    refused("resize", lambda: obj.resize(8192))
    refused("release", lambda: obj.release() if hasattr(obj, "release") else obj.close())
    import pickle
    refused("picklebuffer", lambda: pickle.PickleBuffer(obj).raw().__setitem__(0, 1))
    # Every object reachable through .obj gives read-only buffers only.
    seen, x = [], ro.buf
    while x is not None and len(seen) < 10:
        seen.append(type(x).__name__)
        try:
            assert memoryview(x).readonly, type(x)
        except TypeError:
            pass
        x = getattr(x, "obj", None)
    print("chain", " ".join(seen), flush=True)
    try:
        import numpy as np
    except ImportError:
        np = None
    if np is not None:
        refused("numpy buf.obj", lambda: np.frombuffer(obj, np.uint8).__setitem__(0, 7))
        refused("numpy setflags", lambda: np.frombuffer(obj, np.uint8).setflags(write=True))
        refused("numpy asarray", lambda: np.asarray(obj).__setitem__(0, 7))
    assert bytes(rw.buf[:4]) == b"keep" and bytes(ro.buf[:4]) == b"keep"
    print("intact yes", flush=True)
    del obj     # no view is left: the exit detaches (and removes) the objects
""")

REFUSED = {
    "buf[0]": "TypeError", "buf.obj[0]": "TypeError",
    "memoryview(buf.obj)[0]": "TypeError", "cast": "TypeError", "ctypes": "TypeError",
    "ctypes buf": "TypeError", "picklebuffer": "TypeError",
    "numpy buf.obj": "ValueError", "numpy setflags": "ValueError",
    "numpy asarray": "ValueError",
}


@pytest.mark.parametrize("kind", KINDS)
def test_nothing_writes_through_a_read_only_mapping(kind, cleanup):
    name = unique_name("ro-" + kind)
    cleanup.append("/" + name)
    r = run_python(SETUP + ATTEMPTS, kind, name, check=False)
    assert r.returncode == 0, "crashed (%d):\n%s\n%s" % (r.returncode, r.stdout, r.stderr)
    got = dict(line.rsplit(" ", 1) for line in r.stdout.splitlines()
               if not line.startswith("chain "))
    for what, error in REFUSED.items():
        if what.startswith("numpy") and what not in got:
            continue                                  # no numpy here
        assert got[what] == error, (what, r.stdout)
    for what in ("write", "resize", "release"):       # the exporter's own methods
        assert got[what] in ("TypeError", "BufferError", "AttributeError"), (what, got)
    assert got["intact"] == "yes"
    assert not shm_exists(name)


@pytest.mark.parametrize("kind", ["posix", "posix-descriptor"])
def test_read_only_arrays_cannot_be_written_through_their_bases(kind, cleanup):
    pytest.importorskip("numpy")
    name = unique_name("roarr-" + kind)
    cleanup.append("/" + name)
    code = textwrap.dedent("""
        import sys
        import numpy as np
        import ipcshm
        kind, name = sys.argv[1], sys.argv[2]
        if kind == "posix-descriptor":
            ipcshm._buffers._duplicating = False
        w = ipcshm.array(name, np.float64, (3, 2), create=True)
        w[:] = 1.5
        a = ipcshm.array(name, readonly=True)
        assert not a.flags.writeable
        tried, x = 0, a
        while x is not None and tried < 10:          # a, a.base, a.base.obj, ...
            for attempt in (lambda: np.asarray(x).__setitem__(..., 7),
                            lambda: np.frombuffer(x, np.uint8).__setitem__(0, 7),
                            lambda: memoryview(x).cast("B").__setitem__(0, 7)):
                try:
                    attempt()
                except (TypeError, ValueError):
                    pass
                else:
                    print("WROTE through", type(x).__name__)
            tried += 1
            x = getattr(x, "base", None) if isinstance(x, np.ndarray) else getattr(x, "obj", None)
        assert (w == 1.5).all() and (a == 1.5).all()
        print("intact after", tried)
        """)
    r = run_python(code, kind, name, check=False)
    assert r.returncode == 0, "crashed (%d):\n%s\n%s" % (r.returncode, r.stdout, r.stderr)
    assert "WROTE" not in r.stdout and r.stdout.startswith("intact after "), r.stdout
    assert int(r.stdout.split()[-1]) >= 3, r.stdout     # the array, a view, its exporter


def test_writable_mappings_still_write_through_their_exporter(name):
    # buf.obj of a read-write mapping is writable: it is the same memory.
    with ipcshm.SharedMemory(name, create=True, size=100) as shm:
        obj = shm.buf.obj
        obj[0:2] = b"ok"
        assert bytes(shm.buf[:2]) == b"ok"
        del obj
    with ipcshm.SharedMemory("private", create=True, size=100) as seg:
        memoryview(seg.buf.obj).cast("B")[0] = 7
        assert seg.buf[0] == 7


@pytest.mark.skipif(EXTENSION, reason="ctypes exporters only: the compiled module's "
                    "exporter gives read-only buffers of the library's own mapping")
def test_a_read_only_segment_that_cannot_be_duplicated_is_refused(monkeypatch):
    # System V segments have no descriptor: without a second mapping of a
    # segment (huge pages), no read-only exporter is possible, so no mapping.
    with ipcshm.SharedMemory("private", create=True, size=100) as seg:
        monkeypatch.setattr(ipcshm._buffers, "_duplicating", False)
        with pytest.raises(io.UnsupportedOperation, match="read-only") as ei:
            ipcshm.SharedMemory(seg.id, readonly=True)
        assert ei.value.errno == errno.EOPNOTSUPP
        gc.collect()
        assert ipcshm.info(seg.id).nattch == 1      # its handle was detached
        with ipcshm.SharedMemory(seg.id) as rw:      # read-write needs no second one
            rw.buf[0] = 1


def test_a_read_only_segment_counts_twice_in_nattch_through_ctypes():
    # ctypes: the duplicate that makes its buffers read-only is a second
    # attachment. The compiled module's exporter needs none: one attachment.
    with ipcshm.SharedMemory("private", create=True, size=100) as seg:
        assert seg.info().nattch == 1
        with ipcshm.SharedMemory(seg.id, readonly=True) as ro:
            assert ipcshm.info(seg.id).nattch == (2 if EXTENSION else 3)
            assert ro.buf.readonly and ro.buf[0] == 0
        assert ipcshm.info(seg.id).nattch == 1


@pytest.mark.skipif(not EXTENSION, reason="the compiled module's exporter")
def test_read_only_segments_never_need_a_second_mapping_with_the_module(monkeypatch):
    # Where ctypes has to refuse (no second mapping possible), the compiled
    # module exports read-only buffers of the library's own mapping.
    monkeypatch.setattr(ipcshm._buffers, "_duplicating", False)
    with ipcshm.SharedMemory("private", create=True, size=100) as seg:
        seg.buf[0] = 7
        with ipcshm.SharedMemory(seg.id, readonly=True) as ro:
            assert ro.buf.readonly and ro.buf[0] == 7
            with pytest.raises(TypeError):
                ro.buf[0] = 1
            with pytest.raises(TypeError):
                ro.buf.obj[0] = 1
            assert ipcshm.info(seg.id).nattch == 2
