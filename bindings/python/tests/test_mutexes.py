"""Robust mutexes (libipcshm 1.2) from Python: ipcshm.Mutex across processes
and threads, its owner's death (OwnerDeadError carrying the held lock,
consistent(), NotRecoverableError), and threading.Lock's surface."""
import errno
import gc
import os
import signal
import struct
import threading
import time

import pytest

import ipcshm
from conftest import run_python
from signal_util import Child, wait_until_sleeping

HOLDER = """
import sys, ipcshm
shm = ipcshm.SharedMemory(sys.argv[1])
m = ipcshm.Mutex(shm, int(sys.argv[2]))
m.acquire()
print("held")
sys.stdin.readline()      # killed meanwhile, or told to exit holding it
"""

COUNTER = """
import sys, threading, time, ipcshm
shm = ipcshm.SharedMemory(sys.argv[1])
m = ipcshm.Mutex(shm, 0)
rounds, nthreads = int(sys.argv[2]), int(sys.argv[3])

def work():
    for _ in range(rounds):
        with m:
            # read, let the others run, write: a lost update without the lock
            n = int.from_bytes(shm.buf[64:72], "little")
            time.sleep(0)
            shm.buf[64:72] = (n + 1).to_bytes(8, "little")

threads = [threading.Thread(target=work) for _ in range(nthreads)]
for t in threads:
    t.start()
for t in threads:
    t.join()
del m
"""


@pytest.fixture
def shm():
    with ipcshm.SharedMemory(create=True, size=4096) as s:
        yield s
        gc.collect()    # (primitives held by caught errors' tracebacks)


def _counter(shm):
    return struct.unpack_from("<Q", shm.buf, 64)[0]


def test_mutual_exclusion_across_processes_and_threads(shm):
    m = ipcshm.Mutex(shm, 0, init=True)
    procs, threads, rounds = 3, 3, 300
    children = [Child(COUNTER, shm.id, rounds, threads) for _ in range(procs)]
    try:
        for c in children:
            assert c.finish(240) == 0, c.proc.stderr.read()
    finally:
        for c in children:
            c.close()
    assert _counter(shm) == procs * threads * rounds
    assert m.acquire(blocking=False)
    m.release()
    del m


def test_a_blocked_waiter_gets_the_lock_of_a_killed_owner(shm):
    m = ipcshm.Mutex(shm, 128, init=True)
    with Child(HOLDER, shm.id, 128) as holder:
        holder.expect("held")
        assert m.acquire(blocking=False) is False
        assert m.acquire(timeout=0.05) is False

        def kill_when_asleep():
            wait_until_sleeping(os.getpid(), threading.main_thread().native_id)
            os.kill(holder.pid, signal.SIGKILL)

        killer = threading.Thread(target=kill_when_asleep)
        killer.start()
        start = time.monotonic()
        with pytest.raises(ipcshm.OwnerDeadError) as info:
            m.acquire(timeout=30)
        noticed = time.monotonic() - start
        killer.join()
        assert holder.finish() == -signal.SIGKILL
    e = info.value
    assert isinstance(e, OSError) and e.errno == errno.EOWNERDEAD
    assert e.mutex is m
    assert noticed < 30
    # This thread holds it: a second acquire is EDEADLK, not a wait.
    with pytest.raises(OSError) as again:
        m.acquire()
    assert again.value.errno == errno.EDEADLK
    with e:
        e.consistent()          # the data is repaired; `with` releases
    with m:                     # good again, for everyone
        pass
    del m, e, info, again


def test_release_without_consistent_makes_it_not_recoverable(shm):
    m = ipcshm.Mutex(shm, 192, init=True)
    with Child(HOLDER, shm.id, 192) as holder:
        holder.expect("held")
        holder.send("exit")             # its process ends holding the lock
        assert holder.finish() == 0
    try:
        with m:
            raise AssertionError("the body must not run: the owner died")
    except ipcshm.OwnerDeadError as e:
        e.release()                     # without consistent(): untrusted for ever
    with pytest.raises(ipcshm.NotRecoverableError) as info:
        m.acquire()
    assert info.value.errno == errno.ENOTRECOVERABLE
    r = run_python("import sys, ipcshm\n"
                   "m = ipcshm.Mutex(ipcshm.SharedMemory(sys.argv[1]), 192)\n"
                   "try:\n"
                   "    m.acquire(timeout=5)\n"
                   "except ipcshm.NotRecoverableError as e:\n"
                   "    print('not recoverable', e.errno)\n", shm.id)
    assert r.stdout == "not recoverable %d\n" % errno.ENOTRECOVERABLE
    m.init()                            # once nobody uses it: usable again
    with m:
        pass
    del m, info


def test_a_thread_that_ends_holding_it_is_a_dead_owner(shm):
    m = ipcshm.Mutex(shm, 8, init=True)
    t = threading.Thread(target=m.acquire)
    t.start()
    t.join()
    with pytest.raises(ipcshm.OwnerDeadError) as info:
        m.acquire(timeout=30)
    info.value.consistent()
    m.release()
    assert m.acquire(False)
    m.release()
    del m, info


def test_ownership_belongs_to_a_thread(shm):
    m = ipcshm.Mutex(shm, 0, init=True)
    with pytest.raises(PermissionError) as info:
        m.release()                             # not held
    assert info.value.errno == errno.EPERM
    m.acquire()
    errors = []

    def other():
        try:
            m.release()
        except PermissionError as e:
            errors.append(e.errno)
        errors.append(m.acquire(blocking=False))

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert errors == [errno.EPERM, False]
    with pytest.raises(ValueError) as info:
        m.consistent()                          # no owner died
    assert info.value.errno == errno.EINVAL
    m.release()
    del m, info


def test_forked_child_does_not_hold_its_parents_lock(shm):
    m = ipcshm.Mutex(shm, 0, init=True)
    m.acquire()
    pid = os.fork()
    if pid == 0:                                # pragma: no cover - the child
        code = 1
        try:
            try:
                m.release()
            except PermissionError:
                code = 0 if m.acquire(blocking=False) is False else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    m.release()
    del m


def test_timeouts_and_arguments(shm):
    m = ipcshm.Mutex(shm, 0, init=True)
    with Child(HOLDER, shm.id, 0) as holder:
        holder.expect("held")
        start = time.monotonic()
        assert m.acquire(timeout=0.05) is False
        assert time.monotonic() - start >= 0.05
        assert m.acquire(False) is False
        assert m.acquire(True, 0) is False
    with pytest.raises(ValueError):
        m.acquire(False, 2)
    with pytest.raises(ValueError):
        m.acquire(timeout=-2)
    # The killed holder's lock: taken with OwnerDeadError by a try too (once
    # the library no longer remembers having found the owner alive, 20 ms).
    time.sleep(0.03)
    with pytest.raises(ipcshm.OwnerDeadError) as info:
        m.acquire(False)
    info.value.consistent()
    m.release()
    assert m.acquire(timeout=-1)                # threading.Lock's "no limit"
    m.release()
    del m, info


def test_memory_that_is_no_mutex_and_read_only_memory(shm):
    m = ipcshm.Mutex(shm, 64)
    with pytest.raises(ValueError) as info:
        m.acquire()
    assert info.value.errno == errno.EINVAL
    m.init()
    shm.buf[64 + 8:64 + 16] = b"\x00\x00\xf0\x7f\x00\x00\x00\x01"   # tid 2^31 + ...
    with pytest.raises(ValueError) as info:
        m.acquire(timeout=5)
    assert info.value.errno == errno.EBADMSG
    m.init()
    with ipcshm.SharedMemory(shm.id, readonly=True) as ro:
        view = ipcshm.Mutex(ro, 64)
        assert view.readonly
        for call in (view.acquire, view.release, view.consistent, view.init,
                     view.__enter__):
            with pytest.raises(PermissionError) as info:
                call()
            assert info.value.errno == errno.EACCES
        del view, info, call
        gc.collect()
    with m:
        pass
    del m
