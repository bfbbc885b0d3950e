# SPDX-License-Identifier: GPL-2.0-or-later
# format=text when QEMU ends without calling the plugin's exit callback: the
# watcher process writes out what QEMU still held, so the log has every
# line upstream's has, and the line of the instruction that faulted too.

# settle FILE: wait until the watcher has written FILE out: it holds FILE
# (and QEMU's stderr) open until it ends
settle() { released "$TIMEOUT" "$1" || fail "$1 still held open after ${TIMEOUT}s"; }

# crash_text PLUGINARGS... : the crash guest under our plugin; log in ours.log
crashed_like_upstream() {
    timeout "$TIMEOUT" qemu-aarch64 -d plugin -D "$T/up.log" -plugin "$(upstream v1)" \
        "$G/aarch64/crash" >/dev/null 2>&1
    settle "$T/ours.log"
    [ "$(wc -l < "$T/ours.log")" -eq "$(( $(wc -l < "$T/up.log") + 1 ))" ] \
        || fail "ours has $(wc -l < "$T/ours.log") lines, upstream $(wc -l < "$T/up.log") + 1" \
        || return 1
    cmp -s <(head -n -1 "$T/ours.log") "$T/up.log" \
        || fail "ours is not upstream's log + 1 line" || return 1
    tail -n 1 "$T/ours.log" | grep -q '"str w0, \[x1\]"$' \
        || fail "last line is not the faulting store: $(tail -n 1 "$T/ours.log")" || return 1
    grep -q "^execlog: QEMU ended without running the plugin's exit callback" "$T/err" \
        || fail "no note on stderr: $(cat "$T/err")"
}

test_text_guest_killed_by_signal_outfile_72_user() {
    timeout "$TIMEOUT" qemu-aarch64 -plugin "$(ours v1),outfile=$T/ours.log" \
        "$G/aarch64/crash" >/dev/null 2>"$T/err"
    [ $? -eq 139 ] || fail "the guest did not die of SIGSEGV" || return 1
    settle "$T/ours.log"
    crashed_like_upstream
}

test_text_guest_killed_by_signal_qemu_log_72_user() {
    timeout "$TIMEOUT" qemu-aarch64 -d plugin -D "$T/ours.log" -plugin "$(ours v1)" \
        "$G/aarch64/crash" >/dev/null 2>"$T/err"
    [ $? -eq 139 ] || fail "the guest did not die of SIGSEGV" || return 1
    settle "$T/ours.log"
    crashed_like_upstream
}

# QEMU killed with SIGKILL: the log is a prefix, in whole lines, of what a
# complete run logs (compared as streams).
test_text_qemu_sigkilled_72_user() {
    qemu-aarch64 -plugin "$(ours v1),outfile=$T/ours.log" \
        "$G/aarch64/workload" 1000 >/dev/null 2>"$T/err" &
    local pid=$! n
    # 1 MB of lines are thousands of lines
    wait_for 60 bigger_than 1000000 "$T/ours.log" || fail "no log growing" || return 1
    kill -KILL $pid 2>/dev/null
    wait $pid 2>/dev/null
    settle "$T/ours.log"
    n=$(wc -l < "$T/ours.log")
    [ "$n" -gt 1000 ] || fail "only $n lines" || return 1
    [ "$(tail -c 1 "$T/ours.log" | od -An -c | tr -d ' ')" = '\n' ] \
        || fail "the log does not end with a whole line" || return 1
    cmp -s <(head -n $((n - 1)) "$T/ours.log") \
        <(qemu-aarch64 -plugin "$(ours v1),outfile=/dev/fd/3" \
            "$G/aarch64/workload" 1000 3>&1 >/dev/null 2>&1 | head -n $((n - 1))) \
        || fail "the log of $n lines is not a prefix of a complete run" || return 1
    grep -q "^execlog: QEMU ended without running" "$T/err" || fail "no note on stderr"
}

# A clean run leaves no note and the same log as before (the watcher stays
# silent), and a guest that waits for all its children is not disturbed.
test_text_watcher_silent_on_clean_exit_72_user() {
    timeout "$TIMEOUT" qemu-aarch64 -plugin "$(ours v1),outfile=$T/ours.log" \
        "$G/aarch64/fork" >/dev/null 2>"$T/err" || fail "QEMU failed" || return 1
    settle "$T/err" || return 1
    [ ! -s "$T/err" ] || fail "stderr: $(cat "$T/err")"
}

# QEMU 10.0 user mode runs the plugins' exit callbacks when the guest dies
# of a signal: ours equals upstream's log (same process), the faulting store
# last, and the watcher says nothing. Into outfile= and through QEMU's log
# (there with a second copy of ours writing outfile= as the reference).
test_text_guest_killed_by_signal_outfile_100_user() {
    need_user 10.0 aarch64 || return
    qemu_user 10.0 aarch64 -d plugin -D "$T/up.log" -plugin "$(upstream v4)" \
        -plugin "$(ours v4),outfile=$T/ours.log" \
        "$G/aarch64/crash" >/dev/null 2>"$T/err"
    [ $? -eq 139 ] || fail "the guest did not die of SIGSEGV" || return 1
    settle "$T/ours.log" || return 1
    same_file "$T/ours.log" "$T/up.log" || return 1
    tail -n 1 "$T/ours.log" | grep -q '"str w0, \[x1\]"$' \
        || fail "last line is not the faulting store: $(tail -n 1 "$T/ours.log")" || return 1
    ! grep -q '^execlog:' "$T/err" || fail "stderr: $(grep '^execlog:' "$T/err")"
}
test_text_guest_killed_by_signal_qemu_log_100_user() {
    need_user 10.0 aarch64 || return
    cp "$(ours v4)" "$T/libexeclog-twin.so"
    qemu_user 10.0 aarch64 -d plugin -D "$T/ours.log" -plugin "$(ours v4)" \
        -plugin "$T/libexeclog-twin.so,outfile=$T/ref.log" \
        "$G/aarch64/crash" >/dev/null 2>"$T/err"
    [ $? -eq 139 ] || fail "the guest did not die of SIGSEGV" || return 1
    settle "$T/ours.log" || return 1
    settle "$T/ref.log" || return 1
    same_file "$T/ours.log" "$T/ref.log" || return 1
    tail -n 1 "$T/ours.log" | grep -q '"str w0, \[x1\]"$' \
        || fail "last line is not the faulting store: $(tail -n 1 "$T/ours.log")" || return 1
    ! grep -q '^execlog:' "$T/err" || fail "stderr: $(grep '^execlog:' "$T/err")"
}

# QEMU 10.0 killed with SIGKILL: a prefix in whole lines of a complete run
# (access addresses masked: they differ between 10.0 runs, see user_addrs)
test_text_qemu_sigkilled_100_user() {
    need_user 10.0 aarch64 || return
    qemu_user_bg 10.0 aarch64 -plugin "$(ours v4),outfile=$T/ours.log" \
        "$G/aarch64/workload" 1000 >/dev/null 2>"$T/err" &
    local pid=$! n
    wait_for 60 bigger_than 1000000 "$T/ours.log" || fail "no log growing" || return 1
    kill -KILL $pid 2>/dev/null
    wait $pid 2>/dev/null
    settle "$T/ours.log"
    n=$(wc -l < "$T/ours.log")
    [ "$n" -gt 1000 ] || fail "only $n lines" || return 1
    [ "$(tail -c 1 "$T/ours.log" | od -An -c | tr -d ' ')" = '\n' ] \
        || fail "the log does not end with a whole line" || return 1
    cmp -s <(head -n $((n - 1)) "$T/ours.log" | user_addrs 10.0) \
        <(qemu_user_bg 10.0 aarch64 -plugin "$(ours v4),outfile=/dev/fd/3" \
            "$G/aarch64/workload" 1000 3>&1 >/dev/null 2>&1 | head -n $((n - 1)) \
            | user_addrs 10.0) \
        || fail "the log of $n lines is not a prefix of a complete run" || return 1
    grep -q "^execlog: QEMU ended without running" "$T/err" || fail "no note on stderr"
}

test_text_watcher_silent_on_clean_exit_100_user() {
    need_user 10.0 aarch64 || return
    qemu_user 10.0 aarch64 -plugin "$(ours v4),outfile=$T/ours.log" \
        "$G/aarch64/fork" >/dev/null 2>"$T/err" || fail "QEMU failed" || return 1
    settle "$T/err" || return 1
    [ ! -s "$T/err" ] || fail "stderr: $(cat "$T/err")"
}
