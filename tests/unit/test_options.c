/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the plugin's option parser (plugin/options.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"

#define PARSE(o, api, ...)                                                  \
    ({                                                                      \
        char *argv_[] = { __VA_ARGS__ };                                    \
        el_options_parse((o), sizeof(argv_) / sizeof(argv_[0]), argv_,      \
                         (api), err, sizeof(err));                          \
    })

static char err[256];

static void no_options_means_log_everything(void **state)
{
    ElOptions o;

    assert_int_equal(el_options_parse(&o, 0, NULL, 1, err, sizeof(err)), 0);
    assert_int_equal(o.n_ifilters, 0);
    assert_int_equal(o.n_afilters, 0);
    assert_null(o.outfile);
    assert_int_equal(o.format, EL_FORMAT_TEXT);
    el_options_free(&o);
}

static void filters_are_repeatable(void **state)
{
    ElOptions o;

    assert_int_equal(PARSE(&o, 1, "ifilter=ldr", "afilter=0x4000a0",
                           "ifilter=st", "afilter=DEADbeef"), 0);
    assert_int_equal(o.n_ifilters, 2);
    assert_string_equal(o.ifilters[0], "ldr");
    assert_string_equal(o.ifilters[1], "st");
    assert_int_equal(o.n_afilters, 2);
    assert_int_equal(o.afilters[0], 0x4000a0);
    assert_int_equal(o.afilters[1], 0xdeadbeef);
    assert_true(el_match_ifilter(&o, "stp x29, x30, [sp]"));
    assert_true(el_match_ifilter(&o, "ldr x0, [x1]"));
    assert_false(el_match_ifilter(&o, "add x0, x0, #1"));
    assert_false(el_match_ifilter(&o, " ldr"));
    assert_true(el_match_afilter(&o, 0xdeadbeef));
    assert_false(el_match_afilter(&o, 0x4000a4));
    el_options_free(&o);
}

static void unknown_option_names_it_and_the_known_ones(void **state)
{
    ElOptions o;

    assert_int_equal(PARSE(&o, 4, "foo=1"), -1);
    assert_non_null(strstr(err, "unknown option 'foo=1'"));
    assert_non_null(strstr(err, "ifilter, afilter"));
    assert_int_equal(PARSE(&o, 4, "=x"), -1);
    assert_non_null(strstr(err, "unknown option"));
}

static void missing_values_are_refused(void **state)
{
    ElOptions o;

    assert_int_equal(PARSE(&o, 1, "ifilter"), -1);
    assert_non_null(strstr(err, "'ifilter' needs a value"));
    assert_int_equal(PARSE(&o, 1, "afilter="), -1);
    assert_non_null(strstr(err, "'afilter' needs a value"));
    assert_int_equal(PARSE(&o, 1, "outfile="), -1);
}

static void malformed_values_are_refused(void **state)
{
    ElOptions o;

    assert_int_equal(PARSE(&o, 1, "afilter=zz"), -1);
    assert_non_null(strstr(err, "afilter 'zz' is not a hexadecimal address"));
    assert_int_equal(PARSE(&o, 1, "afilter=0x"), -1);
    assert_int_equal(PARSE(&o, 1, "afilter=0x12345678901234567"), -1);
    assert_int_equal(PARSE(&o, 4, "rdisas=maybe"), -1);
    assert_non_null(strstr(err, "rdisas 'maybe' is not a boolean"));
    assert_int_equal(PARSE(&o, 1, "format=xml"), -1);
    assert_non_null(strstr(err, "format 'xml'"));
}

static void register_options_need_api_2(void **state)
{
    ElOptions o;

    assert_int_equal(PARSE(&o, 1, "reg=x*"), -1);
    assert_non_null(strstr(err, "needs QEMU >= 9.2"));
    assert_int_equal(PARSE(&o, 1, "rdisas=on"), -1);
    assert_non_null(strstr(err, "needs QEMU >= 9.2"));
    assert_int_equal(PARSE(&o, 4, "reg=x*", "reg=sp", "rdisas=on"), 0);
    assert_int_equal(o.n_regs, 2);
    assert_true(o.rdisas);
    el_options_free(&o);
    assert_int_equal(PARSE(&o, 4, "reg=pc", "rdisas=off"), 0);
    assert_false(o.rdisas);
    assert_true(o.rdisas_given);
    el_options_free(&o);
}

static void outfile_and_format(void **state)
{
    ElOptions o;

    assert_int_equal(PARSE(&o, 1, "outfile=/tmp/x.log"), 0);
    assert_string_equal(o.outfile, "/tmp/x.log");
    el_options_free(&o);
    assert_int_equal(PARSE(&o, 1, "format=bin"), -1);
    assert_non_null(strstr(err, "format=bin needs outfile"));
    assert_int_equal(PARSE(&o, 1, "format=bin", "outfile=t.bin",
                           "compress=zstd"), 0);
    assert_int_equal(o.format, EL_FORMAT_BIN);
    assert_int_equal(o.compress, EL_COMPRESS_ZSTD);
    el_options_free(&o);
    assert_int_equal(PARSE(&o, 1, "format=bin", "outfile=t", "compress=lz4"),
                     -1);
    assert_non_null(strstr(err, "compress 'lz4' is unknown"));
    assert_int_equal(PARSE(&o, 1, "compress=zstd"), -1);
}

static void booleans_and_hex(void **state)
{
    bool b;
    uint64_t v;

    assert_true(el_parse_bool("on", &b) && b);
    assert_true(el_parse_bool("yes", &b) && b);
    assert_true(el_parse_bool("false", &b) && !b);
    assert_false(el_parse_bool("On ", &b));
    assert_true(el_parse_hex("ffffffffffffffff", &v));
    assert_true(v == UINT64_MAX);
    assert_true(el_parse_hex("0X10", &v) && v == 16);
    assert_false(el_parse_hex("", &v));
    assert_false(el_parse_hex("12g", &v));
}

static void register_globs(void **state)
{
    assert_true(el_glob_match("x*", "x0"));
    assert_true(el_glob_match("x*", "x"));
    assert_true(el_glob_match("x?", "x9"));
    assert_false(el_glob_match("x?", "x10"));
    assert_true(el_glob_match("*sp", "wsp"));
    assert_true(el_glob_match("*", ""));
    assert_true(el_glob_match("a*b*c", "aXXbYYc"));
    assert_false(el_glob_match("a*b*c", "aXXbYY"));
    assert_false(el_glob_match("pc", "PC"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_options_means_log_everything),
        cmocka_unit_test(filters_are_repeatable),
        cmocka_unit_test(unknown_option_names_it_and_the_known_ones),
        cmocka_unit_test(missing_values_are_refused),
        cmocka_unit_test(malformed_values_are_refused),
        cmocka_unit_test(register_options_need_api_2),
        cmocka_unit_test(outfile_and_format),
        cmocka_unit_test(booleans_and_hex),
        cmocka_unit_test(register_globs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
