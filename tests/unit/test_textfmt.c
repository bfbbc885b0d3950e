/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests: the line pieces (include/execlog/textfmt.h), checked against snprintf
 * with the formats upstream execlog uses.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "execlog/textfmt.h"

static const uint64_t samples[] = {
    0, 1, 0xf, 0x10, 0xff, 0x1234, 0x400000, 0xffffffff, 0x100000000,
    0xdeadbeefcafef00dull, UINT64_MAX, 0x8000000000000000ull, 0x0123456789,
};

static void hex_matches_printf(void **state)
{
    char a[32], b[32];

    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        size_t n = el_fmt_hex(a, samples[i], 1);
        a[n] = '\0';
        snprintf(b, sizeof(b), "%" PRIx64, samples[i]);
        assert_string_equal(a, b);
        n = el_fmt_hex(a, samples[i], 8);
        a[n] = '\0';
        snprintf(b, sizeof(b), "%08" PRIx64, samples[i]);
        assert_string_equal(a, b);
    }
}

static void vcpu_prefix_matches_printf(void **state)
{
    static const uint32_t v[] = { 0, 7, 10, 255, 65535, 4294967295u };
    char a[32], b[32];

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t n = el_fmt_vcpu_prefix(a, v[i]);
        a[n] = '\0';
        snprintf(b, sizeof(b), "%u, ", v[i]);
        assert_string_equal(a, b);
    }
}

static void insn_text_matches_upstream_format(void **state)
{
    char a[128], b[128];
    size_t n = el_fmt_insn(a, 0x4001e4, 0xd10083ff, "sub sp, sp, #0x20");

    a[n] = '\0';
    snprintf(b, sizeof(b), "0x%" PRIx64 ", 0x%" PRIx32 ", \"%s\"",
             (uint64_t)0x4001e4, (uint32_t)0xd10083ff, "sub sp, sp, #0x20");
    assert_string_equal(a, b);
    n = el_fmt_insn(a, 0, 0, "");
    a[n] = '\0';
    assert_string_equal(a, "0x0, 0x0, \"\"");
}

static void memory_accesses_match_upstream_format(void **state)
{
    char a[128];
    size_t n = el_fmt_mem(a, 0, 0x1234);

    n += el_fmt_mem(a + n, 1, 0x7fffdeadbeef);
    n += el_fmt_mem(a + n, 1, 0x09000000);
    n += el_fmt_device(a + n, "pl011", 5);
    a[n] = '\0';
    assert_string_equal(a, ", load, 0x00001234, store, 0x7fffdeadbeef"
                           ", store, 0x09000000, pl011");
    assert_true(el_fmt_mem(a, 1, UINT64_MAX) <= EL_FMT_MEM_MAX);
}

static void registers_print_from_the_last_byte_down(void **state)
{
    const uint8_t le[8] = { 0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0x80 };
    char a[64];
    size_t n = el_fmt_reg(a, "x0", 2, le, sizeof(le));

    a[n] = '\0';
    assert_string_equal(a, ", x0 -> 0x80000000deadbeef");
    assert_int_equal(n, 8 + 2 + 2 * sizeof(le));
}

/* values=on: "=0x", 2 digits per byte, most significant first */
static void values_have_two_digits_per_byte(void **state)
{
    static const uint8_t le[16] = {
        0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
        0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00,
    };
    static const struct {
        size_t len;
        const char *want;
    } cases[] = {
        { 1, "=0x10" },
        { 2, "=0x3210" },
        { 4, "=0x76543210" },
        { 8, "=0xfedcba9876543210" },
        { 16, "=0x0011223344556677fedcba9876543210" },
    };
    static const uint8_t five[4] = { 5, 0, 0, 0 };
    char buf[EL_FMT_VALUE_MAX + 1];
    size_t n;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = el_fmt_value(buf, le, cases[i].len);
        assert_true(n <= EL_FMT_VALUE_MAX);
        buf[n] = '\0';
        assert_string_equal(buf, cases[i].want);
    }
    n = el_fmt_value(buf, five, 4);         /* leading zeros kept */
    buf[n] = '\0';
    assert_string_equal(buf, "=0x00000005");
}

/* bytes=on: 0xPC, 0x + every byte in memory order, "DISAS" */
static void bytes_on_prints_every_byte_in_memory_order(void **state)
{
    static const uint8_t insn[15] = {
        0x48, 0xb8, 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,
        0x00, 0x0f, 0x1f, 0x44, 0x00,
    };
    char buf[256];
    size_t n;

    n = el_fmt_insn_bytes(buf, 0x401000, insn, 10, "movabsq $0x123456789abcdef, %rax");
    buf[n] = '\0';
    assert_string_equal(buf, "0x401000, 0x48b8efcdab8967452301, "
                        "\"movabsq $0x123456789abcdef, %rax\"");
    n = el_fmt_insn_bytes(buf, 0x10, insn + 11, 1, "x");
    buf[n] = '\0';
    assert_string_equal(buf, "0x10, 0x0f, \"x\"");
    n = el_fmt_insn_bytes(buf, 0x10, insn, 15, "");
    assert_int_equal(n, 4 + 4 + 30 + 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hex_matches_printf),
        cmocka_unit_test(vcpu_prefix_matches_printf),
        cmocka_unit_test(insn_text_matches_upstream_format),
        cmocka_unit_test(memory_accesses_match_upstream_format),
        cmocka_unit_test(registers_print_from_the_last_byte_down),
        cmocka_unit_test(values_have_two_digits_per_byte),
        cmocka_unit_test(bytes_on_prints_every_byte_in_memory_order),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
