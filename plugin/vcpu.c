/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include "vcpu.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "shm.h"
#include "sink.h"
#include "textwriter.h"
#include "execlog/textfmt.h"

/* Lines are written out in batches of about this size. */
#define EL_VCPU_BUF_SIZE (1u << 20)

ElVcpu **el_vcpu_pages[EL_VCPU_PAGES];
static unsigned vcpu_count;     /* atomic */
static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * With a watcher (watcher.c), vCPU state and text buffers live in memory
 * it shares (shm.h), with a directory of the vCPUs; otherwise on the heap.
 */
typedef struct Dir {
    unsigned count;                     /* vCPU indexes in dir */
    ElVcpu *dir[EL_VCPU_SHARED_MAX];
} Dir;

static Dir *dir;

bool el_vcpu_share(void)
{
    dir = el_shm_alloc(sizeof(*dir));
    return dir != NULL;
}

/* From shared memory if there is a directory (and room), else the heap. */
static void *vcpu_alloc(size_t n)
{
    void *p = dir ? el_shm_alloc(n) : NULL;

    return p ? p : calloc(1, n);
}

unsigned el_vcpu_shared_count(void)
{
    return dir ? dir->count : 0;
}

ElVcpu *el_vcpu_shared_get(unsigned index)
{
    return index < el_vcpu_shared_count() ? dir->dir[index] : NULL;
}

/*
 * A guest's fork (user mode) forks QEMU. The child's text buffers hold the
 * parent's complete lines that are not written yet: the parent writes
 * them, so the child drops them. The lines still pending stay: the child
 * ends them as upstream's child does (the line of the instruction that
 * forked goes out from both processes).
 */
static void drop_complete_lines(ElVcpu *v)
{
    /* (a batch with the parent's writer is the parent's to write) */
    bool mid = v->inflight_len && !v->swapped;
    size_t from = !mid ? v->committed :
                  v->buf == v->inflight_buf ? v->inflight_len : 0;
    size_t pending = mid ? v->inflight_pending : v->len - v->committed;

    memmove(v->buf, v->buf + from, pending);
    v->len = pending;
    v->committed = 0;
    v->inflight_len = 0;
}

static void after_fork_in_child(void)
{
    unsigned n = el_vcpu_count();

    pthread_mutex_init(&create_lock, NULL);
    for (unsigned i = 0; i < n; i++) {
        ElVcpu *v = el_vcpu_get(i);

        if (v && v->buf) {
            drop_complete_lines(v);
        }
    }
}

/* Said once: the watcher cannot write out what this vCPU holds. */
static void warn_uncovered(unsigned index)
{
    static bool warned;

    if (!warned) {
        warned = true;
        fprintf(stderr, "execlog: vCPU %u: no room in the memory shared with "
                "the watcher; if QEMU ends without the plugin's exit "
                "callback, what this vCPU holds then is lost\n", index);
    }
}

ElVcpu *el_vcpu_create(unsigned index, bool text)
{
    static bool fork_handled;
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
    if (!fork_handled) {
        pthread_atfork(NULL, NULL, after_fork_in_child);
        fork_handled = true;
    }
    page = el_vcpu_pages[index >> EL_VCPU_PAGE_BITS];
    if (!page) {
        page = vcpu_alloc((1u << EL_VCPU_PAGE_BITS) * sizeof(*page));
        if (!page) {
            goto oom;
        }
        __atomic_store_n(&el_vcpu_pages[index >> EL_VCPU_PAGE_BITS], page,
                         __ATOMIC_RELEASE);
    }
    v = page[index & ((1u << EL_VCPU_PAGE_BITS) - 1)];
    if (!v) {
        v = vcpu_alloc(sizeof(*v));
        if (!v) {
            goto oom;
        }
        v->cap = text ? EL_VCPU_BUF_SIZE : 0;
        v->buf = text ? vcpu_alloc(v->cap) : NULL;
        if (text && !v->buf) {
            goto oom;
        }
        v->prefix_len = (uint8_t)el_fmt_vcpu_prefix(v->prefix, index);
        __atomic_store_n(&page[index & ((1u << EL_VCPU_PAGE_BITS) - 1)], v,
                         __ATOMIC_RELEASE);
        if (index + 1 > vcpu_count) {
            __atomic_store_n(&vcpu_count, index + 1, __ATOMIC_RELEASE);
        }
        /* the watcher follows only what it shares */
        if (dir && index < EL_VCPU_SHARED_MAX && el_shm_contains(v) &&
            (!v->buf || el_shm_contains(v->buf))) {
            dir->dir[index] = v;
            if (index + 1 > dir->count) {
                dir->count = index + 1;
            }
        } else if (dir) {
            warn_uncovered(index);
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
 * set, inflight_buf[0, inflight_len) is being written (written once
 * inflight_done), and until swapped the pending line is
 * inflight_pending bytes at buf[inflight_len] if buf is still
 * inflight_buf, else at buf[0] (the other buffer); once swapped, buf, len
 * and committed are as ever. The move below never overwrites the pending
 * line, as it copies to a place that does not overlap it
 * (el_vcpu_make_room() makes sure).
 *
 * With the writer thread (textwriter.h) the batch goes to it, and the vCPU
 * goes on in its other buffer (flush_async); else the vCPU writes it.
 */
static bool flush_async(ElVcpu *v, size_t pending)
{
    char *full = v->buf;
    size_t cap = v->cap;

    if (!v->spare && el_shm_contains(v->buf)) {
        /* the other buffer, where the watcher sees it too */
        v->spare = el_shm_alloc(EL_VCPU_BUF_SIZE);
        v->spare_cap = v->spare ? EL_VCPU_BUF_SIZE : 0;
    }
    if (!v->spare || pending + 1 > v->spare_cap || !el_sink_positional()) {
        return false;
    }
    v->inflight_buf = full;
    v->inflight_pending = pending;
    v->inflight_done = false;
    v->swapped = false;
    v->inflight_at = UINT64_MAX;
    __atomic_store_n(&v->inflight_len, v->committed, __ATOMIC_RELEASE);
    if (!el_sink_claim(v->committed, &v->inflight_at)) {
        /* a write failed meanwhile: nothing more is written */
        __atomic_store_n(&v->inflight_done, true, __ATOMIC_RELEASE);
    }
    memcpy(v->spare, full + v->committed, pending);
    __atomic_store_n(&v->buf, v->spare, __ATOMIC_RELEASE);
    v->cap = v->spare_cap;
    v->len = pending;
    v->committed = 0;
    v->spare = full;
    v->spare_cap = cap;
    __atomic_store_n(&v->swapped, true, __ATOMIC_RELEASE);
    if (!__atomic_load_n(&v->inflight_done, __ATOMIC_ACQUIRE)) {
        el_textw_hand(v);
    }
    return true;
}

void el_vcpu_flush(ElVcpu *v)
{
    size_t pending = v->len - v->committed;

    if (v->committed == 0) {
        return;
    }
    /* the batch before, with the writer: written, its buffer free */
    el_textw_wait(v);
    __atomic_store_n(&v->inflight_len, 0, __ATOMIC_RELEASE);
    if (el_textw_running() && flush_async(v, pending)) {
        return;
    }
    v->inflight_buf = v->buf;
    v->inflight_pending = pending;
    v->inflight_done = false;
    v->swapped = false;
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
        el_sink_rewrite(v->inflight_buf, n, v->inflight_at);
    }
    if (!v->swapped) {
        const char *from = v->buf == v->inflight_buf ? v->buf + n : v->buf;

        memmove(v->buf, from, v->inflight_pending);
        v->len = v->inflight_pending;
        v->committed = 0;
    }
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

        if (el_shm_contains(v->buf)) {
            /* stay where the watcher sees it (the old one is not reused) */
            buf = el_shm_alloc(cap);
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
