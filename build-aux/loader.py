#!/usr/bin/env python3
"""Whether the dynamic loader finds libraries in a directory, and ldconfig after install.

    loader.py searched DIR        prints "yes" if ld.so searches DIR by default
                                  (a trusted directory, or one listed in
                                  /etc/ld.so.conf and the files it includes),
                                  else "no"; meson decides the tool's install_rpath
    loader.py post-install DIR    run by `meson install` (not with DESTDIR): in a
                                  directory the loader searches, refreshes its cache
                                  (ldconfig, as root) so that programs find the new
                                  libipcshm.so.1; does nothing elsewhere

LD_SO_CONF (default /etc/ld.so.conf) and LDCONFIG (default ldconfig) may be set,
for tests.
"""
import glob
import os
import subprocess
import sys

# ld.so's own directories, searched without any configuration.
TRUSTED = ["/lib", "/usr/lib", "/lib64", "/usr/lib64"]


def conf_dirs(path, seen=None):
    """The directories listed in an ld.so.conf file, following `include` lines."""
    seen = set() if seen is None else seen
    real = os.path.realpath(path)
    if real in seen:
        return []
    seen.add(real)
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    dirs = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("include") and line[7:8] in (" ", "\t"):
            for pattern in line[8:].split():
                if not os.path.isabs(pattern):
                    pattern = os.path.join(os.path.dirname(path), pattern)
                for included in sorted(glob.glob(pattern)):
                    dirs += conf_dirs(included, seen)
        elif line.startswith("hwcap"):
            continue
        else:
            # "dir=TYPE" (a libc5-era form) names a directory too.
            dirs.append(line.split("=", 1)[0].strip())
    return dirs


def searched(directory):
    conf = os.environ.get("LD_SO_CONF", "/etc/ld.so.conf")
    known = {os.path.realpath(d) for d in TRUSTED + conf_dirs(conf)}
    return os.path.realpath(directory) in known


def post_install(libdir):
    # meson shows an install script's output only when it fails: what to do
    # otherwise is said at `meson setup` (the top-level meson.build).
    if not searched(libdir) or os.geteuid() != 0:
        return 0
    ldconfig = os.environ.get("LDCONFIG", "ldconfig")
    try:
        rc = subprocess.run([ldconfig]).returncode
    except OSError as e:
        print(f"libipcshm: cannot run {ldconfig}: {e}", file=sys.stderr)
        return 1
    if rc != 0:
        print(f"libipcshm: {ldconfig} failed ({rc}) after installing into {libdir}",
              file=sys.stderr)
    return rc


def main(argv):
    if len(argv) != 3 or argv[1] not in ("searched", "post-install"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "searched":
        print("yes" if searched(argv[2]) else "no")
        return 0
    return post_install(argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
