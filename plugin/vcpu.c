/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vcpu.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink.h"
#include "execlog/textfmt.h"

/* Lines are written out in batches of about this size. */
#define EL_VCPU_BUF_SIZE (1u << 20)

ElVcpu **el_vcpu_pages[EL_VCPU_PAGES];
static unsigned vcpu_count;     /* atomic */
static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;

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
        page = calloc(1u << EL_VCPU_PAGE_BITS, sizeof(*page));
        if (!page) {
            goto oom;
        }
        __atomic_store_n(&el_vcpu_pages[index >> EL_VCPU_PAGE_BITS], page,
                         __ATOMIC_RELEASE);
    }
    v = page[index & ((1u << EL_VCPU_PAGE_BITS) - 1)];
    if (!v) {
        v = calloc(1, sizeof(*v));
        if (!v) {
            goto oom;
        }
        v->cap = text ? EL_VCPU_BUF_SIZE : 0;
        v->buf = text ? malloc(v->cap) : NULL;
        if (text && !v->buf) {
            free(v);
            goto oom;
        }
        v->prefix_len = (uint8_t)el_fmt_vcpu_prefix(v->prefix, index);
        __atomic_store_n(&page[index & ((1u << EL_VCPU_PAGE_BITS) - 1)], v,
                         __ATOMIC_RELEASE);
        if (index + 1 > vcpu_count) {
            __atomic_store_n(&vcpu_count, index + 1, __ATOMIC_RELEASE);
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

void el_vcpu_flush(ElVcpu *v)
{
    size_t pending = v->len - v->committed;

    el_sink_write(v->buf, v->committed);
    memmove(v->buf, v->buf + v->committed, pending);
    v->committed = 0;
    v->len = pending;
}

void el_vcpu_make_room(ElVcpu *v, size_t need)
{
    el_vcpu_flush(v);
    if (v->cap - v->len < need) {
        /*
         * One line longer than the whole buffer (an instruction with very
         * many memory accesses): rare enough to allocate for.
         */
        size_t cap = v->cap * 2 > v->len + need ? v->cap * 2 : v->len + need;
        char *buf = realloc(v->buf, cap);

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
