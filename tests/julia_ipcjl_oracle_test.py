#!/usr/bin/env python3
"""Typed arrays between libipcshm and InterProcessCommunication.jl (IPC.jl), with
IPC.jl played by its transcription (julia_ipcjl_oracle.py), since Julia cannot
run here. Every writer and reader is a process of its own:

1. IPC.jl writes, libipcshm reads: every element type, ranks 1, 2, 3, 6 and 7,
   POSIX and System V.
2. libipcshm writes, IPC.jl reads: the same arrays.
3. Zero dimensions: libipcshm writes them; IPC.jl's reader and writer refuse them.
4. Lifetimes of a mixed deployment: an IPC.jl process that maps a volatile
   libipcshm object takes no lock, so the POSIX object's name goes with its last
   libipcshm user; a System V segment lives on while IPC.jl has it attached.
5. Hostile headers: the same bytes given to IPC.jl's reader and to libipcshm's,
   with what each accepts.

usage: julia_ipcjl_oracle_test.py LIBRARY CC
       julia_ipcjl_oracle_test.py --child ROLE LIBRARY CASES.json
"""
import ctypes
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import julia_ipcjl_oracle as ipcjl  # noqa: E402

ORACLE = os.path.join(HERE, "julia_ipcjl_oracle.py")
ELEMENT_CODES = {name: code for code, name, _ in ipcjl._WA_TYPES}
SHAPES = [(5,), (3, 2), (2, 3, 4), (2, 1, 3, 1, 2, 2), (1, 2, 1, 2, 1, 1, 3)]
READONLY, PERSISTENT = 1 << 0, 1 << 1


# ---------------------------------------------------------------------------
# libipcshm's side (ctypes on the library of this build), in child processes.

def load_library(path):
    lib = ctypes.CDLL(path)
    P, u32, i32, u64, i64 = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int32, ctypes.c_uint64, ctypes.c_int64
    sigs = {
        "ipcshm_array_create": (ctypes.c_int, [ctypes.c_char_p, u32, u32, ctypes.POINTER(i64), u32, u32, ctypes.POINTER(P)]),
        "ipcshm_attach": (ctypes.c_int, [ctypes.c_char_p, u32, ctypes.POINTER(P)]),
        "ipcshm_array_header": (ctypes.c_int, [P, ctypes.POINTER(u32), ctypes.POINTER(u32), ctypes.POINTER(i64), u32, ctypes.POINTER(u64)]),
        "ipcshm_array_data": (P, [P]),
        "ipcshm_size": (u64, [P]),
        "ipcshm_id": (ctypes.c_char_p, [P]),
        "ipcshm_detach": (ctypes.c_int, [P]),
        "ipcshm_last_error": (ctypes.c_char_p, []),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    del i32
    return lib


def lib_id(case):
    if "id" in case:
        return case["id"]
    if "shmid" in case:
        return f"shmid:{case['shmid']}"
    return f"key:0x{case['key'] & 0xFFFFFFFF:08x}"


def lib_error(lib, rc):
    return {"error": f"{rc}: {lib.ipcshm_last_error().decode()}"}


def lib_write(lib, cases, hold=False):
    """Creates each array with ipcshm_array_create (persistent, or volatile when
    `hold`) and fills it; with `hold`, keeps them until a line on stdin."""
    handles = []
    for case in cases:
        dims = (ctypes.c_int64 * len(case["dims"]))(*case["dims"])
        h = ctypes.c_void_p()
        rc = lib.ipcshm_array_create(lib_id(case).encode(), ELEMENT_CODES[case["type"]],
                                     len(case["dims"]), dims, 0o600,
                                     0 if hold else PERSISTENT, ctypes.byref(h))
        if rc < 0:
            print(json.dumps(lib_error(lib, rc)), flush=True)
            continue
        data = lib.ipcshm_array_data(h)
        count = ipcjl.element_count(case["dims"])
        size = ipcjl.sizeof(case["type"]) * count
        buf = memoryview((ctypes.c_char * max(size, 1)).from_address(data)).cast("B")
        ipcjl.store_values(ipcjl.SharedMemory(buf, size, False, None, None), 0, case["type"], count)
        buf.release()
        print(json.dumps({"id": lib.ipcshm_id(h).decode(), "offset": data - lib_pointer(lib, h)}),
              flush=True)
        handles.append(h)
    if hold:
        sys.stdin.readline()
    for h in handles:
        lib.ipcshm_detach(h)


def lib_pointer(lib, h):
    lib.ipcshm_pointer.restype = ctypes.c_void_p
    lib.ipcshm_pointer.argtypes = [ctypes.c_void_p]
    return lib.ipcshm_pointer(h)


def lib_read(lib, cases, check_values=True):
    """Attaches each array read-only and reads its header with libipcshm."""
    for case in cases:
        h = ctypes.c_void_p()
        rc = lib.ipcshm_attach(lib_id(case).encode(), READONLY, ctypes.byref(h))
        if rc < 0:
            print(json.dumps(lib_error(lib, rc)), flush=True)
            continue
        etype, ndims, offset = ctypes.c_uint32(), ctypes.c_uint32(), ctypes.c_uint64()
        dims = (ctypes.c_int64 * 16)()
        rc = lib.ipcshm_array_header(h, ctypes.byref(etype), ctypes.byref(ndims), dims, 16,
                                     ctypes.byref(offset))
        if rc < 0:
            print(json.dumps(lib_error(lib, rc)), flush=True)
        else:
            type_name = ipcjl._WA_ETYPES[etype.value - 1]
            shape = list(dims[:ndims.value])
            count = ipcjl.element_count(shape)
            ok = None
            if check_values:
                data = lib.ipcshm_array_data(h)
                size = ipcjl.sizeof(type_name) * count
                buf = (ctypes.c_char * max(size, 1)).from_address(data)
                ok = ipcjl.values_match(memoryview(buf).cast("B"), 0, type_name, count)
            print(json.dumps({"type": type_name, "dims": shape, "offset": offset.value,
                              "values": ok}), flush=True)
        lib.ipcshm_detach(h)


def child_main(role, library, cases_path):
    lib = load_library(library)
    cases = json.load(open(cases_path))
    if role == "write":
        lib_write(lib, cases)
    elif role == "hold":
        lib_write(lib, cases, hold=True)
    elif role == "read":
        lib_read(lib, cases)
    elif role == "check":
        lib_read(lib, cases, check_values=False)
    else:
        raise SystemExit(f"unknown role {role}")


# ---------------------------------------------------------------------------
# The test, in the parent process.

class Run:
    def __init__(self, library, tmp, gencode_path):
        self.library, self.tmp = library, tmp
        self.env = dict(os.environ, IPCJL_GENCODE=gencode_path)
        self.names, self.keys, self.shmids = [], [], []
        self.errors = []
        self.n = 0

    def check(self, ok, message):
        if not ok:
            self.errors.append(message)

    def posix_name(self):
        self.n += 1
        name = f"/ipcshm-oracle-{os.getpid()}-{self.n}"
        self.names.append(name)
        return name

    def sysv_key(self):
        while True:
            key = random.randint(0x10000000, 0xFFFFFFF0)
            if ipcjl.LIBC.shmget(ipcjl.key_t(key), 0, 0) < 0 and key not in self.keys:
                self.keys.append(key)
                return key

    def _cases_file(self, cases):
        self.n += 1
        path = os.path.join(self.tmp, f"cases-{self.n}.json")
        with open(path, "w") as f:
            json.dump(cases, f)
        return path

    def ipcjl(self, role, cases):
        """The IPC.jl process: one JSON result per case."""
        out = subprocess.run([sys.executable, ORACLE, role, self._cases_file(cases)],
                             env=self.env, capture_output=True, text=True, check=True).stdout
        return [json.loads(line) for line in out.splitlines()]

    def libipcshm(self, role, cases):
        """The libipcshm process: one JSON result per case."""
        out = subprocess.run([sys.executable, __file__, "--child", role, self.library,
                              self._cases_file(cases)],
                             env=self.env, capture_output=True, text=True, check=True).stdout
        return [json.loads(line) for line in out.splitlines()]

    def cleanup(self):
        c = ipcjl._constants()
        for name in self.names:
            ipcjl.LIBC.shm_unlink(name.encode())
        for key in self.keys:
            shmid = ipcjl.LIBC.shmget(ipcjl.key_t(key), 0, 0)
            if shmid >= 0:
                ipcjl.LIBC.shmctl(shmid, c["IPC_RMID"], None)
        for shmid in self.shmids:
            ipcjl.LIBC.shmctl(shmid, c["IPC_RMID"], None)
        left = [n for n in self.names if os.path.exists("/dev/shm" + n)]
        left += [hex(k) for k in self.keys if ipcjl.LIBC.shmget(ipcjl.key_t(k), 0, 0) >= 0]
        self.check(not left, f"objects left behind: {left}")


def all_cases(run):
    cases = []
    for kind in ("posix", "sysv"):
        for type_name in ipcjl._WA_ETYPES:
            for dims in SHAPES:
                case = {"type": type_name, "dims": list(dims)}
                if kind == "posix":
                    case["id"] = run.posix_name()
                else:
                    case["key"] = run.sysv_key()
                cases.append(case)
    return cases


def expected_offset(dims):
    return ipcjl._wrapped_array_header_size(len(dims))


def test_ipcjl_writes_libipcshm_reads(run):
    cases = all_cases(run)
    written = run.ipcjl("write", cases)
    read = run.libipcshm("read", cases)
    for case, w, r in zip(cases, written, read):
        what = f"IPC.jl wrote {case['type']}{tuple(case['dims'])} at {lib_id(case)}"
        run.check("error" not in w, f"{what}: {w}")
        run.check(r == {"type": case["type"], "dims": case["dims"],
                        "offset": expected_offset(case["dims"]), "values": True},
                  f"{what}; libipcshm read {r}")
    run.check(len(written) == len(read) == len(cases), "a process stopped early")
    return len(cases)


def test_libipcshm_writes_ipcjl_reads(run):
    cases = all_cases(run)
    written = run.libipcshm("write", cases)
    read = run.ipcjl("read", cases)
    for case, w, r in zip(cases, written, read):
        what = f"libipcshm wrote {case['type']}{tuple(case['dims'])} at {lib_id(case)}"
        run.check(w.get("offset") == expected_offset(case["dims"]), f"{what}: {w}")
        run.check(r == {"type": case["type"], "dims": case["dims"],
                        "offset": expected_offset(case["dims"]), "values": True},
                  f"{what}; IPC.jl read {r}")
    run.check(len(written) == len(read) == len(cases), "a process stopped early")
    return len(cases)


def test_zero_dimensions(run):
    """libipcshm writes arrays with a zero dimension; IPC.jl refuses them both
    ways (utils.jl checkdims: every dimension >= 1)."""
    cases = [{"type": "Float64", "dims": [3, 0], "id": run.posix_name()},
             {"type": "Int8", "dims": [0], "key": run.sysv_key()}]
    written = run.libipcshm("write", cases)
    run.check(all("id" in w for w in written), f"libipcshm refused a zero dimension: {written}")
    read = run.ipcjl("read", cases)
    run.check(read == [{"error": "ErrorException: invalid dimension (dims[2] = 0)"},
                       {"error": "ErrorException: invalid dimension (dims[1] = 0)"}],
              f"IPC.jl's reader on zero dimensions: {read}")
    back = run.libipcshm("read", cases)
    run.check([r.get("dims") for r in back] == [[3, 0], [0]], f"libipcshm read back {back}")
    mine = [{"type": "Float64", "dims": [3, 0], "id": run.posix_name()}]
    written = run.ipcjl("write", mine)
    run.check(written == [{"error": "ErrorException: invalid dimension (dims[2] = 0)"}],
              f"IPC.jl's writer on a zero dimension: {written}")


def test_mixed_lifetimes(run):
    """What a mixed deployment sees: IPC.jl (this process) maps volatile arrays of
    a libipcshm process, which then detaches and exits."""
    c = ipcjl._constants()
    cases = [{"type": "Float64", "dims": [4, 4], "id": run.posix_name()},
             {"type": "Int32", "dims": [16], "key": run.sysv_key()}]
    holder = subprocess.Popen([sys.executable, __file__, "--child", "hold", run.library,
                               run._cases_file(cases)],
                              env=run.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ids = [json.loads(holder.stdout.readline())["id"] for _ in cases]
        shmid = int(ids[1].split(":")[1])
        run.shmids.append(shmid)
        posix = ipcjl.posix_attach(ids[0], readonly=True)
        sysv = ipcjl.sysv_attach(shmid, readonly=True)
    finally:
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait()
    run.check(holder.returncode == 0, "the libipcshm process failed")
    # POSIX: the last libipcshm user unlinked the name; IPC.jl's mapping stays.
    gone = ipcjl.LIBC.shm_open(ids[0].encode(), os.O_RDONLY, 0) == -1
    run.check(gone, "a volatile POSIX object outlived its last libipcshm user by name, "
                    "although IPC.jl takes no lock")
    t, dims, off = ipcjl.read_header(posix)
    run.check(ipcjl.values_match(posix.buf, off, t, 16), "the POSIX mapping changed")
    posix.destroy()
    # System V: the kernel counts IPC.jl's attachment; the segment lives on.
    buf = ctypes.create_string_buffer(c["sizeof_struct_shmid_ds"])
    run.check(ipcjl.LIBC.shmctl(shmid, c["IPC_STAT"], buf) == 0,
              "a volatile System V segment went away while IPC.jl had it attached")
    t, dims, off = ipcjl.read_header(sysv)
    run.check(ipcjl.values_match(sysv.buf, off, t, 16), "the System V mapping changed")
    sysv.destroy()
    run.check(ipcjl.LIBC.shmctl(shmid, c["IPC_STAT"], buf) == -1,
              "a volatile System V segment outlived its last attachment")


def _hostile_cases():
    """(what, mutation of a valid Float64 (4, 4) header, IPC.jl's reader,
    libipcshm's reader): 'accept', 'reject', or 'fault' (IPC.jl reads past the
    mapping). Where they differ, bindings/julia/README.md says it."""
    def header(magic=ipcjl._WA_MAGIC, etype=10, ndims=2, offset=None, dims=(4, 4)):
        off = ipcjl._wrapped_array_header_size(ndims) if offset is None else offset
        return ipcjl.HEADER.pack(magic, etype, ndims, off) + b"".join(
            ipcjl.struct.pack("=q", d) for d in dims)
    big = 1 << 62
    return [
        ("a valid header", header(), "accept", "accept"),
        ("a wrong magic", header(magic=0x57412D32), "reject", "reject"),
        ("element type 0", header(etype=0), "reject", "reject"),
        ("element type 13", header(etype=13), "reject", "reject"),
        ("no dimension", header(ndims=0, dims=()), "reject", "reject"),
        ("an offset not of the rank", header(offset=128), "reject", "reject"),
        ("a negative dimension", header(dims=(4, -1)), "reject", "reject"),
        ("a zero dimension", header(dims=(4, 0)), "reject", "accept"),
        ("more elements than the object holds", header(dims=(1000, 1000)), "reject", "reject"),
        ("an element count that wraps Int64 to 0", header(dims=(big, 4)), "accept", "reject"),
        ("a byte count that wraps Int64 to 0", header(dims=(1 << 61, 1)), "accept", "reject"),
        ("65535 dimensions in a 4 KiB object", header(ndims=65535, dims=(1, 1)), "fault", "reject"),
    ]


def test_hostile_headers(run):
    cases, expectations = [], []
    for what, data, ipcjl_expect, lib_expect in _hostile_cases():
        name = run.posix_name()
        mem = ipcjl.posix_create(name, 4096, volatile=False)
        mem.buf[:len(data)] = data
        try:
            ipcjl.read_header(mem)
            seen = "accept"
        except ipcjl.JuliaError as e:
            seen = "fault" if e.kind == "SegmentationFault" else "reject"
        mem.destroy()
        run.check(seen == ipcjl_expect, f"{what}: IPC.jl's reader would {seen}, expected {ipcjl_expect}")
        cases.append({"id": name})
        expectations.append((what, lib_expect))
    for (what, lib_expect), r in zip(expectations, run.libipcshm("check", cases)):
        seen = "reject" if "error" in r else "accept"
        run.check(seen == lib_expect, f"{what}: libipcshm would {seen} ({r}), expected {lib_expect}")
        if seen == "reject":
            run.check(r["error"].startswith(f"-{74}:"), f"{what}: not -EBADMSG: {r}")
    return len(cases)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(*sys.argv[2:5])
        return 0
    library, cc = sys.argv[1:3]
    with tempfile.TemporaryDirectory() as tmp:
        gencode_path = os.path.join(tmp, "gencode.json")
        with open(gencode_path, "w") as f:
            json.dump(ipcjl.gencode(cc), f)
        os.environ["IPCJL_GENCODE"] = gencode_path
        run = Run(library, tmp, gencode_path)
        counts = {}
        try:
            for test in (test_ipcjl_writes_libipcshm_reads, test_libipcshm_writes_ipcjl_reads,
                         test_zero_dimensions, test_mixed_lifetimes, test_hostile_headers):
                try:
                    counts[test.__name__] = test(run)
                except Exception as e:  # a failure of one part; the others still run
                    run.errors.append(f"{test.__name__}: {type(e).__name__}: {e}")
        finally:
            run.cleanup()
    for e in run.errors:
        print("FAIL:", e)
    print(f"IPC.jl -> libipcshm: {counts.get('test_ipcjl_writes_libipcshm_reads')} arrays; "
          f"libipcshm -> IPC.jl: {counts.get('test_libipcshm_writes_ipcjl_reads')} arrays "
          f"({len(ipcjl._WA_ETYPES)} element types x ranks {[len(s) for s in SHAPES]} x "
          f"POSIX and System V); zero dimensions; mixed lifetimes; "
          f"{counts.get('test_hostile_headers')} hostile headers: {len(run.errors)} problems")
    return 1 if run.errors else 0


if __name__ == "__main__":
    sys.exit(main())
