/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * reg= and rdisas=: watching registers for changes (plugin API >= 2).
 *
 * As upstream execlog: each vCPU watches the registers whose name (as QEMU
 * gives it, or lower-cased) matches a reg= glob, once per matching glob.
 * Whenever a callback that may read registers runs while a line is pending,
 * every watched register whose value changed since it was last looked at is
 * appended to that line as ", name -> 0xHEX".
 */
#ifndef EXECLOG_REGS_H
#define EXECLOG_REGS_H

#include <stdbool.h>

#include "options.h"
#include "vcpu.h"

typedef struct ElRegs ElRegs;

/*
 * The registers of the calling vCPU that @o's globs select, with their
 * current values; NULL if none. Call from the vCPU init callback.
 */
ElRegs *el_regs_init(const ElOptions *o);

/* Append the changed registers to @v's pending line. */
void el_regs_check(ElRegs *r, ElVcpu *v);

/*
 * rdisas: does the operand part of @disas (after its first space) mention
 * the name of any watched register?
 */
bool el_regs_disas_mentions(const char *disas);

#endif
