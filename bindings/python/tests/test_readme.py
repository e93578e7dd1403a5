"""The README's examples run as written (each in a fresh process)."""
import importlib.util
import re

import pytest

from conftest import PKG_ROOT, RECORD_CREATED, left_behind, run_python

README = (PKG_ROOT / "README.md").read_text()


def python_blocks():
    return re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M)


def test_readme_has_its_examples():
    blocks = python_blocks()
    assert len(blocks) == 6
    assert "SharedMemory.recv" in blocks[1] and "ProcessPoolExecutor" in blocks[2]
    assert "ipcshm.array" in blocks[3]
    assert "ipcshm.Mutex" in blocks[4]
    assert "ipcshm.Channel" in blocks[5]


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_example_runs(index, tmp_path):
    block = python_blocks()[index]
    if "import numpy" in block and importlib.util.find_spec("numpy") is None:
        pytest.skip("needs numpy")
    record = tmp_path / "created"
    record.write_text("")
    r = run_python(RECORD_CREATED + block, record)
    assert r.returncode == 0 and r.stderr == ""
    if index == 0:
        assert r.stdout == ('[Errno 2] shm_open("/no-such-object-here"): '
                            'No such file or directory\n')
    else:
        assert r.stdout == ""
    created = record.read_text().split()
    assert created, "the example made no object?"
    left = left_behind(created)
    assert not left, "the example left objects behind: %r" % left
