/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * format=bin: writing the binary trace (docs/trace-format.md).
 *
 * Each vCPU appends records to a chunk of its own; uncompressed chunks are
 * memory-mapped from the trace file, so every record is in the kernel's page
 * cache as soon as it is written and survives QEMU being killed. With
 * compress=zstd a chunk is built in memory and written compressed, whole,
 * when it is full. Static records (instructions, TBs, devices) go to chunks
 * of their own under a lock, at translation time only.
 */
#ifndef EXECLOG_BINWRITER_H
#define EXECLOG_BINWRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "execlog/trace.h"

#define EL_BIN_MEMINFO_CACHE 16

typedef struct ElBinVcpu {
    uint8_t *pos;           /* next record goes here */
    uint8_t *end;           /* end of the current chunk's payload */
    uint8_t *count;         /* u16 count field of the current BLOCK */
    uint32_t last_tb;
    uint64_t last_vaddr;
    int64_t last_pdelta;
    uint64_t insns, loads, stores;
    /* chunk bookkeeping, see binwriter.c */
    uint8_t *chunk;         /* chunk header */
    uint64_t chunk_off;     /* its file offset */
    uint8_t *prev_chunk;    /* still mapped: may hold the current count */
    uint8_t *hold_chunk;    /* older, held while it has the current count */
    uint64_t prev_off;
    uint32_t seq;
    uint32_t vcpu;
    void *zctx;             /* zstd context, compress=zstd only */
    uint8_t *spare[3];      /* compress=zstd: chunk buffers to reuse */
    uint8_t *zout;          /* compress=zstd: a compressed chunk */
    /* qemu_plugin_meminfo_t values seen, and their MEM info bits */
    uint32_t mi_key[EL_BIN_MEMINFO_CACHE];
    uint8_t mi_bits[EL_BIN_MEMINFO_CACHE];
    bool mi_valid[EL_BIN_MEMINFO_CACHE];
    uint8_t dummy[16];      /* where counts go once recording stopped */
    struct ElBinVcpu *next; /* all writers, for fork() */
} ElBinVcpu;

typedef struct ElBinConfig {
    const char *path;
    bool zstd;
    bool system;
    uint32_t api;
    uint32_t chunk_size;    /* 0: default */
    const char *meta;       /* "key=value\n" lines */
} ElBinConfig;

/* Create the trace file. Returns 0, or -1 with a one-line message. */
int el_bin_open(const ElBinConfig *cfg, char *err, size_t errlen);

/* Add a "key=value\n" line to the header's metadata, if it fits. */
void el_bin_meta_append(const char *line);

/* Per-vCPU state; NULL when out of memory. Call at vCPU init. */
ElBinVcpu *el_bin_vcpu_new(uint32_t vcpu);

/*
 * Make room for @need bytes in @w's chunk, starting a new chunk when the
 * current one is full. False when recording has stopped (disk full).
 */
bool el_bin_room(ElBinVcpu *w, size_t need);

/* Static records, under the writer's lock (translation time). */
void el_bin_static_lock(void);
void el_bin_static_unlock(void);
void el_bin_def_insn(uint32_t id, uint64_t pc, const uint8_t *bytes,
                     uint8_t size, const char *disas, uint32_t disas_len);
void el_bin_def_tb(uint32_t id, const uint32_t *insns, uint32_t n);
/*
 * The id of the TB made of these instructions, defining it on first sight
 * (under the static lock). False when out of memory.
 */
bool el_bin_tb(const uint32_t *insns, uint32_t n, uint32_t *id);
/* Device id of @name (0 for "RAM"), defining it on first sight. Lock-free
 * lookup for known names; takes the lock for a new one. */
uint32_t el_bin_device(const char *name);

/* Seal and release the previous chunk (at the first block after a switch). */
void el_bin_finish_prev(ElBinVcpu *w);

/* Make the record at @p visible: its kind byte goes last. */
static inline void el_bin_publish(uint8_t *p, uint8_t kind)
{
    __atomic_store_n(p, kind, __ATOMIC_RELEASE);
}

/* ---- The recording path: no locks, no allocation, no printf ------------ */

/* vCPU @w starts executing TB @tb. */
static inline void el_bin_block(ElBinVcpu *w, uint32_t tb)
{
    uint8_t *p;
    size_t n;

    w->insns += el_get_u16(w->count);
    if (__builtin_expect(w->prev_chunk != NULL || w->hold_chunk != NULL, 0)) {
        el_bin_finish_prev(w);
    }
    if (__builtin_expect(!el_bin_room(w, 1 + EL_VARINT_MAX + 2), 0)) {
        w->count = w->dummy;
        return;
    }
    p = w->pos;
    n = 1 + el_put_varint(p + 1, el_zigzag((int64_t)tb - (int64_t)w->last_tb));
    p[n] = 0;
    p[n + 1] = 0;
    w->count = p + n;
    el_bin_publish(p, EL_REC_BLOCK);
    w->pos = p + n + 2;
    w->last_tb = tb;
}

/* Instruction @index (0-based) of the current block starts. */
static inline void el_bin_insn(ElBinVcpu *w, uint32_t index)
{
    el_put_u16(w->count, (uint16_t)(index + 1));
}

/* A memory access of instruction @index of the current block. */
static inline void el_bin_mem(ElBinVcpu *w, uint32_t index, uint8_t info,
                              uint64_t vaddr, uint32_t device, uint64_t paddr)
{
    uint8_t *p;
    size_t n = 1;

    if (__builtin_expect(!el_bin_room(w, 2 + 4 * EL_VARINT_MAX), 0)) {
        return;
    }
    p = w->pos;
    if (index >= 127) {
        n += el_put_varint(p + 1, index);
    }
    p[n++] = info;
    n += el_put_varint(p + n, el_zigzag((int64_t)(vaddr - w->last_vaddr)));
    w->last_vaddr = vaddr;
    if (info & EL_MEM_PHYS) {
        int64_t d = (int64_t)(paddr - vaddr);

        n += el_put_varint(p + n, device);
        n += el_put_varint(p + n, el_zigzag(d - w->last_pdelta));
        w->last_pdelta = d;
    }
    if (info & EL_MEM_STORE) {
        w->stores++;
    } else {
        w->loads++;
    }
    el_bin_publish(p, (uint8_t)(EL_REC_MEM | (index < 127 ? index : 127)));
    w->pos = p + n;
}

/* At exit: EXIT records, seal every chunk, mark the trace complete. */
void el_bin_close(ElBinVcpu **vcpus, uint32_t n);

#endif
