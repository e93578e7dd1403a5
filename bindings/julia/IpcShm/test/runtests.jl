# Tests of IpcShm (Pkg.test("IpcShm")): the IPC.jl shared-memory API over
# libipcshm, with other Julia processes (test/child.jl) seeing what this one made.
# The library is this machine's libipcshm.so.1, or ENV["IPCSHM_LIBRARY"].
using Test
using Sockets
using IpcShm

const CHILD = joinpath(@__DIR__, "child.jl")

# Runs child.jl in a new Julia process with this package; its stdout, stripped.
child_cmd(args...; env=Dict{String,String}()) =
    addenv(`$(Base.julia_cmd()) --startup-file=no --project=$(Base.active_project()) $CHILD $(collect(args))`,
           env)
child(args...; env=Dict{String,String}()) = strip(read(child_cmd(args...; env=env), String))

# A unique POSIX name for this run, and a random System V key.
unique_name(tag) = "/ipcshm-jl-$tag-$(getpid())-$(rand(UInt32))"
random_key(lo=0x10000000, hi=0x7fffffff) = IPC.Key(rand(lo:hi))

const ELEMENT_TYPES = (Int8, UInt8, Int16, UInt16, Int32, UInt32, Int64, UInt64,
                       Float32, Float64, ComplexF32, ComplexF64)

# The k-th (1-based) test value of type T: exact in every type.
test_value(::Type{T}, k) where {T<:Integer} = T(k * 7 % 100)
test_value(::Type{T}, k) where {T<:AbstractFloat} = T(k) + T(0.25)
test_value(::Type{Complex{T}}, k) where {T} = Complex{T}(T(k) + T(0.5), -T(k))

describe(A::AbstractArray) = string(eltype(A), " ", size(A), " ", join(vec(A), ","))

@testset "IpcShm" begin

@testset "library loaded in __init__" begin
    @test IpcShm.version() >= v"1.2.0"
    @test isfile(IpcShm.libipcshm_path)
    lib = get(ENV, "IPCSHM_LIBRARY", "")
    if !isempty(lib)
        @test realpath(IpcShm.libipcshm_path) == realpath(lib)
        # Another process, the package already precompiled: the variable is read
        # when the module loads, so each process may name its own library.
        @test realpath(child("libpath"; env=Dict("IPCSHM_LIBRARY" => lib))) == realpath(lib)
    end
    # A library that is not there: loading the module fails, naming it.
    absent = joinpath(mktempdir(), "libipcshm.so.1")
    stderr_text = IOBuffer()
    proc = run(pipeline(ignorestatus(child_cmd("libpath"; env=Dict("IPCSHM_LIBRARY" => absent)));
                        stdout=devnull, stderr=stderr_text))
    @test !success(proc)
    @test occursin(absent, String(take!(stderr_text)))
    @test IPC === IpcShm
    @test IPC.PAGE_SIZE == IpcShm.page_size() > 0
    @test IPC._sizeof_struct_shmid_ds >= 88
end

@testset "POSIX objects between processes" begin
    shm = SharedMemory("/ipcshm-jl-XXXXXX", 4096)
    name = shmid(shm)
    @test name isa String && startswith(name, "/ipcshm-jl-") && !endswith(name, "XXXXXX")
    @test idstring(shm) == name
    @test sizeof(shm) == 4096 && shm.volatile
    @test shm isa SharedMemory{String}
    unsafe_store!(Ptr{UInt32}(pointer(shm)), 0xdeadbeef)
    @test child("bytes", name, 4) == "efbeadde"
    info = ShmInfo(shm)
    @test info.segsz == 4096 && info.size == 4096
    @test info.id == -1 && info.shmid == -1
    @test info.kind == IpcShm.KIND_POSIX
    @test info.flags & IpcShm.PERSISTENT == 0
    @test shmcfg(shm, 0o640) == name
    @test shminfo(name).mode == 0o640

    # Crash-safe lifetime: a process that attached keeps the object alive after
    # its creator closed it (IPC.jl's creator would unlink it).
    holder = open(child_cmd("hold", name), "r+")
    @test readline(holder) == "attached"
    close(shm)
    @test !isopen(shm)
    again = SharedMemory(name; readonly=true)
    @test unsafe_load(Ptr{UInt32}(pointer(again))) == 0xdeadbeef
    close(again)
    println(holder)
    wait(holder)
    @test success(holder)
    err = try SharedMemory(name) catch e e end
    @test err isa IpcShmError && err.errno == Libc.ENOENT
end

@testset "persistent objects and rm" begin
    name = unique_name("persist")
    try
        shm = SharedMemory(name, 100; volatile=false, perms=0o600)
        @test !shm.volatile
        close(shm)
        shm = SharedMemory(name)
        @test sizeof(shm) == 100
        @test ShmInfo(name).flags & IpcShm.PERSISTENT != 0
        rm(shm)
        close(shm)
        @test_throws IpcShmError SharedMemory(name)
        rm(SharedMemory, name)                  # already gone: no error
    finally
        shmrm(name)
    end
end

@testset "System V by key, ShmId and shmid" begin
    key = random_key()
    shm = SharedMemory(key, 1000; volatile=false)
    try
        id = shmid(shm)
        @test id isa ShmId && shm isa SharedMemory{ShmId}
        @test ShmId(shm) == id
        @test ShmId(key) == id == shmid(key)
        @test idstring(shm) == "shmid:$(id.value)"
        @test sizeof(id) == 1000
        info = shminfo(key)
        @test info.segsz == 1000 && info.id == id.value && info.key == key.value
        @test info.nattch >= 1 && info.cpid == getpid()
        fill!(WrappedArray(shm), 0x5a)
        @test child("bytes", "shmid:$(id.value)", 3) == "5a5a5a"
        @test child("bytes", IpcShm.id_string(key), 2) == "5a5a"
        @test shmcfg(key, 0o640) === id
        @test shminfo(id).mode == 0o640
        info2 = ShmInfo()
        @test shminfo!(shm, info2) === info2 && info2.segsz == 1000
        shmrm(key)
        @test_throws IpcShmError ShmId(key)
    finally
        close(shm)
        rm(SharedMemory, key)
    end
end

@testset "keys from 2^31 on" begin
    key = IPC.Key(rand(0x80000000:0xfffffff0))
    @test key.value < 0
    @test IPC.Key(Int64(key.value)) == key
    @test IPC.Key(reinterpret(UInt32, key.value)) == key
    @test_throws ArgumentError IPC.Key(Int64(2)^32)
    @test_throws ArgumentError IPC.Key(Int64(typemin(Int32)) - 1)
    shm = SharedMemory(key, 64; volatile=false)
    try
        @test shminfo(key).key == key.value
        @test ShmId(key) == shmid(shm)
        @test child("bytes", IpcShm.id_string(key), 1) == "00"
    finally
        close(shm)
        shmrm(key)
    end
end

@testset "IPC.PRIVATE and SharedMemory(0, len)" begin
    for key in (IPC.PRIVATE, 0)
        shm = SharedMemory(key, 64)
        id = shmid(shm)
        @test id isa ShmId
        unsafe_store!(Ptr{UInt8}(pointer(shm)), 0x2a)
        @test child("bytes", "shmid:$(id.value)", 1) == "2a"
        @test shminfo(id).key == 0
        close(shm)
    end
    @test_throws IpcShmError SharedMemory(IPC.PRIVATE)
    @test_throws ArgumentError SharedMemory(ShmId(1), 64)
end

@testset "IPC.Key(path, proj) is ftok" begin
    path = tempname()
    touch(path)
    try
        expected = ccall(:ftok, Cint, (Cstring, Cint), path, Cint('a'))
        @test IPC.Key(path, 'a') == IPC.Key(expected)
        @test IPC.Key(path, 97) == IPC.Key(path, 'a')
        @test_throws ArgumentError IPC.Key(path, 0)
        @test_throws ArgumentError IPC.Key(path, 256)
    finally
        rm(path)
    end
    err = try IPC.Key(path, 'a') catch e e end
    @test err isa IpcShmError && err.errno == Libc.ENOENT
end

@testset "shmget, shmat, shmdt, shmctl" begin
    id = shmget(IPC.PRIVATE, 4096, IPC.IPC_CREAT | IPC.IPC_EXCL | 0o600)
    try
        ptr = shmat(id, false)
        unsafe_store!(Ptr{UInt64}(ptr), 0x0102030405060708)
        ro = shmat(id, true)
        @test unsafe_load(Ptr{UInt64}(ro)) == 0x0102030405060708
        shmdt(ro)
        buf = Vector{UInt8}(undef, IPC._sizeof_struct_shmid_ds)
        @test shmctl(id, IPC.IPC_STAT, buf) == 0
        @test_throws ArgumentError shmctl(id, IPC.IPC_STAT, Vector{UInt8}(undef, 8))
        @test sizeof(id) == 4096
        @test shminfo(id).nattch == 1
        shmdt(ptr)
        @test_throws IpcShmError shmdt(ptr)
        @test IpcShm.unsafe_shmctl(id, IPC.IPC_RMID, C_NULL) == 0
        @test_throws IpcShmError shmat(id, false)
    finally
        shmrm(id)
        shmrm(id)                                # already removed: no error
    end
    @test_throws IpcShmError shmget(random_key(), 0, 0o600)   # no such key
end

@testset "ShmInfo has IPC.jl's fields" begin
    @test fieldnames(ShmInfo)[1:13] == (:atime, :dtime, :ctime, :segsz, :id, :cpid,
                                        :lpid, :nattch, :mode, :uid, :gid, :cuid, :cgid)
    @test fieldtypes(ShmInfo)[1:13] == (UInt64, UInt64, UInt64, UInt64, Int32, Int32,
                                        Int32, Int32, UInt32, UInt32, UInt32, UInt32, UInt32)
    @test :size in propertynames(ShmInfo()) && :shmid in propertynames(ShmInfo())
end

@testset "typed arrays read by another process" begin
    shapes = ((5,), (3, 2), (2, 3, 4), (2, 1, 3, 1, 2, 2), (1, 2, 1, 2, 1, 1, 3))
    arrays = WrappedArray[]
    try
        for (n, T) in enumerate(ELEMENT_TYPES), dims in shapes
            # POSIX and System V in turn.
            id = isodd(n) ? "/ipcshm-jl-arr-XXXXXX" : random_key()
            A = WrappedArray(id, T, dims...)
            @test A isa ShmArray{T,length(dims)}
            @test size(A) == dims && all(iszero, A)
            for k in eachindex(A)
                A[k] = test_value(T, k)
            end
            push!(arrays, A)
        end
        ids = [idstring(A) for A in arrays]
        @test split(child("arrays", ids...), '\n') == [describe(A) for A in arrays]
        # The same arrays, attached here by their ids.
        for A in arrays
            B = WrappedArray(shmid(A); readonly=true)
            @test eltype(B) == eltype(A) && size(B) == size(A) && B == A
            close(B)
        end
    finally
        foreach(close, arrays)
    end
    Z = WrappedArray("/ipcshm-jl-zero-XXXXXX", Float64, 3, 0)
    @test size(Z) == (3, 0) && isempty(Z)
    @test read(Z.mem, WrappedArrayHeader) == (Float64, (3, 0), 64)
    close(Z)
    @test_throws ArgumentError WrappedArray("/ipcshm-jl-bad-XXXXXX", String, 2)
    @test_throws ArgumentError WrappedArray("/ipcshm-jl-bad-XXXXXX", Float64)
end

@testset "WrappedArray(mem) wraps bytes" begin
    shm = SharedMemory("/ipcshm-jl-bytes-XXXXXX", 100)
    A = WrappedArray(shm)
    @test A isa WrappedArray{UInt8,1,SharedMemory{String}} && length(A) == 100
    A[1] = 0x11
    @test unsafe_load(Ptr{UInt8}(pointer(shm))) == 0x11
    @test length(WrappedArray(shm, Float64)) == 12
    M = WrappedArray(shm, Int32, 5, 5)
    @test size(M) == (5, 5) && M[1] == 0x11
    @test size(WrappedArray(shm, Int16, (4, 2); offset=16)) == (4, 2)
    @test_throws ArgumentError WrappedArray(shm, Float64; offset=3)
    @test_throws ArgumentError WrappedArray(shm, Float64, 20)
    err = try WrappedArray(shm, x -> read(x, WrappedArrayHeader)) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EBADMSG
    @test shmid(A) == shmid(shm)
    close(shm)
    @test_throws IpcShmError WrappedArray(shm)
end

@testset "objects over Julia's UNIX-domain sockets" begin
    path = joinpath(mktempdir(), "sock")
    server = listen(path)
    receiver = open(child_cmd("recv", path), "r")
    sock = accept(server)
    @test sock isa Base.PipeEndpoint
    @test IpcShm.rawfd(sock) >= 0
    m = SharedMemory("memfd:ipcshm-jl", 4096)
    @test shmid(m) == "memfd:ipcshm-jl"
    unsafe_store!(Ptr{UInt64}(pointer(m)), 0x0807060504030201)
    shmsend(sock, m)
    @test strip(read(receiver, String)) == "memfd:ipcshm-jl 4096 0102030405060708"
    wait(receiver)
    @test success(receiver)
    close(sock)
    close(server)
    @test_throws IpcShmError IpcShm.rawfd(Base.PipeEndpoint())   # not open
    fd = shmfd(m)
    m2 = SharedMemory(fd)
    @test unsafe_load(Ptr{UInt64}(pointer(m2))) == 0x0807060504030201
    close(m2)
    close(Base.Filesystem.File(fd))
    close(m)
end

@testset "errors" begin
    err = try SharedMemory("no/slash", 10) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EINVAL && !isempty(err.msg)
    @test_throws ArgumentError SharedMemory("/ipcshm-jl-XXXXXX", 0)
    shm = SharedMemory("/ipcshm-jl-XXXXXX", 10)
    close(shm)
    close(shm)                                   # twice: no error
    err = try ShmInfo(shm) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EBADF
    @test occursin("closed", sprint(show, shm))
end

# Whether a thread of process `pid` sleeps in a futex wait (a waiter of an
# event, a semaphore or a mutex that stopped spinning).
function sleeping_in_futex(pid::Integer)
    wchan = try read("/proc/$pid/wchan", String) catch; "" end
    return occursin("futex", wchan)
end

function wait_until_sleeping(pid::Integer)
    deadline = time() + 30
    while !sleeping_in_futex(pid)
        time() < deadline || error("process $pid never slept in a futex wait")
        sleep(0.005)
    end
end

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

end # testset IpcShm
