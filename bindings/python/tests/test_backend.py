"""The compiled module (ipcshm._ext) and the choice between it and ctypes: the
suite runs both ways (meson: 'python' and 'python-pure'); here, what decides
and what the module does with bad input."""
import os
import textwrap

import pytest

import ipcshm
from conftest import EXTENSION, run_python

PROBE = "import ipcshm; print(ipcshm.extension_path)"


def test_the_backend_asked_for_is_the_one_in_use():
    if os.environ.get("IPCSHM_PURE", "") not in ("", "0"):
        assert ipcshm.extension_path is None and not EXTENSION
    if os.environ.get("IPCSHM_EXTENSION"):
        assert EXTENSION
        assert ipcshm.extension_path == os.environ["IPCSHM_EXTENSION"]


def test_ipcshm_pure_turns_the_module_off():
    env = {"IPCSHM_PURE": "1"}
    if EXTENSION:
        env["IPCSHM_EXTENSION"] = ipcshm.extension_path      # even with a path
    r = run_python(PROBE, env_extra=env)
    assert r.stdout == "None\n"


def test_a_module_asked_for_that_does_not_load_is_an_import_error(tmp_path):
    bogus = tmp_path / "_ext.cpython-311-x86_64-linux-gnu.so"
    bogus.write_bytes(b"not an ELF file")
    r = run_python(PROBE, env_extra={"IPCSHM_EXTENSION": str(bogus), "IPCSHM_PURE": ""},
                   check=False)
    assert r.returncode == 1
    assert "ImportError: ipcshm: cannot load IPCSHM_EXTENSION=%s" % bogus in r.stderr


needs_module = pytest.mark.skipif(not EXTENSION, reason="the compiled module is not in use")


@needs_module
def test_the_module_calls_the_library_that_ctypes_loaded():
    # Its handles are the library's: ctypes calls accept them.
    with ipcshm.SharedMemory(create=True, size=100) as shm:
        assert ipcshm._native.lib.ipcshm_size(shm._handle.out) == 100
        assert type(shm._handle).__name__ == "Handle" and shm._handle.created


@needs_module
def test_bad_input_to_the_module_is_an_exception_never_a_crash():
    # Each case in a child: a crash would be a failure, not a test error.
    r = run_python(textwrap.dedent("""
        import ipcshm
        ext = ipcshm._accel.ext
        cases = {
            "create str id": lambda: ext.create("/x", 10, 0o600, 0),
            "create NUL": lambda: ext.create(b"/a\\0b", 10, 0o600, 0),
            "create size 2**64": lambda: ext.create(b"/x", 2**64, 0o600, 0),
            "create size -1": lambda: ext.create(b"/x", -1, 0o600, 0),
            "create perms 2**32": lambda: ext.create(b"/x", 10, 2**32, 0),
            "create few args": lambda: ext.create(b"/x", 10),
            "attach flags None": lambda: ext.attach(b"/x", None),
            "attach_fd 2**40": lambda: ext.attach_fd(2**40, 0),
            "attach_fd -1": lambda: ext.attach_fd(-1, 0),
            "recv bad fd": lambda: ext.recv(-1, 0),
            "array dims list": lambda: ext.array_create(b"/x", 10, [1], 0o600, 0),
            "array dims str": lambda: ext.array_create(b"/x", 10, ("a",), 0o600, 0),
            "export not a handle": lambda: ext.export(object(), "/x", False, False, True),
            "export id bytes": lambda: ext.export(None, b"/x", False, False, True),
            "remove str": lambda: ext.remove("/x"),
            "new Handle": lambda: ext.Handle(),
            "new Exporter": lambda: ext.Exporter(),
            "bind not a dict": lambda: ext.bind([], print),
        }
        for what, call in cases.items():
            try:
                call()
            except Exception as e:
                print(what, type(e).__name__)
            else:
                print(what, "no error")
        """))
    got = dict(line.rsplit(" ", 1) for line in r.stdout.splitlines())
    assert got == {
        "create str id": "TypeError", "create NUL": "ValueError",
        "create size 2**64": "OverflowError", "create size -1": "OverflowError",
        "create perms 2**32": "OverflowError", "create few args": "TypeError",
        "attach flags None": "TypeError", "attach_fd 2**40": "OverflowError",
        "attach_fd -1": "OSError", "recv bad fd": "OSError",            # EBADF
        "array dims list": "TypeError", "array dims str": "TypeError",
        "export not a handle": "TypeError", "export id bytes": "TypeError",
        "remove str": "TypeError", "new Handle": "TypeError", "new Exporter": "TypeError",
        "bind not a dict": "TypeError"}, r.stdout


@needs_module
def test_a_detached_handle_exports_nothing(name):
    shm = ipcshm.SharedMemory(name, create=True, size=100)
    handle = shm._handle
    shm.close()
    handle.detach_now()                  # (detached already: nothing happens)
    assert handle.out is None
    with pytest.raises(ValueError, match="no mapping"):
        ipcshm._accel.ext.export(handle, "/" + name, False, False, True)
    with pytest.raises(ValueError, match="detached"):
        handle.id


@needs_module
def test_the_exporter_indexes_like_an_mmap(name):
    with ipcshm.SharedMemory(name, create=True, size=16) as shm:
        obj = shm.buf.obj
        obj[0:3] = b"abc"
        assert len(obj) == 16 and obj[1] == ord("b") and obj[0:3] == b"abc"
        assert isinstance(obj[0:3], bytes)          # a copy, not a view
        with pytest.raises(IndexError):
            obj[16]
        with pytest.raises(TypeError):
            del obj[0]
        del obj


def test_detach_now_leaves_a_mapping_that_a_view_still_uses():
    # The failure paths' early detach must not unmap what a view points at: a
    # read-write memfd's views use the library's own mapping (both backends).
    shm = ipcshm.SharedMemory("memfd:detach-now-XXXXXX", create=True, size=100)
    view = shm.buf[0:10]
    handle = shm._handle
    handle.detach_now()
    assert handle.out                     # still attached
    view[0] = 7                           # and still mapped
    assert shm.buf[0] == 7
    del view
    shm.close()
