"""Ctrl-C interrupts a blocked wait of an event, a semaphore, a mutex or a
word (libipcshm 1.2): SIGINT sent to a child process asleep in one raises
KeyboardInterrupt there. Other signals whose handlers return do not end the
wait, and do not stretch its timeout."""
import gc
import os
import signal
import time

import pytest

import ipcshm
from signal_util import Child, sleeping_in_futex, wait_until_sleeping

WAITER = """
import signal, sys, ipcshm
shm = ipcshm.SharedMemory(sys.argv[1])
what = sys.argv[2]
ev = ipcshm.Event(shm, 0)
sem = ipcshm.Semaphore(shm, 64)
m = ipcshm.Mutex(shm, 128)
handled = 0

def count(signum, frame):
    global handled
    handled += 1
    print("handled", handled)

signal.signal(signal.SIGUSR1, count)
waits = {
    "event": lambda: ev.wait(ev.sequence()),
    "event-timeout": lambda: ev.wait(ev.sequence(), timeout=1.0),
    "semaphore": lambda: sem.acquire(),
    "mutex": lambda: m.acquire(),
    "word": lambda: ipcshm.wait_word(shm, 192, 0),
}
if what == "event-async":
    import asyncio
    waits[what] = lambda: asyncio.run(ev.wait_async(ev.sequence()))
print("waiting")
try:
    result = waits[what]()
    # (a signal the parent sent meanwhile must not end this process)
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    print("returned", result, "after", handled, "signals")
except KeyboardInterrupt:
    print("interrupted")
"""


@pytest.fixture
def shm():
    """[the SharedMemory, (its event, semaphore, mutex)], emptied at the end:
    pytest keeps the value of a fixture until its teardown is over."""
    with ipcshm.SharedMemory(create=True, size=4096) as s:
        held = [s, (ipcshm.Event(s, 0, init=True), ipcshm.Semaphore(s, 64, init=True),
                    ipcshm.Mutex(s, 128, init=True))]
        yield held
        held.clear()
        gc.collect()


@pytest.mark.parametrize("what", ["event", "semaphore", "mutex", "word"])
def test_ctrl_c_interrupts_a_blocked_wait(shm, what):
    s, (ev, sem, m) = shm
    if what == "mutex":
        m.acquire()
    try:
        with Child(WAITER, s.id, what) as child:
            child.expect("waiting")
            wait_until_sleeping(child.pid)
            os.kill(child.pid, signal.SIGINT)
            child.expect("interrupted", timeout=30)
            assert child.finish() == 0
    finally:
        if what == "mutex":
            m.release()
    # The interrupted waiter took nothing.
    assert sem.value() == 0
    assert m.acquire(blocking=False)
    m.release()


def test_ctrl_c_interrupts_an_asyncio_wait(shm):
    s, _ = shm
    with Child(WAITER, s.id, "event-async") as child:
        child.expect("waiting")
        # The loop sleeps in epoll; the descriptor's helper thread on the futex.
        deadline = time.monotonic() + 30
        while not any(sleeping_in_futex(child.pid, int(t))
                      for t in os.listdir("/proc/%d/task" % child.pid)
                      if int(t) != child.pid):
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.kill(child.pid, signal.SIGINT)
        child.expect("interrupted", timeout=30)
        assert child.finish() == 0


@pytest.mark.parametrize("what", ["event", "semaphore", "mutex"])
def test_a_handler_that_returns_lets_the_wait_go_on(shm, what):
    s, (ev, sem, m) = shm
    if what == "mutex":
        m.acquire()
    with Child(WAITER, s.id, what) as child:
        child.expect("waiting")
        for n in (1, 2):
            wait_until_sleeping(child.pid)
            os.kill(child.pid, signal.SIGUSR1)
            assert child.expect("handled") == "handled %d" % n
        wait_until_sleeping(child.pid)         # waiting again, not returned
        if what == "event":
            ev.notify()
            want = "returned 1 after 2 signals"
        elif what == "semaphore":
            sem.release()
            want = "returned True after 2 signals"
        else:
            m.release()
            want = "returned True after 2 signals"
        assert child.expect("returned") == want
        assert child.finish() == 0
    if what == "mutex":
        # The child's process ended holding it.
        with pytest.raises(ipcshm.OwnerDeadError) as info:
            m.acquire(timeout=30)
        with info.value as e:
            e.consistent()
        del info, e


def test_signals_do_not_stretch_a_timeout(shm):
    # Signals every 0.1 s at a wait of 1 s: it ends after 1 s all the same,
    # while they still come (a wait that started over at each would not end).
    s, _ = shm
    with Child(WAITER, s.id, "event-timeout") as child:
        child.expect("waiting")
        start = time.monotonic()
        lines = []
        while time.monotonic() - start < 60:
            os.kill(child.pid, signal.SIGUSR1)
            time.sleep(0.1)
            try:
                line = child.expect("", timeout=0.01)
            except AssertionError:
                continue
            if line.startswith("returned"):
                lines.append(line)
                break
        assert lines and lines[0].startswith("returned None after"), lines
        assert time.monotonic() - start >= 1.0
        assert child.finish() == 0
