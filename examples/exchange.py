#!/usr/bin/env python3
"""The cross-language exchange: C creates a volatile object and writes a pattern;
Python, Rust and C++ processes attach it by id, check the pattern and leave their
marks; C checks the marks, detaches, and the object is gone.

usage: exchange.py BUILDDIR [--cargo CARGO]
Run by scripts/demo.sh (the demo) and by `meson test` (suite interop).
"""
import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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

    sides = [("python", [sys.executable,
                         os.path.join(ROOT, "bindings", "python", "examples", "exchange.py")])]
    if args.cargo:
        sides.append(("rust", [args.cargo, "run", "--offline", "--quiet", "--example",
                               "exchange", "--manifest-path",
                               os.path.join(ROOT, "bindings", "rust", "Cargo.toml"), "--"]))
    else:
        print("exchange: no cargo, the Rust side is left out", file=sys.stderr)
    sides.append(("c++", [os.path.join(build, "examples", "exchange-cpp")]))

    creator = subprocess.Popen([os.path.join(build, "examples", "exchange-c"), "create"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    failed = []
    try:
        shm_id = creator.stdout.readline().strip()
        if not shm_id:
            raise SystemExit("exchange: the C side made no object")
        for slot, (lang, cmd) in enumerate(sides):
            rc = subprocess.run(cmd + [shm_id, str(slot)], env=env, timeout=300).returncode
            if rc != 0:
                failed.append(f"{lang} (exit {rc})")
        creator.stdin.write(" ".join(lang for lang, _ in sides) + "\n")
        creator.stdin.close()
        if creator.wait(timeout=30) != 0:
            failed.append("c (the marks or the object's end)")
    finally:
        if creator.poll() is None:
            creator.kill()
            creator.wait()
    if failed:
        print("exchange: FAILED: " + ", ".join(failed), file=sys.stderr)
        return 1
    print("exchange: C, " + ", ".join(lang for lang, _ in sides) + " shared one object",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
