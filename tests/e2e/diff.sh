# SPDX-License-Identifier: GPL-2.0-or-later
# execlog diff on real traces: two runs of the input guest whose stdin
# differs in one byte part ways where the program first reads that byte
# (found independently: the guest's symbols from nm, its code from objdump,
# the instruction's index from the full dump); identical runs are
# identical (the count from the counting plugin); damaged traces exit 2
# with the offset; cut-off traces compare as far as they go.

DIFF_EL=$B/execlog

# diff_runs ARCH INPUT_A INPUT_B: traces $T/a.bin and $T/b.bin of the
# input guest reading INPUT_A and INPUT_B (QEMU 7.2)
diff_runs() {
    local arch=$1
    printf '%s' "$2" > "$T/in.a"
    printf '%s' "$3" > "$T/in.b"
    timeout "$TIMEOUT" "qemu-$arch" -plugin "$(ours v1),format=bin,outfile=$T/a.bin" \
        -plugin "$(counter v1),out=$T/count.a" "$G/$arch/input" < "$T/in.a" > /dev/null \
        || fail "QEMU failed (A)" || return 1
    timeout "$TIMEOUT" "qemu-$arch" -plugin "$(ours v1),format=bin,outfile=$T/b.bin" \
        "$G/$arch/input" < "$T/in.b" > /dev/null || fail "QEMU failed (B)" || return 1
}

test_diff_identical_runs_72_user() {
    diff_runs x86_64 "the same input" "the same input" || return 1
    "$DIFF_EL" diff "$T/a.bin" "$T/b.bin" > "$T/out" 2> "$T/err"
    local rc=$? n
    [ "$rc" -eq 0 ] || fail "exit $rc: $(head -3 "$T/out" "$T/err")" || return 1
    n=$(awk -F': ' '$1 == "instructions" { print $2 }' "$T/count.a")
    [ "$(cat "$T/out")" = "identical: $n instructions" ] \
        || fail "said '$(cat "$T/out")', the counting plugin counted $n" || return 1
    [ ! -s "$T/err" ] || fail "stderr: $(cat "$T/err")"
}

# one_byte ARCH: inputs differing in byte K = 5
one_byte() {
    local arch=$1 k=5 objdump=objdump walk buf load i d want rc
    [ "$arch" = aarch64 ] && objdump=aarch64-linux-gnu-objdump
    diff_runs "$arch" "abcdefghij" "abcdeXghij" || return 1
    walk=$(nm "$G/$arch/input" | awk '$3 == "walk_byte" { print $1 }')
    buf=$(nm "$G/$arch/input" | awk '$3 ~ /^buf(\.[0-9]+)?$/ { print $1 }')
    [ -n "$walk" ] && [ -n "$buf" ] || fail "no walk_byte or buf in nm" || return 1
    walk=$(printf '%x' $((0x$walk)))
    # walk_byte's table load: its instruction before the return
    load=$("$objdump" -d --no-show-raw-insn "$G/$arch/input" \
        | awk '/<walk_byte>:/ { on = 1; next } on && /\tret/ { print prev; exit }
               on { sub(/:.*/, ""); gsub(/ /, ""); prev = $0 }')
    [ -n "$load" ] || fail "no table load found in walk_byte" || return 1
    "$DIFF_EL" dump "$T/a.bin" > "$T/dump.a" || fail "dump A failed" || return 1
    "$DIFF_EL" dump "$T/b.bin" > "$T/dump.b" || fail "dump B failed" || return 1
    # the index of walk_byte's first instruction when it reads byte K
    i=$(awk -v pc="0x$walk" -v k="$k" \
        '$2 == pc "," { if (n++ == k) { print NR - 1; exit } }' "$T/dump.a")
    [ -n "$i" ] || fail "walk_byte did not run $((k + 1)) times" || return 1
    sed -n "$((i + 1))p" "$T/dump.a" | grep -q "load, 0x0*$(printf '%x' $((0x$buf + k)))\$" \
        || fail "instruction $i does not load byte $k (buf 0x$buf): $(sed -n "$((i + 1))p" "$T/dump.a")" \
        || return 1
    # without values, the first instruction whose access depends on the
    # byte: the table load after it
    d=$(awk -v pc="0x$load" -v from="$i" 'NR - 1 > from && $2 == pc "," { print NR - 1; exit }' \
        "$T/dump.a")
    want=$(cmp "$T/dump.a" "$T/dump.b" | sed -n 's/.* line \([0-9]*\)$/\1/p')
    [ "$d" = "$((want - 1))" ] || fail "the dumps differ first at line $want, table load at $d" \
        || return 1
    "$DIFF_EL" diff --context 2 "$T/a.bin" "$T/b.bin" > "$T/out" 2> "$T/err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "exit $rc: $(head -3 "$T/out" "$T/err")" || return 1
    head -n 1 "$T/out" | grep -q "^vCPU 0, instruction $d: access 0: address 0x[0-9a-f]* in A, 0x[0-9a-f]* in B\$" \
        || fail "first line: $(head -n 1 "$T/out") (want instruction $d)" || return 1
    # each side's marked line is that side's dump line, with context
    [ "$(grep -c '^\* ' "$T/out")" -eq 2 ] || fail "not one marked line per side" || return 1
    [ "$(grep '^\* ' "$T/out" | head -n 1)" = "* $(sed -n "$((d + 1))p" "$T/dump.a")" ] \
        || fail "A's marked line is not its dump's line $d" || return 1
    [ "$(grep '^\* ' "$T/out" | tail -n 1)" = "* $(sed -n "$((d + 1))p" "$T/dump.b")" ] \
        || fail "B's marked line is not its dump's line $d" || return 1
    cmp -s <(sed -n '/^A /,/^B /p' "$T/out" | grep '^[ *] ' | cut -c3-) \
        <(sed -n "$((d - 1)),$((d + 3))p" "$T/dump.a") || fail "A's context lines" || return 1
    cmp -s <(sed -n '/^B /,$p' "$T/out" | grep '^[ *] ' | cut -c3-) \
        <(sed -n "$((d - 1)),$((d + 3))p" "$T/dump.b") || fail "B's context lines" || return 1
    # --limit stops before the difference; --from past it finds the next
    [ "$("$DIFF_EL" diff --limit "$d" "$T/a.bin" "$T/b.bin")" = "identical: $d instructions" ] \
        || fail "--limit $d does not stop before the difference" || return 1
    "$DIFF_EL" diff --from "$((d + 1))" "$T/a.bin" "$T/b.bin" > "$T/out"
    i=$(head -n 1 "$T/out" | sed -n 's/^vCPU 0, instruction \([0-9]*\):.*/\1/p')
    [ -n "$i" ] && [ "$i" -gt "$d" ] || fail "--from $((d + 1)): $(head -n 1 "$T/out")"
}
test_diff_one_input_byte_72_user_x86_64() { one_byte x86_64; }
test_diff_one_input_byte_72_user_aarch64() { one_byte aarch64; }

# Damage in either trace: exit 2 and one line with the file and the offset.
test_diff_damaged_trace_exits_2() {
    local size cut f
    diff_runs x86_64 "same" "same" || return 1
    size=$(stat -c %s "$T/a.bin")
    for cut in $((size - 100)) $((size / 2 + 50)) 5000; do
        head -c "$cut" "$T/a.bin" > "$T/d.bin"
        for f in "$T/d.bin $T/b.bin" "$T/b.bin $T/d.bin"; do
            # shellcheck disable=SC2086
            timeout 20 "$DIFF_EL" diff $f > "$T/out" 2> "$T/err"
            local rc=$?
            [ "$rc" -eq 2 ] || fail "cut at $cut ($f): exit $rc: $(cat "$T/err")" || return 1
            [ "$(wc -l < "$T/err")" -eq 1 ] && \
                grep -q "^execlog: $T/d.bin: offset 0x[0-9a-f]*: ." "$T/err" \
                || fail "cut at $cut: message: $(cat "$T/err")" || return 1
        done
    done
}

# Two runs killed at different points: both traces are cut off; what both
# have is the same, and the shorter one's end is not a difference.
test_diff_cut_off_traces_72_user() {
    local f n pid
    for f in c1 c2; do
        qemu-aarch64 -plugin "$(ours v1),format=bin,outfile=$T/$f.bin" \
            "$G/aarch64/workload" 1000 >/dev/null 2>&1 &
        pid=$!
        wait_for 60 bigger_than $([ $f = c1 ] && echo 3000000 || echo 6000000) "$T/$f.bin" \
            || fail "no trace growing" || return 1
        kill -KILL $pid 2>/dev/null
        wait $pid 2>/dev/null
        timeout "$TIMEOUT" flock -s "$T/$f.bin" true
    done
    for f in c1 c2; do
        "$DIFF_EL" stats "$T/$f.bin" 2>/dev/null \
            | awk -F': ' -v f=$f '$1 == "instructions" { print $2, f }'
    done | sort -n > "$T/counts"
    read -r n f < "$T/counts"
    [ "${n:-0}" -gt 1000 ] || fail "only ${n:-0} instructions recorded" || return 1
    "$DIFF_EL" diff "$T/c1.bin" "$T/c2.bin" > "$T/out" 2> "$T/err"
    local rc=$?
    [ "$rc" -eq 0 ] || fail "exit $rc: $(head -5 "$T/out" "$T/err")" || return 1
    [ "$(cat "$T/out")" = "identical: $n instructions (up to where a cut-off trace ends)" ] \
        || fail "said '$(cat "$T/out")'; the shorter trace has $n instructions" || return 1
    grep -q "^execlog: $T/$f.bin: vCPU 0's records end at instruction $n " "$T/err" \
        || fail "no note where $f ends: $(cat "$T/err")"
}

test_diff_bad_input() {
    diff_runs x86_64 "x" "x" || return 1
    timeout "$TIMEOUT" qemu-aarch64 -plugin "$(ours v1),format=bin,outfile=$T/arm.bin" \
        "$G/aarch64/input" < /dev/null > /dev/null || fail "QEMU failed" || return 1
    "$DIFF_EL" diff "$T/a.bin" "$T/arm.bin" > "$T/out" 2> "$T/err"
    [ $? -eq 1 ] && [ "$(wc -l < "$T/err")" -eq 1 ] && [ ! -s "$T/out" ] \
        && grep -q "different targets (x86_64, aarch64)" "$T/err" \
        || fail "different targets: $(cat "$T/err")" || return 1
    "$DIFF_EL" diff --vcpu 3 "$T/a.bin" "$T/b.bin" 2> "$T/err"
    [ $? -eq 1 ] && grep -q "neither trace has vCPU 3" "$T/err" \
        || fail "--vcpu 3: $(cat "$T/err")" || return 1
    "$DIFF_EL" diff --vcpu 1-0 "$T/a.bin" "$T/b.bin" 2> "$T/err"
    [ $? -eq 1 ] && grep -q "is not a list of vCPU" "$T/err" || fail "--vcpu 1-0" || return 1
    "$DIFF_EL" diff "$T/a.bin" 2> "$T/err"
    [ $? -eq 1 ] && grep -q "two traces needed" "$T/err" || fail "one trace" || return 1
    "$DIFF_EL" diff "$T/a.bin" "$T/nonexistent.bin" 2> "$T/err"
    [ $? -eq 3 ] && grep -q "nonexistent.bin: cannot open" "$T/err" || fail "missing file"
}

# With values=on (QEMU 10.0 user mode, the API 4 build) the runs differ at
# the load of the byte itself, in its value. Two processes differ in their
# thread id (set_tid_address's result is stored), without -seed in
# AT_RANDOM (the stack guard), and where QEMU places the guest's stack
# when it takes host addresses (QEMU's own threads map theirs at the same
# time): each run gets a PID namespace of its own, the same seed, and a
# reserved guest address space (-R; aarch64: x86_64's vsyscall page does
# not fit one).
test_diff_one_input_byte_100_user_values() {
    local q=$Q10_USER/qemu-aarch64 ns=() f k=5 walk buf i rc
    [ -x "$q" ] || skip "no $q (scripts/build-qemu-user.sh)" || return
    if unshare -p -f true 2>/dev/null; then ns=(unshare -p -f)
    elif unshare -r -p -f true 2>/dev/null; then ns=(unshare -r -p -f)
    else skip "no PID namespace (unshare -p) for identical thread ids" || return
    fi
    printf 'abcdefghij' > "$T/in.a"
    printf 'abcdeXghij' > "$T/in.b"
    for f in a b; do
        timeout "$TIMEOUT" "${ns[@]}" "$q" -R 0x4000000000 -seed 1 \
            -plugin "$(ours v4),format=bin,outfile=$T/$f.bin,values=on,reg=*" \
            "$G/aarch64/input" < "$T/in.$f" > /dev/null || fail "QEMU failed ($f)" || return 1
    done
    walk=$(printf '%x' $((0x$(nm "$G/aarch64/input" | awk '$3 == "walk_byte" { print $1 }'))))
    buf=$(nm "$G/aarch64/input" | awk '$3 ~ /^buf(\.[0-9]+)?$/ { print $1 }')
    "$DIFF_EL" dump "$T/a.bin" > "$T/dump.a" || fail "dump failed" || return 1
    i=$(awk -v pc="0x$walk" -v k="$k" \
        '$2 == pc "," { if (n++ == k) { print NR - 1; exit } }' "$T/dump.a")
    [ -n "$i" ] || fail "walk_byte did not run $((k + 1)) times" || return 1
    sed -n "$((i + 1))p" "$T/dump.a" | grep -q "load, 0x0*$(printf '%x' $((0x$buf + k)))=0x66" \
        || fail "instruction $i does not load byte $k, 'f': $(sed -n "$((i + 1))p" "$T/dump.a")" \
        || return 1
    "$DIFF_EL" diff --context 0 "$T/a.bin" "$T/b.bin" > "$T/out" 2> "$T/err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "exit $rc: $(head -3 "$T/out" "$T/err")" || return 1
    head -n 1 "$T/out" | grep -qx "vCPU 0, instruction $i: access 0: value 0x66 in A, 0x58 in B" \
        || fail "first line: $(head -n 1 "$T/out") (want instruction $i)" || return 1
    # and runs of the same input are identical, values and registers too
    timeout "$TIMEOUT" "${ns[@]}" "$q" -R 0x4000000000 -seed 1 \
        -plugin "$(ours v4),format=bin,outfile=$T/b.bin,values=on,reg=*" \
        "$G/aarch64/input" < "$T/in.a" > /dev/null || fail "QEMU failed" || return 1
    "$DIFF_EL" diff "$T/a.bin" "$T/b.bin" > "$T/out" \
        || fail "same input: $(head -3 "$T/out")" || return 1
    [ "$(cat "$T/out")" = "identical: $(wc -l < "$T/dump.a") instructions" ] \
        || fail "same input: $(cat "$T/out")"
}

# A complete trace that ends first differs where it ends (mktrace: the
# same seed, one vCPU, more instructions: the shorter is a prefix).
test_diff_shorter_complete_trace_differs() {
    local n
    "$B/mktrace" --vcpus 1 --insns 300 "$T/short.bin" || fail "mktrace failed" || return 1
    "$B/mktrace" --vcpus 1 --insns 400 "$T/long.bin" || fail "mktrace failed" || return 1
    n=$("$DIFF_EL" dump "$T/short.bin" | wc -l)
    cmp -s <("$DIFF_EL" dump "$T/short.bin") <("$DIFF_EL" dump "$T/long.bin" | head -n "$n") \
        || fail "the shorter trace is not a prefix (mktrace changed?)" || return 1
    "$DIFF_EL" diff "$T/short.bin" "$T/long.bin" > "$T/out" 2> "$T/err"
    [ $? -eq 1 ] || fail "exit status: $(cat "$T/out" "$T/err")" || return 1
    head -n 1 "$T/out" | grep -qx "vCPU 0, instruction $n: A ends here, B goes on" \
        || fail "first line: $(head -n 1 "$T/out") (A has $n)" || return 1
    grep -qx '  (end of vCPU 0)' "$T/out" || fail "A's side does not show its end" || return 1
    "$DIFF_EL" diff "$T/long.bin" "$T/short.bin" | head -n 1 \
        | grep -qx "vCPU 0, instruction $n: B ends here, A goes on" || fail "swapped"
}
