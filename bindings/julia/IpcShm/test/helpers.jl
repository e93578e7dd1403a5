# Helpers of all test files: the child process, unique names, test values, futex sleepers.

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
