"""Interoperation with CPython's multiprocessing.shared_memory and with sysv_ipc.

CPython 3.11's SharedMemory registers every object with the resource tracker,
also when it only attaches, and the tracker unlinks what is still registered when
this process exits (with a "leaked shared_memory objects" warning). An object that
CPython only attached is unregistered right after attaching (the tracker must not
destroy an object that ipcshm owns); an object CPython created is unlinked by
CPython's unlink(), which unregisters it. ipcshm's objects here are persistent
so that the volatile lifetime (which CPython does not take part in) does not
interfere."""
import textwrap

import pytest

import ipcshm
from conftest import run_python, shm_exists, shmid_exists

shared_memory = pytest.importorskip("multiprocessing.shared_memory")


def cpython_attach(name):
    from multiprocessing import resource_tracker
    shm = shared_memory.SharedMemory(name=name)
    resource_tracker.unregister(shm._name, "shared_memory")
    return shm


def test_cpython_opens_an_ipcshm_object(name):
    with ipcshm.SharedMemory(name, create=True, size=1000, volatile=False) as ours:
        ours.buf[:6] = b"ipcshm"
        theirs = cpython_attach(ours.name)       # CPython's name: no leading '/'
        try:
            assert theirs.name == ours.name
            assert theirs.size >= 1000
            assert bytes(theirs.buf[:6]) == b"ipcshm"
            theirs.buf[6:13] = b"+python"
            assert bytes(ours.buf[:13]) == b"ipcshm+python"
        finally:
            theirs.close()
        ours.unlink()
    assert not shm_exists(name)


def test_cpython_in_another_process_opens_an_ipcshm_object(name):
    with ipcshm.SharedMemory(name, create=True, size=64, volatile=False) as ours:
        ours.buf[:2] = b"hi"
        run_python(textwrap.dedent("""
            import sys
            from multiprocessing import resource_tracker, shared_memory
            s = shared_memory.SharedMemory(name=sys.argv[1])
            resource_tracker.unregister(s._name, "shared_memory")
            assert bytes(s.buf[:2]) == b"hi"
            s.buf[2:4] = b"!!"
            s.close()
            """), name)
        assert shm_exists(name)                  # CPython's exit left it alone
        assert bytes(ours.buf[:4]) == b"hi!!"
        ours.unlink()


def test_ipcshm_opens_a_cpython_object():
    theirs = shared_memory.SharedMemory(create=True, size=1000)
    try:
        theirs.buf[:7] = b"cpython"
        for ident in (theirs.name, "/" + theirs.name):
            with ipcshm.SharedMemory(ident) as ours:
                assert ours.name == theirs.name and ours.size == theirs.size
                assert bytes(ours.buf[:7]) == b"cpython"
                assert not ours.volatile         # no volatile mark: persistent
                assert ours.info().mode == 0o600
                ours.buf[7:14] = b"+ipcshm"
        assert bytes(theirs.buf[:14]) == b"cpython+ipcshm"
        assert shm_exists(theirs.name)           # closing ours left it alone
    finally:
        theirs.close()
        theirs.unlink()


@pytest.fixture
def sysv_ipc():
    return pytest.importorskip("sysv_ipc")   # Debian's python3-sysv-ipc


def test_sysv_ipc_attaches_an_ipcshm_segment(sysv_ipc, key):
    with ipcshm.SharedMemory("key:%d" % key, create=True, size=5000,
                             volatile=False) as ours:
        ours.buf[:6] = b"ipcshm"
        theirs = sysv_ipc.SharedMemory(key)      # by key
        try:
            assert "shmid:%d" % theirs.id == ours.id
            assert theirs.size == 5000 and theirs.key == key
            assert theirs.read(6) == b"ipcshm"
            theirs.write(b"+sysv", 6)
            assert theirs.number_attached == 2
        finally:
            theirs.detach()
        assert bytes(ours.buf[:11]) == b"ipcshm+sysv"
        ours.unlink()
    assert not shmid_exists(int(ours.id[6:]))


def test_ipcshm_attaches_a_sysv_ipc_segment(sysv_ipc, key):
    theirs = sysv_ipc.SharedMemory(key, sysv_ipc.IPC_CREX, mode=0o600, size=3000,
                                   init_character=b"\0")
    try:
        theirs.write(b"sysv_ipc")
        for ident in ("key:%d" % key, "key:0x%x" % key, "shmid:%d" % theirs.id):
            with ipcshm.SharedMemory(ident) as ours:
                assert ours.id == "shmid:%d" % theirs.id
                assert ours.size == 3000
                assert bytes(ours.buf[:8]) == b"sysv_ipc"
                assert not ours.volatile and ours.info().key == key
                ours.buf[8:15] = b"+ipcshm"
        assert theirs.read(15) == b"sysv_ipc+ipcshm"
        assert shmid_exists(theirs.id)           # closing ours left it alone
    finally:
        theirs.detach()
        theirs.remove()
