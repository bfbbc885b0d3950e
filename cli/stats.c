/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * execlog stats: totals, the hottest instructions and memory addresses,
 * and the instruction mix, from one pass over every vCPU's records.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "parallel.h"
#include "symbols.h"

#define TOP_INSNS 10
#define TOP_ADDRS 10
#define TOP_MNEMONICS 20
#define TOP_FUNCTIONS 10

static const char stats_usage[] =
    "Usage: execlog stats [OPTIONS] TRACE\n"
    "Totals and profiles of a trace, one 'name: value' per line:\n"
    "  instructions, loads, stores   executed instructions, memory accesses\n"
    "  blocks                        executed blocks (BLOCK records with at\n"
    "                                least one instruction)\n"
    "  vcpus                         vCPUs with records\n"
    "  vcpuN.instructions, vcpuN.loads, vcpuN.stores, vcpuN.blocks\n"
    "then three tables, each line indented by two spaces:\n"
    "  hottest instructions:      the 10 most executed: 0xPC COUNT \"DISAS\"\n"
    "  hottest memory addresses:  the 10 virtual addresses accessed most:\n"
    "                             0xADDR COUNT\n"
    "  instruction mix:           the 20 most executed mnemonics (first\n"
    "                             word of the disassembly): MNEMONIC COUNT\n"
    "With --elf, the hottest instructions show <SYMBOL+0xOFF> after 0xPC,\n"
    "and a fourth table follows:\n"
    "  hottest functions:         the 10 symbols whose instructions ran\n"
    "                             most: SYMBOL COUNT\n"
    "Options:\n"
    "  --elf FILE   symbols from this ELF file (repeatable: a program and\n"
    "               its shared objects; see 'execlog dump --help')\n"
    "  -h, --help   this text\n"
    "A cut-off trace is counted up to where it ends (a note goes to stderr);\n"
    "a damaged one up to the damage, and the command exits 2.\n";

/* ---- Hash tables ------------------------------------------------------- */

typedef struct Slot {
    uint64_t key;
    uint64_t count;         /* 0: empty */
} Slot;

typedef struct Table {
    Slot *s;
    size_t mask;            /* slots - 1 */
    size_t used;
} Table;

static bool table_init(Table *t, size_t want)
{
    size_t n = 1024;

    while (n < want * 2) {
        n *= 2;
    }
    t->s = calloc(n, sizeof(Slot));
    t->mask = n - 1;
    t->used = 0;
    return t->s != NULL;
}

/*
 * Keys of the same 16 (aligned) get neighbouring slots, so that accesses
 * to neighbouring bytes hit the same table lines in the cache; the rest
 * of the key is mixed, so that keys do not pile up.
 */
static inline size_t hash64(uint64_t k)
{
    uint64_t h = k >> 4;

    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (size_t)(h << 4 | (k & 15));
}

static bool table_grow(Table *t)
{
    size_t n = (t->mask + 1) * 2;
    Slot *s = calloc(n, sizeof(Slot));

    if (!s) {
        return false;
    }
    for (size_t i = 0; i <= t->mask; i++) {
        if (t->s[i].count) {
            size_t j = hash64(t->s[i].key) & (n - 1);

            while (s[j].count) {
                j = (j + 1) & (n - 1);
            }
            s[j] = t->s[i];
        }
    }
    free(t->s);
    t->s = s;
    t->mask = n - 1;
    return true;
}

/* Count @key @n more times (@n > 0). False when out of memory. */
static bool table_add_n(Table *t, uint64_t key, uint64_t n)
{
    size_t j = hash64(key) & t->mask;

    for (;;) {
        Slot *s = &t->s[j];

        if (s->count == 0) {
            break;
        }
        if (s->key == key) {
            s->count += n;
            return true;
        }
        j = (j + 1) & t->mask;
    }
    if ((t->used + 1) * 2 > t->mask + 1) {
        if (!table_grow(t)) {
            return false;
        }
        return table_add_n(t, key, n);
    }
    t->s[j].key = key;
    t->s[j].count = n;
    t->used++;
    return true;
}

/* Count one more @key. False when out of memory. */
static inline bool table_add(Table *t, uint64_t key)
{
    return table_add_n(t, key, 1);
}

/*
 * The @n slots with the highest counts into @top (sorted, highest first;
 * ties by lower key, or by @cmp_key when given). Returns how many.
 */
static size_t table_top(const Table *t, Slot *top, size_t n,
                        int (*cmp_key)(uint64_t, uint64_t))
{
    size_t k = 0;

    for (size_t i = 0; i <= t->mask; i++) {
        const Slot *s = &t->s[i];
        size_t j;

        if (s->count == 0) {
            continue;
        }
        for (j = k; j > 0; j--) {
            const Slot *p = &top[j - 1];
            int c = cmp_key ? cmp_key(s->key, p->key) :
                    (s->key < p->key ? -1 : s->key > p->key);

            if (p->count > s->count || (p->count == s->count && c > 0)) {
                break;
            }
        }
        if (j >= n) {
            continue;
        }
        if (k < n) {
            k++;
        }
        memmove(&top[j + 1], &top[j], (k - 1 - j) * sizeof(Slot));
        top[j] = *s;
    }
    return k;
}

static int cmp_insn_key(uint64_t a, uint64_t b)
{
    const ElInsnInfo *x = (const ElInsnInfo *)(uintptr_t)a;
    const ElInsnInfo *y = (const ElInsnInfo *)(uintptr_t)b;

    if (x->pc != y->pc) {
        return x->pc < y->pc ? -1 : 1;
    }
    return a < b ? -1 : a > b;
}

/* ---- Mnemonics --------------------------------------------------------- */

typedef struct Mnemonic {
    const char *name;
    size_t len;
    uint64_t count;
} Mnemonic;

static int cmp_mnemonic(const void *a, const void *b)
{
    const Mnemonic *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c;

    if (x->count != y->count) {
        return x->count > y->count ? -1 : 1;
    }
    c = memcmp(x->name, y->name, n);
    if (c) {
        return c;
    }
    return x->len < y->len ? -1 : x->len > y->len;
}

/* The first word of @d. */
static size_t mnemonic_len(const char *d, size_t len)
{
    size_t n = 0;

    while (n < len && d[n] != ' ' && d[n] != '\t') {
        n++;
    }
    return n;
}

/* Sum the instruction counts by mnemonic into a sorted array. */
static Mnemonic *mix(const Table *insns, size_t *n_out)
{
    size_t cap = 1024, mask, n = 0;
    Mnemonic *h = NULL, *out;

    for (;;) {
        bool full = false;

        free(h);
        h = calloc(cap, sizeof(Mnemonic));
        if (!h) {
            return NULL;
        }
        mask = cap - 1;
        n = 0;
        for (size_t i = 0; i <= insns->mask && !full; i++) {
            const ElInsnInfo *in;
            size_t len, j;
            uint64_t hv = 1469598103934665603ull;

            if (insns->s[i].count == 0) {
                continue;
            }
            in = (const ElInsnInfo *)(uintptr_t)insns->s[i].key;
            len = mnemonic_len(in->disas, in->disas_len);
            for (size_t k = 0; k < len; k++) {
                hv = (hv ^ (uint8_t)in->disas[k]) * 1099511628211ull;
            }
            for (j = hv & mask; h[j].name; j = (j + 1) & mask) {
                if (h[j].len == len && memcmp(h[j].name, in->disas, len) == 0) {
                    break;
                }
            }
            if (!h[j].name) {
                if ((n + 1) * 2 > cap) {
                    full = true;
                    break;
                }
                h[j].name = in->disas;
                h[j].len = len;
                n++;
            }
            h[j].count += insns->s[i].count;
        }
        if (!full) {
            break;
        }
        cap *= 4;
    }
    out = malloc((n ? n : 1) * sizeof(Mnemonic));
    if (!out) {
        free(h);
        return NULL;
    }
    n = 0;
    for (size_t j = 0; j <= mask; j++) {
        if (h[j].name) {
            out[n++] = h[j];
        }
    }
    free(h);
    qsort(out, n, sizeof(Mnemonic), cmp_mnemonic);
    *n_out = n;
    return out;
}

/* ---- Functions (--elf) ------------------------------------------------- */

/* Print the TOP_FUNCTIONS symbols with the most executed instructions. */
static bool hottest_functions(Symbols *syms, const Table *insns)
{
    Table by_sym;
    Slot top[TOP_FUNCTIONS];
    size_t k;

    if (!table_init(&by_sym, 1024)) {
        return false;
    }
    for (size_t i = 0; i <= insns->mask; i++) {
        const ElInsnInfo *in;
        SymHit hit;

        if (insns->s[i].count == 0) {
            continue;
        }
        in = (const ElInsnInfo *)(uintptr_t)insns->s[i].key;
        if (!sym_find_insn(syms, in, &hit)) {
            continue;
        }
        /* count it insns->s[i].count times: add once, then the rest */
        if (!table_add(&by_sym, hit.id)) {
            free(by_sym.s);
            return false;
        }
        for (size_t j = hash64(hit.id) & by_sym.mask;;
             j = (j + 1) & by_sym.mask) {
            if (by_sym.s[j].key == hit.id) {
                by_sym.s[j].count += insns->s[i].count - 1;
                break;
            }
        }
    }
    printf("hottest functions:\n");
    k = table_top(&by_sym, top, TOP_FUNCTIONS, NULL);
    for (size_t i = 0; i < k; i++) {
        printf("  %s %" PRIu64 "\n", sym_name(syms, (uint32_t)top[i].key),
               top[i].count);
    }
    free(by_sym.s);
    return true;
}

/* ---- Counting --------------------------------------------------------- */

typedef struct VcpuTotals {
    uint64_t insns, loads, stores, blocks;
} VcpuTotals;

/* What one thread counts (the sequential way: the one). */
typedef struct Counts {
    uint64_t *insn;         /* executions by static instruction number */
    size_t n_insns;
    const ElInsnInfo *base; /* el_trace_insn(t, 0) */
    Table addrs;            /* accesses by virtual address */
    VcpuTotals tot;         /* of the vCPU being counted */
    bool nomem;
    Progress *pg;           /* the sequential way: the progress bar */
    uint64_t pg_base;
} __attribute__((aligned(128))) Counts;    /* no false sharing */

static bool counts_init(Counts *k, const ElTrace *t)
{
    memset(k, 0, sizeof(*k));
    k->n_insns = (size_t)el_trace_summary(t)->n_insns_static;
    k->base = el_trace_insn(t, 0);
    k->insn = calloc(k->n_insns ? k->n_insns : 1, sizeof(*k->insn));
    return k->insn && table_init(&k->addrs, 1024);
}

static void counts_free(Counts *k)
{
    free(k->insn);
    free(k->addrs.s);
    k->insn = NULL;
    k->addrs.s = NULL;
}

/*
 * Count @c's instructions up to (not including) instruction @hi, into
 * @k. Returns el_cursor_next()'s last result: 1 when it gave instruction
 * @hi, 0 at the end, -1 on damage (@err); -2 when out of memory, -3 when
 * it gave an instruction past @hi.
 * Runs for every instruction: no allocation (but to grow a table).
 */
static int count_insns(Counts *k, ElCursor *c, uint64_t hi, ElError *err,
                       ParJob *job, size_t range, uint64_t *end_off)
{
    bool first_seen = job == NULL;
    VcpuTotals x = k->tot;
    uint64_t prev_block = UINT64_MAX;
    ElExec e;
    int r;

    for (;;) {
        const uint32_t *ids;
        uint64_t first, off;
        size_t n = el_cursor_next_plain(c, SIZE_MAX, &ids, &first, &off);

        if (n > 0) {
            /* a run of instructions without accesses (in one block) */
            if (!first_seen) {
                par_first(job, range, off);
                first_seen = true;
            }
            if (off != prev_block) {
                x.blocks++;
                prev_block = off;
            }
            x.insns += n;
            for (size_t j = 0; j < n; j++) {
                if (ids[j] < k->n_insns) {
                    k->insn[ids[j]]++;
                }
            }
            if (k->pg && ((x.insns - n) >> 16) != (x.insns >> 16)) {
                progress_update(k->pg, k->pg_base + el_cursor_progress(c));
            }
            continue;
        }
        if ((r = el_cursor_next(c, &e, err)) != 1 || e.index >= hi) {
            break;
        }
        if (!first_seen) {
            par_first(job, range, e.offset);
            first_seen = true;
        }
        size_t id = (size_t)(((uintptr_t)e.insn - (uintptr_t)k->base) /
                             sizeof(ElInsnInfo));

        x.insns++;
        if (e.offset != prev_block) {
            x.blocks++;
            prev_block = e.offset;
        }
        if (id < k->n_insns) {
            k->insn[id]++;
        }
        for (size_t i = 0; i < e.n_mem; i++) {
            if (e.mem[i].store) {
                x.stores++;
            } else {
                x.loads++;
            }
            if (!table_add(&k->addrs, e.mem[i].vaddr)) {
                k->tot = x;
                k->nomem = true;
                return -2;
            }
        }
        if (k->pg && (x.insns & 0xffff) == 0) {
            progress_update(k->pg, k->pg_base + el_cursor_progress(c));
        }
    }
    k->tot = x;
    if (r == 1 && e.index != hi) {
        return -3;          /* past @hi: not a range's end */
    }
    if (r == 1 && end_off) {
        *end_off = e.offset;
    }
    return r;
}

/* ---- On several threads (parallel.h) ------------------------------------ */

#define MAX_WORKERS 64

/* A worker's range (ParWorkFn), counted into its thread's Counts. */
static bool stats_range(ParJob *job, void *ctx, unsigned thread, size_t i,
                        const Range *rg, ElCursor *c, uint64_t *end_off)
{
    Counts *k = &((Counts *)ctx)[thread];
    ElError err;
    int r;

    r = count_insns(k, c, rg->hi, &err, job, i, end_off);
    return r == 1 ? rg->hi != UINT64_MAX : r == 0 && rg->hi == UINT64_MAX;
}

/*
 * Count every vCPU on @threads threads into @k[0] and @vt: true if that
 * could be done cleanly (a complete version-2 trace, no damage), false
 * to do it the sequential way (for the exact results and messages).
 */
static bool count_parallel(ElTrace *t, unsigned threads, Counts *k,
                           VcpuTotals *vt)
{
    const ElTraceSummary *sum = el_trace_summary(t);
    bool ok = true;

    if (threads < 2 || !sum->complete) {
        return false;
    }
    for (unsigned j = 1; j < threads; j++) {
        if (!counts_init(&k[j], t)) {
            for (unsigned q = 1; q < j; q++) {
                counts_free(&k[q]);
            }
            return false;
        }
    }
    for (uint32_t v = 0, kv = 0; v < sum->n_vcpus && ok; v++) {
        Range *rg;
        size_t n;
        uint64_t resume, insns, loads, stores;
        VcpuTotals *x;

        if (!el_trace_has_vcpu(t, v)) {
            continue;
        }
        x = &vt[kv++];
        n = par_split(t, v, 0, &rg);
        if (n == 0) {
            /* one range, from the start (a cursor of its own) */
            ElError err;
            ElCursor *c = el_cursor_new(t, v, &err);

            ok = c && count_insns(&k[0], c, UINT64_MAX, &err, NULL, 0, NULL) == 0;
            el_cursor_free(c);
        } else {
            ok = par_run(t, v, rg, n, threads, n, stats_range, k, NULL, NULL,
                         NULL, &resume) == (long)n;
            free(rg);
        }
        for (unsigned j = 0; j < threads; j++) {
            x->insns += k[j].tot.insns;
            x->loads += k[j].tot.loads;
            x->stores += k[j].tot.stores;
            x->blocks += k[j].tot.blocks;
            memset(&k[j].tot, 0, sizeof(k[j].tot));
        }
        /* what one cursor checks at the EXIT record, seeked ones not */
        if (ok && sum->state == EL_STATE_COMPLETE &&
            el_trace_exit_counts(t, v, &insns, &loads, &stores) &&
            (x->loads != loads || x->stores != stores)) {
            ok = false;
        }
    }
    /* the threads' counts into the first's */
    for (unsigned j = 1; j < threads; j++) {
        for (size_t i = 0; ok && i < k[0].n_insns; i++) {
            k[0].insn[i] += k[j].insn[i];
        }
        for (size_t i = 0; ok && i <= k[j].addrs.mask; i++) {
            const Slot *s = &k[j].addrs.s[i];

            if (s->count && !table_add_n(&k[0].addrs, s->key, s->count)) {
                ok = false;
            }
        }
        counts_free(&k[j]);
    }
    return ok;
}

int cmd_stats(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "elf", required_argument, NULL, 'e' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const ElTraceSummary *sum;
    const char *file;
    ElTrace *t;
    Table insns, addrs;
    VcpuTotals *vt, all = { 0 };
    ElError err, first_err = { .code = EL_OK };
    Progress pg;
    Slot top[TOP_INSNS > TOP_ADDRS ? TOP_INSNS : TOP_ADDRS];
    Mnemonic *mn;
    uint64_t base = 0;
    uint32_t n_vcpus = 0;
    size_t k, n_mn = 0;
    int opt, rc = EXIT_OK;
    bool nomem = false;
    char *elfs[SYM_MAX_FILES];
    size_t n_elf = 0;
    Symbols *syms = NULL;
    Counts *cn;
    unsigned threads;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'e':
            if (n_elf == SYM_MAX_FILES) {
                return cli_usage("stats", "--elf given more than %d times",
                                 SYM_MAX_FILES);
            }
            elfs[n_elf++] = optarg;
            break;
        case 'h':
            fputs(stats_usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage("stats", "unknown option '%s'",
                             argv[optind - 1]);
        }
    }
    if (n_elf && !(syms = sym_load("stats", elfs, n_elf))) {
        return EXIT_USAGE;
    }
    t = cli_open_arg("stats", argc, argv, optind, &file, &rc);
    if (!t) {
        sym_free(syms);
        return rc;
    }
    if (syms) {
        sym_bind(syms, t);
    }
    sum = el_trace_summary(t);
    /* one entry per vCPU with records (not per index up to the highest) */
    for (uint32_t v = 0; v < sum->n_vcpus; v++) {
        n_vcpus += el_trace_has_vcpu(t, v);
    }
    vt = calloc(n_vcpus ? n_vcpus : 1, sizeof(*vt));
    threads = par_threads();
    if (threads > MAX_WORKERS) {
        threads = MAX_WORKERS;
    }
    cn = aligned_alloc(128, threads * sizeof(*cn));
    if (!vt || !cn || !counts_init(&cn[0], t)) {
        cli_msg("out of memory");
        el_trace_close(t);
        return EXIT_IO;
    }
    progress_init(&pg, sum->file_size);

    if (!count_parallel(t, threads, cn, vt)) {
        /* the sequential way: one cursor per vCPU, from its start */
        memset(cn[0].insn, 0, cn[0].n_insns * sizeof(*cn[0].insn));
        memset(cn[0].addrs.s, 0, (cn[0].addrs.mask + 1) * sizeof(Slot));
        cn[0].addrs.used = 0;
        memset(&cn[0].tot, 0, sizeof(cn[0].tot));
        memset(vt, 0, (n_vcpus ? n_vcpus : 1) * sizeof(*vt));
        cn[0].pg = &pg;
        for (uint32_t v = 0, k = 0; v < sum->n_vcpus && !nomem; v++) {
            ElCursor *c;
            int r;

            if (!el_trace_has_vcpu(t, v)) {
                continue;
            }
            c = el_cursor_new(t, v, &err);
            if (!c) {
                first_err = err;
                break;
            }
            cn[0].pg_base = base;
            r = count_insns(&cn[0], c, UINT64_MAX, &err, NULL, 0, NULL);
            nomem = r == -2;
            if (r == -1 && first_err.code == EL_OK) {
                first_err = err;
            }
            base += el_cursor_progress(c);
            el_cursor_free(c);
            vt[k++] = cn[0].tot;
            memset(&cn[0].tot, 0, sizeof(cn[0].tot));
        }
    }
    progress_end(&pg);
    for (uint32_t k = 0; k < n_vcpus; k++) {
        all.insns += vt[k].insns;
        all.loads += vt[k].loads;
        all.stores += vt[k].stores;
        all.blocks += vt[k].blocks;
    }
    /* the instructions' counts as a table, for the tables below */
    nomem = nomem || !table_init(&insns, sum->n_insns_static);
    for (size_t i = 0; !nomem && i < cn[0].n_insns; i++) {
        if (cn[0].insn[i] &&
            !table_add_n(&insns, (uintptr_t)(cn[0].base + i), cn[0].insn[i])) {
            nomem = true;
        }
    }
    addrs = cn[0].addrs;
    free(cn[0].insn);
    free(cn);
    if (nomem) {
        cli_msg("out of memory");
        el_trace_close(t);
        return EXIT_IO;
    }

    printf("instructions: %" PRIu64 "\n", all.insns);
    printf("loads: %" PRIu64 "\n", all.loads);
    printf("stores: %" PRIu64 "\n", all.stores);
    printf("blocks: %" PRIu64 "\n", all.blocks);
    printf("vcpus: %" PRIu32 "\n", n_vcpus);
    for (uint32_t v = 0, k = 0; v < sum->n_vcpus; v++) {
        const VcpuTotals *x;

        if (!el_trace_has_vcpu(t, v)) {
            continue;
        }
        x = &vt[k++];
        printf("vcpu%" PRIu32 ".instructions: %" PRIu64 "\n", v, x->insns);
        printf("vcpu%" PRIu32 ".loads: %" PRIu64 "\n", v, x->loads);
        printf("vcpu%" PRIu32 ".stores: %" PRIu64 "\n", v, x->stores);
        printf("vcpu%" PRIu32 ".blocks: %" PRIu64 "\n", v, x->blocks);
    }
    printf("hottest instructions:\n");
    k = table_top(&insns, top, TOP_INSNS, cmp_insn_key);
    for (size_t i = 0; i < k; i++) {
        const ElInsnInfo *in = (const ElInsnInfo *)(uintptr_t)top[i].key;
        SymHit hit;

        if (syms && sym_find_insn(syms, in, &hit)) {
            printf("  0x%" PRIx64 " <%s+0x%" PRIx64 "> %" PRIu64 " \"%.*s\"\n",
                   in->pc, hit.name, hit.offset, top[i].count,
                   (int)in->disas_len, in->disas);
            continue;
        }
        printf("  0x%" PRIx64 " %" PRIu64 " \"%.*s\"\n", in->pc, top[i].count,
               (int)in->disas_len, in->disas);
    }
    printf("hottest memory addresses:\n");
    k = table_top(&addrs, top, TOP_ADDRS, NULL);
    for (size_t i = 0; i < k; i++) {
        printf("  0x%" PRIx64 " %" PRIu64 "\n", top[i].key, top[i].count);
    }
    printf("instruction mix:\n");
    mn = mix(&insns, &n_mn);
    for (size_t i = 0; mn && i < n_mn && i < TOP_MNEMONICS; i++) {
        printf("  %.*s %" PRIu64 "\n", (int)mn[i].len, mn[i].name,
               mn[i].count);
    }
    free(mn);
    if (syms && !hottest_functions(syms, &insns)) {
        nomem = true;
    }
    sym_free(syms);
    free(insns.s);
    free(addrs.s);
    free(vt);

    if (nomem) {
        cli_msg("out of memory");
        el_trace_close(t);
        return EXIT_IO;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_msg("cannot write the output");
        el_trace_close(t);
        return EXIT_IO;
    }
    if (first_err.code != EL_OK) {
        rc = cli_trace_error(file, &first_err);
    } else {
        rc = cli_trace_end(file, t);
    }
    el_trace_close(t);
    return rc;
}
