#!/usr/bin/env python3
"""Checks, without Julia, that the Julia binding covers the shared-memory API of
InterProcessCommunication.jl (IPC.jl) v0.1.6 name for name and method for
method, from the parse of its files by tree-sitter-julia (julia_ast.py):

- every shared-memory name that IPC.jl exports is exported;
- every method of IPC.jl's table below has a method here that takes at least
  the same arguments (an argument type here covers IPC.jl's if it is the same,
  wider, or a Union holding it);
- IPC.jl's types have their fields (same names; ShmInfo also the same types, in
  the same order), and its constants and globals are defined;
- libipcshm's own API where IPC.jl has none (channels: ShmChannel, its
  methods and ChannelInfo's fields, as bindings/julia/README.md documents them);
- and the rules of this module: ENV is read only in `__init__` (the library is
  found when the module loads, not when it is precompiled); no ccall runs at the
  top level; each `new(...)` fills every field of its struct; every exported name
  is defined; every package the sources and tests load is in Project.toml;
  every file of test/ but child.jl (the other process) is included once by
  test/runtests.jl, which Pkg.test runs.

The table follows IPC.jl's sources (its git repository, InterProcessCommunication.jl):
src/InterProcessCommunication.jl (commit 1a9ceb43) lines 17-66 (exports);
src/types.jl (0ef65624) lines 67-91 (Key, ShmId, ShmInfo), 125-175
(SharedMemory, WrappedArray, its aliases, WrappedArrayHeader);
src/wrappedarrays.jl (fdc41e45) lines 77-132 (WrappedArray constructors),
158-216 (array methods); src/utils.jl (08a91d0d) lines 16-66 (Key, PRIVATE);
src/shm.jl (0.1.3 and later: the version with `unsafe_shmctl`): SharedMemory,
shmid, rm, shmrm, ShmId, shmget, shmat, shmdt, shmctl, shmcfg, ShmInfo, shminfo,
shminfo!; src/semaphores.jl (056fbe3d): Semaphore (anonymous, in memory), post,
wait, timedwait, trywait, sem[], sizeof, typemin, typemax, convert; and
src/locks.jl (1a9ceb43): Mutex, lock, unlock, trylock (libipcshm 1.2). Where
this module differs on purpose, DIFFERENCES says why (and
bindings/julia/README.md says it to users).

usage: julia_api_test.py PARSER_FOLDER JULIA_PACKAGE_DIR
"""
import os
import re
import sys
import tomllib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import julia_ast  # noqa: E402

IPCJL_EXPORTS = ["IPC", "SharedMemory", "ShmArray", "ShmId", "ShmInfo", "ShmMatrix",
                 "ShmVector", "WrappedArray", "shmat", "shmcfg", "shmctl", "shmdt",
                 "shmget", "shmid", "shminfo!", "shminfo", "shmrm",
                 # semaphores.jl, locks.jl (signalling, libipcshm 1.2)
                 "Semaphore", "post", "trywait", "timedlock", "TimeoutError"]

# (function, positional argument types) of IPC.jl's methods. "T...": vararg;
# None: untyped. Type variables of the `where` clause (T, N, M) stand for Any.
IPCJL_METHODS = [
    # shm.jl
    ("SharedMemory", ["Key", "Integer"]),
    ("SharedMemory", ["Key"]),
    ("SharedMemory", ["ShmId"]),
    ("SharedMemory", ["AbstractString", "Integer"]),
    ("SharedMemory", ["AbstractString"]),
    ("Base.sizeof", ["SharedMemory"]),
    ("Base.pointer", ["SharedMemory"]),
    ("Base.show", ["IO", "SharedMemory"]),
    ("shmid", ["SharedMemory"]),
    ("shmid", ["WrappedArray{T,N,<:SharedMemory}"]),
    ("shmid", ["ShmId"]),
    ("shmid", ["Key"]),
    ("Base.rm", ["SharedMemory"]),
    ("Base.rm", ["ShmId"]),
    ("Base.rm", ["Type{SharedMemory}", "Key"]),
    ("Base.rm", ["Type{SharedMemory}", "AbstractString"]),
    ("shmrm", ["SharedMemory"]),
    ("shmrm", ["Key"]),
    ("shmrm", ["AbstractString"]),
    ("shmrm", ["ShmId"]),
    ("Base.convert", ["Type{Cint}", "ShmId"]),
    ("Base.convert", ["Type{T}", "ShmId"]),
    ("Base.show", ["IO", "ShmId"]),
    ("Base.sizeof", ["ShmId"]),
    ("ShmId", ["ShmId"]),
    ("ShmId", ["SharedMemory{ShmId}"]),
    ("ShmId", ["WrappedArray{T,N,SharedMemory{ShmId}}"]),
    ("ShmId", ["Key"]),
    ("ShmId", ["Integer"]),
    ("shmget", ["Key", "Integer", "Integer"]),
    ("shmat", ["ShmId", "Bool"]),
    ("shmdt", ["Ptr{Cvoid}"]),
    ("shmctl", ["ShmId", "Integer", "DenseVector"]),
    ("unsafe_shmctl", ["ShmId", "Integer", None]),
    ("shmcfg", ["ShmId", "Integer"]),
    ("shmcfg", ["ShmArray", "Integer"]),
    ("shmcfg", ["Key", "Integer"]),
    ("ShmInfo", []),
    ("ShmInfo", ["ShmId"]),
    ("ShmInfo", ["ShmArray"]),
    ("ShmInfo", ["Key"]),
    ("shminfo", ["ShmId"]),
    ("shminfo", ["ShmArray"]),
    ("shminfo", ["Key"]),
    ("shminfo!", ["ShmId", "ShmInfo"]),
    ("shminfo!", ["Key", "ShmInfo"]),
    ("shminfo!", ["ShmArray", "ShmInfo"]),
    ("shminfo!", ["SharedMemory{ShmId}", "ShmInfo"]),
    # utils.jl, types.jl
    ("Key", ["Integer"]),
    ("Key", ["AbstractString", "Union{Char,Integer}"]),
    ("Base.convert", ["Type{T}", "Key"]),
    ("Base.show", ["IO", "Key"]),
    # wrappedarrays.jl
    ("WrappedArray", ["M"]),
    ("WrappedArray", ["M", "Type{T}"]),
    ("WrappedArray", ["M", "Type{T}", "Integer..."]),
    ("WrappedArray", ["M", "Type{T}", "NTuple{N,Integer}"]),
    ("WrappedArray", [None, "Function"]),
    ("WrappedArray", ["Union{AbstractString,ShmId,Key}", "Type{T}", "Integer..."]),
    ("WrappedArray", ["Union{AbstractString,ShmId,Key}", "Type{T}", "NTuple{N,Integer}"]),
    ("WrappedArray", ["Union{AbstractString,ShmId,Key}"]),
    ("Base.parent", ["WrappedArray"]),
    ("Base.length", ["WrappedArray"]),
    ("Base.sizeof", ["WrappedArray"]),
    ("Base.size", ["WrappedArray"]),
    ("Base.size", ["WrappedArray", "Integer"]),
    ("Base.axes", ["WrappedArray"]),
    ("Base.axes", ["WrappedArray", "Integer"]),
    ("Base.strides", ["WrappedArray"]),
    ("Base.stride", ["WrappedArray", "Integer"]),
    ("Base.IndexStyle", ["Type{<:WrappedArray}"]),
    ("Base.getindex", ["WrappedArray", "Int"]),
    ("Base.setindex!", ["WrappedArray", None, "Int"]),
    ("Base.copy", ["WrappedArray"]),
    ("Base.copyto!", ["WrappedArray", "AbstractArray"]),
    ("Base.reinterpret", ["Type{T}", "WrappedArray"]),
    ("Base.reshape", ["WrappedArray", "Tuple{Vararg{Int}}"]),
    ("Base.unsafe_convert", ["Type{Ptr{T}}", "WrappedArray{T}"]),
    ("Base.unsafe_convert", ["Type{Ptr{S}}", "WrappedArray{T}"]),
    ("Base.iterate", ["WrappedArray"]),
    ("Base.iterate", ["WrappedArray", None]),
    # semaphores.jl (anonymous semaphores: in memory, at an offset)
    ("Semaphore", ["M", "Integer"]),
    ("Semaphore", ["M"]),
    ("Base.sizeof", ["Type{Semaphore}"]),
    ("Base.typemin", ["Type{Semaphore}"]),
    ("Base.typemax", ["Type{Semaphore}"]),
    ("Base.getindex", ["Semaphore"]),
    ("Base.convert", ["Type{T}", "Semaphore"]),
    ("post", ["Semaphore"]),
    ("Base.wait", ["Semaphore"]),
    ("Base.timedwait", ["Semaphore", "Real"]),
    ("trywait", ["Semaphore"]),
    # locks.jl
    ("Mutex", ["T"]),
    ("Mutex", ["T", "Integer"]),
    ("Base.lock", ["Mutex"]),
    ("Base.unlock", ["Mutex"]),
    ("Base.trylock", ["Mutex"]),
]

# libipcshm's own API that bindings/julia/README.md documents where IPC.jl has
# nothing to follow: channels (SPEC §9, libipcshm 1.2), as methods, exports and
# fields, checked the same way.
OWN_EXPORTS = ["ShmChannel", "ChannelInfo", "BrokenPipeError"]
OWN_METHODS = [
    ("ShmChannel", ["AbstractString", None, "Integer", "Integer"]),
    ("ShmChannel", ["AbstractString", None]),
    ("ShmChannel", ["RawFD", None]),
    ("ShmChannel", ["SharedMemory", None]),
    ("Base.put!", ["ShmChannel", "AbstractArray{T}"]),
    ("Base.put!", ["ShmChannel", "DenseArray{T}"]),
    ("Base.put!", ["ShmChannel", "AbstractString"]),
    ("Base.put!", ["Function", "ShmChannel", "Type{T}", "Integer..."]),
    ("Base.put!", ["Function", "ShmChannel", "Type{T}", "NTuple{N,Integer}"]),
    ("Base.put!", ["Function", "ShmChannel", "Integer"]),
    ("Base.take!", ["ShmChannel"]),
    ("Base.take!", ["ShmChannel", "Type{T}", "Integer..."]),
    ("Base.take!", ["ShmChannel", "Type{T}", "NTuple{N,Integer}"]),
    ("Base.take!", ["Function", "ShmChannel"]),
    ("Base.take!", ["Function", "ShmChannel", "Type{T}", "Integer..."]),
    ("Base.take!", ["Function", "ShmChannel", "Type{T}", "NTuple{N,Integer}"]),
    ("recv!", ["ShmChannel", "DenseArray{T}"]),
    ("Base.iterate", ["ShmChannel"]),
    ("Base.iterate", ["ShmChannel", None]),
    ("Base.IteratorSize", ["Type{ShmChannel}"]),
    ("Base.eltype", ["Type{ShmChannel}"]),
    ("Base.isready", ["ShmChannel"]),
    ("Base.isopen", ["ShmChannel"]),
    ("Base.close", ["ShmChannel"]),
    ("Base.wait", ["ShmChannel"]),
    ("Base.fd", ["ShmChannel"]),
    ("Base.show", ["IO", "ShmChannel"]),
    ("ChannelInfo", ["ShmChannel"]),
    ("ChannelInfo", ["AbstractString"]),
    ("idstring", ["ShmChannel"]),
    ("shmid", ["ShmChannel"]),
    ("shmsend", [None, "ShmChannel"]),
    ("Base.showerror", ["IO", "BrokenPipeError"]),
]
OWN_FIELDS = {
    "ShmChannel": [("role", "UInt32"), ("id", "String"), ("slot_size", "Int"),
                   ("slot_count", "Int"), ("created", "Bool")],
    "ChannelInfo": [("kind", "UInt32"), ("slot_size", "Int"), ("slot_count", "Int"),
                    ("sender", "Symbol"), ("receiver", "Symbol"), ("queued", "Int"),
                    ("sent", "UInt64"), ("received", "UInt64")],
    "BrokenPipeError": [("msg", "String")],
}

# Fields of IPC.jl's types: (name, [(field, type or None: any type)]).
IPCJL_FIELDS = {
    "Key": [("value", "Int32")],
    "ShmId": [("value", "Int32")],
    "ShmInfo": [("atime", "UInt64"), ("dtime", "UInt64"), ("ctime", "UInt64"),
                ("segsz", "UInt64"), ("id", "Int32"), ("cpid", "Int32"),
                ("lpid", "Int32"), ("nattch", "Int32"), ("mode", "UInt32"),
                ("uid", "UInt32"), ("gid", "UInt32"), ("cuid", "UInt32"),
                ("cgid", "UInt32")],
    "SharedMemory": [("ptr", "Ptr{Cvoid}"), ("len", "Int"), ("volatile", "Bool"),
                     ("id", "T")],
    "WrappedArray": [("arr", "Array{T,N}"), ("mem", "M")],
    "WrappedArrayHeader": [("magic", "UInt32"), ("etype", "UInt16"), ("ndims", "UInt16"),
                           ("offset", "Int64")],
}
IPCJL_ABSTRACT = ["MemoryBlock"]
IPCJL_CONSTS = ["IPC", "PRIVATE", "WrappedVector", "WrappedMatrix", "ShmArray",
                "ShmVector", "ShmMatrix", "IPC_PRIVATE", "IPC_CREAT", "IPC_EXCL",
                "IPC_STAT", "IPC_SET", "IPC_RMID", "SHM_RDONLY", "S_IRWXU", "S_IRUSR",
                "S_IWUSR", "S_IXUSR", "S_IRWXG", "S_IRGRP", "S_IWGRP", "S_IXGRP",
                "S_IRWXO", "S_IROTH", "S_IWOTH", "S_IXOTH", "MASKMODE"]
IPCJL_GLOBALS = ["PAGE_SIZE", "_sizeof_struct_shmid_ds"]

# What IPC.jl has and this module leaves out on purpose.
DIFFERENCES = {
    "Base.write(mem, WrappedArrayHeader, T, dims)":
        "headers are written by libipcshm only (ipcshm_array_create): a second "
        "implementation of the header in Julia is what the bindings avoid",
    "Base.read(mem, WrappedArrayHeader) for any mem":
        "read(shm::SharedMemory, WrappedArrayHeader) asks libipcshm, which checks the "
        "header; other memory has no libipcshm handle",
    "SharedMemory(name, flags, mode, len, volatile)":
        "IPC.jl's POSIX form with raw open(2) flags: libipcshm's keywords say the same",
    "DynamicMemory":
        "malloc'ed memory, not shared: any object with pointer and sizeof can be wrapped",
    "Semaphore(name, value), Semaphore(name), rm(Semaphore, name)":
        "named POSIX semaphores (sem_open) are not libipcshm objects; Semaphore(name, ...) "
        "throws an ArgumentError that says to put one in a SharedMemory",
    "IPC.Mutex(buf, off; shared), IPC.Condition, IPC.RWLock":
        "pthread objects, laid out differently by glibc and musl: IPC.Mutex is libipcshm's "
        "robust mutex (initialised with init=true), and IPC.Event with it makes the "
        "condition variable",
}

ALIASES = {
    "ShmArray": "WrappedArray{T,N,<:SharedMemory}",
    "ShmVector": "WrappedArray{T,1,<:SharedMemory}",
    "ShmMatrix": "WrappedArray{T,2,<:SharedMemory}",
    "Cint": "Int32",
    "Cvoid": "Cvoid",
}

# Types that hold others, for arguments: wider => narrower ones it holds.
WIDER = {
    "Integer": {"Int", "Int32", "Int64", "UInt32", "Bool"},
    "Ptr": {"Ptr{Cvoid}"},
    "Tuple{Vararg{Integer}}": {"NTuple{N,Integer}", "Tuple{Vararg{Int}}"},
    "NTuple{N,Integer}": {"Tuple{Vararg{Integer}}"},
    "AbstractString": {"String"},
}


def split_top(text, sep=","):
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "({["
        depth -= ch in ")}]"
        if ch == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return parts + [cur] if cur else parts


def norm(t, typevars):
    if t is None:
        return "Any"
    t = t.replace(" ", "")
    for k, v in ALIASES.items():
        t = re.sub(rf"\b{k}\b", v, t)
    return "Any" if t in typevars else t


def base_and_params(t):
    m = re.fullmatch(r"([\w.]+)\{(.*)\}", t)
    return (m.group(1), split_top(m.group(2))) if m else (t, None)


def covers(ours, theirs, typevars):
    """Whether an argument of type `ours` takes every value of type `theirs`."""
    if ours == "Any" or ours == theirs:
        return True
    if theirs == "Any":
        return False
    if theirs in WIDER.get(ours, set()):
        return True
    if ours.startswith("Union{"):
        return any(covers(m, theirs, typevars) for m in split_top(ours[6:-1]))
    if theirs.startswith("Union{"):
        return all(covers(ours, m, typevars) for m in split_top(theirs[6:-1]))
    if ours.startswith("<:"):
        return covers(ours[2:], theirs[2:] if theirs.startswith("<:") else theirs, typevars)
    ob, op = base_and_params(ours)
    tb, tp = base_and_params(theirs)
    if ob != tb:
        return False
    if op is None:
        return True
    if tp is None:
        return False
    if len(op) < len(tp):
        op = op + ["Any"] * (len(tp) - len(op))
    return all(o in typevars or o == "Any" or covers(o, t, typevars)
               for o, t in zip(op, tp))


def arities(fn):
    """The argument type lists a definition takes: with its defaults left out,
    and its vararg repeated 0..3 times."""
    typevars = {"T", "N", "M", "S"}
    params = fn["params"]
    required = [p for p in params if not p["default"] and not p["vararg"]]
    out = []
    for keep in range(len(required), len(params) + 1):
        head = params[:keep]
        if any(p["vararg"] for p in head[:-1]):
            continue
        if head and head[-1]["vararg"]:
            fixed = [norm(p["type"], typevars) for p in head[:-1]]
            for n in range(4):
                out.append((fixed + [norm(head[-1]["type"], typevars)] * n, n, typevars))
        else:
            out.append(([norm(p["type"], typevars) for p in head], None, typevars))
    return out


def has_method(functions, name, theirs):
    want_vararg = bool(theirs) and theirs[-1] is not None and theirs[-1].endswith("...")
    for fn in functions:
        if fn["name"] != name:
            continue
        for types, _, typevars in arities(fn):
            t = [norm(x[:-3] if x and x.endswith("...") else x, {"T", "N", "M", "S"})
                 for x in theirs]
            if want_vararg:
                # Their vararg: ours must take 0, 1 and 2 of it.
                ok = all(any(len(tt) == len(t) - 1 + n and
                             all(covers(o, th, typevars) for o, th in zip(tt, t[:-1] + [t[-1]] * n))
                             for tt, _, _ in arities(fn))
                         for n in range(3))
                if ok:
                    return True
                continue
            if len(types) == len(t) and all(covers(o, th, typevars) for o, th in zip(types, t)):
                return True
    return False


def main():
    folder, package = sys.argv[1:3]
    srcdir, testdir = os.path.join(package, "src"), os.path.join(package, "test")
    src = julia_ast.parse(folder, julia_ast.julia_files(srcdir))
    tests = julia_ast.parse(folder, julia_ast.julia_files(testdir))
    errors = []

    functions = [f for r in src for f in r["functions"]]
    structs = {s["name"]: s for r in src for s in r["structs"]}
    consts = {c["name"] for r in src for c in r["consts"]}
    globals_ = {g["name"] for r in src for g in r["globals"]}
    exports = [e for r in src for e in r["exports"]]
    defined = {f["name"] for f in functions} | set(structs) | consts | globals_

    for name in IPCJL_EXPORTS:
        if name not in exports:
            errors.append(f"IPC.jl exports {name}; this module does not")
    for name in exports:
        if name not in defined:
            errors.append(f"export {name}: not defined in the module")

    for name, theirs in IPCJL_METHODS:
        if not has_method(functions, name, theirs):
            args = ", ".join(f"::{t}" if t else "_" for t in theirs)
            errors.append(f"no method {name}({args}) as IPC.jl has")

    for name, fields in IPCJL_FIELDS.items():
        s = structs.get(name)
        if not s:
            errors.append(f"no struct {name} as IPC.jl has")
            continue
        ours = [(f["name"], f["type"]) for f in s["fields"]]
        if name in ("ShmInfo", "WrappedArrayHeader", "Key", "ShmId"):
            if ours[:len(fields)] != fields:
                errors.append(f"{name} starts with fields {ours[:len(fields)]}, IPC.jl's {fields}")
        else:
            names = {n: t for n, t in ours}
            for field, ftype in fields:
                if field not in names:
                    errors.append(f"{name} has no field {field} as IPC.jl has")
                elif names[field] != ftype:
                    errors.append(f"{name}.{field} is a {names[field]}, IPC.jl's a {ftype}")
    for name in OWN_EXPORTS:
        if name not in exports:
            errors.append(f"the README documents {name}; this module does not export it")
    for name, theirs in OWN_METHODS:
        if not has_method(functions, name, theirs):
            args = ", ".join(f"::{t}" if t else "_" for t in theirs)
            errors.append(f"no method {name}({args}) as the README documents")
    for name, fields in OWN_FIELDS.items():
        s = structs.get(name)
        if not s:
            errors.append(f"no struct {name} as the README documents")
            continue
        names = {f["name"]: f["type"] for f in s["fields"]}
        for field, ftype in fields:
            if names.get(field) != ftype:
                errors.append(f"{name}.{field}: {names.get(field)!r}, the README documents {ftype}")
    for name in IPCJL_ABSTRACT:
        if not structs.get(name, {}).get("abstract"):
            errors.append(f"no abstract type {name} as IPC.jl has")
    for name in IPCJL_CONSTS:
        if name not in consts:
            errors.append(f"no constant {name} as IPC.jl has")
    for name in IPCJL_GLOBALS:
        if name not in globals_:
            errors.append(f"no global {name} as IPC.jl has")

    # The module's own rules.
    for r in src:
        for use in r["env"]:
            if use["function"] != "__init__":
                errors.append(f"{r['path']}:{use['line']}: ENV read outside __init__ "
                              f"({use['function'] or 'top level'}): it would be fixed at precompile time")
        for call in r["ccalls"]:
            if call["function"] is None:
                errors.append(f"{r['path']}:{call['line']}: ccall at the top level runs when precompiling")
    if not any(f["name"] == "__init__" for f in functions):
        errors.append("no __init__: the library would not be found when the module loads")
    for s in structs.values():
        for new in s.get("news", []):
            if new["args"] != len(s["fields"]):
                errors.append(f"struct {s['name']}: new(...) at line {new['line']} gives "
                              f"{new['args']} values for {len(s['fields'])} fields")

    project = tomllib.load(open(os.path.join(package, "Project.toml"), "rb"))
    deps = set(project.get("deps", {}))
    test_deps = set(project.get("targets", {}).get("test", []))
    extras = set(project.get("extras", {}))
    for name in sorted(test_deps - extras - deps):
        errors.append(f"Project.toml: test target {name} is in neither [extras] nor [deps]")
    stdlib_free = {"Base", "Core"}
    for r in src:
        for imp in r["imports"]:
            if imp["name"] not in deps | stdlib_free and not imp["name"].startswith("."):
                errors.append(f"{r['path']}:{imp['line']}: loads {imp['name']}, not in Project.toml [deps]")
    for r in tests:
        for imp in r["imports"]:
            if imp["name"] not in deps | test_deps | stdlib_free | {project["name"]}:
                errors.append(f"{r['path']}:{imp['line']}: loads {imp['name']}, not in the test target of Project.toml")
    runtests = os.path.join(testdir, "runtests.jl")
    included = re.findall(r'^include\("([^"]+)"\)$', open(runtests).read(), flags=re.M)
    test_files = {os.path.basename(r["path"]) for r in tests} - {"runtests.jl", "child.jl"}
    for base in sorted(test_files):
        if included.count(base) != 1:
            errors.append(f"{testdir}/{base}: included {included.count(base)} times by {runtests}")
    for base in sorted(set(included) - test_files):
        errors.append(f"{runtests} includes {base}, which is not a test file in {testdir}")
    for r in src + tests:
        for e in r["errors"]:
            errors.append(f"{r['path']}:{e['line']}: syntax error ({e['kind']})")

    for e in errors:
        print("FAIL:", e)
    for what, why in DIFFERENCES.items():
        print(f"left out on purpose: {what}: {why}")
    print(f"{len(IPCJL_EXPORTS)} exports, {len(IPCJL_METHODS)} methods, {len(IPCJL_FIELDS)} types "
          f"and {len(IPCJL_CONSTS) + len(IPCJL_GLOBALS)} constants of IPC.jl, and "
          f"{len(OWN_EXPORTS)} exports, {len(OWN_METHODS)} methods and {len(OWN_FIELDS)} types "
          f"of libipcshm's channels checked against "
          f"{len(functions)} definitions in {len(src)} files: {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
