/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * execlog export --tenet: a trace as Tenet's text trace, for its trace
 * explorer. Tenet reads x86-64 (AMD64) and i386 (x86) traces of one
 * thread: a line per executed instruction, comma-separated entries
 *
 *   REG=0xVALUE   a general-purpose register that changed (every one of
 *                 them on the first line)
 *   rip=0xPC      (eip on i386) the instruction's address, on every line
 *   mr=0xADDR:HEX / mw=0xADDR:HEX
 *                 memory read / written, its bytes in memory order
 *
 * A line is the state delta since the previous one, as Tenet's own
 * tracers write it: the line of instruction I has the registers as they
 * are when I starts (what I - 1 changed) and the memory that I - 1 read
 * and wrote; so the last instruction's own effects are on no line.
 * Registers come from reg=* (format=bin, plugin API 4), memory contents
 * from values=on.
 *
 * Formatted by hand into a large buffer: no printf per line.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

static const char tenet_usage[] =
    "Usage: execlog export --tenet [OPTIONS] TRACE\n"
    "Write the trace as a Tenet trace (a text file for the Tenet trace\n"
    "explorer): one line per instruction the vCPU executed, entries\n"
    "separated by ',':\n"
    "  REG=0xVALUE      each general-purpose register that changed since\n"
    "                   the previous line (on the first line: all of them)\n"
    "  rip=0xPC         the instruction's address (eip on i386)\n"
    "  mr=0xADDR:BYTES  memory the previous instruction read, its bytes in\n"
    "  mw=0xADDR:BYTES  memory order, 2 hex digits each (mw: written)\n"
    "Each line is the change since the line before, as Tenet's tracers write\n"
    "it: the registers when the instruction starts, and what the previous\n"
    "instruction did to memory (the last instruction's effects are on no\n"
    "line).\n"
    "Needs an x86_64 or i386 trace recorded with reg=* and values=on (the\n"
    "plugin API 4 build, format=bin). Tenet reads one thread: one vCPU is\n"
    "written, the first unless --vcpu says otherwise (its initial registers\n"
    "are the trace's).\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE  write to FILE instead of standard output\n"
    "  --vcpu N           the vCPU to write (default: the first)\n"
    "  -h, --help         this text\n";

/* Tenet's architectures: its register names, in its order */
static const char *const amd64_regs[] = {
    "rax", "rbx", "rcx", "rdx", "rbp", "rsp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};
static const char *const x86_regs[] = {
    "eax", "ebx", "ecx", "edx", "ebp", "esp", "esi", "edi",
};

typedef struct TenetArch {
    const char *target;     /* the trace's target= */
    const char *pc;
    const char *const *regs;
    size_t n_regs;
    uint32_t size;          /* bytes of each register */
} TenetArch;

static const TenetArch arches[] = {
    { "x86_64", "rip", amd64_regs, 16, 8 },
    { "i386", "eip", x86_regs, 8, 4 },
};

#define MAX_TENET_REGS 16

/* What the previous instruction did, held for the next line. */
typedef struct Pending {
    uint64_t value[MAX_TENET_REGS];
    bool changed[MAX_TENET_REGS];
    struct PendingMem {
        uint64_t addr;
        uint8_t bytes[16];  /* in memory order */
        uint8_t len;
        bool store;
    } *mem;
    size_t n_mem, cap_mem;
} Pending;

/* A register's value (bytes least significant first; x86 is). */
static uint64_t reg_value(const uint8_t *b, uint32_t size)
{
    uint64_t v = 0;

    for (uint32_t i = 0; i < size && i < 8; i++) {
        v |= (uint64_t)b[i] << (8 * i);
    }
    return v;
}

/* Does the trace's options= line have @opt (a whole option)? */
static bool has_option(ElTrace *t, const char *opt)
{
    const char *o = el_trace_meta(t, "options");
    size_t n = strlen(opt);

    while (o && *o) {
        const char *end = strchr(o, ',');
        size_t len = end ? (size_t)(end - o) : strlen(o);

        if (len == n && memcmp(o, opt, n) == 0) {
            return true;
        }
        o += len + (end != NULL);
    }
    return false;
}

/* Keep @e's effects for the next line. False when out of memory. */
static bool hold(Pending *p, const ElExec *e, const int *slot, size_t n_ids,
                 uint32_t size)
{
    memset(p->changed, 0, sizeof(p->changed));
    for (size_t i = 0; i < e->n_regs; i++) {
        const ElRegWrite *r = &e->regs[i];
        int s = r->id < n_ids ? slot[r->id] : -1;

        if (s >= 0 && r->size == size) {
            p->value[s] = reg_value(r->bytes, r->size);
            p->changed[s] = true;
        }
    }
    if (e->n_mem > p->cap_mem) {
        size_t cap = e->n_mem * 2;
        struct PendingMem *m = realloc(p->mem, cap * sizeof(*m));

        if (!m) {
            return false;
        }
        p->mem = m;
        p->cap_mem = cap;
    }
    p->n_mem = e->n_mem;
    for (size_t i = 0; i < e->n_mem; i++) {
        const ElMemAccess *a = &e->mem[i];
        struct PendingMem *m = &p->mem[i];
        size_t len = (size_t)1 << a->size_shift;

        m->addr = a->vaddr;
        m->len = (uint8_t)len;
        m->store = a->store;
        for (size_t k = 0; k < len; k++) {
            /* the value is least significant byte first */
            m->bytes[k] = a->value[a->big_endian ? len - 1 - k : k];
        }
    }
    return true;
}

/* One line: the pending deltas and @pc. Runs for every instruction. */
static bool tenet_line(OutBuf *o, const TenetArch *ar, const Pending *p,
                       uint64_t pc)
{
    size_t need = ar->n_regs * (8 + 16) + 8 + 16 + 2;

    for (size_t i = 0; i < p->n_mem; i++) {
        need += 8 + 16 + 2 * p->mem[i].len;
    }
    if (!out_room(o, need)) {
        return false;
    }
    for (size_t s = 0; s < ar->n_regs; s++) {
        if (!p->changed[s]) {
            continue;
        }
        out_mem(o, ar->regs[s], strlen(ar->regs[s]));
        OUT_LIT(o, "=0x");
        out_hex(o, p->value[s], 1);
        out_ch(o, ',');
    }
    out_mem(o, ar->pc, strlen(ar->pc));
    OUT_LIT(o, "=0x");
    out_hex(o, pc, 1);
    for (size_t i = 0; i < p->n_mem; i++) {
        const struct PendingMem *m = &p->mem[i];

        if (m->store) {
            OUT_LIT(o, ",mw=0x");
        } else {
            OUT_LIT(o, ",mr=0x");
        }
        out_hex(o, m->addr, 1);
        out_ch(o, ':');
        for (size_t k = 0; k < m->len; k++) {
            out_hex(o, m->bytes[k], 2);
        }
    }
    out_ch(o, '\n');
    return true;
}

/*
 * The slots of Tenet's registers by the trace's register ids, and the
 * initial values into @p. False after a message (the trace lacks one).
 */
static bool map_regs(ElTrace *t, const char *file, const TenetArch *ar,
                     int *slot, Pending *p)
{
    size_t n = el_trace_n_regs(t);

    for (size_t i = 0; i < n; i++) {
        slot[i] = -1;
    }
    for (size_t s = 0; s < ar->n_regs; s++) {
        const ElRegWrite *r = NULL;

        for (size_t i = 0; i < n; i++) {
            const ElRegWrite *q = el_trace_reg(t, i);

            if (q && strcasecmp(q->name, ar->regs[s]) == 0) {
                r = q;
                slot[i] = (int)s;
                break;
            }
        }
        if (!r) {
            cli_msg("%s: the trace has no register %s: Tenet needs every "
                    "general-purpose register (record with reg=*, format=bin, "
                    "the plugin API 4 build)", file, ar->regs[s]);
            return false;
        }
        if (r->size != ar->size || !r->bytes) {
            cli_msg("%s: register %s has %s in the trace: Tenet needs its "
                    "%" PRIu32 "-byte initial value", file, ar->regs[s],
                    r->bytes ? "another size" : "no initial value",
                    ar->size);
            return false;
        }
        p->value[s] = reg_value(r->bytes, r->size);
        p->changed[s] = true;
    }
    return true;
}

/* Write vCPU @vcpu. 0, or -1 with @err (damage), -2 (output/memory),
 * -3 (an access without a value: said so). */
static int write_vcpu(ElTrace *t, const char *file, uint32_t vcpu,
                      const TenetArch *ar, const int *slot, Pending *p,
                      OutBuf *o, ElError *err)
{
    ElCursor *c = el_cursor_new(t, vcpu, err);
    size_t n_ids = el_trace_n_regs(t);
    ElExec e;
    int r;

    if (!c) {
        return -1;
    }
    while ((r = el_cursor_next(c, &e, err)) == 1) {
        for (size_t i = 0; i < e.n_mem; i++) {
            if (!e.mem[i].has_value) {
                cli_msg("%s: instruction %" PRIu64 " of vCPU %" PRIu32
                        " has an access without its value: Tenet needs "
                        "values (record with values=on)", file, e.index,
                        vcpu);
                el_cursor_free(c);
                return -3;
            }
        }
        if (!tenet_line(o, ar, p, e.insn->pc) ||
            !hold(p, &e, slot, n_ids, ar->size)) {
            el_cursor_free(c);
            return -2;
        }
    }
    el_cursor_free(c);
    return r < 0 ? -1 : 0;
}

int export_tenet(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "tenet", no_argument, NULL, 'T' },
        { "output", required_argument, NULL, 'o' },
        { "vcpu", required_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *file, *out = NULL, *target;
    const TenetArch *ar = NULL;
    ElTrace *t;
    ElError err;
    OutBuf o = { 0 };
    Pending p = { 0 };
    int *slot = NULL;
    uint64_t v64;
    uint32_t vcpu = 0, first = UINT32_MAX, n_vcpus = 0;
    bool have_vcpu = false;
    int opt, rc = EXIT_OK, fd = STDOUT_FILENO, r;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'T':
            break;
        case 'o':
            out = optarg;
            break;
        case 'v':
            if (!cli_parse_u64(optarg, &v64) || v64 >= EL_STATIC_VCPU) {
                return cli_usage("export", "--vcpu '%s' is not a vCPU index",
                                 optarg);
            }
            vcpu = (uint32_t)v64;
            have_vcpu = true;
            break;
        case 'h':
            fputs(tenet_usage, stdout);
            return EXIT_OK;
        case ':':
            return cli_usage("export", "option '%s' needs a value",
                             argv[optind - 1]);
        default:
            return cli_usage("export", "unknown option '%s'",
                             argv[optind - 1]);
        }
    }
    t = cli_open_arg("export", argc, argv, optind, &file, &rc);
    if (!t) {
        return rc;
    }
    target = el_trace_meta(t, "target");
    for (size_t i = 0; target && i < sizeof(arches) / sizeof(arches[0]);
         i++) {
        if (strcmp(target, arches[i].target) == 0) {
            ar = &arches[i];
        }
    }
    if (!ar) {
        cli_msg("%s: a trace of %s: Tenet reads x86_64 and i386 traces only",
                file, target ? target : "an unknown target");
        rc = EXIT_USAGE;
        goto done;
    }
    if (el_trace_n_regs(t) == 0) {
        cli_msg("%s: the trace has no registers: Tenet needs them (record "
                "with reg=*, format=bin, the plugin API 4 build)", file);
        rc = EXIT_USAGE;
        goto done;
    }
    if (!has_option(t, "values=on")) {
        cli_msg("%s: the trace has no memory values: Tenet needs them "
                "(record with values=on)", file);
        rc = EXIT_USAGE;
        goto done;
    }
    for (uint32_t v = 0; v < el_trace_summary(t)->n_vcpus; v++) {
        if (el_trace_has_vcpu(t, v)) {
            first = first == UINT32_MAX ? v : first;
            n_vcpus++;
        }
    }
    if (!have_vcpu) {
        vcpu = first;
        if (n_vcpus > 1) {
            cli_msg("%s: %" PRIu32 " vCPUs; a Tenet trace is one: writing "
                    "vCPU %" PRIu32 " (--vcpu N for another)", file, n_vcpus,
                    vcpu);
        }
    }
    if (n_vcpus == 0) {
        /* damage that took every vCPU's records says so here */
        rc = cli_trace_end(file, t);
        if (rc == EXIT_OK) {
            cli_msg("%s: no vCPU has records: nothing to export", file);
            rc = EXIT_USAGE;
        }
        goto done;
    }
    if (!el_trace_has_vcpu(t, vcpu)) {
        rc = cli_usage("export", "%s has no vCPU %" PRIu32, file, vcpu);
        goto done;
    }
    if (vcpu != first) {
        cli_msg("%s: the trace has the initial registers of vCPU %" PRIu32
                " only, and Tenet's first line needs them all", file, first);
        rc = EXIT_USAGE;
        goto done;
    }
    slot = calloc(el_trace_n_regs(t), sizeof(*slot));
    if (!slot) {
        cli_msg("out of memory");
        rc = EXIT_IO;
        goto done;
    }
    if (!map_regs(t, file, ar, slot, &p)) {
        rc = EXIT_USAGE;
        goto done;
    }
    if (out) {
        fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            cli_msg("%s: cannot open: %s", out, strerror(errno));
            rc = EXIT_IO;
            goto done;
        }
    }
    if (!out_init(&o, fd, 1u << 20)) {
        cli_msg("out of memory");
        rc = EXIT_IO;
        goto done;
    }
    r = write_vcpu(t, file, vcpu, ar, slot, &p, &o, &err);
    if (r == -2 && !o.error) {
        o.error = ENOMEM;
    }
    rc = out_close(&o);
    if (rc == EXIT_OK) {
        if (r == -1) {
            rc = cli_trace_error(file, &err);
        } else if (r == -3) {
            rc = EXIT_USAGE;
        } else {
            rc = cli_trace_end(file, t);
        }
    }
done:
    if (fd != STDOUT_FILENO && fd >= 0 && close(fd) != 0 && rc == EXIT_OK) {
        cli_msg("%s: cannot write: %s", out, strerror(errno));
        rc = EXIT_IO;
    }
    free(o.buf);
    free(p.mem);
    free(slot);
    el_trace_close(t);
    return rc;
}
