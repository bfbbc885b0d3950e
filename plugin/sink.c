/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qemu-plugin.h>

#include "watcher.h"

static enum { SINK_OUTS, SINK_FILE, SINK_FD } mode = SINK_OUTS;
static int sink_fd = -1;
static bool own_fd;             /* outfile= (not QEMU's log) */
static char *sink_path;
static uint64_t reserved;       /* atomic: end of the preallocated blocks */

/*
 * outfile=: where the next batch goes, whether a write failed and where the
 * trace then ends. Shared (with the watcher and with the QEMU of a forked
 * guest), so that every batch has a place of its own in the file, a batch
 * can be written again at its place, and nothing goes out after a failure.
 */
typedef struct SinkState {
    uint64_t file_end;          /* atomic */
    uint64_t cut_at;            /* atomic: where the trace ends, if cut */
    int failed;                 /* atomic: first failure already reported */
} SinkState;

static SinkState local = { 0, UINT64_MAX, 0 };
static SinkState *ss = &local;

/*
 * A pipe, FIFO or terminal (SINK_FD) has no places: a write() of more than
 * PIPE_BUF bytes may be split, and the pieces of batches that several
 * vCPUs write at once would interleave, tearing lines. One batch is
 * written at a time, under this lock: taken once per batch (about 1 MiB of
 * lines), never per instruction; a vCPU waiting for it would otherwise
 * wait for the pipe's reader all the same.
 */
static pthread_mutex_t fd_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * "-d plugin -D FILE": qemu_plugin_outs() says nothing of a failed write,
 * so the log file's size is checked after each batch: it must have grown
 * by at least what was handed over (QEMU flushes the log at the end of
 * each call; anything else QEMU logs only adds to it).
 */
static int log_fd = -1;
static uint64_t log_base;       /* its size at start */
static uint64_t log_handed;     /* atomic: bytes handed to QEMU's log */

/*
 * Blocks are allocated ahead of the file's end in large steps (without
 * changing its size): many small allocations while appending cost more
 * than the copying itself on some file systems, and vary wildly.
 */
#define PREALLOC_STEP (64ull << 20)

static void preallocate(uint64_t end)
{
    uint64_t r = __atomic_load_n(&reserved, __ATOMIC_RELAXED);

    while (end > r) {
        uint64_t next = r + PREALLOC_STEP;

        if (__atomic_compare_exchange_n(&reserved, &r, next, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            /* Best effort: where unsupported, write() allocates. */
            (void)fallocate(sink_fd, FALLOC_FL_KEEP_SIZE, (off_t)r,
                            (off_t)PREALLOC_STEP);
            r = next;
        }
    }
}

int el_sink_fd(void)
{
    return own_fd ? sink_fd : -1;
}

void el_sink_use_fd(int fd)
{
    if (own_fd) {
        sink_fd = fd;           /* a copy of outfile's: keep the mode */
        return;
    }
    mode = SINK_FD;
    sink_fd = fd;
    if (!sink_path) {
        sink_path = strdup("QEMU's log");
    }
}

void el_sink_use_outs(void)
{
    int fd = el_watch_find_qemu_log();
    struct stat st;

    mode = SINK_OUTS;
    sink_fd = -1;
    if (fd > 2 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        char link[64], target[PATH_MAX];
        ssize_t n;

        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        n = readlink(link, target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = '\0';
        log_fd = fd;
        log_base = (uint64_t)st.st_size;
        sink_path = strdup(n > 0 ? target : "QEMU's log");
    }
}

/* After a batch went to QEMU's log: did all of it reach the file? */
static void check_log(size_t len)
{
    uint64_t handed = __atomic_add_fetch(&log_handed, len, __ATOMIC_RELAXED);
    struct stat st;

    if (fstat(log_fd, &st) == 0 && (uint64_t)st.st_size < log_base + handed &&
        __atomic_exchange_n(&ss->failed, 1, __ATOMIC_RELAXED) == 0) {
        fprintf(stderr, "execlog: QEMU's log '%s': a write failed (file "
                "system full?); recording stopped, the trace ends at byte "
                "%llu\n", sink_path, (unsigned long long)st.st_size);
    }
}

/*
 * A text trace is truncated in place, as a shell's ">" does (format=bin
 * writes a new file instead: its reader maps the file, and a mapped file
 * truncated under it would kill the reader with SIGBUS). No reader of ours
 * maps a text trace, and "tail -f" goes on following the same file.
 */
int el_sink_open_file(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    void *m;

    if (fd < 0) {
        snprintf(err, errlen, "outfile '%s': cannot open: %s", path,
                 strerror(errno));
        return -1;
    }
    m = mmap(NULL, sizeof(*ss), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        snprintf(err, errlen, "outfile '%s': %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    ss = m;
    ss->cut_at = UINT64_MAX;
    sink_fd = fd;
    own_fd = true;
    sink_path = strdup(path);
    /* a pipe or a terminal has no places: batches just follow each other */
    struct stat st;
    mode = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? SINK_FILE : SINK_FD;
    return 0;
}

/*
 * A batch failed: said once, with where the trace ends — after the last
 * whole line written (@cut; UINT64_MAX: a pipe, no place). el_sink_close()
 * cuts off any part of a line. Lines after it are not written either: the
 * trace stays a prefix of the run.
 */
static void write_failed(int e, uint64_t cut)
{
    uint64_t c = __atomic_load_n(&ss->cut_at, __ATOMIC_RELAXED);

    while (cut < c &&
           !__atomic_compare_exchange_n(&ss->cut_at, &c, cut, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
    if (__atomic_exchange_n(&ss->failed, 1, __ATOMIC_RELAXED) == 0) {
        if (cut != UINT64_MAX) {
            fprintf(stderr, "execlog: outfile '%s': write failed: %s; "
                    "recording stopped, the trace ends at byte %llu\n",
                    sink_path ? sink_path : "?", strerror(e),
                    (unsigned long long)cut);
        } else {
            fprintf(stderr, "execlog: outfile '%s': write failed: %s; "
                    "recording stopped, the trace is incomplete\n",
                    sink_path ? sink_path : "?", strerror(e));
        }
    }
}

/*
 * Write it all at @off (or, with off == UINT64_MAX, where the fd is). A
 * batch written in part ends the trace after its last whole line.
 */
static bool write_all(const char *buf, size_t len, uint64_t off)
{
    const char *start = buf;

    while (len > 0) {
        ssize_t n = off == UINT64_MAX ? write(sink_fd, buf, len)
                                      : pwrite(sink_fd, buf, len, (off_t)off);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int e = n < 0 ? errno : ENOSPC;
            uint64_t cut = UINT64_MAX;

            if (off != UINT64_MAX) {
                const char *nl = memrchr(start, '\n', (size_t)(buf - start));
                size_t whole = nl ? (size_t)(nl - start) + 1 : 0;

                cut = off - (uint64_t)(buf - start) + whole;
            }
            write_failed(e, cut);
            return false;
        }
        buf += n;
        len -= (size_t)n;
        if (off != UINT64_MAX) {
            off += (uint64_t)n;
        }
    }
    return true;
}

void el_sink_write_placed(char *buf, size_t len, uint64_t *placed)
{
    if (len == 0) {
        return;
    }
    if (mode == SINK_OUTS) {
        char saved = buf[len];

        if (__atomic_load_n(&ss->failed, __ATOMIC_RELAXED)) {
            return;
        }
        buf[len] = '\0';
        qemu_plugin_outs(buf);
        buf[len] = saved;
        if (log_fd >= 0) {
            check_log(len);
        }
        return;
    }
    if (__atomic_load_n(&ss->failed, __ATOMIC_RELAXED)) {
        /* Once a write failed, later lines would leave a gap: keep none. */
        return;
    }
    if (mode == SINK_FD) {
        pthread_mutex_lock(&fd_lock);
        write_all(buf, len, UINT64_MAX);
        pthread_mutex_unlock(&fd_lock);
        return;
    }
    /* the place is claimed and noted in one step (see vcpu.c) */
    *placed = __atomic_fetch_add(&ss->file_end, len, __ATOMIC_RELAXED);
    preallocate(*placed + len);
    write_all(buf, len, *placed);
}

bool el_sink_positional(void)
{
    return mode == SINK_FILE && !__atomic_load_n(&ss->failed, __ATOMIC_RELAXED);
}

bool el_sink_claim(size_t len, uint64_t *placed)
{
    if (!el_sink_positional()) {
        return false;
    }
    /* the place is claimed and noted in one step (see vcpu.c) */
    *placed = __atomic_fetch_add(&ss->file_end, len, __ATOMIC_RELAXED);
    return true;
}

void el_sink_write_at(const char *buf, size_t len, uint64_t placed)
{
    if (len == 0 || __atomic_load_n(&ss->failed, __ATOMIC_RELAXED)) {
        return;
    }
    preallocate(placed + len);
    write_all(buf, len, placed);
}

void el_sink_write(char *buf, size_t len)
{
    uint64_t placed;

    el_sink_write_placed(buf, len, &placed);
}

void el_sink_rewrite(const char *buf, size_t len, uint64_t placed)
{
    if (mode == SINK_FILE && placed != UINT64_MAX) {
        write_all(buf, len, placed);
    } else {
        el_sink_write((char *)buf, len);
    }
}

void el_sink_close(void)
{
    uint64_t cut = __atomic_load_n(&ss->cut_at, __ATOMIC_RELAXED);

    if (mode == SINK_FILE && sink_fd >= 0) {
        /* The file ends where the last batch does (or the trace was cut):
         * give back the blocks preallocated past it. */
        (void)ftruncate(sink_fd, (off_t)(cut != UINT64_MAX ? cut :
                                        __atomic_load_n(&ss->file_end,
                                                        __ATOMIC_RELAXED)));
    }
    if (sink_fd >= 0 && own_fd) {
        close(sink_fd);
    }
    sink_fd = -1;
}
