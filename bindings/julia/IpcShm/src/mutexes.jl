# IPC.Mutex: a robust mutex in shared memory (ipcshm_mutex_*, libipcshm 1.2):
# lock, unlock, trylock, timedlock, and the death of its owner (OwnerDeadError,
# consistent).

"""
    IPC.Mutex(mem, off=0; init=false)

the robust mutex (`ipcshm_mutex_*`) at byte offset `off` (a multiple of 8) of
`mem`, a `SharedMemory` (or other memory with `pointer` and `sizeof`), shared by
every process and language that maps the object. `init=true` initialises it,
unlocked: once, by the creator of the memory, before anyone uses it
(`IpcShm.initialize!(m)` does the same, and makes a not recoverable mutex usable
again). (IPC.jl's `IPC.Mutex(buf, off)` always initialises a pthread mutex; this
one is libipcshm's own layout, the same in C, C++, Python and Rust.)

`lock(m)`, `unlock(m)`, `trylock(m)`, `timedlock(m, secs)`, and `lock(f, m)` as
for any `Base.AbstractLock`. The owner's death never wedges the others: when
the thread that holds it dies (its process killed, `SIGKILL` included, or the
thread ended), the next `lock` (or `trylock`, `timedlock`) takes it and throws
an `OwnerDeadError` that carries it: repair the data it guards, call
`consistent(m)`, then `unlock(m)`. Unlocking without `consistent` makes the
mutex not recoverable for everyone (`IpcShmError` `ENOTRECOVERABLE`).

A lock belongs to the operating-system thread that took it: it is not
recursive (`EDEADLK`), another thread's `unlock` is `EPERM`. A Julia task that
holds it must therefore not move to another thread: take it in the main task or
a sticky one (`@async`), and do not `yield` while holding it. `lock` blocks the
calling thread (and the tasks that share it); Ctrl-C ends the wait
(`InterruptException`). The processes that share a mutex must be in one pid
namespace. `sizeof(IPC.Mutex)` is 64.
"""
struct Mutex{M} <: Base.AbstractLock
    mem::M
    offset::Int
    function Mutex{M}(mem::M, offset::Int) where {M}
        primitive_address(mem, offset, MUTEX_SIZE, 8, "IPC.Mutex")
        return new{M}(mem, offset)
    end
end

function Mutex(mem::M, off::Integer=0; init::Bool=false) where {M}
    m = Mutex{M}(mem, Int(off))
    init && initialize!(m)
    return m
end

Base.sizeof(::Type{Mutex}) = MUTEX_SIZE
address(m::Mutex) = primitive_address(m.mem, m.offset, MUTEX_SIZE, 8, "IPC.Mutex")

"""
    OwnerDeadError(mutex, msg)

thrown by `lock`, `trylock` and `timedlock` when the previous owner of `mutex`
died holding it (`EOWNERDEAD`). The calling thread holds the mutex then: repair
the data it guards, call `consistent(e.mutex)`, then `unlock(e.mutex)`.

    try
        lock(m) do
            update(data)
        end
    catch e
        e isa OwnerDeadError || rethrow()
        repair(data)
        consistent(e.mutex)
        unlock(e.mutex)
    end
"""
struct OwnerDeadError <: Exception
    mutex::Mutex
    msg::String
end

Base.showerror(io::IO, e::OwnerDeadError) = print(io, "OwnerDeadError: ", e.msg)

"""
    IpcShm.initialize!(m::IPC.Mutex) -> m

makes the memory of `m` an unlocked mutex (`ipcshm_mutex_init`).
"""
function initialize!(m::Mutex)
    mem = m.mem
    rc = GC.@preserve mem ccall((:ipcshm_mutex_init, libipcshm), Cint, (Ptr{Cvoid},),
                                address(m))
    check(rc)
    return m
end

# One attempt to take `m` within `timeout` ns: true, false (timed out), or the
# errors of lock.
function mutex_lock(m::Mutex, timeout::Int64)
    mem = m.mem
    function lock_once(t::Int64)
        return ccall((:ipcshm_mutex_lock, libipcshm), Cint, (Ptr{Cvoid}, Int64), address(m), t)
    end
    rc = GC.@preserve mem wait_sliced(lock_once, timeout)
    rc == -Libc.EOWNERDEAD && throw(OwnerDeadError(m, last_error()))
    return taken(rc)
end

"""
    lock(m::IPC.Mutex)

takes `m`, waiting while another thread holds it. `OwnerDeadError` (the caller
holds it) if its previous owner died holding it; `IpcShmError` with
`ENOTRECOVERABLE` if it was unlocked after that without `consistent`, `EDEADLK`
if this thread holds it already.
"""
function Base.lock(m::Mutex)
    mutex_lock(m, Int64(-1))
    return nothing
end

"""
    trylock(m::IPC.Mutex) -> Bool

takes `m` if no live thread holds it; `false` otherwise. A mutex whose owner
died is taken (`OwnerDeadError`), never reported busy.
"""
Base.trylock(m::Mutex) = mutex_lock(m, Int64(0))

"""
    timedlock(m::IPC.Mutex, secs) -> Bool

`lock(m)` for at most `secs` seconds: `false` when they passed.
"""
timedlock(m::Mutex, secs::Real) = mutex_lock(m, timeout_ns(secs))

"""
    unlock(m::IPC.Mutex)

releases `m` and wakes one waiter. `IpcShmError` (`EPERM`) if the calling
thread does not hold it. After an `OwnerDeadError` without `consistent`, the
mutex becomes not recoverable.
"""
function Base.unlock(m::Mutex)
    mem = m.mem
    rc = GC.@preserve mem ccall((:ipcshm_mutex_unlock, libipcshm), Cint, (Ptr{Cvoid},),
                                address(m))
    check(rc)
    return nothing
end

"""
    consistent(m::IPC.Mutex)

after an `OwnerDeadError`: marks the data that `m` guards repaired
(`ipcshm_mutex_consistent`); the caller still holds `m` and unlocks it as usual.
`IpcShmError` (`EINVAL`) otherwise.
"""
function consistent(m::Mutex)
    mem = m.mem
    rc = GC.@preserve mem ccall((:ipcshm_mutex_consistent, libipcshm), Cint, (Ptr{Cvoid},),
                                address(m))
    check(rc)
    return nothing
end

function Base.show(io::IO, m::Mutex)
    print(io, "IPC.Mutex(", m.mem, ", ", m.offset, ")")
end
