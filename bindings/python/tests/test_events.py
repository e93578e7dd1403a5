"""Events (libipcshm 1.2) from Python: ipcshm.Event in real processes, its
place in a mapping and what keeps the mapping alive, read-only memory,
garbage, timeouts, the descriptor and the asyncio wait."""
import asyncio
import errno
import gc
import mmap
import os
import pickle
import select
import struct
import time

import pytest

import ipcshm
from conftest import run_python
from signal_util import Child, fds, fds_settle, wait_until_sleeping

WAITER = """
import sys, ipcshm
shm = ipcshm.SharedMemory(sys.argv[1])
ev = ipcshm.Event(shm, int(sys.argv[2]))
seen = ev.sequence()
print("seen", seen)
for line in sys.stdin:
    if line.strip() == "wait":
        print("waiting")
        seen = ev.wait(seen)
        print("woke", seen)
    elif line.strip() == "wait-async":
        import asyncio
        print("waiting")
        seen = asyncio.run(ev.wait_async(seen))
        print("woke", seen)
"""


@pytest.fixture
def shm():
    with ipcshm.SharedMemory(create=True, size=4096) as s:
        yield s
        # The tracebacks of the errors a test caught hold the primitives of
        # their frames, in reference cycles: these keep the mapping until now.
        gc.collect()


def test_a_waiter_in_another_process_wakes_on_notify(shm):
    ev = ipcshm.Event(shm, 64, init=True)
    assert ev.sequence() == 0
    with Child(WAITER, shm.id, 64) as child:
        child.expect("seen 0")
        for round in range(1, 4):
            child.send("wait")
            child.expect("waiting")
            wait_until_sleeping(child.pid)
            ev.notify()
            assert child.expect("woke ") == "woke %d" % round
        child.proc.stdin.close()
        assert child.finish() == 0
    del ev


def test_wait_in_this_process_returns_a_notify_of_another(shm):
    ev = ipcshm.Event(shm, 0, init=True)
    seen = ev.sequence()
    r = run_python("import sys, ipcshm\n"
                   "shm = ipcshm.SharedMemory(sys.argv[1])\n"
                   "ev = ipcshm.Event(shm)\n"
                   "ev.notify(); ev.notify()\n", shm.id)
    assert r.returncode == 0
    assert ev.wait(seen) == 2          # seen as one change
    assert ev.wait(2, timeout=0) is None
    del ev


def test_timeouts(shm):
    ev = ipcshm.Event(shm, 8, init=True)
    assert ev.wait(0, 0) is None                 # only looks
    start = time.monotonic()
    assert ev.wait(0, 0.05) is None
    assert time.monotonic() - start >= 0.05
    ev.notify()
    assert ev.wait(0, 0) == 1                    # differs already: at once
    assert ev.wait(5, None) == 1
    with pytest.raises(ValueError):
        ev.wait(1, -0.5)
    with pytest.raises(ValueError):
        ev.wait(1, float("nan"))
    with pytest.raises(OverflowError):
        ev.wait(-1)
    with pytest.raises(OverflowError):
        ev.wait(2**64)
    with pytest.raises(TypeError):
        ev.wait(1.5)
    del ev


def test_places_are_checked(shm):
    for bad in (-8, 4, 1, 4096 - 56, 4096, 2**64):
        with pytest.raises(ValueError) as info:
            ipcshm.Event(shm, bad)
        assert "ipcshm.Event: offset %d" % bad in str(info.value)
    with pytest.raises(TypeError):
        ipcshm.Event(shm, 8.0)
    with pytest.raises(TypeError):
        ipcshm.Event("not memory", 0)
    last = ipcshm.Event(shm, 4096 - 64, init=True)      # the last place that fits
    last.notify()
    assert struct.unpack_from("=IIQ", shm.buf, 4096 - 64)[2] == 1
    del last
    closed = ipcshm.SharedMemory(create=True, size=64)
    closed.close()
    with pytest.raises(ValueError, match="closed"):
        ipcshm.Event(closed, 0)


def test_memory_that_is_no_event_is_an_error_not_a_hang(shm):
    ev = ipcshm.Event(shm, 0)                    # zeros: never initialised
    for call in (ev.sequence, ev.notify, lambda: ev.wait(0, None), ev.fd):
        with pytest.raises(ValueError) as info:
            call()
        assert info.value.errno == errno.EINVAL
    ipcshm.Semaphore(shm, 64, init=True, value=1)
    with pytest.raises(ValueError, match="semaphore"):
        ipcshm.Event(shm, 64).sequence()
    ev.init()
    shm.buf[4:8] = b"\xff\xff\xff\xff"           # a version no library wrote
    with pytest.raises(ValueError) as info:
        ev.wait(0, None)
    assert info.value.errno == errno.EBADMSG
    del ev


def test_the_event_keeps_the_mapping_alive():
    shm = ipcshm.SharedMemory(create=True, size=4096)
    ev = ipcshm.Event(shm, 128, init=True)
    with pytest.raises(BufferError):
        shm.close()
    with pytest.raises(BufferError):
        shm.resize(8192)
    assert not shm.closed
    del shm                             # dropped without close: the event keeps it
    ev.notify()
    assert ev.sequence() == 1
    with ipcshm.SharedMemory(create=True, size=4096) as other:
        ev2 = ipcshm.Event(other, 128, init=True)
        del ev2
    del ev


def test_close_works_once_the_primitive_is_gone(shm):
    ident = shm.id
    ev = ipcshm.Event(shm, 0, init=True)
    with pytest.raises(BufferError):
        shm.close()
    del ev
    shm.close()
    assert shm.closed
    with pytest.raises(FileNotFoundError):
        ipcshm.SharedMemory(ident)              # volatile: gone with its last user


def test_read_only_memory_reads_only(shm):
    ev = ipcshm.Event(shm, 0, init=True)
    ev.notify()
    with ipcshm.SharedMemory(shm.id, readonly=True) as ro:
        view = ipcshm.Event(ro, 0)
        assert view.readonly and not ev.readonly
        assert view.sequence() == 1
        for call in (view.notify, view.init, lambda: view.wait(0), view.fd):
            with pytest.raises(PermissionError) as info:
                call()
            assert info.value.errno == errno.EACCES
            assert "read-only" in str(info.value)
        del view, info, call
        gc.collect()
    del ev


def test_other_buffers_and_threads():
    # Between the threads of one process, any buffer does: an mmap, a bytearray
    # (8-aligned places only).
    import threading
    mm = mmap.mmap(-1, 4096)
    ev = ipcshm.Event(mm, 64, init=True)
    seen = ev.sequence()
    got = []
    t = threading.Thread(target=lambda: got.append(ev.wait(seen, 30)))
    t.start()
    ev.notify()
    t.join(30)
    assert got == [1]
    with pytest.raises(BufferError):
        mm.close()                                # mmap refuses while exported
    with pytest.raises(TypeError, match="only a primitive in a SharedMemory"):
        pickle.dumps(ev)
    assert "of a buffer" in repr(ev)
    del ev
    mm.close()
    with pytest.raises(ValueError):
        ipcshm.Event(memoryview(bytearray(200))[::2], 0)      # not contiguous


def test_pickled_event_attaches_in_the_other_process(shm):
    ev = ipcshm.Event(shm, 192, init=True)
    r = run_python("import pickle, sys, ipcshm\n"
                   "ev = pickle.loads(bytes.fromhex(sys.argv[1]))\n"
                   "ev.notify()\n"
                   "print(ev.offset, ev.sequence())\n", pickle.dumps(ev).hex())
    assert r.stdout == "192 1\n"
    assert ev.sequence() == 1
    del ev


def test_descriptor_becomes_readable_after_a_notify_in_another_process(shm):
    ev = ipcshm.Event(shm, 0, init=True)
    before = fds()
    fd = ev.fd()
    try:
        assert select.select([fd], [], [], 0)[0] == []
        with pytest.raises(BlockingIOError):
            os.read(fd, 8)
        run_python("import sys, ipcshm\n"
                   "ipcshm.Event(ipcshm.SharedMemory(sys.argv[1])).notify()\n", shm.id)
        assert select.select([fd], [], [], 30)[0] == [fd]
        assert struct.unpack("=Q", os.read(fd, 8)) == (1,)
    finally:
        os.close(fd)
    assert fds_settle(before) == before
    del ev


def test_asyncio_wait_woken_by_another_process(shm):
    ev = ipcshm.Event(shm, 64, init=True)
    with Child(WAITER, shm.id, 64) as child:
        child.expect("seen 0")
        child.send("wait-async")
        child.expect("waiting")
        # The child's event loop sleeps in epoll, not on the futex: its helper
        # thread does. Wait until the helper sleeps, then notify.
        deadline = time.monotonic() + 30
        while not any(_futex_sleeper(child.pid, int(t)) for t in
                      os.listdir("/proc/%d/task" % child.pid) if int(t) != child.pid):
            assert time.monotonic() < deadline, "no helper thread asleep"
            time.sleep(0.005)
        ev.notify()
        assert child.expect("woke ") == "woke 1"
    del ev


def _futex_sleeper(pid, tid):
    from signal_util import sleeping_in_futex
    return sleeping_in_futex(pid, tid)


def test_asyncio_wait_times_out_and_leaves_no_descriptor(shm):
    ev = ipcshm.Event(shm, 0, init=True)
    before = fds()

    async def main():
        start = time.monotonic()
        assert await ev.wait_async(0, timeout=0.05) is None
        assert time.monotonic() - start >= 0.05
        ev.notify()
        assert await ev.wait_async(0, timeout=0) == 1        # differs: at once
        loop = asyncio.get_running_loop()
        loop.call_later(0.02, ev.notify)
        return await ev.wait_async(1, timeout=30)

    assert asyncio.run(main()) == 2
    assert fds_settle(before) == before
    del ev


def test_cancelled_asyncio_wait_closes_its_descriptor(shm):
    ev = ipcshm.Event(shm, 0, init=True)
    before = fds()

    async def main():
        loop_fds = fds()        # the event loop's own (epoll, its self-pipe)
        task = asyncio.ensure_future(ev.wait_async(0))
        await asyncio.sleep(0.05)
        # its descriptor, and the write end that its helper thread holds
        assert fds() == loop_fds + 2
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert fds_settle(before) == before
    del ev


def test_asyncio_wait_on_an_event_overwritten_meanwhile_fails(shm):
    ev = ipcshm.Event(shm, 0, init=True)
    before = fds()

    async def main():
        loop = asyncio.get_running_loop()

        def overwrite():
            shm.buf[0:64] = b"\x01" * 64     # garbage: the helper gives end of file

        loop.call_later(0.05, overwrite)
        return await ev.wait_async(0, timeout=30)

    with pytest.raises(ValueError):
        asyncio.run(main())
    assert fds_settle(before) == before
    del ev
