# SPDX-License-Identifier: GPL-2.0-or-later
# dump and stats on several threads (cli/parallel.c): a version-2 trace's
# vCPU is decoded in ranges at its chunks' starts, the output put back in
# order. What they print, say and exit with is exactly what one cursor
# gives (EXECLOG_THREADS=1, the sequential way), and the text is upstream
# execlog's log of the same run; on damaged traces too, where the
# parallel way hands over to the sequential one at the damage.
# EXECLOG_RANGE_MIN=1 splits at every chunk start, so that small traces
# have many ranges.

EL=$B/execlog
PAR_MK=$B/mktrace

# par_same WHAT ARGS...: execlog ARGS gives the same stdout, stderr and
# exit code on 2 and 3 threads as on 1
par_same() {
    local what=$1 rc1 rc2 n; shift
    EXECLOG_THREADS=1 "$EL" "$@" > "$T/seq.out" 2> "$T/seq.err"
    rc1=$?
    for n in 2 3; do
        EXECLOG_THREADS=$n EXECLOG_RANGE_MIN=1 "$EL" "$@" > "$T/par.out" 2> "$T/par.err"
        rc2=$?
        [ "$rc1" = "$rc2" ] || fail "$what: $* exits $rc2 on $n threads, $rc1 on 1" || return 1
        cmp -s "$T/seq.out" "$T/par.out" \
            || fail "$what: $* prints other output on $n threads ($(cmp "$T/seq.out" "$T/par.out" 2>&1 | head -1))" \
            || return 1
        cmp -s "$T/seq.err" "$T/par.err" \
            || fail "$what: $* says '$(head -c 200 "$T/par.err")' on $n threads, '$(head -c 200 "$T/seq.err")' on 1" \
            || return 1
    done
}

# par_all WHAT TRACE: every command and option dump and stats split for
par_all() {
    local what=$1 f=$2 a
    for a in "dump" "dump --format csv" "dump --format jsonl" "dump --bytes" \
             "dump --from 1000" "dump --from 12345" "dump --vcpu 1" \
             "dump --pc 0x400000-0x400900" "dump --count 100000" "stats"; do
        # shellcheck disable=SC2086
        par_same "$what" $a "$f" || return 1
    done
}

# the trace has ranges: more than one vCPU chunk with a block start
par_has_ranges() {
    [ "$("$EL" info "$1" | sed -n 's/^chunks: //p')" -gt 3 ] \
        || fail "$1 has too few chunks to split" || return 1
}

# real QEMU 7.2 user mode, several chunks: the text is upstream's log
par_real() {
    local z=${1:+,compress=zstd}
    timeout "$TIMEOUT" qemu-aarch64 -d plugin -D "$T/up.log" -plugin "$(upstream v1)" \
        -plugin "$(ours v1),format=bin,outfile=$T/t.bin$z" \
        "$G/aarch64/workload" 1 >/dev/null 2>&1 || fail "QEMU failed" || return 1
    par_has_ranges "$T/t.bin" || return 1
    EXECLOG_THREADS=2 EXECLOG_RANGE_MIN=1 "$EL" dump "$T/t.bin" > "$T/par.log" \
        || fail "dump failed" || return 1
    cmp -s "$T/par.log" "$T/up.log" \
        || fail "dump on 2 threads is not upstream's log ($(cmp "$T/par.log" "$T/up.log" 2>&1 | head -1))" \
        || return 1
    par_all "workload$z" "$T/t.bin"
}
test_parallel_72_user_workload() { par_real; }
test_parallel_72_user_workload_zstd() { par_real zstd; }

# several vCPUs, system mode, zstd, many chunks each: mktrace's own
# expected dump (--text) and totals (--stats)
test_parallel_mktrace_vcpus() {
    local opts
    for opts in "--vcpus 4" "--vcpus 3 --system" "--vcpus 2 --system --zstd"; do
        # shellcheck disable=SC2086
        "$PAR_MK" $opts --insns 40000 --text "$T/want.txt" --stats "$T/want.stats" "$T/t.bin" \
            || fail "mktrace $opts failed" || return 1
        par_has_ranges "$T/t.bin" || return 1
        EXECLOG_THREADS=2 EXECLOG_RANGE_MIN=1 "$EL" dump "$T/t.bin" > "$T/par.log" \
            || fail "dump failed ($opts)" || return 1
        cmp -s "$T/par.log" "$T/want.txt" || fail "$opts: dump on 2 threads is not mktrace's text" \
            || return 1
        EXECLOG_THREADS=2 EXECLOG_RANGE_MIN=1 "$EL" stats "$T/t.bin" > "$T/par.stats" \
            || fail "stats failed ($opts)" || return 1
        while read -r line; do
            grep -qxF "$line" "$T/par.stats" || fail "$opts: stats on 2 threads lack '$line'" || return 1
        done < "$T/want.stats"
        par_all "mktrace $opts" "$T/t.bin" || return 1
    done
}

# a version-1 trace and a cut-off one are not split (the sequential way)
test_parallel_mktrace_v1_and_cut_off() {
    "$PAR_MK" --min-reader 1 --vcpus 2 --insns 20000 "$T/v1.bin" || fail "mktrace failed" || return 1
    par_all "version 1" "$T/v1.bin" || return 1
    "$PAR_MK" --cut --vcpus 2 --insns 20000 "$T/cut.bin" || fail "mktrace failed" || return 1
    par_all "cut off" "$T/cut.bin"
}

# damage in a middle chunk: the lines before it, the message, the exit
# code are the sequential way's; bytes flipped in chunk headers and
# records, and the file cut short
test_parallel_damage_is_the_sequential_way() {
    local f=$T/t.bin size off i mask n=0
    "$PAR_MK" --system --vcpus 2 --insns 6000 --chunk-size 4096 --seed 5 "$f" \
        || fail "mktrace failed" || return 1
    size=$(stat -c %s "$f")
    for ((off = 4 * 4096; off < size - 4096; off += 3 * 4096)); do
        for i in 4 8 16 24 25 32 33 40 100 700 2000; do
            for mask in 1 128; do
                cp "$f" "$T/flip.bin"
                printf "$(printf '\\%03o' $(( $(od -An -tu1 -j $((off + i)) -N1 "$f") ^ mask )))" |
                    dd of="$T/flip.bin" bs=1 seek=$((off + i)) conv=notrunc status=none
                par_same "byte $((off + i)) ^ $mask" dump "$T/flip.bin" || return 1
                par_same "byte $((off + i)) ^ $mask" stats "$T/flip.bin" || return 1
                [ "$(cat "$T/seq.err")" = "" ] || n=$((n + 1))
            done
        done
        head -c $((off + 1000)) "$f" > "$T/cut.bin"
        par_same "cut at $((off + 1000))" dump "$T/cut.bin" || return 1
        par_same "cut at $((off + 1000))" stats "$T/cut.bin" || return 1
    done
    [ "$n" -gt 20 ] || fail "only $n of the damaged traces were found damaged" || return 1
    echo "$n damaged traces"
}

# par_exit_stores TRACE VCPU: one more store in the vCPU's EXIT record (the
# last byte of its records, in its last chunk: uncompressed chunks only)
par_exit_stores() {
    /usr/bin/python3 - "$1" "$2" <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
want, off, last = int(sys.argv[2]), 4096, None
while off + 32 <= len(d) and d[off:off + 4] == b'ELCK':
    vcpu, flags, seq, slot, used = struct.unpack_from('<HHIII', d, off + 4)
    if vcpu == want and (last is None or seq > last[0]):
        last = (seq, off, used)
    off += slot
seq, off, used = last
end = off + 32 + used - 1
while d[end] == 0:
    end -= 1
assert d[end] < 0x7f
d[end] += 1
open(sys.argv[1], 'wb').write(d)
EOF
}

# an EXIT record whose stores are not the records': one cursor says so at
# the end of the vCPU, and the ranges' totals make the same check
test_parallel_exit_record_checked() {
    local v
    for v in 0 1; do
        "$PAR_MK" --system --vcpus 2 --insns 20000 --chunk-size 4096 --seed 6 "$T/t.bin" \
            || fail "mktrace failed" || return 1
        par_exit_stores "$T/t.bin" "$v" || fail "no EXIT record found" || return 1
        par_same "vCPU $v's EXIT" dump "$T/t.bin" || return 1
        grep -q "EXIT record says" "$T/seq.err" || fail "no EXIT message: $(cat "$T/seq.err")" || return 1
        par_same "vCPU $v's EXIT" stats "$T/t.bin" || return 1
    done
}
