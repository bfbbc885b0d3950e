/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include "binwriter.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zstd.h>

#include "shm.h"

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
} Shared;

static Shared *sh;
static int fd = -1;
static char *path;
static uint32_t chunk_size;
static bool use_zstd;
static uint8_t *header;         /* the file header, mapped */
static pthread_mutex_t static_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t grow_lock = PTHREAD_MUTEX_INITIALIZER;
static ElBinVcpu static_w;      /* writer of the static chunks */
static uint8_t *static_chunk;   /* its chunk, mapped from the file */
static pid_t owner;             /* the process that records */
static void *zctx;              /* zstd context of whoever writes chunks */
static bool watched;            /* sh is in memory the watcher shares */

/* The writer thread's queue of full chunks (taken once per chunk). */
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t q_free = PTHREAD_COND_INITIALIZER;
static ElBinBuf *q_head, *q_tail;
static bool q_closing;
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
static void write_chunk(ElBinBuf *b, uint16_t flags)
{
    uint8_t *c = b->data;
    uint32_t used = el_get_u32(c + EL_CK_USED);
    uint64_t off;

    if (stopped()) {
        return;
    }
    if (!use_zstd) {
        el_put_u32(c + EL_CK_RAW, used);
        el_put_u16(c + EL_CK_FLAGS, EL_CK_SEALED | flags);
        if (reserve(chunk_size, &off)) {
            b->off = off;
            b->len = EL_CHUNK_HEADER_SIZE + used;
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
        __atomic_store_n(&b->state, EL_BUF_WRITING, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&q_lock);
        write_chunk(b, 0);
        pthread_mutex_lock(&q_lock);
        __atomic_store_n(&b->state, EL_BUF_FREE, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&q_free);
    }
    pthread_mutex_unlock(&q_lock);
    return NULL;
}

void el_bin_start_writer(void)
{
    pthread_attr_t a;

    if (!sh || writer_running) {
        return;
    }
    /* after the watcher's fork: what a guest's fork must undo */
    pthread_atfork(NULL, NULL, after_fork_in_child);
    pthread_attr_init(&a);
    writer_running = pthread_create(&writer, &a, writer_main, NULL) == 0;
    pthread_attr_destroy(&a);
}

/* The chunk in @b is full (its size in its header): on to the writer. */
static void finish_chunk(ElBinBuf *b)
{
    if (!writer_running) {
        __atomic_store_n(&b->state, EL_BUF_WRITING, __ATOMIC_RELEASE);
        write_chunk(b, 0);
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
            pthread_cond_wait(&q_free, &q_lock);
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

/* The static chunk, if any: sealed, unmapped. */
static void close_static(void)
{
    if (static_chunk) {
        uint32_t used = (uint32_t)(static_w.pos - static_chunk -
                                   EL_CHUNK_HEADER_SIZE);

        el_put_u32(static_chunk + EL_CK_RAW, used);
        el_put_u32(static_chunk + EL_CK_USED, used);
        el_put_u16(static_chunk + EL_CK_FLAGS, EL_CK_SEALED);
        munmap(static_chunk, chunk_size);
        static_chunk = NULL;
    }
    static_w.pos = static_w.end = NULL;
}

/* The static records' chunks: mapped from the file, so never lost. */
static bool static_start_chunk(ElBinVcpu *w)
{
    uint64_t off;
    uint8_t *c;

    close_static();
    if (!claim(chunk_size, &off)) {
        return false;
    }
    c = mmap(NULL, chunk_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
             (off_t)off);
    if (c == MAP_FAILED) {
        stop_recording("cannot map the file", errno, off);
        return false;
    }
    chunk_header(c, w->vcpu, w->seq++, 0);
    static_chunk = c;
    w->pos = c + EL_CHUNK_HEADER_SIZE;
    w->end = c + chunk_size;
    return true;
}

/* Start a new chunk for @w; the current one becomes the previous one. */
static bool start_chunk(ElBinVcpu *w)
{
    ElBinBuf *b;

    if (w == &static_w) {
        return static_start_chunk(w);
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
        w->pos = w->end = NULL;
    }
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
    chunk_header(b->data, w->vcpu, w->seq++, w->insns);
    __atomic_store_n(&b->state, EL_BUF_VCPU, __ATOMIC_RELEASE);
    w->cur = b;
    w->pos = b->data + EL_CHUNK_HEADER_SIZE;
    w->end = b->data + chunk_size;
    return true;
}

bool el_bin_room_slow(ElBinVcpu *w, size_t need)
{
    return start_chunk(w) && w->end - w->pos >= (ptrdiff_t)need;
}

void el_bin_finish_prev(ElBinVcpu *w)
{
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
    if (el_bin_room(w, 1)) {
        publish(w->pos, EL_REC_VCPU);
        w->pos++;
    }
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
    pthread_mutex_unlock(&static_lock);
}

void el_bin_def_insn(uint32_t id, uint64_t pc, const uint8_t *bytes,
                     uint8_t size, const char *disas, uint32_t disas_len)
{
    ElBinVcpu *w = &static_w;
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

void el_bin_def_tb(uint32_t id, const uint32_t *insns, uint32_t count)
{
    ElBinVcpu *w = &static_w;
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
    if (el_bin_room(&static_w, 1 + 2 * EL_VARINT_MAX + len)) {
        uint8_t *p = static_w.pos;
        size_t k = 1;

        k += el_put_varint(p + k, id);
        k += el_put_varint(p + k, len);
        memcpy(p + k, name, len);
        k += len;
        publish(p, EL_REC_DEVICE);
        static_w.pos += k;
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

void el_bin_meta_append(const char *line)
{
    if (!header) {
        return;
    }
    uint32_t len = el_get_u32(header + EL_HDR_META_LEN);
    size_t n = strlen(line);

    if (EL_HDR_META + len + n <= EL_HEADER_SIZE) {
        memcpy(header + EL_HDR_META + len, line, n);
        el_put_u32(header + EL_HDR_META_LEN, len + (uint32_t)n);
    }
}

/*
 * A guest that forks (user mode) forks QEMU: the child must not write into
 * its parent's chunks, file or shared memory. It records nothing.
 */
static void detach(ElBinVcpu *w)
{
    w->pos = w->end = NULL;
    w->count = w->dummy;
    w->cur = w->prev = w->hold = NULL;
}

static void after_fork_in_child(void)
{
    /* shm.c made sh and the writers ours already */
    if (sh) {
        __atomic_store_n(&sh->stopped, 1, __ATOMIC_RELEASE);
        for (ElBinVcpu *w = sh->writers; w; w = w->next) {
            detach(w);
        }
    }
    detach(&static_w);
    static_chunk = NULL;
    header = NULL;
    if (fd >= 0) {
        close(fd);      /* nor keep the file locked */
        fd = -1;
    }
    writer_running = false;
    q_head = q_tail = NULL;
    pthread_mutex_init(&static_lock, NULL);
    pthread_mutex_init(&grow_lock, NULL);
    pthread_mutex_init(&q_lock, NULL);
    pthread_cond_init(&q_work, NULL);
    pthread_cond_init(&q_free, NULL);
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
                     (cfg->zstd ? EL_FLAG_ZSTD : 0);

    if (EL_HDR_META + meta_len > EL_HEADER_SIZE) {
        meta_len = EL_HEADER_SIZE - EL_HDR_META;
    }
    chunk_size = cfg->chunk_size ? cfg->chunk_size : DEFAULT_CHUNK_SIZE;
    use_zstd = cfg->zstd;
    sh = bin_alloc(sizeof(*sh), false);
    watched = el_shm_contains(sh);
    if (use_zstd && sh) {
        sh->zout = bin_alloc(EL_CHUNK_HEADER_SIZE +
                             ZSTD_compressBound(chunk_size) +
                             EL_CHUNK_ALIGN, true);
        zctx = ZSTD_createCCtx();
    }
    if (!sh || (use_zstd && (!sh->zout || !zctx))) {
        snprintf(err, errlen, "outfile '%s': out of memory", cfg->path);
        return -1;
    }
    fd = open(cfg->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "outfile '%s': cannot open: %s", cfg->path,
                 strerror(errno));
        return -1;
    }
    path = strdup(cfg->path);
    /*
     * Held while the file is written, by QEMU and then by the watcher (the
     * same open file): readers can tell a trace still being written.
     */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        snprintf(err, errlen, "outfile '%s': another QEMU is recording into "
                 "it", cfg->path);
        close(fd);
        fd = -1;
        return -1;
    }
    /* (a file system without locks: recorded all the same, unlocked) */
    if (ftruncate(fd, 0) != 0 || ftruncate(fd, EL_HEADER_SIZE) != 0 ||
        (header = mmap(NULL, EL_HEADER_SIZE, PROT_READ | PROT_WRITE,
                       MAP_SHARED, fd, 0)) == MAP_FAILED) {
        snprintf(err, errlen, "outfile '%s': cannot write: %s", cfg->path,
                 strerror(errno));
        close(fd);
        fd = -1;
        return -1;
    }
    sh->next_off = EL_HEADER_SIZE;
    owner = getpid();
    memcpy(header, EL_MAGIC, EL_MAGIC_LEN);
    el_put_u16(header + EL_HDR_VERSION, EL_FORMAT_VERSION);
    el_put_u16(header + EL_HDR_MIN_READER, 1);
    el_put_u32(header + EL_HDR_HEADER_SIZE, EL_HEADER_SIZE);
    el_put_u32(header + EL_HDR_CHUNK_SIZE, chunk_size);
    el_put_u32(header + EL_HDR_STATE, EL_STATE_RECORDING);
    el_put_u32(header + EL_HDR_FLAGS, flags);
    el_put_u32(header + EL_HDR_API, cfg->api);
    el_put_u64(header + EL_HDR_END, 0);
    el_put_u32(header + EL_HDR_META_LEN, (uint32_t)meta_len);
    memcpy(header + EL_HDR_META, cfg->meta, meta_len);

    static_w.vcpu = EL_STATIC_VCPU;
    static_w.count = static_w.dummy;
    if (!el_bin_room(&static_w, 1)) {
        snprintf(err, errlen, "outfile '%s': cannot write the first chunk",
                 cfg->path);
        return -1;
    }
    return 0;
}

/* The EXIT record and the last chunks of vCPU @w (its open block settled). */
static void close_vcpu(ElBinVcpu *w)
{
    uint8_t *p;
    size_t n = 1;

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
        w->pos = w->end = NULL;
    }
}

void el_bin_close(ElBinVcpu **vcpus, uint32_t n)
{
    bool ok;

    if (getpid() != owner || !header) {
        return;     /* a forked child: the trace is its parent's */
    }
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
    el_put_u64(header + EL_HDR_END, __atomic_load_n(&sh->next_off,
                                                    __ATOMIC_ACQUIRE));
    if (ok) {
        el_put_u32(header + EL_HDR_STATE, EL_STATE_COMPLETE);
    }
    munmap(header, EL_HEADER_SIZE);
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
            (b->state == EL_BUF_PLACED && use_zstd &&
             !el_shm_contains(sh->zout))) {
            b->state = EL_BUF_FREE;     /* not ours to read: skipped */
            continue;
        }
        if (b == w->cur) {
            note_used(w);
        }
        if (b->state == EL_BUF_PLACED) {
            /* the writer was writing it: the same bytes, the same place */
            pwrite_all(use_zstd ? sh->zout : b->data, b->len, b->off);
        } else {
            write_chunk(b, b == w->cur ? EL_CK_CUT : 0);
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
}
