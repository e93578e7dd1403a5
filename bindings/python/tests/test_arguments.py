"""Arguments are refused, never truncated on their way to C: an embedded NUL is
ValueError("embedded null byte") (the C string would end there and name another
object), an integer that does not fit its C type is OverflowError (ctypes would
keep its low bits), and ftok's proj is range-checked, as CPython refuses them."""
import os
import socket

import pytest

import ipcshm
from conftest import shm_exists, unique_name

NUL = "embedded null byte"


def test_a_nul_in_an_id_acts_on_nothing(name, cleanup):
    victim = ipcshm.SharedMemory(name, create=True, size=100, volatile=False)
    victim.close()
    for spelling in ("/%s\0x" % name, "%s\0" % name, ("/%s\0x" % name).encode()):
        with pytest.raises(ValueError, match=NUL):
            ipcshm.remove(spelling)
        assert shm_exists(name), "the prefix before the NUL was removed"
        with pytest.raises(ValueError, match=NUL):
            ipcshm.chmod(spelling, 0o666)
        assert ipcshm.info(name).mode == 0o600
        with pytest.raises(ValueError, match=NUL):
            ipcshm.info(spelling)
        with pytest.raises(ValueError, match=NUL):
            ipcshm.SharedMemory(spelling)                   # would attach the prefix
        with pytest.raises(ValueError, match=NUL):
            ipcshm.SharedMemory(spelling, readonly=True)
        with pytest.raises(ValueError, match=NUL):
            ipcshm.SharedMemory(spelling, open_or_create=True, size=100)
    other = unique_name("nul-create")
    cleanup.append("/" + other)
    with pytest.raises(ValueError, match=NUL):
        ipcshm.SharedMemory(other + "\0suffix", create=True, size=100)
    assert not shm_exists(other), "created under the prefix"
    for ident in ("key:1\0", "memfd:a\0b", "private\0"):
        with pytest.raises(ValueError, match=NUL):
            ipcshm.SharedMemory(ident, create=True, size=100)


def test_a_nul_in_an_array_id(name):
    np = pytest.importorskip("numpy")
    with pytest.raises(ValueError, match=NUL):
        ipcshm.array(name + "\0x", np.float64, (2,), create=True)
    assert not shm_exists(name)
    with pytest.raises(ValueError, match=NUL):
        ipcshm.SharedMemory.create_array(name + "\0x", "f8", 2)
    assert not shm_exists(name)


def test_sizes_past_64_bits_overflow(name):
    for size in (2**64 + 4096, 2**64, 2**100):
        with pytest.raises(OverflowError):
            ipcshm.SharedMemory(name, create=True, size=size)   # was: 4096 bytes
        assert not shm_exists(name)
        with pytest.raises(OverflowError):
            ipcshm.SharedMemory(name, open_or_create=True, size=size)
        assert not shm_exists(name)
    with ipcshm.SharedMemory(name, create=True, size=100) as shm:
        for size in (2**64 + 200, 2**64):
            with pytest.raises(OverflowError):
                shm.resize(size)                               # was: 200 bytes
        assert shm.size == 100 == ipcshm.info(name).size
        with pytest.raises(ValueError):
            shm.resize(0)
        with pytest.raises(ValueError):
            shm.resize(-1)
    with pytest.raises(ValueError):
        ipcshm.SharedMemory(name, create=True, size=-1)


def test_dimensions_past_64_bits_overflow(name):
    pytest.importorskip("numpy")
    for shape in ((2**63,), (3, 2**64 + 2), (-2**63 - 1,)):
        with pytest.raises(OverflowError):
            ipcshm.SharedMemory.create_array(name, "f8", shape)
        assert not shm_exists(name)


def test_descriptors_past_c_int_overflow(name):
    with ipcshm.SharedMemory(name, create=True, size=100) as shm:
        fd = shm.fd()
        try:
            for bad in (2**32 + fd, 2**64 + fd, -2**32 + fd):
                with pytest.raises(OverflowError):
                    ipcshm.SharedMemory.from_fd(bad)            # was: fd itself
        finally:
            os.close(fd)
        a, b = socket.socketpair()
        with a, b:
            with pytest.raises(OverflowError):
                shm.send(2**32 + a.fileno())
            a.setblocking(False)
            b.setblocking(False)
            with pytest.raises(OverflowError):
                ipcshm.SharedMemory.recv(2**32 + b.fileno())
            shm.send(a)                                          # nothing was sent
            with pytest.raises(BlockingIOError):
                a.recv(1)


def test_ftok_checks_its_arguments(tmp_path):
    path = tmp_path / "key-file"
    path.write_bytes(b"")
    key = ipcshm.ftok(path, 1)                  # os.PathLike, as os functions take
    assert key == ipcshm.ftok(str(path), 1) == ipcshm.ftok(os.fsencode(path), 1)
    for proj in (0, 256, 2**32 + 1, -1, 2**64 + 1):
        with pytest.raises(ValueError, match="1..255"):
            ipcshm.ftok(path, proj)                             # 2**32 + 1 was 1
    with pytest.raises(TypeError):
        ipcshm.ftok(path, 1.5)
    with pytest.raises(ValueError, match=NUL):
        ipcshm.ftok(str(path) + "\0x", 1)
    with pytest.raises(FileNotFoundError):
        ipcshm.ftok(tmp_path / "missing", 1)


def test_perms_past_32_bits_are_refused(name):
    for perms in (2**32 + 0o600, 2**64):
        with pytest.raises((OverflowError, ValueError)):
            ipcshm.SharedMemory(name, create=True, size=100, perms=perms)
        assert not shm_exists(name)
    with ipcshm.SharedMemory(name, create=True, size=100):
        with pytest.raises((OverflowError, ValueError)):
            ipcshm.chmod(name, 2**32 + 0o644)
        assert ipcshm.info(name).mode == 0o600
