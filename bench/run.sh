#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/run.sh: what does recording with execlog cost, against plain QEMU
# and against the floor (bench/plugins/floor.c: the instrumentation the
# recorder registers, with callbacks that do nothing)?  The bundled aarch64
# workload (tests/guests/user/workload.c) with 1, 2 and 4 guest threads, at a
# short scale (1, ~6M instructions; 12, ~73M) and a long one (90, ~540M), on
# QEMU 7.2 user mode (API 1, libexeclog-v1.so) and QEMU 10.0 user mode
# (API 4, libexeclog-v4.so); then execlog dump and stats; then
# bench/window.sh.  bench/README.md says how to read the result.
#
# Environment:
#   BENCH_RUNS=5        rounds (configurations interleaved in each); medians
#   BENCH_RUNS_SLOW=3   rounds of upstream execlog (10-15 s a run)
#   BENCH_QUICK=1       for development: 1 round, scale 1 only, no upstream,
#                       no window section, dump and stats on scale-1 traces
#   BENCH_ONLY=LIST     sections, comma-separated: short (scale 1), medium
#                       (12), long (90), dump (execlog dump and stats),
#                       window (bench/window.sh), boot (bench/linux-boot.sh,
#                       which make bench runs after this); old names: text
#                       (= short), bin (= medium,long,dump)
#   BENCH_BUILDS="7.2 10.0"  BENCH_THREADS="1 2 4"  BENCH_LONG_SCALE=90
#   BENCH_UPSTREAM=auto|0|1  upstream execlog rows (auto: short section,
#                       one thread, not in quick mode; 1: with threads too)
#   BENCH_DUMP_FILE_SCALE=12  the trace dumped to a file (3.5 GB of text)
#   BENCH_SETTLE=1      seconds of pause (after sync) before each run
#   BENCH_DIR=DIR       where traces go (default $TMPDIR or /tmp): a fresh
#                       subdirectory, removed at exit
set -euo pipefail
export LC_ALL=C         # '.' as the decimal point, in $EPOCHREALTIME too

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/lib.sh
. bench/lib.sh

CACHE=${EXECLOG_CACHE:-$HOME/.cache/execlog}
Q72=${QEMU:-qemu-aarch64}
Q10=${QEMU10:-$CACHE/qemu-10.0-user/qemu-aarch64}
GUEST=build/guests/aarch64/workload
EXECLOG=build/execlog
QUICK=${BENCH_QUICK:-0}
RUNS=${BENCH_RUNS:-5}
RUNS_SLOW=${BENCH_RUNS_SLOW:-3}
if [[ $QUICK == 1 ]]; then
    RUNS=1 RUNS_SLOW=1
fi
BUILDS=${BENCH_BUILDS:-7.2 10.0}
THREADS=${BENCH_THREADS:-1 2 4}
LONG=${BENCH_LONG_SCALE:-90}
UPSTREAM=${BENCH_UPSTREAM:-auto}
DUMP_FILE_SCALE=${BENCH_DUMP_FILE_SCALE:-12}
SETTLE=${BENCH_SETTLE:-1}
REGS=reg=x0,reg=x1,reg=x2,reg=x3        # the reg= row's registers

# targets (issue 9)
T_BIN=1.5           # format=bin, times the floor
T_ZSTD=1.7          # format=bin,compress=zstd, times the floor
T_TEXT=2.5          # outfile= (text), times plain, single-threaded, scale 1
T_TEXT_BIN=2        # outfile= (text), times format=bin, with threads
T_DUMP=100          # execlog dump > /dev/null, million lines per second
T_STATS=200         # execlog stats, million instructions per second

for n in "$RUNS" "$RUNS_SLOW" "$LONG" "$DUMP_FILE_SCALE"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] ||
        die "BENCH_RUNS, BENCH_RUNS_SLOW and the scales must be positive integers"
done
(( RUNS_SLOW <= RUNS )) || RUNS_SLOW=$RUNS
[[ $UPSTREAM =~ ^(auto|0|1)$ ]] || die "BENCH_UPSTREAM must be auto, 0 or 1"
for t in $THREADS; do
    [[ $t =~ ^[1-8]$ ]] || die "BENCH_THREADS: $t is not 1 to 8"
done
for b in $BUILDS; do
    [[ $b == 7.2 || $b == 10.0 ]] || die "BENCH_BUILDS: $b is not 7.2 or 10.0"
done

# sections
only=${BENCH_ONLY:-}
for s in ${only//,/ }; do
    [[ $s =~ ^(short|medium|long|dump|window|boot|text|bin)$ ]] ||
        die "BENCH_ONLY: unknown section '$s' (known: short, medium, long, dump, window, boot; text, bin)"
done
ONLY=,${BENCH_ONLY:-short,medium,long,dump,window},
ONLY=${ONLY//,text,/,short,}
ONLY=${ONLY//,bin,/,medium,long,dump,}
if [[ $QUICK == 1 && -z ${BENCH_ONLY:-} ]]; then
    ONLY=,short,dump,
fi
want() { [[ $ONLY == *",$1,"* ]]; }
[[ $ONLY == ,boot, ]] && exit 0         # bench/linux-boot.sh's alone

command -v "$Q72" >/dev/null || die "$Q72 not found (make setup installs it)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (Debian package time)"
for f in "$GUEST" "$EXECLOG" build/libexeclog-v1.so build/libfloor-v1.so \
         build/libcount-v1.so build/libupstream-execlog-v1.so; do
    [[ -e $f ]] || die "$f is missing: run 'make build guests' first"
done
if [[ $BUILDS == *10.0* ]]; then
    [[ -x $Q10 ]] || die "$Q10 is missing (make setup builds it)"
    for f in build/libexeclog-v4.so build/libfloor-v4.so build/libcount-v4.so \
             build/libupstream-execlog-v4.so; do
        [[ -e $f ]] || die "$f is missing: run 'make build' first"
    done
fi

bench_workdir execlog-bench

# ---------------------------------------------------------------- helpers

div() {         # div A B: A / B, with about three significant digits
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) { print "-"; exit }
        r = a / b; printf(r >= 100 ? "%.0f" : r >= 10 ? "%.1f" : "%.2f", r) }'
}
secs() { awk -v us="$1" 'BEGIN { printf "%.3f", us / 1e6 }'; }
met() {         # met A OP B: "met" if A OP B holds (OP is >= or <=)
    awk -v a="$1" -v b="$3" "BEGIN { print (a $2 b) ? \"met\" : \"NOT met\" }"
}
free_mb() { df -Pk "$DIR" | awk 'NR == 2 { print int($4 / 1024) }'; }
load() { cut -d" " -f1-3 /proc/loadavg; }

qemu_of() { if [[ $1 == 10.0 ]]; then echo "$Q10"; else echo "$Q72"; fi; }
api_of() { if [[ $1 == 10.0 ]]; then echo v4; else echo v1; fi; }

declare -A LABEL=(
    [plain]="plain QEMU (no plugin)"
    [floor]="floor (format=bin's callbacks, empty)"
    [count]="counting plugin (callback per insn, access)"
    [bin]="format=bin"
    [zstd]="format=bin,compress=zstd"
    [text]="format=text,outfile="
    [upstream]="upstream execlog, -d plugin -D"
    [values]="format=bin,values=on"
    [floor_regs]="floor, regs=on (reg='s callbacks, empty)"
    [reg]="format=bin,$REGS"
)

# set_cmd CFG BUILD SCALE THREADS: the command line into CMD
set_cmd() {
    local cfg=$1 q a g=("$GUEST" "$3")
    q=$(qemu_of "$2")
    a=$(api_of "$2")
    (( $4 > 1 )) && g+=("$4")
    local ours=build/libexeclog-$a.so
    case $cfg in
    plain)      CMD=("$q" "${g[@]}") ;;
    floor)      CMD=("$q" -plugin "build/libfloor-$a.so" "${g[@]}") ;;
    floor_regs) CMD=("$q" -plugin "build/libfloor-$a.so,regs=on" "${g[@]}") ;;
    count)      CMD=("$q" -plugin "build/libcount-$a.so,out=$DIR/count" "${g[@]}") ;;
    bin)        CMD=("$q" -plugin "$ours,format=bin,outfile=$TRACE" "${g[@]}") ;;
    zstd)       CMD=("$q" -plugin "$ours,format=bin,compress=zstd,outfile=$TRACE" "${g[@]}") ;;
    text)       CMD=("$q" -plugin "$ours,outfile=$TRACE" "${g[@]}") ;;
    upstream)   CMD=("$q" -plugin "build/libupstream-execlog-$a.so" -d plugin -D "$TRACE" "${g[@]}") ;;
    values)     CMD=("$q" -plugin "$ours,format=bin,values=on,outfile=$TRACE" "${g[@]}") ;;
    reg)        CMD=("$q" -plugin "$ours,format=bin,$REGS,outfile=$TRACE" "${g[@]}") ;;
    esac
}

# timed CMD...: one run, after sync and a pause; wall and CPU (user + sys,
# /usr/bin/time, 10 ms resolution) in µs into WALL and CPU; stdout and stderr
# into $DIR/stdout and $DIR/stderr. Dies if it fails.
timed() {
    local t0 t1
    sync
    sleep "$SETTLE"
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%U %S' -o "$DIR/time" "$@" >"$DIR/stdout" \
        2>"$DIR/stderr" </dev/null &
    QEMU_PID=$!
    if ! wait "$QEMU_PID"; then
        QEMU_PID=""
        if [[ ${MAY_FAIL:-0} == 1 ]]; then
            return 1
        fi
        echo >&2
        echo "bench: this run failed: $*" >&2
        head -n 20 "$DIR/stderr" >&2
        exit 1
    fi
    t1=$EPOCHREALTIME
    QEMU_PID=""
    WALL=$(( ${t1/./} - ${t0/./} ))
    CPU=$(awk 'END { printf "%d", ($1 + $2) * 1e6 }' "$DIR/time")
}

stat_of() {     # stat_of TRACE KEY: one line of execlog stats
    "$EXECLOG" stats "$1" | awk -F': ' -v k="$2" '$1 == k && v == "" { v = $2 }
                                                 END { print v }'
}

# Medians of every section, for the targets: MW (wall) and MC (CPU), keyed
# BUILD/SCALE/THREADS/CFG.
declare -A MW=() MC=()
CHECKSUM=()             # by scale: the checksum every run must print
STATUS=0

# section BUILD SCALE THREADS CFG...: interleaved rounds, then the table
section() {
    local build=$1 scale=$2 threads=$3; shift 3
    local cfgs=("$@") cfg round key out sum
    local -A W=() C=() INS=() SIZE=() FAILED=()
    local count_insns="" count_mem=""

    echo
    echo "== QEMU $build user mode ($(api_of "$build")), workload scale $scale," \
         "$threads thread$( (( threads > 1 )) && echo s) =="
    echo "commands (in $ROOT; each trace measured in round 1 and deleted right after each run):"
    for cfg in "${cfgs[@]}"; do
        set_cmd "$cfg" "$build" "$scale" "$threads"
        printf '  %-11s %s\n' "$cfg:" "${CMD[*]}"
    done
    for (( round = 1; round <= RUNS; round++ )); do
        printf 'run %d/%d:' "$round" "$RUNS"
        for cfg in "${cfgs[@]}"; do
            [[ $cfg == upstream ]] && (( round > RUNS_SLOW )) && continue
            [[ -n ${FAILED[$cfg]:-} ]] && continue
            set_cmd "$cfg" "$build" "$scale" "$threads"
            rm -f "$TRACE"
            # upstream execlog may fail (QEMU 10.0, threads: SIGSEGV): its
            # row is dropped, the rest goes on
            if ! MAY_FAIL=$([[ $cfg == upstream ]] && echo 1 || echo 0) timed "${CMD[@]}"; then
                FAILED[$cfg]="failed: $(grep -v '^Command ' "$DIR/stderr" | head -n 1)"
                printf '  %s FAILED' "$cfg"
                rm -f "$TRACE"
                continue
            fi
            out=$(<"$DIR/stdout")
            sum=${out##* }
            [[ $out == "workload scale $scale"*" checksum "* ]] ||
                die "$cfg printed '$out', not the workload's checksum line"
            if [[ -z ${CHECKSUM[$scale]:-} ]]; then
                CHECKSUM[scale]=$sum
            elif [[ $sum != "${CHECKSUM[$scale]}" ]]; then
                die "$cfg printed checksum $sum, not ${CHECKSUM[$scale]} (scale $scale)"
            fi
            if [[ -s $DIR/stderr ]]; then
                echo
                echo "bench: note: $cfg wrote to stderr:"
                head -n 5 "$DIR/stderr"
            fi
            W[$cfg]+="$WALL " C[$cfg]+="$CPU "
            printf '  %s %ss' "$cfg" "$(secs "$WALL")"
            if (( round == 1 )); then
                case $cfg in
                count) count_insns=$(awk -F': ' '$1 == "instructions" { print $2 }' "$DIR/count")
                       count_mem=$(awk -F': ' '$1 == "loads" || $1 == "stores" { n += $2 }
                                               END { print n + 0 }' "$DIR/count")
                       INS[$cfg]=$count_insns ;;
                text|upstream) INS[$cfg]=$(grep -c . "$TRACE" || true)
                       SIZE[$cfg]=$(stat -c %s "$TRACE") ;;
                bin|zstd|values|reg)
                    SIZE[$cfg]=$(stat -c %s "$TRACE")
                    # a long trace takes seconds to read: only bin's there
                    if [[ $cfg == bin ]] || (( scale < LONG )); then
                        INS[$cfg]=$(stat_of "$TRACE" instructions)
                    fi ;;
                esac
            fi
            rm -f "$TRACE" "$DIR/count"
        done
        echo
    done
    echo "guest output: $out"

    local pw pc fw fc
    local ok=()
    for cfg in "${cfgs[@]}"; do
        if [[ -z ${W[$cfg]:-} ]]; then
            echo "$cfg: ${FAILED[$cfg]:-no run}: no row"
            continue
        fi
        ok+=("$cfg")
    done
    cfgs=("${ok[@]}")
    for cfg in "${cfgs[@]}"; do
        key=$build/$scale/$threads/$cfg
        # shellcheck disable=SC2086  # the lists are meant to be split
        MW[$key]=$(median ${W[$cfg]})
        # shellcheck disable=SC2086
        MC[$key]=$(median ${C[$cfg]})
    done
    pw=${MW[$build/$scale/$threads/plain]} pc=${MC[$build/$scale/$threads/plain]}
    fw=${MW[$build/$scale/$threads/floor]} fc=${MC[$build/$scale/$threads/floor]}
    echo
    printf '%-44s %4s %8s %8s %7s %7s %7s %7s %11s %6s\n' configuration runs \
        "wall s" "CPU s" "w/plain" "c/plain" "w/floor" "c/floor" instructions B/insn
    for cfg in "${cfgs[@]}"; do
        local w c ins bpi=- mark=""
        key=$build/$scale/$threads/$cfg
        w=${MW[$key]} c=${MC[$key]}
        ins=${INS[$cfg]:--}
        if [[ -n ${SIZE[$cfg]:-} && $ins != - ]]; then
            bpi=$(awk -v b="${SIZE[$cfg]}" -v n="$ins" 'BEGIN { printf "%.2f", n ? b / n : 0 }')
        fi
        if [[ $ins != - && -n $count_insns && $cfg != count && $ins != "$count_insns" ]]; then
            mark=" (count: $count_insns)"
        fi
        printf '%-44s %4s %8s %8s %6sx %6sx %6sx %6sx %11s %6s%s\n' "${LABEL[$cfg]}" \
            "$(wc -w <<<"${W[$cfg]}")" "$(secs "$w")" "$(secs "$c")" \
            "$(div "$w" "$pw")" "$(div "$c" "$pc")" "$(div "$w" "$fw")" \
            "$(div "$c" "$fc")" "$ins" "$bpi" "$mark"
    done
    # what a row costs beyond the floor, per instruction and per access
    # (the counter's totals): each figure charges all of the extra time to
    # one kind of event, so they are upper bounds, not a split
    if [[ -n $count_insns ]]; then
        for cfg in bin zstd; do
            [[ -n ${MW[$build/$scale/$threads/$cfg]:-} ]] || continue
            awk -v w="${MW[$build/$scale/$threads/$cfg]}" -v c="${MC[$build/$scale/$threads/$cfg]}" \
                -v fw="$fw" -v fc="$fc" -v n="$count_insns" -v m="$count_mem" -v k="$cfg" \
                'BEGIN { printf "%s beyond the floor: wall %.1f ns, CPU %.1f ns per instruction;" \
                         " wall %.1f ns, CPU %.1f ns per access (%d instructions, %d accesses)\n",
                         k, (w - fw) * 1e3 / n, (c - fc) * 1e3 / n, (w - fw) * 1e3 / m,
                         (c - fc) * 1e3 / m, n, m }'
        done
    fi
    echo "per run, wall s:"
    for cfg in "${cfgs[@]}"; do
        printf '  %-11s' "$cfg"
        for w in ${W[$cfg]}; do printf ' %s' "$(secs "$w")"; done
        echo
    done
}

# user_section SCALE: every build and thread count at SCALE
user_section() {
    local scale=$1 build threads cfgs need
    # room for the largest trace of a run: text (~50 B/insn) at scale 1,
    # format=bin with values (~4 B/insn) beyond, ~6.5M instructions a unit
    if (( scale == 1 )); then need=1024; else need=$(( scale * 6500 * 4 / 1000 + 1024 )); fi
    for build in $BUILDS; do
        for threads in $THREADS; do
            if (( $(free_mb) < need )); then
                echo
                echo "== QEMU $build, workload scale $scale, $threads threads: NOT RUN:" \
                     "$(free_mb) MB free in $DIR, ~$need MB needed (BENCH_DIR)"
                STATUS=1
                continue
            fi
            cfgs=(plain floor count bin zstd)
            if (( scale == 1 )); then
                cfgs+=(text)
                # auto: one thread only; with threads QEMU 7.2's runs
                # ~45 s (and loses lines), QEMU 10.0's dies of SIGSEGV
                if [[ $UPSTREAM == 1 ||
                      ($UPSTREAM == auto && $QUICK != 1 && $threads == 1) ]]; then
                    cfgs+=(upstream)
                fi
            fi
            if [[ $build == 10.0 ]]; then
                # reg= runs ~15x plain: at scale 1 only (~100 s a run at 90)
                cfgs+=(values)
                (( scale == 1 )) && cfgs+=(floor_regs reg)
            fi
            section "$build" "$scale" "$threads" "${cfgs[@]}"
        done
    done
}

# ---------------------------------------------- execlog dump and stats

DUMP=()                 # verdict lines of the dump section
dump_section() {
    local scale=$LONG fscale=$DUMP_FILE_SCALE round insns lines
    local -a dn=() dnc=() st=() stc=() df=() dfc=() ct=() ctc=()
    if [[ $QUICK == 1 ]]; then scale=1 fscale=1; fi
    echo
    echo "== execlog dump and stats: traces of QEMU 7.2 user mode, format=bin, 1 thread =="
    if (( $(free_mb) < fscale * 6500 * 110 / 1000 + scale * 6500 * 2 / 1000 + 2048 )); then
        echo "NOT RUN: $(free_mb) MB free in $DIR is too little (BENCH_DIR)"
        STATUS=1
        return 0
    fi
    "$Q72" -plugin "build/libexeclog-v1.so,format=bin,outfile=$DIR/long.bin" \
        "$GUEST" "$scale" >/dev/null
    insns=$(stat_of "$DIR/long.bin" instructions)
    echo "trace: workload scale $scale, $insns instructions," \
         "$(( $(stat -c %s "$DIR/long.bin") / 1048576 )) MB"
    echo "commands: $EXECLOG dump TRACE > /dev/null; $EXECLOG stats TRACE > /dev/null"
    for (( round = 1; round <= RUNS; round++ )); do
        printf 'run %d/%d:' "$round" "$RUNS"
        # shellcheck disable=SC2016  # sh expands them
        timed sh -c '"$1" dump "$2" >/dev/null' sh "$EXECLOG" "$DIR/long.bin"
        dn+=("$WALL") dnc+=("$CPU")
        printf '  dump %ss' "$(secs "$WALL")"
        timed "$EXECLOG" stats "$DIR/long.bin"
        st+=("$WALL") stc+=("$CPU")
        printf '  stats %ss' "$(secs "$WALL")"
        echo
    done
    rm -f "$DIR/long.bin"

    # to a file, against cat writing the same text
    "$Q72" -plugin "build/libexeclog-v1.so,format=bin,outfile=$DIR/mid.bin" \
        "$GUEST" "$fscale" >/dev/null
    "$EXECLOG" dump "$DIR/mid.bin" >"$DIR/mid.txt"
    lines=$(wc -l <"$DIR/mid.txt")
    echo "to a file: workload scale $fscale, $lines lines," \
         "$(( $(stat -c %s "$DIR/mid.txt") / 1048576 )) MB of text, in $DIR" \
         "($(df -PT "$DIR" | awk 'NR == 2 { print $2 }'))"
    echo "commands: $EXECLOG dump TRACE > FILE; cat TEXT > FILE (TEXT: that dump's output," \
         "FILE removed before each run)"
    for (( round = 1; round <= RUNS; round++ )); do
        printf 'run %d/%d:' "$round" "$RUNS"
        rm -f "$DIR/out.txt"
        # shellcheck disable=SC2016
        timed sh -c '"$1" dump "$2" >"$3"' sh "$EXECLOG" "$DIR/mid.bin" "$DIR/out.txt"
        df+=("$WALL") dfc+=("$CPU")
        printf '  dump %ss' "$(secs "$WALL")"
        rm -f "$DIR/out.txt"
        # shellcheck disable=SC2016
        timed sh -c 'cat "$1" >"$2"' sh "$DIR/mid.txt" "$DIR/out.txt"
        ct+=("$WALL") ctc+=("$CPU")
        printf '  cat %ss' "$(secs "$WALL")"
        echo
    done
    rm -f "$DIR/out.txt" "$DIR/mid.txt" "$DIR/mid.bin"

    local m_dn m_dnc m_st m_stc m_df m_dfc m_ct m_ctc r_dn r_dnc r_st r_stc
    m_dn=$(median "${dn[@]}") m_dnc=$(median "${dnc[@]}")
    m_st=$(median "${st[@]}") m_stc=$(median "${stc[@]}")
    m_df=$(median "${df[@]}") m_dfc=$(median "${dfc[@]}")
    m_ct=$(median "${ct[@]}") m_ctc=$(median "${ctc[@]}")
    r_dn=$(div "$insns" "$m_dn") r_dnc=$(div "$insns" "$m_dnc")
    r_st=$(div "$insns" "$m_st") r_stc=$(div "$insns" "$m_stc")
    echo
    printf '%-40s %8s %8s %14s %14s\n' command "wall s" "CPU s" "M/s of wall" "M/s of CPU"
    printf '%-40s %8s %8s %14s %14s\n' "dump > /dev/null (lines)" "$(secs "$m_dn")" \
        "$(secs "$m_dnc")" "$r_dn" "$r_dnc"
    printf '%-40s %8s %8s %14s %14s\n' "stats (instructions)" "$(secs "$m_st")" \
        "$(secs "$m_stc")" "$r_st" "$r_stc"
    printf '%-40s %8s %8s %14s %14s\n' "dump > FILE (lines)" "$(secs "$m_df")" \
        "$(secs "$m_dfc")" "$(div "$lines" "$m_df")" "$(div "$lines" "$m_dfc")"
    printf '%-40s %8s %8s %14s %14s\n' "cat TEXT > FILE (lines)" "$(secs "$m_ct")" \
        "$(secs "$m_ctc")" "$(div "$lines" "$m_ct")" "$(div "$lines" "$m_ctc")"
    DUMP+=("$(printf '%-52s %10s  %s' "execlog dump > /dev/null >= ${T_DUMP}M lines/s (wall):" \
        "$r_dn" "$(met "$r_dn" ">=" "$T_DUMP")")")
    DUMP+=("$(printf '%-52s %10s  %s' "execlog dump > FILE no slower than cat (wall, x cat):" \
        "$(div "$m_df" "$m_ct")x" "$(met "$m_df" "<=" "$m_ct")")")
    DUMP+=("$(printf '%-52s %10s  %s' "execlog stats >= ${T_STATS}M instructions/s (wall):" \
        "$r_st" "$(met "$r_st" ">=" "$T_STATS")")")
}

# ---------------------------------------------------------------- targets

# ratio_line TARGET WHAT KEY_A KEY_B: A / B on wall and CPU, with verdicts
ratio_line() {
    local t=$1 what=$2 a=$3 b=$4 rw rc
    [[ -n ${MW[$a]:-} && -n ${MW[$b]:-} ]] || return 0
    rw=$(div "${MW[$a]}" "${MW[$b]}") rc=$(div "${MC[$a]}" "${MC[$b]}")
    printf '  %-44s wall %6sx %-8s CPU %6sx %s\n' "$what" "$rw" \
        "$(met "$rw" "<=" "$t")" "$rc" "$(met "$rc" "<=" "$t")"
}

# info_line WHAT KEY_A KEY_B: A / B on wall and CPU, no target
info_line() {
    local what=$1 a=$2 b=$3
    [[ -n ${MW[$a]:-} && -n ${MW[$b]:-} ]] || return 0
    printf '  %-44s wall %6sx %-8s CPU %6sx (no target)\n' "$what" \
        "$(div "${MW[$a]}" "${MW[$b]}")" "" "$(div "${MC[$a]}" "${MC[$b]}")"
}

targets() {
    local build scale threads k
    echo
    echo "== targets (issue 9): medians of this run; wall and CPU time each judged =="
    for build in $BUILDS; do
        for scale in 1 12 "$LONG"; do
            for threads in $THREADS; do
                k=$build/$scale/$threads
                ratio_line "$T_BIN" "$build s$scale t$threads: bin <= ${T_BIN}x floor" \
                    "$k/bin" "$k/floor"
                ratio_line "$T_ZSTD" "$build s$scale t$threads: zstd <= ${T_ZSTD}x floor" \
                    "$k/zstd" "$k/floor"
                info_line "$build s$scale t$threads: reg= vs floor,regs=on" \
                    "$k/reg" "$k/floor_regs"
                info_line "$build s$scale t$threads: values=on vs floor" \
                    "$k/values" "$k/floor"
                if (( threads == 1 )); then
                    ratio_line "$T_TEXT" "$build s$scale t1: text <= ${T_TEXT}x plain" \
                        "$k/text" "$k/plain"
                else
                    ratio_line "$T_TEXT_BIN" "$build s$scale t$threads: text <= ${T_TEXT_BIN}x bin" \
                        "$k/text" "$k/bin"
                fi
            done
        done
    done
    for k in "${DUMP[@]}"; do echo "  $k"; done
}

# ---------------------------------------------------------------- main

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo "execlog benchmark, $(date '+%Y-%m-%d %H:%M:%S %Z')"
for b in $BUILDS; do
    echo "QEMU $b: $(qemu_of "$b") ($("$(qemu_of "$b")" --version | head -n 1))"
done
echo "host:     ${cpu:-unknown CPU} ($(nproc) CPUs), $(uname -sr)"
echo "execlog:  git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(
    git diff --quiet HEAD -- plugin lib include cli bench 2>/dev/null || echo ' (sources modified)')"
echo "traces:   $DIR ($(df -PT "$DIR" | awk 'NR == 2 { print $2 }'), $(free_mb) MB free)"
echo "load:     $(load) (1, 5, 15 min; other work on the machine skews the times)"
echo "method:   $RUNS rounds (upstream: $RUNS_SLOW), configurations interleaved in each;" \
     "sync and a ${SETTLE} s pause before each run; medians of wall time and of CPU" \
     "time (user + sys of the process, /usr/bin/time, 10 ms resolution)"
echo "sections: ${ONLY:1:-1}$( [[ $QUICK == 1 ]] && echo " (BENCH_QUICK=1)")"

want short && user_section 1
want medium && user_section 12
want long && user_section "$LONG"
want dump && dump_section
targets
if want window; then
    echo
    BENCH_RUNS=$RUNS bench/window.sh || STATUS=1     # tracing while it is off
fi
echo
echo "benchmark took ${SECONDS} s; load average now $(load)"
exit "$STATUS"
