# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the end-to-end tests: run real QEMU with our plugin, upstream
# execlog (built from the same Debian source package) and the counting
# plugin, and compare. Sourced by tests/run.sh.

# EXECLOG_BUILD: the build to test (make sanitize points it at
# build-sanitize, whose files have the same names as build's)
B=$(realpath -m "${EXECLOG_BUILD:-$PWD/build}")
G=$B/guests
EXECLOG_CACHE=${EXECLOG_CACHE:-$HOME/.cache/execlog}
Q10_SYS=$EXECLOG_CACHE/qemu-system-aarch64-10.0
Q72_SYS=qemu-system-aarch64
# QEMU 10.0 user mode with plugins (scripts/build-qemu-user.sh)
Q10_USER=$EXECLOG_CACHE/qemu-10.0-user
TIMEOUT=${TEST_TIMEOUT:-120}
. tests/tiers.sh

# plugin paths by API generation
ours() { echo "$B/libexeclog-$1.so"; }
upstream() { echo "$B/libupstream-execlog-$1.so"; }
counter() { echo "$B/libcount-$1.so"; }

# -plugin argument: PATH[,opt...]
plug() { local p=$1; shift; local IFS=,; echo "$p${*:+,$*}"; }

# user ARCH GUEST PLUGINARG... : run a 7.2 user-mode guest with plugins
user() {
    local arch=$1 guest=$2; shift 2
    local args=() p
    for p in "$@"; do args+=(-plugin "$p"); done
    timeout "$TIMEOUT" "qemu-$arch" "${args[@]}" "$G/$arch/$guest"
}

# quser VER ARCH: the user-mode QEMU of VER (7.2: Debian's; 10.0: built
# by scripts/build-qemu-user.sh, into the cache)
quser() { if [ "$1" = 10.0 ]; then echo "$Q10_USER/qemu-$2"; else echo "qemu-$2"; fi; }

# api VER: the plugin build (API generation) for that QEMU
api() { if [ "$1" = 10.0 ]; then echo v4; else echo v1; fi; }

# need_user VER ARCH: skip unless VER's user-mode QEMU for ARCH is there
# (setup builds 10.0's, so in make check it is). Use as:
# need_user "$ver" "$arch" || return
need_user() {
    [ "$1" != 10.0 ] || [ -x "$(quser 10.0 "$2")" ] ||
        skip "no QEMU 10.0 user mode in $Q10_USER (scripts/build-qemu-user.sh builds it)"
}

# qemu_user VER ARCH QEMUARG...: run VER's user-mode QEMU. 10.0 places a
# 64-bit guest's stack and mappings at host addresses: without host ASLR
# (setarch -R) they are the same in every run with the same plugins.
qemu_user() {
    local ver=$1 arch=$2; shift 2
    if [ "$ver" = 10.0 ]; then
        timeout "$TIMEOUT" setarch -R "$(quser 10.0 "$arch")" "$@"
    else
        timeout "$TIMEOUT" "qemu-$arch" "$@"
    fi
}

# user_addrs VER: a filter for text lines of two different runs of VER's
# user mode. 10.0's guest stack and mappings are at host mmap addresses
# that differ from run to run even without ASLR (measured: upstream alone,
# same command, e.g. 0x7fffee9ff6c0 and 0x7ffff6bc86c0 for the same load;
# QEMU's own threads map their arenas in a racy order), so for 10.0 each
# access keeps its kind and loses its address; 7.2 passes as it is.
user_addrs() {
    if [ "$1" = 10.0 ]; then
        sed -E 's/(load|store), 0x[0-9a-f]+/\1, ADDR/g'
    else
        cat
    fi
}

# qemu_user_bg VER ARCH QEMUARG... &: the same for a run in the background
# that the test kills: the background shell becomes QEMU, so $! is QEMU's
# pid (no timeout)
qemu_user_bg() {
    local ver=$1 arch=$2; shift 2
    if [ "$ver" = 10.0 ]; then
        exec setarch -R "$(quser 10.0 "$arch")" "$@"
    fi
    exec "qemu-$arch" "$@"
}

# user10 ARCH GUEST PLUGINARG... : as user, on QEMU 10.0 user mode (skips
# if it is not built)
user10() {
    local arch=$1 guest=$2; shift 2
    local args=() p
    need_user 10.0 "$arch" || return
    for p in "$@"; do args+=(-plugin "$p"); done
    qemu_user 10.0 "$arch" "${args[@]}" "$G/$arch/$guest"
}

# sys VER GUEST SMP PLUGINARG... [-- QEMUARG...]: run a bare-metal virt
# guest on QEMU 7.2 or 10.0
sys() {
    local ver=$1 guest=$2 smp=$3; shift 3
    local q=$Q72_SYS args=() p
    [ "$ver" = 10.0 ] && q=$Q10_SYS
    while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=(-plugin "$1"); shift; done
    [ "${1:-}" = -- ] && shift
    args+=("$@")
    timeout "$TIMEOUT" "$q" -M virt -cpu cortex-a57 -m 128M -smp "$smp" \
        -display none -monitor none -nic none -serial "file:$T/uart.$$" \
        "${args[@]}" -kernel "$G/system/aarch64/$guest.elf"
}


fail() { echo "    $*"; return 1; }

# skip REASON: the test cannot run here; tests/run.sh reports SKIP with the
# reason. Use as: [ -x "$x" ] || skip "no $x" || return
skip() { echo "$*"; return 77; }

# wait_for SECONDS CMD...: poll CMD until it succeeds; fails after SECONDS
wait_for() {
    local end=$((SECONDS + $1)); shift
    until "$@"; do
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.05
    done
}

# held_open FILE: some process has FILE open (QEMU, or the watcher that
# QEMU's plugin leaves behind, which holds QEMU's stderr and the outfile)
held_open() {
    local l
    [ -e "$1" ] || return 1
    for l in /proc/[0-9]*/fd/*; do
        [ "$l" -ef "$1" ] && return 0
    done 2>/dev/null
    return 1
}

not_held_open() { ! held_open "$1"; }

# released SECONDS FILE: wait until no process holds FILE open
released() { wait_for "$1" not_held_open "$2"; }

# bigger_than BYTES FILE: FILE has grown past BYTES
bigger_than() { [ "$(stat -c %s "$2" 2>/dev/null || echo 0)" -gt "$1" ]; }

# same_file A B [short]: byte-for-byte equality; with "short", QEMU 7.2's
# upstream may show bytes past instructions shorter than 4 bytes in OPCODE
# (tests/opcmp.pl checks that everything else, and the real bytes, agree).
same_file() {
    local a=$1 b=$2
    [ -s "$a" ] || fail "$a is empty" || return 1
    if [ "${3:-}" = short ]; then
        tests/opcmp.pl "$a" "$b" | sed 's/^/    /'
        [ "${PIPESTATUS[0]}" -eq 0 ] && return 0
    else
        cmp -s "$a" "$b" && return 0
        cmp "$a" "$b" | sed 's/^/    /'
        diff "$a" "$b" | head -5 | sed 's/^/    /'
    fi
    fail "$a and $b differ"
}

# counts_from_log LOG: "instructions: N" etc., from execlog text lines
counts_from_log() {
    awk '
        NF { n++; l += gsub(/, load, /, ""); s += gsub(/, store, /, "") }
        END { printf "instructions: %d\nloads: %d\nstores: %d\n", n, l, s }
    ' "$1"
}

# same_counts LOG COUNTFILE
same_counts() {
    [ -s "$2" ] || fail "counting plugin wrote nothing" || return 1
    grep -q '^instructions: [1-9]' "$2" || fail "the guest ran no instructions" || return 1
    diff <(counts_from_log "$1") "$2" >/dev/null && return 0
    paste <(counts_from_log "$1") "$2" | sed 's/^/    ours | count: /'
    fail "execlog and the counting plugin disagree"
}
