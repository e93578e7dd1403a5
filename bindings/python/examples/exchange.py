"""The Python side of the cross-language exchange: attaches by id, checks the
pattern, leaves its mark in the given slot; attaches the typed array, checks it
and sets a[slot, 1] = 100 + slot; with SOCK (an inherited UNIX-domain socket),
receives C's memfd object over it and leaves a mark in it too.
usage: exchange.py ID SLOT ARRAY_ID [SOCK]"""
import os
import socket
import sys

import ipcshm

if len(sys.argv) not in (4, 5):
    sys.exit("usage: exchange.py ID SLOT ARRAY_ID [SOCK]")
shm_id, slot, array_id = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with ipcshm.SharedMemory(shm_id) as shm:
    expected = bytes((i * 7 + 3) & 0xFF for i in range(256))
    if bytes(shm.buf[:256]) != expected:
        sys.exit("python: the pattern differs")
    greeting = bytes(shm.buf[256:384]).split(b"\0")[0].decode()
    print(f'python: attached {shm.id}, pattern ok, greeting "{greeting}"', file=sys.stderr)
    mark = f"python pid {os.getpid()} was here".encode() + b"\0"
    at = 1024 + 64 * slot
    shm.buf[at:at + len(mark)] = mark


def array_round():
    import numpy as np      # the typed-array API needs it; the byte round above does not
    # A zero-copy numpy array over the mapping, column-major (order='F'); the
    # mapping is detached when the array and its views are gone.
    a = ipcshm.array(array_id)
    if a.dtype != np.float64 or a.shape != (3, 2) or not a.flags.f_contiguous:
        sys.exit(f"python: {array_id} is {a.dtype} {a.shape}, not float64 (3, 2) order 'F'")
    # a[i, j] == 10*i + j, except the marks of the slots before ours: a[s, 1] = 100 + s.
    want = np.fromfunction(lambda i, j: 10 * i + j, (3, 2))
    want[:slot, 1] = 100 + np.arange(min(slot, 3))
    seen = "; ".join(" ".join(f"{v:g}" for v in row) for row in a)
    if not (a == want).all():
        sys.exit(f"python: {array_id} holds [{seen}], not what C and the others wrote")
    a[slot, 1] = 100 + slot
    print(f"python: array {array_id}, {a.dtype} {a.shape[0]}x{a.shape[1]} [{seen}] ok; "
          f"set a[{slot},1] = {100 + slot}", file=sys.stderr)


def memfd_round(fd):
    with socket.socket(fileno=fd) as sock:
        sock.settimeout(60)     # a C side that died would close its end anyway
        with ipcshm.SharedMemory.recv(sock) as m:
            text = bytes(m.buf[:128]).split(b"\0")[0].decode()
            mark = f"python pid {os.getpid()} got it".encode() + b"\0"
            m.buf[256:256 + len(mark)] = mark
            print(f'python: received {m.id} over the socket, "{text}"', file=sys.stderr)


array_round()
if len(sys.argv) == 5:
    memfd_round(int(sys.argv[4]))
