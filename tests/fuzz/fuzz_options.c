/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for the plugin's option parser (plugin/options.c). The input
 * is the argv QEMU would hand the plugin, entries separated by NUL bytes (a
 * real argv entry cannot hold one; newlines and any other byte can). Parses
 * it for API 1 and API 4 and aborts if an invariant breaks:
 *   - the parser returns 0 or -1;
 *   - on -1, the message is one non-empty line of printable ASCII that
 *     starts with "unknown option '", "option 'KEY'", "KEY '" or "KEY=" for
 *     a known KEY, the options are left all zero, and a smaller message
 *     buffer gets the same result with the message cut short;
 *   - on 0, what was parsed is what the arguments say (counts, values), and
 *     every exact afilter (and start=, stop=, each end of an afilter range)
 *     equals what upstream execlog reads from the same text
 *     (g_ascii_strtoull(, 16)), and it is text upstream reads in full; a
 *     range's end is above its start; skip/limit are decimal digits;
 *   - whatever API 1 accepts, API 4 accepts the same way;
 *   - nothing leaks (AddressSanitizer's leak check).
 *
 * To fuzz (clang):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iplugin \
 *       tests/fuzz/fuzz_options.c plugin/options.c -o /tmp/fuzz-options \
 *       $(pkg-config --cflags --libs glib-2.0)
 *   cp -r tests/fuzz/corpus-options /tmp/corpus-options
 *   /tmp/fuzz-options -dict=tests/fuzz/options.dict -max_len=70000 \
 *       /tmp/corpus-options
 * and add what it finds (crash-*, leak-*, timeout-*) to
 * tests/fuzz/corpus-options. Without libFuzzer, tests/fuzz/replay.c runs it
 * over the corpus: cc -Iplugin tests/fuzz/fuzz_options.c tests/fuzz/replay.c
 * plugin/options.c $(pkg-config --cflags --libs glib-2.0).
 */
#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64
#define ERR_LEN 512

static const char *const known[] = {
    "ifilter", "afilter", "reg", "rdisas", "outfile", "format", "compress",
    "values", "bytes", "start", "stop", "skip", "limit", "vcpu",
};
#define N_KNOWN (sizeof(known) / sizeof(known[0]))

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "fuzz-options: %s:%d: %s\n", __FILE__,         \
                    __LINE__, #cond);                                       \
            abort();                                                        \
        }                                                                   \
    } while (0)

static bool all_zero(const ElOptions *o)
{
    static const ElOptions zero;

    return memcmp(o, &zero, sizeof(zero)) == 0;
}

/* Does @s start with @key followed by one of the bytes in @then? */
static bool key_then(const char *s, const char *key, const char *then)
{
    size_t n = strlen(key);

    return strncmp(s, key, n) == 0 && s[n] && strchr(then, s[n]);
}

static void check_message(const char *err)
{
    size_t n = strlen(err);
    bool named = false;

    CHECK(n > 0 && n < ERR_LEN);
    for (size_t i = 0; i < n; i++) {
        CHECK(err[i] >= 0x20 && err[i] < 0x7f);
    }
    if (strncmp(err, "unknown option '", 16) == 0 ||
        strcmp(err, "out of memory") == 0) {
        return;
    }
    for (size_t k = 0; k < N_KNOWN && !named; k++) {
        char quoted[32];

        snprintf(quoted, sizeof(quoted), "option '%s'", known[k]);
        named = key_then(err, quoted, " ") || key_then(err, known[k], " =");
    }
    CHECK(named);
}

/* The value of @arg if it is "@key=...", else NULL. */
static const char *value_of(const char *arg, const char *key)
{
    size_t n = strlen(key);

    return strncmp(arg, key, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

/* Upstream's reading of an afilter, and whether it read all of it. */
static bool upstream_reads_all(const char *v, uint64_t *out)
{
    char *end;

    errno = 0;
    *out = g_ascii_strtoull(v, &end, 16);
    return g_ascii_isxdigit(v[0]) && *end == '\0' && errno == 0;
}

/* An accepted parse says what the arguments say. */
static void check_parsed(const ElOptions *o, int argc, char **argv)
{
    size_t ni = 0, na = 0, nr = 0, nrange = 0;
    const char *outfile = NULL, *v;
    bool bin = false, zstd = false;

    for (int i = 0; i < argc; i++) {
        uint64_t up;

        if ((v = value_of(argv[i], "ifilter"))) {
            CHECK(ni < o->n_ifilters && strcmp(o->ifilters[ni], v) == 0);
            CHECK(v[0] != ' ' && strlen(v) <= 256);
            for (const char *c = v; *c; c++) {
                CHECK(*c >= 0x20 && *c < 0x7f);
            }
            ni++;
        } else if ((v = value_of(argv[i], "afilter"))) {
            const char *dash = strchr(v, '-');

            if (dash && nrange < o->n_aranges) {
                char lo_s[80];
                uint64_t lo, end;
                size_t n = (size_t)(dash - v);

                CHECK(n < sizeof(lo_s));
                memcpy(lo_s, v, n);
                lo_s[n] = '\0';
                CHECK(upstream_reads_all(lo_s, &lo) &&
                      lo == o->aranges[nrange].lo);
                CHECK(upstream_reads_all(dash + 1, &end) &&
                      end == o->aranges[nrange].end && end > lo);
                nrange++;
            } else {
                CHECK(!dash);
                CHECK(na < o->n_afilters);
                CHECK(upstream_reads_all(v, &up) && up == o->afilters[na]);
                na++;
            }
        } else if ((v = value_of(argv[i], "start")) ||
                   (v = value_of(argv[i], "stop"))) {
            bool start = argv[i][2] == 'a';

            CHECK(upstream_reads_all(v, &up));
            CHECK(start ? o->has_start && o->start == up
                        : o->has_stop && o->stop == up);
        } else if ((v = value_of(argv[i], "skip")) ||
                   (v = value_of(argv[i], "limit"))) {
            CHECK(*v && strspn(v, "0123456789") == strlen(v));
            CHECK(argv[i][0] == 's' || o->limit > 0);
        } else if ((v = value_of(argv[i], "vcpu"))) {
            CHECK(*v && strspn(v, "0123456789,-") == strlen(v));
            CHECK(o->n_vcpus > 0);
        } else if ((v = value_of(argv[i], "reg"))) {
            CHECK(nr < o->n_regs && strcmp(o->regs[nr], v) == 0);
            CHECK(strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
                         "VWXYZ0123456789_*?") == strlen(v));
            nr++;
        } else if ((v = value_of(argv[i], "outfile"))) {
            CHECK(!outfile);
            outfile = v;
        } else if ((v = value_of(argv[i], "format"))) {
            bin = strcmp(v, "bin") == 0;
            CHECK(bin || strcmp(v, "text") == 0);
        } else if ((v = value_of(argv[i], "compress"))) {
            zstd = strcmp(v, "zstd") == 0;
            CHECK(zstd || strcmp(v, "none") == 0);
        } else if ((v = value_of(argv[i], "values")) ||
                   (v = value_of(argv[i], "bytes"))) {
            bool on;

            CHECK(el_parse_bool(v, &on));
            CHECK(argv[i][0] == 'b' ? o->bytes == on : o->values == on);
        } else {
            CHECK(value_of(argv[i], "rdisas"));
        }
    }
    CHECK(ni == o->n_ifilters && na == o->n_afilters && nr == o->n_regs);
    CHECK(nrange == o->n_aranges);
    for (size_t i = 0; i < o->n_vcpus; i++) {
        CHECK(o->vcpus[i].lo <= o->vcpus[i].hi && o->vcpus[i].hi <= 65535);
    }
    CHECK(outfile ? o->outfile && strcmp(outfile, o->outfile) == 0
                  : !o->outfile);
    CHECK(bin == (o->format == EL_FORMAT_BIN));
    CHECK(zstd == (o->compress == EL_COMPRESS_ZSTD));
    CHECK(!zstd || bin);
    CHECK(!bin || outfile);
    CHECK(!o->rdisas || o->n_regs > 0);
    CHECK(!bin || !o->bytes);
}

/* Every afilter value upstream reads in full, short enough, is accepted. */
static void check_afilter_alone(const char *arg)
{
    const char *v = value_of(arg, "afilter");
    char *argv[1] = { (char *)arg };
    char err[ERR_LEN];
    uint64_t up;
    ElOptions o;

    if (!v || !upstream_reads_all(v, &up) || strlen(v) > 66) {
        return;
    }
    CHECK(el_options_parse(&o, 1, argv, 1, err, sizeof(err)) == 0);
    CHECK(o.n_afilters == 1 && o.afilters[0] == up);
    el_options_free(&o);
}

static bool same_options(const ElOptions *a, const ElOptions *b)
{
    if (a->n_ifilters != b->n_ifilters || a->n_afilters != b->n_afilters ||
        a->n_regs != b->n_regs || a->rdisas != b->rdisas ||
        a->rdisas_given != b->rdisas_given || a->format != b->format ||
        a->values != b->values || a->bytes != b->bytes ||
        a->compress != b->compress || !a->outfile != !b->outfile ||
        (a->outfile && strcmp(a->outfile, b->outfile) != 0)) {
        return false;
    }
    for (size_t i = 0; i < a->n_ifilters; i++) {
        if (strcmp(a->ifilters[i], b->ifilters[i]) != 0) {
            return false;
        }
    }
    for (size_t i = 0; i < a->n_regs; i++) {
        if (strcmp(a->regs[i], b->regs[i]) != 0) {
            return false;
        }
    }
    if (a->n_aranges != b->n_aranges || a->n_vcpus != b->n_vcpus ||
        a->has_start != b->has_start || a->start != b->start ||
        a->has_stop != b->has_stop || a->stop != b->stop ||
        a->skip != b->skip || a->limit != b->limit ||
        (a->n_aranges && memcmp(a->aranges, b->aranges,
                                a->n_aranges * sizeof(a->aranges[0]))) ||
        (a->n_vcpus && memcmp(a->vcpus, b->vcpus,
                              a->n_vcpus * sizeof(a->vcpus[0])))) {
        return false;
    }
    return a->n_afilters == 0 ||
           memcmp(a->afilters, b->afilters,
                  a->n_afilters * sizeof(a->afilters[0])) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    char *argv[MAX_ARGS];
    int argc = 0;
    ElOptions by_api[2];
    int r_by_api[2];
    static const int apis[2] = { 1, 4 };

    if (!buf) {
        return 0;
    }
    memcpy(buf, data, size);
    buf[size] = '\0';
    /* NUL-separated entries; a final NUL ends the last one */
    for (size_t at = 0; size > 0 && at <= size && argc < MAX_ARGS;) {
        size_t len = strlen(buf + at);

        if (at + len == size && len == 0 && argc > 0) {
            break;
        }
        argv[argc++] = buf + at;
        at += len + 1;
    }

    for (int a = 0; a < 2; a++) {
        char err[ERR_LEN], small_err[16];
        size_t small = size % sizeof(small_err) + 1;
        ElOptions *o = &by_api[a], o2;
        int r, r2;

        memset(err, 'X', sizeof(err));
        r = el_options_parse(o, argc, argv, apis[a], err, sizeof(err));
        CHECK(r == 0 || r == -1);
        r_by_api[a] = r;
        if (r == -1) {
            CHECK(all_zero(o));
            check_message(err);
            /* the same with a smaller buffer: the message cut short */
            r2 = el_options_parse(&o2, argc, argv, apis[a], small_err, small);
            CHECK(r2 == -1 && all_zero(&o2));
            CHECK(strlen(small_err) == small - 1 ||
                  strlen(small_err) == strlen(err));
            CHECK(strncmp(small_err, err, strlen(small_err)) == 0);
        } else {
            check_parsed(o, argc, argv);
        }
    }
    if (r_by_api[0] == 0) {
        CHECK(r_by_api[1] == 0 && same_options(&by_api[0], &by_api[1]));
    }
    for (int a = 0; a < 2; a++) {
        if (r_by_api[a] == 0) {
            el_options_free(&by_api[a]);
        }
    }
    for (int i = 0; i < argc; i++) {
        check_afilter_alone(argv[i]);
    }
    free(buf);
    return 0;
}
