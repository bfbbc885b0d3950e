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

# diff_user10 ARCH GUEST [OPT...]: 10.0 user mode. Where the guest's stack
# and mappings go depends on what the plugins map at install time, so both
# plugins are loaded into the same QEMU process: upstream writes QEMU's log
# (-d plugin -D), ours outfile= (that outfile= writes what QEMU's log gets
# is test_outfile_equals_qemu_log_100_user's). 10.0 zero-fills OPCODE past
# short instructions, as ours does: byte for byte on every target.
diff_user10() {
    local arch=$1 guest=$2; shift 2
    need_user 10.0 "$arch" || return
    qemu_user 10.0 "$arch" -d plugin -D "$T/up.log" \
        -plugin "$(plug "$(upstream v4)" "$@")" \
        -plugin "$(plug "$(ours v4)" "$@" "outfile=$T/ours.log")" \
        "$G/$arch/$guest" >/dev/null 2>&1
    same_file "$T/ours.log" "$T/up.log" || return 1
    # capstone's disassembly, not the empty string of a QEMU without it
    [ "$(grep -c ', ""' "$T/ours.log")" -eq 0 ] || fail "empty disassembly"
}

for arch in aarch64 riscv64; do
    for guest in basic sigsegv; do
        eval "test_upstream_100_user_${arch}_${guest}() { diff_user10 $arch $guest; }"
    done
done
test_upstream_100_user_x86_64_sigsegv() { diff_user10 x86_64 sigsegv; }
# 10.0 zero-fills OPCODE past a short instruction: pop %rsi is the one byte
# 0x5e (7.2 showed the bytes after it)
test_upstream_100_user_x86_64_basic() {
    diff_user10 x86_64 basic || return 1
    grep -q ', 0x5e, "popq %rsi"' "$T/ours.log" || fail "no zero-filled 0x5e for popq %rsi"
}
test_upstream_100_user_aarch64_ifilter() {
    diff_user10 aarch64 basic ifilter=ldr ifilter=st || return 1
    [ "$(wc -l < "$T/ours.log")" -gt 10 ] || fail "filter matched too little"
}
test_upstream_100_user_x86_64_ifilter() {
    diff_user10 x86_64 basic ifilter=mov ifilter=push || return 1
    [ "$(wc -l < "$T/ours.log")" -gt 10 ] || fail "filter matched too little"
}
test_upstream_100_user_riscv64_ifilter() {
    diff_user10 riscv64 basic ifilter=ld ifilter=sd ifilter=ret || return 1
    [ "$(wc -l < "$T/ours.log")" -gt 10 ] || fail "filter matched too little"
}
test_upstream_100_user_aarch64_afilter() {
    need_user 10.0 aarch64 || return
    qemu_user 10.0 aarch64 -plugin "$(ours v4),outfile=$T/all.log" \
        "$G/aarch64/basic" >/dev/null 2>&1
    local a1 a2
    # (static guest: its code's addresses are the same in every run)
    a1=$(awk -F', ' 'NR == 5000 { print $2 }' "$T/all.log")
    a2=$(awk -F', ' '/, load, / { n++ } n == 100 { print $2; exit }' "$T/all.log")
    [ -n "$a1" ] && [ -n "$a2" ] || fail "no addresses found" || return 1
    diff_user10 aarch64 basic "afilter=$a1" "afilter=${a2#0x}" ifilter=ret || return 1
    [ "$(wc -l < "$T/ours.log")" -gt 10 ] || fail "filter matched too little"
}
# reg= and rdisas= in user mode (API 4 only)
test_upstream_100_user_aarch64_regs() {
    diff_user10 aarch64 basic 'reg=x*' reg=sp || return 1
    grep -q ', x1 -> 0x' "$T/ours.log" || fail "no register change logged"
}
test_upstream_100_user_x86_64_regs() {
    diff_user10 x86_64 basic reg=rax reg=rsp reg=eflags || return 1
    grep -q ', rax -> 0x' "$T/ours.log" || fail "no register change logged"
}
test_upstream_100_user_riscv64_regs_filtered() {
    diff_user10 riscv64 basic 'reg=a*' ifilter=add
}
test_upstream_100_user_aarch64_rdisas() {
    diff_user10 aarch64 basic reg=x1 reg=x2 rdisas=on ifilter=b
}

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

# 10.0: through QEMU's log and into outfile=, two copies of ours in one
# QEMU (see diff_user10)
test_outfile_equals_qemu_log_100_user() {
    need_user 10.0 aarch64 || return
    cp "$(ours v4)" "$T/libexeclog-twin.so"
    qemu_user 10.0 aarch64 -d plugin -D "$T/qlog.log" -plugin "$(ours v4)" \
        -plugin "$T/libexeclog-twin.so,outfile=$T/ours.log" \
        "$G/aarch64/sigsegv" >/dev/null 2>&1
    same_file "$T/ours.log" "$T/qlog.log"
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
