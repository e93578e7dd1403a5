"""Channels in ls and info: kind, slot size and count, fill level, the ends' states,
read without side effects, and headers overwritten by another process."""
import json
import os
import re
import shutil
import struct
import subprocess

from cli_util import SHM, USER, CliTestCase, short_time
import cli_util

ENDS = {"live", "never", "closed", "died"}
CHANNEL_COLUMNS = ["SLOTSIZE", "SLOTS", "QUEUED", "SENDER", "RECEIVER"]

# What an attacker writes: offsets of the channel header (src/channel_layout.hpp).
SLOT_COUNT_AT = 12     # Config.slot_count, uint32
TAIL_AT = 64           # SenderLine.tail, uint64
HEAD_AT = 128          # ReceiverLine.head, uint64
ROLES_AT = 192         # Roles.sender, Roles.receiver, uint32 each


def mapped_after_open(calls):
    """The mmap calls (of strace's lines) on a descriptor opened from /dev/shm."""
    fds, maps = set(), []
    for c in calls:
        m = re.search(r'open(at2?)?\(.*"/dev/shm/.*\) = (\d+)$', c)
        if m:
            fds.add(m.group(2))
            continue
        m = re.search(r"mmap\([^,]*, [^,]*, [^,]*, [^,]*, (\d+),", c)
        if m and m.group(1) in fds:
            maps.append(c)
    return maps


class ChannelsTest(CliTestCase):

    def channel(self, messages=3, persistent=False):
        """A channel of 8 slots of 64 bytes whose sender (a cli_holder) sent
        `messages`: (name, sender)."""
        n = self.name("-ch")
        args = ["channel-create", n, "64", "8", "sender", str(messages)]
        return n, self.holder(*args, *(["persistent"] if persistent else []))

    def ls_json(self, *args):
        return json.loads(self.ok("ls", "-J", "-C", *args, notes=True))["sharedmemory"]

    def row(self, name, *args):
        rows = [r for r in self.ls_json(*args) if r["id"] == name]
        self.assertEqual(len(rows), 1, rows)
        return rows[0]

    def ends(self, name):
        r = self.row(name, name)
        return r["sender"], r["receiver"], r["queued"]

    def test_ls_and_info_show_a_channel(self):
        n, sender = self.channel(3)
        st = os.stat(SHM + n)
        # The default table: KIND channel.
        out = self.ok("ls", n, notes=True).splitlines()
        self.assertEqual(out[1].split()[:2], ["channel", n])
        # -C adds the channel columns before HOLDERS.
        out = self.ok("ls", "-C", n, notes=True).splitlines()
        self.assertEqual(out[0].split(), ["KIND", "ID", "KEY", "PERMS", "OWNER", "SIZE",
                                          "NATTCH", "STATUS", "CTIME", *CHANNEL_COLUMNS,
                                          "HOLDERS"])
        self.assertEqual(out[1].split(), ["channel", n, "rw-------", USER, "832B", "live",
                                          short_time(st.st_ctime), "64B", "8", "3", "live",
                                          "never", str(sender.pid)])
        # Without -C, the table is as it was.
        plain = self.create_posix()
        self.assertNotIn("SLOTS", self.ok("ls", n, plain, notes=True))
        # Raw, in bytes, chosen columns: the golden line.
        self.assertEqual(
            self.ok("ls", "-r", "-b", "--noheadings", "-o",
                    "KIND,ID,SLOTSIZE,SLOTS,QUEUED,SENDER,RECEIVER", n, plain, notes=True),
            f"channel {n} 64 8 3 live never\nposix {plain}     \n")
        # JSON: numbers are numbers, absent fields null.
        self.assertEqual(
            {k: v for k, v in self.row(n, "-b", n).items()
             if k in ("kind", "size", "slotsize", "slots", "queued", "sender", "receiver",
                      "holders")},
            {"kind": "channel", "size": 832, "slotsize": 64, "slots": 8, "queued": 3,
             "sender": "live", "receiver": "never", "holders": [sender.pid]})
        p = self.row(plain, n, plain)
        self.assertEqual((p["kind"], p["slotsize"], p["queued"], p["sender"]),
                         ("posix", None, None, None))
        # The whole listing shows it too.
        self.assertEqual(self.row(n)["kind"], "channel")
        self.assertEqual(self.row(n, "--posix")["queued"], 3)
        # info: the label view, with the channel's fields after the size.
        info = self.ok("info", n, notes=True)
        labels = [line.split(":", 1)[0] for line in info.splitlines()]
        self.assertEqual(labels[labels.index("Size"):labels.index("Size") + 6],
                         ["Size", "Slot size", "Slots", "Queued messages", "Sender", "Receiver"])
        for line in ("Kind:              channel", "Slot size:         64B",
                     "Slots:             8", "Queued messages:   3", "Sender:            live",
                     "Receiver:          never", "Status:            live"):
            self.assertIn(line + "\n", info)
        # info as a table of a channel and a plain object: both, channel fields included.
        rows = json.loads(self.ok("info", "-J", n, plain, notes=True))["sharedmemory"]
        self.assertEqual([(r["kind"], r["slots"]) for r in rows], [("channel", 8), ("posix", None)])
        # The last end closes: the volatile channel is gone, and so is its row.
        sender.detach()
        self.assertFalse(os.path.exists(SHM + n))
        self.assertNotIn(n, [r["id"] for r in self.ls_json()])

    def test_ends_as_they_come_and_go(self):
        n, sender = self.channel(3)
        self.assertEqual(self.ends(n), ("live", "never", 3))
        rx = self.holder("channel-open", n, "receiver", "1")
        self.assertEqual(self.ends(n), ("live", "live", 2))
        rx.kill()
        self.assertEqual(self.ends(n), ("live", "died", 2))
        # ls took no role: a new receiver opens it at once, and takes a message.
        rx2 = self.holder("channel-open", n, "receiver", "2")
        self.assertEqual(self.ends(n), ("live", "live", 0))
        rx2.detach()
        self.assertEqual(self.ends(n), ("live", "closed", 0))
        sender.kill()
        self.assertEqual(self.ends(n), ("died", "closed", 0))
        # Every end gone: the volatile object is orphaned (gc's business, not ls's).
        self.assertEqual(self.row(n, n)["status"], "orphaned")
        self.assertTrue(os.path.exists(SHM + n))

    def test_a_full_channel_and_a_persistent_one(self):
        n, sender = self.channel(8, persistent=True)
        self.assertEqual(self.ends(n), ("live", "never", 8))
        sender.detach()
        r = self.row(n, n)
        self.assertEqual((r["kind"], r["status"], r["sender"], r["receiver"], r["queued"]),
                         ("channel", None, "closed", "never", 8))
        self.assertEqual(self.ok("info", "-o", "VOLATILE", "-r", "--noheadings", n), "no\n")

    def overwrite(self, name, offset, data):
        fd = os.open(SHM + name, os.O_WRONLY)
        try:
            os.pwrite(fd, data, offset)
        finally:
            os.close(fd)

    def test_overwritten_headers(self):
        """Headers written by another process: never a crash, never a count
        beyond the ring; a geometry the library rejects is a posix object."""
        n, sender = self.channel(2, persistent=True)
        sender.detach()
        # Indices no ends can have made: STATUS bad, nothing queued.
        self.overwrite(n, TAIL_AT, struct.pack("<Q", 1 << 63))
        r = self.row(n, n)
        self.assertEqual((r["kind"], r["status"], r["queued"]), ("channel", "bad", 0))
        self.overwrite(n, HEAD_AT, struct.pack("<Q", (1 << 63) + 3))
        self.assertEqual(self.row(n, n)["status"], "bad")
        # A sender that died between publishing and counting: head one ahead is possible.
        self.overwrite(n, TAIL_AT, struct.pack("<Q", 5))
        self.overwrite(n, HEAD_AT, struct.pack("<Q", 6))
        r = self.row(n, n)
        self.assertEqual((r["status"], r["queued"]), (None, 0))
        # Role words of any value: one of the four states.
        for word in (0xFFFFFFFF, 0xFFFFFFFE, 1, 0x80000001):
            self.overwrite(n, ROLES_AT, struct.pack("<II", word, word))
            s, rcv, _ = self.ends(n)
            self.assertIn(s, ENDS)
            self.assertIn(rcv, ENDS)
        # A geometry that does not follow from the sizes, then a truncated object.
        self.overwrite(n, SLOT_COUNT_AT, struct.pack("<I", 0xFFFFFFFF))
        r = self.row(n, "-o", "KIND,ID,SLOTS,SENDER", n)
        self.assertEqual((r["kind"], r["slots"], r["sender"]), ("posix", None, None))
        self.overwrite(n, SLOT_COUNT_AT, struct.pack("<I", 8))
        self.assertEqual(self.row(n, n)["kind"], "channel")
        os.truncate(SHM + n, 100)
        self.assertEqual(self.row(n, n)["kind"], "posix")
        for args in (["info", n], ["ls", n], ["ls"]):
            r = self.run_tool(*args)
            self.assertEqual(r.returncode, 0, (args, r.stderr))

    def test_reading_a_channel_takes_nothing(self):
        """ls and info on a channel: no flock, no lock set (F_OFD_SETLK), no
        shared mapping, no open for writing; the ends stay as they were."""
        if not shutil.which("strace") or subprocess.run(
                ["strace", "-f", "-o", "/dev/null", "true"], capture_output=True).returncode:
            self.skipTest("strace cannot trace here")
        n, sender = self.channel(3)
        rx = self.holder("channel-open", n, "receiver", "0")
        dead, dead_sender = self.channel(1)
        dead_sender.kill()
        for args in (["ls"], ["ls", n, dead, "-O"], ["info", n, dead]):
            r = subprocess.run(["strace", "-f", "-qq", "-e",
                                "trace=flock,fcntl,open,openat,openat2,mmap",
                                cli_util.TOOL, *args], capture_output=True, text=True,
                               env=cli_util.ENV)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            calls = [line for line in r.stderr.splitlines() if not line.startswith("ipcshm:")]
            self.assertFalse([c for c in calls if re.search(r"\bflock\(", c)], args)
            self.assertFalse([c for c in calls if re.search(r"F_(OFD_)?SETLKW?", c)], args)
            opened = [c for c in calls if re.search(r'open(at2?)?\(.*"/dev/shm/', c)]
            self.assertFalse(mapped_after_open(calls), args)
            self.assertTrue(opened, args)  # the headers were read
            self.assertFalse([c for c in opened if re.search(r"O_(RDWR|WRONLY|CREAT|TRUNC)", c)],
                             args)
        self.assertEqual(self.ends(n), ("live", "live", 3))
        self.assertEqual(self.ends(dead), ("died", "never", 1))
        self.assertTrue(os.path.exists(SHM + dead))  # not reclaimed
        # Both roles of the live channel are still taken by their ends.
        r = self.run_tool("ls", n, "-o", "HOLDERS", "-J")
        self.assertEqual(sorted(json.loads(r.stdout)["sharedmemory"][0]["holders"]),
                         sorted([sender.pid, rx.pid]))
