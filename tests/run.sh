#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every test: the cmocka unit tests, then each test_* function of
# tests/e2e/*.sh. Prints PASS/FAIL per test and ends with "N passed, N failed".
# Usage: tests/run.sh [PATTERN]   (run only tests whose name contains PATTERN)
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/execlog-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
export T

pattern=${1:-}
passed=0 failed=0
run_one() {
    local name=$1; shift
    case "$name" in *"$pattern"*) ;; *) return ;; esac
    local out
    if out=$("$@" 2>&1); then
        passed=$((passed + 1)); echo "PASS $name"
    else
        failed=$((failed + 1)); echo "FAIL $name"
        [ -n "$out" ] && printf '%s\n' "$out" | head -20
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
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
