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

# The floor registers what the recorder registers: copies of both that count
# their registrations by kind (bench/plugins/regcount.c) loaded into the same
# QEMU process, which translates each block once for both, must count the
# same. $T/floor and $T/execlog; the counts of KIND in both must be > 0.
same_registrations() {
    local k
    for k in "$@"; do
        [ "$(awk -F': ' -v k="$k" '$1 == k { print $2 }' "$T/execlog")" -gt 0 ] ||
            fail "the recorder registered no $k: $(tr '\n' ' ' < "$T/execlog")" || return 1
    done
    cmp -s "$T/floor" "$T/execlog" ||
        fail "floor: $(tr '\n' ' ' < "$T/floor")| recorder: $(tr '\n' ' ' < "$T/execlog")"
}

# regs_user VER FLOOROPT RECORDEROPT GUEST ARG... -- KIND...
regs_user() {
    local ver=$1 fo=$2 ro=$3 a args=() kinds
    shift 3
    while [ "$1" != -- ]; do args+=("$1"); shift; done
    shift
    kinds=("$@")
    a=$(api "$ver")
    need_user "$ver" aarch64 || return
    [ -e "$B/libregcount-floor-$a.so" ] || skip "no regcount builds here (sanitizer build)" || return
    rm -f "$T/floor" "$T/execlog"
    REGCOUNT_DIR=$T qemu_user "$ver" aarch64 \
        -plugin "$B/libregcount-floor-$a.so${fo:+,$fo}" \
        -plugin "$B/libregcount-execlog-$a.so,format=bin,outfile=$T/t.bin${ro:+,$ro}" \
        "${args[@]}" >/dev/null 2>"$T/err" ||
        fail "QEMU failed: $(head -1 "$T/err")" || return 1
    same_registrations "${kinds[@]}"
}

# API 1: inline counts and one MEM_RW callback while one thread runs, a
# callback per instruction after (late threads; shared memory first)
test_floor_registers_as_recorder_72_user() {
    regs_user 7.2 "" "" "$G/aarch64/workload" 1 -- tb_cb insn_inline mem_rw
}
test_floor_registers_as_recorder_72_user_threads() {
    regs_user 7.2 "" "" "$G/aarch64/workload" 1 4 -- tb_cb insn_inline insn_cb mem_rw
}
test_floor_registers_as_recorder_72_user_shared() {
    regs_user 7.2 "" "" "$G/aarch64/latethreads" shared -- tb_cb insn_inline insn_cb mem_rw
}
# API 4: per-vCPU inline counts, split load and store callbacks; reg=
test_floor_registers_as_recorder_100_user_threads() {
    regs_user 10.0 "" "" "$G/aarch64/workload" 1 4 -- tb_cb insn_inline mem_r mem_w
}
test_floor_registers_as_recorder_100_user_regs() {
    regs_user 10.0 regs=on reg=x0 "$G/aarch64/workload" 1 2 -- tb_cb_regs insn_cb_regs \
        insn_inline mem_r mem_w
}

# system mode: one vCPU counts inline on API 1, two do not; API 4 always
regs_sys() {
    local ver=$1 smp=$2 a
    shift 2
    a=$(api "$ver")
    [ -e "$B/libregcount-floor-$a.so" ] || skip "no regcount builds here (sanitizer build)" || return
    rm -f "$T/floor" "$T/execlog"
    REGCOUNT_DIR=$T sys "$ver" smp "$smp" "$B/libregcount-floor-$a.so" \
        "$B/libregcount-execlog-$a.so,format=bin,outfile=$T/t.bin" >/dev/null 2>"$T/err" ||
        fail "QEMU failed: $(head -1 "$T/err")" || return 1
    same_registrations "$@"
}
test_floor_registers_as_recorder_72_system() { regs_sys 7.2 1 tb_cb insn_inline mem_rw; }
test_floor_registers_as_recorder_72_system_smp2() { regs_sys 7.2 2 tb_cb insn_cb mem_rw; }
test_floor_registers_as_recorder_100_system_smp2() { regs_sys 10.0 2 tb_cb insn_inline mem_r mem_w; }
