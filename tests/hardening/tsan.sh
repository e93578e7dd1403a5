#!/usr/bin/env bash
# Builds the thread stress tests (handles: thread_stress; signalling primitives:
# sync_stress; channels: channel_stress) under ThreadSanitizer in their own
# build directory (meson cannot mix sanitizers in one build) and runs them; a
# TSan report fails them.
#   tests/hardening/tsan.sh [BUILDDIR [meson options...]]   (default: build-tsan)
# The options (e.g. -Dwerror=true) come before the ones this build needs.
set -euo pipefail
cd "$(dirname "$0")/../.."
builddir=${1:-build-tsan}
shift || true
opts=("$@" -Db_sanitize=thread -Dtests=true -Dabi_check=disabled -Dbenchmarks=false)
if [ -f "$builddir/build.ninja" ]; then
  meson configure "$builddir" "${opts[@]}" >/dev/null
else
  meson setup "$builddir" "${opts[@]}" >/dev/null
fi
# Only what the tests need, not the whole tree.
meson compile -C "$builddir" tests/hardening/thread_stress_test tests/hardening/sync_stress_test \
  tests/hardening/channel_stress_test
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
  meson test -C "$builddir" --no-rebuild --print-errorlogs thread_stress sync_stress channel_stress
