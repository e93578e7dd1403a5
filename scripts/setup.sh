#!/usr/bin/env bash
# Installs what building and testing libipcshm needs on Debian 12 (missing
# packages only), then configures the build directory.
#   scripts/setup.sh [BUILDDIR] [meson options...]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  meson ninja-build g++ gcc pkg-config python3
  libgtest-dev libbsd-dev libsmartcols-dev abigail-tools binutils
  passwd util-linux strace
  python3-pytest python3-numpy python3-cffi python3-sysv-ipc
  # the Python package's compiled module (ipcshm._ext) needs Python's headers
  python3-dev
  clang libclang-rt-14-dev valgrind
  # the API reference, Python packaging and type checks, the install test
  doxygen python3-venv python3-setuptools-whl python3-wheel-whl python3-mypy
)
# Debian packaging (debian/, tests/packaging/debian-root.sh): skipped with
# SETUP_PACKAGING=no (scripts/demo.sh).
if [ "${SETUP_PACKAGING:-yes}" != no ]; then
  packages+=(debhelper dh-python pybuild-plugin-pyproject python3-all
             python3-setuptools python3-wheel dpkg-dev lintian debootstrap)
fi
# More for some callers (bench/run: Google Benchmark, Boost).
read -r -a extra <<< "${EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")
# Rust: Debian's cargo, unless a toolchain (rustup) is already on PATH.
command -v cargo >/dev/null 2>&1 || packages+=(cargo)
# The Julia binding is checked by parsing it with tree-sitter-julia from npm:
# Debian's nodejs and npm, unless a Node.js with npm is already on PATH.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

builddir=${1:-build}
shift || true
if [ -f "$builddir/build.ninja" ]; then
  # --reconfigure, not `meson configure`: options added to meson_options.txt
  # since the directory was set up are then known.
  meson setup --reconfigure "$builddir" "$@" >/dev/null
else
  meson setup "$builddir" "$@"
fi
meson compile -C "$builddir"
