#!/usr/bin/env bash
# Sets up, builds, and runs every test: all suites on a normal build, then the
# core suites again on a build with AddressSanitizer and UndefinedBehaviorSanitizer.
#   scripts/test.sh [meson options...]   e.g. scripts/test.sh -Dwerror=true
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build-test "$@"
meson test -C build-test --print-errorlogs --num-processes 2

echo
echo "== core suites under -fsanitize=address,undefined =="
scripts/setup.sh build-test-asan -Db_sanitize=address,undefined -Dabi_check=disabled "$@"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-test-asan --print-errorlogs --num-processes 2 --suite core
