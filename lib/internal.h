/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the files of the trace reader share (private to lib/):
 *   error.c    ElError messages
 *   decode.c   parsing one record, checked; messages for bad records
 *   chunk.c    reading a chunk's records from the file (pread, zstd)
 *   trace.c    opening a trace: header, chunk index, static records
 *   cursor.c   walking one vCPU's records
 *
 * Nothing read from the file is trusted: every length and index is checked
 * before use, and every size the reader allocates for is capped by what the
 * file can hold (its size, EL_MAX_CHUNK_SIZE).
 */
#ifndef EXECLOG_LIB_INTERNAL_H
#define EXECLOG_LIB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "execlog/reader.h"

/* Accesses of one instruction beyond this are taken for damage. */
#define MAX_MEM_PER_INSN (1u << 20)
/* Device ids beyond this are taken for damage. */
#define MAX_DEVICE_ID 65535u

/* ---- Errors (error.c) -------------------------------------------------- */

void rd_set_err(ElError *err, ElErrorCode code, uint64_t off,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- Records (decode.c) ------------------------------------------------ */

enum {
    RD_OK = 0,
    RD_TRUNC = 1,       /* the record runs past the end of the data */
    RD_BAD = 2,         /* the record is malformed */
};

/* One parsed record. Pointers point into the data that was parsed. */
typedef struct Rec {
    uint8_t kind;
    uint64_t a, b, c;           /* the record's numbers, by kind */
    const uint8_t *data;        /* TB: the insn varints; INSN: bytes; ... */
    const uint8_t *text;        /* INSN: disassembly */
    uint64_t text_len;          /* INSN, DEVICE: text length; MEM: the
                                   (paddr - vaddr) delta */
    uint8_t size;               /* INSN: size */
    uint8_t info;               /* MEM: info byte */
    uint64_t v0, v1;            /* MEM with EL_MEM_VALUE: the value's
                                   svarints (v1: the high half of 16) */
} Rec;

/* Why rd_parse_rec() failed, to make a message from. */
typedef struct ParseFail {
    int what;                   /* RD_TRUNC or RD_BAD */
    size_t need, have;          /* RD_TRUNC */
    const char *why;            /* RD_BAD */
    uint64_t at;                /* RD_BAD: offset of the bad field */
} ParseFail;

/* A varint at *@pp, not past @end: RD_OK (and *@pp moved on), or why not. */
static inline int get_varint(const uint8_t **pp, const uint8_t *end,
                             uint64_t *v)
{
    const uint8_t *p = *pp;
    uint64_t r = 0;

    if (p < end && *p < 0x80) {
        *v = *p;
        *pp = p + 1;
        return RD_OK;
    }
    for (unsigned i = 0; i < EL_VARINT_MAX; i++) {
        uint8_t b;

        if (p >= end) {
            return RD_TRUNC;
        }
        b = *p++;
        if (i == EL_VARINT_MAX - 1 && b > 1) {
            return RD_BAD;
        }
        r |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = r;
            *pp = p;
            return RD_OK;
        }
    }
    return RD_BAD;
}

/*
 * Parse the record at @p (whose kind byte is not 0). On success, fills @r
 * and returns RD_OK with *@next just past the record. Checks only the
 * record's shape; what its numbers mean is the caller's business.
 */
int rd_parse_rec(const uint8_t *p, const uint8_t *end, Rec *r,
                 const uint8_t **next, ParseFail *f);

/*
 * The records of the hot loop, BLOCK and MEM, parsed inline when the data
 * surely holds them whole; rd_parse_rec() handles the rest and the errors.
 */
static inline int parse_hot(const uint8_t *p, const uint8_t *end, Rec *r,
                            const uint8_t **next, ParseFail *f)
{
    const uint8_t *q = p + 1;

    if (__builtin_expect(end - p < 2 + 6 * EL_VARINT_MAX, 0)) {
        return rd_parse_rec(p, end, r, next, f);
    }
    r->kind = *p;
    if (r->kind >= EL_REC_MEM && (r->kind & 0x7f) != 127) {
        r->a = r->kind & 0x7f;
        r->info = *q++;
        if (get_varint(&q, end, &r->b) != RD_OK) {
            return rd_parse_rec(p, end, r, next, f);
        }
        if ((r->info & EL_MEM_PHYS) &&
            (get_varint(&q, end, &r->c) != RD_OK ||
             get_varint(&q, end, &r->text_len) != RD_OK)) {
            return rd_parse_rec(p, end, r, next, f);
        }
        if (r->info & EL_MEM_VALUE) {
            if ((r->info & EL_MEM_SIZE_SHIFT_MASK) > EL_MEM_MAX_SIZE_SHIFT ||
                get_varint(&q, end, &r->v0) != RD_OK) {
                return rd_parse_rec(p, end, r, next, f);
            }
            r->v1 = 0;
            if ((r->info & EL_MEM_SIZE_SHIFT_MASK) == EL_MEM_MAX_SIZE_SHIFT &&
                get_varint(&q, end, &r->v1) != RD_OK) {
                return rd_parse_rec(p, end, r, next, f);
            }
        }
        *next = q;
        return RD_OK;
    }
    if (r->kind == EL_REC_BLOCK) {
        if (get_varint(&q, end, &r->a) != RD_OK) {
            return rd_parse_rec(p, end, r, next, f);
        }
        r->b = el_get_u16(q);
        *next = q + 2;
        return RD_OK;
    }
    return rd_parse_rec(p, end, r, next, f);
}

/* "BLOCK", "MEM", ... for messages. */
const char *rd_kind_name(uint8_t kind);

/* ---- The trace (trace.c) ----------------------------------------------- */

typedef struct Chunk {
    uint64_t off;           /* file offset of the chunk header */
    uint64_t len;           /* payload bytes to parse (uncompressed) */
    uint32_t slot;
    uint32_t used;
    uint32_t raw;
    uint32_t seq;
    uint16_t vcpu;
    uint16_t flags;
    uint64_t first_insn;    /* the header's (version 2: exact, or
                               EL_CK_NO_BLOCK) */
    bool cut_by_eof;        /* sealed, but the file ends inside its payload */
    bool short_slot;        /* the file ends inside its slot */
} Chunk;

/* A vCPU that has chunks (ElTrace.vcpus holds only those). */
typedef struct Vcpu {
    uint32_t index;         /* the vCPU's index */
    uint32_t first;         /* into ElTrace.byv */
    uint32_t n;
    bool seekable;          /* version 2, first_insn in order (seek) */
    bool has_exit;
    uint64_t exit_insns, exit_loads, exit_stores;
} Vcpu;

typedef struct Tb {
    uint64_t start;         /* into ElTrace.tb_pool */
    uint32_t n;
} Tb;

typedef struct ArenaBlock {
    struct ArenaBlock *next;
    size_t used, cap;
    uint8_t data[];
} ArenaBlock;

struct ElTrace {
    int fd;
    uint64_t size;          /* the file's size when it was opened */
    uint64_t end;           /* the header's end field */
    ElTraceSummary sum;
    char meta[EL_HEADER_SIZE];
    char metaval[EL_HEADER_SIZE];

    Chunk *chunks;          /* in file order */
    uint64_t n_chunks, cap_chunks;
    uint32_t *byv;          /* chunk indices ordered by (vcpu, seq) */
    Vcpu *vcpus;            /* the vCPUs with chunks, by index */
    uint32_t n_present;     /* entries in vcpus[] */
    Vcpu statics;           /* the static chunks */

    ElInsnInfo *insns;
    uint64_t n_insns, cap_insns;
    Tb *tbs;
    uint64_t n_tbs, cap_tbs;
    uint32_t *tb_pool;
    uint64_t pool_len, pool_cap;
    const char **devices;   /* by id; NULL: not defined */
    uint32_t n_devices;     /* entries in devices[] */
    uint64_t max_device;    /* highest id the static records can define */
    ElRegWrite *regs;       /* REG records, by id */
    uint64_t n_regs, cap_regs;
    ArenaBlock *arena;
    ElModule *modules;      /* MODULE records, in file order */
    uint64_t n_modules, cap_modules;

    bool local;             /* version-2 chunks (min_reader >= 2): each
                               vCPU chunk's deltas start afresh, and its
                               first_insn is exact */
    bool have_cut;
    /* what streams end with when a vCPU has no EXIT record */
    ElError damage;         /* code EL_OK if none */
};

/* vCPU @index's entry, or NULL if it has no chunk. */
const Vcpu *rd_find_vcpu(const ElTrace *t, uint32_t index);

/* "static chunk 3", "chunk 5 of vCPU 1" */
void rd_chunk_name(const Chunk *ck, char *buf, size_t len);

/* ---- Reading chunks (chunk.c) ------------------------------------------ */

/*
 * Buffers a reader of chunks keeps from one chunk to the next: the bytes
 * read from the file, and for compressed chunks the records decompressed.
 * Zero-initialise; each grows to the largest chunk read, which is at most
 * the file's size (read) or EL_MAX_CHUNK_SIZE (decompressed).
 */
typedef struct ChunkBuf {
    uint8_t *file;
    size_t file_cap;
    uint8_t *raw;
    size_t raw_cap;
    void *dctx;             /* ZSTD_DCtx */
} ChunkBuf;

void rd_chunkbuf_free(ChunkBuf *b);

/*
 * Read exactly @n bytes at @off. A file that has become shorter than it
 * was when opened is damage (it was truncated while being read), a read
 * error an I/O error. False with @err on either.
 */
bool rd_read_at(const ElTrace *t, void *buf, size_t n, uint64_t off,
                ElError *err);

/*
 * The records of chunk @ck, into @b: read from the file (its header again,
 * checked against the index, so that a file rewritten while it is read is
 * found out), decompressed if compressed. Sets [*@p, *@end). False with
 * @err on damage, an I/O error, or out of memory.
 */
bool rd_chunk_records(const ElTrace *t, const Chunk *ck, ChunkBuf *b,
                      const uint8_t **p, const uint8_t **end, ElError *err);

/* ---- Messages about records (decode.c) --------------------------------- */

/* File offset of @p, a position in @ck's payload starting at @base. */
uint64_t rd_pos_off(const Chunk *ck, const uint8_t *base, const uint8_t *p);

/* A record problem at @rec: the message, with where it is. */
void rd_rec_err(ElError *err, const Chunk *ck, const uint8_t *base,
                const uint8_t *rec, const char *what);

/* The message for a record that rd_parse_rec() refused. */
void rd_parse_err(ElError *err, const Chunk *ck, const uint8_t *base,
                  const uint8_t *rec, const ParseFail *f);

#endif
