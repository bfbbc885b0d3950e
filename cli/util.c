/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared pieces of the execlog command-line tool (cli.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"


void cli_msg(const char *fmt, ...)
{
    va_list ap;

    fputs("execlog: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "execlog%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'execlog %s%s--help'.\n", cmd ? cmd : "",
            cmd ? " " : "");
    return EXIT_USAGE;
}

int cli_trace_error(const char *file, const ElError *err)
{
    switch (err->code) {
    case EL_ERR_IO:
        cli_msg("%s: %s", file, err->msg);
        return EXIT_IO;
    case EL_ERR_NOMEM:
        cli_msg("%s: %s", file, err->msg);
        return EXIT_IO;
    default:
        cli_msg("%s: offset 0x%" PRIx64 ": %s", file, err->offset, err->msg);
        return EXIT_DAMAGED;
    }
}

ElTrace *cli_open_arg(const char *cmd, int argc, char **argv, int optind,
                      const char **file, int *rc)
{
    ElError err;
    ElTrace *t;

    if (optind != argc - 1) {
        *rc = cli_usage(cmd, optind >= argc ? "no TRACE given" :
                        "one TRACE only");
        return NULL;
    }
    *file = argv[optind];
    t = el_trace_open(*file, &err);
    if (!t) {
        *rc = cli_trace_error(*file, &err);
    }
    return t;
}

int cli_trace_end(const char *file, ElTrace *t)
{
    const ElTraceSummary *s = el_trace_summary(t);

    if (s->complete) {
        return EXIT_OK;
    }
    if (s->state == EL_STATE_COMPLETE) {
        cli_msg("%s: offset 0x%" PRIx64 ": %s", file, s->cut_offset,
                s->cut_reason);
        return EXIT_DAMAGED;
    }
    cli_msg("%s: trace was cut off at offset 0x%" PRIx64 ": %s", file,
            s->cut_offset, s->cut_reason);
    return EXIT_OK;
}

bool cli_parse_u64(const char *s, uint64_t *v)
{
    char *end;

    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ') {
        return false;
    }
    errno = 0;
    *v = strtoull(s, &end, 0);
    return errno == 0 && *end == '\0';
}

/* ---- Output ------------------------------------------------------------ */

bool out_init(OutBuf *o, int fd, size_t cap)
{
    o->buf = malloc(cap);
    o->len = 0;
    o->cap = o->buf ? cap : 0;
    o->fd = fd;
    o->error = 0;
    o->sink = NULL;
    o->sink_ctx = NULL;
    return o->buf != NULL;
}

void out_flush(OutBuf *o)
{
    size_t done = 0;

    if (o->sink) {
        if (o->len && !o->error) {
            o->sink(o);
        }
        return;
    }
    while (done < o->len && !o->error) {
        ssize_t n = write(o->fd, o->buf + done, o->len - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            o->error = n < 0 ? errno : EIO;
            break;
        }
        done += (size_t)n;
    }
    o->len = 0;
}

bool out_write(OutBuf *o, const char *p, size_t n)
{
    size_t done = 0;

    out_flush(o);
    while (done < n && !o->error) {
        ssize_t w = write(o->fd, p + done, n - done);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            o->error = w < 0 ? errno : EIO;
            break;
        }
        done += (size_t)w;
    }
    return !o->error;
}

bool out_room_slow(OutBuf *o, size_t n)
{
    out_flush(o);
    if (o->sink && (o->error || o->cap - o->len < n)) {
        return false;       /* a worker's buffers do not grow */
    }
    if (o->cap >= n) {
        return true;
    }
    char *b = realloc(o->buf, n);

    if (!b) {
        return false;
    }
    o->buf = b;
    o->cap = n;
    return true;
}

int out_close(OutBuf *o)
{
    out_flush(o);
    free(o->buf);
    o->buf = NULL;
    if (o->error) {
        cli_msg("cannot write the output: %s", strerror(o->error));
        return EXIT_IO;
    }
    return EXIT_OK;
}

/* ---- Progress ---------------------------------------------------------- */

#define PROGRESS_MIN_BYTES (64u << 20)

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void progress_init(Progress *p, uint64_t total)
{
    struct stat a, b;

    memset(p, 0, sizeof(*p));
    p->total = total;
    p->last_pct = -1;
    if (total < PROGRESS_MIN_BYTES || !isatty(STDERR_FILENO)) {
        return;
    }
    /* not over the output itself */
    if (isatty(STDOUT_FILENO) && fstat(STDOUT_FILENO, &a) == 0 &&
        fstat(STDERR_FILENO, &b) == 0 && a.st_rdev == b.st_rdev) {
        return;
    }
    p->on = true;
}

void progress_update(Progress *p, uint64_t done)
{
    uint64_t t;
    int pct, width = 40, fill;
    char bar[64];

    if (!p->on) {
        return;
    }
    t = now_ms();
    if (t - p->last_ms < 100) {
        return;
    }
    p->last_ms = t;
    if (done > p->total) {
        done = p->total;
    }
    pct = (int)(done * 100 / p->total);
    if (pct == p->last_pct) {
        return;
    }
    p->last_pct = pct;
    fill = pct * width / 100;
    memset(bar, '#', (size_t)fill);
    memset(bar + fill, '.', (size_t)(width - fill));
    bar[width] = '\0';
    fprintf(stderr, "\r[%s] %3d%%", bar, pct);
    fflush(stderr);
}

void progress_end(Progress *p)
{
    if (p->on && p->last_pct >= 0) {
        fprintf(stderr, "\r%*s\r", 48, "");
        fflush(stderr);
    }
    p->on = false;
}
