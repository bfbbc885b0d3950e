/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The window: start=, stop=, skip=, limit=, vcpu= (both front ends).
 *
 * How they compose, for every executed instruction in one global order
 * (see window.c for how that order is made):
 *   1. The static filters (ifilter=, afilter=) make an instruction
 *      *eligible*; with none, every instruction is.
 *   2. The window opens at the first execution of the instruction at
 *      start= (on any vCPU; without start= it is open from the first
 *      instruction) and closes after the first execution of the
 *      instruction at stop= that comes after the start instruction (the
 *      start instruction itself does not close it: start=A,stop=A is one
 *      round from A to A).
 *   3. Inside the window, the eligible instructions of the vCPUs in
 *      vcpu=LIST (all without it) are numbered 0, 1, 2, ... in the global
 *      order; those numbered skip .. skip+limit-1 are logged, and the
 *      window closes after the last of them.
 * start= and stop= fire whether their instruction is eligible or not; the
 * instruction that opens or closes the window is logged if it is eligible
 * (and inside skip/limit). Each vCPU's logged instructions are a
 * contiguous run of its eligible ones. Decisions are per instruction
 * (el_win_step), except that format=bin without skip= and limit= decides
 * a block that holds no start=/stop= instruction where it starts
 * (el_win_block): exact for the vCPU that fires them, and another vCPU's
 * block running at that moment is ordered before or after as a whole.
 *
 * While the window is not open, and after it closed, the plugin costs as
 * little as the QEMU API allows (compat.h, EL_HAVE_RESET): with QEMU's
 * qemu_plugin_reset (API >= 4) only the blocks that hold a start=
 * instruction are instrumented until it fires, and nothing after the
 * window closed; on API 1 every instruction keeps its callbacks, which
 * return at once.
 */
#ifndef EXECLOG_WINDOW_H
#define EXECLOG_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include <qemu-plugin.h>

#include "options.h"

/* What an instruction is to the window (el_win_flags, el_win_step). */
#define EL_WIN_START 1u         /* it is at start= */
#define EL_WIN_STOP 2u          /* it is at stop= */
#define EL_WIN_ELIGIBLE 4u      /* it passes the static filters */

/* The highest vCPU index + 1 the window follows (as the front ends). */
#define EL_WIN_VCPU_MAX 65536

/*
 * Set the window up from @o (any of start/stop/skip/limit/vcpu; nothing
 * happens without). @reregister registers every callback of the front
 * end again: qemu_plugin_reset drops them all, so a front end must
 * register everything it needs through this one function.
 */
void el_win_init(qemu_plugin_id_t id, const ElOptions *o,
                 void (*reregister)(qemu_plugin_id_t id));

/* Whether any window option was given (read at translation time). */
bool el_win_enabled(void);

/* EL_WIN_START / EL_WIN_STOP for the instruction at @pc. */
static inline unsigned el_win_flags(const ElOptions *o, uint64_t pc)
{
    return (o->has_start && pc == o->start ? EL_WIN_START : 0) |
           (o->has_stop && pc == o->stop ? EL_WIN_STOP : 0);
}

/*
 * Translation time: should a TB be instrumented now? @has_start: one of
 * its instructions is at start=. False while waiting for start= (where
 * QEMU can retranslate once it fires) or after the window closed.
 */
bool el_win_translate(bool has_start);

/* el_win_translate() for @tb, looking for start= among its instructions. */
bool el_win_translate_tb(struct qemu_plugin_tb *tb);

/*
 * Run time, from an instruction callback, before the instruction
 * executes: is this execution of an instruction (@flags: EL_WIN_*) on
 * vCPU @vcpu logged? Also remembers the answer for the vCPU's memory
 * callbacks (el_win_logging). No locks, no allocation, no printf.
 */
bool el_win_step(unsigned vcpu, unsigned flags);

/* Any skip= or limit= (every instruction then takes a ticket). */
bool el_win_counting(void);

/*
 * Run time, without skip= and limit=, from a block's callback: is the
 * block that vCPU @vcpu starts logged, all of it (a block that holds no
 * start= or stop= instruction)? Remembered as el_win_step() does.
 */
bool el_win_block(unsigned vcpu);

/* Per vCPU, a cache line each: was its last stepped instruction logged? */
typedef struct ElWinVcpu {
    bool logging;
} __attribute__((aligned(64))) ElWinVcpu;

extern ElWinVcpu el_win_vcpus[EL_WIN_VCPU_MAX];

/* Was the vCPU's last stepped instruction logged? (memory callbacks) */
static inline bool el_win_logging(unsigned vcpu)
{
    return vcpu < EL_WIN_VCPU_MAX && el_win_vcpus[vcpu].logging;
}

/* At exit: a line on stderr for a start=/stop= that never fired. */
void el_win_exit_report(void);

#endif
