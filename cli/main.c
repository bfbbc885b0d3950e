/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * execlog: read the binary traces written by the execlog plugin
 * (format=bin). One subcommand per file: dump.c, stats.c, info.c, diff.c,
 * export.c (one file per format: export_drcov.c, export_tenet.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: execlog COMMAND [OPTIONS] TRACE\n"
    "Read a binary trace written by the execlog QEMU plugin (format=bin).\n"
    "\n"
    "Commands:\n"
    "  dump    print the executed instructions (as format=text, csv or jsonl)\n"
    "  stats   totals, hottest instructions and addresses, instruction mix\n"
    "  info    what the trace's header and index say\n"
    "  diff    where two traces part ways (execlog diff A B)\n"
    "  export  the trace in another tool's format (--drcov: Lighthouse;\n"
    "          --tenet: Tenet)\n"
    "  help    this text, or 'execlog help COMMAND' for a command's\n"
    "\n"
    "Run 'execlog COMMAND --help' for a command's options.\n"
    "\n"
    "A trace that was cut off while recording (QEMU was killed) is read up\n"
    "to where it ends, with a note on stderr. Messages about a trace name\n"
    "the byte offset in the file where the problem is.\n"
    "\n"
    "Exit status:\n"
    "  0  success (also for a trace that was merely cut off)\n"
    "  1  usage error (bad command or option)\n"
    "  2  the trace is damaged, is not a trace, or needs a newer reader\n"
    "  3  I/O error: the trace cannot be opened or read, the output cannot\n"
    "     be written, or out of memory\n";

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        { "dump", cmd_dump },
        { "stats", cmd_stats },
        { "info", cmd_info },
        { "export", cmd_export },
        { "diff", cmd_diff },
        { "export", cmd_export },
    };
    const char *cmd;

    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("execlog 0.1.0 (trace format %d, reads min_reader up to %d)\n",
               EL_FORMAT_VERSION, EL_READER_VERSION);
        return EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0) {
        if (argc == 2) {
            fputs(usage, stdout);
            return EXIT_OK;
        }
        for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
            if (strcmp(argv[2], cmds[i].name) == 0) {
                char *args[] = { argv[2], (char *)"--help", NULL };

                return cmds[i].fn(2, args);
            }
        }
        return cli_usage(NULL, "unknown command '%s' (known: dump, stats, "
                         "info, diff, export)", argv[2]);
    }
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strcmp(cmd, cmds[i].name) == 0) {
            return cmds[i].fn(argc - 1, argv + 1);
        }
    }
    if (cmd[0] == '-') {
        return cli_usage(NULL, "unknown option '%s'", cmd);
    }
    return cli_usage(NULL, "unknown command '%s' (known: dump, stats, info, "
                     "diff, export)",
                     cmd);
}
