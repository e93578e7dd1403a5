#!/usr/bin/env bash
# The Debian packages as a new user gets them: built from the tree with
# `dpkg-buildpackage -us -uc -b`, checked by lintian (no error), then installed
# with apt into a clean Debian 12 root, where a C program built with pkg-config
# and a Python script share an object, and the tool and the man pages are used.
#
#   tests/packaging/debian-root.sh BUILDDIR
#
# Everything stays in BUILDDIR: the copy of the tree the packages are built in,
# the .debs, the root (made by debootstrap; its tarball and apt's downloads are
# kept in BUILDDIR/cache to make the next run faster). The root runs in private
# mount and IPC namespaces: its /proc, /dev/shm and System V segments go with it.
# Run as root (debootstrap, chroot). DEBIAN_MIRROR overrides the mirror.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$(realpath -m "${1:?usage: debian-root.sh BUILDDIR}")
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
[ "$(id -u)" -eq 0 ] || { echo "debian-root: needs root (debootstrap, chroot)" >&2; exit 1; }
mkdir -p "$out/cache/apt-archives"
SECONDS=0
step() { echo "debian-root: [${SECONDS} s] $*"; }

# 1. A copy of the tree: its files as git knows them (tracked and new, not
#    ignored), so that the build sees neither build directories nor leftovers.
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
upstream=${version%%-*}
meson_version=$(sed -n "s/^  version: '\([0-9.]*\)',$/\1/p" "$src/meson.build")
if [ "$upstream" != "$meson_version" ]; then
  echo "debian-root: debian/changelog says $version, meson.build $meson_version:" \
       "add a debian/changelog entry (dch -v $meson_version)" >&2
  exit 1
fi
tree=$out/src/libipcshm-$upstream
rm -rf "$out/src"
mkdir -p "$tree"
step "copying the tree to $tree"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$src" && git ls-files -z --cached --others --exclude-standard |
     while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
     tar --null -T - -cf -) | tar -xf - -C "$tree"
else
  tar -C "$src" --exclude='./build*' --exclude='./target' -cf - . | tar -xf - -C "$tree"
fi

# 2. The packages.
step "dpkg-buildpackage -us -uc -b"
# A clean environment, as a Debian build daemon gives: Debian's own python3 and
# tools, not a pyenv or rustup on the caller's PATH.
(cd "$tree" && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$out" LC_ALL=C.UTF-8 \
   ${DEB_BUILD_OPTIONS:+DEB_BUILD_OPTIONS="$DEB_BUILD_OPTIONS"} \
   dpkg-buildpackage -us -uc -b) > "$out/dpkg-buildpackage.log" 2>&1 || {
  tail -60 "$out/dpkg-buildpackage.log"; echo "debian-root: the build failed" >&2; exit 1; }
grep -E "^dpkg-gensymbols|warning" "$out/dpkg-buildpackage.log" || true
changes=$(ls "$out"/src/libipcshm_"$version"_*.changes)
debs=()
for p in libipcshm1 libipcshm-dev ipcshm-tools python3-ipcshm; do
  deb=$(ls "$out"/src/"$p"_"$version"_*.deb)
  debs+=("$deb")
  echo "debian-root: $(basename "$deb"): $(dpkg-deb -f "$deb" Depends)"
done
# The symbols file: each function with the version of its node.
dpkg-deb --ctrl-tarfile "${debs[0]}" | tar -xOf - ./symbols > "$out/symbols"
while read -r sym ver; do
  case $sym in *@IPCSHM_*) ;; *) continue ;; esac
  node=${sym#*@IPCSHM_}
  [ "$ver" = "$node.0" ] || { echo "debian-root: symbols: $sym $ver (not $node.0)" >&2; exit 1; }
done < <(tail -n +2 "$out/symbols" | grep -v '^\*')
echo "debian-root: libipcshm1's symbols file: $(grep -c '@IPCSHM_' "$out/symbols") symbols, each at its node's version"

# 3. lintian: no error (warnings are printed).
step "lintian"
lintian --fail-on error --display-level '>=warning' "$changes" | tee "$out/lintian.log"
echo "debian-root: lintian: $(grep -c '^E:' "$out/lintian.log" || true) errors," \
     "$(grep -c '^W:' "$out/lintian.log" || true) warnings"

# 4. A clean Debian 12 root.
root=$out/root
rm -rf "$root"
tarball=$out/cache/$suite-minbase.tgz
if [ ! -s "$tarball" ]; then
  step "debootstrap --make-tarball ($mirror)"
  debootstrap --variant=minbase --make-tarball="$tarball.part" "$suite" "$out/cache/tarball-work" "$mirror" \
    > "$out/debootstrap.log" 2>&1 || { tail -30 "$out/debootstrap.log"; exit 1; }
  mv "$tarball.part" "$tarball"
  rm -rf "$out/cache/tarball-work"
fi
step "debootstrap a clean root"
debootstrap --variant=minbase --unpack-tarball="$tarball" "$suite" "$root" "$mirror" \
  >> "$out/debootstrap.log" 2>&1 || { tail -30 "$out/debootstrap.log"; exit 1; }
mkdir -p "$root/t/debs"
cp "${debs[@]}" "$root/t/debs/"
cp "$src/tests/install/consumer.c" "$src/tests/install/consumer.py" "$src/tests/packaging/in-root.sh" \
   "$src/abi/libipcshm.map" "$root/t/"
cp /etc/resolv.conf "$root/etc/resolv.conf"

# 5. In the root: install with apt and use. Private mount and IPC namespaces.
step "in the root: apt install, then a C program, Python and the tool"
unshare --mount --ipc --fork --propagation private /bin/bash -euc '
  root=$1; archives=$2; version=$3
  mount -t proc proc "$root/proc"
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
  mount --bind "$archives" "$root/var/cache/apt/archives"
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LC_ALL=C.UTF-8 /bin/bash /t/in-root.sh "$version"
' debian-root "$root" "$out/cache/apt-archives" "$version"
step "done: the packages install and work in a clean Debian 12 root"
