#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/linux-boot.sh: what does recording a whole Linux boot cost?  Boots
# Debian bookworm's arm64 kernel with a busybox initramfs (made by
# scripts/fetch-linux.sh; its /init prints a marker and powers off, so QEMU
# exits by itself) on QEMU 7.2 system mode (qemu-system-aarch64, API 1,
# libexeclog-v1.so) and on QEMU 10.0 (API 4, libexeclog-v4.so), 2 vCPUs each,
# and times the boot:
#
#   plain     no plugin
#   zstd      ours, format=bin,compress=zstd
#   bin       ours, format=bin (uncompressed)
#   text      ours, outfile= (text; tens of GB: skipped unless asked, below)
#
# Each column: the median over BENCH_RUNS runs of the whole QEMU process's
# wall time and CPU time (user + sys, /usr/bin/time); instructions recorded
# (execlog stats of the trace; for text, its line count), trace size, bytes
# per instruction, and the ratios to the plain boot.  Configurations take
# turns run by run, with sync and a 1 s pause before each run.  Every trace
# is measured and deleted right away.  A boot is timing-dependent (spin
# loops, timers), so its instruction count varies a little from run to run;
# the table shows medians.  Then, untimed, one more boot per QEMU records with
# zstd while the counting plugin (tests/plugins/count.c) counts in the same
# QEMU process: the trace's instructions, loads and stores must be the
# counter's.
#
# Environment:
#   BENCH_RUNS=3        timed runs per configuration (BENCH_QUICK=1: 1)
#   BENCH_BOOT_BUILDS="7.2 10.0"  the QEMUs
#   BENCH_ONLY=LIST     as bench/run.sh: runs only if LIST has "boot"
#   BENCH_DIR=DIR       where traces go (default ${TMPDIR:-/tmp}): a fresh
#                       subdirectory is made there and removed at exit
#   BENCH_TEXT=auto     text runs only when its estimated size (from the
#                       first zstd trace: instructions x bytes per line of
#                       2M dumped lines) is at most BENCH_TEXT_MAX_MB; 1: runs
#                       whatever its size; 0: never.  A whole boot's text is
#                       ~60 bytes per instruction, tens of GB, so auto skips it
#   BENCH_TEXT_MAX_MB=2048
#   BENCH_MARGIN_MB=2048  free space every trace must leave, or it is skipped
#   BENCH_TIMEOUT=600   seconds one boot may take
#   LINUX_APPEND=...    kernel command line (default below)
#   EXECLOG_CACHE       where scripts/fetch-linux.sh put the kernel
set -euo pipefail
export LC_ALL=C         # '.' as the decimal point, in $EPOCHREALTIME too

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

if [[ -n ${BENCH_ONLY:-} && ,$BENCH_ONLY, != *,boot,* ]]; then
    exit 0              # not asked for (bench/run.sh's sections)
fi

CACHE=${EXECLOG_CACHE:-$HOME/.cache/execlog}
Q10=$CACHE/qemu-system-aarch64-10.0
Q72=${QEMU_SYSTEM:-qemu-system-aarch64}
BUILDS=${BENCH_BOOT_BUILDS:-7.2 10.0}
LINUX=$CACHE/linux-arm64
KERNEL=$LINUX/vmlinuz
INITRD=$LINUX/initramfs.cpio.gz
EXECLOG=build/execlog
MARKER=execlog-linux-boot-ok
RUNS=${BENCH_RUNS:-3}
[[ ${BENCH_QUICK:-0} == 1 ]] && RUNS=1
TEXT=${BENCH_TEXT:-auto}
TEXT_MAX_MB=${BENCH_TEXT_MAX_MB:-2048}
MARGIN_MB=${BENCH_MARGIN_MB:-2048}
TIMEOUT=${BENCH_TIMEOUT:-600}
SETTLE=1                # seconds to pause (after sync) before each run
TARGET_ZSTD=3           # recording with zstd at most this many times plain
# cryptomgr.notests: the crypto self-tests are more than half of the boot's
# instructions and test nothing of ours; quiet: the console is a PL011 that
# QEMU emulates register by register.
APPEND=${LINUX_APPEND:-console=ttyAMA0 panic=-1 quiet cryptomgr.notests}
QARGS=(-M virt -cpu cortex-a57 -smp 2 -m 512M -nic none -nographic -no-reboot
       -kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND")

. "$(dirname "$0")/lib.sh"

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer"
[[ $MARGIN_MB =~ ^[0-9]+$ ]] || die "BENCH_MARGIN_MB must be a number"
[[ $TEXT_MAX_MB =~ ^[0-9]+$ ]] || die "BENCH_TEXT_MAX_MB must be a number"
[[ $TEXT =~ ^(auto|0|1)$ ]] || die "BENCH_TEXT must be auto, 0 or 1"
for b in $BUILDS; do
    case $b in
    7.2)  command -v "$Q72" >/dev/null || die "$Q72 is missing: run scripts/setup.sh"
          a=v1 ;;
    10.0) [[ -x $Q10 ]] || die "$Q10 is missing: run scripts/setup.sh"
          a=v4 ;;
    *)    die "BENCH_BOOT_BUILDS: $b is not 7.2 or 10.0" ;;
    esac
    for f in "build/libexeclog-$a.so" "build/libcount-$a.so"; do
        [[ -e $f ]] || die "$f is missing: run 'make build' first"
    done
done
[[ -s $KERNEL && -s $INITRD ]] || die "no kernel in $LINUX: run scripts/fetch-linux.sh"
[[ -e $EXECLOG ]] || die "$EXECLOG is missing: run 'make build' first"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (Debian package time)"

bench_workdir execlog-linux-bench

# ---------------------------------------------------------------- helpers

secs()   { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1e6 }'; }
ratio()  { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
human()  { awk -v b="$1" 'BEGIN { split("B KB MB GB TB", u); i = 1
               while (b >= 1000 && i < 5) { b /= 1000; i++ }
               printf(i == 1 ? "%d %s" : "%.1f %s", b, u[i]) }'; }
free_bytes() { df -Pk "$DIR" | awk 'NR == 2 { printf "%.0f", $4 * 1024 }'; }

declare -A LABEL=(
    [plain]="plain boot (no plugin)"
    [zstd]="ours, format=bin,compress=zstd"
    [bin]="ours, format=bin"
    [text]="ours, outfile= (text)"
)

# plugin_arg CONFIG: our -plugin argument for CONFIG (empty for plain)
plugin_arg() {
    case $1 in
    plain) ;;
    zstd)  echo "$OURS,format=bin,compress=zstd,outfile=$TRACE" ;;
    bin)   echo "$OURS,format=bin,outfile=$TRACE" ;;
    text)  echo "$OURS,outfile=$TRACE" ;;
    esac
}

# timed CONFIG [QEMUARG...]: one boot; its wall and CPU time (µs) into US
# and CPU, the console into $DIR/console; dies unless QEMU exits 0 having
# printed the marker.
timed() {
    local cfg=$1 p t0 t1 rc=0; shift
    local args=("${QARGS[@]}" "$@")
    p=$(plugin_arg "$cfg")
    [[ -n $p ]] && args+=(-plugin "$p")
    rm -f "$TRACE"
    sync
    sleep "$SETTLE"
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%U %S' -o "$DIR/time" timeout "$TIMEOUT" "$QEMU" "${args[@]}" \
        </dev/null >"$DIR/console" 2>&1 &
    QEMU_PID=$!
    wait "$QEMU_PID" || rc=$?
    t1=$EPOCHREALTIME
    QEMU_PID=""
    US=$(( ${t1/./} - ${t0/./} ))
    CPU=$(awk 'END { printf "%d", ($1 + $2) * 1e6 }' "$DIR/time")
    if (( rc != 0 )) || ! grep -q "^$MARKER" "$DIR/console"; then
        echo >&2
        echo "bench: the $cfg boot failed (exit $rc; marker lines:" \
             "$(grep -c "^$MARKER" "$DIR/console")):" >&2
        echo "  $QEMU ${args[*]}" >&2
        tail -n 20 "$DIR/console" >&2
        exit 1
    fi
}

# count_of TRACE CONFIG: instructions recorded
count_of() {
    if [[ $2 == text ]]; then
        wc -l <"$1"
    else
        # reads all of it: an early exit would SIGPIPE execlog (pipefail)
        "$EXECLOG" stats "$1" | awk -F': ' '$1 == "instructions" && n == "" { n = $2 }
                                             END { print n }'
    fi
}

# ---------------------------------------------------------------- header

kv=$(cat "$LINUX/kernel-version" 2>/dev/null || echo "?")
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo "execlog Linux boot benchmark, $(date '+%Y-%m-%d %H:%M:%S %Z')"
echo "kernel:   Debian $kv, $(wc -c <"$KERNEL") bytes; initramfs: busybox," \
     "$(wc -c <"$INITRD") bytes"
echo "host:     ${cpu:-unknown CPU} ($(nproc) CPUs), $(uname -sr)"
echo "execlog:  git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(
    git diff --quiet HEAD -- plugin lib include 2>/dev/null || echo ' (plugin sources modified)')"
echo "traces:   $DIR ($(human "$(free_bytes)") free; each trace deleted once measured)"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; other work on the machine skews the times)"
echo "command:  QEMU ${QARGS[*]} [-plugin ...]"
echo "method:   wall and CPU time (user + sys) of the whole QEMU process, median of $RUNS runs;" \
     "configurations interleaved run by run; sync and a ${SETTLE} s pause before each run"

# ---------------------------------------------------------------- runs

cfgs=(plain zstd bin text)
margin=$(( MARGIN_MB * 1024 * 1024 ))
status=0
VERDICTS=()

# need_bytes CONFIG: how much room a CONFIG trace needs (a guess at first,
# then the largest size seen)
need_bytes() {
    local cfg=$1 max=0 s
    for s in ${SIZES[$cfg]:-}; do (( s > max )) && max=$s; done
    if (( max > 0 )); then echo $(( max + max / 10 )); return; fi
    case $cfg in
    zstd) echo $(( 1024 * 1024 * 1024 )) ;;
    bin)  echo $(( ${est_insns:-1000000000} * 4 )) ;;
    text) awk -v n="${est_insns:-1000000000}" -v b="${text_bpl:-64}" \
              'BEGIN { printf "%.0f", n * b }' ;;
    esac
}

# boot_section BUILD: the timed boots on one QEMU, the table, the check
# against the counting plugin
boot_section() {
    local build=$1 api round cfg need free n us insns sz size bpi runs
    declare -gA TIMES=() CPUS=() INSNS=() SIZES=() SKIP=()
    local -A MED=() MEDC=()
    if [[ $build == 10.0 ]]; then QEMU=$Q10 api=v4; else QEMU=$Q72 api=v1; fi
    OURS=build/libexeclog-$api.so
    est_insns="" text_bpl="" kernel_release=""
    [[ $TEXT == 0 ]] && SKIP[text]="BENCH_TEXT=0"

    echo
    echo "== QEMU $build system mode ($api, $OURS), -smp 2: $("$QEMU" --version | head -n 1) =="
    for (( round = 1; round <= RUNS; round++ )); do
        printf 'run %d/%d:' "$round" "$RUNS"
        for cfg in "${cfgs[@]}"; do
            [[ -n ${SKIP[$cfg]:-} ]] && continue
            if [[ $cfg == text && $TEXT == auto && -z ${SIZES[text]:-} ]]; then
                need=$(need_bytes text)
                if (( need > TEXT_MAX_MB * 1024 * 1024 )); then
                    SKIP[text]="its text would be ~$(human "$need") (~${text_bpl:-?} B/insn)"
                    SKIP[text]+=" > BENCH_TEXT_MAX_MB=$TEXT_MAX_MB; BENCH_TEXT=1 runs it"
                    printf '  text skipped'
                    continue
                fi
            fi
            if [[ $cfg != plain ]]; then
                need=$(need_bytes "$cfg")
                free=$(free_bytes)
                if (( need + margin > free )); then
                    SKIP[$cfg]="a trace needs ~$(human "$need"), $(human "$free") free"
                    SKIP[$cfg]+=" (BENCH_MARGIN_MB=$MARGIN_MB to spare)"
                    printf '  %s skipped' "$cfg"
                    continue
                fi
            fi
            timed "$cfg"
            [[ -z $kernel_release ]] &&
                kernel_release=$(grep -m1 "^$MARKER" "$DIR/console" | tr -d '\r' | cut -d' ' -f2-)
            TIMES[$cfg]+="$US " CPUS[$cfg]+="$CPU "
            if [[ $cfg != plain ]]; then
                [[ -f $TRACE ]] || die "the $cfg boot wrote no trace"
                SIZES[$cfg]+="$(stat -c %s "$TRACE") "
                n=$(count_of "$TRACE" "$cfg")
                INSNS[$cfg]+="$n "
                [[ -z $est_insns ]] && est_insns=$n
                if [[ $cfg == zstd && -z $text_bpl ]]; then
                    # what the text of this boot would take, from 2M lines of it
                    text_bpl=$("$EXECLOG" dump "$TRACE" | head -n 2000000 |
                               awk '{ b += length($0) + 1 } END { printf "%.1f", NR ? b / NR : 64 }' ||
                               true)   # dump dies of SIGPIPE: pipefail would stop us
                fi
                rm -f "$TRACE"
            fi
            printf '  %s %ss' "$cfg" "$(secs "$US")"
        done
        echo
    done
    echo "guest:    $MARKER $kernel_release"

    for cfg in "${cfgs[@]}"; do
        # shellcheck disable=SC2086  # the lists are meant to be split
        [[ -n ${TIMES[$cfg]:-} ]] && MED[$cfg]=$(median ${TIMES[$cfg]}) &&
            MEDC[$cfg]=$(median ${CPUS[$cfg]})
    done

    echo
    printf '%-32s %4s %9s %9s %13s %10s %8s %9s %9s\n' configuration runs "wall s" \
        "CPU s" instructions "trace" "B/insn" "w/plain" "c/plain"
    for cfg in "${cfgs[@]}"; do
        if [[ -z ${MED[$cfg]:-} ]]; then
            printf '%-32s  skipped: %s\n' "${LABEL[$cfg]}" "${SKIP[$cfg]:-}"
            continue
        fi
        runs=$(wc -w <<<"${TIMES[$cfg]}")
        insns=- size=- bpi=-
        if [[ $cfg != plain ]]; then
            # shellcheck disable=SC2086
            insns=$(median ${INSNS[$cfg]})
            # shellcheck disable=SC2086
            sz=$(median ${SIZES[$cfg]})
            size=$(human "$sz")
            bpi=$(ratio "$sz" "$insns")
        fi
        printf '%-32s %4s %9s %9s %13s %10s %8s %8sx %8sx\n' "${LABEL[$cfg]}" "$runs" \
            "$(secs "${MED[$cfg]}")" "$(secs "${MEDC[$cfg]}")" "$insns" "$size" "$bpi" \
            "$(ratio "${MED[$cfg]}" "${MED[plain]}")" \
            "$(ratio "${MEDC[$cfg]}" "${MEDC[plain]}")"
    done
    echo
    echo "per run (wall s | instructions):"
    for cfg in "${cfgs[@]}"; do
        [[ -n ${TIMES[$cfg]:-} ]] || continue
        printf '  %-6s' "$cfg"
        for us in ${TIMES[$cfg]}; do printf ' %s' "$(secs "$us")"; done
        [[ -n ${INSNS[$cfg]:-} ]] && printf ' |%s' " ${INSNS[$cfg]% }"
        echo
    done

    # the same QEMU process: our zstd recording and the counting plugin
    local exact="NOT checked" k ours theirs
    echo
    echo "exactness (untimed): one boot with -plugin build/libcount-$api.so,out=FILE" \
         "-plugin $OURS,format=bin,compress=zstd,outfile=TRACE"
    if (( $(need_bytes zstd) + margin <= $(free_bytes) )); then
        timed zstd -plugin "build/libcount-$api.so,out=$DIR/count"
        "$EXECLOG" stats "$TRACE" >"$DIR/stats"
        rm -f "$TRACE"
        exact=met
        for k in instructions loads stores; do
            ours=$(awk -F': ' -v k="$k" '$1 == k && v == "" { v = $2 } END { print v }' "$DIR/stats")
            theirs=$(awk -F': ' -v k="$k" '$1 == k { print $2 }' "$DIR/count")
            echo "  $k: trace $ours, counting plugin $theirs"
            [[ -n $ours && $ours == "$theirs" ]] || exact="NOT met"
        done
    else
        echo "  skipped: not enough free space"
        status=1
    fi

    local r rc verdict
    if [[ -n ${MED[zstd]:-} ]]; then
        r=$(ratio "${MED[zstd]}" "${MED[plain]}")
        rc=$(ratio "${MEDC[zstd]}" "${MEDC[plain]}")
        verdict="wall ${r}x $(awk -v r="$r" -v t="$TARGET_ZSTD" 'BEGIN { print (r <= t) ? "met" : "NOT met" }')"
        verdict+=", CPU ${rc}x $(awk -v r="$rc" -v t="$TARGET_ZSTD" 'BEGIN { print (r <= t) ? "met" : "NOT met" }')"
    else
        verdict="NOT measured"
        status=1
    fi
    VERDICTS+=("QEMU $build: zstd <= ${TARGET_ZSTD}x plain boot: $verdict")
    VERDICTS+=("QEMU $build: zstd totals = the counting plugin's (same process): $exact")
}

for b in $BUILDS; do
    boot_section "$b"
done
echo
echo "targets (issue 9):"
for v in "${VERDICTS[@]}"; do echo "  $v"; done
echo
echo "boot benchmark took ${SECONDS} s; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
