# SPDX-License-Identifier: GPL-2.0-or-later
# A guest that forks (user mode) forks QEMU: format=text gives exactly
# upstream execlog's lines, parent's and child's together, compared as a
# multiset (the two processes' lines interleave differently in each run).
# Upstream's own log can glue two lines into one where the parent's and
# the child's writes meet: such a line stands for two of ours.

# fork_text ARCH MODE: MODE is qemu_log (-d plugin -D) or outfile
fork_text() {
    local arch=$1 mode=$2 line up_bad want got
    line='^[0-9]+, 0x[0-9a-f]+, 0x[0-9a-f]+, "[^"]*"(, (load|store), 0x[0-9a-f]{8,})*$'
    want=$(timeout "$TIMEOUT" "qemu-$arch" "$G/$arch/fork")
    # (the guest's stdout is a pipe in every run: the C library takes
    # other paths for other kinds of output)
    got=$(timeout "$TIMEOUT" "qemu-$arch" -d plugin -D "$T/up.log" \
              -plugin "$(upstream v1)" "$G/$arch/fork")
    [ "$got" = "$want" ] || fail "upstream run: $got" || return 1
    if [ "$mode" = outfile ]; then
        got=$(timeout "$TIMEOUT" "qemu-$arch" \
                  -plugin "$(ours v1),outfile=$T/ours.log" "$G/$arch/fork")
    else
        got=$(timeout "$TIMEOUT" "qemu-$arch" -d plugin -D "$T/ours.log" \
                  -plugin "$(ours v1)" "$G/$arch/fork")
    fi
    [ $? -eq 0 ] && [ "$got" = "$want" ] || fail "guest output: $got" || return 1
    # (7.2's upstream shows bytes past short x86 instructions: no opcode)
    LC_ALL=C grep -vE "$line" "$T/ours.log" | grep -v '^$' > "$T/bad"
    [ ! -s "$T/bad" ] || fail "malformed line: $(head -1 "$T/bad")" || return 1
    for f in up ours; do
        LC_ALL=C grep -E "$line" "$T/$f.log" | cut -d, -f1,2,4- \
            | LC_ALL=C sort > "$T/$f.wf"
    done
    LC_ALL=C comm -23 "$T/up.wf" "$T/ours.wf" > "$T/missing"
    [ ! -s "$T/missing" ] || fail "$(wc -l < "$T/missing") of upstream's lines missing, e.g. $(head -1 "$T/missing")" || return 1
    up_bad=$(LC_ALL=C grep -vE "$line" "$T/up.log" | grep -vc '^$')
    [ "$(wc -l < "$T/ours.wf")" -eq $(( $(wc -l < "$T/up.wf") + 2 * up_bad )) ] \
        || fail "$(wc -l < "$T/ours.wf") lines, upstream $(wc -l < "$T/up.wf") (+2 x $up_bad glued)"
}
for arch in aarch64 x86_64 riscv64; do
    eval "test_fork_text_same_lines_as_upstream_72_user_${arch}_qemu_log() { fork_text $arch qemu_log; }"
    eval "test_fork_text_same_lines_as_upstream_72_user_${arch}_outfile() { fork_text $arch outfile; }"
done
