# Semaphore: a counting semaphore in shared memory (ipcshm_sem_*, libipcshm 1.2)
# with IPC.jl's names: post, wait, timedwait, trywait, sem[].

"""
    Semaphore(mem, value; offset=0)
    Semaphore(mem; offset=0)

the counting semaphore (`ipcshm_sem_*`) at byte offset `offset` (a multiple of 8)
of `mem`, a `SharedMemory` (or other memory with `pointer` and `sizeof`), shared
by every process and language that maps the object. As IPC.jl's anonymous
semaphores: with a `value` (`0` to `typemax(Semaphore)`), it initialises the
semaphore with that count (once, by the creator of the memory, before anyone
uses it); without, it connects to an initialised one. Memory that is not a
semaphore is an `IpcShmError` (`EINVAL`; `EBADMSG` for impossible contents)
when used.

`post(sem)`, `wait(sem)`, `timedwait(sem, secs)` (`TimeoutError` when they pass),
`trywait(sem)`, `sem[]` (the count). `wait` and `timedwait` block the calling
thread; Ctrl-C ends them (`InterruptException`). The count is a count, not an
ownership: a process that dies after `wait` does not give its unit back (as
POSIX semaphores); use an `IPC.Mutex` where a dead holder must be noticed.
`sizeof(Semaphore)` is 64. In a read-only mapping only `sem[]` works.

Named semaphores (`sem_open`, IPC.jl's `Semaphore(name, value)`) are not
libipcshm's: put a semaphore in a `SharedMemory` instead.
"""
struct Semaphore{M}
    mem::M
    offset::Int
    function Semaphore{M}(mem::M, offset::Int) where {M}
        primitive_address(mem, offset, SEM_SIZE, 8, "Semaphore")
        return new{M}(mem, offset)
    end
end

function Semaphore(mem::M, value::Integer; offset::Integer=0) where {M}
    sem = Semaphore{M}(mem, Int(offset))
    initialize!(sem, value)
    return sem
end

Semaphore(mem::M; offset::Integer=0) where {M} = Semaphore{M}(mem, Int(offset))

no_named_semaphores() =
    throw(ArgumentError("named semaphores (sem_open) are not libipcshm's: put a " *
                        "Semaphore in a SharedMemory, Semaphore(shm, value; offset)"))
Semaphore(name::AbstractString, value::Integer; kwds...) = no_named_semaphores()
Semaphore(name::AbstractString; kwds...) = no_named_semaphores()

Base.sizeof(::Type{Semaphore}) = SEM_SIZE
Base.typemin(::Type{Semaphore}) = zero(UInt32)
Base.typemax(::Type{Semaphore}) = typemax(UInt32)
address(sem::Semaphore) = primitive_address(sem.mem, sem.offset, SEM_SIZE, 8, "Semaphore")

"""
    IpcShm.initialize!(sem::Semaphore, value) -> sem

makes the memory of `sem` a semaphore with the count `value`
(`ipcshm_sem_init`). Once, before anyone uses it.
"""
function initialize!(sem::Semaphore, value::Integer)
    typemin(Semaphore) <= value <= typemax(Semaphore) ||
        throw(ArgumentError("invalid semaphore value ($value)"))
    mem = sem.mem
    rc = GC.@preserve mem ccall((:ipcshm_sem_init, libipcshm), Cint, (Ptr{Cvoid}, UInt32),
                                address(sem), UInt32(value))
    check(rc)
    return sem
end

"""
    sem[] -> Int

the current count of `sem` (works in a read-only mapping). It may have changed
by the time it is returned.
"""
function Base.getindex(sem::Semaphore)
    mem = sem.mem
    value = Ref{UInt32}(0)
    rc = GC.@preserve mem ccall((:ipcshm_sem_value, libipcshm), Cint,
                                (Ptr{Cvoid}, Ref{UInt32}), address(sem), value)
    check(rc)
    return Int(value[])
end

Base.convert(::Type{T}, sem::Semaphore) where {T<:Integer} = convert(T, sem[])

"""
    post(sem)

adds one to the count of `sem` and wakes one waiter, in any process.
`IpcShmError` (`EOVERFLOW`, count unchanged) at `typemax(Semaphore)`.
"""
function post(sem::Semaphore)
    mem = sem.mem
    rc = GC.@preserve mem ccall((:ipcshm_sem_post, libipcshm), Cint, (Ptr{Cvoid},),
                                address(sem))
    check(rc)
    return nothing
end

# One wait for a unit: true when taken, false when `timeout` (ns) ran out.
function sem_wait(sem::Semaphore, timeout::Int64)
    mem = sem.mem
    function wait_once(t::Int64)
        return ccall((:ipcshm_sem_wait, libipcshm), Cint, (Ptr{Cvoid}, Int64), address(sem), t)
    end
    return taken(GC.@preserve mem wait_sliced(wait_once, timeout))
end

"""
    wait(sem::Semaphore)

takes one from the count of `sem`, waiting while it is 0.
"""
function Base.wait(sem::Semaphore)
    sem_wait(sem, Int64(-1))
    return nothing
end

"""
    timedwait(sem::Semaphore, secs)

`wait(sem)` for at most `secs` seconds: throws a `TimeoutError` when they pass.
"""
function Base.timedwait(sem::Semaphore, secs::Real)
    sem_wait(sem, timeout_ns(secs)) || throw(TimeoutError())
    return nothing
end

"""
    trywait(sem) -> Bool

takes one from the count of `sem` if it is not 0; `false` otherwise.
"""
trywait(sem::Semaphore) = sem_wait(sem, Int64(0))

function Base.show(io::IO, sem::Semaphore)
    print(io, "Semaphore(", sem.mem, "; offset=", sem.offset, ")")
end
