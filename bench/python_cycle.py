#!/usr/bin/python3
"""Python create -> touch -> close -> unlink and attach -> touch -> close cycles:
the ipcshm binding against CPython's multiprocessing.shared_memory.SharedMemory,
in one process and one run.

Create cycle: both create with name=None (a fresh random name each time), write
one byte through ``buf``, close() and unlink(). Attach cycle: both attach an
existing object by name (made by the same module, held for the whole run),
write one byte, close(). CPython 3.11's SharedMemory registers the name with
the resource tracker on create and on attach, and unregisters it on unlink (a
write to the tracker's pipe each, plus a probe): that is part of its real cost
and is kept. The variants are interleaved (shuffled in every round) and timed
with timeit; the result per variant is the median over the rounds.

Which ipcshm is measured is the one that imports: with the compiled module
(IPCSHM_EXTENSION=<build>/bindings/python/ext/_ext*.so, or installed), or over
ctypes alone (IPCSHM_PURE=1); the JSON's context says which.

    PYTHONPATH=bindings/python IPCSHM_LIBRARY=build-bench/src/libipcshm.so.1 \\
        IPCSHM_EXTENSION=build-bench/bindings/python/ext/_ext.cpython-311-x86_64-linux-gnu.so \\
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


# The attach cycle. The objects attached are made in main() and held meanwhile.
_objects = {}


def attach_cpython(size):
    s = shared_memory.SharedMemory(_objects["cpython", size])
    s.buf[0] = 1
    s.close()


def attach_cpython_no_tracker(size):
    resource_tracker.register = resource_tracker.unregister = _untracked
    try:
        attach_cpython(size)
    finally:
        resource_tracker.register, resource_tracker.unregister = _register, _unregister


def attach_ipcshm_volatile(size):
    s = ipcshm.SharedMemory(_objects["volatile", size])
    s.buf[0] = 1
    s.close()


def attach_ipcshm_persistent(size):
    s = ipcshm.SharedMemory(_objects["persistent", size])
    s.buf[0] = 1
    s.close()


def attach_ctypes_volatile(size):
    _lib.ipcshm_attach(_objects["volatile-id", size], 0, ctypes.byref(_handle))
    ctypes.c_char.from_address(_lib.ipcshm_pointer(_handle)).value = b"x"
    _lib.ipcshm_detach(_handle)


def attach_ctypes_persistent(size):
    _lib.ipcshm_attach(_objects["persistent-id", size], 0, ctypes.byref(_handle))
    ctypes.c_char.from_address(_lib.ipcshm_pointer(_handle)).value = b"x"
    _lib.ipcshm_detach(_handle)


def make_objects():
    held = []
    for size in SIZES.values():
        c = shared_memory.SharedMemory(create=True, size=size)
        v = ipcshm.SharedMemory(create=True, size=size)
        p = ipcshm.SharedMemory(create=True, size=size, volatile=False)
        held += [c, v, p]
        _objects["cpython", size] = c.name
        _objects["volatile", size], _objects["volatile-id", size] = v.name, v.id.encode()
        _objects["persistent", size] = p.name
        _objects["persistent-id", size] = p.id.encode()
    return held


def drop_objects(held):
    for shm in held:
        persistent = isinstance(shm, shared_memory.SharedMemory) or not shm.volatile
        shm.close()
        if persistent:
            shm.unlink()


VARIANTS = {
    "py_cycle_cpython": cycle_cpython,
    "py_cycle_ipcshm_volatile": cycle_ipcshm,
    "py_cycle_ipcshm_persistent": cycle_ipcshm_persistent,
    "py_cycle_ctypes_volatile": cycle_ctypes_volatile,
    "py_cycle_ctypes_persistent": cycle_ctypes_persistent,
    "py_cycle_cpython_no_tracker": cycle_cpython_no_tracker,
    "py_attach_cpython": attach_cpython,
    "py_attach_ipcshm_volatile": attach_ipcshm_volatile,
    "py_attach_ipcshm_persistent": attach_ipcshm_persistent,
    "py_attach_ctypes_volatile": attach_ctypes_volatile,
    "py_attach_ctypes_persistent": attach_ctypes_persistent,
    "py_attach_cpython_no_tracker": attach_cpython_no_tracker,
}


def measure(args):
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
    return {key: {"median_ns": statistics.median(values), "min_ns": min(values),
                  "max_ns": max(values), "rounds": len(values), "number": args.number}
            for key, values in samples.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=30, help="timed rounds per variant")
    ap.add_argument("--number", type=int, default=500, help="cycles per round")
    ap.add_argument("--json", help="write the medians (ns per cycle) to this file")
    args = ap.parse_args()

    held = make_objects()
    try:
        results = measure(args)
    finally:
        drop_objects(held)
    context = {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "ipcshm_library": ipcshm.library_path,
        "ipcshm_extension": ipcshm.extension_path,
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
