#!/usr/bin/env bash
# Sets up, builds, and runs every test: all suites on a normal build, then the
# core and hardening suites again under AddressSanitizer and
# UndefinedBehaviorSanitizer, then TSan, libFuzzer and valgrind runs, then the
# Debian packages in a clean Debian 12 root (the slow stage).
#   scripts/test.sh [meson options...]   e.g. scripts/test.sh -Dwerror=true
set -euo pipefail
cd "$(dirname "$0")/.."

# meson test, counting what passed for the closing line.
passed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
mtest() {
  meson test "$@" | tee "$out"
  passed=$((passed + $(awk '/^Ok:/ {n += $2} END {print n + 0}' "$out")))
}

scripts/setup.sh build-test "$@"
mtest -C build-test --print-errorlogs --num-processes 2

echo
echo "== core and hardening suites under -fsanitize=address,undefined =="
# -O0 (buildtype debug): the sanitizers check as much, and GCC compiles the
# instrumented suites in about a fifth of the time it takes at -O2.
scripts/setup.sh build-test-asan -Dbuildtype=debug -Db_sanitize=address,undefined \
  -Dabi_check=disabled "$@"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  mtest -C build-test-asan --print-errorlogs --num-processes 2 --suite core --suite hardening

# Hardening (tests/hardening/): the crash soak, thread stress and squatting tests
# ran above with the normal build (suite 'hardening'); these need builds or
# tools of their own.
echo
echo "== hardening: thread stress under -fsanitize=thread =="
SECONDS=0
tests/hardening/tsan.sh build-test-tsan "$@"
echo "(tsan: ${SECONDS} s)"

echo
echo "== hardening: libFuzzer on id parsing =="
SECONDS=0
tests/hardening/fuzz.sh build-test-fuzz 10
echo "(fuzz: ${SECONDS} s)"

echo
echo "== hardening: valgrind memcheck of the core suites =="
SECONDS=0
tests/hardening/valgrind.sh build-test
echo "(valgrind: ${SECONDS} s)"

# The slow stage: the Debian packages built from the tree, checked by lintian,
# installed with apt into a clean Debian 12 root (debootstrap; the mirror must
# be reachable) and used there. Everything stays in build-test-deb.
# SKIP_DEBIAN_ROOT=1 leaves it out (as a developer's quick run may).
debian_root=0
if [ "${SKIP_DEBIAN_ROOT:-0}" != 1 ]; then
  echo
  echo "== Debian packages: dpkg-buildpackage, lintian, apt install into a clean Debian 12 root =="
  SECONDS=0
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo tests/packaging/debian-root.sh build-test-deb
  echo "(debian root: ${SECONDS} s)"
  debian_root=1
fi

# The TSan, fuzz, valgrind (and Debian root) runs above count as one test each
# (set -e stops at a failure, so reaching this line means they passed).
passed=$((passed + 3 + debian_root))
echo
echo "scripts/test.sh: $passed passed, 0 failed"
