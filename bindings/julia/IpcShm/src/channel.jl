# ShmChannel: a bounded FIFO of messages from one sender to one receiver, in any
# process and language (ipcshm_channel_*, libipcshm 1.2): its ends, their errors,
# ChannelInfo, isready, wait and fd. Sending and receiving: channel_io.jl.

# The roles of an end (ipcshm.h IPCSHM_SENDER, IPCSHM_RECEIVER).
const SENDER = UInt32(1)
const RECEIVER = UInt32(2)

# The states of a role in ChannelInfo (ipcshm.h IPCSHM_END_*).
const END_NEVER = UInt32(0)
const END_OPEN = UInt32(1)
const END_CLOSED = UInt32(2)
const END_DIED = UInt32(3)

# ipcshm_channel_info_t of ipcshm.h, field for field (48 bytes);
# tests/julia_ccall_test.py checks it against the header.
mutable struct ChannelInfoStruct
    struct_size::UInt32
    kind::UInt32
    slot_size::UInt32
    slot_count::UInt32
    sender::UInt32
    receiver::UInt32
    queued::UInt64
    sent::UInt64
    received::UInt64
    ChannelInfoStruct() = new(UInt32(48), 0, 0, 0, 0, 0, 0, 0, 0)
end

"""
    BrokenPipeError(msg)

thrown by `put!` on a `ShmChannel` whose receiver has gone (closed, or its
process died) and no new one has opened, and by `take!` once every message the
gone sender committed was taken (`EPIPE` in C). `msg` is the library's message,
which names the call and the channel. Iterating a channel ends there instead.
Before a peer has ever opened, there is none: `put!` fills the slots and waits,
`take!` waits.
"""
struct BrokenPipeError <: Exception
    msg::String
end

Base.showerror(io::IO, e::BrokenPipeError) = print(io, "BrokenPipeError: ", e.msg)

"""
    ShmChannel(id, role, slot_size, slot_count; perms=0o600, volatile=true,
               open_or_create=false, hugepages=false, prefault=false, locked=false,
               reserve=false)

creates a channel of `slot_count` (1 to 2^30) slots of `slot_size` bytes in a
new object `id` and opens its end of `role`: `:sender` or `:receiver`. `id` is
`"/name"` (a name ending in `XXXXXX` is made unique: `idstring(ch)` tells the
one chosen) or `"memfd:label"` (anonymous: it travels as a descriptor,
`shmsend(sock, ch)`); System V ids are an `IpcShmError` (`EOPNOTSUPP`). A
volatile channel (the default) is destroyed when its last end closes or dies;
`volatile=false` keeps it, and the messages in it, until `shmrm(idstring(ch))`.
`open_or_create=true` opens the caller's own channel of that name if it exists
(same slot size and count, else `EEXIST`): `ch.created` tells which happened.

    ShmChannel(id, role)

opens the end of `role` of the existing channel `"/name"`.

    ShmChannel(fd::RawFD, role)
    ShmChannel(shm::SharedMemory, role)

opens the end of `role` of the channel in the POSIX or memfd object open as
`fd`, or mapped as `shm` (as `shmrecv(sock)` gives a memfd channel sent by
`shmsend`); `fd` and `shm` stay the caller's to close.

A channel has one live end of each role: a second one is an `IpcShmError`
(`EBUSY`) while the first lives, in any process; once it closed or died (even
by SIGKILL), a new end takes the role and goes on where it stopped.

The sender `put!`s messages (byte vectors, strings, arrays of `isbits`
elements, or written in place: `put!(f, ch, T, dims...)`); the receiver
`take!`s them in order (`take!(ch)`, `take!(ch, T, dims...)`, in place:
`take!(f, ch, T, dims...)`) or iterates until the sender has gone. A message
is a run of 0 to `slot_size` bytes: its type and shape are what both sides
agree on. Both wait while the channel is full (empty), blocking the thread,
with a `timeout` keyword in seconds (`TimeoutError`); `wait(ch)` waits letting
other tasks run. When the peer has gone: `BrokenPipeError`.

An end is not shared by threads without a lock: calls on one `ShmChannel` from
several tasks take turns (it holds a `ReentrantLock`). `close(ch)` (or the
finalizer) closes the end.

Why not `Channel`: Base exports `Channel`, which every Julia program sees;
`ShmChannel` names this one as `ShmArray`, `ShmId` and `ShmInfo` name the
others, and IPC.jl has no channel to follow.
"""
mutable struct ShmChannel
    handle::Ptr{Cvoid}        # the libipcshm end (C_NULL once closed): a value, not an address
    role::UInt32              # SENDER or RECEIVER
    id::String                # "/name" or "memfd:label"
    slot_size::Int            # the longest message, in bytes
    slot_count::Int           # how many messages the channel holds
    created::Bool             # this end made the channel
    lock::ReentrantLock       # one call at a time on the end
    peeked::Bool              # a message is peeked and not yet released
    reserved::Bool            # a slot is reserved and not yet committed
    watcher::Union{Base.Filesystem.File,Nothing}   # fd(ch), made on first use
    function ShmChannel(handle::Ptr{Cvoid}, role::UInt32, created::Bool)
        try
            info = ChannelInfoStruct()
            check(ccall((:ipcshm_channel_handle_info, libipcshm), Cint,
                        (Ptr{Cvoid}, Ref{ChannelInfoStruct}), handle, info))
            object = Ref{Ptr{Cvoid}}(C_NULL)
            check(ccall((:ipcshm_channel_handle, libipcshm), Cint,
                        (Ptr{Cvoid}, Ref{Ptr{Cvoid}}), handle, object))
            id = unsafe_string(ccall((:ipcshm_id, libipcshm), Cstring, (Ptr{Cvoid},),
                                     object[]))
            ch = new(handle, role, id, Int(info.slot_size), Int(info.slot_count), created,
                     ReentrantLock(), false, false, nothing)
            return finalizer(close_end!, ch)
        catch
            ccall((:ipcshm_channel_close, libipcshm), Cint, (Ptr{Cvoid},), handle)
            rethrow()
        end
    end
end

# :sender / :receiver (or IpcShm.SENDER / IpcShm.RECEIVER) as the C role.
function role_code(role)
    (role === :sender || role == SENDER) && return SENDER
    (role === :receiver || role == RECEIVER) && return RECEIVER
    throw(ArgumentError("a channel role is :sender or :receiver, not $(repr(role))"))
end

function ShmChannel(id::AbstractString, role, slot_size::Integer, slot_count::Integer;
                    perms::Integer=S_IRUSR | S_IWUSR, volatile::Bool=true,
                    open_or_create::Bool=false, hugepages::Bool=false,
                    prefault::Bool=false, locked::Bool=false, reserve::Bool=false)
    r = role_code(role)
    1 <= slot_size <= typemax(UInt32) ||
        throw(ArgumentError("bad slot size ($slot_size): 1 to $(typemax(UInt32)) bytes"))
    1 <= slot_count <= typemax(UInt32) ||
        throw(ArgumentError("bad slot count ($slot_count)"))
    0 <= perms <= typemax(UInt32) || throw(ArgumentError("bad permissions ($perms)"))
    flags = create_flags(; volatile=volatile, hugepages=hugepages, prefault=prefault,
                         locked=locked, reserve=reserve) |
            (open_or_create ? OPEN_OR_CREATE : UInt32(0))
    ref = Ref{Ptr{Cvoid}}(C_NULL)
    rc = check(ccall((:ipcshm_channel_create, libipcshm), Cint,
                     (Cstring, UInt32, UInt32, UInt32, UInt32, UInt32, Ref{Ptr{Cvoid}}),
                     id, UInt32(slot_size), UInt32(slot_count), UInt32(perms), flags, r, ref))
    return ShmChannel(ref[], r, rc == 1)
end

function ShmChannel(id::AbstractString, role)
    r = role_code(role)
    ref = Ref{Ptr{Cvoid}}(C_NULL)
    check(ccall((:ipcshm_channel_open, libipcshm), Cint,
                (Cstring, UInt32, Ref{Ptr{Cvoid}}), id, r, ref))
    return ShmChannel(ref[], r, false)
end

function ShmChannel(fd::RawFD, role)
    r = role_code(role)
    ref = Ref{Ptr{Cvoid}}(C_NULL)
    check(ccall((:ipcshm_channel_open_fd, libipcshm), Cint,
                (Cint, UInt32, Ref{Ptr{Cvoid}}), rawfd(fd), r, ref))
    return ShmChannel(ref[], r, false)
end

function ShmChannel(shm::SharedMemory, role)
    fd = shmfd(shm)
    try
        return ShmChannel(fd, role)
    finally
        close(Base.Filesystem.File(fd))
    end
end

# Closes the descriptor of fd(ch), then the end, once; close and the finalizer
# share it.
function close_end!(ch::ShmChannel)
    w = ch.watcher
    if w !== nothing
        ch.watcher = nothing
        close(w)
    end
    h = ch.handle
    if h != C_NULL
        ch.handle = C_NULL
        ch.peeked = false
        ch.reserved = false
        ccall((:ipcshm_channel_close, libipcshm), Cint, (Ptr{Cvoid},), h)
    end
    return nothing
end

"""
    close(ch::ShmChannel)

closes the end: its role becomes vacant (the peer gets a `BrokenPipeError` once
it has what was committed), a reserved slot is dropped, a message being read
stays for the next receiver, and a volatile channel whose other end is closed
too is destroyed. Closing twice is no error. Another thread blocked in a call
on this end gets an `IpcShmError` (`EBADF`).
"""
Base.close(ch::ShmChannel) = close_end!(ch)

"""
    isopen(ch::ShmChannel) -> Bool

whether this end is open (not whether the peer is: see `ChannelInfo(ch)`).
"""
Base.isopen(ch::ShmChannel) = ch.handle != C_NULL

# The live end of ch, or an IpcShmError (EBADF) once it is closed.
function handle(ch::ShmChannel)
    h = ch.handle
    h == C_NULL && throw(IpcShmError(Libc.EBADF, "ShmChannel(\"$(ch.id)\") is closed"))
    return h
end

# The handle of the channel's object (owned by the end).
function object_handle(ch::ShmChannel)
    ref = Ref{Ptr{Cvoid}}(C_NULL)
    check(ccall((:ipcshm_channel_handle, libipcshm), Cint, (Ptr{Cvoid}, Ref{Ptr{Cvoid}}),
                handle(ch), ref))
    return ref[]
end

shmid(ch::ShmChannel) = ch.id
idstring(ch::ShmChannel) = ch.id

"""
    shmsend(sock, ch::ShmChannel)

sends the object of the channel (a memfd channel has no other way to travel)
over a UNIX-domain socket; the peer opens its end with
`ShmChannel(shmrecv(sock), role)` (or, in C, `ipcshm_recv` then
`ipcshm_channel_open_fd`).
"""
function shmsend(sock, ch::ShmChannel)
    fd = rawfd(sock)
    while true
        rc = lock(ch.lock) do
            ccall((:ipcshm_send, libipcshm), Cint, (Cint, Ptr{Cvoid}), fd, object_handle(ch))
        end
        if rc != -Libc.EAGAIN
            check(rc)
            return nothing
        end
        wait_fd(fd; writable=true)
    end
end

# Errors of the channel calls: -EPIPE is a BrokenPipeError, others IpcShmErrors.
function check_channel(rc::Integer)
    rc == -Libc.EPIPE && throw(BrokenPipeError(last_error()))
    return check(rc)
end

# The result of a call that waits: true when done, false when the time ran out.
function channel_done(rc::Integer)
    rc == 0 && return true
    (rc == -Libc.ETIMEDOUT || rc == -Libc.EAGAIN) && return false
    check_channel(rc)
    return true
end

# A call that waits, in slices (a Ctrl-C or the garbage collector gets in between
# two): throws a TimeoutError once `timeout` seconds passed.
function channel_wait(f, timeout::Real)
    channel_done(wait_sliced(f, timeout_ns(timeout))) || throw(TimeoutError())
    return nothing
end

"""
    ChannelInfo(ch::ShmChannel)
    ChannelInfo(id::AbstractString)

what is known of a channel, from an end of it or by its name (`"/name"`; read
permission suffices, no end is opened and nothing changes): `kind`
(`IpcShm.KIND_POSIX` or `KIND_MEMFD`), `slot_size`, `slot_count`, `sender` and
`receiver` (`:never` taken, `:open`, `:closed` or `:died`), `queued` (messages
sent and not yet taken, a snapshot), `sent` and `received` (since the channel
was made). An object that is not a channel: `IpcShmError` (`EBADMSG`).
"""
struct ChannelInfo
    kind::UInt32
    slot_size::Int
    slot_count::Int
    sender::Symbol
    receiver::Symbol
    queued::Int
    sent::UInt64
    received::UInt64
end

const END_STATES = (END_NEVER => :never, END_OPEN => :open, END_CLOSED => :closed,
                    END_DIED => :died)

function end_state(code::UInt32)
    for (c, s) in END_STATES
        c == code && return s
    end
    return :unknown
end

ChannelInfo(raw::ChannelInfoStruct) =
    ChannelInfo(raw.kind, Int(raw.slot_size), Int(raw.slot_count), end_state(raw.sender),
                end_state(raw.receiver), Int(raw.queued), raw.sent, raw.received)

function ChannelInfo(ch::ShmChannel)
    raw = ChannelInfoStruct()
    check(ccall((:ipcshm_channel_handle_info, libipcshm), Cint,
                (Ptr{Cvoid}, Ref{ChannelInfoStruct}), handle(ch), raw))
    return ChannelInfo(raw)
end

function ChannelInfo(id::AbstractString)
    raw = ChannelInfoStruct()
    check(ccall((:ipcshm_channel_info, libipcshm), Cint, (Cstring, Ref{ChannelInfoStruct}),
                id, raw))
    return ChannelInfo(raw)
end

"""
    isready(ch::ShmChannel) -> Bool

whether a message waits in the channel (sent and not yet taken), as for a
`Base.Channel`; a snapshot.
"""
Base.isready(ch::ShmChannel) = isopen(ch) && ChannelInfo(ch).queued > 0

# Whether the next take! (receiver) or put! (sender) of this end would not
# wait: a message (a free slot) is there, or the peer has gone.
function ready_to_go(ch::ShmChannel)
    info = ChannelInfo(ch)
    if ch.role == RECEIVER
        return info.queued > 0 || info.sender in (:closed, :died)
    end
    return info.queued < info.slot_count || info.receiver in (:closed, :died)
end

"""
    fd(ch::ShmChannel) -> RawFD

a descriptor (non-blocking) that becomes readable when this end can go on
without waiting: the receiver when a message is there, the sender when a slot
is free, either when the peer has gone. For `FileWatching` (`poll_fd`,
`FDWatcher`): when it is readable, read its 8 bytes (a hint), then
`take!`/`put!` with `timeout=0` until `TimeoutError`. The end owns it:
`close(ch)` closes it. Channels in huge pages have none (`EOPNOTSUPP`).
"""
Base.fd(ch::ShmChannel) = watcher(ch).handle

function watcher(ch::ShmChannel)
    w = ch.watcher
    w === nothing || return w
    rc = ccall((:ipcshm_channel_fd, libipcshm), Cint, (Ptr{Cvoid},), handle(ch))
    w = Base.Filesystem.File(RawFD(check(rc)))
    ch.watcher = w
    return w
end

"""
    wait(ch::ShmChannel; timeout=Inf)

waits until the next `take!` (on the receiver) or `put!` (on the sender) will
not wait: a message (a free slot) is there, or the peer has gone (it will throw
a `BrokenPipeError`). Unlike `take!` and `put!`, it lets the other tasks of the
thread run meanwhile (`fd(ch)` with `FileWatching`). `TimeoutError` after
`timeout` seconds.

    @async while true                   # a task that leaves the thread to others
        wait(ch)                        # while there is nothing to take
        msg = try take!(ch; timeout=0) catch e; e isa BrokenPipeError ? break : rethrow() end
        process(msg)
    end
"""
function Base.wait(ch::ShmChannel; timeout::Real=Inf)
    timeout_ns(timeout)                          # (checks it)
    deadline = time() + Float64(timeout)
    file = watcher(ch)
    while true
        ready_to_go(ch) && return nothing
        left = deadline - time()
        left <= 0 && throw(TimeoutError())
        got = FileWatching.poll_fd(file.handle, isinf(left) ? -1 : left; readable=true)
        got.readable || continue
        try
            read(file, UInt64)                   # a hint: how far the peer got
        catch err
            err isa EOFError &&
                throw(IpcShmError(Libc.EBADF, "ShmChannel(\"$(ch.id)\") was closed while waited on"))
            err isa Base.IOError || rethrow()    # EAGAIN: nothing to read yet
        end
    end
end

function Base.show(io::IO, ch::ShmChannel)
    print(io, "ShmChannel(")
    show(io, ch.id)
    print(io, ", :", ch.role == SENDER ? "sender" : "receiver")
    if isopen(ch)
        print(io, "; slot_size=", ch.slot_size, ", slot_count=", ch.slot_count, ")")
    else
        print(io, "; closed)")
    end
end
Base.show(io::IO, ::MIME"text/plain", ch::ShmChannel) = show(io, ch)
