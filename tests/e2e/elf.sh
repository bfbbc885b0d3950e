# SPDX-License-Identifier: GPL-2.0-or-later
# --elf: `execlog dump --elf PROGRAM` annotates each instruction with the
# symbol that nm (binutils, independent of libelf and of us) says covers
# its address; `stats --elf` sums instructions per symbol; bad ELF files
# are refused with one line.

SYM_EL=$B/execlog

# sym_check_nm NM DUMP ELF [BIAS LO HI MINPART]: every annotated line's
# <SYMBOL+0xOFF> is a symbol nm lists at PC - OFF that covers PC (one of
# those with a size covering it, if any has one; else one of size 0); no
# line without an annotation has a sized symbol covering its address.
# NM may have options (nm -D). With BIAS, LO, HI (hex): only lines with
# LO <= PC < HI, at PC - BIAS in ELF; MINPART: the part of those lines that
# must be annotated (default 0.9).
sym_check_nm() {
    $1 -S --defined-only "$3" > "$T/nm" || fail "$1 failed" || return 1
    perl -e '
        my ($nm, $dump, $bias, $lo, $hi, $min) = @ARGV;
        ($bias, $lo, $hi) = map { hex } ($bias, $lo, $hi);
        $min = 0.9 if $min eq "";
        my (@sized, %at);
        open(my $n, "<", $nm) or die;
        while (<$n>) {
            my @f = split;
            my ($addr, $size, $type, $name) = @f == 4 ? @f : ($f[0], undef, $f[1], $f[2]);
            # not addresses (absolute), or not symbols execlog shows
            next if !defined $name || $name =~ /^(\$|\.L)/ || $type =~ /^[aA]$/;
            $name =~ s/@.*//;       # nm -D: symbol versions
            $addr = hex $addr;
            push @{$at{$name}}, [$addr, defined $size ? hex $size : 0];
            push @sized, [$addr, hex $size, $name] if defined $size && hex $size;
        }
        my %seen; my ($lines, $annotated, $bad) = (0, 0, 0);
        open(my $d, "<", $dump) or die;
        while (<$d>) {
            $lines++ unless $hi;
            my ($pc, $sym, $off) = /^\d+, 0x([0-9a-f]+)(?: <(.+)\+0x([0-9a-f]+)>)?, / or next;
            $pc = hex $pc;
            if ($hi) {
                next if $pc < $lo || $pc >= $hi;
                $lines++;
                $pc -= $bias;
            }
            $annotated++ if defined $sym;
            next if $seen{$pc}++;
            my @cover = map { $_->[2] } grep { $_->[0] <= $pc && $pc < $_->[0] + $_->[1] } @sized;
            if (!defined $sym) {
                next unless @cover;
                printf "    0x%x: no annotation, nm: %s\n", $pc, join(" ", @cover);
                exit 1 if ++$bad > 5;
                next;
            }
            my $start = $pc - hex $off;
            # the symbol is in nm at PC - OFF: one covering PC, or with no
            # symbol covering PC, one of size 0
            my $ok = grep { $_->[0] == $start && (@cover || !$_->[1]) } @{$at{$sym} || []};
            $ok &&= !@cover || grep { $_ eq $sym } @cover;
            next if $ok;
            printf "    0x%x: <%s+0x%s>, nm covers it with: %s\n", $pc, $sym, $off,
                   @cover ? join(" ", @cover) : "(no sized symbol)";
            exit 1 if ++$bad > 5;
        }
        exit 1 if $bad;
        if (!$lines || $annotated < $lines * $min) {
            print "    only $annotated of $lines lines annotated\n";
            exit 1;
        }
        printf "%d lines, %d addresses checked\n", $lines, scalar keys %seen;
    ' "$T/nm" "$2" "${4:-0}" "${5:-0}" "${6:-0}" "${7:-}" > "$T/check" || { cat "$T/check"; fail "annotations disagree with nm"; return 1; }
}

# sym_user ARCH GUEST: trace $T/t.bin of a 7.2 user-mode run, dumped with
# --elf into $T/dump.elf, and without into $T/dump
sym_user() {
    local arch=$1 guest=$2
    timeout "$TIMEOUT" "qemu-$arch" -plugin "$(ours v1),format=bin,outfile=$T/t.bin" \
        "$G/$arch/$guest" < /dev/null > /dev/null || fail "QEMU failed" || return 1
    "$SYM_EL" dump --elf "$G/$arch/$guest" "$T/t.bin" > "$T/dump.elf" 2> "$T/err" \
        || fail "dump --elf failed: $(cat "$T/err")" || return 1
    [ ! -s "$T/err" ] || fail "dump --elf said: $(cat "$T/err")" || return 1
    "$SYM_EL" dump "$T/t.bin" > "$T/dump" || fail "dump failed" || return 1
    # the annotation is the only change
    cmp -s <(sed 's/^\([0-9]*, 0x[0-9a-f]*\) <[^>]*>,/\1,/' "$T/dump.elf") "$T/dump" \
        || fail "dump --elf minus its annotations is not dump"
}

test_elf_symbols_match_nm_72_user_x86_64() {
    sym_user x86_64 basic || return 1
    sym_check_nm nm "$T/dump.elf" "$G/x86_64/basic"
}

test_elf_symbols_match_nm_72_user_aarch64() {
    sym_user aarch64 basic || return 1
    sym_check_nm aarch64-linux-gnu-nm "$T/dump.elf" "$G/aarch64/basic"
}

test_elf_symbols_match_nm_72_system() {
    sys 7.2 hello 1 "$(ours v1),format=bin,outfile=$T/t.bin" >/dev/null 2>&1 \
        || fail "QEMU failed" || return 1
    "$SYM_EL" dump --elf "$G/system/aarch64/hello.elf" "$T/t.bin" > "$T/dump.elf" 2> "$T/err" \
        || fail "dump --elf failed: $(cat "$T/err")" || return 1
    sym_check_nm aarch64-linux-gnu-nm "$T/dump.elf" "$G/system/aarch64/hello.elf"
}

# csv and jsonl carry the same symbol as text
test_elf_csv_jsonl() {
    sym_user x86_64 input || return 1
    "$SYM_EL" dump --format csv --elf "$G/x86_64/input" "$T/t.bin" > "$T/csv" || fail "csv" || return 1
    "$SYM_EL" dump --format jsonl --elf "$G/x86_64/input" "$T/t.bin" > "$T/jsonl" || fail "jsonl" || return 1
    head -n 1 "$T/csv" | grep -qx 'vcpu,index,pc,symbol,size,bytes,disas,accesses,values,regs' \
        || fail "csv header: $(head -n 1 "$T/csv")" || return 1
    sed -n 's/^[0-9]*, \(0x[0-9a-f]*\)\( <\([^>]*\)>\)\?, .*/\1,\3/p' "$T/dump.elf" > "$T/want"
    cmp -s <(tail -n +2 "$T/csv" | cut -d, -f3,4 | tr -d '"') "$T/want" \
        || fail "csv symbols differ from text's" || return 1
    cmp -s <(sed 's/.*"pc":"\([^"]*\)","symbol":\(null\|"\([^"]*\)"\),.*/\1,\3/' "$T/jsonl") "$T/want" \
        || fail "jsonl symbols differ from text's"
}

# stats --elf: the hottest functions are the symbols with the most lines
# in dump --elf (whose symbols nm vouched for in the tests above)
test_elf_stats_hottest_functions() {
    sym_user x86_64 basic || return 1
    "$SYM_EL" stats --elf "$G/x86_64/basic" "$T/t.bin" > "$T/stats" || fail "stats failed" || return 1
    sed -n '/^hottest functions:/,$p' "$T/stats" | tail -n +2 > "$T/hot"
    [ "$(wc -l < "$T/hot")" -eq 10 ] || fail "$(wc -l < "$T/hot") hottest functions" || return 1
    sed -n 's/^[0-9]*, 0x[0-9a-f]* <\(.*\)+0x[0-9a-f]*>, .*/\1/p' "$T/dump.elf" \
        | sort | uniq -c | sort -k1,1nr | awk '{ print $2, $1 }' > "$T/agg"
    local name count tenth
    tenth=$(sed -n 10p "$T/agg" | cut -d' ' -f2)
    while read -r name count; do
        grep -qx "$name $count" "$T/agg" || fail "stats: $name $count; dump: $(grep "^$name " "$T/agg")" || return 1
        [ "$count" -ge "$tenth" ] || fail "$name $count is not among the 10 hottest" || return 1
    done < "$T/hot"
    grep -q '^  0x[0-9a-f]* <[^>]*+0x[0-9a-f]*> [0-9]* "' "$T/stats" \
        || fail "hottest instructions are not annotated"
}

test_elf_bad_input() {
    "$B/mktrace" --insns 50 "$T/t.bin" || fail "mktrace failed" || return 1
    local cmd
    printf 'not an elf\n' > "$T/text"
    cp "$G/x86_64/basic" "$T/stripped" && strip --strip-all "$T/stripped"
    for cmd in dump stats; do
        "$SYM_EL" "$cmd" --elf "$T/none" "$T/t.bin" > "$T/out" 2> "$T/err"
        [ $? -eq 1 ] && [ "$(wc -l < "$T/err")" -eq 1 ] && [ ! -s "$T/out" ] \
            && grep -qx "execlog: $cmd: --elf $T/none: cannot open: No such file or directory" "$T/err" \
            || fail "$cmd, missing file: $(cat "$T/err")" || return 1
        "$SYM_EL" "$cmd" --elf "$T/text" "$T/t.bin" > "$T/out" 2> "$T/err"
        [ $? -eq 1 ] && grep -qx "execlog: $cmd: --elf $T/text: not an ELF file" "$T/err" \
            || fail "$cmd, text file: $(cat "$T/err")" || return 1
        "$SYM_EL" "$cmd" --elf "$T/stripped" "$T/t.bin" > "$T/out" 2> "$T/err"
        [ $? -eq 1 ] && grep -qx "execlog: $cmd: --elf $T/stripped: has no symbol table (symtab or dynsym)" "$T/err" \
            || fail "$cmd, stripped: $(cat "$T/err")" || return 1
    done
}

# A PIE and a shared object: each --elf is placed where the trace's modules
# say it was loaded. Independent of those: the guest prints where main and
# puts are (nm gives their link addresses, so the load bias) and its own
# /proc/self/maps (the ranges checked).
test_elf_pie_and_shared_object_72_user_x86_64() {
    local prog=$G/x86_64/dynlib libc=/usr/lib/x86_64-linux-gnu/libc.so.6 main puts f lo hi
    [ -f "$libc" ] || skip "no $libc" || return
    timeout "$TIMEOUT" qemu-x86_64 -plugin "$(ours v1),format=bin,outfile=$T/t.bin" \
        "$prog" > "$T/guest.out" || fail "QEMU failed" || return 1
    "$SYM_EL" dump --elf "$prog" --elf "$libc" "$T/t.bin" > "$T/dump.elf" 2> "$T/err" \
        || fail "dump --elf failed: $(cat "$T/err")" || return 1
    [ ! -s "$T/err" ] || fail "dump --elf said: $(cat "$T/err")" || return 1
    main=$(sed -n 's/.* main=0x\([0-9a-f]*\).*/\1/p' "$T/guest.out")
    puts=$(sed -n 's/^puts=0x\([0-9a-f]*\).*/\1/p' "$T/guest.out")
    for f in "$prog" "$libc"; do
        # the file's range in the guest's own maps
        read -r lo hi < <(awk -v f="$(realpath "$f")" '$6 == f { split($1, a, "-");
            if (lo == "" || a[1] < lo) lo = a[1]; if (a[2] > hi) hi = a[2] }
            END { print lo, hi }' "$T/guest.out")
        [ -n "$lo" ] || fail "$f is not in the guest's maps" || return 1
        if [ "$f" = "$prog" ]; then
            sym_check_nm nm "$T/dump.elf" "$f" \
                "$(printf '%x' $((0x$main - 0x$(nm "$f" | awk '$3 == "main" { print $1 }'))))" \
                "$lo" "$hi" 0.9 || return 1
        else
            sym_check_nm "nm -D" "$T/dump.elf" "$f" \
                "$(printf '%x' $((0x$puts - 0x$(nm -D "$f" | awk '$3 ~ /^puts@/ { print $1 }'))))" \
                "$lo" "$hi" 0.01 || return 1
        fi
    done
    grep -q '<main+0x0>' "$T/dump.elf" || fail "main is not annotated"
}
