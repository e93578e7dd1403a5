#!/usr/bin/env python3
"""Checks the Julia module against the C library it calls, since Julia itself
cannot run here: every ccall names a symbol the library exports, passes as many
arguments as the C prototype takes, with Julia types that match the C types, and
InfoStruct has the fields of ipcshm_info_t in the same order and widths. Also:
every function of the header has a ccall in the module (but for the few it leaves
out on purpose, listed below); every file of the source directory is included by
the module file; the library constant is the library's SONAME;
every `const NAME = T(value)` of the module is checked: libipcshm's flags and
kinds against the header, System V constants (IPC_CREAT, SHM_RDONLY, S_IRUSR,
...) against the C headers of this machine, with the Julia types IPC.jl gives
them; and the element type table (ELEMENT_TYPES) has the codes of the header's
IPCSHM_INT8 .. IPCSHM_COMPLEX128 enum, each with the Julia type of that name.

usage: julia_ccall_test.py HEADER LIBRARY CC JULIA_SRC_DIR
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

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
    "ipcshm_info_t *": {"Ref{InfoStruct}", "Ptr{InfoStruct}"},
    "int32_t *": {"Ref{Int32}", "Ptr{Int32}"},
    "void **": {"Ref{Ptr{Cvoid}}", "Ptr{Ptr{Cvoid}}"},
    "uint32_t *": {"Ref{UInt32}", "Ptr{UInt32}"},
    "const uint32_t *": {"Ref{UInt32}", "Ptr{UInt32}"},
    "uint64_t *": {"Ref{UInt64}", "Ptr{UInt64}"},
    "int64_t *": {"Ref{Int64}", "Ptr{Int64}"},
    "const int64_t *": {"Ref{Int64}", "Ptr{Int64}"},
}

# Functions of the header that the module does not call, and why.
NOT_WRAPPED = {
    "ipcshm_strerror": "Julia has Libc.strerror",
}

# System constants the module defines under IPC.jl's names, with the Julia type
# IPC.jl gives each (its deps/gencode.c: Cint for the IPC_*/SHM_* commands and
# flags, mode_t (UInt32 on Linux) for permission bits, key_t (Int32) for
# IPC_PRIVATE). Their values come from this machine's C headers.
SYSTEM_CONSTANTS = {
    "IPC_PRIVATE": "Int32", "IPC_CREAT": "Cint", "IPC_EXCL": "Cint",
    "IPC_RMID": "Cint", "IPC_SET": "Cint", "IPC_STAT": "Cint", "IPC_INFO": "Cint",
    "SHM_RDONLY": "Cint", "SHM_REMAP": "Cint", "SHM_EXEC": "Cint",
    "SHM_LOCK": "Cint", "SHM_UNLOCK": "Cint", "SHM_STAT": "Cint", "SHM_INFO": "Cint",
    "S_IRWXU": "UInt32", "S_IRUSR": "UInt32", "S_IWUSR": "UInt32", "S_IXUSR": "UInt32",
    "S_IRWXG": "UInt32", "S_IRGRP": "UInt32", "S_IWGRP": "UInt32", "S_IXGRP": "UInt32",
    "S_IRWXO": "UInt32", "S_IROTH": "UInt32", "S_IWOTH": "UInt32", "S_IXOTH": "UInt32",
}

# Constants of the module's own, with their only allowed value.
OWN_CONSTANTS = {"MASKMODE": 0o777}

# The SONAME that ccall names the library by.
SONAME = "libipcshm.so.1"

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


def info_struct_fields(sources):
    """The fields of `mutable struct InfoStruct` (the module's ipcshm_info_t)."""
    for path, src in sources:
        m = re.search(r"^mutable struct InfoStruct\n(.*?)\n\s*InfoStruct\(\)", src, re.S | re.M)
        if m:
            return [tuple(f.strip().split("::")) for f in m.group(1).strip().splitlines()]
    raise AssertionError("no `mutable struct InfoStruct` in the module")


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


def julia_constants(sources):
    """Every `const NAME = T(value)` and `const NAME = T(value) << k` of the
    module: {NAME: (T, value, where)}."""
    out = {}
    for path, src in sources:
        for m in re.finditer(r"^const (\w+) = (\w+)\(((?:0x|0o|0b)?[0-9a-fA-F_]+)\)(?: << (\d+))?$",
                             src, flags=re.M):
            line = src.count("\n", 0, m.start()) + 1
            value = int(m.group(3), 0) << int(m.group(4) or 0)
            out[m.group(1)] = (m.group(2), value, f"{path}:{line}")
    return out


def system_constant_values(cc, names):
    """The values of `names` in this machine's C headers, from a C program."""
    prog = ["#include <stdio.h>", "#include <sys/ipc.h>", "#include <sys/shm.h>",
            "#include <sys/stat.h>", "int main(void) {"]
    prog += [f'  printf("{n} %lld\\n", (long long)({n}));' for n in sorted(names)]
    prog += ["  return 0;", "}"]
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "constants.c"), os.path.join(tmp, "constants")
        with open(src, "w") as f:
            f.write("\n".join(prog) + "\n")
        subprocess.run([cc, "-D_GNU_SOURCE", "-o", exe, src], check=True)
        out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    return {n: int(v) for n, v in (line.split() for line in out.splitlines())}


def soname(lib):
    out = subprocess.run(["readelf", "-d", lib], check=True, capture_output=True,
                         text=True).stdout
    m = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", out)
    return m.group(1) if m else None


def julia_library_constant(sources):
    for path, src in sources:
        m = re.search(r'^const libipcshm = "([^"]*)"$', src, flags=re.M)
        if m:
            return m.group(1)
    return None


def julia_element_table(sources):
    """(Julia type, code, C name) of each line of the ELEMENT_TYPES table."""
    for path, src in sources:
        m = re.search(r"^const ELEMENT_TYPES = \((.*?)^\)", src, flags=re.S | re.M)
        if m:
            break
    else:
        raise AssertionError("no ELEMENT_TYPES table in the module")
    rows = []
    for line in m.group(1).strip().splitlines():
        lm = re.fullmatch(r"\s*(\w+)\s*=>\s*(\d+),\s*#\s*(IPCSHM_\w+)\s*", line)
        if not lm:
            raise AssertionError(f"{path}: unexpected ELEMENT_TYPES line {line!r}")
        rows.append((lm.group(1), int(lm.group(2)), lm.group(3)))
    return rows


def main():
    header, lib, cc, srcdir = sys.argv[1:5]
    files = sorted(glob.glob(os.path.join(srcdir, "*.jl")))
    sources = [(path, open(path).read()) for path in files]
    protos = c_prototypes(header)
    symbols = exported(lib)
    errors = []
    main_file = os.path.join(srcdir, "IpcShm.jl")
    included = re.findall(r'^include\("([^"]+)"\)$', open(main_file).read(), flags=re.M)
    for path in files:
        base = os.path.basename(path)
        if path != main_file and included.count(base) != 1:
            errors.append(f"{path}: included {included.count(base)} times by {main_file}")
    for base in sorted(set(included) - {os.path.basename(p) for p in files}):
        errors.append(f"{main_file} includes {base}, which is not in {srcdir}")
    calls = []
    for path, _ in sources:
        calls += [(f"{path}:{line}", name, ret, argtypes, values)
                  for line, name, ret, argtypes, values in julia_ccalls(path)]
    for where, name, ret, argtypes, values in calls:
        where = f"{where} {name}"
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
    jfields = info_struct_fields(sources)
    cfields = [(n, widths[t]) for n, t in c_info_fields(header)]
    if jfields != cfields:
        errors.append(f"InfoStruct fields {jfields} differ from ipcshm_info_t {cfields}")

    called = {name for _, name, _, _, _ in calls}
    for name in sorted(set(protos) - called - set(NOT_WRAPPED)):
        errors.append(f"{name}: declared in {header} but no ccall in the module")
    for name in sorted(set(NOT_WRAPPED) & called):
        errors.append(f"{name}: listed as not wrapped, but the module calls it")

    libconst = julia_library_constant(sources)
    if libconst != SONAME:
        errors.append(f"const libipcshm is {libconst!r}, expected the SONAME {SONAME!r}")
    if soname(lib) != SONAME:
        errors.append(f"{lib} has SONAME {soname(lib)!r}, the module names {SONAME!r}")

    enums = c_enums(header)
    consts = julia_constants(sources)
    system = system_constant_values(cc, SYSTEM_CONSTANTS)
    checked = 0
    for name, (jtype, value, where) in sorted(consts.items()):
        cname = "IPCSHM_" + name
        if cname in enums and cname not in ELEMENT_JULIA:
            if enums[cname] != value:
                errors.append(f"{where}: const {name} = {value}, {header} has {cname} = {enums[cname]}")
        elif name in SYSTEM_CONSTANTS:
            if system[name] != value:
                errors.append(f"{where}: const {name} = {value}, the C headers say {system[name]}")
            if jtype != SYSTEM_CONSTANTS[name]:
                errors.append(f"{where}: const {name} is a {jtype}, IPC.jl's is a {SYSTEM_CONSTANTS[name]}")
        elif name in OWN_CONSTANTS:
            if OWN_CONSTANTS[name] != value:
                errors.append(f"{where}: const {name} = {value}, expected {OWN_CONSTANTS[name]}")
        else:
            errors.append(f"{where}: const {name} is checked against nothing: add it to a table of this test")
            continue
        checked += 1
    for name in sorted(set(SYSTEM_CONSTANTS) - set(consts)):
        errors.append(f"{name}: no constant of that name in the module")
    for cname in sorted(set(enums) - set(ELEMENT_JULIA)):
        if cname[len("IPCSHM_"):] not in consts:
            errors.append(f"{cname}: no constant {cname[len('IPCSHM_'):]} in the module")

    table = julia_element_table(sources)
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
    print(f"{len(calls)} ccalls of {len(called)} functions in {len(files)} files checked "
          f"against {len(protos)} prototypes, {len(cfields)} InfoStruct fields, "
          f"{checked} constants, {len(table)} element codes: {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
