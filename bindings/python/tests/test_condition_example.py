"""examples/condition.py, the condition-variable pattern (a Mutex and an
Event), runs as written: its producer and consumer are two processes."""
import os
import subprocess
import sys

from conftest import PKG_ROOT, child_env

EXAMPLE = PKG_ROOT / "examples" / "condition.py"


def test_condition_example_hands_every_number_over():
    before = {n for n in os.listdir("/dev/shm") if n.startswith("condition-")}
    r = subprocess.run([sys.executable, str(EXAMPLE), "500"], env=child_env(),
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout == ("consumer: received 500 numbers, sum 125250\n"
                        "producer: handed over 500 numbers\n")
    after = {n for n in os.listdir("/dev/shm") if n.startswith("condition-")}
    assert after <= before, "the example left its object behind"
