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
#include <stddef.h>
#include <stdint.h>

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
 * format=bin (binregs.c): the watched registers, numbered 0 .. count - 1
 * in the order el_regs_check() looks at them; a register's name as QEMU
 * gives it and its last value read; the trace's number for it.
 */
size_t el_regs_count(const ElRegs *r);
bool el_regs_info(const ElRegs *r, size_t i, const char **name,
                  const uint8_t **value, size_t *size);
void el_regs_set_id(ElRegs *r, size_t i, uint32_t id);
/* Bytes el_regs_diff() writes at most. */
size_t el_regs_entries_max(const ElRegs *r);
/*
 * As el_regs_check(), the changed registers as entries of a REGS record
 * (docs/trace-format.md: varint id, then the value) at @out. Returns the
 * bytes written, 0 if nothing changed.
 */
size_t el_regs_diff(ElRegs *r, uint8_t *out);

/*
 * rdisas: does the operand part of @disas (after its first space) mention
 * the name of any watched register?
 */
bool el_regs_disas_mentions(const char *disas);

#endif
