# Tests of ShmChannel: one process, Julia processes, sockets, the C peer, the example.

# The messages of the C peer (tests/channel_msg.h): message `seq` of the stream
# `seed` has a length and bytes that derive from both, so a torn or misplaced
# message cannot pass.
function chmsg_mix(x::UInt64)
    x += 0x9e3779b97f4a7c15
    x = (x ⊻ (x >> 30)) * 0xbf58476d1ce4e5b9
    x = (x ⊻ (x >> 27)) * 0x94d049bb133111eb
    return x ⊻ (x >> 31)
end
chmsg_len(seed::UInt64, seq::UInt64, max_len::Integer) =
    16 + Int(chmsg_mix(seed * UInt64(31) + seq) % UInt64(max_len - 16 + 1))
function chmsg(seed::UInt64, seq::UInt64, max_len::Integer)
    len = chmsg_len(seed, seq, max_len)
    p = zeros(UInt8, len)
    x = chmsg_mix(seed ⊻ (seq << 20) ⊻ UInt64(0x5bd1e995))
    for i in 16:len-1
        (i & 7) == 0 && (x = chmsg_mix(x))
        p[i+1] = (x >> ((i & 7) * 8)) % UInt8
    end
    h = UInt32(2166136261)
    for i in 17:len
        h = (h ⊻ p[i]) * UInt32(16777619)
    end
    p[1:8] = reinterpret(UInt8, [htol(seq)])
    p[9:12] = reinterpret(UInt8, [htol(UInt32(len))])
    p[13:16] = reinterpret(UInt8, [htol(h)])
    return p
end

# The C peer (tests/channel_peer.c) when the test command gives it
# (IPCSHM_CHANNEL_PEER); those tests are skipped otherwise.
const CHANNEL_PEER = get(ENV, "IPCSHM_CHANNEL_PEER", "")

@testset "ShmChannel in one process: messages, shapes, errors" begin
    tx = ShmChannel("/ipcshm-jl-chan-XXXXXX", :sender, 256, 4)
    name = idstring(tx)
    @test startswith(name, "/ipcshm-jl-chan-") && !endswith(name, "XXXXXX")
    @test shmid(tx) == name && tx.created && isopen(tx)
    @test tx.slot_size == 256 && tx.slot_count == 4
    @test occursin("slot_size=256", sprint(show, tx))
    rx = ShmChannel(name, :receiver)
    @test !rx.created && rx.slot_size == 256
    err = try ShmChannel(name, :receiver) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EBUSY
    info = ChannelInfo(name)
    @test info.sender == :open && info.receiver == :open && info.queued == 0
    @test info.slot_size == 256 && info.slot_count == 4 && info.kind == IpcShm.KIND_POSIX
    @test !isready(rx)

    # Bytes and strings, in order.
    @test put!(tx, UInt8[1, 2, 3]) == UInt8[1, 2, 3]
    put!(tx, "héllo")
    put!(tx, UInt8[])
    @test isready(rx) && ChannelInfo(rx).queued == 3
    @test take!(rx) == UInt8[1, 2, 3]
    @test String(take!(rx)) == "héllo"
    @test take!(rx) == UInt8[]
    @test ChannelInfo(tx).sent == 3 && ChannelInfo(tx).received == 3

    # isbits arrays: contiguous, a view, written in place; read back as arrays.
    M = reshape(collect(1.0:12.0), 3, 4)
    put!(tx, M)
    @test take!(rx, Float64, 3, 4) == M
    put!(tx, view(M, 2, :))                      # strided: written into the slot
    @test take!(rx, Float64) == M[2, :]
    put!(tx, Int32, 2, 3) do A
        @test A isa Matrix{Int32} && size(A) == (2, 3)
        A .= reshape(Int32(1):Int32(6), 2, 3)
    end
    @test take!(rx, Int32, (2, 3)) == reshape(Int32(1):Int32(6), 2, 3)
    put!(tx, 5) do buf
        buf .= 0x07
    end
    @test take!(rx) == fill(0x07, 5)

    # In place on the receiving side: the slot itself, valid inside f only.
    put!(tx, ComplexF64[1 + 2im, 3 - 4im])
    @test take!(A -> sum(A), rx, ComplexF64) == 4 - 2im
    put!(tx, UInt8[9, 8, 7])
    @test take!(m -> copy(m), rx) == UInt8[9, 8, 7]
    put!(tx, UInt8[1])
    @test_throws ArgumentError take!(m -> m, rx)       # the slot would escape
    @test !isready(rx)                                  # (released all the same)
    put!(tx, Int16[1, 2, 3, 4])
    @test_throws ArgumentError take!(A -> view(A, 1:2), rx, Int16, 2, 2)

    # A message of the wrong shape stays in the channel.
    put!(tx, Float64[1, 2, 3])
    err = try take!(rx, Float64, 2, 2) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EMSGSIZE
    err = try take!(rx, Int64, 5) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EMSGSIZE
    small = zeros(UInt8, 8)
    err = try IpcShm.recv!(rx, small) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EMSGSIZE
    buf = zeros(Float64, 32)
    @test IpcShm.recv!(rx, buf) == 24 && buf[1:3] == [1.0, 2.0, 3.0]
    put!(tx, UInt8[0xff, 0x00])
    @test IpcShm.recv!(rx, small) == 2 && small[1:2] == [0xff, 0x00]
    put!(tx, "odd")
    @test_throws IpcShmError take!(rx, Int16)           # 3 bytes: no whole Int16s
    @test String(take!(rx)) == "odd"

    # Too long, not bits, a failing writer.
    err = try put!(tx, zeros(UInt8, 257)) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EMSGSIZE
    err = try put!(identity, tx, Float64, 33) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EMSGSIZE
    @test_throws ArgumentError put!(tx, ["not", "bits"])
    @test_throws ArgumentError put!(tx, 42)
    @test_throws ArgumentError put!(identity, tx, Float64)
    @test_throws ErrorException put!(A -> error("no"), tx, UInt8, 4)
    @test !isready(rx)                                  # nothing was sent
    put!(tx, "after")                                   # into the slot reserved
    @test String(take!(rx)) == "after"

    # Timeouts: empty, then full.
    t0 = time()
    @test_throws TimeoutError take!(rx; timeout=0.05)
    @test time() - t0 >= 0.05
    @test_throws TimeoutError take!(rx; timeout=0)
    for k in 1:4
        put!(tx, "fill $k"; timeout=0)
    end
    @test_throws TimeoutError put!(tx, "fifth"; timeout=0.05)
    @test_throws TimeoutError put!(tx, "fifth"; timeout=0)
    @test ChannelInfo(rx).queued == 4
    # The wrong end for the call.
    err = try take!(tx) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EBADF
    @test_throws ArgumentError ShmChannel(name, :both)

    # The sender closes: the receiver gets what was sent, then the end of it.
    close(tx)
    @test !isopen(tx) && occursin("closed", sprint(show, tx))
    close(tx)                                           # twice: no error
    @test ChannelInfo(rx).sender == :closed
    @test [String(m) for m in rx] == ["fill 1", "fill 2", "fill 3", "fill 4"]
    err = try take!(rx) catch e e end
    @test err isa BrokenPipeError && occursin(name, err.msg)
    @test occursin("BrokenPipeError", sprint(showerror, err))
    # A new sender takes the role; the receiver closes: put! is a broken pipe.
    tx = ShmChannel(name, :sender)
    put!(tx, "again")
    @test String(take!(rx)) == "again"
    close(rx)
    err = try put!(tx, "nobody"; timeout=1) catch e e end
    @test err isa BrokenPipeError
    err = try take!(rx) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EBADF
    @test iterate(rx) === nothing
    close(tx)
    err = try ChannelInfo(name) catch e e end      # volatile: gone with both ends
    @test err isa IpcShmError && err.errno == Libc.ENOENT
end

@testset "ShmChannel: ids that are no channel" begin
    err = try ShmChannel(IpcShm.id_string(random_key()), :sender, 64, 4) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EOPNOTSUPP
    err = try ShmChannel(unique_name("absent"), :receiver) catch e e end
    @test err isa IpcShmError && err.errno == Libc.ENOENT
    shm = SharedMemory("/ipcshm-jl-notchan-XXXXXX", 4096)
    err = try ShmChannel(shmid(shm), :receiver) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EBADMSG
    err = try ChannelInfo(shmid(shm)) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EBADMSG
    close(shm)
    @test_throws ArgumentError ShmChannel("/ipcshm-jl-XXXXXX", :sender, 0, 4)
    @test_throws ArgumentError ShmChannel("/ipcshm-jl-XXXXXX", :sender, 64, 0)
    err = try ShmChannel("/ipcshm-jl-XXXXXX", :sender, 64, 2^31) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EINVAL
end

@testset "ShmChannel between Julia processes" begin
    rx = ShmChannel("/ipcshm-jl-chan-XXXXXX", :receiver, 64, 8)
    name = idstring(rx)
    sender = open(child_cmd("chsend", name, 1000), "r")
    @test readline(sender) == "ready"
    got = [String(m) for m in rx]                   # until the sender closed
    @test got == ["message $k" for k in 1:1000]
    wait(sender)
    @test success(sender)
    close(rx)

    tx = ShmChannel("/ipcshm-jl-chan-XXXXXX", :sender, 64, 4)
    name = idstring(tx)
    receiver = open(child_cmd("chrecv", name), "r")
    @test readline(receiver) == "ready"
    for k in 1:500
        put!(tx, "to the child $k")
    end
    close(tx)
    lines = readlines(receiver)
    wait(receiver)
    @test success(receiver)
    @test lines == vcat(["to the child $k" for k in 1:500], ["end 500"])

    # A live receiver elsewhere holds the role; killed, it frees it.
    tx = ShmChannel("/ipcshm-jl-chan-XXXXXX", :sender, 64, 4)
    name = idstring(tx)
    holder = open(child_cmd("chhold", name, "receiver"), "r+")
    @test readline(holder) == "held"
    err = try ShmChannel(name, :receiver) catch e e end
    @test err isa IpcShmError && err.errno == Libc.EBUSY
    put!(tx, "kept for the next receiver")
    kill(holder, 9)
    wait(holder)
    t0 = time()
    err = try
        for k in 1:10                              # fills the slots, then waits
            put!(tx, "more $k"; timeout=10)
        end
    catch e
        e
    end
    @test err isa BrokenPipeError
    @test time() - t0 < 5                          # seen by the waiting sender
    @test ChannelInfo(tx).receiver == :died
    rx = ShmChannel(name, :receiver)
    @test String(take!(rx)) == "kept for the next receiver"
    close(rx)
    close(tx)

    # Ctrl-C ends a take! that waits.
    tx = ShmChannel("/ipcshm-jl-chan-XXXXXX", :sender, 64, 4)
    name = idstring(tx)
    taker = open(child_cmd("chtake", name), "r")
    @test readline(taker) == "waiting"
    wait_until_sleeping(getpid(taker))
    kill(taker, 2)                                 # SIGINT
    @test readline(taker) == "interrupted"
    wait(taker)
    @test success(taker)
    taker = open(child_cmd("chtake", name), "r")   # the role is free again
    @test readline(taker) == "waiting"
    put!(tx, "hello")
    @test readline(taker) == "took hello"
    wait(taker)
    @test success(taker)
    close(tx)
end

@testset "a memfd ShmChannel over a UNIX-domain socket" begin
    path = joinpath(mktempdir(), "sock")
    server = listen(path)
    receiver = open(child_cmd("chrecvfd", path), "r")
    sock = accept(server)
    tx = ShmChannel("memfd:ipcshm-jl-chan", :sender, 128, 4)
    @test idstring(tx) == "memfd:ipcshm-jl-chan"
    @test ChannelInfo(tx).kind == IpcShm.KIND_MEMFD
    shmsend(sock, tx)
    @test readline(receiver) == "ready"
    for k in 1:20
        put!(tx, "memfd $k")
    end
    close(tx)
    lines = readlines(receiver)
    wait(receiver)
    @test success(receiver)
    @test lines == vcat(["memfd $k" for k in 1:20], ["end 20"])
    close(sock)
    close(server)
end

@testset "ShmChannel: wait and fd let other tasks run" begin
    rx = ShmChannel("/ipcshm-jl-chan-XXXXXX", :receiver, 64, 2)
    name = idstring(rx)
    @test fd(rx) isa RawFD && fd(rx) == fd(rx)      # one descriptor, the end's
    @test_throws TimeoutError wait(rx; timeout=0.05)
    task = @async (wait(rx); String(take!(rx; timeout=0)))
    sleep(0.05)
    @test !istaskdone(task)                        # this task ran meanwhile
    sender = open(child_cmd("chsend", name, 3), "r")
    @test readline(sender) == "ready"
    @test fetch(task) == "message 1"
    wait(sender)
    @test [String(m) for m in rx] == ["message 2", "message 3"]
    wait(rx; timeout=1)                            # the sender has gone: no wait
    close(rx)
    @test_throws IpcShmError fd(rx)

    # A sender waits for room the same way.
    tx = ShmChannel("/ipcshm-jl-chan-XXXXXX", :sender, 64, 1)
    put!(tx, "one")
    @test_throws TimeoutError wait(tx; timeout=0.05)
    rx = ShmChannel(idstring(tx), :receiver)
    task = @async (wait(tx); put!(tx, "two"; timeout=0); :sent)
    @test String(take!(rx)) == "one"
    @test fetch(task) == :sent
    @test String(take!(rx; timeout=5)) == "two"
    close(rx)
    close(tx)
end

if isempty(CHANNEL_PEER)
    @info "IPCSHM_CHANNEL_PEER is not set: the tests against the C peer " *
          "(tests/channel_peer.c, which meson builds and names) are skipped"
else
@testset "ShmChannel with a C peer: order, content, crashes" begin
    seed = rand(UInt64) >> 1
    # C sends, every third message through reserve/commit; Julia takes them in
    # turn with take!, take!(f) on the slot, and recv! into a buffer.
    rx = ShmChannel("/ipcshm-jl-cpeer-XXXXXX", :receiver, 512, 8)
    peer = open(`$CHANNEL_PEER send $(idstring(rx)) 3000 $seed 512 --zero-copy-every 3`, "r")
    @test readline(peer) == "ready"
    buf = zeros(UInt8, 512)
    bad = 0
    n = 0
    while true
        want = chmsg(seed, UInt64(n), 512)
        got = try
            if n % 3 == 0
                take!(rx)
            elseif n % 3 == 1
                take!(m -> copy(m), rx)
            else
                buf[1:IpcShm.recv!(rx, buf)]
            end
        catch err
            err isa BrokenPipeError || rethrow()
            break
        end
        bad += got != want
        n += 1
    end
    @test n == 3000 && bad == 0
    wait(peer)
    @test success(peer)
    close(rx)

    # Julia sends, alternately copied and written in place; C checks each.
    tx = ShmChannel("/ipcshm-jl-cpeer-XXXXXX", :sender, 512, 8)
    peer = open(`$CHANNEL_PEER recv $(idstring(tx)) 3000 $seed 512 --peek-every 2`, "r")
    @test readline(peer) == "ready"
    for k in 0:2999
        msg = chmsg(seed, UInt64(k), 512)
        if isodd(k)
            put!(slot -> copyto!(slot, msg), tx, length(msg))
        else
            put!(tx, msg)
        end
    end
    close(tx)
    @test strip(read(peer, String)) == "received 3000"
    wait(peer)
    @test success(peer)

    # The C sender killed at a random moment, also halfway through a zero-copy
    # write: every message committed arrives whole, then the end of the stream.
    counter = SharedMemory("/ipcshm-jl-counter-XXXXXX", 4096)
    rx = ShmChannel("/ipcshm-jl-cpeer-XXXXXX", :receiver, 256, 4)
    peer = open(`$CHANNEL_PEER send $(idstring(rx)) 0 $seed 256 --zero-copy-every 2 --pause-us 200 --counter $(shmid(counter))`, "r")
    @test readline(peer) == "ready"
    n = 0
    bad = 0
    kill_at = rand(200:400)
    killed_at = 0.0
    for msg in rx
        bad += msg != chmsg(seed, UInt64(n), 256)
        n += 1
        if n == kill_at
            kill(peer, 9)
            killed_at = time()
        end
    end
    ended = time() - killed_at
    wait(peer)
    committed = Int(unsafe_load(Ptr{UInt64}(pointer(counter))))
    @test bad == 0
    @test n in (committed, committed + 1)     # the count follows each commit
    @test ended < 5                           # (the library: within 0.1 s)
    @test ChannelInfo(rx).sender == :died
    close(rx)
    close(counter)
end
end

@testset "the channel example runs in two processes" begin
    example = joinpath(@__DIR__, "..", "examples", "channel.jl")
    out = read(`$(Base.julia_cmd()) --startup-file=no --project=$(Base.active_project()) $example 50`,
               String)
    @test out == "consumer: 50 frames, total 19125000\nproducer: sent 50 frames of 100×150\n"
end
