#!/usr/bin/env python3
"""Fast checks of the packaging (meson test --suite packaging).

    check_packaging.py versions --src SRCROOT
        The release's version is the same everywhere it is written: meson.build,
        include/ipcshm.h, debian/changelog, the Python package, both crates.
    check_packaging.py symbols --src SRCROOT --lib LIBRARY
        debian/gen-symbols' file for abi/libipcshm.map matches the built library
        exactly (dpkg-gensymbols -c4, as the package build does), and a file with
        one function at the wrong version fails the same comparison.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile


def read(src, path):
    with open(os.path.join(src, path)) as f:
        return f.read()


def versions(src):
    found = {}
    m = re.search(r"^project\([^)]*?version:\s*'([0-9.]+)'", read(src, "meson.build"),
                  re.M | re.S)
    found["meson.build"] = m and m.group(1)
    h = read(src, "include/ipcshm.h")
    parts = [re.search(rf"#define IPCSHM_VERSION_{p} (\d+)", h) for p in
             ("MAJOR", "MINOR", "PATCH")]
    found["include/ipcshm.h"] = ".".join(p.group(1) for p in parts) if all(parts) else None
    m = re.match(r"libipcshm \(([^)-]+)(?:-[^)]*)?\)", read(src, "debian/changelog"))
    found["debian/changelog"] = m and m.group(1)
    m = re.search(r'__version__ = "([0-9.]+)"', read(src, "bindings/python/ipcshm/_version.py"))
    found["bindings/python/ipcshm/_version.py"] = m and m.group(1)
    for crate in ("ipcshm-sys", "ipcshm"):
        path = f"bindings/rust/{crate}/Cargo.toml"
        m = re.search(r'^version = "([0-9.]+)"', read(src, path), re.M)
        found[path] = m and m.group(1)
    want = found["meson.build"]
    wrong = {k: v for k, v in found.items() if v != want}
    for k, v in found.items():
        print(f"versions: {k}: {v}")
    if wrong:
        print(f"versions: FAILED: not {want}: {wrong} (debian/changelog: dch -v {want})")
        return 1
    print(f"versions: all {want}")
    return 0


def symbols(src, lib):
    gensym = shutil.which("dpkg-gensymbols")
    if not gensym:
        print("symbols: SKIP: dpkg-gensymbols (dpkg-dev) is not installed")
        return 77
    tmp = tempfile.mkdtemp(prefix="ipcshm-symbols-")
    try:
        good = os.path.join(tmp, "libipcshm1.symbols")
        out = subprocess.run([sys.executable, os.path.join(src, "debian", "gen-symbols"),
                              os.path.join(src, "abi", "libipcshm.map")],
                             stdout=subprocess.PIPE, text=True, check=True).stdout
        with open(good, "w") as f:
            f.write(out)
        print(out)

        def compare(symfile):
            return subprocess.run([gensym, "-plibipcshm1", "-v99", f"-e{lib}", f"-I{symfile}",
                                   f"-O{os.path.join(tmp, 'out')}", "-c4"], cwd=src,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

        p = compare(good)
        if p.returncode != 0:
            print(p.stdout)
            print("symbols: FAILED: the generated symbols file does not match the library")
            return 1
        # The comparison bites: one function of IPCSHM_1.1 claimed for 1.0.
        bad = os.path.join(tmp, "bad.symbols")
        with open(bad, "w") as f:
            f.write(out.replace(" ipcshm_fd@IPCSHM_1.1 1.1.0", " ipcshm_fd@IPCSHM_1.0 1.0.0"))
        if compare(bad).returncode == 0:
            print("symbols: FAILED: dpkg-gensymbols -c4 accepted a wrong symbols file")
            return 1
        print(f"symbols: {out.count('@IPCSHM_')} symbols, each at its node's version, "
              "match the library")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["versions", "symbols"])
    ap.add_argument("--src", required=True)
    ap.add_argument("--lib")
    args = ap.parse_args()
    if args.what == "versions":
        return versions(args.src)
    return symbols(args.src, args.lib)


if __name__ == "__main__":
    sys.exit(main())
