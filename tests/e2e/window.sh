# SPDX-License-Identifier: GPL-2.0-or-later
# Windows and ranges (start=, stop=, skip=, limit=, vcpu=, afilter=A-B):
# what a run logs is exactly the slice of the full log of the same run.
# Two copies of the plugin are loaded into one QEMU process, one with the
# window, one logging everything; tests/winslice.pl computes the slice from
# the full log by README's rules, and the windowed log (format=text) or
# the dump of the windowed trace (format=bin) must equal it. Trigger
# addresses come from the guest's symbol table (nm).

# sym FILE NAME [OFFSET]: NAME's address in FILE, plus OFFSET bytes, in hex
sym() {
    local a
    a=$(nm "$1" | awk -v n="$2" '$3 == n { print $1; exit }')
    [ -n "$a" ] || { echo "no symbol $2 in $1" >&2; return 1; }
    printf '%x\n' $((0x$a + ${3:-0}))
}

# insn FILE NAME N: the address of NAME's instruction N (0: its first),
# from the disassembler of the file's architecture
insn() {
    local od=objdump a
    case $(readelf -h "$1" | sed -n 's/^ *Machine: *//p') in
    AArch64) od=aarch64-linux-gnu-objdump ;;
    RISC-V) od=riscv64-linux-gnu-objdump ;;
    *X86-64*) od=x86_64-linux-gnu-objdump ;;
    esac
    a=$("$od" -d --disassemble="$2" "$1" |
        awk -v n="$3" '/^ *[0-9a-f]+:\t/ { if (i++ == n) { sub(/:.*/, ""); print $1; exit } }')
    [ -n "$a" ] || { echo "no instruction $3 of $2 in $1" >&2; return 1; }
    echo "$a"
}

# symrange FILE NAME: START-END of NAME (nm -S: address and size)
symrange() {
    nm -S "$1" | awk -v n="$2" '$4 == n { print $1, $2; exit }' |
        { read -r a s; printf '%x-%x\n' $((0x$a)) $((0x$a + 0x$s)); }
}

# wcopy API: a second copy of our plugin, so that QEMU loads it twice
wcopy() {
    cp "$(ours "$1")" "$T/libexeclog-full-$1.so"
    echo "$T/libexeclog-full-$1.so"
}

# win_compare FORMAT OPT...: the windowed output ($T/win.log, or the dump
# of $T/win.bin) equals the slice of $T/full.log for OPTs
win_compare() {
    local fmt=$1; shift
    local o args=()
    for o in "$@"; do args+=("${o//,,/,}"); done
    [ -s "$T/full.log" ] || fail "the full log is empty" || return 1
    if [ "$fmt" = bin ]; then
        "$B/execlog" dump "$T/win.bin" > "$T/win.log" 2>"$T/err" \
            || fail "dump failed: $(head -1 "$T/err")" || return 1
    fi
    tests/winslice.pl "${args[@]}" < "$T/full.log" > "$T/slice.log" \
        || fail "winslice.pl failed" || return 1
    [ -s "$T/slice.log" ] || fail "the slice is empty (a test that tests nothing)" || return 1
    cmp -s "$T/slice.log" "$T/full.log" \
        && fail "the slice is the whole log (a test that tests nothing)" && return 1
    grep -v '^$' "$T/win.log" > "$T/win.lines"
    cmp -s "$T/win.lines" "$T/slice.log" && return 0
    echo "    windowed $(wc -l < "$T/win.lines") lines, slice $(wc -l < "$T/slice.log"), full $(wc -l < "$T/full.log")"
    diff "$T/win.lines" "$T/slice.log" | head -6 | sed 's/^/    /'
    fail "the windowed $fmt output is not the slice of the full log"
}

# win_arg API FORMAT OPT...: the plugin argument with the window
win_arg() {
    local api=$1 fmt=$2; shift 2
    if [ "$fmt" = bin ]; then
        plug "$(ours "$api")" format=bin "outfile=$T/win.bin" "$@"
    else
        plug "$(ours "$api")" "outfile=$T/win.log" "$@"
    fi
}

# win_user QEMU API FORMAT ARCH GUEST OPT...: user mode
win_user() {
    local q=$1 api=$2 fmt=$3 arch=$4 guest=$5; shift 5
    timeout "$TIMEOUT" "$q" -plugin "$(win_arg "$api" "$fmt" "$@")" \
        -plugin "$(wcopy "$api"),outfile=$T/full.log" \
        "$G/$arch/$guest" >/dev/null 2>"$T/qemu.err" \
        || fail "QEMU failed: $(head -1 "$T/qemu.err")" || return 1
    win_compare "$fmt" "$@"
}


# the cases, on the basic guest (options from its symbols)
win_cases_user() {
    local run=$1 arch=$2 fmt=$3 e="$G/$2/basic"
    case $4 in
    start_stop) $run "$fmt" "$arch" basic "start=$(sym "$e" main)" \
                    "stop=$(sym "$e" printf)" ;;
    mid_block) $run "$fmt" "$arch" basic "start=$(insn "$e" main 2)" \
                   "stop=$(sym "$e" printf)" ;;
    one_round) $run "$fmt" "$arch" basic "start=$(sym "$e" lcg)" \
                   "stop=$(sym "$e" lcg)" ;;
    skip_limit) $run "$fmt" "$arch" basic skip=100000 limit=20000 ;;
    start_skip_limit) $run "$fmt" "$arch" basic "start=$(sym "$e" subst)" \
                          skip=3 limit=1001 ;;
    ranges) $run "$fmt" "$arch" basic "afilter=$(symrange "$e" main)" \
                "afilter=$(sym "$e" lcg)" ;;
    ranges_mid) $run "$fmt" "$arch" basic \
                    "afilter=$(insn "$e" main 2)-$(symrange "$e" main | cut -d- -f2)" \
                    "afilter=$(insn "$e" lcg 1)" ;;
    range_start) $run "$fmt" "$arch" basic "afilter=$(symrange "$e" subst)" \
                     "start=$(sym "$e" lcg)" limit=300 ;;
    ifilter_limit) $run "$fmt" "$arch" basic ifilter=ld limit=777 ;;
    esac
}

win_user72() { win_user qemu-"$2" v1 "$1" "$2" "$3" "${@:4}"; }
# q10_user ARCH: QEMU 10.0's user mode can run our API 4 build here
q10_user() {
    [ -x "$Q10_USER/qemu-$1" ] || skip "no QEMU 10.0 user mode ($Q10_USER/qemu-$1; scripts/build-qemu-user.sh)" || return
    if "$Q10_USER/qemu-$1" -plugin "$(ours v4)" "$G/$1/basic" 2>&1 >/dev/null |
           grep -q 'undefined symbol'; then
        skip "our API 4 build does not load in QEMU 10.0 user mode (undefined symbol: QEMU-PLUGIN-FACTS.md)" || return
    fi
}
win_user100() {
    q10_user "$2" || return
    win_user "$Q10_USER/qemu-$2" v4 "$1" "$2" "$3" "${@:4}"
}

for fmt in text bin; do
    for c in start_stop mid_block one_round skip_limit start_skip_limit \
             ranges ranges_mid range_start ifilter_limit; do
        eval "test_window_${c}_${fmt}_72_user_aarch64() { win_cases_user win_user72 aarch64 $fmt $c; }"
        eval "test_window_${c}_${fmt}_100_user_aarch64() { win_cases_user win_user100 aarch64 $fmt $c; }"
    done
    for arch in x86_64 riscv64; do
        eval "test_window_mid_block_${fmt}_72_user_${arch}() { win_cases_user win_user72 $arch $fmt mid_block; }"
        eval "test_window_start_skip_limit_${fmt}_72_user_${arch}() { win_cases_user win_user72 $arch $fmt start_skip_limit; }"
        eval "test_window_ranges_mid_${fmt}_72_user_${arch}() { win_cases_user win_user72 $arch $fmt ranges_mid; }"
    done
done

# The full copy loaded first, the windowed second: each has its own state.
test_window_loaded_second_72_user() {
    local e="$G/aarch64/basic"
    timeout "$TIMEOUT" qemu-aarch64 -plugin "$(wcopy v1),outfile=$T/full.log" \
        -plugin "$(win_arg v1 text "start=$(sym "$e" main 8)" limit=5000)" \
        "$e" >/dev/null 2>"$T/qemu.err" || fail "QEMU failed" || return 1
    win_compare text "start=$(sym "$e" main 8)" limit=5000
}

# win_sys VER API FORMAT GUEST SMP OPT...: system mode
win_sys() {
    local ver=$1 api=$2 fmt=$3 guest=$4 smp=$5; shift 5
    sys "$ver" "$guest" "$smp" "$(win_arg "$api" "$fmt" "$@")" \
        "$(wcopy "$api"),outfile=$T/full.log" >/dev/null 2>"$T/qemu.err" \
        || fail "QEMU failed: $(head -1 "$T/qemu.err")" || return 1
    win_compare "$fmt" "$@"
}

# win_sys_regs ...: win_sys with reg=x* in both copies (API 4, text): the
# registers' changes of each line are those of the full log
win_sys_regs() {
    local ver=$1 api=$2 fmt=$3 guest=$4 smp=$5; shift 5
    sys "$ver" "$guest" "$smp" "$(win_arg "$api" "$fmt" 'reg=x*' "$@")" \
        "$(wcopy "$api"),outfile=$T/full.log,reg=x*" >/dev/null 2>"$T/qemu.err" \
        || fail "QEMU failed: $(head -1 "$T/qemu.err")" || return 1
    grep -q -- ' -> 0x' "$T/full.log" || fail "no register in the full log" || return 1
    win_compare "$fmt" "$@"
}

win_cases_sys() {
    local ver=$1 api=$2 fmt=$3 e="$G/system/aarch64/hello.elf"
    case $4 in
    start_stop) win_sys "$ver" "$api" "$fmt" hello 1 \
                    "start=$(sym "$e" main 4)" "stop=$(sym "$e" uart_puthex)" ;;
    skip_limit) win_sys "$ver" "$api" "$fmt" hello 1 skip=1500 limit=2000 ;;
    ranges) win_sys "$ver" "$api" "$fmt" hello 1 \
                "afilter=$(symrange "$e" ram_work)" \
                "afilter=$(symrange "$e" uart_putc)" "start=$(sym "$e" main)" ;;
    regs) win_sys_regs "$ver" "$api" "$fmt" hello 1 skip=300 limit=700 ;;
    regs_start_stop) win_sys_regs "$ver" "$api" "$fmt" hello 1 \
                         "start=$(sym "$e" main 4)" "stop=$(sym "$e" uart_puthex)" ;;
    ranges_mid) win_sys "$ver" "$api" "$fmt" hello 1 \
                    "afilter=$(insn "$e" ram_work 3)-$(symrange "$e" ram_work | cut -d- -f2)" \
                    "afilter=$(insn "$e" uart_putc 1)" ;;
    esac
}
for fmt in text bin; do
    for c in start_stop skip_limit ranges ranges_mid; do
        eval "test_window_${c}_${fmt}_100_system() { win_cases_sys 10.0 v4 $fmt $c; }"
        eval "test_window_${c}_${fmt}_72_system() { win_cases_sys 7.2 v1 $fmt $c; }"
    done
done
test_window_regs_text_100_system() { win_cases_sys 10.0 v4 text regs; }
test_window_regs_start_stop_text_100_system() { win_cases_sys 10.0 v4 text regs_start_stop; }

# A start= that never executes: nothing is logged, and a line says why.
win_never() {
    local fmt=$1
    timeout "$TIMEOUT" qemu-aarch64 -plugin "$(win_arg v1 "$fmt" start=4)" \
        "$G/aarch64/basic" >/dev/null 2>"$T/qemu.err" \
        || fail "QEMU failed: $(head -1 "$T/qemu.err")" || return 1
    grep -qx 'execlog: start=0x4 never executed: nothing was logged' \
        "$T/qemu.err" || fail "no message: $(head -2 "$T/qemu.err")" || return 1
    if [ "$fmt" = bin ]; then
        "$B/execlog" dump "$T/win.bin" > "$T/win.log" || fail "dump failed" || return 1
    fi
    [ -z "$(grep -v '^$' "$T/win.log")" ] || fail "something was logged"
}
test_window_start_never_fires_text_72_user() { win_never text; }
test_window_start_never_fires_bin_72_user() { win_never bin; }

# ---- several vCPUs ------------------------------------------------------

# per_vcpu_same LIST: for each vCPU in the full log, the windowed log has
# exactly its lines if it is in LIST (N N-M ...), none otherwise
per_vcpu_same() {
    local v want r lo hi
    for v in $(grep -v '^$' "$T/full.log" | cut -d, -f1 | sort -un); do
        want=
        for r in "$@"; do
            lo=${r%-*} hi=${r#*-}
            [ "$v" -ge "$lo" ] && [ "$v" -le "$hi" ] && want=1
        done
        grep "^$v, " "$T/full.log" > "$T/v.full"
        grep "^$v, " "$T/win.log" > "$T/v.win"
        if [ -n "$want" ]; then
            [ -s "$T/v.full" ] || continue
            cmp -s "$T/v.full" "$T/v.win" \
                || fail "vCPU $v: $(wc -l < "$T/v.win") lines, full log $(wc -l < "$T/v.full")" \
                || return 1
        else
            [ ! -s "$T/v.win" ] || fail "vCPU $v is not in vcpu= but logged" || return 1
        fi
    done
    [ "$(grep -v '^$' "$T/full.log" | cut -d, -f1 | sort -un | wc -l)" -gt 1 ] \
        || fail "the guest ran on one vCPU only"
}

# vcpus_run FORMAT API OPT...: latethreads (7.2 user) or smpn -smp 4
win_threads() {
    local fmt=$1 where=$2 list=$3
    local opt="vcpu=${list// /,,}"
    if [ "$where" = user ] || [ "$where" = user10 ]; then
        local q=qemu-aarch64 api=v1
        if [ "$where" = user10 ]; then
            q10_user aarch64 || return
            q=$Q10_USER/qemu-aarch64 api=v4
        fi
        timeout "$TIMEOUT" "$q" -plugin "$(win_arg "$api" "$fmt" "$opt")" \
            -plugin "$(wcopy "$api"),outfile=$T/full.log" \
            "$G/aarch64/latethreads" >/dev/null 2>"$T/qemu.err" \
            || fail "QEMU failed: $(head -1 "$T/qemu.err")" || return 1
    else
        local ver=${where#sys} api=v1
        [ "$ver" = 10.0 ] && api=v4
        sys "$ver" smpn 4 "$(win_arg "$api" "$fmt" "$opt")" \
            "$(wcopy "$api"),outfile=$T/full.log" -- -accel tcg,thread=multi \
            >/dev/null 2>"$T/qemu.err" \
            || fail "QEMU failed: $(head -1 "$T/qemu.err")" || return 1
    fi
    if [ "$fmt" = bin ]; then
        "$B/execlog" dump "$T/win.bin" > "$T/win.log" || fail "dump failed" || return 1
    fi
    per_vcpu_same $list
}
for fmt in text bin; do
    eval "test_window_vcpu_${fmt}_72_user_threads() { win_threads $fmt user '1 3-4'; }"
    eval "test_window_vcpu_${fmt}_100_user_threads() { win_threads $fmt user10 '1 3-4'; }"
    eval "test_window_vcpu_${fmt}_100_system_smp4() { win_threads $fmt sys10.0 '1-2'; }"
    eval "test_window_vcpu_${fmt}_72_system_smp4() { win_threads $fmt sys7.2 '0 3'; }"
done

# skip= and limit= over all vCPUs: exactly limit lines in all, and each
# vCPU's lines one contiguous run of its lines in the full log
win_limit_threads() {
    local fmt=$1 q=qemu-aarch64 api=${2:-v1}
    if [ "$api" = v4 ]; then
        q10_user aarch64 || return
        q=$Q10_USER/qemu-aarch64
    fi
    timeout "$TIMEOUT" "$q" \
        -plugin "$(win_arg "$api" "$fmt" skip=200000 limit=300000)" \
        -plugin "$(wcopy "$api"),outfile=$T/full.log" \
        "$G/aarch64/latethreads" >/dev/null 2>"$T/qemu.err" \
        || fail "QEMU failed: $(head -1 "$T/qemu.err")" || return 1
    if [ "$fmt" = bin ]; then
        "$B/execlog" dump "$T/win.bin" > "$T/win.log" || fail "dump failed" || return 1
    fi
    [ "$(grep -vc '^$' "$T/win.log")" -eq 300000 ] \
        || fail "$(grep -vc '^$' "$T/win.log") lines, want 300000" || return 1
    [ "$(grep -v '^$' "$T/win.log" | cut -d, -f1 | sort -u | wc -l)" -gt 1 ] \
        || fail "one vCPU only in the window" || return 1
    perl -e '
        my (%full, %win);
        open my $f, "<", $ARGV[0] or die; while (<$f>) { /^(\d+), / and $full{$1} .= $_ }
        open my $w, "<", $ARGV[1] or die; while (<$w>) { /^(\d+), / and $win{$1} .= $_ }
        for my $v (sort keys %win) {
            index($full{$v} // "", $win{$v}) >= 0 or die "vCPU $v: not a contiguous run of its full log\n";
        }' "$T/full.log" "$T/win.log" || fail "a vCPU's lines are not contiguous"
}
test_window_limit_threads_text_72_user() { win_limit_threads text; }
test_window_limit_threads_bin_72_user() { win_limit_threads bin; }
test_window_limit_threads_text_100_user() { win_limit_threads text v4; }
test_window_limit_threads_bin_100_user() { win_limit_threads bin v4; }

# A trace of a window says so (version 2, min_reader 2, partial); one of
# everything stays readable by version-1 readers; version-1 traces (the
# golden ones) are still read.
test_window_bin_header_partial() {
    timeout "$TIMEOUT" qemu-aarch64 \
        -plugin "$(win_arg v1 bin limit=10)" \
        -plugin "$(wcopy v1),format=bin,outfile=$T/full.bin" \
        "$G/aarch64/basic" >/dev/null 2>"$T/qemu.err" || fail "QEMU failed" || return 1
    "$B/execlog" info "$T/win.bin" > "$T/info" || fail "info failed" || return 1
    grep -qx 'format version: 2' "$T/info" || fail "not version 2" || return 1
    grep -qx 'min reader: 2' "$T/info" || fail "min reader not 2" || return 1
    grep -q '^partial: yes' "$T/info" || fail "not partial" || return 1
    grep -qx 'vcpu0.exit: 10 instructions, .*' "$T/info" || fail "not 10 instructions" || return 1
    "$B/execlog" info "$T/full.bin" > "$T/info" || fail "info failed" || return 1
    grep -qx 'min reader: 2' "$T/info" || fail "full trace: min reader not 2 (every version-2 trace)" || return 1
    ! grep -q '^partial' "$T/info" || fail "full trace says partial" || return 1
    "$B/execlog" info tests/golden/user.bin > "$T/info" || fail "golden v1 trace not read" || return 1
    grep -qx 'format version: 1' "$T/info" || fail "golden trace is not version 1"
}

# start= on -smp 4, fired by a secondary vCPU (smpn's secondary_main), or
# in user mode by the first thread (latethreads' work()): the
# window never closes, so every vCPU's lines are a suffix of its full log,
# and one vCPU's first line is the start instruction; with limit=, exactly
# that many lines, each vCPU's one contiguous run of its own.
win_smp_start() {
    local ver=$1 fmt=$2 lim=${3:-} api=v1 e="$G/system/aarch64/smpn.elf" a v n
    case $ver in 10.0|user100) api=v4 ;; esac
    case $ver in
    user*)
        # latethreads' work(): where each thread starts
        local q=qemu-aarch64
        if [ "$ver" = user100 ]; then
            q10_user aarch64 || return
            q=$Q10_USER/qemu-aarch64
        fi
        e=$G/aarch64/latethreads
        a=$(sym "$e" work) || return 1
        timeout "$TIMEOUT" "$q" \
            -plugin "$(win_arg "$api" "$fmt" "start=$a" ${lim:+limit=$lim})" \
            -plugin "$(wcopy "$api"),outfile=$T/full.log" "$e" \
            >/dev/null 2>"$T/qemu.err" || fail "QEMU failed: $(head -1 "$T/qemu.err")" || return 1
        ;;
    *)
        a=$(sym "$e" secondary_main) || return 1
        sys "$ver" smpn 4 "$(win_arg "$api" "$fmt" "start=$a" ${lim:+limit=$lim})" \
            "$(wcopy "$api"),outfile=$T/full.log" -- -accel tcg,thread=multi \
            >/dev/null 2>"$T/qemu.err" || fail "QEMU failed: $(head -1 "$T/qemu.err")" || return 1
        ;;
    esac
    if [ "$fmt" = bin ]; then
        "$B/execlog" dump "$T/win.bin" > "$T/win.log" || fail "dump failed" || return 1
    fi
    grep -v '^$' "$T/win.log" > "$T/win.lines"
    [ -s "$T/win.lines" ] || fail "nothing logged" || return 1
    grep -q "^[0-9]*, 0x$a, " "$T/win.lines" || fail "no start instruction" || return 1
    if [ -n "$lim" ]; then
        [ "$(wc -l < "$T/win.lines")" -eq "$lim" ] \
            || fail "$(wc -l < "$T/win.lines") lines, want $lim" || return 1
        perl -e '
            my (%full, %win);
            open my $f, "<", $ARGV[0] or die; while (<$f>) { /^(\d+), / and $full{$1} .= $_ }
            open my $w, "<", $ARGV[1] or die; while (<$w>) { /^(\d+), / and $win{$1} .= $_ }
            for my $v (sort keys %win) {
                index($full{$v} // "", $win{$v}) >= 0 or die "vCPU $v: not a contiguous run of its full log\n";
            }' "$T/full.log" "$T/win.lines" || fail "a vCPU's lines are not contiguous"
        return
    fi
    local first=
    for v in $(cut -d, -f1 "$T/win.lines" | sort -un); do
        n=$(grep -c "^$v, " "$T/win.lines")
        cmp -s <(grep "^$v, " "$T/win.lines") <(grep "^$v, " "$T/full.log" | tail -n "$n") \
            || fail "vCPU $v's lines are not a suffix of its full log" || return 1
        grep -m1 "^$v, " "$T/win.lines" | grep -q "^$v, 0x$a, " && first=1
    done
    [ -n "$first" ] || fail "no vCPU starts with the start instruction"
}
for fmt in text bin; do
    eval "test_window_start_smp4_${fmt}_100_system() { win_smp_start 10.0 $fmt; }"
    eval "test_window_start_smp4_${fmt}_72_system() { win_smp_start 7.2 $fmt; }"
    eval "test_window_start_limit_smp4_${fmt}_100_system() { win_smp_start 10.0 $fmt 10000; }"
    eval "test_window_start_limit_smp4_${fmt}_72_system() { win_smp_start 7.2 $fmt 10000; }"
    eval "test_window_start_threads_${fmt}_72_user() { win_smp_start user72 $fmt; }"
    eval "test_window_start_threads_${fmt}_100_user() { win_smp_start user100 $fmt; }"
    eval "test_window_start_limit_threads_${fmt}_72_user() { win_smp_start user72 $fmt 400000; }"
    eval "test_window_start_limit_threads_${fmt}_100_user() { win_smp_start user100 $fmt 400000; }"
done
