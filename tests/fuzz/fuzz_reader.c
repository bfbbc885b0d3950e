/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for the trace reader: the input is a trace file. Opens it,
 * reads the summary and metadata, and walks every vCPU's records, touching
 * every byte the reader hands out. Built as a libFuzzer target with clang
 * (build/fuzz-reader) and, with tests/fuzz/replay.c, as a plain program that
 * runs over a corpus (build/fuzz-replay).
 *
 * To fuzz (clang, in a build folder of its own):
 *   CC=clang CFLAGS=-fsanitize=fuzzer-no-link meson setup /tmp/fuzzbuild \
 *       -Db_sanitize=address,undefined -Db_lundef=false
 *   ninja -C /tmp/fuzzbuild fuzz-reader
 *   cp -r tests/fuzz/corpus /tmp/corpus
 *   /tmp/fuzzbuild/fuzz-reader -max_len=32768 -timeout=10 /tmp/corpus
 * and add what it finds (crash-*, timeout-*) to tests/fuzz/corpus.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdio.h>

#include "execlog/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Enough to reach any record of a small input, not to spin for minutes. */
#define MAX_EXECS_PER_VCPU (1u << 22)

static volatile uint64_t sink;

static void touch(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t s = 0;

    for (size_t i = 0; i < n; i++) {
        s += b[i];
    }
    sink += s;
}

static uint64_t mix(uint64_t h, uint64_t index, const void *insn, size_t n_mem)
{
    return (h ^ index ^ (uint64_t)(uintptr_t)insn ^ n_mem) * 0x100000001b3ull;
}

/*
 * The walk again with runs (el_cursor_next_plain() where it gives any):
 * the same instructions, and the same end, as el_cursor_next() alone.
 */
static void walk_runs(ElTrace *t, uint32_t vcpu, uint64_t want_n,
                      uint64_t want_h, int want_r, const ElError *want_err)
{
    ElError err;
    ElCursor *c = el_cursor_new(t, vcpu, &err);
    ElExec e;
    uint64_t n = 0, h = 0;
    int r = 0;

    if (!c) {
        return;
    }
    while (n < want_n) {
        const uint32_t *ids;
        uint64_t first, off;
        size_t k = el_cursor_next_plain(c, (size_t)(want_n - n), &ids, &first,
                                        &off);

        if (k > 0) {
            for (size_t j = 0; j < k; j++) {
                const ElInsnInfo *in = el_trace_insn(t, ids[j]);

                if (!in) {
                    abort();
                }
                h = mix(h, first + j, in, 0);
            }
            n += k;
            continue;
        }
        if ((r = el_cursor_next(c, &e, &err)) != 1) {
            break;
        }
        h = mix(h, e.index, e.insn, e.n_mem);
        n++;
    }
    if (n == want_n && want_r != 1) {
        r = el_cursor_next(c, &e, &err);    /* the end, or the damage */
    }
    if (n != want_n || h != want_h || (want_r != 1 && r != want_r) ||
        (want_r < 0 && (r >= 0 || strcmp(err.msg, want_err->msg) != 0 ||
                        err.offset != want_err->offset))) {
        abort();
    }
    el_cursor_free(c);
}

static void walk(ElTrace *t, uint32_t vcpu)
{
    ElError err;
    ElCursor *c = el_cursor_new(t, vcpu, &err);
    ElExec e;
    uint64_t n = 0, h = 0;
    int r = 0;

    if (!c) {
        return;
    }
    while (n < MAX_EXECS_PER_VCPU && (r = el_cursor_next(c, &e, &err)) == 1) {
        n++;
        h = mix(h, e.index, e.insn, e.n_mem);
        touch(e.insn->bytes, e.insn->size);
        touch(e.insn->disas, strlen(e.insn->disas) + 1);
        for (size_t i = 0; i < e.n_mem; i++) {
            sink += e.mem[i].vaddr + e.mem[i].size_shift;
            if (e.mem[i].has_paddr) {
                touch(e.mem[i].device, strlen(e.mem[i].device) + 1);
            }
        }
        if ((n & 0xfff) == 0) {
            sink += el_cursor_progress(c);
        }
    }
    if (r < 0) {
        touch(err.msg, strlen(err.msg));
        /* the error stays */
        ElError again;

        if (el_cursor_next(c, &e, &again) != -1) {
            abort();
        }
    }
    el_cursor_free(c);
    walk_runs(t, vcpu, n, h, r, &err);
    /* where the vCPU can be split: a seeked cursor starts exactly there */
    uint64_t pts[64];
    size_t np = el_trace_seek_points(t, vcpu, pts, 64);

    for (size_t i = 0; i < np && i < 64; i++) {
        if (i > 0 && pts[i] <= pts[i - 1]) {
            abort();
        }
        c = el_cursor_new(t, vcpu, &err);
        if (c && el_cursor_seek(c, pts[i], &err) == 0 &&
            el_cursor_next(c, &e, &err) == 1 && e.index != pts[i]) {
            abort();
        }
        el_cursor_free(c);
    }
    /* seeking: to the middle of what was read, then past it */
    c = el_cursor_new(t, vcpu, &err);
    if (c) {
        uint64_t k = n / 2;

        if (el_cursor_seek(c, k, &err) == 0 &&
            el_cursor_next(c, &e, &err) == 1 && e.index != k) {
            abort();
        }
        if (el_cursor_seek(c, n + 1000, &err) == 0 &&
            el_cursor_next(c, &e, &err) == 1 && e.index != n + 1000) {
            abort();
        }
        el_cursor_free(c);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    ElError err;
    ElTrace *t;
    int fd = memfd_create("trace", MFD_CLOEXEC);

    if (fd < 0) {
        return 0;
    }
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    t = el_trace_open(path, &err);
    if (!t) {
        if (err.code == EL_OK || memchr(err.msg, 0, sizeof(err.msg)) == NULL) {
            abort();
        }
    } else {
        const ElTraceSummary *s = el_trace_summary(t);
        uint64_t a, b, c;

        touch(s->meta, strlen(s->meta));
        touch(s->cut_reason, strlen(s->cut_reason));
        if (el_trace_meta(t, "qemu")) {
            touch(el_trace_meta(t, "qemu"), 1);
        }
        for (size_t i = 0; i < el_trace_n_modules(t); i++) {
            const ElModule *m = el_trace_module(t, i);

            touch(m->path, strlen(m->path) + 1);
            sink += m->start + m->end + m->offset;
        }
        for (uint32_t v = 0; v < s->n_vcpus; v++) {
            if (el_trace_has_vcpu(t, v)) {
                el_trace_exit_counts(t, v, &a, &b, &c);
                walk(t, v);
            }
        }
        walk(t, s->n_vcpus);            /* a vCPU with no chunk */
        el_trace_close(t);
    }
    close(fd);
    return 0;
}
