# SPDX-License-Identifier: GPL-2.0-or-later
# The execlog tool on damaged, cut-off and hostile traces: a clear one-line
# message with the byte offset and the right exit code (2 damaged, 3 I/O,
# 0 for a trace that was merely cut off), never a crash or a hang, and
# everything readable printed before the message. Test traces come from
# build/mktrace, whose --text output (computed from its own simulation, not
# by reading the trace) is what `execlog dump` must print.

DMG_EL=${DMG_EL:-$B/execlog}
DMG_MK=$B/mktrace

# Address space for execlog (KiB): these inputs are all small, so a reader
# that allocates what a damaged size field declares runs out of it (and
# exits 3) instead of passing. Not under AddressSanitizer, whose shadow
# memory needs terabytes of address space.
DMG_VLIMIT=65536
grep -qa __asan_init "$DMG_EL" 2>/dev/null && DMG_VLIMIT=unlimited

# dmg_run ARGS...: execlog under a timeout and the address space limit;
# stdout in $T/out, stderr in $T/err, exit status in $dmg_rc
dmg_run() {
    ( ulimit -v "$DMG_VLIMIT" 2>/dev/null
      exec timeout 10 "$DMG_EL" "$@" ) >"$T/out" 2>"$T/err" </dev/null
    dmg_rc=$?
}

# dmg_sane WHAT: the last dmg_run ended with 0 or 2, and said so properly:
# exit 2 with exactly one line "execlog: FILE: offset 0x...: ...", or exit
# 0 with nothing or one "trace was cut off at offset 0x..." line
dmg_sane() {
    local what=$1 lines
    lines=$(wc -l < "$T/err")
    case $dmg_rc in
    0)
        [ "$lines" -eq 0 ] && return 0
        [ "$lines" -eq 1 ] && grep -q '^execlog: .*: trace was cut off at offset 0x[0-9a-f]*: .' "$T/err" \
            && return 0
        fail "$what: exit 0 with: $(head -3 "$T/err")" ;;
    2)
        [ "$lines" -eq 1 ] && grep -q '^execlog: .*: offset 0x[0-9a-f]*: .' "$T/err" && return 0
        fail "$what: exit 2 with $lines lines: $(head -3 "$T/err")" ;;
    124|137)
        fail "$what: hung (killed by the timeout)" ;;
    *)
        fail "$what: exit $dmg_rc: $(head -3 "$T/err")" ;;
    esac
}

# dmg_all_commands FILE WHAT [RC]: dump, stats and info each sane (and with
# exit status RC when given)
dmg_all_commands() {
    local f=$1 what=$2 want=${3:-} cmd
    for cmd in dump stats info; do
        dmg_run "$cmd" "$f"
        dmg_sane "$what: $cmd" || return 1
        if [ -n "$want" ] && [ "$dmg_rc" != "$want" ]; then
            fail "$what: $cmd exit $dmg_rc, want $want: $(cat "$T/err")"
            return 1
        fi
    done
}

# dmg_prefix PART FULL: PART's lines are the first lines of FULL, per vCPU
dmg_prefix() {
    local part=$1 full=$2 v n
    if [ -s "$part" ] && [ "$(tail -c 1 "$part" | od -An -c | tr -d ' ')" != '\n' ]; then
        fail "$part does not end with a whole line"
        return 1
    fi
    for v in $(cut -d, -f1 "$full" | sort -un); do
        grep "^$v, " "$part" > "$T/p.v" || true
        grep "^$v, " "$full" > "$T/f.v"
        n=$(wc -l < "$T/p.v")
        cmp -s "$T/p.v" <(head -n "$n" "$T/f.v") || {
            fail "vCPU $v: the $n lines are not the first $n of the full dump"
            diff "$T/p.v" <(head -n "$n" "$T/f.v") | head -4 | sed 's/^/    /'
            return 1
        }
    done
}

# dmg_flip FILE OFFSET MASK: xor the byte at OFFSET with MASK
dmg_flip() {
    perl -e 'open(my $f, "+<", $ARGV[0]) or die; binmode $f;
             seek($f, $ARGV[1], 0); read($f, my $b, 1) == 1 or exit 0;
             seek($f, $ARGV[1], 0); print $f chr(ord($b) ^ $ARGV[2]);' "$@"
}

# ---- not a trace at all -------------------------------------------------

test_damage_empty_file() {
    : > "$T/empty.bin"
    dmg_all_commands "$T/empty.bin" "empty file" 2 || return 1
    grep -q "offset 0x0: empty file" "$T/err" || fail "message: $(cat "$T/err")"
}

test_damage_missing_file_is_io_error() {
    local cmd
    for cmd in dump stats info; do
        dmg_run "$cmd" "$T/no-such.bin"
        [ "$dmg_rc" -eq 3 ] || fail "$cmd: exit $dmg_rc, want 3" || return 1
        grep -q "^execlog: $T/no-such.bin: cannot open: No such file" "$T/err" \
            || fail "$cmd: message: $(cat "$T/err")" || return 1
    done
}

test_damage_unreadable_file_is_io_error() {
    local cmd
    mkdir -p "$T/adir"
    "$DMG_MK" --insns 20 "$T/locked.bin" || fail "mktrace failed" || return 1
    chmod 000 "$T/locked.bin"
    for cmd in dump stats info; do
        dmg_run "$cmd" "$T/adir"
        [ "$dmg_rc" -eq 3 ] || fail "$cmd on a directory: exit $dmg_rc" || return 1
        grep -q "^execlog: $T/adir: cannot read: Is a directory" "$T/err" \
            || fail "$cmd: message: $(cat "$T/err")" || return 1
        if [ "$(id -u)" -ne 0 ]; then       # root reads anything
            dmg_run "$cmd" "$T/locked.bin"
            [ "$dmg_rc" -eq 3 ] || fail "$cmd on a mode 000 file: exit $dmg_rc" || return 1
            grep -q "^execlog: $T/locked.bin: cannot open: Permission denied" "$T/err" \
                || fail "$cmd: message: $(cat "$T/err")" || return 1
        fi
    done
    chmod 644 "$T/locked.bin"
}

test_damage_random_bytes() {
    local n
    for n in 1 7 63 64 100 4095 4096 5000 20000; do
        head -c "$n" /dev/urandom > "$T/rnd.bin"
        dmg_all_commands "$T/rnd.bin" "$n random bytes" 2 || return 1
    done
    # a good header followed by garbage
    "$DMG_MK" --insns 300 "$T/good.bin" || fail "mktrace failed" || return 1
    head -c 4096 "$T/good.bin" > "$T/rnd.bin"
    head -c 20000 /dev/urandom >> "$T/rnd.bin"
    dmg_all_commands "$T/rnd.bin" "header + garbage" || return 1
    # a chunk magic followed by garbage, at every chunk
    head -c 4096 "$T/good.bin" > "$T/rnd.bin"
    for n in 1 2 3; do
        printf 'ELCK' >> "$T/rnd.bin"
        head -c 4092 /dev/urandom >> "$T/rnd.bin"
    done
    dmg_all_commands "$T/rnd.bin" "chunk magics + garbage"
}

test_damage_future_version_is_refused() {
    local cmd
    "$DMG_MK" --insns 50 --min-reader 3 "$T/v2.bin" || fail "mktrace failed" || return 1
    for cmd in dump stats info; do
        dmg_run "$cmd" "$T/v2.bin"
        [ "$dmg_rc" -eq 2 ] || fail "$cmd: exit $dmg_rc" || return 1
        grep -qx "execlog: $T/v2.bin: offset 0xa: written for reader version 3; this reader knows up to 2" \
            "$T/err" || fail "$cmd: message: $(cat "$T/err")" || return 1
    done
}

# ---- intact and cut-off traces ------------------------------------------

test_damage_intact_traces_dump_as_written() {
    local opts seed
    for opts in "" "--system" "--zstd" "--zstd-static --system" \
                "--vcpus 4 --chunk-size 4096" "--vcpus 1 --insns 20000 --static 2000"; do
        for seed in 1 2; do
            "$DMG_MK" $opts --seed $seed --text "$T/want.txt" "$T/t.bin" \
                || fail "mktrace $opts failed" || return 1
            dmg_all_commands "$T/t.bin" "mktrace $opts --seed $seed" 0 || return 1
            dmg_run dump "$T/t.bin"
            cmp -s "$T/out" "$T/want.txt" \
                || fail "mktrace $opts --seed $seed: dump differs from the writer's text" || return 1
        done
    done
}

test_damage_cut_off_trace_is_not_damage() {
    local opts
    for opts in "" "--system --vcpus 3" "--chunk-size 4096 --vcpus 2"; do
        "$DMG_MK" $opts --cut --insns 3000 --text "$T/want.txt" "$T/cut.bin" \
            || fail "mktrace failed" || return 1
        dmg_all_commands "$T/cut.bin" "cut-off trace $opts" 0 || return 1
        dmg_run dump "$T/cut.bin"
        cmp -s "$T/out" "$T/want.txt" || fail "$opts: dump is not every record written" || return 1
        grep -q "trace was cut off at offset 0x[0-9a-f]*: .* was being written when recording stopped" \
            "$T/err" || fail "$opts: note: $(cat "$T/err")" || return 1
        dmg_run info "$T/cut.bin"
        grep -q '^complete: no (cut off at offset 0x' "$T/out" \
            || fail "info: $(grep complete "$T/out")" || return 1
    done
    # compressed: the chunks still in memory are lost; what is sealed reads
    "$DMG_MK" --zstd --cut --insns 20000 --chunk-size 4096 "$T/cutz.bin" \
        || fail "mktrace failed" || return 1
    dmg_all_commands "$T/cutz.bin" "cut-off compressed trace" 0
}

# Space claimed for a chunk that QEMU died before writing (zeros): a reader
# of a cut-off trace goes on past it; in a complete trace it is damage.
# dmg_insert_zeros IN OUT AT: OUT is IN with two zero blocks at offset AT
dmg_insert_zeros() {
    { head -c "$3" "$1"; head -c 8192 /dev/zero; tail -c +$(( $3 + 1 )) "$1"; } > "$2"
}
test_damage_unwritten_slot_in_cut_off_trace() {
    "$DMG_MK" --cut --vcpus 2 --insns 3000 --chunk-size 4096 --text "$T/want.txt" "$T/cut.bin" \
        || fail "mktrace failed" || return 1
    dmg_insert_zeros "$T/cut.bin" "$T/gap.bin" $(( 3 * 4096 ))
    dmg_all_commands "$T/gap.bin" "cut-off trace with an unwritten slot" 0 || return 1
    dmg_run dump "$T/gap.bin"
    cmp -s "$T/out" "$T/want.txt" || fail "dump does not read past the unwritten slot" || return 1
    "$DMG_MK" --vcpus 2 --insns 3000 --chunk-size 4096 "$T/whole.bin" || fail "mktrace failed" || return 1
    dmg_insert_zeros "$T/whole.bin" "$T/gap.bin" $(( 3 * 4096 ))
    dmg_all_commands "$T/gap.bin" "complete trace with zeros inside" 2
}

# ---- truncated traces ---------------------------------------------------

# dmg_truncations TRACE RC: cut TRACE at every chunk boundary and at points
# inside chunks and the header; each is sane, exits RC (for a cut inside
# the header: 2), and dumps a prefix of the whole trace's dump
dmg_truncations() {
    local f=$1 want=$2 size off cuts=() w
    size=$(stat -c %s "$f")
    dmg_run dump "$f"
    [ "$dmg_rc" -eq 0 ] || fail "the whole trace: exit $dmg_rc" || return 1
    cp "$T/out" "$T/full.txt"
    cuts=(0 1 8 12 63 64 100 4095)
    for ((off = 4096; off < size; off += 4096)); do
        cuts+=($off $((off + 1)) $((off + 31)) $((off + 32)) $((off + 33)) $((off + 777)) $((off + 2500)) $((off + 4095)))
    done
    for off in "${cuts[@]}"; do
        [ "$off" -lt "$size" ] || continue
        head -c "$off" "$f" > "$T/trunc.bin"
        w=$want
        [ "$off" -lt 4096 ] && w=2
        dmg_all_commands "$T/trunc.bin" "cut at $off of $size" "$w" || return 1
        dmg_run dump "$T/trunc.bin"
        dmg_prefix "$T/out" "$T/full.txt" || fail "cut at $off" || return 1
    done
}

test_damage_truncated_complete_trace() {
    "$DMG_MK" --vcpus 2 --insns 1500 --chunk-size 4096 "$T/t.bin" || fail "mktrace failed" || return 1
    dmg_truncations "$T/t.bin" 2 || return 1
    # the message says where the file ends
    head -c 12288 "$T/t.bin" > "$T/trunc.bin"
    dmg_run dump "$T/trunc.bin"
    grep -q "offset 0x3000: .*truncated" "$T/err" || fail "message: $(cat "$T/err")"
}

test_damage_truncated_system_trace() {
    "$DMG_MK" --system --vcpus 3 --insns 800 --chunk-size 4096 --seed 5 "$T/t.bin" \
        || fail "mktrace failed" || return 1
    dmg_truncations "$T/t.bin" 2
}

test_damage_truncated_compressed_trace() {
    "$DMG_MK" --zstd --vcpus 2 --insns 4000 --chunk-size 4096 --seed 3 "$T/t.bin" \
        || fail "mktrace failed" || return 1
    dmg_truncations "$T/t.bin" 2
}

test_damage_truncated_cut_off_trace() {
    local size off
    # cut off while recording: at a chunk boundary it is just cut off more
    "$DMG_MK" --cut --vcpus 2 --insns 1500 --chunk-size 4096 "$T/t.bin" \
        || fail "mktrace failed" || return 1
    size=$(stat -c %s "$T/t.bin")
    dmg_run dump "$T/t.bin"
    cp "$T/out" "$T/full.txt"
    for ((off = 4096; off < size; off += 4096)); do
        head -c "$off" "$T/t.bin" > "$T/trunc.bin"
        dmg_all_commands "$T/trunc.bin" "cut at $off" 0 || return 1
        dmg_run dump "$T/trunc.bin"
        dmg_prefix "$T/out" "$T/full.txt" || fail "cut at $off" || return 1
        # inside a chunk: cut off or damaged, never worse
        head -c $((off + 1000)) "$T/t.bin" > "$T/trunc.bin"
        dmg_all_commands "$T/trunc.bin" "cut at $((off + 1000))" || return 1
        dmg_run dump "$T/trunc.bin"
        dmg_prefix "$T/out" "$T/full.txt" || fail "cut at $((off + 1000))" || return 1
    done
}

# ---- bit flips ------------------------------------------------------------

# dmg_flips TRACE: flip bits at many offsets (header fields, every chunk
# header, records); each result is sane, as dmg_sane says (one process
# per command run: tests/dmgflips.py)
dmg_flips() {
    tests/dmgflips.py "$1" "$DMG_EL" "$DMG_VLIMIT" "$T/flip.bin" > "$T/flips" 2>&1 \
        || fail "$(head -3 "$T/flips")"
}

test_damage_bit_flips() {
    "$DMG_MK" --system --vcpus 2 --insns 400 --chunk-size 4096 --seed 9 "$T/t.bin" \
        || fail "mktrace failed" || return 1
    dmg_flips "$T/t.bin"
}

test_damage_bit_flips_compressed() {
    "$DMG_MK" --zstd-static --vcpus 2 --insns 2000 --chunk-size 4096 --seed 10 "$T/t.bin" \
        || fail "mktrace failed" || return 1
    dmg_flips "$T/t.bin"
}

test_damage_bit_flips_cut_off() {
    "$DMG_MK" --cut --vcpus 2 --insns 400 --chunk-size 4096 --seed 11 "$T/t.bin" \
        || fail "mktrace failed" || return 1
    dmg_flips "$T/t.bin"
}

# A flipped count or delta in a complete trace's records is found: the
# EXIT record's totals no longer match.
test_damage_bad_record_names_its_offset() {
    local off
    "$DMG_MK" --vcpus 1 --insns 300 --chunk-size 4096 "$T/t.bin" || fail "mktrace failed" || return 1
    # vCPU 0's first chunk is at 0x2000: VCPU record, then the first BLOCK
    # (kind, one-byte tb delta, u16 count); make its count huge
    [ "$(od -An -tx1 -j $((0x2020)) -N 2 "$T/t.bin" | tr -d ' ')" = 0501 ] \
        || fail "unexpected layout: $(od -An -tx1 -j $((0x2020)) -N 4 "$T/t.bin")" || return 1
    dmg_flip "$T/t.bin" $((0x2024)) 255
    dmg_run dump "$T/t.bin"
    [ "$dmg_rc" -eq 2 ] || fail "exit $dmg_rc" || return 1
    grep -qx "execlog: $T/t.bin: offset 0x2021: BLOCK of [0-9]* instructions of TB 0, which has [0-9]*" \
        "$T/err" || fail "message: $(cat "$T/err")"
}

# ---- sizes declared by the file ----------------------------------------------

# The hostile inputs of the corpus (their messages are in errors.tsv, run
# under the address space limit) are what mktrace --hostile writes.
test_damage_hostile_corpus_is_mktraces() {
    local k
    for k in huge-chunk big-raw far-vcpu far-device short-slot; do
        "$DMG_MK" --hostile "$k" "$T/h.bin" || fail "mktrace --hostile $k failed" || return 1
        cmp -s "$T/h.bin" "tests/fuzz/corpus/hostile-$k.bin" \
            || fail "tests/fuzz/corpus/hostile-$k.bin is not mktrace --hostile $k" || return 1
        dmg_all_commands "$T/h.bin" "hostile $k" || return 1
    done
}

# A 40 KiB file whose header declares 1 GiB chunks, and a chunk that
# decompresses to as much: refused, in little memory.
test_damage_huge_declared_chunk_stays_small() {
    local cmd
    "$DMG_MK" --hostile huge-chunk "$T/h.bin" || fail "mktrace failed" || return 1
    for cmd in dump stats info; do
        dmg_run "$cmd" "$T/h.bin"
        [ "$dmg_rc" -eq 2 ] || fail "$cmd: exit $dmg_rc: $(cat "$T/err")" || return 1
        grep -qx "execlog: $T/h.bin: offset 0x10: bad chunk size 1073741824 (a multiple of 4096 up to 1 MiB)" \
            "$T/err" || fail "$cmd: message: $(cat "$T/err")" || return 1
    done
}

# ---- the file changing under a reader ---------------------------------------

# dmg_stalled_dump TRACE ACTION...: `execlog dump TRACE` into a pipe that
# is read one line, then left full while ACTION runs (the reader is
# stalled in the middle of its first chunk), then drained. Exit status in
# $dmg_rc, stderr in $T/err, the bytes dumped in $dmg_bytes (their lines
# in $T/lines), ACTION's exit status in $dmg_action_rc.
dmg_stalled_dump() {
    local f=$1; shift
    { timeout 60 "$DMG_EL" dump "$f" 2>"$T/err"; echo $? > "$T/rc"; } | {
        read -r _
        "$@"
        echo $? > "$T/action_rc"
        wc -lc > "$T/bytes"
    }
    read -r dmg_lines dmg_bytes < "$T/bytes"
    echo $((dmg_lines + 1)) > "$T/lines"
    dmg_rc=$(cat "$T/rc")
    dmg_action_rc=$(cat "$T/action_rc")
}

# A reader holds no lock: while one reads a cut-off trace, a recording
# into the same path could take the file's lock (it is refused while the
# lock is held).
test_damage_reader_holds_no_lock() {
    "$DMG_MK" --cut --vcpus 1 --insns 200000 "$T/cut.bin" || fail "mktrace failed" || return 1
    dmg_stalled_dump "$T/cut.bin" flock -n -x "$T/cut.bin" true
    [ "$dmg_action_rc" -eq 0 ] || fail "the trace was locked while being read" || return 1
    [ "$dmg_rc" -eq 0 ] || fail "dump: exit $dmg_rc: $(cat "$T/err")" || return 1
    # and a trace whose writer holds the lock still says so
    flock -x "$T/cut.bin" sh -c "exec \"$DMG_EL\" info \"$T/cut.bin\"" > "$T/info" 2>&1
    grep -q '^complete: no (still being written; so far at offset 0x' "$T/info" \
        || fail "info of a locked trace: $(tail -1 "$T/info")" || return 1
    "$DMG_EL" info "$T/cut.bin" > "$T/info" 2>&1
    grep -q '^complete: no (cut off at offset 0x' "$T/info" \
        || fail "info of the unlocked trace: $(tail -1 "$T/info")"
}

# A recorded trace truncated in place while `execlog dump` reads it (as
# `: > t.bin` does, or a writer that truncates before writing anew): a
# message with the offset where the file now ends and exit 2, never a
# signal (a reader of a mapping dies of SIGBUS).
test_damage_trace_truncated_while_read() {
    local size
    timeout "$TIMEOUT" qemu-aarch64 -plugin "$(ours v1),format=bin,outfile=$T/big.bin" \
        "$G/aarch64/workload" >/dev/null 2>&1 || fail "QEMU failed" || return 1
    size=$(stat -c %s "$T/big.bin")
    [ "$size" -gt $((4 << 20)) ] || fail "the trace has only $size bytes" || return 1
    dmg_stalled_dump "$T/big.bin" truncate -s 0 "$T/big.bin"
    [ "$dmg_rc" -eq 2 ] || fail "dump: exit $dmg_rc: $(cat "$T/err")" || return 1
    [ "$(wc -l < "$T/err")" -eq 1 ] || fail "dump said: $(head -3 "$T/err")" || return 1
    grep -q "^execlog: $T/big.bin: offset 0x[0-9a-f]*: the file ends at offset 0x[0-9a-f]*, but had $size bytes when opened (it was truncated while being read)$" \
        "$T/err" || fail "message: $(cat "$T/err")" || return 1
    [ "$dmg_bytes" -gt 0 ] || fail "nothing was dumped before the message"
}

# A new recording into the path of a trace being read: it is not refused,
# and the reader either goes on reading the old file to its end (a writer
# that replaces the file) or says where it found the file changed under it
# (one that truncates it in place), exit 0 or 2; never a signal, and never
# the new recording's bytes taken for the old trace's.
test_damage_trace_rerecorded_while_read() {
    local n
    timeout "$TIMEOUT" qemu-aarch64 -plugin "$(ours v1),format=bin,outfile=$T/big.bin" \
        "$G/aarch64/workload" >/dev/null 2>&1 || fail "QEMU failed" || return 1
    n=$("$DMG_EL" stats "$T/big.bin" | awk -F': ' '$1 == "instructions" { print $2 }')
    dmg_stalled_dump "$T/big.bin" sh -c "timeout $TIMEOUT qemu-aarch64 \
        -plugin $(ours v1),format=bin,outfile=$T/big.bin $G/aarch64/basic >/dev/null"
    [ "$dmg_action_rc" -eq 0 ] || fail "the new recording failed" || return 1
    dmg_sane "dump of a trace recorded anew while read" || return 1
    # read to the end: every line of the old trace; or stopped where the
    # file was found changed (not misread as damage of the old trace)
    if [ "$dmg_rc" -eq 0 ]; then
        [ "$(cat "$T/lines")" -eq "$n" ] \
            || fail "exit 0 after $(cat "$T/lines") lines of $n" || return 1
    else
        grep -Eq '(truncated|changed) while being read' "$T/err" \
            || fail "message: $(cat "$T/err")" || return 1
    fi
    "$DMG_EL" info "$T/big.bin" | grep -q '^complete: yes$' \
        || fail "the new recording is not complete"
}

# ---- usage ------------------------------------------------------------------

test_damage_usage_errors_exit_1() {
    local args
    "$DMG_MK" --insns 50 "$T/t.bin" || fail "mktrace failed" || return 1
    for args in "" "frobnicate $T/t.bin" "dump" "dump --format xml $T/t.bin" \
                "dump --vcpu x $T/t.bin" "dump --vcpu 7 $T/t.bin" "dump --pc 9-3 $T/t.bin" \
                "dump --count $T/t.bin" "dump --bogus $T/t.bin" "stats" "info a b" \
                "dump $T/t.bin $T/t.bin"; do
        # shellcheck disable=SC2086
        timeout 10 "$DMG_EL" $args >/dev/null 2>"$T/err" </dev/null
        dmg_rc=$?
        [ "$dmg_rc" -eq 1 ] || fail "'execlog $args': exit $dmg_rc" || return 1
        [ -s "$T/err" ] || fail "'execlog $args': no message" || return 1
    done
    for args in "--help" "dump --help" "stats --help" "info --help" "help dump"; do
        # shellcheck disable=SC2086
        timeout 10 "$DMG_EL" $args >"$T/out" 2>&1 </dev/null \
            || fail "'execlog $args' failed" || return 1
        grep -q "^Usage: execlog" "$T/out" || fail "'execlog $args': no usage" || return 1
    done
    grep -q "^  3  I/O error" <("$DMG_EL" --help) || fail "--help lacks the exit codes"
}

# ---- the fuzz corpus ----------------------------------------------------------

test_damage_fuzz_corpus_replays() {
    local n
    n=$(ls tests/fuzz/corpus | wc -l)
    [ "$n" -ge 10 ] || fail "only $n corpus files" || return 1
    ( ulimit -v "$DMG_VLIMIT" 2>/dev/null
      exec timeout 120 "$B/fuzz-replay" tests/fuzz/corpus ) > "$T/out" 2>&1 \
        || fail "fuzz-replay: exit $?: $(tail -3 "$T/out")" || return 1
    grep -q "^fuzz-replay: $n inputs run" "$T/out" || fail "$(cat "$T/out")" || return 1
    # and the tool on each
    for f in tests/fuzz/corpus/*; do
        dmg_all_commands "$f" "$f" || return 1
    done
}

# ---- golden files (tests/golden) ------------------------------------------------
# Traces made by mktrace, with the text and totals mktrace computed from its
# simulation (*.txt, *.stats), and the messages for damaged copies
# (errors.tsv, read by a person when it changes).

test_damage_golden_traces() {
    local f base
    for f in tests/golden/*.bin; do
        base=${f%.bin}
        dmg_run dump "$f"
        dmg_sane "$f" || return 1
        cmp -s "$T/out" "$base.txt" || fail "$f: dump differs from $base.txt" || return 1
        dmg_run stats "$f"
        head -n "$(wc -l < "$base.stats")" "$T/out" | cmp -s - "$base.stats" \
            || fail "$f: stats differ from $base.stats: $(head -5 "$T/out")" || return 1
    done
}

test_damage_golden_messages() {
    local src edit cmd rc msg o m got
    while IFS=$'\t' read -r src edit cmd rc msg; do
        case $src in '#'*|'') continue ;; esac
        cp "tests/golden/$src" "$T/g.bin"
        case $edit in
        truncate:*) truncate -s "${edit#truncate:}" "$T/g.bin" ;;
        flip:*) IFS=: read -r _ o m <<< "$edit"; dmg_flip "$T/g.bin" "$o" "$m" ;;
        esac
        # shellcheck disable=SC2086  # COMMAND may carry options
        dmg_run $cmd "$T/g.bin"
        got=$(sed "s|$T/g.bin|FILE|" "$T/err")
        [ "$dmg_rc" = "$rc" ] && [ "$got" = "$msg" ] && continue
        fail "$src $edit $cmd: exit $dmg_rc, said: $got"
        fail "  want exit $rc: $msg"
        return 1
    done < tests/golden/errors.tsv
}

# csv and jsonl carry every field: rebuilt into text lines, they are the
# text dump (tests/golden/formats.py parses them with Python's own csv and
# json modules)
test_damage_csv_and_jsonl_carry_every_field() {
    local fmt opts
    command -v python3 >/dev/null || { skip "no python3"; return; }
    for opts in "--system --vcpus 2" "--vcpus 1 --static 3000"; do
        "$DMG_MK" $opts --insns 6000 --text "$T/want.txt" "$T/t.bin" \
            || fail "mktrace failed" || return 1
        for fmt in csv jsonl; do
            dmg_run dump --format "$fmt" "$T/t.bin"
            [ "$dmg_rc" -eq 0 ] || fail "$fmt: exit $dmg_rc" || return 1
            python3 tests/golden/formats.py "$fmt" < "$T/out" > "$T/back.txt" \
                || fail "$fmt: does not parse" || return 1
            cmp -s "$T/back.txt" "$T/want.txt" || fail "$opts: $fmt differs from text" || return 1
        done
    done
}

# --vcpu, --from, --count and --pc select lines of the full dump
test_damage_dump_filters() {
    "$DMG_MK" --vcpus 3 --insns 2000 --text "$T/want.txt" "$T/t.bin" \
        || fail "mktrace failed" || return 1
    dmg_run dump --vcpu 1 "$T/t.bin"
    cmp -s "$T/out" <(grep '^1, ' "$T/want.txt") || fail "--vcpu 1" || return 1
    dmg_run dump --vcpu 2 --from 100 --count 25 "$T/t.bin"
    cmp -s "$T/out" <(grep '^2, ' "$T/want.txt" | sed -n '101,125p') \
        || fail "--vcpu 2 --from 100 --count 25" || return 1
    local pc
    pc=$(sed -n 500p "$T/want.txt" | cut -d' ' -f2 | tr -d ,)
    dmg_run dump --pc "$pc" "$T/t.bin"
    cmp -s "$T/out" <(grep "^[0-9]*, $pc, " "$T/want.txt") || fail "--pc $pc" || return 1
    dmg_run dump --pc "$pc-$(printf '0x%x' $((pc + 64)))" --count 3 "$T/t.bin"
    [ "$(wc -l < "$T/out")" -le 9 ] || fail "--count is per vCPU" || return 1
    [ -s "$T/out" ] || fail "--pc range printed nothing" || return 1
    local v a
    while read -r v a _; do
        a=${a%,}
        [ $((a)) -ge $((pc)) ] && [ $((a)) -lt $((pc + 64)) ] \
            || fail "--pc range let $a through" || return 1
    done < "$T/out"
}

# stats totals are the writer's
test_damage_stats_totals() {
    "$DMG_MK" --system --vcpus 3 --insns 20000 --static 2000 --stats "$T/want" "$T/t.bin" \
        || fail "mktrace failed" || return 1
    dmg_run stats "$T/t.bin"
    [ "$dmg_rc" -eq 0 ] || fail "exit $dmg_rc" || return 1
    head -n "$(wc -l < "$T/want")" "$T/out" | cmp -s - "$T/want" \
        || fail "$(diff <(head -n "$(wc -l < "$T/want")" "$T/out") "$T/want" | head -4)" || return 1
    grep -q '^hottest instructions:$' "$T/out" && grep -q '^hottest memory addresses:$' "$T/out" \
        && grep -q '^instruction mix:$' "$T/out" || fail "tables missing"
}
