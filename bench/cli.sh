#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Times `execlog dump` and `execlog stats` on a trace (issue 9's CLI
# targets): CPU time (user+sys) and wall time, medians of interleaved
# rounds, as lines/s and instructions/s, with `cat` of the same text to
# the same file system as the reference for the to-a-file case.
#
# Usage: bench/cli.sh TRACE [ROUNDS] [EXECLOG...]
#   TRACE     a trace of at least 70M instructions, e.g.
#             qemu-aarch64 -plugin build/libexeclog-v1.so,format=bin,outfile=w.bin \
#                 build/guests/aarch64/workload 12
#   ROUNDS    rounds (default 5); every configuration once per round
#   EXECLOG   the builds to time (default build/execlog); several: compared
# Environment: OUTDIR (default: the trace's directory) for the text file
# (about 45 bytes a line: 3.3 GB for 73M lines); EXECLOG_THREADS as for
# execlog (the worker threads; 1: the sequential way).
set -eu
trace=$1
rounds=${2:-5}
shift $(( $# >= 2 ? 2 : 1 ))
builds=("$@")
[ ${#builds[@]} -gt 0 ] || builds=(build/execlog)
outdir=${OUTDIR:-$(dirname "$trace")}
txt=$outdir/cli-bench.$$.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$txt" "$txt.cat"' EXIT

insns=$("${builds[0]}" info "$trace" | sed -n 's/^vcpu[0-9]*\.exit: \([0-9]*\) .*/\1/p' |
        awk '{ s += $1 } END { print s + 0 }')
[ "$insns" -gt 0 ] || { echo "cli.sh: $trace has no EXIT records" >&2; exit 1; }
"${builds[0]}" dump "$trace" > "$txt"
lines=$(wc -l < "$txt")
bytes=$(stat -c %s "$txt")

# one timed run: NAME CMD... (stdout goes where the command says)
run() {
    local name=$1; shift
    /usr/bin/time -f '%U %S %e' -o "$tmp/t" "$@"
    cat "$tmp/t" >> "$tmp/$name"
}

names=()
for ((r = 0; r < rounds; r++)); do
    i=0
    for b in "${builds[@]}"; do
        run "dump-null-$i" sh -c '"$1" dump "$2" > /dev/null' - "$b" "$trace"
        run "dump-file-$i" sh -c '"$1" dump "$2" > "$3"' - "$b" "$trace" "$txt.cat"
        run "stats-$i" sh -c '"$1" stats "$2" > /dev/null' - "$b" "$trace"
        i=$((i + 1))
    done
    run cat-file sh -c 'cat "$1" > "$2"' - "$txt" "$txt.cat"
    rm -f "$txt.cat"
done

# median of a column of numbers
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "trace: $trace ($insns instructions, $lines lines, $bytes bytes of text)"
echo "rounds: $rounds; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-14s %-28s %8s %8s %14s\n' what build cpu_s wall_s per_s_of_wall
report() {
    local name=$1 label=$2 n=$3 unit=$4 cpu wall
    cpu=$(awk '{ print $1 + $2 }' "$tmp/$name" | median)
    wall=$(awk '{ print $3 }' "$tmp/$name" | median)
    printf '%-14s %-28s %8.2f %8.2f %10.1fM %s\n' "${name%-*}" "$label" "$cpu" "$wall" \
        "$(awk -v n="$n" -v w="$wall" 'BEGIN { print (w > 0 ? n / w / 1e6 : 0) }')" "$unit"
}
i=0
for b in "${builds[@]}"; do
    report "dump-null-$i" "$b" "$lines" lines/s
    report "dump-file-$i" "$b" "$lines" lines/s
    report "stats-$i" "$b" "$insns" insns/s
    i=$((i + 1))
done
report cat-file cat "$lines" lines/s
