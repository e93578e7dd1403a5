#!/usr/bin/env python3
"""Proves that check_docs.py bites: the header with one exported function's
comment turned back into a plain /* */ comment must fail the check, naming it.

    check_docs_selftest.py --doxygen DOXYGEN --doxyfile BUILDDIR/doc/Doxyfile
                           --header include/ipcshm.h --map abi/libipcshm.map
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--doxygen", required=True)
    ap.add_argument("--doxyfile", required=True)
    ap.add_argument("--header", required=True)
    ap.add_argument("--map", required=True)
    args = ap.parse_args()
    with open(args.header) as f:
        header = f.read()
    # The comment of ipcshm_remove (IPCSHM_1.0) loses its Doxygen mark.
    victim = "ipcshm_remove"
    broken, n = re.subn(r"/\*\*( Removes the name of an object)", r"/*\1", header)
    if n != 1:
        sys.exit("selftest: cannot find the comment of ipcshm_remove to break")
    tmp = tempfile.mkdtemp(prefix="ipcshm-docs-selftest-")
    try:
        with open(os.path.join(tmp, "ipcshm.h"), "w") as f:
            f.write(broken)
        with open(args.doxyfile) as f:
            doxyfile = f.read()
        doxyfile += (f"\nINPUT = {tmp}/ipcshm.h\nUSE_MDFILE_AS_MAINPAGE =\n"
                     f"OUTPUT_DIRECTORY = {tmp}\nSTRIP_FROM_PATH = {tmp}\n"
                     f"WARN_LOGFILE = {tmp}/doxygen-warnings.log\n")
        with open(os.path.join(tmp, "Doxyfile"), "w") as f:
            f.write(doxyfile)
        subprocess.run([sys.executable, os.path.join(HERE, "run_doxygen.py"),
                        args.doxygen, os.path.join(tmp, "Doxyfile"), tmp], check=True)
        p = subprocess.run([sys.executable, os.path.join(HERE, "check_docs.py"),
                            "--map", args.map, "--out", tmp],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(p.stdout)
        if p.returncode == 0:
            sys.exit("selftest: FAILED: check_docs passed a header with "
                     f"{victim} undocumented")
        if f"{victim}: exported, but undocumented" not in p.stdout:
            sys.exit(f"selftest: FAILED: check_docs failed without naming {victim}")
        print(f"selftest: check_docs fails when {victim} is undocumented")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
