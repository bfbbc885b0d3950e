/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include "binwriter.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "shm.h"
#include "watcher.h"

#define DEFAULT_CHUNK_SIZE (1u << 20)
#define MAX_DEVICES 1024

/*
 * What the watcher must see as well: in shared memory (el_shm_alloc()),
 * allocated before the watcher is forked.
 */
typedef struct Shared {
    uint64_t next_off;          /* atomic: where the next chunk goes */
    int stopped;                /* atomic: recording stopped (disk full) */
    ElBinVcpu *writers;         /* all vCPU writers */
    uint8_t *zout;              /* the writer's compressed chunk */
    /*
     * The static chunk being filled: in memory, at its place in the file
     * (claimed, with blocks behind it, when the chunk starts), its records
     * written there at the end of each translation (el_bin_static_unlock).
     * Nothing of the file is ever mapped: a write into a mapping that a
     * full file system cannot back kills QEMU with SIGBUS.
     */
    ElBinVcpu stat;             /* its writer (vcpu EL_STATIC_VCPU) */
    uint8_t *stat_data;         /* its buffer: chunk header and records */
    uint64_t stat_off;          /* its place in the file */
    uint32_t stat_flushed;      /* bytes of stat_data the file has */
} Shared;

static Shared *sh;
static ElBinVcpu *static_w;     /* &sh->stat */
static int fd = -1;
static char *path;              /* as given, for messages */
static char *abs_path;          /* absolute, for a forked child's trace */
static uint32_t chunk_size;
static bool use_zstd;
/*
 * The file header as it goes to offset 0, in a page of its own shared with
 * the watcher and with the QEMU of a forked guest (which adds "child=" to
 * its parent's metadata): not in el_shm_alloc() memory, of which a forked
 * child gets a copy of its own. A spin lock word follows it.
 */
static uint8_t *header;
static int *meta_lock;
static pthread_mutex_t static_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t grow_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t *stat_offs;     /* places of the sealed static chunks */
static size_t n_stat_offs, cap_stat_offs;
static pid_t owner;             /* the process that records */
static ElBinBuf fork_mark;      /* a writer's prev in a forked child: forget
                                   the block before the fork (see
                                   el_bin_finish_prev) */
static void *zctx;              /* zstd context of whoever writes chunks */
static bool watched;            /* sh is in memory the watcher shares */

/* The writer thread's queue of full chunks (taken once per chunk). */
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t q_free = PTHREAD_COND_INITIALIZER;
static ElBinBuf *q_head, *q_tail;
static unsigned q_len;          /* chunks in the queue */
static unsigned q_waiting;      /* vCPUs waiting for a free buffer */
static bool q_draining;         /* at exit: the guest waits no more */
static bool q_closing;

/*
 * compress=zstd: the writer is behind when this many chunks wait for it,
 * or a vCPU waits for a buffer. It then writes the chunk uncompressed (a
 * reader takes each chunk as its flags say): compressing is for a core
 * that is free, never a reason for the guest to wait. (At exit, with the
 * guest done, every chunk left is compressed.)
 */
#define EL_BIN_BEHIND (EL_BIN_BUFS / 2)
static bool writer_running;
static pthread_t writer;

static struct {
    const char *ptr;
    uint32_t id;
} devices[MAX_DEVICES];
static uint32_t n_devices;      /* atomic */
static uint32_t next_device_id = 1;

/* ---- Stopping: said once, then every callback returns at once --------- */

static void stop_recording(const char *what, int e, uint64_t off)
{
    if (__atomic_exchange_n(&sh->stopped, 1, __ATOMIC_ACQ_REL) == 0) {
        fprintf(stderr, "execlog: outfile '%s': %s at offset %llu: %s; "
                "recording stopped, the trace is incomplete\n", path, what,
                (unsigned long long)off, strerror(e));
    }
}

static bool stopped(void)
{
    return __atomic_load_n(&sh->stopped, __ATOMIC_ACQUIRE);
}

/* ---- File space -------------------------------------------------------- */

/* Reserve @size bytes at the end of the file: their offset. */
static bool reserve(uint64_t size, uint64_t *off)
{
    if (stopped()) {
        return false;
    }
    *off = __atomic_fetch_add(&sh->next_off, size, __ATOMIC_RELAXED);
    return true;
}

/*
 * Put real blocks behind @size bytes at @off: a write into a mapped hole of
 * a full disk would kill QEMU with SIGBUS, and a chunk is written whole or
 * not at all.
 */
static bool allocate(uint64_t off, uint64_t size)
{
    int r;

    do {
        r = fallocate(fd, 0, (off_t)off, (off_t)size);
    } while (r != 0 && errno == EINTR);
    if (r != 0 && (errno == EOPNOTSUPP || errno == ENOSYS)) {
        off_t want = (off_t)(off + size);
        off_t cur;

        pthread_mutex_lock(&grow_lock);
        cur = lseek(fd, 0, SEEK_END);
        r = cur >= want ? 0 : ftruncate(fd, want);
        pthread_mutex_unlock(&grow_lock);
    }
    if (r != 0) {
        stop_recording("cannot extend the file", errno, off);
        return false;
    }
    return true;
}

static bool claim(uint64_t size, uint64_t *off)
{
    return reserve(size, off) && allocate(*off, size);
}

static bool pwrite_all(const uint8_t *buf, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, buf, len, (off_t)off);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            stop_recording("write failed", n < 0 ? errno : ENOSPC, off);
            return false;
        }
        buf += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return true;
}

/* ---- Chunks ------------------------------------------------------------ */

static void chunk_header(uint8_t *h, uint32_t vcpu, uint32_t seq,
                         uint64_t first_insn)
{
    memcpy(h, EL_CHUNK_MAGIC, 4);
    el_put_u16(h + EL_CK_VCPU, (uint16_t)vcpu);
    el_put_u16(h + EL_CK_FLAGS, 0);
    el_put_u32(h + EL_CK_SEQ, seq);
    el_put_u32(h + EL_CK_SLOT, chunk_size);
    el_put_u32(h + EL_CK_USED, 0);
    el_put_u32(h + EL_CK_RAW, 0);
    el_put_u64(h + EL_CK_FIRST_INSN, first_insn);
}

/*
 * Write the chunk in @b (its payload size in its header), sealed (with
 * @flags besides): as it is into a slot of the chunk size, or compressed
 * into a slot that fits. The place is noted in @b as soon as it is taken,
 * so that the watcher can write the bytes (again) if QEMU dies before they
 * are all out.
 */
static void write_chunk(ElBinBuf *b, uint16_t flags, bool compress)
{
    uint8_t *c = b->data;
    uint32_t used = el_get_u32(c + EL_CK_USED);
    uint64_t off;

    if (stopped()) {
        return;
    }
    if (!use_zstd || !compress) {
        el_put_u32(c + EL_CK_RAW, used);
        el_put_u16(c + EL_CK_FLAGS, EL_CK_SEALED | flags);
        if (reserve(chunk_size, &off)) {
            b->off = off;
            b->len = EL_CHUNK_HEADER_SIZE + used;
            b->zipped = false;
            __atomic_store_n(&b->state, EL_BUF_PLACED, __ATOMIC_RELEASE);
            if (allocate(off, chunk_size)) {
                pwrite_all(c, b->len, off);
            }
        }
        return;
    }

    uint8_t *out = sh->zout;
    size_t z = ZSTD_compressCCtx(zctx, out + EL_CHUNK_HEADER_SIZE,
                                 ZSTD_compressBound(chunk_size),
                                 c + EL_CHUNK_HEADER_SIZE, used, 1);
    uint64_t slot;

    if (ZSTD_isError(z)) {
        stop_recording("zstd failed", EIO, 0);
        return;
    }
    slot = (EL_CHUNK_HEADER_SIZE + z + EL_CHUNK_ALIGN - 1) &
           ~(uint64_t)(EL_CHUNK_ALIGN - 1);
    memcpy(out, c, EL_CHUNK_HEADER_SIZE);
    el_put_u32(out + EL_CK_SLOT, (uint32_t)slot);
    el_put_u32(out + EL_CK_USED, (uint32_t)z);
    el_put_u32(out + EL_CK_RAW, used);
    el_put_u16(out + EL_CK_FLAGS, EL_CK_SEALED | EL_CK_ZSTD | flags);
    memset(out + EL_CHUNK_HEADER_SIZE + z, 0,
           slot - EL_CHUNK_HEADER_SIZE - z);
    if (reserve(slot, &off)) {
        b->off = off;
        b->len = (uint32_t)slot;
        b->zipped = true;
        __atomic_store_n(&b->state, EL_BUF_PLACED, __ATOMIC_RELEASE);
        if (allocate(off, slot)) {
            pwrite_all(out, slot, off);
        }
    }
}

static void after_fork_in_child(void);

static void *writer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&q_lock);
    for (;;) {
        ElBinBuf *b = q_head;

        if (!b) {
            if (q_closing) {
                break;
            }
            pthread_cond_wait(&q_work, &q_lock);
            continue;
        }
        q_head = b->qnext;
        if (!q_head) {
            q_tail = NULL;
        }
        q_len--;
        bool behind = !q_draining &&
                      (q_len >= EL_BIN_BEHIND || q_waiting > 0);

        __atomic_store_n(&b->state, EL_BUF_WRITING, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&q_lock);
        write_chunk(b, 0, !behind);
        pthread_mutex_lock(&q_lock);
        __atomic_store_n(&b->state, EL_BUF_FREE, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&q_free);
    }
    pthread_mutex_unlock(&q_lock);
    return NULL;
}

static void start_writer_thread(void)
{
    pthread_attr_t a;

    pthread_attr_init(&a);
    writer_running = pthread_create(&writer, &a, writer_main, NULL) == 0;
    pthread_attr_destroy(&a);
}

/*
 * A guest's fork: shm.c copies the shared memory for the child just before
 * the fork; no translation may change the static records meanwhile.
 */
static void before_fork(void)
{
    pthread_mutex_lock(&static_lock);
}

static void after_fork_in_parent(void)
{
    pthread_mutex_unlock(&static_lock);
}

void el_bin_start_writer(void)
{
    if (!sh || writer_running) {
        return;
    }
    start_writer_thread();
}

/* The chunk in @b is full (its size in its header): on to the writer. */
static void finish_chunk(ElBinBuf *b)
{
    if (!writer_running) {
        __atomic_store_n(&b->state, EL_BUF_WRITING, __ATOMIC_RELEASE);
        write_chunk(b, 0, true);
        __atomic_store_n(&b->state, EL_BUF_FREE, __ATOMIC_RELEASE);
        return;
    }
    pthread_mutex_lock(&q_lock);
    b->qnext = NULL;
    __atomic_store_n(&b->state, EL_BUF_QUEUED, __ATOMIC_RELEASE);
    if (q_tail) {
        q_tail->qnext = b;
    } else {
        q_head = b;
    }
    q_tail = b;
    q_len++;
    pthread_cond_signal(&q_work);
    pthread_mutex_unlock(&q_lock);
}

/*
 * Memory the watcher shares if there is room (shm.h), else the heap: the
 * watcher then does not follow it (salvage_vcpu, el_bin_vcpu_new).
 */
static void *bin_alloc(size_t n, bool scratch)
{
    void *p = scratch ? el_shm_alloc_scratch(n) : el_shm_alloc(n);

    return p ? p : calloc(1, n);
}

/* A free buffer of @w's: reused, new, or the next the writer frees. */
static ElBinBuf *get_buffer(ElBinVcpu *w)
{
    for (;;) {
        for (uint32_t i = 0; i < w->n_bufs; i++) {
            if (__atomic_load_n(&w->bufs[i].state, __ATOMIC_ACQUIRE) ==
                EL_BUF_FREE) {
                return &w->bufs[i];
            }
        }
        if (w->n_bufs < EL_BIN_BUFS) {
            ElBinBuf *b = &w->bufs[w->n_bufs];

            b->data = bin_alloc(chunk_size, true);
            if (!b->data) {
                return NULL;
            }
            w->n_bufs++;
            return b;
        }
        if (stopped() || !writer_running) {
            return NULL;
        }
        /* the writer is behind: wait for it (once per chunk at most) */
        pthread_mutex_lock(&q_lock);
        bool any = false;
        for (uint32_t i = 0; i < w->n_bufs && !any; i++) {
            any = __atomic_load_n(&w->bufs[i].state, __ATOMIC_ACQUIRE) ==
                  EL_BUF_FREE;
        }
        if (!any) {
            q_waiting++;
            pthread_cond_wait(&q_free, &q_lock);
            q_waiting--;
        }
        pthread_mutex_unlock(&q_lock);
    }
}

static bool count_in(const ElBinVcpu *w, const ElBinBuf *b)
{
    return w->count >= b->data && w->count < b->data + chunk_size;
}

/* The size of the records in @w's current chunk goes into its header. */
static void note_used(ElBinVcpu *w)
{
    el_put_u32(w->cur->data + EL_CK_USED,
               (uint32_t)(w->pos - w->cur->data - EL_CHUNK_HEADER_SIZE));
}

/* The file header, (again) at offset 0, its blocks allocated at open. */
static bool header_placed;      /* the header's blocks are allocated */

static bool header_write(void)
{
    return header_placed && pwrite_all(header, EL_HEADER_SIZE, 0);
}

/*
 * The records of the static chunk that the file does not have yet (the
 * chunk header with the first ones): into blocks allocated when the chunk
 * started, so this cannot fail for want of space where fallocate works.
 * Called at the end of each translation: the file has every definition
 * before any vCPU runs the code, with or without a watcher. (Also once
 * recording stopped: the chunk's space is the file's already.)
 */
static void static_flush(void)
{
    uint32_t len;

    if (!static_w->pos) {
        return;
    }
    len = (uint32_t)(static_w->pos - sh->stat_data);
    if (len > sh->stat_flushed &&
        pwrite_all(sh->stat_data + sh->stat_flushed, len - sh->stat_flushed,
                   sh->stat_off + sh->stat_flushed)) {
        sh->stat_flushed = len;
    }
}

/* Seal the static chunk's header in memory (not yet in the file). */
static void static_seal(void)
{
    uint32_t used = (uint32_t)(static_w->pos - sh->stat_data -
                               EL_CHUNK_HEADER_SIZE);

    el_put_u32(sh->stat_data + EL_CK_RAW, used);
    el_put_u32(sh->stat_data + EL_CK_USED, used);
    el_put_u16(sh->stat_data + EL_CK_FLAGS, EL_CK_SEALED);
}

/* The static chunk, if any: its last records and sealed header written. */
static void close_static(void)
{
    if (static_w->pos) {
        static_flush();
        static_seal();
        pwrite_all(sh->stat_data, EL_CHUNK_HEADER_SIZE, sh->stat_off);
        /* (a forked child copies it from here: see fork_copy_static) */
        if (n_stat_offs == cap_stat_offs) {
            size_t cap = cap_stat_offs ? cap_stat_offs * 2 : 16;
            uint64_t *o = realloc(stat_offs, cap * sizeof(*o));

            if (o) {
                stat_offs = o;
                cap_stat_offs = cap;
            }
        }
        if (n_stat_offs < cap_stat_offs) {
            stat_offs[n_stat_offs++] = sh->stat_off;
        }
    }
    static_w->pos = static_w->end = NULL;
}

/* A new static chunk, in the same buffer, at a new place in the file. */
static bool static_start_chunk(ElBinVcpu *w)
{
    uint64_t off;

    close_static();
    if (!claim(chunk_size, &off)) {
        return false;
    }
    sh->stat_off = off;
    sh->stat_flushed = 0;
    chunk_header(sh->stat_data, w->vcpu, w->seq++, 0);
    w->end = sh->stat_data + chunk_size;
    __atomic_store_n(&w->pos, sh->stat_data + EL_CHUNK_HEADER_SIZE,
                     __ATOMIC_RELEASE);
    return true;
}

/* Start a new chunk for @w; the current one becomes the previous one. */
static bool start_chunk(ElBinVcpu *w)
{
    ElBinBuf *b;

    if (w == static_w) {
        return static_start_chunk(w);
    }
    if (w->prev == &fork_mark) {
        w->prev = NULL;     /* (see fork_reset_writer) */
    }
    /*
     * The chunk before the previous one is done with, unless the open
     * block's count is in it (a block whose accesses filled more than a
     * chunk): then it is held until the block ends.
     */
    if (w->prev) {
        if (count_in(w, w->prev)) {
            if (w->hold) {
                finish_chunk(w->hold);
            }
            w->hold = w->prev;
        } else {
            finish_chunk(w->prev);
        }
        w->prev = NULL;
    }
    if (w->cur) {
        note_used(w);
        w->prev = w->cur;
        w->cur = NULL;
        w->pos = w->limit = w->end = NULL;
    }
    w->first_at = NULL;
    if (stopped()) {
        return false;
    }
    b = get_buffer(w);
    if (!b) {
        if (!stopped()) {
            stop_recording("out of memory for a chunk", ENOMEM, 0);
        }
        return false;
    }
    b->seq = w->seq;
    /*
     * Version 2: a chunk decodes on its own. Its deltas start afresh, and
     * its header says exactly where its first block starts: filled in by
     * that block (el_bin_block, whose tb delta is then from 0), and left
     * "none" if none starts in it. (last_tb stays until then: bin.c
     * compares it.)
     */
    chunk_header(b->data, w->vcpu, w->seq++, EL_CK_NO_BLOCK);
    w->first_at = b->data + EL_CK_FIRST_INSN;
    w->last_vaddr = 0;
    w->last_pdelta = 0;
    w->pos = b->data + EL_CHUNK_HEADER_SIZE;
    if (b->seq == 0) {
        /* a vCPU's first chunk in this trace starts with its VCPU record */
        *w->pos++ = EL_REC_VCPU;
    }
    w->end = b->data + chunk_size;
    w->limit = w->pos;      /* first_at: the next block fills it in */
    w->cur = b;
    __atomic_store_n(&b->state, EL_BUF_VCPU, __ATOMIC_RELEASE);
    return true;
}

bool el_bin_room_slow(ElBinVcpu *w, size_t need)
{
    return start_chunk(w) && w->end - w->pos >= (ptrdiff_t)need;
}

bool el_bin_fast_slow(ElBinVcpu *w, bool block)
{
    if (block && (w->prev || w->hold)) {
        el_bin_finish_prev(w);
    }
    if (w->end - w->pos < EL_BIN_FAST_ROOM && !start_chunk(w)) {
        return false;
    }
    if (block && w->first_at) {
        /*
         * The chunk's first block: its header says where it starts, and
         * its TB delta is from 0 (the chunk decodes on its own).
         */
        el_put_u64(w->first_at, w->insns);
        w->first_at = NULL;
        w->last_tb = 0;
    }
    /* until the next block has done the bookkeeping, each record comes here */
    w->limit = w->first_at || w->prev || w->hold ? w->pos :
               w->end - EL_BIN_FAST_ROOM;
    return true;
}

void el_bin_finish_prev(ElBinVcpu *w)
{
    if (w->prev == &fork_mark) {
        /* a forked child's first block: the one it leaves ran in the
         * parent (and is in the parent's trace) */
        w->prev = NULL;
        w->insns = 0;
    }
    if (w->hold) {
        finish_chunk(w->hold);
        w->hold = NULL;
    }
    if (w->prev) {
        finish_chunk(w->prev);
        w->prev = NULL;
    }
}

#define publish el_bin_publish

ElBinVcpu *el_bin_vcpu_new(uint32_t vcpu)
{
    ElBinVcpu *w = bin_alloc(sizeof(*w), false);

    if (!w) {
        return NULL;
    }
    w->vcpu = vcpu;
    w->count = w->dummy;
    start_chunk(w);         /* with the VCPU record */
    pthread_mutex_lock(&static_lock);
    if (el_shm_contains(w) && el_shm_contains(sh)) {
        w->next = sh->writers;      /* the watcher follows only these */
        __atomic_store_n(&sh->writers, w, __ATOMIC_RELEASE);
    } else if (watched) {
        static bool warned;

        if (!warned) {
            warned = true;
            fprintf(stderr, "execlog: vCPU %u: no room in the memory "
                    "shared with the watcher; if QEMU ends without the "
                    "plugin's exit callback, its last chunks are lost\n",
                    vcpu);
        }
    }
    pthread_mutex_unlock(&static_lock);
    return w;
}

/* ---- Static records ---------------------------------------------------- */

void el_bin_static_lock(void)
{
    pthread_mutex_lock(&static_lock);
}

void el_bin_static_unlock(void)
{
    static_flush();
    pthread_mutex_unlock(&static_lock);
}

void el_bin_def_insn(uint32_t id, uint64_t pc, const uint8_t *bytes,
                     uint8_t size, const char *disas, uint32_t disas_len)
{
    ElBinVcpu *w = static_w;
    uint8_t *p;
    size_t n = 1;

    if (!el_bin_room(w, 1 + 3 * EL_VARINT_MAX + 1 + size + disas_len)) {
        return;
    }
    p = w->pos;
    n += el_put_varint(p + n, id);
    n += el_put_varint(p + n, pc);
    p[n++] = size;
    memcpy(p + n, bytes, size);
    n += size;
    n += el_put_varint(p + n, disas_len);
    memcpy(p + n, disas, disas_len);
    n += disas_len;
    publish(p, EL_REC_INSN);
    w->pos += n;
}

bool el_bin_static_rec(const uint8_t *rec, size_t len)
{
    ElBinVcpu *w = static_w;

    if (len < 1 || !el_bin_room(w, len)) {
        return false;
    }
    memcpy(w->pos + 1, rec + 1, len - 1);
    publish(w->pos, rec[0]);
    w->pos += len;
    return true;
}

void el_bin_def_tb(uint32_t id, const uint32_t *insns, uint32_t count)
{
    ElBinVcpu *w = static_w;
    uint8_t *p;
    size_t n = 1;

    if (!el_bin_room(w, 1 + (2 + (size_t)count) * EL_VARINT_MAX)) {
        return;
    }
    p = w->pos;
    n += el_put_varint(p + n, id);
    n += el_put_varint(p + n, count);
    for (uint32_t i = 0; i < count; i++) {
        n += el_put_varint(p + n, insns[i]);
    }
    publish(p, EL_REC_TB);
    w->pos += n;
}

void el_bin_def_module(uint64_t start, uint64_t end, uint64_t offset,
                       uint8_t flags, const char *path, size_t len)
{
    ElBinVcpu *w = static_w;
    uint8_t *p;
    size_t n = 1;

    if (len > EL_MOD_MAX_PATH ||
        !el_bin_room(w, 1 + 4 * EL_VARINT_MAX + 1 + len)) {
        return;
    }
    p = w->pos;
    n += el_put_varint(p + n, start);
    n += el_put_varint(p + n, end);
    n += el_put_varint(p + n, offset);
    p[n++] = flags;
    n += el_put_varint(p + n, len);
    memcpy(p + n, path, len);
    n += len;
    publish(p, EL_REC_MODULE);
    w->pos += n;
}

uint32_t el_bin_device(const char *name)
{
    uint32_t n = __atomic_load_n(&n_devices, __ATOMIC_ACQUIRE);
    uint32_t id = 0;
    size_t len;

    for (uint32_t i = 0; i < n; i++) {
        if (devices[i].ptr == name) {
            return devices[i].id;
        }
    }
    pthread_mutex_lock(&static_lock);
    n = n_devices;
    for (uint32_t i = 0; i < n; i++) {
        if (devices[i].ptr == name || strcmp(devices[i].ptr, name) == 0) {
            id = devices[i].id;
            goto remember;
        }
    }
    if (strcmp(name, "RAM") == 0) {
        id = 0;
        goto remember;
    }
    id = next_device_id++;
    len = strlen(name);
    if (el_bin_room(static_w, 1 + 2 * EL_VARINT_MAX + len)) {
        uint8_t *p = static_w->pos;
        size_t k = 1;

        k += el_put_varint(p + k, id);
        k += el_put_varint(p + k, len);
        memcpy(p + k, name, len);
        k += len;
        publish(p, EL_REC_DEVICE);
        static_w->pos += k;
        static_flush();
    }
remember:
    if (n < MAX_DEVICES) {
        devices[n].ptr = name;
        devices[n].id = id;
        __atomic_store_n(&n_devices, n + 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&static_lock);
    return id;
}

/* TBs, kept once per distinct list of instructions. */
static uint32_t *tb_pool;           /* n, ids..., n, ids... */
static size_t tb_pool_len, tb_pool_cap;
static struct {
    uint64_t hash;
    size_t at;                      /* offset in tb_pool */
    uint32_t id;
} *tb_slots;
static size_t tb_n_slots, tb_n_used;
static size_t *tb_at;               /* by TB id: offset in tb_pool */
static size_t tb_at_cap;

static uint64_t tb_hash(const uint32_t *ids, uint32_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;

    for (uint32_t i = 0; i < n; i++) {
        h = (h ^ ids[i]) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return h | 1;
}

static bool tb_grow(void)
{
    size_t n = tb_n_slots ? tb_n_slots * 2 : 4096;
    __typeof__(tb_slots) s = calloc(n, sizeof(*s));

    if (!s) {
        return false;
    }
    for (size_t i = 0; i < tb_n_slots; i++) {
        if (tb_slots[i].hash) {
            size_t j = tb_slots[i].hash & (n - 1);
            while (s[j].hash) {
                j = (j + 1) & (n - 1);
            }
            s[j] = tb_slots[i];
        }
    }
    free(tb_slots);
    tb_slots = s;
    tb_n_slots = n;
    return true;
}

bool el_bin_tb(const uint32_t *ids, uint32_t n, uint32_t *id)
{
    uint64_t h = tb_hash(ids, n);
    size_t j;

    if ((tb_n_used + 1) * 2 > tb_n_slots && !tb_grow()) {
        return false;
    }
    for (j = h & (tb_n_slots - 1); tb_slots[j].hash;
         j = (j + 1) & (tb_n_slots - 1)) {
        const uint32_t *e = tb_pool + tb_slots[j].at;
        if (tb_slots[j].hash == h && e[0] == n &&
            memcmp(e + 1, ids, n * sizeof(*ids)) == 0) {
            *id = tb_slots[j].id;
            return true;
        }
    }
    if (tb_pool_len + n + 1 > tb_pool_cap) {
        size_t cap = tb_pool_cap ? tb_pool_cap * 2 : 65536;
        uint32_t *p;

        while (cap < tb_pool_len + n + 1) {
            cap *= 2;
        }
        p = realloc(tb_pool, cap * sizeof(*p));
        if (!p) {
            return false;
        }
        tb_pool = p;
        tb_pool_cap = cap;
    }
    if (tb_n_used >= tb_at_cap) {
        size_t cap = tb_at_cap ? tb_at_cap * 2 : 4096;
        size_t *a = realloc(tb_at, cap * sizeof(*a));

        if (!a) {
            return false;
        }
        tb_at = a;
        tb_at_cap = cap;
    }
    tb_at[tb_n_used] = tb_pool_len;
    tb_slots[j].hash = h;
    tb_slots[j].at = tb_pool_len;
    tb_slots[j].id = (uint32_t)tb_n_used++;
    tb_pool[tb_pool_len++] = n;
    memcpy(tb_pool + tb_pool_len, ids, n * sizeof(*ids));
    tb_pool_len += n;
    *id = tb_slots[j].id;
    el_bin_def_tb(*id, ids, n);
    return true;
}

bool el_bin_tb_tail(uint32_t tb, uint32_t from, uint32_t *id)
{
    uint32_t n, *rest;
    bool ok;

    if (tb >= tb_n_used || from >= tb_pool[tb_at[tb]]) {
        return false;
    }
    n = tb_pool[tb_at[tb]] - from;
    /* a copy: el_bin_tb() may move the pool */
    rest = malloc(n * sizeof(*rest));
    if (!rest) {
        return false;
    }
    memcpy(rest, tb_pool + tb_at[tb] + 1 + from, n * sizeof(*rest));
    ok = el_bin_tb(rest, n, id);
    free(rest);
    return ok;
}

static void meta_lock_take(int *lock)
{
    while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE)) {
        sched_yield();
    }
}

static void meta_lock_give(int *lock)
{
    __atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

/* Add @line to the metadata of header @h, if it fits. */
static void meta_add(uint8_t *h, const char *line)
{
    uint32_t len = el_get_u32(h + EL_HDR_META_LEN);
    size_t n = strlen(line);

    if (EL_HDR_META + len + n <= EL_HEADER_SIZE) {
        memcpy(h + EL_HDR_META + len, line, n);
        el_put_u32(h + EL_HDR_META_LEN, len + (uint32_t)n);
    }
}

void el_bin_meta_append(const char *line)
{
    if (!header) {
        return;
    }
    meta_lock_take(meta_lock);
    meta_add(header, line);
    meta_lock_give(meta_lock);
    header_write();
}

/* A page for a file header and the spin lock word after it, shared. */
static uint8_t *header_page(void)
{
    void *m = mmap(NULL, 2 * EL_HEADER_SIZE, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    return m == MAP_FAILED ? NULL : m;
}

/*
 * The trace file at @p: a new file (a new inode, created beside it and
 * renamed over it), locked, never the old one truncated in place — a
 * reader that has the old one mapped would die of SIGBUS, and goes on
 * reading it unharmed instead. Refused while another QEMU records into @p
 * (it holds an exclusive lock on it; a reader's shared lock does not
 * stop a new recording). Two QEMUs starting at the same instant may both
 * pass the check: the later rename wins, the other records into a file
 * no longer named.
 */
static int create_trace(const char *p, char *err, size_t errlen)
{
    struct stat st;
    char *target = NULL;
    char *tmp = NULL;
    int old, nfd = -1;

    if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode)) {
        target = realpath(p, NULL);     /* write where the link points */
    }
    if (!target) {
        target = strdup(p);
    }
    if (!target) {
        snprintf(err, errlen, "outfile '%s': out of memory", p);
        return -1;
    }
    old = open(target, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (old < 0 && errno == EACCES) {
        old = open(target, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    }
    if (old >= 0) {
        bool regular = fstat(old, &st) == 0 && S_ISREG(st.st_mode);
        bool busy = regular && flock(old, LOCK_SH | LOCK_NB) != 0 &&
                    errno == EWOULDBLOCK;

        close(old);
        if (!regular) {
            snprintf(err, errlen, "outfile '%s': not a regular file "
                     "(format=bin writes a file of its own)", p);
            goto fail;
        }
        if (busy) {
            snprintf(err, errlen, "outfile '%s': another QEMU is recording "
                     "into it", p);
            goto fail;
        }
    } else if (errno != ENOENT) {
        snprintf(err, errlen, "outfile '%s': cannot open: %s", p,
                 strerror(errno));
        goto fail;
    }
    tmp = malloc(strlen(target) + 40);
    if (!tmp) {
        snprintf(err, errlen, "outfile '%s': out of memory", p);
        goto fail;
    }
    for (unsigned i = 0; nfd < 0 && i < 100; i++) {
        sprintf(tmp, "%s.tmp.%d.%u", target, (int)getpid(), i);
        nfd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (nfd < 0 && errno != EEXIST) {
            break;
        }
    }
    if (nfd < 0) {
        snprintf(err, errlen, "outfile '%s': cannot create '%s': %s", p, tmp,
                 strerror(errno));
        goto fail;
    }
    /*
     * Held while the file is written, by QEMU and then by the watcher (the
     * same open file): readers can tell a trace still being written. (A
     * file system without locks: recorded all the same, unlocked.)
     */
    (void)flock(nfd, LOCK_EX | LOCK_NB);
    if (rename(tmp, target) != 0) {
        snprintf(err, errlen, "outfile '%s': cannot rename '%s' to it: %s",
                 p, tmp, strerror(errno));
        unlink(tmp);
        close(nfd);
        nfd = -1;
    }
fail:
    free(tmp);
    free(target);
    return nfd;
}

/* @p made absolute (a guest's chdir moves QEMU's working directory). */
static char *absolute(const char *p)
{
    char cwd[4096];
    char *r;

    if (p[0] == '/' || !getcwd(cwd, sizeof(cwd))) {
        return strdup(p);
    }
    r = malloc(strlen(cwd) + strlen(p) + 2);
    if (r) {
        sprintf(r, "%s/%s", cwd, p);
    }
    return r;
}

/* Blocks for the header, and the header written: at a new trace's start. */
static void header_start(void)
{
    sh->next_off = EL_HEADER_SIZE;
    header_placed = allocate(0, EL_HEADER_SIZE);
    header_write();
}

/* ---- A guest's fork (user mode) ---------------------------------------- */

/*
 * A guest that forks forks QEMU: the child records into a trace of its
 * own, PATH.PID beside its parent's, named in the parent's metadata
 * ("child=") and on stderr. It starts with a copy of the parent's static
 * records (what the child runs was translated by the parent) and the
 * parent's writers reset: only the vCPU that forked runs in the child, and
 * its first block there is the one after the system call (which ends a
 * TB). Its watcher (watcher.c, started by its fork handler, which runs
 * after this one) writes out what it holds if it dies without its exit
 * callback: it is pointed at the child's trace here.
 */

static void fork_reset_writer(ElBinVcpu *w)
{
    for (uint32_t i = 0; i < w->n_bufs && i < EL_BIN_BUFS; i++) {
        /* (scratch memory: the child's own zero pages, shm.h) */
        w->bufs[i].state = EL_BUF_FREE;
    }
    w->cur = w->hold = NULL;
    w->prev = &fork_mark;
    w->pos = w->limit = w->end = NULL;
    w->count = w->dummy;
    w->open_count = 0;
    w->insns = w->loads = w->stores = 0;
    w->last_tb = 0;
    w->last_vaddr = 0;
    w->last_pdelta = 0;
    w->seq = 0;
}

/* The parent's static chunks, from its file @from, into the child's. */
static bool fork_copy_static(int from)
{
    uint8_t *buf = malloc(chunk_size);
    uint64_t off;

    if (!buf) {
        return false;
    }
    for (size_t i = 0; i < n_stat_offs; i++) {
        if (pread(from, buf, chunk_size, (off_t)stat_offs[i]) !=
            (ssize_t)chunk_size || !claim(chunk_size, &off) ||
            !pwrite_all(buf, EL_CHUNK_HEADER_SIZE +
                        el_get_u32(buf + EL_CK_USED), off)) {
            free(buf);
            return false;
        }
        stat_offs[i] = off;
    }
    free(buf);
    if (static_w->pos) {
        if (!claim(chunk_size, &off)) {
            return false;
        }
        sh->stat_off = off;
        sh->stat_flushed = 0;
        static_flush();
    }
    return !stopped();
}

/* The child's header: its parent's, recording, without "child=" lines. */
static void fork_header(uint8_t *h, const uint8_t *parent)
{
    uint32_t len = el_get_u32(parent + EL_HDR_META_LEN);
    const char *m = (const char *)parent + EL_HDR_META;
    const char *end = m + (len < EL_HEADER_SIZE - EL_HDR_META ?
                           len : EL_HEADER_SIZE - EL_HDR_META);
    char line[4200];

    memcpy(h, parent, EL_HDR_META);
    el_put_u32(h + EL_HDR_STATE, EL_STATE_RECORDING);
    el_put_u64(h + EL_HDR_END, 0);
    el_put_u32(h + EL_HDR_META_LEN, 0);
    while (m < end) {
        const char *nl = memchr(m, '\n', (size_t)(end - m));
        size_t n = nl ? (size_t)(nl - m) + 1 : (size_t)(end - m);

        if (strncmp(m, "child=", 6) != 0 && n < sizeof(line)) {
            memcpy(line, m, n);
            line[n] = '\0';
            meta_add(h, line);
        }
        m += n;
    }
    snprintf(line, sizeof(line), "parent=%s\n", abs_path);
    meta_add(h, line);
}

static void start_writer_thread(void);

static void after_fork_in_child(void)
{
    int parent_fd = fd;
    uint8_t *parent_header = header;
    int *parent_lock = meta_lock;
    bool parent_stopped;
    char *child_path, *parent_path = abs_path;
    char err[512], line[4200];
    uint8_t *h;

    /* shm.c made sh and the writers ours already: a copy taken just
     * before the fork (static_lock held, see before_fork) */
    pthread_mutex_init(&static_lock, NULL);
    pthread_mutex_init(&grow_lock, NULL);
    pthread_mutex_init(&q_lock, NULL);
    pthread_cond_init(&q_work, NULL);
    pthread_cond_init(&q_free, NULL);
    writer_running = false;
    q_head = q_tail = NULL;
    q_len = q_waiting = 0;
    q_draining = q_closing = false;
    if (!sh || owner == 0) {
        return;
    }
    parent_stopped = stopped() || !header;
    __atomic_store_n(&sh->stopped, 1, __ATOMIC_RELEASE);
    for (ElBinVcpu *w = sh->writers; w; w = w->next) {
        fork_reset_writer(w);
    }
    owner = getpid();
    fd = -1;
    child_path = malloc(strlen(parent_path) + 24);
    h = header_page();
    if (parent_stopped || !child_path || !h) {
        fprintf(stderr, "execlog: guest forked: child %d not recorded (%s)\n",
                (int)owner, parent_stopped ? "the parent's recording had "
                "stopped" : "out of memory");
        goto out;
    }
    sprintf(child_path, "%s.%d", parent_path, (int)owner);
    fd = create_trace(child_path, err, sizeof(err));
    if (fd < 0) {
        fprintf(stderr, "execlog: guest forked: child %d not recorded: %s\n",
                (int)owner, err);
        goto out;
    }
    meta_lock_take(parent_lock);
    fork_header(h, parent_header);
    meta_lock_give(parent_lock);
    header = h;
    meta_lock = (int *)(h + EL_HEADER_SIZE);
    path = abs_path = child_path;
    __atomic_store_n(&sh->stopped, 0, __ATOMIC_RELEASE);
    header_start();
    if (!fork_copy_static(parent_fd)) {
        stop_recording("cannot copy the parent's definitions", errno, 0);
        goto out;
    }
    if (use_zstd) {
        zctx = ZSTD_createCCtx();   /* (the parent's copy may be mid-use) */
        if (!zctx) {
            stop_recording("out of memory for zstd", ENOMEM, 0);
            goto out;
        }
    }
    /* the parent's trace names it (written at once: the parent may end
     * first) */
    snprintf(line, sizeof(line), "child=%s\n", child_path);
    meta_lock_take(parent_lock);
    meta_add(parent_header, line);
    meta_lock_give(parent_lock);
    (void)pwrite(parent_fd, parent_header, EL_HEADER_SIZE, 0);
    start_writer_thread();
    fprintf(stderr, "execlog: guest forked: child %d recorded into '%s'\n",
            (int)owner, child_path);
out:
    el_watch_retarget(fd);      /* the child's own watcher (or none) */
    if (parent_fd >= 0) {
        close(parent_fd);   /* nor keep the parent's file locked */
    }
}

/* ---- Open and close ---------------------------------------------------- */

int el_bin_fd(void)
{
    return fd;
}

int el_bin_open(const ElBinConfig *cfg, char *err, size_t errlen)
{
    size_t meta_len = strlen(cfg->meta);
    uint32_t flags = (cfg->system ? EL_FLAG_SYSTEM : 0) |
                     (cfg->zstd ? EL_FLAG_ZSTD : 0) |
                     (cfg->partial ? EL_FLAG_PARTIAL : 0);

    if (EL_HDR_META + meta_len > EL_HEADER_SIZE) {
        meta_len = EL_HEADER_SIZE - EL_HDR_META;
    }
    chunk_size = cfg->chunk_size ? cfg->chunk_size : DEFAULT_CHUNK_SIZE;
    use_zstd = cfg->zstd;
    sh = bin_alloc(sizeof(*sh), false);
    watched = el_shm_contains(sh);
    if (sh) {
        static_w = &sh->stat;
        sh->stat_data = bin_alloc(chunk_size, false);
    }
    if (use_zstd && sh) {
        sh->zout = bin_alloc(EL_CHUNK_HEADER_SIZE +
                             ZSTD_compressBound(chunk_size) +
                             EL_CHUNK_ALIGN, true);
        zctx = ZSTD_createCCtx();
    }
    header = header_page();
    path = strdup(cfg->path);
    abs_path = absolute(cfg->path);
    if (!sh || !sh->stat_data || !header || !path || !abs_path ||
        (use_zstd && (!sh->zout || !zctx))) {
        snprintf(err, errlen, "outfile '%s': out of memory", cfg->path);
        return -1;
    }
    meta_lock = (int *)(header + EL_HEADER_SIZE);
    fd = create_trace(cfg->path, err, errlen);
    if (fd < 0) {
        return -1;
    }
    owner = getpid();
    memcpy(header, EL_MAGIC, EL_MAGIC_LEN);
    el_put_u16(header + EL_HDR_VERSION, EL_FORMAT_VERSION);
    el_put_u16(header + EL_HDR_MIN_READER,
               cfg->min_reader > EL_FORMAT_MIN_READER ? cfg->min_reader
                                                      : EL_FORMAT_MIN_READER);
    el_put_u32(header + EL_HDR_HEADER_SIZE, EL_HEADER_SIZE);
    el_put_u32(header + EL_HDR_CHUNK_SIZE, chunk_size);
    el_put_u32(header + EL_HDR_STATE, EL_STATE_RECORDING);
    el_put_u32(header + EL_HDR_FLAGS, flags);
    el_put_u32(header + EL_HDR_API, cfg->api);
    el_put_u64(header + EL_HDR_END, 0);
    el_put_u32(header + EL_HDR_META_LEN, (uint32_t)meta_len);
    memcpy(header + EL_HDR_META, cfg->meta, meta_len);

    /*
     * From here on, a file system that is full (or fails otherwise) stops
     * the recording with one message; the guest runs on (what is written
     * stays readable: here, possibly nothing but an empty file).
     */
    header_start();
    static_w->vcpu = EL_STATIC_VCPU;
    static_w->count = static_w->dummy;
    if (start_chunk(static_w)) {
        static_flush();
    }
    /*
     * A guest's fork: registered after shm.c's handlers (its copy for the
     * child is taken with static_lock held) and before the watcher's (which
     * starts the child's watcher on the trace this one creates).
     */
    pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
    return 0;
}

/* The EXIT record and the last chunks of vCPU @w (its open block settled). */
static void close_vcpu(ElBinVcpu *w)
{
    uint8_t *p;
    size_t n = 1;

    if (w->seq == 0 && !w->cur) {
        return;     /* not in this trace (a forked child's other vCPUs) */
    }
    w->insns += w->open_count;
    w->open_count = 0;
    w->count = w->dummy;
    el_put_u16(w->dummy, 0);
    if (el_bin_room(w, 1 + 3 * EL_VARINT_MAX)) {
        p = w->pos;
        n += el_put_varint(p + n, w->insns);
        n += el_put_varint(p + n, w->loads);
        n += el_put_varint(p + n, w->stores);
        publish(p, EL_REC_EXIT);
        w->pos += n;
    }
    el_bin_finish_prev(w);
    if (w->cur) {
        note_used(w);
        finish_chunk(w->cur);
        w->cur = NULL;
        w->pos = w->limit = w->end = NULL;
    }
}

void el_bin_close(ElBinVcpu **vcpus, uint32_t n)
{
    bool ok;

    if (getpid() != owner || !header) {
        return;
    }
    pthread_mutex_lock(&q_lock);
    q_draining = true;
    pthread_mutex_unlock(&q_lock);
    for (uint32_t i = 0; i < n; i++) {
        if (vcpus[i]) {
            close_vcpu(vcpus[i]);
        }
    }
    if (writer_running) {
        pthread_mutex_lock(&q_lock);
        q_closing = true;
        pthread_cond_signal(&q_work);
        pthread_mutex_unlock(&q_lock);
        pthread_join(writer, NULL);
        writer_running = false;
    }
    pthread_mutex_lock(&static_lock);
    close_static();
    pthread_mutex_unlock(&static_lock);

    ok = !stopped();
    meta_lock_take(meta_lock);
    el_put_u64(header + EL_HDR_END, __atomic_load_n(&sh->next_off,
                                                    __ATOMIC_ACQUIRE));
    if (ok) {
        el_put_u32(header + EL_HDR_STATE, EL_STATE_COMPLETE);
    }
    meta_lock_give(meta_lock);
    /* (state stays "recording" if stopped: the trace says it is cut off) */
    header_write();
    if (zctx) {
        ZSTD_freeCCtx(zctx);
        zctx = NULL;
    }
    close(fd);
    fd = -1;
}

/* ---- The watcher, QEMU being dead -------------------------------------- */

/*
 * Write out, in order, every chunk of @w that QEMU held: queued for the
 * writer, being written (again, at the same place), full but held, and the
 * one being filled, up to the last whole record.
 */
static void salvage_vcpu(ElBinVcpu *w)
{
    for (;;) {
        ElBinBuf *b = NULL;

        for (uint32_t i = 0; i < w->n_bufs && i < EL_BIN_BUFS; i++) {
            ElBinBuf *c = &w->bufs[i];

            if (c->state != EL_BUF_FREE && (!b || c->seq < b->seq)) {
                b = c;
            }
        }
        if (!b) {
            return;
        }
        if (!el_shm_contains(b->data) ||
            (b->state == EL_BUF_PLACED && b->zipped &&
             !el_shm_contains(sh->zout))) {
            b->state = EL_BUF_FREE;     /* not ours to read: skipped */
            continue;
        }
        if (b == w->cur) {
            note_used(w);
        }
        if (b->state == EL_BUF_PLACED) {
            /* the writer was writing it: the same bytes, the same place */
            pwrite_all(b->zipped ? sh->zout : b->data, b->len, b->off);
        } else {
            write_chunk(b, b == w->cur ? EL_CK_CUT : 0, true);
        }
        b->state = EL_BUF_FREE;
    }
}

void el_bin_salvage(int out_fd)
{
    if (!sh) {
        return;
    }
    fd = out_fd;
    if (use_zstd && !zctx) {
        zctx = ZSTD_createCCtx();
        if (!zctx) {
            return;
        }
    }
    /* a disk that filled stopped the recording: nothing more goes out */
    for (ElBinVcpu *w = sh->writers; w; w = w->next) {
        if (w->open_counted) {
            el_bin_settle(w, w->live);
        }
        salvage_vcpu(w);
    }
    /* the static chunk, sealed, and the header (its metadata may have
     * grown since it was last written) */
    if (static_w->pos) {
        static_seal();
        pwrite_all(sh->stat_data, (size_t)(static_w->pos - sh->stat_data),
                   sh->stat_off);
    }
    header_write();
}
