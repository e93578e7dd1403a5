"""memfd objects, descriptors (fd, from_fd) and passing objects between unrelated
processes (send, recv over UNIX-domain sockets; descriptors inherited by exec)."""
import errno
import fcntl
import gc
import io
import os
import pickle
import socket
import textwrap

import pytest

import ipcshm
from conftest import run_python, shm_exists, start_python, unique_name

F_ADD_SEALS = getattr(fcntl, "F_ADD_SEALS", 1033)
F_GET_SEALS = getattr(fcntl, "F_GET_SEALS", 1034)
F_SEAL_GROW = getattr(fcntl, "F_SEAL_GROW", 0x0004)
F_SEAL_SHRINK = getattr(fcntl, "F_SEAL_SHRINK", 0x0002)


def memfd_label(tag):
    # No name in the system, so nothing to clean up; unique all the same, for
    # readers of /proc/PID/fd.
    return "memfd:" + unique_name(tag)[:200]


def open_fds():
    return set(os.listdir("/proc/self/fd"))


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    with a, b:
        yield a, b


# --- memfd and descriptors in one process -----------------------------------------

def test_memfd_create_template_and_surface():
    with ipcshm.SharedMemory("memfd:pyt-XXXXXX", create=True, size=5000) as shm:
        assert shm.id.startswith("memfd:pyt-") and shm.name == shm.id
        assert len(shm.id) == len("memfd:pyt-XXXXXX")
        assert not shm.id.endswith("XXXXXX")          # the template was filled
        assert shm.size == 5000 and shm.created and shm.volatile
        assert bytes(shm.buf) == bytes(5000)
        i = shm.info()
        assert i.kind == ipcshm.IPCSHM_KIND_MEMFD and i.size == 5000 and i.mode == 0o600
        assert not i.hugepages and not i.persistent
        with ipcshm.SharedMemory("memfd:pyt-XXXXXX", create=True, size=10) as other:
            assert other.id != shm.id
        fd = shm.fd()
        try:
            assert os.readlink("/proc/self/fd/%d" % fd).startswith("/" + shm.id)
            assert fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC
            # sealed against shrinking from its creation
            assert fcntl.fcntl(fd, F_GET_SEALS) & F_SEAL_SHRINK
        finally:
            os.close(fd)


def test_memfd_create_only_and_nameless():
    label = memfd_label("nameless")
    with ipcshm.SharedMemory(label, create=True, size=10) as shm:
        with pytest.raises(ValueError, match="no name") as ei:
            ipcshm.SharedMemory(label)                   # attach by id: impossible
        assert ei.value.errno == errno.EINVAL
        with pytest.raises(ValueError):
            ipcshm.info(label)
        shm.unlink()                                     # no name: nothing to remove
        with pytest.raises(TypeError, match="memfd"):
            pickle.dumps(shm)                            # cannot travel by id
    for kw in ({"volatile": False}, {"open_or_create": True}):
        with pytest.raises(ValueError):
            ipcshm.SharedMemory(label, create=True, size=10, **kw)


def test_fd_round_trip_with_from_fd():
    before = open_fds()
    with ipcshm.SharedMemory(memfd_label("rt"), create=True, size=100) as shm:
        shm.buf[:3] = b"abc"
        fd = shm.fd()
        with ipcshm.SharedMemory.from_fd(fd) as again:
            assert again.id == shm.id and again.size == 100 and not again.created
            assert bytes(again.buf[:3]) == b"abc"
            again.buf[3] = ord("d")
        assert fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDWR  # unchanged
        os.close(fd)                                     # the caller's to close
        assert bytes(shm.buf[:4]) == b"abcd"
    gc.collect()
    assert open_fds() == before                          # nothing leaked


def test_from_fd_of_a_posix_object_keeps_it_alive(name):
    shm = ipcshm.SharedMemory(name, create=True, size=64)
    shm.buf[0] = 9
    fd = shm.fd()
    try:
        peer = ipcshm.SharedMemory.from_fd(fd)
        assert peer.id == "/" + name
        shm.close()                       # the creator leaves: peer is a user of its own
        assert shm_exists(name)
        assert peer.buf[0] == 9
        peer.close()
        assert not shm_exists(name)       # volatile: gone with its last user
    finally:
        os.close(fd)


def test_read_only_descriptors(name):
    with ipcshm.SharedMemory(name, create=True, size=64) as shm, \
            ipcshm.SharedMemory(name, readonly=True) as ro:
        shm.buf[0] = 5
        fd = ro.fd()
        try:
            assert fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY
            with pytest.raises(PermissionError, match="IPCSHM_READONLY"):
                ipcshm.SharedMemory.from_fd(fd)
            with ipcshm.SharedMemory.from_fd(fd, readonly=True) as peer:
                assert peer.readonly and peer.buf[0] == 5
        finally:
            os.close(fd)


def test_from_fd_refuses_what_is_not_shared_memory(tmp_path, pair):
    with open(tmp_path / "f", "wb+") as f:
        f.write(b"x" * 100)
        f.flush()
        with pytest.raises(ValueError) as ei:
            ipcshm.SharedMemory.from_fd(f)               # fileno() is taken
        assert ei.value.errno == errno.EINVAL
    with pytest.raises(ValueError, match="socket"):
        ipcshm.SharedMemory.from_fd(pair[0].fileno())
    with pytest.raises(OSError) as ei:
        ipcshm.SharedMemory.from_fd(-1)
    assert ei.value.errno == errno.EBADF
    with pytest.raises(TypeError):
        ipcshm.SharedMemory.from_fd("3")


def test_system_v_has_no_descriptor(pair):
    with ipcshm.SharedMemory("private", create=True, size=100) as seg:
        with pytest.raises(io.UnsupportedOperation) as ei:
            seg.fd()
        assert isinstance(ei.value, OSError) and ei.value.errno == errno.EOPNOTSUPP
        assert "pass its id" in str(ei.value)
        with pytest.raises(io.UnsupportedOperation):
            seg.send(pair[0])


def test_closed_mapping_has_no_descriptor(pair):
    shm = ipcshm.SharedMemory(memfd_label("closed"), create=True, size=10)
    shm.close()
    for call in (shm.fd, lambda: shm.send(pair[0]), lambda: shm.resize(20)):
        with pytest.raises(ValueError, match="closed"):
            call()


def test_send_recv_in_one_process(pair):
    a, b = pair
    with ipcshm.SharedMemory(memfd_label("sr"), create=True, size=100) as shm:
        shm.buf[:2] = b"hi"
        shm.send(a)                      # a socket.socket ...
        shm.send(a.fileno())             # ... or a descriptor
        with ipcshm.SharedMemory.recv(b) as r1, \
                ipcshm.SharedMemory.recv(b.fileno(), readonly=True) as r2:
            assert r1.id == r2.id == shm.id
            assert bytes(r1.buf[:2]) == bytes(r2.buf[:2]) == b"hi"
            assert r2.readonly and r2.buf.readonly
            r1.buf[0] = ord("H")
            assert bytes(shm.buf[:2]) == b"Hi"


def test_recv_errors(pair):
    a, b = pair
    b.settimeout(0.05)
    with pytest.raises(TimeoutError):
        ipcshm.SharedMemory.recv(b)
    b.settimeout(0)
    with pytest.raises(BlockingIOError):
        ipcshm.SharedMemory.recv(b)
    b.settimeout(None)
    a.sendall(b"not ipcshm_send!")     # 16 bytes, as its message, but no descriptor
    with pytest.raises(ValueError, match="not from ipcshm_send") as ei:
        ipcshm.SharedMemory.recv(b)
    assert ei.value.errno == errno.EBADMSG
    a.close()
    with pytest.raises(ConnectionResetError, match="closed"):
        ipcshm.SharedMemory.recv(b)


def test_hugepages_is_a_create_option(name):
    with pytest.raises(ValueError, match="hugepages"):
        ipcshm.SharedMemory(name, hugepages=True)
    for ident in (name, memfd_label("huge")):
        try:
            shm = ipcshm.SharedMemory(ident, create=True, size=4096, hugepages=True)
        except OSError as e:             # no huge pages here: a clear error
            assert e.errno in (errno.ENOMEM, errno.EOPNOTSUPP), e
            assert "huge" in str(e)
            assert not shm_exists(name)
        else:
            with shm:
                assert shm.size >= 4096
                shm.buf[-1] = 1
                if ident.startswith("memfd:"):
                    assert shm.info().hugepages


# --- between unrelated processes ---------------------------------------------------

RECEIVER = textwrap.dedent("""
    import socket, sys, ipcshm
    sock = socket.socket(fileno=int(sys.argv[1]))
    with ipcshm.SharedMemory.recv(sock) as shm:
        print(shm.id, shm.size, bytes(shm.buf[:5]).decode(), flush=True)
        shm.buf[5:11] = b" child"
    sock.sendall(b"k")
    """)


def test_child_receives_over_a_socketpair_and_writes_back(pair):
    ours, theirs = pair
    with ipcshm.SharedMemory(memfd_label("pair"), create=True, size=4096) as shm:
        shm.buf[:5] = b"hello"
        with start_python(RECEIVER, theirs.fileno(), pass_fds=[theirs.fileno()]) as child:
            theirs.close()
            shm.send(ours)
            assert child.stdout.readline() == "%s 4096 hello\n" % shm.id
            assert ours.recv(1) == b"k"
            assert child.wait(10) == 0
        assert bytes(shm.buf[:11]) == b"hello child"


def test_child_receives_over_a_named_unix_socket(tmp_path):
    path = str(tmp_path / "ipcshm.sock")
    code = textwrap.dedent("""
        import socket, sys, ipcshm
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(sys.argv[1])
            shm = ipcshm.SharedMemory.recv(sock)
            shm.buf[:] = bytes(b ^ 0xFF for b in shm.buf)   # writes back
            shm.close()
            sock.sendall(b"k")
        """)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server, \
            ipcshm.SharedMemory(memfd_label("named"), create=True, size=256) as shm:
        server.bind(path)
        server.listen(1)
        server.settimeout(20)
        shm.buf[:] = bytes(range(256))
        with start_python(code, path) as child:
            conn, _ = server.accept()
            with conn:
                shm.send(conn)
                conn.settimeout(20)
                assert conn.recv(1) == b"k"
            assert child.wait(10) == 0, child.stderr.read()
        assert bytes(shm.buf) == bytes(255 - i for i in range(256))


def test_child_maps_an_inherited_descriptor(name):
    # Across exec: pass_fds keeps the descriptor open in the new program.
    code = textwrap.dedent("""
        import os, sys, ipcshm
        fd = int(sys.argv[1])
        with ipcshm.SharedMemory.from_fd(fd) as shm:
            os.close(fd)
            print(shm.id, bytes(shm.buf[:3]).decode())
            shm.buf[3:6] = b"DEF"
        """)
    for ident in (memfd_label("inherit"), name):
        with ipcshm.SharedMemory(ident, create=True, size=10) as shm:
            shm.buf[:3] = b"abc"
            fd = shm.fd()
            try:
                r = run_python(code, fd, pass_fds=[fd])
            finally:
                os.close(fd)
            assert r.stdout == "%s abc\n" % shm.id
            assert bytes(shm.buf[:6]) == b"abcDEF"


def test_memfd_lives_while_the_receiver_uses_it(pair):
    ours, theirs = pair
    code = textwrap.dedent("""
        import socket, sys, ipcshm
        sock = socket.socket(fileno=int(sys.argv[1]))
        shm = ipcshm.SharedMemory.recv(sock)
        print("got", flush=True)
        sys.stdin.readline()              # the sender has closed its mapping
        print(bytes(shm.buf[:4]).decode(), flush=True)
        """)
    shm = ipcshm.SharedMemory(memfd_label("lives"), create=True, size=10)
    shm.buf[:4] = b"kept"
    with start_python(code, theirs.fileno(), pass_fds=[theirs.fileno()]) as child:
        shm.send(ours)
        assert child.stdout.readline() == "got\n"
        shm.close()
        gc.collect()
        child.stdin.write("go\n")
        assert child.stdout.readline() == "kept\n"
        assert child.wait(10) == 0


def test_sealed_memfd_cannot_grow_in_the_receiver(pair):
    ours, theirs = pair
    code = textwrap.dedent("""
        import socket, sys, ipcshm
        sock = socket.socket(fileno=int(sys.argv[1]))
        shm = ipcshm.SharedMemory.recv(sock)
        for size in (shm.size * 2, shm.size // 2):
            try:
                shm.resize(size)
            except PermissionError as e:
                print("PermissionError", e.errno, flush=True)
        print(shm.size, bytes(shm.buf[:6]).decode(), flush=True)
        shm.close()
        """)
    with ipcshm.SharedMemory(memfd_label("sealed"), create=True, size=8192) as shm:
        shm.buf[:6] = b"sealed"
        fd = shm.fd()
        try:
            fcntl.fcntl(fd, F_ADD_SEALS, F_SEAL_GROW)
            assert fcntl.fcntl(fd, F_GET_SEALS) & F_SEAL_GROW
        finally:
            os.close(fd)
        shm.send(ours)
        r = run_python(code, theirs.fileno(), pass_fds=[theirs.fileno()])
        assert r.stdout.splitlines() == ["PermissionError %d" % errno.EPERM] * 2 + [
            "8192 sealed"]
        with pytest.raises(PermissionError, match="sealed"):
            shm.resize(16384)            # the sender too
        assert shm.size == 8192 and bytes(shm.buf[:6]) == b"sealed"


# --- memfds from elsewhere, not sealed against shrinking (IPCSHM_UNSEALED) --------

def raw_memfd(size, data=b""):
    """A memfd made without the library: not sealed against shrinking."""
    fd = os.memfd_create("unsealed-py", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, size)
    os.pwrite(fd, data, 0)
    return fd


def test_an_unsealed_memfd_is_refused_unless_accepted():
    fd = raw_memfd(4096, b"raw")
    try:
        with pytest.raises(PermissionError, match="not sealed against shrinking") as ei:
            ipcshm.SharedMemory.from_fd(fd)
        assert ei.value.errno == errno.EPERM
        with ipcshm.SharedMemory.from_fd(fd, unsealed=True) as shm:
            assert bytes(shm.buf[:3]) == b"raw" and shm.size == 4096
        fcntl.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK)      # sealed now: no need
        with ipcshm.SharedMemory.from_fd(fd, readonly=False) as shm:
            assert bytes(shm.buf[:3]) == b"raw"
    finally:
        os.close(fd)
    assert ipcshm.IPCSHM_UNSEALED == 1 << 7


def test_recv_of_an_unsealed_memfd_needs_unsealed_too(pair):
    ours, theirs = pair
    fd = raw_memfd(8192, b"forwarded")
    try:
        with ipcshm.SharedMemory.from_fd(fd, unsealed=True) as shm:
            shm.send(ours)                  # the object is still unsealed
            with pytest.raises(PermissionError, match="not sealed"):
                ipcshm.SharedMemory.recv(theirs)
            shm.send(ours)                  # the refused one was consumed
            with ipcshm.SharedMemory.recv(theirs, unsealed=True) as got:
                assert bytes(got.buf[:9]) == b"forwarded"
    finally:
        os.close(fd)


def test_the_risk_of_unsealed_a_holder_truncates_and_the_reader_faults():
    # What unsealed=True accepts: another holder of the descriptor shrinks the
    # object under the mapping, and touching the memory past the new end kills
    # the process (SIGBUS). Hence the refusal by default.
    import signal
    r = run_python(textwrap.dedent("""
        import os, resource, ipcshm
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        fd = os.memfd_create("victim", os.MFD_CLOEXEC)
        os.ftruncate(fd, 8192)
        shm = ipcshm.SharedMemory.from_fd(fd, unsealed=True)
        shm.buf[4096] = 1
        os.ftruncate(fd, 100)               # any holder of fd may do this
        print("truncated", flush=True)
        shm.buf[4096] = 2
        print("survived", flush=True)
        """), check=False)
    assert r.returncode == -signal.SIGBUS, (r.returncode, r.stderr)
    assert r.stdout == "truncated\n"
