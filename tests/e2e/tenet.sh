# SPDX-License-Identifier: GPL-2.0-or-later
# execlog export --tenet: a Tenet trace of an x86-64 user-mode run (QEMU
# 10.0 user mode, the API 4 build, reg=* and values=on) has one line per
# executed instruction, and its registers and memory are what format=text
# of the same run (a second copy of the plugin in the same QEMU) says
# (tests/tenet_check.py, by the layout docs/tenet.md describes); traces
# Tenet cannot take are refused with one line.

TEN_EL=$B/execlog

# ten_have ARCH: QEMU 10.0 user mode for ARCH and the API 4 build exist
ten_have() {
    [ -x "$Q10_USER/qemu-$1" ] || skip "no $Q10_USER/qemu-$1 (scripts/build-qemu-user.sh)" || return
    [ -f "$(ours v4)" ] || skip "no API 4 build" || return
}

# ten_run ARCH GUEST PLUGINARG...: GUEST under QEMU 10.0 user mode, stdin
# from $T/in (or empty)
ten_run() {
    local arch=$1 guest=$2 args=() p; shift 2
    for p in "$@"; do args+=(-plugin "$p"); done
    [ -f "$T/in" ] || : > "$T/in"
    timeout "$TIMEOUT" setarch -R "$Q10_USER/qemu-$arch" -seed 1 "${args[@]}" \
        "$G/$arch/$guest" < "$T/in" > /dev/null
}

test_tenet_export_100_user_x86_64() {
    ten_have x86_64 || return
    local twin=$T/libexeclog-twin-v4.so
    cp "$(ours v4)" "$twin"
    printf 'abcdefghij' > "$T/in"
    ten_run x86_64 input "$(ours v4),format=bin,outfile=$T/t.bin,values=on,reg=*" \
        "$twin,outfile=$T/text.log,values=on,reg=*" || fail "QEMU failed" || return 1
    "$TEN_EL" export --tenet "$T/t.bin" > "$T/t.tenet" 2> "$T/err" \
        || fail "export failed: $(cat "$T/err")" || return 1
    [ ! -s "$T/err" ] || fail "export said: $(cat "$T/err")" || return 1
    python3 tests/tenet_check.py "$T/t.tenet" "$T/text.log" x86_64 > "$T/check" \
        || { sed 's/^/    /' "$T/check"; fail "the Tenet trace disagrees with format=text"; return 1; }
    grep -q ' [1-9][0-9]* memory entries' "$T/check" || fail "no memory entries: $(cat "$T/check")" || return 1
    # the loads of the input bytes carry them: walk_byte's movzbl reads 'a'..'j'
    [ "$(grep -c ',mr=0x[0-9a-f]*:6[1-9a]$' "$T/t.tenet")" -ge 10 ] \
        || fail "the input bytes are not among the reads" || return 1
    "$TEN_EL" export --tenet -o "$T/o.tenet" "$T/t.bin" || fail "export -o failed" || return 1
    cmp -s "$T/o.tenet" "$T/t.tenet" || fail "-o FILE differs from standard output"
}

# ten_refused WHAT WANT_RC PATTERN: the last export was refused so
ten_refused() {
    [ "$rc" -eq "$2" ] && [ "$(wc -l < "$T/err")" -eq 1 ] && [ ! -s "$T/out" ] \
        && grep -q "$3" "$T/err" || fail "$1: exit $rc: $(cat "$T/err")"
}

test_tenet_refuses_what_it_cannot_export() {
    local rc
    # QEMU 7.2, API 1: no registers; aarch64: not an architecture of Tenet's
    timeout "$TIMEOUT" qemu-x86_64 -plugin "$(ours v1),format=bin,outfile=$T/v1.bin" \
        "$G/x86_64/input" < /dev/null > /dev/null || fail "QEMU failed" || return 1
    "$TEN_EL" export --tenet "$T/v1.bin" > "$T/out" 2> "$T/err"; rc=$?
    ten_refused "no registers" 1 "the trace has no registers: Tenet needs them (record with reg=\*" || return 1
    timeout "$TIMEOUT" qemu-aarch64 -plugin "$(ours v1),format=bin,outfile=$T/a.bin" \
        "$G/aarch64/input" < /dev/null > /dev/null || fail "QEMU failed" || return 1
    "$TEN_EL" export --tenet "$T/a.bin" > "$T/out" 2> "$T/err"; rc=$?
    ten_refused "aarch64" 1 "a trace of aarch64: Tenet reads x86_64 and i386 traces only" || return 1
    "$TEN_EL" export "$T/v1.bin" > "$T/out" 2> "$T/err"; rc=$?
    [ "$rc" -eq 1 ] && grep -q "which format" "$T/err" || fail "no format: $(cat "$T/err")" || return 1
    ten_have x86_64 || return
    ten_run x86_64 input "$(ours v4),format=bin,outfile=$T/nv.bin,reg=*" || fail "QEMU failed" || return 1
    "$TEN_EL" export --tenet "$T/nv.bin" > "$T/out" 2> "$T/err"; rc=$?
    ten_refused "no values" 1 "the trace has no memory values: Tenet needs them (record with values=on)" || return 1
    ten_run x86_64 input "$(ours v4),format=bin,outfile=$T/nr.bin,reg=r?x,values=on" || fail "QEMU failed" || return 1
    "$TEN_EL" export --tenet "$T/nr.bin" > "$T/out" 2> "$T/err"; rc=$?
    ten_refused "some registers" 1 "the trace has no register rbp: Tenet needs every general-purpose register" \
        || return 1
    # damage: exit 2 with the offset (what came before it is written)
    ten_run x86_64 input "$(ours v4),format=bin,outfile=$T/ok.bin,reg=*,values=on" || fail "QEMU failed" || return 1
    local size cut
    size=$(stat -c %s "$T/ok.bin")
    for cut in $((size / 2 + 100)) $((size - 3000)); do
        head -c "$cut" "$T/ok.bin" > "$T/d.bin"
        "$TEN_EL" export --tenet -o "$T/d.tenet" "$T/d.bin" > "$T/out" 2> "$T/err"; rc=$?
        ten_refused "cut at $cut" 2 "^execlog: $T/d.bin: offset 0x[0-9a-f]*: " || return 1
    done
}
