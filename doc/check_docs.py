#!/usr/bin/env python3
"""Fails when the API reference leaves an exported function undocumented.

    check_docs.py --map abi/libipcshm.map --out BUILDDIR/doc

Every name of the version script (all nodes: IPCSHM_1.0, 1.1, ...) must be a
function of Doxygen's XML for ipcshm.h with a description, and have its own
section-3 man page (man3/NAME.3) that leads to that description; Doxygen's
warnings (doxygen-warnings.log: an undocumented member, a broken command) fail
the check too.
"""
import argparse
import os
import re
import sys
import xml.etree.ElementTree as ET


def text(elem):
    return "" if elem is None else " ".join("".join(elem.itertext()).split())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--map", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with open(args.map) as f:
        exported = sorted(set(re.findall(r"^\s+(ipcshm_\w+);", f.read(), re.M)))
    if len(exported) < 20:
        sys.exit(f"check_docs: only {len(exported)} names in {args.map}")

    tree = ET.parse(os.path.join(args.out, "xml", "ipcshm_8h.xml"))
    documented = {}
    for m in tree.iter("memberdef"):
        if m.get("kind") != "function":
            continue
        doc = text(m.find("briefdescription")) + " " + text(m.find("detaileddescription"))
        documented[text(m.find("name"))] = doc.strip()

    problems = []
    for name in exported:
        if name not in documented:
            problems.append(f"{name}: exported, but not a function of the reference "
                            "(is it declared in ipcshm.h?)")
        elif len(documented[name].split()) < 2:
            problems.append(f"{name}: exported, but undocumented: give its declaration "
                            "a /** ... */ comment in ipcshm.h")
        page = os.path.join(args.out, "man3", name + ".3")
        try:
            with open(page) as f:
                first = f.readline().strip()
        except OSError:
            problems.append(f"{name}: no man page man3/{name}.3")
            continue
        if first != ".so man3/ipcshm.h.3":
            problems.append(f"man3/{name}.3 does not lead to ipcshm.h.3: {first!r}")

    log = os.path.join(args.out, "doxygen-warnings.log")
    with open(log) as f:
        warnings = f.read().strip()
    if warnings:
        problems.append("Doxygen warned:\n" + warnings)

    for p in problems:
        print("check_docs: " + p)
    if problems:
        return 1
    print(f"check_docs: {len(exported)} exported functions, each documented and with "
          "a man page; no Doxygen warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
