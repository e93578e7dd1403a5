#!/usr/bin/env python3
"""Proves that abi/check bites: it must fail on deliberately broken copies of the
library and pass on good ones.

    check_selftest.py --src SRCROOT [--cc CC] [--cxx CXX] [--abidiff-mode enabled|auto]

In a temporary directory: copies SRCROOT's src/, include/ and abi/, builds the
unaltered copy with a direct g++ command line (the flags of the meson build:
-shared -fPIC -g -O2 -std=c++20 -fvisibility=hidden, the version script, SONAME
libipcshm.so.1, -lbsd), writes its baseline with the copy's abi/update-baseline,
then patches copies (the patches are checked to apply) and runs abi/check on each
against that baseline. Each variant states which parts of the check must fail;
anything else (a pass that should fail, a different part failing, a patch that no
longer applies) fails this test. Exit 77 (skip) if abigail-tools is missing and
--abidiff-mode is auto.
"""

import argparse
import concurrent.futures
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

FAILS = []


def log(msg=""):
    print(msg, flush=True)


def sh(cmd, cwd=None, check=True):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if check and p.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed ({p.returncode}):\n{p.stdout}")
    return p


def patch(path, pattern, repl, count=1, flags=re.M):
    """Substitutes pattern in path; exactly `count` matches (None: any number)."""
    text = open(path, encoding="utf-8").read()
    new, n = re.subn(pattern, repl, text, flags=flags)
    if count is not None and n != count:
        raise RuntimeError(f"patch no longer applies: {n} matches (expected {count}) of "
                           f"/{pattern}/ in {path}; update tests/abi/check_selftest.py")
    open(path, "w", encoding="utf-8").write(new)


class Builder:
    def __init__(self, src, tmp, cxx, meson=None, build=None):
        self.src, self.tmp, self.cxx = src, tmp, cxx
        self.listed = None
        if meson and build:
            p = subprocess.run(shlex.split(meson) + ["introspect", build, "--targets"],
                               stdout=subprocess.PIPE, text=True, check=True)
            listed = []
            for t in json.loads(p.stdout):
                if t["name"] in ("ipcshm", "ipcshm_core") and t["type"].endswith("library"):
                    for ts in t["target_sources"]:
                        for f in ts.get("sources", []):
                            if f.endswith((".cc", ".cpp")):
                                listed.append(os.path.relpath(f, src))
            if not any(f.endswith("c_api.cc") for f in listed):
                raise RuntimeError(f"no library sources found in {build}: {listed}")
            if any(f.startswith("..") for f in listed):
                raise RuntimeError(f"library sources outside {src}: {listed}")
            self.listed = sorted(listed)
        text = open(os.path.join(src, "meson.build"), encoding="utf-8").read()
        m = re.search(r"version\s*:\s*'(\d+)\.(\d+)\.(\d+)'", text)
        if not m:
            raise RuntimeError("no project version in meson.build")
        self.version_args = [f"-DIPCSHM_BUILD_{k}={v}"
                             for k, v in zip(("MAJOR", "MINOR", "PATCH"), m.groups())]
        p = sh(["pkg-config", "--cflags", "--libs", "libbsd"], check=False)
        self.bsd = shlex.split(p.stdout) if p.returncode == 0 else ["-lbsd"]

    def copy(self, name):
        d = os.path.join(self.tmp, name)
        os.makedirs(d)
        for sub in ("src", "include", "abi"):
            shutil.copytree(os.path.join(self.src, sub), os.path.join(d, sub),
                            ignore=shutil.ignore_patterns("build*", "__pycache__"))
        return d

    def sources(self, d):
        """The library's sources in copy d: as the meson build lists them (targets
        ipcshm and ipcshm_core), else src/*.cc; plus files a variant added."""
        if self.listed is None:
            return sorted(glob.glob(os.path.join(d, "src", "*.cc")))
        extra = [f for f in glob.glob(os.path.join(d, "src", "zz_selftest_*.cc"))]
        return [os.path.join(d, rel) for rel in self.listed] + extra

    def compile(self, d, debug=True):
        objdir = os.path.join(d, "obj")
        os.makedirs(objdir, exist_ok=True)
        flags = ["-c", "-fPIC", "-O2", "-g" if debug else "-g0", "-std=c++20",
                 "-fvisibility=hidden", "-pthread", "-D_FILE_OFFSET_BITS=64",
                 "-Iinclude", "-Isrc"] + self.version_args + self.bsd
        sources = self.sources(d)

        def one(s):
            o = os.path.join(objdir, os.path.basename(s) + ".o")
            sh(self.cxx + flags + ["-o", o, os.path.relpath(s, d)], cwd=d)
            return o

        with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as ex:
            return list(ex.map(one, sources))

    def link(self, d, objs):
        lib = os.path.join(d, "libipcshm.so.1.0.0")
        sh(self.cxx + ["-shared", "-fPIC", "-o", lib] + objs +
           ["-Wl,--version-script=" + os.path.join(d, "abi", "libipcshm.map"),
            "-Wl,-soname,libipcshm.so.1", "-Wl,--no-undefined"] + self.bsd + ["-pthread"])
        return lib


def run_check(args, d, lib, baseline, extra=()):
    cmd = [os.path.join(args.src, "abi", "check"), lib,
           os.path.join(d, "abi", "libipcshm.map"), os.path.join(d, "include"), baseline,
           "--suppressions", os.path.join(d, "abi", "suppressions.abignore"),
           "--cc", args.cc, "--cxx", args.cxx] + list(extra)
    p = sh(cmd, check=False)
    failed = set(re.findall(r"^abi/check: FAIL \[(\w+)\]", p.stdout, flags=re.M))
    m = re.search(r"abidiff exit code (\d+)", p.stdout)
    return p, failed, (int(m.group(1)) if m else None)


def expect(name, what, ok, out=""):
    status = "ok " if ok else "BAD"
    log(f"selftest: [{status}] {name}: {what}")
    if not ok:
        FAILS.append(name)
        if out:
            log("\n".join("    | " + line for line in out.rstrip().splitlines()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--cxx", default="c++")
    ap.add_argument("--abidiff-mode", choices=("enabled", "auto"), default="enabled")
    ap.add_argument("--meson", help="meson command, with --build: take the library's "
                    "sources from the meson build (default: src/*.cc)")
    ap.add_argument("--build", help="the meson build directory")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    args.src = os.path.abspath(args.src)
    if not (shutil.which("abidiff") and shutil.which("abidw")):
        if args.abidiff_mode == "auto":
            log("selftest: SKIP: abigail-tools (abidiff, abidw) not installed, abi_check=auto")
            return 77
        log("selftest: FAIL: abigail-tools (abidiff, abidw) not installed")
        return 1

    tmp = tempfile.mkdtemp(prefix="ipcshm-abi-selftest-")
    try:
        b = Builder(args.src, tmp, shlex.split(args.cxx), args.meson, args.build)
        log(f"selftest: library sources: {', '.join(b.sources(args.src))}")
        base = b.copy("base")
        base_objs = b.compile(base)
        base_lib = b.link(base, base_objs)
        baseline = os.path.join(tmp, "baseline.abi")
        log(sh([os.path.join(base, "abi", "update-baseline"), base_lib, baseline]).stdout.strip())

        def header(d):
            return os.path.join(d, "include", "ipcshm.h")

        def amap(d):
            return os.path.join(d, "abi", "libipcshm.map")

        def relax_size_asserts(d):
            for f in glob.glob(os.path.join(d, "src", "*.cc")):
                patch(f, r"sizeof\(ipcshm_info_t\) == 88", "sizeof(ipcshm_info_t) >= 88",
                      count=None)

        def last_node(d):
            return re.findall(r"^\s*(\w[\w.]*)\s*\{", open(amap(d)).read(), flags=re.M)[-1]

        def before_cplusplus_end(d, text):
            # before the closing `#ifdef __cplusplus / }` of ipcshm.h
            patch(header(d), r"(\n)(#ifdef __cplusplus\n\}\n#endif)", r"\1" + text + r"\n\2")

        # --- the variants -----------------------------------------------------
        def ret_narrowed(d):
            patch(header(d), r"^(IPCSHM_EXPORT\s+)uint64_t(\s+ipcshm_size\s*\()", r"\1uint32_t\2")
            defs = [f for f in glob.glob(os.path.join(d, "src", "*.cc"))
                    if re.search(r"^uint64_t ipcshm_size\(", open(f).read(), flags=re.M)]
            if len(defs) != 1:
                raise RuntimeError(f"patch no longer applies: ipcshm_size defined in {defs}")
            patch(defs[0], r"^uint64_t ipcshm_size\(", "uint32_t ipcshm_size(")

        def mid_insert(d):
            patch(header(d), r"(typedef struct ipcshm_info \{\n[^\n]*\n)",
                  r"\1  uint32_t inserted_mid;\n")
            relax_size_asserts(d)

        def end_growth(d):
            patch(header(d), r"\n(\} ipcshm_info_t;)", r"\n  uint64_t added_at_end;\n\1")
            relax_size_asserts(d)

        def drop_from_map(d):
            patch(amap(d), r"^\s*ipcshm_ftok;\n", "")

        def drop_from_map_and_header(d):
            drop_from_map(d)
            patch(header(d), r"^IPCSHM_EXPORT[^;]*\bipcshm_ftok\s*\([^;]*;\n", "")

        def move_to_new_node(d):
            drop_from_map(d)
            with open(amap(d), "a") as f:
                f.write(f"\nIPCSHM_SELFTEST_1 {{\n  global:\n    ipcshm_ftok;\n}} {last_node(d)};\n")

        def leak(d):
            patch(amap(d), r"^\s*local:\s*\n?\s*\*\s*;\n", "")

        def header_only(d):
            before_cplusplus_end(d, "IPCSHM_EXPORT int ipcshm_selftest_missing(void);\n")

        def map_ghost(d):
            patch(amap(d), r"^(IPCSHM_1\.0 \{\s*\n\s*global:\s*\n)",
                  r"\1    ipcshm_selftest_ghost;\n")

        def not_c99(d):
            before_cplusplus_end(d, "enum { IPCSHM_SELFTEST_BIG = 1u << 31 };\n")

        def proper_addition(d):
            with open(amap(d), "a") as f:
                f.write(f"\nIPCSHM_SELFTEST_1 {{\n  global:\n    ipcshm_selftest_added;\n}} "
                        f"{last_node(d)};\n")
            before_cplusplus_end(d, "/* Added in the self-test's version node. */\n"
                                    "IPCSHM_EXPORT int ipcshm_selftest_added(void);\n")
            with open(os.path.join(d, "src", "zz_selftest_added.cc"), "w") as f:
                f.write('#include "ipcshm.h"\nint ipcshm_selftest_added(void) { return 42; }\n')

        # (name, what it does, patch, rebuild: compile|nodebug|link|none, parts that must fail)
        variants = [
            ("unaltered", "the copy as it is", None, "none", set()),
            ("ret-narrowed", "ipcshm_size returns uint32_t", ret_narrowed, "compile",
             {"abidiff"}),
            ("mid-insert", "ipcshm_info_t gets a member after struct_size", mid_insert,
             "compile", {"abidiff"}),
            ("end-growth", "ipcshm_info_t grows at its end (allowed by the suppression)",
             end_growth, "compile", set()),
            ("map-drop", "ipcshm_ftok dropped from the map only", drop_from_map, "link",
             {"header", "abidiff"}),
            ("map-header-drop", "ipcshm_ftok dropped from map and header (only abidiff "
             "can tell)", drop_from_map_and_header, "link", {"abidiff"}),
            ("node-move", "ipcshm_ftok moved to a new version node", move_to_new_node, "link",
             {"abidiff"}),
            ("leak", "the map lost 'local: *;' (libstdc++ template symbols leak)", leak,
             "link", {"map", "symbols"}),
            ("header-extra", "ipcshm.h declares a function the map lacks", header_only,
             "none", {"header"}),
            ("map-ghost", "the map lists a function nobody defines", map_ghost, "link",
             {"symbols", "header"}),
            ("not-c99", "ipcshm.h gets an enumerator out of int range (1u << 31)", not_c99,
             "none", {"header"}),
            ("no-debug-info", "built with -g0", None, "nodebug", {"abidiff"}),
            ("new-function", "a new function in a new version node, declared in ipcshm.h",
             proper_addition, "compile", set()),
        ]
        codes = {}
        for name, what, fn, rebuild, must_fail in variants:
            d = base if fn is None and rebuild == "none" else b.copy(name)
            if fn:
                fn(d)
            if rebuild == "compile":
                lib = b.link(d, b.compile(d))
            elif rebuild == "nodebug":
                lib = b.link(d, b.compile(d, debug=False))
            elif rebuild == "link":
                lib = b.link(d, base_objs)
            else:
                lib = base_lib
            p, failed, rc = run_check(args, d, lib, baseline)
            codes[name] = rc
            want = "pass" if not must_fail else "fail in " + ", ".join(sorted(must_fail))
            got = "pass" if p.returncode == 0 else (
                "fail in " + ", ".join(sorted(failed)) if failed else f"exit {p.returncode}")
            ok = (p.returncode == 0) if not must_fail else (p.returncode == 1 and
                                                            failed == must_fail)
            expect(name, f"{what}: must {want}, did {got} (abidiff exit {rc})", ok,
                   p.stdout)

            if name == "no-debug-info":
                expect(name, "says the check needs debug info",
                       "ABI check needs a build with debug info" in p.stdout, p.stdout)
            if name == "end-growth":
                # The suppression is what lets it pass: without it, abidiff reports it.
                q = sh(["abidiff", "--no-added-syms", "--headers-dir2",
                        os.path.join(d, "include"), baseline, lib], check=False)
                expect(name, f"without abi/suppressions.abignore abidiff exits "
                       f"{q.returncode} (bit 4 set)", q.returncode & 4 == 4, q.stdout)
            if name == "mid-insert":
                # The suppression does not hide a mid-struct insertion.
                committed = os.path.join(args.src, "abi", "libipcshm.abi")
                q, qf, qrc = run_check(args, d, lib, committed, ["--parts", "abidiff"])
                expect(name, f"fails against the committed baseline too (abidiff exit "
                       f"{qrc})", q.returncode == 1 and qf == {"abidiff"}, q.stdout)
            if name == "new-function":
                nm = sh(["nm", "-D", "--defined-only", lib]).stdout
                expect(name, "ipcshm_selftest_added@@IPCSHM_SELFTEST_1 exported",
                       "ipcshm_selftest_added@@IPCSHM_SELFTEST_1" in nm, nm)

        # abigail-tools missing: auto skips (77), enabled fails.
        for mode, want in (("auto", 77), ("enabled", 1)):
            p, _, _ = run_check(args, base, base_lib, baseline,
                                ["--parts", "abidiff", "--abidiff", "/nonexistent/abidiff",
                                 "--abidiff-mode", mode])
            expect("no-abidiff", f"abi_check={mode} without abidiff: exit {p.returncode}, "
                   f"must be {want}", p.returncode == want, p.stdout)

        log("selftest: abidiff exit codes: " +
            ", ".join(f"{k}={v}" for k, v in codes.items()))
    except RuntimeError as e:
        log(f"selftest: ERROR: {e}")
        return 1
    finally:
        if args.keep:
            log(f"selftest: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if FAILS:
        log(f"selftest: FAILED: {', '.join(FAILS)}")
        return 1
    log("selftest: PASS: abi/check fails on every broken variant and passes on the good ones")
    return 0


if __name__ == "__main__":
    sys.exit(main())
