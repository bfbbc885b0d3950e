# SPDX-License-Identifier: GPL-2.0-or-later
# Exact with any threads: every executed instruction and access is recorded
# for every vCPU, however and whenever threads (user mode) or vCPUs (system
# mode) start, in both formats, against the counting plugin loaded into the
# same QEMU process, over several runs. The guest's output is what it is
# without the plugin.

# exact_check FORMAT: the run recorded in $T against the counter in $T/count
exact_check() {
    local fmt=$1
    if [ "$fmt" = bin ]; then
        "$EL" dump "$T/t.bin" > "$T/ours.log" 2>"$T/err" \
            || fail "dump failed: $(head -1 "$T/err")" || return 1
        same_stats "$T/t.bin" "$T/count" || return 1
    fi
    grep -v '^$' "$T/ours.log" > "$T/lines"
    same_counts "$T/lines" "$T/count" || return 1
    lines_whole_in "$T/lines"
}

# Every line whole (the grammar of a line, accesses in user or system form).
lines_whole_in() {
    local line='^[0-9]+, 0x[0-9a-f]+, 0x[0-9a-f]+, "[^"]*"(, (load|store), 0x[0-9a-f]{8,}(, [A-Za-z0-9_.-]+)?)*$'
    if LC_ALL=C grep -vqE "$line" "$1"; then
        fail "malformed line: $(LC_ALL=C grep -vE "$line" "$1" | head -1)"
        return 1
    fi
}

# the plugin argument that records in FORMAT into $T
rec_arg() {
    if [ "$2" = bin ]; then
        echo "$(ours "$1"),format=bin,outfile=$T/t.bin"
    else
        echo "$(ours "$1"),outfile=$T/ours.log"
    fi
}

# exact_user FORMAT ARCH [VER]: late threads, threads started while others
# run, many short-lived ones; plain, then with shared memory mapped first
exact_user() {
    local fmt=$1 arch=$2 ver=${3:-7.2} mode want got
    need_user "$ver" "$arch" || return
    want=$(qemu_user "$ver" "$arch" "$G/$arch/latethreads")
    for mode in plain shared shared; do
        got=$(qemu_user "$ver" "$arch" -plugin "$(rec_arg "$(api "$ver")" "$fmt")" \
                  -plugin "$(counter "$(api "$ver")"),out=$T/count" \
                  "$G/$arch/latethreads" "$mode" 2>"$T/qemu.err")
        [ $? -eq 0 ] || fail "guest failed ($mode): $(head -1 "$T/qemu.err")" || return 1
        [ "$got" = "$want" ] || fail "guest output differs ($mode): $got" || return 1
        [ ! -s "$T/qemu.err" ] || fail "QEMU said: $(head -1 "$T/qemu.err")" || return 1
        exact_check "$fmt" || { echo "    (run: $mode)"; return 1; }
    done
}
# crowd_user FORMAT VER: 24 threads alive at once (past the 16 vCPUs QEMU's
# per-vCPU scoreboards start with: they grow, and every TB is flushed, while
# the other threads run)
crowd_user() {
    local fmt=$1 ver=$2 want got run
    need_user "$ver" aarch64 || return
    want=$(qemu_user "$ver" aarch64 "$G/aarch64/latethreads" many)
    for run in 1 2; do
        got=$(qemu_user "$ver" aarch64 -plugin "$(rec_arg "$(api "$ver")" "$fmt")" \
                  -plugin "$(counter "$(api "$ver")"),out=$T/count" \
                  "$G/aarch64/latethreads" many 2>"$T/qemu.err")
        [ $? -eq 0 ] || fail "guest failed: $(head -1 "$T/qemu.err")" || return 1
        [ "$got" = "$want" ] || fail "guest output differs: $got" || return 1
        [ ! -s "$T/qemu.err" ] || fail "QEMU said: $(head -1 "$T/qemu.err")" || return 1
        exact_check "$fmt" || { echo "    (run $run)"; return 1; }
        [ "$(cut -d, -f1 "$T/lines" | sort -u | wc -l)" -gt 16 ] \
            || fail "no more than 16 vCPUs in the trace" || return 1
    done
}
for fmt in bin text; do
    eval "test_threads_crowd_exact_${fmt}_72_user() { crowd_user $fmt 7.2; }"
    eval "test_threads_crowd_exact_${fmt}_100_user() { crowd_user $fmt 10.0; }"
done

for arch in aarch64 x86_64 riscv64; do
    for fmt in bin text; do
        eval "test_threads_late_exact_${fmt}_72_user_${arch}() { exact_user $fmt $arch; }"
        eval "test_threads_late_exact_${fmt}_100_user_${arch}() { exact_user $fmt $arch 10.0; }"
    done
done

# exact_sys VER API FORMAT SMP: vCPUs started one by one while the others
# run, with MTTCG
exact_sys() {
    local ver=$1 api=$2 fmt=$3 smp=$4 run
    for run in 1 2 3; do
        sys "$ver" smpn "$smp" "$(rec_arg "$api" "$fmt")" \
            "$(counter "$api"),out=$T/count" \
            -- -M gic-version=3 -accel tcg,thread=multi >/dev/null 2>"$T/qemu.err" \
            || fail "QEMU failed: $(head -1 "$T/qemu.err")" || return 1
        grep -q "^smpn: cpus $(printf '%02x' "$smp") " "$T/uart.$$" \
            || fail "not all $smp vCPUs ran: $(cat "$T/uart.$$")" || return 1
        exact_check "$fmt" || { echo "    (run $run)"; return 1; }
        [ "$(cut -d, -f1 "$T/lines" | sort -u | wc -l)" -eq "$smp" ] \
            || fail "not every vCPU is in the trace" || return 1
    done
}
for fmt in bin text; do
    eval "test_threads_late_exact_${fmt}_72_system_smp4() { exact_sys 7.2 v1 $fmt 4; }"
    eval "test_threads_late_exact_${fmt}_100_system_smp4() { exact_sys 10.0 v4 $fmt 4; }"
done
