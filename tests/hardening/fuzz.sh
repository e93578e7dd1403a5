#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer against their parsers' own sources (never the whole
# library: a fuzzer must not touch real objects), and runs each for a fixed time
# from its seeds:
#   fuzz_ids           id parsing (tests/hardening/fuzz_ids.cc), seeds tests/fuzz/ids/
#   fuzz_array_header  the "WA-1" array header (tests/hardening/fuzz_array_header.cc),
#                      seeds tests/fuzz/array_header/
#   fuzz_primitives    events, semaphores and mutexes with hostile contents
#                      (tests/hardening/fuzz_primitives.cc), seeds tests/fuzz/primitives/
#   fuzz_channel_header  a channel's header, indices and entries as an end reads
#                      them (tests/hardening/fuzz_channel_header.cc), seeds
#                      tests/fuzz/channel_header/
#   tests/hardening/fuzz.sh [BUILDDIR] [SECONDS]     (defaults: build-fuzz, 10; each)
# New inputs go to BUILDDIR/corpus (ids), BUILDDIR/corpus-array_header,
# BUILDDIR/corpus-primitives and BUILDDIR/corpus-channel_header, never into the
# source tree. A crash leaves its input in BUILDDIR (<target>-crash-*)
# and fails the script, after every target has run. One summary line per target.
set -euo pipefail
cd "$(dirname "$0")/../.."
builddir=${1:-build-fuzz}
seconds=${2:-10}
cxx=${CLANGXX:-clang++}
mkdir -p "$builddir"

# build TARGET SOURCES... -- HEADERS...: rebuilds BUILDDIR/TARGET if a source or
# header is newer than it.
build() {
  local target=$1
  shift
  local sources=() headers=()
  while [ "$1" != "--" ]; do sources+=("$1"); shift; done
  shift
  headers=("$@")
  if [ ! -x "$builddir/$target" ] || [ -n "$(find "${sources[@]}" "${headers[@]}" \
      -newer "$builddir/$target" 2>/dev/null)" ]; then
    "$cxx" -std=c++20 -g -O1 -fno-omit-frame-pointer \
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
      -Isrc -Iinclude "${sources[@]}" -lbsd -pthread -o "$builddir/$target"
  fi
}

# run TARGET CORPUS LOG MAX_LEN SEEDS [libFuzzer options...]: runs it for
# SECONDS and prints its summary line; returns non-zero on a crash.
run() {
  local target=$1 corpus=$2 log=$3 max_len=$4 seeds=$5
  shift 5
  mkdir -p "$corpus"
  set +e
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$builddir/$target" -max_total_time="$seconds" -print_final_stats=1 \
    -max_len="$max_len" -artifact_prefix="$builddir/$target-" "$@" \
    "$corpus" "$seeds" >"$log" 2>&1
  local rc=$?
  set -e
  local execs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ "$rc" -ne 0 ]; then
    tail -40 "$log"
    echo "$target: FAILED (exit $rc) after ${execs:-?} executions; log: $log"
    return 1
  fi
  local inputs
  inputs=$(ls "$corpus" | wc -l)
  echo "$target: ${execs:-?} executions in ${seconds} s, corpus $inputs inputs, no crash"
}

build fuzz_ids tests/hardening/fuzz_ids.cc src/ids.cc src/errors.cc -- \
  src/ids.hpp src/errors.hpp
build fuzz_array_header tests/hardening/fuzz_array_header.cc src/array_header.cc \
  src/errors.cc -- src/arrays.hpp src/segment.hpp src/errors.hpp
build fuzz_primitives tests/hardening/fuzz_primitives.cc src/events.cc src/semaphores.cc \
  src/mutexes.cc src/owners.cc src/futex.cc src/sync_layout.cc src/writable_pages.cc \
  src/errors.cc -- src/sync.hpp src/sync_layout.hpp src/sync_thread.hpp src/futex.hpp \
  src/owners.hpp src/writable_pages.hpp src/errors.hpp

build fuzz_channel_header tests/hardening/fuzz_channel_header.cc src/channel_layout.cc \
  src/errors.cc -- src/channel_layout.hpp src/errors.hpp

failed=0
run fuzz_ids "$builddir/corpus" "$builddir/fuzz.log" 512 tests/fuzz/ids \
  -dict=tests/fuzz/ids.dict || failed=1
run fuzz_array_header "$builddir/corpus-array_header" "$builddir/fuzz-array_header.log" 4096 \
  tests/fuzz/array_header -dict=tests/fuzz/array_header.dict || failed=1
run fuzz_primitives "$builddir/corpus-primitives" "$builddir/fuzz-primitives.log" 80 \
  tests/fuzz/primitives -timeout=10 || failed=1
run fuzz_channel_header "$builddir/corpus-channel_header" "$builddir/fuzz-channel_header.log" \
  4096 tests/fuzz/channel_header -dict=tests/fuzz/channel_header.dict || failed=1
exit "$failed"
