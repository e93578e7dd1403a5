# Messages of a ShmChannel: put! and take! of bytes, strings and isbits arrays,
# their zero-copy forms (reserve/commit, peek/release), recv! and iteration.

# --- sending ---------------------------------------------------------------

# Reserves the next free slot (waiting as put! does): its address.
function reserve_slot!(ch::ShmChannel, timeout::Real)
    slot = Ref{Ptr{Cvoid}}(C_NULL)
    channel_wait(timeout) do t
        ccall((:ipcshm_channel_reserve, libipcshm), Cint, (Ptr{Cvoid}, Ref{Ptr{Cvoid}}, Int64),
              handle(ch), slot, t)
    end
    ch.reserved = true
    return slot[]
end

# Sends the first n bytes of the reserved slot.
function commit_slot!(ch::ShmChannel, n::Integer)
    rc = ccall((:ipcshm_channel_commit, libipcshm), Cint, (Ptr{Cvoid}, UInt64),
               handle(ch), UInt64(n))
    # -EMSGSIZE keeps the slot reserved; anything else ends the reservation.
    rc == -Libc.EMSGSIZE || (ch.reserved = false)
    check_channel(rc)
    return nothing
end

function too_long(ch::ShmChannel, n::Integer, what)
    throw(IpcShmError(Libc.EMSGSIZE,
                      "put!(ShmChannel(\"$(ch.id)\")): $what is $n bytes, more than " *
                      "the slot size ($(ch.slot_size))"))
end

# Sends the n bytes at ptr as one message.
function send_bytes(ch::ShmChannel, ptr::Ptr{Cvoid}, n::Int, timeout::Real)
    lock(ch.lock) do
        if ch.reserved
            # A slot reserved by a put!(f, ...) whose f failed: a send would be
            # EBUSY; write this message into that slot instead.
            n <= ch.slot_size || too_long(ch, n, "the message")
            slot = reserve_slot!(ch, timeout)
            n > 0 && unsafe_copyto!(Ptr{UInt8}(slot), Ptr{UInt8}(ptr), n)
            commit_slot!(ch, n)
        else
            channel_wait(timeout) do t
                ccall((:ipcshm_channel_send, libipcshm), Cint,
                      (Ptr{Cvoid}, Ptr{Cvoid}, UInt64, Int64), handle(ch), ptr, UInt64(n), t)
            end
        end
    end
    return nothing
end

function check_bits(::Type{T}, what) where {T}
    isbitstype(T) ||
        throw(ArgumentError("$what: $T is not an isbits type: a message holds plain bytes"))
end

"""
    put!(ch::ShmChannel, msg; timeout=Inf) -> msg

sends `msg` as one message, waiting while every slot is full: a byte vector, a
string (its UTF-8 bytes), or any array of `isbits` elements (its elements in
memory order: `take!(ch, T, dims...)` reads it back). A contiguous array is
copied once, by the library; another array (a view, a range) is written
straight into the slot. Longer than the slot size: `IpcShmError` (`EMSGSIZE`).
After `timeout` seconds (`0` only tries): `TimeoutError`, nothing sent. The
receiver gone: `BrokenPipeError`. Blocks the thread (Ctrl-C ends it); `wait(ch)`
first lets other tasks run.
"""
function Base.put!(ch::ShmChannel, msg::DenseArray{T}; timeout::Real=Inf) where {T}
    check_bits(T, "put!")
    GC.@preserve msg send_bytes(ch, Ptr{Cvoid}(pointer(msg)), sizeof(msg), timeout)
    return msg
end

function Base.put!(ch::ShmChannel, msg::AbstractArray{T}; timeout::Real=Inf) where {T}
    check_bits(T, "put!")
    put!(ch, T, length(msg); timeout=timeout) do slot
        copyto!(slot, msg)
    end
    return msg
end

function Base.put!(ch::ShmChannel, msg::Union{String,SubString{String}}; timeout::Real=Inf)
    GC.@preserve msg send_bytes(ch, Ptr{Cvoid}(pointer(msg)), sizeof(msg), timeout)
    return msg
end

Base.put!(ch::ShmChannel, msg::AbstractString; timeout::Real=Inf) =
    (put!(ch, String(msg); timeout=timeout); msg)

Base.put!(ch::ShmChannel, msg; timeout::Real=Inf) =
    throw(ArgumentError("put!(::ShmChannel, ::$(typeof(msg))): a message is a byte " *
                        "vector, a string or an array of isbits elements"))

"""
    put!(f, ch::ShmChannel, T, dims...; timeout=Inf)
    put!(f, ch::ShmChannel, nbytes; timeout=Inf)

zero-copy sending: reserves the next free slot (waiting as `put!` does), calls
`f(A)` with `A` an `Array{T}` of size `dims` (or a `Vector{UInt8}` of `nbytes`)
over the slot itself, then sends it (commit). Nothing of it reaches the
receiver before `f` returns; if `f` throws, nothing is sent (the slot stays
reserved for the next `put!`), and neither if this process dies meanwhile.
`A` is valid only inside `f`: do not keep it.

    put!(ch, Float64, 480, 640) do frame
        render!(frame)
    end
"""
function Base.put!(f::Function, ch::ShmChannel, ::Type{T}, dims::Tuple{Vararg{Integer}};
                   timeout::Real=Inf) where {T}
    check_bits(T, "put!")
    shape = map(Int, dims)
    all(>=(0), shape) || throw(ArgumentError("put!: negative dimensions $dims"))
    n = sizeof(T) * prod(shape)
    n <= ch.slot_size || too_long(ch, n, "a $T array of size $shape")
    lock(ch.lock) do
        GC.@preserve ch begin
            slot = reserve_slot!(ch, timeout)
            A = unsafe_wrap(Array, Ptr{T}(slot), shape; own=false)
            f(A)
            commit_slot!(ch, n)
        end
    end
    return nothing
end

function Base.put!(f::Function, ch::ShmChannel, ::Type{T}, dims::Integer...;
                   timeout::Real=Inf) where {T}
    isempty(dims) &&
        throw(ArgumentError("put!(f, ch, $T, dims...): give the dimensions of the message"))
    return put!(f, ch, T, dims; timeout=timeout)
end
Base.put!(f::Function, ch::ShmChannel, nbytes::Integer; timeout::Real=Inf) =
    put!(f, ch, UInt8, (nbytes,); timeout=timeout)

# --- receiving -------------------------------------------------------------

# Peeks the next message (waiting as take! does): its address and length.
function peek_message!(ch::ShmChannel, timeout::Real)
    msg = Ref{Ptr{Cvoid}}(C_NULL)
    len = Ref{UInt64}(0)
    channel_wait(timeout) do t
        ccall((:ipcshm_channel_peek, libipcshm), Cint,
              (Ptr{Cvoid}, Ref{Ptr{Cvoid}}, Ref{UInt64}, Int64), handle(ch), msg, len, t)
    end
    ch.peeked = true
    return msg[], Int(len[])
end

function release_message!(ch::ShmChannel)
    rc = ccall((:ipcshm_channel_release, libipcshm), Cint, (Ptr{Cvoid},), handle(ch))
    ch.peeked = false
    check_channel(rc)
    return nothing
end

# The shape of a message of n bytes read as T with the dimensions asked for
# (none: a vector of all of it); an IpcShmError (EMSGSIZE) if it does not fit.
function message_shape(ch::ShmChannel, n::Int, ::Type{T}, dims) where {T}
    if dims === nothing
        sizeof(T) > 0 && rem(n, sizeof(T)) == 0 && return (div(n, sizeof(T)),)
        sizeof(T) == 0 && n == 0 && return (0,)
        throw(IpcShmError(Libc.EMSGSIZE,
                          "take!(ShmChannel(\"$(ch.id)\")): the message has $n bytes, " *
                          "not a whole number of $T ($(sizeof(T)) bytes); it stays in the channel"))
    end
    shape = map(Int, dims)
    all(>=(0), shape) || throw(ArgumentError("take!: negative dimensions $dims"))
    want = sizeof(T) * prod(shape)
    want == n ||
        throw(IpcShmError(Libc.EMSGSIZE,
                          "take!(ShmChannel(\"$(ch.id)\")): the message has $n bytes, a $T " *
                          "array of size $shape has $want; it stays in the channel"))
    return shape
end

# Peeks the next message and calls g(address, length), then releases it; the
# message stays (peeked, for the next take!) if g throws before the release.
function with_message(g, ch::ShmChannel, timeout::Real)
    lock(ch.lock) do
        GC.@preserve ch begin
            ptr, n = peek_message!(ch, timeout)
            result = g(ptr, n)
            release_message!(ch)
            result
        end
    end
end

"""
    take!(ch::ShmChannel; timeout=Inf) -> Vector{UInt8}

the next message, as a new byte vector of its length (`String(take!(ch))` for
text), waiting while there is none. After `timeout` seconds (`0` only tries):
`TimeoutError`. When the sender has gone and every message it sent was taken:
`BrokenPipeError` (iteration ends there). Blocks the thread (Ctrl-C ends it).

    take!(ch::ShmChannel, T; timeout=Inf) -> Vector{T}
    take!(ch::ShmChannel, T, dims...; timeout=Inf) -> Array{T}

the next message as a new array of `isbits` type `T`: all of it (its length a
multiple of `sizeof(T)`), or of size `dims` (exactly `sizeof(T) * prod(dims)`
bytes). A message of another length is an `IpcShmError` (`EMSGSIZE`) and stays
in the channel.
"""
Base.take!(ch::ShmChannel; timeout::Real=Inf) = take!(ch, UInt8; timeout=timeout)

function Base.take!(ch::ShmChannel, ::Type{T}, dims::Integer...; timeout::Real=Inf) where {T}
    return take_array(ch, T, isempty(dims) ? nothing : dims, timeout)
end

Base.take!(ch::ShmChannel, ::Type{T}, dims::Tuple{Vararg{Integer}}; timeout::Real=Inf) where {T} =
    take_array(ch, T, dims, timeout)

function take_array(ch::ShmChannel, ::Type{T}, dims, timeout::Real) where {T}
    check_bits(T, "take!")
    with_message(ch, timeout) do ptr, n
        A = Array{T}(undef, message_shape(ch, n, T, dims))
        n > 0 && GC.@preserve A unsafe_copyto!(Ptr{UInt8}(pointer(A)), Ptr{UInt8}(ptr), n)
        A
    end
end

"""
    take!(f, ch::ShmChannel; timeout=Inf)
    take!(f, ch::ShmChannel, T; timeout=Inf)
    take!(f, ch::ShmChannel, T, dims...; timeout=Inf)

zero-copy receiving: calls `f(A)` with the next message in its slot, as a
`Vector{UInt8}` (or an `Array{T}`, as `take!(ch, T, dims...)` would shape it),
then releases the slot to the sender (also when `f` throws) and returns what
`f` returned. `A` is the sender's slot: valid only inside `f` (read it, or
`copy` what you keep), not to be written. Returning `A` itself (or a view of
it) is an `ArgumentError`.

    total = take!(ch, Float64, 480, 640) do frame
        sum(frame)
    end
"""
Base.take!(f::Function, ch::ShmChannel; timeout::Real=Inf) =
    take!(f, ch, UInt8; timeout=timeout)

Base.take!(f::Function, ch::ShmChannel, ::Type{T}, dims::Integer...; timeout::Real=Inf) where {T} =
    take_view(f, ch, T, isempty(dims) ? nothing : dims, timeout)

Base.take!(f::Function, ch::ShmChannel, ::Type{T}, dims::Tuple{Vararg{Integer}};
           timeout::Real=Inf) where {T} = take_view(f, ch, T, dims, timeout)

function take_view(f, ch::ShmChannel, ::Type{T}, dims, timeout::Real) where {T}
    check_bits(T, "take!")
    result = lock(ch.lock) do
        GC.@preserve ch begin
            ptr, n = peek_message!(ch, timeout)
            A = unsafe_wrap(Array, Ptr{T}(ptr), message_shape(ch, n, T, dims); own=false)
            local r
            try
                r = f(A)
            finally
                release_message!(ch)
            end
            escapes(r, A) &&
                throw(ArgumentError("take!(f, ::ShmChannel): f returned the message's slot " *
                                    "(or a view of it), which the sender reuses once " *
                                    "released: return copy(A)"))
            r
        end
    end
    return result
end

escapes(r, A::Array) = r === A || (r isa AbstractArray && !isbits(r) && Base.mightalias(r, A))

"""
    IpcShm.recv!(ch::ShmChannel, buf; timeout=Inf) -> Int

copies the next message into `buf` (a dense array of `isbits` elements, as
bytes) and returns its length in bytes, waiting as `take!` does. A message
longer than `sizeof(buf)` is an `IpcShmError` (`EMSGSIZE`) and stays in the
channel. No allocation: for loops that reuse one buffer (of `ch.slot_size`
bytes, every message fits).
"""
function recv!(ch::ShmChannel, buf::DenseArray{T}; timeout::Real=Inf) where {T}
    check_bits(T, "recv!")
    cap = sizeof(buf)
    lock(ch.lock) do
        if ch.peeked
            # A message left peeked (take! of the wrong shape): a recv would be
            # EBUSY; copy it from its slot.
            return with_message(ch, timeout) do ptr, n
                n <= cap ||
                    throw(IpcShmError(Libc.EMSGSIZE,
                                      "recv!(ShmChannel(\"$(ch.id)\")): the message has $n " *
                                      "bytes, the buffer $cap; it stays in the channel"))
                n > 0 && GC.@preserve buf unsafe_copyto!(Ptr{UInt8}(pointer(buf)),
                                                         Ptr{UInt8}(ptr), n)
                n
            end
        end
        len = Ref{UInt64}(0)
        GC.@preserve buf begin
            dest = Ptr{Cvoid}(pointer(buf))
            channel_wait(timeout) do t
                ccall((:ipcshm_channel_recv, libipcshm), Cint,
                      (Ptr{Cvoid}, Ptr{Cvoid}, UInt64, Ref{UInt64}, Int64),
                      handle(ch), dest, UInt64(cap), len, t)
            end
        end
        return Int(len[])
    end
end

"""
    iterate(ch::ShmChannel)

`for msg in ch` takes the messages (byte vectors) until the sender has gone and
every message it sent was taken (`BrokenPipeError` ends the loop), or until
this end is closed. Before a sender has ever opened, it waits for one.
"""
function Base.iterate(ch::ShmChannel, state=nothing)
    isopen(ch) || return nothing
    try
        return (take!(ch), nothing)
    catch err
        err isa BrokenPipeError && return nothing
        err isa IpcShmError && err.errno == Libc.EBADF && !isopen(ch) && return nothing
        rethrow()
    end
end

Base.IteratorSize(::Type{ShmChannel}) = Base.SizeUnknown()
Base.eltype(::Type{ShmChannel}) = Vector{UInt8}
