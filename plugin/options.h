/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * execlog plugin options: parsing and validation.
 *
 * Plain C, no QEMU and no glib, so that the unit tests can drive it. The
 * parser never prints: it fills an error message that the plugin reports as
 * one line on stderr before refusing to install.
 */
#ifndef EXECLOG_OPTIONS_H
#define EXECLOG_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ElFormat {
    EL_FORMAT_TEXT,
    EL_FORMAT_BIN,
} ElFormat;

typedef enum ElCompress {
    EL_COMPRESS_NONE,
    EL_COMPRESS_ZSTD,
} ElCompress;

/* An address range [lo, end), end exclusive and above lo. */
typedef struct ElRange {
    uint64_t lo, end;
} ElRange;

/* vCPU indexes lo..hi, both included. */
typedef struct ElVcpuRange {
    uint32_t lo, hi;
} ElVcpuRange;

typedef struct ElOptions {
    char **ifilters;        /* disassembly prefixes (ifilter=) */
    size_t n_ifilters;
    uint64_t *afilters;     /* exact instruction addresses (afilter=) */
    size_t n_afilters;
    ElRange *aranges;       /* address ranges (afilter=START-END) */
    size_t n_aranges;
    /* the window (window.h): start=, stop=, skip=, limit=, vcpu= */
    uint64_t start, stop;
    bool has_start, has_stop;
    uint64_t skip;          /* 0: none */
    uint64_t limit;         /* 0: none (limit=0 is refused) */
    ElVcpuRange *vcpus;     /* vcpu=LIST; none: every vCPU */
    size_t n_vcpus;
    char **regs;            /* register globs (reg=), API >= 2 only */
    size_t n_regs;
    bool rdisas;            /* rdisas=on|off */
    bool rdisas_given;
    char *outfile;          /* outfile=PATH, NULL: qemu_plugin_outs */
    ElFormat format;
    ElCompress compress;
    bool values;            /* values=on: memory values, API >= 4 only */
    bool bytes;             /* bytes=on: OPCODE is every instruction byte */
} ElOptions;

/*
 * Parse the plugin's argv, as QEMU hands it over: one "key=value" per entry
 * (QEMU has already split -plugin's list at ',' and turned ",," into ',').
 * @api is the plugin API version the plugin was built for (options that need
 * a newer QEMU are refused on older builds).
 * Returns 0 on success; on failure returns -1 and writes a one-line message
 * of printable ASCII (without the "execlog: " prefix and without newline)
 * into @err, cut to @errlen; it starts with "unknown option '", "option
 * 'KEY'", "KEY '" or "KEY=". On failure @o is left freed (all zero).
 * Refused: unknown keys, a missing or empty value, reg/rdisas below API 2,
 * values below API 4,
 * a key other than ifilter/afilter/reg/vcpu given twice, the same reg twice,
 * over-long values, control bytes, and what each key's own rules refuse.
 */
int el_options_parse(ElOptions *o, int argc, char **argv, int api,
                     char *err, size_t errlen);

/* Release everything el_options_parse() allocated. */
void el_options_free(ElOptions *o);

/*
 * Parse on/yes/true/y or off/no/false/n (lower case, as QEMU's
 * qemu_plugin_bool_parse). Returns false if @s is none of them.
 */
bool el_parse_bool(const char *s, bool *out);

/*
 * Parse a hexadecimal address, with or without 0x/0X, up to 64 bits.
 * Returns false on no digits, any other character (a sign, a space, junk
 * after the digits) or more than 64 bits.
 */
bool el_parse_hex(const char *s, uint64_t *out);

/* Shell-style glob: '*' matches any run of bytes, '?' any one byte. */
bool el_glob_match(const char *pattern, const char *s);

/*
 * Does @s start with any of the ifilter prefixes / is @vaddr an afilter
 * address or inside an afilter range?
 */
bool el_match_ifilter(const ElOptions *o, const char *disas);
bool el_match_afilter(const ElOptions *o, uint64_t vaddr);

/* Any ifilter= or afilter= (the log is cut down at translation time). */
static inline bool el_options_filtering(const ElOptions *o)
{
    return o->n_ifilters > 0 || o->n_afilters > 0 || o->n_aranges > 0;
}

/* Any of start=, stop=, skip=, limit=, vcpu= (window.h). */
static inline bool el_options_window(const ElOptions *o)
{
    return o->has_start || o->has_stop || o->skip > 0 || o->limit > 0 ||
           o->n_vcpus > 0;
}

/* Is vCPU @index one of vcpu=LIST (or is there no list)? */
bool el_match_vcpu(const ElOptions *o, unsigned index);

#endif
