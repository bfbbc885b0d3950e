/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Symbols for `--elf PROGRAM`: the ELF symbol tables (symtab, else dynsym)
 * of one or more files, read with libelf, each placed at the address the
 * trace says it was loaded at, and looked up by guest address.
 */
#ifndef EXECLOG_CLI_SYMBOLS_H
#define EXECLOG_CLI_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "execlog/reader.h"

typedef struct Symbols Symbols;

/* --elf may be given this many times */
#define SYM_MAX_FILES 64

/* A symbol found for an address. */
typedef struct SymHit {
    const char *name;       /* NUL-terminated */
    uint64_t offset;        /* the address minus the symbol's start */
    uint32_t id;            /* the symbol's number in the set, for tables */
} SymHit;

/*
 * The symbols of the @n files @paths. NULL after a one-line message on
 * stderr naming the command @cmd, the file and what is wrong (cannot be
 * read, not an ELF file, no symbol table).
 */
Symbols *sym_load(const char *cmd, char *const *paths, size_t n);
void sym_free(Symbols *s);

/*
 * Place each file where @t says it was loaded: an ET_EXEC file at its link
 * addresses; a shared object or PIE at the start of the trace's module
 * (file mapping) whose path matches it. Says once on stderr when a file
 * has to be assumed at its link addresses (no module matches it).
 */
void sym_bind(Symbols *s, ElTrace *t);

/*
 * The symbol covering guest address @pc: one whose range [start, start +
 * size) holds it (the innermost, if they nest), else one of size 0 that
 * starts at or before it in the same section with no other symbol between.
 * False if none.
 */
bool sym_find(const Symbols *s, uint64_t pc, SymHit *hit);

/* The same, remembered per static instruction (fast: for every line). */
bool sym_find_insn(Symbols *s, const ElInsnInfo *in, SymHit *hit);

/* How many symbols the set has (ids are below this); a symbol's name. */
uint32_t sym_count(const Symbols *s);
const char *sym_name(const Symbols *s, uint32_t id);

/* " <NAME+0xOFF>" into @dst (room: sym_annot_len()); returns its length. */
size_t sym_annot(char *dst, const SymHit *hit);
size_t sym_annot_len(const SymHit *hit);

#endif
