/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Opening a trace (docs/trace-format.md): el_trace_open() reads and checks
 * the header, walks the chunks (validating every header field against the
 * file size and the chunk size), orders each vCPU's chunks by seq, loads
 * the static records (instructions, TBs, devices) into tables, and finds
 * each vCPU's EXIT record and where a cut-off trace ends. Cursors
 * (cursor.c) then decode the vCPUs' records.
 *
 * The file is read with pread(2) (chunk.c), never mapped, and no lock is
 * kept on it: whether a writer still holds its lock is probed once, and
 * the probe's lock released at once, so that a reader never stands in the
 * way of a new recording into the same path.
 *
 * Damage and cut-off: a trace whose state is "recording" was cut off, and
 * everything readable in it is returned, the end of its records being a
 * normal end. A trace that says it is complete but is not (truncated file,
 * missing chunks, unsealed chunks, no EXIT record), and records that break
 * the format, are damage: the cursor returns everything up to the damage,
 * then -1.
 *
 * What is allocated is bounded by the file: a chunk entry per 4096 bytes,
 * a vCPU entry per vCPU that has a chunk, table entries per static record
 * read, device slots up to the number of bytes of static records.
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
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* ---- Memory ------------------------------------------------------------ */

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

/* ---- Small helpers ----------------------------------------------------- */

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

void rd_chunk_name(const Chunk *ck, char *buf, size_t len)
{
    if (ck->vcpu == EL_STATIC_VCPU) {
        snprintf(buf, len, "static chunk %" PRIu32, ck->seq);
    } else {
        snprintf(buf, len, "chunk %" PRIu32 " of vCPU %u", ck->seq,
                 (unsigned)ck->vcpu);
    }
}

const Vcpu *rd_find_vcpu(const ElTrace *t, uint32_t index)
{
    uint32_t lo = 0, hi = t->n_present;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (t->vcpus[mid].index < index) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < t->n_present && t->vcpus[lo].index == index ? &t->vcpus[lo]
                                                            : NULL;
}

/* ---- The header -------------------------------------------------------- */

static bool read_header(ElTrace *t, ElError *err)
{
    uint8_t h[EL_HEADER_SIZE];
    uint32_t header_size, meta_len;
    const uint8_t *nul;

    if (t->size == 0) {
        rd_set_err(err, EL_ERR_DAMAGED, 0, "empty file, not an execlog trace");
        return false;
    }
    if (!rd_read_at(t, h, t->size < EL_HEADER_SIZE ? (size_t)t->size :
                    EL_HEADER_SIZE, 0, err)) {
        return false;
    }
    if (t->size < EL_MAGIC_LEN || memcmp(h, EL_MAGIC, EL_MAGIC_LEN) != 0) {
        rd_set_err(err, EL_ERR_DAMAGED, 0,
                   "not an execlog trace (no EXECLOG magic)");
        return false;
    }
    if (t->size < EL_HDR_META) {
        rd_set_err(err, EL_ERR_DAMAGED, t->size,
                   "file ends inside the trace header (%" PRIu64 " bytes)",
                   t->size);
        return false;
    }
    t->sum.version = el_get_u16(h + EL_HDR_VERSION);
    t->sum.min_reader = el_get_u16(h + EL_HDR_MIN_READER);
    if (t->sum.min_reader > EL_READER_VERSION) {
        rd_set_err(err, EL_ERR_VERSION, EL_HDR_MIN_READER,
                   "written for reader version %u; this reader knows up to %u",
                   (unsigned)t->sum.min_reader, (unsigned)EL_READER_VERSION);
        return false;
    }
    if (t->sum.version == 0 || t->sum.min_reader == 0) {
        rd_set_err(err, EL_ERR_DAMAGED, EL_HDR_VERSION,
                   "bad format version %u (min reader %u)",
                   (unsigned)t->sum.version, (unsigned)t->sum.min_reader);
        return false;
    }
    if (t->size < EL_HEADER_SIZE) {
        rd_set_err(err, EL_ERR_DAMAGED, t->size,
                   "file ends inside the %u-byte trace header (%" PRIu64
                   " bytes)", EL_HEADER_SIZE, t->size);
        return false;
    }
    header_size = el_get_u32(h + EL_HDR_HEADER_SIZE);
    if (header_size != EL_HEADER_SIZE) {
        rd_set_err(err, EL_ERR_DAMAGED, EL_HDR_HEADER_SIZE,
                   "header size is %" PRIu32 ", not %u", header_size,
                   EL_HEADER_SIZE);
        return false;
    }
    t->sum.chunk_size = el_get_u32(h + EL_HDR_CHUNK_SIZE);
    if (t->sum.chunk_size == 0 || t->sum.chunk_size % EL_CHUNK_ALIGN != 0 ||
        t->sum.chunk_size > EL_MAX_CHUNK_SIZE) {
        rd_set_err(err, EL_ERR_DAMAGED, EL_HDR_CHUNK_SIZE,
                   "bad chunk size %" PRIu32 " (a multiple of 4096 up to "
                   "%u MiB)", t->sum.chunk_size, EL_MAX_CHUNK_SIZE >> 20);
        return false;
    }
    t->sum.state = el_get_u32(h + EL_HDR_STATE);
    if (t->sum.state != EL_STATE_RECORDING &&
        t->sum.state != EL_STATE_COMPLETE) {
        rd_set_err(err, EL_ERR_DAMAGED, EL_HDR_STATE,
                   "bad trace state %" PRIu32, t->sum.state);
        return false;
    }
    t->local = t->sum.min_reader >= 2;
    t->sum.flags = el_get_u32(h + EL_HDR_FLAGS);
    t->sum.api = el_get_u32(h + EL_HDR_API);
    t->end = el_get_u64(h + EL_HDR_END);
    meta_len = el_get_u32(h + EL_HDR_META_LEN);
    if (meta_len > EL_HEADER_SIZE - EL_HDR_META) {
        rd_set_err(err, EL_ERR_DAMAGED, EL_HDR_META_LEN,
                   "metadata length %" PRIu32 " runs past the header",
                   meta_len);
        return false;
    }
    nul = memchr(h + EL_HDR_META, 0, meta_len);
    if (nul) {
        rd_set_err(err, EL_ERR_DAMAGED,
                   EL_HDR_META + (uint64_t)(nul - (h + EL_HDR_META)),
                   "NUL byte in the metadata");
        return false;
    }
    memcpy(t->meta, h + EL_HDR_META, meta_len);
    t->meta[meta_len] = '\0';
    t->sum.meta = t->meta;
    t->sum.file_size = t->size;
    return true;
}

/* ---- The chunk index --------------------------------------------------- */

/*
 * Check a chunk header. Returns NULL if it is sound, else what is wrong.
 */
static const char *bad_chunk(const ElTrace *t, const Chunk *ck, char *buf,
                             size_t len)
{
    const uint32_t max_payload = t->sum.chunk_size - EL_CHUNK_HEADER_SIZE;

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
        if (ck->raw > max_payload) {
            snprintf(buf, len, "decompressed size %" PRIu32 " is above %"
                     PRIu32 ", the chunk size less its header", ck->raw,
                     max_payload);
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

/*
 * Whether the 4096 bytes at @off (or up to the end of the file) are 0, in
 * *@zero. False with @err if they cannot be read.
 */
static bool zero_block(const ElTrace *t, uint64_t off, bool *zero,
                       ElError *err)
{
    static const uint8_t zeros[EL_CHUNK_ALIGN];
    uint8_t b[EL_CHUNK_ALIGN];
    size_t n = t->size - off < EL_CHUNK_ALIGN ? (size_t)(t->size - off)
                                              : EL_CHUNK_ALIGN;

    if (!rd_read_at(t, b, n, off, err)) {
        return false;
    }
    *zero = memcmp(b, zeros, n) == 0;
    return true;
}

static bool walk_chunks(ElTrace *t, ElError *err)
{
    const bool complete_state = t->sum.state == EL_STATE_COMPLETE;
    const uint64_t end = t->end;
    uint64_t off = EL_HEADER_SIZE;
    char buf[160], name[64];

    if (complete_state && (end < EL_HEADER_SIZE || end % EL_CHUNK_ALIGN)) {
        rd_set_err(err, EL_ERR_DAMAGED, EL_HDR_END,
                   "bad end offset 0x%" PRIx64 " in the header", end);
        return false;
    }
    for (;;) {
        uint8_t h[EL_CHUNK_HEADER_SIZE];
        Chunk ck;
        const char *why;
        bool zero;

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
            size_t n = (size_t)(t->size - off);

            if (!rd_read_at(t, h, n, off, err)) {
                return false;
            }
            if (memcmp(h, EL_CHUNK_MAGIC, n < 4 ? n : 4) == 0) {
                set_cut(t, off, "the file ends inside the chunk header at "
                        "offset 0x%" PRIx64, off);
            } else if (complete_state) {
                set_cut(t, off, "no chunk at offset 0x%" PRIx64 " but the "
                        "trace should go on to 0x%" PRIx64, off, end);
            }
            break;
        }
        if (!rd_read_at(t, h, sizeof(h), off, err)) {
            return false;
        }
        if (memcmp(h, EL_CHUNK_MAGIC, 4) != 0 && !complete_state) {
            if (!zero_block(t, off, &zero, err)) {
                return false;
            }
            if (zero) {
                /*
                 * Space claimed for a chunk that was never written: QEMU
                 * died between the two. Chunks written later may follow.
                 */
                off += EL_CHUNK_ALIGN;
                continue;
            }
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
        ck.first_insn = el_get_u64(h + EL_CK_FIRST_INSN);
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
            rd_set_err(err, EL_ERR_DAMAGED, off, "chunk header at offset 0x%"
                       PRIx64 ": %s", off, why);
            return false;
        }
        rd_chunk_name(&ck, name, sizeof(name));
        if (complete_state && ck.slot > end - off) {
            rd_set_err(err, EL_ERR_DAMAGED, off, "%s at offset 0x%" PRIx64
                       " runs past the end of the trace (0x%" PRIx64 ")",
                       name, off, end);
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
                    rd_set_err(&t->damage, EL_ERR_DAMAGED, t->size,
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
            rd_set_err(err, EL_ERR_NOMEM, off, "out of memory");
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

/*
 * Order the chunks by (vcpu, seq); check each list is 0, 1, 2, ...; one
 * vCPU entry for each vCPU that has chunks.
 */
static bool index_chunks(ElTrace *t, ElError *err)
{
    uint32_t n_present = 0, prev = EL_STATIC_VCPU;
    size_t i;

    t->byv = malloc((t->n_chunks ? t->n_chunks : 1) * sizeof(uint32_t));
    if (!t->byv) {
        rd_set_err(err, EL_ERR_NOMEM, 0, "out of memory");
        return false;
    }
    for (i = 0; i < t->n_chunks; i++) {
        t->byv[i] = (uint32_t)i;
    }
    qsort_r(t->byv, t->n_chunks, sizeof(uint32_t), cmp_chunk_order,
            t->chunks);
    for (i = 0; i < t->n_chunks; i++) {
        uint16_t v = t->chunks[t->byv[i]].vcpu;

        if (v != EL_STATIC_VCPU && (n_present == 0 || v != prev)) {
            n_present++;
            prev = v;
        }
    }
    t->vcpus = calloc(n_present ? n_present : 1, sizeof(Vcpu));
    if (!t->vcpus) {
        rd_set_err(err, EL_ERR_NOMEM, 0, "out of memory");
        return false;
    }
    for (i = 0; i < t->n_chunks; i++) {
        const Chunk *ck = &t->chunks[t->byv[i]];
        Vcpu *v;

        if (ck->vcpu == EL_STATIC_VCPU) {
            v = &t->statics;
        } else {
            /* (sorted by vcpu: a new one is the next entry) */
            if (t->n_present == 0 ||
                t->vcpus[t->n_present - 1].index != ck->vcpu) {
                t->vcpus[t->n_present++].index = ck->vcpu;
            }
            v = &t->vcpus[t->n_present - 1];
        }
        if (v->n == 0) {
            v->first = (uint32_t)i;
        }
        if (ck->seq != v->n) {
            char name[64];

            rd_chunk_name(ck, name, sizeof(name));
            if (ck->seq < v->n) {
                rd_set_err(err, EL_ERR_DAMAGED, ck->off, "%s at offset 0x%"
                           PRIx64 " appears twice", name, ck->off);
            } else {
                rd_set_err(err, EL_ERR_DAMAGED, ck->off, "%s at offset 0x%"
                           PRIx64 ", but its chunk %" PRIu32 " is missing",
                           name, ck->off, v->n);
            }
            return false;
        }
        v->n++;
    }
    /*
     * Version 2: a vCPU's chunks in which blocks start say exactly where,
     * in order; seeking bisects them. Chunks out of order (damage) leave
     * the vCPU to be decoded from its start, where the cursor finds it.
     */
    for (uint32_t k = 0; t->local && k < t->n_present; k++) {
        Vcpu *v = &t->vcpus[k];
        uint64_t last = 0;

        v->seekable = true;
        for (uint32_t j = 0; j < v->n; j++) {
            uint64_t f = t->chunks[t->byv[v->first + j]].first_insn;

            if (f == EL_CK_NO_BLOCK) {
                continue;
            }
            if (f < last) {
                v->seekable = false;
                break;
            }
            last = f;
        }
    }
    t->sum.n_vcpus = t->n_present ? t->vcpus[t->n_present - 1].index + 1 : 0;
    return true;
}

/* ---- Static records ---------------------------------------------------- */

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
            rd_rec_err(err, ck, base, rec, what);
            return false;
        }
        if (t->n_insns >= UINT32_MAX ||
            !grow((void **)&t->insns, &t->cap_insns, t->n_insns + 1,
                  sizeof(ElInsnInfo)) ||
            !(mem = arena_alloc(t, r->size + r->text_len + 1))) {
            rd_set_err(err, EL_ERR_NOMEM, rd_pos_off(ck, base, rec),
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
            rd_rec_err(err, ck, base, rec, what);
            return false;
        }
        if (!grow((void **)&t->tbs, &t->cap_tbs, t->n_tbs + 1, sizeof(Tb)) ||
            !grow((void **)&t->tb_pool, &t->pool_cap, t->pool_len + r->b,
                  sizeof(uint32_t))) {
            rd_set_err(err, EL_ERR_NOMEM, rd_pos_off(ck, base, rec),
                       "out of memory");
            return false;
        }
        tb = &t->tbs[t->n_tbs];
        tb->start = t->pool_len;
        tb->n = (uint32_t)r->b;
        for (uint64_t i = 0; i < r->b; i++) {
            uint64_t id = 0;

            /* checked by rd_parse_rec() */
            get_varint(&p, p + EL_VARINT_MAX, &id);
            if (id >= t->n_insns) {
                snprintf(what, sizeof(what), "TB %" PRIu64 " uses instruction "
                         "%" PRIu64 ", which is not defined", r->a, id);
                rd_rec_err(err, ck, base, rec, what);
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

        /*
         * A DEVICE record takes 3 bytes at least: n devices numbered 1..n
         * in any order take 3n bytes of static records, so no id is above
         * their size (the bound on the devices[] table).
         */
        if (r->a == 0 || r->a > MAX_DEVICE_ID) {
            snprintf(what, sizeof(what), "DEVICE record with id %" PRIu64,
                     r->a);
            rd_rec_err(err, ck, base, rec, what);
            return false;
        }
        if (r->a > t->max_device) {
            snprintf(what, sizeof(what), "DEVICE record with id %" PRIu64
                     ", more than %" PRIu64 " bytes of static records can "
                     "number", r->a, t->max_device);
            rd_rec_err(err, ck, base, rec, what);
            return false;
        }
        if (r->a >= t->n_devices) {
            uint32_t n = t->n_devices;
            uint64_t cap = n;

            if (!grow((void **)&t->devices, &cap, r->a + 1, sizeof(char *))) {
                rd_set_err(err, EL_ERR_NOMEM, rd_pos_off(ck, base, rec),
                           "out of memory");
                return false;
            }
            memset(t->devices + n, 0, (size_t)(cap - n) * sizeof(char *));
            t->n_devices = (uint32_t)cap;
        }
        if (t->devices[r->a]) {
            snprintf(what, sizeof(what), "device %" PRIu64 " is defined "
                     "twice", r->a);
            rd_rec_err(err, ck, base, rec, what);
            return false;
        }
        name = arena_alloc(t, r->text_len + 1);
        if (!name) {
            rd_set_err(err, EL_ERR_NOMEM, rd_pos_off(ck, base, rec),
                       "out of memory");
            return false;
        }
        memcpy(name, r->text, r->text_len);
        name[r->text_len] = '\0';
        t->devices[r->a] = name;
        return true;
    }
    case EL_REC_REG: {
        ElRegWrite *rg;
        uint8_t *mem;

        if (r->a != t->n_regs || r->a >= EL_REG_MAX_ID) {
            snprintf(what, sizeof(what), "REG record defines register %"
                     PRIu64 ", expected %" PRIu64, r->a, t->n_regs);
            rd_rec_err(err, ck, base, rec, what);
            return false;
        }
        if (!grow((void **)&t->regs, &t->cap_regs, t->n_regs + 1,
                  sizeof(ElRegWrite)) ||
            !(mem = arena_alloc(t, r->b + r->text_len + 1))) {
            rd_set_err(err, EL_ERR_NOMEM, rd_pos_off(ck, base, rec),
                       "out of memory");
            return false;
        }
        memcpy(mem, r->data, r->b);
        memcpy(mem + r->b, r->text, r->text_len);
        mem[r->b + r->text_len] = '\0';
        rg = &t->regs[t->n_regs++];
        rg->id = (uint32_t)r->a;
        rg->size = (uint32_t)r->b;
        rg->bytes = mem;
        rg->name = (const char *)mem + r->b;
        return true;
    }
    case EL_REC_MODULE: {
        ElModule *m;
        char *name;

        if (r->b <= r->a) {
            snprintf(what, sizeof(what), "MODULE record with end 0x%" PRIx64
                     " not above its start 0x%" PRIx64, r->b, r->a);
            rd_rec_err(err, ck, base, rec, what);
            return false;
        }
        if (!grow((void **)&t->modules, &t->cap_modules, t->n_modules + 1,
                  sizeof(ElModule)) ||
            !(name = arena_alloc(t, r->text_len + 1))) {
            rd_set_err(err, EL_ERR_NOMEM, rd_pos_off(ck, base, rec),
                       "out of memory");
            return false;
        }
        memcpy(name, r->text, r->text_len);
        name[r->text_len] = '\0';
        m = &t->modules[t->n_modules++];
        m->path = name;
        m->start = r->a;
        m->end = r->b;
        m->offset = r->c;
        m->executable = (r->info & EL_MOD_EXEC) != 0;
        return true;
    }
    case EL_REC_SKIP:
        return true;
    default:
        snprintf(what, sizeof(what), "%s record in a static chunk",
                 rd_kind_name(r->kind));
        rd_rec_err(err, ck, base, rec, what);
        return false;
    }
}

static bool load_statics(ElTrace *t, ElError *err)
{
    ChunkBuf cb = { 0 };
    bool ok = true;
    uint64_t cap = 0;

    if (!grow((void **)&t->devices, &cap, 16, sizeof(char *))) {
        rd_set_err(err, EL_ERR_NOMEM, 0, "out of memory");
        return false;
    }
    memset(t->devices, 0, (size_t)cap * sizeof(char *));
    t->n_devices = (uint32_t)cap;
    t->devices[0] = "RAM";
    for (uint32_t i = 0; i < t->statics.n; i++) {
        const Chunk *ck = &t->chunks[t->byv[t->statics.first + i]];

        t->max_device += (ck->flags & EL_CK_ZSTD) ? ck->raw : ck->len;
    }

    for (uint32_t i = 0; ok && i < t->statics.n; i++) {
        const Chunk *ck = &t->chunks[t->byv[t->statics.first + i]];
        const uint8_t *p, *end, *base;

        if (!rd_chunk_records(t, ck, &cb, &p, &end, err)) {
            ok = false;
            break;
        }
        base = p;
        while (p < end && *p != EL_REC_END) {
            Rec r;
            ParseFail f;
            const uint8_t *next;

            if (rd_parse_rec(p, end, &r, &next, &f) != RD_OK) {
                if (f.what == RD_TRUNC &&
                    (!(ck->flags & EL_CK_SEALED) || ck->cut_by_eof)) {
                    break;      /* the end of what was written */
                }
                rd_parse_err(err, ck, base, p, &f);
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
    rd_chunkbuf_free(&cb);
    t->sum.n_insns_static = t->n_insns;
    t->sum.n_tbs = t->n_tbs;
    return ok;
}

/* ---- Where the records end --------------------------------------------- */

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

        if (rd_parse_rec(p, end, &r, &next, &f) != RD_OK) {
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
    ChunkBuf cb = { 0 };
    const Chunk *first_open = NULL;
    int64_t open_end = 0;

    for (uint32_t v = 0; v < t->n_present; v++) {
        Vcpu *vc = &t->vcpus[v];
        const Chunk *ck = &t->chunks[t->byv[vc->first + vc->n - 1]];
        const uint8_t *p, *end;
        ElError e;
        Rec r = { 0 };
        bool has_exit;
        int64_t n;

        if (!rd_chunk_records(t, ck, &cb, &p, &end, &e)) {
            if (e.code == EL_ERR_NOMEM || e.code == EL_ERR_IO) {
                *err = e;
                rd_chunkbuf_free(&cb);
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

    if (t->sum.state == EL_STATE_RECORDING) {
        /* an unsealed static chunk, or an earlier vCPU chunk */
        for (size_t i = 0; i < t->n_chunks; i++) {
            const Chunk *ck = &t->chunks[i];

            /* a vCPU's chunk says more than the static one */
            if (!(ck->flags & EL_CK_SEALED) && ck != first_open &&
                (!first_open || (ck->off < first_open->off &&
                                 ck->vcpu != EL_STATIC_VCPU))) {
                const uint8_t *p, *end;
                bool dummy_exit;
                ElError e;
                Rec r;
                int64_t n = -1;

                if (rd_chunk_records(t, ck, &cb, &p, &end, &e)) {
                    n = scan_chunk(p, end, &r, &dummy_exit);
                } else if (e.code == EL_ERR_NOMEM || e.code == EL_ERR_IO) {
                    *err = e;
                    rd_chunkbuf_free(&cb);
                    return false;
                }
                first_open = ck;
                open_end = n < 0 ? 0 : n;
                break;
            }
        }
        if (first_open) {
            char name[64];

            rd_chunk_name(first_open, name, sizeof(name));
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
        for (uint32_t v = 0; v < t->n_present; v++) {
            const Vcpu *vc = &t->vcpus[v];

            if (!vc->has_exit) {
                const Chunk *ck = &t->chunks[t->byv[vc->first + vc->n - 1]];

                set_cut(t, ck->off, "vCPU %" PRIu32 " has no EXIT record, "
                        "though the trace is complete", vc->index);
                break;
            }
        }
    }
    rd_chunkbuf_free(&cb);
    return true;
}

/* ---- Opening and closing ----------------------------------------------- */

/*
 * Is the recording still going on? The plugin, then its watcher, hold an
 * exclusive flock(2) while they write. A shared lock taken here says no;
 * it is released at once: a lock kept would refuse a new recording into
 * the same path for as long as anyone reads the old one.
 */
static bool still_written(int fd)
{
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        flock(fd, LOCK_UN);
        return false;
    }
    return errno == EWOULDBLOCK;
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
        rd_set_err(err, EL_ERR_NOMEM, 0, "out of memory");
        return NULL;
    }
    t->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (t->fd < 0) {
        rd_set_err(err, EL_ERR_IO, 0, "cannot open: %s", strerror(errno));
        free(t);
        return NULL;
    }
    if (fstat(t->fd, &st) != 0) {
        rd_set_err(err, EL_ERR_IO, 0, "cannot stat: %s", strerror(errno));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        rd_set_err(err, EL_ERR_IO, 0, "cannot read: %s", strerror(EISDIR));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rd_set_err(err, EL_ERR_IO, 0, "cannot read: not a regular file");
        goto fail;
    }
    t->size = (uint64_t)st.st_size;
    if (!read_header(t, err) || !walk_chunks(t, err) ||
        !index_chunks(t, err) || !load_statics(t, err) ||
        !scan_ends(t, err)) {
        goto fail;
    }
    t->sum.complete = t->sum.state == EL_STATE_COMPLETE && !t->have_cut;
    if (t->sum.state == EL_STATE_RECORDING) {
        t->sum.being_written = still_written(t->fd);
    }
    if (t->sum.state == EL_STATE_COMPLETE && !t->sum.complete &&
        t->damage.code == EL_OK) {
        rd_set_err(&t->damage, EL_ERR_DAMAGED, t->sum.cut_offset, "%s",
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
    free(t->regs);
    free(t->modules);
    free(t);
}

/* ---- What the trace says ----------------------------------------------- */

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

size_t el_trace_n_regs(const ElTrace *t)
{
    return (size_t)t->n_regs;
}

const ElRegWrite *el_trace_reg(const ElTrace *t, size_t i)
{
    return i < t->n_regs ? &t->regs[i] : NULL;
}

size_t el_trace_n_modules(const ElTrace *t)
{
    return (size_t)t->n_modules;
}

const ElModule *el_trace_module(const ElTrace *t, size_t i)
{
    return i < t->n_modules ? &t->modules[i] : NULL;
}

const ElInsnInfo *el_trace_insn(const ElTrace *t, uint64_t id)
{
    return id < t->n_insns ? &t->insns[id] : NULL;
}

size_t el_trace_seek_points(const ElTrace *t, uint32_t vcpu, uint64_t *out,
                            size_t max)
{
    const Vcpu *v = rd_find_vcpu(t, vcpu);
    size_t n = 0;
    uint64_t last = 0;

    if (!t->local || !v || !v->seekable) {
        return 0;
    }
    for (uint32_t j = 0; j < v->n; j++) {
        uint64_t f = t->chunks[t->byv[v->first + j]].first_insn;

        if (f == EL_CK_NO_BLOCK || (n > 0 && f == last)) {
            continue;
        }
        if (n < max) {
            out[n] = f;
        }
        n++;
        last = f;
    }
    return n;
}

bool el_trace_has_vcpu(const ElTrace *t, uint32_t vcpu)
{
    return rd_find_vcpu(t, vcpu) != NULL;
}

bool el_trace_exit_counts(const ElTrace *t, uint32_t vcpu, uint64_t *insns,
                          uint64_t *loads, uint64_t *stores)
{
    const Vcpu *v = rd_find_vcpu(t, vcpu);

    if (!v || !v->has_exit) {
        return false;
    }
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
