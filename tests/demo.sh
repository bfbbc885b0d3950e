#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make demo: trace a bundled guest program and show the first lines.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp "${TMPDIR:-/tmp}/execlog-demo.XXXXXX")
trap 'rm -f "$log"' EXIT
cmd=(qemu-aarch64 -plugin "build/libexeclog-v1.so,outfile=$log" build/guests/aarch64/basic)
echo "\$ ${cmd[*]}"
"${cmd[@]}"
echo
echo "$(wc -l < "$log") instructions logged; the first 15 lines:"
head -n 15 "$log"
echo
echo "Lines with a memory access, e.g.:"
grep -m 5 -E ', (load|store), ' "$log"
