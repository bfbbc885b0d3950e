/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * execlog diff: where two traces of the same program part ways. Each vCPU
 * of trace A is walked beside the same vCPU of trace B, instruction by
 * instruction; the first instruction that differs (address, bytes,
 * accesses) is printed with a few lines of context from each side, in the
 * text format of `execlog dump`.
 *
 * The comparison loop formats nothing: text is made only for the context
 * lines, in a second pass over the few instructions around a difference.
 * Static instructions are numbered by each trace in its own order, so an
 * instruction's identity is its address and bytes, not its number; a
 * small table remembers which pair of instruction records last matched,
 * so that a loop's instructions are compared by pointer after the first
 * time.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

#define DEFAULT_CONTEXT 3
#define MAX_CONTEXT 100000

static const char diff_usage[] =
    "Usage: execlog diff [OPTIONS] A B\n"
    "Compare two traces, vCPU by vCPU, instruction by instruction: the\n"
    "address and bytes of each executed instruction and its memory accesses\n"
    "(address, size, load or store, sign extension, endianness; physical\n"
    "address and device in system mode); the accesses' values where both\n"
    "have them (values=on); the registers each instruction changed where\n"
    "both traces record registers (reg=; the registers both watch, by\n"
    "name). Static instruction numbers do not matter: each trace numbers\n"
    "its instructions in its own order.\n"
    "\n"
    "Options:\n"
    "  --context N   lines of context before and after a difference (3)\n"
    "  --vcpu LIST   only these vCPUs: N, N-M, separated by ','\n"
    "  --from N      start at instruction index N of each vCPU (0-based)\n"
    "  --limit N     compare at most N instructions of each vCPU\n"
    "  -h, --help    this text\n"
    "\n"
    "Output: for each vCPU that differs, one line\n"
    "  vCPU V, instruction I: WHAT DIFFERS\n"
    "then each side's lines around instruction I, as 'execlog dump' prints\n"
    "them, each after two characters: '* ' for instruction I, '  ' for\n"
    "context:\n"
    "  A FILE, vCPU V from instruction FIRST:\n"
    "  B FILE, vCPU V from instruction FIRST:\n"
    "A vCPU whose records end before the other's differs there (the side\n"
    "that ended shows '(end of vCPU V)'), unless its trace was cut off\n"
    "while recording: then what both have is compared, and a note on\n"
    "stderr says where the cut-off side ends. Without differences:\n"
    "  identical: N instructions\n"
    "(N: the instructions compared, over all vCPUs).\n"
    "\n"
    "Exit status: 0 identical, 1 different (or a usage error, or traces of\n"
    "different targets or modes), 2 a trace is damaged (the message names\n"
    "the offset), 3 I/O error.\n";

typedef struct Range {
    uint32_t lo, hi;        /* [lo, hi] */
} Range;

typedef struct DiffOpts {
    uint64_t context;
    uint64_t from;
    uint64_t limit;         /* UINT64_MAX: all */
    Range *vcpus;           /* NULL: every vCPU */
    size_t n_vcpus;
} DiffOpts;

typedef struct Side {
    const char *name;       /* "A" or "B" */
    const char *file;
    ElTrace *t;
} Side;

/*
 * Registers both traces record, by name: each side's register id to the
 * other side's (-1: the other does not record it). NULL maps: registers
 * are not compared.
 */
typedef struct RegMap {
    int32_t *a_to_b, *b_to_a;
    size_t n_a, n_b;
} RegMap;

/* ---- Comparing one instruction ----------------------------------------- */

/* Pairs of instruction records found equal, by A's record. */
#define MEMO_SIZE 4096

typedef struct Memo {
    const ElInsnInfo *a[MEMO_SIZE];
    const ElInsnInfo *b[MEMO_SIZE];
} Memo;

static inline size_t memo_slot(const ElInsnInfo *in)
{
    return (size_t)((uintptr_t)in / sizeof(ElInsnInfo)) & (MEMO_SIZE - 1);
}

static bool same_insn(const ElInsnInfo *a, const ElInsnInfo *b)
{
    return a->pc == b->pc && a->size == b->size &&
           memcmp(a->bytes, b->bytes, a->size) == 0;
}

static inline bool same_access(const ElMemAccess *a, const ElMemAccess *b)
{
    if (a->vaddr != b->vaddr || a->size_shift != b->size_shift ||
        a->store != b->store || a->big_endian != b->big_endian ||
        a->sign_extended != b->sign_extended || a->has_paddr != b->has_paddr) {
        return false;
    }
    if (a->has_value && b->has_value &&
        memcmp(a->value, b->value, (size_t)1 << a->size_shift) != 0) {
        return false;
    }
    if (a->has_paddr && (a->paddr != b->paddr ||
                         (a->device != b->device &&
                          strcmp(a->device, b->device) != 0))) {
        return false;
    }
    return true;
}

/* @r (of the side whose ids @map maps) in @regs, @n of the other side. */
static const ElRegWrite *other_reg(const ElRegWrite *r, const int32_t *map,
                                   const ElRegWrite *regs, size_t n,
                                   size_t n_ids)
{
    int32_t want = r->id < n_ids ? map[r->id] : -1;

    for (size_t i = 0; want >= 0 && i < n; i++) {
        if ((int32_t)regs[i].id == want) {
            return &regs[i];
        }
    }
    return NULL;
}

/* Is @r (of A) or its counterpart a register both record? */
static bool shared_reg(const ElRegWrite *r, const int32_t *map, size_t n_ids)
{
    return r->id < n_ids && map[r->id] >= 0;
}

/*
 * The registers both record changed alike. Sets *@which to the first
 * that did not (from A's list or, if it is only in B's, B's), or NULL.
 */
static bool same_regs(const RegMap *rm, const ElExec *a, const ElExec *b,
                      const ElRegWrite **which)
{
    *which = NULL;
    for (size_t i = 0; i < a->n_regs; i++) {
        const ElRegWrite *x = &a->regs[i], *y;

        if (!shared_reg(x, rm->a_to_b, rm->n_a)) {
            continue;
        }
        y = other_reg(x, rm->a_to_b, b->regs, b->n_regs, rm->n_a);
        if (!y || y->size != x->size ||
            memcmp(x->bytes, y->bytes, x->size) != 0) {
            *which = x;
            return false;
        }
    }
    for (size_t i = 0; i < b->n_regs; i++) {
        const ElRegWrite *y = &b->regs[i];

        if (shared_reg(y, rm->b_to_a, rm->n_b) &&
            !other_reg(y, rm->b_to_a, a->regs, a->n_regs, rm->n_b)) {
            *which = y;
            return false;
        }
    }
    return true;
}

/* Runs for every instruction: no allocation, no printf. */
static inline bool same_exec(Memo *m, const RegMap *rm, const ElExec *a,
                             const ElExec *b)
{
    size_t s = memo_slot(a->insn);

    if (m->a[s] != a->insn || m->b[s] != b->insn) {
        if (!same_insn(a->insn, b->insn)) {
            return false;
        }
        m->a[s] = a->insn;
        m->b[s] = b->insn;
    }
    if (a->n_mem != b->n_mem) {
        return false;
    }
    for (size_t i = 0; i < a->n_mem; i++) {
        if (!same_access(&a->mem[i], &b->mem[i])) {
            return false;
        }
    }
    if (rm->a_to_b && (a->n_regs || b->n_regs)) {
        const ElRegWrite *which;

        return same_regs(rm, a, b, &which);
    }
    return true;
}

/* "0x" and the value of @len bytes at @le (least significant first). */
static void hex_value(char *buf, size_t cap, const uint8_t *le, size_t len)
{
    size_t n = 0;

    if (cap < 2 * len + 3) {
        snprintf(buf, cap, "?");
        return;
    }
    buf[n++] = '0';
    buf[n++] = 'x';
    for (size_t i = len; i-- > 0;) {
        n += (size_t)snprintf(buf + n, cap - n, "%02x", le[i]);
    }
    buf[n] = '\0';
}

/* What differs between @a and @b, in words (slow path: once per vCPU). */
static void explain(const RegMap *rm, const ElExec *a, const ElExec *b,
                    char *buf, size_t len)
{
    const ElInsnInfo *x = a->insn, *y = b->insn;
    const ElRegWrite *which;
    char va[40], vb[40];

    if (x->pc != y->pc) {
        snprintf(buf, len, "address 0x%" PRIx64 " in A, 0x%" PRIx64 " in B",
                 x->pc, y->pc);
        return;
    }
    if (x->size != y->size || memcmp(x->bytes, y->bytes, x->size) != 0) {
        snprintf(buf, len, "the instruction's bytes differ (at 0x%" PRIx64
                 ")", x->pc);
        return;
    }
    if (a->n_mem != b->n_mem) {
        snprintf(buf, len, "%zu memory accesses in A, %zu in B", a->n_mem,
                 b->n_mem);
        return;
    }
    for (size_t i = 0; i < a->n_mem; i++) {
        const ElMemAccess *p = &a->mem[i], *q = &b->mem[i];

        if (same_access(p, q)) {
            continue;
        }
        if (p->store != q->store) {
            snprintf(buf, len, "access %zu is a %s in A, a %s in B", i,
                     p->store ? "store" : "load", q->store ? "store" : "load");
        } else if (p->vaddr != q->vaddr) {
            snprintf(buf, len, "access %zu: address 0x%" PRIx64 " in A, 0x%"
                     PRIx64 " in B", i, p->vaddr, q->vaddr);
        } else if (p->size_shift != q->size_shift) {
            snprintf(buf, len, "access %zu: %u bytes in A, %u in B", i,
                     1u << p->size_shift, 1u << q->size_shift);
        } else if (p->has_paddr && q->has_paddr && p->paddr != q->paddr) {
            snprintf(buf, len, "access %zu: physical address 0x%" PRIx64
                     " in A, 0x%" PRIx64 " in B", i, p->paddr, q->paddr);
        } else if (p->has_paddr && q->has_paddr && p->paddr == q->paddr &&
                   strcmp(p->device, q->device) != 0) {
            snprintf(buf, len, "access %zu: device %s in A, %s in B", i,
                     p->device, q->device);
        } else if (p->has_value && q->has_value &&
                   memcmp(p->value, q->value, (size_t)1 << p->size_shift)) {
            hex_value(va, sizeof(va), p->value, (size_t)1 << p->size_shift);
            hex_value(vb, sizeof(vb), q->value, (size_t)1 << q->size_shift);
            snprintf(buf, len, "access %zu: value %s in A, %s in B", i, va,
                     vb);
        } else {
            snprintf(buf, len, "access %zu: its flags (sign extension, "
                     "endianness, physical address) differ", i);
        }
        return;
    }
    if (rm->a_to_b && !same_regs(rm, a, b, &which) && which) {
        bool in_a = which >= a->regs && which < a->regs + a->n_regs;
        const ElRegWrite *other = in_a ?
            other_reg(which, rm->a_to_b, b->regs, b->n_regs, rm->n_a) : NULL;

        hex_value(va, sizeof(va), which->bytes, which->size);
        if (other) {
            hex_value(vb, sizeof(vb), other->bytes, other->size);
            snprintf(buf, len, "register %s: %s in A, %s in B", which->name,
                     va, vb);
        } else {
            snprintf(buf, len, "register %s changes (to %s) in %s only",
                     which->name, va, in_a ? "A" : "B");
        }
        return;
    }
    snprintf(buf, len, "they differ");
}

/* ---- Context ------------------------------------------------------------ */

/*
 * Move @c on so that the next el_cursor_next() returns instruction @index
 * (or ends): through the chunk index, not instruction by instruction.
 * 0, or -1 with @err.
 */
static int cursor_skip(ElCursor *c, uint64_t index, ElError *err)
{
    return index ? el_cursor_seek(c, index, err) : 0;
}

/*
 * Print @s's lines of vCPU @vcpu from @first to @last (inclusive, as far
 * as they exist), marking instruction @mark. Returns 0, -1 with @err
 * (damage), -2 (output).
 */
static int print_side(const Side *s, uint32_t vcpu, uint64_t first,
                      uint64_t last, uint64_t mark, OutBuf *o, ElError *err)
{
    ElCursor *c = el_cursor_new(s->t, vcpu, err);
    ElExec e;
    int r = 0;
    bool ended = false;

    if (!c) {
        return -1;
    }
    out_flush(o);
    printf("%s %s, vCPU %" PRIu32 " from instruction %" PRIu64 ":\n",
           s->name, s->file, vcpu, first);
    fflush(stdout);
    if (cursor_skip(c, first, err) < 0) {
        el_cursor_free(c);
        return -1;
    }
    for (uint64_t i = first; i <= last; i++) {
        r = el_cursor_next(c, &e, err);
        if (r < 0) {
            el_cursor_free(c);
            return -1;
        }
        if (r == 0) {
            ended = true;
            break;
        }
        if (!out_room(o, 2)) {
            el_cursor_free(c);
            return -2;
        }
        if (e.index == mark) {
            OUT_LIT(o, "* ");
        } else {
            OUT_LIT(o, "  ");
        }
        if (!dump_text_line(o, s->t, &e)) {
            el_cursor_free(c);
            return -2;
        }
    }
    el_cursor_free(c);
    if (ended) {
        if (!out_room(o, 64)) {
            return -2;
        }
        OUT_LIT(o, "  (end of vCPU ");
        out_u64(o, vcpu);
        OUT_LIT(o, ")\n");
    }
    out_flush(o);
    return 0;
}

/* ---- One vCPU ------------------------------------------------------------ */

typedef struct Outcome {
    uint64_t compared;      /* instructions compared, over all vCPUs */
    bool differ;
    bool cut;               /* a comparison stopped where a cut-off ended */
    bool err_a;             /* first_err is from A (else B) */
    ElError first_err;      /* code EL_OK if none */
} Outcome;

/* Did @s's vCPU @vcpu end because the recording was cut off? */
static bool vcpu_cut(const Side *s, uint32_t vcpu)
{
    uint64_t x;

    return !el_trace_summary(s->t)->complete &&
           !el_trace_exit_counts(s->t, vcpu, &x, &x, &x);
}

/* Are @x's accesses the first of @y's? */
static bool accesses_prefix(const ElExec *x, const ElExec *y)
{
    if (x->n_mem > y->n_mem || !same_insn(x->insn, y->insn)) {
        return false;
    }
    for (size_t i = 0; i < x->n_mem; i++) {
        if (!same_access(&x->mem[i], &y->mem[i])) {
            return false;
        }
    }
    return true;
}

/*
 * @ea and @eb differ. If that is because one of them is the last
 * instruction of a vCPU whose recording was cut off, which had not made
 * all its accesses yet (the same instruction, with the first of the
 * other's accesses), that is where the comparison ends: 1 (and a note on
 * stderr). 0 if it is a difference; -1 (damage in A) or -2 (in B) with
 * @err.
 */
static int cut_short(const Side *a, ElCursor *ca, const ElExec *ea,
                     const Side *b, ElCursor *cb, const ElExec *eb,
                     uint32_t vcpu, ElError *err)
{
    const Side *s = NULL;
    ElCursor *c = NULL;
    uint64_t index = ea->index;
    ElExec next;
    int r;

    if (vcpu_cut(a, vcpu) && accesses_prefix(ea, eb)) {
        s = a;
        c = ca;
    } else if (vcpu_cut(b, vcpu) && accesses_prefix(eb, ea)) {
        s = b;
        c = cb;
    } else {
        return 0;
    }
    /* only its last instruction can be short (the cursor is used up) */
    r = el_cursor_next(c, &next, err);
    if (r < 0) {
        return s == a ? -1 : -2;
    }
    if (r > 0) {
        return 0;
    }
    cli_msg("%s: vCPU %" PRIu32 "'s records end at instruction %" PRIu64
            " (the trace was cut off; its last, %" PRIu64 ", had not made "
            "all its accesses yet); compared up to there", s->file, vcpu,
            index + 1, index);
    return 1;
}

static bool report(const Side *a, const Side *b, uint32_t vcpu,
                   uint64_t index, const char *what, const DiffOpts *d,
                   OutBuf *o, Outcome *res)
{
    uint64_t first = index > d->context ? index - d->context : 0;
    uint64_t last = index + d->context;
    ElError err;
    int r;

    printf("vCPU %" PRIu32 ", instruction %" PRIu64 ": %s\n", vcpu, index,
           what);
    fflush(stdout);
    res->differ = true;
    r = print_side(a, vcpu, first, last, index, o, &err);
    if (r == 0) {
        r = print_side(b, vcpu, first, last, index, o, &err);
        if (r == -1 && res->first_err.code == EL_OK) {
            res->first_err = err;
            res->err_a = false;
        }
    } else if (r == -1 && res->first_err.code == EL_OK) {
        res->first_err = err;
        res->err_a = true;
    }
    return r != -2;
}

/*
 * Compare vCPU @vcpu of the two traces. False when the output failed;
 * damage goes into res->first_err.
 */
static bool diff_vcpu(const Side *a, const Side *b, uint32_t vcpu,
                      const DiffOpts *d, Memo *memo, const RegMap *rm,
                      OutBuf *o, Outcome *res)
{
    ElCursor *ca, *cb;
    ElExec ea, eb;
    ElError err;
    uint64_t n = 0, index = d->from;
    int ra = 0, rb = 0;
    char what[256];
    bool ok = true;

    ca = el_cursor_new(a->t, vcpu, &err);
    if (!ca) {
        res->first_err = err;
        res->err_a = true;
        return true;
    }
    cb = el_cursor_new(b->t, vcpu, &err);
    if (!cb) {
        el_cursor_free(ca);
        res->first_err = err;
        res->err_a = false;
        return true;
    }
    if (cursor_skip(ca, d->from, &err) < 0) {
        res->first_err = err;
        res->err_a = true;
        goto out;
    }
    if (cursor_skip(cb, d->from, &err) < 0) {
        res->first_err = err;
        res->err_a = false;
        goto out;
    }
    /* Runs for every instruction: no allocation, no printf. */
    while (n < d->limit) {
        ra = el_cursor_next(ca, &ea, &err);
        if (ra < 0) {
            res->first_err = err;
            res->err_a = true;
            goto out;
        }
        rb = el_cursor_next(cb, &eb, &err);
        if (rb < 0) {
            res->first_err = err;
            res->err_a = false;
            goto out;
        }
        if (ra == 0 || rb == 0) {
            break;
        }
        if (__builtin_expect(!same_exec(memo, rm, &ea, &eb), 0)) {
            int cut;

            /* before cut_short(), which may move a cursor on */
            explain(rm, &ea, &eb, what, sizeof(what));
            index = ea.index;
            cut = cut_short(a, ca, &ea, b, cb, &eb, vcpu, &err);

            if (cut < 0) {
                res->first_err = err;
                res->err_a = cut == -1;
                goto out;
            }
            if (cut) {
                res->compared += n + 1;
                res->cut = true;
                goto out;
            }
            res->compared += n;
            ok = report(a, b, vcpu, index, what, d, o, res);
            goto out;
        }
        n++;
    }
    res->compared += n;
    index = d->from + n;
    if (n < d->limit && (ra == 0) != (rb == 0)) {
        /* one side ended */
        const Side *ended = ra == 0 ? a : b, *other = ra == 0 ? b : a;

        if (vcpu_cut(ended, vcpu)) {
            cli_msg("%s: vCPU %" PRIu32 "'s records end at instruction %"
                    PRIu64 " (the trace was cut off); compared up to there",
                    ended->file, vcpu, index);
            res->cut = true;
        } else {
            snprintf(what, sizeof(what), "%s ends here, %s goes on",
                     ended->name, other->name);
            ok = report(a, b, vcpu, index, what, d, o, res);
        }
    } else if (n < d->limit && ra == 0 && (vcpu_cut(a, vcpu) ||
                                           vcpu_cut(b, vcpu))) {
        res->cut = true;
    }
out:
    el_cursor_free(ca);
    el_cursor_free(cb);
    return ok;
}

/* ---- The command ------------------------------------------------------- */

/* "0,2-3" into @d->vcpus. */
static bool parse_vcpus(const char *s, DiffOpts *d)
{
    const char *p = s;

    free(d->vcpus);
    d->vcpus = NULL;
    d->n_vcpus = 0;
    while (*p) {
        char buf[32];
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char *dash;
        uint64_t lo, hi;
        Range *nr;

        if (len == 0 || len >= sizeof(buf)) {
            return false;
        }
        memcpy(buf, p, len);
        buf[len] = '\0';
        dash = strchr(buf, '-');
        if (dash) {
            *dash = '\0';
            if (!cli_parse_u64(buf, &lo) || !cli_parse_u64(dash + 1, &hi) ||
                lo > hi) {
                return false;
            }
        } else if (!cli_parse_u64(buf, &lo)) {
            return false;
        } else {
            hi = lo;
        }
        if (hi >= EL_STATIC_VCPU) {
            return false;
        }
        nr = realloc(d->vcpus, (d->n_vcpus + 1) * sizeof(*nr));
        if (!nr) {
            return false;
        }
        d->vcpus = nr;
        d->vcpus[d->n_vcpus].lo = (uint32_t)lo;
        d->vcpus[d->n_vcpus].hi = (uint32_t)hi;
        d->n_vcpus++;
        p += len;
        if (*p == ',') {
            p++;
            if (!*p) {
                return false;
            }
        }
    }
    return d->n_vcpus > 0;
}

static bool vcpu_wanted(const DiffOpts *d, uint32_t v)
{
    if (!d->vcpus) {
        return true;
    }
    for (size_t i = 0; i < d->n_vcpus; i++) {
        if (v >= d->vcpus[i].lo && v <= d->vcpus[i].hi) {
            return true;
        }
    }
    return false;
}

/* One side's ids to the other's, by name (case-insensitive). */
static bool map_side(const ElTrace *from, const ElTrace *to, int32_t **out,
                     size_t *n_out)
{
    size_t n = el_trace_n_regs(from), m = el_trace_n_regs(to);
    int32_t *map = malloc((n ? n : 1) * sizeof(*map));

    if (!map) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const ElRegWrite *r = el_trace_reg(from, i);

        map[i] = -1;
        for (size_t j = 0; r && j < m; j++) {
            const ElRegWrite *q = el_trace_reg(to, j);

            if (q && strcasecmp(r->name, q->name) == 0) {
                map[i] = (int32_t)j;
                break;
            }
        }
    }
    *out = map;
    *n_out = n;
    return true;
}

/* Registers are compared if both traces record some. False: no memory. */
static bool reg_map(RegMap *rm, const ElTrace *a, const ElTrace *b)
{
    if (el_trace_n_regs(a) == 0 || el_trace_n_regs(b) == 0) {
        return true;
    }
    return map_side(a, b, &rm->a_to_b, &rm->n_a) &&
           map_side(b, a, &rm->b_to_a, &rm->n_b);
}

/* The traces' targets and modes agree (as far as they say). */
static bool same_kind(Side *a, Side *b)
{
    static const char *const keys[] = { "target", "mode" };

    for (size_t i = 0; i < 2; i++) {
        char va[128];
        const char *v = el_trace_meta(a->t, keys[i]);

        if (!v) {
            continue;
        }
        snprintf(va, sizeof(va), "%s", v);
        v = el_trace_meta(b->t, keys[i]);
        if (v && strcmp(va, v) != 0) {
            cli_msg("%s and %s are traces of different %ss (%s, %s): "
                    "nothing to compare", a->file, b->file, keys[i], va, v);
            return false;
        }
    }
    return true;
}

int cmd_diff(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "context", required_argument, NULL, 'C' },
        { "vcpu", required_argument, NULL, 'v' },
        { "from", required_argument, NULL, 'F' },
        { "limit", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    DiffOpts d = { .context = DEFAULT_CONTEXT, .limit = UINT64_MAX };
    Side a = { .name = "A" }, b = { .name = "B" };
    Outcome res = { 0 };
    ElError err;
    Memo *memo = NULL;
    RegMap rm = { 0 };
    OutBuf o = { 0 };
    uint32_t n_vcpus;
    int opt, rc = EXIT_OK;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'C':
            if (!cli_parse_u64(optarg, &d.context) ||
                d.context > MAX_CONTEXT) {
                free(d.vcpus);
                return cli_usage("diff", "--context '%s' is not a number "
                                 "up to %d", optarg, MAX_CONTEXT);
            }
            break;
        case 'v':
            if (!parse_vcpus(optarg, &d)) {
                free(d.vcpus);
                return cli_usage("diff", "--vcpu '%s' is not a list of vCPU "
                                 "indices (N or N-M, separated by ',')",
                                 optarg);
            }
            break;
        case 'F':
            if (!cli_parse_u64(optarg, &d.from)) {
                free(d.vcpus);
                return cli_usage("diff", "--from '%s' is not a number",
                                 optarg);
            }
            break;
        case 'n':
            if (!cli_parse_u64(optarg, &d.limit)) {
                free(d.vcpus);
                return cli_usage("diff", "--limit '%s' is not a number",
                                 optarg);
            }
            break;
        case 'h':
            free(d.vcpus);
            fputs(diff_usage, stdout);
            return EXIT_OK;
        case ':':
            free(d.vcpus);
            return cli_usage("diff", "option '%s' needs a value",
                             argv[optind - 1]);
        default:
            free(d.vcpus);
            return cli_usage("diff", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2) {
        free(d.vcpus);
        return cli_usage("diff", argc - optind < 2 ? "two traces needed, A "
                         "and B" : "two traces only, A and B");
    }
    a.file = argv[optind];
    b.file = argv[optind + 1];
    a.t = el_trace_open(a.file, &err);
    if (!a.t) {
        free(d.vcpus);
        return cli_trace_error(a.file, &err);
    }
    b.t = el_trace_open(b.file, &err);
    if (!b.t) {
        rc = cli_trace_error(b.file, &err);
        goto done;
    }
    if (!same_kind(&a, &b)) {
        rc = EXIT_USAGE;
        goto done;
    }
    memo = calloc(1, sizeof(*memo));
    if (!memo || !reg_map(&rm, a.t, b.t) ||
        !out_init(&o, STDOUT_FILENO, 1u << 16)) {
        cli_msg("out of memory");
        rc = EXIT_IO;
        goto done;
    }
    n_vcpus = el_trace_summary(a.t)->n_vcpus;
    if (el_trace_summary(b.t)->n_vcpus > n_vcpus) {
        n_vcpus = el_trace_summary(b.t)->n_vcpus;
    }
    for (size_t i = 0; i < d.n_vcpus; i++) {
        for (uint32_t v = d.vcpus[i].lo; v <= d.vcpus[i].hi; v++) {
            if (!el_trace_has_vcpu(a.t, v) && !el_trace_has_vcpu(b.t, v)) {
                cli_usage("diff", "neither trace has vCPU %" PRIu32, v);
                rc = EXIT_USAGE;
                goto done;
            }
        }
    }
    for (uint32_t v = 0; v < n_vcpus; v++) {
        bool ha = el_trace_has_vcpu(a.t, v), hb = el_trace_has_vcpu(b.t, v);

        if (!vcpu_wanted(&d, v) || (!ha && !hb)) {
            continue;
        }
        if (ha != hb) {
            printf("vCPU %" PRIu32 ": only in %s (%s)\n", v, ha ? "A" : "B",
                   ha ? a.file : b.file);
            res.differ = true;
            continue;
        }
        if (!diff_vcpu(&a, &b, v, &d, memo, &rm, &o, &res)) {
            o.error = o.error ? o.error : 12 /* ENOMEM */;
            break;
        }
        if (res.first_err.code != EL_OK) {
            break;
        }
    }
    if (!res.differ && res.first_err.code == EL_OK && !o.error) {
        printf("identical: %" PRIu64 " instructions%s\n", res.compared,
               res.cut ? " (up to where a cut-off trace ends)" : "");
    }
    if (fflush(stdout) != 0 && !o.error) {
        o.error = 5 /* EIO */;
    }
    rc = out_close(&o);
    if (rc != EXIT_OK) {
        goto done;
    }
    if (res.first_err.code != EL_OK) {
        rc = cli_trace_error(res.err_a ? a.file : b.file, &res.first_err);
        goto done;
    }
    /* notes for cut-off traces; damage found at their ends */
    rc = cli_trace_end(a.file, a.t);
    if (cli_trace_end(b.file, b.t) != EXIT_OK) {
        rc = EXIT_DAMAGED;
    }
    if (rc == EXIT_OK && res.differ) {
        rc = 1;
    }
done:
    if (o.buf) {
        free(o.buf);
    }
    free(memo);
    free(rm.a_to_b);
    free(rm.b_to_a);
    free(d.vcpus);
    if (a.t) {
        el_trace_close(a.t);
    }
    if (b.t) {
        el_trace_close(b.t);
    }
    return rc;
}
