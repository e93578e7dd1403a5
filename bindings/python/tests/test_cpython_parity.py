"""ipcshm.SharedMemory against CPython's multiprocessing.shared_memory.SharedMemory
in the same test: the same inputs raise the same exceptions, except where
ipcshm's semantics differ on purpose (each such row says why, and
bindings/python/docs/dropin.md lists them as "Differences from CPython")."""
import errno
import gc
import os
import secrets
from multiprocessing import resource_tracker
from multiprocessing import shared_memory as cpython

import pytest

import ipcshm
from conftest import run_python, shm_exists

TAG = "pyipcshm-%d-parity-%s-" % (os.getpid(), secrets.token_hex(3))


def outcome(cls, kwargs):
    """("ok", None) or (exception type, errno) of cls(**kwargs); what it made
    is closed and unlinked."""
    try:
        shm = cls(**kwargs)
    except Exception as e:          # noqa: BLE001 - the exception is the result
        name = kwargs.get("name")
        if isinstance(name, str) and name.startswith(TAG):
            # CPython 3.11 creates the object before its size fails (a float,
            # 10**20 are TypeError and OverflowError from ftruncate), and
            # leaves it behind.
            ipcshm.remove(name)
        return type(e), getattr(e, "errno", None)
    shm.close()
    shm.unlink()
    return "ok", None


def same(label, **kwargs):
    return pytest.param(kwargs, None, id=label)


def differs(label, cpython_result, ours_result, **kwargs):
    return pytest.param(kwargs, (cpython_result, ours_result), id=label)


# CPython's results are those of 3.11 on Linux (glibc's shm_open); each row
# runs both classes. "same" rows: ipcshm's exception is CPython's class or a
# subclass of it, with the same errno.
TABLE = [
    same("name None, attach", name=None),
    same("size 0, create", name=TAG + "z", create=True, size=0),
    same("size -1, create", name=TAG + "n", create=True, size=-1),
    same("size -1, attach", name=TAG + "n", size=-1),
    same("size 1.5", name=TAG + "f", create=True, size=1.5),
    same("size '10'", name=TAG + "s", create=True, size="10"),
    same("size 10**20", name=TAG + "o", create=True, size=10**20),
    same("size 2**62", name=TAG + "big", create=True, size=2**62),
    same("missing name", name=TAG + "missing"),
    same("name a/b, attach", name="a/b"),
    same("name a/b, create", name="a/b", create=True, size=10),
    same("empty name, attach", name=""),
    same("empty name, create", name="", create=True, size=10),
    same("name '/'", name="/"),
    same("name '.'", name="."),
    same("name of 300 bytes", name="x" * 300),
    same("name of 255 bytes, create", name="p" * 240 + TAG[-15:], create=True, size=10),
    same("name 42", name=42),
    same("size given when attaching is ignored", name=TAG + "missing", size=10),
    # A NUL ends the name in C: CPython looks up "/a" (and would create it).
    differs("name with NUL", (FileNotFoundError, errno.ENOENT), (ValueError, None),
            name="a\0b"),
    # "/.." is /dev/shm/..: CPython's exclusive create finds /dev there.
    differs("name '..', create", (FileExistsError, errno.EEXIST),
            (ipcshm.InvalidArgumentError, errno.EINVAL), name="..", create=True, size=10),
    # ipcshm ids: "private", "key:N", "shmid:N", "memfd:label" are not POSIX
    # names ("/private" is).
    differs("name 'private', attach", (FileNotFoundError, errno.ENOENT),
            (ipcshm.InvalidArgumentError, errno.EINVAL), name="private"),
    # ipcshm takes bytes too (os.fsencode's).
    differs("name as bytes", (TypeError, None), (FileNotFoundError, errno.ENOENT),
            name=(TAG + "bytes").encode()),
]


@pytest.mark.parametrize("kwargs, expected", TABLE)
def test_same_inputs_same_exceptions(kwargs, expected):
    theirs = outcome(cpython.SharedMemory, kwargs)
    ours = outcome(ipcshm.SharedMemory, kwargs)
    if expected is not None:
        assert (theirs, ours) == expected, (theirs, ours)
    elif theirs[0] == "ok":
        assert ours == theirs
    else:
        assert isinstance(ours[0], type) and issubclass(ours[0], theirs[0]), (theirs, ours)
        assert ours[1] == theirs[1], (theirs, ours)


def test_existing_name_with_create_is_file_exists_error_for_both():
    name = TAG + "exists"
    for cls in (cpython.SharedMemory, ipcshm.SharedMemory):
        first = cls(name, create=True, size=10)
        try:
            with pytest.raises(FileExistsError) as ei:
                cls(name, create=True, size=10)
            assert ei.value.errno == errno.EEXIST
        finally:
            first.close()
            first.unlink()


def test_second_unlink_is_file_not_found_error_for_both():
    for cls in (cpython.SharedMemory, ipcshm.SharedMemory):
        shm = cls(TAG + "twice", create=True, size=10)
        shm.close()
        shm.unlink()
        with pytest.raises(FileNotFoundError) as ei:
            shm.unlink()
        assert ei.value.errno == errno.ENOENT
        shm.close()                              # closing twice: fine for both
        assert shm.buf is None


def test_unlink_of_a_name_removed_elsewhere():
    # CPython: FileNotFoundError. ipcshm: fine the first time, since a volatile
    # object goes by itself when its last user closes it (here the name is
    # removed by another unlink; ipcshm cannot tell the two apart).
    results = []
    for cls in (cpython.SharedMemory, ipcshm.SharedMemory):
        a = cls(TAG + "elsewhere", create=True, size=10)
        b = cls(TAG + "elsewhere")
        a.unlink()
        try:
            b.unlink()
        except FileNotFoundError:
            results.append("FileNotFoundError")
        else:
            results.append("ok")
        a.close()
        b.close()
    assert results == ["FileNotFoundError", "ok"]


def test_close_then_unlink_works_for_both():
    # CPython's usage: close() then unlink(). ipcshm's volatile object is gone
    # with its last user's close(), and unlink() is still fine.
    for cls in (cpython.SharedMemory, ipcshm.SharedMemory):
        shm = cls(create=True, size=100)
        shm.buf[0] = 1
        name = shm.name
        shm.close()
        shm.unlink()
        assert not shm_exists(name)


def test_close_with_a_live_view_is_buffer_error_for_both():
    for cls in (cpython.SharedMemory, ipcshm.SharedMemory):
        shm = cls(create=True, size=100)
        view = shm.buf[1:3]
        with pytest.raises(BufferError):
            shm.close()
        del view
        gc.collect()
        shm.close()
        shm.unlink()


def test_attach_reports_the_real_size_for_both():
    for cls in (cpython.SharedMemory, ipcshm.SharedMemory):
        shm = cls(TAG + "size", create=True, size=5000)
        try:
            with cls(TAG + "size", size=10) if cls is ipcshm.SharedMemory else \
                    _untracked(cls(TAG + "size", size=10)) as other:
                assert other.size == 5000
        finally:
            shm.close()
            shm.unlink()


class _untracked:
    """CPython 3.11 registers attached objects with its resource tracker, which
    unlinks them at exit: undo that for an object that this test unlinks."""

    def __init__(self, shm):
        self.shm = shm
        resource_tracker.unregister(shm._name, "shared_memory")

    def __enter__(self):
        return self.shm

    def __exit__(self, *exc):
        self.shm.close()


def test_pickles_of_both_attach_by_name():
    import pickle
    for cls in (cpython.SharedMemory, ipcshm.SharedMemory):
        shm = cls(create=True, size=10)
        shm.buf[0] = 42
        again = pickle.loads(pickle.dumps(shm))
        if cls is cpython.SharedMemory:
            resource_tracker.unregister(again._name, "shared_memory")
        assert again.name == shm.name and again.buf[0] == 42
        again.close()
        shm.close()
        shm.unlink()


def test_another_users_object_is_permission_error_for_both():
    if os.geteuid() != 0:
        pytest.skip("needs root to run a child as nobody")
    name = TAG + "perm"
    with ipcshm.SharedMemory(name, create=True, size=10, perms=0o600):
        r = run_python(
            "import sys, ipcshm\n"
            "from multiprocessing import shared_memory\n"
            "for cls in (shared_memory.SharedMemory, ipcshm.SharedMemory):\n"
            "    try:\n"
            "        cls(sys.argv[1])\n"
            "    except Exception as e:\n"
            "        print(type(e).__name__, e.errno)\n", name, user=65534, group=65534)
        assert r.stdout.splitlines() == ["PermissionError 13"] * 2


# track (CPython 3.13): accepted, and what it means here.

def test_track_false_makes_a_created_object_persistent(cleanup):
    shm = ipcshm.SharedMemory(TAG + "untracked", create=True, size=10, track=False)
    cleanup.append(shm.id)
    assert not shm.volatile
    shm.close()
    assert shm_exists(TAG + "untracked")          # outlives its users, as 3.13's
    with ipcshm.SharedMemory(TAG + "untracked", track=False) as again:   # attach: no effect
        again.unlink()


def test_track_true_is_the_volatile_default_and_volatile_decides():
    with ipcshm.SharedMemory(create=True, size=10, track=True) as shm:
        assert shm.volatile
    with ipcshm.SharedMemory(create=True, size=10, track=False, volatile=True) as shm:
        assert shm.volatile
    shm = ipcshm.SharedMemory(create=True, size=10, track=True, volatile=False)
    assert not shm.volatile
    shm.close()
    shm.unlink()


def test_the_signature_takes_cpythons_arguments_by_name():
    # SharedMemory(name=None, create=False, size=0, *, track=True), 3.13's.
    shm = ipcshm.SharedMemory(name=None, create=True, size=64, track=True)
    with pytest.raises(TypeError):
        ipcshm.SharedMemory(None, True, 64, True)      # track is keyword-only
    shm.close()
