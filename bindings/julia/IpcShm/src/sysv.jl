# Low-level System V shared memory with IPC.jl's names: shmget, shmat, shmdt,
# shmctl. No lifetime management here: the caller decides, as with the syscalls.

# sizeof(struct shmid_ds) and the page size of this machine, as IPC.jl's
# IPC._sizeof_struct_shmid_ds and IPC.PAGE_SIZE; set by __init__ from the library.
_sizeof_struct_shmid_ds = 0
PAGE_SIZE = 0

"""
    shmget(key, siz, flg) -> ShmId

the identifier of the System V segment of `key` (an `IPC.Key` or an integer). A
new segment of `siz` bytes is created if `key` is `IPC.PRIVATE`, or if `flg` has
`IPC.IPC_CREAT` and no segment has this key (with `IPC.IPC_EXCL` too, an existing
one is an error). The low 9 bits of `flg` are the permissions of a new segment.
"""
function shmget(key::Union{Key,Integer}, siz::Integer, flg::Integer)
    siz >= 0 || throw(ArgumentError("bad number of bytes ($siz)"))
    id = Ref{Int32}(-1)
    check(ccall((:ipcshm_sysv_get, libipcshm), Cint, (Int32, UInt64, Int32, Ref{Int32}),
                Key(key).value, siz, flg, id))
    return ShmId(id[])
end

"""
    shmat(id, readonly) -> Ptr{Cvoid}

attaches the System V segment `id` (a `ShmId`) to this process, read-only if
`readonly` (which needs only read permission), and returns its address. Detach it
with `shmdt`.
"""
function shmat(id::ShmId, readonly::Bool)
    ptr = Ref{Ptr{Cvoid}}(C_NULL)
    check(ccall((:ipcshm_sysv_attach, libipcshm), Cint, (Int32, Cint, Ref{Ptr{Cvoid}}),
                id.value, readonly, ptr))
    return ptr[]
end

"""
    shmdt(ptr)

detaches the System V segment that `shmat` attached at `ptr`.
"""
shmdt(ptr::Ptr) =
    (check(ccall((:ipcshm_sysv_detach, libipcshm), Cint, (Ptr{Cvoid},), ptr)); nothing)

"""
    shmctl(id, cmd, buf)

performs the control operation `cmd` (`IPC.IPC_STAT`, `IPC.IPC_SET`,
`IPC.IPC_RMID`, `IPC.SHM_LOCK`, ...) on the System V segment `id`. `buf` is an
array of at least `IPC._sizeof_struct_shmid_ds` bytes (a `struct shmid_ds`; for
`IPC.IPC_INFO`, a `struct shminfo`). `IPC.unsafe_shmctl(id, cmd, ptr)` takes a
pointer (or `C_NULL` for commands without a buffer) and checks less.
"""
function shmctl(id::ShmId, cmd::Integer, buf::DenseVector)
    isconcretetype(eltype(buf)) ||
        throw(ArgumentError("buffer entries must have concrete type"))
    sizeof(buf) >= _sizeof_struct_shmid_ds ||
        throw(ArgumentError("buffer must have at least $(_sizeof_struct_shmid_ds) bytes"))
    return ctl(id, cmd, buf, sizeof(buf))
end

unsafe_shmctl(id::ShmId, cmd::Integer, buf::DenseVector) = ctl(id, cmd, buf, sizeof(buf))
unsafe_shmctl(id::ShmId, cmd::Integer, buf) =
    ctl(id, cmd, buf, buf == C_NULL ? 0 : _sizeof_struct_shmid_ds)

# shmctl's result (0, or an index for SHM_STAT and the *_INFO commands).
ctl(id::ShmId, cmd::Integer, buf, bufsize::Integer) =
    check(ccall((:ipcshm_sysv_ctl, libipcshm), Cint, (Int32, Int32, Ptr{Cvoid}, UInt64),
                id.value, cmd, buf, bufsize))

"""
    sizeof(id::ShmId)

the size in bytes of the System V segment `id`, as IPC.jl's.
"""
Base.sizeof(id::ShmId) = Int(shminfo(id).segsz)
