/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The static facts of translated instructions, kept once each.
 *
 * QEMU translates the same code again and again (after TB flushes, in other
 * address spaces, per vCPU); the cache hands out one record per distinct
 * (address, bytes, disassembly), so memory grows with the code that ran, not
 * with the number of translations. Records live until the plugin exits and
 * are what the run-time callbacks receive as their udata.
 */
#ifndef EXECLOG_INSNCACHE_H
#define EXECLOG_INSNCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EL_INSN_MAX_BYTES 16

typedef struct ElInsn {
    uint64_t pc;
    uint32_t id;            /* 0, 1, 2, ... in order of first translation */
    uint8_t size;           /* bytes of the instruction kept (<= 16) */
    uint8_t bytes[EL_INSN_MAX_BYTES];
    const char *disas;      /* points into text */
    uint32_t disas_len;
    uint32_t text_len;
    char text[];            /* 0xPC, 0xOPCODE, "DISAS" (bytes=on: 0xBYTES) */
} ElInsn;

/*
 * The record for this instruction, created on first sight. @bytes holds the
 * instruction's first @size bytes (size > 16 is cut to 16). Thread-safe
 * (takes a lock: translation time only). NULL if out of memory.
 */
const ElInsn *el_insn_cache_get(uint64_t pc, const uint8_t *bytes,
                                size_t size, const char *disas,
                                bool *created);

/*
 * bytes=on: the text of records created from now on shows every byte of
 * the instruction as OPCODE (el_fmt_insn_bytes), not the first 4 as a
 * word. Set at install, before any translation.
 */
void el_insn_cache_set_bytes(bool on);

/* Number of distinct instructions so far. */
uint32_t el_insn_cache_count(void);

#endif
