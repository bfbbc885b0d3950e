#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Builds QEMU 10.0's user-mode emulators qemu-aarch64, qemu-x86_64 and
# qemu-riscv64 with plugin support, from Debian's qemu source package (the
# version scripts/setup.sh takes from bookworm-backports). Debian's own
# qemu-user 10.0 is static and has no -plugin option, so the tests of the
# API 4 build in user mode need this one.
#
#  - The source package's orig tarball is downloaded through setup.sh's
#    private apt configuration in the cache (its hash checked against the
#    signed Sources index) and unpacked.
#  - Debian's +ds tarball has no python/wheels: configure needs meson >= 1.5
#    and pycotap, which bookworm has not. bookworm-backports' meson and
#    python3-pycotap debs are unpacked (not installed) into the build folder
#    and put on PYTHONPATH; the machine's meson stays as it is.
#  - Only the three linux-user targets, plugins and capstone on (configure
#    fails if capstone is missing, instead of building a QEMU whose
#    disassembly is empty), no system emulators, tools, docs or firmware.
#  - The three binaries go to $EXECLOG_CACHE/qemu-10.0-user/qemu-ARCH; the
#    build folder is removed. A stamp (.done, holding the version) makes a
#    rerun a no-op; the build happens again only if the result is missing.
#
# Takes about 4 minutes on 2 cores (configure 20 s, ninja the rest) and
# about 1.5 GB in the cache while it builds.
#
# Usage: scripts/build-qemu-user.sh [VERSION]   (scripts/setup.sh calls it)
#   VERSION: the Debian version of qemu to build (default: the 1:10.x that
#   bookworm-backports offers)
# Env:   EXECLOG_CACHE  cache folder (default: $HOME/.cache/execlog)
#        JOBS           parallel build jobs (default: nproc)
# Needs: what scripts/setup.sh installs (build-essential, ninja-build,
#        pkg-config, libglib2.0-dev, libcapstone-dev, python3-venv, dpkg-dev)
#        and its private apt configuration ($EXECLOG_CACHE/apt).
set -euo pipefail
export LC_ALL=C

CACHE=${EXECLOG_CACHE:-$HOME/.cache/execlog}
OUT=$CACHE/qemu-10.0-user
APT=$CACHE/apt
ARCHES="aarch64 x86_64 riscv64"
say() { printf 'build-qemu-user: %s\n' "$*" >&2; }
die() { printf 'build-qemu-user: error: %s\n' "$*" >&2; exit 1; }

done_ok() {
    [ -f "$OUT/.done" ] || return 1
    local a
    for a in $ARCHES; do [ -x "$OUT/qemu-$a" ] || return 1; done
}
if done_ok; then
    exit 0
fi

for t in apt-get apt-cache dpkg-deb xz ninja pkg-config cc /usr/bin/python3; do
    command -v "$t" >/dev/null || die "$t is missing (scripts/setup.sh installs it)"
done
pkg-config --exists capstone ||
    die "libcapstone-dev is missing (scripts/setup.sh installs it); without it QEMU's disassembly is empty"
[ -f "$APT/sources.list" ] ||
    die "no private apt configuration in $APT (run scripts/setup.sh)"
APTOPT=(-o "Dir::Etc::sourcelist=$APT/sources.list" -o "Dir::Etc::sourceparts=-"
        -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache"
        -o "APT::Sandbox::User=root")

VER=${1:-}
if [ -z "$VER" ]; then
    VER=$(apt-cache "${APTOPT[@]}" policy qemu-system-arm 2>/dev/null \
          | awk '$1 ~ /^1:10\./ { print $1; exit } $1 == "***" && $2 ~ /^1:10\./ { print $2; exit }')
fi
[ -n "$VER" ] || die "no QEMU 10.x in the private apt lists (run scripts/setup.sh)"

start=$(date +%s)
WORK="$CACHE/qemu-10.0-user.build"
rm -rf "$WORK" && mkdir -p "$WORK/src" "$WORK/py"
trap 'rm -rf "$WORK"' EXIT

# The orig tarball only (as setup.sh takes it: the archive reachable here
# may not hold the .dsc and Debian's patch tarball), checked against the
# hash in the signed Sources index. That is QEMU's upstream source, with the
# files Debian's +ds repack removes (wheels, firmware) missing.
orig_uri() {
    apt-get "${APTOPT[@]}" source --print-uris "qemu=$VER" 2>/dev/null |
        awk '$2 ~ /\.orig\.tar\./ { print $1, $2, $4; exit }'
}
uri=$(orig_uri)
if [ -z "$uri" ]; then
    say "reading the source indexes again (private apt configuration)"
    apt-get "${APTOPT[@]}" update -q >/dev/null
    uri=$(orig_uri)
fi
[ -n "$uri" ] || die "no qemu source package $VER in the archive"
read -r url file hash <<<"$uri"
url=${url//\'/}
say "downloading $file"
/usr/lib/apt/apt-helper "${APTOPT[@]}" download-file "$url" "$WORK/src/$file" "$hash" \
    >/dev/null || die "cannot download $file"
say "unpacking it"
mkdir -p "$WORK/src/qemu"
tar -xJf "$WORK/src/$file" -C "$WORK/src/qemu" --strip-components=1
rm -f "$WORK/src/$file"

# meson >= 1.5 and pycotap, from bookworm-backports, unpacked privately.
say "unpacking meson and pycotap from bookworm-backports (not installed)"
(cd "$WORK/py" && apt-get "${APTOPT[@]}" download -q \
    meson/bookworm-backports python3-pycotap/bookworm-backports >/dev/null) ||
    die "cannot download meson and python3-pycotap from bookworm-backports"
for d in "$WORK"/py/*.deb; do dpkg-deb -x "$d" "$WORK/py/root"; done
PYPATH="$WORK/py/root/usr/lib/python3/dist-packages"
[ -d "$PYPATH/mesonbuild" ] || die "the meson deb holds no mesonbuild"

targets=
bins=
for a in $ARCHES; do
    targets+="${targets:+,}$a-linux-user"
    bins+=" qemu-$a"
done
say "configuring ($targets, plugins, capstone)"
mkdir -p "$WORK/build"
(cd "$WORK/build" &&
    PYTHONPATH="$PYPATH" ../src/qemu/configure --python=/usr/bin/python3 \
        --target-list="$targets" --enable-plugins --enable-capstone \
        --disable-system --disable-tools --disable-docs --disable-install-blobs \
        --disable-guest-agent --disable-werror >"$WORK/configure.log" 2>&1) || {
    tail -n 30 "$WORK/configure.log" >&2
    die "configure failed (last lines above)"
}
say "building$bins (takes a few minutes)"
# shellcheck disable=SC2086
PYTHONPATH="$PYPATH" ninja -C "$WORK/build" -j "${JOBS:-$(nproc)}" $bins \
    >"$WORK/ninja.log" 2>&1 || {
    tail -n 30 "$WORK/ninja.log" >&2
    die "the build failed (last lines above)"
}

rm -rf "$OUT.tmp" && mkdir -p "$OUT.tmp"
for a in $ARCHES; do
    cp "$WORK/build/qemu-$a" "$OUT.tmp/"
    "$OUT.tmp/qemu-$a" --version | grep -q 'version 10\.' ||
        die "the built qemu-$a does not run"
    "$OUT.tmp/qemu-$a" --help | grep -q -- '^-plugin' ||
        die "the built qemu-$a has no -plugin option"
done
printf '%s\n' "$VER" > "$OUT.tmp/.done"
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
say "ready: $OUT (qemu $VER, $(( $(date +%s) - start )) s)"
