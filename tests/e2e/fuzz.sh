# SPDX-License-Identifier: GPL-2.0-or-later
# The libFuzzer targets (tests/fuzz/fuzz_*.c, built by make fuzz with clang),
# each for a bounded time over its corpus: no crash, leak or timeout.

test_fuzz_targets_bounded_run() {
    tests/fuzz/run.sh
}
