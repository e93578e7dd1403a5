"""
    IpcShm

Shared memory for Julia through libipcshm, with the names of
InterProcessCommunication.jl (IPC.jl): `SharedMemory`, `shmid`, `pointer`,
`sizeof`, `rm`, `ShmInfo`, `shmcfg`. Objects made here are the same objects that
C, C++, Python and Rust programs using libipcshm see.

Every function of the C library is called with `ccall` on the library's SONAME
(`libipcshm.so.1`); set `ENV["IPCSHM_LIBRARY"]` before loading to use another path.
"""
module IpcShm

export SharedMemory, shmid, ShmInfo, shmcfg, shmrm, IpcShmError

const libipcshm = get(ENV, "IPCSHM_LIBRARY", "libipcshm.so.1")

# Flags of ipcshm.h.
const READONLY = UInt32(1) << 0
const PERSISTENT = UInt32(1) << 1
const OPEN_OR_CREATE = UInt32(1) << 2
const PREFAULT = UInt32(1) << 3
const LOCKED = UInt32(1) << 5
const RESERVE = UInt32(1) << 6

const KIND_POSIX = UInt32(1)
const KIND_SYSV = UInt32(2)
const KIND_MEMFD = UInt32(3)

"""
    IpcShmError(errno, message)

A failure of libipcshm: the errno value (positive) and the library's message.
"""
struct IpcShmError <: Exception
    errno::Int
    msg::String
end
Base.showerror(io::IO, e::IpcShmError) =
    print(io, "IpcShmError: ", e.msg, " (", Libc.strerror(e.errno), ")")

last_error() = unsafe_string(ccall((:ipcshm_last_error, libipcshm), Cstring, ()))

# Throws the library's last failure when rc < 0; returns rc otherwise.
check(rc::Integer) = rc < 0 ? throw(IpcShmError(-rc, last_error())) : Int(rc)

"""
    ShmInfo

What libipcshm tells of an object (`ipcshm_info_t`, 88 bytes): `kind`, `size`,
`nattch`, `atime`, `dtime`, `ctime`, `mode`, `uid`, `gid`, `cuid`, `cgid`,
`cpid`, `lpid`, `key`, `shmid`, `flags`. Obtained by `ShmInfo(id)` or
`ShmInfo(shm)`.
"""
mutable struct ShmInfo
    struct_size::UInt32
    kind::UInt32
    size::UInt64
    nattch::UInt64
    atime::Int64
    dtime::Int64
    ctime::Int64
    mode::UInt32
    uid::UInt32
    gid::UInt32
    cuid::UInt32
    cgid::UInt32
    cpid::Int32
    lpid::Int32
    key::Int32
    shmid::Int32
    flags::UInt32
    ShmInfo() = new(UInt32(88), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
end

function ShmInfo(id::AbstractString)
    info = ShmInfo()
    check(ccall((:ipcshm_info, libipcshm), Cint, (Cstring, Ref{ShmInfo}), id, info))
    return info
end

"""
    SharedMemory(id, len; perms=0o600, volatile=true)

creates a shared memory object of `len` bytes. `id` is `"/name"` (POSIX; a name
ending in `XXXXXX` is made unique), `"key:0x1234"` or an integer key (System V),
or `"private"`. A volatile object is destroyed when its last user, in any process,
detaches (here: is finalized, or `close`d).

    SharedMemory(id; readonly=false)

attaches an existing object (`"/name"`, `"key:..."`, `"shmid:N"` or a `ShmId`
string as given by `shmid`).
"""
mutable struct SharedMemory
    handle::Ptr{Cvoid}
    ptr::Ptr{Cvoid}
    len::Int
    id::String
    function SharedMemory(handle::Ptr{Cvoid})
        ptr = ccall((:ipcshm_pointer, libipcshm), Ptr{Cvoid}, (Ptr{Cvoid},), handle)
        len = ccall((:ipcshm_size, libipcshm), UInt64, (Ptr{Cvoid},), handle)
        id = unsafe_string(ccall((:ipcshm_id, libipcshm), Cstring, (Ptr{Cvoid},), handle))
        obj = new(handle, ptr, Int(len), id)
        finalizer(detach!, obj)
        return obj
    end
end

ipcshm_id_string(id::AbstractString) = String(id)
ipcshm_id_string(key::Integer) = "key:" * string(Int32(key))

function SharedMemory(id::Union{AbstractString,Integer}, len::Integer;
                      perms::Integer=0o600, volatile::Bool=true)
    flags = volatile ? UInt32(0) : PERSISTENT
    ref = Ref{Ptr{Cvoid}}(C_NULL)
    check(ccall((:ipcshm_create, libipcshm), Cint,
                (Cstring, UInt64, UInt32, UInt32, Ptr{Ptr{Cvoid}}),
                ipcshm_id_string(id), len, perms, flags, ref))
    return SharedMemory(ref[])
end

function SharedMemory(id::Union{AbstractString,Integer}; readonly::Bool=false)
    ref = Ref{Ptr{Cvoid}}(C_NULL)
    check(ccall((:ipcshm_attach, libipcshm), Cint, (Cstring, UInt32, Ptr{Ptr{Cvoid}}),
                ipcshm_id_string(id), readonly ? READONLY : UInt32(0), ref))
    return SharedMemory(ref[])
end

# Detaches once; the finalizer and close share it.
function detach!(shm::SharedMemory)
    if shm.handle != C_NULL
        ccall((:ipcshm_detach, libipcshm), Cint, (Ptr{Cvoid},), shm.handle)
        shm.handle = C_NULL
        shm.ptr = C_NULL
    end
    return nothing
end

Base.close(shm::SharedMemory) = detach!(shm)
Base.pointer(shm::SharedMemory) = shm.ptr
Base.sizeof(shm::SharedMemory) = shm.len
Base.show(io::IO, shm::SharedMemory) =
    print(io, "SharedMemory(\"", shm.id, "\", ", shm.len, " bytes)")

"""
    shmid(shm)

the canonical id of the object (`"/name"` or `"shmid:N"`), which attaches it from
another process.
"""
shmid(shm::SharedMemory) = shm.id

function ShmInfo(shm::SharedMemory)
    shm.handle == C_NULL && throw(IpcShmError(Libc.EBADF, "SharedMemory is closed"))
    info = ShmInfo()
    check(ccall((:ipcshm_handle_info, libipcshm), Cint, (Ptr{Cvoid}, Ref{ShmInfo}),
                shm.handle, info))
    return info
end

"""
    shmcfg(id, perms)

sets the permission bits of an object (always keeping owner read and write).
"""
shmcfg(id::AbstractString, perms::Integer) =
    (check(ccall((:ipcshm_chmod, libipcshm), Cint, (Cstring, UInt32), id, perms)); nothing)
shmcfg(shm::SharedMemory, perms::Integer) = shmcfg(shm.id, perms)

"""
    shmrm(id)
    rm(shm::SharedMemory)
    rm(SharedMemory, id)

removes the object's name; an object already gone is no error.
"""
shmrm(id::AbstractString) =
    (check(ccall((:ipcshm_remove, libipcshm), Cint, (Cstring,), id)); nothing)
Base.rm(shm::SharedMemory) = shmrm(shm.id)
Base.rm(::Type{SharedMemory}, id::AbstractString) = shmrm(id)

"""
    version()

the loaded library's version as a `VersionNumber`.
"""
function version()
    v = ccall((:ipcshm_version, libipcshm), UInt32, ())
    return VersionNumber(v >> 16, (v >> 8) & 0xff, v & 0xff)
end

page_size() = Int(ccall((:ipcshm_page_size, libipcshm), UInt64, ()))

end # module
