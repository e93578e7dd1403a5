"""SharedMemory in one process: CPython's surface, names, flags, info, errors."""
import errno
import os
import pickle
import stat

import pytest

import ipcshm
from conftest import shm_exists


def test_create_attach_and_cpython_surface(name):
    with ipcshm.SharedMemory(name, create=True, size=1000) as shm:
        assert shm.name == name                    # CPython: no leading '/'
        assert shm.id == "/" + name
        assert shm.size == 1000
        assert shm.created and not shm.readonly and shm.volatile
        assert isinstance(shm.buf, memoryview)
        assert shm.buf.format == "B" and shm.buf.itemsize == 1 and shm.buf.nbytes == 1000
        assert shm.buf.contiguous and not shm.buf.readonly
        assert bytes(shm.buf) == bytes(1000)       # new memory reads as zeros
        shm.buf[:5] = b"hello"
        shm.buf[999] = 255
        with ipcshm.SharedMemory(name) as other:  # attach: size not needed
            assert other.size == 1000 and not other.created
            assert bytes(other.buf[:5]) == b"hello" and other.buf[999] == 255
            other.buf[5] = ord("!")
        assert bytes(shm.buf[:6]) == b"hello!"
        assert repr(shm) == "SharedMemory(%r, size=1000)" % name
    assert shm.buf is None and shm.closed
    assert repr(shm).endswith(", closed)")
    shm.close()                                    # twice is fine


def test_name_with_leading_slash_is_the_same_object(name):
    with ipcshm.SharedMemory("/" + name, create=True, size=10) as a:
        assert a.name == name and a.id == "/" + name
        with ipcshm.SharedMemory(name) as b, ipcshm.SharedMemory("/" + name) as c:
            a.buf[0] = 7
            assert b.buf[0] == 7 and c.buf[0] == 7


def test_unique_name_when_none():
    shm = ipcshm.SharedMemory(create=True, size=64)
    try:
        assert shm.name.startswith("psm_") and len(shm.name) == 12
        assert shm.name[4:] != "XXXXXXXX"
        assert shm_exists(shm.name)
        with ipcshm.SharedMemory(create=True, size=64) as other:
            assert other.name != shm.name
    finally:
        shm.close()
        shm.unlink()


def test_name_none_requires_create():
    with pytest.raises(ValueError, match="only be None if create=True"):
        ipcshm.SharedMemory()


def test_bad_sizes(name):
    with pytest.raises(ValueError, match="positive"):
        ipcshm.SharedMemory(name, create=True, size=0)
    with pytest.raises(ValueError, match="positive"):
        ipcshm.SharedMemory(name, create=True, size=-1)
    with pytest.raises(TypeError):
        ipcshm.SharedMemory(name, create=True, size=1.5)
    with pytest.raises(TypeError):
        ipcshm.SharedMemory(42, create=True, size=1)
    assert not shm_exists(name)


def test_create_only_options_refused_when_attaching(name):
    with ipcshm.SharedMemory(name, create=True, size=10):
        for kw in ({"volatile": False}, {"reserve": True}, {"perms": 0o644}):
            with pytest.raises(ValueError, match="create"):
                ipcshm.SharedMemory(name, **kw)


def test_readonly(name):
    with ipcshm.SharedMemory(name, create=True, size=100) as rw:
        rw.buf[:3] = b"abc"
        with ipcshm.SharedMemory(name, readonly=True) as ro:
            assert ro.readonly and ro.buf.readonly
            assert repr(ro).endswith("readonly=True)")
            with pytest.raises(TypeError, match="read-only"):
                ro.buf[0] = 1
            with pytest.raises(TypeError):
                ro.buf[:3] = b"xyz"
            assert bytes(ro.buf[:3]) == b"abc"
            rw.buf[0] = ord("A")
            assert bytes(ro.buf[:1]) == b"A"       # same memory


def test_create_readonly(name):
    with ipcshm.SharedMemory(name, create=True, size=10, readonly=True) as shm:
        assert shm.buf.readonly and shm.created


def test_volatile_goes_with_last_close(name):
    a = ipcshm.SharedMemory(name, create=True, size=10)
    b = ipcshm.SharedMemory(name)
    assert a.volatile and b.volatile
    a.close()
    assert shm_exists(name)          # b still uses it
    b.close()
    assert not shm_exists(name)
    with pytest.raises(FileNotFoundError):
        ipcshm.SharedMemory(name)


def test_persistent_stays_until_unlink(name):
    with ipcshm.SharedMemory(name, create=True, size=10, volatile=False) as a:
        assert not a.volatile and a.info().persistent
        a.buf[0] = 9
    assert shm_exists(name)
    with ipcshm.SharedMemory(name) as b:
        assert b.buf[0] == 9
        b.unlink()
        assert not shm_exists(name)
        assert b.buf[0] == 9             # the mapping stays valid after unlink
    with pytest.raises(FileNotFoundError):
        b.unlink()                       # a second unlink, as CPython's
    ipcshm.remove(name)                  # already gone: fine, as IPC.jl's shmrm


def test_unlink_a_volatile_object(name):
    with ipcshm.SharedMemory(name, create=True, size=10) as a:
        a.unlink()
        assert not shm_exists(name)
        a.buf[0] = 1


def test_open_or_create(name):
    with ipcshm.SharedMemory(name, open_or_create=True, size=100) as a:
        assert a.created
        a.buf[0] = 5
        with ipcshm.SharedMemory(name, open_or_create=True, size=50) as b:
            assert not b.created and b.size == 100 and b.buf[0] == 5
        with pytest.raises(ValueError, match="fewer than"):
            ipcshm.SharedMemory(name, open_or_create=True, size=200)


def test_open_or_create_of_another_users_object_is_permission_error(name):
    with ipcshm.SharedMemory(name, create=True, size=10, volatile=False, perms=0o666):
        if os.geteuid() != 0:
            pytest.skip("needs root to give the object away")
        os.chown("/dev/shm/" + name, 65534, 65534)
        with pytest.raises(PermissionError) as ei:
            ipcshm.SharedMemory(name, open_or_create=True, size=10)
        assert ei.value.errno == errno.EACCES
        assert "belongs to uid 65534" in str(ei.value)


def test_exists_is_file_exists_error(name):
    with ipcshm.SharedMemory(name, create=True, size=10) as a:
        a.buf[0] = 3
        with pytest.raises(FileExistsError) as ei:
            ipcshm.SharedMemory(name, create=True, size=20)
        assert ei.value.errno == errno.EEXIST
        assert name in ei.value.strerror and "O_EXCL" in ei.value.strerror
        assert a.buf[0] == 3 and ipcshm.info(name).size == 10   # untouched


def test_missing_is_file_not_found_error(name):
    with pytest.raises(FileNotFoundError) as ei:
        ipcshm.SharedMemory(name)
    assert ei.value.errno == errno.ENOENT
    assert ei.value.strerror == 'shm_open("/%s"): No such file or directory' % name
    with pytest.raises(FileNotFoundError):
        ipcshm.info(name)
    ipcshm.remove(name)                  # already gone: no error


@pytest.mark.parametrize("bad, words", [
    ("a/b", "no '/' after the leading one"),
    ("/", "1..255 bytes"),
    ("", "1..255 bytes"),
    ("x" * 256, "1..255 bytes"),
    ("/..", "not names"),
    ("key:zz", "System V key"),
    ("shmid:-1", "System V identifier"),
    ("memfd:", "1..249 bytes"),
])
def test_malformed_ids_are_value_errors_with_the_message(bad, words):
    with pytest.raises(ValueError) as ei:
        ipcshm.SharedMemory(bad, create=True, size=10)
    assert ei.value.errno == errno.EINVAL
    assert words in str(ei.value)


def test_bad_flags_and_perms(name):
    with pytest.raises(ValueError, match="above 0777"):
        ipcshm.SharedMemory(name, create=True, size=10, perms=0o1777)
    with pytest.raises(ValueError):
        ipcshm.SharedMemory(name, create=True, size=10, perms=-1)
    with pytest.raises(ValueError) as ei:
        ipcshm.SharedMemory("private", size=10)      # attach-only path
    assert ei.value.errno == errno.EINVAL


def test_other_errors_are_oserror(name):
    # More than the address space can map: ENOMEM/EFBIG/ENOSPC from the kernel.
    with pytest.raises(OSError) as ei:
        ipcshm.SharedMemory(name, create=True, size=2**62, reserve=True)
    assert ei.value.errno in (errno.ENOMEM, errno.EFBIG, errno.ENOSPC, errno.EINVAL)
    assert name in str(ei.value)
    assert not shm_exists(name)          # a failed create leaves nothing


def test_info_fields_posix(name):
    with ipcshm.SharedMemory(name, create=True, size=12345, perms=0o640) as shm:
        i = shm.info()
        assert isinstance(i, ipcshm.ShmInfo)
        assert i.struct_size == 88
        assert i.kind == ipcshm.IPCSHM_KIND_POSIX
        assert i.size == 12345 and i.nattch == 0
        assert i.mode == 0o640                         # exact, not masked by umask
        st = os.stat("/dev/shm/" + name)
        assert st.st_mode & stat.S_ISVTX               # the volatile mark ...
        assert i.flags == 0 and i.volatile             # ... reported in flags
        assert (i.uid, i.gid) == (st.st_uid, st.st_gid) == (i.cuid, i.cgid)
        assert (i.atime, i.dtime, i.ctime) == (int(st.st_atime), int(st.st_mtime),
                                               int(st.st_ctime))
        assert (i.cpid, i.lpid, i.key, i.shmid) == (-1, -1, 0, -1)
        assert ipcshm.info(name) == i == ipcshm.info("/" + name)
    with pytest.raises(FileNotFoundError):
        shm.info()                                     # closed: by id, and gone


def test_chmod(name):
    with ipcshm.SharedMemory(name, create=True, size=10, perms=0o600) as shm:
        shm.chmod(0o644)
        assert shm.info().mode == 0o644
        ipcshm.chmod(name, 0o000)                      # owner rw is always kept
        assert ipcshm.info(name).mode == 0o600
        assert shm.volatile                            # the mark survives chmod
        with pytest.raises(ValueError):
            shm.chmod(0o4755)
    with pytest.raises(FileNotFoundError):
        ipcshm.chmod(name, 0o600)


def test_prefault_and_locked(name):
    with ipcshm.SharedMemory(name, create=True, size=65536, prefault=True) as shm:
        shm.buf[-1] = 1
    try:
        shm = ipcshm.SharedMemory(name, create=True, size=4096, locked=True)
    except (PermissionError, OSError) as e:     # RLIMIT_MEMLOCK: a clear error
        assert e.errno in (errno.EPERM, errno.ENOMEM, errno.EAGAIN)
        assert not shm_exists(name)
    else:
        shm.close()


def test_reserve(name):
    with ipcshm.SharedMemory(name, create=True, size=1 << 20, reserve=True) as shm:
        assert os.stat("/dev/shm/" + name).st_blocks * 512 >= 1 << 20
        shm.buf[-1] = 1


def test_pickle_reattaches(name):
    with ipcshm.SharedMemory(name, create=True, size=10) as a:
        a.buf[0] = 42
        b = pickle.loads(pickle.dumps(a))
        with b:
            assert b.id == a.id and b.buf[0] == 42 and not b.created
        with ipcshm.SharedMemory(name, readonly=True) as ro:
            c = pickle.loads(pickle.dumps(ro))
            with c:
                assert c.readonly


def test_errors_from_threads_keep_their_own_message(name):
    import threading
    msgs = {}

    def worker(i):
        try:
            ipcshm.SharedMemory("%s-missing-%d" % (name, i))
        except FileNotFoundError as e:
            msgs[i] = e.strerror

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(8):
        assert "%s-missing-%d" % (name, i) in msgs[i]


def test_many_cycles_leave_nothing(name):
    for i in range(200):
        with ipcshm.SharedMemory(name, create=True, size=4096) as s:
            s.buf[0] = i & 0xFF
    assert not shm_exists(name)
