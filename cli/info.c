/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * execlog info: what a trace's header and chunk index say, without
 * decoding its records.
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
    "chunks, static instructions, tbs, vcpuN.exit (the EXIT record's\n"
    "instructions, loads and stores of vCPU N), and complete: yes, or\n"
    "'no (cut off at offset 0x..., REASON)'.\n"
    "Options:\n"
    "  -h, --help   this text\n"
    "Exits 2 if the trace is damaged; a trace cut off while recording is\n"
    "not damaged. The records themselves are checked by dump and stats.\n";

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
        { NULL, 0, NULL, 0 },
    };
    const ElTraceSummary *s;
    const char *file, *mode;
    ElTrace *t;
    uint32_t n_vcpus = 0;
    int opt, rc = EXIT_OK;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
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
    printf("plugin api: %" PRIu32 "\n", s->api);
    printf("compressed: %s\n", (s->flags & EL_FLAG_ZSTD) ? "yes" : "no");
    printf("file size: %" PRIu64 "\n", s->file_size);
    printf("chunk size: %" PRIu32 "\n", s->chunk_size);
    printf("chunks: %" PRIu64 "\n", s->n_chunks);
    printf("static instructions: %" PRIu64 "\n", s->n_insns_static);
    printf("tbs: %" PRIu64 "\n", s->n_tbs);
    for (uint32_t v = 0; v < s->n_vcpus; v++) {
        uint64_t i, l, st;

        if (el_trace_exit_counts(t, v, &i, &l, &st)) {
            printf("vcpu%" PRIu32 ".exit: %" PRIu64 " instructions, %" PRIu64
                   " loads, %" PRIu64 " stores\n", v, i, l, st);
        }
    }
    if (s->complete) {
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
    if (!s->complete && s->state == EL_STATE_COMPLETE) {
        cli_msg("%s: offset 0x%" PRIx64 ": %s", file, s->cut_offset,
                s->cut_reason);
        rc = EXIT_DAMAGED;
    }
    el_trace_close(t);
    return rc;
}
