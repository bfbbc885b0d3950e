/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include "vcpu.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sink.h"
#include "execlog/textfmt.h"

/* Lines are written out in batches of about this size. */
#define EL_VCPU_BUF_SIZE (1u << 20)

ElVcpu **el_vcpu_pages[EL_VCPU_PAGES];
static unsigned vcpu_count;     /* atomic */
static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * With a watcher (watcher.c), vCPU state and text buffers live in a shared
 * anonymous mapping that the watcher process sees too, with a directory of
 * the vCPUs at its start; otherwise on the heap.
 */
#define SHARED_RESERVE (2ull << 30)     /* address space, not memory */

typedef struct Shared {
    unsigned count;                     /* vCPU indexes in dir */
    ElVcpu *dir[EL_VCPU_SHARED_MAX];
} Shared;

static uint8_t *shared;
static uint64_t shared_used;            /* atomic: allocated from the bottom */
static uint64_t scratch_low;            /* scratch: allocated from the top */
static pthread_mutex_t alloc_lock = PTHREAD_MUTEX_INITIALIZER;

bool el_vcpu_share(void)
{
    void *m = mmap(NULL, SHARED_RESERVE, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    if (m == MAP_FAILED) {
        return false;
    }
    shared = m;
    shared_used = (sizeof(Shared) + 63) & ~(uint64_t)63;
    scratch_low = SHARED_RESERVE;
    return true;
}

/* @n bytes of the shared mapping, from the bottom or the top, or NULL. */
static void *shared_take(size_t n, bool scratch)
{
    uint64_t size = (n + 63) & ~(uint64_t)63;
    void *p = NULL;

    if (!shared) {
        return NULL;
    }
    pthread_mutex_lock(&alloc_lock);
    if (scratch_low - shared_used >= size) {
        if (scratch) {
            scratch_low -= size;
            p = shared + scratch_low;
        } else {
            p = shared + shared_used;
            __atomic_store_n(&shared_used, shared_used + size,
                             __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&alloc_lock);
    return p;           /* fresh pages of the mapping are zero */
}

void *el_vcpu_alloc(size_t n)
{
    void *p = shared_take(n, false);

    return p ? p : calloc(1, n);
}

void *el_vcpu_alloc_scratch(size_t n)
{
    void *p = shared_take(n, true);

    return p ? p : calloc(1, n);
}

static bool is_shared(const void *p)
{
    return shared && (const uint8_t *)p >= shared &&
           (const uint8_t *)p < shared + SHARED_RESERVE;
}

void el_vcpu_unshare(void)
{
    static bool done;

    /*
     * In a forked child: give it a private copy of the same addresses, so
     * that it no longer writes into its parent's buffers. Scratch memory
     * (at the top) is not copied: the child gets zero pages there.
     */
    uint64_t used = __atomic_load_n(&shared_used, __ATOMIC_RELAXED);
    void *copy;

    if (!shared || done) {
        return;
    }
    done = true;
    pthread_mutex_init(&alloc_lock, NULL);  /* a thread of the parent's may
                                               have held it */
    used = used < SHARED_RESERVE ? used : SHARED_RESERVE;
    copy = mmap(NULL, SHARED_RESERVE, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (copy == MAP_FAILED) {
        return;
    }
    memcpy(copy, shared, used);
    if (mremap(copy, SHARED_RESERVE, SHARED_RESERVE,
               MREMAP_MAYMOVE | MREMAP_FIXED, shared) == MAP_FAILED) {
        munmap(copy, SHARED_RESERVE);
    }
}

unsigned el_vcpu_shared_count(void)
{
    return shared ? ((Shared *)shared)->count : 0;
}

ElVcpu *el_vcpu_shared_get(unsigned index)
{
    return index < el_vcpu_shared_count() ? ((Shared *)shared)->dir[index]
                                          : NULL;
}

ElVcpu *el_vcpu_create(unsigned index, bool text)
{
    static bool warned;
    ElVcpu **page;
    ElVcpu *v;

    if (index >= EL_VCPU_MAX) {
        pthread_mutex_lock(&create_lock);
        if (!warned) {
            fprintf(stderr, "execlog: vCPU %u is beyond the %u vCPUs "
                    "execlog can follow; its instructions are not logged\n",
                    index, EL_VCPU_MAX);
            warned = true;
        }
        pthread_mutex_unlock(&create_lock);
        return NULL;
    }

    pthread_mutex_lock(&create_lock);
    page = el_vcpu_pages[index >> EL_VCPU_PAGE_BITS];
    if (!page) {
        page = el_vcpu_alloc((1u << EL_VCPU_PAGE_BITS) * sizeof(*page));
        if (!page) {
            goto oom;
        }
        __atomic_store_n(&el_vcpu_pages[index >> EL_VCPU_PAGE_BITS], page,
                         __ATOMIC_RELEASE);
    }
    v = page[index & ((1u << EL_VCPU_PAGE_BITS) - 1)];
    if (!v) {
        v = el_vcpu_alloc(sizeof(*v));
        if (!v) {
            goto oom;
        }
        v->cap = text ? EL_VCPU_BUF_SIZE : 0;
        v->buf = text ? el_vcpu_alloc(v->cap) : NULL;
        if (text && !v->buf) {
            goto oom;
        }
        v->prefix_len = (uint8_t)el_fmt_vcpu_prefix(v->prefix, index);
        __atomic_store_n(&page[index & ((1u << EL_VCPU_PAGE_BITS) - 1)], v,
                         __ATOMIC_RELEASE);
        if (index + 1 > vcpu_count) {
            __atomic_store_n(&vcpu_count, index + 1, __ATOMIC_RELEASE);
        }
        if (shared && index < EL_VCPU_SHARED_MAX && is_shared(v) &&
            is_shared(v->buf)) {
            Shared *sh = (Shared *)shared;

            sh->dir[index] = v;
            if (index + 1 > sh->count) {
                sh->count = index + 1;
            }
        }
    }
    pthread_mutex_unlock(&create_lock);
    return v;

oom:
    pthread_mutex_unlock(&create_lock);
    fprintf(stderr, "execlog: out of memory for vCPU %u; its instructions "
            "are not logged\n", index);
    return NULL;
}

unsigned el_vcpu_count(void)
{
    return __atomic_load_n(&vcpu_count, __ATOMIC_ACQUIRE);
}

/*
 * Written so that a watcher (watcher.c) that finds QEMU dead at any point
 * in here knows what is in the file and what is not: while inflight_len is
 * set, buf[0, inflight_len) is being written (written once inflight_done),
 * and the pending line is at buf[inflight_len, +inflight_pending) — the
 * move below never overwrites it, as it copies to a place that does not
 * overlap it (el_vcpu_make_room() makes sure).
 */
void el_vcpu_flush(ElVcpu *v)
{
    size_t pending = v->len - v->committed;

    if (v->committed == 0) {
        return;
    }
    v->inflight_pending = pending;
    v->inflight_done = false;
    v->inflight_at = UINT64_MAX;
    __atomic_store_n(&v->inflight_len, v->committed, __ATOMIC_RELEASE);
    el_sink_write_placed(v->buf, v->committed, &v->inflight_at);
    __atomic_store_n(&v->inflight_done, true, __ATOMIC_RELEASE);
    memmove(v->buf, v->buf + v->committed, pending);
    v->committed = 0;
    v->len = pending;
    __atomic_store_n(&v->inflight_len, 0, __ATOMIC_RELEASE);
}

void el_vcpu_settle(ElVcpu *v)
{
    size_t n = v->inflight_len;

    if (n == 0) {
        return;
    }
    if (!v->inflight_done) {
        /* maybe written in part: write it (again) where it belongs */
        el_sink_rewrite(v->buf, n, v->inflight_at);
    }
    memmove(v->buf, v->buf + n, v->inflight_pending);
    v->len = v->inflight_pending;
    v->committed = 0;
    v->inflight_len = 0;
}

void el_vcpu_make_room(ElVcpu *v, size_t need)
{
    if (v->len - v->committed <= v->committed) {
        el_vcpu_flush(v);
    }
    if (v->cap - v->len < need) {
        /*
         * One line longer than the whole buffer (an instruction with very
         * many memory accesses): rare enough to allocate for.
         */
        size_t cap = v->cap * 2 > v->len + need ? v->cap * 2 : v->len + need;
        char *buf;

        if (is_shared(v->buf)) {
            /* stay where the watcher sees it (the old one is not reused) */
            buf = el_vcpu_alloc(cap);
            if (buf) {
                memcpy(buf, v->buf, v->len);
            }
        } else {
            buf = realloc(v->buf, cap);
        }

        if (!buf) {
            /* Keep going without this one line, and say so. */
            fprintf(stderr, "execlog: out of memory for a %zu-byte line; "
                    "that line is cut short\n", v->len + need);
            v->len = 0;
            return;
        }
        v->buf = buf;
        v->cap = cap;
    }
}
