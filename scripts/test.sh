#!/usr/bin/env bash
# Sets up, builds, and runs every test.
#   scripts/test.sh [meson options...]   e.g. scripts/test.sh -Dwerror=true
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build-test "$@"
meson test -C build-test --print-errorlogs --num-processes 2
