/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Decoding one vCPU's instructions in pieces on several threads, for the
 * commands that read whole traces (dump, stats).
 *
 * A version-2 trace's vCPU chunks decode on their own (deltas restart per
 * chunk, first_insn is exact: docs/trace-format.md), so a vCPU's
 * instructions split into ranges at the instructions its chunks start
 * with (el_trace_seek_points()), and each range is decoded by a cursor of
 * its own, seeked to the range's start. The main thread takes the ranges'
 * results in order: output (buffers a worker hands over with par_put()),
 * or that a range failed.
 *
 * A range "fails" when its cursor finds anything but a clean run from the
 * range's start to its end: damage, an early end, an I/O error. The
 * caller then does that range and the rest of the vCPU the sequential
 * way, from the vCPU's start, so that what it prints and reports (the
 * lines before the damage, the message) is exactly what one cursor gives.
 * The checks one cursor makes that a seeked one does not (the EXIT
 * record's loads and stores) are the caller's to make from the ranges'
 * totals.
 */
#ifndef EXECLOG_CLI_PARALLEL_H
#define EXECLOG_CLI_PARALLEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "execlog/reader.h"

/* Instructions [lo, hi) of a vCPU; hi UINT64_MAX: to its end. */
typedef struct Range {
    uint64_t lo, hi;
} Range;

typedef struct ParJob ParJob;

/*
 * A worker's job for range @r (number @i) with cursor @c, whose next
 * el_cursor_next() returns instruction r->lo (for lo 0: a new cursor, as
 * one reading the vCPU from its start). @thread: 0 .. threads - 1, for
 * data of the worker's own. Returns true if the range decoded cleanly:
 * el_cursor_next() gave every instruction of [lo, hi) and then
 * instruction hi (for hi UINT64_MAX: returned 0), whose ElExec.offset
 * goes into *@end_off. par_range_step() is that loop's test. The first
 * instruction's ElExec.offset goes to par_first() before any output.
 */
typedef bool (*ParWorkFn)(ParJob *job, void *ctx, unsigned thread, size_t i,
                          const Range *r, ElCursor *c, uint64_t *end_off);

/* A worker's range @i starts with an instruction of ElExec.offset @offset */
void par_first(ParJob *job, size_t i, uint64_t offset);

/*
 * How many worker threads to use: EXECLOG_THREADS if set (1 .. 64),
 * else the processors online (at most 8). 1: no threads, decode the
 * sequential way.
 */
unsigned par_threads(void);

/*
 * vCPU @vcpu's ranges from instruction @from on, into a new array *@out
 * (free() it). Returns how many (2 or more), or 0 when the vCPU is not
 * worth splitting or cannot be split (see el_trace_seek_points()).
 */
size_t par_split(const ElTrace *t, uint32_t vcpu, uint64_t from,
                 Range **out);

/*
 * The loop test of a worker: given el_cursor_next()'s result @r and the
 * instruction it returned, 1 to go on with @e, 0 when the range is over
 * and cleanly so (*@ok true, *@end_off set), or over and failed (*@ok
 * false).
 */
static inline int par_range_step(int r, const ElExec *e, const Range *rg,
                                 bool *ok, uint64_t *end_off)
{
    if (r == 1 && e->index < rg->hi) {
        return 1;
    }
    *ok = r == 1 ? e->index == rg->hi : r == 0 && rg->hi == UINT64_MAX;
    if (r == 1) {
        *end_off = e->offset;
    }
    return 0;
}

/*
 * Run @work over the @n ranges of vCPU @vcpu on @threads threads. A worker
 * starts a range only when at most @window ranges from the oldest one the
 * main thread has not finished are started (bounds the output held).
 * The main thread calls @emit(@ctx, buf, len) for every buffer workers
 * handed over with par_put(), in range order and within a range in the
 * order given, as they come, and @done(@ctx, i) after range i (may be
 * NULL). When every range is done, @check(@ctx) (may be NULL) makes the
 * checks of the whole vCPU: false counts as the last range failing.
 * Returns the number of the first range that failed (also when memory
 * ran out there, or no thread could be started: 0), with *@resume the
 * instruction from which on nothing of it was emitted; @n if none did; or
 * -1 if @emit returned false.
 */
long par_run(ElTrace *t, uint32_t vcpu, const Range *ranges, size_t n,
             unsigned threads, size_t window, ParWorkFn work, void *ctx,
             bool (*emit)(void *ctx, const char *buf, size_t len),
             void (*done)(void *ctx, size_t i), bool (*check)(void *ctx),
             uint64_t *resume);

/*
 * A worker hands over output of range @i: @buf (from par_buf(), holding
 * @len bytes: whole lines, of instructions before @upto and none of a
 * later one) now belongs to the job, also when false is returned (out of
 * memory: the job then stops at this range).
 */
bool par_put(ParJob *job, size_t i, char *buf, size_t len, uint64_t upto);

/* A buffer of par_buf_size() bytes for a worker's output, or NULL. */
char *par_buf(ParJob *job);
/* Free a buffer from par_buf() or par_put() that was not handed over. */
void par_buf_release(char *buf);
size_t par_buf_size(void);

#endif
