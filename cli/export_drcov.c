/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * execlog export --drcov: the executed basic blocks as a drcov file, the
 * coverage format of DynamoRIO's drcov tool that Lighthouse (IDA, Binary
 * Ninja) and lightkeeper load. What is written, in this order:
 *
 *   DRCOV VERSION: 2\n
 *   DRCOV FLAVOR: drcov\n
 *   Module Table: version 4, count N\n
 *   Columns: id, containing_id, start, end, entry, offset, path\n
 *   N lines "ID, ID, 0xSTART, 0xEND, 0x0, 0xOFFSET, PATH\n" (hex, 16 digits)
 *   BB Table: M bbs\n
 *   M entries of 8 bytes, little-endian: u32 start (the block's address
 *   less its module's start), u16 size (bytes), u16 module id
 *
 * A block is one of our TBs as it executed (its BLOCK records): the
 * instructions that started, which lie end to end from its first; size is
 * their bytes. Each distinct (address, size) is written once, in order of
 * module and address. Modules: in user mode the files the trace recorded
 * the guest mapping (its MODULE records), in system mode those given with
 * --module, or else one covering the executed range. --module replaces the
 * recorded ones in user mode too.
 *
 * Limits of the format, never crossed silently: a block's start is 32 bits
 * from its module's start, so a block 4 GiB or more into its module cannot
 * be written; nor can a block outside every module. Both are left out and
 * counted in a message on stderr (exit status 0: the file is still right
 * for what it holds). Module ids are 16 bits: at most 65535 modules.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char drcov_usage[] =
    "Usage: execlog export --drcov [OPTIONS] TRACE\n"
    "Write the executed basic blocks as a drcov file (version 2, module table\n"
    "version 4), which Lighthouse and lightkeeper load.\n"
    "\n"
    "  -o, --output FILE         write to FILE (default: standard output)\n"
    "  --module NAME=START-END   a module: NAME (a path; its file name is what\n"
    "                            Lighthouse matches) at [START, END), hex;\n"
    "                            repeatable. System mode: without it, one\n"
    "                            module 'system' covers the executed range;\n"
    "                            user mode: replaces the recorded file\n"
    "                            mappings\n"
    "  --vcpu N                  only vCPU N (default: all)\n"
    "  --from N                  from instruction index N of each vCPU\n"
    "\n"
    "A block 4 GiB or more into its module, or outside every module, cannot\n"
    "be written in drcov: such blocks are left out, and a message says how\n"
    "many.\n";

#define MAX_MODULES 65535u

typedef struct Mod {
    char *path;                 /* owned */
    uint64_t start, end, offset;
} Mod;

typedef struct Bb {
    uint64_t pc;
    uint32_t size;
    uint32_t mod;               /* after assign_modules */
} Bb;

/* A set of distinct (pc, size): open addressing, size 0 is a free slot. */
typedef struct BbSet {
    Bb *slots;
    size_t cap, n;
} BbSet;

static uint64_t bb_hash(uint64_t pc, uint32_t size)
{
    uint64_t h = (pc ^ ((uint64_t)size << 48)) * 0x9e3779b97f4a7c15ull;

    return h ^ (h >> 29);
}

static bool bbset_grow(BbSet *s)
{
    size_t cap = s->cap ? s->cap * 2 : 4096;
    Bb *n = calloc(cap, sizeof(*n));

    if (!n) {
        return false;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (s->slots[i].size) {
            size_t j = bb_hash(s->slots[i].pc, s->slots[i].size) & (cap - 1);

            while (n[j].size) {
                j = (j + 1) & (cap - 1);
            }
            n[j] = s->slots[i];
        }
    }
    free(s->slots);
    s->slots = n;
    s->cap = cap;
    return true;
}

static bool bbset_add(BbSet *s, uint64_t pc, uint64_t size)
{
    size_t j;

    if (size == 0) {
        return true;
    }
    if ((s->n + 1) * 2 > s->cap && !bbset_grow(s)) {
        return false;
    }
    for (j = bb_hash(pc, (uint32_t)size) & (s->cap - 1); s->slots[j].size;
         j = (j + 1) & (s->cap - 1)) {
        if (s->slots[j].pc == pc && s->slots[j].size == size) {
            return true;
        }
    }
    s->slots[j].pc = pc;
    s->slots[j].size = (uint32_t)size;
    s->n++;
    return true;
}

/* "NAME=START-END" (hex, 0x optional, START < END). */
static bool parse_module(const char *arg, Mod *m)
{
    const char *eq = strrchr(arg, '=');
    const char *dash;
    char *end;

    if (!eq || eq == arg || !(dash = strchr(eq + 1, '-'))) {
        return false;
    }
    m->start = strtoull(eq + 1, &end, 16);
    if (end != dash || dash == eq + 1) {
        return false;
    }
    m->end = strtoull(dash + 1, &end, 16);
    if (*end || dash[1] == '\0' || m->end <= m->start) {
        return false;
    }
    m->offset = 0;
    m->path = strndup(arg, (size_t)(eq - arg));
    return m->path != NULL;
}

static int cmp_mod(const void *a, const void *b)
{
    const Mod *x = a, *y = b;

    return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_bb(const void *a, const void *b)
{
    const Bb *x = a, *y = b;

    if (x->mod != y->mod) {
        return x->mod < y->mod ? -1 : 1;
    }
    if (x->pc != y->pc) {
        return x->pc < y->pc ? -1 : 1;
    }
    return x->size < y->size ? -1 : x->size > y->size;
}

/*
 * The blocks vCPU @vcpu executed (from instruction @from on) into @set.
 * Returns 0, -1 with @err (damage), -2 out of memory.
 */
static int collect(ElTrace *t, uint32_t vcpu, uint64_t from, BbSet *set,
                   ElError *err)
{
    ElCursor *c = el_cursor_new(t, vcpu, err);
    ElExec e;
    uint64_t cur_off = UINT64_MAX, start = 0, end = 0;
    int r;

    if (!c) {
        return err->code == EL_ERR_NOMEM ? -2 : -1;
    }
    if (from > 0 && el_cursor_seek(c, from, err) < 0) {
        el_cursor_free(c);
        return -1;
    }
    while ((r = el_cursor_next(c, &e, err)) == 1) {
        /* the same BLOCK record, the next instruction in line: one block */
        if (e.offset == cur_off && e.insn->pc == end) {
            end += e.insn->size;
            continue;
        }
        if (end > start && !bbset_add(set, start, end - start)) {
            el_cursor_free(c);
            return -2;
        }
        cur_off = e.offset;
        start = e.insn->pc;
        end = start + e.insn->size;
    }
    el_cursor_free(c);
    if (end > start && !bbset_add(set, start, end - start)) {
        return -2;
    }
    return r < 0 ? -1 : 0;
}

/* The module holding @pc (modules sorted, not overlapping), or -1. */
static long find_mod(const Mod *mods, size_t n, uint64_t pc)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (mods[mid].end <= pc) {
            lo = mid + 1;
        } else if (mods[mid].start > pc) {
            hi = mid;
        } else {
            return (long)mid;
        }
    }
    return -1;
}

static bool write_all(FILE *f, const void *p, size_t n)
{
    return fwrite(p, 1, n, f) == n;
}

int cmd_export_drcov(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "module", required_argument, NULL, 'm' },
        { "vcpu", required_argument, NULL, 'v' },
        { "from", required_argument, NULL, 'F' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *file, *out_path = NULL;
    Mod *mods = NULL;
    size_t n_mods = 0, kept = 0;
    uint64_t from = 0, v64, outside = 0, far = 0, big = 0;
    bool one_vcpu = false, given = false;
    uint32_t vcpu = 0;
    BbSet set = { 0 };
    Bb *bbs = NULL;
    ElTrace *t = NULL;
    ElError err;
    FILE *f = NULL;
    int opt, rc = EXIT_OK;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'o':
            out_path = optarg;
            break;
        case 'm': {
            Mod m;
            Mod *nm;

            if (!parse_module(optarg, &m)) {
                rc = cli_usage("export", "--module '%s' is not NAME=START-END "
                               "(hex addresses, START < END)", optarg);
                goto out;
            }
            if (n_mods >= MAX_MODULES ||
                !(nm = realloc(mods, (n_mods + 1) * sizeof(*mods)))) {
                free(m.path);
                rc = cli_usage("export", "too many modules (drcov numbers "
                               "them in 16 bits)");
                goto out;
            }
            mods = nm;
            mods[n_mods++] = m;
            given = true;
            break;
        }
        case 'v':
            if (!cli_parse_u64(optarg, &v64) || v64 >= EL_STATIC_VCPU) {
                rc = cli_usage("export", "--vcpu '%s' is not a vCPU index",
                               optarg);
                goto out;
            }
            one_vcpu = true;
            vcpu = (uint32_t)v64;
            break;
        case 'F':
            if (!cli_parse_u64(optarg, &from)) {
                rc = cli_usage("export", "--from '%s' is not a number",
                               optarg);
                goto out;
            }
            break;
        case 'h':
            fputs(drcov_usage, stdout);
            goto out;
        case ':':
            rc = cli_usage("export", "option '%s' needs a value",
                           argv[optind - 1]);
            goto out;
        default:
            rc = cli_usage("export", "unknown option '%s'",
                           argv[optind - 1]);
            goto out;
        }
    }
    t = cli_open_arg("export", argc, argv, optind, &file, &rc);
    if (!t) {
        goto out;
    }
    if (one_vcpu && !el_trace_has_vcpu(t, vcpu)) {
        rc = cli_usage("export", "%s has no vCPU %" PRIu32, file, vcpu);
        goto out;
    }
    if (!given) {
        size_t n = el_trace_n_modules(t);

        mods = calloc(n ? n : 1, sizeof(*mods));
        if (!mods) {
            goto nomem;
        }
        for (size_t i = 0; i < n && n_mods < MAX_MODULES; i++) {
            const ElModule *m = el_trace_module(t, i);

            mods[n_mods].path = strdup(m->path);
            if (!mods[n_mods].path) {
                goto nomem;
            }
            mods[n_mods].start = m->start;
            mods[n_mods].end = m->end;
            mods[n_mods].offset = m->offset;
            n_mods++;
        }
    }

    /* the blocks */
    for (uint32_t v = 0; v < el_trace_summary(t)->n_vcpus; v++) {
        int r;

        if ((one_vcpu && v != vcpu) || !el_trace_has_vcpu(t, v)) {
            continue;
        }
        r = collect(t, v, from, &set, &err);
        if (r == -2) {
            goto nomem;
        }
        if (r == -1) {
            rc = cli_trace_error(file, &err);
            goto out;
        }
    }
    rc = cli_trace_end(file, t);
    if (rc != EXIT_OK) {
        goto out;
    }
    bbs = malloc((set.n ? set.n : 1) * sizeof(*bbs));
    if (!bbs) {
        goto nomem;
    }
    for (size_t i = 0, k = 0; i < set.cap; i++) {
        if (set.slots[i].size) {
            bbs[k++] = set.slots[i];
        }
    }
    if (n_mods == 0 && set.n > 0 &&
        (el_trace_summary(t)->flags & EL_FLAG_SYSTEM)) {
        /* one module over what executed, from its page */
        uint64_t lo = UINT64_MAX, hi = 0;

        for (size_t i = 0; i < set.n; i++) {
            lo = bbs[i].pc < lo ? bbs[i].pc : lo;
            hi = bbs[i].pc + bbs[i].size > hi ? bbs[i].pc + bbs[i].size : hi;
        }
        free(mods);     /* the empty table of the trace's modules */
        mods = calloc(1, sizeof(*mods));
        if (!mods || !(mods[0].path = strdup("system"))) {
            goto nomem;
        }
        mods[0].start = lo & ~(uint64_t)0xfff;
        mods[0].end = hi;
        n_mods = 1;
    }
    qsort(mods, n_mods, sizeof(*mods), cmp_mod);
    for (size_t i = 1; i < n_mods; i++) {
        if (mods[i].start < mods[i - 1].end) {
            rc = cli_usage("export", "modules %s and %s overlap",
                           mods[i - 1].path, mods[i].path);
            goto out;
        }
    }
    for (size_t i = 0; i < set.n; i++) {
        long m = find_mod(mods, n_mods, bbs[i].pc);

        if (m < 0) {
            outside++;
        } else if (bbs[i].pc - mods[m].start > UINT32_MAX) {
            far++;
        } else if (bbs[i].size > UINT16_MAX) {
            big++;
        } else {
            bbs[i].mod = (uint32_t)m;
            bbs[kept++] = bbs[i];
        }
    }
    qsort(bbs, kept, sizeof(*bbs), cmp_bb);

    /* the file */
    f = out_path ? fopen(out_path, "wb") : stdout;
    if (!f) {
        cli_msg("%s: cannot create: %s", out_path, strerror(errno));
        rc = EXIT_IO;
        goto out;
    }
    fprintf(f, "DRCOV VERSION: 2\nDRCOV FLAVOR: drcov\n"
            "Module Table: version 4, count %zu\n"
            "Columns: id, containing_id, start, end, entry, offset, path\n",
            n_mods);
    for (size_t i = 0; i < n_mods; i++) {
        fprintf(f, "%zu, %zu, 0x%016" PRIx64 ", 0x%016" PRIx64 ", "
                "0x0000000000000000, 0x%016" PRIx64 ", %s\n", i, i,
                mods[i].start, mods[i].end, mods[i].offset, mods[i].path);
    }
    fprintf(f, "BB Table: %zu bbs\n", kept);
    for (size_t i = 0; i < kept; i++) {
        uint8_t e[8];

        el_put_u32(e, (uint32_t)(bbs[i].pc - mods[bbs[i].mod].start));
        el_put_u16(e + 4, (uint16_t)bbs[i].size);
        el_put_u16(e + 6, (uint16_t)bbs[i].mod);
        if (!write_all(f, e, sizeof(e))) {
            break;
        }
    }
    if (fflush(f) != 0 || ferror(f)) {
        cli_msg("%s: cannot write: %s", out_path ? out_path : "the output",
                strerror(errno));
        rc = EXIT_IO;
        goto out;
    }
    if (outside || far || big) {
        cli_msg("%s: %" PRIu64 " of %zu blocks left out of the drcov file: %"
                PRIu64 " outside every module, %" PRIu64 " 4 GiB or more "
                "into their module (drcov offsets are 32 bits), %" PRIu64
                " of more than 65535 bytes", file, outside + far + big, set.n,
                outside, far, big);
    }
    goto out;

nomem:
    cli_msg("out of memory");
    rc = EXIT_IO;
out:
    if (f && f != stdout && fclose(f) != 0 && rc == EXIT_OK) {
        cli_msg("%s: cannot write: %s", out_path, strerror(errno));
        rc = EXIT_IO;
    }
    for (size_t i = 0; i < n_mods; i++) {
        free(mods[i].path);
    }
    free(mods);
    free(set.slots);
    free(bbs);
    el_trace_close(t);
    return rc;
}
