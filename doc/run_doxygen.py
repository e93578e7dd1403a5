#!/usr/bin/env python3
"""Runs Doxygen for the API reference (doc/meson.build) into OUTDIR, fresh.

    run_doxygen.py DOXYGEN DOXYFILE OUTDIR

Old html/, man3/ and xml/ go first, so no page of a removed function survives.
Doxygen's pages that are not the API's (the main page, directories) are removed
from man3/: only ipcshm.h.3, ipcshm_info_t's page and one page per documented
name of the header are installed in section 3, where names are shared with
every other package.
"""
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET


def main(doxygen, doxyfile, outdir):
    for d in ("html", "man3", "xml"):
        shutil.rmtree(os.path.join(outdir, d), ignore_errors=True)
    subprocess.run([doxygen, doxyfile], check=True)
    man3 = os.path.join(outdir, "man3")
    for page in os.listdir(man3):
        if not page.lower().startswith("ipcshm"):
            os.unlink(os.path.join(man3, page))
    # A struct and a function of the same name (struct ipcshm_info, ipcshm_info()):
    # NAME.3 leads to the function, in ipcshm.h.3; the struct's page becomes its
    # typedef's (ipcshm_info_t.3).
    index = ET.parse(os.path.join(outdir, "xml", "index.xml")).getroot()
    structs = {c.findtext("name") for c in index.iter("compound")
               if c.get("kind") == "struct"}
    functions = {m.findtext("name") for m in index.iter("member")
                 if m.get("kind") == "function"}
    for name in sorted(structs & functions):
        page = os.path.join(man3, name + ".3")
        typedef_page = os.path.join(man3, name + "_t.3")
        with open(page) as f:
            text = f.read()
        with open(typedef_page, "w") as f:
            f.write(text.replace(f'.TH "{name}" 3', f'.TH "{name}_t" 3', 1)
                        .replace(f"\n{name} \\- ", f"\n{name}_t \\- ", 1))
        with open(page, "w") as f:
            f.write(".so man3/ipcshm.h.3\n")
    for d in ("html", "man3", "xml"):
        if not os.path.isdir(os.path.join(outdir, d)):
            sys.exit(f"run_doxygen: doxygen wrote no {d}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
