# SPDX-License-Identifier: GPL-2.0-or-later
# Where the trace goes, when that goes wrong: a file system that is full
# before or during the run (every format), a pipe with many vCPUs, a
# recording replacing an older trace, a guest that forks.

EL=$B/execlog
LINE_RE='^[0-9]+, 0x[0-9a-f]+, 0x[0-9a-f]+, "[^"]*"(, (load|store), 0x[0-9a-f]{8,}(, [A-Za-z][A-Za-z0-9_.-]*)?)*$'

# small_fs KB: a tmpfs of KB KiB at $T/small (return 2: cannot mount here)
small_fs() {
    mkdir -p "$T/small"
    mount -t tmpfs -o "size=${1}k" tmpfs "$T/small" 2>/dev/null || return 2
}
# fill_fs: fill $T/small to the last byte
fill_fs() {
    dd if=/dev/zero of="$T/small/fill" bs=4k 2>/dev/null
    [ "$(df --output=avail "$T/small" | tail -n 1)" -eq 0 ] || fail "could not fill the file system"
}

# plugin_args FORMAT PATH [API]: the plugin's QEMU arguments for one of the
# formats
plugin_args() {
    local a=${3:-v1}
    case $1 in
    bin) echo "-plugin $(ours "$a"),format=bin,outfile=$2" ;;
    bin_zstd) echo "-plugin $(ours "$a"),format=bin,compress=zstd,outfile=$2" ;;
    text) echo "-plugin $(ours "$a"),outfile=$2" ;;
    text_qemu_log) echo "-d plugin -D $2 -plugin $(ours "$a")" ;;
    esac
}

# disk_full FORMAT before|during GUEST KB: QEMU 7.2 user mode recording into
# a full file system. The guest's output and exit code are those of a run
# without the plugin; one message says that recording stopped and where
# the trace ends; what was written reads back as a prefix of a full run.
# With VER 10.0 (bin formats only): QEMU 10.0 user mode and the v4 build,
# the prefix compared with access addresses masked (see user_addrs).
disk_full() {
    local fmt=$1 when=$2 guest=$3 kb=$4 ver=${5:-7.2} rc prc n
    need_user "$ver" aarch64 || return
    small_fs "$kb" || { echo "    SKIP: cannot mount a small tmpfs here (not root?)"; return 0; }
    [ "$when" = before ] && { fill_fs || { umount -l "$T/small"; return 1; }; }
    # (run as the recording is, under timeout: the same environment, the
    # same stack addresses)
    qemu_user "$ver" aarch64 "$G/aarch64/$guest" >"$T/plain.out" 2>"$T/plain.err"
    prc=$?
    # shellcheck disable=SC2046
    qemu_user "$ver" aarch64 $(plugin_args "$fmt" "$T/small/t" "$(api "$ver")") \
        "$G/aarch64/$guest" >"$T/out" 2>"$T/err"
    rc=$?
    cp "$T/small/t" "$T/t" 2>/dev/null
    umount -l "$T/small"  # (lazily: a watcher may still hold a file there)
    [ $rc -eq $prc ] || fail "QEMU exited with $rc, without the plugin $prc: $(cat "$T/err")" || return 1
    cmp -s "$T/out" "$T/plain.out" || fail "the guest's output differs from a run without the plugin" || return 1
    [ "$(grep -c '^execlog: ' "$T/err")" -eq 1 ] && [ "$(wc -l < "$T/err")" -eq 1 ] \
        || fail "want one message, got: $(cat "$T/err")" || return 1
    grep -Eq "recording stopped, the trace (ends at byte [0-9]+|is incomplete)$" "$T/err" \
        || fail "message: $(cat "$T/err")" || return 1
    case $fmt in
    bin*)
        grep -q "No space left on device" "$T/err" || fail "message: $(cat "$T/err")" || return 1
        if [ "$when" = before ] && [ ! -s "$T/t" ]; then
            return 0        # no room even for the header: an empty file
        fi
        "$EL" info "$T/t" > "$T/info" 2>&1
        grep -q '^complete: no' "$T/info" || fail "info does not say incomplete: $(tail -n 2 "$T/info")" || return 1
        n=$("$EL" stats "$T/t" 2>/dev/null | awk -F': ' '$1 == "instructions" { print $2 }')
        [ "$when" = before ] || [ "${n:-0}" -gt 100000 ] || fail "only ${n:-0} instructions readable" || return 1
        [ "${n:-0}" -gt 1 ] || return 0
        cmp -s <("$EL" dump "$T/t" 2>/dev/null | head -n $((n - 1)) | user_addrs "$ver") \
            <(qemu_user "$ver" aarch64 -plugin "$(ours "$(api "$ver")"),outfile=/dev/fd/3" \
                "$G/aarch64/$guest" 3>&1 >/dev/null 2>&1 | head -n $((n - 1)) | user_addrs "$ver") \
            || fail "the readable part is not a prefix of a complete run"
        ;;
    text*)
        local end
        end=$(sed -n 's/.*the trace ends at byte \([0-9]*\)$/\1/p' "$T/err")
        [ -n "$end" ] || fail "the message does not say where the trace ends" || return 1
        [ "$(stat -c %s "$T/t")" -eq "$end" ] || fail "the file has $(stat -c %s "$T/t") bytes, not $end" || return 1
        [ "$when" = before ] && { [ "$end" -eq 0 ] || fail "the trace of a full disk is not empty"; return; }
        [ "$end" -gt 100000 ] || fail "only $end bytes written" || return 1
        cmp -s "$T/t" <(timeout "$TIMEOUT" qemu-aarch64 -plugin "$(ours v1),outfile=/dev/fd/3" \
                "$G/aarch64/$guest" 3>&1 >/dev/null 2>&1 | head -c "$end") \
            || fail "the trace is not a prefix of a complete run" || return 1
        # through outfile= the trace is cut after its last whole line
        [ "$fmt" = text_qemu_log ] || [ "$(tail -c 1 "$T/t" | od -An -c | tr -d ' ')" = '\n' ] \
            || fail "the trace does not end with a whole line"
        ;;
    esac
}
for fmt in bin bin_zstd text text_qemu_log; do
    eval "test_disk_full_before_${fmt}_72_user() { disk_full $fmt before basic 1024; }"
done
test_disk_full_during_bin_72_user() { disk_full bin during workload 3072; }
test_disk_full_during_bin_zstd_72_user() { disk_full bin_zstd during workload 1300; }
test_disk_full_before_bin_100_user() { disk_full bin before basic 1024 10.0; }
test_disk_full_during_bin_100_user() { disk_full bin during workload 3072 10.0; }
test_disk_full_during_bin_zstd_100_user() { disk_full bin_zstd during workload 1300 10.0; }
test_disk_full_during_text_72_user() { disk_full text during basic 2048; }
test_disk_full_during_text_qemu_log_72_user() { disk_full text_qemu_log during basic 2048; }

# pipe_lines FILE COUNTFILE: every line whole (each vCPU's exit line may be
# empty), the totals the counting plugin's
pipe_lines() {
    grep -v '^$' "$1" > "$T/lines"
    if grep -vqE "$LINE_RE" "$T/lines"; then
        fail "$(grep -cvE "$LINE_RE" "$T/lines") malformed lines, e.g.: $(grep -vE "$LINE_RE" "$T/lines" | head -c 300)"
        return 1
    fi
    same_counts "$T/lines" "$2"
}

# A pipe from outfile=/dev/stdout: user mode, 5 threads.
pipe_user() {
    local ver=$1 a
    a=$(api "$ver")
    need_user "$ver" aarch64 || return
    qemu_user "$ver" aarch64 -plugin "$(ours "$a"),outfile=/dev/stdout" \
        -plugin "$(counter "$a"),out=$T/count" "$G/aarch64/threads" 2>/dev/null \
        | grep -v '^threads result' > "$T/pipe.log"
    pipe_lines "$T/pipe.log" "$T/count"
}
test_pipe_lines_whole_72_user_threads() { pipe_user 7.2; }
test_pipe_lines_whole_100_user_threads() { pipe_user 10.0; }
# A FIFO, read by another process.
fifo_user() {
    local ver=$1 a
    a=$(api "$ver")
    need_user "$ver" aarch64 || return
    mkfifo "$T/fifo"
    grep -v '^threads result' < "$T/fifo" > "$T/pipe.log" &
    local reader=$!
    qemu_user "$ver" aarch64 -plugin "$(ours "$a"),outfile=$T/fifo" \
        -plugin "$(counter "$a"),out=$T/count" "$G/aarch64/threads" >/dev/null 2>&1
    wait $reader
    pipe_lines "$T/pipe.log" "$T/count"
}
test_fifo_lines_whole_72_user_threads() { fifo_user 7.2; }
test_fifo_lines_whole_100_user_threads() { fifo_user 10.0; }
# QEMU's log on stderr, a pipe (qemu_plugin_outs holds QEMU's log lock for
# a whole batch)
pipe_user_qemu_log() {
    local ver=$1 a
    a=$(api "$ver")
    need_user "$ver" aarch64 || return
    qemu_user "$ver" aarch64 -d plugin -plugin "$(ours "$a")" \
        -plugin "$(counter "$a"),out=$T/count" "$G/aarch64/threads" 2>&1 >/dev/null \
        | cat > "$T/pipe.log"
    pipe_lines "$T/pipe.log" "$T/count"
}
test_pipe_lines_whole_72_user_threads_qemu_log() { pipe_user_qemu_log 7.2; }
test_pipe_lines_whole_100_user_threads_qemu_log() { pipe_user_qemu_log 10.0; }
# System mode, -smp 16 (GICv3: QEMU 7.2's virt has at most 8 vCPUs with
# GICv2), multi-threaded TCG, into a pipe: the smpn guest runs code on all
# 16 vCPUs at once.
pipe_sys() {
    local ver=$1 api=$2
    sys "$ver" smpn 16 "$(ours "$api"),outfile=/dev/stdout" "$(counter "$api"),out=$T/count" \
        -- -accel tcg,thread=multi -M virt,gic-version=3 2>/dev/null | cat > "$T/pipe.log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || fail "QEMU failed" || return 1
    pipe_lines "$T/pipe.log" "$T/count" || return 1
    # (smpn runs code on every vCPU the board has)
    [ "$(grep -v '^$' "$T/pipe.log" | cut -d, -f1 | sort -u | wc -l)" -eq 16 ] \
        || fail "not all 16 vCPUs wrote lines"
}
test_pipe_lines_whole_72_system_smp16() { pipe_sys 7.2 v1; }
test_pipe_lines_whole_100_system_smp16() { pipe_sys 10.0 v4; }

# A new recording replaces an older trace by a new file: the old one is
# never truncated (a reader that has it mapped goes on unharmed), and a
# reader's shared lock does not keep a recording out.
test_bin_new_file_replaces_old_72_user() { new_file_replaces_old 7.2; }
test_bin_new_file_replaces_old_100_user() { new_file_replaces_old 10.0; }
new_file_replaces_old() {
    local ver=$1 a
    a=$(api "$ver")
    need_user "$ver" aarch64 || return
    qemu_user "$ver" aarch64 -plugin "$(ours "$a"),format=bin,outfile=$T/t.bin" \
        "$G/aarch64/basic" >/dev/null 2>&1 || fail "first QEMU failed" || return 1
    ln "$T/t.bin" "$T/old.bin"
    cp "$T/t.bin" "$T/copy.bin"
    flock -s "$T/t.bin" sleep 30 &
    local holder=$!
    qemu_user "$ver" aarch64 -plugin "$(ours "$a"),format=bin,outfile=$T/t.bin" \
        "$G/aarch64/sigsegv" >/dev/null 2>"$T/err"
    local rc=$?
    kill $holder 2>/dev/null
    wait $holder 2>/dev/null
    [ $rc -eq 0 ] || fail "a reader's shared lock kept the recording out: $(cat "$T/err")" || return 1
    cmp -s "$T/old.bin" "$T/copy.bin" || fail "the old trace was changed" || return 1
    [ "$(stat -c %i "$T/t.bin")" != "$(stat -c %i "$T/old.bin")" ] \
        || fail "the new trace is the old file" || return 1
    "$EL" info "$T/t.bin" | grep -q '^complete: yes' || fail "new trace not complete" || return 1
    [ -z "$(ls "$T" | grep '\.tmp\.')" ] || fail "a temporary file was left: $(ls "$T")"
}

# fork_child ARCH [zstd]: the parent's trace is the parent's, exactly; the
# child's, PATH.PID, the child's from the fork on, exactly (the counting
# plugin counts a forked child into out=PATH.PID); both named.
# fork_child ARCH [zstd] [VER]
fork_child() {
    local arch=$1 z=${2:+,compress=zstd} ver=${3:-7.2} child pid a
    a=$(api "$ver")
    need_user "$ver" "$arch" || return
    qemu_user "$ver" "$arch" \
        -plugin "$(ours "$a"),format=bin,outfile=$T/t.bin$z" \
        -plugin "$(counter "$a"),out=$T/count" "$G/$arch/fork" >"$T/out" 2>"$T/err" \
        || fail "QEMU failed: $(cat "$T/err")" || return 1
    grep -q '^fork: ' "$T/out" || fail "the guest did not finish" || return 1
    [ "$(wc -l < "$T/err")" -eq 1 ] || fail "want one message: $(cat "$T/err")" || return 1
    child=$(sed -n "s/^execlog: guest forked: child \([0-9]*\) recorded into '\(.*\)'$/\2/p" "$T/err")
    pid=$(sed -n "s/^execlog: guest forked: child \([0-9]*\) recorded .*/\1/p" "$T/err")
    [ "$child" = "$T/t.bin.$pid" ] || fail "message: $(cat "$T/err")" || return 1
    "$EL" info "$T/t.bin" > "$T/info" || fail "info of the parent failed" || return 1
    grep -qx 'complete: yes' "$T/info" || fail "parent trace not complete" || return 1
    grep -qx "child: $child" "$T/info" || fail "parent's info does not name the child" || return 1
    "$EL" info "$child" > "$T/cinfo" || fail "info of the child failed" || return 1
    grep -qx 'complete: yes' "$T/cinfo" || fail "child trace not complete" || return 1
    grep -qx "parent: $T/t.bin" "$T/cinfo" || fail "child's info does not name the parent" || return 1
    same_stats "$T/t.bin" "$T/count" || return 1
    same_stats "$child" "$T/count.$pid" || return 1
    "$EL" dump "$child" > "$T/dump.log" || fail "dump of the child failed" || return 1
    same_counts "$T/dump.log" "$T/count.$pid"
}
for arch in x86_64 aarch64 riscv64; do
    eval "test_bin_fork_child_trace_72_user_${arch}() { fork_child $arch; }"
    eval "test_bin_fork_child_trace_100_user_${arch}() { fork_child $arch '' 10.0; }"
done
test_bin_fork_child_trace_72_user_aarch64_zstd() { fork_child aarch64 zstd; }
test_bin_fork_child_trace_100_user_aarch64_zstd() { fork_child aarch64 zstd 10.0; }

# The forked child dies of SIGSEGV (no exit callback in QEMU 7.2): its own
# watcher writes out what it held; its trace reads back, marked cut off,
# ending with the faulting store; the parent's is complete.
test_bin_fork_child_killed_by_signal_72_user() {
    local crash_pc child last_pc
    crash_pc=$(nm "$G/aarch64/forkcrash" | awk '$3 == "crash_child" { print $1 }')
    timeout "$TIMEOUT" qemu-aarch64 -plugin "$(ours v1),format=bin,outfile=$T/t.bin" \
        "$G/aarch64/forkcrash" >"$T/out" 2>"$T/err" || fail "QEMU failed: $(cat "$T/err")" || return 1
    grep -q '^forkcrash: child signal 11' "$T/out" || fail "guest: $(cat "$T/out")" || return 1
    child=$(sed -n "s/^execlog: guest forked: child [0-9]* recorded into '\(.*\)'$/\1/p" "$T/err")
    [ -n "$child" ] || fail "no child named: $(cat "$T/err")" || return 1
    settled "$child"
    "$EL" info "$T/t.bin" | grep -qx 'complete: yes' || fail "parent trace not complete" || return 1
    "$EL" info "$child" | grep -q '^complete: no (cut off' || fail "child trace not marked cut off" || return 1
    "$EL" dump "$child" > "$T/dump.log" 2>/dev/null
    [ "$(wc -l < "$T/dump.log")" -gt 10000 ] || fail "only $(wc -l < "$T/dump.log") lines" || return 1
    last_pc=$(tail -n 1 "$T/dump.log" | cut -d' ' -f2 | tr -d ,)
    [ $((last_pc)) -ge $((0x$crash_pc)) ] && [ $((last_pc)) -lt $((0x$crash_pc + 16)) ] \
        && tail -n 1 "$T/dump.log" | grep -q '"str ' \
        || fail "last line is not the faulting store in crash_child: $(tail -n 1 "$T/dump.log")"
}

# QEMU 10.0: the forked child that dies of SIGSEGV runs its exit callbacks,
# so its trace is complete, ends with the faulting store, and its totals
# are the counting plugin's for the child; the watcher says nothing more
# than the fork.
test_bin_fork_child_killed_by_signal_100_user() {
    local crash_pc child pid last_pc
    need_user 10.0 aarch64 || return
    crash_pc=$(nm "$G/aarch64/forkcrash" | awk '$3 == "crash_child" { print $1 }')
    qemu_user 10.0 aarch64 -plugin "$(ours v4),format=bin,outfile=$T/t.bin" \
        -plugin "$(counter v4),out=$T/count" \
        "$G/aarch64/forkcrash" >"$T/out" 2>"$T/err" || fail "QEMU failed: $(cat "$T/err")" || return 1
    grep -q '^forkcrash: child signal 11' "$T/out" || fail "guest: $(cat "$T/out")" || return 1
    child=$(sed -n "s/^execlog: guest forked: child [0-9]* recorded into '\(.*\)'$/\1/p" "$T/err")
    pid=${child##*.}
    [ -n "$child" ] || fail "no child named: $(cat "$T/err")" || return 1
    # (and QEMU's own "uncaught target signal 11" from the child)
    [ "$(grep -c '^execlog:' "$T/err")" -eq 1 ] || fail "want one message: $(cat "$T/err")" || return 1
    settled "$child"
    "$EL" info "$T/t.bin" | grep -qx 'complete: yes' || fail "parent trace not complete" || return 1
    "$EL" info "$child" | grep -qx 'complete: yes' || fail "child trace not complete" || return 1
    same_stats "$child" "$T/count.$pid" || return 1
    "$EL" dump "$child" > "$T/dump.log" 2>/dev/null
    last_pc=$(tail -n 1 "$T/dump.log" | cut -d' ' -f2 | tr -d ,)
    [ $((last_pc)) -ge $((0x$crash_pc)) ] && [ $((last_pc)) -lt $((0x$crash_pc + 16)) ] \
        && tail -n 1 "$T/dump.log" | grep -q '"str ' \
        || fail "last line is not the faulting store in crash_child: $(tail -n 1 "$T/dump.log")"
}
