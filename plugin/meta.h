/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The metadata of a run, for the binary trace's header. */
#ifndef EXECLOG_META_H
#define EXECLOG_META_H

#include "compat.h"

/*
 * "key=value\n" lines: qemu, target, mode, vcpus, max_vcpus, options,
 * plugin. Caller frees; NULL if out of memory.
 */
char *el_meta(const qemu_info_t *info, int argc, char **argv);

#endif
