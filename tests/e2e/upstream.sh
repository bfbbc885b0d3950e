# SPDX-License-Identifier: GPL-2.0-or-later
# Differential tests: the same guest under our plugin and under upstream
# execlog built from the same Debian source package, byte for byte.

# diff_user ARCH GUEST [OPT...]: 7.2 user mode, -d plugin -D on both sides
diff_user() {
    local arch=$1 guest=$2; shift 2
    local mask=
    [ "$arch" = aarch64 ] || mask=short
    # qemu-user reads -d/-D from the command line only: run explicitly
    timeout "$TIMEOUT" "qemu-$arch" -d plugin -D "$T/up.log" \
        -plugin "$(plug "$(upstream v1)" "$@")" "$G/$arch/$guest" >/dev/null 2>&1
    timeout "$TIMEOUT" "qemu-$arch" -d plugin -D "$T/ours.log" \
        -plugin "$(plug "$(ours v1)" "$@")" "$G/$arch/$guest" >/dev/null 2>&1
    same_file "$T/ours.log" "$T/up.log" $mask
}

for arch in x86_64 aarch64 riscv64; do
    for guest in basic sigsegv; do
        eval "test_upstream_72_user_${arch}_${guest}() { diff_user $arch $guest; }"
    done
done

test_upstream_72_user_aarch64_ifilter() {
    diff_user aarch64 basic ifilter=ldr ifilter=st
}
# QEMU 7.2's RISC-V disassembly starts with the instruction's hex bytes
test_upstream_72_user_riscv64_ifilter() {
    diff_user riscv64 basic ifilter=8082 ifilter=e4 ifilter=00a || return 1
    [ "$(wc -l < "$T/ours.log")" -gt 10 ] || fail "filter matched too little"
}
test_upstream_72_user_x86_64_ifilter() {
    diff_user x86_64 basic ifilter=mov ifilter=push
}

# afilter: pick addresses from a first run so the filter matches something
test_upstream_72_user_aarch64_afilter() {
    timeout "$TIMEOUT" qemu-aarch64 -d plugin -D "$T/all.log" \
        -plugin "$(ours v1)" "$G/aarch64/basic" >/dev/null 2>&1
    local a1 a2
    a1=$(awk -F', ' 'NR == 5000 { print $2 }' "$T/all.log")
    a2=$(awk -F', ' '/, load, / { n++ } n == 100 { print $2; exit }' "$T/all.log")
    [ -n "$a1" ] && [ -n "$a2" ] || fail "no addresses found" || return 1
    diff_user aarch64 basic "afilter=$a1" "afilter=${a2#0x}" ifilter=ret || return 1
    [ "$(wc -l < "$T/ours.log")" -gt 10 ] || fail "filter matched too little"
}

# outfile= writes exactly what -d plugin -D writes
test_outfile_equals_qemu_log_72_user() {
    timeout "$TIMEOUT" qemu-aarch64 -d plugin -D "$T/up.log" \
        -plugin "$(upstream v1)" "$G/aarch64/sigsegv" >/dev/null 2>&1
    timeout "$TIMEOUT" qemu-aarch64 \
        -plugin "$(plug "$(ours v1)" "outfile=$T/ours.log")" \
        "$G/aarch64/sigsegv" >/dev/null 2>&1
    same_file "$T/ours.log" "$T/up.log"
}

# diff_sys VER API GUEST SMP [OPT...]: system mode on the virt board
diff_sys() {
    local ver=$1 api=$2 guest=$3 smp=$4; shift 4
    sys "$ver" "$guest" "$smp" "$(plug "$(upstream "$api")" "$@")" \
        -- -d plugin -D "$T/up.log" </dev/null >/dev/null 2>&1 \
        || fail "upstream run failed" || return 1
    sys "$ver" "$guest" "$smp" "$(plug "$(ours "$api")" "$@")" \
        -- -d plugin -D "$T/ours.log" </dev/null >/dev/null 2>&1 \
        || fail "our run failed" || return 1
    same_file "$T/ours.log" "$T/up.log"
}

test_upstream_72_system_hello() { diff_sys 7.2 v1 hello 1; }
test_upstream_72_system_hello_filters() {
    diff_sys 7.2 v1 hello 1 ifilter=str ifilter=ldr afilter=0x40000000
}
test_upstream_72_system_hello_outfile() {
    sys 7.2 hello 1 "$(upstream v1)" -- -d plugin -D "$T/up.log" >/dev/null 2>&1
    sys 7.2 hello 1 "$(plug "$(ours v1)" "outfile=$T/ours.log")" >/dev/null 2>&1
    same_file "$T/ours.log" "$T/up.log" || return 1
    grep -q ', pl011' "$T/ours.log" || fail "no MMIO access to pl011 logged"
}
test_upstream_100_system_hello() { diff_sys 10.0 v4 hello 1; }
test_upstream_100_system_hello_filters() {
    diff_sys 10.0 v4 hello 1 ifilter=str ifilter=ldr afilter=0x40000000
}
test_upstream_100_system_hello_regs() {
    diff_sys 10.0 v4 hello 1 'reg=x*' reg=sp || return 1
    grep -q ', x1 -> 0x' "$T/ours.log" || fail "no register change logged"
}
test_upstream_100_system_hello_regs_filtered() {
    diff_sys 10.0 v4 hello 1 reg=x1 'reg=X*' ifilter=str
}
test_upstream_100_system_hello_rdisas() {
    diff_sys 10.0 v4 hello 1 reg=x1 reg=x2 rdisas=on ifilter=b
}
