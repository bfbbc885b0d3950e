# SPDX-License-Identifier: GPL-2.0-or-later
# A real Linux boot under QEMU 10.0 system mode, 2 vCPUs: Debian bookworm's
# arm64 kernel and a busybox initramfs whose /init prints a marker line and
# powers off (both from scripts/fetch-linux.sh, in $EXECLOG_CACHE).  Our
# plugin (format=bin,compress=zstd) and the counting plugin ride the same
# boot; the trace must be complete and its totals the counter's, exactly.
# Skips (SKIP with the reason) only when fetch-linux.sh has not been run.

LINUX_DIR=$EXECLOG_CACHE/linux-arm64
LINUX_MARKER=execlog-linux-boot-ok
# cryptomgr.notests: the crypto self-tests would double the boot's length
LINUX_APPEND="console=ttyAMA0 panic=-1 quiet cryptomgr.notests"

test_linux_boot_smp2_zstd_counts_100_system() {
    local k=$LINUX_DIR/vmlinuz i=$LINUX_DIR/initramfs.cpio.gz rc=0 key
    if [ ! -s "$k" ] || [ ! -s "$i" ]; then
        skip "no Linux kernel in $LINUX_DIR (run scripts/fetch-linux.sh)"; return
    fi
    timeout "${LINUX_TEST_TIMEOUT:-300}" "$Q10_SYS" -M virt -cpu cortex-a57 -smp 2 -m 512M -nic none \
        -nographic -no-reboot -kernel "$k" -initrd "$i" -append "$LINUX_APPEND" \
        -plugin "$(ours v4),format=bin,compress=zstd,outfile=$T/t.bin" \
        -plugin "$(counter v4),out=$T/count" \
        </dev/null >"$T/console" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || { tail -n 5 "$T/console" | sed 's/^/    /'; fail "QEMU exited with $rc"; } \
        || return 1
    grep -q "^$LINUX_MARKER .* cpus=2" "$T/console" \
        || { tail -n 5 "$T/console" | sed 's/^/    /'; fail "no '$LINUX_MARKER ... cpus=2' line"; } \
        || return 1

    "$B/execlog" info "$T/t.bin" > "$T/info" || fail "execlog info failed" || return 1
    grep -qx 'complete: yes' "$T/info" || fail "the trace is not complete" || return 1
    grep -qx 'vcpus: 2' "$T/info" || fail "the trace has not 2 vCPUs: $(grep '^vcpus:' "$T/info")" \
        || return 1

    "$B/execlog" stats "$T/t.bin" > "$T/stats" || fail "execlog stats failed" || return 1
    [ "$(grep -c '^\(instructions\|loads\|stores\): [0-9][0-9]*$' "$T/count")" -eq 3 ] \
        || fail "the counting plugin wrote no instructions/loads/stores lines" || return 1
    for key in instructions loads stores; do
        grep -qx "$(grep "^$key: " "$T/count")" "$T/stats" \
            || fail "$key: execlog stats '$(grep -m1 "^$key: " "$T/stats")'," \
                    "counting plugin '$(grep "^$key: " "$T/count")'" \
            || return 1
    done
}

# vcpu_recorded TRACE N: the trace being written has records of vCPU N
vcpu_recorded() {
    "$B/execlog" dump --vcpu "$2" "$1" 2>/dev/null | head -n 1 | grep -q "^$2, "
}

# QEMU 10.0 (API 4: per-vCPU inline counts) SIGKILLed in the middle of a
# 2-vCPU boot: the watcher writes out the compressed chunks QEMU held, and
# the trace reads back whole up to there, marked cut off, both vCPUs in it.
test_linux_boot_sigkilled_zstd_100_system() {
    local k=$LINUX_DIR/vmlinuz i=$LINUX_DIR/initramfs.cpio.gz pid n v
    if [ ! -s "$k" ] || [ ! -s "$i" ]; then
        skip "no Linux kernel in $LINUX_DIR (run scripts/fetch-linux.sh)"; return
    fi
    "$Q10_SYS" -M virt -cpu cortex-a57 -smp 2 -m 512M -nic none \
        -nographic -no-reboot -kernel "$k" -initrd "$i" -append "$LINUX_APPEND" \
        -plugin "$(ours v4),format=bin,compress=zstd,outfile=$T/t.bin" \
        </dev/null >"$T/console" 2>&1 &
    pid=$!
    # killed once both vCPUs have records in the file
    wait_for "${LINUX_TEST_TIMEOUT:-300}" vcpu_recorded "$T/t.bin" 1 \
        || fail "vCPU 1 recorded nothing" || { kill -KILL $pid; wait $pid; return 1; }
    kill -KILL $pid 2>/dev/null
    wait $pid 2>/dev/null
    settled "$T/t.bin"      # (tests/e2e/bin.sh)
    grep -q "QEMU ended without running the plugin's exit callback" "$T/console" \
        || fail "the watcher did not say it wrote the end out" || return 1
    "$B/execlog" info "$T/t.bin" > "$T/info" || fail "execlog info failed" || return 1
    grep -q '^complete: no (cut off at offset 0x[0-9a-f]*, chunk [0-9]* of vCPU [01] was being written when QEMU ended without the exit callback' "$T/info" \
        || fail "info: $(grep '^complete' "$T/info")" || return 1
    "$B/execlog" stats "$T/t.bin" > "$T/stats" 2>"$T/err" || fail "stats failed: $(cat "$T/err")" || return 1
    n=$(awk -F': ' '$1 == "instructions" { print $2 }' "$T/stats")
    [ "${n:-0}" -gt 10000000 ] || fail "only ${n:-0} instructions recorded" || return 1
    for v in 0 1; do
        grep -q "^vcpu$v.instructions: [1-9]" "$T/stats" || fail "nothing of vCPU $v" || return 1
    done
    "$B/execlog" dump --vcpu 1 "$T/t.bin" 2>"$T/err" | tail -n 1 > "$T/last" \
        || fail "dump failed: $(cat "$T/err")" || return 1
    grep -q '^1, 0x' "$T/last" || fail "last line of vCPU 1: $(cat "$T/last")"
}
