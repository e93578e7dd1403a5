"""System V segments: "private", "key:...", "shmid:N"."""
import os
import textwrap

import pytest

import ipcshm
from conftest import run_python, shmid_exists


def shmid_of(shm):
    assert shm.id.startswith("shmid:")
    return int(shm.id[6:])


def test_private_is_volatile_and_attachable_by_shmid(cleanup):
    shm = ipcshm.SharedMemory("private", create=True, size=1000)
    cleanup.append(shm.id)
    shmid = shmid_of(shm)
    assert shm.name == shm.id                   # System V: the id is the name
    assert shm.size == 1000                     # as the kernel keeps it, not rounded
    assert shm.created and shm.volatile
    shm.buf[:3] = b"abc"
    i = shm.info()
    assert i.kind == ipcshm.IPCSHM_KIND_SYSV and i.shmid == shmid
    assert i.key == 0 and i.nattch == 1 and i.size == 1000
    assert i.cpid == os.getpid() and i.lpid == os.getpid()
    assert (i.uid, i.cuid) == (os.geteuid(), os.geteuid())
    assert i.mode == 0o600 and i.flags == 0
    with ipcshm.SharedMemory(shm.id) as other:  # still attachable by its shmid
        assert bytes(other.buf[:3]) == b"abc" and other.size == 1000
        assert ipcshm.info(shm.id).nattch == 2
    shm.close()
    assert not shmid_exists(shmid)              # gone with the last detach


def test_private_cannot_be_attached():
    with pytest.raises(ValueError) as ei:
        ipcshm.SharedMemory("private")
    assert "private" in str(ei.value) or "create" in str(ei.value).lower()


def test_key_persistent_attach_by_key_and_shmid(key):
    kid = "key:0x%08x" % key
    with ipcshm.SharedMemory(kid, create=True, size=5000, volatile=False,
                             perms=0o640) as shm:
        shmid = shmid_of(shm)
        shm.buf[4999] = 42
        i = shm.info()
        assert i.key == key and i.shmid == shmid and i.persistent and i.mode == 0o640
        assert ipcshm.info("key:%d" % key) == ipcshm.info(kid)
        for ident in (kid, "key:%d" % key, shm.id):
            with ipcshm.SharedMemory(ident) as other:
                assert other.id == shm.id and other.buf[4999] == 42
        with pytest.raises(FileExistsError) as ei:
            ipcshm.SharedMemory(kid, create=True, size=10)
        assert "key:0x%x" % key in str(ei.value)
    assert shmid_exists(shmid)                  # persistent: stays
    with ipcshm.SharedMemory(kid, readonly=True) as ro:
        assert ro.buf[4999] == 42 and ro.buf.readonly
        ro.unlink()                             # IPC_RMID
        assert ro.buf[4999] == 42               # still mapped here
    assert not shmid_exists(shmid)
    ipcshm.remove(kid)                          # gone already: fine


def test_key_volatile_is_gone_by_key_at_once(key):
    with ipcshm.SharedMemory("key:%d" % key, create=True, size=100) as shm:
        assert shm.volatile
        with pytest.raises(FileNotFoundError):  # IPC_RMID: the key no longer names it
            ipcshm.SharedMemory("key:%d" % key)
        with ipcshm.SharedMemory(shm.id) as by_id:
            by_id.buf[0] = 1
        shmid = shmid_of(shm)
    assert not shmid_exists(shmid)


def test_open_or_create_by_key(key):
    kid = "key:%d" % key
    with ipcshm.SharedMemory(kid, open_or_create=True, size=100, volatile=False) as a:
        assert a.created
        with ipcshm.SharedMemory(kid, open_or_create=True, size=100) as b:
            assert not b.created and b.id == a.id
        a.unlink()


def test_chmod_sysv(key):
    kid = "key:%d" % key
    with ipcshm.SharedMemory(kid, create=True, size=100, volatile=False) as shm:
        shm.chmod(0o666)
        assert shm.info().mode == 0o666
        ipcshm.chmod(shm.id, 0o640)
        assert ipcshm.info(kid).mode == 0o640
        shm.unlink()


def test_missing_sysv_ids(key):
    with pytest.raises(FileNotFoundError) as ei:
        ipcshm.SharedMemory("key:%d" % key)
    assert "shmget" in str(ei.value)
    with pytest.raises(FileNotFoundError):
        ipcshm.info("shmid:2147483647")
    ipcshm.remove("shmid:2147483647")           # already gone: fine


def test_other_process_attaches_by_shmid_and_by_key(key):
    with ipcshm.SharedMemory("private", create=True, size=256) as vol, \
            ipcshm.SharedMemory("key:%d" % key, create=True, size=256,
                                volatile=False) as per:
        try:
            r = run_python(textwrap.dedent("""
                import os, sys, ipcshm
                for ident in sys.argv[1:]:
                    with ipcshm.SharedMemory(ident) as s:
                        s.buf[:5] = b"child"
                        print(s.id, s.info().lpid == os.getpid())
                """), vol.id, "key:%d" % key)
            assert r.stdout.splitlines() == ["%s True" % vol.id, "%s True" % per.id]
            assert bytes(vol.buf[:5]) == bytes(per.buf[:5]) == b"child"
            assert per.info().nattch == 1 and vol.info().nattch == 1
        finally:
            per.unlink()
