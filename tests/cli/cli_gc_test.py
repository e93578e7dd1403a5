"""gc reclaims dead volatile objects; gc, cat and write never wait on another user's lock."""
import os
import re
import stat
import subprocess

from cli_util import SHM, USER, CliTestCase, nobody
import cli_util
from cli_holders_test import unshare_works


class GcTest(CliTestCase):

    def test_gc(self):
        dead = self.dead()
        live, holder = self.live()
        persistent = self.create_posix(tag="-kept")
        self.assertTrue(os.stat(SHM + dead).st_mode & stat.S_ISVTX)
        ours = [dead, live, persistent]

        # --dry-run removes nothing, over everything and over given ids. (Over
        # everything, objects of tests running meanwhile may be reported.)
        r = self.run_tool("gc", "--dry-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(self.prefix, r.stderr)
        out = r.stdout
        self.assertIn(f"would remove {dead}\n", out)
        self.assertNotIn(live, out)
        self.assertNotIn(persistent, out)
        self.assertEqual(self.ok("gc", "--dry-run", *ours), f"would remove {dead}\n")
        self.assertTrue(all(os.path.exists(SHM + n) for n in ours))
        out = self.ok("ls", *ours, "-r", "--noheadings", "-o", "STATUS,VOLATILE", notes=True)
        self.assertEqual(out, "orphaned yes\nlive yes\n no\n")

        # gc removes the dead one only, and says so.
        self.assertEqual(self.ok("gc", *ours), f"removed {dead}\n")
        self.assertFalse(os.path.exists(SHM + dead))
        self.assertTrue(os.path.exists(SHM + live) and os.path.exists(SHM + persistent))
        self.assertEqual(self.ok("cat", live, "--length", "4"), "held")
        self.assertIsNone(holder.proc.poll())
        self.assertEqual(self.ok("gc", *ours[1:]), "")

        # Once its holder is gone, the other one goes too.
        holder.kill()
        self.assertEqual(self.ok("gc", "--dry-run", live), f"would remove {live}\n")
        self.assertEqual(self.ok("gc", live, persistent), f"removed {live}\n")
        self.assertFalse(os.path.exists(SHM + live))
        self.assertTrue(os.path.exists(SHM + persistent))

    def test_gc_skips_an_exclusively_locked_object(self):
        """Another user holds an exclusive flock on a file with the volatile mark: gc
        reports it and goes on at once, and reclaims the others."""
        self.skip_unless_root()
        who = nobody()
        trap = self.name("-trap")
        locker = self.lock_holder(trap, exclusive=True, user=who)
        dead = self.dead()
        skipped = re.compile(
            rf"ipcshm: {re.escape(trap)}: skipped: held with an exclusive flock by pid "
            rf"{locker.pid} \(/usr/bin/python3 -c import fcntl, os, sys\\x0a.*\) \(attaching it "
            r"would wait\)\n")
        for user in (None, who):
            r = self.run_tool("gc", "--dry-run", trap, dead, user=user, timeout=20)
            self.assertEqual((r.returncode, r.stdout), (0, f"would remove {dead}\n"
                                                        if user is None else ""))
            self.assertRegex(r.stderr, skipped)
        r = self.run_tool("gc", trap, dead, timeout=20)
        self.assertEqual((r.returncode, r.stdout), (0, f"removed {dead}\n"))
        self.assertRegex(r.stderr, "^" + skipped.pattern + "$")
        self.assertTrue(os.path.exists(SHM + trap))
        self.assertEqual(self.ok("ls", trap, "-r", "--noheadings", "-o", "STATUS,OWNER",
                                 notes=True), f"exclusive {who.pw_name}\n")

    def test_gc_gives_up_a_lock_it_cannot_see(self):
        """In a pid namespace /proc/locks does not show the outside's locks: gc then
        asks the library, and gives up its wait for an exclusive lock after 2 s."""
        if not unshare_works():
            self.skipTest("needs root and unshare --pid --mount-proc")
        trap = self.name("-trap")
        self.lock_holder(trap, exclusive=True)
        live, _ = self.live()
        dead = self.dead()

        def in_namespace(*args):
            return subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", cli_util.TOOL,
                                   *args], capture_output=True, text=True, env=cli_util.ENV,
                                  timeout=30)

        r = in_namespace("gc", "--dry-run", trap, live, dead)
        self.assertEqual((r.returncode, r.stdout), (0, ""))
        self.assertEqual(r.stderr, "".join(
            f"ipcshm: {n}: unknown: no lock on it in sight, but /proc/locks hides the locks of "
            "processes outside this pid namespace; gc would attach it to find out\n"
            for n in (trap, live, dead)))
        r = in_namespace("gc", trap, live, dead)
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (0, f"removed {dead}\n",
                          f"ipcshm: {trap}: skipped: another process holds its flock "
                          "exclusively (gave up after 2 s)\n"))
        self.assertTrue(os.path.exists(SHM + trap) and os.path.exists(SHM + live))
        self.assertEqual(self.ok("cat", live, "--length", "4"), "held")

    def test_cat_and_write_do_not_wait_on_a_locked_object(self):
        """An attach would wait for another user's exclusive lock: cat and write say
        who holds it and exit 1 instead; where the lock is hidden (a pid namespace)
        they give up after 2 s."""
        self.skip_unless_root()
        who = nobody()
        trap = self.name("-trap")
        locker = self.lock_holder(trap, exclusive=True, user=who)
        held = re.compile(
            rf"ipcshm: {re.escape(trap)}: held with an exclusive flock by pid {locker.pid} "
            r"\(/usr/bin/python3 -c .*\) \(attaching it would wait\)\n")
        for args, kw in ((["cat", trap], {}), (["write", trap], {"input": "x"})):
            r = self.run_tool(*args, timeout=20, **kw)
            self.assertEqual((r.returncode, r.stdout), (1, ""), r.stderr)
            self.assertRegex(r.stderr, "^" + held.pattern + "$")
        if not unshare_works():
            return
        r = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", cli_util.TOOL, "cat",
                            trap], capture_output=True, text=True, env=cli_util.ENV, timeout=30)
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (1, "", f"ipcshm: {trap}: another process holds its flock exclusively "
                                 "(gave up after 2 s)\n"))

    def test_gc_unprivileged(self):
        """As another user, gc skips what it may not read or remove, and says why."""
        self.skip_unless_root()
        who = nobody()
        unreadable = self.dead("-0600")
        readable = self.dead("-0644")
        os.chmod(SHM + readable, 0o1644)
        r = self.run_tool("gc", "--dry-run", unreadable, readable, user=who)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", (
            f'ipcshm: {unreadable}: skipped: open("/dev/shm{unreadable}"): Permission denied\n'
            f"ipcshm: {readable}: skipped: it belongs to {USER}, and only its owner or root "
            "may remove it\n")))
        r = self.run_tool("gc", unreadable, readable, user=who)
        self.assertEqual((r.returncode, r.stdout), (0, ""))
        self.assertEqual(r.stderr, (
            f'ipcshm: {unreadable}: skipped: shm_open("{unreadable}"): Permission denied\n'
            f'ipcshm: {readable}: skipped: shm_open("{readable}"): No such file or directory '
            "(a volatile object whose users are all gone; not removed: Permission denied)\n"))
        self.assertTrue(os.path.exists(SHM + unreadable) and os.path.exists(SHM + readable))
        self.assertEqual(self.ok("gc", unreadable, readable),
                         f"removed {unreadable}\nremoved {readable}\n")
