#!/usr/bin/env python3
"""libipcshm installed into a private prefix, used as a new user would.

    install_test.py --src SRCROOT --work DIR [--cc CC] [--cxx CXX] [--cargo CARGO]
                    [--docs] [--setup-arg ARG ...]

1. `meson setup --prefix=DIR/prefix -Dtests=false` of the source tree in
   DIR/build (kept between runs: incremental), `meson install` (a real one, no
   DESTDIR) into a fresh DIR/prefix.
2. Every file is where it belongs: the library and its two links, the headers,
   ipcshm.pc, the tool and its man page (and, with --docs, the section-3 pages
   of every exported function and the HTML reference).
3. The tool runs with no environment help (its $ORIGIN run path), also after the
   prefix is moved elsewhere.
4. pkg-config sees nothing but this prefix's .pc (PKG_CONFIG_LIBDIR): ipcshm.pc
   needs no other package's .pc (no libbsd), and gives -I, -L, -lipcshm.
5. A C99 and a C++20 program built with `pkg-config --cflags --libs ipcshm` alone
   share an object with each other, run as the README says: LD_LIBRARY_PATH for
   the private prefix, or an rpath given when linking. Without either they cannot
   find the library (the reason the README says so).
6. A new Rust program depending on the `ipcshm` crate builds with only
   PKG_CONFIG_PATH pointing at the prefix (no IPCSHM_LIB_DIR) and answers the C
   program; without pkg-config's help, the build stops with a message naming
   libipcshm-dev and the variables to set.
7. `pip install ./bindings/python` into a virtual environment, offline; the
   installed package finds the library by its SONAME, answers the C program,
   IPCSHM_LIBRARY overrides, and without either the ImportError names both.
Objects are removed even on failure; DIR is inside the meson build tree.
"""

import argparse
import glob
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys

TRIPLET_RE = re.compile(r"^lib/[a-z0-9_]+-linux-gnu[a-z0-9_]*$")


def say(msg):
    print(f"install: {msg}", flush=True)


def fail(msg):
    raise SystemExit(f"install: FAILED: {msg}")


def run(cmd, env=None, check=True, cwd=None, quiet=False):
    say("$ " + shlex.join(cmd))
    p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.stdout.strip() and (not quiet or (check and p.returncode != 0)):
        print(p.stdout.rstrip(), flush=True)
    if check and p.returncode != 0:
        fail(f"exit {p.returncode}: {shlex.join(cmd)}")
    return p


def clean_env(**extra):
    """The environment of a new shell: nothing that points at the build tree."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LD_", "PKG_CONFIG", "IPCSHM_", "PYTHON", "CARGO_",
                                "RUSTFLAGS", "MESON"))}
    env.update(extra)
    return env


class Objects:
    """Unique POSIX names of this run, removed at the end whatever happened."""

    def __init__(self):
        self.names = []

    def new(self, tag):
        name = f"/ipcshm-install-{os.getpid()}-{secrets.token_hex(4)}-{tag}"
        self.names.append(name)
        return name

    def cleanup(self):
        for name in self.names:
            try:
                os.unlink("/dev/shm" + name)
                say(f"removed {name}, left behind by a failure")
            except FileNotFoundError:
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--meson", default="meson")
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--cxx", default="c++")
    ap.add_argument("--cargo")
    ap.add_argument("--docs", action="store_true")
    ap.add_argument("--setup-arg", action="append", default=[])
    args = ap.parse_args()
    src = os.path.abspath(args.src)
    work = os.path.abspath(args.work)
    here = os.path.join(src, "tests", "install")
    meson = shlex.split(args.meson)
    objects = Objects()
    try:
        test(args, src, work, here, meson, objects)
    finally:
        objects.cleanup()
    say("PASS")
    return 0


def test(args, src, work, here, meson, objects):
    os.makedirs(work, exist_ok=True)
    build = os.path.join(work, "build")
    prefix = os.path.join(work, "prefix")
    shutil.rmtree(prefix, ignore_errors=True)
    tmp = os.path.join(work, "tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    env0 = clean_env()

    # 1. configure, build, install ------------------------------------------------
    options = [f"--prefix={prefix}", "-Dtests=false",
               f"-Ddocs={'enabled' if args.docs else 'disabled'}"] + args.setup_arg
    if os.path.exists(os.path.join(build, "build.ninja")):
        run(meson + ["configure", build] + options, env=env0, quiet=True)
    else:
        run(meson + ["setup", build, src] + options, env=env0, quiet=True)
    run(meson + ["compile", "-C", build], env=env0, quiet=True)
    run(meson + ["install", "-C", build], env=env0, quiet=True)

    # 2. what was installed ------------------------------------------------------
    libdirs = glob.glob(os.path.join(prefix, "lib", "*", "libipcshm.so"))
    if len(libdirs) != 1:
        fail(f"expected one lib/<triplet>/libipcshm.so under {prefix}, found {libdirs}")
    libdir = os.path.dirname(libdirs[0])
    if not TRIPLET_RE.match(os.path.relpath(libdir, prefix)):
        fail(f"libdir {libdir} is not the multiarch lib/<triplet>")
    version = run(meson + ["introspect", build, "--projectinfo"], env=env0,
                  quiet=True).stdout
    version = re.search(r'"version": "([0-9.]+)"', version).group(1)
    real = f"libipcshm.so.{version}"
    for link, target in (("libipcshm.so.1", real), ("libipcshm.so", "libipcshm.so.1")):
        got = os.readlink(os.path.join(libdir, link))
        if got != target:
            fail(f"{link} -> {got}, expected -> {target}")
    lib = os.path.join(libdir, "libipcshm.so.1")
    pcdir = os.path.join(libdir, "pkgconfig")
    expected = [os.path.join(libdir, real), os.path.join(pcdir, "ipcshm.pc"),
                os.path.join(prefix, "include", "ipcshm.h"),
                os.path.join(prefix, "include", "ipcshm.hpp"),
                os.path.join(prefix, "bin", "ipcshm"),
                os.path.join(prefix, "share", "man", "man1", "ipcshm.1")]
    if args.docs:
        with open(os.path.join(src, "abi", "libipcshm.map")) as f:
            exported = re.findall(r"^\s+(ipcshm_\w+);", f.read(), re.M)
        expected += [os.path.join(prefix, "share", "man", "man3", f"{name}.3")
                     for name in exported]
        expected += [os.path.join(prefix, "share", "man", "man3", "ipcshm.h.3"),
                     os.path.join(prefix, "share", "doc", "libipcshm", "html",
                                  "index.html")]
    missing = [p for p in expected if not os.path.exists(p)]
    if missing:
        fail(f"not installed: {missing}")
    say(f"installed into {prefix}: {len(expected)} files checked, libdir "
        f"{os.path.relpath(libdir, prefix)}")

    # 3. the tool, with nothing in the environment -------------------------------
    tool = os.path.join(prefix, "bin", "ipcshm")
    out = run([tool, "--version"], env=env0).stdout
    if f"libipcshm {version}" not in out:
        fail(f"the tool says {out!r}")
    ldd = run(["ldd", tool], env=env0, quiet=True).stdout
    if os.path.realpath(lib) not in {os.path.realpath(w) for w in ldd.split()
                                     if "libipcshm" in w and w.startswith("/")}:
        fail(f"the tool does not load {lib}:\n{ldd}")
    name = objects.new("tool")
    run([tool, "create", name, "4096"], env=env0)
    run([tool, "info", name, "--json"], env=env0)
    run([tool, "rm", name], env=env0)
    moved = os.path.join(tmp, "moved")
    shutil.copytree(prefix, moved, symlinks=True)
    out = run([os.path.join(moved, "bin", "ipcshm"), "--version"], env=env0).stdout
    shutil.rmtree(moved)
    say("the tool runs in place and from a moved copy of the prefix ($ORIGIN run path)")

    # 4. pkg-config sees this .pc only -------------------------------------------
    pc_env = clean_env(PKG_CONFIG_LIBDIR=pcdir)
    if run(["pkg-config", "--print-requires-private", "ipcshm"], env=pc_env).stdout.strip():
        fail("ipcshm.pc has Requires.private")
    flags = shlex.split(run(["pkg-config", "--cflags", "--libs", "ipcshm"],
                            env=pc_env).stdout)
    if flags != [f"-I{prefix}/include", f"-L{libdir}", "-lipcshm"]:
        fail(f"pkg-config --cflags --libs ipcshm gave {flags}")
    if run(["pkg-config", "--modversion", "ipcshm"], env=pc_env).stdout.strip() != version:
        fail("pkg-config --modversion is not the project version")
    # What the README says for a private prefix: PKG_CONFIG_PATH (the system's .pc
    # files stay visible).
    pc_env = clean_env(PKG_CONFIG_PATH=pcdir)

    # 5. C and C++ programs of a user --------------------------------------------
    strict = ["-pedantic", "-Wall", "-Wextra", "-Werror"]
    cflags = shlex.split(run(["pkg-config", "--cflags", "--libs", "ipcshm"],
                             env=pc_env).stdout)
    c_prog = os.path.join(tmp, "consumer")
    c_rpath = os.path.join(tmp, "consumer-rpath")
    cpp_prog = os.path.join(tmp, "consumer_cpp")
    run(shlex.split(args.cc) + ["-std=c99"] + strict +
        [os.path.join(here, "consumer.c"), "-o", c_prog] + cflags, env=pc_env)
    run(shlex.split(args.cc) + ["-std=c99"] + strict +
        [os.path.join(here, "consumer.c"), "-o", c_rpath] + cflags +
        [f"-Wl,-rpath,{libdir}"], env=pc_env)
    run(shlex.split(args.cxx) + ["-std=c++20"] + strict +
        [os.path.join(here, "consumer.cpp"), "-o", cpp_prog] + cflags, env=pc_env)
    needed = run(["readelf", "-d", c_prog], quiet=True).stdout
    if "[libipcshm.so.1]" not in needed or "libbsd" in needed:
        fail(f"the C program's DT_NEEDED:\n{needed}")

    # Without LD_LIBRARY_PATH or an rpath, a private prefix is not found.
    name = objects.new("unfound")
    p = run([c_prog, "create", name, lib], env=env0, check=False)
    if p.returncode != 127 or "libipcshm.so.1" not in p.stdout:
        fail(f"a program of a private prefix ran without LD_LIBRARY_PATH ({p.returncode})")
    run_env = clean_env(LD_LIBRARY_PATH=libdir)
    name = objects.new("cpp")
    run([c_prog, "create", name, lib], env=run_env)
    run([cpp_prog, name, lib], env=run_env)
    run([c_rpath, "verify", name, lib], env=env0)
    say("C and C++ programs built with pkg-config alone share an object")

    # 6. a new Rust program -------------------------------------------------------
    if args.cargo:
        rust(args, src, work, here, tmp, lib, libdir, pcdir, c_rpath, env0, objects)
    else:
        say("SKIPPED the Rust program: no cargo (scripts/setup.sh installs it)")

    # 7. pip install into a virtual environment ----------------------------------
    python(src, work, here, tmp, lib, libdir, c_rpath, env0, objects)


def rust(args, src, work, here, tmp, lib, libdir, pcdir, c_prog, env0, objects):
    project = os.path.join(tmp, "rust-consumer")
    os.makedirs(os.path.join(project, "src"))
    crate = os.path.join(src, "bindings", "rust", "ipcshm")
    with open(os.path.join(project, "Cargo.toml"), "w") as f:
        f.write('[package]\nname = "consumer"\nversion = "0.1.0"\nedition = "2021"\n\n'
                f'[dependencies]\nipcshm = {{ path = "{crate}" }}\n')
    shutil.copy(os.path.join(here, "consumer.rs"), os.path.join(project, "src", "main.rs"))
    target = os.path.join(work, "cargo-target")     # kept: incremental
    cargo = shlex.split(args.cargo) + ["build", "--offline", "--quiet"]

    # No pkg-config help: the build script says what to do.
    empty = os.path.join(tmp, "no-pkgconfig")
    os.makedirs(empty)
    p = run(cargo, cwd=project, check=False, quiet=True,
            env=clean_env(CARGO_TARGET_DIR=target, PKG_CONFIG_LIBDIR=empty))
    if p.returncode == 0:
        fail("the Rust program built although pkg-config cannot find ipcshm")
    for words in ("ipcshm-sys: cannot find libipcshm", "apt install libipcshm-dev",
                  "PKG_CONFIG_PATH=PREFIX/lib/x86_64-linux-gnu/pkgconfig",
                  "IPCSHM_LIB_DIR", "LD_LIBRARY_PATH"):
        if words not in p.stdout:
            fail(f"the build script's message lacks {words!r}:\n{p.stdout}")
    say("without pkg-config's help the Rust build stops and says what to install and set")

    env = clean_env(CARGO_TARGET_DIR=target, PKG_CONFIG_PATH=pcdir)
    run(cargo, cwd=project, env=env)
    exe = os.path.join(target, "debug", "consumer")
    name = objects.new("rust")
    run_env = clean_env(LD_LIBRARY_PATH=libdir)
    run([c_prog, "create", name, lib], env=env0)
    run([exe, name, lib], env=run_env)
    run([c_prog, "verify", name, lib], env=env0)
    say("a new Rust program (crate ipcshm, pkg-config) answers the C program")


def python(src, work, here, tmp, lib, libdir, c_prog, env0, objects):
    py = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
    wheels = "/usr/share/python-wheels"
    for wheel in ("setuptools", "wheel"):
        if not glob.glob(os.path.join(wheels, f"{wheel}-*.whl")):
            fail(f"no {wheels}/{wheel}-*.whl: install python3-{wheel}-whl "
                 "(scripts/setup.sh does)")
    venv = os.path.join(tmp, "venv")
    run([py, "-m", "venv", venv], env=env0)
    # pip builds in the directory it is given: a copy, so that the source tree
    # gets no build/ or egg-info.
    pkg = os.path.join(tmp, "python")
    shutil.copytree(os.path.join(src, "bindings", "python"), pkg,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    vpy = os.path.join(venv, "bin", "python")
    run([vpy, "-m", "pip", "install", "--no-index", "--find-links", wheels,
         "--no-cache-dir", "--disable-pip-version-check", pkg],
        env=clean_env(PIP_NO_INPUT="1"))
    show = run([vpy, "-m", "pip", "show", "-f", "ipcshm"], env=env0, quiet=True).stdout
    for f in ("ipcshm/py.typed", "ipcshm/__init__.pyi", "ipcshm/decl.h"):
        if f not in show:
            fail(f"pip installed no {f}:\n{show}")
    # The compiled module (setup.py) where a compiler and Python's headers are,
    # and the package over ctypes alone where they are not.
    has_headers = os.path.exists(run([py, "-c", "import sysconfig; print("
                                      "sysconfig.get_paths()['include'])"],
                                     env=env0, quiet=True).stdout.strip() + "/Python.h")
    if has_headers and "ipcshm/_ext." not in show:
        fail(f"pip built no ipcshm._ext where Python.h is:\n{show}")
    shutil.rmtree(pkg)          # (with the build that pip left in it)
    shutil.copytree(os.path.join(src, "bindings", "python"), pkg,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    pure_venv = os.path.join(tmp, "venv-pure")
    run([py, "-m", "venv", pure_venv], env=env0)
    pure_py = os.path.join(pure_venv, "bin", "python")
    run([pure_py, "-m", "pip", "install", "--no-index", "--find-links", wheels,
         "--no-cache-dir", "--disable-pip-version-check", pkg],
        env=clean_env(PIP_NO_INPUT="1", CC="/nonexistent/cc"))
    shutil.rmtree(pkg)
    show = run([pure_py, "-m", "pip", "show", "-f", "ipcshm"], env=env0, quiet=True).stdout
    if "ipcshm/_ext." in show:
        fail(f"a build without a compiler installed a compiled module:\n{show}")

    # By SONAME, through the loader's search path.
    run_env = clean_env(LD_LIBRARY_PATH=libdir)
    name = objects.new("python")
    run([c_prog, "create", name, lib], env=env0)
    run([vpy, os.path.join(here, "consumer.py"), name, lib], env=run_env, cwd=tmp)
    run([c_prog, "verify", name, lib], env=env0)

    probe = ("import ipcshm, os; print(ipcshm.__version__, "
             "os.path.realpath(ipcshm.library_path))")
    # IPCSHM_LIBRARY overrides the loader's search (here: the build's copy).
    other = os.path.join(work, "build", "src", "libipcshm.so.1")
    out = run([vpy, "-c", probe], cwd=tmp,
              env=clean_env(LD_LIBRARY_PATH=libdir, IPCSHM_LIBRARY=other)).stdout
    if out.split()[-1] != os.path.realpath(other):
        fail(f"IPCSHM_LIBRARY={other} did not override: {out}")
    # Neither: an ImportError that names both (unless a system copy is installed).
    p = run([vpy, "-c", probe], cwd=tmp, env=env0, check=False)
    if p.returncode == 0:
        say(f"an installed libipcshm.so.1 is in the loader's cache: {p.stdout.strip()}")
    elif not all(w in p.stdout for w in ("IPCSHM_LIBRARY is not set",
                                         "does not find libipcshm.so.1",
                                         "apt install libipcshm1")):
        fail(f"the ImportError does not say what to do:\n{p.stdout}")
    # The compiled module is used (where it was built), and the package
    # without it works the same.
    probe = ("import ipcshm\nwith ipcshm.SharedMemory(create=True, size=64) as s:\n"
             "    s.buf[0] = 1\nprint(ipcshm.extension_path)")
    run_env = clean_env(LD_LIBRARY_PATH=libdir)
    out = run([vpy, "-c", probe], cwd=tmp, env=run_env).stdout.strip()
    if has_headers and not out.startswith(venv):
        fail(f"the venv's ipcshm does not use its compiled module: {out}")
    out = run([pure_py, "-c", probe], cwd=tmp, env=run_env).stdout.strip()
    if out != "None":
        fail(f"the package built without a compiler loaded a module: {out}")
    say("pip install offline into a venv (with and without a C compiler); the "
        "package finds the library by SONAME")


if __name__ == "__main__":
    sys.exit(main())
