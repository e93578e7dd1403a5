#!/usr/bin/python3
"""Python create -> touch -> close -> unlink cycle: the ipcshm binding against
CPython's multiprocessing.shared_memory.SharedMemory, in one process and one run.

Both create with name=None (a fresh random name each time), write one byte
through ``buf``, close() and unlink(). CPython 3.11's SharedMemory registers the
name with the resource tracker on create and unregisters it on unlink (a write
to the tracker's pipe each, plus a probe): that is part of its real cost and is
kept. The variants are interleaved (shuffled in every round) and timed with
timeit; the result per variant is the median over the rounds.

    PYTHONPATH=bindings/python IPCSHM_LIBRARY=build-bench/src/libipcshm.so.1 \\
        /usr/bin/python3 bench/python_cycle.py [--rounds N] [--number K] [--json FILE]
"""

import argparse
import ctypes
import json
import random
import statistics
import sys
import timeit
from multiprocessing import resource_tracker, shared_memory

import ipcshm
from ipcshm import _native

SIZES = {"4KiB": 4096, "1MiB": 1 << 20}


def cycle_cpython(size):
    s = shared_memory.SharedMemory(create=True, size=size)
    s.buf[0] = 1
    s.close()
    s.unlink()


def cycle_ipcshm(size):
    s = ipcshm.SharedMemory(create=True, size=size)
    s.buf[0] = 1
    s.close()
    s.unlink()  # volatile: close() already removed it; unlink() of a gone name is fine


def cycle_ipcshm_persistent(size):
    s = ipcshm.SharedMemory(create=True, size=size, volatile=False)
    s.buf[0] = 1
    s.close()
    s.unlink()


# Where the time goes (not targets): the C calls of the ipcshm cycle made
# straight through ctypes, without the binding's Python code; and CPython's cycle
# with the resource tracker switched off (its register/unregister replaced by
# no-ops for the duration of the call).
_lib = _native.lib
_handle = ctypes.c_void_p()
_TEMPLATE = b"/psm_XXXXXXXX"


def cycle_ctypes_volatile(size):
    _lib.ipcshm_create(_TEMPLATE, size, 0o600, 0, ctypes.byref(_handle))
    ctypes.c_char.from_address(_lib.ipcshm_pointer(_handle)).value = b"x"
    _lib.ipcshm_detach(_handle)


def cycle_ctypes_persistent(size):
    _lib.ipcshm_create(_TEMPLATE, size, 0o600, _native.IPCSHM_PERSISTENT,
                       ctypes.byref(_handle))
    ident = _lib.ipcshm_id(_handle)
    ctypes.c_char.from_address(_lib.ipcshm_pointer(_handle)).value = b"x"
    _lib.ipcshm_detach(_handle)
    _lib.ipcshm_remove(ident)


_register, _unregister = resource_tracker.register, resource_tracker.unregister


def _untracked(*args):
    pass


def cycle_cpython_no_tracker(size):
    resource_tracker.register = resource_tracker.unregister = _untracked
    try:
        cycle_cpython(size)
    finally:
        resource_tracker.register, resource_tracker.unregister = _register, _unregister


VARIANTS = {
    "py_cycle_cpython": cycle_cpython,
    "py_cycle_ipcshm_volatile": cycle_ipcshm,
    "py_cycle_ipcshm_persistent": cycle_ipcshm_persistent,
    "py_cycle_ctypes_volatile": cycle_ctypes_volatile,
    "py_cycle_ctypes_persistent": cycle_ctypes_persistent,
    "py_cycle_cpython_no_tracker": cycle_cpython_no_tracker,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=30, help="timed rounds per variant")
    ap.add_argument("--number", type=int, default=500, help="cycles per round")
    ap.add_argument("--json", help="write the medians (ns per cycle) to this file")
    args = ap.parse_args()

    timers = {}
    for label, size in SIZES.items():
        for name, fn in VARIANTS.items():
            timers["%s/%s" % (name, label)] = timeit.Timer(
                "fn(size)", globals={"fn": fn, "size": size})
    # Warm up: starts CPython's resource tracker, loads the library, fills caches.
    for t in timers.values():
        t.timeit(number=50)

    samples = {key: [] for key in timers}
    order = list(timers)
    for _ in range(args.rounds):
        random.shuffle(order)
        for key in order:
            samples[key].append(timers[key].timeit(number=args.number) / args.number * 1e9)

    results = {}
    for key, values in samples.items():
        results[key] = {
            "median_ns": statistics.median(values),
            "min_ns": min(values),
            "max_ns": max(values),
            "rounds": len(values),
            "number": args.number,
        }
    context = {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "ipcshm_library": ipcshm.library_path,
    }
    for key in sorted(results):
        r = results[key]
        print("%-40s %10.0f ns  (min %.0f, max %.0f)" % (key, r["median_ns"], r["min_ns"],
                                                        r["max_ns"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"context": context, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
