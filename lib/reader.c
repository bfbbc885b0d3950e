/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reader of execlog's binary trace format (docs/trace-format.md).
 *
 * The whole file is mapped read-only. el_trace_open() checks the header,
 * walks the chunks (validating every header field against the file size
 * and the chunk size), orders each vCPU's chunks by seq and loads the
 * static records (instructions, TBs, devices) into tables. A cursor then
 * decodes one vCPU's records chunk after chunk, carrying the vCPU's state
 * (current block, deltas) across chunk boundaries.
 *
 * Nothing read from the file is trusted: every length and index is checked
 * before use. The library never prints and never exits; problems come back
 * as ElError with the file offset where they were found.
 *
 * Damage and cut-off: a trace whose state is "recording" was cut off, and
 * everything readable in it is returned, the end of its records being a
 * normal end. A trace that says it is complete but is not (truncated file,
 * missing chunks, unsealed chunks, no EXIT record), and records that break
 * the format, are damage: the cursor returns everything up to the damage,
 * then -1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "execlog/trace.h"

/* A chunk size beyond this is taken for damage (the writer uses 1 MiB). */
#define MAX_CHUNK_SIZE (1u << 30)
/* Device ids beyond this are taken for damage. */
#define MAX_DEVICE_ID 65535u
/* Accesses of one instruction beyond this are taken for damage. */
#define MAX_MEM_PER_INSN (1u << 20)

/* ---- Errors ------------------------------------------------------------ */

static void set_err(ElError *err, ElErrorCode code, uint64_t off,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void set_err(ElError *err, ElErrorCode code, uint64_t off,
                    const char *fmt, ...)
{
    va_list ap;

    if (!err) {
        return;
    }
    err->code = code;
    err->offset = off;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}

/* ---- Checked decoding -------------------------------------------------- */

enum {
    RD_OK = 0,
    RD_TRUNC = 1,       /* the record runs past the end of the data */
    RD_BAD = 2,         /* the record is malformed */
};

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

static const char *kind_name(uint8_t kind)
{
    static const char *const names[] = {
        "END", "BLOCK", "TB", "INSN", "DEVICE", "VCPU", "EXIT", "SKIP",
    };

    if (kind >= 0x80) {
        return "MEM";
    }
    return kind < 8 ? names[kind] : "unknown";
}

/* One parsed record. Pointers point into the data that was parsed. */
typedef struct Rec {
    uint8_t kind;
    uint64_t a, b, c;           /* the record's numbers, by kind */
    const uint8_t *data;        /* TB: the insn varints; INSN: bytes; ... */
    const uint8_t *text;        /* INSN: disassembly */
    uint64_t text_len;
    uint8_t size;               /* INSN: size */
    uint8_t info;               /* MEM: info byte */
} Rec;

/* Why parse_rec() failed, to make a message from. */
typedef struct ParseFail {
    int what;                   /* RD_TRUNC or RD_BAD */
    size_t need, have;          /* RD_TRUNC */
    const char *why;            /* RD_BAD */
    uint64_t at;                /* RD_BAD: offset of the bad field */
} ParseFail;

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

/*
 * Parse the record at @p (whose kind byte is not 0). On success, fills @r
 * and returns RD_OK with *@next just past the record. Checks only the
 * record's shape; what its numbers mean is the caller's business.
 */
static int parse_rec(const uint8_t *p, const uint8_t *end, Rec *r,
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
    default:
        return fail_bad(f, rec, rec, "unknown record kind");
    }
    *next = p;
    return RD_OK;
#undef VARINT
#undef NEED
}

/*
 * The records of the hot loop, BLOCK and MEM, parsed inline when the data
 * surely holds them whole; parse_rec() handles the rest and the errors.
 */
static inline int parse_hot(const uint8_t *p, const uint8_t *end, Rec *r,
                            const uint8_t **next, ParseFail *f)
{
    const uint8_t *q = p + 1;

    if (__builtin_expect(end - p < 2 + 4 * EL_VARINT_MAX, 0)) {
        return parse_rec(p, end, r, next, f);
    }
    r->kind = *p;
    if (r->kind >= EL_REC_MEM && (r->kind & 0x7f) != 127) {
        r->a = r->kind & 0x7f;
        r->info = *q++;
        if (get_varint(&q, end, &r->b) != RD_OK) {
            return parse_rec(p, end, r, next, f);
        }
        if ((r->info & EL_MEM_PHYS) &&
            (get_varint(&q, end, &r->c) != RD_OK ||
             get_varint(&q, end, &r->text_len) != RD_OK)) {
            return parse_rec(p, end, r, next, f);
        }
        *next = q;
        return RD_OK;
    }
    if (r->kind == EL_REC_BLOCK) {
        if (get_varint(&q, end, &r->a) != RD_OK) {
            return parse_rec(p, end, r, next, f);
        }
        r->b = el_get_u16(q);
        *next = q + 2;
        return RD_OK;
    }
    return parse_rec(p, end, r, next, f);
}

/* ---- The trace --------------------------------------------------------- */

typedef struct Chunk {
    uint64_t off;           /* file offset of the chunk header */
    uint64_t len;           /* payload bytes to parse (uncompressed) */
    uint32_t slot;
    uint32_t used;
    uint32_t raw;
    uint32_t seq;
    uint16_t vcpu;
    uint16_t flags;
    bool cut_by_eof;        /* sealed, but the file ends inside its payload */
    bool short_slot;        /* the file ends inside its slot */
} Chunk;

typedef struct Vcpu {
    uint32_t first;         /* into ElTrace.byv */
    uint32_t n;
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
    const uint8_t *map;
    uint64_t size;
    ElTraceSummary sum;
    char meta[EL_HEADER_SIZE];
    char metaval[EL_HEADER_SIZE];

    Chunk *chunks;          /* in file order */
    uint64_t n_chunks, cap_chunks;
    uint32_t *byv;          /* chunk indices ordered by (vcpu, seq) */
    Vcpu *vcpus;            /* n_vcpus entries */
    Vcpu statics;           /* the static chunks */

    ElInsnInfo *insns;
    uint64_t n_insns, cap_insns;
    Tb *tbs;
    uint64_t n_tbs, cap_tbs;
    uint32_t *tb_pool;
    uint64_t pool_len, pool_cap;
    const char **devices;   /* by id; NULL: not defined */
    uint32_t n_devices;     /* entries in devices[] */
    ArenaBlock *arena;

    bool have_cut;
    /* what streams end with when a vCPU has no EXIT record */
    ElError damage;         /* code EL_OK if none */
};

static void *arena_alloc(ElTrace *t, size_t n)
{
    ArenaBlock *b = t->arena;

    n = (n + 7) & ~(size_t)7;
    if (!b || b->cap - b->used < n) {
        /* 64 KiB first, doubling up to 1 MiB: small traces stay small */
        size_t cap = b ? (b->cap < (1u << 20) ? b->cap * 2 : b->cap) :
                     (1u << 16);

        if (cap < n) {
            cap = n;
        }

        b = malloc(sizeof(*b) + cap);
        if (!b) {
            return NULL;
        }
        b->cap = cap;
        b->used = 0;
        if (t->arena && n > (1u << 19)) {
            /* a big one: keep the current block for the small ones */
            b->next = t->arena->next;
            t->arena->next = b;
        } else {
            b->next = t->arena;
            t->arena = b;
        }
    }
    b->used += n;
    return b->data + b->used - n;
}

static bool grow(void **arr, uint64_t *cap, uint64_t need, size_t elem)
{
    uint64_t n = *cap ? *cap : 256;
    void *p;

    if (need <= *cap) {
        return true;
    }
    while (n < need) {
        n *= 2;
    }
    if (n > SIZE_MAX / elem) {
        return false;
    }
    p = realloc(*arr, (size_t)(n * elem));
    if (!p) {
        return false;
    }
    *arr = p;
    *cap = n;
    return true;
}

/* The first problem found decides the summary's cut_offset and reason. */
static void set_cut(ElTrace *t, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_cut(ElTrace *t, uint64_t off, const char *fmt, ...)
{
    va_list ap;

    if (t->have_cut) {
        return;
    }
    t->have_cut = true;
    t->sum.cut_offset = off;
    va_start(ap, fmt);
    vsnprintf(t->sum.cut_reason, sizeof(t->sum.cut_reason), fmt, ap);
    va_end(ap);
}

static void chunk_name(const Chunk *ck, char *buf, size_t len)
{
    if (ck->vcpu == EL_STATIC_VCPU) {
        snprintf(buf, len, "static chunk %" PRIu32, ck->seq);
    } else {
        snprintf(buf, len, "chunk %" PRIu32 " of vCPU %u", ck->seq,
                 (unsigned)ck->vcpu);
    }
}

/* ---- Opening: the header ----------------------------------------------- */

static bool read_header(ElTrace *t, ElError *err)
{
    const uint8_t *h = t->map;
    uint32_t header_size, meta_len;

    if (t->size == 0) {
        set_err(err, EL_ERR_DAMAGED, 0, "empty file, not an execlog trace");
        return false;
    }
    if (t->size < EL_MAGIC_LEN || memcmp(h, EL_MAGIC, EL_MAGIC_LEN) != 0) {
        set_err(err, EL_ERR_DAMAGED, 0,
                "not an execlog trace (no EXECLOG magic)");
        return false;
    }
    if (t->size < EL_HDR_META) {
        set_err(err, EL_ERR_DAMAGED, t->size,
                "file ends inside the trace header (%" PRIu64 " bytes)",
                t->size);
        return false;
    }
    t->sum.version = el_get_u16(h + EL_HDR_VERSION);
    t->sum.min_reader = el_get_u16(h + EL_HDR_MIN_READER);
    if (t->sum.min_reader > EL_READER_VERSION) {
        set_err(err, EL_ERR_VERSION, EL_HDR_MIN_READER,
                "written for reader version %u; this reader knows up to %u",
                (unsigned)t->sum.min_reader, (unsigned)EL_READER_VERSION);
        return false;
    }
    if (t->sum.version == 0 || t->sum.min_reader == 0) {
        set_err(err, EL_ERR_DAMAGED, EL_HDR_VERSION,
                "bad format version %u (min reader %u)",
                (unsigned)t->sum.version, (unsigned)t->sum.min_reader);
        return false;
    }
    if (t->size < EL_HEADER_SIZE) {
        set_err(err, EL_ERR_DAMAGED, t->size,
                "file ends inside the %u-byte trace header (%" PRIu64
                " bytes)", EL_HEADER_SIZE, t->size);
        return false;
    }
    header_size = el_get_u32(h + EL_HDR_HEADER_SIZE);
    if (header_size != EL_HEADER_SIZE) {
        set_err(err, EL_ERR_DAMAGED, EL_HDR_HEADER_SIZE,
                "header size is %" PRIu32 ", not %u", header_size,
                EL_HEADER_SIZE);
        return false;
    }
    t->sum.chunk_size = el_get_u32(h + EL_HDR_CHUNK_SIZE);
    if (t->sum.chunk_size == 0 || t->sum.chunk_size % EL_CHUNK_ALIGN != 0 ||
        t->sum.chunk_size > MAX_CHUNK_SIZE) {
        set_err(err, EL_ERR_DAMAGED, EL_HDR_CHUNK_SIZE,
                "bad chunk size %" PRIu32 " (a multiple of 4096 up to 1 GiB)",
                t->sum.chunk_size);
        return false;
    }
    t->sum.state = el_get_u32(h + EL_HDR_STATE);
    if (t->sum.state != EL_STATE_RECORDING &&
        t->sum.state != EL_STATE_COMPLETE) {
        set_err(err, EL_ERR_DAMAGED, EL_HDR_STATE,
                "bad trace state %" PRIu32, t->sum.state);
        return false;
    }
    t->sum.flags = el_get_u32(h + EL_HDR_FLAGS);
    t->sum.api = el_get_u32(h + EL_HDR_API);
    meta_len = el_get_u32(h + EL_HDR_META_LEN);
    if (meta_len > EL_HEADER_SIZE - EL_HDR_META) {
        set_err(err, EL_ERR_DAMAGED, EL_HDR_META_LEN,
                "metadata length %" PRIu32 " runs past the header", meta_len);
        return false;
    }
    if (memchr(h + EL_HDR_META, 0, meta_len)) {
        set_err(err, EL_ERR_DAMAGED,
                EL_HDR_META + (uint64_t)((const uint8_t *)memchr(
                    h + EL_HDR_META, 0, meta_len) - (h + EL_HDR_META)),
                "NUL byte in the metadata");
        return false;
    }
    memcpy(t->meta, h + EL_HDR_META, meta_len);
    t->meta[meta_len] = '\0';
    t->sum.meta = t->meta;
    t->sum.file_size = t->size;
    return true;
}

/* ---- Opening: the chunk index ------------------------------------------ */

/*
 * Check a chunk header. Returns NULL if it is sound, else what is wrong.
 */
static const char *bad_chunk(const ElTrace *t, const Chunk *ck, char *buf,
                             size_t len)
{
    if (ck->slot == 0 || ck->slot % EL_CHUNK_ALIGN != 0) {
        snprintf(buf, len, "slot size %" PRIu32 " is not a positive "
                 "multiple of 4096", ck->slot);
        return buf;
    }
    if (ck->flags & EL_CK_ZSTD) {
        if (!(ck->flags & EL_CK_SEALED)) {
            return "compressed but not sealed";
        }
        if (ck->used == 0 || ck->used > ck->slot - EL_CHUNK_HEADER_SIZE) {
            snprintf(buf, len, "compressed size %" PRIu32 " does not fit "
                     "its %" PRIu32 "-byte slot", ck->used, ck->slot);
            return buf;
        }
        if (ck->raw > t->sum.chunk_size) {
            snprintf(buf, len, "decompressed size %" PRIu32 " is above the "
                     "chunk size %" PRIu32, ck->raw, t->sum.chunk_size);
            return buf;
        }
        return NULL;
    }
    if (ck->slot != t->sum.chunk_size) {
        snprintf(buf, len, "slot size %" PRIu32 " of an uncompressed chunk "
                 "is not the chunk size %" PRIu32, ck->slot,
                 t->sum.chunk_size);
        return buf;
    }
    if (ck->flags & EL_CK_SEALED) {
        if (ck->used > ck->slot - EL_CHUNK_HEADER_SIZE) {
            snprintf(buf, len, "payload size %" PRIu32 " does not fit its "
                     "%" PRIu32 "-byte slot", ck->used, ck->slot);
            return buf;
        }
        if (ck->raw != ck->used) {
            snprintf(buf, len, "uncompressed chunk with raw size %" PRIu32
                     " != used size %" PRIu32, ck->raw, ck->used);
            return buf;
        }
    }
    return NULL;
}

static int cmp_chunk_order(const void *a, const void *b, void *arg)
{
    const Chunk *c = arg;
    const Chunk *x = &c[*(const uint32_t *)a], *y = &c[*(const uint32_t *)b];

    if (x->vcpu != y->vcpu) {
        return x->vcpu < y->vcpu ? -1 : 1;
    }
    if (x->seq != y->seq) {
        return x->seq < y->seq ? -1 : 1;
    }
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Whether the 4096 bytes at @off (or up to the end of the file) are 0. */
static bool zero_block(const ElTrace *t, uint64_t off)
{
    uint64_t n = t->size - off < EL_CHUNK_ALIGN ? t->size - off
                                                : EL_CHUNK_ALIGN;

    for (uint64_t i = 0; i < n; i++) {
        if (t->map[off + i] != 0) {
            return false;
        }
    }
    return true;
}

static bool walk_chunks(ElTrace *t, ElError *err)
{
    const bool complete_state = t->sum.state == EL_STATE_COMPLETE;
    uint64_t end = el_get_u64(t->map + EL_HDR_END);
    uint64_t off = EL_HEADER_SIZE;
    char buf[160], name[64];

    if (complete_state && (end < EL_HEADER_SIZE || end % EL_CHUNK_ALIGN)) {
        set_err(err, EL_ERR_DAMAGED, EL_HDR_END,
                "bad end offset 0x%" PRIx64 " in the header", end);
        return false;
    }
    for (;;) {
        const uint8_t *h;
        Chunk ck;
        const char *why;

        if (complete_state && off >= end) {
            break;
        }
        if (off >= t->size) {
            if (complete_state) {
                set_cut(t, t->size, "the file ends at offset 0x%" PRIx64
                        " but the trace should go on to 0x%" PRIx64
                        " (the file was truncated)", t->size, end);
            }
            break;
        }
        if (t->size - off < EL_CHUNK_HEADER_SIZE) {
            if (memcmp(t->map + off, EL_CHUNK_MAGIC,
                       t->size - off < 4 ? t->size - off : 4) == 0) {
                set_cut(t, off, "the file ends inside the chunk header at "
                        "offset 0x%" PRIx64, off);
            } else if (complete_state) {
                set_cut(t, off, "no chunk at offset 0x%" PRIx64 " but the "
                        "trace should go on to 0x%" PRIx64, off, end);
            }
            break;
        }
        h = t->map + off;
        if (memcmp(h, EL_CHUNK_MAGIC, 4) != 0 && !complete_state &&
            zero_block(t, off)) {
            /*
             * Space claimed for a chunk that was never written: QEMU died
             * between the two. Chunks written later may follow.
             */
            off += EL_CHUNK_ALIGN;
            continue;
        }
        if (memcmp(h, EL_CHUNK_MAGIC, 4) != 0) {
            if (complete_state) {
                set_cut(t, off, "no chunk at offset 0x%" PRIx64 " but the "
                        "trace should go on to 0x%" PRIx64, off, end);
            }
            break;
        }
        ck.off = off;
        ck.vcpu = el_get_u16(h + EL_CK_VCPU);
        ck.flags = el_get_u16(h + EL_CK_FLAGS);
        ck.seq = el_get_u32(h + EL_CK_SEQ);
        ck.slot = el_get_u32(h + EL_CK_SLOT);
        ck.used = el_get_u32(h + EL_CK_USED);
        ck.raw = el_get_u32(h + EL_CK_RAW);
        ck.cut_by_eof = false;
        ck.short_slot = ck.slot > t->size - off;
        why = bad_chunk(t, &ck, buf, sizeof(buf));
        if (why) {
            if (!complete_state && !(ck.flags & EL_CK_SEALED)) {
                /* a chunk being started when recording stopped */
                set_cut(t, off, "the chunk header at offset 0x%" PRIx64
                        " is incomplete (%s)", off, why);
                break;
            }
            set_err(err, EL_ERR_DAMAGED, off, "chunk header at offset 0x%"
                    PRIx64 ": %s", off, why);
            return false;
        }
        chunk_name(&ck, name, sizeof(name));
        if (complete_state && ck.slot > end - off) {
            set_err(err, EL_ERR_DAMAGED, off, "%s at offset 0x%" PRIx64
                    " runs past the end of the trace (0x%" PRIx64 ")", name,
                    off, end);
            return false;
        }
        if (ck.flags & EL_CK_SEALED) {
            uint64_t need = EL_CHUNK_HEADER_SIZE + (uint64_t)ck.used;

            ck.len = (ck.flags & EL_CK_ZSTD) ? 0 : ck.used;
            if (need > t->size - off) {
                ck.cut_by_eof = true;
                ck.len = (ck.flags & EL_CK_ZSTD) ? 0 :
                         t->size - off - EL_CHUNK_HEADER_SIZE;
                set_cut(t, t->size, "the file ends at offset 0x%" PRIx64
                        " inside %s (the file was truncated)", t->size,
                        name);
                if (t->damage.code == EL_OK) {
                    set_err(&t->damage, EL_ERR_DAMAGED, t->size,
                            "the file ends inside %s, which was complete "
                            "(the file was truncated)", name);
                }
            }
        } else {
            uint64_t avail = t->size - off;

            ck.len = (avail < ck.slot ? avail : ck.slot) -
                     EL_CHUNK_HEADER_SIZE;
            if (complete_state) {
                set_cut(t, off, "%s at offset 0x%" PRIx64 " is not sealed, "
                        "though the trace is complete", name, off);
            }
            /* state recording: the cut offset is found later */
        }
        if (!grow((void **)&t->chunks, &t->cap_chunks,
                  t->n_chunks + 1, sizeof(Chunk))) {
            set_err(err, EL_ERR_NOMEM, off, "out of memory");
            return false;
        }
        t->chunks[t->n_chunks++] = ck;
        if (ck.slot > t->size - off) {
            set_cut(t, t->size, "the file ends at offset 0x%" PRIx64
                    " inside %s%s", t->size, name,
                    complete_state ? " (the file was truncated)" : "");
            break;
        }
        off += ck.slot;
    }
    if (!t->have_cut && complete_state && off != end) {
        set_cut(t, off, "the chunks end at offset 0x%" PRIx64 ", not at "
                "0x%" PRIx64 " as the header says", off, end);
    }
    t->sum.n_chunks = t->n_chunks;
    return true;
}

/* Order the chunks by (vcpu, seq); check each list is 0, 1, 2, ... */
static bool index_chunks(ElTrace *t, ElError *err)
{
    uint32_t max_vcpu = 0;
    bool any = false;
    size_t i;

    t->byv = malloc((t->n_chunks ? t->n_chunks : 1) * sizeof(uint32_t));
    if (!t->byv) {
        set_err(err, EL_ERR_NOMEM, 0, "out of memory");
        return false;
    }
    for (i = 0; i < t->n_chunks; i++) {
        t->byv[i] = (uint32_t)i;
        if (t->chunks[i].vcpu != EL_STATIC_VCPU) {
            any = true;
            if (t->chunks[i].vcpu > max_vcpu) {
                max_vcpu = t->chunks[i].vcpu;
            }
        }
    }
    qsort_r(t->byv, t->n_chunks, sizeof(uint32_t), cmp_chunk_order,
            t->chunks);
    t->sum.n_vcpus = any ? max_vcpu + 1 : 0;
    t->vcpus = calloc(t->sum.n_vcpus ? t->sum.n_vcpus : 1, sizeof(Vcpu));
    if (!t->vcpus) {
        set_err(err, EL_ERR_NOMEM, 0, "out of memory");
        return false;
    }
    for (i = 0; i < t->n_chunks; i++) {
        const Chunk *ck = &t->chunks[t->byv[i]];
        Vcpu *v = ck->vcpu == EL_STATIC_VCPU ? &t->statics :
                  &t->vcpus[ck->vcpu];

        if (v->n == 0) {
            v->first = (uint32_t)i;
        }
        if (ck->seq != v->n) {
            char name[64];

            chunk_name(ck, name, sizeof(name));
            if (ck->seq < v->n) {
                set_err(err, EL_ERR_DAMAGED, ck->off, "%s at offset 0x%"
                        PRIx64 " appears twice", name, ck->off);
            } else {
                set_err(err, EL_ERR_DAMAGED, ck->off, "%s at offset 0x%"
                        PRIx64 ", but its chunk %" PRIu32 " is missing", name,
                        ck->off, v->n);
            }
            return false;
        }
        v->n++;
    }
    return true;
}

/*
 * The payload of a chunk: mapped, or decompressed into *@buf (grown to
 * chunk_size as needed). Returns false with @err on damage.
 */
static bool chunk_payload(const ElTrace *t, const Chunk *ck, uint8_t **buf,
                          const uint8_t **p, const uint8_t **end,
                          ElError *err)
{
    const uint8_t *src;
    unsigned long long fcs;
    size_t n;
    char name[64];

    if (!(ck->flags & EL_CK_ZSTD)) {
        *p = t->map + ck->off + EL_CHUNK_HEADER_SIZE;
        *end = *p + ck->len;
        return true;
    }
    chunk_name(ck, name, sizeof(name));
    if (ck->cut_by_eof) {
        set_err(err, EL_ERR_DAMAGED, t->size, "the file ends inside "
                "compressed %s (the file was truncated)", name);
        return false;
    }
    if (!*buf) {
        *buf = malloc(t->sum.chunk_size);
        if (!*buf) {
            set_err(err, EL_ERR_NOMEM, ck->off, "out of memory");
            return false;
        }
    }
    src = t->map + ck->off + EL_CHUNK_HEADER_SIZE;
    fcs = ZSTD_getFrameContentSize(src, ck->used);
    if (fcs != ck->raw) {
        set_err(err, EL_ERR_DAMAGED, ck->off + EL_CHUNK_HEADER_SIZE,
                "%s: the zstd frame does not hold %" PRIu32 " bytes", name,
                ck->raw);
        return false;
    }
    n = ZSTD_decompress(*buf, ck->raw, src, ck->used);
    if (ZSTD_isError(n) || n != ck->raw) {
        set_err(err, EL_ERR_DAMAGED, ck->off + EL_CHUNK_HEADER_SIZE,
                "%s: cannot decompress: %s", name,
                ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame");
        return false;
    }
    *p = *buf;
    *end = *buf + ck->raw;
    return true;
}

/* File offset of @p, a position in @ck's payload starting at @base. */
static uint64_t pos_off(const Chunk *ck, const uint8_t *base,
                        const uint8_t *p)
{
    if (ck->flags & EL_CK_ZSTD) {
        return ck->off;
    }
    return ck->off + EL_CHUNK_HEADER_SIZE + (uint64_t)(p - base);
}

/* A message for a record problem, with where it is in a compressed chunk. */
static void rec_err(ElError *err, const Chunk *ck, const uint8_t *base,
                    const uint8_t *rec, const char *what)
{
    char name[64];

    if (!ck) {
        set_err(err, EL_ERR_DAMAGED, 0, "%s", what);
    } else if (ck->flags & EL_CK_ZSTD) {
        chunk_name(ck, name, sizeof(name));
        set_err(err, EL_ERR_DAMAGED, ck->off, "%s (compressed %s, byte %"
                PRIu64 " of its records)", what, name,
                (uint64_t)(rec - base));
    } else {
        set_err(err, EL_ERR_DAMAGED, pos_off(ck, base, rec), "%s", what);
    }
}

static void parse_err(ElError *err, const Chunk *ck, const uint8_t *base,
                      const uint8_t *rec, const ParseFail *f)
{
    char what[200];

    if (f->what == RD_TRUNC) {
        snprintf(what, sizeof(what), "truncated %s record (need %s%zu bytes, "
                 "have %zu)", kind_name(*rec), f->need > 1 ? "at least " : "",
                 f->need, f->have);
    } else if (*rec >= 0x08 && *rec < 0x80) {
        snprintf(what, sizeof(what), "unknown record kind 0x%02x", *rec);
    } else {
        snprintf(what, sizeof(what), "bad %s record: %s", kind_name(*rec),
                 f->why);
    }
    rec_err(err, ck, base, rec, what);
}

/* ---- Opening: static records ------------------------------------------- */

static bool load_static_rec(ElTrace *t, const Rec *r, const Chunk *ck,
                            const uint8_t *base, const uint8_t *rec,
                            ElError *err)
{
    char what[160];

    switch (r->kind) {
    case EL_REC_INSN: {
        ElInsnInfo *in;
        uint8_t *mem;

        if (r->a != t->n_insns) {
            snprintf(what, sizeof(what), "INSN record defines instruction "
                     "%" PRIu64 ", expected %" PRIu64, r->a, t->n_insns);
            rec_err(err, ck, base, rec, what);
            return false;
        }
        if (t->n_insns >= UINT32_MAX ||
            !grow((void **)&t->insns, &t->cap_insns, t->n_insns + 1,
                  sizeof(ElInsnInfo)) ||
            !(mem = arena_alloc(t, r->size + r->text_len + 1))) {
            set_err(err, EL_ERR_NOMEM, pos_off(ck, base, rec),
                    "out of memory");
            return false;
        }
        memcpy(mem, r->data, r->size);
        memcpy(mem + r->size, r->text, r->text_len);
        mem[r->size + r->text_len] = '\0';
        in = &t->insns[t->n_insns++];
        in->pc = r->b;
        in->bytes = mem;
        in->size = r->size;
        in->disas = (const char *)mem + r->size;
        in->disas_len = (uint32_t)r->text_len;
        return true;
    }
    case EL_REC_TB: {
        const uint8_t *p = r->data;
        Tb *tb;

        if (r->a != t->n_tbs) {
            snprintf(what, sizeof(what), "TB record defines TB %" PRIu64
                     ", expected %" PRIu64, r->a, t->n_tbs);
            rec_err(err, ck, base, rec, what);
            return false;
        }
        if (!grow((void **)&t->tbs, &t->cap_tbs, t->n_tbs + 1, sizeof(Tb)) ||
            !grow((void **)&t->tb_pool, &t->pool_cap, t->pool_len + r->b,
                  sizeof(uint32_t))) {
            set_err(err, EL_ERR_NOMEM, pos_off(ck, base, rec),
                    "out of memory");
            return false;
        }
        tb = &t->tbs[t->n_tbs];
        tb->start = t->pool_len;
        tb->n = (uint32_t)r->b;
        for (uint64_t i = 0; i < r->b; i++) {
            uint64_t id = 0;

            /* checked by parse_rec() */
            get_varint(&p, p + EL_VARINT_MAX, &id);
            if (id >= t->n_insns) {
                snprintf(what, sizeof(what), "TB %" PRIu64 " uses instruction "
                         "%" PRIu64 ", which is not defined", r->a, id);
                rec_err(err, ck, base, rec, what);
                return false;
            }
            t->tb_pool[t->pool_len + i] = (uint32_t)id;
        }
        t->pool_len += r->b;
        t->n_tbs++;
        return true;
    }
    case EL_REC_DEVICE: {
        char *name;

        if (r->a == 0 || r->a > MAX_DEVICE_ID) {
            snprintf(what, sizeof(what), "DEVICE record with id %" PRIu64,
                     r->a);
            rec_err(err, ck, base, rec, what);
            return false;
        }
        if (r->a >= t->n_devices) {
            uint32_t n = t->n_devices;
            uint64_t cap = n;

            if (!grow((void **)&t->devices, &cap, r->a + 1, sizeof(char *))) {
                set_err(err, EL_ERR_NOMEM, pos_off(ck, base, rec),
                        "out of memory");
                return false;
            }
            memset(t->devices + n, 0, (size_t)(cap - n) * sizeof(char *));
            t->n_devices = (uint32_t)cap;
        }
        if (t->devices[r->a]) {
            snprintf(what, sizeof(what), "device %" PRIu64 " is defined "
                     "twice", r->a);
            rec_err(err, ck, base, rec, what);
            return false;
        }
        name = arena_alloc(t, r->text_len + 1);
        if (!name) {
            set_err(err, EL_ERR_NOMEM, pos_off(ck, base, rec),
                    "out of memory");
            return false;
        }
        memcpy(name, r->text, r->text_len);
        name[r->text_len] = '\0';
        t->devices[r->a] = name;
        return true;
    }
    case EL_REC_SKIP:
        return true;
    default:
        snprintf(what, sizeof(what), "%s record in a static chunk",
                 kind_name(r->kind));
        rec_err(err, ck, base, rec, what);
        return false;
    }
}

static bool load_statics(ElTrace *t, ElError *err)
{
    uint8_t *zbuf = NULL;
    bool ok = true;
    uint64_t cap = 0;

    if (!grow((void **)&t->devices, &cap, 16, sizeof(char *))) {
        set_err(err, EL_ERR_NOMEM, 0, "out of memory");
        return false;
    }
    memset(t->devices, 0, (size_t)cap * sizeof(char *));
    t->n_devices = (uint32_t)cap;
    t->devices[0] = "RAM";

    for (uint32_t i = 0; ok && i < t->statics.n; i++) {
        const Chunk *ck = &t->chunks[t->byv[t->statics.first + i]];
        const uint8_t *p, *end, *base;

        if (!chunk_payload(t, ck, &zbuf, &p, &end, err)) {
            ok = false;
            break;
        }
        base = p;
        while (p < end && *p != EL_REC_END) {
            Rec r;
            ParseFail f;
            const uint8_t *next;

            if (parse_rec(p, end, &r, &next, &f) != RD_OK) {
                if (f.what == RD_TRUNC &&
                    (!(ck->flags & EL_CK_SEALED) || ck->cut_by_eof)) {
                    break;      /* the end of what was written */
                }
                parse_err(err, ck, base, p, &f);
                ok = false;
                break;
            }
            if (!load_static_rec(t, &r, ck, base, p, err)) {
                ok = false;
                break;
            }
            p = next;
        }
    }
    free(zbuf);
    t->sum.n_insns_static = t->n_insns;
    t->sum.n_tbs = t->n_tbs;
    return ok;
}

/*
 * Walk the records of a chunk without decoding them: where do they end,
 * and is the last one an EXIT (whose numbers go to *@exit)? Returns the
 * end offset in the payload, or -1 if the records are damaged.
 */
static int64_t scan_chunk(const uint8_t *p, const uint8_t *end, Rec *exit,
                          bool *has_exit)
{
    const uint8_t *base = p;

    *has_exit = false;
    while (p < end && *p != EL_REC_END) {
        Rec r;
        ParseFail f;
        const uint8_t *next;

        if (parse_rec(p, end, &r, &next, &f) != RD_OK) {
            return f.what == RD_TRUNC ? p - base : -1;
        }
        *has_exit = r.kind == EL_REC_EXIT;
        if (*has_exit) {
            *exit = r;
        }
        p = next;
    }
    return p - base;
}

/* Find each vCPU's EXIT record, and where a cut-off trace's records end. */
static bool scan_ends(ElTrace *t, ElError *err)
{
    uint8_t *zbuf = NULL;
    const Chunk *first_open = NULL;
    int64_t open_end = 0;

    for (uint32_t v = 0; v < t->sum.n_vcpus; v++) {
        Vcpu *vc = &t->vcpus[v];
        const Chunk *ck;
        const uint8_t *p, *end;
        ElError e;
        Rec r = { 0 };
        bool has_exit;
        int64_t n;

        if (vc->n == 0) {
            continue;
        }
        ck = &t->chunks[t->byv[vc->first + vc->n - 1]];
        if (!chunk_payload(t, ck, &zbuf, &p, &end, &e)) {
            if (e.code == EL_ERR_NOMEM) {
                *err = e;
                free(zbuf);
                return false;
            }
            continue;           /* the cursor reports it */
        }
        n = scan_chunk(p, end, &r, &has_exit);
        if (n >= 0 && has_exit) {
            vc->has_exit = true;
            vc->exit_insns = r.a;
            vc->exit_loads = r.b;
            vc->exit_stores = r.c;
        }
        /* the vCPU's records end in a chunk being written, or cut */
        if ((!(ck->flags & EL_CK_SEALED) || (ck->flags & EL_CK_CUT)) &&
            (!first_open || ck->off < first_open->off)) {
            first_open = ck;
            open_end = n < 0 ? 0 : n;
        }
    }
    free(zbuf);

    if (t->sum.state == EL_STATE_RECORDING) {
        /* an unsealed static chunk, or an earlier vCPU chunk */
        for (size_t i = 0; i < t->n_chunks; i++) {
            const Chunk *ck = &t->chunks[i];

            /* a vCPU's chunk says more than the static one */
            if (!(ck->flags & EL_CK_SEALED) && ck != first_open &&
                (!first_open || (ck->off < first_open->off &&
                                 ck->vcpu != EL_STATIC_VCPU))) {
                bool dummy_exit;
                Rec r;
                int64_t n = scan_chunk(t->map + ck->off + EL_CHUNK_HEADER_SIZE,
                                       t->map + ck->off +
                                       EL_CHUNK_HEADER_SIZE + ck->len,
                                       &r, &dummy_exit);

                first_open = ck;
                open_end = n < 0 ? 0 : n;
                break;
            }
        }
        if (first_open) {
            char name[64];

            chunk_name(first_open, name, sizeof(name));
            set_cut(t, first_open->off + EL_CHUNK_HEADER_SIZE +
                    (uint64_t)open_end, "%s was being written when %s", name,
                    (first_open->flags & EL_CK_CUT) ?
                    "QEMU ended without the exit callback (written out by "
                    "the watcher)" :
                    "recording stopped");
        } else {
            uint64_t off = EL_HEADER_SIZE;

            if (t->n_chunks) {
                const Chunk *last = &t->chunks[t->n_chunks - 1];

                off = last->off + last->slot;
                if (off > t->size) {
                    off = t->size;
                }
            }
            set_cut(t, off, "recording stopped before the trace was "
                    "finished");
        }
    } else if (!t->have_cut) {
        for (uint32_t v = 0; v < t->sum.n_vcpus; v++) {
            const Vcpu *vc = &t->vcpus[v];

            if (vc->n && !vc->has_exit) {
                const Chunk *ck = &t->chunks[t->byv[vc->first + vc->n - 1]];

                set_cut(t, ck->off, "vCPU %" PRIu32 " has no EXIT record, "
                        "though the trace is complete", v);
                break;
            }
        }
    }
    return true;
}

ElTrace *el_trace_open(const char *path, ElError *err)
{
    ElTrace *t;
    struct stat st;

    if (err) {
        memset(err, 0, sizeof(*err));
    }
    t = calloc(1, sizeof(*t));
    if (!t) {
        set_err(err, EL_ERR_NOMEM, 0, "out of memory");
        return NULL;
    }
    t->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (t->fd < 0) {
        set_err(err, EL_ERR_IO, 0, "cannot open: %s", strerror(errno));
        free(t);
        return NULL;
    }
    if (fstat(t->fd, &st) != 0) {
        set_err(err, EL_ERR_IO, 0, "cannot stat: %s", strerror(errno));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        set_err(err, EL_ERR_IO, 0, "cannot read: %s", strerror(EISDIR));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        set_err(err, EL_ERR_IO, 0, "cannot read: not a regular file");
        goto fail;
    }
    t->size = (uint64_t)st.st_size;
    if (t->size > 0) {
        void *m;

        if (t->size > SIZE_MAX) {
            set_err(err, EL_ERR_IO, 0, "file too large to map");
            goto fail;
        }
        m = mmap(NULL, (size_t)t->size, PROT_READ, MAP_PRIVATE, t->fd, 0);
        if (m == MAP_FAILED) {
            set_err(err, EL_ERR_IO, 0, "cannot read: %s", strerror(errno));
            goto fail;
        }
        t->map = m;
        /* the walk touches one page per chunk: no read-ahead for it */
        madvise(m, (size_t)t->size, MADV_RANDOM);
    }
    if (!read_header(t, err) || !walk_chunks(t, err) ||
        !index_chunks(t, err) || !load_statics(t, err) ||
        !scan_ends(t, err)) {
        goto fail;
    }
    if (t->map) {
        madvise((void *)t->map, (size_t)t->size, MADV_NORMAL);
    }
    t->sum.complete = t->sum.state == EL_STATE_COMPLETE && !t->have_cut;
    /* the plugin, then its watcher, hold an exclusive lock while writing */
    if (t->sum.state == EL_STATE_RECORDING &&
        flock(t->fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        t->sum.being_written = true;
    }
    if (t->sum.state == EL_STATE_COMPLETE && !t->sum.complete &&
        t->damage.code == EL_OK) {
        set_err(&t->damage, EL_ERR_DAMAGED, t->sum.cut_offset, "%s",
                t->sum.cut_reason);
    }
    if (t->sum.complete) {
        t->sum.cut_offset = 0;
        t->sum.cut_reason[0] = '\0';
    }
    return t;

fail:
    el_trace_close(t);
    return NULL;
}

void el_trace_close(ElTrace *t)
{
    if (!t) {
        return;
    }
    if (t->map) {
        munmap((void *)t->map, (size_t)t->size);
    }
    if (t->fd >= 0) {
        close(t->fd);
    }
    while (t->arena) {
        ArenaBlock *b = t->arena;

        t->arena = b->next;
        free(b);
    }
    free(t->chunks);
    free(t->byv);
    free(t->vcpus);
    free(t->insns);
    free(t->tbs);
    free(t->tb_pool);
    free(t->devices);
    free(t);
}

const ElTraceSummary *el_trace_summary(const ElTrace *t)
{
    return &t->sum;
}

const char *el_trace_meta(ElTrace *t, const char *key)
{
    size_t klen = strlen(key);
    const char *p = t->meta;

    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);

        if (len > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t vlen = len - klen - 1;

            memcpy(t->metaval, p + klen + 1, vlen);
            t->metaval[vlen] = '\0';
            return t->metaval;
        }
        p += len;
        if (*p == '\n') {
            p++;
        }
    }
    return NULL;
}

bool el_trace_has_vcpu(const ElTrace *t, uint32_t vcpu)
{
    return vcpu < t->sum.n_vcpus && t->vcpus[vcpu].n > 0;
}

bool el_trace_exit_counts(const ElTrace *t, uint32_t vcpu, uint64_t *insns,
                          uint64_t *loads, uint64_t *stores)
{
    const Vcpu *v;

    if (vcpu >= t->sum.n_vcpus || !t->vcpus[vcpu].has_exit) {
        return false;
    }
    v = &t->vcpus[vcpu];
    if (insns) {
        *insns = v->exit_insns;
    }
    if (loads) {
        *loads = v->exit_loads;
    }
    if (stores) {
        *stores = v->exit_stores;
    }
    return true;
}

/* ---- Cursors ----------------------------------------------------------- */

enum {
    CUR_RUNNING = 0,
    CUR_DONE = 1,           /* the end: el_cursor_next() returns 0 */
    CUR_FAILED = -1,        /* damage: el_cursor_next() returns -1 */
};

struct ElCursor {
    ElTrace *t;
    uint32_t vcpu;
    const Vcpu *v;
    uint32_t next_chunk;    /* index into v's chunk list */
    const Chunk *ck;        /* current chunk, NULL before the first */
    const uint8_t *base, *p, *end;
    uint8_t *zbuf;
    uint64_t done_bytes;    /* slots of the chunks done with */

    /* decoding state, carried from chunk to chunk */
    uint64_t prev_tb, prev_vaddr, prev_pdelta;
    const uint32_t *blk;    /* instruction ids of the current block */
    uint32_t blk_count, blk_pos;
    uint64_t blk_offset;
    uint64_t index;
    uint64_t loads, stores;
    ElMemAccess *mem;
    size_t n_mem, cap_mem;
    bool have_pending;      /* a MEM read ahead, of a later instruction */
    uint32_t pending_idx;
    ElMemAccess pending;
    bool exited;
    bool tail_lost;         /* records of the last chunk read are missing */
    bool at_end;            /* cur_avail() found no more records */
    bool stream_over;       /* no more records; the block is emitted */
    int state;
    ElError err;
};

ElCursor *el_cursor_new(ElTrace *t, uint32_t vcpu, ElError *err)
{
    static const Vcpu none;
    ElCursor *c = calloc(1, sizeof(*c));

    if (!c) {
        set_err(err, EL_ERR_NOMEM, 0, "out of memory");
        return NULL;
    }
    c->t = t;
    c->vcpu = vcpu;
    c->v = vcpu < t->sum.n_vcpus ? &t->vcpus[vcpu] : &none;
    c->cap_mem = 16;
    c->mem = malloc(c->cap_mem * sizeof(ElMemAccess));
    if (!c->mem) {
        free(c);
        set_err(err, EL_ERR_NOMEM, 0, "out of memory");
        return NULL;
    }
    return c;
}

void el_cursor_free(ElCursor *c)
{
    if (!c) {
        return;
    }
    free(c->zbuf);
    free(c->mem);
    free(c);
}

uint64_t el_cursor_progress(const ElCursor *c)
{
    uint64_t n = c->done_bytes;

    if (c->ck && !c->at_end && !(c->ck->flags & EL_CK_ZSTD)) {
        n += EL_CHUNK_HEADER_SIZE + (uint64_t)(c->p - c->base);
    }
    return n;
}

static int cur_fail(ElCursor *c, ElError *err)
{
    c->state = CUR_FAILED;
    if (err) {
        *err = c->err;
    }
    return -1;
}

/* A record problem at @rec: damage. */
static int cur_damage(ElCursor *c, const uint8_t *rec, const char *what,
                      ElError *err)
{
    rec_err(&c->err, c->ck, c->base, rec, what);
    return cur_fail(c, err);
}

/*
 * The vCPU's records are over (no more chunks, or a cut-off). Returns 0
 * if that is a normal end (a clean end, or the end of a cut-off trace),
 * -1 with the error if it is damage.
 */
static int cur_end(ElCursor *c, ElError *err)
{
    const ElTrace *t = c->t;

    if (c->exited || c->v->n == 0) {
        return 0;
    }
    if (t->damage.code != EL_OK) {
        c->err = t->damage;
        return cur_fail(c, err);
    }
    if (t->sum.state == EL_STATE_RECORDING) {
        return 0;
    }
    /* complete trace, sound index, and no EXIT: scan_ends() said so */
    set_err(&c->err, EL_ERR_DAMAGED,
            c->ck ? pos_off(c->ck, c->base, c->p) : 0, "vCPU %" PRIu32
            "'s records end without an EXIT record", c->vcpu);
    return cur_fail(c, err);
}

/*
 * Make the next record of the stream available at c->p, moving on to the
 * vCPU's next chunk when this one's records are over. Returns 1 if there
 * is a record, 0 at the end of the stream, -1 on damage.
 */
static int cur_avail(ElCursor *c, ElError *err)
{
    if (c->at_end) {
        return 0;
    }
    for (;;) {
        const Chunk *ck;

        if (c->p < c->end && *c->p != EL_REC_END) {
            return 1;
        }
        if (c->ck && c->ck->cut_by_eof && c->p >= c->end) {
            /* the file ends inside this sealed chunk's records */
            c->err = c->t->damage;
            if (c->err.code == EL_OK) {
                set_err(&c->err, EL_ERR_DAMAGED, c->t->size,
                        "the file ends inside a chunk");
            }
            return cur_fail(c, err);
        }
        if (c->next_chunk >= c->v->n) {
            /* c->ck stays: the last chunk, for offsets */
            if (c->ck) {
                c->done_bytes += c->ck->slot;
                c->p = c->end;
            }
            c->at_end = true;
            return 0;
        }
        if (c->ck) {
            c->done_bytes += c->ck->slot;
        }
        ck = &c->t->chunks[c->t->byv[c->v->first + c->next_chunk++]];
        c->ck = ck;
        /* a chunk whose slot the file does not hold whole lost records */
        c->tail_lost = ck->short_slot;
        if (!chunk_payload(c->t, ck, &c->zbuf, &c->p, &c->end, &c->err)) {
            return cur_fail(c, err);
        }
        c->base = c->p;
    }
}

/*
 * A record at c->p could not be parsed. In a chunk that was being written
 * a truncated record is where its records end; otherwise it is damage.
 * Returns 0 (go on with the next chunk) or -1.
 */
static int cur_parse_fail(ElCursor *c, const ParseFail *f, ElError *err)
{
    if (f->what == RD_TRUNC && !(c->ck->flags & EL_CK_SEALED)) {
        c->p = c->end;
        c->tail_lost = true;
        return 0;
    }
    parse_err(&c->err, c->ck, c->base, c->p, f);
    return cur_fail(c, err);
}

/*
 * Something the records refer to is not in the file. In a cut-off trace,
 * the static chunk that had it may be lost with the rest: then this is
 * where the readable records end. Returns 0 (the stream is over) or -1.
 */
static int cur_missing(ElCursor *c, const char *what, ElError *err)
{
    if (c->t->sum.state == EL_STATE_RECORDING ||
        c->t->damage.code != EL_OK) {
        /* cut off (or known to be damaged): the end of what is readable */
        c->p = c->end;
        c->next_chunk = c->v->n;
        c->tail_lost = true;
        return 0;
    }
    return cur_damage(c, c->p, what, err);
}

/*
 * Decode the MEM record at c->p into @m and *@idx. Returns 1, 0 if the
 * chunk's records ended (go on), -1 on damage.
 */
static int cur_mem(ElCursor *c, ElMemAccess *m, uint32_t *idx, ElError *err)
{
    Rec r;
    ParseFail f;
    const uint8_t *next;
    char what[160];

    if (parse_hot(c->p, c->end, &r, &next, &f) != RD_OK) {
        return cur_parse_fail(c, &f, err);
    }
    if (r.a >= c->blk_count) {
        if (c->blk == NULL) {
            return cur_damage(c, c->p, "MEM record before any BLOCK", err);
        }
        snprintf(what, sizeof(what), "MEM record for instruction %" PRIu64
                 " of a block of %" PRIu32, r.a, c->blk_count);
        return cur_damage(c, c->p, what, err);
    }
    if (r.a < c->blk_pos) {
        snprintf(what, sizeof(what), "MEM record for instruction %" PRIu64
                 " after one for instruction %" PRIu32, r.a, c->blk_pos);
        return cur_damage(c, c->p, what, err);
    }
    c->prev_vaddr += (uint64_t)el_unzigzag(r.b);
    m->vaddr = c->prev_vaddr;
    m->size_shift = r.info & EL_MEM_SIZE_SHIFT_MASK;
    m->store = (r.info & EL_MEM_STORE) != 0;
    m->big_endian = (r.info & EL_MEM_BIG_ENDIAN) != 0;
    m->sign_extended = (r.info & EL_MEM_SIGN) != 0;
    m->has_paddr = (r.info & EL_MEM_PHYS) != 0;
    if (m->has_paddr) {
        if (r.c >= c->t->n_devices || !c->t->devices[r.c]) {
            snprintf(what, sizeof(what), "MEM record names device %" PRIu64
                     ", which is not defined", r.c);
            return cur_missing(c, what, err);
        }
        c->prev_pdelta += (uint64_t)el_unzigzag(r.text_len);
        m->paddr = m->vaddr + c->prev_pdelta;
        m->device = c->t->devices[r.c];
    } else {
        m->paddr = 0;
        m->device = NULL;
    }
    if (m->store) {
        c->stores++;
    } else {
        c->loads++;
    }
    *idx = (uint32_t)r.a;
    c->p = next;
    return 1;
}

/*
 * Collect the accesses of instruction c->blk_pos: the MEM records that
 * follow with its index. Returns 1 (complete), 0 (the stream ended), -1.
 */
static int cur_gather(ElCursor *c, ElError *err)
{
    uint32_t i = c->blk_pos;

    c->n_mem = 0;
    if (c->have_pending) {
        if (c->pending_idx > i) {
            return 1;
        }
        c->mem[c->n_mem++] = c->pending;
        c->have_pending = false;
    }
    if (c->stream_over) {
        return 1;
    }
    for (;;) {
        ElMemAccess m;
        uint32_t idx = 0;
        int r = cur_avail(c, err);

        if (r <= 0) {
            return r;
        }
        if (*c->p == EL_REC_SKIP) {
            /* a SKIP may come anywhere: step over it */
            Rec sk;
            ParseFail f;
            const uint8_t *next;

            if (parse_rec(c->p, c->end, &sk, &next, &f) != RD_OK) {
                if (cur_parse_fail(c, &f, err) < 0) {
                    return -1;
                }
                continue;
            }
            c->p = next;
            continue;
        }
        if (*c->p < EL_REC_MEM) {
            return 1;
        }
        r = cur_mem(c, &m, &idx, err);
        if (r < 0) {
            return r;
        }
        if (r == 0) {
            continue;
        }
        if (idx != i) {
            c->pending = m;
            c->pending_idx = idx;
            c->have_pending = true;
            return 1;
        }
        if (c->n_mem == c->cap_mem) {
            size_t cap = c->cap_mem * 2;
            ElMemAccess *nm;

            if (cap > MAX_MEM_PER_INSN) {
                set_err(&c->err, EL_ERR_DAMAGED, pos_off(c->ck, c->base, c->p),
                        "more than %u memory accesses for one instruction",
                        MAX_MEM_PER_INSN);
                return cur_fail(c, err);
            }
            nm = realloc(c->mem, cap * sizeof(*nm));
            if (!nm) {
                set_err(&c->err, EL_ERR_NOMEM, 0, "out of memory");
                return cur_fail(c, err);
            }
            c->mem = nm;
            c->cap_mem = cap;
        }
        c->mem[c->n_mem++] = m;
    }
}

int el_cursor_next(ElCursor *c, ElExec *e, ElError *err)
{
    const ElTrace *t = c->t;

    if (c->state == CUR_DONE) {
        return 0;
    }
    if (c->state == CUR_FAILED) {
        if (err) {
            *err = c->err;
        }
        return -1;
    }
    for (;;) {
        Rec r;
        ParseFail f;
        const uint8_t *next;
        char what[160];
        int s;

        if (c->blk_pos < c->blk_count) {
            if (!c->have_pending && c->p < c->end && *c->p < EL_REC_MEM &&
                *c->p != EL_REC_END && *c->p != EL_REC_SKIP) {
                /* the fast way: the next record is not one of its MEMs */
                e->vcpu = c->vcpu;
                e->index = c->index++;
                e->insn = &t->insns[c->blk[c->blk_pos++]];
                e->mem = c->mem;
                e->n_mem = 0;
                e->offset = c->blk_offset;
                return 1;
            }
            s = cur_gather(c, err);
            if (s < 0) {
                return -1;
            }
            if (s == 0) {
                /*
                 * The stream ended inside this block. If its last chunk
                 * was being written when recording stopped, every record
                 * written is there: the instructions that started are
                 * emitted. Otherwise (a chunk lost after a sealed one, a
                 * truncated file) their accesses may be lost with the rest:
                 * only instructions known to be whole were emitted.
                 */
                if (cur_end(c, err) < 0) {
                    return -1;
                }
                if (c->tail_lost || !c->ck ||
                    ((c->ck->flags & EL_CK_SEALED) &&
                     !(c->ck->flags & EL_CK_CUT))) {
                    c->state = CUR_DONE;
                    return 0;
                }
                c->stream_over = true;
            }
            e->vcpu = c->vcpu;
            e->index = c->index++;
            e->insn = &t->insns[c->blk[c->blk_pos++]];
            e->mem = c->mem;
            e->n_mem = c->n_mem;
            e->offset = c->blk_offset;
            return 1;
        }
        if (c->stream_over) {
            c->state = CUR_DONE;
            return 0;
        }
        s = cur_avail(c, err);
        if (s < 0) {
            return -1;
        }
        if (s == 0) {
            if (c->have_pending) {
                return cur_damage(c, c->p, "MEM record past its block", err);
            }
            if (cur_end(c, err) < 0) {
                return -1;
            }
            c->state = CUR_DONE;
            return 0;
        }
        if (*c->p >= EL_REC_MEM || c->have_pending) {
            /* every instruction of the block is out: a MEM has no owner */
            if (parse_rec(c->p, c->end, &r, &next, &f) != RD_OK) {
                if (cur_parse_fail(c, &f, err) < 0) {
                    return -1;
                }
                continue;
            }
            if (c->blk == NULL) {
                return cur_damage(c, c->p, "MEM record before any BLOCK",
                                  err);
            }
            snprintf(what, sizeof(what), "MEM record for instruction %"
                     PRIu64 " of a block of %" PRIu32, r.a, c->blk_count);
            return cur_damage(c, c->p, what, err);
        }
        if (c->exited && *c->p != EL_REC_SKIP) {
            return cur_damage(c, c->p, "record after the vCPU's EXIT record",
                              err);
        }
        if (parse_hot(c->p, c->end, &r, &next, &f) != RD_OK) {
            if (cur_parse_fail(c, &f, err) < 0) {
                return -1;
            }
            continue;
        }
        switch (r.kind) {
        case EL_REC_BLOCK: {
            uint64_t tb = c->prev_tb + (uint64_t)el_unzigzag(r.a);
            const Tb *b;

            if (tb >= t->n_tbs) {
                snprintf(what, sizeof(what), "BLOCK refers to TB %" PRIu64
                         ", which is not defined", tb);
                if (cur_missing(c, what, err) < 0) {
                    return -1;
                }
                continue;
            }
            b = &t->tbs[tb];
            if (r.b > b->n) {
                snprintf(what, sizeof(what), "BLOCK of %" PRIu64 " "
                         "instructions of TB %" PRIu64 ", which has %" PRIu32,
                         r.b, tb, b->n);
                return cur_damage(c, c->p, what, err);
            }
            c->prev_tb = tb;
            c->blk = t->tb_pool + b->start;
            c->blk_count = (uint32_t)r.b;
            c->blk_pos = 0;
            /*
             * A record of a compressed chunk has no file offset of its
             * own: it gets the chunk's payload offset plus its position
             * in the decompressed records, unique per record.
             */
            c->blk_offset = c->ck->off + EL_CHUNK_HEADER_SIZE +
                            (uint64_t)(c->p - c->base);
            break;
        }
        case EL_REC_EXIT:
            if (t->sum.state == EL_STATE_COMPLETE &&
                (r.a != c->index || r.b != c->loads || r.c != c->stores)) {
                snprintf(what, sizeof(what), "EXIT record says %" PRIu64
                         " instructions, %" PRIu64 " loads, %" PRIu64
                         " stores; the records have %" PRIu64 ", %" PRIu64
                         ", %" PRIu64, r.a, r.b, r.c, c->index, c->loads,
                         c->stores);
                return cur_damage(c, c->p, what, err);
            }
            c->exited = true;
            break;
        case EL_REC_VCPU:
        case EL_REC_SKIP:
            break;
        default:
            snprintf(what, sizeof(what), "%s record in a vCPU chunk",
                     kind_name(r.kind));
            return cur_damage(c, c->p, what, err);
        }
        c->p = next;
    }
}
