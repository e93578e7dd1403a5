#!/usr/bin/env python3
"""Checks the Julia module against the C library it calls, since Julia itself
cannot run here: every ccall names a symbol the library exports, passes as many
arguments as the C prototype takes, with Julia types that match the C types, and
ShmInfo has the fields of ipcshm_info_t in the same order and widths. Also: every
function of the header has a ccall in the module (but for the few it leaves out
on purpose, listed below), the module's flag constants have the header's values,
and its element type table (ELEMENT_TYPES) has the codes of the header's
IPCSHM_INT8 .. IPCSHM_COMPLEX128 enum, each with the Julia type of that name.

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
    "uint32_t *": {"Ref{UInt32}", "Ptr{UInt32}"},
    "uint64_t *": {"Ref{UInt64}", "Ptr{UInt64}"},
    "int64_t *": {"Ref{Int64}", "Ptr{Int64}"},
    "const int64_t *": {"Ref{Int64}", "Ptr{Int64}"},
}

# Functions of the header that the module does not call, and why.
NOT_WRAPPED = {
    "ipcshm_strerror": "Julia has Libc.strerror",
    "ipcshm_sysv_get": "low-level System V: not part of the module",
    "ipcshm_sysv_attach": "low-level System V",
    "ipcshm_sysv_detach": "low-level System V",
    "ipcshm_sysv_ctl": "low-level System V",
    "ipcshm_sysv_remove": "low-level System V",
    "ipcshm_sysv_shmid_ds_size": "low-level System V",
    "ipcshm_ftok": "low-level System V",
}

# The Julia type of each element code of the header, by its C name.
ELEMENT_JULIA = {
    "IPCSHM_INT8": "Int8", "IPCSHM_UINT8": "UInt8",
    "IPCSHM_INT16": "Int16", "IPCSHM_UINT16": "UInt16",
    "IPCSHM_INT32": "Int32", "IPCSHM_UINT32": "UInt32",
    "IPCSHM_INT64": "Int64", "IPCSHM_UINT64": "UInt64",
    "IPCSHM_FLOAT32": "Float32", "IPCSHM_FLOAT64": "Float64",
    "IPCSHM_COMPLEX64": "ComplexF32", "IPCSHM_COMPLEX128": "ComplexF64",
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


def c_enums(header):
    """Every enumerator of the header's anonymous enums, with its value (counting
    on from the previous one where no value is given), as a C compiler would."""
    src = re.sub(r"/\*.*?\*/", "", open(header).read(), flags=re.S)
    values = {}
    for body in re.findall(r"\benum\s*\{(.*?)\}", src, flags=re.S):
        nxt = 0
        for item in body.split(","):
            item = item.strip()
            if not item:
                continue
            name, _, expr = item.partition("=")
            name = name.strip()
            if expr.strip():
                expr = re.sub(r"(\d+)u\b", r"\1", expr.strip())
                if not re.fullmatch(r"[\d\s<()x+|]+", expr):
                    raise AssertionError(f"enumerator {name}: cannot evaluate {expr!r}")
                value = eval(expr, {"__builtins__": {}})
            else:
                value = nxt
            values[name] = value
            nxt = value + 1
    return values


def julia_flags(path):
    """The module's `const NAME = UInt32(1) << k` and `const NAME = UInt32(k)`."""
    out = {}
    for m in re.finditer(r"^const (\w+) = UInt32\((\d+)\)(?: << (\d+))?$",
                         open(path).read(), flags=re.M):
        out[m.group(1)] = int(m.group(2)) << int(m.group(3) or 0)
    return out


def julia_element_table(path):
    """(Julia type, code, C name) of each line of the ELEMENT_TYPES table."""
    src = open(path).read()
    m = re.search(r"^const ELEMENT_TYPES = \((.*?)^\)", src, flags=re.S | re.M)
    if not m:
        raise AssertionError(f"{path}: no ELEMENT_TYPES table")
    rows = []
    for line in m.group(1).strip().splitlines():
        lm = re.fullmatch(r"\s*(\w+)\s*=>\s*(\d+),\s*#\s*(IPCSHM_\w+)\s*", line)
        if not lm:
            raise AssertionError(f"{path}: unexpected ELEMENT_TYPES line {line!r}")
        rows.append((lm.group(1), int(lm.group(2)), lm.group(3)))
    return rows


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

    called = {name for _, name, _, _, _ in calls}
    for name in sorted(set(protos) - called - set(NOT_WRAPPED)):
        errors.append(f"{name}: declared in {header} but no ccall in {jl}")
    for name in sorted(set(NOT_WRAPPED) & called):
        errors.append(f"{name}: listed as not wrapped, but {jl} calls it")

    enums = c_enums(header)
    flags = julia_flags(jl)
    for name, value in sorted(flags.items()):
        cname = "IPCSHM_" + name
        if cname not in enums:
            errors.append(f"{jl}: const {name} has no {cname} in {header}")
        elif enums[cname] != value:
            errors.append(f"{jl}: const {name} = {value}, {header} has {cname} = {enums[cname]}")
    for cname in sorted(set(enums) - set(ELEMENT_JULIA)):
        if cname[len("IPCSHM_"):] not in flags:
            errors.append(f"{cname}: no constant {cname[len('IPCSHM_'):]} in {jl}")

    table = julia_element_table(jl)
    ccodes = {n: v for n, v in enums.items() if n in ELEMENT_JULIA}
    if set(ccodes) != set(ELEMENT_JULIA):
        errors.append(f"element enum of {header}: {sorted(ccodes)}, expected {sorted(ELEMENT_JULIA)}")
    seen = set()
    for jtype, code, cname in table:
        seen.add(cname)
        if cname not in ccodes:
            errors.append(f"ELEMENT_TYPES: {cname} is not an element code of {header}")
            continue
        if code != ccodes[cname]:
            errors.append(f"ELEMENT_TYPES: {jtype} => {code}, but {cname} = {ccodes[cname]}")
        if jtype != ELEMENT_JULIA[cname]:
            errors.append(f"ELEMENT_TYPES: {cname} is {jtype}, expected {ELEMENT_JULIA[cname]}")
    for cname in sorted(set(ccodes) - seen):
        errors.append(f"ELEMENT_TYPES: no entry for {cname} = {ccodes[cname]}")
    if len({c for _, c, _ in table}) != len(table):
        errors.append("ELEMENT_TYPES: a code appears twice")

    for e in errors:
        print("FAIL:", e)
    print(f"{len(calls)} ccalls of {len(called)} functions checked against "
          f"{len(protos)} prototypes, {len(cfields)} ShmInfo fields, {len(flags)} flag "
          f"and kind constants, {len(table)} element codes: {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
