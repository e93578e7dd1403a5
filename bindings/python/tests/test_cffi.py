"""ipcshm/decl.h (the preprocessor-free declarations for cffi) against
include/ipcshm.h, and the library through cffi in ABI mode."""
import textwrap

import pytest

import cheader
import ipcshm
from conftest import PKG_ROOT, REPO, run_python, shm_exists

HEADER_TEXT = (REPO / "include" / "ipcshm.h").read_text()
DECL_TEXT = (PKG_ROOT / "ipcshm" / "decl.h").read_text()
HEADER = cheader.parse(HEADER_TEXT)
DECL = cheader.parse(DECL_TEXT)


def test_decl_h_has_no_preprocessor():
    lines = [ln for ln in DECL_TEXT.splitlines() if ln.lstrip().startswith("#")]
    assert not lines
    assert "IPCSHM_EXPORT" not in DECL_TEXT


@pytest.mark.parametrize("fname", sorted(HEADER["prototypes"]))
def test_every_prototype_is_in_decl_h(fname):
    assert fname in DECL["prototypes"], "%s is missing from decl.h" % fname
    assert DECL["prototypes"][fname] == HEADER["prototypes"][fname]


def test_decl_h_declares_nothing_else():
    assert set(DECL["prototypes"]) == set(HEADER["prototypes"])
    assert DECL["typedefs"] == HEADER["typedefs"]


def test_struct_fields_are_the_same():
    assert DECL["structs"] == HEADER["structs"]
    assert [f for _, f in DECL["structs"]["ipcshm_info_t"]][-1] == "flags"


def test_enum_values_are_the_same():
    assert DECL["enums"] == HEADER["enums"]


def test_the_checker_sees_a_difference():
    # A changed parameter type and a missing field are found, not normalized away.
    bad = DECL_TEXT.replace("uint64_t size, uint32_t perms", "uint32_t size, uint32_t perms")
    assert cheader.parse(bad)["prototypes"] != HEADER["prototypes"]
    bad = DECL_TEXT.replace("  int32_t key;\n", "")
    assert cheader.parse(bad)["structs"] != HEADER["structs"]


@pytest.fixture(scope="module")
def ffi_lib():
    cffi = pytest.importorskip("cffi")
    ffi = cffi.FFI()
    ffi.cdef(DECL_TEXT)
    return ffi, ffi.dlopen(ipcshm.library_path)


def test_cffi_create_attach_read(ffi_lib, name):
    ffi, lib = ffi_lib
    assert ffi.sizeof("ipcshm_info_t") == 88
    assert lib.ipcshm_version() >> 16 == ipcshm.version()[0]
    ident = ("/" + name).encode()
    h = ffi.new("ipcshm_t **")
    rc = lib.ipcshm_create(ident, 100, 0o600,
                           lib.IPCSHM_PERSISTENT, h)
    assert rc == 1, ffi.string(lib.ipcshm_last_error())
    try:
        assert ffi.string(lib.ipcshm_id(h[0])) == ident
        assert lib.ipcshm_size(h[0]) == 100
        mem = ffi.buffer(lib.ipcshm_pointer(h[0]), lib.ipcshm_size(h[0]))
        mem[0:4] = b"cffi"
        h2 = ffi.new("ipcshm_t **")
        assert lib.ipcshm_attach(ident, lib.IPCSHM_READONLY, h2) == 0
        assert ffi.buffer(lib.ipcshm_pointer(h2[0]), 4)[:] == b"cffi"
        info = ffi.new("ipcshm_info_t *")
        info.struct_size = ffi.sizeof("ipcshm_info_t")
        assert lib.ipcshm_handle_info(h2[0], info) == 0
        assert (info.kind, info.size, info.flags) == (lib.IPCSHM_KIND_POSIX, 100,
                                                      lib.IPCSHM_PERSISTENT)
        assert lib.ipcshm_detach(h2[0]) == 0
        assert lib.ipcshm_detach(h2[0]) < 0                 # validated: -EBADF
        with ipcshm.SharedMemory(name) as shm:             # and ctypes sees it
            assert bytes(shm.buf[:4]) == b"cffi"
        assert lib.ipcshm_attach(b"/" + b"x" * 300, 0, h2) == -22
        assert b"1..255 bytes" in ffi.string(lib.ipcshm_last_error())
    finally:
        assert lib.ipcshm_detach(h[0]) == 0
        assert lib.ipcshm_remove(ident) == 0
    assert not shm_exists(name)


def test_cffi_in_another_process_reads_what_ctypes_wrote(name):
    pytest.importorskip("cffi")
    with ipcshm.SharedMemory(name, create=True, size=64) as shm:
        shm.buf[:6] = b"ctypes"
        r = run_python(textwrap.dedent("""
            import sys, cffi, ipcshm, os
            ffi = cffi.FFI()
            ffi.cdef(open(os.path.join(os.path.dirname(ipcshm.__file__), "decl.h")).read())
            lib = ffi.dlopen(ipcshm.library_path)
            h = ffi.new("ipcshm_t **")
            assert lib.ipcshm_attach(sys.argv[1].encode(), 0, h) == 0
            print(ffi.buffer(lib.ipcshm_pointer(h[0]), 6)[:].decode())
            lib.ipcshm_detach(h[0])
            """), shm.id)
        assert r.stdout == "ctypes\n"


def test_cffi_new_in_1_1(ffi_lib, name):
    # memfd, descriptors, resize and arrays through decl.h's declarations
    import os
    ffi, lib = ffi_lib
    h, h2 = ffi.new("ipcshm_t **"), ffi.new("ipcshm_t **")
    assert lib.ipcshm_create(b"memfd:cffi-XXXXXX", 100, 0o600, 0, h) == 1
    fd = lib.ipcshm_fd(h[0])
    assert fd >= 0
    assert lib.ipcshm_attach_fd(fd, 0, h2) == 0
    os.close(fd)
    assert ffi.string(lib.ipcshm_id(h2[0])) == ffi.string(lib.ipcshm_id(h[0]))
    assert lib.ipcshm_resize(h2[0], 5000) == 0 and lib.ipcshm_size(h2[0]) == 5000
    assert lib.ipcshm_detach(h2[0]) == 0 and lib.ipcshm_detach(h[0]) == 0
    dims = ffi.new("int64_t[2]", [3, 2])
    assert lib.ipcshm_array_create(("/" + name).encode(), lib.IPCSHM_FLOAT64, 2, dims,
                                   0o600, 0, h) == 1
    etype, ndims, offset = ffi.new("uint32_t *"), ffi.new("uint32_t *"), ffi.new("uint64_t *")
    got = ffi.new("int64_t[1]")
    assert lib.ipcshm_array_header(h[0], etype, ndims, got, 1, offset) == -34   # ERANGE
    assert ndims[0] == 2
    got = ffi.new("int64_t[2]")
    assert lib.ipcshm_array_header(h[0], etype, ndims, got, 2, offset) == 0
    assert (etype[0], list(got), offset[0]) == (lib.IPCSHM_FLOAT64, [3, 2], 64)
    data = lib.ipcshm_array_data(h[0])
    assert int(ffi.cast("uintptr_t", data)) == int(ffi.cast("uintptr_t",
                                                            lib.ipcshm_pointer(h[0]))) + 64
    assert lib.ipcshm_detach(h[0]) == 0


def test_cffi_signalling_in_1_2(ffi_lib):
    # Events, semaphores and mutexes through decl.h's declarations, in an
    # 8-aligned private buffer (between the threads of one process, any memory).
    ffi, lib = ffi_lib
    assert lib.IPCSHM_EVENT_SIZE == lib.IPCSHM_SEM_SIZE == lib.IPCSHM_MUTEX_SIZE == 64
    mem = ffi.new("uint64_t[32]")
    base = ffi.cast("char *", mem)
    ev, sem, m = base, base + 64, base + 128
    seq = ffi.new("uint64_t *", 7)
    assert lib.ipcshm_event_sequence(ev, seq) == -22 and seq[0] == 7   # no event yet
    assert lib.ipcshm_event_init(ev) == 0
    assert lib.ipcshm_event_notify(ev) == 0
    seq[0] = 0
    assert lib.ipcshm_event_wait(ev, seq, 0) == 0 and seq[0] == 1
    assert lib.ipcshm_event_wait(ev, seq, 1000000) == -110             # ETIMEDOUT
    value = ffi.new("uint32_t *")
    assert lib.ipcshm_sem_init(sem, 1) == 0
    assert lib.ipcshm_sem_wait(sem, 0) == 0 and lib.ipcshm_sem_wait(sem, 0) == -11
    assert lib.ipcshm_sem_post(sem) == 0
    assert lib.ipcshm_sem_value(sem, value) == 0 and value[0] == 1
    assert lib.ipcshm_mutex_init(m) == 0
    assert lib.ipcshm_mutex_lock(m, -1) == 0
    assert lib.ipcshm_mutex_lock(m, 0) == -35                           # EDEADLK
    assert lib.ipcshm_mutex_unlock(m) == 0
    word = ffi.cast("uint32_t *", base + 192)
    assert lib.ipcshm_wait(word, 1, -1) == 0                            # holds 0
    assert lib.ipcshm_wake(word, 0xffffffff) == 0
    assert lib.ipcshm_mutex_lock(base + 4, 0) == -22                    # misaligned
