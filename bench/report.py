#!/usr/bin/python3
"""Prints the table of bench/run: medians of one run and the ratios between them.

    report.py --gb GB.json [--gb GB2.json ...] [--py PY.json] [--py-pure PURE.json]
              [--machine MACHINE.txt]

GB.json is Google Benchmark's --benchmark_out (with repetitions: the medians
are used), PY.json what bench/python_cycle.py --json wrote. Every ratio divides
two medians measured in the same run, interleaved, so that a change of load
during the run touches both sides alike.
"""

import argparse
import json
import re
import sys

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def load_gb(path):
    """{normalised name: {"ns": median, "cv": coefficient of variation}}, {name: error}."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}, {}, {}  # a filter that matched nothing in this set
    out, errors = {}, {}
    for b in data.get("benchmarks", []):
        name = normalise(b.get("run_name", b["name"]))
        if b.get("error_occurred"):
            errors[name] = b.get("error_message", "error")
            continue
        agg = b.get("aggregate_name")
        if agg not in ("median", "cv", "min", None):
            continue
        scale = UNIT_NS[b.get("time_unit", "ns")]
        # Batches (channel_bench): the time per message of the iteration.
        if b.get("msgs_per_iter"):
            scale /= b["msgs_per_iter"]
        entry = out.setdefault(name, {})
        if agg == "min":
            out.setdefault(name + "#min", {})["ns"] = b["real_time"] * scale
        elif agg == "cv":
            entry["cv"] = b["real_time"]  # a fraction, not a time
        elif agg == "median" or "ns" not in entry:
            entry["ns"] = b["real_time"] * scale
            if "bytes_per_second" in b:
                entry["Bps"] = b["bytes_per_second"]
    return {k: v for k, v in out.items() if "ns" in v}, errors, data.get("context", {})


def normalise(name):
    for pat in (r"/iterations:\d+", r"/repeats:\d+", r"/manual_time", r"/real_time",
                r"/min_time:[\d.]+"):
        name = re.sub(pat, "", name)
    return name


def load_py(path):
    with open(path) as f:
        data = json.load(f)
    return ({k: {"ns": v["median_ns"]} for k, v in data["results"].items()},
            data.get("context", {}))


def fmt_time(ns):
    if ns is None:
        return "-"
    for unit, div in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= div * 0.999:
            return "%.3g %s" % (ns / div, unit) if ns / div < 100 else "%.0f %s" % (ns / div, unit)
    return "%.3g ns" % ns


class Table:
    def __init__(self, res, errors):
        self.res, self.errors = res, errors
        self.lines = []
        self.verdicts = []

    def get(self, key):
        r = self.res.get(key)
        return r["ns"] if r else None

    def section(self, title):
        self.lines.append("")
        self.lines.append(title)
        self.lines.append("  %-46s %11s %6s  %8s  %-22s %s" % (
            "variant", "median", "cv", "ratio", "ratio of", "target"))

    def row(self, label, key, ref=None, target=None, ref_label=None, better="le",
            verdict_name=None, speed=False):
        """speed: the ratio is ref/key (a throughput or bandwidth ratio: times per
        message or per byte, inverted), not key/ref."""
        ns = self.get(key)
        cv = self.res.get(key, {}).get("cv")
        cv_s = "%.1f%%" % (cv * 100) if cv is not None else ""
        if ns is None:
            why = self.errors.get(key, "not measured")
            self.lines.append("  %-46s %11s %6s  %s" % (label, "-", "", "(%s)" % why[:70]))
            if target is not None:
                self.verdicts.append((verdict_name or label, None, target, better, why))
            return
        ratio_s, of, tgt = "", "", ""
        if ref is not None:
            ref_ns = self.get(ref)
            of = ("x " if speed else "/ ") + (ref_label or ref)
            if ref_ns:
                ratio = ref_ns / ns if speed else ns / ref_ns
                ratio_s = "%.3f" % ratio
                if target is not None:
                    ok = ratio <= target if better == "le" else ratio >= target
                    tgt = "%s %.2f  %s" % ("<=" if better == "le" else ">=", target,
                                           "met" if ok else "MISSED")
                    self.verdicts.append((verdict_name or label, ratio, target, better,
                                          "met" if ok else "missed"))
            else:
                ratio_s = "-"
        self.lines.append("  %-46s %11s %6s  %8s  %-22s %s" % (
            label, fmt_time(ns), cv_s, ratio_s, of, tgt))

    def note(self, text):
        self.lines.append("  " + text)


def build(res, errors):
    t = Table(res, errors)
    for size, lbl in (("4096", "4 KiB"), ("1048576", "1 MiB")):
        t.section("create -> map -> touch 1 byte -> unmap -> remove, %s (per cycle)" % lbl)
        raw_p, raw_s = "BM_cycle_raw_posix/" + size, "BM_cycle_raw_sysv/" + size
        boost = "BM_cycle_boost_posix/" + size
        t.row("raw POSIX (shm_open..shm_unlink)", raw_p)
        t.row("ipcshm POSIX persistent", "BM_cycle_ipcshm_posix_persistent/" + size,
              raw_p, 1.05, "raw POSIX", verdict_name="cycle %s POSIX persistent vs raw" % lbl)
        t.row("ipcshm POSIX volatile", "BM_cycle_ipcshm_posix_volatile/" + size,
              raw_p, 1.10, "raw POSIX", verdict_name="cycle %s POSIX volatile vs raw" % lbl)
        t.row("raw + fstat (exact perms: persistent floor)", "BM_cycle_rawfchmod_posix/" + size,
              raw_p, None, "raw POSIX")
        t.row("ipcshm POSIX persistent vs that floor", "BM_cycle_ipcshm_posix_persistent/" + size,
              "BM_cycle_rawfchmod_posix/" + size, None, "raw + fstat")
        t.row("raw volatile protocol (flock, fstat, stat)", "BM_cycle_rawproto_posix/" + size,
              raw_p, None, "raw POSIX")
        t.row("ipcshm POSIX volatile vs that floor", "BM_cycle_ipcshm_posix_volatile/" + size,
              "BM_cycle_rawproto_posix/" + size, None, "raw protocol")
        t.row("Boost.Interprocess POSIX", boost, raw_p, None, "raw POSIX")
        t.row("ipcshm POSIX persistent vs Boost", "BM_cycle_ipcshm_posix_persistent/" + size,
              boost, 1.00, "Boost", verdict_name="cycle %s POSIX persistent vs Boost" % lbl)
        t.row("raw System V (shmget..IPC_RMID)", raw_s)
        t.row("ipcshm System V persistent", "BM_cycle_ipcshm_sysv_persistent/" + size,
              raw_s, 1.05, "raw SysV", verdict_name="cycle %s SysV persistent vs raw" % lbl)
        t.row("ipcshm System V volatile", "BM_cycle_ipcshm_sysv_volatile/" + size,
              raw_s, None, "raw SysV")

    for size, lbl in (("4096", "4 KiB"), ("1048576", "1 MiB")):
        t.section("attach existing -> detach, %s (per cycle)" % lbl)
        raw, boost = "BM_attach_raw_posix/" + size, "BM_attach_boost_posix/" + size
        lib = "BM_attach_ipcshm_posix/" + size
        t.row("raw shm_open+fstat+mmap+munmap+close", raw)
        t.row("ipcshm persistent object", lib, raw, 1.05, "raw",
              verdict_name="attach %s vs raw" % lbl)
        t.row("Boost.Interprocess", boost, raw, None, "raw")
        t.row("ipcshm vs Boost", lib, boost, 1.00, "Boost",
              verdict_name="attach %s vs Boost" % lbl)
        if size == "4096":
            t.row("ipcshm volatile object (flock protocol)",
                  "BM_attach_ipcshm_posix_volatile/4096", raw, None, "raw")
            t.row("raw SysV IPC_STAT+shmat+shmdt", "BM_attach_raw_sysv/4096")
            t.row("ipcshm SysV shmid:N", "BM_attach_ipcshm_sysv/4096",
                  "BM_attach_raw_sysv/4096", None, "raw SysV")

    t.section("information and pointer (per call)")
    t.row("raw stat(/dev/shm/name)", "BM_info_raw_posix")
    t.row("ipcshm_info(\"/name\")", "BM_info_ipcshm_posix", "BM_info_raw_posix", None, "stat")
    t.row("raw shmctl(IPC_STAT)", "BM_info_raw_sysv")
    t.row("ipcshm_info(\"shmid:N\")", "BM_info_ipcshm_sysv", "BM_info_raw_sysv", None,
          "shmctl")
    t.row("raw fstat(fd)", "BM_handleinfo_raw_posix")
    t.row("ipcshm_handle_info(h)", "BM_handleinfo_ipcshm_posix", "BM_handleinfo_raw_posix",
          None, "fstat")
    t.row("ipcshm_pointer(h), 1 thread", "BM_pointer_ipcshm/threads:1")
    t.row("ipcshm_pointer(h), 2 threads at once", "BM_pointer_ipcshm/threads:2",
          "BM_pointer_ipcshm/threads:1", None, "1 thread")

    t.section("Python: create -> touch -> close -> unlink (name=None, 4 KiB / 1 MiB)")
    for lbl in ("4KiB", "1MiB"):
        cp = "py_cycle_cpython/" + lbl
        t.row("CPython SharedMemory %s" % lbl, cp)
        t.row("ipcshm.SharedMemory volatile %s" % lbl, "py_cycle_ipcshm_volatile/" + lbl,
              cp, 0.5, "CPython", verdict_name="Python %s volatile vs CPython" % lbl)
        t.row("ipcshm.SharedMemory persistent %s" % lbl, "py_cycle_ipcshm_persistent/" + lbl,
              cp, 0.5, "CPython", verdict_name="Python %s persistent vs CPython" % lbl)
        t.row("  its C calls alone via ctypes, volatile", "py_cycle_ctypes_volatile/" + lbl,
              cp, None, "CPython")
        t.row("  its C calls alone via ctypes, persistent", "py_cycle_ctypes_persistent/" + lbl,
              cp, None, "CPython")
        t.row("  CPython without the resource tracker", "py_cycle_cpython_no_tracker/" + lbl,
              cp, None, "CPython")
        pure_cp = "pure/py_cycle_cpython/" + lbl
        t.row("  ctypes alone (IPCSHM_PURE=1): CPython", pure_cp)
        t.row("  ctypes alone: ipcshm volatile", "pure/py_cycle_ipcshm_volatile/" + lbl,
              pure_cp, None, "CPython")
        t.row("  ctypes alone: ipcshm persistent", "pure/py_cycle_ipcshm_persistent/" + lbl,
              pure_cp, None, "CPython")

    t.section("Python: attach existing by name -> touch -> close (4 KiB / 1 MiB)")
    for lbl in ("4KiB", "1MiB"):
        cp = "py_attach_cpython/" + lbl
        t.row("CPython SharedMemory %s" % lbl, cp)
        t.row("ipcshm.SharedMemory, volatile object %s" % lbl,
              "py_attach_ipcshm_volatile/" + lbl, cp, 0.5, "CPython",
              verdict_name="Python attach %s volatile vs CPython" % lbl)
        t.row("ipcshm.SharedMemory, persistent object %s" % lbl,
              "py_attach_ipcshm_persistent/" + lbl, cp, 0.5, "CPython",
              verdict_name="Python attach %s persistent vs CPython" % lbl)
        t.row("  its C calls alone via ctypes, volatile", "py_attach_ctypes_volatile/" + lbl,
              cp, None, "CPython")
        t.row("  its C calls alone via ctypes, persistent",
              "py_attach_ctypes_persistent/" + lbl, cp, None, "CPython")
        t.row("  CPython without the resource tracker", "py_attach_cpython_no_tracker/" + lbl,
              cp, None, "CPython")
        pure_cp = "pure/py_attach_cpython/" + lbl
        t.row("  ctypes alone (IPCSHM_PURE=1): CPython", pure_cp)
        t.row("  ctypes alone: ipcshm, volatile object", "pure/py_attach_ipcshm_volatile/" + lbl,
              pure_cp, None, "CPython")
        t.row("  ctypes alone: ipcshm, persistent object",
              "pure/py_attach_ipcshm_persistent/" + lbl, pure_cp, None, "CPython")

    t.section("first touch of 1 GiB (map + write 1 byte per 4 KiB)")
    d, s4 = "BM_touch1g_posix_default", "BM_touch1g_sysv_default"
    t.row("POSIX, default (faults)", d)
    t.row("POSIX, IPCSHM_PREFAULT (create included)", "BM_touch1g_posix_prefault", d, None,
          "default")
    t.row("System V, 4 KiB pages", s4)
    t.row("System V, SHM_HUGETLB 2 MiB pages (raw)", "BM_touch1g_sysv_hugetlb", s4, None,
          "SysV 4 KiB")
    t.row("System V, IPCSHM_HUGEPAGES", "BM_touch1g_sysv_lib_hugepages", s4, 1 / 3.0,
          "SysV 4 KiB", verdict_name="huge pages first touch (speed-up >= 3x)")
    m4 = "BM_touch1g_memfd_default"
    t.row("memfd, default (faults)", m4)
    t.row("memfd, IPCSHM_PREFAULT", "BM_touch1g_memfd_prefault", m4, None, "memfd default")
    t.row("memfd, IPCSHM_HUGEPAGES", "BM_touch1g_memfd_hugepages", m4, 1 / 3.0,
          "memfd default", verdict_name="memfd huge pages first touch (speed-up >= 3x)")
    t.row("memfd, IPCSHM_HUGEPAGES | IPCSHM_PREFAULT", "BM_touch1g_memfd_hugepages_prefault",
          m4, None, "memfd default")
    t.row("second pass of the same loop (no faults)", "BM_touch1g_second_pass", d, None,
          "default")
    t.row("memset of the GiB (bandwidth)", "BM_touch1g_memset", d, None, "default")
    m = res.get("BM_touch1g_memset")
    if m:
        t.note("memset bandwidth: %.1f GB/s; first touch (default) %.1f GB/s zeroed+mapped"
               % ((1 << 30) / m["ns"], (1 << 30) / res[d]["ns"] if d in res else 0))

    t.section("scale: attach+detach of one object with N live objects (handles held)")
    for n in ("100", "1000", "10000"):
        t.row("ipcshm, %s live" % n, "BM_scale_ipcshm/" + n,
              "BM_scale_ipcshm/100" if n != "100" else None,
              1.5 if n == "10000" else None, "100 live",
              verdict_name="10,000 vs 100 live objects")
    for n in ("100", "1000", "10000"):
        t.row("raw, %s live" % n, "BM_scale_raw/" + n,
              "BM_scale_raw/100" if n != "100" else None, None, "100 live")
    for n in ("100", "10000"):
        t.row("ipcshm_pointer, %s live" % n, "BM_scale_pointer/" + n,
              "BM_scale_pointer/100" if n != "100" else None, None, "100 live")

    t.section("create time against size (ipcshm_create only, nothing touched)")
    for kind, lbl in (("posix", "POSIX persistent"), ("sysv", "System V volatile")):
        base = "BM_create_%s/4096" % kind
        t.row("%s 4 KiB" % lbl, base)
        t.row("%s 1 GiB" % lbl, "BM_create_%s/1073741824" % kind, base, None, "4 KiB")
        t.row("%s 16 GiB" % lbl, "BM_create_%s/17179869184" % kind, base,
              1.5 if kind == "posix" else None, "4 KiB",
              verdict_name="16 GiB create vs 4 KiB create (lazy)")

    t.section("signalling: wake-up of a sleeping waiter, one way (asleep in the kernel for "
              ">= 1 ms; 2 processes on 2 CPUs)")
    raw = "BM_wake_raw_futex"
    t.row("raw FUTEX_WAKE -> FUTEX_WAIT", raw)
    t.row("  the same, FUTEX_WAIT with a 100 ms deadline", "BM_wake_raw_futex_timed", raw, None,
          "raw futex")
    t.row("ipcshm event", "BM_wake_ipcshm_event", raw, 1.1, "raw futex",
          verdict_name="wake-up: event vs raw futex")
    t.row("  ipcshm event vs POSIX sem_t", "BM_wake_ipcshm_event", "BM_wake_sem_t", 1.0, "sem_t",
          verdict_name="wake-up: event vs sem_t")
    t.row("  ipcshm event vs pipe", "BM_wake_ipcshm_event", "BM_wake_pipe", 1.0, "pipe",
          verdict_name="wake-up: event vs pipe")
    t.row("ipcshm mutex hand-off (unlock -> blocked lock)", "BM_wake_ipcshm_mutex", raw, 1.1,
          "raw futex", verdict_name="wake-up: mutex hand-off vs raw futex")
    t.row("  ipcshm mutex hand-off vs POSIX sem_t", "BM_wake_ipcshm_mutex", "BM_wake_sem_t", 1.0,
          "sem_t", verdict_name="wake-up: mutex hand-off vs sem_t")
    t.row("  ipcshm mutex hand-off vs pipe", "BM_wake_ipcshm_mutex", "BM_wake_pipe", 1.0, "pipe",
          verdict_name="wake-up: mutex hand-off vs pipe")
    t.row("  ipcshm mutex vs pthread_mutex robust hand-off", "BM_wake_ipcshm_mutex",
          "BM_wake_pthread_robust", None, "pthread robust")
    t.row("ipcshm semaphore (post -> blocked wait)", "BM_wake_ipcshm_sem", raw, None, "raw futex")
    t.row("pthread_mutex robust pshared hand-off", "BM_wake_pthread_robust", raw, None, "raw futex")
    t.row("POSIX sem_t in shared memory", "BM_wake_sem_t", raw, None, "raw futex")
    t.row("pipe (1 byte)", "BM_wake_pipe", raw, None, "raw futex")
    t.row("eventfd", "BM_wake_eventfd", raw, None, "raw futex")
    t.row("ipcshm_event_fd + poll (two wake-ups)", "BM_wake_ipcshm_event_fd", raw, None,
          "raw futex")

    t.section("signalling: round trip, two processes waiting for each other, 64 B each way")
    raw, floor = "BM_pingpong_raw_futex", "BM_pingpong_raw_spin_futex"
    t.row("raw futex, waits at once (sleeps every time)", raw)
    t.row("raw futex after the library's spin (spin floor)", floor, raw, None, "raw futex")
    t.row("ipcshm event (spins, then sleeps)", "BM_pingpong_ipcshm_event", raw, None, "raw futex")
    t.row("  ipcshm event vs the spin floor", "BM_pingpong_ipcshm_event", floor, None, "spin floor")
    t.row("ipcshm semaphore", "BM_pingpong_ipcshm_sem", raw, None, "raw futex")
    t.row("  ipcshm semaphore vs the spin floor", "BM_pingpong_ipcshm_sem", floor, None,
          "spin floor")
    t.row("POSIX sem_t", "BM_pingpong_sem_t", raw, None, "raw futex")
    t.row("pipe pair", "BM_pingpong_pipe", raw, None, "raw futex")
    t.row("eventfd pair", "BM_pingpong_eventfd", raw, None, "raw futex")

    t.section("signalling: uncontended, one thread, nobody waiting (per operation pair)")
    pr = "BM_uncontended_pthread_robust"
    t.row("pthread_mutex robust pshared lock+unlock", pr)
    t.row("ipcshm mutex lock+unlock", "BM_uncontended_ipcshm_mutex", pr, 1.2, "pthread robust",
          verdict_name="uncontended lock+unlock vs pthread robust")
    t.row("pthread_mutex pshared (not robust)", "BM_uncontended_pthread_plain", pr, None,
          "pthread robust")
    t.row("raw CAS + exchange (floor)", "BM_uncontended_raw_cas", pr, None, "pthread robust")
    t.row("POSIX sem_post+sem_wait", "BM_uncontended_sem_t")
    t.row("ipcshm sem post+wait", "BM_uncontended_ipcshm_sem", "BM_uncontended_sem_t", None,
          "sem_t")
    t.row("raw increment + FUTEX_WAKE (always a syscall)", "BM_uncontended_raw_futex_wake")
    t.row("ipcshm event notify, nobody asleep", "BM_uncontended_ipcshm_notify",
          "BM_uncontended_raw_futex_wake", None, "raw wake")

    t.section("channels: one-way latency of a 32-byte message (round trip / 2, busy receiver; "
              "2 processes)")
    ring = "BM_chlat_ring"
    lat = "BM_chlat_ipcshm_busy"
    t.row("minimal SPSC ring (the floor)", ring)
    t.row("  the same ring, yielding every 64 turns", "BM_chlat_ring_yield", ring, None, "ring")
    t.row("ipcshm channel send/recv, receiver polls", lat, ring, 1.5, "ring",
          verdict_name="channel latency vs minimal ring")
    t.row("  the same vs the yielding ring", lat, "BM_chlat_ring_yield", None, "yielding ring")
    t.row("  the same vs a pipe", lat, "BM_chlat_pipe", 0.1, "pipe",
          verdict_name="channel latency vs pipe")
    t.row("  the same vs a UNIX socket pair", lat, "BM_chlat_socket", 0.1, "socket",
          verdict_name="channel latency vs UNIX socket")
    t.row("ipcshm channel reserve/commit, peek/release", "BM_chlat_ipcshm_busy_zero_copy", ring,
          None, "ring")
    t.row("ipcshm channel, receiver blocks (timeout -1)", "BM_chlat_ipcshm_wait", ring, None,
          "ring")
    t.row("pipe", "BM_chlat_pipe", ring, None, "ring")
    t.row("UNIX socket pair", "BM_chlat_socket", ring, None, "ring")
    t.row("POSIX message queue", "BM_chlat_mqueue", ring, None, "ring")

    t.section("channels: throughput of 32-byte messages, one process to another (time per "
              "message; ratios are throughput ratios)")
    ring, tput = "BM_chtput_ring", "BM_chtput_ipcshm"
    t.row("minimal SPSC ring (the floor)", ring)
    t.row("  the same ring, yielding every 64 turns", "BM_chtput_ring_yield", ring, None, "ring",
          speed=True)
    t.row("ipcshm channel send/recv (blocking calls)", tput, ring, 0.7, "ring", better="ge",
          verdict_name="channel throughput vs minimal ring", speed=True)
    t.row("  the same vs the yielding ring", tput, "BM_chtput_ring_yield", None, "yielding ring",
          speed=True)
    t.row("  the same vs a pipe", tput, "BM_chtput_pipe", 10, "pipe", better="ge",
          verdict_name="channel throughput vs pipe", speed=True)
    t.row("ipcshm channel, receiver polls (timeout 0)", "BM_chtput_ipcshm_busy", ring, None,
          "ring", speed=True)
    t.row("ipcshm channel reserve/commit, peek/release", "BM_chtput_ipcshm_zero_copy", ring,
          None, "ring", speed=True)
    t.row("pipe", "BM_chtput_pipe", ring, None, "ring", speed=True)
    t.row("UNIX socket pair", "BM_chtput_socket", ring, None, "ring", speed=True)
    t.row("POSIX message queue", "BM_chtput_mqueue", ring, None, "ring", speed=True)

    t.section("channels: 1 MiB messages, written and read in place (time per message; "
              "ratios are bandwidth ratios)")
    mc = "BM_chbig_memcpy"
    t.row("memcpy of 1 MiB into a ring of 8 buffers", mc)
    t.row("ipcshm channel reserve/commit, peek/release", "BM_chbig_ipcshm_zero_copy", mc, 0.8,
          "memcpy", better="ge", verdict_name="channel 1 MiB zero-copy vs memcpy", speed=True)
    t.row("ipcshm channel send/recv (two copies)", "BM_chbig_ipcshm_copy", mc, None, "memcpy",
          speed=True)
    m = res.get(mc)
    z = res.get("BM_chbig_ipcshm_zero_copy")
    if m and z:
        t.note("bandwidth: memcpy %.1f GB/s, channel zero-copy %.1f GB/s"
               % ((1 << 20) / m["ns"], (1 << 20) / z["ns"]))

    t.section("cross-process round trip, 64-byte message each way")
    t.row("shared memory, std::atomic sequence, spin", "BM_roundtrip_shm")
    t.row("  the same, fastest repetition", "BM_roundtrip_shm#min")
    t.row("pipe pair (reference)", "BM_roundtrip_pipe", "BM_roundtrip_shm", None, "shm")
    t.row("  the same, fastest repetition", "BM_roundtrip_pipe#min", "BM_roundtrip_shm#min",
          None, "shm fastest")
    return t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gb", required=True, action="append",
                    help="Google Benchmark JSON output (repeatable)")
    ap.add_argument("--py", help="python_cycle.py's JSON, with the compiled module")
    ap.add_argument("--py-pure", help="python_cycle.py's JSON, over ctypes alone")
    ap.add_argument("--machine")
    args = ap.parse_args()
    res, errors, ctx = {}, {}, {}
    for path in args.gb:
        r, e, c = load_gb(path)
        res.update(r)
        errors.update(e)
        ctx = ctx or c
    pyctx = {}
    if args.py:
        pyres, pyctx = load_py(args.py)
        res.update(pyres)
    if args.py_pure:
        pureres, purectx = load_py(args.py_pure)
        res.update({"pure/" + k: v for k, v in pureres.items()})
        pyctx = pyctx or purectx
    if args.machine:
        with open(args.machine) as f:
            sys.stdout.write(f.read())
    print("Google Benchmark: %s, library build: %s; %s CPUs at %s MHz" % (
        ctx.get("date", "?"), ctx.get("library_build_type", "?"), ctx.get("num_cpus", "?"),
        ctx.get("mhz_per_cpu", "?")))
    if pyctx:
        print("Python %s (%s), library %s, compiled module %s" % (
            pyctx.get("python"), pyctx.get("executable"), pyctx.get("ipcshm_library"),
            pyctx.get("ipcshm_extension")))
    print("Medians over interleaved repetitions; cv = stddev/mean of the repetitions;")
    print("every ratio divides two medians of this run.")
    t = build(res, errors)
    print("\n".join(t.lines))
    print("\nTargets (SPEC §7, §11)")
    for name, ratio, target, better, verdict in t.verdicts:
        cmp_ = "<=" if better == "le" else ">="
        if ratio is None:
            print("  %-48s %s %.2f  not measured (%s)" % (name, cmp_, target, verdict[:60]))
        else:
            print("  %-48s %.3f %s %.2f  %s" % (name, ratio, cmp_, target, verdict))


if __name__ == "__main__":
    main()
