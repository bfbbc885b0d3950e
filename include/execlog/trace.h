/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * execlog's binary trace format (docs/trace-format.md) and its reader.
 *
 * Plain C11: no glib, no QEMU. Shared by the plugin (which writes) and the
 * command-line tool (which reads). The library never prints and never
 * exits: every failure comes back as an ElError with a code, the file
 * offset where it was found, and a one-line message.
 */
#ifndef EXECLOG_TRACE_H
#define EXECLOG_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- The format: numbers from docs/trace-format.md --------------------- */

#define EL_MAGIC "EXECLOG\0"
#define EL_MAGIC_LEN 8
#define EL_FORMAT_VERSION 1         /* what this code writes */
#define EL_READER_VERSION 1         /* newest min_reader this code reads */
#define EL_HEADER_SIZE 4096u
#define EL_CHUNK_ALIGN 4096u
#define EL_CHUNK_HEADER_SIZE 32u
#define EL_CHUNK_MAGIC "ELCK"
#define EL_STATIC_VCPU 0xffffu      /* vcpu of a chunk of static records */

/* file header field offsets */
#define EL_HDR_VERSION 8
#define EL_HDR_MIN_READER 10
#define EL_HDR_HEADER_SIZE 12
#define EL_HDR_CHUNK_SIZE 16
#define EL_HDR_STATE 20
#define EL_HDR_FLAGS 24
#define EL_HDR_API 28
#define EL_HDR_END 32
#define EL_HDR_META_LEN 40
#define EL_HDR_META 64

#define EL_STATE_RECORDING 1u
#define EL_STATE_COMPLETE 2u
#define EL_FLAG_SYSTEM 1u
#define EL_FLAG_ZSTD 2u

/* chunk header field offsets */
#define EL_CK_VCPU 4
#define EL_CK_FLAGS 6
#define EL_CK_SEQ 8
#define EL_CK_SLOT 12
#define EL_CK_USED 16
#define EL_CK_RAW 20
#define EL_CK_FIRST_INSN 24
#define EL_CK_SEALED 1u
#define EL_CK_ZSTD 2u
#define EL_CK_CUT 4u                /* the vCPU's last, written at a cut-off */

/* record kinds */
#define EL_REC_END 0x00
#define EL_REC_BLOCK 0x01
#define EL_REC_TB 0x02
#define EL_REC_INSN 0x03
#define EL_REC_DEVICE 0x04
#define EL_REC_VCPU 0x05
#define EL_REC_EXIT 0x06
#define EL_REC_SKIP 0x07
#define EL_REC_MEM 0x80             /* 0x80 | insn index (127: varint follows) */

/* MEM info byte */
#define EL_MEM_SIZE_SHIFT_MASK 0x0fu
#define EL_MEM_STORE 0x10u
#define EL_MEM_BIG_ENDIAN 0x20u
#define EL_MEM_SIGN 0x40u
#define EL_MEM_PHYS 0x80u

#define EL_INSN_MAX_SIZE 16
#define EL_VARINT_MAX 10

/* ---- Encoding helpers (used by the writer; the reader has checked ones) */

static inline size_t el_put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;

    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static inline uint64_t el_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t el_unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static inline void el_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void el_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static inline void el_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static inline uint16_t el_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t el_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline uint64_t el_get_u64(const uint8_t *p)
{
    return (uint64_t)el_get_u32(p) | ((uint64_t)el_get_u32(p + 4) << 32);
}

/* ---- Reader ------------------------------------------------------------ */

typedef enum ElErrorCode {
    EL_OK = 0,
    EL_ERR_DAMAGED = 2,     /* the file is not a valid trace, or is damaged */
    EL_ERR_IO = 3,          /* the file cannot be opened or read */
    EL_ERR_VERSION = 4,     /* written for a newer reader */
    EL_ERR_NOMEM = 5,
} ElErrorCode;

typedef struct ElError {
    ElErrorCode code;
    uint64_t offset;        /* file offset where the problem is */
    char msg[256];          /* one line, no file name, no newline */
} ElError;

typedef struct ElTrace ElTrace;

/* Static facts of one instruction. */
typedef struct ElInsnInfo {
    uint64_t pc;
    const uint8_t *bytes;
    uint8_t size;
    const char *disas;      /* NUL-terminated */
    uint32_t disas_len;
} ElInsnInfo;

/* One memory access. */
typedef struct ElMemAccess {
    uint64_t vaddr;
    uint64_t paddr;         /* valid if has_paddr */
    const char *device;     /* valid if has_paddr ("RAM" or a region name) */
    uint8_t size_shift;     /* log2 of the size in bytes */
    bool store;
    bool big_endian;
    bool sign_extended;
    bool has_paddr;
} ElMemAccess;

/* One executed instruction of a vCPU, with its accesses. */
typedef struct ElExec {
    uint32_t vcpu;
    uint64_t index;         /* 0, 1, 2, ... per vCPU */
    const ElInsnInfo *insn;
    const ElMemAccess *mem; /* valid until the next el_cursor_next() */
    size_t n_mem;
    uint64_t offset;        /* file offset of its BLOCK record; in a
                               compressed chunk: the chunk's payload offset
                               plus the record's place in the decompressed
                               records (unique per block, not a file
                               position) */
} ElExec;

/* What the file header and the chunk index say. */
typedef struct ElTraceSummary {
    uint16_t version;
    uint16_t min_reader;
    uint32_t state;         /* EL_STATE_* */
    uint32_t flags;         /* EL_FLAG_* */
    uint32_t api;
    uint32_t chunk_size;
    const char *meta;       /* "key=value\n" lines, NUL-terminated */
    uint64_t file_size;
    uint64_t n_chunks;
    uint32_t n_vcpus;       /* highest vCPU index with a chunk, plus one */
    uint64_t n_insns_static;
    uint64_t n_tbs;
    bool complete;          /* state == COMPLETE and every chunk sealed */
    bool being_written;     /* state == RECORDING and the recording (or the
                               watcher writing out its end) still goes on */
    uint64_t cut_offset;    /* if !complete: where readable data ends */
    char cut_reason[160];   /* if !complete: why, one line */
} ElTraceSummary;

/*
 * Open a trace and index it: reads the header, walks the chunks, loads the
 * static records. A trace that was cut off opens fine (see summary); a file
 * that is not a trace, or whose header or static records are damaged, does
 * not. Returns NULL and fills @err on failure.
 */
ElTrace *el_trace_open(const char *path, ElError *err);
void el_trace_close(ElTrace *t);

const ElTraceSummary *el_trace_summary(const ElTrace *t);

/* Value of a metadata key, or NULL. Returns a pointer into a static buffer
 * of the trace, valid until the next call. */
const char *el_trace_meta(ElTrace *t, const char *key);

/* Does vCPU @vcpu have any chunk (was it initialised)? */
bool el_trace_has_vcpu(const ElTrace *t, uint32_t vcpu);

/* Totals from a vCPU's EXIT record, if the trace has one. */
bool el_trace_exit_counts(const ElTrace *t, uint32_t vcpu, uint64_t *insns,
                          uint64_t *loads, uint64_t *stores);

/* A cursor walks one vCPU's executed instructions in order. */
typedef struct ElCursor ElCursor;

ElCursor *el_cursor_new(ElTrace *t, uint32_t vcpu, ElError *err);
void el_cursor_free(ElCursor *c);

/*
 * Next executed instruction. Returns 1 with @e filled, 0 at the end of the
 * vCPU's records, -1 on damage (with @err; everything before was valid).
 * Reaching the end of a cut-off trace is 0, not an error.
 */
int el_cursor_next(ElCursor *c, ElExec *e, ElError *err);

/* Bytes of the file the cursor has consumed so far (for progress). */
uint64_t el_cursor_progress(const ElCursor *c);

#endif
