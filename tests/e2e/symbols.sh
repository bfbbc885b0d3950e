# SPDX-License-Identifier: GPL-2.0-or-later
# The plugin loads on every QEMU it is built for: each qemu_plugin_*
# function a built plugin imports strongly is exported by each of those
# QEMUs (user and system mode); a function some of them lack must be weak
# (plugin/compat.h: optional, called through a wrapper). Then each plugin
# really loads there.

# imports SO [U|w]: the qemu_plugin_* functions SO imports (strong or weak)
imports() {
    nm -D --undefined-only "$1" | awk -v k="${2:-U}" '$1 == k && $2 ~ /^qemu_plugin_/ { print $2 }' | sort
}
# exports EXE: the qemu_plugin_* functions EXE exports
exports() {
    nm -D --defined-only "$1" | awk '$2 ~ /^[TWi]$/ && $3 ~ /^qemu_plugin_/ { print $3 }' | sort -u
}

# imports_exported API QEMU...: every strong import of the API's plugins
# (ours, the counting plugin) is exported by each QEMU
imports_exported() {
    local api=$1 q so missing; shift
    for q in "$@"; do
        [ -x "$q" ] || skip "no $q" || return
        exports "$q" > "$T/exports"
        grep -q . "$T/exports" || fail "$q exports no qemu_plugin_* function" || return 1
        for so in "$(ours "$api")" "$(counter "$api")"; do
            missing=$(imports "$so" | LC_ALL=C comm -23 - "$T/exports" | tr '\n' ' ')
            [ -z "$missing" ] || fail "${so##*/} imports what $q lacks: $missing" || return 1
        done
    done
}

test_symbols_v1_imports_exported_by_72() {
    # (not through PATH: the tier wrappers are scripts)
    imports_exported v1 /usr/bin/qemu-aarch64 /usr/bin/qemu-x86_64 \
        /usr/bin/qemu-riscv64 /usr/bin/qemu-system-aarch64
}
test_symbols_v4_imports_exported_by_100() {
    local dir=$EXECLOG_CACHE/qemu-10.0-user a bins=()
    for a in aarch64 x86_64 riscv64; do bins+=("$dir/qemu-$a"); done
    imports_exported v4 "${bins[@]}" "$EXECLOG_CACHE/qemu-10.0-system/usr/bin/qemu-system-aarch64"
}

# The optional functions are the ones QEMU 10.0 user mode lacks, and the
# v4 plugin imports them weakly (so it needs no more than that QEMU has).
test_symbols_v4_optional_are_weak() {
    local q=$EXECLOG_CACHE/qemu-10.0-user/qemu-aarch64 f
    [ -x "$q" ] || skip "no $q" || return
    imports "$(ours v4)" w > "$T/weak"
    grep -qx qemu_plugin_path_to_binary "$T/weak" \
        || fail "qemu_plugin_path_to_binary is not a weak import" || return 1
    while read -r f; do
        nm -D --defined-only "$q" | grep -qw "$f" && continue
        echo "    (QEMU 10.0 user mode lacks $f: optional, as it should be)"
    done < "$T/weak"
}

# Each plugin build loads and runs a guest on each QEMU of its generation.
loads_on() {
    local ver=$1 arch=$2
    need_user "$ver" "$arch" || return
    qemu_user "$ver" "$arch" -plugin "$(ours "$(api "$ver")"),outfile=$T/t.log" \
        "$G/$arch/basic" >/dev/null 2>"$T/err" \
        || fail "QEMU $ver failed: $(head -1 "$T/err")" || return 1
    [ ! -s "$T/err" ] || fail "QEMU $ver said: $(head -1 "$T/err")" || return 1
    [ "$(wc -l < "$T/t.log")" -gt 1000 ] || fail "only $(wc -l < "$T/t.log") lines"
}
for arch in aarch64 x86_64 riscv64; do
    eval "test_symbols_v4_loads_on_100_user_${arch}() { loads_on 10.0 $arch; }"
done
