/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * format=bin: writing the binary trace (docs/trace-format.md).
 *
 * Each vCPU appends records to a chunk of its own: a buffer it reuses, in
 * memory shared with the watcher process (vcpu.c, watcher.c). A full chunk
 * is handed to a writer thread, which compresses it (compress=zstd) and
 * writes it at a place of its own in the file; the vCPU goes on in another
 * buffer. If QEMU ends without the plugin's exit callback (SIGKILL, or a
 * guest killed by a signal in QEMU 7.2 user mode), the watcher writes out
 * every chunk QEMU still held, the one being filled included. Static
 * records (instructions, TBs, devices) go to chunks of their own, under a
 * lock, at translation time only, in a buffer the watcher shares too; the
 * file has them at the end of each translation (pwrite). Nothing of the
 * file is ever mapped: a full file system stops the recording with a
 * message, never QEMU. A guest's fork (user mode) starts a trace of its
 * own for the child, PATH.PID.
 */
#ifndef EXECLOG_BINWRITER_H
#define EXECLOG_BINWRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "execlog/format.h"

#define EL_BIN_MEMINFO_BITS 6
#define EL_BIN_MEMINFO_CACHE (1u << EL_BIN_MEMINFO_BITS)
#define EL_BIN_BUFS 8           /* chunk buffers per vCPU, at most */

/* A chunk buffer: a chunk's header and payload (chunk_size bytes). */
typedef struct ElBinBuf {
    uint8_t *data;
    uint32_t state;         /* EL_BUF_*: atomic */
    uint32_t seq;           /* the chunk's sequence number */
    uint64_t off;           /* EL_BUF_PLACED: where it is being written */
    uint32_t len;           /* EL_BUF_PLACED: how many bytes */
    bool zipped;            /* EL_BUF_PLACED: compressed (the bytes are in
                               the writer's output buffer) */
    struct ElBinBuf *qnext; /* the writer's queue */
} ElBinBuf;

enum {
    EL_BUF_FREE,            /* reusable */
    EL_BUF_VCPU,            /* the vCPU's: being filled, or held */
    EL_BUF_QUEUED,          /* full, waiting for the writer */
    EL_BUF_WRITING,         /* the writer compresses it */
    EL_BUF_PLACED,          /* the writer writes it at off */
};

/*
 * The recording path writes a record while pos < limit: limit is
 * EL_BIN_FAST_ROOM bytes before the chunk's end (room for the largest
 * BLOCK or MEM record), or pos itself while the next block start has a chunk's bookkeeping to do (a new
 * chunk's first_insn, the previous chunk to hand on), so that one
 * comparison covers all of it.
 */
#define EL_BIN_FAST_ROOM (2 + 6 * EL_VARINT_MAX)

typedef struct ElBinVcpu {
    uint8_t *pos;           /* next record goes here */
    uint8_t *limit;         /* see EL_BIN_FAST_ROOM */
    uint8_t *end;           /* end of the current chunk's payload */
    uint8_t *count;         /* u16 count field of the open BLOCK */
    uint32_t open_count;    /* the count as known so far: the record's
                               field is only stored to, never read back */
    uint32_t last_tb;
    bool open_counted;      /* the open block's count is counted inline */
    uint64_t live;          /* API 1, one vCPU: what the inline ops count */
    uint64_t last_vaddr;
    int64_t last_pdelta;
    uint64_t insns, loads, stores;
    uint8_t *first_at;      /* the current chunk's first_insn field, until
                               a block starts in it (then NULL) */
    /* chunk bookkeeping, see binwriter.c */
    ElBinBuf *cur;          /* being filled */
    ElBinBuf *prev;         /* full, kept until the next block: it may
                               hold the open block's count */
    ElBinBuf *hold;         /* older, held while it has that count */
    ElBinBuf bufs[EL_BIN_BUFS];
    uint32_t n_bufs;
    uint32_t seq;
    uint32_t vcpu;
    /* qemu_plugin_meminfo_t values seen (| 1 << 32; 0: none), and their
     * MEM info bits */
    uint64_t mi_key[EL_BIN_MEMINFO_CACHE];
    uint8_t mi_bits[EL_BIN_MEMINFO_CACHE];
    uint8_t dummy[16];      /* where counts go once recording stopped */
    struct ElBinVcpu *next; /* all writers */
} ElBinVcpu;

typedef struct ElBinConfig {
    const char *path;
    bool zstd;
    bool system;
    uint32_t api;
    uint32_t chunk_size;    /* 0: default */
    uint16_t min_reader;    /* 0: 1 */
    const char *meta;       /* "key=value\n" lines */
    bool partial;           /* filters or a window: EL_FLAG_PARTIAL */
} ElBinConfig;

/*
 * Create the trace file. Returns 0, or -1 with a one-line message. Call
 * after el_vcpu_share(), before the watcher starts.
 */
int el_bin_open(const ElBinConfig *cfg, char *err, size_t errlen);

/* The trace file's descriptor (for the watcher). */
int el_bin_fd(void);

/*
 * Start the writer thread (after the watcher is forked). Without it, full
 * chunks are written by the vCPU that filled them.
 */
void el_bin_start_writer(void);

/*
 * In the watcher, QEMU being dead without an exit callback: write every
 * chunk QEMU still held to @fd, the trace staying marked incomplete.
 */
void el_bin_salvage(int fd);

/* Add a "key=value\n" line to the header's metadata, if it fits. */
void el_bin_meta_append(const char *line);

/* Per-vCPU state; NULL when out of memory. Call at vCPU init. */
ElBinVcpu *el_bin_vcpu_new(uint32_t vcpu);

/*
 * Make room for @need bytes in @w's chunk, starting a new chunk when the
 * current one is full. False when recording has stopped (disk full).
 */
bool el_bin_room_slow(ElBinVcpu *w, size_t need);

static inline bool el_bin_room(ElBinVcpu *w, size_t need)
{
    if (__builtin_expect(w->end - w->pos >= (ptrdiff_t)need, 1)) {
        return true;
    }
    return el_bin_room_slow(w, need);
}

/* Static records, under the writer's lock (translation time). */
void el_bin_static_lock(void);
void el_bin_static_unlock(void);
void el_bin_def_insn(uint32_t id, uint64_t pc, const uint8_t *bytes,
                     uint8_t size, const char *disas, uint32_t disas_len);
void el_bin_def_tb(uint32_t id, const uint32_t *insns, uint32_t n);
/* Any other static record, kind byte first (@len bytes, < a chunk). */
bool el_bin_static_rec(const uint8_t *rec, size_t len);
/*
 * The id of the TB made of these instructions, defining it on first sight
 * (under the static lock). False when out of memory.
 */
bool el_bin_tb(const uint32_t *insns, uint32_t n, uint32_t *id);
/*
 * A file the guest mapped (user mode): MODULE record of guest range
 * [@start, @end), file offset @offset at @start, EL_MOD_* @flags.
 */
void el_bin_def_module(uint64_t start, uint64_t end, uint64_t offset,
                       uint8_t flags, const char *path, size_t len);
/*
 * The id of the TB made of instructions @from.. of TB @tb (a block the
 * window entered in its middle), as el_bin_tb(). False when out of memory
 * or @tb has no such instructions.
 */
bool el_bin_tb_tail(uint32_t tb, uint32_t from, uint32_t *id);
/* Device id of @name (0 for "RAM"), defining it on first sight. Lock-free
 * lookup for known names; takes the lock for a new one. */
uint32_t el_bin_device(const char *name);

/* Hand the previous chunk(s) to the writer (first block after a switch). */
void el_bin_finish_prev(ElBinVcpu *w);

/*
 * The recording path's slow side, where pos reached limit: room for a
 * record of at most EL_BIN_FAST_ROOM bytes, a new chunk if need be; at a
 * block's start (@block) also the chunk bookkeeping the block does (the
 * previous chunk handed on; a new chunk's first_insn, its TB deltas
 * restarting from 0). False when recording has stopped.
 */
bool el_bin_fast_slow(ElBinVcpu *w, bool block);

static inline bool el_bin_fast_room(ElBinVcpu *w, bool block)
{
    if (__builtin_expect((uintptr_t)w->pos < (uintptr_t)w->limit, 1)) {
        return true;
    }
    return el_bin_fast_slow(w, block);
}

/*
 * el_put_varint(), its one- and two-byte cases inline (most deltas: a
 * predicted branch and a store or two, where spreading the 7-bit groups
 * without branches took more instructions than the whole record).
 */
static inline size_t el_bin_varint(uint8_t *p, uint64_t v)
{
    if (__builtin_expect(v < 0x80, 1)) {
        p[0] = (uint8_t)v;
        return 1;
    }
    if (v < 0x4000) {
        p[0] = (uint8_t)(v | 0x80);
        p[1] = (uint8_t)(v >> 7);
        return 2;
    }
    return el_put_varint(p, v);
}

/* Make the record at @p visible: its kind byte goes last. */
static inline void el_bin_publish(uint8_t *p, uint8_t kind)
{
    __atomic_store_n(p, kind, __ATOMIC_RELEASE);
}

/* ---- The recording path: no locks, no allocation, no printf ------------ */

/*
 * The open block's final count: at least @started instructions started
 * (what the inline counter says, or 0 where the count is kept in place).
 */
static inline void el_bin_settle(ElBinVcpu *w, uint64_t started)
{
    if (started > w->open_count) {
        w->open_count = (uint32_t)started;
        el_put_u16(w->count, (uint16_t)started);
    }
}

/*
 * vCPU @w starts executing TB @tb; @started instructions of the block it
 * leaves started. @counted: this block's count comes from the inline
 * counter (el_bin_settle() at its end), not from el_bin_insn().
 */
static inline __attribute__((always_inline))
void el_bin_block(ElBinVcpu *w, uint32_t tb, uint64_t started, bool counted)
{
    uint8_t *p;
    size_t n;

    el_bin_settle(w, started);
    w->insns += w->open_count;
    w->open_count = 0;
    w->open_counted = counted;
    if (__builtin_expect(!el_bin_fast_room(w, true), 0)) {
        w->count = w->dummy;
        el_put_u16(w->dummy, 0);
        return;
    }
    p = w->pos;
    n = 1 + el_bin_varint(p + 1,
                          el_zigzag((int64_t)tb - (int64_t)w->last_tb));
    el_put_u16(p + n, 0);
    w->count = p + n;
    el_bin_publish(p, EL_REC_BLOCK);
    w->pos = p + n + 2;
    w->last_tb = tb;
}

/* Instruction @index (0-based) of the current block starts. */
static inline void el_bin_insn(ElBinVcpu *w, uint32_t index)
{
    w->open_count = index + 1;
    el_put_u16(w->count, (uint16_t)(index + 1));
}

/*
 * A memory access of instruction @index of the current block (@store: a
 * store, as EL_MEM_STORE in @info says); with EL_MEM_VALUE in @info, its
 * value (@hi: the high half of a 16-byte one).
 */
static inline __attribute__((always_inline))
void el_bin_mem(ElBinVcpu *w, uint32_t index, uint8_t info, bool store,
                uint64_t vaddr, uint32_t device, uint64_t paddr, uint64_t lo,
                uint64_t hi)
{
    uint8_t *p;
    size_t n = 1;

    if (__builtin_expect(!el_bin_fast_room(w, false), 0)) {
        return;
    }
    /* the instruction started: the count says so even before it settles */
    if (index >= w->open_count) {
        w->open_count = index + 1;
        el_put_u16(w->count, (uint16_t)(index + 1));
    }
    p = w->pos;
    if (index >= 127) {
        n += el_put_varint(p + 1, index);
    }
    p[n++] = info;
    n += el_bin_varint(p + n, el_zigzag((int64_t)(vaddr - w->last_vaddr)));
    w->last_vaddr = vaddr;
    if (info & EL_MEM_PHYS) {
        int64_t d = (int64_t)(paddr - vaddr);

        n += el_put_varint(p + n, device);
        n += el_bin_varint(p + n, el_zigzag(d - w->last_pdelta));
        w->last_pdelta = d;
    }
    if (info & EL_MEM_VALUE) {
        /* sign-extended from its size: small negative numbers stay short */
        unsigned bits = 8u << (info & EL_MEM_SIZE_SHIFT_MASK);
        int64_t v = bits >= 64 ? (int64_t)lo :
                    (int64_t)(lo << (64 - bits)) >> (64 - bits);

        n += el_bin_varint(p + n, el_zigzag(v));
        if (bits > 64) {
            n += el_put_varint(p + n, el_zigzag((int64_t)hi));
        }
    }
    if (store) {
        w->stores++;
    } else {
        w->loads++;
    }
    el_bin_publish(p, (uint8_t)(EL_REC_MEM | (index < 127 ? index : 127)));
    w->pos = p + n;
}

/*
 * At exit (each open block settled first): EXIT records, write and seal
 * every chunk, mark the trace complete.
 */
void el_bin_close(ElBinVcpu **vcpus, uint32_t n);

#endif
