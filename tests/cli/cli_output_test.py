"""The output of ls, info and fuser: golden tables, lsipc's options, JSON, escaping."""
import json
import os
import re
import subprocess

from cli_util import (GID, GROUP, SHM, UID, USER, CliTestCase, full_time, iso_time, nobody,
                      short_time, sysv_table)
import cli_util

DEFAULT = ["KIND", "ID", "KEY", "PERMS", "OWNER", "SIZE", "NATTCH", "STATUS", "CTIME",
           "HOLDERS"]
ALL = ["KIND", "ID", "KEY", "SHMID", "OWNER", "PERMS", "UID", "USER", "GID", "GROUP", "CUID",
       "CUSER", "CGID", "CGROUP", "SIZE", "NATTCH", "STATUS", "VOLATILE", "CTIME", "MTIME",
       "ATTACH", "DETACH", "CPID", "LPID", "COMMAND", "HOLDERS", "HIDDEN", "SLOTSIZE", "SLOTS",
       "QUEUED", "SENDER", "RECEIVER"]
RIGHT = {"SHMID", "OWNER", "PERMS", "UID", "GID", "CUID", "CGID", "SIZE", "NATTCH", "CTIME",
         "MTIME", "ATTACH", "DETACH", "CPID", "LPID", "HIDDEN", "SLOTSIZE", "SLOTS", "QUEUED"}


def table(header, rows):
    """The table libsmartcols prints: columns one space apart, as wide as their
    widest cell, numbers and times aligned right (trailing blanks dropped)."""
    widths = [max(len(c) for c in col) for col in zip(header, *rows)]
    out = []
    for row in [header] + rows:
        cells = [c.rjust(w) if h in RIGHT else c.ljust(w) for h, c, w in zip(header, row, widths)]
        out.append(" ".join(cells).rstrip())
    return "\n".join(out) + "\n"


def rstripped(text):
    return "\n".join(line.rstrip() for line in text.split("\n"))


class OutputTest(CliTestCase):

    def objects(self):
        """Two POSIX objects, a live volatile one, a System V segment and a private one."""
        a = self.create_posix("4096", "0640", "-a")
        b = self.create_posix("64K", "0600", "-b")
        live, holder = self.live()
        key, shmid = self.create_sysv("1.5M", "0644")
        out = self.ok("create", "private", "100", "--mode", "0600")
        priv = int(out.strip().split(":")[1])
        self.sysv.append(priv)
        return a, b, live, holder, key, shmid, priv

    def test_ls_golden(self):
        a, b, live, holder, key, shmid, priv = self.objects()
        st = {n: os.stat(SHM + n) for n in (a, b, live)}
        sv = sysv_table()
        expected = table(DEFAULT, [
            ["posix", a, "", "rw-r-----", USER, "4K", "", "", short_time(st[a].st_ctime), ""],
            ["posix", b, "", "rw-------", USER, "64K", "", "", short_time(st[b].st_ctime), ""],
            ["posix", live, "", "rw-------", USER, "4K", "", "live",
             short_time(st[live].st_ctime), str(holder.pid)],
            ["sysv", f"shmid:{shmid}", f"0x{key:08x}", "rw-r--r--", USER, "1.5M", "0", "",
             short_time(int(sv[shmid]["ctime"])), ""],
            ["sysv", f"shmid:{priv}", "0x00000000", "rw-------", USER, "100B", "0", "",
             short_time(int(sv[priv]["ctime"])), ""],
        ])
        out = self.ok("ls", a, b, live, f"shmid:{shmid}", f"shmid:{priv}", notes=True)
        self.assertEqual(rstripped(out), expected)
        self.assertEqual(self.ok("ls", "-l", a, b, live, f"shmid:{shmid}", f"shmid:{priv}",
                                 notes=True), out)

        # The whole listing: POSIX by name, then System V by shmid, ours among them.
        lines = self.ok("ls", notes=True).splitlines()
        self.assertEqual(lines[0].split(), DEFAULT)
        rows = {l.split()[1]: l.split() for l in lines[1:]}
        for line in expected.splitlines()[1:]:
            self.assertEqual(rows[line.split()[1]], line.split())
        kinds = [l.split()[0] for l in lines[1:]]
        self.assertEqual(kinds, sorted(kinds, key=lambda k: k == "sysv"))
        names = [l.split()[1] for l in lines[1:] if not l.startswith("sysv")]
        self.assertEqual(names, sorted(names, key=lambda n: n.encode()))
        shmids = [int(l.split()[1][6:]) for l in lines[1:] if l.startswith("sysv")]
        self.assertEqual(shmids, sorted(shmids))

        # --posix/-M and --sysv/-m list one kind.
        for opts, kind in ((["--posix"], "posix"), (["-M"], "posix"), (["--sysv"], "sysv"),
                           (["-m"], "sysv")):
            out = self.ok("ls", *opts, "-o", "KIND,ID", "--noheadings", notes=True)
            got = {l.split()[1]: l.split()[0] for l in out.splitlines()}
            if kind == "posix":
                self.assertIn(a, got)
                self.assertNotIn(f"shmid:{shmid}", got)
                self.assertTrue(all(k != "sysv" for k in got.values()))
            else:
                self.assertIn(f"shmid:{shmid}", got)
                self.assertEqual(set(got.values()), {"sysv"})

    def test_output_options(self):
        a = self.create_posix("4096", "0640")
        key, shmid = self.create_sysv("8K", "0600")
        s = f"shmid:{shmid}"
        st = os.stat(SHM + a)
        row = sysv_table()[shmid]

        def ls(*args):
            return self.ok("ls", a, s, *args, notes=True)

        self.assertEqual(ls("-o", "ID,SIZE,PERMS", "--noheadings"),
                         table(["ID", "SIZE", "PERMS"], [[a, "4K", "rw-r-----"],
                                                         [s, "8K", "rw-------"]])
                         .split("\n", 1)[1])
        self.assertEqual(ls("-o", "ID,SIZE,PERMS", "-r"),
                         f"ID SIZE PERMS\n{a} 4K rw-r-----\n{s} 8K rw-------\n")
        self.assertEqual(ls("-o", "ID,SIZE,PERMS,KEY", "-e"),
                         f'ID="{a}" SIZE="4K" PERMS="rw-r-----" KEY=""\n'
                         f'ID="{s}" SIZE="8K" PERMS="rw-------" KEY="0x{key:08x}"\n')
        self.assertEqual(ls("-o", "ID,SIZE", "--pairs"), ls("-o", "ID,SIZE", "--export"))
        self.assertEqual(ls("-o", "ID,SIZE", "-n"),
                         f'ID="{a}"\nSIZE="4K"\nID="{s}"\nSIZE="8K"\n')
        self.assertEqual(ls("-o", "ID,SIZE,PERMS", "-b", "-P", "-r", "--noheadings"),
                         f"{a} 4096 0640\n{s} 8192 0600\n")
        self.assertEqual(ls("-o", "id,Size", "-r", "--noheadings"), f"{a} 4K\n{s} 8K\n")
        # +LIST adds to the defaults; a later -o replaces; -O shows everything.
        self.assertEqual(ls("-o", "+SHMID,UID").splitlines()[0].split(), DEFAULT + ["SHMID", "UID"])
        self.assertEqual(ls("-o", "KIND", "-o", "+ID").splitlines()[0].split(), ["KIND", "ID"])
        self.assertEqual(ls("-o", "KIND", "-o", "ID").splitlines()[0].split(), ["ID"])
        self.assertEqual(ls("-O").splitlines()[0].split(), ALL)
        self.assertEqual(ls("-O", "-o", "+KIND").splitlines()[0].split(), ALL + ["KIND"])
        # -c and -t, as lsipc's.
        self.assertEqual(ls("-c").splitlines()[0].split(),
                         DEFAULT[:-1] + ["CUID", "CGID", "UID", "GID", "HOLDERS"])
        self.assertEqual(ls("-t").splitlines()[0].split(),
                         DEFAULT[:-1] + ["ATTACH", "DETACH", "MTIME", "HOLDERS"])
        self.assertEqual(ls("-y", "-o", "ID,USER").splitlines()[0].split(), ["ID", "USER"])
        # Times.
        for fmt, spell in (("iso", iso_time), ("full", full_time), ("short", short_time)):
            out = ls("-o", "CTIME,MTIME,ATTACH,DETACH", "-e", f"--time-format={fmt}")
            self.assertEqual(out,
                             f'CTIME="{spell(st.st_ctime)}" MTIME="{spell(st.st_mtime)}" '
                             'ATTACH="" DETACH=""\n'
                             f'CTIME="{spell(int(row["ctime"]))}" MTIME="" '
                             f'ATTACH="{spell(int(row["atime"]))}" '
                             f'DETACH="{spell(int(row["dtime"]))}"\n', fmt)
        self.assertEqual(ls("-o", "CTIME", "-e"), ls("-o", "CTIME", "-e", "--time-format", "short"))
        # The columns of ids, owners and numbers.
        self.assertEqual(
            ls("-o", "SHMID,UID,USER,GID,GROUP,CUID,CUSER,CGID,CGROUP,CPID,LPID,NATTCH,VOLATILE",
               "-e"),
            'SHMID="" UID="{0}" USER="{1}" GID="{2}" GROUP="{3}" CUID="" CUSER="" CGID="" '
            'CGROUP="" CPID="" LPID="" NATTCH="" VOLATILE="no"\n'.format(UID, USER, GID, GROUP) +
            f'SHMID="{shmid}" UID="{UID}" USER="{USER}" GID="{GID}" GROUP="{GROUP}" '
            f'CUID="{UID}" CUSER="{USER}" CGID="{GID}" CGROUP="{GROUP}" CPID="{row["cpid"]}" '
            f'LPID="{row["lpid"]}" NATTCH="0" VOLATILE="no"\n')

    def test_json(self):
        a, b, live, holder, key, shmid, priv = self.objects()
        st = os.stat(SHM + a)
        j = json.loads(self.ok("ls", "--json", notes=True))
        self.assertEqual(list(j), ["sharedmemory"])
        by_id = {e["id"]: e for e in j["sharedmemory"]}
        self.assertEqual(by_id[a], {
            "kind": "posix", "id": a, "key": None, "perms": "rw-r-----", "owner": USER,
            "size": "4K", "nattch": None, "status": None, "ctime": short_time(st.st_ctime),
            "holders": []})
        self.assertEqual(by_id[live]["status"], "live")
        self.assertEqual(by_id[live]["holders"], [holder.pid])
        self.assertEqual(by_id[f"shmid:{shmid}"]["key"], f"0x{key:08x}")
        self.assertEqual(by_id[f"shmid:{shmid}"]["nattch"], 0)
        # The same keys as the headings, lower case; the types of lsblk's JSON.
        j = json.loads(self.ok("ls", a, live, f"shmid:{shmid}", "-J", "-O", "-b",
                               "--time-format=iso", notes=True))
        rows = j["sharedmemory"]
        for r in rows:
            self.assertEqual(list(r), [c.lower() for c in ALL])
        pa, pl, sv = rows
        self.assertEqual((pa["size"], pa["uid"], pa["gid"], pa["volatile"], pa["shmid"],
                          pa["cuid"], pa["mtime"], pa["attach"], pa["hidden"] >= 0),
                         (4096, UID, GID, False, None, None, iso_time(st.st_mtime), None, True))
        self.assertEqual((pl["volatile"], pl["holders"], pl["status"]),
                         (True, [holder.pid], "live"))
        row = sysv_table()[shmid]
        self.assertEqual((sv["shmid"], sv["size"], sv["cpid"], sv["lpid"], sv["cuid"],
                          sv["nattch"], sv["hidden"], sv["mtime"]),
                         (shmid, 1572864, int(row["cpid"]), int(row["lpid"]), UID, 0, 0, None))
        # info --json is the same table, one row per object.
        self.assertEqual(
            json.loads(self.ok("info", live, "-J", "-O", "-b", "--time-format=iso",
                               notes=True))["sharedmemory"][0], pl)

    def check_escaped(self, text):
        """No control character (but newlines) and no bidi override reaches a terminal."""
        raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
        self.assertFalse(re.search(rb"[\x00-\x09\x0b-\x1f\x7f]", raw), raw)
        self.assertNotIn("\u202e".encode(), raw)
        self.assertNotIn("\u2067".encode(), raw)
        self.assertNotIn(b"\xff", raw)

    def test_escaping(self):
        """Other users' names print escaped as util-linux escapes them, in every output,
        and exact in JSON."""
        self.skip_unless_root()
        who = nobody()
        evil = self.name("-\x1b[2J\u202eexe.txt")
        nl = self.name("-a\nb\u2067")
        bad = os.fsdecode(os.fsencode(self.name("-")) + b"\xff\\x41\t\"q")
        self.posix.append(bad)
        names = [evil, nl, bad]
        for n in names:
            path = os.fsencode(SHM + n)
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
            os.ftruncate(fd, 1)
            os.close(fd)
            os.chown(path, who.pw_uid, who.pw_gid)
        spelled = {
            evil: evil.replace("\x1b", "\\x1b").replace("\u202e", "\\xe2\\x80\\xae"),
            nl: nl.replace("\n", "\\x0a").replace("\u2067", "\\xe2\\x81\\xa7"),
            bad: os.fsdecode(os.fsencode(bad).replace(b"\xff", b"\\xff")
                             .replace(b"\\x41", b"\\x5cx41").replace(b"\t", b"\\x09")),
        }
        # A table.
        r = subprocess.run([cli_util.TOOL, "ls", *map(os.fsencode, names), "-o", "ID,OWNER"],
                           capture_output=True, env=cli_util.ENV)
        self.assertEqual(r.returncode, 0)
        self.check_escaped(r.stdout)
        got = [l.rsplit(None, 1)[0].rstrip() for l in r.stdout.decode().splitlines()[1:]]
        self.assertEqual(got, [spelled[n] for n in names])
        # The 'Label: value' view, fuser, raw, pairs.
        for args in (["info", "-o", "ID"], ["fuser", "-o", "ID,PID"], ["ls", "-r", "-o", "ID"],
                     ["ls", "-e", "-o", "ID"], ["ls", "-n", "-o", "ID"]):
            r = subprocess.run([cli_util.TOOL, args[0], *map(os.fsencode, names), *args[1:]],
                               capture_output=True, env=cli_util.ENV)
            self.assertEqual(r.returncode, 0, args)
            self.check_escaped(r.stdout)
        r = subprocess.run([cli_util.TOOL, "info", os.fsencode(evil), "-o", "ID"],
                           capture_output=True, env=cli_util.ENV)
        self.assertEqual(r.stdout.decode(), f"Id: {spelled[evil]}\n")
        r = subprocess.run([cli_util.TOOL, "ls", os.fsencode(evil), "-e", "-o", "ID"],
                           capture_output=True, env=cli_util.ENV)
        self.assertEqual(r.stdout.decode(),
                         'ID="' + evil.replace("\x1b", "\\x1b")
                         .replace("\u202e", "\\xe2\\x80\\xae") + '"\n')
        # JSON: exact names (bytes that are not UTF-8 as surrogateescape), valid, and
        # harmless on a terminal.
        r = subprocess.run([cli_util.TOOL, "ls", *map(os.fsencode, names), "-J", "-o", "ID"],
                           capture_output=True, env=cli_util.ENV)
        self.check_escaped(r.stdout)
        self.assertIn(b'\\u001b[2J\\u202eexe.txt"', r.stdout)
        ids = [e["id"] for e in json.loads(r.stdout)["sharedmemory"]]
        self.assertEqual([os.fsencode(i) for i in ids], [os.fsencode(n) for n in names])
        # Messages.
        missing = self.prefix + "-gone\x1b]0;pwned\x07"
        r = self.run_tool("cat", missing)
        self.assertEqual(r.stderr, f'ipcshm: stat("{self.prefix}-gone\\x1b]0;pwned\\x07"): '
                                   "No such file or directory\n")
        # gc's report of another user's dead object.
        dead = self.name("-dead\u202e")
        h = self.holder("create", dead, "4096", user=who)
        h.kill()
        r = self.run_tool("gc", dead)
        shown = dead.replace("\u202e", "\\xe2\\x80\\xae")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, f"removed {shown}\n", ""))

    def test_info_label_view_of_a_live_object(self):
        live, h1 = self.live()
        h2 = self.holder("attach", live, "ro")
        lines = sorted([(h1.pid, f"{h1.pid} {cli_util.HOLDER} create {live} 4096 "
                                 "(map-rw,fd,flock-sh)"),
                        (h2.pid, f"{h2.pid} {cli_util.HOLDER} attach {live} ro "
                                 "(map-ro,fd,flock-sh)")])
        out = self.ok("info", live, "-o", "ID,VOLATILE,STATUS,SIZE,HOLDERS", "-b", notes=True)
        self.assertEqual(out,
                         f"Id:       {live}\n"
                         "Volatile: yes\n"
                         "Status:   live\n"
                         "Size:     4096\n"
                         f"Holders:  {lines[0][1]}\n"
                         f"          {lines[1][1]}\n")
