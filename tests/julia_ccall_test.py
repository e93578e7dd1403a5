#!/usr/bin/env python3
"""Checks the Julia module against the C library it calls, since Julia itself
cannot run here: every ccall names a symbol the library exports, passes as many
arguments as the C prototype takes, with Julia types that match the C types, and
ShmInfo has the fields of ipcshm_info_t in the same order and widths.

usage: julia_ccall_test.py HEADER JULIA_FILE LIBRARY
"""
import re
import subprocess
import sys

C_TO_JULIA = {
    "const char *": {"Cstring"},
    "char *": {"Cstring"},
    "uint64_t": {"UInt64"},
    "uint32_t": {"UInt32"},
    "int32_t": {"Int32"},
    "int64_t": {"Int64"},
    "int": {"Cint", "Int32"},
    "void": {"Cvoid", "Nothing"},
    "void *": {"Ptr{Cvoid}"},
    "const void *": {"Ptr{Cvoid}"},
    "ipcshm_t *": {"Ptr{Cvoid}"},
    "const ipcshm_t *": {"Ptr{Cvoid}"},
    "ipcshm_t **": {"Ptr{Ptr{Cvoid}}", "Ref{Ptr{Cvoid}}"},
    "ipcshm_info_t *": {"Ref{ShmInfo}", "Ptr{ShmInfo}"},
    "int32_t *": {"Ref{Int32}", "Ptr{Int32}"},
    "void **": {"Ref{Ptr{Cvoid}}", "Ptr{Ptr{Cvoid}}"},
}


def norm_ctype(text):
    text = re.sub(r"\s+", " ", text.strip())
    text = re.sub(r"\s*\*", " *", text).replace("* *", "**")
    return text


def c_prototypes(header):
    src = open(header).read()
    src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
    protos = {}
    for m in re.finditer(r"IPCSHM_EXPORT\s+([^;(]*?)\b(ipcshm_\w+)\s*\(([^)]*)\)\s*(?:IPCSHM_NOEXCEPT\s*)?;", src):
        ret, name, args = m.group(1), m.group(2), m.group(3).strip()
        params = []
        if args and args != "void":
            for a in args.split(","):
                a = a.strip()
                pm = re.match(r"(.*?[\s*])(\w+)$", a)
                params.append(norm_ctype(pm.group(1) if pm else a))
        protos[name] = (norm_ctype(ret), params)
    return protos


def split_top(text):
    """Splits a comma list at top level (ignoring commas inside {} and ())."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def matching_paren(text, start):
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unbalanced parentheses")


def julia_ccalls(path):
    src = open(path).read()
    calls = []
    for m in re.finditer(r"ccall\(", src):
        end = matching_paren(src, m.end() - 1)
        body = src[m.end():end]
        fields = split_top(body)
        sym = re.match(r"\(:(\w+),\s*libipcshm\)", fields[0])
        if not sym:
            raise AssertionError(f"ccall without (:symbol, libipcshm): {fields[0]}")
        ret = fields[1]
        argtuple = fields[2].strip()
        assert argtuple.startswith("(") and argtuple.endswith(")"), argtuple
        argtypes = split_top(argtuple[1:-1])
        values = fields[3:]
        line = src.count("\n", 0, m.start()) + 1
        calls.append((line, sym.group(1), ret, argtypes, values))
    return calls


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    return {l.split()[-1].split("@")[0] for l in out.splitlines() if l.strip()}


def shminfo_fields(path):
    src = open(path).read()
    body = re.search(r"mutable struct ShmInfo\n(.*?)\n\s*ShmInfo\(\)", src, re.S).group(1)
    return [tuple(f.strip().split("::")) for f in body.strip().splitlines()]


def c_info_fields(header):
    src = re.sub(r"/\*.*?\*/", "", open(header).read(), flags=re.S)
    body = re.search(r"typedef struct ipcshm_info \{(.*?)\} ipcshm_info_t;", src, re.S).group(1)
    fields = []
    for decl in body.split(";"):
        decl = decl.strip()
        if not decl:
            continue
        ctype, names = decl.split(None, 1)
        for n in names.split(","):
            fields.append((n.strip(), ctype))
    return fields


def main():
    header, jl, lib = sys.argv[1:4]
    protos = c_prototypes(header)
    symbols = exported(lib)
    errors = []
    calls = julia_ccalls(jl)
    for line, name, ret, argtypes, values in calls:
        where = f"{jl}:{line} {name}"
        if name not in symbols:
            errors.append(f"{where}: not exported by {lib}")
        if name not in protos:
            errors.append(f"{where}: not declared in {header}")
            continue
        cret, cparams = protos[name]
        if len(argtypes) != len(cparams):
            errors.append(f"{where}: {len(argtypes)} argument types, C has {len(cparams)}")
        if len(values) != len(argtypes):
            errors.append(f"{where}: {len(values)} values for {len(argtypes)} types")
        if ret not in C_TO_JULIA.get(cret, set()):
            errors.append(f"{where}: returns {ret}, C returns {cret}")
        for i, (jt, ct) in enumerate(zip(argtypes, cparams)):
            if jt not in C_TO_JULIA.get(ct, set()):
                errors.append(f"{where}: argument {i + 1} is {jt}, C has {ct}")

    widths = {"uint32_t": "UInt32", "int32_t": "Int32", "uint64_t": "UInt64", "int64_t": "Int64"}
    jfields = shminfo_fields(jl)
    cfields = [(n, widths[t]) for n, t in c_info_fields(header)]
    if jfields != cfields:
        errors.append(f"ShmInfo fields {jfields} differ from ipcshm_info_t {cfields}")

    for e in errors:
        print("FAIL:", e)
    print(f"{len(calls)} ccalls checked against {len(protos)} prototypes, "
          f"{len(cfields)} ShmInfo fields: {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
