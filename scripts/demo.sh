#!/usr/bin/env bash
# Sets up, builds, and runs the demo: one process creates a shared memory
# object and writes into it; another process attaches it by id and reads it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
demo=build/examples/ipcshm-demo

echo
echo "== POSIX object, two processes =="
coproc writer { "$demo" write; }
read -r id <&"${writer[0]}"
"$demo" read "$id"
wait "$writer_PID"
if [ -e "/dev/shm$id" ]; then echo "demo: $id still exists" >&2; exit 1; fi
echo "demo: $id is gone now that both processes detached (volatile)"

echo
echo "== System V segment, two processes =="
coproc writer { "$demo" write private; }
read -r id <&"${writer[0]}"
"$demo" read "$id"
wait "$writer_PID"
echo "demo: ok"
