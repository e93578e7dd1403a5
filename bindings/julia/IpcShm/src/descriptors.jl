# Objects as descriptors: shmfd, and sending objects over UNIX-domain sockets
# (shmsend, shmrecv), Julia's own sockets included.

# The descriptor number of a RawFD, an integer, a Julia socket or stream, or an
# object with a `fd` method. Julia's UNIX-domain sockets (`Sockets.connect(path)`,
# `accept(server)`) are `Base.PipeEndpoint`s, libuv streams: `fd` has methods for
# them only from Julia 1.12 on, so their descriptor comes from `Base._fd`, which
# every Julia 1.x has (RawFD(-1) once the stream is closed).
rawfd(fd::RawFD) = Base.cconvert(Cint, fd)
rawfd(fd::Integer) = Cint(fd)
function rawfd(io::Union{Base.LibuvStream,Base.LibuvServer})
    fd = rawfd(Base._fd(io))
    fd >= 0 || throw(IpcShmError(Libc.EBADF, "$(typeof(io)) has no descriptor (closed?)"))
    return fd
end
rawfd(io) = rawfd(fd(io))

# Waits until `fd` can be read or written, without blocking Julia's other tasks.
# Julia's sockets are non-blocking: ipcshm_send and ipcshm_recv then say EAGAIN.
function wait_fd(fd::Cint; readable::Bool=false, writable::Bool=false)
    try
        FileWatching.poll_fd(RawFD(fd), 1.0; readable=readable, writable=writable)
    catch err
        err isa InterruptException && rethrow()
        # libuv may refuse a second watcher of a descriptor it already watches
        # (a stream that is reading): poll by time instead.
        sleep(0.001)
    end
    return nothing
end

"""
    shmfd(shm) -> RawFD

a new close-on-exec descriptor of the object (POSIX or memfd; read-only if `shm`
is), which the caller closes (e.g. `close(Base.Filesystem.File(fd))`). Another
process maps it with `SharedMemory(fd)`. System V segments have none: pass their
`ShmId`.
"""
shmfd(shm::SharedMemory) =
    RawFD(check(ccall((:ipcshm_fd, libipcshm), Cint, (Ptr{Cvoid},), handle(shm))))

"""
    shmsend(sock, shm)

sends the object of `shm` (or of a `WrappedArray` in shared memory) over the
connected UNIX-domain socket `sock` as a descriptor (SCM_RIGHTS); the peer maps it
with `shmrecv` (or `ipcshm_recv` in any language). `sock` is a Julia socket
(`Sockets.connect(path)`, `accept(server)`), a `RawFD`, an integer descriptor or
any object with a `fd` method. `shm` stays mapped here.
"""
function shmsend(sock, shm::SharedMemory)
    fd = rawfd(sock)
    while true
        rc = ccall((:ipcshm_send, libipcshm), Cint, (Cint, Ptr{Cvoid}), fd, handle(shm))
        if rc != -Libc.EAGAIN
            check(rc)
            return nothing
        end
        wait_fd(fd; writable=true)
    end
end

"""
    shmrecv(sock; readonly=false) -> SharedMemory

receives one object sent by `shmsend` (or `ipcshm_send` in any language) on
`sock` (as for `shmsend`) and maps it. A blocking descriptor blocks; on Julia's
own sockets, which are non-blocking, the task waits and others run. Do not read
from a Julia socket that carries objects (`read`, `eof`, `readline`): its
buffering would take the message and drop the descriptor. The message is consumed
even if mapping fails (a read-only object received without `readonly=true`).
"""
function shmrecv(sock; readonly::Bool=false)
    fd = rawfd(sock)
    flags = readonly ? READONLY : UInt32(0)
    ref = Ref{Ptr{Cvoid}}(C_NULL)
    while true
        rc = ccall((:ipcshm_recv, libipcshm), Cint, (Cint, UInt32, Ptr{Ptr{Cvoid}}),
                   fd, flags, ref)
        if rc != -Libc.EAGAIN
            check(rc)
            return wrap_handle(ref[])
        end
        wait_fd(fd; readable=true)
    end
end
