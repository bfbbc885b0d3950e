/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "insncache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "execlog/textfmt.h"

#define ARENA_CHUNK (1u << 20)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static ElInsn **slots;          /* open addressing, power-of-two size */
static size_t n_slots, n_used;
static char *arena;
static size_t arena_left;

/*
 * A record's disassembly lies inside its text, followed by the closing
 * quote, not by a NUL: hash and compare it by its length.
 */
static uint64_t hash_key(uint64_t pc, const uint8_t *bytes, size_t size,
                         const char *disas, size_t dl)
{
    uint64_t h = 0xcbf29ce484222325ull ^ pc;

    for (size_t i = 0; i < size; i++) {
        h = (h ^ bytes[i]) * 0x100000001b3ull;
    }
    for (size_t i = 0; i < dl; i++) {
        h = (h ^ (uint8_t)disas[i]) * 0x100000001b3ull;
    }
    return h ^ (h >> 29);
}

static bool same(const ElInsn *e, uint64_t pc, const uint8_t *bytes,
                 size_t size, const char *disas, size_t dl)
{
    return e->pc == pc && e->size == size && e->disas_len == dl &&
           memcmp(e->bytes, bytes, size) == 0 &&
           memcmp(e->disas, disas, dl) == 0;
}

static void *arena_alloc(size_t len)
{
    void *p;

    len = (len + 7) & ~(size_t)7;
    if (len > arena_left) {
        size_t chunk = len > ARENA_CHUNK ? len : ARENA_CHUNK;

        arena = malloc(chunk);
        if (!arena) {
            arena_left = 0;
            return NULL;
        }
        arena_left = chunk;
    }
    p = arena;
    arena += len;
    arena_left -= len;
    return p;
}

static bool grow(void)
{
    size_t n = n_slots ? n_slots * 2 : 4096;
    ElInsn **s = calloc(n, sizeof(*s));

    if (!s) {
        return false;
    }
    for (size_t i = 0; i < n_slots; i++) {
        ElInsn *e = slots[i];
        if (e) {
            size_t j = hash_key(e->pc, e->bytes, e->size, e->disas,
                                e->disas_len) & (n - 1);
            while (s[j]) {
                j = (j + 1) & (n - 1);
            }
            s[j] = e;
        }
    }
    free(slots);
    slots = s;
    n_slots = n;
    return true;
}

static bool all_bytes;          /* bytes=on */

void el_insn_cache_set_bytes(bool on)
{
    all_bytes = on;
}

const ElInsn *el_insn_cache_get(uint64_t pc, const uint8_t *bytes,
                                size_t size, const char *disas,
                                bool *created)
{
    ElInsn *e = NULL;
    size_t j, dl = strlen(disas);

    if (size > EL_INSN_MAX_BYTES) {
        size = EL_INSN_MAX_BYTES;
    }
    if (created) {
        *created = false;
    }
    pthread_mutex_lock(&lock);
    if ((n_used + 1) * 2 > n_slots && !grow()) {
        goto out;
    }
    j = hash_key(pc, bytes, size, disas, dl) & (n_slots - 1);
    for (; slots[j]; j = (j + 1) & (n_slots - 1)) {
        if (same(slots[j], pc, bytes, size, disas, dl)) {
            e = slots[j];
            goto out;
        }
    }
    /* "0x" 16 ", 0x" 8 (bytes=on: 2 per byte) ", \"" disas "\"" */
    e = arena_alloc(sizeof(*e) + 2 + 16 + 4 + 2 * EL_INSN_MAX_BYTES + 3 + dl +
                    1);
    if (!e) {
        goto out;
    }
    e->pc = pc;
    e->id = (uint32_t)n_used;
    e->size = (uint8_t)size;
    memset(e->bytes, 0, sizeof(e->bytes));
    memcpy(e->bytes, bytes, size);
    e->text_len = (uint32_t)(all_bytes ?
                             el_fmt_insn_bytes(e->text, pc, bytes, size,
                                               disas) :
                             el_fmt_insn(e->text, pc, el_opcode(bytes, size),
                                         disas));
    e->disas_len = (uint32_t)dl;
    e->disas = e->text + e->text_len - 1 - dl;
    slots[j] = e;
    n_used++;
    if (created) {
        *created = true;
    }
out:
    pthread_mutex_unlock(&lock);
    return e;
}

uint32_t el_insn_cache_count(void)
{
    uint32_t n;

    pthread_mutex_lock(&lock);
    n = (uint32_t)n_used;
    pthread_mutex_unlock(&lock);
    return n;
}
