# SPDX-License-Identifier: GPL-2.0-or-later
# A guest that forks (user mode) forks QEMU: format=text gives exactly
# upstream execlog's lines, parent's and child's together, compared as a
# multiset (the two processes' lines interleave differently in each run).
# QEMU's log is a stdio stream in each process: where the parent's and the
# child's writes meet, it can cut a line and glue its parts to others (in
# upstream's log and, through -d plugin, in ours). So through QEMU's log
# every instruction is counted exactly by its quotes (two a line, none in a
# disassembly), and only lines that such a cut broke may be missing; with
# outfile= every line must be whole and every one of upstream's present.

# fork_text ARCH MODE [GUEST EXTRA [VER]]: MODE is qemu_log (-d plugin -D)
# or outfile; EXTRA lines of ours that upstream lacks. QEMU 10.0 (whose
# stack addresses differ between runs): one QEMU process; outfile: upstream
# into QEMU's log, ours into outfile=; qemu_log: ours into QEMU's log, and
# in upstream's place a second copy of ours into outfile= (which the
# outfile test compares with upstream).
fork_text() {
    local arch=$1 mode=$2 guest=${3:-fork} extra=${4:-0} ver=${5:-7.2} line up_bad want got
    line='^[0-9]+, 0x[0-9a-f]+, 0x[0-9a-f]+, "[^"]*"(, (load|store), 0x[0-9a-f]{8,})*$'
    need_user "$ver" "$arch" || return
    want=$(qemu_user "$ver" "$arch" "$G/$arch/$guest")
    # (the guest's stdout is a pipe in every run: the C library takes
    # other paths for other kinds of output)
    if [ "$ver" = 10.0 ] && [ "$mode" = outfile ]; then
        got=$(qemu_user 10.0 "$arch" -d plugin -D "$T/up.log" -plugin "$(upstream v4)" \
                  -plugin "$(ours v4),outfile=$T/ours.log" "$G/$arch/$guest")
    elif [ "$ver" = 10.0 ]; then
        cp "$(ours v4)" "$T/libexeclog-twin.so"
        got=$(qemu_user 10.0 "$arch" -d plugin -D "$T/ours.log" -plugin "$(ours v4)" \
                  -plugin "$T/libexeclog-twin.so,outfile=$T/up.log" "$G/$arch/$guest")
    else
        got=$(timeout "$TIMEOUT" "qemu-$arch" -d plugin -D "$T/up.log" \
                  -plugin "$(upstream v1)" "$G/$arch/$guest")
        [ "$got" = "$want" ] || fail "upstream run: $got" || return 1
        if [ "$mode" = outfile ]; then
            got=$(timeout "$TIMEOUT" "qemu-$arch" \
                      -plugin "$(ours v1),outfile=$T/ours.log" "$G/$arch/$guest")
        else
            got=$(timeout "$TIMEOUT" "qemu-$arch" -d plugin -D "$T/ours.log" \
                      -plugin "$(ours v1)" "$G/$arch/$guest")
        fi
    fi
    [ $? -eq 0 ] && [ "$got" = "$want" ] || fail "guest output: $got" || return 1
    local q_up q_ours ours_bad
    q_up=$(tr -cd '"' < "$T/up.log" | wc -c)
    q_ours=$(tr -cd '"' < "$T/ours.log" | wc -c)
    [ "$q_ours" -eq $(( q_up + 2 * extra )) ] \
        || fail "$((q_ours / 2)) instructions, upstream $((q_up / 2)) (+$extra)" || return 1
    # (7.2's upstream shows bytes past short x86 instructions: no opcode)
    LC_ALL=C grep -vE "$line" "$T/ours.log" | grep -v '^$' > "$T/bad"
    ours_bad=$(wc -l < "$T/bad")
    if [ "$mode" = outfile ]; then
        [ "$ours_bad" -eq 0 ] || fail "malformed line: $(head -1 "$T/bad")" || return 1
    fi
    for f in up ours; do
        LC_ALL=C grep -E "$line" "$T/$f.log" | cut -d, -f1,2,4- \
            | LC_ALL=C sort > "$T/$f.wf"
    done
    LC_ALL=C comm -23 "$T/up.wf" "$T/ours.wf" > "$T/missing"
    [ "$(wc -l < "$T/missing")" -le "$ours_bad" ] \
        || fail "$(wc -l < "$T/missing") of upstream's lines missing ($ours_bad of ours cut), e.g. $(head -1 "$T/missing")" || return 1
    up_bad=$(LC_ALL=C grep -vE "$line" "$T/up.log" | grep -vc '^$')
    [ "$ours_bad" -gt 0 ] || [ "$(wc -l < "$T/ours.wf")" -eq $(( $(wc -l < "$T/up.wf") + 2 * up_bad + extra )) ] \
        || fail "$(wc -l < "$T/ours.wf") lines, upstream $(wc -l < "$T/up.wf") (+2 x $up_bad glued, +$extra)"
}
for arch in aarch64 x86_64 riscv64; do
    eval "test_fork_text_same_lines_as_upstream_72_user_${arch}_qemu_log() { fork_text $arch qemu_log; }"
    eval "test_fork_text_same_lines_as_upstream_72_user_${arch}_outfile() { fork_text $arch outfile; }"
    eval "test_fork_text_same_lines_as_upstream_100_user_${arch}_qemu_log() { fork_text $arch qemu_log fork 0 10.0; }"
    eval "test_fork_text_same_lines_as_upstream_100_user_${arch}_outfile() { fork_text $arch outfile fork 0 10.0; }"
done

# The child dies of SIGSEGV: QEMU 7.2 runs no exit callback in it, and the
# child's own watcher writes out what it held. Upstream loses the child's
# last line (the faulting store); ours has it.
fork_crash_text() {
    local arch=$1 mode=$2
    fork_text "$arch" "$mode" forkcrash 1 2>"$T/qemu.err" || return 1
    # the child's faulting store: in ours once more than in upstream's log
    [ "$(grep -c 'str w1, \[x0\]"' "$T/ours.log")" -eq \
      $(( $(grep -c 'str w1, \[x0\]"' "$T/up.log") + 1 )) ] \
        || fail "the child's faulting store is not the line upstream lacks"
}
test_fork_child_killed_by_signal_text_72_user_aarch64_outfile() {
    fork_crash_text aarch64 outfile
}
test_fork_child_killed_by_signal_text_72_user_aarch64_qemu_log() {
    fork_crash_text aarch64 qemu_log
}
# QEMU 10.0 runs the exit callbacks in the child too: upstream has the
# faulting store as well, and ours has exactly upstream's lines.
fork_crash_text10() {
    fork_text aarch64 "$1" forkcrash 0 10.0 2>"$T/qemu.err" || return
    # (the faulting store has no access: its line ends with the disassembly)
    [ "$(grep -c '"str w1, \[x0\]"$' "$T/ours.log")" -eq 1 ] \
        || fail "the child's faulting store is not there once" || return 1
    [ "$(grep -c '"str w1, \[x0\]"$' "$T/up.log")" -eq 1 ] \
        || fail "the child's faulting store is not in the reference once" || return 1
    ! grep -q '^execlog:' "$T/qemu.err" || fail "stderr: $(grep '^execlog:' "$T/qemu.err")"
}
test_fork_child_killed_by_signal_text_100_user_aarch64_outfile() {
    fork_crash_text10 outfile
}
test_fork_child_killed_by_signal_text_100_user_aarch64_qemu_log() {
    fork_crash_text10 qemu_log
}
