/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pieces of execlog's text line, formatted without printf: the one
 * definition of the line format, shared by the plugin (format=text) and
 * `execlog dump`, so that the two cannot drift apart.
 *
 * A line is: VCPU ", " 0xPC ", " 0xOPCODE ", \"" DISAS "\"", then per memory
 * access ", load|store, 0x%08x ADDR" (+ "=0xVALUE" with values=on, + ", DEVICE"
 * in system mode), then per
 * changed register ", name -> 0xHEX". Each function writes into @dst (which
 * must have room for the documented maximum) and returns the bytes written.
 * No NUL terminator is written.
 */
#ifndef EXECLOG_TEXTFMT_H
#define EXECLOG_TEXTFMT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Longest output of el_fmt_mem(), not counting the device name. */
#define EL_FMT_MEM_MAX (sizeof(", store, 0x") - 1 + 16 + 2)

static const char el_hexdigits[16] = "0123456789abcdef";

/* Lower-case hex of @v, at least @mindigits digits (<= 16). At most 16. */
static inline size_t el_fmt_hex(char *dst, uint64_t v, unsigned mindigits)
{
    unsigned n = v ? (unsigned)((64 - __builtin_clzll(v) + 3) / 4) : 1;

    if (n < mindigits) {
        n = mindigits;
    }
    for (unsigned i = n; i > 0; i--) {
        dst[i - 1] = el_hexdigits[v & 0xf];
        v >>= 4;
    }
    return n;
}

/* Decimal of @v. At most 20 bytes. */
static inline size_t el_fmt_u64(char *dst, uint64_t v)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) {
        dst[i] = tmp[n - 1 - i];
    }
    return n;
}

/* The line's start: "VCPU, ". At most 12 bytes. */
static inline size_t el_fmt_vcpu_prefix(char *dst, uint32_t vcpu)
{
    size_t n = el_fmt_u64(dst, vcpu);

    dst[n++] = ',';
    dst[n++] = ' ';
    return n;
}

/*
 * OPCODE as upstream execlog prints it: the first 4 bytes of the
 * instruction as a little-endian word (the host's order on the hosts QEMU
 * 9.1+ zero-fills on), missing bytes zero.
 */
static inline uint32_t el_opcode(const uint8_t *bytes, size_t size)
{
    uint32_t op = 0;

    for (size_t i = 0; i < size && i < 4; i++) {
        op |= (uint32_t)bytes[i] << (8 * i);
    }
    return op;
}

/* "0xPC, 0x": how the static part of a line starts. */
static inline size_t el_fmt_insn_head(char *dst, uint64_t pc)
{
    size_t n = 0;

    dst[n++] = '0';
    dst[n++] = 'x';
    n += el_fmt_hex(dst + n, pc, 1);
    memcpy(dst + n, ", 0x", 4);
    return n + 4;
}

/* ', "DISAS"': how the static part of a line ends. */
static inline size_t el_fmt_insn_tail(char *dst, const char *disas)
{
    size_t dl = strlen(disas);

    memcpy(dst, ", \"", 3);
    memcpy(dst + 3, disas, dl);
    dst[3 + dl] = '"';
    return dl + 4;
}

/*
 * The static part of a line: 0xPC, 0xOPCODE, "DISAS". @dst needs
 * 2 + 16 + 4 + 8 + 3 + strlen(disas) + 1 bytes.
 */
static inline size_t el_fmt_insn(char *dst, uint64_t pc, uint32_t opcode,
                                 const char *disas)
{
    size_t n = el_fmt_insn_head(dst, pc);

    n += el_fmt_hex(dst + n, opcode, 1);
    return n + el_fmt_insn_tail(dst + n, disas);
}

/*
 * bytes=on: the static part with OPCODE as every byte of the instruction
 * in memory order, two digits each: 0xPC, 0xBYTES, "DISAS". @dst needs
 * 2 + 16 + 4 + 2 * @size + 3 + strlen(disas) + 1 bytes.
 */
static inline size_t el_fmt_insn_bytes(char *dst, uint64_t pc,
                                       const uint8_t *bytes, size_t size,
                                       const char *disas)
{
    size_t n = el_fmt_insn_head(dst, pc);

    for (size_t i = 0; i < size; i++) {
        dst[n++] = el_hexdigits[bytes[i] >> 4];
        dst[n++] = el_hexdigits[bytes[i] & 0xf];
    }
    return n + el_fmt_insn_tail(dst + n, disas);
}

/* Longest output of el_fmt_value(): a 16-byte value. */
#define EL_FMT_VALUE_MAX (3 + 32)

/*
 * values=on: "=0xVALUE" after an access's address: the value of the @len
 * bytes at @le (least significant first, as the access's number), two
 * digits per byte, most significant first: 2 * @len digits, leading zeros
 * kept (a 1-byte store of 5 is =0x05, a 4-byte one =0x00000005). At most
 * EL_FMT_VALUE_MAX bytes (@len <= 16).
 */
static inline size_t el_fmt_value(char *dst, const uint8_t *le, size_t len)
{
    size_t n = 0;

    dst[n++] = '=';
    dst[n++] = '0';
    dst[n++] = 'x';
    for (size_t i = len; i-- > 0;) {
        dst[n++] = el_hexdigits[le[i] >> 4];
        dst[n++] = el_hexdigits[le[i] & 0xf];
    }
    return n;
}

/* ", load, 0x%08x" or ", store, 0x%08x". At most EL_FMT_MEM_MAX bytes. */
static inline size_t el_fmt_mem(char *dst, int is_store, uint64_t addr)
{
    size_t n;

    if (is_store) {
        memcpy(dst, ", store, 0x", 11);
        n = 11;
    } else {
        memcpy(dst, ", load, 0x", 10);
        n = 10;
    }
    return n + el_fmt_hex(dst + n, addr, 8);
}

/* ", DEVICE". 2 + @len bytes. */
static inline size_t el_fmt_device(char *dst, const char *name, size_t len)
{
    dst[0] = ',';
    dst[1] = ' ';
    memcpy(dst + 2, name, len);
    return 2 + len;
}

/*
 * ", name -> 0xHEX": the register's bytes from the last one down to the
 * first, two digits each, as upstream execlog prints them.
 * 8 + @namelen + 2 * @len bytes.
 */
static inline size_t el_fmt_reg(char *dst, const char *name, size_t namelen,
                                const uint8_t *bytes, size_t len)
{
    size_t n = 0;

    dst[n++] = ',';
    dst[n++] = ' ';
    memcpy(dst + n, name, namelen);
    n += namelen;
    memcpy(dst + n, " -> 0x", 6);
    n += 6;
    for (size_t i = len; i-- > 0;) {
        dst[n++] = el_hexdigits[bytes[i] >> 4];
        dst[n++] = el_hexdigits[bytes[i] & 0xf];
    }
    return n;
}

#endif
