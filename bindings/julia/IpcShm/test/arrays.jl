# Tests of typed arrays (WrappedArray) read by another process, and of wrapped bytes.

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
