# What libipcshm tells of an object: ShmInfo, with IPC.jl's field names, filled
# from the C struct ipcshm_info_t (InfoStruct).

# ipcshm_info_t of ipcshm.h, field for field (88 bytes); tests/julia_ccall_test.py
# checks it against the header.
mutable struct InfoStruct
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
    InfoStruct() = new(UInt32(88), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
end

"""
    ShmInfo

what is known of a shared memory object, with the fields of IPC.jl's `ShmInfo`
(same names, same types, same order):

| field | |
|---|---|
| `atime`, `dtime`, `ctime` | last attach, detach, change (seconds; POSIX: access, modification, status change) |
| `segsz` | size in bytes |
| `id` | System V identifier (`shmid`); -1 for POSIX and memfd objects |
| `cpid`, `lpid` | System V creator and last attach/detach pids; -1 otherwise |
| `nattch` | System V attach count; 0 otherwise |
| `mode` | permission bits (0o777) |
| `uid`, `gid`, `cuid`, `cgid` | owner and creator |

and, from libipcshm: `kind` (`IpcShm.KIND_POSIX`, `KIND_SYSV`, `KIND_MEMFD`),
`key` (System V key; 0 once removed, or private) and `flags`
(`IpcShm.PERSISTENT` when the object is not volatile, `IpcShm.HUGEPAGES` for a
memfd object in huge pages). `info.size` and `info.shmid`, the names of IpcShm
1.1, still read `segsz` and `id`.

`ShmInfo()` is zero-filled, for `shminfo!`. `ShmInfo(arg)` is `shminfo(arg)`.
"""
mutable struct ShmInfo
    atime::UInt64
    dtime::UInt64
    ctime::UInt64
    segsz::UInt64
    id::Int32
    cpid::Int32
    lpid::Int32
    nattch::Int32
    mode::UInt32
    uid::UInt32
    gid::UInt32
    cuid::UInt32
    cgid::UInt32
    kind::UInt32
    key::Int32
    flags::UInt32
    ShmInfo() = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
end

function Base.getproperty(info::ShmInfo, name::Symbol)
    name === :size && return getfield(info, :segsz)
    name === :shmid && return getfield(info, :id)
    return getfield(info, name)
end

Base.propertynames(::ShmInfo, private::Bool=false) = (fieldnames(ShmInfo)..., :size, :shmid)

function fill_info!(info::ShmInfo, raw::InfoStruct)
    info.atime = reinterpret(UInt64, raw.atime)
    info.dtime = reinterpret(UInt64, raw.dtime)
    info.ctime = reinterpret(UInt64, raw.ctime)
    info.segsz = raw.size
    info.id = raw.shmid
    info.cpid = raw.cpid
    info.lpid = raw.lpid
    info.nattch = Int32(min(raw.nattch, UInt64(typemax(Int32))))
    info.mode = raw.mode
    info.uid = raw.uid
    info.gid = raw.gid
    info.cuid = raw.cuid
    info.cgid = raw.cgid
    info.kind = raw.kind
    info.key = raw.key
    info.flags = raw.flags
    return info
end

function info_of_id(id::AbstractString, info::ShmInfo)
    raw = InfoStruct()
    check(ccall((:ipcshm_info, libipcshm), Cint, (Cstring, Ref{InfoStruct}), id, raw))
    return fill_info!(info, raw)
end

"""
    shminfo!(arg, info) -> info

overwrites `info` (a `ShmInfo`) with what is known of the object `arg`: a
`SharedMemory`, a `WrappedArray` in shared memory, a `ShmId`, an `IPC.Key`, or an
id string (`"/name"`, `"key:0x1234"`, `"shmid:N"`). Reading it needs only read
permission.
"""
shminfo!(id::AbstractString, info::ShmInfo) = info_of_id(id, info)
shminfo!(id::ShmId, info::ShmInfo) = info_of_id(id_string(id), info)
shminfo!(key::Key, info::ShmInfo) = info_of_id(id_string(key), info)

"""
    shminfo(arg) -> ShmInfo

what is known of the object `arg` (see `shminfo!`), also written `ShmInfo(arg)`.
"""
shminfo(arg) = shminfo!(arg, ShmInfo())

ShmInfo(arg::Union{AbstractString,ShmId,Key}) = shminfo(arg)
