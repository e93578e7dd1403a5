"""examples/condition.py, the condition-variable pattern (a Mutex and an
Event), runs as written: its producer and consumer are two processes."""
from conftest import PKG_ROOT, RECORD_CREATED, left_behind, run_python

EXAMPLE = PKG_ROOT / "examples" / "condition.py"

# The example runs as its own __main__ (so its consumer is started from its
# file), after RECORD_CREATED, which writes down the objects it creates: the
# other Python suite runs the same example at the same time, so a look at
# /dev/shm cannot tell whose object is whose.
RUN_EXAMPLE = """
import runpy
_example = _sys.argv[2]
_sys.argv = [_example, "500"]
runpy.run_path(_example, run_name="__main__")
"""


def test_condition_example_hands_every_number_over(tmp_path):
    record = tmp_path / "created"
    record.write_text("")
    r = run_python(RECORD_CREATED + RUN_EXAMPLE, record, EXAMPLE, timeout=240)
    assert r.stderr == ""
    assert r.stdout == ("consumer: received 500 numbers, sum 125250\n"
                        "producer: handed over 500 numbers\n")
    created = record.read_text().split()
    assert len(created) == 1, created
    assert not left_behind(created), "the example left its object behind"
