"""SharedMemory across multiprocessing (ipcshm/_multiprocessing.py): objects
passed as arguments or results, through queues, pipes, pools and
ProcessPoolExecutor, with the spawn, fork and forkserver start methods, arrive
attached, volatile and memfd ones included; or pickling fails with an error
that says what to do."""
import concurrent.futures
import gc
import multiprocessing
import os
import pickle
import signal
import textwrap

import pytest

import ipcshm
import mp_children
from conftest import run_python, shm_exists, shmid_exists, unique_name

METHODS = ["fork", "spawn", "forkserver"]
KINDS = ["posix", "sysv", "memfd", "persistent"]


@pytest.fixture(scope="module", params=METHODS)
def executor(request):
    ctx = multiprocessing.get_context(request.param)
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as ex:
        ex.submit(os.getpid).result()        # started
        yield ex


def gone(shm_id):
    if shm_id.startswith("shmid:"):
        return not shmid_exists(int(shm_id[6:]))
    if shm_id.startswith("/"):
        return not shm_exists(shm_id)
    return True


@pytest.mark.parametrize("kind", KINDS)
def test_a_pool_worker_creates_and_returns_an_object(executor, kind, cleanup):
    # The worker's own SharedMemory is dropped as soon as it is sent; CPython's
    # would be gone with it (BrokenProcessPool): here it arrives attached.
    name = unique_name("ppe-" + kind)
    cleanup.append("/" + name)
    shm = executor.submit(mp_children.make, kind, name, 4096, b"from worker").result()
    try:
        assert isinstance(shm, ipcshm.SharedMemory) and not shm.closed
        assert bytes(shm.buf[:11]) == b"from worker" and shm.size >= 4096
        shm.buf[0] = ord("F")
        # and back: the worker gets it attached, writes, returns it again
        again = executor.submit(mp_children.write_and_return, shm, 11, b"!").result()
        assert bytes(again.buf[:12]) == b"From worker!"
        again.close()
        gc.collect()
        ident = shm.id
        assert ident.startswith("memfd:") or not gone(ident)
    finally:
        shm.close()
    if kind == "persistent":
        assert not gone(ident)
        ipcshm.remove(ident)
    else:
        assert gone(ident), "volatile: gone with its last user, the parent"


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", ["posix", "sysv", "memfd"])
def test_pool_arguments_and_results(method, kind, cleanup):
    name = unique_name("pool-" + kind)
    cleanup.append("/" + name)
    ctx = multiprocessing.get_context(method)
    shm = mp_children.make(kind, name, 4096, b"parent")
    with shm, ctx.Pool(1) as pool:
        data, readonly, cls = pool.apply(mp_children.read, (shm, 6))
        assert (data, readonly, cls) == (b"parent", False, "SharedMemory")
        back = pool.apply(mp_children.write_and_return, (shm, 0, b"PA"))
        with back:
            assert bytes(back.buf[:6]) == b"PArent" == bytes(shm.buf[:6])


@pytest.mark.parametrize("method", METHODS)
def test_process_arguments_with_every_start_method(method, cleanup):
    name = unique_name("proc-" + method)
    cleanup.append("/" + name)
    ctx = multiprocessing.get_context(method)
    objects = [mp_children.make(k, name, 4096, b"x") for k in ("posix", "sysv", "memfd")]
    try:
        p = ctx.Process(target=mp_children.write_all, args=(objects,))
        p.start()
        for shm in objects:
            shm.close()          # the child holds them (or its handover does)
        p.join(60)
        assert p.exitcode == 0
    finally:
        for shm in objects:
            shm.close()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", ["posix", "sysv", "memfd"])
def test_a_queue_from_a_process_that_exits_at_once(method, kind, cleanup):
    # The producer puts a volatile object and returns: its exit waits for the
    # receiver (EXIT_WAIT), which then holds the object.
    name = unique_name("q-" + kind)
    cleanup.append("/" + name)
    ctx = multiprocessing.get_context(method)
    q = ctx.Queue()
    p = ctx.Process(target=mp_children.put_and_exit, args=(q, kind, name, b"queued"))
    p.start()
    shm = q.get(timeout=60)
    p.join(60)
    assert p.exitcode == 0
    with shm:
        assert bytes(shm.buf[:6]) == b"queued"
        ident = shm.id
    assert gone(ident)


@pytest.mark.parametrize("kind", ["posix", "sysv", "memfd"])
def test_a_pipe_both_ways(kind, cleanup):
    name = unique_name("pipe-" + kind)
    cleanup.append("/" + name)
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    p = ctx.Process(target=mp_children.send_over, args=(theirs, kind, name, b"piped"))
    p.start()
    got = ours.recv()
    with got:
        assert bytes(got.buf[:5]) == b"piped"
        got.buf[:5] = b"PIPED"
        ours.send(got)
        assert ours.recv() == b"PIPED"
    p.join(60)
    assert p.exitcode == 0


def test_subclasses_and_read_only_mappings_arrive_as_they_left(name):
    ctx = multiprocessing.get_context("spawn")
    with mp_children.Tagged(name, create=True, size=100) as shm, ctx.Pool(1) as pool:
        shm.buf[:3] = b"sub"
        assert pool.apply(mp_children.read, (shm, 3)) == (b"sub", False, "Tagged")
        with ipcshm.SharedMemory(name, readonly=True) as ro:
            assert pool.apply(mp_children.read, (ro, 3)) == (b"sub", True, "SharedMemory")


def test_plain_pickle_is_unchanged(name):
    # Outside multiprocessing: by id (the receiver attaches), memfd refused.
    with ipcshm.SharedMemory(name, create=True, size=10) as shm:
        fn, args = shm.__reduce__()
        assert fn is ipcshm._reattach and args == (shm.id, False)
        with pickle.loads(pickle.dumps(shm)) as again:
            assert again.id == shm.id
    with ipcshm.SharedMemory("memfd:plain-XXXXXX", create=True, size=10) as shm:
        with pytest.raises(TypeError, match="memfd"):
            pickle.dumps(shm)


def test_closed_objects_fail_at_pickling_with_what_to_do(executor, name):
    # A closed volatile object is gone with its last user: the error comes from
    # the worker's pickling, not as a BrokenProcessPool.
    fut = executor.submit(mp_children.make_and_close, "posix", name)
    with pytest.raises(FileNotFoundError, match="it is closed and its object is gone"):
        fut.result()
    fut = executor.submit(mp_children.make_and_close, "memfd", name)
    with pytest.raises(TypeError, match="closed, and a memfd object has no name"):
        fut.result()
    assert executor.submit(os.getpid).result()            # the pool is fine


def test_a_closed_persistent_object_travels_by_id(executor, name):
    shm = executor.submit(mp_children.make, "persistent", name, 100, b"kept").result()
    shm.close()
    again = executor.submit(mp_children.write_and_return, shm, 0, b"K").result()
    with again:
        assert bytes(again.buf[:4]) == b"Kept"
        again.unlink()


def test_a_handover_is_received_once(name):
    from multiprocessing.reduction import ForkingPickler
    with ipcshm.SharedMemory(name, create=True, size=100) as shm:
        data = bytes(ForkingPickler.dumps(shm))
        with pickle.loads(data) as first:
            assert first.id == shm.id
        with pytest.raises(FileNotFoundError, match="received once already"):
            pickle.loads(data)


def test_a_sender_that_is_gone_is_a_clear_error(name):
    code = textwrap.dedent("""
        import os, signal, sys
        from multiprocessing.reduction import ForkingPickler
        import ipcshm
        shm = ipcshm.SharedMemory(sys.argv[1], create=True, size=100)
        sys.stdout.buffer.write(ForkingPickler.dumps(shm))
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)        # no exit, no wait
        """)
    r = run_python(code, name, check=False, text=False)
    assert r.returncode == -signal.SIGKILL
    with pytest.raises(FileNotFoundError, match="that process is gone"):
        pickle.loads(r.stdout)
    with pytest.raises(FileNotFoundError):
        ipcshm.SharedMemory(name)           # the dead user's name is reclaimed


def test_an_exit_with_an_object_nobody_receives_waits_then_says_so(name, monkeypatch):
    code = textwrap.dedent("""
        import sys
        from multiprocessing.reduction import ForkingPickler
        import ipcshm, ipcshm._multiprocessing as m
        m.EXIT_WAIT = 0.5
        shm = ipcshm.SharedMemory(sys.argv[1], create=True, size=100)
        data = ForkingPickler.dumps(shm)        # sent, never received
        """)
    r = run_python(code, name, check=False)
    assert r.returncode == 0
    assert "exits with 1 SharedMemory sent through multiprocessing and not received" \
        in r.stderr
    assert not shm_exists(name)


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_children_that_end_with_os_exit_detach_what_they_hold(method):
    # fork and forkserver children skip atexit; their volatile objects go all
    # the same (multiprocessing's own exit detaches them).
    name = unique_name("osexit-" + method)
    ctx = multiprocessing.get_context(method)
    p = ctx.Process(target=mp_children.make, args=("posix", name, 100, b"held"))
    p.start()
    p.join(60)
    try:
        assert p.exitcode == 0
        assert not shm_exists(name)
    finally:
        ipcshm.remove(name)


# The sender's socket is abstract: any local user may connect to it.

def test_a_stalled_peer_does_not_hold_up_receivers(name):
    import socket
    import time
    from multiprocessing.reduction import ForkingPickler
    with ipcshm.SharedMemory(name, create=True, size=100) as shm:
        data = bytes(ForkingPickler.dumps(shm))
        address = ipcshm._multiprocessing._sharer.address
        stalled = [socket.socket(socket.AF_UNIX) for _ in range(3)]
        try:
            for s in stalled:
                s.connect(address)           # and says nothing
            start = time.monotonic()
            with pickle.loads(data) as got:
                assert got.id == shm.id
            assert time.monotonic() - start < 5
        finally:
            for s in stalled:
                s.close()


def test_another_user_is_turned_away_and_a_wrong_authkey_gets_nothing(name):
    from multiprocessing.reduction import ForkingPickler
    with ipcshm.SharedMemory(name, create=True, size=100) as shm:
        data = bytes(ForkingPickler.dumps(shm))
        address = ipcshm._multiprocessing._sharer.address
        # A receiver with another authkey fails the challenge.
        code = textwrap.dedent("""
            import pickle, sys
            from multiprocessing import process
            import ipcshm
            process.current_process().authkey = b"not the key"
            try:
                pickle.loads(sys.stdin.buffer.read())
            except PermissionError as e:
                print("PermissionError", "authkey" in str(e))
            """)
        r = run_python(code, input=data, text=False)
        assert r.stdout == b"PermissionError True\n"
        if os.geteuid() == 0:
            # Another user is closed on at once, before any exchange.
            r = run_python(textwrap.dedent("""
                import socket, sys
                s = socket.socket(socket.AF_UNIX)
                s.connect("\\0" + sys.argv[1])      # (abstract: a leading NUL)
                s.settimeout(5)
                print(repr(s.recv(100)))
                """), address[1:], user=65534, group=65534)
            assert r.stdout == "b''\n"
        # and the object is still there for its receiver
        with pickle.loads(data) as got:
            assert got.id == shm.id
