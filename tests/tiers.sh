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
    local rep=$T/sanitizer wrap=$T/qemu-wrappers rt q real qenv common gbase pre unset_pre
    [ -n "$SANITIZE" ] || return 0
    mkdir -p "$rep" "$wrap"
    common="halt_on_error=1:abort_on_error=0:exitcode=86:log_path=$rep/report"
    case $SANITIZE in
    address)
        # build-sanitize is a clang build (see Makefile)
        rt=$(clang -print-file-name=libclang_rt.asan-x86_64.so)
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
        # access in our code are seen; how QEMU hands a translated block
        # to the vCPUs, tests/tsan/publish.c tells TSan; the watcher is a
        # fork of the multi-threaded QEMU
        export TSAN_OPTIONS="halt_on_error=0:exitcode=86:log_path=$rep/report:ignore_noninstrumented_modules=1:die_after_fork=0"
        qenv=
        ;;
    *)
        echo "tests/run.sh: EXECLOG_SANITIZE=$SANITIZE: not address or thread" >&2
        exit 1 ;;
    esac
    [ -f "$rt" ] || { echo "tests/run.sh: no sanitizer runtime $rt" >&2; exit 1; }
    for q in qemu-aarch64 qemu-x86_64 qemu-riscv64 qemu-system-aarch64 "$Q10_SYS"; do
        real=$(command -v "$q") || continue
        # ASan, user mode: the guest's mappings go where the host leaves
        # room, and ASan's shadow takes QEMU's usual place, so that stack
        # addresses would differ between two QEMUs with different plugins
        # (which tests compare): a fixed guest base (not for TSan: that is
        # its shadow), and no ASLR. And tests/asan/exit_now.c: QEMU 7.2
        # user mode with ASan hangs in exit() once it has opened a plugin.
        pre=$rt gbase=
        case $SANITIZE:${q##*/} in
        address:qemu-system-*) ;;
        address:*)
            pre=$rt:$B/libasan-exit-now.so gbase=QEMU_GUEST_BASE=0x200000000000 ;;
        esac
        # user mode: the runtime is QEMU's, not the guest's (a dynamically
        # linked x86-64 guest's loader would load it too, and die)
        unset_pre=
        case ${q##*/} in qemu-system-*) ;; *) unset_pre="-U LD_PRELOAD" ;; esac
        printf '#!/bin/sh\nLD_PRELOAD=%s${LD_PRELOAD:+:$LD_PRELOAD} %s %s exec setarch -R %s %s "$@"\n' \
            "$pre" "$qenv" "$gbase" "$real" "$unset_pre" > "$wrap/${q##*/}"
        chmod +x "$wrap/${q##*/}"
    done
    # QEMU 10.0 user mode (not on PATH): wrappers of the same kind
    mkdir -p "$wrap/q10user"
    for q in "$Q10_USER"/qemu-*; do
        [ -x "$q" ] || continue
        printf '#!/bin/sh\nLD_PRELOAD=%s${LD_PRELOAD:+:$LD_PRELOAD} %s %s exec setarch -R %s -U LD_PRELOAD "$@"\n' \
            "$rt" "$qenv" "$([ "$SANITIZE" = address ] && echo QEMU_GUEST_BASE=0x200000000000)" \
            "$q" > "$wrap/q10user/${q##*/}"
        chmod +x "$wrap/q10user/${q##*/}"
    done
    Q10_USER=$wrap/q10user
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
    thread:*system*)
        # measured with libtsan preloaded: QEMU 7.2 system mode aborts at
        # its first coroutine switch, 10.0 dies of SIGSEGV before main
        # (even for -version)
        echo "QEMU system mode cannot run under TSan unless QEMU is built with it (7.2: its coroutines switch stacks with siglongjmp and TSan aborts, 'can't find longjmp buf'; 10.0: SIGSEGV at start)" ;;
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
