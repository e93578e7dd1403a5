"""Helpers of the signalling tests (events, semaphores, mutexes): children that
attach an object and run a script line by line, and a look at whether a thread
sleeps in the kernel."""
import os
import queue
import subprocess
import sys
import threading
import time

from conftest import child_env


def sleeping_in_futex(pid, tid=None):
    """True if the thread `tid` (default: the main thread) of `pid` sleeps in a
    futex wait, as a primitive's waiter does once it stopped spinning."""
    tid = pid if tid is None else tid
    try:
        with open("/proc/%d/task/%d/wchan" % (pid, tid)) as f:
            wchan = f.read()
        with open("/proc/%d/task/%d/stat" % (pid, tid)) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return "futex" in wchan and state == "S"


def wait_until_sleeping(pid, tid=None, timeout=30.0):
    """Waits until the thread sleeps in a futex wait; AssertionError after
    `timeout` seconds (a broken test, not a slow machine)."""
    deadline = time.monotonic() + timeout
    while not sleeping_in_futex(pid, tid):
        if time.monotonic() > deadline:
            raise AssertionError("process %d never slept in a futex wait" % pid)
        time.sleep(0.005)


class Child:
    """A Python child process that runs `code` (ipcshm importable), with its
    stdout read line by line by a thread, so that a test waits for a line
    with a deadline instead of hanging on a child that went wrong."""

    def __init__(self, code, *args):
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-c", code, *map(str, args)], env=child_env(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1)
        self.pid = self.proc.pid
        self._lines = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def expect(self, want, timeout=60.0):
        """The child's next line, which must start with `want`."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no line from child %d within %s s (wanted %r)"
                                 % (self.pid, timeout, want)) from None
        if line is None or not line.startswith(want):
            self.proc.kill()
            err = self.proc.stderr.read()
            raise AssertionError("child %d said %r (wanted %r)\n%s"
                                 % (self.pid, line, want, err))
        return line

    def finish(self, timeout=60.0):
        """Waits for the child's end; its exit status (negative: a signal)."""
        try:
            return self.proc.wait(timeout)
        finally:
            self.close()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass
        self._reader.join(10)
        self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def fds():
    """The number of open descriptors of this process."""
    return len(os.listdir("/proc/self/fd"))


def fds_settle(want, timeout=10.0):
    """The number of open descriptors once it is `want`, or after `timeout`
    seconds: the helper thread of an event descriptor closes its end of the
    pipe within 0.1 s of the reader's close (ipcshm_event_fd)."""
    deadline = time.monotonic() + timeout
    while fds() != want and time.monotonic() < deadline:
        time.sleep(0.01)
    return fds()
