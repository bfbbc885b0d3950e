#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make fresh-check: proves that a pristine Debian 12 with only make and git
# added passes `make demo` and `make check`, downloads and all.
#
#  1. A minimal bookworm root (debootstrap --variant=minbase, plus make and
#     git) from the machine's own Debian mirror. The freshly bootstrapped
#     root is kept as a tarball in $EXECLOG_CACHE/fresh-check, so a rerun
#     unpacks the same pristine bytes instead of bootstrapping again; it is
#     rebuilt when the mirror changes or it is older than 30 days.
#  2. The root gets the machine's apt sources and Debian keyring choice,
#     apt settings for an archive snapshot (Release files may be past their
#     Valid-Until), dpkg's unsafe-io (as Debian's container images have it),
#     and /proc, /sys, /dev (a tmpfs with the basic nodes, devpts, /dev/shm).
#  3. The checkout's current commit (HEAD; uncommitted changes are not in
#     it) is cloned into /root/execlog by the root's own git, from a bundle.
#  4. In a chroot, with an empty environment and HOME=/root (so the cache,
#     QEMU 10.0, the kernel and all packages are fetched afresh):
#     make demo, then make check.
#  5. Everything mounted under the root is unmounted, on every exit path,
#     before the root is removed.
#
# Prints make check's output and ends with its closing line; exits with
# make check's status (1 if make demo or the setup failed first).
#
# Usage: scripts/fresh-check.sh       (as root: debootstrap, chroot, mount)
# Env:   EXECLOG_CACHE   cache folder (default: $HOME/.cache/execlog)
#        FRESH_DIR       where the root is made (default: /var/tmp)
#        FRESH_KEEP=1    keep the root (unmounted) for a look afterwards
set -euo pipefail
export LC_ALL=C

CACHE=${EXECLOG_CACHE:-$HOME/.cache/execlog}/fresh-check
SUITE=bookworm
VARIANT=minbase
INCLUDE=make,git
say() { printf 'fresh-check: %s\n' "$*" >&2; }
die() { printf 'fresh-check: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] ||
    die "needs root (debootstrap, chroot and mount): sudo make fresh-check"
SRC=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
COMMIT=$(git -C "$SRC" rev-parse HEAD)
git -C "$SRC" diff --quiet HEAD ||
    say "note: uncommitted changes are not checked (HEAD only)"

if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        debootstrap >/dev/null
fi

# The mirror, as scripts/setup.sh reads it.
mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
fi
[ -n "$mirror" ] || die "cannot find the Debian mirror in /etc/apt/sources.list.d/debian.sources"

# --- mounts and cleanup ----------------------------------------------------
# ours DIR: dies unless DIR is a root this script made (an empty or wrong
# DIR would name the machine's own mounts, processes and files)
ours() {
    case "$1" in
        /?*/execlog-fresh.??????|/?*/execlog-debootstrap.??????) ;;
        *) die "refusing to clean up '$1': not a root of fresh-check's" ;;
    esac
}

# mounts_under DIR: mount points at or below DIR, deepest first
mounts_under() {
    awk -v d="$1" '{ m = $5; gsub(/\\040/, " ", m)
                     if (m == d || index(m, d "/") == 1) print length(m), m }' \
        /proc/self/mountinfo | sort -rn | cut -d' ' -f2-
}

# kill_inside DIR: end the processes whose root is DIR (left by an
# interrupted run), by pid
kill_inside() {
    local sig p r pids
    ours "$1"
    for sig in TERM KILL; do
        pids=()
        for p in /proc/[0-9]*; do
            r=$(readlink "$p/root" 2>/dev/null) || continue
            [ "$r" = "$1" ] && pids+=("${p#/proc/}")
        done
        [ ${#pids[@]} -eq 0 ] && return 0
        kill "-$sig" "${pids[@]}" 2>/dev/null || true
        sleep 1
    done
}

# unmount_all DIR: unmount everything below DIR; fails if anything stays
unmount_all() {
    local m
    ours "$1"
    kill_inside "$1"
    while read -r m; do
        [ -n "$m" ] || continue
        umount "$m" 2>/dev/null || umount -l "$m" || true
    done < <(mounts_under "$1")
    [ -z "$(mounts_under "$1")" ]
}

# remove_root DIR: rm -rf, only once nothing is mounted below it, and never
# onto another file system
remove_root() {
    ours "$1"
    [ -d "$1" ] || return 0
    if ! unmount_all "$1"; then
        say "still mounted below $1, not removing it:"
        mounts_under "$1" | sed 's/^/    /' >&2
        return 1
    fi
    rm -rf --one-file-system "$1"
}

ROOT='' BUILDROOT=''
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [ -n "$BUILDROOT" ]; then
        remove_root "$BUILDROOT" || rc=1
        rm -f "$BUILDROOT.log"
    fi
    if [ -n "$ROOT" ]; then
        if [ "${FRESH_KEEP:-}" = 1 ]; then
            unmount_all "$ROOT" || rc=1
            say "kept the root in $ROOT (remove it with rm -rf --one-file-system)"
        else
            remove_root "$ROOT" || rc=1
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted: cleaning up"; exit 130' INT
trap 'say "terminated: cleaning up"; exit 143' TERM
trap 'exit 129' HUP

# --- 1. the bootstrapped root, cached as a tarball ---------------------------
mkdir -p "$CACHE" "${FRESH_DIR:-/var/tmp}"
TARBALL=$CACHE/$SUITE-$VARIANT.tar.gz
stamp="$SUITE $VARIANT $INCLUDE $mirror"
if [ ! -s "$TARBALL" ] || [ "$(cat "$TARBALL.stamp" 2>/dev/null)" != "$stamp" ] ||
   [ -n "$(find "$TARBALL" -mtime +30)" ]; then
    BUILDROOT=$(mktemp -d "${FRESH_DIR:-/var/tmp}/execlog-debootstrap.XXXXXX")
    BUILDROOT=$(realpath "$BUILDROOT")
    chmod 755 "$BUILDROOT"      # mktemp's 0700 would be the root's / mode
    say "debootstrap $SUITE ($VARIANT, plus $INCLUDE) from the machine's mirror"
    t0=$SECONDS
    if ! debootstrap --variant="$VARIANT" --include="$INCLUDE" "$SUITE" "$BUILDROOT" \
            "$mirror" > "$BUILDROOT.log" 2>&1; then
        tail -n 20 "$BUILDROOT.log" >&2
        rm -f "$BUILDROOT.log"
        die "debootstrap failed"
    fi
    rm -f "$BUILDROOT.log"
    unmount_all "$BUILDROOT" || die "debootstrap left mounts below $BUILDROOT"
    rm -f "$BUILDROOT"/var/cache/apt/archives/*.deb
    tar -C "$BUILDROOT" --numeric-owner -czf "$TARBALL.part" .
    mv "$TARBALL.part" "$TARBALL"
    echo "$stamp" > "$TARBALL.stamp"
    remove_root "$BUILDROOT"
    BUILDROOT=
    say "bootstrapped in $((SECONDS - t0))s; cached as $TARBALL"
fi

ROOT=$(mktemp -d "${FRESH_DIR:-/var/tmp}/execlog-fresh.XXXXXX")
ROOT=$(realpath "$ROOT")
tar -C "$ROOT" --numeric-owner -xpzf "$TARBALL"
chmod 755 "$ROOT"               # apt's _apt user must reach /var/lib/apt

# --- 2. configuration, mounts -------------------------------------------------
if [ -s /etc/apt/sources.list.d/debian.sources ]; then
    cp /etc/apt/sources.list.d/debian.sources "$ROOT/etc/apt/sources.list.d/"
    rm -f "$ROOT/etc/apt/sources.list"
elif [ -s /etc/apt/sources.list ]; then
    cp /etc/apt/sources.list "$ROOT/etc/apt/sources.list"
fi
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
cat > "$ROOT/etc/apt/apt.conf.d/99fresh-check" <<'EOC'
// fresh-check: the mirror may be an archive snapshot, whose Release files
// are past their Valid-Until date.
Acquire::Check-Valid-Until "false";
EOC
# The machine's apt proxy, if it has one.
apt-config dump 2>/dev/null | grep -iE '^Acquire::(http|https)::Proxy ' \
    >> "$ROOT/etc/apt/apt.conf.d/99fresh-check" || true
echo force-unsafe-io > "$ROOT/etc/dpkg/dpkg.cfg.d/fresh-check-unsafe-io"

mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys"
mount -t tmpfs -o mode=755,nosuid dev "$ROOT/dev"
for n in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
    IFS=: read -r name major minor <<< "$n"
    mknod -m 666 "$ROOT/dev/$name" c "$major" "$minor"
done
mkdir "$ROOT/dev/pts" "$ROOT/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$ROOT/dev/pts"
ln -s pts/ptmx "$ROOT/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$ROOT/dev/shm"
ln -s /proc/self/fd "$ROOT/dev/fd"
ln -s /proc/self/fd/0 "$ROOT/dev/stdin"
ln -s /proc/self/fd/1 "$ROOT/dev/stdout"
ln -s /proc/self/fd/2 "$ROOT/dev/stderr"

# --- 3. the commit under test -------------------------------------------------
git -C "$SRC" bundle create "$ROOT/tmp/execlog.bundle" HEAD >/dev/null 2>&1 ||
    die "git bundle create failed in $SRC"

# in_root CMD: run a shell command in the root, with an empty environment
# and default signal handling
in_root() {
    chroot "$ROOT" /usr/bin/env -i --default-signal=INT,QUIT \
        HOME=/root TERM="${TERM:-dumb}" \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/bash -c "$1"
}
in_root "git clone -q /tmp/execlog.bundle /root/execlog 2>/dev/null &&
         git -C /root/execlog -c advice.detachedHead=false checkout -q $COMMIT &&
         rm /tmp/execlog.bundle" || die "git clone in the root failed"
say "root $ROOT: Debian $(cat "$ROOT/etc/debian_version")," \
    "$(in_root 'dpkg-query -W | wc -l') packages; execlog at ${COMMIT:0:7}"

# --- 4. make demo, make check -------------------------------------------------
# make_in_root TARGET: make TARGET in the clone, its output on ours and in
# $ROOT/tmp/make-TARGET.log; returns make's status. It runs in the
# background and is waited for, so that a signal ends this script at once
# (apt and dpkg ignore SIGINT) and the cleanup ends what runs in the root.
make_in_root() {
    local rcfile=$ROOT/tmp/make-$1.rc
    rm -f "$rcfile"
    in_root "cd /root/execlog && make $1; echo \$? > /tmp/make-$1.rc" 2>&1 |
        tee "$ROOT/tmp/make-$1.log" &
    wait $! || true
    [ -s "$rcfile" ] || return 1
    return "$(cat "$rcfile")"
}

t0=$SECONDS
say "make demo (installs what is missing, builds, traces a guest)"
make_in_root demo ||
    die "make demo failed in the fresh root after $((SECONDS - t0))s"
t1=$SECONDS
say "make demo took $((t1 - t0))s; make check"
rc=0
make_in_root check || rc=$?
last=$(grep -E '^[0-9]+ passed' "$ROOT/tmp/make-check.log" | tail -n 1 || true)
say "make check took $((SECONDS - t1))s (make demo before it $((t1 - t0))s)"
if [ -z "$last" ]; then
    say "make check ended (status $rc) before its tests' closing line"
    [ "$rc" -ne 0 ] || rc=1
else
    echo "$last"
fi
exit "$rc"
