#!/usr/bin/env python3
"""Runs the Julia package's own tests (bindings/julia/IpcShm/test/runtests.jl and
the files it includes, what `Pkg.test("IpcShm")` runs) against this build's
library, when `julia` is on PATH; otherwise says so and exits 77, which meson
reports as skipped. (Debian 12 has no julia package, so on the machines of this
project the binding is checked without Julia: julia_ccalls, julia_syntax,
julia_api, julia_ipcjl_oracle.)

The package is copied into a folder of the build tree first, since Pkg.test
writes a Manifest.toml next to Project.toml.

usage: julia_pkg_test.py PACKAGE_DIR WORK_DIR LIBRARY
"""
import os
import shutil
import subprocess
import sys


def main():
    package, work, library = sys.argv[1:4]
    julia = shutil.which("julia")
    if not julia:
        print("julia is not on PATH: IpcShm's test/runtests.jl is not run here "
              "(Debian 12 has no julia package); install Julia 1.6 or newer to run it")
        return 77
    copy = os.path.join(work, "IpcShm")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("Manifest.toml"))
    env = dict(os.environ, IPCSHM_LIBRARY=library)
    cmd = [julia, "--startup-file=no", f"--project={copy}", "-e", "import Pkg; Pkg.test()"]
    print("running:", " ".join(cmd), flush=True)
    return subprocess.run(cmd, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
