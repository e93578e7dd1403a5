"""The README's examples run as written (each in a fresh process)."""
import importlib.util
import os
import re

import pytest

from conftest import PKG_ROOT, run_python

README = (PKG_ROOT / "README.md").read_text()


def python_blocks():
    return re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M)


def psm_names():
    return {n for n in os.listdir("/dev/shm") if n.startswith("psm_")}


def test_readme_has_its_examples():
    blocks = python_blocks()
    assert len(blocks) == 4
    assert "SharedMemory.recv" in blocks[1] and "ProcessPoolExecutor" in blocks[2]
    assert "ipcshm.array" in blocks[3]


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_example_runs(index):
    block = python_blocks()[index]
    if "import numpy" in block and importlib.util.find_spec("numpy") is None:
        pytest.skip("needs numpy")
    before = psm_names()
    r = run_python(block)
    assert r.returncode == 0 and r.stderr == ""
    if index == 0:
        assert r.stdout == ('[Errno 2] shm_open("/no-such-object-here"): '
                            'No such file or directory\n')
    else:
        assert r.stdout == ""
    assert not psm_names() - before, "the example left objects behind"
