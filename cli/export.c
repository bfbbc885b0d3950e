/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * execlog export: write a trace in another tool's format. This file only
 * picks the format (one --FORMAT option, anywhere on the line) and hands
 * the rest of the command line to that format's own file, which parses its
 * options: export_drcov.c (Lighthouse, lightkeeper), export_tenet.c
 * (Tenet).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char export_usage[] =
    "Usage: execlog export --FORMAT [OPTIONS] TRACE\n"
    "Write the trace in another tool's format, to stdout or -o FILE.\n"
    "\n"
    "Formats:\n"
    "  --drcov   drcov coverage (Lighthouse, lightkeeper): the executed basic\n"
    "            blocks by module; 'execlog export --drcov --help' for more\n"
    "  --tenet   Tenet's text trace (the Tenet trace explorer): registers\n"
    "            and memory per instruction, from an x86_64 or i386 trace\n"
    "            with reg=* and values=on; 'execlog export --tenet --help'\n";

static const struct {
    const char *option;
    int (*fn)(int, char **);
} formats[] = {
    { "--drcov", cmd_export_drcov },
    { "--tenet", export_tenet },
};

int cmd_export(int argc, char **argv)
{
    int which = -1, at = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            break;
        }
        for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
            if (strcmp(argv[i], formats[f].option) == 0) {
                if (which >= 0) {
                    return cli_usage("export", "give one format (%s, then "
                                     "%s)", argv[at], argv[i]);
                }
                which = (int)f;
                at = i;
            }
        }
    }
    if (which < 0) {
        for (int i = 1; i < argc; i++) {
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                fputs(export_usage, stdout);
                return EXIT_OK;
            }
        }
        return cli_usage("export", "which format? (known: --drcov, "
                         "--tenet)");
    }
    /* the format's command line: argv without its --FORMAT */
    {
        char *args[argc];
        int n = 0;

        for (int i = 0; i < argc; i++) {
            if (i != at) {
                args[n++] = argv[i];
            }
        }
        args[n] = NULL;
        return formats[which].fn(n, args);
    }
}
