"""
    IpcShm

Shared memory for Julia through libipcshm, with the names of
InterProcessCommunication.jl (IPC.jl): `SharedMemory`, `shmid`, `pointer`,
`sizeof`, `rm`, `ShmInfo`, `shmcfg`, `WrappedArray`. Objects made here are the
same objects that C, C++, Python and Rust programs using libipcshm see.

Since libipcshm 1.1: `"memfd:label"` objects, descriptors (`shmfd`,
`SharedMemory(fd::RawFD)`), passing objects over UNIX-domain sockets
(`shmsend`, `shmrecv`), `resize!`, huge pages (`hugepages=true`), and typed
arrays in IPC.jl's "WA-1" layout (`WrappedArray`, `unsafe_wrap(Array, shm)`).

Every function of the C library is called with `ccall` on the library's SONAME
(`libipcshm.so.1`); set `ENV["IPCSHM_LIBRARY"]` before loading to use another path.
"""
module IpcShm

export SharedMemory, shmid, ShmInfo, shmcfg, shmrm, IpcShmError,
       WrappedArray, shmfd, shmsend, shmrecv

const libipcshm = get(ENV, "IPCSHM_LIBRARY", "libipcshm.so.1")

# Flags of ipcshm.h.
const READONLY = UInt32(1) << 0
const PERSISTENT = UInt32(1) << 1
const OPEN_OR_CREATE = UInt32(1) << 2
const PREFAULT = UInt32(1) << 3
const HUGEPAGES = UInt32(1) << 4
const LOCKED = UInt32(1) << 5
const RESERVE = UInt32(1) << 6
const UNSEALED = UInt32(1) << 7

const KIND_POSIX = UInt32(1)
const KIND_SYSV = UInt32(2)
const KIND_MEMFD = UInt32(3)

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
    element_code(T)

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
    element_type(code)

the Julia type of an element type code; an `ArgumentError` for an unknown code.
"""
function element_type(code::Integer)
    for (S, c) in ELEMENT_TYPES
        c == code && return S
    end
    throw(ArgumentError("unknown array element code $code"))
end

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
`cpid`, `lpid`, `key`, `shmid`, `flags` (`PERSISTENT` when not volatile,
`HUGEPAGES` for a memfd object in huge pages). Obtained by `ShmInfo(id)` or
`ShmInfo(shm)`; `kind` is `KIND_POSIX`, `KIND_SYSV` or `KIND_MEMFD`.
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
    SharedMemory(id, len; perms=0o600, volatile=true, hugepages=false)

creates a shared memory object of `len` bytes. `id` is `"/name"` (POSIX; a name
ending in `XXXXXX` is made unique), `"key:0x1234"` or an integer key (System V),
`"private"`, or `"memfd:label"` (an anonymous object, always new and volatile,
that other processes get as a descriptor: `shmsend`/`shmrecv`, `shmfd`). A
volatile object is destroyed when its last user, in any process, detaches (here:
is finalized, or `close`d). `hugepages=true` backs it with huge pages, or fails
with a message that says what to change.

    SharedMemory(id; readonly=false)

attaches an existing object (`"/name"`, `"key:..."`, `"shmid:N"` or a `ShmId`
string as given by `shmid`).

    SharedMemory(fd::RawFD; readonly=false)

maps the POSIX or memfd object open as descriptor `fd` (from `shmfd`, inherited,
or received); `fd` stays open and is the caller's to close.
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
                      perms::Integer=0o600, volatile::Bool=true, hugepages::Bool=false)
    flags = (volatile ? UInt32(0) : PERSISTENT) | (hugepages ? HUGEPAGES : UInt32(0))
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

function SharedMemory(fd::RawFD; readonly::Bool=false)
    ref = Ref{Ptr{Cvoid}}(C_NULL)
    check(ccall((:ipcshm_attach_fd, libipcshm), Cint, (Cint, UInt32, Ptr{Ptr{Cvoid}}),
                rawfd(fd), readonly ? READONLY : UInt32(0), ref))
    return SharedMemory(ref[])
end

# The descriptor number of a RawFD, an integer, or an object with a `Base.fd`
# method (an IOStream, a libuv socket's `Base._fd`, ...).
rawfd(fd::RawFD) = reinterpret(Cint, fd)
rawfd(fd::Integer) = Cint(fd)
rawfd(io) = rawfd(fd(io))

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

# The live handle of shm, or an IpcShmError (EBADF) once it is closed.
function handle(shm::SharedMemory)
    shm.handle == C_NULL && throw(IpcShmError(Libc.EBADF, "SharedMemory is closed"))
    return shm.handle
end

"""
    shmfd(shm) -> RawFD

a new close-on-exec descriptor of the object (POSIX or memfd; read-only if `shm`
is), which the caller closes (e.g. `close(Base.Filesystem.File(fd))`). Another process
maps it with `SharedMemory(fd)`. System V segments have none: pass `shmid(shm)`.
"""
shmfd(shm::SharedMemory) =
    RawFD(check(ccall((:ipcshm_fd, libipcshm), Cint, (Ptr{Cvoid},), handle(shm))))

"""
    shmsend(sock, shm)

sends the object over the connected UNIX-domain socket `sock` (a `RawFD`, an
integer descriptor, or an object with a `Base.fd` method) as a descriptor
(SCM_RIGHTS). `shm` stays mapped.
"""
shmsend(sock, shm::SharedMemory) =
    (check(ccall((:ipcshm_send, libipcshm), Cint, (Cint, Ptr{Cvoid}),
                 rawfd(sock), handle(shm))); nothing)

"""
    shmrecv(sock; readonly=false) -> SharedMemory

receives one object sent by `shmsend` (or any libipcshm program) on `sock` and
maps it. Blocks as the socket does. The message is consumed even if mapping fails
(a read-only object received without `readonly=true`).
"""
function shmrecv(sock; readonly::Bool=false)
    ref = Ref{Ptr{Cvoid}}(C_NULL)
    check(ccall((:ipcshm_recv, libipcshm), Cint, (Cint, UInt32, Ptr{Ptr{Cvoid}}),
                rawfd(sock), readonly ? READONLY : UInt32(0), ref))
    return SharedMemory(ref[])
end

"""
    resize!(shm, len)

changes the size of a POSIX or memfd object to `len` bytes and maps it anew:
`pointer(shm)` may move, so arrays and pointers obtained before are invalid
afterwards. Grown memory reads as zeros. A memfd object cannot shrink; System V
segments cannot be resized. Others see the new size when they attach.
"""
function Base.resize!(shm::SharedMemory, len::Integer)
    h = handle(shm)
    rc = ccall((:ipcshm_resize, libipcshm), Cint, (Ptr{Cvoid}, UInt64), h, len)
    # The mapping may have moved even when a late step failed: read it back.
    shm.ptr = ccall((:ipcshm_pointer, libipcshm), Ptr{Cvoid}, (Ptr{Cvoid},), h)
    shm.len = Int(ccall((:ipcshm_size, libipcshm), UInt64, (Ptr{Cvoid},), h))
    check(rc)
    return shm
end

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

# ---------------------------------------------------------------------------
# Typed arrays: IPC.jl's WrappedArray, header "WA-1"

"""
    WrappedArray(id, T, dims...; perms=0o600, volatile=true, hugepages=false)

creates the object `id` (as `SharedMemory`) holding a zeroed array of element type
`T` (`Int8` .. `UInt64`, `Float32`, `Float64`, `ComplexF32`, `ComplexF64`) and
dimensions `dims`, after a "WA-1" header that IPC.jl, C, Python and Rust programs
read. To retrieve it in another process:

    WrappedArray(id; readonly=false)
    WrappedArray(shm::SharedMemory)

The result is an `AbstractArray` whose elements are the shared memory itself
(column-major, as Julia's); it keeps its `SharedMemory` (field `mem`) alive.
Writing to an array of a read-only mapping faults.
"""
struct WrappedArray{T,N} <: DenseArray{T,N}
    arr::Array{T,N}
    mem::SharedMemory
end

function WrappedArray(id::Union{AbstractString,Integer}, ::Type{T}, dims::Integer...;
                      perms::Integer=0o600, volatile::Bool=true,
                      hugepages::Bool=false) where {T}
    cdims = Int64[d for d in dims]
    flags = (volatile ? UInt32(0) : PERSISTENT) | (hugepages ? HUGEPAGES : UInt32(0))
    ref = Ref{Ptr{Cvoid}}(C_NULL)
    check(ccall((:ipcshm_array_create, libipcshm), Cint,
                (Cstring, UInt32, UInt32, Ptr{Int64}, UInt32, UInt32, Ptr{Ptr{Cvoid}}),
                ipcshm_id_string(id), element_code(T), length(cdims), cdims, perms, flags,
                ref))
    return WrappedArray(SharedMemory(ref[]))
end

WrappedArray(id::Union{AbstractString,Integer}, ::Type{T}, dims::Tuple{Vararg{Integer}};
             kwds...) where {T} = WrappedArray(id, T, dims...; kwds...)

WrappedArray(id::Union{AbstractString,Integer}; readonly::Bool=false) =
    WrappedArray(SharedMemory(id; readonly=readonly))

function WrappedArray(shm::SharedMemory)
    arr = unsafe_wrap(Array, shm)
    return WrappedArray{eltype(arr),ndims(arr)}(arr, shm)
end

"""
    array_header(shm) -> (T, dims, offset)

the element type, dimensions and offset (bytes from `pointer(shm)`) of the array
in `shm`, after libipcshm has checked the header. `IpcShmError` (EBADMSG) if it
holds no valid array.
"""
function array_header(shm::SharedMemory)
    h = handle(shm)
    etype = Ref{UInt32}(0)
    ndims = Ref{UInt32}(0)
    offset = Ref{UInt64}(0)
    dims = Vector{Int64}(undef, 8)
    rc = ccall((:ipcshm_array_header, libipcshm), Cint,
               (Ptr{Cvoid}, Ref{UInt32}, Ref{UInt32}, Ptr{Int64}, UInt32, Ref{UInt64}),
               h, etype, ndims, dims, length(dims), offset)
    if rc == -Libc.ERANGE && ndims[] > length(dims)   # more dimensions: ask again
        resize!(dims, ndims[])
        rc = ccall((:ipcshm_array_header, libipcshm), Cint,
                   (Ptr{Cvoid}, Ref{UInt32}, Ref{UInt32}, Ptr{Int64}, UInt32, Ref{UInt64}),
                   h, etype, ndims, dims, length(dims), offset)
    end
    check(rc)
    n = Int(ndims[])
    return element_type(etype[]), ntuple(i -> Int(dims[i]), n), Int(offset[])
end

"""
    unsafe_wrap(Array, shm::SharedMemory) -> Array

the array in `shm` as a Julia `Array` over the shared memory (no copy), with the
element type and dimensions of its header. Unsafe: the `Array` does not keep `shm`
alive, and dangles once `shm` is closed, finalized or resized; `WrappedArray(shm)`
keeps it.
"""
function Base.unsafe_wrap(::Type{Array}, shm::SharedMemory)
    T, dims, offset = array_header(shm)
    data = ccall((:ipcshm_array_data, libipcshm), Ptr{Cvoid}, (Ptr{Cvoid},), handle(shm))
    data == C_NULL && throw(IpcShmError(Libc.EBADMSG, last_error()))
    # Both calls read the header; another process may rewrite it between them.
    data == shm.ptr + offset ||
        throw(IpcShmError(Libc.EBADMSG, "array header of $(shm.id) changed while read"))
    return unsafe_wrap(Array, Ptr{T}(data), dims; own=false)
end

Base.size(A::WrappedArray) = size(A.arr)
Base.length(A::WrappedArray) = length(A.arr)
Base.IndexStyle(::Type{<:WrappedArray}) = IndexLinear()
Base.@propagate_inbounds Base.getindex(A::WrappedArray, i::Int) = A.arr[i]
Base.@propagate_inbounds Base.setindex!(A::WrappedArray, v, i::Int) = (A.arr[i] = v; A)
Base.elsize(::Type{<:WrappedArray{T}}) where {T} = sizeof(T)
Base.strides(A::WrappedArray) = strides(A.arr)
Base.unsafe_convert(::Type{Ptr{T}}, A::WrappedArray{T}) where {T} =
    Base.unsafe_convert(Ptr{T}, A.arr)
Base.parent(A::WrappedArray) = A.arr
Base.close(A::WrappedArray) = close(A.mem)

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
