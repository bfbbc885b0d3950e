# SPDX-License-Identifier: GPL-2.0-or-later
# format=bin: a trace dumped by `execlog dump` equals what format=text prints
# for the same run (two copies of the plugin loaded into one QEMU process),
# agrees with the counting plugin, and survives the run ending badly.

EL=$B/execlog

# same_stats TRACE COUNTFILE: execlog stats totals = the counting plugin's
same_stats() {
    "$EL" stats "$1" > "$T/stats" || fail "execlog stats failed" || return 1
    local k
    for k in instructions loads stores; do
        grep -qx "$(grep "^$k:" "$2")" "$T/stats" \
            || fail "stats $k: $(grep "^$k:" "$T/stats") vs counter $(grep "^$k:" "$2")" \
            || return 1
    done
}

# A second copy of the plugin, so that QEMU loads it as a second plugin.
twin() { cp "$(ours "$1")" "$T/libexeclog-twin-$1.so"; echo "$T/libexeclog-twin-$1.so"; }

# rt_user ARCH GUEST [zstd] [VER]
rt_user() {
    local arch=$1 guest=$2 z=${3:+,compress=zstd} ver=${4:-7.2} a
    a=$(api "$ver")
    need_user "$ver" "$arch" || return
    qemu_user "$ver" "$arch" \
        -plugin "$(ours "$a"),outfile=$T/text.log" \
        -plugin "$(twin "$a"),format=bin,outfile=$T/t.bin$z" \
        "$G/$arch/$guest" >/dev/null 2>"$T/err" \
        || fail "QEMU failed: $(head -1 "$T/err")" || return 1
    "$EL" dump "$T/t.bin" > "$T/dump.log" || fail "dump failed" || return 1
    # (a QEMU that died at its first block leaves an empty line in both)
    [ "$(wc -l < "$T/dump.log")" -gt 1000 ] || fail "only $(wc -l < "$T/dump.log") lines" || return 1
    same_file "$T/dump.log" "$T/text.log"
}
for arch in x86_64 aarch64 riscv64; do
    eval "test_bin_roundtrip_72_user_${arch}() { rt_user $arch basic; }"
    eval "test_bin_roundtrip_72_user_${arch}_sigsegv_zstd() { rt_user $arch sigsegv zstd; }"
    eval "test_bin_roundtrip_100_user_${arch}() { rt_user $arch basic '' 10.0; }"
    eval "test_bin_roundtrip_100_user_${arch}_sigsegv_zstd() { rt_user $arch sigsegv zstd 10.0; }"
done
# QEMU 10.0 user mode cannot say which program runs (no
# qemu_plugin_path_to_binary): the trace has no binary= line, and no other
# sign that the function is missing; 7.2 says it.
binary_meta() {
    local ver=$1
    need_user "$ver" aarch64 || return
    qemu_user "$ver" aarch64 -plugin "$(ours "$(api "$ver")"),format=bin,outfile=$T/t.bin" \
        "$G/aarch64/basic" >/dev/null 2>"$T/err" || fail "QEMU failed: $(head -1 "$T/err")" || return 1
    [ ! -s "$T/err" ] || fail "QEMU said: $(head -1 "$T/err")" || return 1
    "$EL" info "$T/t.bin" > "$T/info" || fail "info failed" || return 1
    grep -q '^complete: yes' "$T/info" || fail "not complete: $(cat "$T/info")"
}
test_bin_meta_binary_72_user() {
    binary_meta 7.2 || return 1
    grep -q "binary.*$G/aarch64/basic" "$T/info" || fail "no binary in: $(cat "$T/info")"
}
test_bin_meta_binary_100_user() {
    binary_meta 10.0 || return
    ! grep -q "binary" "$T/info" || fail "a binary line: $(grep binary "$T/info")"
}

# rt_sys VER API [zstd]
rt_sys() {
    local ver=$1 api=$2 z=${3:+,compress=zstd}
    sys "$ver" hello 1 "$(ours "$api"),outfile=$T/text.log" \
        "$(twin "$api"),format=bin,outfile=$T/t.bin$z" >/dev/null 2>&1 \
        || fail "QEMU failed" || return 1
    "$EL" dump "$T/t.bin" > "$T/dump.log" || fail "dump failed" || return 1
    same_file "$T/dump.log" "$T/text.log" || return 1
    grep -q ', pl011$' "$T/dump.log" || fail "no device access in the dump"
}
test_bin_roundtrip_72_system() { rt_sys 7.2 v1; }
test_bin_roundtrip_72_system_zstd() { rt_sys 7.2 v1 zstd; }
test_bin_roundtrip_100_system() { rt_sys 10.0 v4; }
test_bin_roundtrip_100_system_zstd() { rt_sys 10.0 v4 zstd; }

# several vCPUs: each vCPU's lines in their order; totals as the counter's
test_bin_threads_counts_72_user() { bin_threads_counts 7.2; }
test_bin_threads_counts_100_user() { bin_threads_counts 10.0; }
bin_threads_counts() {
    local ver=$1 a
    a=$(api "$ver")
    need_user "$ver" aarch64 || return
    qemu_user "$ver" aarch64 \
        -plugin "$(ours "$a"),format=bin,outfile=$T/t.bin" \
        -plugin "$(counter "$a"),out=$T/count" \
        -plugin "$(twin "$a"),outfile=$T/text.log" \
        "$G/aarch64/threads" >/dev/null 2>&1
    "$EL" dump "$T/t.bin" > "$T/dump.log" || fail "dump failed" || return 1
    same_counts "$T/dump.log" "$T/count" || return 1
    same_stats "$T/t.bin" "$T/count" || return 1
    local v
    for v in $(cut -d, -f1 "$T/text.log" | sort -un); do
        cmp -s <(grep "^$v, " "$T/text.log") <(grep "^$v, " "$T/dump.log") \
            || fail "vCPU $v's lines differ" || return 1
    done
}

test_bin_smp2_counts_100_system() {
    sys 10.0 smp 2 "$(ours v4),format=bin,outfile=$T/t.bin" \
        "$(counter v4),out=$T/count" -- -accel tcg,thread=multi >/dev/null 2>&1 \
        || fail "QEMU failed" || return 1
    "$EL" dump "$T/t.bin" > "$T/dump.log" || fail "dump failed" || return 1
    same_counts "$T/dump.log" "$T/count"
}

# The guest dies of SIGSEGV: QEMU 7.2 runs no exit callback, yet the trace
# holds every instruction up to and including the one that faulted.
# After QEMU's end, the watcher may still be writing out what QEMU held: it
# holds the trace's lock until it is done.
settled() { timeout "$TIMEOUT" flock -s "$1" true; }
# recording FILE: a QEMU holds FILE's lock (flock(1) would create FILE)
recording() { [ -e "$1" ] && ! flock -n -s "$1" true; }

# killed_by_signal [zstd]
killed_by_signal() {
    local arch=aarch64 crash_pc z=${1:+,compress=zstd}
    crash_pc=$(nm "$G/$arch/crash" | awk '$3 == "crash_here" { print $1 }')
    timeout "$TIMEOUT" qemu-$arch -d plugin -D "$T/up.log" -plugin "$(upstream v1)" \
        "$G/$arch/crash" >/dev/null 2>&1
    timeout "$TIMEOUT" qemu-$arch -plugin "$(ours v1),format=bin,outfile=$T/t.bin$z" \
        "$G/$arch/crash" >/dev/null 2>"$T/qemu.err"
    [ $? -eq 139 ] || fail "the guest did not die of SIGSEGV" || return 1
    settled "$T/t.bin"
    grep -q "QEMU ended without running the plugin's exit callback" "$T/qemu.err" \
        || fail "the watcher did not say it wrote the end out" || return 1
    "$EL" dump "$T/t.bin" > "$T/dump.log" 2>"$T/err" || fail "dump failed: $(cat "$T/err")" || return 1
    grep -q 'cut off' "$T/err" || fail "dump did not say the trace was cut off" || return 1
    "$EL" info "$T/t.bin" | grep -q '^complete: no (cut off' || fail "info does not say cut off" || return 1
    # upstream's log has every line but the pending last one
    [ "$(wc -l < "$T/dump.log")" -eq "$(( $(wc -l < "$T/up.log") + 1 ))" ] \
        || fail "dump has $(wc -l < "$T/dump.log") lines, upstream $(wc -l < "$T/up.log") + 1" || return 1
    cmp -s <(head -n -1 "$T/dump.log") "$T/up.log" || fail "dump is not upstream's log + 1 line" || return 1
    tail -n 1 "$T/dump.log" | grep -q "\"str w0, \[x1\]\"" \
        || fail "last line is not the faulting store: $(tail -n 1 "$T/dump.log")" || return 1
    local last_pc=$(tail -n 1 "$T/dump.log" | cut -d' ' -f2 | tr -d ,)
    [ $((last_pc)) -ge $((0x$crash_pc)) ] && [ $((last_pc)) -lt $((0x$crash_pc + 64)) ] \
        || fail "last pc $last_pc is not in crash_here (0x$crash_pc)"
}
test_bin_guest_killed_by_signal_72_user() { killed_by_signal; }
test_bin_guest_killed_by_signal_72_user_zstd() { killed_by_signal zstd; }

# QEMU 10.0 runs the plugins' exit callbacks when the guest dies of a
# signal: the trace is complete and equals upstream's log (same process),
# faulting store included, and the watcher has nothing to say.
killed_by_signal10() {
    local z=${1:+,compress=zstd}
    need_user 10.0 aarch64 || return
    qemu_user 10.0 aarch64 -d plugin -D "$T/up.log" -plugin "$(upstream v4)" \
        -plugin "$(ours v4),format=bin,outfile=$T/t.bin$z" \
        "$G/aarch64/crash" >/dev/null 2>"$T/qemu.err"
    [ $? -eq 139 ] || fail "the guest did not die of SIGSEGV" || return 1
    settled "$T/t.bin"
    ! grep -q "^execlog:" "$T/qemu.err" || fail "execlog said: $(grep '^execlog:' "$T/qemu.err")" || return 1
    "$EL" info "$T/t.bin" | grep -q '^complete: yes' || fail "trace not complete" || return 1
    "$EL" dump "$T/t.bin" > "$T/dump.log" 2>"$T/err" || fail "dump failed: $(cat "$T/err")" || return 1
    same_file "$T/dump.log" "$T/up.log" || return 1
    tail -n 1 "$T/dump.log" | grep -q "\"str w0, \[x1\]\"" \
        || fail "last line is not the faulting store: $(tail -n 1 "$T/dump.log")"
}
test_bin_guest_killed_by_signal_100_user() { killed_by_signal10; }
test_bin_guest_killed_by_signal_100_user_zstd() { killed_by_signal10 zstd; }

# QEMU killed with SIGKILL in the middle of a run: the trace reads back as a
# prefix of what a complete run logs (compared as streams: no big files).
# sigkilled [zstd] [VER]
sigkilled() {
    local z=${1:+,compress=zstd} ver=${2:-7.2} a
    a=$(api "$ver")
    need_user "$ver" aarch64 || return
    qemu_user_bg "$ver" aarch64 -plugin "$(ours "$a"),format=bin,outfile=$T/t.bin$z" \
        "$G/aarch64/workload" 1000 >/dev/null 2>&1 &
    local pid=$! n
    # a few chunks (1 MiB each) are thousands of instructions
    wait_for 60 bigger_than 4000000 "$T/t.bin" || fail "no trace growing" || return 1
    kill -KILL $pid 2>/dev/null
    wait $pid 2>/dev/null
    settled "$T/t.bin"
    "$EL" info "$T/t.bin" | grep -q '^complete: no (cut off' \
        || fail "info does not say cut off" || return 1
    n=$("$EL" stats "$T/t.bin" 2>/dev/null | awk -F': ' '$1 == "instructions" { print $2 }')
    [ "${n:-0}" -gt 1000 ] || fail "only ${n:-0} instructions recorded" || return 1
    # the last line may still have been collecting its accesses
    # (10.0: two runs differ in stack and mmap addresses, see user_addrs)
    cmp -s <("$EL" dump "$T/t.bin" 2>/dev/null | head -n $((n - 1)) | user_addrs "$ver") \
        <(qemu_user_bg "$ver" aarch64 -plugin "$(ours "$a"),outfile=/dev/fd/3" \
            "$G/aarch64/workload" 1000 3>&1 >/dev/null 2>&1 | head -n $((n - 1)) \
            | user_addrs "$ver") \
        || fail "the dump of $n instructions is not a prefix of a complete run"
}
test_bin_qemu_sigkilled_72_user() { sigkilled; }
test_bin_qemu_sigkilled_72_user_zstd() { sigkilled zstd; }
test_bin_qemu_sigkilled_100_user() { sigkilled '' 10.0; }
test_bin_qemu_sigkilled_100_user_zstd() { sigkilled zstd 10.0; }

# A second QEMU recording into the same file is refused; the first goes on.
test_bin_outfile_in_use_72_user() { outfile_in_use 7.2; }
test_bin_outfile_in_use_100_user() { outfile_in_use 10.0; }
outfile_in_use() {
    local ver=$1 a
    a=$(api "$ver")
    need_user "$ver" aarch64 || return
    qemu_user_bg "$ver" aarch64 -plugin "$(ours "$a"),format=bin,outfile=$T/t.bin" \
        "$G/aarch64/workload" 1000 >/dev/null 2>&1 &
    local pid=$!
    wait_for 60 recording "$T/t.bin" || fail "the first QEMU did not start recording" || return 1
    qemu_user "$ver" aarch64 -plugin "$(ours "$a"),format=bin,outfile=$T/t.bin" \
        "$G/aarch64/basic" >/dev/null 2>"$T/err"
    local rc=$?
    "$EL" info "$T/t.bin" > "$T/info" 2>&1
    kill -KILL $pid 2>/dev/null
    wait $pid 2>/dev/null
    [ $rc -ne 0 ] || fail "the second QEMU started" || return 1
    grep -q "^execlog: outfile '.*': another QEMU is recording into it$" "$T/err" \
        || fail "message: $(cat "$T/err")" || return 1
    grep -q '^complete: no (still being written' "$T/info" \
        || fail "info of a trace being written: $(tail -1 "$T/info")"
}

# A guest that forks forks QEMU: the trace is the parent's, complete, and
# its totals are the parent's (the child's own trace: tests/e2e/sinks.sh).
test_bin_guest_fork_72_user() { bin_guest_fork 7.2; }
test_bin_guest_fork_100_user() { bin_guest_fork 10.0; }
bin_guest_fork() {
    local ver=$1 a
    a=$(api "$ver")
    need_user "$ver" aarch64 || return
    qemu_user "$ver" aarch64 \
        -plugin "$(ours "$a"),format=bin,outfile=$T/t.bin" \
        -plugin "$(counter "$a"),out=$T/count" "$G/aarch64/fork" >/dev/null 2>&1 \
        || fail "QEMU failed" || return 1
    "$EL" info "$T/t.bin" | grep -q '^complete: yes' || fail "trace not complete" || return 1
    same_stats "$T/t.bin" "$T/count" || return 1
}

# A full disk, before and during the run: tests/e2e/sinks.sh.

# -smp 2 with a guest that never starts vCPU 1: QEMU 10.0's format=text ends
# with an empty line for it, and so does the dump.
test_bin_roundtrip_100_system_idle_vcpu() {
    sys 10.0 hello 2 "$(ours v4),outfile=$T/text.log" \
        "$(twin v4),format=bin,outfile=$T/t.bin" >/dev/null 2>&1 \
        || fail "QEMU failed" || return 1
    [ "$(tail -n 1 "$T/text.log")" = "" ] || fail "no empty last line in the text" || return 1
    "$EL" dump "$T/t.bin" > "$T/dump.log" || fail "dump failed" || return 1
    same_file "$T/dump.log" "$T/text.log"
}
