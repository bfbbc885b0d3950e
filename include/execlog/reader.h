/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The reader of execlog's binary traces (docs/trace-format.md): open a
 * trace, ask what its header and index say, and walk each vCPU's executed
 * instructions with a cursor.
 *
 * Plain C11: no glib, no QEMU. The library never prints and never exits:
 * every failure comes back as an ElError with a code, the file offset where
 * it was found, and a one-line message. It reads the file with pread(2),
 * holds no lock on it, and allocates no more than the file's size calls
 * for: a trace truncated or rewritten while it is read is reported as
 * damage at the offset where that was found, never a crash.
 *
 * Thread safety: an ElTrace and its cursors belong to one thread at a time,
 * with one exception: once a trace is open, different cursors of it may be
 * used by different threads at the same time (each cursor by one thread
 * at a time), as cursors and every el_trace_* function here but
 * el_trace_meta() and el_trace_close() only read the trace.
 */
#ifndef EXECLOG_READER_H
#define EXECLOG_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "execlog/format.h"

#define EL_READER_VERSION 2         /* newest min_reader this code reads */

typedef enum ElErrorCode {
    EL_OK = 0,
    EL_ERR_DAMAGED = 2,     /* the file is not a valid trace, or is damaged */
    EL_ERR_IO = 3,          /* the file cannot be opened or read */
    EL_ERR_VERSION = 4,     /* written for a newer reader */
    EL_ERR_NOMEM = 5,
} ElErrorCode;

typedef struct ElError {
    ElErrorCode code;
    uint64_t offset;        /* file offset where the problem is */
    char msg[256];          /* one line, no file name, no newline */
} ElError;

typedef struct ElTrace ElTrace;

/* Static facts of one instruction. */
typedef struct ElInsnInfo {
    uint64_t pc;
    const uint8_t *bytes;
    uint8_t size;
    const char *disas;      /* NUL-terminated */
    uint32_t disas_len;
} ElInsnInfo;

/* One memory access. */
typedef struct ElMemAccess {
    uint64_t vaddr;
    uint64_t paddr;         /* valid if has_paddr */
    const char *device;     /* valid if has_paddr ("RAM" or a region name) */
    uint8_t size_shift;     /* log2 of the size in bytes */
    bool store;
    bool big_endian;
    bool sign_extended;
    bool has_paddr;
    bool has_value;         /* values=on (format version 2) */
    uint8_t value[16];      /* the value, least significant byte first;
                               (1 << size_shift) bytes */
} ElMemAccess;

/* A register's value (registers in the binary trace: reg= with format=bin) */
typedef struct ElRegWrite {
    const char *name;       /* as QEMU names it, NUL-terminated */
    uint32_t id;            /* register number within the trace */
    uint32_t size;          /* bytes */
    const uint8_t *bytes;   /* the new value as QEMU's qemu_plugin_read_register gives it */
} ElRegWrite;

/* One executed instruction of a vCPU, with its accesses. */
typedef struct ElExec {
    uint32_t vcpu;
    uint64_t index;         /* 0, 1, 2, ... per vCPU */
    const ElInsnInfo *insn;
    const ElMemAccess *mem; /* valid until the next el_cursor_next() */
    size_t n_mem;
    const ElRegWrite *regs; /* registers this instruction changed (valid until next el_cursor_next) */
    size_t n_regs;
    uint64_t offset;        /* file offset of its BLOCK record; in a
                               compressed chunk: the chunk's payload offset
                               plus the record's place in the decompressed
                               records (unique per block, not a file
                               position) */
} ElExec;

/* What the file header and the chunk index say. */
typedef struct ElTraceSummary {
    uint16_t version;
    uint16_t min_reader;
    uint32_t state;         /* EL_STATE_* */
    uint32_t flags;         /* EL_FLAG_* */
    uint32_t api;
    uint32_t chunk_size;
    const char *meta;       /* "key=value\n" lines, NUL-terminated */
    uint64_t file_size;
    uint64_t n_chunks;
    uint32_t n_vcpus;       /* highest vCPU index with a chunk, plus one */
    uint64_t n_insns_static;
    uint64_t n_tbs;
    bool complete;          /* state == COMPLETE and every chunk sealed */
    bool being_written;     /* state == RECORDING and the recording (or the
                               watcher writing out its end) still goes on:
                               its writer held the file's lock at open */
    uint64_t cut_offset;    /* if !complete: where readable data ends */
    char cut_reason[160];   /* if !complete: why, one line */
} ElTraceSummary;

/*
 * Open a trace and index it: reads the header, walks the chunks, loads the
 * static records. A trace that was cut off opens fine (see summary); a file
 * that is not a trace, or whose header or static records are damaged, does
 * not. Returns NULL and fills @err on failure. The trace keeps the file
 * open (and reads it with pread(2)) until el_trace_close(), but holds no
 * lock on it.
 */
ElTrace *el_trace_open(const char *path, ElError *err);
void el_trace_close(ElTrace *t);

const ElTraceSummary *el_trace_summary(const ElTrace *t);

/* Value of a metadata key, or NULL. Returns a pointer into a static buffer
 * of the trace, valid until the next call. */
const char *el_trace_meta(ElTrace *t, const char *key);

/*
 * Static instruction number @id (0 .. n_insns_static - 1), or NULL. The
 * instructions are one array: every ElExec.insn a cursor hands out is
 * el_trace_insn(t, 0) + its number. Valid until el_trace_close().
 */
const ElInsnInfo *el_trace_insn(const ElTrace *t, uint64_t id);

/*
 * Where vCPU @vcpu's instructions can be split for decoding in pieces
 * (version 2): the instruction numbers at which its chunks' first blocks
 * start, ascending, each once. A cursor seeked to one of them starts at
 * that chunk's records, without decoding anything before. Fills up to
 * @max of them into @out and returns how many there are: 0 for a
 * version-1 trace, a vCPU without chunks, or one whose chunks' first_insn
 * are out of order (damage: such a vCPU is decoded from its start).
 */
size_t el_trace_seek_points(const ElTrace *t, uint32_t vcpu, uint64_t *out,
                            size_t max);

/* Does vCPU @vcpu have any chunk (was it initialised)? */
bool el_trace_has_vcpu(const ElTrace *t, uint32_t vcpu);

/* Totals from a vCPU's EXIT record, if the trace has one. */
bool el_trace_exit_counts(const ElTrace *t, uint32_t vcpu, uint64_t *insns,
                          uint64_t *loads, uint64_t *stores);

/*
 * The registers a trace defines (for exporters needing every register):
 * ids 0 .. el_trace_n_regs() - 1. An ElExec's regs are what format=text
 * prints for its instruction with reg=: the watched registers whose value
 * changed from the start of the instruction to the start of the next one
 * (none for a vCPU's last instruction). el_trace_reg()'s bytes are the
 * value when the first vCPU that watched it was initialised, or NULL.
 * Valid while the trace is open.
 */
size_t el_trace_n_regs(const ElTrace *t);
const ElRegWrite *el_trace_reg(const ElTrace *t, size_t i); /* bytes: initial value, or NULL */

/*
 * File mappings / modules (user mode): the guest's files QEMU mapped (the
 * main program, its loader, every shared object whose code ran), as the
 * trace's MODULE records say, in the order they were found. path is the
 * file's absolute name as the host has it (with QEMU's -L, the file in
 * that sysroot). System-mode traces have none. el_trace_module() returns
 * NULL for @i out of range; the pointers are valid until el_trace_close().
 */
typedef struct ElModule {
    const char *path;       /* as the guest's file was named (absolute when known) */
    uint64_t start, end;    /* guest virtual range, end exclusive, of the whole mapping of the file */
    uint64_t offset;        /* file offset mapped at start */
    bool executable;
} ElModule;
size_t el_trace_n_modules(const ElTrace *t);
const ElModule *el_trace_module(const ElTrace *t, size_t i);

/* A cursor walks one vCPU's executed instructions in order. */
typedef struct ElCursor ElCursor;

ElCursor *el_cursor_new(ElTrace *t, uint32_t vcpu, ElError *err);
void el_cursor_free(ElCursor *c);

/*
 * Next executed instruction. Returns 1 with @e filled, 0 at the end of the
 * vCPU's records, -1 on damage (with @err; everything before was valid).
 * Reaching the end of a cut-off trace is 0, not an error. A file that was
 * truncated or rewritten since it was opened is damage (EL_ERR_DAMAGED,
 * at the offset where that was found); a read error is EL_ERR_IO.
 */
int el_cursor_next(ElCursor *c, ElExec *e, ElError *err);

/*
 * The next instructions at once, where that is cheap: instructions of the
 * block being decoded that have no memory accesses and no registers, the
 * ones el_cursor_next() would return next. Returns how many (at most
 * @max; 0 if the next instruction is not such, or it cannot tell without
 * decoding: then call el_cursor_next()), with *@ids their static
 * instruction numbers (el_trace_insn(); valid until the cursor moves
 * on), *@index the first one's index and *@offset their ElExec.offset;
 * the cursor moves past them. Never fails: what is wrong in the records
 * is found by el_cursor_next(), exactly where it would have been found
 * without this.
 */
size_t el_cursor_next_plain(ElCursor *c, size_t max, const uint32_t **ids,
                            uint64_t *index, uint64_t *offset);

/*
 * Seeking: the next el_cursor_next() returns the vCPU's instruction number
 * @index (0-based, as ElExec.index). In a version-2 trace the chunk holding
 * it is found through the chunk index (each chunk's first_insn), so that
 * the cost does not grow with @index (at most about a chunk is decoded);
 * a version-1 trace is decoded from its start. Returns 0 (also when
 * @index is past the vCPU's end: then el_cursor_next() returns 0), -1 with
 * @err on damage. May be called at any time, any number of times.
 */
int el_cursor_seek(ElCursor *c, uint64_t index, ElError *err);

/* Bytes of the file the cursor has consumed so far (for progress). */
uint64_t el_cursor_progress(const ElCursor *c);

#endif
