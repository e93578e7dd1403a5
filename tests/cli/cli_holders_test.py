"""Holders and liveness, read from /proc: fuser, HOLDERS, HIDDEN, STATUS, side effects."""
import fcntl
import json
import os
import re
import shutil
import subprocess
import threading

from cli_util import SHM, USER, CliTestCase, nobody, unused_key
import cli_util

# A Python process that maps (and/or keeps open) a POSIX object or attaches a
# System V segment, then waits for its stdin to close.
PY_HOLDER = r"""
import ctypes, mmap, os, sys
what, ident = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
if what in ("fd", "map", "map+fd"):
    fd = os.open("/dev/shm" + ident, os.O_RDWR)
    if what != "fd":  # mmap(2) itself: Python's mmap keeps a descriptor of its own
        addr = libc.mmap(None, 4096, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
        assert addr not in (None, ctypes.c_void_p(-1).value)
    if what == "map":
        os.close(fd)
elif what == "shmat2":
    libc.shmat.restype = ctypes.c_void_p
    for _ in range(2):
        assert libc.shmat(int(ident), None, 0) not in (None, ctypes.c_void_p(-1).value)
print("ready", flush=True)
sys.stdin.read()
"""


class PyHolder(cli_util.PythonChild):
    def __init__(self, what, ident, user=None):
        super().__init__([PY_HOLDER, what, ident], "ready", user)


def unshare_works():
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    r = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"],
                       capture_output=True)
    return r.returncode == 0


class HoldersTest(CliTestCase):

    def py_holder(self, what, ident, user=None):
        h = PyHolder(what, ident, user)
        self.procs.append(h)
        return h

    def fuser_rows(self, *ids, user=None):
        r = self.run_tool("fuser", *ids, "-r", "--noheadings", "-o", "ID,PID,USER,ACCESS",
                          user=user)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [line.split(" ") for line in r.stdout.splitlines()], r.stderr

    def test_holders_of_posix_objects(self):
        live, h1 = self.live()
        h2 = self.holder("attach", live, "ro")
        fd_only = self.py_holder("fd", live)      # a descriptor, no lock, no mapping
        map_only = self.py_holder("map", live)    # a mapping, its descriptor closed
        kept = self.create_posix()
        both = self.py_holder("map+fd", kept)
        rows, _ = self.fuser_rows(live, kept)
        expected = sorted([[live, str(h1.pid), USER, "map-rw,fd,flock-sh"],
                           [live, str(h2.pid), USER, "map-ro,fd,flock-sh"],
                           [live, str(fd_only.pid), USER, "fd"],
                           [live, str(map_only.pid), USER, "map-rw"]], key=lambda r: int(r[1]))
        self.assertEqual(rows, expected + [[kept, str(both.pid), USER, "map-rw,fd"]])
        # HOLDERS in ls and info.
        j = json.loads(self.ok("ls", live, kept, "-J", "-o", "ID,HOLDERS,STATUS", notes=True))
        self.assertEqual(j["sharedmemory"], [
            {"id": live, "holders": [int(r[1]) for r in expected], "status": "live"},
            {"id": kept, "holders": [both.pid], "status": None}])
        out = self.ok("ls", live, "-r", "--noheadings", "-o", "HOLDERS", notes=True)
        self.assertEqual(out, ",".join(r[1] for r in expected) + "\n")
        # info lists them with their command lines (escaped: the script has newlines).
        out = self.ok("info", kept, "-o", "HOLDERS", notes=True)
        script = PY_HOLDER.replace("\n", "\\x0a")
        self.assertEqual(out, f"Holders: {both.pid} /usr/bin/python3 -c {script} map+fd "
                              f"{kept} (map-rw,fd)\n")
        # fuser's COMMAND is the holder's command line.
        out = self.ok("fuser", live, "-o", "PID,COMMAND", "-r", "--noheadings", notes=True)
        self.assertIn(f"{h1.pid} {cli_util.HOLDER} create {live} 4096\n",
                      out.replace("\\x20", " "))
        # Once they are gone, none.
        for p in (h1, h2, fd_only, map_only, both):
            p.close()
        rows, _ = self.fuser_rows(live, kept)
        self.assertEqual(rows, [])
        self.assertEqual(self.ok("ls", live, "-r", "--noheadings", "-o", "STATUS,HOLDERS",
                                 notes=True), "orphaned \n")

    def test_holders_of_a_sysv_segment(self):
        key, shmid = self.create_sysv("4096", "0600")
        h = self.holder("attach", f"key:0x{key:x}")
        twice = self.py_holder("shmat2", str(shmid))
        rows, _ = self.fuser_rows(f"shmid:{shmid}")
        self.assertEqual(rows, sorted([[f"shmid:{shmid}", str(h.pid), USER, "shmat-rw"],
                                       [f"shmid:{shmid}", str(twice.pid), USER, "shmat-rw:2"]],
                                      key=lambda r: int(r[1])))
        out = self.ok("ls", f"shmid:{shmid}", "-J", "-o", "NATTCH,HOLDERS,HIDDEN")
        self.assertEqual(json.loads(out)["sharedmemory"],
                         [{"nattch": 3, "holders": sorted([h.pid, twice.pid]), "hidden": 0}])
        # A volatile segment: dest (removed, destroyed at its last detach).
        v = self.holder("create", f"key:0x{unused_key():x}", "4096")
        vid = v.id
        self.sysv.append(int(vid.split(":")[1]))
        out = self.ok("ls", vid, "-r", "--noheadings", "-o", "KEY,STATUS,NATTCH,HOLDERS,VOLATILE")
        self.assertEqual(out, f"0x00000000 dest 1 {v.pid} yes\n")

    def test_status(self):
        live, holder = self.live()
        dead = self.dead()
        kept = self.create_posix()
        locked = self.name("-locked")
        self.lock_holder(locked, exclusive=True)
        shared = self.name("-shared")   # a volatile mark and a shared lock: live
        self.lock_holder(shared, exclusive=False)
        empty = self.name("-empty")     # a volatile mark, size 0, no lock
        fd = os.open(SHM + empty, os.O_CREAT | os.O_RDWR, 0o600)
        os.fchmod(fd, 0o1600)
        os.close(fd)
        fifo = self.name("-fifo")
        os.mkfifo(SHM + fifo)
        out = self.ok("ls", live, dead, kept, locked, shared, empty, fifo, "-e", "-o",
                      "ID,STATUS,VOLATILE", notes=True)
        self.assertEqual(out,
                         f'ID="{live}" STATUS="live" VOLATILE="yes"\n'
                         f'ID="{dead}" STATUS="orphaned" VOLATILE="yes"\n'
                         f'ID="{kept}" STATUS="" VOLATILE="no"\n'
                         f'ID="{locked}" STATUS="exclusive" VOLATILE="yes"\n'
                         f'ID="{shared}" STATUS="live" VOLATILE="yes"\n'
                         f'ID="{empty}" STATUS="orphaned,empty" VOLATILE="yes"\n'
                         f'ID="{fifo}" STATUS="not-shm" VOLATILE=""\n')
        holder.kill()
        self.assertEqual(self.ok("ls", live, "-r", "--noheadings", "-o", "STATUS"), "orphaned\n")

    def test_status_stays_live_under_lock_churn(self):
        """/proc/locks comes a page at a time, and a lock released meanwhile in a page
        already read makes the next page skip an entry: with a table of many pages
        and locks coming and going, a live object must still never look orphaned."""
        live, _ = self.live()
        code = ("import fcntl, os, sys\n"
                "fds = [os.open(p, os.O_CREAT | os.O_RDWR, 0o600) for p in sys.argv[1:]]\n"
                "print('ready', flush=True)\n"
                "while True:\n"
                "    for fd in fds: fcntl.flock(fd, fcntl.LOCK_SH)\n"
                "    for fd in fds: fcntl.flock(fd, fcntl.LOCK_UN)\n")
        files = [SHM + self.name(f"-churn{i}") for i in range(300)]
        steady = [os.open(SHM + self.name(f"-steady{i}"), os.O_CREAT | os.O_RDWR, 0o600)
                  for i in range(100)]
        self.addCleanup(lambda: [os.close(fd) for fd in steady])
        for fd in steady:
            fcntl.flock(fd, fcntl.LOCK_SH)
        churn = subprocess.Popen(["/usr/bin/python3", "-c", code, *files],
                                 stdout=subprocess.PIPE, text=True)
        self.addCleanup(lambda: (churn.kill(), churn.wait(), churn.stdout.close()))
        self.assertEqual(churn.stdout.readline(), "ready\n")
        seen = [self.ok("ls", live, "-r", "--noheadings", "-o", "STATUS") for _ in range(300)]
        self.assertEqual(set(seen), {"live\n"})

    def test_status_in_a_pid_namespace(self):
        """In a pid namespace of its own, /proc/locks hides the locks of processes
        outside: an object without a visible lock is unknown, not orphaned. What
        counts is the namespace of /proc, not the caller's."""
        if not unshare_works():
            self.skipTest("needs root and unshare --pid --mount-proc")
        live, _ = self.live()
        dead = self.dead()
        kept = self.create_posix()
        args = [cli_util.TOOL, "ls", live, dead, kept, "-r", "--noheadings", "-o", "ID,STATUS"]
        r = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", *args],
                           capture_output=True, text=True, env=cli_util.ENV)
        self.assertEqual((r.returncode, r.stdout),
                         (0, f"{live} unknown\n{dead} unknown\n{kept} \n"), r.stderr)
        r = subprocess.run(["unshare", "--pid", "--fork", *args], capture_output=True, text=True,
                           env=cli_util.ENV)
        self.assertEqual((r.returncode, r.stdout), (0, f"{live} live\n{dead} orphaned\n{kept} \n"),
                         r.stderr)

    def test_hidden_holders_as_another_user(self):
        """nobody may not read root's maps and descriptors: root's holders of a volatile
        object still show by their flock; the others are counted as hidden."""
        self.skip_unless_root()
        who = nobody()
        live, root_holder = self.live()
        kept = self.create_posix(mode="0644")
        self.py_holder("map+fd", kept)
        key, shmid = self.create_sysv("4096", "0644")
        self.holder("attach", f"shmid:{shmid}")
        own, own_holder = self.live("-own", user=who)
        ids = [live, kept, f"shmid:{shmid}", own]
        r = self.run_tool("ls", *ids, "-J", "-o", "ID,HOLDERS,HIDDEN", user=who)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        rows = json.loads(r.stdout)["sharedmemory"]
        hidden = rows[1]["hidden"]
        self.assertGreater(hidden, 0)
        self.assertEqual(rows, [
            {"id": live, "holders": [root_holder.pid], "hidden": hidden},
            {"id": kept, "holders": [], "hidden": hidden},
            {"id": f"shmid:{shmid}", "holders": [], "hidden": 1},
            {"id": own, "holders": [own_holder.pid], "hidden": hidden}])
        # Without the HIDDEN column, notes say what could not be seen.
        r = self.run_tool("ls", *ids, "-o", "ID,HOLDERS", user=who)
        self.assertEqual(r.returncode, 0)
        notes = r.stderr.splitlines(keepends=True)
        self.assertEqual(len(notes), 2, r.stderr)
        m = cli_util.HIDDEN_NOTE.fullmatch(notes[0])
        self.assertTrue(m, notes[0])
        self.assertEqual(notes[0].replace(f"uid {who.pw_uid}", "uid N"),
                         f"ipcshm: note: {m.group(1)} of the {m.group(2)} processes could not be "
                         "inspected (uid N may not read their maps and descriptors): POSIX "
                         "holders among them show only by their flock\n")
        self.assertEqual(notes[1], f"ipcshm: note: 1 System V attachments are by processes "
                                   f"hidden from uid {who.pw_uid} (the HIDDEN column counts "
                                   "them by segment)\n")
        rows, err = self.fuser_rows(*ids, user=who)
        self.assertEqual(rows, [[live, str(root_holder.pid), USER, "flock-sh"],
                                [own, str(own_holder.pid), who.pw_name, "map-rw,fd,flock-sh"]])
        self.assertEqual(len(err.splitlines()), 2, err)
        r = self.run_tool("info", kept, "-o", "ID,HOLDERS,HIDDEN", user=who)
        self.assertRegex(r.stdout, f"^Id:             {kept}\nHolders:        none\n"
                                   r"Hidden holders: [1-9]\d*\n$")

    def test_reading_never_locks_or_opens_objects(self):
        """ls, info, fuser and gc --dry-run take no lock and map no object, and open
        one only read-only, to read a channel's header (a lock taken even for an
        instant would make a last user's detach leave its object behind): checked
        on the system calls they make."""
        if not shutil.which("strace") or subprocess.run(
                ["strace", "-f", "-o", "/dev/null", "true"], capture_output=True).returncode:
            self.skipTest("strace cannot trace here")
        live, _ = self.live()
        dead = self.dead()
        kept = self.create_posix()
        locked = self.name("-locked")
        self.lock_holder(locked)
        key, shmid = self.create_sysv()
        ids = [live, dead, kept, locked, f"shmid:{shmid}"]
        with open("/proc/locks") as f:
            before = sorted(l.split(":", 1)[1] for l in f if "FLOCK" in l)
        for args in (["ls"], ["ls", *ids, "-O"], ["info", *ids], ["fuser", *ids],
                     ["gc", "--dry-run", dead, live, locked, kept]):
            r = subprocess.run(["strace", "-f", "-qq", "-e",
                                "trace=flock,fcntl,open,openat,openat2,shmat,mmap",
                                cli_util.TOOL, *args], capture_output=True, text=True,
                               env=cli_util.ENV)
            self.assertIn(r.returncode, (0, 1), r.stderr[-2000:])
            calls = [l for l in r.stderr.splitlines() if not l.startswith("ipcshm:")]
            self.assertFalse([c for c in calls if re.search(r"\bflock\(", c)], args)
            self.assertFalse([c for c in calls if re.search(r"F_(OFD_)?SETLKW?", c)], args)
            self.assertFalse([c for c in calls if re.search(r"\bshmat\(", c)], args)
            # Opened read-only at most (ipcshm_channel_info reads a channel's header).
            opened = [c for c in calls if re.search(r'open(at2?)?\(.*"/dev/shm/', c)]
            self.assertFalse([c for c in opened if not re.search(r"\bO_RDONLY\b", c)
                              or re.search(r"O_(RDWR|WRONLY|CREAT|TRUNC)", c)], args)
        self.assertTrue(os.path.exists(SHM + dead))  # not reclaimed
        wanted = [lock for lock in before
                  if any(str(os.stat(SHM + n).st_ino) in lock for n in (live, locked))]
        # The kernel serves /proc/locks a page at a time, and a read can skip a
        # held lock while other processes take and drop theirs (the tool reads
        # it several times for the same reason): what any of a few reads shows
        # is held.
        after = set()
        for _ in range(16):
            with open("/proc/locks") as f:
                after.update(l.split(":", 1)[1] for l in f if "FLOCK" in l)
            if all(lock in after for lock in wanted):
                break
        for lock in wanted:
            self.assertIn(lock, after)

    def test_detach_racing_with_readers_destroys_the_object(self):
        """The last user's detach removes its object even while ls, info, fuser and
        gc --dry-run read it at the same time."""
        stop = threading.Event()
        current = [None]
        failures = []

        def read():
            while not stop.is_set():
                n = current[0]
                if n is None:
                    continue
                for args in (["ls", n, "-o", "ID,STATUS,HOLDERS"], ["info", n], ["fuser", n],
                             ["gc", "--dry-run", n]):
                    r = self.run_tool(*args)
                    if r.returncode not in (0, 1):
                        failures.append((args, r.stderr))

        readers = [threading.Thread(target=read) for _ in range(2)]
        for t in readers:
            t.start()
        try:
            for i in range(40):
                n, h = self.live(f"-race{i}")
                current[0] = n
                h.detach()
                self.assertFalse(os.path.exists(SHM + n), f"round {i}: {n} outlived its user")
        finally:
            stop.set()
            for t in readers:
                t.join()
        self.assertEqual(failures, [])
