#!/usr/bin/env python3
"""The downstream build: libipcshm as a packager installs it, used as a stranger would.

    downstream.py --meson MESON --build BUILDDIR --src TESTDIR [--cc CC] [--cxx CXX]

1. `meson install --destdir TMP` of BUILDDIR (a staged install under TMP).
2. Finds the installed ipcshm.pc and builds TESTDIR/downstream.c (C99) and
   TESTDIR/downstream.cpp (C++20, through ipcshm.hpp) with nothing but
   `pkg-config --cflags --libs ipcshm` (PKG_CONFIG_SYSROOT_DIR=TMP maps the .pc's
   prefix into the staging directory) and an rpath to the installed library.
3. Runs them: the C program creates a persistent POSIX object and writes a
   pattern, the C++ program attaches it by id, checks and answers, the C program
   checks the answer and removes the object. Each checks in /proc/self/maps that
   it runs the installed library, not the build tree's.
The object and TMP are removed even on failure.
"""

import argparse
import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile


def say(msg):
    print(f"downstream: {msg}", flush=True)


def run(cmd, env=None, check=True):
    say("$ " + shlex.join(cmd))
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if p.stdout.strip():
        print(p.stdout.rstrip(), flush=True)
    if check and p.returncode != 0:
        raise SystemExit(f"downstream: FAILED ({p.returncode}): {shlex.join(cmd)}")
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--meson", required=True, help="meson command (shell words)")
    ap.add_argument("--build", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--version", required=True, help="the project version, x.y.z")
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--cxx", default="c++")
    ap.add_argument("--pkg-config", default="pkg-config")
    args = ap.parse_args()
    meson = shlex.split(args.meson)
    if not shutil.which(args.pkg_config):
        say(f"SKIP: {args.pkg_config} not found")
        return 77

    name = f"/ipcshm-downstream-{os.getpid()}-{secrets.token_hex(4)}"
    tmp = tempfile.mkdtemp(prefix="ipcshm-downstream-")
    try:
        stage = os.path.join(tmp, "stage")
        run(meson + ["install", "-C", args.build, "--no-rebuild", "--quiet",
                     "--destdir", stage])

        # Where meson put things: the installed paths, as the build knows them.
        p = subprocess.run(meson + ["introspect", args.build, "--installed"],
                           stdout=subprocess.PIPE, text=True, check=True)
        installed = json.loads(p.stdout).values()

        def staged(suffix):
            hits = [d for d in installed if d.endswith(suffix)]
            if len(hits) != 1:
                raise SystemExit(f"downstream: FAILED: {len(hits)} installed files end "
                                 f"in {suffix}: {hits}")
            path = stage + hits[0]
            if not os.path.exists(path):
                raise SystemExit(f"downstream: FAILED: {path} was not installed")
            return hits[0], path

        pc_dest, pc = staged("/pkgconfig/ipcshm.pc")
        real_name = "libipcshm.so." + args.version
        lib_dest, lib = staged("/" + real_name)
        libdir = os.path.dirname(lib)
        for link, target in (("libipcshm.so.1", real_name),
                             ("libipcshm.so", "libipcshm.so.1")):
            path = os.path.join(libdir, link)
            if os.readlink(path) != target:
                raise SystemExit(f"downstream: FAILED: {path} -> {os.readlink(path)}, "
                                 f"expected -> {target}")
        say(f"installed {lib_dest} (+ .so.1, .so links) and {pc_dest}")

        env = dict(os.environ)
        for var in ("LD_LIBRARY_PATH", "LD_PRELOAD", "PKG_CONFIG_LIBDIR"):
            env.pop(var, None)
        env["PKG_CONFIG_PATH"] = os.path.dirname(pc)
        env["PKG_CONFIG_SYSROOT_DIR"] = stage
        # Keep -I/-L even if the prefix is a system one (/usr): they point into TMP.
        env["PKG_CONFIG_ALLOW_SYSTEM_CFLAGS"] = "1"
        env["PKG_CONFIG_ALLOW_SYSTEM_LIBS"] = "1"
        flags = shlex.split(run([args.pkg_config, "--cflags", "--libs", "ipcshm"],
                                env=env).stdout)
        for f in flags:
            if f.startswith(("-I", "-L")) and not f[2:].startswith(stage):
                raise SystemExit(f"downstream: FAILED: pkg-config gave {f}, outside the "
                                 "staged install")
        run([args.pkg_config, "--modversion", "ipcshm"], env=env)
        run([args.pkg_config, "--print-requires-private", "ipcshm"], env=env)

        strict = ["-pedantic", "-Wall", "-Wextra", "-Werror"]
        rpath = [f"-Wl,-rpath,{libdir}"]
        exe_c = os.path.join(tmp, "downstream")
        exe_cpp = os.path.join(tmp, "downstream_cpp")
        run(shlex.split(args.cc) + ["-std=c99"] + strict +
            [os.path.join(args.src, "downstream.c"), "-o", exe_c] + flags + rpath, env=env)
        run(shlex.split(args.cxx) + ["-std=c++20"] + strict +
            [os.path.join(args.src, "downstream.cpp"), "-o", exe_cpp] + flags + rpath,
            env=env)
        needed = subprocess.run(["readelf", "-d", exe_c], stdout=subprocess.PIPE,
                                text=True, check=True).stdout
        if "[libipcshm.so.1]" not in needed:
            raise SystemExit("downstream: FAILED: the program does not need libipcshm.so.1 "
                             "(the SONAME)")

        run([exe_c, "create", name, lib], env=env)
        run([exe_cpp, name, lib], env=env)
        run([exe_c, "verify", name, lib], env=env)
        say("PASS")
        return 0
    finally:
        try:
            os.unlink("/dev/shm" + name)
            say(f"cleaned up {name} left behind by a failure")
        except FileNotFoundError:
            pass
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
