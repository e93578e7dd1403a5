# Constants: libipcshm's flags and kinds (ipcshm.h), System V's (sys/ipc.h,
# sys/shm.h, sys/stat.h on Linux, under IPC.jl's names), and the element types
# of typed arrays. tests/julia_ccall_test.py checks every value here against the
# C headers.

# Flags of ipcshm.h.
const READONLY = UInt32(1) << 0
const PERSISTENT = UInt32(1) << 1
const OPEN_OR_CREATE = UInt32(1) << 2
const PREFAULT = UInt32(1) << 3
const HUGEPAGES = UInt32(1) << 4
const LOCKED = UInt32(1) << 5
const RESERVE = UInt32(1) << 6
const UNSEALED = UInt32(1) << 7

# Object kinds of ipcshm.h, as in `ShmInfo(...).kind`.
const KIND_POSIX = UInt32(1)
const KIND_SYSV = UInt32(2)
const KIND_MEMFD = UInt32(3)

# System V, with the names and Julia types that IPC.jl gives them (IPC.IPC_CREAT,
# ...): for shmget, shmat, shmctl.
const IPC_PRIVATE = Int32(0)
const IPC_CREAT = Cint(0o1000)
const IPC_EXCL = Cint(0o2000)
const IPC_RMID = Cint(0)
const IPC_SET = Cint(1)
const IPC_STAT = Cint(2)
const IPC_INFO = Cint(3)
const SHM_RDONLY = Cint(0o10000)
const SHM_REMAP = Cint(0o40000)
const SHM_EXEC = Cint(0o100000)
const SHM_LOCK = Cint(11)
const SHM_UNLOCK = Cint(12)
const SHM_STAT = Cint(13)
const SHM_INFO = Cint(14)

# Permission bits (mode_t), as IPC.jl names them.
const S_IRWXU = UInt32(0o700)
const S_IRUSR = UInt32(0o400)
const S_IWUSR = UInt32(0o200)
const S_IXUSR = UInt32(0o100)
const S_IRWXG = UInt32(0o070)
const S_IRGRP = UInt32(0o040)
const S_IWGRP = UInt32(0o020)
const S_IXGRP = UInt32(0o010)
const S_IRWXO = UInt32(0o007)
const S_IROTH = UInt32(0o004)
const S_IWOTH = UInt32(0o002)
const S_IXOTH = UInt32(0o001)

# The permission bits that `shmcfg` and `perms` keywords take.
const MASKMODE = UInt32(0o777)

# Element type codes of typed arrays (ipcshm.h: IPCSHM_INT8 = 1 .. IPCSHM_COMPLEX128),
# as IPC.jl's WrappedArray header "WA-1" has them. One entry a line, checked
# against the header by tests/julia_ccall_test.py.
const ELEMENT_TYPES = (
    Int8       => 1,   # IPCSHM_INT8
    UInt8      => 2,   # IPCSHM_UINT8
    Int16      => 3,   # IPCSHM_INT16
    UInt16     => 4,   # IPCSHM_UINT16
    Int32      => 5,   # IPCSHM_INT32
    UInt32     => 6,   # IPCSHM_UINT32
    Int64      => 7,   # IPCSHM_INT64
    UInt64     => 8,   # IPCSHM_UINT64
    Float32    => 9,   # IPCSHM_FLOAT32
    Float64    => 10,  # IPCSHM_FLOAT64
    ComplexF32 => 11,  # IPCSHM_COMPLEX64
    ComplexF64 => 12,  # IPCSHM_COMPLEX128
)

"""
    IpcShm.element_code(T)

the element type code of `T` in an array header (`Int8` => 1 .. `ComplexF64` => 12);
an `ArgumentError` for other types.
"""
function element_code(::Type{T}) where {T}
    for (S, code) in ELEMENT_TYPES
        S === T && return UInt32(code)
    end
    throw(ArgumentError("no array element code for $T (supported: " *
                        join((string(S) for (S, _) in ELEMENT_TYPES), ", ") * ")"))
end

"""
    IpcShm.element_type(code)

the Julia type of an element type code; an `ArgumentError` for an unknown code.
"""
function element_type(code::Integer)
    for (S, c) in ELEMENT_TYPES
        c == code && return S
    end
    throw(ArgumentError("unknown array element code $code"))
end
