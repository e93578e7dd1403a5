"""The ctypes layer: library loading, prototypes against the header, constants."""
import ctypes
import os
import re
import subprocess
import sys

import pytest

import cheader
import ipcshm
from ipcshm import _native
from conftest import REPO, child_env, run_python

HEADER = (REPO / "include" / "ipcshm.h").read_text()
PARSED = cheader.parse(HEADER)

P = ctypes.POINTER
CTYPES_OF = {
    "void": None,
    "int": ctypes.c_int,
    "int32_t": ctypes.c_int32,
    "uint32_t": ctypes.c_uint32,
    "int64_t": ctypes.c_int64,
    "uint64_t": ctypes.c_uint64,
    "char*": ctypes.c_char_p,
    "void*": ctypes.c_void_p,
    "void**": P(ctypes.c_void_p),
    "ipcshm_t*": ctypes.c_void_p,
    "ipcshm_t**": P(ctypes.c_void_p),
    "int32_t*": P(ctypes.c_int32),
    "int64_t*": P(ctypes.c_int64),
    "uint32_t*": P(ctypes.c_uint32),
    "uint64_t*": P(ctypes.c_uint64),
    "ipcshm_info_t*": P(_native.ipcshm_info_t),
    "ipcshm_channel_t*": ctypes.c_void_p,
    "ipcshm_channel_t**": P(ctypes.c_void_p),
    "ipcshm_channel_info_t*": P(_native.ipcshm_channel_info_t),
}


def test_header_parses():
    assert len(PARSED["prototypes"]) >= 21
    assert "ipcshm_info_t" in PARSED["structs"]


@pytest.mark.parametrize("fname", sorted(PARSED["prototypes"]))
def test_every_header_function_is_declared(fname):
    restype, args = cheader.signature(PARSED["prototypes"][fname])
    assert fname in _native.PROTOTYPES, "%s is in ipcshm.h but not in _native" % fname
    fn = getattr(_native.lib, fname)
    assert fn.restype is CTYPES_OF[restype], fname
    assert list(fn.argtypes) == [CTYPES_OF[a] for a in args], fname


def test_no_function_beyond_the_header():
    assert set(_native.PROTOTYPES) == set(PARSED["prototypes"])


def test_info_struct_matches_header():
    assert ctypes.sizeof(ipcshm.ipcshm_info_t) == 88
    fields = PARSED["structs"]["ipcshm_info_t"]
    ours = [(n, t) for n, t in ipcshm.ipcshm_info_t._fields_]
    assert [f for _, f in fields] == [n for n, _ in ours]
    for (ctype, fname), (_, t) in zip(fields, ours):
        assert CTYPES_OF[ctype] is t, fname
    # and the dataclass has every field, in order
    import dataclasses
    assert [f.name for f in dataclasses.fields(ipcshm.ShmInfo)] == [f for _, f in fields]


def test_constants_match_header():
    for cname, value in PARSED["enums"].items():
        assert getattr(_native, cname) == value, cname
        if cname.startswith("IPCSHM_") and hasattr(ipcshm, cname):
            assert getattr(ipcshm, cname) == value
    for cname, value in cheader.defines(HEADER).items():
        assert getattr(_native, cname) == value, cname
    assert "IPCSHM_READONLY" in PARSED["enums"] and "IPCSHM_KIND_SYSV" in PARSED["enums"]


def test_version_and_page_size():
    v = ipcshm.version()
    assert v == (_native.IPCSHM_VERSION_MAJOR, _native.IPCSHM_VERSION_MINOR,
                 _native.IPCSHM_VERSION_PATCH)
    assert ipcshm.page_size() == os.sysconf("SC_PAGESIZE")


def test_loaded_library_is_the_requested_one():
    wanted = os.environ.get("IPCSHM_LIBRARY")
    if wanted:
        assert ipcshm.library_path == wanted
    assert os.path.basename(ipcshm.library_path).startswith("libipcshm.so.1")


def test_env_var_that_does_not_load_is_an_import_error(tmp_path):
    r = run_python(
        "import os\n"
        "os.environ['IPCSHM_LIBRARY'] = os.path.join(%r, 'nope.so')\n"
        "try:\n"
        "    import ipcshm\n"
        "except ImportError as e:\n"
        "    print('ImportError', e)\n" % str(tmp_path))
    assert "ImportError ipcshm: cannot load IPCSHM_LIBRARY=" in r.stdout


def _import_without_env_var(ld_library_path):
    """Imports ipcshm in a child without IPCSHM_LIBRARY; prints the loaded file,
    or the ImportError."""
    env = child_env()
    del env["IPCSHM_LIBRARY"]
    env.pop("LD_PRELOAD", None)
    env["LD_LIBRARY_PATH"] = ld_library_path
    code = ("try:\n"
            "    import ipcshm\n"
            "    print('loaded', ipcshm.library_path)\n"
            "except ImportError as e:\n"
            "    print('ImportError', e)\n")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                       text=True, timeout=30, check=True)
    return r.stdout.strip()


def test_without_env_var_the_soname_is_found_by_the_loader():
    # As an installed library is: through the loader's search (LD_LIBRARY_PATH
    # here), by its SONAME; library_path tells the file.
    lib = os.path.realpath(ipcshm.library_path)
    out = _import_without_env_var(os.path.dirname(lib))
    assert out == "loaded " + lib


def test_without_env_var_or_loader_path_the_error_names_both(tmp_path):
    out = _import_without_env_var(str(tmp_path))
    if out.startswith("loaded "):
        # An installed copy (the loader's cache): found by SONAME, as it should be.
        assert os.path.basename(out).startswith(_native.SONAME), out
        pytest.skip("an installed libipcshm.so.1 is in the loader's cache: " + out)
    assert out.startswith("ImportError ipcshm: cannot load the C library: "), out
    for words in ("IPCSHM_LIBRARY is not set", "does not find libipcshm.so.1",
                  "apt install libipcshm1", "LD_LIBRARY_PATH"):
        assert words in out, (words, out)


def test_package_version_is_the_project_version():
    meson_build = (REPO / "meson.build").read_text()
    m = re.search(r"^project\([^)]*?version:\s*'([0-9.]+)'", meson_build, re.M | re.S)
    assert m, "no version in meson.build's project()"
    assert ipcshm.__version__ == m.group(1)
    assert ipcshm.__version__.split(".")[:2] == [str(_native.IPCSHM_VERSION_MAJOR),
                                                 str(_native.IPCSHM_VERSION_MINOR)]


def test_strerror_and_last_error():
    assert _native.lib.ipcshm_strerror(-2) == os.strerror(2).encode()
    assert _native.lib.ipcshm_strerror(2) == os.strerror(2).encode()
    with pytest.raises(ValueError):
        ipcshm.info("a/b")
    assert b"invalid id" in _native.lib.ipcshm_last_error()


def test_ftok(tmp_path):
    k = ipcshm.ftok(str(tmp_path), 7)
    assert k != 0 and k != -1
    with pytest.raises(ValueError):
        ipcshm.ftok(str(tmp_path), 0)
    with pytest.raises(FileNotFoundError):
        ipcshm.ftok(str(tmp_path / "missing"), 1)
