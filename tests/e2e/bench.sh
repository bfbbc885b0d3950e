# SPDX-License-Identifier: GPL-2.0-or-later
# The benchmark's parts, checked for function (no timing): the workload guest
# does the same work with any number of threads (its checksum says so), and
# the floor plugin of each API build loads and lets the guest run as it runs
# without it.

# the workload's checksum under plain QEMU 7.2, at scale 1, THREADS threads
workload_sum() {
    timeout "$TIMEOUT" qemu-aarch64 "$G/aarch64/workload" 1 ${1:+"$1"}
}

test_workload_threads_same_checksum_72_user() {
    local one n out
    one=$(workload_sum) || fail "workload failed" || return 1
    [[ $one =~ ^"workload scale 1 checksum "[0-9a-f]{16}$ ]] ||
        fail "workload printed '$one'" || return 1
    for n in 2 3 4 8; do
        out=$(workload_sum "$n") || fail "workload with $n threads failed" || return 1
        [ "$out" = "workload scale 1 threads $n checksum ${one##* }" ] ||
            fail "$n threads: '$out', 1 thread: '$one'" || return 1
    done
    out=$(workload_sum 9)
    [ $? -eq 1 ] && [ "$out" = "workload: threads must be 1 to 8" ] ||
        fail "9 threads: '$out'" || return 1
}

# floor_runs VER: the floor of VER's API build, with 1 and 4 guest threads
# and in each of its modes, leaves the guest's output as it is
floor_runs() {
    local ver=$1 a want n opt out opts=("" mem=rw mem=split)
    a=$(api "$ver")
    [ "$a" = v1 ] || opts+=(regs=on)
    need_user "$ver" aarch64 || return
    want=$(workload_sum 4 | awk '{ print $NF }')
    for n in 1 4; do
        for opt in "${opts[@]}"; do
            out=$(qemu_user "$ver" aarch64 \
                  -plugin "$B/libfloor-$a.so${opt:+,$opt}" \
                  "$G/aarch64/workload" 1 "$n" 2>"$T/err") ||
                fail "floor ${opt:-(default)}, $n threads: $(head -1 "$T/err")" || return 1
            [ "${out##* }" = "$want" ] ||
                fail "floor ${opt:-(default)}, $n threads: '$out'" || return 1
        done
    done
    if qemu_user "$ver" aarch64 -plugin "$B/libfloor-$a.so,mem=both" \
        "$G/aarch64/workload" 1 >/dev/null 2>"$T/err"; then
        fail "mem=both accepted"
        return 1
    fi
    grep -q "^floor: unknown option 'mem=both'" "$T/err" ||
        fail "mem=both: $(head -1 "$T/err")" || return 1
}

test_floor_runs_72_user() { floor_runs 7.2; }
test_floor_runs_100_user() { floor_runs 10.0; }
