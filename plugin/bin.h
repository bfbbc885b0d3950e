/* SPDX-License-Identifier: GPL-2.0-or-later */
/* format=bin: the front end that records a binary trace. */
#ifndef EXECLOG_BIN_H
#define EXECLOG_BIN_H

#include <stddef.h>

#include <qemu-plugin.h>

#include "options.h"

/*
 * Create the trace and register the callbacks (@argc, @argv go into the
 * trace's metadata). Returns 0, or -1 with a one-line message in @err.
 */
int el_bin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                   const ElOptions *opts, int argc, char **argv,
                   char *err, size_t errlen);

#endif
