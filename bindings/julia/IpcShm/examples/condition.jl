# The condition-variable pattern across processes with IpcShm: an IPC.Mutex
# guards the shared state, an IPC.Event announces each change of it. A waiter
# reads the event's sequence while it holds the mutex, unlocks, then waits for
# the sequence to move on: a notify that comes in between is not lost.
#
# A producer hands numbers to a consumer, in another Julia process, through a
# one-slot mailbox in a new volatile object:
#
#     offset 0    IPC.Mutex
#     offset 64   IPC.Event
#     offset 128  full     (UInt32: 1 while the slot holds a number)
#     offset 136  number   (UInt64)
#
# usage: julia --project=bindings/julia/IpcShm condition.jl [COUNT]
#        (the producer; it starts the consumer, `condition.jl consume ID`)
using IpcShm

const FULL = 128
const NUMBER = 136

full(shm) = unsafe_load(Ptr{UInt32}(pointer(shm) + FULL))
set_full!(shm, v) = unsafe_store!(Ptr{UInt32}(pointer(shm) + FULL), UInt32(v))

# Takes the mutex. If the other process died holding it, the slot may be
# half-written: empty it, mark the state repaired, and go on holding it.
function take(m, shm)
    try
        lock(m)
    catch err
        err isa OwnerDeadError || rethrow()
        set_full!(shm, 0)
        consistent(m)
    end
end

# Holding the mutex, waits until the slot's flag is `want`; holds it again when
# it returns.
function wait_until(m, ev, shm, want)
    while full(shm) != want
        seen = IPC.sequence(ev)      # under the mutex: before looking away
        unlock(m)
        wait(ev, seen)               # returns once a notify came after `seen`
        take(m, shm)
    end
end

function put(m, ev, shm, number)
    take(m, shm)
    wait_until(m, ev, shm, 0)
    unsafe_store!(Ptr{UInt64}(pointer(shm) + NUMBER), UInt64(number))
    set_full!(shm, 1)
    unlock(m)
    notify(ev)                       # after the change, outside the lock
end

function produce(count)
    shm = SharedMemory("/condition-XXXXXX", 4096)
    m = IPC.Mutex(shm, 0; init=true)
    ev = IPC.Event(shm, 64; init=true)
    cmd = `$(Base.julia_cmd()) --startup-file=no --project=$(Base.active_project()) $(@__FILE__) consume $(shmid(shm))`
    consumer = open(cmd, "r")
    for number in 1:count
        put(m, ev, shm, number)
    end
    put(m, ev, shm, 0)               # 0: no more
    print(read(consumer, String))
    wait(consumer)
    close(shm)
    println("producer: handed over $count numbers")
    return success(consumer)
end

function consume(id)
    shm = SharedMemory(id)
    m = IPC.Mutex(shm, 0)
    ev = IPC.Event(shm, 64)
    total = received = 0
    while true
        take(m, shm)
        wait_until(m, ev, shm, 1)
        number = unsafe_load(Ptr{UInt64}(pointer(shm) + NUMBER))
        set_full!(shm, 0)
        unlock(m)
        notify(ev)
        number == 0 && break
        total += Int(number)
        received += 1
    end
    close(shm)
    println("consumer: received $received numbers, sum $total")
    return true
end

if length(ARGS) == 2 && ARGS[1] == "consume"
    exit(consume(ARGS[2]) ? 0 : 1)
else
    exit(produce(isempty(ARGS) ? 100 : parse(Int, ARGS[1])) ? 0 : 1)
end
