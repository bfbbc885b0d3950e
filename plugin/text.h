/* SPDX-License-Identifier: GPL-2.0-or-later */
/* format=text: the front end that prints upstream execlog's lines. */
#ifndef EXECLOG_TEXT_H
#define EXECLOG_TEXT_H

#include <stddef.h>

#include <qemu-plugin.h>

#include "options.h"

/*
 * Open the output and register the callbacks; @opts stays in use for the
 * whole run. Returns 0, or -1 with a one-line message in @err.
 */
int el_text_install(qemu_plugin_id_t id, const qemu_info_t *info,
                    const ElOptions *opts, char *err, size_t errlen);

#endif
