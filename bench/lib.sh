# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the benchmark scripts (sourced): a scratch folder for traces
# that goes away however the script ends, and small helpers.

die() { echo "bench: $*" >&2; exit 1; }

# bench_workdir NAME: a fresh folder $DIR (trace file $TRACE) under
# $BENCH_DIR (or $TMPDIR, or /tmp), removed at exit, on Ctrl-C or SIGTERM,
# killing the QEMU whose pid is in $QEMU_PID first.
bench_workdir() {
    base=${BENCH_DIR:-${TMPDIR:-/tmp}}
    mkdir -p "$base"
    DIR=$(mktemp -d "$base/$1.XXXXXX")
    TRACE=$DIR/trace
    QEMU_PID=""
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# shellcheck disable=SC2317  # called from the EXIT trap
bench_cleanup() {
    if [[ -n $QEMU_PID ]]; then
        kill "$QEMU_PID" 2>/dev/null || true
        wait "$QEMU_PID" 2>/dev/null || true
    fi
    rm -rf "$DIR"
}

median() {      # median N...: the middle value (mean of the two for even N)
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
        printf "%.0f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
