/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-vCPU state and the lock-free table that finds it by vCPU index.
 *
 * Each vCPU owns a text buffer: complete lines first (buf[0, committed)),
 * then the line of the instruction it is executing now (buf[committed, len)),
 * which grows as memory accesses and register changes are appended and is
 * committed when that vCPU's next logged instruction starts. Only the vCPU's
 * own thread touches its state while it runs, so no lock is needed.
 */
#ifndef EXECLOG_VCPU_H
#define EXECLOG_VCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EL_VCPU_PAGE_BITS 8
#define EL_VCPU_PAGES 256
#define EL_VCPU_MAX (EL_VCPU_PAGES << EL_VCPU_PAGE_BITS)

struct ElRegs;

typedef struct ElVcpu {
    char *buf;
    size_t committed;
    size_t len;
    size_t cap;
    bool logged;            /* has logged an instruction */
    bool repeat_at_exit;    /* see vcpu_insn_exec_only_regs() */
    uint8_t prefix_len;
    char prefix[14];        /* "N, " */
    struct ElRegs *regs;    /* registers to watch, or NULL */
    /* a batch under way, for the watcher: see el_vcpu_flush() */
    char *inflight_buf;     /* its buffer (buf, or the other one) */
    size_t inflight_len;
    size_t inflight_pending;
    uint64_t inflight_at;
    bool inflight_done;
    bool swapped;           /* buf is the other buffer, set up */
    /* the other buffer (textwriter.h), and the writer's queue */
    char *spare;
    size_t spare_cap;
    bool queued;            /* under the writer's lock */
    struct ElVcpu *qnext;
} ElVcpu;

extern ElVcpu **el_vcpu_pages[EL_VCPU_PAGES];

/* The state of vCPU @index, or NULL if it has none. Lock-free. */
static inline ElVcpu *el_vcpu_get(unsigned index)
{
    ElVcpu **page;

    if (__builtin_expect(index >= EL_VCPU_MAX, 0)) {
        return NULL;
    }
    page = __atomic_load_n(&el_vcpu_pages[index >> EL_VCPU_PAGE_BITS],
                           __ATOMIC_ACQUIRE);
    return page ? page[index & ((1u << EL_VCPU_PAGE_BITS) - 1)] : NULL;
}

/*
 * Create the state of vCPU @index (at vCPU init or, at the latest, on its
 * first callback), with a text buffer if @text. Takes a lock; never called
 * per instruction. Returns NULL
 * if out of memory or past EL_VCPU_MAX (reported once on stderr).
 */
ElVcpu *el_vcpu_create(unsigned index, bool text);

/* vCPUs whose state a watcher can see (see el_vcpu_share). */
#define EL_VCPU_SHARED_MAX 4096

/*
 * From now on, keep vCPU state and text buffers in memory shared with a
 * process forked later (the watcher; after el_shm_init()). False if that
 * memory is refused.
 */
bool el_vcpu_share(void);

/* As el_vcpu_count() and el_vcpu_get(), through the shared directory: what
 * the watcher process sees. */
unsigned el_vcpu_shared_count(void);
ElVcpu *el_vcpu_shared_get(unsigned index);

/* Highest index with state, plus one. */
unsigned el_vcpu_count(void);

/* Make room for @need more bytes after buf[len] (flushing or growing). */
void el_vcpu_make_room(ElVcpu *v, size_t need);

static inline void el_vcpu_reserve(ElVcpu *v, size_t need)
{
    if (__builtin_expect(v->cap - v->len < need + 1, 0)) {
        el_vcpu_make_room(v, need + 1);
    }
}

/*
 * For the watcher, QEMU being dead: finish a flush that QEMU was in the
 * middle of, so that @v's buffer holds exactly what is not yet written.
 */
void el_vcpu_settle(ElVcpu *v);

/* Write out the complete lines of @v. */
void el_vcpu_flush(ElVcpu *v);

#endif
