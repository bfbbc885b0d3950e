# SPDX-License-Identifier: GPL-2.0-or-later
# Seeking (`dump --from N` through the chunk index of a version-2 trace; a
# version-1 trace from its start): the output is the tail of the full dump
# from instruction N, for N at chunk boundaries, inside blocks that span
# chunks, 0, the last, past the end; several vCPUs, zstd, cut-off traces.
# File mappings (MODULE records) compared with the guest's own
# /proc/self/maps, and `export --drcov` read by a parser of the documented
# layout (below, not our writer's code).

EL=$B/execlog
PY=/usr/bin/python3

# chunk_starts TRACE VCPU: the first_insn of each of the vCPU's chunks that
# a block starts in, and whether it starts with a block's MEM records
# carried over ("span"), read from the chunk headers by the format's
# layout (docs/trace-format.md)
chunk_starts() {
    "$PY" - "$1" "$2" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
want = int(sys.argv[2])
off, ch = 4096, []
while off + 32 <= len(d) and d[off:off + 4] == b'ELCK':
    vcpu, flags, seq, slot, used, raw, first = struct.unpack_from('<HHIIIIQ', d, off + 4)
    if vcpu == want and first != 0xffffffffffffffff:
        # uncompressed: does the payload start with a MEM record?
        span = not (flags & 2) and d[off + 32] >= 0x80
        ch.append((seq, first, span))
    off += slot
for seq, first, span in sorted(ch):
    print(first, 'span' if span else '-')
EOF
}

# seek_points FULLDUMP VCPU TRACE: N to try
seek_points() {
    local total
    total=$(grep -c "^$2, " "$1")
    {
        echo 0; echo 1; echo $((total - 1)); echo "$total"; echo $((total + 7))
        chunk_starts "$3" "$2" | while read -r f span; do
            echo $((f - 3)); echo $((f - 1)); echo "$f"; echo $((f + 1))
            # a block that spans into this chunk ends just before f
            [ "$span" = span ] && echo $((f - 2))
        done
    } | awk '$1 >= 0' | sort -nu
}

# seek_check TRACE [N...]: dump --vcpu V --from N is the tail of the full
# dump's vCPU V lines from line N + 1, for every vCPU, at the seek points
seek_check() {
    local tr=$1 v n pts spans=0 tried=0
    "$EL" dump "$tr" > "$T/full.log" 2>/dev/null || [ -s "$T/full.log" ] \
        || fail "dump of $tr failed" || return 1
    for v in $(cut -d, -f1 "$T/full.log" | sort -un); do
        grep "^$v, " "$T/full.log" > "$T/full.$v"
        pts=$(seek_points "$T/full.log" "$v" "$tr")
        spans=$((spans + $(chunk_starts "$tr" "$v" | grep -c span)))
        for n in $pts; do
            "$EL" dump --vcpu "$v" --from "$n" "$tr" > "$T/part" 2>/dev/null
            tail -n +$((n + 1)) "$T/full.$v" | cmp -s - "$T/part" \
                || fail "vCPU $v --from $n is not the tail of the full dump" || return 1
            tried=$((tried + 1))
        done
    done
    [ "$tried" -gt 10 ] || fail "only $tried seek points" || return 1
    echo "$tried points, $spans chunks a block spans into"
}

test_seek_mktrace_v2() {
    local opts
    for opts in "--vcpus 3 --chunk-size 4096" "--system --chunk-size 4096" \
                "--zstd --chunk-size 4096" "--cut --vcpus 2 --chunk-size 4096" \
                "--vcpus 1 --insns 20000 --static 2000 --chunk-size 4096"; do
        "$B/mktrace" $opts --insns 6000 "$T/m.bin" || fail "mktrace $opts" || return 1
        "$EL" info "$T/m.bin" | grep -qx 'min reader: 2' || fail "not version 2" || return 1
        seek_check "$T/m.bin" || fail "mktrace $opts" || return 1
    done
}

# N all over a small trace of a few chunks (vCPU 1: every third, vCPU 0:
# every eleventh)
test_seek_mktrace_every_index() {
    local v n total
    "$B/mktrace" --vcpus 2 --insns 1800 --chunk-size 4096 "$T/m.bin" || return 1
    [ "$(chunk_starts "$T/m.bin" 1 | wc -l)" -ge 2 ] || fail "one chunk only" || return 1
    "$EL" dump "$T/m.bin" > "$T/full.log" || return 1
    for v in 0 1; do
        grep "^$v, " "$T/full.log" > "$T/full.$v"
        total=$(wc -l < "$T/full.$v")
        for n in $(seq $((v == 0 ? 5 : 1)) $((v == 0 ? 11 : 3)) $((total + 1))); do
            "$EL" dump --vcpu $v --from "$n" "$T/m.bin" > "$T/part"
            tail -n +$((n + 1)) "$T/full.$v" | cmp -s - "$T/part" \
                || fail "vCPU $v --from $n" || return 1
        done
    done
}

# version 1 (deltas carried over chunks): read, and --from decodes from the start
test_seek_mktrace_v1() {
    "$B/mktrace" --min-reader 1 --vcpus 2 --insns 5000 --chunk-size 4096 \
        --text "$T/want.txt" "$T/m.bin" || return 1
    "$EL" info "$T/m.bin" | grep -qx 'min reader: 1' || fail "not version 1" || return 1
    "$EL" dump "$T/m.bin" | cmp -s - "$T/want.txt" || fail "v1 dump differs" || return 1
    seek_check "$T/m.bin"
}

# a version-2 chunk whose header lies about its first block: damage
test_seek_first_insn_is_checked() {
    "$B/mktrace" --vcpus 1 --insns 3000 --chunk-size 4096 "$T/m.bin" || return 1
    "$PY" - "$T/m.bin" <<'EOF' || fail "no chunk to damage" || return 1
import struct, sys
p = sys.argv[1]
d = bytearray(open(p, 'rb').read())
off, n = 4096, 0
while off + 32 <= len(d) and d[off:off + 4] == b'ELCK':
    vcpu, = struct.unpack_from('<H', d, off + 4)
    seq, slot = struct.unpack_from('<II', d, off + 8)
    first, = struct.unpack_from('<Q', d, off + 24)
    if vcpu == 0 and seq == 2 and first != 2**64 - 1:
        struct.pack_into('<Q', d, off + 24, first + 1)
        open(p, 'wb').write(d)
        sys.exit(0)
    off += slot
sys.exit(1)
EOF
    "$EL" dump "$T/m.bin" > /dev/null 2> "$T/err"
    [ $? -eq 2 ] || fail "dump of a lying first_insn did not fail with 2" || return 1
    grep -q "first block starts at instruction" "$T/err" || fail "message: $(cat "$T/err")"
}

# seek_check_stream TRACE: seek_check for a trace whose dump is too big to
# keep (real runs): each point's tail of the full dump, as a digest of its
# first 5000 lines
seek_check_stream() {
    local tr=$1 v n total tried=0 spans=0 want got
    for v in $("$PY" - "$tr" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
off, vs = 4096, set()
while off + 32 <= len(d) and d[off:off + 4] == b'ELCK':
    v, = struct.unpack_from('<H', d, off + 4)
    if v != 0xffff:
        vs.add(v)
    off += struct.unpack_from('<I', d, off + 12)[0]
print(' '.join(map(str, sorted(vs))))
EOF
    ); do
        "$EL" dump --vcpu "$v" "$tr" > "$T/whole.$v" 2>/dev/null
        total=$(grep -c . "$T/whole.$v")
        spans=$((spans + $(chunk_starts "$tr" "$v" | grep -c span)))
        for n in $( { echo 0; echo 1; echo $((total - 1)); echo "$total"; echo $((total + 7))
                      chunk_starts "$tr" "$v" | while read -r f span; do
                          echo $((f - 1)); echo "$f"; echo $((f + 1))
                          [ "$span" = span ] && echo $((f - 2))
                      done; } | awk '$1 >= 0' | sort -nu); do
            # the first 5000 lines from there: where it lands, and on
            # (all of the rest, from each point of a big cut-off trace, took
            # minutes; seek_mktrace_every_index compares whole tails)
            want=$(tail -n +$((n + 1)) "$T/whole.$v" | head -n 5000 | md5sum)
            got=$("$EL" dump --vcpu "$v" --from "$n" "$tr" 2>/dev/null | head -n 5000 | md5sum)
            [ "$want" = "$got" ] || fail "vCPU $v --from $n is not the tail of the full dump" || return 1
            tried=$((tried + 1))
        done
    done
    [ "$tried" -gt 10 ] || fail "only $tried seek points" || return 1
    echo "$tried points, $spans chunks a block spans into"
}

# real QEMU 7.2: a workload of several chunks, with and without zstd
seek_real() {
    local z=${1:+,compress=zstd}
    timeout "$TIMEOUT" qemu-aarch64 -plugin "$(ours v1),format=bin,outfile=$T/t.bin$z" \
        "$G/aarch64/workload" 1 >/dev/null 2>&1 || fail "QEMU failed" || return 1
    seek_check_stream "$T/t.bin"
}
test_seek_72_user_workload() { seek_real; }
test_seek_72_user_workload_zstd() { seek_real zstd; }

# several vCPUs (threads), and a trace cut off by a guest's SIGSEGV (the
# watcher wrote out QEMU's last chunks)
test_seek_72_user_threads() {
    timeout "$TIMEOUT" qemu-aarch64 -plugin "$(ours v1),format=bin,outfile=$T/t.bin" \
        "$G/aarch64/threads" >/dev/null 2>&1 || fail "QEMU failed" || return 1
    [ "$(cut -d, -f1 <("$EL" dump "$T/t.bin") | sort -u | wc -l)" -gt 1 ] \
        || fail "one vCPU only" || return 1
    seek_check_stream "$T/t.bin"
}
# QEMU killed (SIGKILL) in the middle of a long run: the watcher wrote out
# its last chunks, the last one cut
test_seek_72_user_cut_off() {
    local pid
    qemu-aarch64 -plugin "$(ours v1),format=bin,outfile=$T/t.bin" \
        "$G/aarch64/workload" 1000 >/dev/null 2>&1 &
    pid=$!
    wait_for 60 bigger_than $((4 << 20)) "$T/t.bin" || { kill -9 $pid; fail "trace does not grow"; return 1; }
    kill -9 $pid
    wait $pid 2>/dev/null
    timeout "$TIMEOUT" flock -s "$T/t.bin" true
    "$EL" info "$T/t.bin" | grep -q '^complete: no (cut off' || fail "not cut off" || return 1
    seek_check_stream "$T/t.bin"
}

# ---- modules ------------------------------------------------------------

# mod_check ARCH [-L SYSROOT]: the trace's modules are the guest's program,
# its ld.so and libc, each exactly the span of that file's lines in the
# guest's own /proc/self/maps
mod_check() {
    local arch=$1; shift
    timeout "$TIMEOUT" "qemu-$arch" "$@" -plugin "$(ours v1),format=bin,outfile=$T/t.bin" \
        "$G/$arch/dynlib" > "$T/guest.out" 2>"$T/qemu.err" || fail "QEMU failed: $(cat "$T/qemu.err")" || return 1
    "$EL" info "$T/t.bin" > "$T/info" || fail "info failed" || return 1
    grep '^module: ' "$T/info" | sed 's/^/    /'
    local n
    n=$(grep -c '^module: ' "$T/info")
    [ "$n" -ge 3 ] || fail "$n modules" || return 1
    grep -q "^module: .* x $G/$arch/dynlib$" "$T/info" || fail "no main program" || return 1
    grep -q '^module: .*/libc\.so\.6$' "$T/info" || fail "no libc" || return 1
    grep -q '^module: .*/ld-linux-[a-z0-9_-]*\.so\.[0-9]$' "$T/info" || fail "no ld.so" || return 1
    # each module: from the first to the last line of its file in the
    # guest's maps (an anonymous gap inside is fine; another file's is not)
    grep '^module: ' "$T/info" | while read -r _ range _ off _ path; do
        local want
        want=$(awk -v p="$path" '
            $6 == p { split($1, r, "-"); if (lo == "") lo = r[1]; hi = r[2] }
            END { if (lo != "") printf "0x%s-0x%s\n", lo, hi }' "$T/guest.out")
        [ "$range" = "$want" ] || fail "$path: trace $range, guest's maps $want" || return 1
    done || return 1
    # the code the guest ran is in them: main's and puts's addresses
    local a m ok
    for a in $(sed -n 's/^puts=\(0x[0-9a-f]*\) main=\(0x[0-9a-f]*\) .*/\1 \2/p' "$T/guest.out"); do
        ok=
        while read -r _ range _ off _ path; do
            [ $((a)) -ge $((${range%-*})) ] && [ $((a)) -lt $((${range#*-})) ] && ok=1
        done < <(grep '^module: ' "$T/info")
        [ -n "$ok" ] || fail "$a is in no module" || return 1
    done
}
test_modules_72_user_aarch64_dynamic() { mod_check aarch64 -L /usr/aarch64-linux-gnu; }
# (the x86-64 guest uses the host's own libc: QEMU's libc has the same path)
test_modules_72_user_x86_64_dynamic() { mod_check x86_64; }

test_modules_72_user_static() {
    timeout "$TIMEOUT" qemu-aarch64 -plugin "$(ours v1),format=bin,outfile=$T/t.bin" \
        "$G/aarch64/basic" >/dev/null 2>&1 || fail "QEMU failed" || return 1
    "$EL" info "$T/t.bin" > "$T/info"
    grep -qx 'modules: 1' "$T/info" || fail "$(grep modules "$T/info")" || return 1
    local lo
    lo=$(readelf -lW "$G/aarch64/basic" | awk '$1 == "LOAD" { print $3; exit }')
    grep -q "^module: 0x0*$(printf %x $((lo)))-.* $G/aarch64/basic$" "$T/info" \
        || fail "module is not at the first LOAD segment ($lo): $(grep '^module:' "$T/info")"
}

test_modules_none_in_system_mode() {
    sys 7.2 hello 1 "$(ours v1),format=bin,outfile=$T/t.bin" >/dev/null 2>&1 \
        || fail "QEMU failed" || return 1
    "$EL" info "$T/t.bin" | grep -qx 'modules: 0' || fail "system mode has modules"
}

# ---- drcov --------------------------------------------------------------

# drcov_parse FILE: "M id start end offset path" and "B id start size"
# lines, by the layout of docs (DRCOV VERSION 2, module table version 4,
# 8-byte entries: u32 start, u16 size, u16 module id, little-endian)
drcov_parse() {
    "$PY" - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
pos = 0
def line():
    global pos
    i = d.index(b'\n', pos)
    s = d[pos:i].decode()
    pos = i + 1
    return s
assert line() == 'DRCOV VERSION: 2'
assert line() == 'DRCOV FLAVOR: drcov'
h = line()
assert h.startswith('Module Table: version 4, count '), h
n = int(h.rsplit(' ', 1)[1])
cols = line()
assert cols == 'Columns: id, containing_id, start, end, entry, offset, path', cols
for i in range(n):
    f = line().split(', ', 6)
    assert int(f[0]) == i and int(f[1]) == i
    print('M', i, int(f[2], 16), int(f[3], 16), int(f[5], 16), f[6])
h = line()
assert h.startswith('BB Table: ') and h.endswith(' bbs'), h
nb = int(h.split()[2])
assert len(d) - pos == 8 * nb, 'bb table is %d bytes for %d bbs' % (len(d) - pos, nb)
for k in range(nb):
    s, z, m = struct.unpack_from('<IHH', d, pos + 8 * k)
    assert m < n and z > 0
    print('B', m, s, z)
EOF
}

# the addresses the blocks cover, one per aarch64 instruction (4 bytes)
drcov_pcs() {
    "$PY" -c '
import sys
base = {}
out = set()
for l in open(sys.argv[1]):
    f = l.split()
    if f[0] == "M":
        base[f[1]] = int(f[2])
    else:
        for i in range(0, int(f[3]), 4):
            out.add("%x" % (base[f[1]] + int(f[2]) + i))
print("\n".join(sorted(out)))' "$1"
}

# user mode, dynamically linked: blocks cover exactly what executed (the
# format=text log of the same run), and a libc function's offset is its
# nm -D value
test_drcov_72_user_aarch64_dynamic() {
    local lib=/usr/aarch64-linux-gnu/lib/libc.so.6
    timeout "$TIMEOUT" qemu-aarch64 -L /usr/aarch64-linux-gnu \
        -plugin "$(ours v1),outfile=$T/text.log" \
        -plugin "$(cp "$(ours v1)" "$T/twin.so"; echo "$T/twin.so"),format=bin,outfile=$T/t.bin" \
        "$G/aarch64/dynlib" > "$T/guest.out" 2>/dev/null || fail "QEMU failed" || return 1
    "$EL" export --drcov -o "$T/t.drcov" "$T/t.bin" 2>"$T/err" || fail "export failed: $(cat "$T/err")" || return 1
    [ ! -s "$T/err" ] || fail "export said: $(cat "$T/err")" || return 1
    drcov_parse "$T/t.drcov" > "$T/parsed" || fail "the drcov file does not parse" || return 1
    drcov_pcs "$T/parsed" > "$T/drcov.pcs"
    cut -d' ' -f2 "$T/text.log" | tr -d , | sed 's/^0x//' | sort -u > "$T/text.pcs"
    [ -s "$T/text.pcs" ] || fail "no text log" || return 1
    cmp -s "$T/drcov.pcs" "$T/text.pcs" \
        || fail "blocks cover $(wc -l < "$T/drcov.pcs") addresses, the run executed $(wc -l < "$T/text.pcs")" || return 1
    # no block twice
    [ "$(grep -c '^B ' "$T/parsed")" -eq "$(grep '^B ' "$T/parsed" | sort -u | wc -l)" ] \
        || fail "a block is in the table twice" || return 1
    # puts: the guest's address less libc's base is its nm -D offset, and a
    # block starts there (the guest called it)
    local puts base mid want
    puts=$(sed -n 's/^puts=\(0x[0-9a-f]*\) .*/\1/p' "$T/guest.out")
    read -r mid base < <(awk -v l="$lib" '$1 == "M" && $6 == l { print $2, $3 }' "$T/parsed")
    [ -n "$base" ] || fail "no module $lib" || return 1
    want=$((0x$(nm -D "$lib" | awk '$3 == "puts" || $3 ~ /^puts@@/ { print $1; exit }')))
    [ $((puts - base)) -eq "$want" ] || fail "puts at $puts, libc at $base: offset $((puts - base)), nm says $want" || return 1
    awk -v m="$mid" -v o="$want" '$1 == "B" && $2 == m && $3 == o { f = 1 } END { exit !f }' "$T/parsed" \
        || fail "no block at puts (libc offset $want)"
}

# system mode: one module over the executed range, or those of --module
test_drcov_72_system() {
    sys 7.2 hello 1 "$(ours v1),outfile=$T/text.log" \
        "$(cp "$(ours v1)" "$T/twin.so"; echo "$T/twin.so"),format=bin,outfile=$T/t.bin" >/dev/null 2>&1 \
        || fail "QEMU failed" || return 1
    cut -d' ' -f2 "$T/text.log" | tr -d , | sed 's/^0x0*//' | sort -u > "$T/text.pcs"
    "$EL" export --drcov "$T/t.bin" > "$T/t.drcov" || fail "export failed" || return 1
    drcov_parse "$T/t.drcov" > "$T/parsed" || fail "does not parse" || return 1
    [ "$(grep -c '^M ' "$T/parsed")" -eq 1 ] && grep -q '^M 0 .* system$' "$T/parsed" \
        || fail "modules: $(grep '^M' "$T/parsed")" || return 1
    drcov_pcs "$T/parsed" | cmp -s - "$T/text.pcs" || fail "blocks do not cover what executed" || return 1
    "$EL" export --drcov --module kernel.elf=40000000-48000000 "$T/t.bin" > "$T/k.drcov" \
        || fail "export --module failed" || return 1
    drcov_parse "$T/k.drcov" > "$T/parsed" || return 1
    grep -qx 'M 0 1073741824 1207959552 0 kernel.elf' "$T/parsed" || fail "module: $(grep '^M' "$T/parsed")" || return 1
    drcov_pcs "$T/parsed" | cmp -s - "$T/text.pcs" || fail "blocks (--module) do not cover what executed" || return 1
    # a module that misses the code: every block left out, and said
    "$EL" export --drcov --module x=10-20 "$T/t.bin" > "$T/x.drcov" 2>"$T/err" || return 1
    grep -q "blocks left out of the drcov file: [1-9][0-9]* outside every module" "$T/err" \
        || fail "nothing said of the blocks left out: $(cat "$T/err")"
}

test_drcov_bad_input() {
    "$B/mktrace" --insns 100 "$T/m.bin" || return 1
    local a
    for a in "--module x" "--module x=20-10" "--module =1-2" "--module x=1-" "--from zz"; do
        # shellcheck disable=SC2086
        "$EL" export --drcov $a "$T/m.bin" > /dev/null 2> "$T/err"
        [ $? -eq 1 ] || fail "export --drcov $a: not a usage error" || return 1
        [ "$(wc -l < "$T/err")" -le 2 ] && grep -q '^execlog export: ' "$T/err" \
            || fail "export --drcov $a: $(cat "$T/err")" || return 1
    done
    "$EL" export "$T/m.bin" > /dev/null 2>&1
    [ $? -eq 1 ] || fail "export without a format" || return 1
    "$EL" export --drcov -o /nonexistent/x.drcov "$T/m.bin" 2> "$T/err"
    [ $? -eq 3 ] || fail "unwritable -o" || return 1
    head -c 6000 "$T/m.bin" > "$T/short.bin"
    "$EL" export --drcov "$T/short.bin" > /dev/null 2>&1
    [ $? -eq 2 ] || fail "a truncated trace is not damage"
}

# damaged traces (trace_damage.sh's helpers): `dump --from` and `export
# --drcov` give one line with the offset and exit 2, never a crash, at
# every chunk boundary and inside chunks, and for bit flips
test_seek_and_export_damaged() {
    local f=$T/t.bin size off n cuts=()
    "$B/mktrace" --vcpus 2 --insns 1500 --chunk-size 4096 "$f" || return 1
    size=$(stat -c %s "$f")
    for ((off = 4096; off < size; off += 4096)); do
        cuts+=($off $((off + 33)) $((off + 2500)))
    done
    for off in "${cuts[@]}"; do
        head -c "$off" "$f" > "$T/trunc.bin"
        for n in 0 700 1400; do
            dmg_run dump --from "$n" "$T/trunc.bin"
            dmg_sane "cut at $off, --from $n" || return 1
            [ "$dmg_rc" -eq 2 ] || fail "cut at $off, --from $n: exit $dmg_rc" || return 1
        done
        dmg_run export --drcov -o /dev/null "$T/trunc.bin"
        dmg_sane "cut at $off, export" || return 1
        [ "$dmg_rc" -eq 2 ] || fail "cut at $off, export: exit $dmg_rc" || return 1
    done
    for off in 4200 5000 9000 13000; do
        cp "$f" "$T/flip.bin"
        printf '\xff' | dd of="$T/flip.bin" bs=1 seek="$off" conv=notrunc 2>/dev/null
        for n in 0 700; do
            dmg_run dump --from "$n" "$T/flip.bin"
            dmg_sane "flip at $off, --from $n" || return 1
        done
        dmg_run export --drcov -o /dev/null "$T/flip.bin"
        # (a flipped address may leave a block outside the module: said)
        grep -q 'blocks left out of the drcov file' "$T/err" && [ "$dmg_rc" -eq 0 ] \
            && [ "$(wc -l < "$T/err")" -eq 1 ] && continue
        dmg_sane "flip at $off, export" || return 1
    done
}
