#!/usr/bin/env bash
# Sets up, builds, and runs the demo: processes in four languages share one
# object, C sends frames to Python and Rust through channels, then two C
# processes share a System V segment.
set -euo pipefail
cd "$(dirname "$0")/.."
# Its own build directory, without the test suites: the library, the tool and
# the example programs are all the demo runs (the Rust side is built by cargo).
# `build` stays free for a build of your own (meson setup build --prefix=...).
build=build-demo
SETUP_PACKAGING=no scripts/setup.sh "$build" -Dtests=false -Ddocs=disabled

echo
echo "== One POSIX object and one typed array, four languages: C creates; Python, Rust, C++ attach by id; C passes Python a memfd over a socket =="
cargo_args=()
command -v cargo >/dev/null 2>&1 && cargo_args=(--cargo "$(command -v cargo)")
python3 examples/exchange.py "$build" "${cargo_args[@]}"

echo
echo "== Channels: C sends frames, written in place, to a Python and a Rust receiver; then Python sends to Rust =="
examples/frames.sh "$build" 100000 100000 "$(command -v cargo || true)"

echo
echo "== A System V segment, two C processes =="
demo=$build/examples/ipcshm-demo
coproc writer { "$demo" write private; }
read -r id <&"${writer[0]}"
"$demo" read "$id"
wait "$writer_PID"

echo
echo "== The ipcshm tool: the demo's objects were volatile and are gone; a persistent one stays until rm =="
cli=$build/src/cli/ipcshm
obj=$("$cli" create /ipcshm-demo-XXXXXX 64K --mode 0640)
trap '"$cli" rm "$obj" 2>/dev/null || true' EXIT
echo "hello from the demo" | "$cli" write "$obj"
"$cli" ls
"$cli" cat "$obj" --length 19
echo
"$cli" rm "$obj"
trap - EXIT
echo "demo: ok"
