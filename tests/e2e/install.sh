# SPDX-License-Identifier: GPL-2.0-or-later
# make install: the files land where the README and the man pages say; the
# installed plugins load in real QEMU and log what the build's plugin and
# upstream execlog log in the same process; the installed CLI reads a trace
# of the installed plugin; the man pages render without a warning and
# document every plugin option (plugin/options.c's key table) and every
# command of the CLI (cli/main.c) with every option its --help lists.

# install_into DIR [MAKEVAR=VALUE...]: make install of the build under test
# into DIR with PREFIX=/usr
install_into() {
    local dir=$1; shift
    make -s install BUILD="$B" DESTDIR="$dir" PREFIX=/usr "$@" \
        > "$T/install.out" 2>&1 \
        || { sed 's/^/    /' "$T/install.out"; fail "make install failed"; }
}

# installed: one install into $T/root per run of the tests (the directory
# outlives each test's files)
R=$T/root
installed() {
    [ -f "$R/usr/bin/execlog" ] && return 0
    rm -rf "$R"
    install_into "$R"
}

# The files, their kinds, and nothing else; make uninstall removes them all.
test_install_files() {
    local d=$T/root-files got
    rm -rf "$d"
    install_into "$d" || return 1
    got=$(cd "$d" && find . \( -type f -o -type l \) | sort)
    # a build with QEMU_SRC= also has the custom plugin
    got=$(printf '%s\n' "$got" | grep -vx './usr/lib/execlog/libexeclog-custom.so')
    diff <(printf '%s\n' "$got") - <<'EOF' | sed 's/^/    /'
./usr/bin/execlog
./usr/lib/execlog/libexeclog-v1.so
./usr/lib/execlog/libexeclog-v4.so
./usr/lib/execlog/libexeclog.so
./usr/share/doc/execlog/README.md
./usr/share/doc/execlog/trace-format.md
./usr/share/man/man1/execlog.1
./usr/share/man/man7/execlog-plugin.7
EOF
    [ "${PIPESTATUS[0]}" -eq 0 ] || fail "installed files differ from the list (< got, > expected)" || return 1
    [ -x "$d/usr/bin/execlog" ] || fail "execlog is not executable" || return 1
    [ "$(readlink "$d/usr/lib/execlog/libexeclog.so")" = libexeclog-v1.so ] \
        || fail "libexeclog.so -> $(readlink "$d/usr/lib/execlog/libexeclog.so"), not libexeclog-v1.so" \
        || return 1
    cmp -s "$d/usr/share/doc/execlog/trace-format.md" docs/trace-format.md \
        || fail "trace-format.md differs from docs/" || return 1
    # the paths in the man pages are the installed ones
    grep -q '/usr/lib/execlog/libexeclog.so' "$d/usr/share/man/man7/execlog-plugin.7" \
        || fail "execlog-plugin.7 does not name /usr/lib/execlog" || return 1
    if grep -n '@[A-Z_]\{1,\}@' "$d"/usr/share/man/man*/* > "$T/placeholders"; then
        sed 's/^/    /' "$T/placeholders"
        fail "a placeholder was left in a man page"
        return 1
    fi
    # the installed plugins are the build's (meson may rewrite what is not
    # code, so compare what the dynamic loader sees: the exported symbols)
    local v
    for v in v1 v4; do
        diff <(nm -D --defined-only "$(ours $v)" | awk '{ print $3 }') \
             <(nm -D --defined-only "$d/usr/lib/execlog/libexeclog-$v.so" | awk '{ print $3 }') \
             >/dev/null || fail "installed libexeclog-$v.so exports other symbols than the build's" \
             || return 1
    done
    # DEFAULT_PLUGIN=v4 points libexeclog.so at the API 4 build; LIBDIR
    # moves the plugins, and the man page follows
    rm -rf "$d"
    install_into "$d" DEFAULT_PLUGIN=v4 LIBDIR=lib64 || return 1
    [ "$(readlink "$d/usr/lib64/execlog/libexeclog.so")" = libexeclog-v4.so ] \
        || fail "DEFAULT_PLUGIN=v4: libexeclog.so -> $(readlink "$d/usr/lib64/execlog/libexeclog.so")" \
        || return 1
    [ -f "$d/usr/lib64/execlog/libexeclog-v1.so" ] && [ ! -e "$d/usr/lib" ] \
        || fail "LIBDIR=lib64: $(cd "$d" && find usr -path '*execlog/*.so' | tr '\n' ' ')" \
        || return 1
    grep -q '/usr/lib64/execlog/libexeclog.so' "$d/usr/share/man/man7/execlog-plugin.7" \
        || fail "LIBDIR=lib64: execlog-plugin.7 does not name /usr/lib64/execlog" || return 1
    make -s uninstall BUILD="$B" > "$T/uninstall.out" 2>&1 \
        || { sed 's/^/    /' "$T/uninstall.out"; fail "make uninstall failed"; } || return 1
    got=$(find "$d" \( -type f -o -type l \) 2>/dev/null)
    [ -z "$got" ] || fail "make uninstall left: $got"
}

# The installed plugin (libexeclog.so: the API 1 build) in QEMU 7.2 user
# mode, beside the build's and upstream execlog in the same process: the
# same lines, byte for byte.
test_install_plugin_72_user() {
    installed || return 1
    timeout "$TIMEOUT" qemu-aarch64 -d plugin -D "$T/up.log" \
        -plugin "$R/usr/lib/execlog/libexeclog.so,outfile=$T/inst.log" \
        -plugin "$(ours v1),outfile=$T/build.log" \
        -plugin "$(upstream v1)" \
        "$G/aarch64/basic" >/dev/null 2>&1 || fail "QEMU failed" || return 1
    same_file "$T/inst.log" "$T/build.log" || return 1
    same_file "$T/inst.log" "$T/up.log"
}

# The installed API 4 build in QEMU 10.0 system mode, beside the build's.
test_install_plugin_100_system() {
    installed || return 1
    sys 10.0 hello 1 "$R/usr/lib/execlog/libexeclog-v4.so,outfile=$T/inst.log" \
        "$(ours v4),outfile=$T/build.log" >/dev/null 2>&1 \
        || fail "QEMU failed" || return 1
    same_file "$T/inst.log" "$T/build.log" || return 1
    grep -q ', pl011$' "$T/inst.log" || fail "no device access in the log"
}

# The installed CLI: its version is the build's; it dumps a trace recorded
# by the installed plugin as exactly the text the build's plugin printed
# in the same QEMU.
test_install_cli_dumps_trace() {
    installed || return 1
    local el=$R/usr/bin/execlog
    "$el" --version > "$T/v.inst" || fail "installed execlog --version failed" || return 1
    "$B/execlog" --version > "$T/v.build"
    same_file "$T/v.inst" "$T/v.build" || return 1
    timeout "$TIMEOUT" qemu-aarch64 \
        -plugin "$R/usr/lib/execlog/libexeclog-v1.so,format=bin,outfile=$T/t.bin,compress=zstd" \
        -plugin "$(ours v1),outfile=$T/text.log" \
        "$G/aarch64/threads" >/dev/null 2>&1 || fail "QEMU failed" || return 1
    "$el" info "$T/t.bin" > "$T/info" || fail "installed execlog info failed" || return 1
    grep -qx 'complete: yes' "$T/info" || fail "trace not complete: $(tail -1 "$T/info")" || return 1
    "$el" dump "$T/t.bin" > "$T/dump.log" || fail "installed execlog dump failed" || return 1
    # several vCPUs: dump prints vCPU 0's lines, then vCPU 1's, ...
    sort -s -t, -k1,1n "$T/text.log" | grep . > "$T/text.sorted"
    grep . "$T/dump.log" > "$T/dump.nonempty"
    same_file "$T/dump.nonempty" "$T/text.sorted"
}

# man without its seccomp sandbox (which some containers and chroots
# refuse)
export MAN_DISABLE_SECCOMP=1
# render PAGE: the page as man shows it, 80 columns, plain text
render() { MANWIDTH=80 MAN_KEEP_FORMATTING='' man -l "$1" 2>/dev/null | col -bx; }

# Both pages: no groff warning (all warnings on), no mandoc lint message
# (all levels, style included), man renders them, man finds them by name in
# the installed tree, and their NAME lines parse (what apropos and whatis
# read).
test_install_man_pages_render() {
    installed || return 1
    local t
    for t in groff man lexgrog col mandoc; do
        command -v $t >/dev/null \
            || fail "no $t: scripts/setup.sh installs man-db, groff-base, bsdextrautils and mandoc" \
            || return 1
    done
    local sec name page w
    for page in 1:execlog 7:execlog-plugin; do
        sec=${page%%:*} name=${page#*:}
        page=$R/usr/share/man/man$sec/$name.$sec
        [ -f "$page" ] || fail "no $page" || return 1
        w=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
        [ -z "$w" ] || fail "groff warns about $name.$sec: $w" || return 1
        render "$page" > "$T/page"
        [ "$(wc -l < "$T/page")" -gt 50 ] || fail "man -l $name.$sec rendered $(wc -l < "$T/page") lines" || return 1
        grep -q "^NAME" "$T/page" || fail "$name.$sec has no NAME section" || return 1
        MANWIDTH=80 man -M "$R/usr/share/man" -w "$sec" "$name" > "$T/where" 2>&1 \
            || fail "man -M ... $sec $name does not find the page: $(cat "$T/where")" || return 1
        grep -qx "$page" "$T/where" || fail "man found $(cat "$T/where"), not $page" || return 1
        lexgrog "$page" > "$T/lex" 2>&1 || fail "lexgrog: $(cat "$T/lex")" || return 1
        grep -q "\"$name - " "$T/lex" || fail "NAME line of $name.$sec: $(cat "$T/lex")" || return 1
        mandoc -Tlint -Wall "$page" > "$T/lint" 2>&1 \
            || fail "mandoc -Tlint: $(head -5 "$T/lint")" || return 1
    done
}

# section PAGETEXT HEADING: the lines of a section (HEADING at column 0) or
# subsection (at column 3) up to the next heading of the same or a higher level
section() {
    awk -v h="$2" '
        !on && ($0 == h || $0 == "   " h) { on = 1; lvl = ($0 == h) ? 0 : 3; next }
        on && lvl == 0 && /^[^ ]/ { exit }
        on && lvl == 3 && (/^[^ ]/ || /^   [^ ]/) { exit }
        on { print }
    ' "$1"
}

# has_entry TEXT ERE: TEXT (a rendered page) has a list entry (.TP) whose
# tag matches ERE: a line at column 7 that matches, followed by the entry's
# text at column 14 (a paragraph that starts with the same words goes on at
# column 7)
has_entry() {
    awk -v re="$2" 'tag && /^              [^ ]/ { found = 1; exit }
                    { tag = ($0 ~ re) }
                    END { exit !found }' "$1"
}

# Every key of plugin/options.c's table has an entry (a tag KEY=...) in
# execlog-plugin(7)'s OPTIONS.
test_install_man_plugin_options() {
    installed || return 1
    local keys k missing=
    keys=$(awk '/^static const KeyDesc keys\[\] = \{/ { t = 1; next }
                t && /^\};/ { exit }
                t && match($0, /\{ *"[a-z_]+"/) {
                    s = substr($0, RSTART, RLENGTH); gsub(/[{ "]/, "", s); print s }' \
               plugin/options.c)
    [ "$(printf '%s\n' "$keys" | grep -c .)" -ge 7 ] \
        || fail "found only these keys in plugin/options.c: $keys" || return 1
    render "$R/usr/share/man/man7/execlog-plugin.7" > "$T/page"
    section "$T/page" OPTIONS > "$T/options"
    for k in $keys; do
        has_entry "$T/options" "^       $k=" || missing="$missing $k"
    done
    [ -z "$missing" ] || fail "execlog-plugin(7) OPTIONS has no entry for:$missing"
}

# Every command of cli/main.c (its table and its --help: a line that starts
# with two spaces and the name; deeper ones go on a description) has a subsection
# in execlog(1)'s COMMANDS, with an entry for each option of its --help.
test_install_man_cli_commands() {
    installed || return 1
    local el=$R/usr/bin/execlog cmds c o opts missing=
    cmds=$( (awk '/cmds\[\] = \{/ { t = 1; next } t && /\};/ { exit }
                 t && match($0, /\{ *"[a-z]+", *cmd_/) {
                     s = substr($0, RSTART, RLENGTH); sub(/", *cmd_/, "", s)
                     gsub(/[{ "]/, "", s); print s }' cli/main.c
             "$el" --help | awk '/^Commands:/ { t = 1; next } t && !NF { exit }
                                 t && /^  [a-z]/ { print $1 }') | sort -u)
    [ "$(printf '%s\n' "$cmds" | grep -c .)" -ge 4 ] \
        || fail "found only these commands: $cmds" || return 1
    render "$R/usr/share/man/man1/execlog.1" > "$T/page"
    section "$T/page" COMMANDS > "$T/commands"
    for c in $cmds; do
        section "$T/commands" "$c" > "$T/cmd"
        if [ ! -s "$T/cmd" ]; then
            missing="$missing $c"
            continue
        fi
        [ "$c" = help ] && continue
        # the options of the command's --help: lines that start with
        # spaces and a dash, "-h, --help  text" or "--format FMT  text"
        opts=$("$el" "$c" --help | sed -n 's/^ \{1,\}\(-[^ ].*\)/\1/p' \
               | sed 's/  .*//; s/, /\n/g' | awk '{ print $1 }')
        [ -n "$opts" ] || fail "execlog $c --help lists no option" || return 1
        for o in $opts; do
            has_entry "$T/cmd" "^       ([^ ]+, )*$o( |,|\$)" \
                || missing="$missing $c:$o"
        done
    done
    [ -z "$missing" ] || fail "execlog(1) COMMANDS lacks:$missing"
}
