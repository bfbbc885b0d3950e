/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include "shm.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define RESERVE (2ull << 30)        /* address space, not memory */
#define ALIGN 64

/*
 * At the start of the mapping: where the bottom ends (low 32 bits) and
 * where the top begins (high 32 bits), in one word so that one
 * compare-and-swap moves either without the two ever overlapping.
 */
typedef struct Header {
    uint64_t bounds;                /* atomic */
} Header;

static uint8_t *base;
static bool fork_child;
static uint8_t *snapshot;           /* the parent's copy for its child */
static uint64_t snapshot_len;

static inline uint64_t bottom_of(uint64_t b)
{
    return (uint32_t)b;
}

static inline uint64_t top_of(uint64_t b)
{
    return b >> 32;
}

static inline uint64_t bounds(uint64_t bottom, uint64_t top)
{
    return top << 32 | bottom;      /* both <= RESERVE = 2^31 */
}

/*
 * Runs in the parent just before fork(): copy the bottom, so that the
 * child starts from the state of this moment. (vCPU threads other than
 * the forking one run on meanwhile: their state is copied as it is, as
 * any fork of a threaded process copies memory.)
 */
static void before_fork(void)
{
    uint64_t used;

    if (!base || fork_child) {
        return;
    }
    used = bottom_of(__atomic_load_n(&((Header *)base)->bounds,
                                     __ATOMIC_ACQUIRE));
    /* shared, so that the child's own watcher can share it too */
    snapshot = mmap(NULL, RESERVE, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (snapshot == MAP_FAILED) {
        snapshot = NULL;
        return;
    }
    memcpy(snapshot, base, used);
    snapshot_len = used;
}

static void after_fork_in_parent(void)
{
    if (snapshot) {
        munmap(snapshot, RESERVE);
        snapshot = NULL;
    }
}

/* In the child: the copy takes the place of the shared memory. */
static void after_fork_in_child(void)
{
    if (!base || fork_child) {
        return;
    }
    fork_child = true;
    if (!snapshot) {
        /* no copy from before the fork: take one now, as late as it is */
        uint64_t used = bottom_of(((Header *)base)->bounds);

        snapshot = mmap(NULL, RESERVE, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (snapshot == MAP_FAILED) {
            snapshot = NULL;
        } else {
            memcpy(snapshot, base, used);
        }
    }
    if (!snapshot ||
        mremap(snapshot, RESERVE, RESERVE, MREMAP_MAYMOVE | MREMAP_FIXED,
               base) == MAP_FAILED) {
        fprintf(stderr, "execlog: guest forked: no memory for the child's "
                "copy of the plugin's buffers; the child's trace may mix "
                "with its parent's\n");
    }
    snapshot = NULL;
}

bool el_shm_init(void)
{
    void *m = mmap(NULL, RESERVE, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    if (m == MAP_FAILED) {
        return false;
    }
    base = m;
    ((Header *)base)->bounds = bounds((sizeof(Header) + ALIGN - 1) &
                                      ~(uint64_t)(ALIGN - 1), RESERVE);
    pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
    return true;
}

static void *take(size_t n, bool scratch)
{
    uint64_t size = ((uint64_t)n + ALIGN - 1) & ~(uint64_t)(ALIGN - 1);
    Header *h = (Header *)base;
    uint64_t b, next, bottom, top;

    if (!base || n == 0 || size > RESERVE) {
        return NULL;
    }
    b = __atomic_load_n(&h->bounds, __ATOMIC_ACQUIRE);
    do {
        bottom = bottom_of(b);
        top = top_of(b);
        if (top - bottom < size) {
            return NULL;
        }
        next = scratch ? bounds(bottom, top - size)
                       : bounds(bottom + size, top);
    } while (!__atomic_compare_exchange_n(&h->bounds, &b, next, false,
                                          __ATOMIC_ACQ_REL,
                                          __ATOMIC_ACQUIRE));
    return base + (scratch ? top - size : bottom); /* fresh pages are 0 */
}

void *el_shm_alloc(size_t n)
{
    return take(n, false);
}

void *el_shm_alloc_scratch(size_t n)
{
    return take(n, true);
}

bool el_shm_contains(const void *p)
{
    return base && (const uint8_t *)p >= base &&
           (const uint8_t *)p < base + RESERVE;
}

bool el_shm_is_fork_child(void)
{
    return fork_child;
}
