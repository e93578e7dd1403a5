#!/usr/bin/env bash
# Builds the libFuzzer target for id parsing (tests/hardening/fuzz_ids.cc) with
# clang, AddressSanitizer and UndefinedBehaviorSanitizer against the parser's own
# sources (never the whole library: the fuzzer must not touch real objects), and
# runs it for a fixed time from the seeds in tests/fuzz/ids/.
#   tests/hardening/fuzz.sh [BUILDDIR] [SECONDS]     (defaults: build-fuzz, 10)
# New inputs go to BUILDDIR/corpus, never into the source tree. A crash leaves
# its input in BUILDDIR (crash-*) and fails the script.
set -euo pipefail
cd "$(dirname "$0")/../.."
builddir=${1:-build-fuzz}
seconds=${2:-10}
cxx=${CLANGXX:-clang++}
mkdir -p "$builddir/corpus"
sources=(tests/hardening/fuzz_ids.cc src/ids.cc src/errors.cc)
if [ ! -x "$builddir/fuzz_ids" ] || [ -n "$(find "${sources[@]}" src/ids.hpp src/errors.hpp \
    -newer "$builddir/fuzz_ids" 2>/dev/null)" ]; then
  "$cxx" -std=c++20 -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Isrc -Iinclude "${sources[@]}" -lbsd -o "$builddir/fuzz_ids"
fi
log="$builddir/fuzz.log"
set +e
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$builddir/fuzz_ids" -max_total_time="$seconds" -print_final_stats=1 \
  -dict=tests/fuzz/ids.dict -max_len=512 -artifact_prefix="$builddir/" \
  "$builddir/corpus" tests/fuzz/ids >"$log" 2>&1
rc=$?
set -e
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
if [ "$rc" -ne 0 ]; then
  tail -40 "$log"
  echo "fuzz_ids: FAILED (exit $rc) after ${execs:-?} executions; log: $log"
  exit 1
fi
echo "fuzz_ids: ${execs:-?} executions in ${seconds} s, corpus $(ls "$builddir/corpus" | wc -l) inputs, no crash"
