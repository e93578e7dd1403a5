# Tests of loading the library, POSIX objects and their lifetimes, sockets, and errors.

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
