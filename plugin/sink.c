/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qemu-plugin.h>

static enum { SINK_OUTS, SINK_FILE, SINK_FD } mode = SINK_OUTS;
static int sink_fd = -1;
static bool own_fd;             /* outfile= (not QEMU's log) */
static char *sink_path;
static uint64_t lost_bytes;     /* atomic */
static int failed;              /* atomic: first failure already reported */
static uint64_t reserved;       /* atomic: end of the preallocated blocks */

/*
 * outfile=: where the next batch goes. Shared (also with the watcher and
 * with the QEMU of a forked guest), so that every batch has a place of its
 * own in the file and a batch can be written again at its place.
 */
static uint64_t *file_end;

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
    mode = SINK_OUTS;
    sink_fd = -1;
}

int el_sink_open_file(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    void *m;

    if (fd < 0) {
        snprintf(err, errlen, "outfile '%s': cannot open: %s", path,
                 strerror(errno));
        return -1;
    }
    m = mmap(NULL, sizeof(*file_end), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        snprintf(err, errlen, "outfile '%s': %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    file_end = m;
    sink_fd = fd;
    own_fd = true;
    sink_path = strdup(path);
    /* a pipe or a terminal has no places: batches just follow each other */
    struct stat st;
    mode = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? SINK_FILE : SINK_FD;
    return 0;
}

static void write_failed(size_t len, int e)
{
    __atomic_add_fetch(&lost_bytes, len, __ATOMIC_RELAXED);
    if (__atomic_exchange_n(&failed, 1, __ATOMIC_RELAXED) == 0) {
        fprintf(stderr, "execlog: outfile '%s': write failed: %s; "
                "the trace is incomplete from here\n",
                sink_path ? sink_path : "?", strerror(e));
    }
}

/* Write it all at @off (or, with off == UINT64_MAX, where the fd is). */
static bool write_all(const char *buf, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t n = off == UINT64_MAX ? write(sink_fd, buf, len)
                                      : pwrite(sink_fd, buf, len, (off_t)off);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            write_failed(len, n < 0 ? errno : ENOSPC);
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

        buf[len] = '\0';
        qemu_plugin_outs(buf);
        buf[len] = saved;
        return;
    }
    if (__atomic_load_n(&failed, __ATOMIC_RELAXED)) {
        /* Once a write failed, later lines would leave a gap: keep none. */
        __atomic_add_fetch(&lost_bytes, len, __ATOMIC_RELAXED);
        return;
    }
    if (mode == SINK_FD) {
        write_all(buf, len, UINT64_MAX);
        return;
    }
    /* the place is claimed and noted in one step (see vcpu.c) */
    *placed = __atomic_fetch_add(file_end, len, __ATOMIC_RELAXED);
    preallocate(*placed + len);
    write_all(buf, len, *placed);
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
    uint64_t lost = __atomic_load_n(&lost_bytes, __ATOMIC_RELAXED);

    if (lost) {
        fprintf(stderr, "execlog: outfile '%s': %llu bytes of trace were "
                "not written; the trace is incomplete\n",
                sink_path, (unsigned long long)lost);
    }
    if (mode == SINK_FILE && sink_fd >= 0 && !lost) {
        /* The file ends where the last batch does: give back the blocks
         * preallocated past it. */
        (void)ftruncate(sink_fd, (off_t)__atomic_load_n(file_end,
                                                        __ATOMIC_RELAXED));
    }
    if (sink_fd >= 0 && own_fd) {
        close(sink_fd);
    }
    sink_fd = -1;
}
