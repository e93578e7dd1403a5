"""ShareableList: CPython's interface and byte format, read and written both
ways across processes with CPython's own ShareableList, without its known
bugs (trailing NULs stripped: cpython#96779, #106939; multi-byte UTF-8 cut:
cpython#145261)."""
import multiprocessing
import pickle
import struct
import textwrap
from multiprocessing import shared_memory as cpython

import pytest

import ipcshm
from conftest import run_python, shm_exists, start_python, unique_name

ShareableList = ipcshm.ShareableList

VALUES = [42, -7, 2.5, True, False, None, "hello", b"bytes", "", b"",
          # what CPython loses: trailing NULs, multi-byte UTF-8 past the slot
          b"ab\x00\x00", "x\x00", b"\x00", "\x00\x01\x00", bytes(50),
          "0\U00010000\U00010000", "é" * 8, "日本語テキスト", "\U0001f4a5" * 3,
          2**63 - 1, -2**63, float("inf")]


def test_every_value_comes_back_exactly(name):
    sl = ShareableList(VALUES, name=name)
    try:
        assert list(sl) == VALUES and len(sl) == len(VALUES)
        assert [type(v) for v in sl] == [type(v) for v in VALUES]
        again = ShareableList(name=name)                 # attached: the same
        assert list(again) == VALUES
        again.shm.close()
    finally:
        sl.shm.close()


def test_cpythons_interface(name):
    sl = ShareableList([1, "two", b"three", 4.0, None], name=name)
    with sl.shm:
        assert sl[0] == 1 and sl[-1] is None and sl[-5] == 1
        with pytest.raises(IndexError):
            sl[5]
        with pytest.raises(IndexError):
            sl[-6] = 1
        sl[0] = "now a str"[:8]                          # a slot of 8 takes 8 bytes
        sl[1] = 2                                        # a str slot takes an int
        assert sl[0] == "now a st" and sl[1] == 2
        with pytest.raises(ValueError, match="exceeds available storage"):
            sl[2] = b"x" * 9
        assert sl.count(2) == 1 and sl.index(None) == 4
        with pytest.raises(ValueError, match="not in this container"):
            sl.index("absent")
        assert repr(sl) == "ShareableList(%r, name=%r)" % (list(sl), name)
        assert sl.shm.name == name and isinstance(sl.shm, ipcshm.SharedMemory)
        assert ShareableList[int].__origin__ is ShareableList
        fmt = sl.format
        assert fmt.startswith("8s0xq") and fmt.endswith("dxxxxxx?x")


@pytest.mark.parametrize("label, call", [
    ("an unsupported type", lambda cls: cls([[1]])),
    ("an int outside int64", lambda cls: cls([2**63])),
    ("an index out of range", lambda cls: cls([1])[1]),
    ("a str too long for its slot", lambda cls: cls(["abc"]).__setitem__(0, "x" * 9)),
    ("a slice", lambda cls: cls([1, 2])[0:1]),
])
def test_the_same_errors_as_cpython(label, call):
    made = []

    def outcome(cls):
        class Tracked(cls):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                made.append(self)
        try:
            call(Tracked)
        except Exception as e:
            return type(e)
        return None

    theirs, ours = outcome(cpython.ShareableList), outcome(ShareableList)
    for sl in made:
        sl.shm.close()
        sl.shm.unlink()
    assert theirs is not None and issubclass(ours, theirs), (label, theirs, ours)


def test_unsupported_types_say_so():
    with pytest.raises(TypeError, match="not list") as ei:
        ShareableList([[1]])
    assert isinstance(ei.value, KeyError)                # CPython's exception too


def test_large_values_and_the_limit(name):
    big = [b"x" * 99_999 + b"\x00", b"y" * 100_000 + b"\x00", b"z" * 1_000_000 + b"\x00"]
    sl = ShareableList(big, name=name)
    with sl.shm:
        assert list(sl) == big
        # 6 digits: a format that reads the value and one padding byte; 7: a
        # format shorter than its slot
        assert sl.format == "100000sx100001sx1000001s"
    with pytest.raises(ValueError, match="10,000,000"):
        ShareableList([b"\x01" * 10_000_000])


def test_a_value_that_fills_its_slot_stays_exact(name):
    sl = ShareableList([b"12345678", "abcdefgh"], name=name)
    with sl.shm:
        sl[0] = b"1234567\x00"                         # 8 bytes in a slot of 16
        sl[1] = "é" * 8                                 # 16 bytes in a slot of 16
        assert sl[0] == b"1234567\x00" and sl[1] == "é" * 8
        assert sl.format == "8s8x16s0x"


# Across processes, with CPython's ShareableList --------------------------------

CPY_READ_AND_WRITE = textwrap.dedent("""
    import sys
    from multiprocessing import resource_tracker
    from multiprocessing.shared_memory import ShareableList
    sl = ShareableList(name=sys.argv[1])
    # (CPython 3.11 registers what it attaches, to unlink it at exit: not ours)
    resource_tracker.unregister(sl.shm._name, "shared_memory")
    print(repr(list(sl)))
    sl[0] = "cpython"
    sl[1] = b"c\\x00py"
    sl[2] = 7
    sl[3] = "日本"
    sl.shm.close()
    """)


def test_cpython_reads_and_writes_ours(name):
    ours = ShareableList(["a" * 10, b"bytes\x00\x00", 1.5, "é" * 4, None, b"ab\x00",
                          "0\U00010000\U00010000"], name=name)
    with ours.shm:
        r = run_python(CPY_READ_AND_WRITE, name)
        # CPython sees every value; its reader strips trailing NULs (its bug).
        assert eval(r.stdout) == ["a" * 10, b"bytes", 1.5, "é" * 4, None, b"ab",
                                  "0\U00010000\U00010000"]
        # Its writes: a str or bytes it writes is padded, so its trailing NULs
        # are CPython's to lose; the rest exact.
        assert list(ours)[:4] == ["cpython", b"c\x00py", 7, "日本"]
        assert ours[5] == b"ab\x00"


CPY_CREATE = textwrap.dedent("""
    import sys
    from multiprocessing.shared_memory import ShareableList
    sl = ShareableList(["cpython", b"raw\\x00", 3, 4.5, None, True, "é" * 3,
                        "long enough to have a slot of 24"], name=sys.argv[1])
    print("made", flush=True)
    sys.stdin.readline()
    print(repr(list(sl)), flush=True)
    sl.shm.close()
    sl.shm.unlink()
    """)


def test_ours_reads_and_writes_cpythons(name):
    with start_python(CPY_CREATE, name) as child:
        assert child.stdout.readline() == "made\n"
        theirs = ShareableList(name=name)
        with theirs.shm:
            # CPython wrote b"raw\x00" padded: its trailing NUL is lost, as
            # CPython's own reader loses it.
            assert list(theirs) == ["cpython", b"raw", 3, 4.5, None, True, "é" * 3,
                                    "long enough to have a slot of 24"]
            theirs[0] = "ipcshm"
            theirs[1] = b"\x00\x01"
            theirs[2] = None
            theirs[6] = "日本"                   # 6 bytes of UTF-8 in CPython's slot of 8
            theirs[7] = "short"
            assert list(theirs)[:3] == ["ipcshm", b"\x00\x01", None]
            child.stdin.write("go\n")
            got = eval(child.stdout.readline())
        assert child.wait(10) == 0
    assert got == ["ipcshm", b"\x00\x01", None, 4.5, None, True, "日本", "short"]
    assert not shm_exists(name)


def test_a_cpython_list_with_its_utf8_bug_reads_as_in_cpython(name):
    # CPython sized "0\U00010000\U00010000" (3 characters, 9 bytes) 8 bytes and
    # cut it: its own reader fails on it, and so does ours (the bytes are lost).
    code = textwrap.dedent("""
        import sys
        from multiprocessing.shared_memory import ShareableList
        sl = ShareableList(["0\\U00010000\\U00010000", "ok"], name=sys.argv[1])
        try:
            sl[0]
        except UnicodeDecodeError:
            print("cpython: UnicodeDecodeError", flush=True)
        sys.stdin.readline()
        sl.shm.close()
        sl.shm.unlink()
        """)
    with start_python(code, name) as child:
        assert child.stdout.readline() == "cpython: UnicodeDecodeError\n"
        sl = ShareableList(name=name)
        with sl.shm:
            with pytest.raises(UnicodeDecodeError):
                sl[0]
            assert sl[1] == "ok"
        child.stdin.write("go\n")
        assert child.wait(10) == 0


# Shared memory is untrusted -----------------------------------------------------

def test_a_header_that_is_not_a_list_is_a_value_error(name):
    with ipcshm.SharedMemory(name, create=True, size=64) as shm:
        for header in [struct.pack("q", -1), struct.pack("q", 2**40),
                       struct.pack("qqq", 1, 8, 0), struct.pack("qqq", 1, 0, 10**6)]:
            shm.buf[:len(header)] = header
            with pytest.raises(ValueError, match="does not hold a ShareableList"):
                ShareableList(name=name)
    with ipcshm.SharedMemory(name + "s", create=True, size=8) as shm:
        with pytest.raises(ValueError, match="fewer than a header"):
            ShareableList(name=name + "s")


def test_corrupt_items_are_value_errors_never_reads_past_their_slot(name):
    sl = ShareableList([b"abcdefg", 1, "x"], name=name)
    with sl.shm:
        fmts = sl._offset_packing_formats
        codes = sl._offset_back_transform_codes
        for fmt, code in [(b"99s", 2), (b"q", 2), (b"8s", 0), (b"qq", 0), (b"zz", 0),
                          (b"7s1x", 9)]:
            struct.pack_into("8s", sl.shm.buf, fmts, fmt)
            struct.pack_into("b", sl.shm.buf, codes, code)
            with pytest.raises(ValueError):
                sl[0]
        assert sl[1] == 1 and sl[2] == "x"              # the others are intact


# Pickling and multiprocessing ---------------------------------------------------

def _read_list(sl):
    return list(sl)


def test_pickles_and_multiprocessing_carry_the_list(name):
    sl = ShareableList([1, b"two\x00", "three"], name=name)
    with sl.shm:
        again = pickle.loads(pickle.dumps(sl))         # plain pickle: by name
        assert list(again) == [1, b"two\x00", "three"]
        again.shm.close()
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            assert pool.apply(_read_list, (sl,)) == [1, b"two\x00", "three"]


def test_the_object_is_volatile_like_every_ipcshm_object():
    sl = ShareableList([1, 2, 3])
    name = sl.shm.name
    assert sl.shm.volatile and shm_exists(name)
    sl.shm.close()
    assert not shm_exists(name)
