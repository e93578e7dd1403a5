# Tests of semaphores, events, mutexes and futex words between processes.

@testset "Semaphore: IPC.jl's names, between processes" begin
    shm = SharedMemory("/ipcshm-jl-sem-XXXXXX", 4096)
    name = shmid(shm)
    sem = Semaphore(shm, 2; offset=64)
    @test sem[] == 2 && convert(Int, sem) == 2
    @test sizeof(Semaphore) == 64 == IpcShm.SEM_SIZE
    @test typemin(Semaphore) == 0 && typemax(Semaphore) == typemax(UInt32)
    wait(sem)
    @test trywait(sem)
    @test !trywait(sem)
    t0 = time()
    @test_throws TimeoutError timedwait(sem, 0.05)
    @test time() - t0 >= 0.05
    # Units posted by another process add up here.
    @test child("post", name, 64, 3) == "posted 3"
    @test sem[] == 3
    timedwait(sem, 1.0)
    @test sem[] == 2
    # A waiter in another process takes a unit posted here.
    Semaphore(shm, 0; offset=128)
    taker = open(child_cmd("semwait", name, 128), "r")
    @test readline(taker) == "waiting"
    wait_until_sleeping(getpid(taker))
    post(Semaphore(shm; offset=128))
    @test readline(taker) == "took 0"
    wait(taker)
    @test success(taker)
    # Ctrl-C ends a wait that blocks (SIGINT to the waiting process).
    taker = open(child_cmd("semwait", name, 128), "r")
    @test readline(taker) == "waiting"
    wait_until_sleeping(getpid(taker))
    kill(taker, 2)                          # SIGINT
    @test readline(taker) == "interrupted"
    wait(taker)
    @test success(taker)
    # Places, and memory that is no semaphore.
    @test_throws ArgumentError Semaphore(shm; offset=4)
    @test_throws ArgumentError Semaphore(shm; offset=4096 - 32)
    @test_throws ArgumentError Semaphore(shm, typemax(UInt32) + 1; offset=256)
    @test_throws ArgumentError Semaphore("/a-named-semaphore", 1)
    err = try Semaphore(shm; offset=512)[] catch e e end
    @test err isa IpcShmError && err.errno == Libc.EINVAL
    # Read-only: the count only.
    ro = SharedMemory(name; readonly=true)
    @test Semaphore(ro; offset=64)[] == 2
    err = try post(Semaphore(ro; offset=64)) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EACCES
    close(ro)
    close(shm)
    err = try sem[] catch e e end
    @test err isa IpcShmError && err.errno == Libc.EBADF
end

@testset "IPC.Event between processes, and its EventWatcher" begin
    shm = SharedMemory("/ipcshm-jl-event-XXXXXX", 4096)
    name = shmid(shm)
    ev = IPC.Event(shm, 64; init=true)
    @test IPC.sequence(ev) == 0 && sizeof(IPC.Event) == 64
    seen = IPC.sequence(ev)
    @test child("notify", name, 64) == ""
    @test wait(ev, seen) == 1
    @test_throws TimeoutError timedwait(ev, 1, 0.05)
    @test timedwait(ev, 0, 0) == 1                 # differs already: at once
    # A waiter in another process, woken from here.
    waiter = open(child_cmd("eventwait", name, 64), "r")
    @test readline(waiter) == "waiting 1"
    wait_until_sleeping(getpid(waiter))
    notify(ev)
    @test readline(waiter) == "woke 2"
    wait(waiter)
    @test success(waiter)
    # The descriptor: other tasks run while one waits on it.
    IpcShm.EventWatcher(ev) do w
        @test_throws TimeoutError wait(w, 2; timeout=0.05)
        task = @async wait(w, 2)
        sleep(0.05)
        @test !istaskdone(task)
        @test child("notify", name, 64) == ""
        @test fetch(task) == 3
    end
    w = IpcShm.EventWatcher(ev)
    close(w)
    @test !isopen(w)
    @test_throws IpcShmError wait(w, 3)
    # Places, other kinds of memory, read-only mappings.
    @test_throws ArgumentError IPC.Event(shm, 12)
    @test_throws ArgumentError IPC.Event(shm, 4096)
    Semaphore(shm, 1; offset=256)
    err = try IPC.sequence(IPC.Event(shm, 256)) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EINVAL
    ro = SharedMemory(name; readonly=true)
    rev = IPC.Event(ro, 64)
    @test IPC.sequence(rev) == 3
    err = try notify(rev) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EACCES
    close(ro)
    # Between the threads of one process, any memory does.
    buf = zeros(UInt64, 16)
    bev = IPC.Event(buf, 0; init=true)
    notify(bev)
    @test IPC.sequence(bev) == 1
    close(shm)
end

@testset "IPC.Mutex and the death of its owner" begin
    shm = SharedMemory("/ipcshm-jl-mutex-XXXXXX", 4096)
    name = shmid(shm)
    m = IPC.Mutex(shm, 128; init=true)
    @test m isa Base.AbstractLock && sizeof(IPC.Mutex) == 64
    lock(m)
    err = try lock(m) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EDEADLK
    unlock(m)
    err = try unlock(m) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EPERM
    @test lock(() -> 42, m) == 42                  # AbstractLock's lock(f, m)
    @test trylock(m)
    unlock(m)
    err = try consistent(m) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EINVAL

    # An owner killed holding it: the next lock takes it, with OwnerDeadError.
    holder = open(child_cmd("lockhold", name, 128), "r+")
    @test readline(holder) == "held"
    @test !trylock(m)
    @test !timedlock(m, 0.05)
    kill(holder, 9)                         # SIGKILL
    wait(holder)
    err = try lock(m) catch e e end
    @test err isa OwnerDeadError && err.mutex === m
    consistent(m)                                  # repaired: good again
    unlock(m)
    @test trylock(m)
    unlock(m)

    # An owner that ended holding it, and an unlock without consistent: not
    # recoverable for everyone, until initialised again.
    holder = open(child_cmd("lockhold", name, 128), "r+")
    @test readline(holder) == "held"
    println(holder)
    wait(holder)
    @test success(holder)
    err = try lock(m) catch e e end
    @test err isa OwnerDeadError
    unlock(m)
    err = try lock(m) catch e e end
    @test err isa IpcShmError && err.errno == Libc.ENOTRECOVERABLE
    IpcShm.initialize!(m)
    @test trylock(m)
    unlock(m)

    @test_throws ArgumentError IPC.Mutex(shm, 4)
    ro = SharedMemory(name; readonly=true)
    err = try lock(IPC.Mutex(ro, 128)) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EACCES
    close(ro)
    close(shm)
end

@testset "wait and wake on a 32-bit word" begin
    shm = SharedMemory("/ipcshm-jl-word-XXXXXX", 4096)
    @test !IpcShm.waitword(shm, 256, 0; timeout=0.02)        # holds 0: times out
    @test IpcShm.wakeword(shm, 256) == 0
    unsafe_store!(Ptr{UInt32}(pointer(shm) + 256), 0x00000001)
    @test IpcShm.waitword(shm, 256, 0)                       # holds 1: at once
    @test_throws ArgumentError IpcShm.waitword(shm, 2, 0)
    close(shm)
end

@testset "the condition-variable example runs in two processes" begin
    example = joinpath(@__DIR__, "..", "examples", "condition.jl")
    out = read(`$(Base.julia_cmd()) --startup-file=no --project=$(Base.active_project()) $example 200`,
               String)
    @test out == "consumer: received 200 numbers, sum 20100\nproducer: handed over 200 numbers\n"
end
