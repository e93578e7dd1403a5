"""SharedMemoryManager: CPython's interface, ipcshm's objects. Its server
process attaches what it tracks: the objects live until shutdown (and are
unlinked then, as CPython's), or until their last user is gone if the manager
dies first."""
import multiprocessing
import os
import signal
from multiprocessing import managers

import pytest

import ipcshm
import mp_children
from conftest import shm_exists


def test_objects_live_until_shutdown_as_cpythons():
    for manager_class in (managers.SharedMemoryManager, ipcshm.SharedMemoryManager):
        with manager_class() as smm:
            sm = smm.SharedMemory(4096)
            sl = smm.ShareableList([1, "two", b"three\x00"])
            names = [sm.name, sl.shm.name]
            sm.buf[0] = 42
            sm.close()
            sl.shm.close()
            assert all(shm_exists(n) for n in names)       # the manager keeps them
            if manager_class is ipcshm.SharedMemoryManager:
                with ipcshm.SharedMemory(names[0]) as again:
                    assert again.buf[0] == 42 and again.volatile
                again_list = ipcshm.ShareableList(name=names[1])
                assert list(again_list) == [1, "two", b"three\x00"]
                again_list.shm.close()
        assert not any(shm_exists(n) for n in names), manager_class   # unlinked


def test_the_server_tracks_attaches_and_releases(cleanup):
    with ipcshm.SharedMemoryManager() as smm:
        sm = smm.SharedMemory(100)
        cleanup.append(sm.id)
        def call(method, *args):               # (one request per connection)
            with smm._Client(smm._address, authkey=smm._authkey) as conn:
                return managers.dispatch(conn, None, method, args)
        assert call("list_segments") == [sm.name]
        call("release_segment", sm.name)
        assert call("list_segments") == []
        assert not shm_exists(sm.name)          # released: unlinked
        sm.buf[0] = 1                           # the mapping stays
        sm.close()


def test_the_managers_objects_cross_multiprocessing():
    with ipcshm.SharedMemoryManager() as smm, \
            multiprocessing.get_context("spawn").Pool(1) as pool:
        sm = smm.SharedMemory(100)
        sm.buf[:2] = b"hi"
        assert pool.apply(mp_children.read, (sm, 2)) == (b"hi", False, "SharedMemory")
        sm.close()


def test_a_killed_manager_leaves_nothing_behind():
    smm = ipcshm.SharedMemoryManager()
    smm.start()
    sm = smm.SharedMemory(100)
    name = sm.name
    os.kill(smm._process.pid, signal.SIGKILL)
    smm._process.join(10)
    assert shm_exists(name)                    # its user here still holds it
    sm.close()                                  # the last one
    with pytest.raises(FileNotFoundError):
        ipcshm.SharedMemory(name)
    assert not shm_exists(name)


def test_get_server_as_cpythons():
    smm = ipcshm.SharedMemoryManager()
    server = smm.get_server()
    assert isinstance(server, ipcshm.SharedMemoryServer)
    assert "track_segment" in server.public
    server.listener.close()
    with ipcshm.SharedMemoryManager() as started:
        with pytest.raises(multiprocessing.ProcessError, match="Already started"):
            started.get_server()
