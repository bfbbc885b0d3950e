/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * execlog dump: the executed instructions as text (exactly the plugin's
 * format=text lines), CSV or JSON lines.
 *
 * Lines are formatted by hand into a 1 MiB buffer written with write(2):
 * no printf per line. A complete version-2 trace's vCPUs are decoded and
 * formatted on several threads, in ranges (parallel.h), whose output is
 * written in order; anything else, and from wherever a range fails, one
 * cursor per vCPU does it (dump_vcpu()).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "parallel.h"
#include "symbols.h"

enum { FMT_TEXT, FMT_CSV, FMT_JSONL };

/* --elf: the symbols lines are annotated with (NULL without --elf) */
static Symbols *syms;
static void out_symbol(OutBuf *o, const SymHit *hit, bool json);

static const char dump_usage[] =
    "Usage: execlog dump [OPTIONS] TRACE\n"
    "Print the instructions the trace's vCPUs executed, in order: all of\n"
    "vCPU 0's, then vCPU 1's, and so on.\n"
    "\n"
    "Options:\n"
    "  --format FMT   text (default), csv or jsonl\n"
    "  --vcpu N       only vCPU N\n"
    "  --from N       start at instruction index N of each vCPU (0-based)\n"
    "  --count N      print at most N instructions of each vCPU\n"
    "  --pc RANGE     only instructions at addresses in RANGE: START-END\n"
    "                 (END excluded) or a single ADDRESS\n"
    "  --bytes        text: OPCODE is every byte of the instruction in\n"
    "                 memory order, as the plugin's bytes=on prints it\n"
    "  --elf FILE     annotate instructions with <SYMBOL+0xOFFSET> from the\n"
    "                 ELF file's symbols; repeatable (a program and its\n"
    "                 shared objects, each placed where the trace says it\n"
    "                 was loaded)\n"
    "  -h, --help     this text\n"
    "Numbers are decimal, or hexadecimal with 0x. --from counts every\n"
    "instruction of the vCPU; --count counts the ones printed (after --pc).\n"
    "\n"
    "text: one line per instruction, byte for byte as the plugin's\n"
    "format=text prints it:\n"
    "  VCPU, 0xPC, 0xOPCODE, \"DISASSEMBLY\""
    "[, load|store, 0xADDR[=0xVALUE][, DEVICE]]...\n"
    "  [, REG -> 0xHEX]...\n"
    "  OPCODE is the first 4 bytes of the instruction as a little-endian\n"
    "  word (zero-filled); ADDR is the physical address followed by the\n"
    "  device when the access has one (system mode), else the virtual one;\n"
    "  VALUE (values=on) the value loaded or stored, 2 digits per byte of\n"
    "  the access; REG (reg=) each watched register the instruction\n"
    "  changed, with its new value.\n"
    "\n"
    "csv: a header row, then one row per instruction with the columns\n"
    "  vcpu      vCPU index\n"
    "  index     the instruction's index in its vCPU (0, 1, 2, ...)\n"
    "  pc        virtual address, 0x hex\n"
    "  size      instruction size in bytes\n"
    "  bytes     all of its bytes, hex, in memory order\n"
    "  disas     disassembly (quoted, \" doubled)\n"
    "  accesses  its memory accesses in order, separated by ';' (quoted);\n"
    "            each OP:SIZE:FLAGS:VADDR[:PADDR:DEVICE] with OP load or\n"
    "            store, SIZE in bytes, FLAGS any of s (sign-extended) and\n"
    "            b (big-endian), addresses 0x hex; PADDR and DEVICE only\n"
    "            for an access with a physical address (DEVICE may itself\n"
    "            contain ':')\n"
    "  values    values=on: the accesses' values, in the same order,\n"
    "            separated by ';', each 0x and 2 hex digits per byte\n"
    "  regs      reg=: the registers the instruction changed, separated\n"
    "            by ';', each NAME=0xHEX (as text prints them)\n"
    "\n"
    "jsonl: one JSON object per line:\n"
    "  {\"vcpu\":0,\"index\":0,\"pc\":\"0x400000\",\"size\":4,"
    "\"bytes\":\"fd7bbfa9\",\n"
    "   \"disas\":\"...\",\"mem\":[{\"op\":\"store\",\"size\":8,"
    "\"vaddr\":\"0x...\",\n"
    "   \"paddr\":\"0x...\"|null,\"device\":\"RAM\"|null,\"signed\":false,\n"
    "   \"big_endian\":false[,\"value\":\"0x...\"]}, ...]"
    "[,\"regs\":[{\"name\":\"x0\",\n"
    "   \"value\":\"0x...\"}, ...]]}\n"
    "  (value: with values=on, 2 hex digits per byte; regs: with reg=,\n"
    "  the registers the instruction changed, values as text prints them)\n"
    "  (addresses are hex strings: JSON numbers lose 64-bit precision)\n"
    "\n"
    "With --elf: text lines have ' <SYMBOL+0xOFF>' after 0xPC; csv a\n"
    "column 'symbol' after 'pc' (SYMBOL+0xOFF, empty if none); jsonl a\n"
    "field \"symbol\" after \"pc\" (a string, or null).\n"
    "\n"
    "A cut-off trace is printed up to where it ends, then a note goes to\n"
    "stderr (exit 0); a damaged one is printed up to the damage, then the\n"
    "error goes to stderr (exit 2). See 'execlog --help' for exit codes.\n";

typedef struct DumpOpts {
    int format;
    bool one_vcpu;
    uint32_t vcpu;
    uint64_t from;
    uint64_t count;         /* UINT64_MAX: all */
    bool pc_filter;
    uint64_t pc_lo, pc_hi;  /* [lo, hi) */
    bool bytes;             /* --bytes */
} DumpOpts;

/* ---- text -------------------------------------------------------------- */

/*
 * The static part of each instruction's line, "0xPC, 0xOPCODE, \"DISAS\"",
 * formatted once per instruction: a table by static instruction number
 * (the reader's instructions are one array, el_trace_insn()) of the text
 * in a pool. Filled as instructions are met; filled whole before worker
 * threads read it (cache_fill), which then only read it.
 */
#define COPY_SLACK 64

typedef struct TextCache {
    const ElInsnInfo *base; /* el_trace_insn(t, 0) */
    uint64_t *at;           /* by number: offset in pool << 24 | length */
    size_t n;
    char *pool;
    size_t pool_len, pool_cap;
    bool bytes;             /* --bytes: OPCODE is all the bytes */
    bool filled;            /* every instruction's text is in */
    /* register names by id, lower-cased as format=text prints them */
    char **reg_names;
    size_t *reg_lens;
    size_t n_regs;
} TextCache;

static bool cache_init(TextCache *tc, const ElTrace *t)
{
    size_t n = (size_t)el_trace_summary(t)->n_insns_static;

    memset(tc, 0, sizeof(*tc));
    tc->base = el_trace_insn(t, 0);
    tc->n = tc->base ? n : 0;
    tc->at = calloc(tc->n ? tc->n : 1, sizeof(*tc->at));
    return tc->at != NULL;
}

static void cache_free(TextCache *tc)
{
    for (size_t i = 0; i < tc->n_regs; i++) {
        free(tc->reg_names[i]);
    }
    free(tc->reg_names);
    free(tc->reg_lens);
    free(tc->at);
    free(tc->pool);
}

/* The trace's register names, lower-cased (format=text prints them so). */
static bool cache_regs(TextCache *tc, const ElTrace *t)
{
    size_t n = el_trace_n_regs(t);

    tc->reg_names = calloc(n ? n : 1, sizeof(*tc->reg_names));
    tc->reg_lens = calloc(n ? n : 1, sizeof(*tc->reg_lens));
    if (!tc->reg_names || !tc->reg_lens) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = el_trace_reg(t, i)->name;
        char *l = strdup(name);

        if (!l) {
            return false;
        }
        for (char *q = l; *q; q++) {
            *q = (char)tolower((unsigned char)*q);
        }
        tc->reg_names[i] = l;
        tc->reg_lens[i] = strlen(l);
        tc->n_regs = i + 1;
    }
    return true;
}

/*
 * --elf: " <SYMBOL+0xOFF>" after the 0xPC that starts the @n bytes of
 * static text at @d (which has room for it). Returns the new length.
 */
static size_t annotate_pc(char *d, size_t n, const SymHit *hit)
{
    const char *comma = memchr(d, ',', n);
    size_t at = comma ? (size_t)(comma - d) : n;
    size_t al = sym_annot_len(hit);

    memmove(d + at + al, d + at, n - at);
    sym_annot(d + at, hit);
    return n + al;
}

/* Format @in's static text into the pool. Returns its "at", or 0. */
static uint64_t cache_add(TextCache *tc, const ElInsnInfo *in)
{
    size_t need = 2 + 16 + 4 + 2 * EL_INSN_MAX_SIZE + 3 +
                  (size_t)in->disas_len + 1;
    size_t start, n;
    char *d;
    SymHit hit;
    bool annotate = syms && sym_find_insn(syms, in, &hit);

    if (annotate) {
        need += sym_annot_len(&hit);
    }
    if (tc->pool_cap - tc->pool_len < need + COPY_SLACK) {
        size_t cap = tc->pool_cap ? tc->pool_cap * 2 : (1u << 20);
        char *p;

        while (cap - tc->pool_len < need + COPY_SLACK) {
            cap *= 2;
        }
        p = realloc(tc->pool, cap);
        if (!p) {
            return 0;
        }
        tc->pool = p;
        tc->pool_cap = cap;
    }
    start = tc->pool_len;
    d = tc->pool + start;
    n = tc->bytes ? el_fmt_insn_bytes(d, in->pc, in->bytes, in->size,
                                      in->disas) :
        el_fmt_insn(d, in->pc, el_opcode(in->bytes, in->size), in->disas);
    if (annotate) {
        n = annotate_pc(d, n, &hit);
    }
    tc->pool_len += n;
    if (start >= ((uint64_t)1 << 40) || n >= (1u << 24)) {
        return 0;
    }
    return (uint64_t)start << 24 | n;
}

/* The cached text of @in ("at": pool offset << 24 | length), or 0. */
static inline uint64_t cache_get(TextCache *tc, const ElInsnInfo *in)
{
    size_t id = (size_t)(((uintptr_t)in - (uintptr_t)tc->base) /
                         sizeof(ElInsnInfo));

    if (__builtin_expect(id < tc->n && tc->at[id] != 0, 1)) {
        return tc->at[id];
    }
    if (id >= tc->n) {
        return 0;           /* not the trace's: cannot be */
    }
    return tc->at[id] = cache_add(tc, in);
}

/* Every instruction's text, for readers on several threads. */
static bool cache_fill(TextCache *tc)
{
    for (size_t id = 0; id < tc->n; id++) {
        if (!cache_get(tc, tc->base + id)) {
            return false;
        }
    }
    return true;
}

/*
 * A line's head: @prefix ("N, ") and the static text cached at @at, with
 * room for @more bytes after it. Fixed-size copies: the buffers have
 * COPY_SLACK bytes to spare.
 */
static inline bool line_head(OutBuf *o, const TextCache *tc, uint64_t at,
                             const char *prefix, size_t prefix_len,
                             size_t more)
{
    size_t len = at & 0xffffff;

    if (!out_room(o, 16 + len + COPY_SLACK + more)) {
        return false;
    }
    memcpy(o->buf + o->len, prefix, 16);
    o->len += prefix_len;
    if (len <= COPY_SLACK) {
        memcpy(o->buf + o->len, tc->pool + (at >> 24), COPY_SLACK);
    } else {
        memcpy(o->buf + o->len, tc->pool + (at >> 24), len);
    }
    o->len += len;
    return true;
}

/*
 * The line of static instruction @id without accesses or registers.
 * Runs for every such instruction: no allocation (but to cache its text
 * the first time), no printf.
 */
static inline bool line_plain(OutBuf *o, TextCache *tc, size_t id,
                              const char *prefix, size_t prefix_len)
{
    uint64_t at;

    if (__builtin_expect(id >= tc->n, 0)) {
        return false;
    }
    at = tc->at[id];
    if (__builtin_expect(!at, 0) &&
        !(at = tc->at[id] = cache_add(tc, tc->base + id))) {
        return false;
    }
    if (!line_head(o, tc, at, prefix, prefix_len, 1)) {
        return false;
    }
    o->buf[o->len++] = '\n';
    return true;
}

/* Runs for every instruction: no allocation, no printf. */
static bool line_text(OutBuf *o, TextCache *tc, const ElExec *e,
                      const char *prefix, size_t prefix_len)
{
    uint64_t at = cache_get(tc, e->insn);

    if (!at || !line_head(o, tc, at, prefix, prefix_len, 1)) {
        return false;
    }
    for (size_t i = 0; i < e->n_mem; i++) {
        const ElMemAccess *m = &e->mem[i];
        size_t dl = m->has_paddr ? strlen(m->device) : 0;

        if (!out_room(o, EL_FMT_MEM_MAX + EL_FMT_VALUE_MAX + 2 + dl + 1)) {
            return false;
        }
        o->len += el_fmt_mem(o->buf + o->len, m->store,
                             m->has_paddr ? m->paddr : m->vaddr);
        if (m->has_value) {
            o->len += el_fmt_value(o->buf + o->len, m->value,
                                   (size_t)1 << m->size_shift);
        }
        if (m->has_paddr) {
            o->len += el_fmt_device(o->buf + o->len, m->device, dl);
        }
    }
    for (size_t i = 0; i < e->n_regs; i++) {
        const ElRegWrite *r = &e->regs[i];
        size_t nl = r->id < tc->n_regs ? tc->reg_lens[r->id] : 0;

        if (!out_room(o, 8 + nl + 2 * (size_t)r->size + 1)) {
            return false;
        }
        o->len += el_fmt_reg(o->buf + o->len,
                             nl ? tc->reg_names[r->id] : "", nl, r->bytes,
                             r->size);
    }
    out_ch(o, '\n');
    return true;
}

/* ---- csv --------------------------------------------------------------- */

/* A CSV field in double quotes, quotes doubled. 2 * len + 2 bytes. */
static void out_csv_quoted(OutBuf *o, const char *s, size_t len)
{
    out_ch(o, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') {
            out_ch(o, '"');
        }
        out_ch(o, s[i]);
    }
    out_ch(o, '"');
}

static bool line_csv(OutBuf *o, const ElExec *e)
{
    const ElInsnInfo *in = e->insn;
    size_t need = 12 + 21 + 19 + 4 + 2 * EL_INSN_MAX_SIZE + 2 * in->disas_len +
                  16 + 4;
    SymHit hit;
    bool has_sym = syms && sym_find_insn(syms, in, &hit);

    if (has_sym) {
        need += 6 * sym_annot_len(&hit);
    }

    for (size_t i = 0; i < e->n_mem; i++) {
        need += 2 * (64 + (e->mem[i].has_paddr ? strlen(e->mem[i].device) :
                           0)) + EL_FMT_VALUE_MAX + 1;
    }
    for (size_t i = 0; i < e->n_regs; i++) {
        need += 8 + strlen(e->regs[i].name) + 2 * (size_t)e->regs[i].size;
    }
    if (!out_room(o, need)) {
        return false;
    }
    out_u64(o, e->vcpu);
    out_ch(o, ',');
    out_u64(o, e->index);
    OUT_LIT(o, ",0x");
    out_hex(o, in->pc, 1);
    if (syms) {
        out_ch(o, ',');
        if (has_sym) {
            out_symbol(o, &hit, false);
        }
    }
    out_ch(o, ',');
    out_u64(o, in->size);
    out_ch(o, ',');
    for (unsigned i = 0; i < in->size; i++) {
        out_hex(o, in->bytes[i], 2);
    }
    out_ch(o, ',');
    out_csv_quoted(o, in->disas, in->disas_len);
    OUT_LIT(o, ",\"");
    for (size_t i = 0; i < e->n_mem; i++) {
        const ElMemAccess *m = &e->mem[i];

        if (i) {
            out_ch(o, ';');
        }
        if (m->store) {
            OUT_LIT(o, "store:");
        } else {
            OUT_LIT(o, "load:");
        }
        out_u64(o, 1ull << m->size_shift);
        out_ch(o, ':');
        if (m->sign_extended) {
            out_ch(o, 's');
        }
        if (m->big_endian) {
            out_ch(o, 'b');
        }
        OUT_LIT(o, ":0x");
        out_hex(o, m->vaddr, 1);
        if (m->has_paddr) {
            const char *d = m->device;

            OUT_LIT(o, ":0x");
            out_hex(o, m->paddr, 1);
            out_ch(o, ':');
            for (; *d; d++) {
                if (*d == '"') {
                    out_ch(o, '"');
                }
                out_ch(o, *d);
            }
        }
    }
    OUT_LIT(o, "\",");
    bool any_value = false;

    for (size_t i = 0; i < e->n_mem; i++) {
        any_value |= e->mem[i].has_value;
    }
    for (size_t i = 0; any_value && i < e->n_mem; i++) {
        const ElMemAccess *m = &e->mem[i];

        if (i) {
            out_ch(o, ';');
        }
        if (m->has_value) {
            OUT_LIT(o, "0x");
            for (size_t b = (size_t)1 << m->size_shift; b-- > 0;) {
                out_hex(o, m->value[b], 2);
            }
        }
    }
    out_ch(o, ',');
    for (size_t i = 0; i < e->n_regs; i++) {
        const ElRegWrite *r = &e->regs[i];

        if (i) {
            out_ch(o, ';');
        }
        for (const char *q = r->name; *q; q++) {
            out_ch(o, (char)tolower((unsigned char)*q));
        }
        OUT_LIT(o, "=0x");
        for (size_t b = r->size; b-- > 0;) {
            out_hex(o, r->bytes[b], 2);
        }
    }
    out_ch(o, '\n');
    return true;
}

/* ---- jsonl ------------------------------------------------------------- */

/* A JSON string: at most 6 * len + 2 bytes. */
static void out_json_str(OutBuf *o, const char *s, size_t len)
{
    out_ch(o, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\') {
            out_ch(o, '\\');
            out_ch(o, (char)c);
        } else if (c < 0x20 || c == 0x7f) {
            OUT_LIT(o, "\\u00");
            out_hex(o, c, 2);
        } else {
            out_ch(o, (char)c);
        }
    }
    out_ch(o, '"');
}

/*
 * --elf: "SYMBOL+0xOFF" as a JSON string (@json) or a quoted CSV field.
 * Needs 6 * sym_annot_len() bytes.
 */
static void out_symbol(OutBuf *o, const SymHit *hit, bool json)
{
    if (json) {
        out_json_str(o, hit->name, strlen(hit->name));
    } else {
        out_csv_quoted(o, hit->name, strlen(hit->name));
    }
    o->len--;               /* the closing quote: the offset goes inside */
    OUT_LIT(o, "+0x");
    out_hex(o, hit->offset, 1);
    out_ch(o, '"');
}

static bool line_jsonl(OutBuf *o, const ElExec *e)
{
    const ElInsnInfo *in = e->insn;
    size_t need = 128 + 2 * EL_INSN_MAX_SIZE + 6 * in->disas_len;
    SymHit hit;
    bool has_sym = syms && sym_find_insn(syms, in, &hit);

    if (has_sym) {
        need += 6 * sym_annot_len(&hit) + 16;
    }

    for (size_t i = 0; i < e->n_mem; i++) {
        need += 160 + EL_FMT_VALUE_MAX + 12 +
                (e->mem[i].has_paddr ? 6 * strlen(e->mem[i].device) : 0);
    }
    for (size_t i = 0; i < e->n_regs; i++) {
        need += 40 + 6 * strlen(e->regs[i].name) + 2 * (size_t)e->regs[i].size;
    }
    if (!out_room(o, need)) {
        return false;
    }
    OUT_LIT(o, "{\"vcpu\":");
    out_u64(o, e->vcpu);
    OUT_LIT(o, ",\"index\":");
    out_u64(o, e->index);
    OUT_LIT(o, ",\"pc\":\"0x");
    out_hex(o, in->pc, 1);
    out_ch(o, '"');
    if (syms && has_sym) {
        OUT_LIT(o, ",\"symbol\":");
        out_symbol(o, &hit, true);
    } else if (syms) {
        OUT_LIT(o, ",\"symbol\":null");
    }
    OUT_LIT(o, ",\"size\":");
    out_u64(o, in->size);
    OUT_LIT(o, ",\"bytes\":\"");
    for (unsigned i = 0; i < in->size; i++) {
        out_hex(o, in->bytes[i], 2);
    }
    OUT_LIT(o, "\",\"disas\":");
    out_json_str(o, in->disas, in->disas_len);
    OUT_LIT(o, ",\"mem\":[");
    for (size_t i = 0; i < e->n_mem; i++) {
        const ElMemAccess *m = &e->mem[i];

        if (i) {
            out_ch(o, ',');
        }
        if (m->store) {
            OUT_LIT(o, "{\"op\":\"store\",\"size\":");
        } else {
            OUT_LIT(o, "{\"op\":\"load\",\"size\":");
        }
        out_u64(o, 1ull << m->size_shift);
        OUT_LIT(o, ",\"vaddr\":\"0x");
        out_hex(o, m->vaddr, 1);
        if (m->has_paddr) {
            OUT_LIT(o, "\",\"paddr\":\"0x");
            out_hex(o, m->paddr, 1);
            OUT_LIT(o, "\",\"device\":");
            out_json_str(o, m->device, strlen(m->device));
        } else {
            OUT_LIT(o, "\",\"paddr\":null,\"device\":null");
        }
        if (m->sign_extended) {
            OUT_LIT(o, ",\"signed\":true");
        } else {
            OUT_LIT(o, ",\"signed\":false");
        }
        if (m->big_endian) {
            OUT_LIT(o, ",\"big_endian\":true");
        } else {
            OUT_LIT(o, ",\"big_endian\":false");
        }
        if (m->has_value) {
            OUT_LIT(o, ",\"value\":\"0x");
            for (size_t b = (size_t)1 << m->size_shift; b-- > 0;) {
                out_hex(o, m->value[b], 2);
            }
            out_ch(o, '"');
        }
        out_ch(o, '}');
    }
    out_ch(o, ']');
    if (e->n_regs) {
        OUT_LIT(o, ",\"regs\":[");
        for (size_t i = 0; i < e->n_regs; i++) {
            const ElRegWrite *r = &e->regs[i];
            char name[64];
            size_t nl = strlen(r->name);

            if (nl >= sizeof(name)) {
                nl = sizeof(name) - 1;
            }
            for (size_t q = 0; q < nl; q++) {
                name[q] = (char)tolower((unsigned char)r->name[q]);
            }
            if (i) {
                out_ch(o, ',');
            }
            OUT_LIT(o, "{\"name\":");
            out_json_str(o, name, nl);
            OUT_LIT(o, ",\"value\":\"0x");
            for (size_t b = r->size; b-- > 0;) {
                out_hex(o, r->bytes[b], 2);
            }
            OUT_LIT(o, "\"}");
        }
        out_ch(o, ']');
    }
    OUT_LIT(o, "}\n");
    return true;
}

/* ---- The command ------------------------------------------------------- */

static bool parse_pc_range(const char *s, uint64_t *lo, uint64_t *hi)
{
    const char *dash = strchr(s, '-');
    char buf[64];

    if (!dash) {
        if (!cli_parse_u64(s, lo) || *lo == UINT64_MAX) {
            return false;
        }
        *hi = *lo + 1;
        return true;
    }
    if ((size_t)(dash - s) >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, s, (size_t)(dash - s));
    buf[dash - s] = '\0';
    return cli_parse_u64(buf, lo) && cli_parse_u64(dash + 1, hi) && *lo < *hi;
}

/*
 * Dump one vCPU, the sequential way: one cursor, from its start (or
 * --from). Instructions before @resume are decoded but not printed (what
 * the parallel way printed already). Returns 0, or -1 with @err (damage),
 * or -2 (output).
 */
static int dump_vcpu(ElTrace *t, uint32_t vcpu, const DumpOpts *d, OutBuf *o,
                     TextCache *tc, Progress *pg, uint64_t *progress_base,
                     uint64_t resume, ElError *err)
{
    ElCursor *c = el_cursor_new(t, vcpu, err);
    ElExec e;
    char prefix[32] = { 0 };
    size_t prefix_len;
    uint64_t printed = 0, n = 0;
    int r = 0;

    if (!c) {
        return -1;
    }
    prefix_len = el_fmt_vcpu_prefix(prefix, vcpu);
    /* through the chunk index: the cost does not grow with --from */
    if (d->from > 0 && el_cursor_seek(c, d->from, err) < 0) {
        el_cursor_free(c);
        return -1;
    }
    while (printed < d->count) {
        const uint32_t *ids;
        uint64_t first, off;
        size_t k;
        bool ok;

        /* text: a run of instructions without accesses at once */
        if (d->format == FMT_TEXT &&
            (k = el_cursor_next_plain(c, d->count - printed, &ids, &first,
                                      &off)) > 0) {
            uint64_t before = n;

            for (size_t j = 0; j < k; j++) {
                const ElInsnInfo *in = el_trace_insn(t, ids[j]);

                if (first + j < d->from || first + j < resume ||
                    (d->pc_filter && in &&
                     (in->pc < d->pc_lo || in->pc >= d->pc_hi))) {
                    continue;
                }
                if (!line_plain(o, tc, ids[j], prefix, prefix_len)) {
                    el_cursor_free(c);
                    return -2;
                }
                printed++;
            }
            n += k;
            if ((before >> 16) != (n >> 16)) {
                progress_update(pg, *progress_base + el_cursor_progress(c));
                if (o->error) {
                    break;
                }
            }
            continue;
        }
        if ((r = el_cursor_next(c, &e, err)) != 1) {
            break;
        }
        if ((++n & 0xffff) == 0) {
            progress_update(pg, *progress_base + el_cursor_progress(c));
            if (o->error) {
                break;
            }
        }
        if (e.index < d->from || e.index < resume) {
            continue;
        }
        if (d->pc_filter &&
            (e.insn->pc < d->pc_lo || e.insn->pc >= d->pc_hi)) {
            continue;
        }
        switch (d->format) {
        case FMT_TEXT:
            ok = line_text(o, tc, &e, prefix, prefix_len);
            break;
        case FMT_CSV:
            ok = line_csv(o, &e);
            break;
        default:
            ok = line_jsonl(o, &e);
            break;
        }
        if (!ok) {
            el_cursor_free(c);
            return -2;
        }
        printed++;
    }
    *progress_base += el_cursor_progress(c);
    el_cursor_free(c);
    /*
     * As format=text of plugin API >= 2 at exit: a vCPU that was initialised
     * but executed nothing still gets its (empty) pending line.
     */
    if (r == 0 && n == 0 && d->format == FMT_TEXT && d->from == 0 &&
        !d->pc_filter && el_trace_summary(t)->api >= 2) {
        if (!out_room(o, 1)) {
            return -2;
        }
        OUT_LIT(o, "\n");
    }
    return printed < d->count && r < 0 ? -1 : 0;
}

/* ---- On several threads (parallel.h) ------------------------------------ */

#define MAX_WORKERS 64

typedef struct DumpWorker {
    OutBuf o;               /* the range's output, handed to the job */
    ParJob *job;
    size_t range;
    size_t line_start;      /* where the line being formatted starts */
    uint64_t line_index;    /* its instruction */
    uint64_t loads, stores; /* of the ranges it did */
} __attribute__((aligned(128))) DumpWorker;    /* no false sharing */

typedef struct DumpPar {
    ElTrace *t;
    uint32_t vcpu;
    const DumpOpts *d;
    TextCache *tc;
    OutBuf *out;            /* the command's output (main thread) */
    char prefix[32];
    size_t prefix_len;
    Progress *pg;
    uint64_t pg_from, pg_to;
    size_t n_ranges;
    DumpWorker w[MAX_WORKERS];
} DumpPar;

/*
 * A worker's buffer is full: its whole lines to the job, and go on in a
 * new one with the line being formatted.
 */
static void worker_sink(OutBuf *o)
{
    DumpWorker *w = o->sink_ctx;
    size_t tail = o->len - w->line_start;
    char *nb;

    if (w->line_start == 0) {
        o->error = E2BIG;   /* a line longer than a buffer */
        return;
    }
    nb = par_buf(w->job);
    if (!nb) {
        o->error = ENOMEM;
        return;
    }
    memcpy(nb, o->buf + w->line_start, tail);
    if (!par_put(w->job, w->range, o->buf, w->line_start, w->line_index)) {
        par_buf_release(nb);
        o->buf = NULL;
        o->cap = 0;
        o->len = 0;
        o->error = ENOMEM;
        return;
    }
    o->buf = nb;
    o->len = tail;
    w->line_start = 0;
}

/*
 * A worker's range (ParWorkFn): its lines, as dump_vcpu() prints them.
 * Runs for every instruction of it: no allocation, no printf.
 */
static bool dump_range(ParJob *job, void *ctx, unsigned thread, size_t i,
                       const Range *rg, ElCursor *c, uint64_t *end_off)
{
    DumpPar *dp = ctx;
    const DumpOpts *d = dp->d;
    DumpWorker *w = &dp->w[thread];
    OutBuf *o = &w->o;
    ElExec e;
    ElError err;
    bool ok = false, good = true;
    uint64_t upto = rg->lo;     /* lines before it are in the buffer */
    bool first = true;

    w->job = job;
    w->range = i;
    if (!o->buf) {
        o->buf = par_buf(job);
        o->cap = o->buf ? par_buf_size() : 0;
        o->sink = worker_sink;
        o->sink_ctx = w;
        if (!o->buf) {
            return false;
        }
    }
    o->error = 0;
    o->len = 0;
    for (;;) {
        const uint32_t *ids;
        uint64_t first_i, off;
        size_t k;

        /* text: a run of instructions without accesses at once (the run
         * is in a block: it ends before the next range's first one) */
        if (d->format == FMT_TEXT &&
            (k = el_cursor_next_plain(c, SIZE_MAX, &ids, &first_i,
                                      &off)) > 0) {
            if (first) {
                par_first(job, i, off);
                first = false;
            }
            for (size_t j = 0; j < k && good; j++) {
                const ElInsnInfo *in = dp->tc->base + ids[j];

                w->line_start = o->len;
                w->line_index = first_i + j;
                if (first_i + j < d->from ||
                    (d->pc_filter && ids[j] < dp->tc->n &&
                     (in->pc < d->pc_lo || in->pc >= d->pc_hi))) {
                    continue;
                }
                good = line_plain(o, dp->tc, ids[j], dp->prefix,
                                  dp->prefix_len);
            }
            if (!good) {
                break;
            }
            upto = first_i + k;
            continue;
        }
        if (!par_range_step(el_cursor_next(c, &e, &err), &e, rg, &ok,
                            end_off)) {
            break;
        }
        if (first) {
            par_first(job, i, e.offset);
            first = false;
        }
        for (size_t k = 0; k < e.n_mem; k++) {
            if (e.mem[k].store) {
                w->stores++;
            } else {
                w->loads++;
            }
        }
        w->line_start = o->len;
        w->line_index = e.index;
        if (e.index < d->from || (d->pc_filter && (e.insn->pc < d->pc_lo ||
                                                   e.insn->pc >= d->pc_hi))) {
            upto = e.index + 1;
            continue;
        }
        switch (d->format) {
        case FMT_TEXT:
            good = line_text(o, dp->tc, &e, dp->prefix, dp->prefix_len);
            break;
        case FMT_CSV:
            good = line_csv(o, &e);
            break;
        default:
            good = line_jsonl(o, &e);
            break;
        }
        if (!good) {
            ok = false;
            break;
        }
        upto = e.index + 1;
    }
    if (ok) {
        upto = rg->hi;
    }
    /* the range's last whole lines, to the job */
    if (!good) {
        o->len = w->line_start;
        upto = w->line_index;
    }
    if (o->buf && o->len) {
        char *nb = par_buf(job);

        if (!par_put(job, i, o->buf, o->len, upto)) {
            ok = false;
        }
        o->buf = nb;
        o->cap = nb ? par_buf_size() : 0;
    }
    o->len = 0;
    return ok && !o->error;
}

static bool dump_emit(void *ctx, const char *buf, size_t len)
{
    DumpPar *dp = ctx;

    return out_write(dp->out, buf, len);
}

static void dump_done(void *ctx, size_t i)
{
    DumpPar *dp = ctx;

    progress_update(dp->pg, dp->pg_from + (dp->pg_to - dp->pg_from) *
                    (i + 1) / dp->n_ranges);
}

/*
 * The check one cursor makes at the vCPU's EXIT record that seeked ones
 * leave out: the loads and stores of the whole vCPU.
 */
static bool dump_check(void *ctx)
{
    DumpPar *dp = ctx;
    uint64_t insns, loads, stores, l = 0, s = 0;

    if (dp->d->from > 0 ||
        el_trace_summary(dp->t)->state != EL_STATE_COMPLETE ||
        !el_trace_exit_counts(dp->t, dp->vcpu, &insns, &loads, &stores)) {
        return true;
    }
    for (size_t k = 0; k < MAX_WORKERS; k++) {
        l += dp->w[k].loads;
        s += dp->w[k].stores;
    }
    return l == loads && s == stores;
}

/*
 * Dump one vCPU, on several threads where that can be done (a complete
 * version-2 trace, every line printed), else or from where that fails
 * the sequential way (dump_vcpu()). Same results as dump_vcpu().
 */
static int dump_vcpu_fast(ElTrace *t, uint32_t vcpu, const DumpOpts *d,
                          OutBuf *o, TextCache *tc, Progress *pg,
                          uint64_t *progress_base, ElError *err)
{
    unsigned threads = par_threads();
    DumpPar *dp;
    Range *rg = NULL;
    size_t n = 0;
    uint64_t resume;
    long r;

    if (threads > MAX_WORKERS) {
        threads = MAX_WORKERS;
    }
    if (threads < 2 || d->count != UINT64_MAX ||
        (syms && d->format != FMT_TEXT) || !el_trace_summary(t)->complete ||
        (n = par_split(t, vcpu, d->from, &rg)) == 0 ||
        (d->format == FMT_TEXT && !tc->filled && !(tc->filled = cache_fill(tc))) ||
        !(dp = calloc(1, sizeof(*dp)))) {
        free(rg);
        return dump_vcpu(t, vcpu, d, o, tc, pg, progress_base, 0, err);
    }
    dp->t = t;
    dp->vcpu = vcpu;
    dp->d = d;
    dp->tc = tc;
    dp->out = o;
    dp->prefix_len = el_fmt_vcpu_prefix(dp->prefix, vcpu);
    dp->pg = pg;
    dp->pg_from = *progress_base;
    dp->pg_to = el_trace_summary(t)->file_size;
    dp->n_ranges = n;
    r = par_run(t, vcpu, rg, n, threads, threads, dump_range, dp,
                dump_emit, dump_done, dump_check, &resume);
    for (size_t k = 0; k < MAX_WORKERS; k++) {
        par_buf_release(dp->w[k].o.buf);
    }
    free(dp);
    if (r == -1) {
        free(rg);
        return 0;           /* o->error says what */
    }
    if ((size_t)r == n) {
        free(rg);
        return 0;
    }
    /* range r failed: from where its output stops, the sequential way */
    free(rg);
    return dump_vcpu(t, vcpu, d, o, tc, pg, progress_base, resume, err);
}

static int dump_cmd(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "elf", required_argument, NULL, 'e' },
        { "format", required_argument, NULL, 'f' },
        { "vcpu", required_argument, NULL, 'v' },
        { "from", required_argument, NULL, 'F' },
        { "count", required_argument, NULL, 'n' },
        { "pc", required_argument, NULL, 'p' },
        { "bytes", no_argument, NULL, 'b' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    DumpOpts d = { .format = FMT_TEXT, .count = UINT64_MAX };
    const char *file;
    ElTrace *t;
    OutBuf o;
    TextCache tc;
    Progress pg;
    ElError err, first_err = { .code = EL_OK };
    uint64_t base = 0, v64;
    int opt, rc = EXIT_OK, orc;
    char *elfs[SYM_MAX_FILES];
    size_t n_elf = 0;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'e':
            if (n_elf == SYM_MAX_FILES) {
                return cli_usage("dump", "--elf given more than %d times",
                                 SYM_MAX_FILES);
            }
            elfs[n_elf++] = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "text") == 0) {
                d.format = FMT_TEXT;
            } else if (strcmp(optarg, "csv") == 0) {
                d.format = FMT_CSV;
            } else if (strcmp(optarg, "jsonl") == 0) {
                d.format = FMT_JSONL;
            } else {
                return cli_usage("dump", "unknown format '%s' (known: text, "
                                 "csv, jsonl)", optarg);
            }
            break;
        case 'v':
            if (!cli_parse_u64(optarg, &v64) || v64 >= EL_STATIC_VCPU) {
                return cli_usage("dump", "--vcpu '%s' is not a vCPU index",
                                 optarg);
            }
            d.one_vcpu = true;
            d.vcpu = (uint32_t)v64;
            break;
        case 'F':
            if (!cli_parse_u64(optarg, &d.from)) {
                return cli_usage("dump", "--from '%s' is not a number",
                                 optarg);
            }
            break;
        case 'n':
            if (!cli_parse_u64(optarg, &d.count)) {
                return cli_usage("dump", "--count '%s' is not a number",
                                 optarg);
            }
            break;
        case 'p':
            if (!parse_pc_range(optarg, &d.pc_lo, &d.pc_hi)) {
                return cli_usage("dump", "--pc '%s' is not an address or a "
                                 "range START-END with START < END", optarg);
            }
            d.pc_filter = true;
            break;
        case 'b':
            d.bytes = true;
            break;
        case 'h':
            fputs(dump_usage, stdout);
            return EXIT_OK;
        case ':':
            return cli_usage("dump", "option '%s' needs a value",
                             argv[optind - 1]);
        default:
            return cli_usage("dump", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (n_elf && !(syms = sym_load("dump", elfs, n_elf))) {
        return EXIT_USAGE;
    }
    t = cli_open_arg("dump", argc, argv, optind, &file, &rc);
    if (!t) {
        return rc;
    }
    if (syms) {
        sym_bind(syms, t);
    }
    if (d.one_vcpu && !el_trace_has_vcpu(t, d.vcpu)) {
        el_trace_close(t);
        return cli_usage("dump", "%s has no vCPU %" PRIu32, file, d.vcpu);
    }
    if (!out_init(&o, STDOUT_FILENO, 1u << 20) ||
        !cache_init(&tc, t) ||
        !cache_regs(&tc, t)) {
        el_trace_close(t);
        cli_msg("out of memory");
        return EXIT_IO;
    }
    tc.bytes = d.bytes;
    progress_init(&pg, el_trace_summary(t)->file_size);
    if (d.format == FMT_CSV && out_room(&o, 64)) {
        if (syms) {
            OUT_LIT(&o, "vcpu,index,pc,symbol,size,bytes,disas,accesses,"
                    "values,regs\n");
        } else {
            OUT_LIT(&o, "vcpu,index,pc,size,bytes,disas,accesses,values,"
                    "regs\n");
        }
    }
    for (uint32_t v = 0; v < el_trace_summary(t)->n_vcpus && !o.error; v++) {
        int r;

        if ((d.one_vcpu && v != d.vcpu) || !el_trace_has_vcpu(t, v)) {
            continue;
        }
        r = dump_vcpu_fast(t, v, &d, &o, &tc, &pg, &base, &err);
        if (r == -2) {
            o.error = o.error ? o.error : 12 /* ENOMEM */;
            break;
        }
        if (r == -1 && first_err.code == EL_OK) {
            first_err = err;
        }
    }
    progress_end(&pg);
    cache_free(&tc);
    orc = out_close(&o);
    if (orc != EXIT_OK) {
        el_trace_close(t);
        return orc;
    }
    if (first_err.code != EL_OK) {
        rc = cli_trace_error(file, &first_err);
    } else {
        rc = cli_trace_end(file, t);
    }
    el_trace_close(t);
    return rc;
}

int cmd_dump(int argc, char **argv)
{
    int rc = dump_cmd(argc, argv);

    sym_free(syms);
    syms = NULL;
    return rc;
}

/* One line as 'dump' prints it (for other commands: slow, a line at a time) */
bool dump_text_line(OutBuf *o, const ElTrace *t, const ElExec *e)
{
    TextCache tc;
    char prefix[32] = { 0 };
    size_t prefix_len = el_fmt_vcpu_prefix(prefix, e->vcpu);
    bool ok;

    /* a table of the one instruction */
    memset(&tc, 0, sizeof(tc));
    tc.base = e->insn;
    tc.n = 1;
    tc.at = calloc(1, sizeof(*tc.at));
    if (!tc.at) {
        return false;
    }
    ok = cache_regs(&tc, t) && line_text(o, &tc, e, prefix, prefix_len);
    cache_free(&tc);
    return ok;
}
