"""What the tests of the ipcshm tool share: running it, unique objects, holders.

Every object a test makes has a name unique to the run and is removed in a
cleanup that runs even on failure; holder processes are killed. Objects of
other processes (other suites may run at the same time) are never touched:
`gc` and `rm` are run with explicit ids only.
"""
import fcntl
import grp
import os
import pwd
import random
import re
import secrets
import shutil
import subprocess
import time
import unittest

TOOL = HOLDER = VERSION = None
SHM = "/dev/shm"
USER = pwd.getpwuid(os.geteuid()).pw_name
GROUP = grp.getgrgid(os.getegid()).gr_name
UID, GID = os.geteuid(), os.getegid()
# Stable output: the C.UTF-8 locale, times in UTC.
ENV = dict(os.environ, LC_ALL="C.UTF-8", TZ="UTC")
ENV.pop("LANGUAGE", None)

# The note ls, info and fuser print when some processes could not be inspected
# (here even root may meet such a process: a container's pid 1, say).
HIDDEN_NOTE = re.compile(
    r"ipcshm: note: (\d+) of the (\d+) processes could not be inspected \(uid \d+ may not "
    r"read their maps and descriptors\): POSIX holders among them show only by their flock\n")


def configure(tool, holder, version):
    global TOOL, HOLDER, VERSION
    TOOL, HOLDER, VERSION = os.path.abspath(tool), os.path.abspath(holder), version


def sysv_table():
    """/proc/sysvipc/shm as {shmid: dict of its columns}."""
    with open("/proc/sysvipc/shm") as f:
        lines = f.read().splitlines()
    cols = lines[0].split()
    rows = {}
    for line in lines[1:]:
        row = dict(zip(cols, line.split()))
        rows[int(row["shmid"])] = row
    return rows


def unused_key():
    used = {int(r["key"]) & 0xFFFFFFFF for r in sysv_table().values()}
    while True:
        key = random.randrange(0x10000000, 0x7FFFFFFF)
        if key not in used:
            return key


def nobody():
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        return None


def human(n):
    """util-linux 2.38's size_to_human_string, written again from its definition."""
    exp = 0
    while exp < 60 and n >= 1 << (exp + 10):
        exp += 10
    unit = "BKMGTPE"[exp // 10]
    whole, frac = (n >> exp, n & ((1 << exp) - 1)) if exp else (n, 0)
    if frac:
        frac = (frac * 1000) >> exp
        frac = ((frac + 50) // 100) * 10
        if frac == 100:
            whole, frac = whole + 1, 0
    return f"{whole}.{frac // 10}{unit}" if frac else f"{whole}{unit}"


def short_time(t):
    """lsipc's short time in UTC: HH:MM today, MonDD this year, else YYYY-MonDD."""
    now, tm = time.gmtime(), time.gmtime(t)
    if (tm.tm_year, tm.tm_yday) == (now.tm_year, now.tm_yday):
        return time.strftime("%H:%M", tm)
    return time.strftime("%b%d" if tm.tm_year == now.tm_year else "%Y-%b%d", tm)


def iso_time(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(t))


def full_time(t):
    return time.asctime(time.gmtime(t))


class Holder:
    """A cli_holder process: holds an object until told to detach, or killed."""

    def __init__(self, *args, user=None):
        kw = {}
        if user is not None:
            kw = dict(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
        self.proc = subprocess.Popen([HOLDER, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     **kw)
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"cli_holder {args}: {self.proc.stderr.read()}")
        self.id = line.rstrip("\n")
        self.pid = self.proc.pid

    def detach(self):
        self.proc.stdin.write("detach\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline() == "detached\n"
        self.proc.wait()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def close(self):
        self.kill()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            f.close()


class PythonChild:
    """A Python process running `code` (as `user`, if given) that prints `ready`
    once it holds what it should, and holds it until closed."""

    def __init__(self, argv, ready, user=None):
        kw = {}
        if user is not None:
            kw = dict(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
        self.proc = subprocess.Popen(["/usr/bin/python3", "-c", *argv], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, **kw)
        assert self.proc.stdout.readline() == ready + "\n"
        self.pid = self.proc.pid

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


class LockHolder(PythonChild):
    """A Python process that makes a regular file in /dev/shm (with the volatile
    mark, the sticky bit, if asked) and holds a flock on it: what another user
    can do to a name."""

    def __init__(self, path, exclusive=True, sticky=True, user=None):
        code = ("import fcntl, os, sys\n"
                f"fd = os.open({path!r}, os.O_CREAT | os.O_RDWR, 0o644)\n"
                "os.ftruncate(fd, 4096)\n"
                f"os.fchmod(fd, {0o1644 if sticky else 0o644})\n"
                f"fcntl.flock(fd, {fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH})\n"
                "print('locked', flush=True)\n"
                "sys.stdin.read()\n")
        super().__init__([code], "locked", user)


class CliTestCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.prefix = f"/ipcshm-cli-{os.getpid()}-{secrets.token_hex(3)}"
        self.count = 0
        self.posix = []   # names to remove (files, FIFOs, links, directories)
        self.sysv = []    # shmids to remove
        self.procs = []   # Holder / LockHolder processes to end
        self.addCleanup(self.cleanup_all)

    # -- objects ------------------------------------------------------------

    def name(self, tag=""):
        self.count += 1
        n = f"{self.prefix}-{self.count}{tag}"
        self.posix.append(n)
        return n

    def create_posix(self, size="4096", mode="0600", tag=""):
        n = self.name(tag)
        self.assertEqual(self.ok("create", n, size, "--mode", mode), n + "\n")
        return n

    def create_sysv(self, size="4096", mode="0600"):
        key = unused_key()
        out = self.ok("create", f"key:0x{key:08x}", size, "--mode", mode, "--persistent")
        m = re.fullmatch(r"shmid:(\d+)\n", out)
        self.assertTrue(m, out)
        self.sysv.append(int(m.group(1)))
        return key, int(m.group(1))

    def holder(self, *args, user=None):
        h = Holder(*args, user=user)
        self.procs.append(h)
        return h

    def live(self, tag="-live", user=None):
        """A volatile POSIX object with a live holder: (name, holder)."""
        n = self.name(tag)
        return n, self.holder("create", n, "4096", user=user)

    def dead(self, tag="-dead"):
        """A volatile POSIX object whose only holder was SIGKILLed."""
        n, h = self.live(tag)
        h.kill()
        return n

    def lock_holder(self, name, **kw):
        h = LockHolder(SHM + name, **kw)
        self.procs.append(h)
        return h

    def cleanup_all(self):
        for p in self.procs:
            p.close()
        for n in self.posix:
            path = SHM + n
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
        for shmid in self.sysv:
            subprocess.run(["ipcrm", "-m", str(shmid)], capture_output=True)
        leftover = [f for f in os.listdir(SHM) if ("/" + f).startswith(self.prefix)]
        assert not leftover, leftover

    # -- running the tool ---------------------------------------------------

    def run_tool(self, *args, stdin=None, input=None, text=True, user=None, timeout=60):
        kw = {}
        if user is not None:
            kw = dict(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
        return subprocess.run([TOOL, *args], stdin=stdin, input=input, capture_output=True,
                              text=text, timeout=timeout, env=ENV, **kw)

    def check_stderr(self, stderr, args, notes=False):
        """stderr is empty, or (notes) only the hidden-processes note."""
        if notes and isinstance(stderr, str):
            stderr = HIDDEN_NOTE.sub("", stderr)
        self.assertEqual(stderr, "" if isinstance(stderr, str) else b"", f"ipcshm {args}")

    def ok(self, *args, notes=False, **kw):
        r = self.run_tool(*args, **kw)
        self.assertEqual(r.returncode, 0, f"ipcshm {args}: {r.stderr!r}")
        self.check_stderr(r.stderr, args, notes)
        return r.stdout

    def fails(self, code, *args, **kw):
        r = self.run_tool(*args, **kw)
        self.assertEqual(r.returncode, code, f"ipcshm {args}: {r.stdout!r} {r.stderr!r}")
        self.assertEqual(r.stdout, "" if kw.get("text", True) else b"",
                         f"ipcshm {args} printed on stdout")
        return r.stderr

    def skip_unless_root(self):
        if os.geteuid() != 0:
            self.skipTest("needs root (to drop to nobody, to enter a pid namespace)")
        if nobody() is None:
            self.skipTest("no user nobody")
