# SPDX-License-Identifier: GPL-2.0-or-later
# Bad input: QEMU refuses to start, with one line from us on stderr that
# names the plugin and the option; never an abort or a crash.

# refused API ARGS EXPECTED: user mode 7.2 (v1) or system 10.0 (v4)
refused() {
    local api=$1 args=$2 expect=$3 rc
    if [ "$api" = v1 ]; then
        timeout 30 qemu-aarch64 -plugin "$(ours v1),$args" "$G/aarch64/basic" \
            >/dev/null 2>"$T/err" </dev/null
    else
        timeout 30 "$Q10_SYS" -M virt -cpu cortex-a57 -display none -nic none \
            -serial null -monitor none -plugin "$(ours v4),$args" \
            -kernel "$G/system/aarch64/hello.elf" >/dev/null 2>"$T/err" </dev/null
    fi
    rc=$?
    [ $rc -ne 0 ] || fail "QEMU started with '$args'" || return 1
    [ $rc -lt 124 ] || fail "QEMU died (status $rc) with '$args'" || return 1
    [ "$(grep -c '^execlog: ' "$T/err")" -eq 1 ] \
        || fail "want one execlog line, got: $(cat "$T/err")" || return 1
    grep -q "^execlog: .*$expect" "$T/err" \
        || fail "message lacks '$expect': $(grep '^execlog' "$T/err")"
}

test_bad_unknown_option() { refused v1 foo=1 "unknown option 'foo=1' (known: ifilter"; }
test_bad_afilter_not_hex() { refused v1 afilter=zz "afilter 'zz' is not a hexadecimal"; }
# (a bare key reaches the plugin as key=on: QEMU's option parser)
test_bad_missing_value() { refused v1 afilter= "option 'afilter' needs a value"; }
test_bad_reg_on_api1() { refused v1 'reg=x*' "needs QEMU >= 9.2"; }
test_bad_rdisas_value() { refused v4 rdisas=maybe "rdisas 'maybe' is not a boolean"; }
test_bad_outfile_unwritable() {
    refused v1 outfile=/nonexistent/dir/x.log "outfile '/nonexistent/dir/x.log': cannot open"
}
test_bad_outfile_unwritable_system() {
    refused v4 outfile=/nonexistent/x.log "outfile '/nonexistent/x.log': cannot open"
}
test_bad_bin_without_outfile() { refused v1 format=bin "format=bin needs outfile=PATH"; }
test_bad_compress_unknown() {
    refused v1 "format=bin,outfile=$T/t.bin,compress=lz4" "compress 'lz4' is unknown (zstd or none)"
}
test_bad_bin_with_filter() {
    refused v4 "format=bin,outfile=$T/t.bin,ifilter=ldr" "format=bin records every instruction"
}
