#!/usr/bin/python3
"""Python -> Python messages of 32 bytes between two processes: ipcshm.Channel
against multiprocessing.Queue and multiprocessing.Pipe, between the same two
processes, in one run (SPEC §11: the channel >= 20x multiprocessing.Queue).

The parent sends, a forked child receives; the child is made once and runs
every variant, in an order shuffled in every round. A round of a variant: the
parent takes t0, sends N messages, and takes t1 when the child says (on a
control pipe, the same for every variant) that it has received the N-th; the
result is (t1 - t0) / N, per message, and the table gives the median over the
rounds. Every message is written by the sender (a 32-byte bytes object of 256
distinct ones, sent as it is) and read by the receiver (it gets its own bytes
object, and checks the length of the last one).

Variants:
  ipcshm.Channel       send_bytes / recv_bytes, 256 slots of 32 bytes
                       (compiled module, or ctypes with IPCSHM_PURE=1; the
                       JSON's context says which)
  multiprocessing.Queue  put / get of the bytes object (pickled, a feeder thread,
                       a pipe)
  multiprocessing.Pipe   Connection.send_bytes / recv_bytes (the same bytes over
                       a UNIX socket pair)

    PYTHONPATH=bindings/python IPCSHM_LIBRARY=build-bench/src/libipcshm.so.1 \\
        IPCSHM_EXTENSION=build-bench/bindings/python/ext/_ext.cpython-311-x86_64-linux-gnu.so \\
        /usr/bin/python3 bench/python_channel.py [--rounds N] [--json FILE]
"""

import argparse
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import time

import ipcshm

SIZE = 32
MSGS = [bytes([i]) * SIZE for i in range(256)]
TARGET = 20.0          # the channel at least this many times multiprocessing.Queue


def receiver(ctl, name, queue, pipe_rx):
    """The child: for each command (variant, n), receives n messages and acks."""
    ch = ipcshm.Channel(name, "receiver")
    ctl.send_bytes(b"ready")
    while True:
        cmd = ctl.recv()
        if cmd is None:
            break
        variant, n = cmd
        last = b""
        if variant == "channel":
            recv = ch.recv_bytes
            for _ in range(n):
                last = recv()
        elif variant == "queue":
            get = queue.get
            for _ in range(n):
                last = get()
        else:
            recv = pipe_rx.recv_bytes
            for _ in range(n):
                last = recv()
        assert len(last) == SIZE
        ctl.send_bytes(b"done")
    ch.close()
    os._exit(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--n-fast", type=int, default=200_000,
                    help="messages per round of the channel")
    ap.add_argument("--n-slow", type=int, default=20_000,
                    help="messages per round of Queue and Pipe")
    ap.add_argument("--json")
    args = ap.parse_args()

    ctx = mp.get_context("fork")
    name = "/ipcshm-bench-ch-%d" % os.getpid()
    tx = ipcshm.Channel(name, "sender", create=True, slot_size=SIZE, slot_count=256)
    queue = ctx.Queue()
    pipe_rx, pipe_tx = ctx.Pipe(duplex=False)
    ctl_parent, ctl_child = ctx.Pipe()
    child = ctx.Process(target=receiver, args=(ctl_child, name, queue, pipe_rx))
    child.start()
    assert ctl_parent.recv_bytes() == b"ready"

    def run(variant, n):
        msgs = MSGS
        ctl_parent.send((variant, n))
        t0 = time.perf_counter()
        if variant == "channel":
            send = tx.send_bytes
            for i in range(n):
                send(msgs[i & 255])
        elif variant == "queue":
            put = queue.put
            for i in range(n):
                put(msgs[i & 255])
        else:
            send = pipe_tx.send_bytes
            for i in range(n):
                send(msgs[i & 255])
        assert ctl_parent.recv_bytes() == b"done"
        return (time.perf_counter() - t0) / n

    sizes = {"channel": args.n_fast, "queue": args.n_slow, "pipe": args.n_slow}
    for v, n in sizes.items():          # a warm-up round each
        run(v, max(1000, n // 10))
    results = {v: [] for v in sizes}
    for _ in range(args.rounds):
        order = list(sizes)
        random.shuffle(order)
        for v in order:
            results[v].append(run(v, sizes[v]))
    ctl_parent.send(None)
    child.join(30)
    tx.close()

    med = {v: statistics.median(r) for v, r in results.items()}
    ratio_q = med["queue"] / med["channel"]
    ratio_p = med["pipe"] / med["channel"]
    backend = "compiled module" if ipcshm.extension_path else "ctypes alone"
    print("python channel, Python -> Python, %d-byte messages, 2 processes (%s); "
          "median over %d rounds" % (SIZE, backend, args.rounds))
    print("  %-44s %12s %12s" % ("variant", "per message", "msgs/s"))
    for label, v in (("ipcshm.Channel send_bytes/recv_bytes", "channel"),
                     ("multiprocessing.Queue put/get", "queue"),
                     ("multiprocessing.Pipe send_bytes/recv_bytes", "pipe")):
        print("  %-44s %9.3f us %12.0f" % (label, med[v] * 1e6, 1 / med[v]))
    print("  Queue / Channel: %.1fx (target >= %.0fx: %s); Pipe / Channel: %.1fx"
          % (ratio_q, TARGET, "met" if ratio_q >= TARGET else "MISSED", ratio_p))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"context": {"python": sys.version.split()[0],
                                   "executable": sys.executable,
                                   "ipcshm_library": ipcshm.library_path,
                                   "extension": ipcshm.extension_path,
                                   "rounds": args.rounds, "size": SIZE},
                       "per_message_s": results, "median_s": med,
                       "queue_over_channel": ratio_q, "pipe_over_channel": ratio_p},
                      f, indent=1)


if __name__ == "__main__":
    main()
