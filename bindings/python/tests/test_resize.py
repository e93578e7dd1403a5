"""resize(): the object gets a new size and this mapping follows it; views of the
old mapping would dangle, so resize() refuses (BufferError) while one lives."""
import ctypes
import errno
import gc
import io
import os
import textwrap

import pytest

import ipcshm
from conftest import run_python, shm_exists, start_python, unique_name


def test_grow_and_shrink_a_posix_object(name):
    with ipcshm.SharedMemory(name, create=True, size=4096) as shm:
        shm.buf[:4] = b"keep"
        shm.buf[-1] = 7
        old = shm.buf
        shm.resize(1 << 20)
        assert shm.size == 1 << 20 and len(shm.buf) == 1 << 20
        assert shm.info().size == 1 << 20 and os.stat("/dev/shm/" + name).st_size == 1 << 20
        with pytest.raises(ValueError):
            old[0]                                   # the old view is released
        assert bytes(shm.buf[:4]) == b"keep" and shm.buf[4095] == 7
        assert bytes(shm.buf[4096:]) == bytes((1 << 20) - 4096)   # grown: zeros
        shm.buf[-1] = 1                              # the new end is mapped
        shm.resize(100)
        assert shm.size == 100 == ipcshm.info(name).size
        assert bytes(shm.buf[:4]) == b"keep"
        shm.resize(100)                              # same size: nothing to do


def test_another_process_attaching_afterwards_sees_the_new_size(name):
    code = textwrap.dedent("""
        import sys, ipcshm
        with ipcshm.SharedMemory(sys.argv[1]) as shm:
            print(shm.size, bytes(shm.buf[:3]).decode(), shm.buf[shm.size - 1])
            shm.buf[shm.size - 1] = 42
        """)
    with ipcshm.SharedMemory(name, create=True, size=1000) as shm:
        shm.buf[:3] = b"abc"
        assert run_python(code, name).stdout == "1000 abc 0\n"
        shm.resize(300000)
        assert run_python(code, name).stdout == "300000 abc 0\n"
        assert shm.buf[299999] == 42


def test_a_process_attached_before_keeps_its_length(name):
    code = textwrap.dedent("""
        import sys, ipcshm
        shm = ipcshm.SharedMemory(sys.argv[1])
        print(shm.size, flush=True)
        sys.stdin.readline()
        print(shm.size, shm.buf[shm.size - 1], shm.info().size, flush=True)
        shm.close()
        """)
    with ipcshm.SharedMemory(name, create=True, size=4096) as shm:
        with start_python(code, name) as child:
            assert child.stdout.readline() == "4096\n"
            shm.resize(8192)
            shm.buf[4095] = 3
            child.stdin.write("go\n")
            assert child.stdout.readline() == "4096 3 8192\n"
            assert child.wait(10) == 0


def test_memfd_grows_but_does_not_shrink():
    with ipcshm.SharedMemory("memfd:pyresize-XXXXXX", create=True, size=100) as shm:
        shm.buf[:2] = b"ok"
        shm.resize(10000)
        assert shm.size == 10000 and shm.info().size == 10000
        assert bytes(shm.buf[:2]) == b"ok"
        with pytest.raises(PermissionError, match="F_SEAL_SHRINK") as ei:
            shm.resize(50)
        assert ei.value.errno == errno.EPERM
        assert shm.size == 10000 and bytes(shm.buf[:2]) == b"ok"   # unchanged


VIEWS = {
    "slice": lambda b: b[1:3],
    "memoryview": lambda b: memoryview(b),
    "ctypes": lambda b: (ctypes.c_char * 8).from_buffer(b),
    "numpy": lambda b: pytest.importorskip("numpy").frombuffer(b, dtype="u1"),
}


@pytest.mark.parametrize("kind", sorted(VIEWS))
def test_buffer_error_while_a_view_is_exported(name, kind):
    with ipcshm.SharedMemory(name, create=True, size=4096) as shm:
        shm.buf[0] = 5
        view = VIEWS[kind](shm.buf)
        with pytest.raises(BufferError, match="cannot resize"):
            shm.resize(8192)
        assert shm.size == 4096 == ipcshm.info(name).size    # nothing changed
        assert shm.buf[0] == 5 and len(memoryview(view)) > 0     # still valid
        del view
        gc.collect()
        shm.resize(8192)
        assert shm.size == 8192 and shm.buf[0] == 5


def test_read_only_mapping_cannot_resize(name):
    with ipcshm.SharedMemory(name, create=True, size=100), \
            ipcshm.SharedMemory(name, readonly=True) as ro:
        with pytest.raises(PermissionError, match="read-only"):
            ro.resize(200)
        assert ro.size == 100 and ro.buf.readonly


def test_system_v_cannot_resize():
    with ipcshm.SharedMemory("private", create=True, size=100) as seg:
        seg.buf[0] = 1
        with pytest.raises(io.UnsupportedOperation) as ei:
            seg.resize(200)
        assert ei.value.errno == errno.EOPNOTSUPP and "System V" in str(ei.value)
        assert seg.size == 100 and seg.buf[0] == 1     # still mapped, as before


def test_bad_sizes(name):
    with ipcshm.SharedMemory(name, create=True, size=100) as shm:
        for bad in (0, -1):
            with pytest.raises(ValueError):
                shm.resize(bad)
        with pytest.raises(OverflowError):
            shm.resize(1 << 64)
        with pytest.raises(TypeError):
            shm.resize(1.5)
        with pytest.raises((OSError, ValueError)):
            shm.resize(1 << 62)          # more than the system allows (EINVAL, ENOMEM)
        assert shm.size == 100 and ipcshm.info(name).size == 100


def test_resized_object_is_detached_once(name):
    # The old mapping's finalizer must not detach the handle: the object lives
    # until close(), and goes (volatile) with it.
    shm = ipcshm.SharedMemory(name, create=True, size=100)
    shm.resize(5000)
    gc.collect()
    assert os.path.exists("/dev/shm/" + name)
    shm.buf[4999] = 1
    shm.close()
    assert not os.path.exists("/dev/shm/" + name)
    shm = ipcshm.SharedMemory(name, create=True, size=100)
    shm.resize(200)
    view = shm.buf[:]
    del shm                              # dropped without close: goes with its view
    gc.collect()
    assert os.path.exists("/dev/shm/" + name)
    view[199] = 1
    del view
    gc.collect()
    assert not os.path.exists("/dev/shm/" + name)


def test_forked_child_that_resizes_does_not_destroy_the_parents_object():
    name = unique_name("fork-resize")
    code = textwrap.dedent("""
        import os, sys, ipcshm
        name = sys.argv[1]
        shm = ipcshm.SharedMemory(name, create=True, size=100)
        pid = os.fork()
        if pid == 0:
            shm.resize(5000)                   # the inherited handle, in the child
            shm.buf[4999] = 1
            sys.exit(0)                        # runs finalizers (atexit)
        _, status = os.waitpid(pid, 0)
        assert status == 0, status
        assert os.path.exists("/dev/shm/" + name)
        with ipcshm.SharedMemory(name) as again:
            assert again.size == 5000 and again.buf[4999] == 1
        shm.close()
        assert not os.path.exists("/dev/shm/" + name)
        print("ok")
        """)
    try:
        assert run_python(code, name).stdout == "ok\n"
    finally:
        ipcshm.remove(name)


# Shrinking takes bytes away from every other mapping (they would fault with
# SIGBUS beyond the new end), so the library refuses to shrink a volatile POSIX
# object that other handles hold, here or in other processes.
def test_shrinking_what_others_map_is_refused(name):
    code = textwrap.dedent("""
        import sys, ipcshm
        shm = ipcshm.SharedMemory(sys.argv[1])
        print(shm.size, flush=True)
        sys.stdin.readline()
        print(shm.size, bytes(shm.buf[shm.size - 4:]).decode(), flush=True)
        shm.close()
        """)
    with ipcshm.SharedMemory(name, create=True, size=8192) as shm:
        shm.buf[-4:] = b"tail"
        other = ipcshm.SharedMemory(name)                # a handle in this process
        with pytest.raises(OSError) as ei:
            shm.resize(4096)
        assert ei.value.errno == errno.EBUSY and name in str(ei.value)
        assert shm.size == 8192 == ipcshm.info(name).size and len(shm.buf) == 8192
        assert bytes(other.buf[-4:]) == b"tail"          # still there
        shm.resize(16384)                                # growing takes nothing away
        shm.buf[-4:] = b"tail"
        other.close()
        with start_python(code, name) as child:          # a handle in another process
            assert child.stdout.readline() == "16384\n"
            with pytest.raises(OSError) as ei:
                shm.resize(100)
            assert ei.value.errno == errno.EBUSY
            child.stdin.write("go\n")
            assert child.stdout.readline() == "16384 tail\n"
            assert child.wait(10) == 0
        shm.resize(100)                                  # alone again: allowed
        assert shm.size == 100 == ipcshm.info(name).size


def test_a_failed_resize_does_not_hold_the_mapping_through_its_traceback(name):
    # The traceback of a failed resize() (kept, as the REPL keeps the last one)
    # must not keep the handle attached once the object is closed.
    shm = ipcshm.SharedMemory(name, create=True, size=100)
    try:
        shm.resize(1 << 62)              # more than the system allows
    except (OSError, ValueError) as e:
        kept = e
    shm.close()
    assert not shm_exists(name), "the volatile object outlived its only user"
    assert kept.__traceback__
