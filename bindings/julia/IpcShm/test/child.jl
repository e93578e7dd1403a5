# The other process of runtests.jl: one command a run, results on stdout.
#   child.jl libpath                 the library the module loaded
#   child.jl bytes ID N              the first N bytes of object ID, in hex
#   child.jl arrays ID...            each typed array: eltype, size, elements
#   child.jl hold ID                 attach ID, say "attached", wait for a line
#   child.jl recv PATH               connect to a UNIX socket, receive an object
#   child.jl post ID OFF N           post N units to the Semaphore at OFF of ID
#   child.jl semwait ID OFF          say "waiting", wait for a unit, say "took N"
#   child.jl notify ID OFF           notify the IPC.Event at OFF of ID
#   child.jl eventwait ID OFF        say "waiting SEQ", wait for a notify, say "woke SEQ"
#   child.jl lockhold ID OFF         lock the IPC.Mutex at OFF of ID, say "held", wait
#                                    for a line, then end holding it (or be killed)
using IpcShm
using Sockets

# "key:..." and "shmid:N" ids name System V objects; IPC.jl's types say it here.
function object_id(text::AbstractString)
    startswith(text, "shmid:") && return ShmId(parse(Int32, text[7:end]))
    startswith(text, "key:") && return IPC.Key(parse(UInt32, text[5:end]))
    return text
end

hexbytes(ptr::Ptr, n::Integer) =
    join((string(unsafe_load(Ptr{UInt8}(ptr), i); base=16, pad=2) for i in 1:n))

describe(A::AbstractArray) = string(eltype(A), " ", size(A), " ", join(vec(A), ","))

function main(args)
    command = args[1]
    if command == "libpath"
        println(IpcShm.libipcshm_path)
    elseif command == "bytes"
        shm = SharedMemory(object_id(args[2]); readonly=true)
        println(hexbytes(pointer(shm), parse(Int, args[3])))
        close(shm)
    elseif command == "arrays"
        for id in args[2:end]
            A = WrappedArray(object_id(id); readonly=true)
            println(describe(A))
            close(A)
        end
    elseif command == "hold"
        shm = SharedMemory(object_id(args[2]))
        println("attached")
        flush(stdout)
        readline(stdin)
        close(shm)
    elseif command == "recv"
        sock = connect(args[2])
        shm = shmrecv(sock)
        println(idstring(shm), " ", sizeof(shm), " ", hexbytes(pointer(shm), 8))
        close(shm)
        close(sock)
    elseif command == "post"
        shm = SharedMemory(object_id(args[2]))
        sem = Semaphore(shm; offset=parse(Int, args[3]))
        n = parse(Int, args[4])
        for _ in 1:n
            post(sem)
        end
        println("posted ", n)
        close(shm)
    elseif command == "semwait"
        # Ctrl-C (SIGINT) becomes an InterruptException, not the end of the process.
        Base.exit_on_sigint(false)
        shm = SharedMemory(object_id(args[2]))
        sem = Semaphore(shm; offset=parse(Int, args[3]))
        println("waiting")
        flush(stdout)
        try
            wait(sem)
            println("took ", sem[])
        catch err
            err isa InterruptException || rethrow()
            println("interrupted")
        end
        close(shm)
    elseif command == "notify"
        shm = SharedMemory(object_id(args[2]))
        notify(IPC.Event(shm, parse(Int, args[3])))
        close(shm)
    elseif command == "eventwait"
        shm = SharedMemory(object_id(args[2]))
        ev = IPC.Event(shm, parse(Int, args[3]))
        seen = IPC.sequence(ev)
        println("waiting ", seen)
        flush(stdout)
        println("woke ", wait(ev, seen))
        close(shm)
    elseif command == "lockhold"
        shm = SharedMemory(object_id(args[2]))
        m = IPC.Mutex(shm, parse(Int, args[3]))
        lock(m)
        println("held")
        flush(stdout)
        readline(stdin)
        exit(0)                                  # holding it
    else
        error("unknown command $command")
    end
end

main(ARGS)
