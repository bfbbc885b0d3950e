/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * execlog: log every executed guest instruction with its memory accesses.
 *
 * A drop-in replacement for QEMU's contrib/plugins/execlog: same options,
 * same lines, same filters, written without a lock, an allocation or a
 * printf-family call on the per-instruction and per-access paths.
 *
 * This file is the plugin's entry point: it reads the options and hands
 * over to a front end, format=text (text.c) or format=bin (bin.c).
 */
#include <stdio.h>

#include "bin.h"
#include "compat.h"
#include "options.h"
#include "text.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* Read by the front ends for the whole run. */
static ElOptions opts;

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
                                           const qemu_info_t *info,
                                           int argc, char **argv)
{
    char err[512];
    int r;

    if (el_options_parse(&opts, argc, argv, EL_API, err, sizeof(err)) != 0) {
        fprintf(stderr, "execlog: %s\n", err);
        return -1;
    }
    r = opts.format == EL_FORMAT_BIN ?
        el_bin_install(id, info, &opts, argc, argv, err, sizeof(err)) :
        el_text_install(id, info, &opts, err, sizeof(err));
    if (r != 0) {
        fprintf(stderr, "execlog: %s\n", err);
        el_options_free(&opts);
        return -1;
    }
    return 0;
}
