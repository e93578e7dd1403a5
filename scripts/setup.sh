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
  clang libclang-rt-14-dev valgrind
)
# More for some callers (bench/run: Google Benchmark, Boost).
read -r -a extra <<< "${EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")
# Rust: Debian's cargo, unless a toolchain (rustup) is already on PATH.
command -v cargo >/dev/null 2>&1 || packages+=(cargo)

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
  meson configure "$builddir" "$@" >/dev/null
else
  meson setup "$builddir" "$@"
fi
meson compile -C "$builddir"
