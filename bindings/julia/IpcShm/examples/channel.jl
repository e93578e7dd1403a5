# Frames from one process to another through a ShmChannel, without a copy on
# either side: the producer renders each frame straight into a slot of the
# channel (put! with a function: reserve, then commit), the consumer reads it
# in that slot (take! with a function: peek, then release). The consumer
# could as well be a C, C++, Python or Rust program on libipcshm: the frames
# are 100×150 Float64 arrays in column-major order, one message each.
#
# usage: julia --project=bindings/julia/IpcShm channel.jl [COUNT]
#        (the producer; it starts the consumer, `channel.jl consume ID`)
using IpcShm

const ROWS = 100
const COLS = 150

function produce(count)
    # 4 slots of one frame each, in a new volatile object: it goes away once
    # both ends are closed, or their processes died.
    ch = ShmChannel("/frames-XXXXXX", :sender, sizeof(Float64) * ROWS * COLS, 4)
    cmd = `$(Base.julia_cmd()) --startup-file=no --project=$(Base.active_project()) $(@__FILE__) consume $(idstring(ch))`
    consumer = open(cmd, "r")
    for k in 1:count
        # Waits while the 4 slots are full; the frame is sent when f returns.
        put!(ch, Float64, ROWS, COLS) do frame
            fill!(frame, k)
        end
    end
    # A volatile channel whose creator closes before a peer ever opened is
    # gone: with fewer frames than slots, let the consumer open its end first.
    while ChannelInfo(ch).receiver == :never && process_running(consumer)
        sleep(0.01)
    end
    close(ch)                  # the consumer takes what is left, then sees the end
    print(read(consumer, String))
    wait(consumer)
    println("producer: sent $count frames of $(ROWS)×$(COLS)")
    return success(consumer)
end

function consume(id)
    ch = ShmChannel(id, :receiver)
    frames = 0
    total = 0.0
    while true
        try
            # The frame in its slot, released to the producer when f returns.
            total += take!(frame -> sum(frame), ch, Float64, ROWS, COLS)
        catch err
            err isa BrokenPipeError || rethrow()
            break              # the producer closed, and every frame was taken
        end
        frames += 1
    end
    close(ch)
    println("consumer: $frames frames, total $(round(Int, total))")
    return true
end

if length(ARGS) == 2 && ARGS[1] == "consume"
    exit(consume(ARGS[2]) ? 0 : 1)
else
    exit(produce(isempty(ARGS) ? 100 : parse(Int, ARGS[1])) ? 0 : 1)
end
