/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared pieces of the execlog command-line tool: exit codes, messages,
 * a large output buffer formatted by hand, and the progress bar.
 */
#ifndef EXECLOG_CLI_H
#define EXECLOG_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "execlog/textfmt.h"
#include "execlog/reader.h"

/* Exit codes (documented in `execlog --help`). */
enum {
    EXIT_OK = 0,
    EXIT_USAGE = 1,
    EXIT_DAMAGED = 2,
    EXIT_IO = 3,
};

/* The subcommands: argv[0] is the subcommand's name. */
int cmd_dump(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_export(int argc, char **argv);          /* export.c: the dispatcher */
int cmd_export_drcov(int argc, char **argv);    /* export --drcov */
int cmd_diff(int argc, char **argv);

/* The exporters (export.c calls the one the options name). */
int export_tenet(int argc, char **argv);

/* ---- Messages ---------------------------------------------------------- */

/* "execlog: MESSAGE" on stderr. */
void cli_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A usage error: "execlog CMD: MESSAGE" and a hint to --help, on stderr.
 * Returns EXIT_USAGE.
 */
int cli_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * An error from the library: "execlog: FILE: offset 0x1f40: MESSAGE"
 * (I/O errors have no offset). Returns the exit code it calls for.
 */
int cli_trace_error(const char *file, const ElError *err);

/*
 * The one TRACE argument of command @cmd (argv[optind], the last), opened;
 * or NULL after saying why not (a usage error, or the library's), with the
 * exit code in *@rc.
 */
ElTrace *cli_open_arg(const char *cmd, int argc, char **argv, int optind,
                      const char **file, int *rc);

/*
 * After reading a trace: if it is not complete, say so on stderr (a note
 * for a trace that was cut off while recording, an error for a damaged
 * one). Returns the exit code for it (0 or EXIT_DAMAGED).
 */
int cli_trace_end(const char *file, ElTrace *t);

/* Parse an unsigned number (decimal, or hex with 0x). */
bool cli_parse_u64(const char *s, uint64_t *v);

/* ---- Output ------------------------------------------------------------ */

/*
 * A large buffer written to a file descriptor with write(2), or handed to
 * @sink when full (a worker thread's output, parallel.h): the sink takes
 * buf and leaves a new one (or sets error, and buf NULL, cap 0).
 */
typedef struct OutBuf {
    char *buf;
    size_t len, cap;
    int fd;
    int error;              /* errno of the first failed write, or 0 */
    void (*sink)(struct OutBuf *o);
    void *sink_ctx;
} OutBuf;

bool out_init(OutBuf *o, int fd, size_t cap);
void out_flush(OutBuf *o);
/* Flush, then write @n bytes at @p straight to the file descriptor. False
 * if a write failed (o->error says why). */
bool out_write(OutBuf *o, const char *p, size_t n);
/* Flush, free; returns EXIT_IO (with a message) if a write failed. */
int out_close(OutBuf *o);
/* Room for @n more bytes at o->buf + o->len (grows for huge lines). */
bool out_room_slow(OutBuf *o, size_t n);

static inline bool out_room(OutBuf *o, size_t n)
{
    if (o->cap - o->len >= n) {
        return true;
    }
    return out_room_slow(o, n);
}

static inline void out_mem(OutBuf *o, const void *p, size_t n)
{
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}

static inline void out_ch(OutBuf *o, char c)
{
    o->buf[o->len++] = c;
}

/* Write @s (needs out_room). */
#define OUT_LIT(o, s) out_mem((o), (s), sizeof(s) - 1)

static inline void out_hex(OutBuf *o, uint64_t v, unsigned mindigits)
{
    o->len += el_fmt_hex(o->buf + o->len, v, mindigits);
}

static inline void out_u64(OutBuf *o, uint64_t v)
{
    o->len += el_fmt_u64(o->buf + o->len, v);
}

/*
 * One line of @e as 'execlog dump' prints it (format=text), into @o; for
 * commands that print a few lines (dump.c). False when out of memory.
 */
bool dump_text_line(OutBuf *o, const ElTrace *t, const ElExec *e);

/* ---- Progress ---------------------------------------------------------- */

/*
 * A progress bar on stderr, shown only when stderr is a terminal (and not
 * the same one as stdout) and the trace is large.
 */
typedef struct Progress {
    bool on;
    uint64_t total;
    uint64_t last_ms;
    int last_pct;
} Progress;

void progress_init(Progress *p, uint64_t total);
/* Cheap to call often: redraws at most every 100 ms. */
void progress_update(Progress *p, uint64_t done);
void progress_end(Progress *p);

#endif
