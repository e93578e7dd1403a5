# Tests of System V shared memory: keys, ShmId, IPC.PRIVATE, ftok, shmget..shmctl, ShmInfo.

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
