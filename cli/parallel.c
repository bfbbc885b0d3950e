/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Decoding one vCPU's instructions in pieces on several threads
 * (parallel.h): the ranges, the worker threads, and the main thread's
 * in-order hand-over of their output.
 *
 * One mutex guards the job's state; workers take it once per range and
 * once per output buffer (PAR_BUF bytes), never per instruction. Output
 * buffers are recycled through a free list, so that the memory a dump
 * holds stays about (window + threads) ranges' output at most and fresh
 * pages are not faulted in for every buffer.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "parallel.h"

#define PAR_BUF (2u << 20)
#define WORKER_STACK (512u << 10)
/* ranges are at least this many instructions (but the last) */
#define PAR_MIN_RANGE ((uint64_t)1 << 16)

typedef struct Piece {
    struct Piece *next;
    size_t len;
    char *buf;
    uint64_t upto;          /* its lines are of instructions before this */
} Piece;

typedef struct RangeState {
    Piece *head, *tail;     /* output handed over, not yet emitted */
    bool done, ok;
    bool have_first;        /* first_off is known */
    uint64_t first_off;     /* ElExec.offset of its first instruction */
    uint64_t end_off;       /* ... of instruction hi, where it ended */
} RangeState;

typedef struct Worker {
    ParJob *job;
    unsigned index;
    pthread_t tid;
    bool started;
} Worker;

struct ParJob {
    ElTrace *t;
    uint32_t vcpu;
    const Range *ranges;
    size_t n;
    size_t window;
    ParWorkFn work;
    void *ctx;

    pthread_mutex_t mu;
    pthread_cond_t cv_main;     /* a range got output or was done */
    pthread_cond_t cv_work;     /* the window moved, or stop */
    size_t next;                /* the next range to start */
    size_t emitted;             /* ranges the main thread is done with */
    size_t fail_at;             /* no range from here on is started */
    bool stop;
    bool nomem;
    RangeState *st;
    Piece *free_pieces;         /* Piece structs to reuse */
    char **free_bufs;           /* buffers to reuse */
    size_t n_free_bufs, cap_free_bufs;
};

unsigned par_threads(void)
{
    const char *s = getenv("EXECLOG_THREADS");
    long n;

    if (s && *s) {
        char *end;

        n = strtol(s, &end, 10);
        if (*end == '\0' && n >= 1 && n <= 64) {
            return (unsigned)n;
        }
    }
    n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) {
        return 1;
    }
    return n > 8 ? 8 : (unsigned)n;
}

static uint64_t min_range(void)
{
    const char *s = getenv("EXECLOG_RANGE_MIN");

    if (s && *s) {
        char *end;
        unsigned long long v = strtoull(s, &end, 10);

        if (*end == '\0' && v >= 1) {
            return v;
        }
    }
    return PAR_MIN_RANGE;
}

size_t par_split(const ElTrace *t, uint32_t vcpu, uint64_t from,
                 Range **out)
{
    size_t np = el_trace_seek_points(t, vcpu, NULL, 0), n = 0;
    uint64_t *pts, lo = from, min = min_range();
    Range *r;

    *out = NULL;
    if (np < 2) {
        return 0;
    }
    pts = malloc(np * sizeof(*pts));
    r = malloc((np + 1) * sizeof(*r));
    if (!pts || !r) {
        free(pts);
        free(r);
        return 0;
    }
    el_trace_seek_points(t, vcpu, pts, np);
    for (size_t i = 0; i < np; i++) {
        if (pts[i] <= lo || pts[i] - lo < min) {
            continue;
        }
        r[n].lo = lo;
        r[n].hi = pts[i];
        n++;
        lo = pts[i];
    }
    r[n].lo = lo;
    r[n].hi = UINT64_MAX;
    n++;
    free(pts);
    if (n < 2) {
        free(r);
        return 0;
    }
    *out = r;
    return n;
}

size_t par_buf_size(void)
{
    return PAR_BUF;
}

/*
 * A new output buffer: PAR_BUF bytes aligned to PAR_BUF, in one huge page
 * where the kernel has them for the asking (page faults are most of what
 * fresh buffers cost: one per 4 KiB otherwise).
 */
static char *new_buf(void)
{
    size_t len = 2 * (size_t)PAR_BUF;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uintptr_t a;

    if (p == MAP_FAILED) {
        return NULL;
    }
    a = ((uintptr_t)p + PAR_BUF - 1) & ~(uintptr_t)(PAR_BUF - 1);
    if (a > (uintptr_t)p) {
        munmap(p, a - (uintptr_t)p);
    }
    if (a + PAR_BUF < (uintptr_t)p + len) {
        munmap((char *)a + PAR_BUF, (uintptr_t)p + len - a - PAR_BUF);
    }
#ifdef MADV_HUGEPAGE
    madvise((char *)a, PAR_BUF, MADV_HUGEPAGE);
#endif
    return (char *)a;
}

static void del_buf(char *buf)
{
    munmap(buf, PAR_BUF);
}

char *par_buf(ParJob *job)
{
    char *b = NULL;

    pthread_mutex_lock(&job->mu);
    if (job->n_free_bufs > 0) {
        b = job->free_bufs[--job->n_free_bufs];
    }
    pthread_mutex_unlock(&job->mu);
    return b ? b : new_buf();
}

/* Keep @buf for reuse (with the lock held). */
static void keep_buf(ParJob *job, char *buf)
{
    if (job->n_free_bufs == job->cap_free_bufs) {
        size_t cap = job->cap_free_bufs ? job->cap_free_bufs * 2 : 16;
        char **nb = realloc(job->free_bufs, cap * sizeof(*nb));

        if (!nb) {
            del_buf(buf);
            return;
        }
        job->free_bufs = nb;
        job->cap_free_bufs = cap;
    }
    job->free_bufs[job->n_free_bufs++] = buf;
}

void par_buf_release(char *buf)
{
    if (buf) {
        del_buf(buf);
    }
}

bool par_put(ParJob *job, size_t i, char *buf, size_t len, uint64_t upto)
{
    Piece *p;

    pthread_mutex_lock(&job->mu);
    p = job->free_pieces;
    if (p) {
        job->free_pieces = p->next;
    } else {
        p = malloc(sizeof(*p));
    }
    if (!p) {
        job->nomem = true;
        keep_buf(job, buf);
        pthread_cond_signal(&job->cv_main);
        pthread_mutex_unlock(&job->mu);
        return false;
    }
    p->next = NULL;
    p->len = len;
    p->buf = buf;
    p->upto = upto;
    if (job->st[i].tail) {
        job->st[i].tail->next = p;
    } else {
        job->st[i].head = p;
    }
    job->st[i].tail = p;
    pthread_cond_signal(&job->cv_main);
    pthread_mutex_unlock(&job->mu);
    return true;
}

void par_first(ParJob *job, size_t i, uint64_t offset)
{
    pthread_mutex_lock(&job->mu);
    job->st[i].have_first = true;
    job->st[i].first_off = offset;
    pthread_cond_signal(&job->cv_main);
    pthread_mutex_unlock(&job->mu);
}

static void *worker_main(void *arg)
{
    Worker *w = arg;
    ParJob *job = w->job;
    ElCursor *c = NULL;
    ElError err;

    pthread_mutex_lock(&job->mu);
    for (;;) {
        size_t i;
        bool ok;

        while (!job->stop && job->next < job->n &&
               job->next < job->fail_at &&
               job->next >= job->emitted + job->window) {
            pthread_cond_wait(&job->cv_work, &job->mu);
        }
        if (job->stop || job->next >= job->n || job->next >= job->fail_at) {
            break;
        }
        i = job->next++;
        pthread_mutex_unlock(&job->mu);

        const Range *r = &job->ranges[i];
        uint64_t end_off = UINT64_MAX;

        /* from the start: a new cursor, as the sequential way has */
        if (r->lo == 0 || !c) {
            el_cursor_free(c);
            c = el_cursor_new(job->t, job->vcpu, &err);
        }
        ok = c && (r->lo == 0 || el_cursor_seek(c, r->lo, &err) == 0) &&
             job->work(job, job->ctx, w->index, i, r, c, &end_off);

        pthread_mutex_lock(&job->mu);
        job->st[i].done = true;
        job->st[i].ok = ok;
        job->st[i].end_off = end_off;
        if (!ok && i < job->fail_at) {
            job->fail_at = i;
        }
        pthread_cond_signal(&job->cv_main);
    }
    pthread_mutex_unlock(&job->mu);
    el_cursor_free(c);
    return NULL;
}

long par_run(ElTrace *t, uint32_t vcpu, const Range *ranges, size_t n,
             unsigned threads, size_t window, ParWorkFn work, void *ctx,
             bool (*emit)(void *ctx, const char *buf, size_t len),
             void (*done)(void *ctx, size_t i), bool (*check)(void *ctx),
             uint64_t *resume)
{
    ParJob job = {
        .t = t, .vcpu = vcpu, .ranges = ranges, .n = n,
        .window = window ? window : 1, .work = work, .ctx = ctx,
        .fail_at = n,
    };
    Worker *w = calloc(threads, sizeof(*w));
    long result = (long)n;
    unsigned started = 0;

    job.st = calloc(n, sizeof(*job.st));
    *resume = n ? ranges[0].lo : 0;
    if (!w || !job.st) {
        free(w);
        free(job.st);
        return 0;           /* the caller does it all the sequential way */
    }
    pthread_mutex_init(&job.mu, NULL);
    pthread_cond_init(&job.cv_main, NULL);
    pthread_cond_init(&job.cv_work, NULL);
    /* small stacks: the workers need little, and address space may be
     * limited (ulimit -v) */
    pthread_attr_t attr;
    bool attr_ok = pthread_attr_init(&attr) == 0;

    if (attr_ok) {
        pthread_attr_setstacksize(&attr, WORKER_STACK);
    }
    for (unsigned k = 0; k < threads; k++) {
        w[k].job = &job;
        w[k].index = k;
        if (pthread_create(&w[k].tid, attr_ok ? &attr : NULL, worker_main,
                           &w[k]) != 0) {
            break;          /* go on with fewer */
        }
        w[k].started = true;
        started++;
    }
    if (attr_ok) {
        pthread_attr_destroy(&attr);
    }
    if (started == 0) {
        result = 0;
    }

    pthread_mutex_lock(&job.mu);
    for (size_t i = 0; i < n && result == (long)n; i++) {
        RangeState *s = &job.st[i];
        uint64_t upto = ranges[i].lo;

        /*
         * Where the range before ended (its instruction hi) and where this
         * one starts must be the same BLOCK record: a chunk header whose
         * first_insn is wrong puts a seeked cursor elsewhere, which only
         * one cursor going through would find out.
         */
        if (i > 0) {
            while (!s->have_first && !s->done && !job.nomem) {
                pthread_cond_wait(&job.cv_main, &job.mu);
            }
            if (!s->have_first || s->first_off != job.st[i - 1].end_off) {
                result = (long)i;
                *resume = upto;
                break;
            }
        }

        /*
         * A range's output is emitted as it comes: its lines are those
         * one cursor prints, up to where the range failed, if it does;
         * the caller goes on from there (*@resume) the sequential way.
         */
        for (;;) {
            Piece *p;

            while (!s->head && !s->done && !job.nomem) {
                pthread_cond_wait(&job.cv_main, &job.mu);
            }
            if (!s->head) {
                break;
            }
            p = s->head;
            s->head = p->next;
            if (!s->head) {
                s->tail = NULL;
            }
            pthread_mutex_unlock(&job.mu);
            bool wrote = emit(ctx, p->buf, p->len);

            pthread_mutex_lock(&job.mu);
            upto = p->upto;
            keep_buf(&job, p->buf);
            p->next = job.free_pieces;
            job.free_pieces = p;
            if (!wrote) {
                result = -1;
                break;
            }
        }
        if (result != (long)n) {
            break;
        }
        if (job.nomem || !s->ok) {
            result = (long)i;
            *resume = upto;
            break;
        }
        if (i == n - 1 && check) {
            /* every range is done: the checks of the whole vCPU */
            pthread_mutex_unlock(&job.mu);
            bool good = check(ctx);

            pthread_mutex_lock(&job.mu);
            if (!good) {
                result = (long)i;
                *resume = upto;
                break;
            }
        }
        job.emitted = i + 1;
        pthread_cond_broadcast(&job.cv_work);
        if (done) {
            pthread_mutex_unlock(&job.mu);
            done(ctx, i);
            pthread_mutex_lock(&job.mu);
        }
    }
    job.stop = true;
    pthread_cond_broadcast(&job.cv_work);
    pthread_mutex_unlock(&job.mu);
    for (unsigned k = 0; k < threads; k++) {
        if (w[k].started) {
            pthread_join(w[k].tid, NULL);
        }
    }

    for (size_t i = 0; i < n; i++) {
        while (job.st[i].head) {
            Piece *p = job.st[i].head;

            job.st[i].head = p->next;
            del_buf(p->buf);
            free(p);
        }
    }
    while (job.free_pieces) {
        Piece *p = job.free_pieces;

        job.free_pieces = p->next;
        free(p);
    }
    for (size_t k = 0; k < job.n_free_bufs; k++) {
        del_buf(job.free_bufs[k]);
    }
    free(job.free_bufs);
    free(job.st);
    free(w);
    pthread_cond_destroy(&job.cv_work);
    pthread_cond_destroy(&job.cv_main);
    pthread_mutex_destroy(&job.mu);
    return result;
}
