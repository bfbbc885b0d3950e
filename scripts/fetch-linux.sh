#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fetches a real Linux kernel for aarch64 and builds a tiny initramfs, for
# the Linux boot benchmark (bench/linux-boot.sh) and test (tests/e2e/linux.sh).
#
#  - Debian bookworm's arm64 kernel (the linux-image-*-arm64 package that
#    linux-image-arm64 depends on) and busybox-static:arm64 are downloaded
#    with apt-get download through a private apt configuration in the cache
#    (native architecture arm64, its own package lists and an empty dpkg
#    status), so the machine's dpkg and apt are left untouched: no foreign
#    architecture is added and nothing is installed.
#  - The kernel image is unpacked to $EXECLOG_CACHE/linux-arm64/vmlinuz.
#  - initramfs.cpio.gz there holds busybox and an /init that mounts proc and
#    sysfs, prints "execlog-linux-boot-ok <kernel release> cpus=<N>" on the
#    console and powers off at once (poweroff -f), so QEMU exits by itself.
#
# The mirror is read from the machine's apt sources (as scripts/setup.sh
# does) and written only into the cache, never into the repository.
#
# Usage: scripts/fetch-linux.sh     (idempotent; quick when all is there)
# Env:   EXECLOG_CACHE  cache folder (default: $HOME/.cache/execlog)
# Needs: apt-get, dpkg-deb, cpio, gzip (scripts/setup.sh installs them)
set -euo pipefail
export LC_ALL=C

CACHE=${EXECLOG_CACHE:-$HOME/.cache/execlog}
OUT=$CACHE/linux-arm64
APT=$CACHE/apt-arm64
say() { printf 'fetch-linux: %s\n' "$*" >&2; }
die() { printf 'fetch-linux: error: %s\n' "$*" >&2; exit 1; }

for t in apt-get apt-cache dpkg-deb cpio gzip; do
    command -v "$t" >/dev/null || die "$t is missing (scripts/setup.sh installs it)"
done

# Bump when the initramfs (its /init) changes, so old caches are rebuilt.
STAMP="initramfs-v2"

# write_init FILE: the /init script of the initramfs. busybox's sh runs it;
# everything it calls is a busybox applet linked in /bin.
write_init() {
    cat > "$1" <<'EOI'
#!/bin/sh
# execlog Linux boot test: report that userspace runs, then power off.
/bin/mount -t devtmpfs devtmpfs /dev 2>/dev/null
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1
/bin/mount -t proc proc /proc
/bin/mount -t sysfs sysfs /sys
echo "execlog-linux-boot-ok $(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)"
poweroff -f
EOI
}
APPLETS="sh mount echo uname grep poweroff"

done_ok() {
    [ -f "$OUT/.done" ] && [ "$(cat "$OUT/.done")" = "$STAMP" ] &&
        [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initramfs.cpio.gz" ] &&
        [ -s "$OUT/busybox" ] && [ -s "$OUT/kernel-version" ]
}

report() {
    say "kernel:    $OUT/vmlinuz ($(cat "$OUT/kernel-version"))"
    say "initramfs: $OUT/initramfs.cpio.gz ($(wc -c < "$OUT/initramfs.cpio.gz") bytes)"
    say "boot it:   $CACHE/qemu-system-aarch64-10.0 -M virt -cpu cortex-a57 -smp 2 -m 512M -nic none" \
        "-nographic -no-reboot -kernel $OUT/vmlinuz -initrd $OUT/initramfs.cpio.gz" \
        "-append 'console=ttyAMA0 panic=-1 quiet cryptomgr.notests'"
}

if done_ok; then
    report
    exit 0
fi

# --- 1. private apt configuration: arm64 packages of bookworm ------------
# Every deb822 stanza of the machine's Debian sources (bookworm, -updates,
# -security), with "Architectures: arm64" added; or, failing that, the one-
# line form from /etc/apt/sources.list with [arch=arm64].
mkdir -p "$APT/sources.list.d" "$APT/lists/partial" "$APT/cache/archives/partial"
src=/etc/apt/sources.list.d/debian.sources
if [ -s "$src" ] && grep -q '^URIs:' "$src"; then
    awk '/^[Aa]rchitectures:/ { next }
         /^Types:/ { print; print "Architectures: arm64"; next }
         { print }' "$src" > "$APT/sources.list.d/debian.sources.tmp"
    mv "$APT/sources.list.d/debian.sources.tmp" "$APT/sources.list.d/debian.sources"
    rm -f "$APT/sources.list.d/debian.list"
elif [ -s /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list; then
    key=/usr/share/keyrings/debian-archive-keyring.gpg
    awk -v key="$key" '$1 == "deb" {
            if ($2 ~ /^\[/) next   # options already: keep it simple, skip
            $1 = "deb [arch=arm64 signed-by=" key "]"; print }' \
        /etc/apt/sources.list > "$APT/sources.list.d/debian.list.tmp"
    mv "$APT/sources.list.d/debian.list.tmp" "$APT/sources.list.d/debian.list"
    rm -f "$APT/sources.list.d/debian.sources"
else
    die "cannot find the Debian mirror in $src or /etc/apt/sources.list"
fi
: > "$APT/status"
APTOPT=(-o "Dir::Etc::sourcelist=/dev/null" -o "Dir::Etc::sourceparts=$APT/sources.list.d"
        -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache"
        -o "Dir::State::status=$APT/status"
        -o "APT::Architecture=arm64" -o "APT::Architectures::=arm64"
        -o "APT::Sandbox::User=root")

say "reading bookworm's arm64 package indexes (private apt configuration)"
apt-get "${APTOPT[@]}" update -q >/dev/null || die "apt-get update failed"

# linux-image-arm64 is the metapackage; it depends on the real one.
kpkg=$(apt-cache "${APTOPT[@]}" depends linux-image-arm64 2>/dev/null \
       | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-arm64$/ { print $2; exit }')
[ -n "$kpkg" ] || die "linux-image-arm64 depends on no linux-image-*-arm64 package"
kver=$(apt-cache "${APTOPT[@]}" policy "$kpkg" | awk '$1 == "Candidate:" { print $2 }')
bver=$(apt-cache "${APTOPT[@]}" policy busybox-static | awk '$1 == "Candidate:" { print $2 }')
case "$kver" in ''|'(none)') die "no candidate for $kpkg" ;; esac
case "$bver" in ''|'(none)') die "no candidate for busybox-static" ;; esac

# --- 2. download and unpack ---------------------------------------------
rm -rf "$OUT.tmp" && mkdir -p "$OUT.tmp/debs" "$OUT.tmp/x"
say "downloading $kpkg $kver and busybox-static $bver (arm64)"
(cd "$OUT.tmp/debs" && apt-get "${APTOPT[@]}" download -q \
    "$kpkg=$kver" "busybox-static=$bver" >/dev/null) || die "apt-get download failed"
kdeb=$(ls "$OUT.tmp/debs/${kpkg}"_*.deb)
bdeb=$(ls "$OUT.tmp"/debs/busybox-static_*.deb)
[ "$(dpkg-deb -f "$kdeb" Architecture)" = arm64 ] || die "$kdeb is not arm64"
[ "$(dpkg-deb -f "$bdeb" Architecture)" = arm64 ] || die "$bdeb is not arm64"

# Only the kernel image: the modules are of no use to an initramfs this small.
krel=${kpkg#linux-image-}
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$OUT.tmp/x" "./boot/vmlinuz-$krel" "./boot/config-$krel"
dpkg-deb --fsys-tarfile "$bdeb" | tar -x -C "$OUT.tmp/x" ./bin/busybox
mv "$OUT.tmp/x/boot/vmlinuz-$krel" "$OUT.tmp/vmlinuz"
mv "$OUT.tmp/x/boot/config-$krel" "$OUT.tmp/config"
mv "$OUT.tmp/x/bin/busybox" "$OUT.tmp/busybox"
printf '%s %s\n' "$kpkg" "$kver" > "$OUT.tmp/kernel-version"
printf 'busybox-static %s\n' "$bver" > "$OUT.tmp/busybox-version"
rm -rf "$OUT.tmp/debs" "$OUT.tmp/x"

# --- 3. the initramfs ----------------------------------------------------
# Files only (cpio's newc format, owned by root): /dev/console comes from
# the kernel's built-in initramfs, and /init mounts devtmpfs too in case.
root=$OUT.tmp/root
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys"
cp "$OUT.tmp/busybox" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"
for a in $APPLETS; do ln -s busybox "$root/bin/$a"; done
write_init "$root/init"
chmod 755 "$root/init"
# The same bytes every time: fixed times, owner and inode numbers.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | sort | cpio -o -H newc -R 0:0 --reproducible --quiet) \
    | gzip -9 -n > "$OUT.tmp/initramfs.cpio.gz"
rm -rf "$root"
echo "$STAMP" > "$OUT.tmp/.done"

rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
rm -f "$APT"/cache/archives/*.deb "$APT"/cache/*.bin
report
