"""Typed arrays: numpy views of the "WA-1" header's elements, column-major,
zero-copy, across processes; the arrays keep their mapping alive."""
import errno
import gc
import socket
import struct
import sys
import textwrap

import pytest

import ipcshm
from conftest import run_python, shm_exists, start_python

np = pytest.importorskip("numpy")

MAGIC = 0x57412D31
DTYPES = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
          "float32", "float64", "complex64", "complex128"]
CODES = {d: i + 1 for i, d in enumerate(DTYPES)}


def header(buf):
    magic, etype, ndims, offset = struct.unpack_from("=IHHq", buf, 0)
    return magic, etype, offset, struct.unpack_from("=%dq" % ndims, buf, 16)


def test_codes_are_the_header_s():
    for d, code in CODES.items():
        assert getattr(ipcshm, "IPCSHM_" + d.upper()) == code


def test_create_3x2_float64_layout(name):
    shm = ipcshm.SharedMemory.create_array(name, "float64", (3, 2))
    try:
        assert shm.created and shm.size >= 64 + 6 * 8
        a = shm.ndarray()
        assert a.shape == (3, 2) and a.dtype == np.float64
        assert a.flags.f_contiguous and not a.flags.c_contiguous and a.flags.writeable
        assert (a == 0).all()                          # new memory: zeros
        a[:] = [[1, 2], [3, 4], [5, 6]]
        assert header(shm.buf) == (MAGIC, CODES["float64"], 64, (3, 2))
        # column-major: the first dimension varies fastest
        assert struct.unpack_from("=6d", shm.buf, 64) == (1, 3, 5, 2, 4, 6)
        b = shm.ndarray()                              # a second view: the same memory
        assert np.shares_memory(a, b) and b[2, 1] == 6
        assert np.shares_memory(a, np.frombuffer(shm.buf, dtype=np.uint8))
        del a, b
    finally:
        shm.close()
    assert not shm_exists(name)


def test_read_in_another_process_in_the_same_order(name):
    a = ipcshm.array(name, np.float64, (3, 2), create=True)
    a[:] = [[1, 2], [3, 4], [5, 6]]
    code = textwrap.dedent("""
        import sys, ipcshm
        b = ipcshm.array(sys.argv[1])                  # the header says what it is
        print(b.dtype, b.shape, b.flags.f_contiguous, b.tolist())
        with ipcshm.SharedMemory(sys.argv[1]) as shm:
            c = shm.ndarray()
            print(c.ravel(order="K").tolist())         # memory order
            c[2, 1] = 42
            del c
        b[0, 1] = -1
        """)
    r = run_python(code, name)
    assert r.stdout.splitlines() == [
        "float64 (3, 2) True [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]",
        "[1.0, 3.0, 5.0, 2.0, 4.0, 6.0]"]
    assert a.tolist() == [[1, -1], [3, 4], [5, 42]]    # the child's writes


def test_writes_are_visible_both_ways_while_both_live(name):
    shm = ipcshm.SharedMemory.create_array(name, "int32", (4, 5))
    a = shm.ndarray()
    code = textwrap.dedent("""
        import sys, ipcshm
        b = ipcshm.array(sys.argv[1], "int32", (4, 5))
        for line in iter(sys.stdin.readline, "end\\n"):
            i, j = map(int, line.split())
            print(b[i, j], flush=True)
            b[j % 4, i % 5] = 100 + i
            print("done", flush=True)
        """)
    try:
        with start_python(code, name) as child:
            for i, j in [(0, 0), (3, 4), (1, 2)]:
                a[i, j] = 10 * i + j + 1
                child.stdin.write("%d %d\n" % (i, j))
                assert child.stdout.readline() == "%d\n" % (10 * i + j + 1)
                assert child.stdout.readline() == "done\n"
                assert a[j % 4, i % 5] == 100 + i
            child.stdin.write("end\n")
            assert child.wait(10) == 0
    finally:
        del a
        shm.close()


def test_memfd_array_sent_to_another_process():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        shm = ipcshm.SharedMemory.create_array("memfd:pyarr-XXXXXX", "complex128", (2, 2))
        a = shm.ndarray()
        a[:] = [[1 + 1j, 2], [3, 4j]]
        code = textwrap.dedent("""
            import socket, sys, ipcshm
            shm = ipcshm.SharedMemory.recv(socket.socket(fileno=int(sys.argv[1])))
            b = shm.ndarray()
            print(shm.id, b.dtype, b.tolist())
            b *= 2
            """)
        shm.send(ours)
        r = run_python(code, theirs.fileno(), pass_fds=[theirs.fileno()])
        assert r.stdout == "%s complex128 [[(1+1j), (2+0j)], [(3+0j), 4j]]\n" % shm.id
        assert a.tolist() == [[2 + 2j, 4], [6, 8j]]
        del a
        shm.close()


def test_close_while_an_array_lives_raises_buffer_error(name):
    shm = ipcshm.SharedMemory.create_array(name, "uint16", (10,))
    a = shm.ndarray()
    a[:] = range(10)
    view = a[::2]
    del a
    with pytest.raises(BufferError, match="cannot close"):
        shm.close()                                    # a view of the array is enough
    assert not shm.closed and view.tolist() == [0, 2, 4, 6, 8]   # never dangling
    with pytest.raises(BufferError, match="cannot resize"):
        shm.resize(shm.size * 2)
    del view
    shm.close()
    assert shm.closed and not shm_exists(name)


def test_array_keeps_the_mapping_alive(name):
    a = ipcshm.array(name, "float32", (2, 3, 4), create=True)
    gc.collect()                                       # its SharedMemory is gone ...
    assert shm_exists(name)                            # ... but not the mapping
    a[1, 2, 3] = 1.5
    b = a[1]                                           # views keep it too
    del a
    gc.collect()
    assert shm_exists(name) and b[2, 3] == 1.5
    del b
    gc.collect()
    assert not shm_exists(name)                        # volatile: gone with the last


def test_attach_checks_dtype_and_shape(name):
    a = ipcshm.array(name, "int64", (2, 3), create=True)
    assert ipcshm.array(name, "int64", (2, 3)).shape == (2, 3)
    assert ipcshm.array(name, dtype=np.int64).dtype == np.int64
    with pytest.raises(ValueError, match="int64"):
        ipcshm.array(name, "float64")
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        ipcshm.array(name, shape=(3, 2))
    with pytest.raises(ValueError, match="attaching"):
        ipcshm.array(name, perms=0o644)
    with pytest.raises(ValueError, match="dtype and shape"):
        ipcshm.array(name + "-new", "int64", create=True)
    del a


def test_open_or_create(name):
    a = ipcshm.array(name, "uint8", (5, 5), open_or_create=True)
    a[4, 4] = 9
    b = ipcshm.array(name, "uint8", (5, 5), open_or_create=True)
    assert b[4, 4] == 9 and not np.shares_memory(a, b)    # two mappings, one object
    b[0, 0] = 1
    assert a[0, 0] == 1
    with pytest.raises(FileExistsError):
        ipcshm.array(name, "uint8", (5, 6), open_or_create=True)
    with pytest.raises(FileExistsError):
        ipcshm.array(name, "int8", (5, 5), create=True)
    del a, b


def test_readonly_arrays(name):
    a = ipcshm.array(name, "float64", 4, create=True)
    a[:] = [1, 2, 3, 4]
    ro = ipcshm.array(name, readonly=True)
    assert not ro.flags.writeable and ro.tolist() == [1, 2, 3, 4]
    with pytest.raises(ValueError):
        ro[0] = 5
    with pytest.raises(ValueError):
        ro.flags.writeable = True       # a write would fault: numpy refuses
    with pytest.raises(ValueError, match="readonly"):
        ipcshm.array(name + "-ro", "float64", 4, create=True, readonly=True)
    del a, ro


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_element_type(name, dtype):
    shm = ipcshm.SharedMemory.create_array(name, np.dtype(dtype), (3, 4))
    a = shm.ndarray()
    a[:] = np.arange(12, dtype=dtype).reshape(3, 4)
    assert a.dtype == np.dtype(dtype) and header(shm.buf)[1] == CODES[dtype]
    b = ipcshm.array(name)
    assert b.dtype == np.dtype(dtype) and (b == a).all()
    del a, b
    shm.close()


@pytest.mark.parametrize("dtype", ["bool", "float16", "longdouble", "object", "U3",
                                   "datetime64[s]", [("x", "f8"), ("y", "i4")],
                                   ("f8", (2,)),
                                   ">f8" if sys.byteorder == "little" else "<f8"])
def test_other_dtypes_are_type_errors(name, dtype):
    if dtype == "longdouble" and np.dtype(np.longdouble).itemsize == 8:
        pytest.skip("long double is double here")
    with pytest.raises(TypeError, match="element type"):
        ipcshm.array(name, dtype, (2,), create=True)
    assert not shm_exists(name)


def test_shapes(name):
    for shape, want in [(5, (5,)), ((0, 3), (0, 3)), ((1,) * 9 + (2,), (1,) * 9 + (2,)),
                        ([2, 2], (2, 2))]:
        a = ipcshm.array(name, "int8", shape, create=True)
        assert a.shape == want and a.size == np.prod(want)
        assert ipcshm.array(name).shape == want           # many dimensions: asked twice
        del a
        gc.collect()
    for bad in [(), (-1, 2)]:
        with pytest.raises(ValueError):
            ipcshm.array(name, "int8", bad, create=True)
    with pytest.raises(OverflowError):                  # not an int64_t
        ipcshm.array(name, "int8", (2 ** 63,), create=True)
    with pytest.raises(TypeError):
        ipcshm.array(name, "int8", (2.5,), create=True)
    assert not shm_exists(name)


@pytest.mark.parametrize("garbage", [
    bytes(16),                                                  # no magic
    b"garbage!garbage!",
    struct.pack("=IHHq", MAGIC, 99, 1, 64),                     # unknown element type
    struct.pack("=IHHq", MAGIC, 10, 0, 64),                     # no dimensions
    struct.pack("=IHHq", MAGIC, 10, 1, 8),                      # offset inside the header
    struct.pack("=IHHq", MAGIC, 10, 1, -64),
], ids=["zeros", "text", "etype", "ndims", "offset", "negative-offset"])
def test_hostile_header_is_a_value_error(name, garbage):
    with ipcshm.SharedMemory(name, create=True, size=4096) as shm:
        shm.buf[16:24] = struct.pack("=q", 4)                   # dims[0] = 4
        shm.buf[0:16] = garbage
        with pytest.raises(ValueError) as ei:
            shm.ndarray()
        assert ei.value.errno == errno.EBADMSG
        assert "header" in str(ei.value)
        with pytest.raises(ValueError, match="header"):
            ipcshm.array(name)


@pytest.mark.parametrize("dims", [(1 << 62,), (1 << 40, 1 << 40), (-1,), (4096,)],
                         ids=["huge", "overflow", "negative", "past-the-end"])
def test_header_with_elements_beyond_the_mapping(name, dims):
    with ipcshm.SharedMemory(name, create=True, size=4096) as shm:
        hdr = struct.pack("=IHHq%dq" % len(dims), MAGIC, CODES["float64"], len(dims), 64,
                          *dims)
        shm.buf[:len(hdr)] = hdr
        with pytest.raises(ValueError) as ei:
            shm.ndarray()
        assert ei.value.errno == errno.EBADMSG


def test_closed_shared_memory_has_no_array(name):
    shm = ipcshm.SharedMemory.create_array(name, "int8", 3)
    shm.close()
    with pytest.raises(ValueError, match="closed"):
        shm.ndarray()


def test_without_numpy_the_package_still_imports(name):
    code = textwrap.dedent("""
        import sys
        sys.modules["numpy"] = None                    # import numpy fails
        import ipcshm
        assert sys.modules["numpy"] is None            # ipcshm did not need it
        with ipcshm.SharedMemory(sys.argv[1], create=True, size=64) as shm:
            shm.buf[0] = 1
            try:
                shm.ndarray()
            except ImportError:
                print("ImportError")
        """)
    assert run_python(code, name).stdout == "ImportError\n"
