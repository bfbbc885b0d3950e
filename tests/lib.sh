# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the end-to-end tests: run real QEMU with our plugin, upstream
# execlog (built from the same Debian source package) and the counting
# plugin, and compare. Sourced by tests/run.sh.

B=$PWD/build
G=$B/guests
EXECLOG_CACHE=${EXECLOG_CACHE:-$HOME/.cache/execlog}
Q10_SYS=$EXECLOG_CACHE/qemu-system-aarch64-10.0
Q72_SYS=qemu-system-aarch64
TIMEOUT=${TEST_TIMEOUT:-120}

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
    diff <(counts_from_log "$1") "$2" >/dev/null && return 0
    paste <(counts_from_log "$1") "$2" | sed 's/^/    ours | count: /'
    fail "execlog and the counting plugin disagree"
}
