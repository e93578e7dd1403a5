# WrappedArray: Julia arrays over memory objects, as IPC.jl's, and typed arrays
# in shared memory whose "WA-1" header libipcshm writes and checks.

"""
    WrappedArray(mem, T=UInt8; offset=0)
    WrappedArray(mem, T, dims...; offset=0)
    WrappedArray(mem, dec::Function)

a Julia array whose elements are the memory of `mem`, as IPC.jl's: any object
with `pointer(mem)` and `sizeof(mem)` (a `SharedMemory` among them), from `offset`
bytes on. Without `dims`, the longest vector that fits; with `dims`, an array of
that shape, which must fit. `dec(mem)` may give `(T, dims, offset)` instead, such
as `x -> read(x, WrappedArrayHeader)` for a typed array. No header is read or
written here: this wraps the bytes. The array keeps `mem` alive.

    WrappedArray(id, T, dims...; perms=0o600, volatile=true, hugepages=false, ...)

creates the object `id` (as `SharedMemory(id, len; ...)` takes it, keywords
included) holding a zeroed array of element type `T` (`Int8` .. `UInt64`,
`Float32`, `Float64`, `ComplexF32`, `ComplexF64`) and dimensions `dims`, after a
"WA-1" header that IPC.jl, C, C++, Python and Rust programs read. A dimension may
be 0; IPC.jl's reader refuses such arrays (it wants every dimension >= 1).

    WrappedArray(id; readonly=false)

attaches the object `id` and wraps the array its header describes, once libipcshm
has checked that header (it is shared memory: `IpcShmError` EBADMSG if it is
not a valid one).

Column-major, as Julia's arrays. Writing to an array of a read-only mapping
faults. `shmid(A)`, `close(A)` (closes its `SharedMemory`).
"""
struct WrappedArray{T,N,M} <: DenseArray{T,N}
    arr::Array{T,N}   # the elements, wrapped (not owned)
    mem::M            # what provides the memory; kept alive by the array
    function WrappedArray{T,N,M}(ptr::Ptr{T}, dims::NTuple{N,Integer},
                                 mem::M) where {T,N,M}
        arr = unsafe_wrap(Array, ptr, map(Int, dims); own=false)
        return new{T,N,M}(arr, mem)
    end
end

const WrappedVector{T,M} = WrappedArray{T,1,M}
const WrappedMatrix{T,M} = WrappedArray{T,2,M}
const ShmArray{T,N,M<:SharedMemory} = WrappedArray{T,N,M}
const ShmVector{T,M} = ShmArray{T,1,M}
const ShmMatrix{T,M} = ShmArray{T,2,M}

"""
    WrappedArrayHeader

the layout of the "WA-1" header of typed arrays, as IPC.jl's: `magic` (0x57412D31),
`etype`, `ndims`, `offset` (bytes from the start to the first element), followed by
`ndims` Int64 dimensions. libipcshm writes and checks headers;
`read(shm, WrappedArrayHeader)` gives `(T, dims, offset)` of the array in a
`SharedMemory`.
"""
struct WrappedArrayHeader
    magic::UInt32
    etype::UInt16
    ndims::UInt16
    offset::Int64
end

# pointer(mem) and sizeof(mem), checked, as IPC.jl's get_memory_parameters.
function memory_parameters(mem)
    siz = sizeof(mem)
    siz isa Integer && siz >= 0 ||
        throw(ArgumentError("invalid `sizeof(mem)` ($(repr(siz)))"))
    ptr = pointer(mem)
    ptr isa Ptr || throw(ArgumentError("invalid `pointer(mem)` ($(typeof(ptr)))"))
    return Ptr{Cvoid}(ptr), Int(siz)
end
memory_parameters(mem::SharedMemory) = (handle(mem); (mem.ptr, mem.len))

# The first element's address and the bytes from there to the end of `mem`.
function element_memory(mem, ::Type{T}, offset::Integer) where {T}
    offset >= 0 || throw(ArgumentError("offset must be nonnegative"))
    isbitstype(T) || throw(ArgumentError("illegal element type ($T)"))
    ptr, len = memory_parameters(mem)
    offset <= len || throw(ArgumentError("offset $offset is past the $len bytes of memory"))
    align = Base.datatype_alignment(T)
    addr = ptr + offset
    rem(UInt(addr), align) == 0 ||
        throw(ArgumentError("base address must be a multiple of $align bytes"))
    return Ptr{T}(addr), len - Int(offset)
end

function WrappedArray(mem::M, ::Type{T}=UInt8; offset::Integer=0) where {M,T}
    ptr, siz = element_memory(mem, T, offset)
    siz >= sizeof(T) ||
        throw(ArgumentError("insufficient memory for at least one element"))
    return WrappedArray{T,1,M}(ptr, (div(siz, sizeof(T)),), mem)
end

WrappedArray(mem::M, ::Type{T}, dims::Integer...; kwds...) where {M,T} =
    WrappedArray(mem, T, dims; kwds...)

function WrappedArray(mem::M, ::Type{T}, dims::NTuple{N,Integer};
                      offset::Integer=0) where {M,T,N}
    ptr, siz = element_memory(mem, T, offset)
    count = 1
    for (i, d) in enumerate(dims)
        d >= 0 || throw(ArgumentError("invalid dimension (dims[$i] = $d)"))
        count = Base.checked_mul(count, Int(d))
    end
    sizeof(T) == 0 || count <= div(siz, sizeof(T)) ||
        throw(ArgumentError("insufficient memory for array"))
    return WrappedArray{T,N,M}(ptr, dims, mem)
end

function WrappedArray(mem, dec::Function)
    T, dims, offset = dec(mem)
    T isa DataType || error("`dec(mem)[1]` must be a data type")
    dims isa Tuple{Vararg{Integer}} || error("`dec(mem)[2]` must be a tuple of dimensions")
    offset isa Integer || error("`dec(mem)[3]` must be an integer")
    return WrappedArray(mem, T, dims; offset=offset)
end

# What names an object for WrappedArray (as for SharedMemory).
const ObjectId = Union{AbstractString,Key,Integer,ShmId}

WrappedArray(id::ObjectId, ::Type{T}) where {T} =
    throw(ArgumentError("give the dimensions of the array: WrappedArray(id, $T, dims...)"))

WrappedArray(id::ObjectId, ::Type{T}, dims::Integer...; kwds...) where {T} =
    WrappedArray(id, T, dims; kwds...)

function WrappedArray(id::ObjectId, ::Type{T}, dims::Tuple{Vararg{Integer}};
                      perms::Integer=S_IRUSR | S_IWUSR, volatile::Bool=true,
                      hugepages::Bool=false, prefault::Bool=false, locked::Bool=false,
                      reserve::Bool=false) where {T}
    id isa ShmId && throw(ArgumentError("$id names an existing segment: create " *
                                        "arrays from an IPC.Key or a name"))
    perms >= 0 || throw(ArgumentError("bad permissions ($perms)"))
    cdims = Int64[d for d in dims]
    flags = create_flags(; volatile=volatile, hugepages=hugepages, prefault=prefault,
                         locked=locked, reserve=reserve)
    ref = Ref{Ptr{Cvoid}}(C_NULL)
    check(ccall((:ipcshm_array_create, libipcshm), Cint,
                (Cstring, UInt32, UInt32, Ptr{Int64}, UInt32, UInt32, Ptr{Ptr{Cvoid}}),
                id_string(id), element_code(T), length(cdims), cdims, perms, flags, ref))
    return wrap_array(wrap_handle(ref[], volatile))
end

function WrappedArray(id::ObjectId; readonly::Bool=false, prefault::Bool=false,
                      locked::Bool=false)
    return wrap_array(SharedMemory(id; readonly=readonly, prefault=prefault, locked=locked))
end

# The typed array in `mem`, which is closed if it holds none.
function wrap_array(mem::SharedMemory)
    try
        return WrappedArray(mem, x -> read(x, WrappedArrayHeader))
    catch
        close(mem)
        rethrow()
    end
end

"""
    read(shm::SharedMemory, WrappedArrayHeader) -> (T, dims, offset)

the element type, dimensions and offset (bytes from `pointer(shm)`) of the array
in `shm`, once libipcshm has checked its header. `IpcShmError` (EBADMSG) if it
holds no valid array. `WrappedArray(shm, x -> read(x, WrappedArrayHeader))` wraps
it, as in IPC.jl.
"""
function Base.read(shm::SharedMemory, ::Type{WrappedArrayHeader})
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
    IpcShm.array_header(shm) -> (T, dims, offset)

`read(shm, WrappedArrayHeader)`, under its IpcShm 1.1 name.
"""
array_header(shm::SharedMemory) = read(shm, WrappedArrayHeader)

"""
    unsafe_wrap(Array, shm::SharedMemory) -> Array

the typed array in `shm` as a plain Julia `Array` over the shared memory (no
copy), with the element type and dimensions of its header. Unsafe: the `Array`
does not keep `shm` alive, and dangles once `shm` is closed, finalized or resized;
`WrappedArray(shm, x -> read(x, WrappedArrayHeader))` keeps it.
"""
function Base.unsafe_wrap(::Type{Array}, shm::SharedMemory)
    T, dims, offset = read(shm, WrappedArrayHeader)
    data = ccall((:ipcshm_array_data, libipcshm), Ptr{Cvoid}, (Ptr{Cvoid},), handle(shm))
    data == C_NULL && throw(IpcShmError(Libc.EBADMSG, last_error()))
    # Both calls read the header; another process may rewrite it between them.
    data == shm.ptr + offset ||
        throw(IpcShmError(Libc.EBADMSG, "array header of $(shm.name) changed while read"))
    return unsafe_wrap(Array, Ptr{T}(data), dims; own=false)
end

shmid(A::WrappedArray{T,N,<:SharedMemory}) where {T,N} = shmid(A.mem)
idstring(A::WrappedArray{T,N,<:SharedMemory}) where {T,N} = idstring(A.mem)
ShmId(A::WrappedArray{T,N,SharedMemory{ShmId}}) where {T,N} = shmid(A)
shmrm(A::WrappedArray{T,N,<:SharedMemory}) where {T,N} = shmrm(A.mem)
shmcfg(A::WrappedArray{T,N,<:SharedMemory}, perms::Integer) where {T,N} = shmcfg(A.mem, perms)
shminfo!(A::WrappedArray{T,N,<:SharedMemory}, info::ShmInfo) where {T,N} =
    shminfo!(A.mem, info)
ShmInfo(A::WrappedArray{T,N,<:SharedMemory}) where {T,N} = shminfo(A)
shmsend(sock, A::WrappedArray{T,N,<:SharedMemory}) where {T,N} = shmsend(sock, A.mem)
Base.close(A::WrappedArray{T,N,<:SharedMemory}) where {T,N} = close(A.mem)

# The array interface, over the wrapped Array (as IPC.jl's).
@inline Base.parent(A::WrappedArray) = A.arr
Base.length(A::WrappedArray) = length(parent(A))
Base.sizeof(A::WrappedArray) = sizeof(parent(A))
Base.size(A::WrappedArray) = size(parent(A))
Base.size(A::WrappedArray, d::Integer) = size(parent(A), d)
Base.axes(A::WrappedArray) = axes(parent(A))
Base.axes(A::WrappedArray, d::Integer) = axes(parent(A), d)
Base.strides(A::WrappedArray) = strides(parent(A))
Base.stride(A::WrappedArray, d::Integer) = stride(parent(A), d)
Base.elsize(::Type{<:WrappedArray{T}}) where {T} = sizeof(T)
Base.IndexStyle(::Type{<:WrappedArray}) = IndexLinear()

Base.@propagate_inbounds function Base.getindex(A::WrappedArray, i::Int)
    @boundscheck checkbounds(A, i)
    return @inbounds parent(A)[i]
end

Base.@propagate_inbounds function Base.setindex!(A::WrappedArray, x, i::Int)
    @boundscheck checkbounds(A, i)
    @inbounds parent(A)[i] = x
    return A
end

Base.copy(A::WrappedArray) = copy(parent(A))
Base.copyto!(dest::WrappedArray, src::AbstractArray) = (copyto!(parent(dest), src); dest)
Base.reinterpret(::Type{T}, A::WrappedArray) where {T} = reinterpret(T, parent(A))
Base.reshape(A::WrappedArray, dims::Tuple{Vararg{Int}}) = reshape(parent(A), dims)
Base.unsafe_convert(::Type{Ptr{T}}, A::WrappedArray{T}) where {T} =
    Base.unsafe_convert(Ptr{T}, parent(A))
Base.unsafe_convert(::Type{Ptr{S}}, A::WrappedArray{T}) where {S,T} =
    Base.unsafe_convert(Ptr{S}, parent(A))
Base.iterate(A::WrappedArray) = iterate(parent(A))
Base.iterate(A::WrappedArray, state) = iterate(parent(A), state)
Base.IteratorSize(::Type{<:WrappedArray{T,N}}) where {T,N} = Base.HasShape{N}()
Base.IteratorEltype(::Type{<:WrappedArray}) = Base.HasEltype()
