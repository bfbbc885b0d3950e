/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * execlog's binary trace format, version 2: the numbers of
 * docs/trace-format.md as C definitions, and the helpers that put and get
 * them in little-endian byte order.
 *
 * Plain C11: no glib, no QEMU. The plugin (which writes traces) needs only
 * this header; the reader's API is in execlog/reader.h.
 */
#ifndef EXECLOG_FORMAT_H
#define EXECLOG_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- The format: numbers from docs/trace-format.md --------------------- */

#define EL_MAGIC "EXECLOG\0"
#define EL_MAGIC_LEN 8
#define EL_FORMAT_VERSION 2         /* what this code writes */
/*
 * The min_reader every version-2 trace has: its chunks decode on their own
 * (deltas restart in each vCPU chunk, first_insn is exact), which a
 * version-1 reader would misread.
 */
#define EL_FORMAT_MIN_READER 2
/* what values=on and reg= need: MEM records with EL_MEM_VALUE, REG and REGS
 * records (version 2, so no more than every version-2 trace needs) */
#define EL_MIN_READER_VALUES 2
#define EL_HEADER_SIZE 4096u
#define EL_CHUNK_ALIGN 4096u
/*
 * The largest chunk_size of version 1: what the plugin writes (1 MiB). A
 * reader refuses a larger one, so that no header makes it allocate more.
 */
#define EL_MAX_CHUNK_SIZE (1u << 20)
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
/*
 * Version 2: the trace holds what filters or a window selected (afilter=,
 * ifilter=, start=, stop=, skip=, limit=, vcpu=), not every instruction; a
 * TB is then the list of the instructions recorded from a translated
 * block, not necessarily contiguous code. min_reader is 2.
 */
#define EL_FLAG_PARTIAL 4u

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
/* first_insn of a version-2 vCPU chunk in which no BLOCK record starts */
#define EL_CK_NO_BLOCK UINT64_MAX

/* record kinds */
#define EL_REC_END 0x00
#define EL_REC_BLOCK 0x01
#define EL_REC_TB 0x02
#define EL_REC_INSN 0x03
#define EL_REC_DEVICE 0x04
#define EL_REC_VCPU 0x05
#define EL_REC_EXIT 0x06
#define EL_REC_SKIP 0x07
/* version 2 (min_reader 2): registers, see docs/trace-format.md */
#define EL_REC_REG 0x08             /* static: a register's id, size, name */
#define EL_REC_REGS 0x09            /* vCPU: registers an instruction changed */
#define EL_REC_MODULE 0x0c          /* version 2: a file the guest mapped */
#define EL_REC_MEM 0x80             /* 0x80 | insn index (127: varint follows) */

/* MEM info byte */
#define EL_MEM_SIZE_SHIFT_MASK 0x07u
#define EL_MEM_VALUE 0x08u          /* version 2: the value follows */
#define EL_MEM_STORE 0x10u
#define EL_MEM_BIG_ENDIAN 0x20u
#define EL_MEM_SIGN 0x40u
#define EL_MEM_PHYS 0x80u

/* MODULE flags */
#define EL_MOD_EXEC 1u              /* some of the mapping is executable */
#define EL_MOD_MAX_PATH 4096        /* a longer path is refused */

#define EL_INSN_MAX_SIZE 16
#define EL_MEM_MAX_SIZE_SHIFT 4     /* 16 bytes: the largest access */
#define EL_REG_MAX_SIZE 256         /* bytes of one register value, at most */
#define EL_REG_MAX_ID 65535u        /* registers a trace defines, at most */
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

#endif
