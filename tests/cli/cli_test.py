#!/usr/bin/env python3
"""Golden tests of the ipcshm command-line tool, and cross-checks with util-linux.

usage: cli_test.py --tool IPCSHM --holder CLI_HOLDER --version X.Y.Z TEST_NAME

Each test drives the built tool as a user would and compares its output with the
exact expected text, where only the variable parts (times, pids, the unique names
and keys of this run) are normalised or filled in. Every object a test makes has
a name unique to the run and is removed in a cleanup that runs even on failure;
the tests leave nothing in /dev/shm or `ipcs -m`. Objects of other processes
(other suites may run at the same time) are never touched: `gc` is run with
explicit ids, and over everything only with --dry-run, which changes nothing.
"""
import argparse
import grp
import json
import os
import pwd
import random
import re
import secrets
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

TOOL = HOLDER = VERSION = None
SHM = "/dev/shm"
TIME_RE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
USER = pwd.getpwuid(os.geteuid()).pw_name
GROUP = grp.getgrgid(os.getegid()).gr_name
UID, GID = os.geteuid(), os.getegid()


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


def table_cells(line):
    """The cells of one `ls` line: columns are two or more spaces apart."""
    return [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", line)]


class CliTest(unittest.TestCase):
    def setUp(self):
        self.prefix = f"/ipcshm-cli-{os.getpid()}-{secrets.token_hex(3)}"
        self.count = 0
        self.holders = []
        self.addCleanup(self.cleanup_all)
        self.posix = []   # names to unlink
        self.sysv = []    # shmids to remove

    # -- helpers ------------------------------------------------------------

    def name(self, tag=""):
        self.count += 1
        n = f"{self.prefix}-{self.count}{tag}"
        self.posix.append(n)
        return n

    def run_tool(self, *args, stdin=None, input=None, text=True):
        return subprocess.run([TOOL, *args], stdin=stdin, input=input, capture_output=True,
                              text=text, timeout=60)

    def ok(self, *args, **kw):
        r = self.run_tool(*args, **kw)
        self.assertEqual(r.returncode, 0, f"ipcshm {args}: {r.stderr!r}")
        self.assertEqual(r.stderr, "" if kw.get("text", True) else b"", f"ipcshm {args}")
        return r.stdout

    def fails(self, code, *args, **kw):
        r = self.run_tool(*args, **kw)
        self.assertEqual(r.returncode, code, f"ipcshm {args}: {r.stdout!r} {r.stderr!r}")
        self.assertEqual(r.stdout, "", f"ipcshm {args} printed on stdout")
        return r.stderr

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

    def holder(self, name):
        """A process holding the volatile object `name` until killed."""
        p = subprocess.Popen([HOLDER, name, "4096"], stdout=subprocess.PIPE, text=True)
        self.holders.append(p)
        self.assertEqual(p.stdout.readline(), name + "\n")
        return p

    def cleanup_all(self):
        for p in self.holders:
            if p.poll() is None:
                p.kill()
            p.wait()
            p.stdout.close()
        for n in self.posix:
            try:
                os.unlink(SHM + n)
            except FileNotFoundError:
                pass
        for shmid in self.sysv:
            subprocess.run(["ipcrm", "-m", str(shmid)], capture_output=True)
        leftover = [f for f in os.listdir(SHM) if ("/" + f).startswith(self.prefix)]
        assert not leftover, leftover

    def ls_rows(self, *args):
        """`ls` output as (header cells, {id: cells}, all lines), alignment checked."""
        out = self.ok("ls", *args)
        lines = out.splitlines()
        header = table_cells(lines[0])
        self.assertEqual([c[2] for c in header],
                         ["KIND", "ID", "KEY", "SIZE", "BYTES", "MODE", "OWNER", "CPID",
                          "NATTCH", "VOLATILE", "CHANGED"])
        right = {"SIZE", "BYTES", "CPID", "NATTCH"}
        rows = {}
        for line in lines[1:]:
            self.assertEqual(line, line.rstrip(), "trailing spaces")
            cells = table_cells(line)
            self.assertEqual(len(cells), len(header), line)
            for (hs, he, h), (cs, ce, _) in zip(header, cells):
                if h in right:
                    self.assertEqual(ce, he, f"column {h} not aligned right: {line!r}")
                else:
                    self.assertEqual(cs, hs, f"column {h} not aligned left: {line!r}")
            rows[cells[1][2]] = [TIME_RE.sub("<TIME>", c[2]) for c in cells]
        return header, rows, lines

    # -- tests --------------------------------------------------------------

    def test_help_version(self):
        self.assertEqual(self.ok("--version"), f"ipcshm {VERSION} (libipcshm {VERSION})\n")
        self.assertEqual(self.ok("-V"), self.ok("--version"))
        main = self.ok("--help")
        self.assertTrue(main.startswith("Usage: ipcshm COMMAND [ARGS]...\n"), main)
        self.assertEqual(self.ok("-h"), main)
        self.assertEqual(self.ok("help"), main)
        synopses = {
            "ls": "ipcshm ls [--posix|--sysv] [--json]",
            "info": "ipcshm info ID [--json]",
            "create": "ipcshm create ID SIZE [--mode MODE] [--persistent]",
            "rm": "ipcshm rm ID...",
            "chmod": "ipcshm chmod ID MODE",
            "cat": "ipcshm cat ID [--offset N] [--length N]",
            "write": "ipcshm write ID [--offset N] < FILE",
            "gc": "ipcshm gc [--dry-run] [ID...]",
        }
        for cmd, synopsis in synopses.items():
            text = self.ok(cmd, "--help")
            self.assertTrue(text.startswith(f"Usage: {synopsis}\n"), text)
            self.assertEqual(self.ok("help", cmd), text)
            self.assertEqual(self.ok(cmd, "-h"), text)
            self.assertIn(f"  {cmd} ", main)  # listed in the main help
        self.assertIn("persistent", self.ok("create", "--help"))
        self.assertIn("--dry-run", self.ok("gc", "--help"))

    def test_bad_arguments_exit_2(self):
        n = self.name()
        existing = self.create_posix()
        cases = [
            [], ["bogus"], ["--bogus"], ["help", "bogus"],
            ["ls", "--bogus"], ["ls", "extra"], ["ls", "--json=1"],
            ["info"], ["info", existing, "extra"], ["info", "foo"], ["info", "key:zz"],
            ["info", "/a/b"], ["info", "shmid:-1"], ["info", "private"],
            ["create", n], ["create", n, "0"], ["create", n, "12x"], ["create", n, "1.1K"],
            ["create", n, "1.5"], ["create", n, "64Kx"], ["create", n, "16E"],
            ["create", n, "-1"], ["create", n, ""], ["create", n, "K"],
            ["create", n, "99999999999999999999"],
            ["create", n, "4096", "--mode", "0999"], ["create", n, "4096", "--mode", "01777"],
            ["create", n, "4096", "--mode", "rw"], ["create", n, "4096", "--mode"],
            ["create", n, "4096", "--volatile"], ["create", "foo", "4096"],
            ["create", n, "4096", "extra"],
            ["rm"], ["rm", existing, "foo"], ["rm", "private"],
            ["chmod", existing], ["chmod", existing, "rw"], ["chmod", existing, "1000"],
            ["chmod", "foo", "0600"],
            ["cat"], ["cat", existing, "--offset", "x"], ["cat", existing, "--length", "-1"],
            ["cat", existing, "--length"], ["cat", "key:0x"],
            ["write"], ["write", existing, "--offset", "1.5"], ["write", existing, "extra"],
            ["gc", "shmid:1"], ["gc", "--bogus"], ["gc", "//x"],
        ]
        for args in cases:
            err = self.fails(2, *args)
            self.assertRegex(err, r"^ipcshm: ", args)
            self.assertIn("Try 'ipcshm", err, args)
        # Nothing was made or removed by a refused command.
        self.assertFalse(os.path.exists(SHM + n))
        self.assertTrue(os.path.exists(SHM + existing))
        # Golden messages.
        self.assertEqual(
            self.fails(2, "create", n, "12x"),
            "ipcshm: create: invalid size '12x': expected digits, an optional fraction and a "
            "suffix K, M, G, T, P or E (e.g. 4096, 64K, 1.5G)\n"
            "Usage: ipcshm create ID SIZE [--mode MODE] [--persistent]\n"
            "Try 'ipcshm create --help' for more information.\n")
        self.assertEqual(
            self.fails(2, "create", n, "1.1K"),
            "ipcshm: create: invalid size '1.1K': not a whole number of bytes "
            "(e.g. 4096, 64K, 1.5G)\n"
            "Usage: ipcshm create ID SIZE [--mode MODE] [--persistent]\n"
            "Try 'ipcshm create --help' for more information.\n")
        self.assertEqual(
            self.fails(2, "info", "foo"),
            "ipcshm: info: invalid id \"foo\": expected \"/name\", \"key:0x1234\", "
            "\"key:4660\", \"private\", \"shmid:N\" or \"memfd:label\"\n"
            "Usage: ipcshm info ID [--json]\n"
            "Try 'ipcshm info --help' for more information.\n")
        self.assertEqual(
            self.fails(2, "chmod", existing, "0999"),
            "ipcshm: chmod: invalid mode '0999': expected octal permission bits, e.g. 0640\n"
            "Usage: ipcshm chmod ID MODE\n"
            "Try 'ipcshm chmod --help' for more information.\n")
        self.assertEqual(self.fails(2), "ipcshm: missing command\n"
                         "Try 'ipcshm --help' for more information.\n")
        self.assertEqual(self.fails(2, "frobnicate"), "ipcshm: unknown command 'frobnicate'\n"
                         "Try 'ipcshm --help' for more information.\n")

    def test_missing_objects_exit_1(self):
        n = self.name()
        key = unused_key()
        shmid = 2147483000 + random.randrange(600)  # no such segment
        while shmid in sysv_table():
            shmid += 1
        posix_msg = f'ipcshm: stat("{n}"): No such file or directory\n'
        key_msg = f"ipcshm: shmget(key:0x{key:x}): No such file or directory\n"
        shmid_msg = f"ipcshm: shmctl(shmid:{shmid}, IPC_STAT): no such System V segment\n"
        for ident, msg in [(n, posix_msg), (f"key:0x{key:08x}", key_msg),
                           (f"key:{key}", key_msg), (f"shmid:{shmid}", shmid_msg)]:
            for args in [["info", ident], ["info", ident, "--json"], ["rm", ident],
                         ["chmod", ident, "0600"], ["cat", ident]]:
                self.assertEqual(self.fails(1, *args), msg, args)
            self.assertEqual(self.fails(1, "write", ident, input=""), msg)
        self.assertEqual(self.fails(1, "gc", n), posix_msg)
        # create on an existing id: exit 1, the object untouched.
        existing = self.create_posix()
        self.ok("write", existing, input="keep")
        self.assertEqual(self.fails(1, "create", existing, "64K"),
                         f'ipcshm: shm_open("{existing}", O_CREAT|O_EXCL): File exists\n')
        self.assertEqual(self.ok("cat", existing, "--length", "4"), "keep")
        self.assertEqual(os.stat(SHM + existing).st_size, 4096)

    def test_create_and_info_posix(self):
        n = self.name()
        self.assertEqual(self.ok("create", n, "64K", "--mode", "0640"), n + "\n")
        st = os.stat(SHM + n)
        self.assertEqual(st.st_size, 65536)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)  # persistent: no sticky bit
        out = self.ok("info", n)
        times = re.findall(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \((\d+)\)", out)
        self.assertEqual([int(t[1]) for t in times],
                         [int(st.st_atime), int(st.st_mtime), int(st.st_ctime)])
        self.assertEqual(
            re.sub(TIME_RE.pattern + r" \(\d+\)", "<TIME>", out),
            f"id:      {n}\n"
            "kind:    posix\n"
            "size:    65536 (64K)\n"
            "nattch:  0\n"
            "atime:   <TIME>\n"
            "dtime:   <TIME>\n"
            "ctime:   <TIME>\n"
            "mode:    0640\n"
            f"uid:     {UID} ({USER})\n"
            f"gid:     {GID} ({GROUP})\n"
            f"cuid:    {UID} ({USER})\n"
            f"cgid:    {GID} ({GROUP})\n"
            "cpid:    -1\n"
            "lpid:    -1\n"
            "key:     0x00000000\n"
            "shmid:   -1\n"
            "flags:   0x2 (persistent)\n")
        j = json.loads(self.ok("info", n, "--json"))
        self.assertEqual(j, {
            "id": n, "kind": "posix", "size": 65536, "nattch": 0,
            "atime": int(st.st_atime), "dtime": int(st.st_mtime), "ctime": int(st.st_ctime),
            "mode": "0640", "uid": UID, "gid": GID, "cuid": UID, "cgid": GID, "cpid": -1,
            "lpid": -1, "key": 0, "shmid": -1, "flags": 2, "volatile": False, "owner": USER,
            "group": GROUP})
        # The owner always keeps read and write, and says so.
        m = self.name()
        r = self.run_tool("create", m, "1", "--mode", "0440")
        self.assertEqual((r.returncode, r.stdout), (0, m + "\n"))
        self.assertEqual(r.stderr, "ipcshm: note: the owner always keeps read and write: "
                         "mode 0440 is applied as 0640\n")
        self.assertEqual(stat.S_IMODE(os.stat(SHM + m).st_mode), 0o640)

    def test_create_and_info_sysv(self):
        key, shmid = self.create_sysv("1.5M", "0640")
        row = sysv_table()[shmid]
        self.assertEqual((int(row["key"]) & 0xFFFFFFFF, int(row["size"]), row["perms"]),
                         (key, 1572864, "640"))
        for ident in (f"key:0x{key:x}", f"key:{key}", f"shmid:{shmid}"):
            out = self.ok("info", ident)
            out = re.sub(TIME_RE.pattern + r" \(\d+\)", "<TIME>", out)
            out = re.sub(r"(?m)^(cpid|lpid):(\s+)\d+$", r"\1:\2<PID>", out)
            self.assertEqual(
                out,
                f"id:      shmid:{shmid}\n"
                "kind:    sysv\n"
                "size:    1572864 (1.5M)\n"
                "nattch:  0\n"
                "atime:   <TIME>\n"
                "dtime:   <TIME>\n"
                "ctime:   <TIME>\n"
                "mode:    0640\n"
                f"uid:     {UID} ({USER})\n"
                f"gid:     {GID} ({GROUP})\n"
                f"cuid:    {UID} ({USER})\n"
                f"cgid:    {GID} ({GROUP})\n"
                "cpid:    <PID>\n"
                "lpid:    <PID>\n"
                f"key:     0x{key:08x}\n"
                f"shmid:   {shmid}\n"
                "flags:   0x2 (persistent)\n")
            j = json.loads(self.ok("info", ident, "--json"))
            self.assertEqual((j["id"], j["kind"], j["key"], j["shmid"], j["size"], j["mode"],
                              j["cpid"], j["volatile"]),
                             (f"shmid:{shmid}", "sysv", key, shmid, 1572864, "0640",
                              int(row["cpid"]), False))
        # private: a fresh segment, printed as shmid:N, key 0.
        out = self.ok("create", "private", "4K", "--mode", "0600")
        m = re.fullmatch(r"shmid:(\d+)\n", out)
        self.assertTrue(m, out)
        self.sysv.append(int(m.group(1)))
        self.assertEqual(json.loads(self.ok("info", out.strip(), "--json"))["key"], 0)

    def test_sizes_and_templates(self):
        for text, size in [("4096", 4096), ("64K", 65536), ("64k", 65536), ("1.5M", 1572864),
                           ("0.5K", 512), ("2MiB", 2097152), ("3KB", 3072), ("1.25K", 1280),
                           ("1.5G", 1610612736), ("7b", 7), ("2.000", 2)]:
            n = self.create_posix(text)
            self.assertEqual(os.stat(SHM + n).st_size, size, text)
            self.assertEqual(json.loads(self.ok("info", n, "--json"))["size"], size, text)
        out = self.ok("create", self.prefix + "-tXXXXXX", "1.5K")
        self.assertRegex(out, "^" + re.escape(self.prefix) + r"-t[A-Za-z0-9]{6}\n$")
        self.posix.append(out.strip())
        self.assertNotEqual(out.strip(), self.prefix + "-tXXXXXX")
        self.assertEqual(os.stat(SHM + out.strip()).st_size, 1536)

    def test_ls_golden(self):
        a = self.create_posix("4096", "0640", "-a")
        b = self.create_posix("64K", "0600", "-b")
        live = self.name("-live")
        self.holder(live)
        key, shmid = self.create_sysv("1.5M", "0644")
        out = self.ok("create", "private", "100", "--mode", "0600")
        priv = int(out.strip().split(":")[1])
        self.sysv.append(priv)
        table = sysv_table()

        header, rows, lines = self.ls_rows()
        self.assertEqual(rows[a], ["posix", a, "-", "4.0K", "4096", "0640", USER, "-", "-",
                                   "no", "<TIME>"])
        self.assertEqual(rows[b], ["posix", b, "-", "64K", "65536", "0600", USER, "-", "-",
                                   "no", "<TIME>"])
        self.assertEqual(rows[live], ["posix", live, "-", "4.0K", "4096", "0600", USER, "-",
                                      "-", "yes", "<TIME>"])
        self.assertEqual(rows[f"shmid:{shmid}"],
                         ["sysv", f"shmid:{shmid}", f"0x{key:08x}", "1.5M", "1572864", "0644",
                          USER, table[shmid]["cpid"], "0", "no", "<TIME>"])
        self.assertEqual(rows[f"shmid:{priv}"],
                         ["sysv", f"shmid:{priv}", "0x00000000", "100B", "100", "0600", USER,
                          table[priv]["cpid"], "0", "no", "<TIME>"])
        # Sorted: POSIX by name, then System V by shmid.
        kinds = [l.split()[0] for l in lines[1:]]
        self.assertEqual(kinds, sorted(kinds, key=lambda k: k != "posix"))
        posix_ids = [l.split()[1] for l in lines[1:] if l.startswith("posix")]
        self.assertEqual(posix_ids, sorted(posix_ids, key=os.fsencode))
        shmids = [int(l.split()[1][6:]) for l in lines[1:] if l.startswith("sysv")]
        self.assertEqual(shmids, sorted(shmids))
        self.assertLess(posix_ids.index(a), posix_ids.index(b))

        _, prow, plines = self.ls_rows("--posix")
        self.assertTrue(all(l.startswith("posix ") for l in plines[1:]))
        self.assertIn(a, prow)
        self.assertNotIn(f"shmid:{shmid}", prow)
        _, srow, slines = self.ls_rows("--sysv")
        self.assertTrue(all(l.startswith("sysv ") for l in slines[1:]))
        self.assertIn(f"shmid:{shmid}", srow)
        self.assertNotIn(a, srow)
        _, both, _ = self.ls_rows("--posix", "--sysv")
        self.assertIn(a, both)
        self.assertIn(f"shmid:{shmid}", both)

    def test_ls_json_matches_info(self):
        a = self.create_posix("4096", "0640")
        live = self.name("-live")
        self.holder(live)
        key, shmid = self.create_sysv("8K", "0600")
        odd = self.prefix + '-odd "q\\\t\xe9'  # a quote, a backslash, a tab, a non-ASCII char
        self.posix.append(odd)
        self.assertEqual(self.ok("create", odd, "1"), odd + "\n")
        raw = os.fsencode(self.prefix) + b"-raw\xff"  # not UTF-8
        self.posix.append(os.fsdecode(raw))
        r = subprocess.run([TOOL, "create", raw, "1"], capture_output=True, timeout=60)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, raw + b"\n", b""))

        listing = json.loads(self.ok("ls", "--json"))
        self.assertIsInstance(listing, list)
        by_id = {e["id"]: e for e in listing}
        text_ids = set(self.ls_rows()[1])
        for ident in (a, live, f"shmid:{shmid}", odd):
            self.assertIn(ident, by_id)
            self.assertEqual(by_id[ident], json.loads(self.ok("info", ident, "--json")), ident)
        self.assertEqual(by_id[live]["volatile"], True)
        self.assertEqual(by_id[live]["flags"], 0)
        self.assertEqual(by_id[f"shmid:{shmid}"]["key"], key)
        # A name that is not UTF-8 comes back through surrogateescape.
        self.assertIn(os.fsdecode(raw), by_id)
        self.assertIn(a, text_ids)
        self.assertIn(f"shmid:{shmid}", text_ids)
        # --posix / --sysv filter the JSON too.
        kinds = {e["kind"] for e in json.loads(self.ok("ls", "--json", "--sysv"))}
        self.assertLessEqual(kinds, {"sysv"})
        kinds = {e["kind"] for e in json.loads(self.ok("ls", "--posix", "--json"))}
        self.assertLessEqual(kinds, {"posix"})

    def test_rm(self):
        a, b, c, d = (self.create_posix() for _ in range(4))
        key, shmid = self.create_sysv()
        self.assertEqual(self.ok("rm", a, f"key:0x{key:x}", b), "")
        self.assertFalse(os.path.exists(SHM + a) or os.path.exists(SHM + b))
        self.assertNotIn(shmid, sysv_table())
        self.assertEqual(self.fails(1, "rm", a), f'ipcshm: stat("{a}"): No such file or directory\n')
        # Every id is tried; one missing makes the exit status 1.
        self.assertEqual(self.fails(1, "rm", c, a, d),
                         f'ipcshm: stat("{a}"): No such file or directory\n')
        self.assertFalse(os.path.exists(SHM + c) or os.path.exists(SHM + d))
        # By shmid, and a segment removed while attached (a live volatile holder).
        key, shmid = self.create_sysv()
        self.assertEqual(self.ok("rm", f"shmid:{shmid}"), "")
        self.assertNotIn(shmid, sysv_table())
        live = self.name("-live")
        holder = self.holder(live)
        self.assertEqual(self.ok("rm", live), "")
        self.assertFalse(os.path.exists(SHM + live))
        self.assertIsNone(holder.poll())

    def test_chmod(self):
        n = self.create_posix(mode="0600")
        self.assertEqual(self.ok("chmod", n, "0640"), "")
        self.assertEqual(stat.S_IMODE(os.stat(SHM + n).st_mode), 0o640)
        self.assertEqual(self.ok("chmod", n, "604"), "")
        self.assertEqual(stat.S_IMODE(os.stat(SHM + n).st_mode), 0o604)
        r = self.run_tool("chmod", n, "0")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", "ipcshm: note: the owner "
                         "always keeps read and write: mode 0000 is applied as 0600\n"))
        self.assertEqual(stat.S_IMODE(os.stat(SHM + n).st_mode), 0o600)
        key, shmid = self.create_sysv()
        self.assertEqual(self.ok("chmod", f"key:0x{key:x}", "0644"), "")
        self.assertEqual(sysv_table()[shmid]["perms"], "644")
        self.assertEqual(self.ok("chmod", f"shmid:{shmid}", "0660"), "")
        self.assertEqual(sysv_table()[shmid]["perms"], "660")
        # A volatile object stays volatile.
        live = self.name("-live")
        self.holder(live)
        self.assertEqual(self.ok("chmod", live, "0644"), "")
        mode = os.stat(SHM + live).st_mode
        self.assertEqual((stat.S_IMODE(mode) & 0o777, bool(mode & stat.S_ISVTX)), (0o644, True))
        self.assertEqual(json.loads(self.ok("info", live, "--json"))["mode"], "0644")

    def check_cat_write(self, ident, size):
        self.assertEqual(self.ok("write", ident, input="hello"), "")
        self.assertEqual(self.ok("cat", ident, "--length", "5"), "hello")
        whole = self.ok("cat", ident, text=False)
        self.assertEqual(whole, b"hello" + bytes(size - 5))
        data = os.urandom(size)
        self.assertEqual(self.ok("write", ident, input=data, text=False), b"")
        self.assertEqual(self.ok("cat", ident, text=False), data)
        self.assertEqual(self.ok("cat", ident, "--offset", "1K", "--length", "1K", text=False),
                         data[1024:2048])
        self.assertEqual(self.ok("cat", ident, "--offset", str(size), text=False), b"")
        self.assertEqual(self.ok("write", ident, "--offset", str(size - 6), input="abcdef"), "")
        self.assertEqual(self.ok("cat", ident, "--offset", str(size - 6)), "abcdef")
        self.assertEqual(self.ok("write", ident, "--offset", str(size), input=""), "")
        # Past the end: errors, nothing copied.
        self.assertEqual(self.fails(1, "cat", ident, "--offset", str(size + 1)),
                         f"ipcshm: offset {size + 1} is past the end of {ident} ({size} bytes)\n")
        self.assertEqual(self.fails(1, "cat", ident, "--offset", "4000", "--length", "97"),
                         f"ipcshm: 97 bytes from offset 4000 go past the end of {ident} "
                         f"({size} bytes)\n")
        self.assertEqual(self.fails(1, "write", ident, "--offset", str(size + 1), input="x"),
                         f"ipcshm: offset {size + 1} is past the end of {ident} ({size} bytes)\n")
        # Too much input from a pipe: what fits is written, then exit 1.
        self.assertEqual(
            self.fails(1, "write", ident, "--offset", str(size - 6), input="ABCDEFG"),
            f"ipcshm: stdin has more than the 6 bytes that fit in {ident} after offset "
            f"{size - 6} ({size} bytes): the first 6 bytes were written\n")
        self.assertEqual(self.ok("cat", ident, "--offset", str(size - 6)), "ABCDEF")
        # Too much input from a file: refused before anything is written.
        with tempfile.TemporaryFile() as f:
            f.write(b"0123456")
            f.seek(0)
            self.assertEqual(
                self.fails(1, "write", ident, "--offset", str(size - 6), stdin=f),
                f"ipcshm: stdin has 7 bytes; only 6 fit in {ident} after offset {size - 6} "
                f"({size} bytes): nothing written\n")
        self.assertEqual(self.ok("cat", ident, "--offset", str(size - 6)), "ABCDEF")
        with tempfile.TemporaryFile() as f:
            f.write(b"xy")
            f.seek(0)
            self.assertEqual(self.ok("write", ident, "--offset", "2", stdin=f), "")
        self.assertEqual(self.ok("cat", ident, "--length", "4", text=False), data[:2] + b"xy")

    def test_cat_write_posix(self):
        self.check_cat_write(self.create_posix("4K"), 4096)

    def test_cat_write_sysv(self):
        key, shmid = self.create_sysv("4096")
        self.check_cat_write(f"shmid:{shmid}", 4096)
        self.assertEqual(self.ok("cat", f"key:0x{key:x}", "--length", "2", text=False),
                         self.ok("cat", f"shmid:{shmid}", "--length", "2", text=False))

    def test_ipcmk_segment_in_ls(self):
        r = subprocess.run(["ipcmk", "-M", "4096", "-p", "0640"], capture_output=True, text=True,
                           check=True)
        m = re.search(r"Shared memory id: (\d+)", r.stdout)
        self.assertTrue(m, r.stdout)
        shmid = int(m.group(1))
        self.sysv.append(shmid)
        row = sysv_table()[shmid]
        _, rows, _ = self.ls_rows("--sysv")
        self.assertEqual(rows[f"shmid:{shmid}"],
                         ["sysv", f"shmid:{shmid}", f"0x{int(row['key']) & 0xFFFFFFFF:08x}",
                          "4.0K", "4096", "0640", USER, row["cpid"], "0", "no", "<TIME>"])
        j = json.loads(self.ok("info", f"shmid:{shmid}", "--json"))
        self.assertEqual((j["size"], j["mode"], j["uid"], j["owner"], j["volatile"]),
                         (4096, "0640", UID, USER, False))

    def ipcs_row(self, shmid):
        out = subprocess.run(["ipcs", "-m"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            cells = line.split()
            if len(cells) >= 6 and cells[1] == str(shmid):
                return cells
        return None

    def test_create_shows_in_ipcs_and_ipcrm_removes(self):
        key, shmid = self.create_sysv("4096", "0640")
        cells = self.ipcs_row(shmid)
        self.assertEqual(cells[:6], [f"0x{key:08x}", str(shmid), USER, "640", "4096", "0"])
        r = subprocess.run(["ipcrm", "-m", str(shmid)], capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertIsNone(self.ipcs_row(shmid))
        self.assertEqual(self.fails(1, "info", f"shmid:{shmid}"),
                         f"ipcshm: shmctl(shmid:{shmid}, IPC_STAT): no such System V segment\n")
        # Again, removed by key.
        out = self.ok("create", f"key:0x{key:08x}", "4096", "--persistent")
        shmid = int(out.strip().split(":")[1])
        self.sysv.append(shmid)
        self.assertEqual(self.ipcs_row(shmid)[:5], [f"0x{key:08x}", str(shmid), USER, "600",
                                                    "4096"])
        r = subprocess.run(["ipcrm", "-M", f"0x{key:08x}"], capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertIsNone(self.ipcs_row(shmid))
        self.assertEqual(self.fails(1, "info", f"key:0x{key:x}"),
                         f"ipcshm: shmget(key:0x{key:x}): No such file or directory\n")

    def test_gc(self):
        dead = self.name("-dead")
        live = self.name("-live")
        persistent = self.create_posix(tag="-kept")
        victim = self.holder(dead)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        holder = self.holder(live)
        self.assertTrue(os.stat(SHM + dead).st_mode & stat.S_ISVTX)
        ours = [dead, live, persistent]

        # --dry-run removes nothing, over everything and over given ids.
        out = self.ok("gc", "--dry-run")
        self.assertIn(f"would remove {dead}\n", out)
        self.assertNotIn(live, out)
        self.assertNotIn(persistent, out)
        self.assertEqual(self.ok("gc", "--dry-run", *ours), f"would remove {dead}\n")
        self.assertTrue(all(os.path.exists(SHM + n) for n in ours))
        _, rows, _ = self.ls_rows("--posix")
        self.assertEqual((rows[dead][9], rows[live][9], rows[persistent][9]), ("yes", "yes", "no"))

        # gc removes the dead one only, and says so.
        self.assertEqual(self.ok("gc", *ours), f"removed {dead}\n")
        self.assertFalse(os.path.exists(SHM + dead))
        self.assertTrue(os.path.exists(SHM + live) and os.path.exists(SHM + persistent))
        self.assertEqual(self.ok("cat", live, "--length", "4"), "held")
        self.assertIsNone(holder.poll())
        self.assertEqual(self.ok("gc", *ours[1:]), "")

        # Once its holder is gone, the other one goes too.
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        self.assertEqual(self.ok("gc", "--dry-run", live), f"would remove {live}\n")
        self.assertEqual(self.ok("gc", live, persistent), f"removed {live}\n")
        self.assertFalse(os.path.exists(SHM + live))
        self.assertTrue(os.path.exists(SHM + persistent))

    def test_unprivileged(self):
        """As another user: ls shows what /proc tells, gc skips what it may not open."""
        if os.geteuid() != 0:
            self.skipTest("needs root to drop to nobody")
        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("no user nobody")
        as_nobody = dict(user=nobody.pw_uid, group=nobody.pw_gid, extra_groups=[])

        def run_nobody(*args):
            return subprocess.run([os.path.abspath(TOOL), *args], capture_output=True, text=True,
                                  timeout=60, **as_nobody)

        key, shmid = self.create_sysv("4096", "0600")
        dead = self.name("-dead")
        victim = self.holder(dead)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        table = sysv_table()

        r = run_nobody("ls", "--sysv")
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        rows = {}
        for line in r.stdout.splitlines()[1:]:
            cells = [TIME_RE.sub("<TIME>", c[2]) for c in table_cells(line)]
            rows[cells[1]] = cells
        self.assertEqual(rows[f"shmid:{shmid}"],
                         ["sysv", f"shmid:{shmid}", f"0x{key:08x}", "4.0K", "4096", "0600", USER,
                          table[shmid]["cpid"], "0", "no", "<TIME>"])
        r = run_nobody("ls", "--sysv", "--json")
        entry = {e["id"]: e for e in json.loads(r.stdout)}[f"shmid:{shmid}"]
        self.assertEqual(entry, json.loads(self.ok("info", f"shmid:{shmid}", "--json")))
        r = run_nobody("info", f"shmid:{shmid}")
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (1, "", f"ipcshm: shmctl(shmid:{shmid}, IPC_STAT): Permission denied\n"))

        r = run_nobody("gc", "--dry-run", dead)
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (0, "", f'ipcshm: {dead}: skipped: open("/dev/shm{dead}"): '
                                 "Permission denied\n"))
        r = run_nobody("gc", dead)
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (0, "", f'ipcshm: {dead}: skipped: shm_open("{dead}"): '
                                 "Permission denied\n"))
        self.assertTrue(os.path.exists(SHM + dead))
        r = run_nobody("rm", dead)
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (1, "", f'ipcshm: shm_unlink("{dead}"): Permission denied '
                                 "(only its owner or root may; the kernel says Operation "
                                 "not permitted)\n"))
        r = run_nobody("chmod", f"shmid:{shmid}", "0644")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(sysv_table()[shmid]["perms"], "600")
        self.assertEqual(self.ok("gc", dead), f"removed {dead}\n")


def main():
    global TOOL, HOLDER, VERSION
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    parser.add_argument("--holder", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("tests", nargs="*")
    args = parser.parse_args()
    TOOL, HOLDER, VERSION = args.tool, args.holder, args.version
    names = [t if "." in t else "CliTest." + t for t in args.tests]
    prog = unittest.main(argv=[sys.argv[0], "-v", *names], exit=False)
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
