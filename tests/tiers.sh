# SPDX-License-Identifier: GPL-2.0-or-later
# Test tiers: what tests/run.sh does for a sanitizer build of ours
# (EXECLOG_SANITIZE=address: ASan+UBSan, make sanitize; thread: TSan, make
# tsan). QEMU itself is not sanitized: a wrapper put first on PATH starts
# every QEMU with the sanitizer runtime preloaded (the runtime must come
# first; our plugin then finds it). Every report, from a QEMU process, its
# watcher, the CLI or a unit test, is written under $T/sanitizer/, and any
# such file turns the test into a FAIL. Sourced by tests/lib.sh.

SANITIZE=${EXECLOG_SANITIZE:-}

# tier_setup: after $T exists
tier_setup() {
    local rep=$T/sanitizer wrap=$T/qemu-wrappers rt q real qenv common gbase
    [ -n "$SANITIZE" ] || return 0
    mkdir -p "$rep" "$wrap"
    common="halt_on_error=1:abort_on_error=0:exitcode=86:log_path=$rep/report"
    case $SANITIZE in
    address)
        rt=$(gcc -print-file-name=libasan.so)
        # leaks count in our programs; QEMU's own leaks are not ours
        export ASAN_OPTIONS="$common:detect_leaks=1"
        export UBSAN_OPTIONS="$common:print_stacktrace=1"
        # a QEMU that grows without bound becomes a report, not a
        # machine out of memory
        qenv="ASAN_OPTIONS=$common:detect_leaks=0:hard_rss_limit_mb=3072"
        ;;
    thread)
        rt=$(gcc -print-file-name=libtsan.so)
        # QEMU's own accesses are not instrumented: only races with an
        # access in our code are seen (tests/tsan.supp says what else)
        export TSAN_OPTIONS="halt_on_error=0:exitcode=86:log_path=$rep/report:ignore_noninstrumented_modules=1:suppressions=$PWD/tests/tsan.supp"
        qenv=
        ;;
    *)
        echo "tests/run.sh: EXECLOG_SANITIZE=$SANITIZE: not address or thread" >&2
        exit 1 ;;
    esac
    [ -f "$rt" ] || { echo "tests/run.sh: no sanitizer runtime $rt" >&2; exit 1; }
    for q in qemu-aarch64 qemu-x86_64 qemu-riscv64 qemu-system-aarch64 "$Q10_SYS"; do
        real=$(command -v "$q") || continue
        # user mode: the guest's mappings go where the host leaves room,
        # and the sanitizer's shadow takes QEMU's usual place, so that
        # stack addresses would differ between two QEMUs with different
        # plugins (which tests compare): a fixed guest base, and no ASLR
        gbase=
        case ${q##*/} in qemu-system-*) ;; *) gbase=QEMU_GUEST_BASE=0x200000000000 ;; esac
        printf '#!/bin/sh\nLD_PRELOAD=%s${LD_PRELOAD:+:$LD_PRELOAD} %s %s exec setarch -R %s "$@"\n' \
            "$rt" "$qenv" "$gbase" "$real" > "$wrap/${q##*/}"
        chmod +x "$wrap/${q##*/}"
    done
    PATH=$wrap:$PATH
    Q10_SYS=$wrap/${Q10_SYS##*/}
    echo "tier: $SANITIZE sanitizer, build $B"
}

# tier_skips NAME: prints why this tier does not run test NAME (and
# succeeds), or fails
tier_skips() {
    case $SANITIZE:$1 in
    address:fuzz_*|thread:fuzz_*)
        echo "the fuzz targets are ASan+UBSan builds of their own (build-fuzz), run by make check" ;;
    *) return 1 ;;
    esac
}

# tier_reports: prints the sanitizer reports written since the last call
# and removes them (warnings without a report, such as ASan's about QEMU's
# coroutines, are not reports)
tier_reports() {
    local f
    [ -n "$SANITIZE" ] || return 0
    for f in "$T"/sanitizer/report.*; do
        [ -f "$f" ] || continue
        if grep -qE '^SUMMARY: |ERROR: ' "$f"; then
            echo "    == $f"
            sed 's/^/    /' "$f"
        fi
        rm -f "$f"
    done
}
