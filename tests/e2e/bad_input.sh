# SPDX-License-Identifier: GPL-2.0-or-later
# Bad input: QEMU refuses to start, with one line from us on stderr that
# names the plugin and the option; never an abort, a crash, or a guest that
# runs. The plugin gets its argv from QEMU's own option parser: "a,,b" is
# "a,b", a bare "key" is "key=on", "arg=k=v" is "k=v" (tests below use that).

# run_refused API PLUGINARG: run QEMU with our plugin; the guest's output
# goes to $T/out, stderr to $T/err. API v1: user mode 7.2; v4: system 10.0;
# v4user: user mode 10.0.
run_refused() {
    local api=$1 arg=$2
    : >"$T/out"
    if [ "$api" = v4user ]; then
        timeout 30 "$(quser 10.0 aarch64)" -plugin "$(ours v4),$arg" "$G/aarch64/basic" \
            >"$T/out" 2>"$T/err" </dev/null
    elif [ "$api" = v1 ]; then
        timeout 30 qemu-aarch64 -plugin "$(ours v1),$arg" "$G/aarch64/basic" \
            >"$T/out" 2>"$T/err" </dev/null
    else
        timeout 30 "$Q10_SYS" -M virt -cpu cortex-a57 -display none -nic none \
            -serial "file:$T/out" -monitor none -plugin "$(ours v4),$arg" \
            -kernel "$G/system/aarch64/hello.elf" >/dev/null 2>"$T/err" \
            </dev/null
    fi
}

# check_refused STATUS WHAT MODE EXPECTED: QEMU exited non-zero by itself,
# the guest printed nothing, and stderr has exactly one execlog line, which
# is "execlog: EXPECTED" (MODE line) or starts with it (MODE start).
check_refused() {
    local rc=$1 what=$2 mode=$3 expect=$4 line
    [ "$rc" -ne 0 ] || fail "QEMU started with '$what'" || return 1
    [ "$rc" -lt 124 ] || fail "QEMU died (status $rc) with '$what'" || return 1
    [ ! -s "$T/out" ] || fail "the guest ran with '$what'" || return 1
    [ "$(grep -c '^execlog: ' "$T/err")" -eq 1 ] \
        || fail "want one execlog line, got: $(cat -v "$T/err")" || return 1
    line=$(grep '^execlog: ' "$T/err")
    if [ "$mode" = start ]; then
        [[ "$line" == "execlog: $expect"* ]] && return 0
    else
        [ "$line" = "execlog: $expect" ] && return 0
    fi
    fail "got:  $(printf '%s' "$line" | cat -v)" "
    want: execlog: $expect"
}

# refused API PLUGINARG EXPECTED: the exact message
refused() {
    local rc
    run_refused "$1" "$2"
    rc=$?
    check_refused "$rc" "$2" line "$3"
}

# refused_start API PLUGINARG EXPECTED: a message that starts so (for the
# messages that carry an errno text)
refused_start() {
    local rc
    run_refused "$1" "$2"
    rc=$?
    check_refused "$rc" "$2" start "$3"
}

KNOWN="(known: ifilter, afilter, reg, rdisas, outfile, format, compress, values, bytes, start, stop, skip, limit, vcpu)"
NEEDS_V4="needs QEMU >= 9.2 (this build is for plugin API 1; use libexeclog-v4.so with QEMU 9.2+)"

test_bad_unknown_option() { refused v1 foo=1 "unknown option 'foo=1' $KNOWN"; }
test_bad_unknown_option_system() {
    refused v4 foo=1 \
        "unknown option 'foo=1' $KNOWN"
}
test_bad_no_key() { refused v1 =0x10 "unknown option '=0x10' $KNOWN"; }
test_bad_key_case() {
    refused v4 FORMAT=bin \
        "unknown option 'FORMAT=bin' $KNOWN"
}
test_bad_random_bytes() {
    refused v1 $'\x01\x02\xfe=\x7f\x1b[0m' \
        "unknown option '\\x01\\x02\\xfe=\\x7f\\x1b[0m' $KNOWN"
}
test_bad_afilter_not_hex() {
    refused v1 afilter=zz "afilter 'zz' is not a hexadecimal address"
}
test_bad_afilter_no_digits() {
    refused v1 afilter=0x \
        "afilter '0x' is not a hexadecimal address (no digits)"
}
test_bad_afilter_negative() {
    refused v4 afilter=-1 \
        "afilter '-1' is not a hexadecimal address (no sign allowed)"
}
test_bad_afilter_overflow() {
    refused v1 afilter=0x1ffffffffffffffff \
        "afilter '0x1ffffffffffffffff' does not fit in 64 bits"
}
test_bad_afilter_overflow_system() {
    refused v4 afilter=0x1ffffffffffffffff \
        "afilter '0x1ffffffffffffffff' does not fit in 64 bits"
}
test_bad_afilter_space() {
    refused v1 'afilter=400ab4 ' \
        "afilter '400ab4 ' is not a hexadecimal address (no spaces allowed)"
}
# ",," is QEMU's escaped comma: the plugin gets "afilter=10,20"
test_bad_afilter_escaped_comma() {
    refused v1 'afilter=10,,20' \
        "afilter '10,20' is not a hexadecimal address (junk after the digits)"
}
# a bare key: QEMU warns and hands over "afilter=on"
test_bad_afilter_bare_key() {
    refused v1 afilter "afilter 'on' is not a hexadecimal address"
}
# the deprecated arg= form: QEMU hands over "afilter=zz"
test_bad_afilter_arg_form() {
    refused v4 arg=afilter=zz "afilter 'zz' is not a hexadecimal address"
}
# linux-user also takes the plugin from QEMU_PLUGIN
test_bad_afilter_env() {
    local rc
    : >"$T/out"
    QEMU_PLUGIN="$(ours v1),afilter=0x" timeout 30 qemu-aarch64 \
        "$G/aarch64/basic" >"$T/out" 2>"$T/err" </dev/null
    rc=$?
    check_refused "$rc" "QEMU_PLUGIN=...,afilter=0x" line \
        "afilter '0x' is not a hexadecimal address (no digits)"
}
# (QEMU hands over "afilter=" as it is)
test_bad_missing_value() {
    refused v1 afilter= \
        "option 'afilter' needs a value (afilter=...)"
}
test_bad_ifilter_empty() {
    refused v4 ifilter= \
        "option 'ifilter' needs a value (ifilter=...)"
}
test_bad_ifilter_newline() {
    refused v1 $'ifilter=ld\nr' \
        "ifilter 'ld\\x0ar' has a control character (0x0a at offset 2)"
}
test_bad_ifilter_not_ascii() {
    refused v4 $'ifilter=\xff\xfe' \
        "ifilter '\\xff\\xfe' has a non-ASCII byte (0xff at offset 0); disassembly is ASCII"
}
test_bad_ifilter_64k() {
    local a
    a=$(head -c 65536 /dev/zero | tr '\0' a)
    refused v1 "ifilter=$a" \
        "ifilter '$(head -c 40 /dev/zero | tr '\0' a)...' is too long (65536 bytes, at most 256)"
}
test_bad_reg_on_api1() { refused v1 'reg=x*' "option 'reg' $NEEDS_V4"; }
test_bad_rdisas_on_api1() { refused v1 rdisas=on "option 'rdisas' $NEEDS_V4"; }
test_bad_reg_glob() {
    refused v4 'reg=[xw]0' \
        "reg '[xw]0' cannot match a register name (byte 0x5b at offset 0: names are letters, digits and '_', wildcards '*' and '?')"
}
test_bad_reg_twice() {
    refused v4 reg=x1,reg=x1 \
        "reg 'x1' given twice (its registers would be printed twice)"
}
test_bad_rdisas_value() {
    refused v4 reg=x1,rdisas=maybe "rdisas 'maybe' is not a boolean (on or off)"
}
test_bad_rdisas_twice() {
    refused v4 reg=x1,rdisas=on,rdisas=off \
        "option 'rdisas' given twice ('on', then 'off'); it takes one value"
}
test_bad_rdisas_without_reg() {
    refused v4 rdisas=on \
        "rdisas=on needs reg=GLOB (it logs the instructions that name a watched register)"
}
test_bad_outfile_twice() {
    refused v1 "outfile=$T/a,outfile=$T/b" \
        "option 'outfile' given twice ('$T/a', then '$T/b'); it takes one value"
    [ ! -e "$T/a" ] && [ ! -e "$T/b" ] || fail "a file was created"
}
test_bad_outfile_empty() {
    refused v4 outfile= \
        "option 'outfile' needs a value (outfile=...)"
}
test_bad_outfile_unwritable() {
    refused_start v1 outfile=/nonexistent/dir/x.log \
        "outfile '/nonexistent/dir/x.log': cannot open"
}
test_bad_outfile_unwritable_system() {
    refused_start v4 outfile=/nonexistent/x.log \
        "outfile '/nonexistent/x.log': cannot open"
}
test_bad_outfile_directory() {
    refused_start v1 "outfile=$T" "outfile '$T': cannot open: Is a directory"
}
test_bad_outfile_directory_bin() {
    refused_start v4 "format=bin,outfile=$T/" "outfile '$T/': "
}
test_bad_format_case() {
    refused v1 format=BIN \
        "format 'BIN' is unknown (text or bin)"
}
test_bad_format_twice() {
    refused v4 "format=bin,outfile=$T/t.bin,format=text" \
        "option 'format' given twice ('bin', then 'text'); it takes one value"
}
test_bad_bin_without_outfile() {
    refused v1 format=bin \
        "format=bin needs outfile=PATH"
}
test_bad_compress_unknown() {
    refused v1 "format=bin,outfile=$T/t.bin,compress=lz4" \
        "compress 'lz4' is unknown (zstd or none)"
}
test_bad_compress_twice() {
    refused v1 "format=bin,outfile=$T/t.bin,compress=zstd,compress=none" \
        "option 'compress' given twice ('zstd', then 'none'); it takes one value"
}
test_bad_compress_without_bin() {
    refused v4 "outfile=$T/t.log,compress=zstd" "compress=zstd needs format=bin"
}
# QEMU 10.0 user mode refuses the same way
bad100() { need_user 10.0 aarch64 || return; refused v4user "$@"; }
test_bad_unknown_option_100_user() { bad100 foo=1 "unknown option 'foo=1' $KNOWN"; }
test_bad_afilter_not_hex_100_user() { bad100 afilter=zz "afilter 'zz' is not a hexadecimal address"; }
test_bad_reg_glob_100_user() {
    bad100 'reg=[xw]0' "reg '[xw]0' cannot match a register name (byte 0x5b at offset 0: names are letters, digits and '_', wildcards '*' and '?')"
}
test_bad_rdisas_without_reg_100_user() {
    bad100 rdisas=on "rdisas=on needs reg=GLOB (it logs the instructions that name a watched register)"
}
test_bad_bin_without_outfile_100_user() {
    need_user 10.0 aarch64 || return
    run_refused v4user format=bin
    check_refused $? format=bin start "format=bin needs outfile="
}
test_bad_outfile_unwritable_100_user() {
    bad100 outfile=/nonexistent/t.log "outfile '/nonexistent/t.log': cannot open: No such file or directory"
}
test_bad_bin_reg_with_window() {
    refused v4 "format=bin,outfile=$T/t.bin,reg=x1,start=40000000" \
        "format=bin takes reg= only for whole runs: no ifilter, afilter or window (start, stop, skip, limit, vcpu) with it yet"
}
test_bad_bin_rdisas() {
    refused v4 "format=bin,outfile=$T/t.bin,reg=x1,rdisas=on" \
        "format=bin records every watched register's changes: rdisas is for format=text"
}

# ranges and windows (window.h)
test_bad_afilter_empty_range() {
    refused v1 afilter=400b00-400a00 \
        "afilter '400b00-400a00' is an empty range (its end, exclusive, must be above its start)"
}
test_bad_afilter_range_end() {
    refused v4 afilter=40000000-4000zz \
        "afilter '40000000-4000zz': its end '4000zz' is not a hexadecimal address (junk after the digits)"
}
test_bad_start_not_hex() {
    refused v1 start=main "start 'main' is not a hexadecimal address"
}
test_bad_stop_twice() {
    refused v4 stop=10,stop=20 \
        "option 'stop' given twice ('10', then '20'); it takes one value"
}
test_bad_skip_not_decimal() {
    refused v1 skip=0x10 \
        "skip '0x10' is not a number of instructions (decimal digits only)"
}
test_bad_limit_zero() {
    refused v4 limit=0 \
        "limit=0 would log nothing (limit=N logs N instructions at most, N >= 1)"
}
test_bad_vcpu_list() {
    refused v1 vcpu=1-x \
        "vcpu '1-x' is not a list of vCPU indexes (N or N-M, separated by ',,' on QEMU's command line)"
}
# QEMU splits at ',': "vcpu=0,2" is vcpu=0 and an option "2"
test_bad_vcpu_single_comma() {
    refused v4 vcpu=0,2 "unknown option '2=on' $KNOWN"
}
test_bad_vcpu_reversed() {
    refused v1 vcpu=3-1 "vcpu '3-1' has an empty range (3-1)"
}
