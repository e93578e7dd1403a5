#!/usr/bin/env bash
# Frames through channels between languages: C sends COUNT frames, written in
# place, to a Python and a Rust receiver (examples/frames.c); then Python sends
# PY_COUNT frames to a Rust receiver. Every receiver checks every byte and the
# order of what it gets. Run by scripts/demo.sh and by `meson test` (interop).
#   examples/frames.sh BUILDDIR COUNT PY_COUNT [CARGO]   (no CARGO: no Rust side)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
count=$2 py_count=$3 cargo=${4:-}
export IPCSHM_LIBRARY=$build/src/libipcshm.so.1 PYTHONPATH=$root/bindings/python \
  PYTHONDONTWRITEBYTECODE=1
py="python3 $root/bindings/python/examples/frames.py"
receivers=("$py consume")
if [ -n "$cargo" ]; then
  # The Rust receiver: bindings/rust/ipcshm/examples/channel.rs, built once.
  export IPCSHM_LIB_DIR=$build/src CARGO_TARGET_DIR=$build/bindings/rust/cargo-target \
    LD_LIBRARY_PATH=$build/src${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  "$cargo" build --offline --quiet --release --example channel \
    --manifest-path "$root/bindings/rust/Cargo.toml"
  receivers+=("$CARGO_TARGET_DIR/release/examples/channel consume")
else
  echo "frames: no cargo, the Rust side is left out" >&2
fi
"$build/examples/frames" "$count" "${receivers[@]}"
if [ -n "$cargo" ]; then
  $py "$py_count" "${receivers[1]}"
fi
