#!/usr/bin/env python3
"""The cross-language exchange: C creates a volatile object and writes a pattern,
and a volatile typed array (float64, 3x2, column-major); Python, Rust and C++
processes attach both by id, check what C wrote and leave their marks; C checks
the marks, detaches, and both objects are gone. C also sends an anonymous memfd
object to the Python side over a socketpair that this script hands them.

usage: exchange.py BUILDDIR [--cargo CARGO]
Run by scripts/demo.sh (the demo) and by `meson test` (suite interop).
"""
import argparse
import os
import socket
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def python_with_numpy():
    """An interpreter for the Python side, whose array round needs numpy: this
    one, else Debian's (the first python3 on PATH may be a pyenv one without it)."""
    for py in dict.fromkeys([sys.executable, "/usr/bin/python3"]):
        if py and os.access(py, os.X_OK) and subprocess.run(
                [py, "-c", "import numpy"], stderr=subprocess.DEVNULL).returncode == 0:
            return py
    print("exchange: no python3 with numpy (python3-numpy): the Python side will fail",
          file=sys.stderr)
    return sys.executable


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("builddir")
    ap.add_argument("--cargo", help="cargo, to run the Rust side (skipped without)")
    args = ap.parse_args()
    build = os.path.abspath(args.builddir)
    lib = os.path.join(build, "src", "libipcshm.so.1")
    env = dict(os.environ,
               IPCSHM_LIBRARY=lib,
               IPCSHM_LIB_DIR=os.path.dirname(lib),
               PYTHONPATH=os.path.join(ROOT, "bindings", "python"),
               PYTHONDONTWRITEBYTECODE="1",
               CARGO_TARGET_DIR=os.path.join(build, "bindings", "rust", "cargo-target"))

    sides = [("python", [python_with_numpy(),
                         os.path.join(ROOT, "bindings", "python", "examples", "exchange.py")])]
    if args.cargo:
        sides.append(("rust", [args.cargo, "run", "--offline", "--quiet", "--example",
                               "exchange", "--manifest-path",
                               os.path.join(ROOT, "bindings", "rust", "Cargo.toml"), "--"]))
    else:
        print("exchange: no cargo, the Rust side is left out", file=sys.stderr)
    sides.append(("c++", [os.path.join(build, "examples", "exchange-cpp")]))

    # C sends its memfd object on one end; the Python side receives it on the
    # other. Each process inherits only its own end (pass_fds); ours are closed
    # once handed over, so a side that dies shows as a closed peer.
    c_end, py_end = socket.socketpair()
    failed = []
    with c_end, py_end:
        creator = subprocess.Popen([os.path.join(build, "examples", "exchange-c"), "create",
                                    str(c_end.fileno())], pass_fds=[c_end.fileno()],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        c_end.close()
        try:
            shm_id = creator.stdout.readline().strip()
            array_id = creator.stdout.readline().strip()
            if not shm_id or not array_id:
                raise SystemExit("exchange: the C side made no object")
            for slot, (lang, cmd) in enumerate(sides):
                cmd = cmd + [shm_id, str(slot), array_id]
                fds = []
                if lang == "python":
                    cmd.append(str(py_end.fileno()))
                    fds.append(py_end.fileno())
                rc = subprocess.run(cmd, env=env, pass_fds=fds, timeout=300).returncode
                if fds:
                    py_end.close()
                if rc != 0:
                    failed.append(f"{lang} (exit {rc})")
            creator.stdin.write(" ".join(lang for lang, _ in sides) + "\n")
            creator.stdin.close()
            if creator.wait(timeout=30) != 0:
                failed.append("c (the marks or the objects' end)")
        finally:
            if creator.poll() is None:
                creator.kill()
                creator.wait()
    if failed:
        print("exchange: FAILED: " + ", ".join(failed), file=sys.stderr)
        return 1
    print("exchange: C, " + ", ".join(lang for lang, _ in sides) + " shared one object and "
          "one typed array; C passed python a memfd over a socket", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
