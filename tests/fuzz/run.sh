#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every libFuzzer target for a bounded time. tests/fuzz/fuzz_NAME.c is
# built by `make fuzz` (clang, ASan+UBSan) as build-fuzz/fuzz-NAME; it runs
# for FUZZ_SECONDS (default 20) over its corpus tests/fuzz/corpus-NAME/
# (the reader's: tests/fuzz/corpus/). New inputs it finds go to a scratch
# folder, not into the corpus; a crash, leak or timeout fails the run and
# is kept as build-fuzz/artifacts/NAME-crash-* (add it to the corpus once
# fixed).
# Usage: tests/fuzz/run.sh [NAME...]
# Exit: 0 all clean, 1 a target failed, 77 no fuzz build (no clang).
set -u
cd "$(dirname "$0")/../.."
FB=$(realpath -m "${EXECLOG_FUZZ_BUILD:-build-fuzz}")
SECS=${FUZZ_SECONDS:-20}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for src in tests/fuzz/fuzz_*.c; do
        n=${src#tests/fuzz/fuzz_}
        names+=("${n%.c}")
    done
fi
if ! ls "$FB"/fuzz-* >/dev/null 2>&1; then
    echo "no libFuzzer build in $FB (make fuzz needs clang with libFuzzer)"
    exit 77
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/execlog-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$FB/artifacts"
rc=0
for n in "${names[@]}"; do
    exe=$FB/fuzz-${n//_/-}
    corpus=tests/fuzz/corpus-$n
    [ "$n" = reader ] && corpus=tests/fuzz/corpus
    if [ ! -x "$exe" ]; then
        echo "FAIL fuzz-$n: $exe was not built (make fuzz)"
        rc=1
        continue
    fi
    [ -d "$corpus" ] || { echo "note: fuzz-$n has no corpus $corpus/"; corpus=; }
    mkdir -p "$scratch/$n"
    # the first folder receives new inputs; -close_fd_mask=3 keeps the
    # code's own messages out (libFuzzer and sanitizer reports still show)
    if "$exe" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
            -max_len=32768 -close_fd_mask=3 -print_final_stats=1 \
            -artifact_prefix="$FB/artifacts/$n-" \
            "$scratch/$n" ${corpus:+"$corpus"} > "$scratch/$n.log" 2>&1; then
        echo "ok fuzz-$n: $(grep -m1 '^stat::number_of_executed_units' "$scratch/$n.log" \
            | awk '{ print $2 }') runs in ${SECS}s, $(ls "$scratch/$n" | wc -l) new inputs"
    else
        echo "FAIL fuzz-$n (artifacts in $FB/artifacts/):"
        { grep -m1 -A14 -E '^==[0-9]+==|runtime error|^ALARM' "$scratch/$n.log" \
              || tail -n 20 "$scratch/$n.log"; } | sed 's/^/    /'
        grep -E '^SUMMARY|^artifact_prefix|Test unit written' "$scratch/$n.log" \
            | sed 's/^/    /'
        rc=1
    fi
done
exit $rc
