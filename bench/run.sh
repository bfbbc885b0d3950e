#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/run.sh: what does tracing with execlog cost?  Times the bundled
# aarch64 workload under QEMU 7.2 user mode without a plugin, with QEMU's
# own contrib execlog (the reference) and with ours, on both of our output
# paths.  See bench/README.md for how to read the result.
#
# Environment:
#   BENCH_RUNS=5       timed runs per configuration; the median is reported
#   BENCH_RUNS_SLOW=3  timed runs of upstream execlog (10-15 s each)
#   BENCH_DIR=DIR      where traces go (default /tmp): a fresh subdirectory
#                      is made there and removed at exit
#   BENCH_LARGE=1      also run at scale 12 (~73M instructions), no upstream
#   BENCH_ONLY=text|bin|window  only the text section (vs upstream), only
#                      the binary-trace section (scale 12, ~73M instructions),
#                      or only bench/window.sh (start= that never fires)
#   QEMU=qemu-aarch64  the QEMU 7.2 user-mode emulator

set -euo pipefail
export LC_ALL=C         # '.' as the decimal point, in $EPOCHREALTIME too

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

QEMU=${QEMU:-qemu-aarch64}
GUEST=build/guests/aarch64/workload
OURS=build/libexeclog-v1.so
UPSTREAM=build/libupstream-execlog-v1.so
RUNS=${BENCH_RUNS:-5}
RUNS_SLOW=${BENCH_RUNS_SLOW:-3}
SETTLE=1                # seconds to pause (after sync) before each run
TARGET_VS_UPSTREAM=40   # at least this many times faster than upstream
TARGET_VS_PLAIN=12      # outfile= at most this many times plain QEMU

. "$(dirname "$0")/lib.sh"

for n in "$RUNS" "$RUNS_SLOW"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] ||
        die "BENCH_RUNS and BENCH_RUNS_SLOW must be positive integers"
done
command -v "$QEMU" >/dev/null || die "$QEMU not found (make setup installs it)"
for f in "$GUEST" "$OURS" "$UPSTREAM"; do
    [[ -e $f ]] || die "$f is missing: run 'make build guests' first"
done

# Traces go into a fresh directory, removed however we leave.
bench_workdir execlog-bench

# ---------------------------------------------------------------- helpers

# Arithmetic on decimals is awk's job; bash only does integers.
div() {         # div A B: A / B, with about three significant digits
    awk -v a="$1" -v b="$2" 'BEGIN { r = a / b
        printf(r >= 100 ? "%.0f" : r >= 10 ? "%.1f" : "%.2f", r) }'
}
secs()     { awk -v us="$1" 'BEGIN { printf "%.3f", us / 1e6 }'; }
per_sec()  { awk -v n="$1" -v us="$2" 'BEGIN { printf "%.2f", n / us }'; }
met() {         # met A OP B: "met" if A OP B holds (OP is >= or <=)
    awk -v a="$1" -v b="$3" "BEGIN { print (a $2 b) ? \"met\" : \"NOT met\" }"
}


free_mb() { df -Pk "$DIR" | awk 'NR == 2 { print int($4 / 1024) }'; }

declare -A LABEL=(
    [plain]="plain QEMU (no plugin)"
    [upstream]="upstream execlog, -d plugin -D"
    [ours_d]="ours, -d plugin -D"
    [ours_out]="ours, outfile="
)
declare -A SHORT=(
    [plain]="plain" [upstream]="upstream" [ours_d]="ours -D" [ours_out]="ours outfile="
)

# set_cmd CONFIG SCALE: the command line of one configuration, into CMD.
set_cmd() {
    case $1 in
    plain)    CMD=("$QEMU" "$GUEST" "$2") ;;
    upstream) CMD=("$QEMU" -plugin "$UPSTREAM" -d plugin -D "$TRACE" "$GUEST" "$2") ;;
    ours_d)   CMD=("$QEMU" -plugin "$OURS" -d plugin -D "$TRACE" "$GUEST" "$2") ;;
    ours_out) CMD=("$QEMU" -plugin "$OURS,outfile=$TRACE" "$GUEST" "$2") ;;
    esac
}

# Results of the current section: space-separated lists per configuration.
declare -A TIMES LINES
EXPECT=""               # the guest's output (its checksum line)

# run_one CONFIG SCALE: one timed run; adds to TIMES (µs) and LINES.
run_one() {
    local cfg=$1 scale=$2 t0 t1 us lines=0 out
    set_cmd "$cfg" "$scale"
    rm -f "$TRACE"
    sync
    sleep "$SETTLE"
    t0=$EPOCHREALTIME
    "${CMD[@]}" >"$DIR/stdout" 2>"$DIR/stderr" &
    QEMU_PID=$!
    if ! wait "$QEMU_PID"; then
        echo >&2
        echo "bench: this run failed: ${CMD[*]}" >&2
        head -n 20 "$DIR/stderr" >&2
        exit 1
    fi
    t1=$EPOCHREALTIME
    QEMU_PID=""
    us=$(( ${t1/./} - ${t0/./} ))

    out=$(<"$DIR/stdout")
    if [[ -z $EXPECT ]]; then
        EXPECT=$out
    elif [[ $out != "$EXPECT" ]]; then
        die "the guest printed '$out' under ${SHORT[$cfg]}, not '$EXPECT'"
    fi
    if [[ -s $DIR/stderr ]]; then
        echo >&2
        echo "bench: note: ${SHORT[$cfg]} wrote to stderr:" >&2
        head -n 5 "$DIR/stderr" >&2
    fi
    if [[ $cfg != plain ]]; then
        [[ -f $TRACE ]] || die "${SHORT[$cfg]} wrote no trace: ${CMD[*]}"
        lines=$(wc -l <"$TRACE")
        rm -f "$TRACE"
    fi
    TIMES[$cfg]+="$us "
    LINES[$cfg]+="$lines "
    printf '  %s %ss' "${SHORT[$cfg]}" "$(secs "$us")"
}

# run_section SCALE WITH_UPSTREAM(0/1) NEED_MB: runs, table and verdicts.
run_section() {
    local scale=$1 with_up=$2 need_mb=$3 cfg cfgs round runs n
    local -A med_us med_lines

    echo
    echo "== aarch64 workload, scale $scale, QEMU user mode =="
    if (( $(free_mb) < need_mb )); then
        echo "NOT RUN: not enough free space in $base: $(free_mb) MB free," \
             "about $need_mb MB needed for the traces."
        echo "Point BENCH_DIR at a file system with more room."
        STATUS=1
        return 0
    fi

    cfgs=(plain upstream ours_d ours_out)
    (( with_up )) || cfgs=(plain ours_d ours_out)
    TIMES=() LINES=() EXPECT=""

    echo "commands (in $ROOT; each trace is deleted right after its wc -l):"
    for cfg in "${cfgs[@]}"; do
        set_cmd "$cfg" "$scale"
        printf '  %-14s %s\n' "${SHORT[$cfg]}:" "${CMD[*]}"
    done
    (( with_up )) || echo "  (upstream execlog skipped here: it would take minutes per run)"

    # Configurations take turns, run by run, so disk noise hits all alike.
    for (( round = 1; round <= RUNS; round++ )); do
        printf 'run %d/%d:' "$round" "$RUNS"
        for cfg in "${cfgs[@]}"; do
            [[ $cfg == upstream ]] && (( round > RUNS_SLOW )) && continue
            run_one "$cfg" "$scale"
        done
        echo
    done
    echo "guest output: $EXPECT"

    for cfg in "${cfgs[@]}"; do
        # shellcheck disable=SC2086  # the lists are meant to be split
        med_us[$cfg]=$(median ${TIMES[$cfg]})
        # shellcheck disable=SC2086
        med_lines[$cfg]=$(median ${LINES[$cfg]})
    done

    echo
    printf '%-32s %4s %10s %13s %10s %9s %12s\n' configuration runs "median s" \
        "lines logged" "Mlines/s" "vs plain" "vs upstream"
    for cfg in plain upstream ours_d ours_out; do
        if [[ -z ${med_us[$cfg]:-} ]]; then
            printf '%-32s %s\n' "${LABEL[$cfg]}" "(skipped)"
            continue
        fi
        runs=$(wc -w <<<"${TIMES[$cfg]}")
        local lines=- rate=- vs_plain vs_up=-
        if [[ $cfg != plain ]]; then
            lines=${med_lines[$cfg]}
            rate=$(per_sec "$lines" "${med_us[$cfg]}")
        fi
        vs_plain="$(div "${med_us[$cfg]}" "${med_us[plain]}")x"
        if (( with_up )) && [[ $cfg != plain ]]; then
            vs_up="$(div "${med_us[upstream]}" "${med_us[$cfg]}")x"
        fi
        printf '%-32s %4s %10s %13s %10s %9s %12s\n' "${LABEL[$cfg]}" "$runs" \
            "$(secs "${med_us[$cfg]}")" "$lines" "$rate" "$vs_plain" "$vs_up"
    done
    echo

    # Every traced run must have logged the same number of lines.
    local all=() distinct
    for cfg in "${cfgs[@]}"; do
        # shellcheck disable=SC2206  # split on purpose
        [[ $cfg == plain ]] || all+=(${LINES[$cfg]})
    done
    distinct=$(printf '%s\n' "${all[@]}" | sort -u | wc -l)
    if (( distinct == 1 )); then
        echo "lines logged: the same in all ${#all[@]} traced runs (${all[0]})"
    else
        echo "WARNING: the traced runs did NOT log the same number of lines:"
        for cfg in "${cfgs[@]}"; do
            [[ $cfg == plain ]] || printf '  %-14s %s\n' "${SHORT[$cfg]}:" "${LINES[$cfg]}"
        done
    fi

    local up_d up_out plain_d plain_out
    plain_d=$(div "${med_us[ours_d]}" "${med_us[plain]}")
    plain_out=$(div "${med_us[ours_out]}" "${med_us[plain]}")
    if (( with_up )); then
        up_d=$(div "${med_us[upstream]}" "${med_us[ours_d]}")
        up_out=$(div "${med_us[upstream]}" "${med_us[ours_out]}")
        echo "ours -d plugin -D vs upstream: ${up_d}x faster"
        echo "ours outfile= vs upstream: ${up_out}x faster"
    fi
    echo "ours -d plugin -D vs plain QEMU: ${plain_d}x"
    echo "ours outfile= vs plain QEMU: ${plain_out}x"
    echo "targets:"
    if (( with_up )); then
        printf "  %-44s %7s  %s\n" ">= ${TARGET_VS_UPSTREAM}x faster than upstream, -d plugin -D:" \
            "${up_d}x" "$(met "$up_d" ">=" "$TARGET_VS_UPSTREAM")"
        printf "  %-44s %7s  %s\n" ">= ${TARGET_VS_UPSTREAM}x faster than upstream, outfile=:" \
            "${up_out}x" "$(met "$up_out" ">=" "$TARGET_VS_UPSTREAM")"
    else
        echo "  (the targets are set for scale 1; with no upstream runs here, only the"
        echo "  plain-QEMU ratio is checked, for reference)"
    fi
    printf "  %-44s %7s  %s\n" "<= ${TARGET_VS_PLAIN}x plain QEMU time, outfile=:" \
        "${plain_out}x" "$(met "$plain_out" "<=" "$TARGET_VS_PLAIN")"
}

# ------------------------------------------------ binary traces (format=bin)

COUNT=build/libcount-v1.so
FLOOR=build/libfloor-v1.so
EXECLOG=build/execlog
TARGET_BIN=3            # format=bin at most this many times plain QEMU
TARGET_ZSTD=4           # format=bin,compress=zstd likewise
TARGET_BYTES=4          # bytes per instruction, uncompressed
TARGET_DUMP=20          # execlog dump, million lines per second to a file

# timed CMD...: run CMD in the background (so traps fire), time it in µs
timed() {
    local t0 t1
    sync
    sleep "$SETTLE"
    t0=$EPOCHREALTIME
    "$@" >"$DIR/stdout" 2>"$DIR/stderr" &
    QEMU_PID=$!
    wait "$QEMU_PID" || { echo; echo "bench: failed: $*" >&2;
                          head -n 20 "$DIR/stderr" >&2; exit 1; }
    t1=$EPOCHREALTIME
    QEMU_PID=""
    US=$(( ${t1/./} - ${t0/./} ))
}

stat_of() { "$EXECLOG" stats "$1" | awk -F': ' -v k="$2" '$1 == k { print $2; exit }'; }

run_bin_section() {
    local scale=$1 round cfg
    local -A T=() SIZE=() INSNS=()
    local cfgs=(plain floor count bin zstd)
    local -A NAME=([plain]="plain QEMU (no plugin)"
                   [floor]="floor: format=bin's callbacks, empty"
                   [count]="counting plugin (callbacks only)"
                   [bin]="ours, format=bin"
                   [zstd]="ours, format=bin,compress=zstd")
    echo
    echo "== binary traces: aarch64 workload, scale $scale, QEMU user mode =="
    if (( $(free_mb) < 1024 )); then
        echo "NOT RUN: not enough free space in $base"; STATUS=1; return 0
    fi
    echo "commands:"
    echo "  plain: $QEMU $GUEST $scale"
    echo "  floor: $QEMU -plugin $FLOOR $GUEST $scale"
    echo "  count: $QEMU -plugin $COUNT,out=FILE $GUEST $scale"
    echo "  bin:   $QEMU -plugin $OURS,format=bin,outfile=TRACE $GUEST $scale"
    echo "  zstd:  $QEMU -plugin $OURS,format=bin,compress=zstd,outfile=TRACE $GUEST $scale"
    for (( round = 1; round <= RUNS; round++ )); do
        printf 'run %d/%d:' "$round" "$RUNS"
        for cfg in "${cfgs[@]}"; do
            rm -f "$TRACE"
            case $cfg in
            plain) timed "$QEMU" "$GUEST" "$scale" ;;
            floor) timed "$QEMU" -plugin "$FLOOR" "$GUEST" "$scale" ;;
            count) timed "$QEMU" -plugin "$COUNT,out=$DIR/count" "$GUEST" "$scale" ;;
            bin)   timed "$QEMU" -plugin "$OURS,format=bin,outfile=$TRACE" "$GUEST" "$scale" ;;
            zstd)  timed "$QEMU" -plugin "$OURS,format=bin,compress=zstd,outfile=$TRACE" \
                       "$GUEST" "$scale" ;;
            esac
            T[$cfg]+="$US "
            if [[ $cfg == bin || $cfg == zstd ]]; then
                SIZE[$cfg]=$(stat -c %s "$TRACE")
                INSNS[$cfg]=$(stat_of "$TRACE" instructions)
                rm -f "$TRACE"
            fi
            printf '  %s %ss' "$cfg" "$(secs "$US")"
        done
        echo
    done
    echo
    printf '%-36s %10s %13s %10s %10s %9s\n' configuration "median s" instructions \
        "trace MB" "bytes/insn" "vs plain"
    local -A M=()
    for cfg in "${cfgs[@]}"; do
        # shellcheck disable=SC2086
        M[$cfg]=$(median ${T[$cfg]})
    done
    for cfg in "${cfgs[@]}"; do
        local insns=- mb=- bpi=-
        if [[ -n ${SIZE[$cfg]:-} ]]; then
            insns=${INSNS[$cfg]}
            mb=$(awk -v b="${SIZE[$cfg]}" 'BEGIN { printf "%.1f", b / 1048576 }')
            bpi=$(awk -v b="${SIZE[$cfg]}" -v n="$insns" 'BEGIN { printf "%.2f", b / n }')
        elif [[ $cfg == count ]]; then
            insns=$(awk -F': ' '$1 == "instructions" { print $2 }' "$DIR/count")
        fi
        printf '%-36s %10s %13s %10s %10s %9s\n' "${NAME[$cfg]}" "$(secs "${M[$cfg]}")" \
            "$insns" "$mb" "$bpi" "$(div "${M[$cfg]}" "${M[plain]}")x"
    done
    local r_bin r_zstd bpi
    r_bin=$(div "${M[bin]}" "${M[plain]}")
    r_zstd=$(div "${M[zstd]}" "${M[plain]}")
    bpi=$(awk -v b="${SIZE[bin]}" -v n="${INSNS[bin]}" 'BEGIN { printf "%.2f", b / n }')
    echo
    echo "instrumentation alone: what format=bin registers (a callback per block and"
    echo "per access, an inline add per instruction), doing nothing, costs"
    echo "$(div "${M[floor]}" "${M[plain]}")x plain here; a callback per instruction and per access"
    echo "(the counting plugin, counting atomically) $(div "${M[count]}" "${M[plain]}")x."

    # execlog dump, to a file, of a scale-1 trace
    "$QEMU" -plugin "$OURS,format=bin,outfile=$TRACE" "$GUEST" 1 >/dev/null
    local dump_us lines rate
    local d=()
    for (( round = 1; round <= RUNS; round++ )); do
        # the last run's output goes before the clock starts: freeing a big
        # file's blocks (discard) is not the dump's cost
        rm -f "$DIR/stdout"
        timed "$EXECLOG" dump "$TRACE"
        d+=("$US")
    done
    # timed sends stdout to $DIR/stdout: that is the dump, a file
    lines=$(wc -l <"$DIR/stdout")
    rm -f "$DIR/stdout" "$TRACE"
    dump_us=$(median "${d[@]}")
    rate=$(per_sec "$lines" "$dump_us")
    echo "execlog dump of a scale-1 trace to a file: $lines lines in $(secs "$dump_us") s" \
         "(median of $RUNS): $rate Mlines/s"
    echo "targets:"
    printf "  %-44s %7s  %s\n" "format=bin <= ${TARGET_BIN}x plain QEMU:" "${r_bin}x" \
        "$(met "$r_bin" "<=" "$TARGET_BIN")"
    printf "  %-44s %7s  %s\n" "format=bin,compress=zstd <= ${TARGET_ZSTD}x plain:" "${r_zstd}x" \
        "$(met "$r_zstd" "<=" "$TARGET_ZSTD")"
    printf "  %-44s %7s  %s\n" "<= ${TARGET_BYTES} bytes/instruction uncompressed:" "$bpi" \
        "$(met "$bpi" "<=" "$TARGET_BYTES")"
    printf "  %-44s %7s  %s\n" "execlog dump >= ${TARGET_DUMP}M lines/s to a file:" "$rate" \
        "$(met "$rate" ">=" "$TARGET_DUMP")"
}

# ---------------------------------------------------------------- main

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo "execlog benchmark, $(date '+%Y-%m-%d %H:%M:%S %Z')"
echo "QEMU:     $("$QEMU" --version | head -n 1)"
echo "host:     ${cpu:-unknown CPU} ($(nproc) CPUs), $(uname -sr)"
echo "execlog:  git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(
    git diff --quiet HEAD -- plugin lib include 2>/dev/null || echo ' (plugin sources modified)')"
echo "traces:   $DIR ($(df -PT "$DIR" | awk 'NR == 2 { print $2 }'), $(free_mb) MB free)"
echo "load:     $(cut -d" " -f1-3 /proc/loadavg) (1, 5, 15 min; other work on the machine skews the times)"
echo "method:   wall time of the whole QEMU process, median of $RUNS runs" \
     "(upstream: $RUNS_SLOW); configurations interleaved run by run;" \
     "sync and a ${SETTLE} s pause before each run"

STATUS=0
if [[ ${BENCH_ONLY:-} != bin && ${BENCH_ONLY:-} != window ]]; then
    run_section 1 1 1024
fi
if [[ ${BENCH_ONLY:-} != text && ${BENCH_ONLY:-} != window ]]; then
    run_bin_section 12
fi
if [[ ${BENCH_ONLY:-} == "" || ${BENCH_ONLY} == window ]]; then
    echo
    bench/window.sh || STATUS=1     # what tracing costs while it is off
fi
if [[ ${BENCH_LARGE:-0} == 1 ]]; then
    run_section 12 0 5120
else
    echo
    echo "(BENCH_LARGE=1 adds the same at scale 12, ~73M instructions, without upstream)"
fi
echo
echo "benchmark took ${SECONDS} s; load average now $(cut -d" " -f1-3 /proc/loadavg)"
exit "$STATUS"
