/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The reader's errors: a code, the file offset, a one-line message. The
 * library never prints; the caller decides what to say.
 */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

void rd_set_err(ElError *err, ElErrorCode code, uint64_t off,
                const char *fmt, ...)
{
    va_list ap;

    if (!err) {
        return;
    }
    err->code = code;
    err->offset = off;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}
