/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "options.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KNOWN_KEYS "ifilter, afilter, reg, rdisas, outfile, format, compress"

static int fail(ElOptions *o, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    el_options_free(o);
    return -1;
}

static bool push_str(char ***arr, size_t *n, const char *s)
{
    char **grown = realloc(*arr, (*n + 1) * sizeof(**arr));
    char *copy = strdup(s);

    if (!grown || !copy) {
        free(copy);
        if (grown) {
            *arr = grown;
        }
        return false;
    }
    grown[*n] = copy;
    *arr = grown;
    (*n)++;
    return true;
}

static bool push_u64(uint64_t **arr, size_t *n, uint64_t v)
{
    uint64_t *grown = realloc(*arr, (*n + 1) * sizeof(**arr));

    if (!grown) {
        return false;
    }
    grown[*n] = v;
    *arr = grown;
    (*n)++;
    return true;
}

bool el_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "on", "true", "yes" };
    static const char *const no[] = { "off", "false", "no" };

    for (size_t i = 0; i < 3; i++) {
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

bool el_parse_hex(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
    }
    if (*s == '\0') {
        return false;
    }
    for (; *s; s++) {
        unsigned d;

        if (*s >= '0' && *s <= '9') {
            d = *s - '0';
        } else if (*s >= 'a' && *s <= 'f') {
            d = *s - 'a' + 10;
        } else if (*s >= 'A' && *s <= 'F') {
            d = *s - 'A' + 10;
        } else {
            return false;
        }
        if (v >> 60) {
            return false;
        }
        v = (v << 4) | d;
    }
    *out = v;
    return true;
}

bool el_glob_match(const char *p, const char *s)
{
    const char *star = NULL, *resume = NULL;

    while (*s) {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p == '?' || *p == *s) {
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
    return false;
}

int el_options_parse(ElOptions *o, int argc, char **argv, int api,
                     char *err, size_t errlen)
{
    bool compress_given = false;

    memset(o, 0, sizeof(*o));
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');
        size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
        const char *val = eq ? eq + 1 : NULL;
        char key[16];

        if (klen == 0 || klen >= sizeof(key)) {
            return fail(o, err, errlen, "unknown option '%s' (known: %s)",
                        arg, KNOWN_KEYS);
        }
        memcpy(key, arg, klen);
        key[klen] = '\0';

#define IS(k) (strcmp(key, k) == 0)
        if (!(IS("ifilter") || IS("afilter") || IS("reg") || IS("rdisas") ||
              IS("outfile") || IS("format") || IS("compress"))) {
            return fail(o, err, errlen, "unknown option '%s' (known: %s)",
                        arg, KNOWN_KEYS);
        }
        if (!val || *val == '\0') {
            return fail(o, err, errlen, "option '%s' needs a value (%s=...)",
                        key, key);
        }
        if ((IS("reg") || IS("rdisas")) && api < 2) {
            return fail(o, err, errlen,
                        "option '%s' needs QEMU >= 9.2 (this build is for "
                        "plugin API %d; use libexeclog-v4.so with QEMU 9.2+)",
                        arg, api);
        }

        if (IS("ifilter")) {
            if (!push_str(&o->ifilters, &o->n_ifilters, val)) {
                return fail(o, err, errlen, "out of memory");
            }
        } else if (IS("afilter")) {
            uint64_t v;
            if (!el_parse_hex(val, &v)) {
                return fail(o, err, errlen,
                            "afilter '%s' is not a hexadecimal address", val);
            }
            if (!push_u64(&o->afilters, &o->n_afilters, v)) {
                return fail(o, err, errlen, "out of memory");
            }
        } else if (IS("reg")) {
            if (!push_str(&o->regs, &o->n_regs, val)) {
                return fail(o, err, errlen, "out of memory");
            }
        } else if (IS("rdisas")) {
            if (!el_parse_bool(val, &o->rdisas)) {
                return fail(o, err, errlen,
                            "rdisas '%s' is not a boolean (on or off)", val);
            }
            o->rdisas_given = true;
        } else if (IS("outfile")) {
            free(o->outfile);
            o->outfile = strdup(val);
            if (!o->outfile) {
                return fail(o, err, errlen, "out of memory");
            }
        } else if (IS("format")) {
            if (strcmp(val, "text") == 0) {
                o->format = EL_FORMAT_TEXT;
            } else if (strcmp(val, "bin") == 0) {
                o->format = EL_FORMAT_BIN;
            } else {
                return fail(o, err, errlen,
                            "format '%s' is unknown (text or bin)", val);
            }
        } else if (IS("compress")) {
            if (strcmp(val, "zstd") == 0) {
                o->compress = EL_COMPRESS_ZSTD;
            } else if (strcmp(val, "none") == 0) {
                o->compress = EL_COMPRESS_NONE;
            } else {
                return fail(o, err, errlen,
                            "compress '%s' is unknown (zstd or none)", val);
            }
            compress_given = true;
        }
#undef IS
    }

    if (o->format == EL_FORMAT_BIN && !o->outfile) {
        return fail(o, err, errlen, "format=bin needs outfile=PATH");
    }
    if (o->format == EL_FORMAT_BIN &&
        (o->n_ifilters || o->n_afilters || o->n_regs || o->rdisas_given)) {
        return fail(o, err, errlen,
                    "format=bin records every instruction: ifilter, afilter, "
                    "reg and rdisas are for format=text (filter with "
                    "'execlog dump --pc' instead)");
    }
    if (compress_given && o->compress != EL_COMPRESS_NONE &&
        o->format != EL_FORMAT_BIN) {
        return fail(o, err, errlen, "compress=zstd needs format=bin");
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
    free(o->outfile);
    memset(o, 0, sizeof(*o));
}
