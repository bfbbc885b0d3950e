/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * execlog info: what a trace's header and chunk index say, and whether its
 * records decode (all of them, unless --quick).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char info_usage[] =
    "Usage: execlog info [OPTIONS] TRACE\n"
    "What the trace's header and chunk index say, one 'name: value' per\n"
    "line: format version, min reader, qemu (QEMU's version), target, mode\n"
    "(user or system), binary (user mode), vcpus (vCPUs with records),\n"
    "max vcpus, options (the plugin's options of the run), plugin, plugin\n"
    "api, compressed (yes: zstd chunks), file size (bytes), chunk size,\n"
    "chunks, static instructions, tbs, registers (reg= with format=bin:\n"
    "how many, and their names), vcpuN.exit (the EXIT record's\n"
    "instructions, loads and stores of vCPU N), and complete: yes, or\n"
    "'no (cut off at offset 0x..., REASON)'.\n"
    "Unless --quick, every record is decoded first (a progress bar on a\n"
    "terminal), so that 'complete' also covers damage inside the records.\n"
    "Options:\n"
    "  -q, --quick  only the header and the chunk index\n"
    "  -h, --help   this text\n"
    "Exits 2 if the trace is damaged; a trace cut off while recording is\n"
    "not damaged.\n";

/*
 * Decode every record of every vCPU. False with @err at the first damage
 * (or when out of memory).
 */
static bool check_records(ElTrace *t, ElError *err)
{
    const ElTraceSummary *s = el_trace_summary(t);
    Progress pg;
    uint64_t base = 0;
    bool ok = true;

    progress_init(&pg, s->file_size);
    for (uint32_t v = 0; v < s->n_vcpus && ok; v++) {
        ElCursor *c;
        ElExec e;
        uint64_t n = 0;
        int r;

        if (!el_trace_has_vcpu(t, v)) {
            continue;
        }
        c = el_cursor_new(t, v, err);
        if (!c) {
            ok = false;
            break;
        }
        while ((r = el_cursor_next(c, &e, err)) == 1) {
            if ((++n & 0xfffff) == 0) {
                progress_update(&pg, base + el_cursor_progress(c));
            }
        }
        ok = r == 0;
        base += el_cursor_progress(c);
        el_cursor_free(c);
    }
    progress_end(&pg);
    return ok;
}

static void meta_line(ElTrace *t, const char *name, const char *key)
{
    const char *v = el_trace_meta(t, key);

    if (v) {
        printf("%s: %s\n", name, v);
    }
}

int cmd_info(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "quick", no_argument, NULL, 'q' },
        { NULL, 0, NULL, 0 },
    };
    ElError rec_err = { 0 };
    bool quick = false, records_ok = true;
    const ElTraceSummary *s;
    const char *file, *mode;
    ElTrace *t;
    uint32_t n_vcpus = 0;
    int opt, rc = EXIT_OK;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
        switch (opt) {
        case 'q':
            quick = true;
            break;
        case 'h':
            fputs(info_usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage("info", "unknown option '%s'", argv[optind - 1]);
        }
    }
    t = cli_open_arg("info", argc, argv, optind, &file, &rc);
    if (!t) {
        return rc;
    }
    s = el_trace_summary(t);
    if (!quick) {
        records_ok = check_records(t, &rec_err);
        if (!records_ok && (rec_err.code == EL_ERR_IO ||
                            rec_err.code == EL_ERR_NOMEM)) {
            rc = cli_trace_error(file, &rec_err);
            el_trace_close(t);
            return rc;
        }
    }
    for (uint32_t v = 0; v < s->n_vcpus; v++) {
        n_vcpus += el_trace_has_vcpu(t, v);
    }
    printf("format version: %u\n", (unsigned)s->version);
    printf("min reader: %u\n", (unsigned)s->min_reader);
    meta_line(t, "qemu", "qemu");
    meta_line(t, "target", "target");
    mode = el_trace_meta(t, "mode");
    printf("mode: %s\n", mode ? mode :
           (s->flags & EL_FLAG_SYSTEM) ? "system" : "user");
    meta_line(t, "binary", "binary");
    printf("vcpus: %" PRIu32 "\n", n_vcpus);
    meta_line(t, "max vcpus", "max_vcpus");
    meta_line(t, "options", "options");
    meta_line(t, "plugin", "plugin");
    meta_line(t, "parent", "parent");
    /* a forked guest's children, each recorded into a trace of its own */
    for (const char *m = s->meta; m && (m = strstr(m, "child=")) != NULL;
         m++) {
        if (m == s->meta || m[-1] == '\n') {
            printf("child: %.*s\n", (int)strcspn(m + 6, "\n"), m + 6);
        }
    }
    printf("plugin api: %" PRIu32 "\n", s->api);
    printf("compressed: %s\n", (s->flags & EL_FLAG_ZSTD) ? "yes" : "no");
    if (s->flags & EL_FLAG_PARTIAL) {
        printf("partial: yes (filters or a window chose what was recorded)\n");
    }
    printf("file size: %" PRIu64 "\n", s->file_size);
    printf("chunk size: %" PRIu32 "\n", s->chunk_size);
    printf("chunks: %" PRIu64 "\n", s->n_chunks);
    printf("static instructions: %" PRIu64 "\n", s->n_insns_static);
    printf("tbs: %" PRIu64 "\n", s->n_tbs);
    if (el_trace_n_regs(t) > 0) {
        /* reg= with format=bin: the registers, as QEMU names them */
        printf("registers: %zu (", el_trace_n_regs(t));
        for (size_t i = 0; i < el_trace_n_regs(t); i++) {
            printf("%s%s", i ? " " : "", el_trace_reg(t, i)->name);
        }
        printf(")\n");
    }
    printf("modules: %zu\n", el_trace_n_modules(t));
    for (size_t i = 0; i < el_trace_n_modules(t); i++) {
        const ElModule *m = el_trace_module(t, i);

        printf("module: 0x%" PRIx64 "-0x%" PRIx64 " offset 0x%" PRIx64
               "%s %s\n", m->start, m->end, m->offset,
               m->executable ? " x" : "", m->path);
    }
    for (uint32_t v = 0; v < s->n_vcpus; v++) {
        uint64_t i, l, st;

        if (el_trace_exit_counts(t, v, &i, &l, &st)) {
            printf("vcpu%" PRIu32 ".exit: %" PRIu64 " instructions, %" PRIu64
                   " loads, %" PRIu64 " stores\n", v, i, l, st);
        }
    }
    if (!records_ok) {
        printf("complete: no (damaged at offset 0x%" PRIx64 ", %s)\n",
               rec_err.offset, rec_err.msg);
    } else if (s->complete) {
        printf("complete: yes\n");
    } else {
        printf("complete: no (%s at offset 0x%" PRIx64 ", %s)\n",
               s->state == EL_STATE_COMPLETE ? "damaged" :
               s->being_written ? "still being written; so far" : "cut off",
               s->cut_offset, s->cut_reason);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_msg("cannot write the output");
        el_trace_close(t);
        return EXIT_IO;
    }
    rc = EXIT_OK;
    if (!records_ok) {
        rc = cli_trace_error(file, &rec_err);
    } else if (!s->complete && s->state == EL_STATE_COMPLETE) {
        cli_msg("%s: offset 0x%" PRIx64 ": %s", file, s->cut_offset,
                s->cut_reason);
        rc = EXIT_DAMAGED;
    }
    el_trace_close(t);
    return rc;
}
