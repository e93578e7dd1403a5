"""Type hints (PEP 561): the stubs match the module, and a type checker uses them."""
import os
import subprocess
import sys

import pytest

from conftest import PKG_ROOT, child_env

mypy = pytest.importorskip("mypy", reason="mypy (python3-mypy) is not installed")


def _run_mypy(args, cwd):
    env = child_env(MYPY_CACHE_DIR=os.devnull)   # no .mypy_cache anywhere
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_package_has_py_typed():
    assert (PKG_ROOT / "ipcshm" / "py.typed").is_file()


def test_stubs_match_the_module(tmp_path):
    # stubtest imports ipcshm and compares every public name and signature (and
    # _native.py's inline hints) with ipcshm/__init__.pyi.
    r = _run_mypy(["mypy.stubtest", "ipcshm"], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_package_passes_strict_mypy(tmp_path):
    r = _run_mypy(["mypy", "--strict", "-p", "ipcshm"], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


USE = '''
import socket
import numpy as np
import ipcshm

def make(n: int) -> str:
    with ipcshm.SharedMemory(create=True, size=n) as shm:
        shm.buf[:1] = b"x"
        info: ipcshm.ShmInfo = shm.info()
        assert info.size >= n and shm.volatile
        return shm.id

def arr() -> float:
    a = ipcshm.array(None, np.float64, (3, 2), create=True)
    return float(a[0, 0])

major, minor, patch = ipcshm.version()
version: str = ipcshm.__version__
a, b = socket.socketpair()
'''


def test_a_type_checker_uses_the_hints(tmp_path):
    good = tmp_path / "good.py"
    good.write_text(USE)
    r = _run_mypy(["mypy", "--strict", str(good)], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    # and it finds what is wrong, so the hints are not Any
    bad = tmp_path / "bad.py"
    bad.write_text("import ipcshm\n"
                   "n: str = ipcshm.page_size()\n"
                   "ipcshm.SharedMemory(create=True, size=1, perms='0600')\n")
    r = _run_mypy(["mypy", "--strict", str(bad)], tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert 'bad.py:2: error: Incompatible types in assignment' in r.stdout, r.stdout
    assert 'bad.py:3: error: Argument "perms"' in r.stdout, r.stdout
