# SPDX-License-Identifier: GPL-2.0-or-later
# Count tests: our log and an independent counting plugin loaded into the
# same QEMU process must agree on instructions, loads and stores.

count_user() {
    local arch=$1 guest=$2
    timeout "$TIMEOUT" "qemu-$arch" \
        -plugin "$(plug "$(ours v1)" "outfile=$T/ours.log")" \
        -plugin "$(plug "$(counter v1)" "out=$T/count")" \
        "$G/$arch/$guest" >/dev/null 2>&1
    same_counts "$T/ours.log" "$T/count"
}

for arch in x86_64 aarch64 riscv64; do
    for guest in threads sigsegv; do
        eval "test_counts_72_user_${arch}_${guest}() { count_user $arch $guest; }"
    done
done

# Several vCPUs: every line whole, each vCPU's lines in its own order.
test_counts_72_user_threads_lines_whole() {
    count_user aarch64 threads || return 1
    local vcpus
    vcpus=$(cut -d, -f1 "$T/ours.log" | sort -u | wc -l)
    [ "$vcpus" -ge 2 ] || fail "only $vcpus vCPU(s) in the log" || return 1
    grep -vqE '^[0-9]+, 0x[0-9a-f]+, 0x[0-9a-f]+, "[^"]*"(, (load|store), 0x[0-9a-f]{8,})*$' \
        "$T/ours.log" && fail "malformed line: $(grep -vE '^[0-9]+, 0x[0-9a-f]+, 0x[0-9a-f]+, "[^"]*"(, (load|store), 0x[0-9a-f]{8,})*$' "$T/ours.log" | head -1)"
    return 0
}

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
