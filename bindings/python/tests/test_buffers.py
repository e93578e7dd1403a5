"""Exported buffers keep the mapping alive: close() refuses (BufferError) while any
view made from buf lives, and no view ever points at unmapped memory."""
import ctypes
import gc
import os
import struct
import textwrap

import pytest

import ipcshm
from conftest import run_python, shm_exists, unique_name


@pytest.fixture
def shm(name):
    s = ipcshm.SharedMemory(name, create=True, size=4096)
    s.buf[:4] = b"\x01\x02\x03\x04"
    yield s
    gc.collect()
    s.close()


def assert_released(view):
    with pytest.raises(ValueError, match="released"):
        view[0]
    with pytest.raises(ValueError):
        bytes(view)


def assert_close_refused(shm):
    with pytest.raises(BufferError, match="cannot close"):
        shm.close()
    # Still open and intact; buf is a fresh view of the same memory.
    assert not shm.closed and shm.buf is not None
    assert bytes(shm.buf[:4]) == b"\x01\x02\x03\x04"


def test_buf_is_one_view_and_released_by_close(shm):
    b = shm.buf
    assert shm.buf is b
    shm.close()
    assert_released(b)


@pytest.mark.parametrize("make", [
    lambda b: b[1:3],
    lambda b: b[::2],
    lambda b: memoryview(b),
    lambda b: b.cast("i"),
    lambda b: b.toreadonly(),
    lambda b: (ctypes.c_char * 8).from_buffer(b),
    lambda b: ctypes.c_int.from_buffer(b, 8),
], ids=["slice", "strided", "memoryview", "cast", "toreadonly", "ctypes_array",
        "ctypes_int"])
def test_close_refused_while_a_view_lives(shm, make):
    view = make(shm.buf)
    assert_close_refused(shm)
    assert_close_refused(shm)            # and again
    del view
    old = shm.buf
    shm.close()
    assert shm.closed
    assert_released(old)


def test_slice_stays_valid_after_refused_close(shm):
    s = shm.buf[0:4]
    with pytest.raises(BufferError):
        shm.close()
    assert bytes(s) == b"\x01\x02\x03\x04"
    s[0] = 9                              # still the shared memory
    assert shm.buf[0] == 9
    del s
    shm.close()


def test_old_buf_after_refused_close_is_released_like_cpython(shm):
    b = shm.buf
    s = b[1:2]
    with pytest.raises(BufferError):
        shm.close()
    assert_released(b)                    # CPython's close() releases buf first too
    assert shm.buf is not b and shm.buf[1] == 2
    del s
    shm.close()


def test_released_views_do_not_block(shm):
    with shm.buf[0:4] as v:
        assert bytes(v) == b"\x01\x02\x03\x04"
    w = shm.buf[4:8]
    w.release()
    shm.close()                           # v and w are bound but released
    assert_released(v)


def test_copies_do_not_block(shm):
    data = bytes(shm.buf[:4])
    arr = bytearray(shm.buf[:8])
    n = struct.unpack_from("i", shm.buf, 0)
    struct.pack_into("i", shm.buf, 8, 7)
    shm.close()
    assert data == b"\x01\x02\x03\x04" and len(arr) == 8 and n


def test_numpy_views_block_close(shm):
    np = pytest.importorskip("numpy")
    a = np.frombuffer(shm.buf, dtype=np.uint8)
    assert_close_refused(shm)
    b = a[2:]                             # a view of the view
    del a
    assert_close_refused(shm)
    assert b[0] == 3
    del b
    c = np.frombuffer(shm.buf[8:], dtype=np.int32)      # over a temporary slice
    d = np.asarray(shm.buf).reshape(64, 64)
    assert_close_refused(shm)
    del c
    assert_close_refused(shm)
    d[0, 0] = 5
    assert shm.buf[0] == 5
    del d
    shm.close()


def test_numpy_array_outlives_the_shared_memory_object(name):
    np = pytest.importorskip("numpy")
    shm = ipcshm.SharedMemory(name, create=True, size=4096)
    a = np.frombuffer(shm.buf, dtype=np.int64)
    a[:] = np.arange(512)
    del shm                               # forgot close(): a keeps the mapping
    gc.collect()
    assert shm_exists(name)               # volatile, but still mapped here
    assert a.sum() == 511 * 512 // 2      # no dangling memory
    a[0] = 100
    with ipcshm.SharedMemory(name) as peer:
        assert struct.unpack_from("q", peer.buf, 0)[0] == 100
    del a                                 # the last view: detached now
    gc.collect()
    assert not shm_exists(name)


def test_slice_outlives_the_shared_memory_object(name):
    shm = ipcshm.SharedMemory(name, create=True, size=100)
    s = shm.buf[10:20]
    del shm
    gc.collect()
    s[0] = 1
    assert s[0] == 1 and shm_exists(name)
    del s
    assert not shm_exists(name)


def test_forgotten_close_detaches(name):
    shm = ipcshm.SharedMemory(name, create=True, size=100)
    assert shm_exists(name)
    del shm
    assert not shm_exists(name)           # volatile: gone with its only user
    shm = ipcshm.SharedMemory(name, create=True, size=100)
    shm.buf[0] = 1
    del shm
    gc.collect()
    assert not shm_exists(name)


def test_readonly_views_too(name):
    with ipcshm.SharedMemory(name, create=True, size=100) as rw:
        ro = ipcshm.SharedMemory(name, readonly=True)
        s = ro.buf[0:10]
        with pytest.raises(BufferError):
            ro.close()
        assert ro.buf.readonly
        del s
        ro.close()
        rw.buf[0] = 1


def test_exit_with_views_alive_and_nothing_closed():
    vol, per, cyc = unique_name("exit-vol"), unique_name("exit-per"), unique_name("exit-cyc")
    code = textwrap.dedent("""
        import sys, ipcshm
        v = ipcshm.SharedMemory(sys.argv[1], create=True, size=4096)
        p = ipcshm.SharedMemory(sys.argv[2], create=True, size=4096, volatile=False)
        view = v.buf[100:200]                  # module-level view, never released
        try:
            import numpy
            arr = numpy.frombuffer(p.buf, dtype=numpy.uint8)
        except ImportError:
            arr = p.buf[:]
        c = ipcshm.SharedMemory(sys.argv[3], create=True, size=10)
        cycle = [c]
        cycle.append(cycle)                    # only the gc (or exit) frees it
        del c, cycle
        view[0] = 1
        print("ok")
        """)
    try:
        r = run_python(code, vol, per, cyc)
        assert r.stdout == "ok\n" and r.stderr == ""
        assert not shm_exists(vol) and not shm_exists(cyc)    # detached at exit
        assert shm_exists(per)                                 # persistent stays
    finally:
        for n in (vol, per, cyc):
            ipcshm.remove(n)


def test_forked_child_does_not_destroy_the_parents_object():
    name = unique_name("fork")
    code = textwrap.dedent("""
        import os, sys, ipcshm
        name = sys.argv[1]
        shm = ipcshm.SharedMemory(name, create=True, size=4096)
        for how in ("exit", "close"):
            pid = os.fork()
            if pid == 0:
                shm.buf[0] = 42                # the child shares the mapping
                if how == "close":
                    shm.close()
                sys.exit(0)                    # runs finalizers (atexit)
            _, status = os.waitpid(pid, 0)
            assert status == 0, status
            assert os.path.exists("/dev/shm/" + name), how
            assert shm.buf[0] == 42
            with ipcshm.SharedMemory(name) as again:
                assert again.buf[0] == 42
        shm.close()
        assert not os.path.exists("/dev/shm/" + name)
        print("ok")
        """)
    try:
        r = run_python(code, name)
        assert r.stdout == "ok\n", r.stderr
    finally:
        ipcshm.remove(name)


def test_views_used_after_the_exit_detach_still_see_the_memory():
    # An atexit handler registered before ipcshm's first mapping runs after the
    # handles are detached at exit. Its views still see the objects' memory:
    # a POSIX object's views use a duplicate mapping, which the detach leaves,
    # and a segment with live views stays attached until the process ends.
    vol, sysv = unique_name("late-vol"), None
    code = textwrap.dedent("""
        import atexit, sys

        def late():
            print("late", view[0], ro[1], seg[2], flush=True)
            view[0] = 5                        # writable anonymous memory
        atexit.register(late)

        import ipcshm
        shm = ipcshm.SharedMemory(sys.argv[1], create=True, size=4096)
        view = shm.buf[10:20]
        view[0] = 1
        ro = ipcshm.SharedMemory(sys.argv[1], readonly=True).buf[:]
        s = ipcshm.SharedMemory("private", create=True, size=100)
        seg = s.buf[0:10]
        seg[2] = 3
        print(s.id, flush=True)
        del s
        """)
    try:
        r = run_python(code, vol)
        sysv = r.stdout.splitlines()[0]
        assert r.stdout.splitlines()[1:] == ["late 1 0 3"], r.stdout
        assert not shm_exists(vol)             # detached at exit: destroyed
        with pytest.raises(FileNotFoundError):
            ipcshm.info(sysv)
    finally:
        ipcshm.remove(vol)
        if sysv:
            ipcshm.remove(sysv)


# Whether a view is left is decided exactly (the exporter of every view is alive
# or not), never from reference counts, which differ between interpreters
# (3.14 borrows references on the stack; free-threaded builds defer them) and
# which a kept traceback of a failed close() would inflate.

@pytest.fixture(params=["posix", "posix-direct", "sysv", "memfd"])
def any_shm(request, name, monkeypatch):
    # Read-write mappings of every kind, with every exporter (_buffers.py):
    # a duplicate mapping (POSIX), the library's mapping (System V, memfd; and
    # POSIX when no duplicate can be made, which "-direct" forces).
    if request.param == "posix-direct":
        monkeypatch.setattr(ipcshm._buffers, "_duplicating", False)
    ident = {"sysv": "private", "memfd": "memfd:exact-XXXXXX"}.get(request.param, name)
    s = ipcshm.SharedMemory(ident, create=True, size=4096)
    s.buf[:4] = b"\x01\x02\x03\x04"
    yield s
    gc.collect()
    s.close()


@pytest.fixture(params=["posix", "posix-descriptor", "sysv", "memfd",
                        "memfd-descriptor"])
def any_ro_shm(request, name, monkeypatch):
    # Read-only mappings of every kind, with every exporter.
    ident = {"sysv": "private"}.get(request.param, name)
    if request.param.startswith("memfd"):
        ident = "memfd:exact-XXXXXX"
    rw = ipcshm.SharedMemory(ident, create=True, size=4096)
    rw.buf[:4] = b"\x01\x02\x03\x04"
    if request.param.endswith("-descriptor"):
        monkeypatch.setattr(ipcshm._buffers, "_duplicating", False)
    if request.param.startswith("memfd"):
        fd = rw.fd()
        s = ipcshm.SharedMemory.from_fd(fd, readonly=True)
        os.close(fd)
    else:
        s = ipcshm.SharedMemory(rw.id, readonly=True)
    yield s
    gc.collect()
    s.close()
    rw.close()


VIEWS = {
    "slice": lambda b: b[1:3],
    "memoryview": lambda b: memoryview(b),
    "cast": lambda b: b.cast("i"),
    "exporter": lambda b: b.obj,
    "memoryview of exporter": lambda b: memoryview(b.obj),
    "ctypes": lambda b: (ctypes.c_char * 8).from_buffer(b),
    "ctypes of exporter": lambda b: ctypes.c_int.from_buffer(b.obj, 8),
}


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_close_is_exact_for_every_kind(any_shm, view):
    v = VIEWS[view](any_shm.buf)
    for _ in range(3):
        assert_close_refused(any_shm)
        with pytest.raises(BufferError):
            any_shm.resize(8192)
    del v
    any_shm.close()
    assert any_shm.closed


def test_numpy_views_of_every_kind(any_shm):
    np = pytest.importorskip("numpy")
    a = np.frombuffer(any_shm.buf, np.uint8)[2:]
    b = np.frombuffer(any_shm.buf.obj, np.uint8)
    del b
    assert_close_refused(any_shm)
    assert a[0] == 3
    del a
    any_shm.close()


def test_a_failed_close_does_not_hold_the_mapping_through_its_traceback(shm):
    # The REPL keeps the last traceback (sys.last_traceback): close() must
    # succeed once the views are gone, while that traceback still lives.
    view = shm.buf[1:3]
    try:
        shm.close()
    except BufferError as e:
        kept = e
    try:
        shm.resize(8192)
    except BufferError as e:
        kept_too = e
    del view
    shm.close()
    assert shm.closed and kept.__traceback__ and kept_too.__traceback__


def test_views_of_a_dropped_object_keep_it_until_the_last_one(name):
    shm = ipcshm.SharedMemory(name, create=True, size=100)
    obj = shm.buf.obj          # the exporter is a view too
    s = shm.buf[:10]
    del shm
    gc.collect()
    assert shm_exists(name)
    del s
    gc.collect()
    assert shm_exists(name)
    memoryview(obj)[0] = 1
    del obj                    # the last one: detached (and, volatile, removed)
    assert not shm_exists(name)


RO_VIEWS = ["slice", "memoryview", "cast", "exporter", "memoryview of exporter"]


@pytest.mark.parametrize("view", RO_VIEWS)
def test_close_is_exact_for_read_only_mappings_too(any_ro_shm, view):
    v = VIEWS[view](any_ro_shm.buf)
    for _ in range(3):
        assert_close_refused(any_ro_shm)
    del v
    any_ro_shm.close()
    assert any_ro_shm.closed


def test_threads_create_views_and_close_at_once():
    # Handles and exporters are registered and dropped from several threads at
    # once (a prune of dead registrations runs while others add theirs); one
    # thread's close() races another's use of the same object.
    import threading
    prefix = unique_name("threads")
    errors = []
    shared = ipcshm.SharedMemory(prefix + "-shared", create=True, size=4096)

    def work(t):
        try:
            for i in range(150):
                with ipcshm.SharedMemory("%s-%d-XXXXXX" % (prefix, t), create=True,
                                         size=4096) as s:
                    v = s.buf[:8]
                    v[0] = t
                    del v
                try:
                    shared.buf[t] = i & 0xFF            # closed under us: ValueError
                except (ValueError, TypeError):
                    pass
        except Exception as e:                      # pragma: no cover - reported
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    try:
        shared.close()
    except BufferError:
        pass                                        # a thread held a view
    for t in threads:
        t.join()
    gc.collect()
    shared.close()
    assert not errors, errors
    assert not [n for n in os.listdir("/dev/shm") if n.startswith(prefix)]
