#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every test: the cmocka unit tests, then each test_* function of
# tests/e2e/*.sh. Prints PASS, FAIL or "SKIP name: reason" per test and ends
# with "N passed, N failed, N skipped". A test skips by returning 77 after
# printing the reason (tests/lib.sh: skip).
# Usage: tests/run.sh [PATTERN]   (run only tests whose name contains PATTERN;
# A|B|C: any of them)
# EXECLOG_BUILD=DIR tests the build in DIR; EXECLOG_SANITIZE=address|thread
# says it is a sanitizer build (make sanitize sets both).
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/execlog-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
export T
tier_setup

pattern=${1:-}
passed=0 failed=0 skipped=0
times=()                # "SECONDS NAME" of each test run
run_one() {
    local name=$1; shift
    local p hit=
    for p in ${pattern//|/ }; do
        case "$name" in *"$p"*) hit=1 ;; esac
    done
    [ -z "$pattern" ] || [ -n "$hit" ] || return
    local out rc reason reports
    if reason=$(tier_skips "$name"); then
        skipped=$((skipped + 1)); echo "SKIP $name: $reason"
        return
    fi
    local t0=$EPOCHREALTIME
    out=$("$@" 2>&1)
    rc=$?
    times+=("$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') $name")
    reports=$(tier_reports)
    if [ -n "$reports" ]; then
        failed=$((failed + 1)); echo "FAIL $name (sanitizer report)"
        printf '%s\n' "$reports" | head -40
    elif [ "$rc" -eq 0 ]; then
        passed=$((passed + 1)); echo "PASS $name"
    elif [ "$rc" -eq 77 ]; then
        reason=$(printf '%s\n' "$out" | sed -n '/[^[:space:]]/h; ${x;s/^[[:space:]]*//;p}')
        skipped=$((skipped + 1)); echo "SKIP $name: ${reason:-(no reason given)}"
    else
        failed=$((failed + 1)); echo "FAIL $name"
        [ -n "$out" ] && printf '%s\n' "$out" | head -40
    fi
    rm -f "$T"/* 2>/dev/null
}

for u in "$B"/test-*; do
    [ -f "$u" ] && [ -x "$u" ] && run_one "unit_$(basename "$u")" "$u"
done
for f in tests/e2e/*.sh; do
    . "$f"
done
for t in $(declare -F | awk '{ print $3 }' | grep '^test_'); do
    run_one "${t#test_}" "$t"
done
# where the suite's time goes (CI has a budget): the slowest tests
if [ ${#times[@]} -gt 0 ]; then
    printf '%s\n' "${times[@]}" | sort -rn | head -5 |
        awk '{ printf "slow: %ss %s\n", $1, $2 }'
    printf '%s\n' "${times[@]}" |
        awk '{ s += $1 } END { printf "time: %.0fs in %d tests\n", s, NR }'
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
