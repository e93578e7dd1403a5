# IPC.Event: a doorbell with a sequence number in shared memory (ipcshm_event_*,
# libipcshm 1.2), and EventWatcher, a wait on its descriptor that lets other
# tasks run (FileWatching).

"""
    IPC.Event(mem, off=0; init=false)

the event (`ipcshm_event_*`) at byte offset `off` (a multiple of 8) of `mem`, a
`SharedMemory` (or other memory with `pointer` and `sizeof`, between the threads
of one process): a 64-bit sequence number that `notify` increments, waking every
waiter in every process and language that maps the object. `init=true`
initialises it (sequence 0): once, by the creator of the memory, before anyone
uses it (`IpcShm.initialize!(ev)` does the same). Memory that is not an event
is an `IpcShmError` (`EINVAL`; `EBADMSG` for impossible contents) when used.

A waiter reads the sequence, looks at the shared state the event announces
changes of, and waits for the sequence to move on from what it read: a notify
in between is never lost, and several are seen as one.

    seen = IPC.sequence(ev)
    while !ready()
        seen = wait(ev, seen)
    end

`wait(ev, seen)` and `timedwait(ev, seen, secs)` block the calling thread (a
Ctrl-C ends them with an `InterruptException`); `IpcShm.EventWatcher(ev)` waits
on a descriptor instead, letting the thread's other tasks run. With an
`IPC.Mutex` this is a condition variable: see `examples/condition.jl`.

The event holds `mem`, which stays mapped as long as it is not closed: using an
event whose `SharedMemory` was closed is an `IpcShmError` (`EBADF`); closing it
while another task or thread waits on the event is the caller's error, as for
arrays. In a read-only mapping only `IPC.sequence` works (`EACCES` otherwise).
`sizeof(IPC.Event)` is 64.
"""
struct Event{M}
    mem::M
    offset::Int
    function Event{M}(mem::M, offset::Int) where {M}
        primitive_address(mem, offset, EVENT_SIZE, 8, "IPC.Event")
        return new{M}(mem, offset)
    end
end

function Event(mem::M, off::Integer=0; init::Bool=false) where {M}
    ev = Event{M}(mem, Int(off))
    init && initialize!(ev)
    return ev
end

Base.sizeof(::Type{Event}) = EVENT_SIZE
address(ev::Event) = primitive_address(ev.mem, ev.offset, EVENT_SIZE, 8, "IPC.Event")

"""
    IpcShm.initialize!(ev::IPC.Event) -> ev

makes the memory of `ev` an event with sequence 0 (`ipcshm_event_init`). Once,
before anyone uses it: initialising an event in use breaks it.
"""
function initialize!(ev::Event)
    mem = ev.mem
    rc = GC.@preserve mem ccall((:ipcshm_event_init, libipcshm), Cint, (Ptr{Cvoid},),
                                address(ev))
    check(rc)
    return ev
end

"""
    notify(ev::IPC.Event)

increments the sequence of `ev` and wakes every waiter, in every process (and
makes the descriptors of every `EventWatcher` readable). No system call when
nobody waits.
"""
function Base.notify(ev::Event)
    mem = ev.mem
    rc = GC.@preserve mem ccall((:ipcshm_event_notify, libipcshm), Cint, (Ptr{Cvoid},),
                                address(ev))
    check(rc)
    return nothing
end

"""
    IPC.sequence(ev::IPC.Event) -> UInt64

the current sequence of `ev` (works in a read-only mapping).
"""
function sequence(ev::Event)
    mem = ev.mem
    seq = Ref{UInt64}(0)
    rc = GC.@preserve mem ccall((:ipcshm_event_sequence, libipcshm), Cint,
                                (Ptr{Cvoid}, Ref{UInt64}), address(ev), seq)
    check(rc)
    return seq[]
end

# One wait for the sequence to differ from `seen`: the sequence, or nothing when
# `timeout` (nanoseconds; -1 for ever) ran out.
function event_wait(ev::Event, seen::Integer, timeout::Int64)
    mem = ev.mem
    cell = Ref{UInt64}(UInt64(seen))
    function wait_once(t::Int64)
        return ccall((:ipcshm_event_wait, libipcshm), Cint, (Ptr{Cvoid}, Ref{UInt64}, Int64),
                     address(ev), cell, t)
    end
    rc = GC.@preserve mem wait_sliced(wait_once, timeout)
    return taken(rc) ? cell[] : nothing
end

"""
    wait(ev::IPC.Event, seen) -> UInt64

waits until the sequence of `ev` differs from `seen` and returns it (at once if
it differs already). Blocks the calling thread; Ctrl-C ends the wait
(`InterruptException`).
"""
Base.wait(ev::Event, seen::Integer) = event_wait(ev, seen, Int64(-1))::UInt64

"""
    timedwait(ev::IPC.Event, seen, secs) -> UInt64

`wait(ev, seen)` for at most `secs` seconds (`0` only looks): throws a
`TimeoutError` when they passed.
"""
function Base.timedwait(ev::Event, seen::Integer, secs::Real)
    seq = event_wait(ev, seen, timeout_ns(secs))
    seq === nothing && throw(TimeoutError())
    return seq
end

function Base.show(io::IO, ev::Event)
    print(io, "IPC.Event(", ev.mem, ", ", ev.offset, ")")
end

"""
    IpcShm.EventWatcher(ev::IPC.Event)
    IpcShm.EventWatcher(f, ev::IPC.Event)

a descriptor of `ev` (`ipcshm_event_fd`) that becomes readable after every
notify that comes after this call, watched with FileWatching: `wait(w, seen;
timeout=Inf)` returns the sequence once it differs from `seen`, letting the
other tasks of the thread run meanwhile (`TimeoutError` after `timeout`
seconds). `close(w)` closes the descriptor (so does the finalizer); the form
with a function `f` calls `f(w)` and closes it. The descriptor stays usable
after the `SharedMemory` is closed. Memory that cannot be mapped a second time
(huge pages, memory that is not shared) is an `IpcShmError` (`EOPNOTSUPP`).
"""
mutable struct EventWatcher{M}
    event::Event{M}
    file::Union{Base.Filesystem.File,Nothing}
    function EventWatcher{M}(ev::Event{M}) where {M}
        mem = ev.mem
        rc = GC.@preserve mem ccall((:ipcshm_event_fd, libipcshm), Cint, (Ptr{Cvoid},),
                                    address(ev))
        file = Base.Filesystem.File(RawFD(check(rc)))
        return finalizer(close, new{M}(ev, file))
    end
end

EventWatcher(ev::Event{M}) where {M} = EventWatcher{M}(ev)

function EventWatcher(f::Function, ev::Event)
    w = EventWatcher(ev)
    try
        return f(w)
    finally
        close(w)
    end
end

function Base.close(w::EventWatcher)
    file = w.file
    if file !== nothing
        w.file = nothing
        close(file)
    end
    return nothing
end

Base.isopen(w::EventWatcher) = w.file !== nothing

function Base.wait(w::EventWatcher, seen::Integer; timeout::Real=Inf)
    want = UInt64(seen)
    limit = timeout_ns(timeout)                  # (checks it)
    deadline = limit < 0 ? Inf : time() + Float64(timeout)
    while true
        file = w.file
        file === nothing &&
            throw(IpcShmError(Libc.EBADF, "the EventWatcher is closed"))
        seq = sequence(w.event)
        seq != want && return seq
        left = deadline - time()
        left <= 0 && throw(TimeoutError())
        # A notify from the descriptor's creation on makes it readable.
        got = FileWatching.poll_fd(file.handle, isinf(left) ? -1 : left; readable=true)
        got.readable || continue
        try
            read(file, UInt64)                   # one value waits at most
        catch err
            if err isa EOFError
                # The event was overwritten: sequence() says how, or the
                # descriptor is done for.
                sequence(w.event)
                throw(IpcShmError(Libc.EIO, "the event was initialised again while " *
                                            "watched: make a new EventWatcher"))
            end
            err isa Base.IOError || rethrow()    # EAGAIN: read by another task
        end
    end
end
