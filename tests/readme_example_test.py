#!/usr/bin/env python3
"""Compiles and runs the C++ example of README.md against this build, so that the
README stays true.
usage: readme_example_test.py README CXX INCLUDE_DIR LIBDIR [EXTRA_CXXFLAGS...]"""
import os
import re
import subprocess
import sys
import tempfile

readme, cxx, include_dir, libdir = sys.argv[1:5]
extra = sys.argv[5:]
blocks = re.findall(r"```cpp\n(.*?)```", open(readme).read(), re.S)
assert len(blocks) == 1, f"expected one ```cpp block in {readme}, found {len(blocks)}"
with tempfile.TemporaryDirectory() as tmp:
    src, exe = os.path.join(tmp, "example.cc"), os.path.join(tmp, "example")
    open(src, "w").write(blocks[0])
    subprocess.run([cxx, "-std=c++20", "-Wall", "-Wextra", "-Werror", *extra, "-I", include_dir,
                    src, "-o", exe, "-L", libdir, "-lipcshm", "-Wl,-rpath," + libdir],
                   check=True)
    out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
print(out, end="")
assert re.search(r"^/readme-\w{6} holds 3.25$", out, re.M), out
assert "No such file or directory (errno 2)" in out, out
print("README C++ example: ok")
