"""The README's example runs as written (in a fresh process)."""
import os
import re

from conftest import PKG_ROOT, run_python

README = (PKG_ROOT / "README.md").read_text()


def python_blocks():
    return re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M)


def psm_names():
    return {n for n in os.listdir("/dev/shm") if n.startswith("psm_")}


def test_readme_has_one_python_example():
    assert len(python_blocks()) == 1


def test_readme_example_runs():
    before = psm_names()
    r = run_python(python_blocks()[0])
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout == ('[Errno 2] shm_open("/no-such-object-here"): '
                        'No such file or directory\n')
    assert not psm_names() - before, "the example left objects behind"
