/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qemu-plugin.h>

static int sink_fd = -1;
static char *sink_path;
static uint64_t lost_bytes;     /* atomic */
static int failed;              /* atomic: first failure already reported */
static uint64_t appended;       /* atomic: bytes handed to write() */
static uint64_t reserved;       /* atomic: end of the preallocated blocks */

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
    return sink_fd;
}

void el_sink_use_fd(int fd)
{
    sink_fd = fd;
    if (!sink_path) {
        sink_path = strdup("QEMU's log");
    }
}

void el_sink_use_outs(void)
{
    sink_fd = -1;
}

int el_sink_open_file(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
                  0644);

    if (fd < 0) {
        snprintf(err, errlen, "outfile '%s': cannot open: %s", path,
                 strerror(errno));
        return -1;
    }
    sink_fd = fd;
    sink_path = strdup(path);
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

void el_sink_write(char *buf, size_t len)
{
    if (len == 0) {
        return;
    }
    if (sink_fd < 0) {
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
    preallocate(__atomic_add_fetch(&appended, len, __ATOMIC_RELAXED));
    while (len > 0) {
        ssize_t n = write(sink_fd, buf, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            write_failed(len, n < 0 ? errno : ENOSPC);
            return;
        }
        buf += n;
        len -= (size_t)n;
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
    if (sink_fd >= 0) {
        /* Give back the blocks preallocated past the end. */
        off_t end = lseek(sink_fd, 0, SEEK_END);

        if (end >= 0) {
            (void)ftruncate(sink_fd, end);
        }
        close(sink_fd);
        sink_fd = -1;
    }
}
