# Signalling (libipcshm 1.2): what events, semaphores and mutexes share (their
# place in a memory object, timeouts in seconds, waits that Ctrl-C interrupts),
# and wait/wake on a 32-bit word of shared memory (waitword, wakeword).

# The sizes of ipcshm.h's primitives (IPCSHM_EVENT_SIZE, ...), in bytes; each
# starts 8-byte aligned.
const EVENT_SIZE = Int(64)
const SEM_SIZE = Int(64)
const MUTEX_SIZE = Int(64)

"""
    TimeoutError()

thrown by `timedwait` on a `Semaphore` or an `IPC.Event` when the time ran out,
as IPC.jl's.
"""
struct TimeoutError <: Exception end

Base.showerror(io::IO, ::TimeoutError) = print(io, "TimeoutError: the time limit expired")

# A long wait is made of library calls of at most this many nanoseconds with a
# GC safepoint between two: Julia delivers Ctrl-C (InterruptException) there, and
# the garbage collector of other threads, which waits for every thread to reach
# a safepoint, is never held up longer than this by a thread that sleeps here.
const WAIT_SLICE_NS = 100_000_000

# The address of the `size` bytes at `offset` of `mem` (a SharedMemory, or any
# memory with `pointer` and `sizeof`, as IPC.jl's), which must be `align`-aligned
# and inside it: else an ArgumentError naming `what`. A closed SharedMemory is an
# IpcShmError (EBADF). Asked again at every call: `resize!` may move the mapping.
function primitive_address(mem, offset::Int, size::Int, align::Int, what::AbstractString)
    mem isa AbstractString &&
        throw(ArgumentError("$what: a string is not memory to put a primitive in"))
    offset >= 0 || throw(ArgumentError("$what: offset $offset is negative"))
    rem(offset, align) == 0 ||
        throw(ArgumentError("$what: offset $offset is not a multiple of $align"))
    ptr, len = memory_parameters(mem)
    offset <= len - size ||
        throw(ArgumentError("$what: offset $offset leaves no room for its $size bytes " *
                            "in $len bytes of memory"))
    addr = ptr + offset
    rem(UInt(addr), align) == 0 ||
        throw(ArgumentError("$what: the memory at offset $offset is not $align-byte aligned"))
    return addr
end

# A timeout in seconds as the library's nanoseconds: 0 only tries, Inf (or more
# than 292 years) is -1, for ever; anything else at least 1.
function timeout_ns(secs::Real)
    isnan(secs) && throw(ArgumentError("the timeout is NaN"))
    secs < 0 && throw(ArgumentError("the timeout ($secs s) is negative"))
    iszero(secs) && return Int64(0)
    ns = Float64(secs) * 1e9
    ns >= 9.2e18 && return Int64(-1)
    return max(Int64(1), ceil(Int64, ns))
end

# Calls f(timeout_ns) until it returns anything but -EINTR (a signal handler ran
# while it slept), with what is left of the timeout, in slices of WAIT_SLICE_NS
# with a safepoint between two (where a Ctrl-C becomes an InterruptException).
# Returns f's last result: -ETIMEDOUT or -EAGAIN once the time ran out.
function wait_sliced(f, timeout::Int64)
    if timeout == 0
        while true
            rc = f(Int64(0))
            rc == -Libc.EINTR || return rc
            GC.safepoint()
        end
    end
    deadline = timeout < 0 ? typemax(UInt64) : time_ns() + UInt64(timeout)
    while true
        now = time_ns()
        left = timeout < 0 ? typemax(Int64) :
               now >= deadline ? Int64(0) : Int64(deadline - now)
        slice = min(left, Int64(WAIT_SLICE_NS))
        rc = f(slice)
        if rc == -Libc.EINTR || (rc == -Libc.ETIMEDOUT && slice < left)
            GC.safepoint()
            continue
        end
        return rc
    end
end

# Checks a timed call's result: true for 0, false for a timeout, else throws.
function taken(rc::Integer)
    rc == 0 && return true
    (rc == -Libc.ETIMEDOUT || rc == -Libc.EAGAIN) && return false
    check(rc)
    return true
end

"""
    IpcShm.waitword(mem, offset, expected; timeout=Inf) -> Bool

sleeps while the 32-bit word at `offset` (4-aligned) of `mem` (a `SharedMemory`,
read-only ones included, or other memory) holds `expected`: `ipcshm_wait`, the
futex contract. `true` when woken by `wakeword` (in any process and language)
or if the word held another value; `false` after `timeout` seconds (`0` only
looks). Wake-ups may be spurious: look at the word again.
"""
function waitword(mem, offset::Integer, expected::Integer; timeout::Real=Inf)
    want = UInt32(expected)
    limit = timeout_ns(timeout)
    function wait_once(t::Int64)
        word = Ptr{UInt32}(primitive_address(mem, Int(offset), 4, 4, "IpcShm.waitword"))
        return ccall((:ipcshm_wait, libipcshm), Cint, (Ptr{UInt32}, UInt32, Int64),
                     word, want, t)
    end
    rc = GC.@preserve mem wait_sliced(wait_once, limit)
    return taken(rc)
end

"""
    IpcShm.wakeword(mem, offset, count=typemax(UInt32)) -> Int

wakes up to `count` (all, by default) waiters of `waitword` on the 32-bit word at
`offset` of `mem`, in any process, and returns how many it woke. Change the word
before waking.
"""
function wakeword(mem, offset::Integer, count::Integer=typemax(UInt32))
    n = UInt32(count)
    rc = GC.@preserve mem begin
        word = Ptr{UInt32}(primitive_address(mem, Int(offset), 4, 4, "IpcShm.wakeword"))
        ccall((:ipcshm_wake, libipcshm), Cint, (Ptr{UInt32}, UInt32), word, n)
    end
    return check(rc)
end
