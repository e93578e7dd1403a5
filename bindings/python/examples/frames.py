"""Frames through channels between languages: the Python end of the frames
stream that examples/frames.c (C) and bindings/rust/ipcshm/examples/channel.rs
(Rust) send and receive.

A frame is its number n (8 bytes, little-endian), then frame_len(n) - 8 bytes
of n % 256, where frame_len(n) is 8 + a pseudo-random 0..1015 drawn from n
(splitmix64): lengths vary from frame to frame, and every byte is checked.

usage: frames.py consume          receives from the channel whose object is
                                  its standard input, until the sender is gone
       frames.py COUNT RECEIVER...  sends COUNT frames to each RECEIVER (a
                                  shell command, started with the channel's
                                  object as its standard input)
"""
import os
import subprocess
import sys

import ipcshm

SLOT_SIZE, SLOTS = 1024, 64
MASK = (1 << 64) - 1


def frame_len(n):
    z = (n + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return 8 + (z ^ (z >> 31)) % 1016


def frame(n):
    return n.to_bytes(8, "little") + bytes([n & 0xFF]) * (frame_len(n) - 8)


def consume():
    frames = nbytes = 0
    with ipcshm.Channel.from_fd(0, "receiver") as rx:
        for msg in rx:                   # until the sender is gone
            if msg != frame(frames):
                print("python receiver: frame %d is wrong" % frames, file=sys.stderr)
                return 1
            frames += 1
            nbytes += len(msg)
    print("python receiver: %d frames, %d bytes" % (frames, nbytes))
    return 0


def produce(count, receivers):
    ends, children = [], []
    for cmd in receivers:
        tx = ipcshm.Channel("memfd:frames", "sender", create=True,
                            slot_size=SLOT_SIZE, slot_count=SLOTS)
        fd = tx.object_fd()
        children.append(subprocess.Popen(cmd, shell=True, stdin=fd))
        os.close(fd)
        ends.append(tx)
    nbytes = 0
    for n in range(count):
        msg = frame(n)
        for tx in ends:
            tx.send_bytes(msg)
        nbytes += len(msg) * len(ends)
    for tx in ends:
        tx.close()                       # each receiver gets the rest, then the end
    failed = sum(child.wait() != 0 for child in children)
    if failed:
        print("python sender: %d receiver(s) failed" % failed, file=sys.stderr)
        return 1
    print("python sender: %d frames to each of %d receivers, %d bytes in all"
          % (count, len(ends), nbytes))
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["consume"]:
        sys.exit(consume())
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(produce(int(sys.argv[1]), sys.argv[2:]))
