/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The plugin's options: one table of keys, each checked the same way
 * (API, value present, given twice, length, control bytes), then by its own
 * parser; then the checks that need several options. Every refusal is one
 * printable line: values are shown escaped and cut to SHOW_MAX bytes.
 */
#include "options.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KNOWN_KEYS "ifilter, afilter, reg, rdisas, outfile, format, " \
                   "compress, values, bytes, start, stop, skip, limit, vcpu"

/* How many bytes of a value a message shows. */
#define SHOW_MAX 40
/* Room for SHOW_MAX bytes each escaped as \xNN, "..." and the NUL. */
#define SHOW_BUF (SHOW_MAX * 4 + 4)

/* Longest ifilter/reg: disassembly and register names are far shorter. */
#define MAX_PATTERN 256
/* Longest outfile: Linux's PATH_MAX, NUL included. */
#define MAX_PATH 4095
/* Longest address: "0x" and 64 hexadecimal digits. */
#define MAX_HEX 66
/* Longest afilter: an address range, START-END. */
#define MAX_RANGE (2 * MAX_HEX + 1)
/* Longest skip=/limit=: 20 digits hold 64 bits; leading zeros allowed. */
#define MAX_DEC 66
/* Highest vCPU index vcpu= takes (the plugin follows 65536 vCPUs). */
#define MAX_VCPU 65535u

typedef struct Parser {
    ElOptions *o;
    char *err;
    size_t errlen;
} Parser;

typedef struct KeyDesc KeyDesc;
struct KeyDesc {
    const char *name;
    bool repeatable;
    int min_api;            /* the plugin API the option needs */
    size_t max_len;
    /* Returns 0, or -1 with the message written by fail(). */
    int (*parse)(Parser *p, const KeyDesc *k, const char *val);
};

static int fail(Parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(Parser *p, const char *fmt, ...)
{
    va_list ap;

    if (p->errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(p->err, p->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/*
 * @s as a message shows it: printable ASCII as is, any other byte as \xNN,
 * at most SHOW_MAX bytes of @s and then "...".
 */
static const char *show(const char *s, char buf[SHOW_BUF])
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0, i;

    for (i = 0; s[i] && i < SHOW_MAX; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x20 && c < 0x7f) {
            buf[n++] = (char)c;
        } else {
            buf[n++] = '\\';
            buf[n++] = 'x';
            buf[n++] = hex[c >> 4];
            buf[n++] = hex[c & 15];
        }
    }
    if (s[i]) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

static bool push_str(char ***arr, size_t *n, const char *s)
{
    char **grown = realloc(*arr, (*n + 1) * sizeof(**arr));
    char *copy;

    if (!grown) {
        return false;
    }
    *arr = grown;
    copy = strdup(s);
    if (!copy) {
        return false;
    }
    grown[(*n)++] = copy;
    return true;
}

static bool push_u64(uint64_t **arr, size_t *n, uint64_t v)
{
    uint64_t *grown = realloc(*arr, (*n + 1) * sizeof(**arr));

    if (!grown) {
        return false;
    }
    *arr = grown;
    grown[(*n)++] = v;
    return true;
}

/* The same words as QEMU's qemu_plugin_bool_parse(), lower case only. */
bool el_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "on", "yes", "true", "y" };
    static const char *const no[] = { "off", "no", "false", "n" };

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

typedef enum HexResult {
    HEX_OK,
    HEX_NO_DIGITS,          /* "" or "0x" */
    HEX_BAD_CHAR,           /* at *bad */
    HEX_OVERFLOW,
} HexResult;

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static HexResult parse_hex(const char *s, uint64_t *out, size_t *bad)
{
    const char *start = s;
    uint64_t v = 0;
    bool overflow = false;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
    }
    if (*s == '\0') {
        return HEX_NO_DIGITS;
    }
    for (; *s; s++) {
        int d = hex_digit(*s);

        if (d < 0) {
            *bad = (size_t)(s - start);
            return HEX_BAD_CHAR;
        }
        if (v >> 60) {
            overflow = true;
        }
        v = (v << 4) | (uint64_t)d;
    }
    if (overflow) {
        return HEX_OVERFLOW;
    }
    *out = v;
    return HEX_OK;
}

bool el_parse_hex(const char *s, uint64_t *out)
{
    size_t bad;

    return parse_hex(s, out, &bad) == HEX_OK;
}

bool el_glob_match(const char *p, const char *s)
{
    const char *star = NULL, *resume = NULL;

    while (*s) {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p && (*p == '?' || *p == *s)) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*') {
        p++;
    }
    return *p == '\0';
}

bool el_match_ifilter(const ElOptions *o, const char *disas)
{
    for (size_t i = 0; i < o->n_ifilters; i++) {
        size_t n = strlen(o->ifilters[i]);
        if (strncmp(disas, o->ifilters[i], n) == 0) {
            return true;
        }
    }
    return false;
}

bool el_match_afilter(const ElOptions *o, uint64_t vaddr)
{
    for (size_t i = 0; i < o->n_afilters; i++) {
        if (o->afilters[i] == vaddr) {
            return true;
        }
    }
    for (size_t i = 0; i < o->n_aranges; i++) {
        if (vaddr >= o->aranges[i].lo && vaddr < o->aranges[i].end) {
            return true;
        }
    }
    return false;
}

bool el_match_vcpu(const ElOptions *o, unsigned index)
{
    if (o->n_vcpus == 0) {
        return true;
    }
    for (size_t i = 0; i < o->n_vcpus; i++) {
        if (index >= o->vcpus[i].lo && index <= o->vcpus[i].hi) {
            return true;
        }
    }
    return false;
}

/* ---- one parser per key ------------------------------------------------ */

static int parse_ifilter(Parser *p, const KeyDesc *k, const char *val)
{
    char b[SHOW_BUF];

    /* QEMU's disassembly is printable ASCII and starts with a mnemonic. */
    for (size_t i = 0; val[i]; i++) {
        unsigned char c = (unsigned char)val[i];

        if (c >= 0x80) {
            return fail(p, "%s '%s' has a non-ASCII byte (0x%02x at offset "
                        "%zu); disassembly is ASCII", k->name, show(val, b),
                        c, i);
        }
    }
    if (val[0] == ' ') {
        return fail(p, "%s '%s' starts with a space; no disassembly does",
                    k->name, show(val, b));
    }
    if (!push_str(&p->o->ifilters, &p->o->n_ifilters, val)) {
        return fail(p, "out of memory");
    }
    return 0;
}

/*
 * Parse @s, a hexadecimal address that is @val (@part NULL) or a part of it
 * (@part names the part in the message, e.g. "end").
 */
static int get_hex(Parser *p, const KeyDesc *k, const char *val,
                   const char *s, const char *part, uint64_t *out)
{
    char b[SHOW_BUF], b2[SHOW_BUF];
    const char *hint = "";
    size_t bad = 0;
    char what[SHOW_BUF * 2 + 64];

    if (part) {
        snprintf(what, sizeof(what), "%s '%s': its %s '%s'", k->name,
                 show(val, b), part, show(s, b2));
    } else {
        snprintf(what, sizeof(what), "%s '%s'", k->name, show(val, b));
    }
    switch (parse_hex(s, out, &bad)) {
    case HEX_OK:
        return 0;
    case HEX_OVERFLOW:
        return fail(p, "%s does not fit in 64 bits", what);
    case HEX_NO_DIGITS:
        hint = " (no digits)";
        /* fall through */
    case HEX_BAD_CHAR:
        if (s[bad] == '-' || s[bad] == '+') {
            hint = " (no sign allowed)";
        } else if (s[bad] == ' ' || s[bad] == '\t') {
            hint = " (no spaces allowed)";
        } else if (bad > 0 && hex_digit(s[bad - 1]) >= 0) {
            hint = " (junk after the digits)";
        }
        break;
    }
    return fail(p, "%s is not a hexadecimal address%s", what, hint);
}

/*
 * afilter=ADDR, or afilter=START-END (end exclusive): a '-' after a valid
 * START makes a range; anything else is read as one address, so that "-1"
 * and "0x-1" keep their message (a sign).
 */
static int parse_afilter(Parser *p, const KeyDesc *k, const char *val)
{
    char b[SHOW_BUF];
    const char *dash = strchr(val, '-');
    uint64_t v = 0;

    if (dash && dash > val && (size_t)(dash - val) <= MAX_HEX) {
        char lo_s[MAX_HEX + 1];
        size_t bad;
        uint64_t lo, end;

        memcpy(lo_s, val, (size_t)(dash - val));
        lo_s[dash - val] = '\0';
        if (parse_hex(lo_s, &lo, &bad) == HEX_OK) {
            if (get_hex(p, k, val, dash + 1, "end", &end) != 0) {
                return -1;
            }
            if (end <= lo) {
                return fail(p, "%s '%s' is an empty range (its end, "
                            "exclusive, must be above its start)", k->name,
                            show(val, b));
            }
            ElRange *grown = realloc(p->o->aranges, (p->o->n_aranges + 1) *
                                     sizeof(*grown));
            if (!grown) {
                return fail(p, "out of memory");
            }
            p->o->aranges = grown;
            grown[p->o->n_aranges].lo = lo;
            grown[p->o->n_aranges].end = end;
            p->o->n_aranges++;
            return 0;
        }
    }
    if (get_hex(p, k, val, val, NULL, &v) != 0) {
        return -1;
    }
    if (!push_u64(&p->o->afilters, &p->o->n_afilters, v)) {
        return fail(p, "out of memory");
    }
    return 0;
}

/* start=ADDR, stop=ADDR: the instruction at a virtual address. */
static int parse_trigger(Parser *p, const KeyDesc *k, const char *val)
{
    bool start = strcmp(k->name, "start") == 0;
    uint64_t v;

    if (get_hex(p, k, val, val, NULL, &v) != 0) {
        return -1;
    }
    if (start) {
        p->o->start = v;
        p->o->has_start = true;
    } else {
        p->o->stop = v;
        p->o->has_stop = true;
    }
    return 0;
}

/* A decimal number of 64 bits at most: digits only. */
static bool get_dec(const char *s, uint64_t *out, bool *overflow)
{
    uint64_t v = 0;

    *overflow = false;
    if (*s == '\0') {
        return false;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) {
            *overflow = true;
        }
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return !*overflow;
}

/* skip=N, limit=N: instructions. */
static int parse_count(Parser *p, const KeyDesc *k, const char *val)
{
    char b[SHOW_BUF];
    bool overflow;
    uint64_t v;

    if (!get_dec(val, &v, &overflow)) {
        if (overflow) {
            return fail(p, "%s '%s' does not fit in 64 bits", k->name,
                        show(val, b));
        }
        return fail(p, "%s '%s' is not a number of instructions (decimal "
                    "digits only)", k->name, show(val, b));
    }
    if (strcmp(k->name, "limit") == 0) {
        if (v == 0) {
            return fail(p, "limit=0 would log nothing (limit=N logs N "
                        "instructions at most, N >= 1)");
        }
        p->o->limit = v;
    } else {
        p->o->skip = v;
    }
    return 0;
}

/* One vCPU index of vcpu=LIST: decimal, at most MAX_VCPU. */
static int get_vcpu(Parser *p, const KeyDesc *k, const char *val,
                    const char *s, size_t len, uint32_t *out)
{
    char b[SHOW_BUF], item[MAX_DEC + 1];
    bool overflow;
    uint64_t v;

    if (len == 0 || len > MAX_DEC) {
        return fail(p, "%s '%s' is not a list of vCPU indexes (N or N-M, "
                    "separated by ',,' on QEMU's command line)", k->name,
                    show(val, b));
    }
    memcpy(item, s, len);
    item[len] = '\0';
    if (!get_dec(item, &v, &overflow)) {
        return fail(p, "%s '%s' is not a list of vCPU indexes (N or N-M, "
                    "separated by ',,' on QEMU's command line)", k->name,
                    show(val, b));
    }
    if (v > MAX_VCPU) {
        return fail(p, "%s '%s': vCPU %s is above %u", k->name, show(val, b),
                    item, MAX_VCPU);
    }
    *out = (uint32_t)v;
    return 0;
}

/*
 * vcpu=LIST: N or N-M (both included), separated by ',' (which QEMU's
 * command line spells ",,"); repeatable, the lists add up.
 */
static int parse_vcpu(Parser *p, const KeyDesc *k, const char *val)
{
    char b[SHOW_BUF];
    const char *s = val;

    for (;;) {
        size_t len = strcspn(s, ",");
        const char *dash = memchr(s, '-', len);
        ElVcpuRange r;
        ElVcpuRange *grown;

        if (dash) {
            if (get_vcpu(p, k, val, s, (size_t)(dash - s), &r.lo) != 0 ||
                get_vcpu(p, k, val, dash + 1,
                         len - (size_t)(dash - s) - 1, &r.hi) != 0) {
                return -1;
            }
            if (r.hi < r.lo) {
                return fail(p, "%s '%s' has an empty range (%u-%u)",
                            k->name, show(val, b), r.lo, r.hi);
            }
        } else {
            if (get_vcpu(p, k, val, s, len, &r.lo) != 0) {
                return -1;
            }
            r.hi = r.lo;
        }
        grown = realloc(p->o->vcpus, (p->o->n_vcpus + 1) * sizeof(*grown));
        if (!grown) {
            return fail(p, "out of memory");
        }
        p->o->vcpus = grown;
        grown[p->o->n_vcpus++] = r;
        if (s[len] == '\0') {
            return 0;
        }
        s += len + 1;
    }
}

static int parse_reg(Parser *p, const KeyDesc *k, const char *val)
{
    char b[SHOW_BUF];

    /* QEMU's register names: letters, digits and '_' (aarch64, x86, ...). */
    for (size_t i = 0; val[i]; i++) {
        unsigned char c = (unsigned char)val[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '*' || c == '?')) {
            return fail(p, "%s '%s' cannot match a register name (byte 0x%02x "
                        "at offset %zu: names are letters, digits and '_', "
                        "wildcards '*' and '?')", k->name, show(val, b), c, i);
        }
    }
    for (size_t i = 0; i < p->o->n_regs; i++) {
        if (strcmp(p->o->regs[i], val) == 0) {
            return fail(p, "%s '%s' given twice (its registers would be "
                        "printed twice)", k->name, show(val, b));
        }
    }
    if (!push_str(&p->o->regs, &p->o->n_regs, val)) {
        return fail(p, "out of memory");
    }
    return 0;
}

static int parse_rdisas(Parser *p, const KeyDesc *k, const char *val)
{
    char b[SHOW_BUF];

    if (!el_parse_bool(val, &p->o->rdisas)) {
        return fail(p, "%s '%s' is not a boolean (on or off)", k->name,
                    show(val, b));
    }
    p->o->rdisas_given = true;
    return 0;
}

/* values=on|off, bytes=on|off */
static int parse_flag(Parser *p, const KeyDesc *k, const char *val)
{
    char b[SHOW_BUF];
    bool *dst = strcmp(k->name, "values") == 0 ? &p->o->values : &p->o->bytes;

    if (!el_parse_bool(val, dst)) {
        return fail(p, "%s '%s' is not a boolean (on or off)", k->name,
                    show(val, b));
    }
    return 0;
}

static int parse_outfile(Parser *p, const KeyDesc *k, const char *val)
{
    (void)k;
    p->o->outfile = strdup(val);
    if (!p->o->outfile) {
        return fail(p, "out of memory");
    }
    return 0;
}

static int parse_format(Parser *p, const KeyDesc *k, const char *val)
{
    char b[SHOW_BUF];

    if (strcmp(val, "text") == 0) {
        p->o->format = EL_FORMAT_TEXT;
    } else if (strcmp(val, "bin") == 0) {
        p->o->format = EL_FORMAT_BIN;
    } else {
        return fail(p, "%s '%s' is unknown (text or bin)", k->name,
                    show(val, b));
    }
    return 0;
}

static int parse_compress(Parser *p, const KeyDesc *k, const char *val)
{
    char b[SHOW_BUF];

    if (strcmp(val, "zstd") == 0) {
        p->o->compress = EL_COMPRESS_ZSTD;
    } else if (strcmp(val, "none") == 0) {
        p->o->compress = EL_COMPRESS_NONE;
    } else {
        return fail(p, "%s '%s' is unknown (zstd or none)", k->name,
                    show(val, b));
    }
    return 0;
}

static const KeyDesc keys[] = {
    { "ifilter", true, 1, MAX_PATTERN, parse_ifilter },
    { "afilter", true, 1, MAX_RANGE, parse_afilter },
    { "reg", true, 2, MAX_PATTERN, parse_reg },
    { "rdisas", false, 2, MAX_PATTERN, parse_rdisas },
    { "outfile", false, 1, MAX_PATH, parse_outfile },
    { "format", false, 1, MAX_PATTERN, parse_format },
    { "compress", false, 1, MAX_PATTERN, parse_compress },
    { "values", false, 4, MAX_PATTERN, parse_flag },
    { "bytes", false, 1, MAX_PATTERN, parse_flag },
    { "start", false, 1, MAX_HEX, parse_trigger },
    { "stop", false, 1, MAX_HEX, parse_trigger },
    { "skip", false, 1, MAX_DEC, parse_count },
    { "limit", false, 1, MAX_DEC, parse_count },
    { "vcpu", true, 1, MAX_PATTERN, parse_vcpu },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* The checks every key gets, then the key's own parser. */
static int parse_one(Parser *p, const char *arg, int api,
                     const char *seen[N_KEYS])
{
    const char *eq = strchr(arg, '=');
    size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
    const char *val = eq ? eq + 1 : NULL;
    const KeyDesc *k = NULL;
    size_t ki, len;
    char b[SHOW_BUF], b2[SHOW_BUF];

    for (ki = 0; ki < N_KEYS; ki++) {
        if (strlen(keys[ki].name) == klen &&
            memcmp(keys[ki].name, arg, klen) == 0) {
            k = &keys[ki];
            break;
        }
    }
    if (!k) {
        return fail(p, "unknown option '%s' (known: %s)", show(arg, b),
                    KNOWN_KEYS);
    }
    if (api < k->min_api) {
        return fail(p, "option '%s' needs QEMU >= 9.2 (this build is for "
                    "plugin API %d; use libexeclog-v4.so with QEMU 9.2+)",
                    k->name, api);
    }
    if (!val || *val == '\0') {
        return fail(p, "option '%s' needs a value (%s=...)", k->name,
                    k->name);
    }
    if (seen[ki] && !k->repeatable) {
        return fail(p, "option '%s' given twice ('%s', then '%s'); it takes "
                    "one value", k->name, show(seen[ki], b), show(val, b2));
    }
    seen[ki] = val;
    len = strlen(val);
    if (len > k->max_len) {
        return fail(p, "%s '%s' is too long (%zu bytes, at most %zu)",
                    k->name, show(val, b), len, k->max_len);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)val[i];

        if (c < 0x20 || c == 0x7f) {
            return fail(p, "%s '%s' has a control character (0x%02x at "
                        "offset %zu)", k->name, show(val, b), c, i);
        }
    }
    return k->parse(p, k, val);
}

/* The rules that involve several options. */
static int check_together(Parser *p)
{
    const ElOptions *o = p->o;

    if (o->format == EL_FORMAT_BIN && !o->outfile) {
        return fail(p, "format=bin needs outfile=PATH");
    }
    if (o->format == EL_FORMAT_BIN && o->rdisas_given) {
        return fail(p, "format=bin records every watched register's "
                    "changes: rdisas is for format=text");
    }
    if (o->format == EL_FORMAT_BIN && o->n_regs &&
        (o->n_ifilters || o->n_afilters || o->n_aranges || o->has_start ||
         o->has_stop || o->skip || o->limit || o->n_vcpus)) {
        return fail(p, "format=bin takes reg= only for whole runs: no "
                    "ifilter, afilter or window (start, stop, skip, limit, "
                    "vcpu) with it yet");
    }
    if (o->format == EL_FORMAT_BIN && o->bytes) {
        return fail(p, "bytes=on is for format=text (a binary trace has "
                    "every byte of each instruction: 'execlog dump --bytes' "
                    "prints them)");
    }
    if (o->compress == EL_COMPRESS_ZSTD && o->format != EL_FORMAT_BIN) {
        return fail(p, "compress=zstd needs format=bin");
    }
    if (o->rdisas && o->n_regs == 0) {
        return fail(p, "rdisas=on needs reg=GLOB (it logs the instructions "
                    "that name a watched register)");
    }
    return 0;
}

int el_options_parse(ElOptions *o, int argc, char **argv, int api,
                     char *err, size_t errlen)
{
    Parser p = { .o = o, .err = err, .errlen = errlen };
    const char *seen[N_KEYS] = { NULL };

    memset(o, 0, sizeof(*o));
    if (errlen > 0) {
        err[0] = '\0';
    }
    for (int i = 0; i < argc; i++) {
        if (!argv[i] || parse_one(&p, argv[i], api, seen) != 0) {
            if (!argv[i]) {
                fail(&p, "option %d is missing (NULL)", i);
            }
            el_options_free(o);
            return -1;
        }
    }
    if (check_together(&p) != 0) {
        el_options_free(o);
        return -1;
    }
    return 0;
}

void el_options_free(ElOptions *o)
{
    for (size_t i = 0; i < o->n_ifilters; i++) {
        free(o->ifilters[i]);
    }
    for (size_t i = 0; i < o->n_regs; i++) {
        free(o->regs[i]);
    }
    free(o->ifilters);
    free(o->regs);
    free(o->afilters);
    free(o->aranges);
    free(o->vcpus);
    free(o->outfile);
    memset(o, 0, sizeof(*o));
}
