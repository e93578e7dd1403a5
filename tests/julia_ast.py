"""Parses Julia files with tree-sitter-julia, for the tests of the Julia binding
that run without Julia (julia_syntax_test.py, julia_api_test.py).

The parser comes from npm: tree-sitter and tree-sitter-julia at the versions of
tests/julia_syntax/package-lock.json, installed with `npm ci` into a folder of
the build tree the first time (and again when the lock file changes), under a
file lock so that tests running at once install it once. Both packages ship
prebuilt N-API binaries for linux-x64; where those do not load, they are built
from source (node-gyp: g++, python3 and Node's headers).
"""
import fcntl
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_DIR = os.path.join(HERE, "julia_syntax")
AST_JS = os.path.join(PACKAGE_DIR, "ast.js")


def _run(cmd, cwd):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} (in {cwd}) failed with {proc.returncode}:\n"
                           f"{proc.stdout}{proc.stderr}")
    return proc


def _loads(node, folder):
    return subprocess.run([node, "-e", "require('tree-sitter'); require('tree-sitter-julia')"],
                          cwd=folder, capture_output=True).returncode == 0


def install(folder):
    """Installs the parser into `folder` unless the same lock is installed there;
    returns the path of node."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise RuntimeError("node and npm are needed to check the Julia files without "
                           "Julia (scripts/setup.sh installs Debian's nodejs and npm)")
    os.makedirs(folder, exist_ok=True)
    lock = open(os.path.join(HERE, "julia_syntax", "package-lock.json"), "rb").read()
    stamp = os.path.join(folder, "installed-lock.json")
    with open(os.path.join(folder, ".install.lock"), "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if os.path.exists(stamp) and open(stamp, "rb").read() == lock and _loads(node, folder):
            return node
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(os.path.join(PACKAGE_DIR, name), os.path.join(folder, name))
        _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], folder)
        if not _loads(node, folder):
            # No prebuilt binary for this machine: build both from source.
            _run([npm, "rebuild", "--foreground-scripts"], folder)
            if not _loads(node, folder):
                raise RuntimeError(f"tree-sitter-julia installed in {folder} does not load")
        with open(stamp, "wb") as f:
            f.write(lock)
    return node


def parse(folder, paths):
    """The parse of each file (see julia_syntax/ast.js), installing the parser into
    `folder` first if needed."""
    node = install(folder)
    env = dict(os.environ, NODE_PATH=os.path.join(folder, "node_modules"))
    proc = subprocess.run([node, AST_JS] + list(paths), capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"ast.js failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


def julia_files(root):
    """Every .jl file under `root`, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        out += [os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".jl")]
    return out


if __name__ == "__main__":
    json.dump(parse(sys.argv[1], sys.argv[2:]), sys.stdout, indent=1)
