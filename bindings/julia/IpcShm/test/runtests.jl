# Tests of IpcShm (Pkg.test("IpcShm")): the IPC.jl shared-memory API over
# libipcshm, with other Julia processes (test/child.jl) seeing what this one made.
# The library is this machine's libipcshm.so.1, or ENV["IPCSHM_LIBRARY"].
using Test
using Sockets
using IpcShm

# Helpers first; then the tests, one file per concern.
include("helpers.jl")

@testset "IpcShm" begin

include("objects.jl")
include("sysv.jl")
include("arrays.jl")
include("signalling.jl")
include("channels.jl")

end # testset IpcShm
