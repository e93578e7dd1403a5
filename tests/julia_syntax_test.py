#!/usr/bin/env python3
"""Parses every .jl file of the Julia binding with tree-sitter-julia and fails on
any syntax error (an ERROR or MISSING node), since Julia itself cannot run here.
First it checks itself: broken samples must be caught and a valid one must pass.

usage: julia_syntax_test.py PARSER_FOLDER JULIA_ROOT
  PARSER_FOLDER  a folder of the build tree for the npm packages
  JULIA_ROOT     bindings/julia

Known limits of the grammar (tree-sitter-julia 0.23.1): a docstring followed by
the documented name on the same line (`"doc" f`), which Julia accepts, is an
error here (write the docstring on the lines before the definition); and it lets
through a few things Julia rejects, such as two `else` branches or `x ->` with
no body. It catches what editing breaks most: unbalanced blocks, brackets and
strings, and operators without operands.
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import julia_ast  # noqa: E402

VALID = '''
module Sample
export f
const X = UInt32(1) << 3
"""
    f(x)

documented.
"""
function f(x::Integer, ::Type{T}=Int, dims::Integer...; kw::Bool=false) where {T}
    y = ccall((:strlen, "libc.so.6"), Csize_t, (Cstring,), "abc")
    s = "x = $(x + 1) and $y"
    return [i^2 for i in 1:x if isodd(i)], s, x -> x + 1
end
Base.@propagate_inbounds g(A::AbstractArray{T,N}, i::Int) where {T,N} = A[i]
struct S{T} <: AbstractVector{T}
    a::Vector{T}
    S{T}(n) where {T} = new{T}(zeros(T, n))
end
try
    error("x")
catch err
    err isa ErrorException || rethrow()
finally
    nothing
end
end
'''

# Each must be reported: (what is wrong, text).
BROKEN = [
    ("a function without its end", "function f(x)\n    x + 1\n"),
    ("an unclosed parenthesis", "f(x) = (x + 1\ng(y) = y\n"),
    ("a stray closing bracket", "A = [1, 2]]\n"),
    ("an operator without its operand", "x = 1 +\n"),
    ("a struct field list cut short", "struct S\n    a::\nend\n"),
    ("an unterminated string", 'x = "abc\ny = 1\n'),
    ("an elseif without its if", "elseif x\n    1\nend\n"),
    ("a doubled assignment", "x = 1 = = 2\n"),
]


def self_test(folder):
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, (_, text) in enumerate([("valid", VALID)] + BROKEN):
            path = os.path.join(tmp, f"sample{i}.jl")
            with open(path, "w") as f:
                f.write(text)
            paths.append(path)
        results = julia_ast.parse(folder, paths)
    if results[0]["errors"]:
        problems.append(f"a valid sample is reported as broken: {results[0]['errors']}")
    for (what, _), result in zip(BROKEN, results[1:]):
        if not result["errors"]:
            problems.append(f"not caught: {what}")
    return problems


def main():
    folder, root = sys.argv[1:3]
    problems = self_test(folder)
    for p in problems:
        print("SELF-TEST FAIL:", p)
    if problems:
        return 1
    print(f"self-test: {len(BROKEN)} broken samples caught, the valid one passes")

    paths = julia_ast.julia_files(root)
    if not paths:
        print(f"FAIL: no .jl file under {root}")
        return 1
    errors = 0
    lines = 0
    for result in julia_ast.parse(folder, paths):
        lines += open(result["path"]).read().count("\n")
        for e in result["errors"]:
            errors += 1
            print(f"FAIL: {result['path']}:{e['line']}:{e['column']}: {e['kind']} at {e['text']!r}")
    print(f"{len(paths)} Julia files ({lines} lines) parsed with tree-sitter-julia: "
          f"{errors} syntax errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
