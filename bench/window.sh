#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/window.sh: what does tracing cost while it is off? A start= that
# never fires, or fires at the very end, against plain QEMU and against
# tracing everything:
#
#   QEMU 7.2 user mode (API 1: every instruction keeps its callbacks, which
#   return at once while the window is closed), the bundled workload at
#   scale 12 (~73M instructions):
#     plain       no plugin
#     floor       bench/plugins/floor.c: format=bin's instrumentation, empty
#     count       tests/plugins/count.c: a callback per instruction and per
#                 access (what every instruction keeps on API 1)
#     never-text  ours, outfile=,start=4 (no instruction at 0x4)
#     never-bin   ours, format=bin,start=4
#     late-text   ours, outfile=,start=<exit> (guest's exit(), from nm)
#     bin         ours, format=bin, everything
#   QEMU 10.0 system mode (API 4: nothing is instrumented until start=
#   fires, qemu_plugin_reset), an arm64 Linux boot on 2 vCPUs (as
#   bench/linux-boot.sh):
#     plain, never-text (start=4), never-bin, bin (everything)
#
# Medians of BENCH_RUNS (5; the Linux boot: BENCH_RUNS_BOOT, 3) runs of the
# whole QEMU process, wall time and CPU time (user + system), configurations
# interleaved run by run, sync and a 1 s pause before each. Traces are
# deleted after each run.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. bench/lib.sh

CACHE=${EXECLOG_CACHE:-$HOME/.cache/execlog}
Q72=${QEMU:-qemu-aarch64}
Q10=$CACHE/qemu-system-aarch64-10.0
GUEST=build/guests/aarch64/workload
SCALE=${BENCH_SCALE:-12}
V1=build/libexeclog-v1.so
V4=build/libexeclog-v4.so
FLOOR=build/libfloor-v1.so
COUNT=build/libcount-v1.so
KERNEL=$CACHE/linux-arm64/vmlinuz
INITRD=$CACHE/linux-arm64/initramfs.cpio.gz
APPEND="console=ttyAMA0 panic=-1 quiet cryptomgr.notests"
RUNS=${BENCH_RUNS:-5}
RUNS_BOOT=${BENCH_RUNS_BOOT:-3}
SETTLE=1

for f in "$GUEST" "$V1" "$V4" "$FLOOR"; do
    [[ -e $f ]] || die "$f is missing: run 'make build guests' first"
done
bench_workdir execlog-window

# timed NAME CMD...: one timed run added to T[NAME] (wall, µs) and
# C[NAME] (CPU: user + system of QEMU, µs; /usr/bin/time), which a loaded
# machine skews less than wall time
declare -A T=() C=()
timed() {
    local name=$1 t0 t1 cpu; shift
    rm -f "$TRACE"
    sync
    sleep "$SETTLE"
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%U %S' -o "$DIR/time" "$@" >"$DIR/stdout" \
        2>"$DIR/stderr" </dev/null &
    QEMU_PID=$!
    wait "$QEMU_PID" || { echo; echo "bench: failed: $*" >&2;
                          head -n 20 "$DIR/stderr" >&2; exit 1; }
    t1=$EPOCHREALTIME
    QEMU_PID=""
    cpu=$(awk '{ printf "%d", ($1 + $2) * 1e6 }' "$DIR/time")
    T[$name]+="$(( ${t1/./} - ${t0/./} )) "
    C[$name]+="$cpu "
    printf '  %s %ss' "$name" "$(awk -v us="$(( ${t1/./} - ${t0/./} ))" \
        'BEGIN { printf "%.2f", us / 1e6 }')"
    rm -f "$TRACE"
}

# table BASE NAME...: median wall and CPU seconds and ratios to BASE's
table() {
    local base=$1 name m b mc bc; shift
    # shellcheck disable=SC2086
    b=$(median ${T[$base]})
    # shellcheck disable=SC2086
    bc=$(median ${C[$base]})
    printf '%-12s %10s %9s %10s %9s\n' configuration "wall s" "vs plain" \
        "CPU s" "vs plain"
    for name in "$@"; do
        # shellcheck disable=SC2086
        m=$(median ${T[$name]})
        # shellcheck disable=SC2086
        mc=$(median ${C[$name]})
        awk -v n="$name" -v m="$m" -v b="$b" -v mc="$mc" -v bc="$bc" \
            'BEGIN { printf "%-12s %10.3f %8.2fx %10.3f %8.2fx\n", n, m / 1e6,
                     m / b, mc / 1e6, mc / bc }'
    done
}

echo "execlog window benchmark, $(date '+%Y-%m-%d %H:%M:%S %Z')"
echo "host:     $(nproc) CPUs, load $(cut -d" " -f1-3 /proc/loadavg)"
echo "execlog:  git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"

exit_at=$(nm "$GUEST" | awk '$3 == "exit" && !n++ { print $1 }')
echo
echo "== QEMU 7.2 user mode (API 1), workload $SCALE =="
echo "late-text: start=0x$exit_at (the guest's exit())"
for (( r = 1; r <= RUNS; r++ )); do
    printf 'run %d/%d:' "$r" "$RUNS"
    timed plain "$Q72" "$GUEST" "$SCALE"
    timed floor "$Q72" -plugin "$FLOOR" "$GUEST" "$SCALE"
    timed count "$Q72" -plugin "$COUNT,out=$DIR/count" "$GUEST" "$SCALE"
    timed never-text "$Q72" -plugin "$V1,outfile=$TRACE,start=4" "$GUEST" "$SCALE"
    timed never-bin "$Q72" -plugin "$V1,format=bin,outfile=$TRACE,start=4" \
        "$GUEST" "$SCALE"
    timed late-text "$Q72" -plugin "$V1,outfile=$TRACE,start=$exit_at" \
        "$GUEST" "$SCALE"
    timed bin "$Q72" -plugin "$V1,format=bin,outfile=$TRACE" "$GUEST" "$SCALE"
    echo
done
table plain plain floor count never-text never-bin late-text bin

if [[ -x $Q10 && -f $KERNEL && -f $INITRD ]]; then
    QARGS=(-M virt -cpu cortex-a57 -smp 2 -m 512M -nic none -nographic
           -no-reboot -kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND")
    T=() C=()
    echo
    echo "== QEMU 10.0 system mode (API 4), arm64 Linux boot, 2 vCPUs =="
    for (( r = 1; r <= RUNS_BOOT; r++ )); do
        printf 'run %d/%d:' "$r" "$RUNS_BOOT"
        timed plain "$Q10" "${QARGS[@]}"
        timed never-text "$Q10" "${QARGS[@]}" -plugin "$V4,outfile=$TRACE,start=4"
        timed never-bin "$Q10" "${QARGS[@]}" \
            -plugin "$V4,format=bin,outfile=$TRACE,start=4"
        timed bin "$Q10" "${QARGS[@]}" -plugin "$V4,format=bin,outfile=$TRACE"
        echo
    done
    table plain plain never-text never-bin bin
else
    echo
    echo "(QEMU 10.0 system or the Linux kernel missing: scripts/setup.sh, scripts/fetch-linux.sh)"
fi
echo
echo "took ${SECONDS} s; load now $(cut -d" " -f1-3 /proc/loadavg)"
