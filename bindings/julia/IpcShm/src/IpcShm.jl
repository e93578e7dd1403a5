"""
    IpcShm

Shared memory for Julia through libipcshm, with the shared-memory API of
InterProcessCommunication.jl (IPC.jl) name for name: `SharedMemory`, `ShmId`,
`IPC.Key`, `IPC.PRIVATE`, `shmget`, `shmat`, `shmdt`, `shmctl`, `shmcfg`,
`shminfo`, `shminfo!`, `ShmInfo`, `shmid`, `shmrm`, `WrappedArray`, `ShmArray`,
and `IPC` as a short name of the module. Objects made here are the same objects
that C, C++, Python and Rust programs using libipcshm see, with libipcshm's
crash-safe lifetimes: a volatile object lives while any process uses it.

More than IPC.jl: `"memfd:label"` objects and descriptors (`shmfd`,
`SharedMemory(fd::RawFD)`), objects sent over UNIX-domain sockets (`shmsend`,
`shmrecv`, Julia's sockets included), `resize!`, huge pages, and typed arrays
whose "WA-1" header (IPC.jl's) libipcshm writes and checks. Since 1.2,
signalling inside shared memory between processes of any language: `Semaphore`
(IPC.jl's `post`, `wait`, `timedwait`, `trywait`, `sem[]`), `IPC.Event`
(`notify`, `wait`, `IPC.sequence`, `IpcShm.EventWatcher`) and `IPC.Mutex`, a
robust lock (`lock`, `unlock`, `trylock`, `timedlock`, `OwnerDeadError`,
`consistent`).

The library is loaded when the module loads (`__init__`): from
`ENV["IPCSHM_LIBRARY"]` if set, else by its SONAME `libipcshm.so.1`.
"""
module IpcShm

import Libdl
import FileWatching

export IPC, SharedMemory, ShmId, ShmInfo, ShmArray, ShmVector, ShmMatrix,
       WrappedArray, shmat, shmcfg, shmctl, shmdt, shmget, shmid, shminfo,
       shminfo!, shmrm,
       IpcShmError, idstring, shmfd, shmsend, shmrecv,
       Semaphore, post, trywait, timedlock, TimeoutError, OwnerDeadError, consistent

"""
`IPC` is this module, as IPC.jl's `IPC` is InterProcessCommunication: code that
says `IPC.Key(path, 'a')`, `IPC.PRIVATE` or `IPC.IPC_CREAT` runs unchanged.
"""
const IPC = IpcShm

include("library.jl")
include("constants.jl")
include("keys.jl")
include("info.jl")
include("shm.jl")
include("sysv.jl")
include("descriptors.jl")
include("arrays.jl")
include("primitives.jl")
include("events.jl")
include("semaphores.jl")
include("mutexes.jl")

function __init__()
    path = get(ENV, "IPCSHM_LIBRARY", "")
    load_library(isempty(path) ? libipcshm : path)
    global PAGE_SIZE = page_size()
    global _sizeof_struct_shmid_ds =
        Int(ccall((:ipcshm_sysv_shmid_ds_size, libipcshm), UInt64, ()))
    return nothing
end

end # module
