# SharedMemory: creating, attaching, closing and removing objects, with
# IPC.jl's names (shmid, shmrm, shmcfg, rm, pointer, sizeof).

"""
    IpcShm.MemoryBlock

the abstract type of memory that `WrappedArray` wraps, as in IPC.jl.
"""
abstract type MemoryBlock end

"""
    SharedMemory(id, len; perms=0o600, volatile=true, hugepages=false,
                 prefault=false, locked=false, reserve=false)

creates a shared memory object of `len` bytes and maps it. `id` is

- `"/name"`: a POSIX object (a name ending in `XXXXXX` is made unique and
  unguessable: `shmid(shm)` tells the name chosen);
- an `IPC.Key` or an integer key: a System V segment; `IPC.PRIVATE` or `0` is
  `IPC_PRIVATE` (a new segment, reached by its `ShmId`); keys up to
  `0xffffffff` are taken as `ipcs` writes them;
- `"key:0x1234"`, `"private"`, `"memfd:label"`: libipcshm's id strings (a memfd
  object is anonymous and travels as a descriptor: `shmsend`, `shmfd`).

`perms` are the permission bits (owner read and write are always added).
Volatile objects (the default) are destroyed when their last user, in any
process, detaches (`close`, or finalization) or dies. `volatile=false` objects stay
until `rm`/`shmrm` or reboot. `hugepages` backs the object with huge pages (or
fails with a message that says what to change), `prefault` populates its pages
now, `locked` keeps them in RAM, `reserve` (POSIX) reserves the backing store so
that a full `/dev/shm` is an error now rather than a SIGBUS later.

    SharedMemory(id; readonly=false, prefault=false, locked=false)

attaches an existing object: `"/name"`, an `IPC.Key` or integer key, a `ShmId`, or
`"key:..."`/`"shmid:N"`. `readonly=true` needs only read permission; writing
through such a mapping faults.

    SharedMemory(fd::RawFD; readonly=false)

maps the POSIX or memfd object open as descriptor `fd` (from `shmfd`, inherited,
or received); `fd` stays open and is the caller's to close.

`pointer(shm)`, `sizeof(shm)`, `shmid(shm)` (a `String` for POSIX and memfd
objects, a `ShmId` for System V segments, as in IPC.jl), `close(shm)`, `rm(shm)`.
"""
mutable struct SharedMemory{T<:Union{String,ShmId}} <: MemoryBlock
    ptr::Ptr{Cvoid}       # mapped address (C_NULL once closed)
    len::Int              # size in bytes (0 once closed)
    volatile::Bool        # destroyed with its last user
    id::T                 # IPC.jl's identifier: "/name", "memfd:label" or a ShmId
    handle::Ptr{Cvoid}    # the libipcshm handle (C_NULL once closed)
    name::String          # libipcshm's canonical id: "/name", "shmid:N", "memfd:label"
    function SharedMemory{T}(handle::Ptr{Cvoid}, ptr::Ptr{Cvoid}, len::Int,
                             volatile::Bool, id::T,
                             name::String) where {T<:Union{String,ShmId}}
        return finalizer(detach!, new{T}(ptr, len, volatile, id, handle, name))
    end
end

# A SharedMemory for a handle from the C library; detaches it if that fails.
function wrap_handle(handle::Ptr{Cvoid}, volatile::Union{Bool,Nothing}=nothing)
    try
        ptr = ccall((:ipcshm_pointer, libipcshm), Ptr{Cvoid}, (Ptr{Cvoid},), handle)
        len = Int(ccall((:ipcshm_size, libipcshm), UInt64, (Ptr{Cvoid},), handle))
        name = unsafe_string(ccall((:ipcshm_id, libipcshm), Cstring, (Ptr{Cvoid},), handle))
        if volatile === nothing
            raw = InfoStruct()
            rc = ccall((:ipcshm_handle_info, libipcshm), Cint, (Ptr{Cvoid}, Ref{InfoStruct}),
                       handle, raw)
            volatile = rc == 0 && (raw.flags & PERSISTENT) == 0
        end
        if startswith(name, "shmid:")
            id = ShmId(parse(Int32, name[7:end]))
            return SharedMemory{ShmId}(handle, ptr, len, volatile, id, name)
        end
        return SharedMemory{String}(handle, ptr, len, volatile, name, name)
    catch
        ccall((:ipcshm_detach, libipcshm), Cint, (Ptr{Cvoid},), handle)
        rethrow()
    end
end

create_flags(; volatile::Bool, hugepages::Bool, prefault::Bool, locked::Bool,
             reserve::Bool) =
    (volatile ? UInt32(0) : PERSISTENT) | (hugepages ? HUGEPAGES : UInt32(0)) |
    (prefault ? PREFAULT : UInt32(0)) | (locked ? LOCKED : UInt32(0)) |
    (reserve ? RESERVE : UInt32(0))

attach_flags(; readonly::Bool, prefault::Bool, locked::Bool) =
    (readonly ? READONLY : UInt32(0)) | (prefault ? PREFAULT : UInt32(0)) |
    (locked ? LOCKED : UInt32(0))

function create_object(id::String, len::Integer, perms::Integer, flags::UInt32,
                       volatile::Bool)
    len >= 1 || throw(ArgumentError("bad number of bytes ($len)"))
    perms >= 0 || throw(ArgumentError("bad permissions ($perms)"))
    ref = Ref{Ptr{Cvoid}}(C_NULL)
    check(ccall((:ipcshm_create, libipcshm), Cint,
                (Cstring, UInt64, UInt32, UInt32, Ptr{Ptr{Cvoid}}),
                id, len, perms, flags, ref))
    return wrap_handle(ref[], volatile)
end

function attach_object(id::String, flags::UInt32)
    ref = Ref{Ptr{Cvoid}}(C_NULL)
    check(ccall((:ipcshm_attach, libipcshm), Cint, (Cstring, UInt32, Ptr{Ptr{Cvoid}}),
                id, flags, ref))
    return wrap_handle(ref[])
end

function SharedMemory(id::Union{AbstractString,Key,Integer}, len::Integer;
                      perms::Integer=S_IRUSR | S_IWUSR, volatile::Bool=true,
                      hugepages::Bool=false, prefault::Bool=false, locked::Bool=false,
                      reserve::Bool=false)
    flags = create_flags(; volatile=volatile, hugepages=hugepages, prefault=prefault,
                         locked=locked, reserve=reserve)
    return create_object(id_string(id), len, perms, flags, volatile)
end

SharedMemory(id::ShmId, len::Integer; kwds...) =
    throw(ArgumentError("$id names an existing segment: attach it with " *
                        "SharedMemory($id), or create one from an IPC.Key"))

function SharedMemory(id::Union{AbstractString,Key,Integer,ShmId}; readonly::Bool=false,
                      prefault::Bool=false, locked::Bool=false)
    flags = attach_flags(; readonly=readonly, prefault=prefault, locked=locked)
    return attach_object(id_string(id), flags)
end

function SharedMemory(fd::RawFD; readonly::Bool=false, prefault::Bool=false,
                      locked::Bool=false)
    flags = attach_flags(; readonly=readonly, prefault=prefault, locked=locked)
    ref = Ref{Ptr{Cvoid}}(C_NULL)
    check(ccall((:ipcshm_attach_fd, libipcshm), Cint, (Cint, UInt32, Ptr{Ptr{Cvoid}}),
                rawfd(fd), flags, ref))
    return wrap_handle(ref[])
end

# Detaches once; close and the finalizer share it.
function detach!(shm::SharedMemory)
    h = shm.handle
    if h != C_NULL
        shm.handle = C_NULL
        shm.ptr = C_NULL
        shm.len = 0
        ccall((:ipcshm_detach, libipcshm), Cint, (Ptr{Cvoid},), h)
    end
    return nothing
end

"""
    close(shm::SharedMemory)

unmaps `shm` now rather than at finalization: a volatile object is destroyed if
this was its last user. Arrays over `shm` must not be used afterwards.
"""
Base.close(shm::SharedMemory) = detach!(shm)
Base.isopen(shm::SharedMemory) = shm.handle != C_NULL
Base.pointer(shm::SharedMemory) = shm.ptr
Base.sizeof(shm::SharedMemory) = shm.len

# The live handle of shm, or an IpcShmError (EBADF) once it is closed.
function handle(shm::SharedMemory)
    shm.handle == C_NULL &&
        throw(IpcShmError(Libc.EBADF, "SharedMemory(\"$(shm.name)\") is closed"))
    return shm.handle
end

function Base.show(io::IO, shm::SharedMemory)
    print(io, "SharedMemory(")
    show(io, shm.id)
    if isopen(shm)
        print(io, "; len=", shm.len, ", ptr=Ptr{Cvoid}(0x",
              string(UInt(shm.ptr); base=16, pad=2 * sizeof(UInt)), "))")
    else
        print(io, "; closed)")
    end
end
Base.show(io::IO, ::MIME"text/plain", shm::SharedMemory) = show(io, shm)

"""
    shmid(arg)

the identifier of a shared memory object, as IPC.jl's: for a `SharedMemory` or a
`WrappedArray` in shared memory, the POSIX or memfd name (`String`) or the System
V `ShmId`; `shmid(id::ShmId)` is `id`; `shmid(key; readonly=false)` is the `ShmId`
of the segment of an `IPC.Key`. `idstring(shm)` gives the id string that any
language attaches (`"shmid:N"` for a System V segment).
"""
shmid(shm::SharedMemory) = shm.id
shmid(id::ShmId) = id
shmid(key::Key; readonly::Bool=false) = ShmId(key; readonly=readonly)
shmid(name::AbstractString) = String(name)

ShmId(shm::SharedMemory{ShmId}) = shm.id

"""
    idstring(shm) -> String

libipcshm's canonical id of the object of `shm` (a `SharedMemory` or a
`WrappedArray` in one): `"/name"`, `"shmid:N"` or `"memfd:label"`. C, C++,
Python and Rust programs attach the first two with it.
"""
idstring(shm::SharedMemory) = shm.name

"""
    shmrm(arg)

removes the name of an object: `"/name"` (POSIX: `shm_unlink`), a `ShmId` or an
`IPC.Key` (System V: `IPC_RMID`), or the object of a `SharedMemory`. Processes
that have it mapped keep their memory. An object already gone is no error.
Also `rm(shm)`, `rm(id::ShmId)`, `rm(SharedMemory, name_or_key)`.
"""
shmrm(id::Union{AbstractString,Key}) =
    (check(ccall((:ipcshm_remove, libipcshm), Cint, (Cstring,), id_string(id))); nothing)
shmrm(id::ShmId) =
    (check(ccall((:ipcshm_sysv_remove, libipcshm), Cint, (Int32,), id.value)); nothing)
shmrm(shm::SharedMemory) = shmrm(shm.name)

Base.rm(shm::SharedMemory) = shmrm(shm)
Base.rm(id::ShmId) = shmrm(id)
Base.rm(::Type{SharedMemory}, id::Union{AbstractString,Key}) = shmrm(id)

"""
    shmcfg(arg, perms) -> id

sets the permission bits of an object to `perms` (owner read and write are always
kept) and returns its identifier (IPC.jl's `shmcfg` returns the `ShmId`). `arg` is
a `ShmId`, an `IPC.Key`, an id string, a `SharedMemory` or a `WrappedArray` in
shared memory. Only the owner (or root) may.
"""
function shmcfg(id::AbstractString, perms::Integer)
    perms >= 0 || throw(ArgumentError("bad permissions ($perms)"))
    check(ccall((:ipcshm_chmod, libipcshm), Cint, (Cstring, UInt32), id, perms))
    return String(id)
end
shmcfg(id::ShmId, perms::Integer) = (shmcfg(id_string(id), perms); id)
shmcfg(key::Key, perms::Integer) = shmcfg(ShmId(key), perms)
shmcfg(shm::SharedMemory, perms::Integer) = (shmcfg(shm.name, perms); shm.id)

function shminfo!(shm::SharedMemory, info::ShmInfo)
    raw = InfoStruct()
    check(ccall((:ipcshm_handle_info, libipcshm), Cint, (Ptr{Cvoid}, Ref{InfoStruct}),
                handle(shm), raw))
    return fill_info!(info, raw)
end

ShmInfo(shm::SharedMemory) = shminfo(shm)

"""
    resize!(shm, len)

changes the size of a POSIX or memfd object to `len` bytes and maps it anew:
`pointer(shm)` may move, so arrays and pointers obtained before are invalid
afterwards. Grown memory reads as zeros. A memfd object cannot shrink; System V
segments cannot be resized. Others see the new size when they attach.
"""
function Base.resize!(shm::SharedMemory, len::Integer)
    h = handle(shm)
    len >= 1 || throw(ArgumentError("bad number of bytes ($len)"))
    rc = ccall((:ipcshm_resize, libipcshm), Cint, (Ptr{Cvoid}, UInt64), h, len)
    # The mapping may have moved even when a late step failed: read it back.
    shm.ptr = ccall((:ipcshm_pointer, libipcshm), Ptr{Cvoid}, (Ptr{Cvoid},), h)
    shm.len = Int(ccall((:ipcshm_size, libipcshm), UInt64, (Ptr{Cvoid},), h))
    check(rc)
    return shm
end
