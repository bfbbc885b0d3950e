/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * reg= with format=bin: the watched registers in the binary trace.
 *
 * Each register is defined once, in a REG record (its number, size, name
 * as QEMU gives it, and its value when the first vCPU watching it was
 * initialised). Per instruction, a REGS record holds the registers whose
 * value changed: what format=text appends to the instruction's line. The
 * registers are read and compared exactly when format=text does (regs.c):
 * when the next instruction starts — for a block's first instruction in
 * the callback at the start of the block, which runs just before it, for
 * the others in a callback of their own — so that `execlog dump` prints
 * the same lines.
 */
#ifndef EXECLOG_BINREGS_H
#define EXECLOG_BINREGS_H

#include <stdbool.h>
#include <stdint.h>

#include "binwriter.h"
#include "options.h"

/* At install: whether registers are recorded (reg= was given). */
void el_binregs_init(const ElOptions *o);

/* Are registers recorded? */
bool el_binregs_on(void);

/*
 * At the init of vCPU @vcpu, on its thread: read its watched registers,
 * define those the trace does not have yet. Once per vCPU index.
 */
void el_binregs_vcpu_init(unsigned vcpu);

/*
 * Instruction @index of @w's current block has ended (the next one
 * starts): a REGS record of what it changed, if anything.
 */
void el_binregs_write(ElBinVcpu *w, unsigned vcpu, uint32_t index);

#endif
