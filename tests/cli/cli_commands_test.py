"""The commands of the ipcshm tool: usage, exit codes, create, info, rm, chmod, cat, write."""
import json
import os
import random
import re
import socket
import stat
import subprocess
import tempfile

from cli_util import (GID, GROUP, SHM, UID, USER, CliTestCase, full_time, nobody, sysv_table,
                      unused_key)
import cli_util

FULL_TIME_RE = re.compile(r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}")


def without_hidden(text):
    """The 'Label: value' view without its count of hidden holders (processes that
    even root may not inspect vary with the machine: a container's pid 1)."""
    return re.sub(r"(?m)^Hidden holders: +\d+\n", "", text)


class CommandsTest(CliTestCase):

    def test_help_version(self):
        v = cli_util.VERSION
        self.assertEqual(self.ok("--version"), f"ipcshm {v} (libipcshm {v})\n")
        self.assertEqual(self.ok("-V"), self.ok("--version"))
        main = self.ok("--help")
        self.assertTrue(main.startswith("Usage: ipcshm COMMAND [ARGS]...\n"), main)
        self.assertEqual(self.ok("-h"), main)
        self.assertEqual(self.ok("help"), main)
        synopses = {
            "ls": "ipcshm ls [--posix|--sysv] [OUTPUT OPTIONS] [ID...]",
            "info": "ipcshm info ID... [OUTPUT OPTIONS]",
            "fuser": "ipcshm fuser ID... [OUTPUT OPTIONS]",
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
        # Every column and every output option is in the help of ls.
        ls_help = self.ok("ls", "--help")
        for col in ("KIND", "ID", "KEY", "SHMID", "OWNER", "PERMS", "UID", "USER", "GID",
                    "GROUP", "CUID", "CUSER", "CGID", "CGROUP", "SIZE", "NATTCH", "STATUS",
                    "VOLATILE", "CTIME", "MTIME", "ATTACH", "DETACH", "CPID", "LPID",
                    "COMMAND", "HOLDERS", "HIDDEN"):
            self.assertRegex(ls_help, rf"(?m)^  {col} +\S", col)
        for opt in ("--output", "--output-all", "--noheadings", "--notruncate", "--raw",
                    "--json", "--export", "--pairs", "--newline", "--list", "--bytes",
                    "--numeric-perms", "--time-format", "--shell", "--creator", "--time",
                    "--posix", "--sysv"):
            self.assertIn(opt, ls_help)
        for col in ("ID", "PID", "USER", "ACCESS", "COMMAND"):
            self.assertRegex(self.ok("fuser", "--help"), rf"(?m)^  {col} +\S", col)

    def test_bad_arguments_exit_2(self):
        n = self.name()
        existing = self.create_posix()
        cases = [
            [], ["bogus"], ["--bogus"], ["help", "bogus"],
            ["ls", "--bogus"], ["ls", "extra"], ["ls", "--json=1"], ["ls", "-z"],
            ["ls", "-o"], ["ls", "-o", ""], ["ls", "-o", "BOGUS"], ["ls", "-o", "ID,,KIND"],
            ["ls", "-o", "+"], ["ls", "--time-format", "weird"], ["ls", "--time-format"],
            ["ls", "-J", "-r"], ["ls", "--json", "--export"], ["ls", "-e", "-n"],
            ["ls", "--raw", "--pairs"], ["ls", "--posix", existing],
            ["info"], ["info", existing, "extra"], ["info", "foo"], ["info", "key:zz"],
            ["info", "/a/b"], ["info", "shmid:-1"], ["info", "private"],
            ["info", existing, "-o", "NOPE"], ["info", existing, "-c"],
            ["fuser"], ["fuser", "foo"], ["fuser", existing, "-o", "KIND"],
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
            "Usage: ipcshm info ID... [OUTPUT OPTIONS]\n"
            "Try 'ipcshm info --help' for more information.\n")
        self.assertEqual(
            self.fails(2, "chmod", existing, "0999"),
            "ipcshm: chmod: invalid mode '0999': expected octal permission bits, e.g. 0640\n"
            "Usage: ipcshm chmod ID MODE\n"
            "Try 'ipcshm chmod --help' for more information.\n")
        self.assertEqual(
            self.fails(2, "ls", "-o", "ID,BOGUS"),
            "ipcshm: ls: unknown column 'BOGUS' (--help lists the columns)\n"
            "Usage: ipcshm ls [--posix|--sysv] [OUTPUT OPTIONS] [ID...]\n"
            "Try 'ipcshm ls --help' for more information.\n")
        self.assertEqual(
            self.fails(2, "ls", "--json", "--raw"),
            "ipcshm: ls: options '--json' and '--raw' are mutually exclusive\n"
            "Usage: ipcshm ls [--posix|--sysv] [OUTPUT OPTIONS] [ID...]\n"
            "Try 'ipcshm ls --help' for more information.\n")
        self.assertEqual(
            self.fails(2, "ls", "--time-format=weird"),
            "ipcshm: ls: unknown time format 'weird': expected short, full or iso\n"
            "Usage: ipcshm ls [--posix|--sysv] [OUTPUT OPTIONS] [ID...]\n"
            "Try 'ipcshm ls --help' for more information.\n")
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
                         ["chmod", ident, "0600"], ["cat", ident], ["fuser", ident],
                         ["ls", ident]]:
                r = self.run_tool(*args)
                self.assertEqual(r.returncode, 1, args)
                self.assertEqual(cli_util.HIDDEN_NOTE.sub("", r.stderr), msg, args)
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
        # Only the fields that mean something for a POSIX object.
        out = self.ok("info", n, notes=True)
        self.assertEqual(
            without_hidden(out),
            f"Id:                {n}\n"
            "Kind:              posix\n"
            "Permissions:       rw-r-----\n"
            f"Owner:             {USER}\n"
            f"UID:               {UID}\n"
            f"User name:         {USER}\n"
            f"GID:               {GID}\n"
            f"Group name:        {GROUP}\n"
            "Size:              64K\n"
            "Volatile:          no\n"
            f"Last modification: {full_time(st.st_mtime)}\n"
            f"Last change:       {full_time(st.st_ctime)}\n"
            "Holders:           none\n")
        # The same fields as lsipc's JSON table, typed.
        j = json.loads(self.ok("info", n, "--json", "-b", "--time-format=iso", notes=True))
        self.assertEqual(list(j), ["sharedmemory"])
        [row] = j["sharedmemory"]
        self.assertIsInstance(row.pop("hidden"), int)
        self.assertEqual(row, {
            "id": n, "kind": "posix", "perms": "rw-r-----", "owner": USER, "uid": UID,
            "user": USER, "gid": GID, "group": GROUP, "size": 65536, "volatile": False,
            "status": None, "mtime": cli_util.iso_time(st.st_mtime),
            "ctime": cli_util.iso_time(st.st_ctime), "holders": []})
        # -o chooses the fields of the label view.
        self.assertEqual(self.ok("info", n, "-o", "ID,SIZE,PERMS", "-b", "-P"),
                         f"Id:          {n}\nSize:        65536\nPermissions: 0640\n")
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
            out = without_hidden(self.ok("info", ident, notes=True))
            row = sysv_table()[shmid]
            self.assertEqual(
                out,
                f"Id:                 shmid:{shmid}\n"
                "Kind:               sysv\n"
                f"Key:                0x{key:08x}\n"
                f"Shmid:              {shmid}\n"
                "Permissions:        rw-r-----\n"
                f"Owner:              {USER}\n"
                f"UID:                {UID}\n"
                f"User name:          {USER}\n"
                f"GID:                {GID}\n"
                f"Group name:         {GROUP}\n"
                f"Creator UID:        {UID}\n"
                f"Creator user:       {USER}\n"
                f"Creator GID:        {GID}\n"
                f"Creator group:      {GROUP}\n"
                "Size:               1.5M\n"
                "Attached processes: 0\n"
                "Volatile:           no\n"
                f"Attach time:        {full_time(int(row['atime']))}\n"
                f"Detach time:        {full_time(int(row['dtime']))}\n"
                f"Last change:        {full_time(int(row['ctime']))}\n"
                f"Creator PID:        {row['cpid']}\n"
                f"Last user PID:      {row['lpid']}\n"
                "Holders:            none\n")
            j = json.loads(self.ok("info", ident, "--json", notes=True))
            [e] = j["sharedmemory"]
            self.assertEqual((e["id"], e["kind"], e["key"], e["shmid"], e["size"], e["perms"],
                              e["cpid"], e["volatile"], e["nattch"], e["status"],
                              e["command"], e["holders"], e["hidden"]),
                             (f"shmid:{shmid}", "sysv", f"0x{key:08x}", shmid, "1.5M",
                              "rw-r-----", int(row["cpid"]), False, 0, None, None, [], 0))
        # private: a fresh segment, printed as shmid:N, key 0.
        out = self.ok("create", "private", "4K", "--mode", "0600")
        m = re.fullmatch(r"shmid:(\d+)\n", out)
        self.assertTrue(m, out)
        self.sysv.append(int(m.group(1)))
        self.assertEqual(self.ok("info", out.strip(), "-o", "KEY"), "Key: 0x00000000\n")

    def test_info_of_several_objects(self):
        a = self.create_posix("1K")
        key, shmid = self.create_sysv("2K")
        out = self.ok("info", a, f"shmid:{shmid}", "-o", "ID,SIZE")
        self.assertEqual(out, f"Id:   {a}\nSize: 1K\n\nId:   shmid:{shmid}\nSize: 2K\n")
        # One table for both kinds: System V's fields and POSIX's MTIME.
        j = json.loads(self.ok("info", a, f"shmid:{shmid}", "-J", notes=True))
        rows = j["sharedmemory"]
        self.assertEqual([r["id"] for r in rows], [a, f"shmid:{shmid}"])
        self.assertEqual(list(rows[0]), [
            "id", "kind", "key", "shmid", "perms", "owner", "uid", "user", "gid", "group",
            "cuid", "cuser", "cgid", "cgroup", "size", "nattch", "volatile", "status",
            "attach", "detach", "mtime", "ctime", "cpid", "lpid", "command", "holders",
            "hidden"])
        self.assertEqual((rows[0]["key"], rows[0]["cpid"], rows[1]["mtime"]), (None, None, None))
        # A missing one among them: the others are shown, exit 1.
        r = self.run_tool("info", a, self.prefix + "-missing", "-o", "ID")
        self.assertEqual((r.returncode, r.stdout), (1, f"Id: {a}\n"))

    def test_sizes_and_templates(self):
        for text, size in [("4096", 4096), ("64K", 65536), ("64k", 65536), ("1.5M", 1572864),
                           ("0.5K", 512), ("2MiB", 2097152), ("3KB", 3072), ("1.25K", 1280),
                           ("1.5G", 1610612736), ("7b", 7), ("2.000", 2)]:
            n = self.create_posix(text)
            self.assertEqual(os.stat(SHM + n).st_size, size, text)
            self.assertEqual(self.ok("info", n, "-o", "SIZE", "--bytes"), f"Size: {size}\n")
        out = self.ok("create", self.prefix + "-tXXXXXX", "1.5K")
        self.assertRegex(out, "^" + re.escape(self.prefix) + r"-t[A-Za-z0-9]{6}\n$")
        self.posix.append(out.strip())
        self.assertNotEqual(out.strip(), self.prefix + "-tXXXXXX")
        self.assertEqual(os.stat(SHM + out.strip()).st_size, 1536)

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
        live, holder = self.live()
        self.assertEqual(self.ok("rm", live), "")
        self.assertFalse(os.path.exists(SHM + live))
        self.assertIsNone(holder.proc.poll())

    def squatters(self, owner=None):
        """A FIFO, a socket, a symbolic link (to a file that must survive), an empty
        directory and a directory tree (with a link out of /dev/shm) squatting names:
        [(name, what the note says)]."""
        outside = tempfile.mkdtemp()
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", outside]))
        target = os.path.join(outside, "precious")
        with open(target, "w") as f:
            f.write("keep")
        self.precious = target
        fifo, sock, link, empty, tree = (self.name(t) for t in
                                         ("-fifo", "-sock", "-link", "-empty", "-tree"))
        os.mkfifo(SHM + fifo)
        s = socket.socket(socket.AF_UNIX)
        s.bind(SHM + sock)
        s.close()
        os.symlink(target, SHM + link)
        os.mkdir(SHM + empty)
        os.makedirs(SHM + tree + "/a/b")
        for p in ("/a/f", "/a/b/g", "/top"):
            with open(SHM + tree + p, "w") as f:
                f.write("x")
        os.symlink(outside, SHM + tree + "/a/out")   # a link to a directory: never followed
        os.symlink(target, SHM + tree + "/a/b/file-link")
        os.mkfifo(SHM + tree + "/a/fifo")
        if owner is not None:
            for n in (fifo, sock, link, empty, tree):
                subprocess.run(["chown", "-hR", f"{owner.pw_uid}:{owner.pw_gid}", SHM + n],
                               check=True)
        return [(fifo, "a FIFO"), (sock, "a socket"), (link, "a symbolic link"),
                (empty, "a directory (with 0 entries)"), (tree, "a directory (with 8 entries)")]

    def test_rm_removes_what_squats_a_name(self):
        squat = self.squatters()
        names = [n for n, _ in squat]
        r = self.run_tool("rm", *names)
        self.assertEqual((r.returncode, r.stdout), (0, ""), r.stderr)
        self.assertEqual(r.stderr, "".join(
            f"ipcshm: note: removed {SHM}{n}, which was {what}, not a shared memory object\n"
            for n, what in squat))
        for n in names:
            self.assertFalse(os.path.lexists(SHM + n), n)
        # Nothing outside /dev/shm was followed.
        with open(self.precious) as f:
            self.assertEqual(f.read(), "keep")
        self.assertEqual(sorted(os.listdir(os.path.dirname(self.precious))), ["precious"])

    def test_rm_of_other_users_squatters(self):
        """rm by a user who does not own the name: refused by the sticky /dev/shm, said
        so; the owner and root may."""
        self.skip_unless_root()
        who = nobody()
        squat = self.squatters(owner=None)  # root's
        fifo, link = squat[0][0], squat[2][0]
        r = self.run_tool("rm", fifo, link, user=who)
        self.assertEqual((r.returncode, r.stdout), (1, ""))
        self.assertEqual(r.stderr, "".join(
            f'ipcshm: unlink("{SHM}{n}"): Operation not permitted (it belongs to {USER}; in a '
            "sticky directory only its owner or root may remove it)\n" for n in (fifo, link)))
        self.assertTrue(os.path.lexists(SHM + fifo) and os.path.lexists(SHM + link))
        # nobody's own: nobody may; root may remove nobody's too.
        theirs = self.name("-theirs")
        mine = self.name("-mine")
        for n in (theirs, mine):
            os.mkfifo(SHM + n)
            os.chown(SHM + n, who.pw_uid, who.pw_gid)
        r = self.run_tool("rm", theirs, user=who)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.run_tool("rm", mine)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.lexists(SHM + theirs) or os.path.lexists(SHM + mine))
        # A tree of nobody's, removed by root.
        tree = squat[4][0]
        subprocess.run(["chown", "-hR", f"{who.pw_uid}:{who.pw_gid}", SHM + tree], check=True)
        self.assertEqual(self.run_tool("rm", tree).returncode, 0)
        self.assertFalse(os.path.lexists(SHM + tree))

    def test_what_is_not_an_object_exits_1(self):
        """A FIFO, directory or symbolic link in /dev/shm is not an object: commands say
        so and exit 1 (2 is for bad usage), and never block on the FIFO."""
        fifo, d, link = self.name("-fifo"), self.name("-dir"), self.name("-link")
        os.mkfifo(SHM + fifo)
        os.mkdir(SHM + d)
        target = self.create_posix()
        os.symlink(SHM + target, SHM + link)
        for n, what in ((fifo, "a FIFO"), (d, "a directory"), (link, "a symbolic link")):
            msg = (f"ipcshm: {n} is not a shared memory object: {SHM}{n} is {what} of {USER} "
                   f"('ipcshm rm {n}' removes it)\n")
            for args in (["info", n], ["cat", n], ["chmod", n, "0644"], ["gc", n],
                         ["gc", "--dry-run", n], ["create", n, "4096"]):
                self.assertEqual(self.fails(1, *args, timeout=20), msg, args)
            self.assertEqual(self.fails(1, "write", n, input="x", timeout=20), msg)
            # ls shows it, with what it is.
            kind = {"a FIFO": "fifo", "a directory": "directory", "a symbolic link": "symlink"}
            out = self.ok("ls", n, "-o", "KIND,ID,STATUS,OWNER", "--noheadings", notes=True)
            self.assertEqual(out.split(), [kind[what], n, "not-shm", USER])

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
        live, _ = self.live()
        self.assertEqual(self.ok("chmod", live, "0644"), "")
        mode = os.stat(SHM + live).st_mode
        self.assertEqual((stat.S_IMODE(mode) & 0o777, bool(mode & stat.S_ISVTX)), (0o644, True))
        self.assertEqual(self.ok("info", live, "-o", "PERMS,VOLATILE", "-P"),
                         "Permissions: 0644\nVolatile:    yes\n")

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

    def test_unprivileged(self):
        """As another user: info shows what /proc tells of a segment; what needs
        permission fails with the library's message."""
        self.skip_unless_root()
        who = nobody()
        key, shmid = self.create_sysv("4096", "0600")
        table = sysv_table()
        r = self.run_tool("info", f"shmid:{shmid}", "-o", "ID,KEY,PERMS,OWNER,SIZE,CPID",
                          user=who)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertEqual(r.stdout,
                         f"Id:          shmid:{shmid}\n"
                         f"Key:         0x{key:08x}\n"
                         "Permissions: rw-------\n"
                         f"Owner:       {USER}\n"
                         "Size:        4K\n"
                         f"Creator PID: {table[shmid]['cpid']}\n")
        r = self.run_tool("info", f"key:0x{key:x}", "-o", "ID", user=who)
        self.assertEqual((r.returncode, r.stdout), (0, f"Id: shmid:{shmid}\n"))
        r = self.run_tool("cat", f"shmid:{shmid}", user=who)
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (1, "", f"ipcshm: shmctl(shmid:{shmid}, IPC_STAT): Permission denied\n"))
        n = self.create_posix(mode="0600")
        r = self.run_tool("rm", n, user=who)
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (1, "", f'ipcshm: shm_unlink("{n}"): Permission denied (only its '
                                 "owner or root may; the kernel says Operation not "
                                 "permitted)\n"))
        r = self.run_tool("chmod", f"shmid:{shmid}", "0644", user=who)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(sysv_table()[shmid]["perms"], "600")
