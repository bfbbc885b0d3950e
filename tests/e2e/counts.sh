# SPDX-License-Identifier: GPL-2.0-or-later
# Count tests: our log and an independent counting plugin loaded into the
# same QEMU process must agree on instructions, loads and stores.

# count_user ARCH GUEST [VER]: 7.2 (v1 build) or 10.0 (v4 build)
count_user() {
    local arch=$1 guest=$2 ver=${3:-7.2}
    need_user "$ver" "$arch" || return
    qemu_user "$ver" "$arch" \
        -plugin "$(plug "$(ours "$(api "$ver")")" "outfile=$T/ours.log")" \
        -plugin "$(plug "$(counter "$(api "$ver")")" "out=$T/count")" \
        "$G/$arch/$guest" >/dev/null 2>&1
    same_counts "$T/ours.log" "$T/count"
}

for arch in x86_64 aarch64 riscv64; do
    for guest in threads sigsegv; do
        eval "test_counts_72_user_${arch}_${guest}() { count_user $arch $guest; }"
        eval "test_counts_100_user_${arch}_${guest}() { count_user $arch $guest 10.0; }"
    done
done

# Several vCPUs: every line whole, each vCPU's lines in its own order.
lines_whole() {
    local vcpus
    vcpus=$(cut -d, -f1 "$T/ours.log" | sort -u | wc -l)
    [ "$vcpus" -ge 2 ] || fail "only $vcpus vCPU(s) in the log" || return 1
    local line='^[0-9]+, 0x[0-9a-f]+, 0x[0-9a-f]+, "[^"]*"(, (load|store), 0x[0-9a-f]{8,})*$'
    if grep -vqE "$line" "$T/ours.log"; then
        fail "malformed line: $(grep -vE "$line" "$T/ours.log" | head -1)"
        return 1
    fi
}
test_counts_72_user_threads_lines_whole() {
    count_user aarch64 threads || return 1
    lines_whole
}
test_counts_100_user_threads_lines_whole() {
    count_user aarch64 threads 10.0 || return
    lines_whole
}
# the same through QEMU's log (-d plugin -D), where batches go through
# qemu_plugin_outs
threads_qemu_log() {
    local ver=$1
    need_user "$ver" aarch64 || return
    qemu_user "$ver" aarch64 -d plugin -D "$T/ours.log" \
        -plugin "$(ours "$(api "$ver")")" \
        -plugin "$(plug "$(counter "$(api "$ver")")" "out=$T/count")" \
        "$G/aarch64/threads" >/dev/null 2>&1
    same_counts "$T/ours.log" "$T/count" || return 1
    lines_whole
}
test_counts_72_user_threads_lines_whole_qemu_log() { threads_qemu_log 7.2; }
test_counts_100_user_threads_lines_whole_qemu_log() { threads_qemu_log 10.0; }

count_sys() {
    local ver=$1 api=$2 smp=$3; shift 3
    sys "$ver" smp "$smp" "$(plug "$(ours "$api")" "outfile=$T/ours.log")" \
        "$(plug "$(counter "$api")" "out=$T/count")" -- "$@" >/dev/null 2>&1 \
        || fail "QEMU failed" || return 1
    # exit prints an empty line for a vCPU with nothing pending
    grep -v '^$' "$T/ours.log" > "$T/lines"
    same_counts "$T/lines" "$T/count" || return 1
    [ "$(cut -d, -f1 "$T/lines" | sort -u | wc -l)" -eq "$smp" ] \
        || fail "not all $smp vCPUs logged"
}
test_counts_72_system_smp2_mttcg() { count_sys 7.2 v1 2 -accel tcg,thread=multi; }
test_counts_100_system_smp2_mttcg() { count_sys 10.0 v4 2 -accel tcg,thread=multi; }
test_counts_72_system_smp2_single() { count_sys 7.2 v1 2 -accel tcg,thread=single; }
