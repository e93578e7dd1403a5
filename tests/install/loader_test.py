#!/usr/bin/env python3
"""build-aux/loader.py: which directories the dynamic loader searches (read from
an ld.so.conf with include lines), and that `meson install` runs ldconfig after
installing into one of them (as root), and not elsewhere.

    loader_test.py LOADER_PY
"""
import os
import subprocess
import sys
import tempfile


def run(loader, args, env):
    return subprocess.run([sys.executable, loader] + args, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def main(loader):
    with tempfile.TemporaryDirectory(prefix="ipcshm-loader-") as tmp:
        confd = os.path.join(tmp, "ld.so.conf.d")
        os.makedirs(confd)
        conf = os.path.join(tmp, "ld.so.conf")
        with open(conf, "w") as f:
            f.write("# comment\ninclude ld.so.conf.d/*.conf\n/opt/listed/lib\n")
        with open(os.path.join(confd, "multiarch.conf"), "w") as f:
            f.write("/usr/local/lib/x86_64-linux-gnu  # trailing comment\n")
        with open(os.path.join(confd, "ignored.txt"), "w") as f:
            f.write("/opt/not-a-conf-file\n")
        marker = os.path.join(tmp, "ldconfig-ran")
        fake = os.path.join(tmp, "ldconfig")
        with open(fake, "w") as f:
            f.write(f"#!/bin/sh\necho ran > {marker}\n")
        os.chmod(fake, 0o755)
        env = dict(os.environ, LD_SO_CONF=conf, LDCONFIG=fake)

        cases = {"/usr/lib": "yes", "/lib64": "yes",
                 "/usr/local/lib/x86_64-linux-gnu": "yes", "/opt/listed/lib": "yes",
                 "/opt/not-a-conf-file": "no", tmp + "/prefix/lib/x86_64-linux-gnu": "no"}
        for d, want in cases.items():
            got = run(loader, ["searched", d], env).stdout.strip()
            if got != want:
                sys.exit(f"loader_test: FAILED: searched {d}: {got}, expected {want}")

        r = run(loader, ["post-install", tmp + "/prefix/lib/x86_64-linux-gnu"], env)
        if r.returncode != 0 or os.path.exists(marker):
            sys.exit(f"loader_test: FAILED: ldconfig ran for a private prefix ({r.stdout})")
        r = run(loader, ["post-install", "/usr/local/lib/x86_64-linux-gnu"], env)
        ran = os.path.exists(marker)
        if os.geteuid() == 0 and (r.returncode != 0 or not ran):
            sys.exit(f"loader_test: FAILED: ldconfig did not run for /usr/local ({r.stdout})")
        if os.geteuid() != 0 and ran:
            sys.exit("loader_test: FAILED: ldconfig ran without root")
        print("loader_test: searched directories read from ld.so.conf and its includes; "
              "ldconfig after installing into a searched libdir"
              + (" (as root)" if os.geteuid() == 0 else " (not as a user)") +
              ", never for a private prefix")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
