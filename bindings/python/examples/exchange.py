"""The Python side of the cross-language exchange: attaches by id, checks the
pattern, leaves its mark in the given slot.   usage: exchange.py ID SLOT"""
import os
import sys

import ipcshm

shm_id, slot = sys.argv[1], int(sys.argv[2])
with ipcshm.SharedMemory(shm_id) as shm:
    expected = bytes((i * 7 + 3) & 0xFF for i in range(256))
    if bytes(shm.buf[:256]) != expected:
        sys.exit("python: the pattern differs")
    greeting = bytes(shm.buf[256:384]).split(b"\0")[0].decode()
    print(f'python: attached {shm.id}, pattern ok, greeting "{greeting}"', file=sys.stderr)
    mark = f"python pid {os.getpid()} was here".encode() + b"\0"
    at = 1024 + 64 * slot
    shm.buf[at:at + len(mark)] = mark
