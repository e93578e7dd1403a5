"""Fixtures: unique names (pid + random) that are removed after each test, child
processes that load the same library, and a final check that nothing is left in
/dev/shm or among the System V segments this process created."""
import contextlib
import os
import pathlib
import random
import re
import secrets
import subprocess
import sys

import pytest

TESTS = pathlib.Path(__file__).resolve().parent
PKG_ROOT = TESTS.parent                 # bindings/python
REPO = PKG_ROOT.parent.parent           # the source tree
sys.path.insert(0, str(PKG_ROOT))

import ipcshm  # noqa: E402

PREFIX = "pyipcshm-%d-" % os.getpid()

# The suite runs with the compiled module (ipcshm._ext) and without it
# (IPCSHM_PURE=1): meson registers both runs. What differs between them is
# tested with this.
EXTENSION = ipcshm._accel.ext is not None


def unique_name(tag="t"):
    """A POSIX name (without '/') that no other run or test uses."""
    tag = re.sub(r"[^A-Za-z0-9_.-]", "_", tag)[:40]
    return "%s%s-%s" % (PREFIX, secrets.token_hex(4), tag)


def unique_key():
    """A random System V key that names no segment now."""
    while True:
        key = random.randint(0x10000000, 0x7FFFFFF0)
        try:
            ipcshm.info("key:%d" % key)
        except FileNotFoundError:
            return key


def child_env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PKG_ROOT), str(TESTS)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["IPCSHM_LIBRARY"] = ipcshm.library_path   # the children load what we load
    if EXTENSION:                                  # ... and the same module
        env["IPCSHM_EXTENSION"] = ipcshm.extension_path
        env.pop("IPCSHM_PURE", None)
    else:
        env["IPCSHM_PURE"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def run_python(code, *args, timeout=30, check=True, env_extra=None, **kwargs):
    """Runs `code` in a new python3 with ipcshm importable; returns the result."""
    kwargs.setdefault("text", True)
    r = subprocess.run([sys.executable, "-c", code, *map(str, args)],
                       env=child_env(**(env_extra or {})),
                       capture_output=True, timeout=timeout, **kwargs)
    if check and r.returncode != 0:
        raise AssertionError("child failed (%d):\n%s\n%s" % (r.returncode, r.stdout, r.stderr))
    return r


@contextlib.contextmanager
def start_python(code, *args, **kwargs):
    """Runs `code` with pipes on stdin/stdout (line-buffered text) for the duration
    of a with block; kills it if still running at the end and closes the pipes."""
    child = subprocess.Popen([sys.executable, "-u", "-c", code, *map(str, args)],
                             env=child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, bufsize=1, **kwargs)
    try:
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()


def shm_exists(name):
    return os.path.exists("/dev/shm/" + name.lstrip("/"))


def shmid_exists(shmid):
    try:
        ipcshm.info("shmid:%d" % shmid)
        return True
    except FileNotFoundError:
        return False


@pytest.fixture
def name(request):
    """A unique POSIX name without '/'; whatever it names is removed afterwards."""
    n = unique_name(request.node.name)
    yield n
    ipcshm.remove(n)


@pytest.fixture
def key():
    """A free System V key; the segment it names is removed afterwards."""
    k = unique_key()
    yield k
    ipcshm.remove("key:%d" % k)


@pytest.fixture
def cleanup():
    """Collects ids ("/x", "shmid:N", ...) to remove after the test."""
    ids = []
    yield ids
    for i in ids:
        ipcshm.remove(i)


def _my_sysv_segments():
    mine = []
    with open("/proc/sysvipc/shm") as f:
        next(f)
        for line in f:
            fields = line.split()
            # key shmid perms size cpid lpid nattch ...
            if int(fields[4]) == os.getpid():
                mine.append(int(fields[1]))
    return mine


@pytest.fixture(scope="session", autouse=True)
def nothing_left_behind():
    before = set(_my_sysv_segments())
    yield
    left = [n for n in os.listdir("/dev/shm") if n.startswith(PREFIX)]
    segs = [s for s in _my_sysv_segments() if s not in before]
    for n in left:
        ipcshm.remove("/" + n)
    for s in segs:
        ipcshm.remove("shmid:%d" % s)
    assert not left and not segs, "left behind: %r %r" % (left, segs)


# Code run before an example (a README block, examples/condition.py): every
# object the example creates is written down, its id one a line, in the file
# argv[1] names. Other tests running at the same time (the other Python suite
# runs the same examples) make unique names too, so a look at /dev/shm cannot
# tell whose they are.
RECORD_CREATED = """
import sys as _sys
import ipcshm._shared_memory as _sm
_record, _adopt = _sys.argv[1], _sm.SharedMemory._adopt
def _recording(self, handle, readonly, prefault):
    _adopt(self, handle, readonly, prefault)
    if self.created:
        with open(_record, "a") as _f:
            _f.write(self.id + "\\n")
_sm.SharedMemory._adopt = _recording
import ipcshm._channels as _ch
_opened = _ch.Channel._opened
def _recording_channel(self):
    _opened(self)
    with open(_record, "a") as _f:
        _f.write(self.id + "\\n")
_ch.Channel._opened = _recording_channel
"""


def left_behind(ids):
    """The ids (as RECORD_CREATED writes them) whose objects still exist."""
    return [i for i in ids if i.startswith("/") and os.path.exists("/dev/shm" + i)
            or i.startswith("shmid:") and shmid_exists(int(i[6:]))]
