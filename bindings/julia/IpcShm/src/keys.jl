# System V keys and identifiers (IPC.jl's IPC.Key, IPC.PRIVATE, ShmId) and the
# libipcshm id strings they stand for.

"""
    IPC.Key(value)

a System V IPC key (`key_t`, an `Int32`). Any value from `typemin(Int32)` to
`typemax(UInt32)` is taken, so keys written in hexadecimal as `ipcs` shows them
(`IPC.Key(0xdeadbeef)`) are the same keys as their negative `Int32` values.

    IPC.Key(path, proj)

the key that `ftok(path, proj)` makes from an existing file and a project
identifier `proj` (1..255, or a `Char` such as `'a'`), as IPC.jl's.

`IPC.PRIVATE` is the key `IPC_PRIVATE`: creating with it makes a new segment.
"""
struct Key
    value::Int32
    Key(value::Integer) = new(key_value(value))
end

function key_value(value::Integer)
    typemin(Int32) <= value <= typemax(UInt32) ||
        throw(ArgumentError("System V key $value is out of range " *
                            "($(typemin(Int32)) .. $(typemax(UInt32)))"))
    return reinterpret(Int32, UInt32(Int64(value) & 0xffffffff))
end

Key(key::Key) = key

function Key(path::AbstractString, proj::Union{Char,Integer})
    p = Int(proj)
    1 <= p <= 255 || throw(ArgumentError("`proj` must be in the range 1:255"))
    key = Ref{Int32}(0)
    check(ccall((:ipcshm_ftok, libipcshm), Cint, (Cstring, Int32, Ref{Int32}),
                path, p, key))
    return Key(key[])
end

"""
    IPC.PRIVATE

the special key `IPC_PRIVATE`: `SharedMemory(IPC.PRIVATE, len)` (or
`SharedMemory(0, len)`) creates a new System V segment that only its identifier
(`shmid`) reaches.
"""
const PRIVATE = Key(IPC_PRIVATE)

Base.convert(::Type{Int32}, key::Key) = key.value
Base.convert(::Type{T}, key::Key) where {T<:Integer} = convert(T, key.value)
Base.show(io::IO, key::Key) = print(io, "IPC.Key(", key.value, ")")
Base.show(io::IO, ::MIME"text/plain", key::Key) = show(io, key)

"""
    ShmId(value)

the identifier of a System V shared memory segment (`shmid`, as `ipcs -m` lists
it). Also:

    ShmId(shm)                     # of a SharedMemory of a System V segment
    ShmId(arr)                     # of a WrappedArray in one
    ShmId(key; readonly=false)     # of the existing segment of `key` (shmget)
"""
struct ShmId
    value::Int32
    ShmId(value::Integer) = new(value)
end

ShmId(id::ShmId) = id
ShmId(key::Key; readonly::Bool=false) =
    shmget(key, 0, readonly ? S_IRUSR : (S_IRUSR | S_IWUSR))

Base.convert(::Type{Int32}, id::ShmId) = id.value
Base.convert(::Type{T}, id::ShmId) where {T<:Integer} = convert(T, id.value)
Base.show(io::IO, id::ShmId) = print(io, "ShmId(", id.value, ")")
Base.show(io::IO, ::MIME"text/plain", id::ShmId) = show(io, id)

# The libipcshm id ("/name", "key:0x...", "private", "shmid:N", "memfd:label") of
# what IPC.jl-style code passes.
id_string(name::AbstractString) = String(name)
id_string(id::ShmId) = "shmid:" * string(id.value)
function id_string(key::Key)
    key.value == IPC_PRIVATE && return "private"
    return "key:0x" * string(reinterpret(UInt32, key.value); base=16, pad=8)
end
id_string(key::Integer) = id_string(Key(key))
