#!/bin/bash
# Runs inside the clean Debian 12 root of tests/packaging/debian-root.sh: installs
# the packages in /t/debs with apt, as a user would, and uses them.
#   /t/in-root.sh VERSION
set -euo pipefail
version=$1
export DEBIAN_FRONTEND=noninteractive
say() { echo "in-root: $*"; }

apt-get update -qq
apt-get install -y -qq --no-install-recommends /t/debs/*.deb gcc libc6-dev pkg-config \
  > /t/apt.log 2>&1 || { tail -40 /t/apt.log; exit 1; }
for p in libipcshm1 libipcshm-dev ipcshm-tools python3-ipcshm; do
  [ "$(dpkg-query -W -f='${Version}' "$p")" = "$version" ]
done
say "installed with apt: libipcshm1 libipcshm-dev ipcshm-tools python3-ipcshm $version"
if dpkg-query -W -f='${Status}' libbsd-dev 2>/dev/null | grep -q "ok installed"; then
  say "libbsd-dev was pulled in: ipcshm.pc must not need it" >&2; exit 1
fi

# The loader finds the library (dpkg ran ldconfig), pkg-config the .pc.
triplet=$(gcc -print-multiarch)
lib=/usr/lib/$triplet/libipcshm.so.1
# (merged /usr: the cache may name /lib/<triplet>, the same directory)
cached=$(ldconfig -p | sed -n 's/^\s*libipcshm\.so\.1 (.*) => //p')
[ -n "$cached" ] && [ "$(realpath "$cached")" = "$(realpath "$lib")" ] ||
  { say "the loader's cache does not know $lib: ${cached:-nothing}" >&2; exit 1; }
[ "$(pkg-config --modversion ipcshm)" = "${version%%-*}" ]
[ -z "$(pkg-config --print-requires-private ipcshm)" ]

# A C program of a user, built with pkg-config alone.
gcc -std=c99 -pedantic -Wall -Wextra -Werror /t/consumer.c -o /t/consumer \
  $(pkg-config --cflags --libs ipcshm)
# Python and C share an object: C creates it, the Python package (found by
# SONAME) checks it and answers, C checks the answer and removes it.
name=/ipcshm-debian-root-$$
trap 'rm -f "/dev/shm$name"' EXIT
/t/consumer create "$name" "$lib"
python3 /t/consumer.py "$name" "$lib"
/t/consumer verify "$name" "$lib"
python3 -c 'import ipcshm, sys; assert ipcshm.__version__ == sys.argv[1], ipcshm.__version__' \
  "${version%%-*}"
say "a C program (pkg-config) and Python (python3-ipcshm) shared an object"

# The tool.
ipcshm --version | grep -q "libipcshm ${version%%-*}"
obj=$(ipcshm create /ipcshm-debian-root-XXXXXX 64K --mode 0640)
echo "hello from the packages" | ipcshm write "$obj"
[ "$(ipcshm cat "$obj" --length 23)" = "hello from the packages" ]
ipcshm ls | grep -q "$obj"
ipcshm rm "$obj"
! ipcshm info "$obj" 2>/dev/null
say "the tool (ipcshm-tools) created, wrote, read, listed and removed $obj"

# The manuals: the tool's, one section-3 page per exported function, the HTML.
test -f /usr/share/man/man1/ipcshm.1.gz
missing=0
for f in $(sed -n 's/^ *\(ipcshm_[a-z0-9_]*\);$/\1/p' /t/libipcshm.map); do
  [ -e "/usr/share/man/man3/$f.3.gz" ] || { say "no man page for $f" >&2; missing=1; }
done
[ "$missing" -eq 0 ]
test -f /usr/share/doc/libipcshm-dev/html/index.html
say "man pages: ipcshm(1), $(ls /usr/share/man/man3 | grep -c '^ipcshm') in section 3; HTML reference"
