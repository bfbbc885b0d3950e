#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Installs what execlog's build and tests need, from Debian's archive only:
#  - build tools, glib, libzstd, cmocka, cross compilers for the test guests,
#    QEMU 7.2 (user + system) from bookworm;
#  - the real qemu-plugin.h of QEMU 7.2 (API v1) and QEMU 10.0 (API v4), and
#    upstream execlog.c as a test oracle, taken from Debian's qemu source
#    packages (never committed);
#  - QEMU 10.0's system emulators from bookworm-backports, unpacked (not
#    installed) under the cache folder, with all their module packages, and
#    the libraries of the modules it loads at every start (it must start
#    without a word on stderr);
#  - Debian's arm64 Linux kernel and a busybox initramfs (fetch-linux.sh).
#
# The mirror is read from the machine's apt configuration; backports and
# source packages go through a private apt configuration in the cache, so the
# machine's own apt sources are left alone.
#
# Works on a pristine Debian 12 that has only make and git (make
# fresh-check proves it).
#
# Usage: scripts/setup.sh            (idempotent; quick when all is there)
# Env:   EXECLOG_CACHE  cache folder (default: $HOME/.cache/execlog)
set -euo pipefail

CACHE=${EXECLOG_CACHE:-$HOME/.cache/execlog}
say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

# --- 1. packages from the machine's own sources -------------------------
# The build (clang with its sanitizer and libFuzzer runtimes, a Recommends
# only), the cross compilers of the test guests, QEMU 7.2, what the scripts
# call beyond a minimal system (xz, cpio, python3; man, groff, col and
# mandoc, with which the tests check the man pages), and the libraries of the
# audio drivers that QEMU 10.0 probes at every start (its gui modules: with
# a library missing, it says "failed to open module"; with the module
# missing, it would try QEMU 7.2's module of that name and refuse it).
PKGS=(build-essential meson ninja-build pkg-config libglib2.0-dev libzstd-dev
      libcmocka-dev clang libclang-rt-dev xz-utils dpkg-dev
      qemu-user qemu-system-arm
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross
      gcc-riscv64-linux-gnu libc6-dev-riscv64-cross
      cpio python3 man-db groff-base bsdextrautils mandoc
      libpipewire-0.3-0 libpulse0 libsdl2-2.0-0 libjack-jackd2-0)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    $SUDO apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

# --- 2. private apt configuration for backports and sources -------------
mkdir -p "$CACHE"
APT="$CACHE/apt"
mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
fi
[ -n "$mirror" ] || die "cannot find the Debian mirror in /etc/apt/sources.list.d/debian.sources"
key=/usr/share/keyrings/debian-archive-keyring.gpg
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial"
cat > "$APT/sources.list" <<EOS
deb [signed-by=$key] $mirror bookworm-backports main
deb-src [signed-by=$key] $mirror bookworm main
deb-src [signed-by=$key] $mirror bookworm-backports main
EOS
APTOPT=(-o "Dir::Etc::sourcelist=$APT/sources.list" -o "Dir::Etc::sourceparts=-"
        -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache"
        -o "APT::Sandbox::User=root")
apt_updated=
apt_update() {
    [ -n "$apt_updated" ] && return
    say "reading bookworm-backports and source indexes (private apt configuration)"
    apt-get "${APTOPT[@]}" update -q >/dev/null
    apt_updated=1
}

# The 7.2 source is the one the installed emulators were built from; 10.0 is
# whatever bookworm-backports offers now.
V72_SRC=$(dpkg-query -W -f='${source:Version}' qemu-user)
V100=$(apt-cache "${APTOPT[@]}" policy qemu-system-arm 2>/dev/null \
       | awk '$1 ~ /^1:10\./ { print $1; exit } $1 == "***" && $2 ~ /^1:10\./ { print $2; exit }')
if [ -z "$V100" ]; then
    apt_update
    V100=$(apt-cache "${APTOPT[@]}" policy qemu-system-arm \
           | awk '$1 ~ /^1:10\./ { print $1; exit } $1 == "***" && $2 ~ /^1:10\./ { print $2; exit }')
fi
[ -n "$V100" ] || die "bookworm-backports offers no QEMU 10.x (qemu-system-arm)"

# --- 3. qemu-plugin.h and upstream execlog.c of each QEMU ----------------
# fetch_source VERSION DEST: extract the plugin header and contrib plugins
fetch_source() {
    local ver=$1 dest=$2 dl="$CACHE/dl"
    [ -f "$dest/.done" ] && return
    apt_update
    mkdir -p "$dl"
    local uri
    uri=$(apt-get "${APTOPT[@]}" source --print-uris "qemu=$ver" 2>/dev/null \
          | awk -F"'" '/orig\.tar/ { print $2; exit }')
    [ -n "$uri" ] || die "no qemu source package $ver in the archive"
    local tarball="$dl/${uri##*/}"
    if [ ! -s "$tarball" ]; then
        say "downloading ${uri##*/}"
        /usr/lib/apt/apt-helper "${APTOPT[@]}" download-file "$uri" "$tarball.part" >/dev/null
        mv "$tarball.part" "$tarball"
    fi
    rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
    tar -xJf "$tarball" -C "$dest.tmp" --strip-components=1 --wildcards \
        '*/include/qemu/qemu-plugin.h' '*/contrib/plugins/execlog.c'
    rm -rf "$dest" && mv "$dest.tmp" "$dest" && touch "$dest/.done"
    rm -f "$tarball"
}
fetch_source "$V72_SRC" "$CACHE/qemu-7.2"
fetch_source "$V100" "$CACHE/qemu-10.0"

# --- 4. QEMU 10.0 system emulators, unpacked -----------------------------
Q10="$CACHE/qemu-10.0-system"
if [ ! -f "$Q10/.done" ]; then
    apt_update
    rm -rf "$Q10.tmp" && mkdir -p "$Q10.tmp/debs"
    say "downloading QEMU 10.0 system emulator packages from bookworm-backports"
    (cd "$Q10.tmp/debs" && apt-get "${APTOPT[@]}" download -q \
        "qemu-system-arm=$V100" "qemu-system-common=$V100" "qemu-system-data=$V100" \
        "qemu-system-gui=$V100" "qemu-system-modules-opengl=$V100" \
        "qemu-system-modules-spice=$V100" "qemu-block-extra=$V100" >/dev/null)
    for d in "$Q10.tmp"/debs/*.deb; do dpkg-deb -x "$d" "$Q10.tmp"; done
    rm -rf "$Q10.tmp/debs"
    # Runtime libraries the unpacked emulator needs that bookworm provides.
    need=$(ldd "$Q10.tmp/usr/bin/qemu-system-aarch64" | awk '/not found/ { print $1 }')
    [ -z "$need" ] || die "QEMU 10.0 needs libraries that are missing: $need"
    rm -rf "$Q10" && mv "$Q10.tmp" "$Q10" && touch "$Q10/.done"
fi

# Wrapper that points QEMU 10.0 at its own modules and firmware (written
# beside and renamed, as tests may be running it).
Q10W=$CACHE/qemu-system-aarch64-10.0
cat > "$Q10W.tmp" <<EOW
#!/bin/sh
QEMU_MODULE_DIR="$Q10/usr/lib/x86_64-linux-gnu/qemu" exec "$Q10/usr/bin/qemu-system-aarch64" -L "$Q10/usr/share/qemu" "\$@"
EOW
chmod +x "$Q10W.tmp"
mv "$Q10W.tmp" "$Q10W"
"$Q10W" --version | grep -q 'version 10\.0' || die "unpacked QEMU 10.0 does not run"
# A start as the tests make it (then "quit" on the monitor) prints nothing.
err=$(printf 'quit\n' | timeout 60 "$Q10W" -M virt -cpu cortex-a57 -nic none -display none \
      -serial none -S -monitor stdio 2>&1 >/dev/null) \
    || die "QEMU 10.0 does not start: $err"
[ -z "$err" ] || die "QEMU 10.0 says at start (it must say nothing): $err"
# --- 5. a real arm64 Linux kernel and initramfs (Linux boot test, bench) --
"$(dirname "$0")/fetch-linux.sh"

say "ready: cache in $CACHE"
