#!/usr/bin/env python3
"""IPC.jl's side of typed arrays in shared memory, transcribed into Python: an
executable oracle for tests/julia_ipcjl_oracle_test.py, since Julia cannot run
here. It does what InterProcessCommunication.jl v0.1.6 does, step for step, with
Julia's Int arithmetic (64 bits, wrapping) where IPC.jl relies on it:

- the "WA-1" header of a WrappedArray, written and read as in
  src/wrappedarrays.jl (InterProcessCommunication.jl's git repository, commit
  fdc41e45): _WA_MAGIC line 224, _WA_ALIGN 230, _WA_TYPES 232-247,
  WrappedArrayHeader(T, N) 285-291, _wrapped_array_header_size 293-294,
  Base.write(mem, WrappedArrayHeader, T, dims) 309-323,
  Base.read(mem, WrappedArrayHeader) 325-350, and the shared-memory
  WrappedArray(id, T, dims) 117-126 and WrappedArray(id) 128-132;
- with src/types.jl (commit 0ef65624) lines 169-175 (the WrappedArrayHeader
  struct: magic::UInt32, etype::UInt16, ndims::UInt16, offset::Int64) and
  src/utils.jl (commit 08a91d0d) lines 422-430 (checkdims), 432-436 (roundup),
  449-459 (get_memory_parameters);
- and the mapping of shared memory as src/shm.jl does it (0.1.3 and later):
  SharedMemory(key::Key, len) (shmget with IPC_CREAT|IPC_EXCL, shmat, IPC_RMID
  when volatile), SharedMemory(id::ShmId) (sizeof(id) by IPC_STAT, shmat),
  ShmId(key; readonly) (shmget(key, 0, ...)), SharedMemory(name, len) and
  SharedMemory(name; readonly) (shm_open, ftruncate or filesize, mmap, close).
  IPC.jl takes struct shmid_ds's layout from a C program (deps/gencode.c); so
  does this oracle (gencode()).

Run as a program, it is the IPC.jl process of the test:
  julia_ipcjl_oracle.py write CASES.json   creates and fills arrays as IPC.jl
  julia_ipcjl_oracle.py read CASES.json    reads arrays as IPC.jl
printing one JSON result a case. IPCJL_GENCODE names the JSON of gencode().
"""
import ctypes
import ctypes.util
import json
import mmap
import os
import struct
import subprocess
import sys
import tempfile


class JuliaError(Exception):
    """An exception IPC.jl would throw: kind is ArgumentError, ErrorException,
    InexactError or SystemError."""

    def __init__(self, kind, message):
        super().__init__(f"{kind}: {message}")
        self.kind = kind


# ---------------------------------------------------------------------------
# Julia's Int (Int64) arithmetic: wraps around.

def jl_int(x):
    x &= (1 << 64) - 1
    return x - (1 << 64) if x >= 1 << 63 else x


def jl_div(a, b):
    """Julia's div on Int: truncates toward zero."""
    q = abs(a) // abs(b)
    return jl_int(q if (a >= 0) == (b >= 0) else -q)


# ---------------------------------------------------------------------------
# utils.jl

def checkdims(dims):
    """utils.jl 422-430: every dimension >= 1; their product, wrapping."""
    number = 1
    for i, d in enumerate(dims, start=1):
        if not d >= 1:
            raise JuliaError("ErrorException", f"invalid dimension (dims[{i}] = {d})")
        number = jl_int(number * d)
    return number


def roundup(a, b):
    """utils.jl 432-436."""
    return jl_int(jl_div(jl_int(a + (b - 1)), b) * b)


def get_memory_parameters(mem):
    """utils.jl 449-459: (address, size) of the memory; here (buffer, size)."""
    siz = mem.size
    if siz < 0:
        raise JuliaError("ArgumentError", f"invalid value `{siz}` for `sizeof(mem)`")
    return mem.buf, siz


# ---------------------------------------------------------------------------
# types.jl, wrappedarrays.jl

_WA_MAGIC = 0x57412D31          # wrappedarrays.jl 224: "WA-1"
_WA_ALIGN = 64                  # wrappedarrays.jl 230

# wrappedarrays.jl 232-243: (identifier, Julia type); with the struct format and
# size of an element here.
_WA_TYPES = [(1, "Int8", "b"), (2, "UInt8", "B"), (3, "Int16", "h"), (4, "UInt16", "H"),
             (5, "Int32", "i"), (6, "UInt32", "I"), (7, "Int64", "q"), (8, "UInt64", "Q"),
             (9, "Float32", "f"), (10, "Float64", "d"), (11, "ComplexF32", "ff"),
             (12, "ComplexF64", "dd")]
_WA_ETYPES = [name for _, name, _ in _WA_TYPES]                 # 245
_WA_IDENTS = {name: ident for ident, name, _ in _WA_TYPES}      # 247
ELEMENT_FORMAT = {name: fmt for _, name, fmt in _WA_TYPES}


def sizeof(type_name):
    return struct.calcsize("=" + ELEMENT_FORMAT[type_name])


# types.jl 169-174: magic::UInt32, etype::UInt16, ndims::UInt16, offset::Int64,
# native byte order, no padding: 16 bytes (types.jl 175 asserts a multiple of 8).
HEADER = struct.Struct("=IHHq")
assert HEADER.size == 16


def _wrapped_array_header_size(n):
    """wrappedarrays.jl 293-294."""
    return roundup(jl_int(HEADER.size + jl_int(n * 8)), _WA_ALIGN)


def WrappedArrayHeader(type_name, n):
    """wrappedarrays.jl 285-291, then the struct's own conversions (UInt16)."""
    if not n >= 1:
        raise JuliaError("ArgumentError", f"illegal number of dimensions ({n})")
    if type_name not in _WA_IDENTS:
        raise JuliaError("ArgumentError", f"unsupported data type ({type_name})")
    off = _wrapped_array_header_size(n)
    if not 0 <= n <= 0xFFFF:
        raise JuliaError("InexactError", f"trunc(UInt16, {n})")
    return (_WA_MAGIC, _WA_IDENTS[type_name], n, off)


def write_header(mem, type_name, dims):
    """wrappedarrays.jl 309-323: Base.write(mem, WrappedArrayHeader, T, dims)."""
    hdr = WrappedArrayHeader(type_name, len(dims))
    off = hdr[3]
    buf, siz = get_memory_parameters(mem)
    num = checkdims(dims)
    if not siz >= jl_int(off + jl_int(sizeof(type_name) * num)):
        raise JuliaError("ArgumentError", "insufficient size of memory block")
    HEADER.pack_into(buf, 0, *hdr)
    for i, d in enumerate(dims):
        struct.pack_into("=q", buf, HEADER.size + 8 * i, d)


def read_header(mem):
    """wrappedarrays.jl 325-350: Base.read(mem, WrappedArrayHeader) -> (T, dims, off)."""
    buf, siz = get_memory_parameters(mem)
    if not siz >= HEADER.size:
        raise JuliaError("ArgumentError", "insufficient size of memory block for header")
    magic, etype, ndims, off = HEADER.unpack_from(buf, 0)
    if magic != _WA_MAGIC:
        raise JuliaError("ErrorException", f"invalid magic number (0x{magic:x})")
    if not 1 <= etype <= len(_WA_ETYPES):
        raise JuliaError("ErrorException", f"invalid element type identifier ({etype})")
    if not 1 <= ndims:
        raise JuliaError("ErrorException", f"invalid number of dimensions ({ndims})")
    if off != _wrapped_array_header_size(ndims):
        raise JuliaError("ErrorException", f"invalid offset ({off})")
    # unsafe_load past the end of the mapping would fault in Julia: here too.
    if HEADER.size + 8 * ndims > siz:
        raise JuliaError("SegmentationFault", "dimensions read past the mapping")
    dims = tuple(struct.unpack_from("=q", buf, HEADER.size + 8 * i)[0] for i in range(ndims))
    num = checkdims(dims)
    type_name = _WA_ETYPES[etype - 1]
    if not siz >= jl_int(off + jl_int(sizeof(type_name) * num)):
        raise JuliaError("ErrorException",
                         f"insufficient size of memory block ({siz} < "
                         f"{jl_int(off + jl_int(sizeof(type_name) * num))})")
    return type_name, dims, off


# ---------------------------------------------------------------------------
# shm.jl: shared memory as IPC.jl maps it.

LIBC = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
LIBC.shm_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint32]
LIBC.shm_unlink.argtypes = [ctypes.c_char_p]
LIBC.shmget.argtypes = [ctypes.c_int32, ctypes.c_size_t, ctypes.c_int]
LIBC.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
LIBC.shmat.restype = ctypes.c_void_p
LIBC.shmdt.argtypes = [ctypes.c_void_p]
LIBC.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]

GENCODE_C = r"""
#include <stddef.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/shm.h>
int main(void) {
  struct shmid_ds ds;
  printf("{\"sizeof_struct_shmid_ds\": %zu, \"offsetof_shm_segsz\": %zu, "
         "\"sizeof_shm_segsz\": %zu, \"IPC_CREAT\": %d, \"IPC_EXCL\": %d, "
         "\"IPC_RMID\": %d, \"IPC_STAT\": %d, \"SHM_RDONLY\": %d}\n",
         sizeof(struct shmid_ds), offsetof(struct shmid_ds, shm_segsz),
         sizeof(ds.shm_segsz), IPC_CREAT, IPC_EXCL, IPC_RMID, IPC_STAT, SHM_RDONLY);
  return 0;
}
"""


def gencode(cc):
    """What IPC.jl's deps/gencode.c tells it of struct shmid_ds and the System V
    constants, from a C program built with `cc`."""
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "gencode.c"), os.path.join(tmp, "gencode")
        with open(src, "w") as f:
            f.write(GENCODE_C)
        subprocess.run([cc, "-o", exe, src], check=True)
        return json.loads(subprocess.run([exe], check=True, capture_output=True,
                                         text=True).stdout)


def _constants():
    return json.load(open(os.environ["IPCJL_GENCODE"]))


def key_t(key):
    """A System V key as the C type key_t (int32) holds it: 0xdeadbeef is negative."""
    key &= 0xFFFFFFFF
    return key - (1 << 32) if key >= 1 << 31 else key


def _system_error(call):
    err = ctypes.get_errno()
    raise JuliaError("SystemError", f"{call}: {os.strerror(err)} (errno {err})")


S_IRUSR, S_IWUSR = 0o400, 0o200


class SharedMemory:
    """IPC.jl's SharedMemory{String} or SharedMemory{ShmId}: buf and size of the
    mapping (sizeof(mem), pointer(mem))."""

    def __init__(self, buf, size, volatile, ident, unmap):
        self.buf, self.size, self.volatile, self.id = buf, size, volatile, ident
        self._unmap = unmap

    def destroy(self):
        """_destroy: POSIX: shm_unlink if volatile, munmap; System V: shmdt."""
        self.buf.release()
        self._unmap()


def posix_create(name, length, perms=0o600, volatile=True):
    """SharedMemory(name::AbstractString, len; perms, volatile)."""
    mode = (perms & 0o777) | S_IRUSR | S_IWUSR
    flags = os.O_CREAT | os.O_EXCL | os.O_RDWR
    if not length >= 1:
        raise JuliaError("ArgumentError", f"bad number of bytes ({length})")
    fd = LIBC.shm_open(name.encode(), flags, mode)
    if fd == -1:
        _system_error("shm_open")
    try:
        os.ftruncate(fd, length)
    except OSError:
        os.close(fd)
        LIBC.shm_unlink(name.encode())
        raise
    return _posix_map(name, fd, length, mmap.PROT_READ | mmap.PROT_WRITE, volatile)


def posix_attach(name, readonly=False):
    """SharedMemory(name::AbstractString; readonly)."""
    flags = os.O_RDONLY if readonly else os.O_RDWR
    mode = S_IRUSR if readonly else S_IRUSR | S_IWUSR
    fd = LIBC.shm_open(name.encode(), flags, mode)
    if fd == -1:
        _system_error("shm_open")
    nbytes = os.fstat(fd).st_size                       # filesize(fd)
    prot = mmap.PROT_READ if readonly else mmap.PROT_READ | mmap.PROT_WRITE
    return _posix_map(name, fd, nbytes, prot, False)


def _posix_map(name, fd, nbytes, prot, volatile):
    try:
        m = mmap.mmap(fd, nbytes, mmap.MAP_SHARED, prot)
    finally:
        os.close(fd)                                    # "File descriptor can be closed."

    def unmap():
        if volatile:
            LIBC.shm_unlink(name.encode())
        m.close()
    return SharedMemory(memoryview(m), nbytes, volatile, name, unmap)


def shmid_sizeof(shmid):
    """Base.sizeof(id::ShmId): IPC_STAT, then shm_segsz at its offset."""
    c = _constants()
    buf = ctypes.create_string_buffer(c["sizeof_struct_shmid_ds"])
    if LIBC.shmctl(shmid, c["IPC_STAT"], buf) == -1:
        _system_error("shmctl")
    fmt = {4: "=I", 8: "=Q"}[c["sizeof_shm_segsz"]]
    return struct.unpack_from(fmt, buf.raw, c["offsetof_shm_segsz"])[0]


def sysv_create(key, length, perms=0o600, volatile=True):
    """SharedMemory(key::Key, len; perms, volatile): the segment's ShmId in .id."""
    c = _constants()
    if not length >= 1:
        raise JuliaError("ArgumentError", f"bad number of bytes ({length})")
    flags = (perms & 0o777) | S_IRUSR | S_IWUSR | c["IPC_CREAT"] | c["IPC_EXCL"]
    shmid = LIBC.shmget(key_t(key), length, flags)
    if shmid < 0:
        _system_error("shmget")
    ptr = LIBC.shmat(shmid, None, 0)
    if ptr in (None, ctypes.c_void_p(-1).value):
        LIBC.shmctl(shmid, c["IPC_RMID"], None)
        _system_error("shmat")
    if volatile and LIBC.shmctl(shmid, c["IPC_RMID"], None) == -1:
        LIBC.shmdt(ptr)
        _system_error("shmctl")
    return _sysv_memory(shmid, ptr, length, volatile)


def sysv_attach(shmid, readonly=False):
    """SharedMemory(id::ShmId; readonly)."""
    c = _constants()
    length = shmid_sizeof(shmid)
    ptr = LIBC.shmat(shmid, None, c["SHM_RDONLY"] if readonly else 0)
    if ptr in (None, ctypes.c_void_p(-1).value):
        _system_error("shmat")
    return _sysv_memory(shmid, ptr, length, False)


def shmid_of_key(key, readonly=False):
    """ShmId(key::Key; readonly): shmget(key, 0, S_IRUSR[|S_IWUSR])."""
    shmid = LIBC.shmget(key_t(key), 0, S_IRUSR if readonly else S_IRUSR | S_IWUSR)
    if shmid < 0:
        _system_error("shmget")
    return shmid


def _sysv_memory(shmid, ptr, length, volatile):
    array = (ctypes.c_char * length).from_address(ptr)
    return SharedMemory(memoryview(array).cast("B"), length, volatile, shmid,
                        lambda: LIBC.shmdt(ptr))


def WrappedArray_create(ident, type_name, dims, volatile=True):
    """wrappedarrays.jl 117-126: WrappedArray(id, T, dims; kwds...)."""
    num = checkdims(dims)
    off = _wrapped_array_header_size(len(dims))
    siz = jl_int(off + jl_int(sizeof(type_name) * num))
    if isinstance(ident, str):
        mem = posix_create(ident, siz, volatile=volatile)
    else:
        mem = sysv_create(ident, siz, volatile=volatile)
    write_header(mem, type_name, dims)
    return mem, off


# ---------------------------------------------------------------------------
# The test's element values, the same on both sides of the test.

def element_values(type_name, count):
    """count values of the type, covering its bits, exact in it."""
    out = []
    for k in range(count):
        if type_name.startswith(("Int", "UInt")):
            bits = 8 * sizeof(type_name)
            v = (k * 0x9E3779B97F4A7C15 + 0x1234567) % (1 << bits)
            if type_name.startswith("Int") and v >= 1 << (bits - 1):
                v -= 1 << bits
            out.append((v,))
        elif type_name.startswith("Float"):
            out.append((k * 1.25 - 3.5,))
        else:
            out.append((k + 0.5, -0.25 * k))
    return out


def store_values(mem, off, type_name, count):
    fmt = "=" + ELEMENT_FORMAT[type_name]
    size = struct.calcsize(fmt)
    for k, v in enumerate(element_values(type_name, count)):
        struct.pack_into(fmt, mem.buf, off + k * size, *v)


def values_match(buf, off, type_name, count):
    fmt = "=" + ELEMENT_FORMAT[type_name]
    size = struct.calcsize(fmt)
    return all(struct.unpack_from(fmt, buf, off + k * size) == v
               for k, v in enumerate(element_values(type_name, count)))


def element_count(dims):
    n = 1
    for d in dims:
        n *= d
    return n


# ---------------------------------------------------------------------------
# The IPC.jl process of the test.

def write_cases(cases):
    """Creates each array as IPC.jl's WrappedArray(id, T, dims; volatile=false)
    would, and fills it. A case: {"id": "/name"} or {"key": K}, "type", "dims"."""
    for case in cases:
        ident = case.get("id", case.get("key"))
        try:
            mem, off = WrappedArray_create(ident, case["type"], case["dims"], volatile=False)
        except JuliaError as e:
            print(json.dumps({"error": str(e)}), flush=True)
            continue
        store_values(mem, off, case["type"], element_count(case["dims"]))
        print(json.dumps({"offset": off, "shmid": None if isinstance(ident, str) else mem.id}),
              flush=True)
        mem.destroy()


def read_cases(cases):
    """Attaches each array as IPC.jl's WrappedArray(id; readonly=true) would and
    reads its header; checks the elements. A case: {"id": "/name"}, {"key": K}
    or {"shmid": N}, with "type" and "dims" to expect."""
    for case in cases:
        try:
            if "id" in case:
                mem = posix_attach(case["id"], readonly=True)
            else:
                shmid = case["shmid"] if "shmid" in case else shmid_of_key(case["key"], readonly=True)
                mem = sysv_attach(shmid, readonly=True)
        except JuliaError as e:
            print(json.dumps({"error": str(e)}), flush=True)
            continue
        try:
            type_name, dims, off = read_header(mem)
            ok = values_match(mem.buf, off, type_name, element_count(dims))
            print(json.dumps({"type": type_name, "dims": list(dims), "offset": off,
                              "values": ok}), flush=True)
        except JuliaError as e:
            print(json.dumps({"error": str(e)}), flush=True)
        mem.destroy()


if __name__ == "__main__":
    role, cases_path = sys.argv[1:3]
    cases = json.load(open(cases_path))
    {"write": write_cases, "read": read_cases}[role](cases)
