/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Decoding records (docs/trace-format.md, "Records"): one record at a
 * time, every length checked against the data it is in, and the messages
 * for a record that is truncated or malformed, with the file offset where
 * it is (or, in a compressed chunk, the chunk and the record's place in its
 * decompressed records). The hot records, BLOCK and MEM, have an inline
 * fast path in internal.h that falls back to rd_parse_rec().
 */
#include <inttypes.h>
#include <stdio.h>

#include "internal.h"

const char *rd_kind_name(uint8_t kind)
{
    static const char *const names[] = {
        "END", "BLOCK", "TB", "INSN", "DEVICE", "VCPU", "EXIT", "SKIP",
        "REG", "REGS",
    };

    if (kind >= 0x80) {
        return "MEM";
    }
    if (kind == EL_REC_MODULE) {
        return "MODULE";
    }
    return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

static int fail_trunc(ParseFail *f, const uint8_t *rec, const uint8_t *p,
                      const uint8_t *end, size_t more)
{
    f->what = RD_TRUNC;
    f->need = (size_t)(p - rec) + more;
    f->have = (size_t)(end - rec);
    return RD_TRUNC;
}

static int fail_bad(ParseFail *f, const uint8_t *rec, const uint8_t *p,
                    const char *why)
{
    f->what = RD_BAD;
    f->why = why;
    f->at = (uint64_t)(p - rec);
    return RD_BAD;
}

int rd_parse_rec(const uint8_t *p, const uint8_t *end, Rec *r,
                 const uint8_t **next, ParseFail *f)
{
    const uint8_t *rec = p;
    const uint8_t *q;
    uint64_t n;
    int s;

#define VARINT(dst)                                                     \
    do {                                                                \
        q = p;                                                          \
        s = get_varint(&p, end, &(dst));                                \
        if (s == RD_TRUNC) {                                            \
            return fail_trunc(f, rec, p, end, 1);                       \
        }                                                               \
        if (s != RD_OK) {                                               \
            return fail_bad(f, rec, q, "varint longer than 10 bytes");  \
        }                                                               \
    } while (0)
#define NEED(k)                                                         \
    do {                                                                \
        if ((uint64_t)(end - p) < (uint64_t)(k)) {                      \
            return fail_trunc(f, rec, p, end, (size_t)(k));             \
        }                                                               \
    } while (0)

    r->kind = *p++;
    if (r->kind >= EL_REC_MEM) {
        r->a = r->kind & 0x7f;
        if (r->a == 127) {
            VARINT(r->a);
        }
        NEED(1);
        r->info = *p++;
        VARINT(r->b);
        if (r->info & EL_MEM_PHYS) {
            VARINT(r->c);
            VARINT(n);
            r->data = NULL;
            r->text_len = n;        /* the (paddr - vaddr) delta */
        }
        if (r->info & EL_MEM_VALUE) {
            if ((r->info & EL_MEM_SIZE_SHIFT_MASK) > EL_MEM_MAX_SIZE_SHIFT) {
                return fail_bad(f, rec, p - 1, "value of an access of more "
                                "than 16 bytes");
            }
            VARINT(r->v0);
            r->v1 = 0;
            if ((r->info & EL_MEM_SIZE_SHIFT_MASK) == EL_MEM_MAX_SIZE_SHIFT) {
                VARINT(r->v1);
            }
        }
        *next = p;
        return RD_OK;
    }
    switch (r->kind) {
    case EL_REC_BLOCK:
        VARINT(r->a);
        NEED(2);
        r->b = el_get_u16(p);
        p += 2;
        break;
    case EL_REC_TB:
        VARINT(r->a);
        VARINT(r->b);
        if (r->b > 65535) {
            return fail_bad(f, rec, rec, "TB of more than 65535 instructions");
        }
        r->data = p;
        /* each of the n ids takes a byte at least: n is bounded by the data */
        for (n = 0; n < r->b; n++) {
            uint64_t dummy;

            VARINT(dummy);
        }
        break;
    case EL_REC_INSN:
        VARINT(r->a);
        VARINT(r->b);
        NEED(1);
        r->size = *p++;
        if (r->size > EL_INSN_MAX_SIZE) {
            return fail_bad(f, rec, p - 1, "instruction size above 16");
        }
        NEED(r->size);
        r->data = p;
        p += r->size;
        VARINT(r->text_len);
        NEED(r->text_len);
        r->text = p;
        p += r->text_len;
        break;
    case EL_REC_DEVICE:
        VARINT(r->a);
        VARINT(r->text_len);
        NEED(r->text_len);
        r->text = p;
        p += r->text_len;
        break;
    case EL_REC_VCPU:
        break;
    case EL_REC_EXIT:
        VARINT(r->a);
        VARINT(r->b);
        VARINT(r->c);
        break;
    case EL_REC_SKIP:
        VARINT(r->a);
        NEED(r->a);
        p += r->a;
        break;
    case EL_REC_REG:
        VARINT(r->a);
        VARINT(r->b);
        if (r->b == 0 || r->b > EL_REG_MAX_SIZE) {
            return fail_bad(f, rec, q, "register size 0 or above 256");
        }
        NEED(r->b);
        r->data = p;
        p += r->b;
        VARINT(r->text_len);
        NEED(r->text_len);
        r->text = p;
        p += r->text_len;
        break;
    case EL_REC_MODULE:
        VARINT(r->a);
        VARINT(r->b);
        VARINT(r->c);
        NEED(1);
        r->info = *p++;
        VARINT(r->text_len);
        if (r->text_len > EL_MOD_MAX_PATH) {
            return fail_bad(f, rec, p - 1, "module path longer than 4096 "
                            "bytes");
        }
        NEED(r->text_len);
        r->text = p;
        p += r->text_len;
        break;
    case EL_REC_REGS:
        VARINT(r->a);
        VARINT(r->b);           /* bytes of the entries */
        NEED(r->b);
        r->data = p;
        p += r->b;
        break;
    default:
        return fail_bad(f, rec, rec, "unknown record kind");
    }
    *next = p;
    return RD_OK;
#undef VARINT
#undef NEED
}

uint64_t rd_pos_off(const Chunk *ck, const uint8_t *base, const uint8_t *p)
{
    if (ck->flags & EL_CK_ZSTD) {
        return ck->off;
    }
    return ck->off + EL_CHUNK_HEADER_SIZE + (uint64_t)(p - base);
}

void rd_rec_err(ElError *err, const Chunk *ck, const uint8_t *base,
                const uint8_t *rec, const char *what)
{
    char name[64];

    if (!ck) {
        rd_set_err(err, EL_ERR_DAMAGED, 0, "%s", what);
    } else if (ck->flags & EL_CK_ZSTD) {
        rd_chunk_name(ck, name, sizeof(name));
        rd_set_err(err, EL_ERR_DAMAGED, ck->off, "%s (compressed %s, byte %"
                   PRIu64 " of its records)", what, name,
                   (uint64_t)(rec - base));
    } else {
        rd_set_err(err, EL_ERR_DAMAGED, rd_pos_off(ck, base, rec), "%s", what);
    }
}

void rd_parse_err(ElError *err, const Chunk *ck, const uint8_t *base,
                  const uint8_t *rec, const ParseFail *f)
{
    char what[200];

    if (f->what == RD_TRUNC) {
        snprintf(what, sizeof(what), "truncated %s record (need %s%zu bytes, "
                 "have %zu)", rd_kind_name(*rec),
                 f->need > 1 ? "at least " : "", f->need, f->have);
    } else if (*rec >= 0x0a && *rec < 0x80) {
        snprintf(what, sizeof(what), "unknown record kind 0x%02x", *rec);
    } else {
        snprintf(what, sizeof(what), "bad %s record: %s", rd_kind_name(*rec),
                 f->why);
    }
    rd_rec_err(err, ck, base, rec, what);
}
