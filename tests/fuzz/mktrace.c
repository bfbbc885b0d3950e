/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mktrace: write a synthetic execlog binary trace, for tests and the fuzz
 * corpus (test-only; the real writer is the plugin's).
 *
 * It simulates a few vCPUs executing randomly chosen translation blocks,
 * with loads and stores (with a physical address and a device in system
 * mode), and writes the trace the way the plugin does: the file header,
 * static chunks (INSN, TB, DEVICE records), per-vCPU chunks (VCPU, BLOCK,
 * MEM, SKIP, EXIT records; a block's MEM records continue into the next
 * chunk when one fills up), optionally zstd-compressed, optionally cut off
 * (state "recording", current chunks unsealed, no EXIT records).
 *
 * With --text FILE it also writes what `execlog dump` must print for the
 * trace, computed from the simulation (not by reading the trace back).
 *
 * With --hostile KIND it writes instead a small file crafted to make a
 * reader that trusts the sizes it declares allocate (or decompress) far
 * more than the file holds; see hostile() for the kinds.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "execlog/format.h"

static const char usage[] =
    "Usage: mktrace [OPTIONS] OUT\n"
    "  --vcpus N        vCPUs (default 2)\n"
    "  --insns N        instructions executed per vCPU (default 2000)\n"
    "  --chunk-size N   chunk size, a multiple of 4096 (default 8192)\n"
    "  --static N       new TBs (mostly) only below N instructions (200)\n"
    "  --system         system mode: accesses with physical addresses\n"
    "  --zstd           compress the vCPU chunks\n"
    "  --zstd-static    compress the static chunks too\n"
    "  --cut            stop as if QEMU was killed: state 1, no EXIT,\n"
    "                   current chunks unsealed (compressed: lost)\n"
    "  --min-reader N   min_reader (and version) in the header\n"
    "  --seed N         random seed (default 1)\n"
    "  --text FILE      write the expected `execlog dump` output to FILE\n"
    "  --stats FILE     write the totals `execlog stats` must report\n"
    "  --hostile KIND   write a small hostile file instead: huge-chunk,\n"
    "                   big-raw, far-vcpu, far-device, short-slot\n";

/* ---- Random numbers ---------------------------------------------------- */

static uint64_t rng = 1;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint32_t rndn(uint32_t n)
{
    return (uint32_t)(rnd() % n);
}

/* ---- Growable byte buffers --------------------------------------------- */

typedef struct Buf {
    uint8_t *p;
    size_t len, cap;
} Buf;

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "mktrace: out of memory\n");
        exit(1);
    }
    return p;
}

static void buf_room(Buf *b, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 4096;

        while (cap - b->len < n) {
            cap *= 2;
        }
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
}

static void buf_printf(Buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    buf_room(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ---- The trace file ---------------------------------------------------- */

static Buf file;            /* the whole file, built in memory */
static uint32_t chunk_size = 8192;
static bool opt_zstd, opt_zstd_static, opt_system, opt_cut;

/* A stream of records: the static one, or one vCPU's. */
typedef struct Stream {
    uint32_t vcpu;
    uint32_t seq;
    bool open;              /* has a current chunk */
    bool compressed;
    size_t chunk_off;       /* uncompressed: offset of the chunk in file */
    Buf mem;                /* compressed: the chunk being built */
    size_t pos, end;        /* write position and end, in file or mem */
    uint64_t insns;         /* for first_insn */
} Stream;

static uint8_t *stream_base(Stream *s)
{
    return s->compressed ? s->mem.p : file.p + s->chunk_off;
}

static size_t claim(size_t size)
{
    size_t off = file.len;

    buf_room(&file, size);
    memset(file.p + off, 0, size);
    file.len += size;
    return off;
}

static void chunk_header(uint8_t *h, const Stream *s)
{
    memcpy(h, EL_CHUNK_MAGIC, 4);
    el_put_u16(h + EL_CK_VCPU, (uint16_t)s->vcpu);
    el_put_u16(h + EL_CK_FLAGS, 0);
    el_put_u32(h + EL_CK_SEQ, s->seq);
    el_put_u32(h + EL_CK_SLOT, chunk_size);
    el_put_u32(h + EL_CK_USED, 0);
    el_put_u32(h + EL_CK_RAW, 0);
    el_put_u64(h + EL_CK_FIRST_INSN, s->insns);
}

static void seal(Stream *s)
{
    uint32_t used = (uint32_t)(s->pos - EL_CHUNK_HEADER_SIZE);

    if (!s->open) {
        return;
    }
    s->open = false;
    if (!s->compressed) {
        uint8_t *h = file.p + s->chunk_off;

        el_put_u32(h + EL_CK_USED, used);
        el_put_u32(h + EL_CK_RAW, used);
        el_put_u16(h + EL_CK_FLAGS, EL_CK_SEALED);
        return;
    }
    size_t bound = ZSTD_compressBound(used);
    uint8_t *z = xrealloc(NULL, bound);
    size_t zn = ZSTD_compress(z, bound, s->mem.p + EL_CHUNK_HEADER_SIZE, used,
                              3);
    size_t slot, off;

    if (ZSTD_isError(zn)) {
        fprintf(stderr, "mktrace: zstd: %s\n", ZSTD_getErrorName(zn));
        exit(1);
    }
    slot = (EL_CHUNK_HEADER_SIZE + zn + EL_CHUNK_ALIGN - 1) &
           ~(size_t)(EL_CHUNK_ALIGN - 1);
    off = claim(slot);
    memcpy(file.p + off, s->mem.p, EL_CHUNK_HEADER_SIZE);
    el_put_u32(file.p + off + EL_CK_SLOT, (uint32_t)slot);
    el_put_u32(file.p + off + EL_CK_USED, (uint32_t)zn);
    el_put_u32(file.p + off + EL_CK_RAW, used);
    el_put_u16(file.p + off + EL_CK_FLAGS, EL_CK_SEALED | EL_CK_ZSTD);
    memcpy(file.p + off + EL_CHUNK_HEADER_SIZE, z, zn);
    free(z);
}

static void start_chunk(Stream *s)
{
    seal(s);
    if (s->compressed) {
        s->mem.len = 0;
        buf_room(&s->mem, chunk_size);
        memset(s->mem.p, 0, chunk_size);
    } else {
        s->chunk_off = claim(chunk_size);
    }
    chunk_header(stream_base(s), s);
    s->seq++;
    s->pos = EL_CHUNK_HEADER_SIZE;
    s->end = chunk_size;
    s->open = true;
}

/* A record of @n bytes (kind byte first) goes to @s. */
static void put(Stream *s, const uint8_t *rec, size_t n)
{
    if (!s->open || s->end - s->pos < n) {
        start_chunk(s);
    }
    if (s->end - s->pos < n) {
        fprintf(stderr, "mktrace: record of %zu bytes does not fit a chunk\n",
                n);
        exit(1);
    }
    memcpy(stream_base(s) + s->pos, rec, n);
    s->pos += n;
}

/* ---- The simulated program --------------------------------------------- */

typedef struct Insn {
    uint64_t pc;
    uint8_t size;
    uint8_t bytes[EL_INSN_MAX_SIZE];
    char disas[64];
    int loads, stores;      /* accesses per execution */
} Insn;

typedef struct Tb {
    uint32_t *insns;
    uint32_t n;
} Tb;

static Insn *insns;
static uint32_t n_insns;
static Tb *tbs;
static uint32_t n_tbs;
static Stream st;           /* the static stream */
static uint32_t max_static = 200;   /* new TBs only below this many insns */
static const char *devices[] = { "RAM", "pl011", "virtio-mmio@a000000" };
static bool device_defined[3] = { true, false, false };

static void def_insn(const Insn *in, uint32_t id)
{
    uint8_t rec[1 + 3 * EL_VARINT_MAX + 1 + EL_INSN_MAX_SIZE + 64];
    size_t n = 1, dl = strlen(in->disas);

    rec[0] = EL_REC_INSN;
    n += el_put_varint(rec + n, id);
    n += el_put_varint(rec + n, in->pc);
    rec[n++] = in->size;
    memcpy(rec + n, in->bytes, in->size);
    n += in->size;
    n += el_put_varint(rec + n, dl);
    memcpy(rec + n, in->disas, dl);
    n += dl;
    put(&st, rec, n);
}

static uint32_t new_insn(uint64_t pc)
{
    static const char *regs[] = { "x0", "x1", "x2", "x19", "sp", "w3" };
    Insn *in;
    uint32_t k = rndn(100);

    insns = xrealloc(insns, (n_insns + 1) * sizeof(Insn));
    in = &insns[n_insns];
    memset(in, 0, sizeof(*in));
    in->pc = pc;
    in->size = k < 80 ? 4 : k < 90 ? 2 : (uint8_t)(1 + rndn(15));
    for (unsigned i = 0; i < in->size; i++) {
        in->bytes[i] = (uint8_t)rnd();
    }
    k = rndn(100);
    if (k < 30) {
        snprintf(in->disas, sizeof(in->disas), "ldr %s, [%s, #0x%x]",
                 regs[rndn(6)], regs[rndn(6)], rndn(256) * 8);
        in->loads = 1;
    } else if (k < 45) {
        snprintf(in->disas, sizeof(in->disas), "str %s, [%s]", regs[rndn(6)],
                 regs[rndn(6)]);
        in->stores = 1;
    } else if (k < 50) {
        snprintf(in->disas, sizeof(in->disas), "stp x29, x30, [sp, #-0x%x]!",
                 16 * (1 + rndn(8)));
        in->stores = 2;
    } else if (k < 53) {
        snprintf(in->disas, sizeof(in->disas), "ldadd w1, w2, [x%u]",
                 rndn(30));
        in->loads = 1;
        in->stores = 1;
    } else if (k < 54) {
        /* quotes and a backslash, for the CSV and JSON writers */
        snprintf(in->disas, sizeof(in->disas), "mov w0, #'\"' \\ %u",
                 rndn(10));
    } else if (k < 55) {
        in->disas[0] = '\0';
    } else if (k < 75) {
        snprintf(in->disas, sizeof(in->disas), "add %s, %s, #%u",
                 regs[rndn(6)], regs[rndn(6)], rndn(4096));
    } else if (k < 90) {
        snprintf(in->disas, sizeof(in->disas), "b.ne #0x%" PRIx64,
                 pc + 4 * rndn(64));
    } else {
        snprintf(in->disas, sizeof(in->disas), "nop");
    }
    def_insn(in, n_insns);
    return n_insns++;
}

static uint32_t new_tb(void)
{
    uint32_t n, *ids, k = rndn(100);
    uint64_t pc;
    uint8_t *rec;
    size_t len = 1;

    if (k < 3) {
        n = 127 + rndn(20);     /* MEM records with a varint index */
    } else {
        n = 1 + rndn(8);
    }
    ids = xrealloc(NULL, n * sizeof(*ids));
    if (n_tbs > 0 && k >= 3 && k < 25) {
        /* the tail of an earlier TB, then new instructions */
        const Tb *o = &tbs[rndn(n_tbs)];
        uint32_t from = rndn(o->n), i = 0;

        for (; i < n && from + i < o->n; i++) {
            ids[i] = o->insns[from + i];
        }
        pc = insns[ids[i - 1]].pc + insns[ids[i - 1]].size;
        for (; i < n; i++) {
            ids[i] = new_insn(pc);
            pc += insns[ids[i]].size;
        }
    } else {
        pc = 0x400000 + (uint64_t)rndn(1u << 20) * 4;
        if (opt_system && rndn(2)) {
            pc += 0xffff000000000000ull;
        }
        for (uint32_t i = 0; i < n; i++) {
            ids[i] = new_insn(pc);
            pc += insns[ids[i]].size;
        }
    }
    tbs = xrealloc(tbs, (n_tbs + 1) * sizeof(Tb));
    tbs[n_tbs].insns = ids;
    tbs[n_tbs].n = n;

    rec = xrealloc(NULL, 1 + (2 + (size_t)n) * EL_VARINT_MAX);
    rec[0] = EL_REC_TB;
    len += el_put_varint(rec + len, n_tbs);
    len += el_put_varint(rec + len, n);
    for (uint32_t i = 0; i < n; i++) {
        len += el_put_varint(rec + len, ids[i]);
    }
    put(&st, rec, len);
    free(rec);
    return n_tbs++;
}

static uint32_t device_id(uint32_t d)
{
    if (!device_defined[d]) {
        uint8_t rec[64];
        size_t n = 1, l = strlen(devices[d]);

        rec[0] = EL_REC_DEVICE;
        n += el_put_varint(rec + n, d);
        n += el_put_varint(rec + n, l);
        memcpy(rec + n, devices[d], l);
        n += l;
        put(&st, rec, n);
        device_defined[d] = true;
    }
    return d;
}

/* ---- vCPUs ------------------------------------------------------------- */

typedef struct Vcpu {
    Stream s;
    uint64_t executed, loads, stores, blocks;
    uint64_t last_tb, last_vaddr;
    int64_t last_pdelta;
    uint64_t base;          /* its data addresses */
    Buf text;               /* expected dump lines */
} Vcpu;

static void vcpu_mem(Vcpu *v, uint32_t index, bool store, Buf *line)
{
    uint8_t rec[2 + 4 * EL_VARINT_MAX];
    size_t n = 1;
    uint8_t info = (uint8_t)rndn(4);        /* 1 to 8 bytes */
    uint64_t vaddr = v->base + (uint64_t)rndn(64) * 8;
    uint32_t k = rndn(100);

    if (k < 10) {
        vaddr = v->base - 0x10000 * rndn(3);        /* the stack */
    } else if (k < 12) {
        vaddr = rnd();                              /* anywhere */
    }
    if (store) {
        info |= EL_MEM_STORE;
        v->stores++;
    } else {
        v->loads++;
        if (rndn(10) == 0) {
            info |= EL_MEM_SIGN;
        }
    }
    if (rndn(50) == 0) {
        info |= EL_MEM_BIG_ENDIAN;
    }
    rec[0] = (uint8_t)(EL_REC_MEM | (index < 127 ? index : 127));
    if (index >= 127) {
        n += el_put_varint(rec + n, index);
    }
    if (opt_system && rndn(20) != 0) {
        info |= EL_MEM_PHYS;
    }
    rec[n++] = info;
    n += el_put_varint(rec + n, el_zigzag((int64_t)(vaddr - v->last_vaddr)));
    v->last_vaddr = vaddr;
    if (info & EL_MEM_PHYS) {
        uint32_t d = rndn(30) == 0 ? 1 + rndn(2) : 0;
        uint64_t paddr = d ? 0x9000000 + 0x1000 * d + rndn(64) :
                         0x40000000 + (vaddr & 0xfffffff);
        int64_t pd = (int64_t)(paddr - vaddr);

        n += el_put_varint(rec + n, device_id(d));
        /* (wraps: unsigned arithmetic) */
        n += el_put_varint(rec + n, el_zigzag((int64_t)((uint64_t)pd -
                                              (uint64_t)v->last_pdelta)));
        v->last_pdelta = pd;
        buf_printf(line, ", %s, 0x%08" PRIx64 ", %s", store ? "store" : "load",
                   paddr, devices[d]);
    } else {
        buf_printf(line, ", %s, 0x%08" PRIx64, store ? "store" : "load",
                   vaddr);
    }
    put(&v->s, rec, n);
}

static void vcpu_block(Vcpu *v, uint32_t vcpu)
{
    uint32_t tb, count;
    uint8_t rec[1 + EL_VARINT_MAX + 2];
    size_t n = 1;
    const Tb *b;

    if (n_tbs == 0 || (n_insns < max_static && rndn(100) < 8) ||
        rndn(100000) == 0) {
        tb = new_tb();
    } else {
        tb = rndn(n_tbs);
        if (rndn(3)) {
            tb = n_tbs - 1 - rndn(n_tbs < 8 ? n_tbs : 8);    /* a hot loop */
        }
    }
    b = &tbs[tb];
    count = b->n;
    if (rndn(40) == 0) {
        count = rndn(b->n + 1);          /* a fault cut the block short */
    }
    rec[0] = EL_REC_BLOCK;
    n += el_put_varint(rec + n, el_zigzag((int64_t)tb - (int64_t)v->last_tb));
    el_put_u16(rec + n, (uint16_t)count);
    n += 2;
    put(&v->s, rec, n);
    v->last_tb = tb;
    for (uint32_t i = 0; i < count; i++) {
        const Insn *in = &insns[b->insns[i]];
        uint32_t op = 0;

        for (unsigned j = 0; j < 4 && j < in->size; j++) {
            op |= (uint32_t)in->bytes[j] << (8 * j);
        }
        buf_printf(&v->text, "%u, 0x%" PRIx64 ", 0x%" PRIx32 ", \"%s\"",
                   vcpu, in->pc, op, in->disas);
        for (int k = 0; k < in->loads; k++) {
            vcpu_mem(v, i, false, &v->text);
        }
        for (int k = 0; k < in->stores; k++) {
            vcpu_mem(v, i, true, &v->text);
        }
        buf_printf(&v->text, "\n");
    }
    v->executed += count;
    v->blocks += count > 0;
    v->s.insns = v->executed;
    if (rndn(200) == 0) {
        uint8_t skip[40];
        uint32_t len = rndn(30);

        skip[0] = EL_REC_SKIP;
        skip[1] = (uint8_t)len;
        for (uint32_t i = 0; i < len; i++) {
            skip[2 + i] = (uint8_t)rnd();
        }
        put(&v->s, skip, 2 + len);
    }
}

/* ---- Hostile files ----------------------------------------------------- */

/*
 * A zstd frame (RFC 8878) that declares @size bytes and regenerates them
 * as zeros from RLE blocks of 128 KiB: 4 bytes per block, so a few KiB of
 * file decompress to a GiB.
 */
static void zero_frame(Buf *b, uint64_t size)
{
    static const uint8_t magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
    uint8_t h[9];

    buf_room(b, sizeof(magic) + sizeof(h));
    memcpy(b->p + b->len, magic, sizeof(magic));
    b->len += sizeof(magic);
    h[0] = 0xe0;                /* 8-byte content size, single segment */
    el_put_u64(h + 1, size);
    memcpy(b->p + b->len, h, sizeof(h));
    b->len += sizeof(h);
    do {
        uint32_t n = size > (128u << 10) ? 128u << 10 : (uint32_t)size;
        uint32_t bh = (size == n ? 1u : 0u) | 1u << 1 | n << 3;  /* RLE */

        buf_room(b, 4);
        b->p[b->len++] = (uint8_t)bh;
        b->p[b->len++] = (uint8_t)(bh >> 8);
        b->p[b->len++] = (uint8_t)(bh >> 16);
        b->p[b->len++] = 0;
        size -= n;
    } while (size > 0);
}

/* A chunk at the end of the file: its header, then @n bytes of @payload. */
static size_t raw_chunk(uint16_t vcpu, uint16_t flags, uint32_t slot,
                        uint32_t used, uint32_t raw, const void *payload,
                        size_t n)
{
    size_t off = claim(slot);
    uint8_t *h = file.p + off;

    memcpy(h, EL_CHUNK_MAGIC, 4);
    el_put_u16(h + EL_CK_VCPU, vcpu);
    el_put_u16(h + EL_CK_FLAGS, flags);
    el_put_u32(h + EL_CK_SEQ, 0);
    el_put_u32(h + EL_CK_SLOT, slot);
    el_put_u32(h + EL_CK_USED, used);
    el_put_u32(h + EL_CK_RAW, raw);
    memcpy(h + EL_CHUNK_HEADER_SIZE, payload, n);
    return off;
}

/* A compressed static chunk of @raw zeros. */
static void zero_chunk(uint32_t raw)
{
    Buf z = { 0 };
    uint32_t slot;

    zero_frame(&z, raw);
    slot = (uint32_t)((EL_CHUNK_HEADER_SIZE + z.len + EL_CHUNK_ALIGN - 1) &
                      ~(size_t)(EL_CHUNK_ALIGN - 1));
    raw_chunk(EL_STATIC_VCPU, EL_CK_SEALED | EL_CK_ZSTD, slot,
              (uint32_t)z.len, raw, z.p, z.len);
    free(z.p);
}

/* INSN 0 and TB 0 (of it): a static payload, into @p; its length. */
static size_t one_insn(uint8_t *p)
{
    static const uint8_t insn[] = {
        EL_REC_INSN, 0, 0x80, 0x80, 0x01, 4, 0x1f, 0x20, 0x03, 0xd5,
        3, 'n', 'o', 'p', EL_REC_TB, 0, 1, 0,
    };

    memcpy(p, insn, sizeof(insn));
    return sizeof(insn);
}

/*
 * Kinds (each says what a reader that trusts the declared sizes would do):
 *   huge-chunk  chunk_size 1 GiB and a compressed static chunk of 4 KiB +
 *               36 KiB that decompresses to 1 GiB - 32 bytes (allocate and
 *               fill 1 GiB)
 *   big-raw     chunk_size 1 MiB, a compressed chunk of raw 1 MiB: more
 *               than a chunk's payload can be
 *   far-vcpu    a sound trace whose one vCPU is 65534 (a table of 65535
 *               vCPUs)
 *   far-device  a DEVICE record with id 65535 (a table of 65536 devices)
 *   short-slot  chunk_size 1 MiB and a file of 8 KiB, cut off (a buffer of
 *               a chunk's slot)
 */
static int hostile(const char *kind, const char *out)
{
    uint8_t pay[64], *h;
    uint32_t chunk = EL_MAX_CHUNK_SIZE, state = EL_STATE_COMPLETE;
    uint32_t flags = 0;
    size_t n;
    FILE *f;

    claim(EL_HEADER_SIZE);
    if (strcmp(kind, "huge-chunk") == 0) {
        chunk = 1u << 30;
        flags = EL_FLAG_ZSTD;
        zero_chunk(chunk - EL_CHUNK_HEADER_SIZE);
    } else if (strcmp(kind, "big-raw") == 0) {
        flags = EL_FLAG_ZSTD;
        zero_chunk(chunk);
    } else if (strcmp(kind, "far-vcpu") == 0) {
        static const uint8_t recs[] = {
            EL_REC_VCPU, EL_REC_BLOCK, 0, 1, 0, EL_REC_EXIT, 1, 0, 0,
        };

        chunk = 4096;
        n = one_insn(pay);
        raw_chunk(EL_STATIC_VCPU, EL_CK_SEALED, chunk, (uint32_t)n,
                  (uint32_t)n, pay, n);
        raw_chunk(65534, EL_CK_SEALED, chunk, sizeof(recs), sizeof(recs),
                  recs, sizeof(recs));
    } else if (strcmp(kind, "far-device") == 0) {
        chunk = 4096;
        flags = EL_FLAG_SYSTEM;
        n = one_insn(pay);
        memcpy(pay + n, (const uint8_t[]){ EL_REC_DEVICE, 0xff, 0xff, 0x03,
                                            1, 'x' }, 6);
        n += 6;
        raw_chunk(EL_STATIC_VCPU, EL_CK_SEALED, chunk, (uint32_t)n,
                  (uint32_t)n, pay, n);
    } else if (strcmp(kind, "short-slot") == 0) {
        state = EL_STATE_RECORDING;
        n = one_insn(pay);
        raw_chunk(EL_STATIC_VCPU, 0, chunk, 0, 0, pay, n);
        file.len = 2 * EL_CHUNK_ALIGN;
    } else {
        fprintf(stderr, "mktrace: unknown --hostile kind '%s'\n", kind);
        return 1;
    }
    h = file.p;
    memcpy(h, EL_MAGIC, EL_MAGIC_LEN);
    /* version 1: what the corpus's hostile traces were made as */
    el_put_u16(h + EL_HDR_VERSION, 1);
    el_put_u16(h + EL_HDR_MIN_READER, 1);
    el_put_u32(h + EL_HDR_HEADER_SIZE, EL_HEADER_SIZE);
    el_put_u32(h + EL_HDR_CHUNK_SIZE, chunk);
    el_put_u32(h + EL_HDR_STATE, state);
    el_put_u32(h + EL_HDR_FLAGS, flags);
    el_put_u32(h + EL_HDR_API, 1);
    el_put_u64(h + EL_HDR_END, state == EL_STATE_COMPLETE ? file.len : 0);
    f = fopen(out, "wb");
    if (!f || fwrite(file.p, 1, file.len, f) != file.len || fclose(f) != 0) {
        fprintf(stderr, "mktrace: cannot write %s\n", out);
        return 1;
    }
    return 0;
}

/* ---- main -------------------------------------------------------------- */

static uint64_t num(const char *s)
{
    char *end;
    uint64_t v = strtoull(s, &end, 0);

    if (!*s || *end) {
        fprintf(stderr, "mktrace: '%s' is not a number\n%s", s, usage);
        exit(1);
    }
    return v;
}

/* the vCPUs' streams, held to the end (not a leak) */
static Vcpu *vc;

int main(int argc, char **argv)
{
    uint32_t n_vcpus = 2, min_reader = 1;
    uint64_t per_vcpu = 2000, seed = 1;
    const char *out = NULL, *text = NULL, *stats = NULL, *kind = NULL;
    uint8_t *h;
    FILE *f;
    char meta[512];
    uint32_t meta_len;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;

        if (strcmp(a, "--vcpus") == 0 && more) {
            n_vcpus = (uint32_t)num(argv[++i]);
        } else if (strcmp(a, "--insns") == 0 && more) {
            per_vcpu = num(argv[++i]);
        } else if (strcmp(a, "--chunk-size") == 0 && more) {
            chunk_size = (uint32_t)num(argv[++i]);
        } else if (strcmp(a, "--static") == 0 && more) {
            max_static = (uint32_t)num(argv[++i]);
        } else if (strcmp(a, "--seed") == 0 && more) {
            seed = num(argv[++i]);
        } else if (strcmp(a, "--min-reader") == 0 && more) {
            min_reader = (uint32_t)num(argv[++i]);
        } else if (strcmp(a, "--hostile") == 0 && more) {
            kind = argv[++i];
        } else if (strcmp(a, "--stats") == 0 && more) {
            stats = argv[++i];
        } else if (strcmp(a, "--text") == 0 && more) {
            text = argv[++i];
        } else if (strcmp(a, "--system") == 0) {
            opt_system = true;
        } else if (strcmp(a, "--zstd") == 0) {
            opt_zstd = true;
        } else if (strcmp(a, "--zstd-static") == 0) {
            opt_zstd = opt_zstd_static = true;
        } else if (strcmp(a, "--cut") == 0) {
            opt_cut = true;
        } else if (a[0] != '-' && !out) {
            out = a;
        } else {
            fprintf(stderr, "%s", usage);
            return 1;
        }
    }
    if (!out || n_vcpus == 0 || n_vcpus > 1024 || chunk_size < 4096 ||
        chunk_size % 4096) {
        fprintf(stderr, "%s", usage);
        return 1;
    }
    if (kind) {
        return hostile(kind, out);
    }
    if (text && opt_cut && opt_zstd) {
        fprintf(stderr, "mktrace: --text cannot predict a cut-off "
                "compressed trace\n");
        return 1;
    }
    rng = seed * 0x9e3779b97f4a7c15ull + 1;

    /* the header */
    claim(EL_HEADER_SIZE);
    h = file.p;
    memcpy(h, EL_MAGIC, EL_MAGIC_LEN);
    /* a version-1 trace (nothing partial) unless a newer one is asked for */
    el_put_u16(h + EL_HDR_VERSION, (uint16_t)(min_reader > 1 ? min_reader :
                                              1));
    el_put_u16(h + EL_HDR_MIN_READER, (uint16_t)min_reader);
    el_put_u32(h + EL_HDR_HEADER_SIZE, EL_HEADER_SIZE);
    el_put_u32(h + EL_HDR_CHUNK_SIZE, chunk_size);
    el_put_u32(h + EL_HDR_STATE, EL_STATE_RECORDING);
    el_put_u32(h + EL_HDR_FLAGS, (opt_system ? EL_FLAG_SYSTEM : 0) |
                                 (opt_zstd ? EL_FLAG_ZSTD : 0));
    el_put_u32(h + EL_HDR_API, 1);
    snprintf(meta, sizeof(meta), "qemu=mktrace\ntarget=aarch64\nmode=%s\n"
             "vcpus=%u\nmax_vcpus=%u\noptions=format=bin%s\n%s"
             "plugin=mktrace (test writer)\n",
             opt_system ? "system" : "user", opt_system ? n_vcpus : 1,
             opt_system ? n_vcpus : 1, opt_zstd ? ",compress=zstd" : "",
             opt_system ? "" : "binary=/tmp/guest\n");
    meta_len = (uint32_t)strlen(meta);
    el_put_u32(h + EL_HDR_META_LEN, meta_len);
    memcpy(h + EL_HDR_META, meta, meta_len);

    st.vcpu = EL_STATIC_VCPU;
    st.compressed = opt_zstd_static;
    start_chunk(&st);

    vc = calloc(n_vcpus, sizeof(*vc));
    if (!vc) {
        return 1;
    }
    for (uint32_t i = 0; i < n_vcpus; i++) {
        uint8_t r = EL_REC_VCPU;

        vc[i].s.vcpu = i;
        vc[i].s.compressed = opt_zstd;
        vc[i].base = 0x5500800000ull + 0x100000ull * i;
        put(&vc[i].s, &r, 1);
    }
    for (;;) {
        uint32_t v = rndn(n_vcpus), tries = 0;

        while (vc[v].executed >= per_vcpu && tries++ < n_vcpus) {
            v = (v + 1) % n_vcpus;
        }
        if (vc[v].executed >= per_vcpu) {
            break;
        }
        vcpu_block(&vc[v], v);
    }

    if (!opt_cut) {
        for (uint32_t i = 0; i < n_vcpus; i++) {
            uint8_t rec[1 + 3 * EL_VARINT_MAX];
            size_t n = 1;

            rec[0] = EL_REC_EXIT;
            n += el_put_varint(rec + n, vc[i].executed);
            n += el_put_varint(rec + n, vc[i].loads);
            n += el_put_varint(rec + n, vc[i].stores);
            put(&vc[i].s, rec, n);
            seal(&vc[i].s);
        }
        seal(&st);
        el_put_u64(file.p + EL_HDR_END, file.len);
        el_put_u32(file.p + EL_HDR_STATE, EL_STATE_COMPLETE);
    } else if (opt_zstd_static) {
        seal(&st);      /* else the static records would be lost */
    }

    f = fopen(out, "wb");
    if (!f || fwrite(file.p, 1, file.len, f) != file.len || fclose(f) != 0) {
        fprintf(stderr, "mktrace: cannot write %s\n", out);
        return 1;
    }
    if (stats) {
        uint64_t t[4] = { 0 };

        for (uint32_t i = 0; i < n_vcpus; i++) {
            t[0] += vc[i].executed;
            t[1] += vc[i].loads;
            t[2] += vc[i].stores;
            t[3] += vc[i].blocks;
        }
        f = fopen(stats, "w");
        if (!f) {
            fprintf(stderr, "mktrace: cannot write %s\n", stats);
            return 1;
        }
        fprintf(f, "instructions: %" PRIu64 "\nloads: %" PRIu64 "\nstores: %"
                PRIu64 "\nblocks: %" PRIu64 "\nvcpus: %u\n", t[0], t[1], t[2],
                t[3], n_vcpus);
        for (uint32_t i = 0; i < n_vcpus; i++) {
            fprintf(f, "vcpu%u.instructions: %" PRIu64 "\nvcpu%u.loads: %"
                    PRIu64 "\nvcpu%u.stores: %" PRIu64 "\nvcpu%u.blocks: %"
                    PRIu64 "\n", i, vc[i].executed, i, vc[i].loads, i,
                    vc[i].stores, i, vc[i].blocks);
        }
        if (fclose(f) != 0) {
            return 1;
        }
    }
    if (text) {
        f = fopen(text, "wb");
        if (!f) {
            fprintf(stderr, "mktrace: cannot write %s\n", text);
            return 1;
        }
        for (uint32_t i = 0; i < n_vcpus; i++) {
            fwrite(vc[i].text.p, 1, vc[i].text.len, f);
        }
        if (fclose(f) != 0) {
            return 1;
        }
    }
    return 0;
}
