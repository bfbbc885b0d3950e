/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading the file: exact reads with pread(2), and a chunk's records read
 * into buffers of the reader's own (decompressed if compressed).
 *
 * The file is never mapped: a trace truncated while it is read (a new
 * recording into the same path, `: > t.bin`) would kill a reader of a
 * mapping with SIGBUS. A read that finds the file shorter than it was when
 * opened, or a chunk header other than the one indexed, is reported as
 * damage at that offset instead.
 *
 * Sizes: a chunk's bytes are read only as far as the file held them when
 * it was opened, and its records decompress to at most raw bytes, which
 * the index checked against the chunk size (at most EL_MAX_CHUNK_SIZE), as
 * it checked the zstd frame's content size before decompressing it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "internal.h"

void rd_chunkbuf_free(ChunkBuf *b)
{
    free(b->file);
    free(b->raw);
    ZSTD_freeDCtx(b->dctx);
    memset(b, 0, sizeof(*b));
}

bool rd_read_at(const ElTrace *t, void *buf, size_t n, uint64_t off,
                ElError *err)
{
    size_t done = 0;

    while (done < n) {
        ssize_t r = pread(t->fd, (uint8_t *)buf + done, n - done,
                          (off_t)(off + done));

        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            rd_set_err(err, EL_ERR_IO, off + done, "cannot read at offset 0x%"
                       PRIx64 ": %s", off + done, strerror(errno));
            return false;
        }
        if (r == 0) {
            rd_set_err(err, EL_ERR_DAMAGED, off + done, "the file ends at "
                       "offset 0x%" PRIx64 ", but had %" PRIu64 " bytes when "
                       "opened (it was truncated while being read)",
                       off + done, t->size);
            return false;
        }
        done += (size_t)r;
    }
    return true;
}

/* Room for @n bytes in *@buf (whose size is *@cap). */
static bool room(uint8_t **buf, size_t *cap, size_t n)
{
    uint8_t *p;

    if (n <= *cap && *buf) {
        return true;
    }
    if (n == 0) {
        n = 1;
    }
    p = realloc(*buf, n);
    if (!p) {
        return false;
    }
    *buf = p;
    *cap = n;
    return true;
}

/*
 * Is the chunk header @h the one the index has for @ck? A chunk's place,
 * owner and number never change; a sealed chunk never changes at all (a
 * chunk that was being written may have been sealed since).
 */
static bool same_header(const Chunk *ck, const uint8_t *h)
{
    if (memcmp(h, EL_CHUNK_MAGIC, 4) != 0 ||
        el_get_u16(h + EL_CK_VCPU) != ck->vcpu ||
        el_get_u32(h + EL_CK_SEQ) != ck->seq ||
        el_get_u32(h + EL_CK_SLOT) != ck->slot) {
        return false;
    }
    if (!(ck->flags & EL_CK_SEALED)) {
        return true;
    }
    return el_get_u16(h + EL_CK_FLAGS) == ck->flags &&
           el_get_u32(h + EL_CK_USED) == ck->used &&
           el_get_u32(h + EL_CK_RAW) == ck->raw;
}

bool rd_chunk_records(const ElTrace *t, const Chunk *ck, ChunkBuf *b,
                      const uint8_t **p, const uint8_t **end, ElError *err)
{
    const bool zstd = (ck->flags & EL_CK_ZSTD) != 0;
    const uint8_t *src;
    unsigned long long fcs;
    size_t n, len;
    char name[64];

    rd_chunk_name(ck, name, sizeof(name));
    if (zstd && ck->cut_by_eof) {
        rd_set_err(err, EL_ERR_DAMAGED, t->size, "the file ends inside "
                   "compressed %s (the file was truncated)", name);
        return false;
    }
    /* what the file held of it when opened: ck->len, used <= its size */
    len = EL_CHUNK_HEADER_SIZE + (size_t)(zstd ? ck->used : ck->len);
    if (!room(&b->file, &b->file_cap, len)) {
        rd_set_err(err, EL_ERR_NOMEM, ck->off, "out of memory");
        return false;
    }
    if (!rd_read_at(t, b->file, len, ck->off, err)) {
        return false;
    }
    if (!same_header(ck, b->file)) {
        rd_set_err(err, EL_ERR_DAMAGED, ck->off, "%s at offset 0x%" PRIx64
                   " changed while being read (the file was rewritten)",
                   name, ck->off);
        return false;
    }
    if (!zstd) {
        *p = b->file + EL_CHUNK_HEADER_SIZE;
        *end = *p + ck->len;
        return true;
    }
    src = b->file + EL_CHUNK_HEADER_SIZE;
    fcs = ZSTD_getFrameContentSize(src, ck->used);
    if (fcs != ck->raw) {
        rd_set_err(err, EL_ERR_DAMAGED, ck->off + EL_CHUNK_HEADER_SIZE,
                   "%s: the zstd frame does not hold %" PRIu32 " bytes", name,
                   ck->raw);
        return false;
    }
    if (!room(&b->raw, &b->raw_cap, ck->raw) ||
        (!b->dctx && !(b->dctx = ZSTD_createDCtx()))) {
        rd_set_err(err, EL_ERR_NOMEM, ck->off, "out of memory");
        return false;
    }
    n = ZSTD_decompressDCtx(b->dctx, b->raw, ck->raw, src, ck->used);
    if (ZSTD_isError(n) || n != ck->raw) {
        rd_set_err(err, EL_ERR_DAMAGED, ck->off + EL_CHUNK_HEADER_SIZE,
                   "%s: cannot decompress: %s", name,
                   ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame");
        return false;
    }
    *p = b->raw;
    *end = b->raw + ck->raw;
    return true;
}
