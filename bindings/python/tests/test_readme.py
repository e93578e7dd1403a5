"""The README's examples run as written (each in a fresh process)."""
import importlib.util
import os
import re

import pytest

from conftest import PKG_ROOT, run_python, shmid_exists

README = (PKG_ROOT / "README.md").read_text()


def python_blocks():
    return re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M)


# Every object the example creates, in any of its processes, is written down
# (its id, one a line, in the file argv[1] names): other tests running at the
# same time make unique names too, so a look at /dev/shm cannot tell whose
# they are.
PRELUDE = """
import sys as _sys
import ipcshm._shared_memory as _sm
_record, _adopt = _sys.argv[1], _sm.SharedMemory._adopt
def _recording(self, handle, readonly, prefault):
    _adopt(self, handle, readonly, prefault)
    if self.created:
        with open(_record, "a") as _f:
            _f.write(self.id + "\\n")
_sm.SharedMemory._adopt = _recording
import ipcshm._channels as _ch
_opened = _ch.Channel._opened
def _recording_channel(self):
    _opened(self)
    with open(_record, "a") as _f:
        _f.write(self.id + "\\n")
_ch.Channel._opened = _recording_channel
"""


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
    r = run_python(PRELUDE + block, record)
    assert r.returncode == 0 and r.stderr == ""
    if index == 0:
        assert r.stdout == ('[Errno 2] shm_open("/no-such-object-here"): '
                            'No such file or directory\n')
    else:
        assert r.stdout == ""
    created = record.read_text().split()
    assert created, "the example made no object?"
    left = [i for i in created if i.startswith("/") and os.path.exists("/dev/shm" + i)
            or i.startswith("shmid:") and shmid_exists(int(i[6:]))]
    assert not left, "the example left objects behind: %r" % left
