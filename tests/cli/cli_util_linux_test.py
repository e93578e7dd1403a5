"""The tool against util-linux: lsipc --json, ipcs, ipcmk and ipcrm see what it sees."""
import ctypes
import json
import re
import subprocess

from cli_util import USER, CliTestCase, human, sysv_table, unused_key
import cli_util

# lsipc's columns and the tool's that mean the same (lsipc's ID is SHMID here).
SAME = {"KEY": "KEY", "ID": "SHMID", "PERMS": "PERMS", "OWNER": "OWNER", "SIZE": "SIZE",
        "NATTCH": "NATTCH", "STATUS": "STATUS", "CTIME": "CTIME", "ATTACH": "ATTACH",
        "DETACH": "DETACH", "CPID": "CPID", "LPID": "LPID", "COMMAND": "COMMAND",
        "UID": "UID", "USER": "USER", "GID": "GID", "GROUP": "GROUP", "CUID": "CUID",
        "CUSER": "CUSER", "CGID": "CGID", "CGROUP": "CGROUP"}
SHM_LOCK = 11


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=True, env=cli_util.ENV).stdout


class UtilLinuxTest(CliTestCase):

    def segments(self):
        """Segments in every state lsipc shows: made by the tool, by ipcmk, volatile and
        attached (dest), attached, locked in RAM, private. {shmid: what}."""
        made = {}
        key, shmid = self.create_sysv("1.5M", "0640")
        made[shmid] = "tool"
        out = run("ipcmk", "-M", "10188", "-p", "0600")
        shmid = int(re.search(r"Shared memory id: (\d+)", out).group(1))
        self.sysv.append(shmid)
        made[shmid] = "ipcmk"
        vkey = unused_key()
        h = self.holder("create", f"key:0x{vkey:x}", "4096")
        shmid = int(h.id.split(":")[1])
        self.sysv.append(shmid)
        made[shmid] = "volatile"
        key, shmid = self.create_sysv("8K", "0604")
        self.holder("attach", f"shmid:{shmid}", "ro")
        self.holder("attach", f"key:0x{key:x}")
        made[shmid] = "attached"
        key, shmid = self.create_sysv("4K", "0600")
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.shmctl(shmid, SHM_LOCK, None) == 0:
            made[shmid] = "locked"
        out = self.ok("create", "private", "100")
        shmid = int(out.strip().split(":")[1])
        self.sysv.append(shmid)
        made[shmid] = "private"
        return made

    def test_lsipc_json_cross_check(self):
        made = self.segments()
        theirs_cols = list(SAME)
        mine_cols = [SAME[c] for c in theirs_cols]
        for extra in ([], ["-b"], ["-P"], ["--time-format=full"]):
            theirs = json.loads(run("lsipc", "-m", "--json", "--time-format=iso", "-o",
                                    ",".join(theirs_cols), *extra))["sharedmemory"]
            mine = json.loads(self.ok("ls", "-m", "--json", "--time-format=iso", "-o",
                                      ",".join(mine_cols), *extra, notes=True))["sharedmemory"]
            theirs = {int(r["id"]): r for r in theirs}
            mine = {r["shmid"]: r for r in mine}
            for shmid, what in made.items():
                t, m = theirs[shmid], mine[shmid]
                for tc, mc in SAME.items():
                    tv, mv = t[tc.lower()], m[mc.lower()]
                    if tc == "CGID":
                        # lsipc 2.38 prints the creator's UID as CGID; they agree here.
                        self.assertEqual(m["cuid"], mv, what)
                        continue
                    self.assertEqual(tv, None if mv is None else str(mv),
                                     f"{what} shmid:{shmid} {tc} {extra}")
        rows = {shmid: json.loads(self.ok("info", f"shmid:{shmid}", "-J", "-o", "STATUS,NATTCH"))
                ["sharedmemory"][0] for shmid in made}
        by_what = {what: rows[shmid] for shmid, what in made.items()}
        self.assertEqual(by_what["volatile"], {"status": "dest", "nattch": 1})
        self.assertEqual(by_what["attached"], {"status": None, "nattch": 2})
        if "locked" in by_what:
            self.assertEqual(by_what["locked"]["status"], "locked")

    def test_ipcs_cross_check(self):
        made = self.segments()
        mine = {}
        out = self.ok("ls", "-m", "-r", "--noheadings", "-b", "-P", "-o",
                      "KEY,SHMID,OWNER,PERMS,SIZE,NATTCH,CPID,LPID,STATUS", notes=True)
        for line in out.splitlines():
            cells = line.split(" ")
            mine[int(cells[1])] = cells
        ipcs = {}
        for line in run("ipcs", "-m").splitlines():
            cells = line.split()
            if len(cells) >= 6 and cells[1].isdigit():
                ipcs[int(cells[1])] = cells
        pids = {}
        for line in run("ipcs", "-m", "-p").splitlines():
            cells = line.split()
            if len(cells) == 4 and cells[0].isdigit():
                pids[int(cells[0])] = cells
        for shmid, what in made.items():
            key, sid, owner, mode, size, nattch, cpid, lpid, status = mine[shmid]
            i = ipcs[shmid]
            self.assertEqual(i[:6], [key, sid, owner, format(int(mode, 8), "o"), size, nattch],
                             what)
            self.assertEqual(set(i[6:]), set(status.split(",")) - {""}, what)
            self.assertEqual(pids[shmid], [sid, owner, cpid, lpid], what)

    def test_human_sizes_match_lsipc(self):
        sizes = [1, 100, 1000, 1023, 1024, 1025, 1075, 1076, 1126, 1127, 1536, 1600, 2047,
                 4095, 10188, 1048575, 1572865, 1153433, 1205862, 123456789]
        ids = {}
        for size in sizes:
            out = self.ok("create", "private", str(size))
            shmid = int(out.strip().split(":")[1])
            self.sysv.append(shmid)
            ids[shmid] = size
        theirs = {}
        for line in run("lsipc", "-m", "-r", "--noheadings", "-o", "ID,SIZE").splitlines():
            sid, size = line.split()
            theirs[int(sid)] = size
        out = self.ok("ls", *(f"shmid:{i}" for i in ids), "-r", "--noheadings", "-o",
                      "SHMID,SIZE")
        for line in out.splitlines():
            sid, size = line.split()
            self.assertEqual(size, theirs[int(sid)], ids[int(sid)])
            self.assertEqual(size, human(ids[int(sid)]), ids[int(sid)])

    def test_ipcmk_segment_in_ls(self):
        out = run("ipcmk", "-M", "4096", "-p", "0640")
        shmid = int(re.search(r"Shared memory id: (\d+)", out).group(1))
        self.sysv.append(shmid)
        row = sysv_table()[shmid]
        out = self.ok("ls", "--sysv", "-r", "--noheadings", "-o",
                      "KIND,ID,KEY,SIZE,PERMS,OWNER,CPID,NATTCH,VOLATILE,STATUS", notes=True)
        rows = {line.split(" ")[1]: line.split(" ") for line in out.splitlines()}
        self.assertEqual(rows[f"shmid:{shmid}"],
                         ["sysv", f"shmid:{shmid}", f"0x{int(row['key']) & 0xFFFFFFFF:08x}",
                          "4K", "rw-r-----", USER, row["cpid"], "0", "no", ""])

    def ipcs_row(self, shmid):
        for line in run("ipcs", "-m").splitlines():
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
