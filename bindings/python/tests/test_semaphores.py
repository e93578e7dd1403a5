"""Semaphores (libipcshm 1.2) from Python: ipcshm.Semaphore across processes,
threading.Semaphore's surface, counts at their limits, read-only memory."""
import errno
import gc
import threading
import time

import pytest

import ipcshm
from conftest import run_python
from signal_util import Child, wait_until_sleeping

TAKER = """
import sys, ipcshm
shm = ipcshm.SharedMemory(sys.argv[1])
sem = ipcshm.Semaphore(shm, int(sys.argv[2]))
for line in sys.stdin:
    print("waiting")
    sem.acquire()
    print("took", sem.value())
"""


@pytest.fixture
def shm():
    with ipcshm.SharedMemory(create=True, size=4096) as s:
        yield s
        gc.collect()    # (primitives held by caught errors' tracebacks)


def test_a_taker_in_another_process_waits_for_a_post(shm):
    sem = ipcshm.Semaphore(shm, 256, init=True, value=1)
    with Child(TAKER, shm.id, 256) as child:
        child.send("take")
        child.expect("waiting")
        assert child.expect("took") == "took 0"        # the unit that was there
        child.send("take")
        child.expect("waiting")
        wait_until_sleeping(child.pid)
        assert sem.value() == 0
        sem.release()
        assert child.expect("took") == "took 0"
    del sem


def test_units_posted_by_other_processes_add_up(shm):
    sem = ipcshm.Semaphore(shm, 0, init=True)
    code = ("import sys, ipcshm\n"
            "sem = ipcshm.Semaphore(ipcshm.SharedMemory(sys.argv[1]))\n"
            "sem.release(int(sys.argv[2]))\n")
    for n in (1, 2, 3):
        run_python(code, shm.id, n)
    assert sem.value() == 6
    for _ in range(6):
        assert sem.acquire(blocking=False)
    assert not sem.acquire(blocking=False)
    del sem


def test_threading_surface(shm):
    sem = ipcshm.Semaphore(shm, 8, init=True, value=2)
    with sem:
        assert sem.value() == 1
    assert sem.value() == 2
    assert sem.acquire() and sem.acquire(timeout=1)
    start = time.monotonic()
    assert sem.acquire(timeout=0.05) is False
    assert time.monotonic() - start >= 0.05
    assert sem.acquire(True, 0) is False
    with pytest.raises(ValueError, match="non-blocking"):
        sem.acquire(False, 1)
    with pytest.raises(ValueError):
        sem.acquire(timeout=-3)
    with pytest.raises(ValueError):
        sem.release(0)
    got = []
    t = threading.Thread(target=lambda: got.append(sem.acquire(timeout=30)))
    t.start()
    sem.release()
    t.join(30)
    assert got == [True] and sem.value() == 0
    del sem


def test_counts_at_their_limits(shm):
    sem = ipcshm.Semaphore(shm, 0, init=True, value=2**32 - 2)
    sem.release()
    assert sem.value() == 2**32 - 1
    with pytest.raises(OSError) as info:
        sem.release()
    assert info.value.errno == errno.EOVERFLOW
    assert sem.value() == 2**32 - 1                 # unchanged
    with pytest.raises(OverflowError):
        sem.init(2**32)
    with pytest.raises(OverflowError):
        sem.init(-1)
    with pytest.raises(ValueError, match="init=True"):
        ipcshm.Semaphore(shm, 0, value=3)           # an existing one keeps its count
    del sem, info


def test_memory_that_is_no_semaphore(shm):
    sem = ipcshm.Semaphore(shm, 64)
    for call in (sem.value, sem.release, lambda: sem.acquire(timeout=None)):
        with pytest.raises(ValueError) as info:
            call()
        assert info.value.errno == errno.EINVAL
    ipcshm.Mutex(shm, 64, init=True)
    with pytest.raises(ValueError, match="mutex"):
        sem.value()
    sem.init(1)
    shm.buf[64 + 12:64 + 16] = b"\x7f\x7f\x7f\x7f"     # a sleeper count: any will do
    assert sem.acquire(blocking=False)
    shm.buf[64 + 4:64 + 8] = b"\x7f\x7f\x7f\x7f"      # a layout no library wrote
    with pytest.raises(ValueError) as info:
        sem.acquire()
    assert info.value.errno == errno.EBADMSG
    del sem, info, call


def test_read_only_memory_reads_only(shm):
    sem = ipcshm.Semaphore(shm, 128, init=True, value=5)
    with ipcshm.SharedMemory(shm.id, readonly=True) as ro:
        view = ipcshm.Semaphore(ro, 128)
        assert view.value() == 5
        for call in (view.release, view.acquire, lambda: view.init(1)):
            with pytest.raises(PermissionError) as info:
                call()
            assert info.value.errno == errno.EACCES
        with pytest.raises(ValueError, match="init=True"):
            ipcshm.Semaphore(ro, 128, value=1)
        del view, info, call
        gc.collect()
    assert sem.value() == 5
    del sem
