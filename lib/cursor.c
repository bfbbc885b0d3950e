/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cursor: one vCPU's executed instructions, in order. It decodes the
 * vCPU's chunks one after the other (read into buffers of its own by
 * chunk.c), carrying the vCPU's state (current block; in version 1 also
 * the deltas) from one chunk to the next, and hands out one ElExec per
 * instruction that started, with the MEM records of that instruction.
 *
 * Seeking (version 2): the last chunk whose first_insn is not above the
 * instruction wanted is where decoding starts; the records before its
 * first BLOCK (MEM records of a block that began in an earlier chunk) are
 * stepped over, and whole blocks are then skipped up to the instruction.
 *
 * Runs for every executed instruction: no allocation (but for an
 * instruction with more accesses than any before it), no printf.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum {
    CUR_RUNNING = 0,
    CUR_DONE = 1,           /* the end: el_cursor_next() returns 0 */
    CUR_FAILED = -1,        /* damage: el_cursor_next() returns -1 */
};

struct ElCursor {
    ElTrace *t;
    uint32_t vcpu;
    const Vcpu *v;
    uint32_t next_chunk;    /* index into v's chunk list */
    const Chunk *ck;        /* current chunk, NULL before the first */
    const uint8_t *base, *p, *end;
    ChunkBuf cb;            /* the current chunk's records */
    uint64_t done_bytes;    /* slots of the chunks done with */

    /* decoding state, carried from chunk to chunk */
    uint64_t prev_tb, prev_vaddr, prev_pdelta;
    const uint32_t *blk;    /* instruction ids of the current block */
    uint32_t blk_count, blk_pos;
    uint64_t blk_offset;
    uint64_t index;
    uint64_t loads, stores;
    ElMemAccess *mem;
    size_t n_mem, cap_mem;
    bool have_pending;      /* a MEM read ahead, of a later instruction */
    uint32_t pending_idx;
    ElMemAccess pending;
    ElRegWrite *regs;       /* the current instruction's REGS record */
    size_t n_regs, cap_regs;
    uint8_t *reg_bytes;     /* their values (a chunk's buffer is reused) */
    size_t cap_reg_bytes;
    bool exited;
    bool tail_lost;         /* records of the last chunk read are missing */
    bool at_end;            /* cur_avail() found no more records */
    bool stream_over;       /* no more records; the block is emitted */
    bool lead;              /* seeked: records before the chunk's first
                               BLOCK belong to an earlier chunk's block */
    bool fresh;             /* version 2: no BLOCK yet in this chunk */
    bool seeked;            /* loads and stores are not all counted */
    uint64_t skip_to;       /* seeking: stop before this instruction */
    int state;
    ElError err;
};

ElCursor *el_cursor_new(ElTrace *t, uint32_t vcpu, ElError *err)
{
    static const Vcpu none;
    ElCursor *c = calloc(1, sizeof(*c));

    if (!c) {
        rd_set_err(err, EL_ERR_NOMEM, 0, "out of memory");
        return NULL;
    }
    c->t = t;
    c->vcpu = vcpu;
    c->v = rd_find_vcpu(t, vcpu);
    if (!c->v) {
        c->v = &none;
    }
    c->cap_mem = 16;
    c->mem = malloc(c->cap_mem * sizeof(ElMemAccess));
    if (!c->mem) {
        free(c);
        rd_set_err(err, EL_ERR_NOMEM, 0, "out of memory");
        return NULL;
    }
    return c;
}

void el_cursor_free(ElCursor *c)
{
    if (!c) {
        return;
    }
    rd_chunkbuf_free(&c->cb);
    free(c->mem);
    free(c->regs);
    free(c->reg_bytes);
    free(c);
}

uint64_t el_cursor_progress(const ElCursor *c)
{
    uint64_t n = c->done_bytes;

    if (c->ck && !c->at_end && !(c->ck->flags & EL_CK_ZSTD)) {
        n += EL_CHUNK_HEADER_SIZE + (uint64_t)(c->p - c->base);
    }
    return n;
}

static int cur_fail(ElCursor *c, ElError *err)
{
    c->state = CUR_FAILED;
    if (err) {
        *err = c->err;
    }
    return -1;
}

/* A record problem at @rec: damage. */
static int cur_damage(ElCursor *c, const uint8_t *rec, const char *what,
                      ElError *err)
{
    rd_rec_err(&c->err, c->ck, c->base, rec, what);
    return cur_fail(c, err);
}

/*
 * The vCPU's records are over (no more chunks, or a cut-off). Returns 0
 * if that is a normal end (a clean end, or the end of a cut-off trace),
 * -1 with the error if it is damage.
 */
static int cur_end(ElCursor *c, ElError *err)
{
    const ElTrace *t = c->t;

    if (c->exited || c->v->n == 0) {
        return 0;
    }
    if (t->damage.code != EL_OK) {
        c->err = t->damage;
        return cur_fail(c, err);
    }
    if (t->sum.state == EL_STATE_RECORDING) {
        return 0;
    }
    /* complete trace, sound index, and no EXIT: scan_ends() said so */
    rd_set_err(&c->err, EL_ERR_DAMAGED,
            c->ck ? rd_pos_off(c->ck, c->base, c->p) : 0, "vCPU %" PRIu32
            "'s records end without an EXIT record", c->vcpu);
    return cur_fail(c, err);
}

/*
 * Make the next record of the stream available at c->p, moving on to the
 * vCPU's next chunk when this one's records are over. Returns 1 if there
 * is a record, 0 at the end of the stream, -1 on damage.
 */
static int cur_avail(ElCursor *c, ElError *err)
{
    if (c->at_end) {
        return 0;
    }
    for (;;) {
        const Chunk *ck;

        if (c->p < c->end && *c->p != EL_REC_END) {
            return 1;
        }
        if (c->ck && c->ck->cut_by_eof && c->p >= c->end) {
            /* the file ends inside this sealed chunk's records */
            c->err = c->t->damage;
            if (c->err.code == EL_OK) {
                rd_set_err(&c->err, EL_ERR_DAMAGED, c->t->size,
                        "the file ends inside a chunk");
            }
            return cur_fail(c, err);
        }
        if (c->next_chunk >= c->v->n) {
            /* c->ck stays: the last chunk, for offsets */
            if (c->ck) {
                c->done_bytes += c->ck->slot;
                c->p = c->end;
            }
            c->at_end = true;
            return 0;
        }
        if (c->ck) {
            c->done_bytes += c->ck->slot;
        }
        ck = &c->t->chunks[c->t->byv[c->v->first + c->next_chunk++]];
        c->ck = ck;
        if (c->t->local) {
            /* version 2: each chunk's deltas start afresh */
            c->prev_tb = 0;
            c->prev_vaddr = 0;
            c->prev_pdelta = 0;
            c->fresh = true;
        }
        /* a chunk whose slot the file does not hold whole lost records */
        c->tail_lost = ck->short_slot;
        if (!rd_chunk_records(c->t, ck, &c->cb, &c->p, &c->end, &c->err)) {
            return cur_fail(c, err);
        }
        c->base = c->p;
    }
}

/*
 * A record at c->p could not be parsed. In a chunk that was being written
 * a truncated record is where its records end; otherwise it is damage.
 * Returns 0 (go on with the next chunk) or -1.
 */
static int cur_parse_fail(ElCursor *c, const ParseFail *f, ElError *err)
{
    if (f->what == RD_TRUNC && !(c->ck->flags & EL_CK_SEALED)) {
        c->p = c->end;
        c->tail_lost = true;
        return 0;
    }
    rd_parse_err(&c->err, c->ck, c->base, c->p, f);
    return cur_fail(c, err);
}

/*
 * Something the records refer to is not in the file. In a cut-off trace,
 * the static chunk that had it may be lost with the rest: then this is
 * where the readable records end. Returns 0 (the stream is over) or -1.
 */
static int cur_missing(ElCursor *c, const char *what, ElError *err)
{
    if (c->t->sum.state == EL_STATE_RECORDING ||
        c->t->damage.code != EL_OK) {
        /* cut off (or known to be damaged): the end of what is readable */
        c->p = c->end;
        c->next_chunk = c->v->n;
        c->tail_lost = true;
        return 0;
    }
    return cur_damage(c, c->p, what, err);
}

/*
 * Decode the MEM record at c->p into @m and *@idx. Returns 1, 0 if the
 * chunk's records ended (go on), -1 on damage.
 */
static int cur_mem(ElCursor *c, ElMemAccess *m, uint32_t *idx, ElError *err)
{
    Rec r;
    ParseFail f;
    const uint8_t *next;
    char what[160];

    if (parse_hot(c->p, c->end, &r, &next, &f) != RD_OK) {
        return cur_parse_fail(c, &f, err);
    }
    if (r.a >= c->blk_count) {
        if (c->blk == NULL) {
            return cur_damage(c, c->p, "MEM record before any BLOCK", err);
        }
        snprintf(what, sizeof(what), "MEM record for instruction %" PRIu64
                 " of a block of %" PRIu32, r.a, c->blk_count);
        return cur_damage(c, c->p, what, err);
    }
    if (r.a < c->blk_pos) {
        snprintf(what, sizeof(what), "MEM record for instruction %" PRIu64
                 " after one for instruction %" PRIu32, r.a, c->blk_pos);
        return cur_damage(c, c->p, what, err);
    }
    c->prev_vaddr += (uint64_t)el_unzigzag(r.b);
    m->vaddr = c->prev_vaddr;
    m->size_shift = r.info & EL_MEM_SIZE_SHIFT_MASK;
    m->store = (r.info & EL_MEM_STORE) != 0;
    m->big_endian = (r.info & EL_MEM_BIG_ENDIAN) != 0;
    m->sign_extended = (r.info & EL_MEM_SIGN) != 0;
    m->has_paddr = (r.info & EL_MEM_PHYS) != 0;
    if (m->has_paddr) {
        if (r.c >= c->t->n_devices || !c->t->devices[r.c]) {
            snprintf(what, sizeof(what), "MEM record names device %" PRIu64
                     ", which is not defined", r.c);
            return cur_missing(c, what, err);
        }
        c->prev_pdelta += (uint64_t)el_unzigzag(r.text_len);
        m->paddr = m->vaddr + c->prev_pdelta;
        m->device = c->t->devices[r.c];
    } else {
        m->paddr = 0;
        m->device = NULL;
    }
    m->has_value = (r.info & EL_MEM_VALUE) != 0;
    if (m->has_value) {
        /* svarints of the value sign-extended from its size: cut back */
        size_t size = (size_t)1 << m->size_shift;

        el_put_u64(m->value, (uint64_t)el_unzigzag(r.v0));
        el_put_u64(m->value + 8, (uint64_t)el_unzigzag(r.v1));
        if (size < 16) {
            memset(m->value + size, 0, 16 - size);
        }
    }
    if (m->store) {
        c->stores++;
    } else {
        c->loads++;
    }
    *idx = (uint32_t)r.a;
    c->p = next;
    return 1;
}

/*
 * The REGS record at c->p (parsed into @r): its registers into c->regs,
 * their values copied (the chunk's buffer is reused for the next chunk).
 * Returns 1, or -1 on damage.
 */
static int cur_regs(ElCursor *c, const Rec *r, ElError *err)
{
    const uint8_t *p = r->data, *end = r->data + r->b;
    size_t used = 0;
    char what[160];

    c->n_regs = 0;
    if (r->b > c->cap_reg_bytes) {
        uint8_t *nb = realloc(c->reg_bytes, r->b);

        if (!nb) {
            rd_set_err(&c->err, EL_ERR_NOMEM, 0, "out of memory");
            return cur_fail(c, err);
        }
        c->reg_bytes = nb;
        c->cap_reg_bytes = r->b;
    }
    while (p < end) {
        uint64_t id;
        const ElRegWrite *def;

        if (get_varint(&p, end, &id) != RD_OK) {
            return cur_damage(c, c->p, "bad REGS record: its entries end "
                              "inside a register number", err);
        }
        if (id >= c->t->n_regs) {
            snprintf(what, sizeof(what), "REGS record names register %"
                     PRIu64 ", which is not defined", id);
            return cur_missing(c, what, err) < 0 ? -1 : 0;
        }
        def = &c->t->regs[id];
        if ((uint64_t)(end - p) < def->size) {
            return cur_damage(c, c->p, "bad REGS record: its entries end "
                              "inside a register value", err);
        }
        if (c->n_regs == c->cap_regs) {
            size_t cap = c->cap_regs ? c->cap_regs * 2 : 16;
            ElRegWrite *nr = realloc(c->regs, cap * sizeof(*nr));

            if (!nr) {
                rd_set_err(&c->err, EL_ERR_NOMEM, 0, "out of memory");
                return cur_fail(c, err);
            }
            c->regs = nr;
            c->cap_regs = cap;
        }
        memcpy(c->reg_bytes + used, p, def->size);
        c->regs[c->n_regs] = *def;
        c->regs[c->n_regs].bytes = c->reg_bytes + used;
        c->n_regs++;
        used += def->size;
        p += def->size;
    }
    return 1;
}

/*
 * Collect the accesses of instruction c->blk_pos: the MEM records that
 * follow with its index. Returns 1 (complete), 0 (the stream ended), -1.
 */
static int cur_gather(ElCursor *c, ElError *err)
{
    uint32_t i = c->blk_pos;

    c->n_mem = 0;
    c->n_regs = 0;
    if (c->have_pending) {
        if (c->pending_idx > i) {
            return 1;
        }
        c->mem[c->n_mem++] = c->pending;
        c->have_pending = false;
    }
    if (c->stream_over) {
        return 1;
    }
    for (;;) {
        ElMemAccess m;
        uint32_t idx = 0;
        int r = cur_avail(c, err);

        if (r <= 0) {
            return r;
        }
        if (*c->p == EL_REC_SKIP) {
            /* a SKIP may come anywhere: step over it */
            Rec sk;
            ParseFail f;
            const uint8_t *next;

            if (rd_parse_rec(c->p, c->end, &sk, &next, &f) != RD_OK) {
                if (cur_parse_fail(c, &f, err) < 0) {
                    return -1;
                }
                continue;
            }
            c->p = next;
            continue;
        }
        if (*c->p == EL_REC_REGS) {
            /* what instruction i changed (after its accesses), or a later
             * instruction's: left for it */
            Rec rg;
            ParseFail f;
            const uint8_t *next;
            char what[160];

            if (rd_parse_rec(c->p, c->end, &rg, &next, &f) != RD_OK) {
                if (cur_parse_fail(c, &f, err) < 0) {
                    return -1;
                }
                continue;
            }
            if (rg.a > i) {
                if (rg.a >= c->blk_count) {
                    snprintf(what, sizeof(what), "REGS record for "
                             "instruction %" PRIu64 " of a block of %" PRIu32,
                             rg.a, c->blk_count);
                    return cur_damage(c, c->p, what, err);
                }
                return 1;
            }
            if (rg.a < i || c->n_regs > 0) {
                snprintf(what, sizeof(what), "REGS record for instruction %"
                         PRIu64 " after %s instruction %" PRIu32, rg.a,
                         rg.a < i ? "one for" : "another one for", i);
                return cur_damage(c, c->p, what, err);
            }
            r = cur_regs(c, &rg, err);
            if (r <= 0) {
                if (r < 0) {
                    return -1;
                }
                continue;
            }
            c->p = next;
            continue;
        }
        if (*c->p < EL_REC_MEM) {
            return 1;
        }
        r = cur_mem(c, &m, &idx, err);
        if (r < 0) {
            return r;
        }
        if (r == 0) {
            continue;
        }
        if (idx != i) {
            c->pending = m;
            c->pending_idx = idx;
            c->have_pending = true;
            return 1;
        }
        if (c->n_mem == c->cap_mem) {
            size_t cap = c->cap_mem * 2;
            ElMemAccess *nm;

            if (cap > MAX_MEM_PER_INSN) {
                rd_set_err(&c->err, EL_ERR_DAMAGED, rd_pos_off(c->ck, c->base, c->p),
                        "more than %u memory accesses for one instruction",
                        MAX_MEM_PER_INSN);
                return cur_fail(c, err);
            }
            nm = realloc(c->mem, cap * sizeof(*nm));
            if (!nm) {
                rd_set_err(&c->err, EL_ERR_NOMEM, 0, "out of memory");
                return cur_fail(c, err);
            }
            c->mem = nm;
            c->cap_mem = cap;
        }
        c->mem[c->n_mem++] = m;
    }
}

/*
 * Step over a MEM record at c->p that belongs to a block before the one
 * the cursor starts at (seeking): only its deltas count.
 */
static int cur_lead_mem(ElCursor *c, ElError *err)
{
    Rec r;
    ParseFail f;
    const uint8_t *next;

    if (parse_hot(c->p, c->end, &r, &next, &f) != RD_OK) {
        return cur_parse_fail(c, &f, err);
    }
    c->prev_vaddr += (uint64_t)el_unzigzag(r.b);
    if (r.info & EL_MEM_PHYS) {
        c->prev_pdelta += (uint64_t)el_unzigzag(r.text_len);
    }
    c->p = next;
    return 0;
}

/*
 * The cursor's one loop. @skipping (seeking): instructions before
 * c->skip_to are stepped over, whole blocks at a time where no MEM record
 * is in the way, and 2 is returned once the next instruction is
 * c->skip_to's; otherwise the next instruction goes into @e (1).
 * 0 at the end, -1 on damage.
 */
static __attribute__((noinline)) int cur_step(ElCursor *c, ElExec *e,
                                               ElError *err,
                                               const bool skipping)
{
    const ElTrace *t = c->t;

    if (c->state == CUR_DONE) {
        return 0;
    }
    if (c->state == CUR_FAILED) {
        if (err) {
            *err = c->err;
        }
        return -1;
    }
    for (;;) {
        Rec r;
        ParseFail f;
        const uint8_t *next;
        char what[160];
        int s;

        if (c->blk_pos < c->blk_count) {
            const bool no_mem = !c->have_pending && c->p < c->end &&
                                *c->p < EL_REC_MEM && *c->p != EL_REC_END &&
                                *c->p != EL_REC_SKIP && *c->p != EL_REC_REGS;

            if (skipping) {
                if (c->index >= c->skip_to) {
                    return 2;
                }
                if (no_mem) {
                    /* none of the block's instructions has an access left */
                    uint64_t n = c->blk_count - c->blk_pos;

                    if (n > c->skip_to - c->index) {
                        n = c->skip_to - c->index;
                    }
                    c->index += n;
                    c->blk_pos += (uint32_t)n;
                    continue;
                }
            } else if (no_mem) {
                /* the fast way: the next record is not one of its MEMs */
                e->vcpu = c->vcpu;
                e->index = c->index++;
                e->insn = &t->insns[c->blk[c->blk_pos++]];
                e->mem = c->mem;
                e->n_mem = 0;
                e->regs = c->regs;
                e->n_regs = 0;
                e->offset = c->blk_offset;
                return 1;
            }
            s = cur_gather(c, err);
            if (s < 0) {
                return -1;
            }
            if (s == 0) {
                /*
                 * The stream ended inside this block. If its last chunk
                 * was being written when recording stopped, every record
                 * written is there: the instructions that started are
                 * emitted. Otherwise (a chunk lost after a sealed one, a
                 * truncated file) their accesses may be lost with the rest:
                 * only instructions known to be whole were emitted.
                 */
                if (cur_end(c, err) < 0) {
                    return -1;
                }
                if (c->tail_lost || !c->ck ||
                    ((c->ck->flags & EL_CK_SEALED) &&
                     !(c->ck->flags & EL_CK_CUT))) {
                    c->state = CUR_DONE;
                    return 0;
                }
                c->stream_over = true;
            }
            if (skipping) {
                c->index++;
                c->blk_pos++;
                continue;
            }
            e->vcpu = c->vcpu;
            e->index = c->index++;
            e->insn = &t->insns[c->blk[c->blk_pos++]];
            e->mem = c->mem;
            e->n_mem = c->n_mem;
            e->regs = c->regs;
            e->n_regs = c->n_regs;
            e->offset = c->blk_offset;
            return 1;
        }
        if (c->stream_over) {
            c->state = CUR_DONE;
            return 0;
        }
        if (skipping && c->index >= c->skip_to && !c->lead) {
            return 2;
        }
        s = cur_avail(c, err);
        if (s < 0) {
            return -1;
        }
        if (s == 0) {
            if (c->have_pending) {
                return cur_damage(c, c->p, "MEM record past its block", err);
            }
            if (cur_end(c, err) < 0) {
                return -1;
            }
            c->state = CUR_DONE;
            return 0;
        }
        if (__builtin_expect(c->lead, 0) && *c->p >= EL_REC_MEM) {
            if (cur_lead_mem(c, err) < 0) {
                return -1;
            }
            continue;
        }
        if (*c->p >= EL_REC_MEM || c->have_pending) {
            /* every instruction of the block is out: a MEM has no owner */
            if (rd_parse_rec(c->p, c->end, &r, &next, &f) != RD_OK) {
                if (cur_parse_fail(c, &f, err) < 0) {
                    return -1;
                }
                continue;
            }
            if (c->blk == NULL) {
                return cur_damage(c, c->p, "MEM record before any BLOCK",
                                  err);
            }
            snprintf(what, sizeof(what), "MEM record for instruction %"
                     PRIu64 " of a block of %" PRIu32, r.a, c->blk_count);
            return cur_damage(c, c->p, what, err);
        }
        if (c->exited && *c->p != EL_REC_SKIP) {
            return cur_damage(c, c->p, "record after the vCPU's EXIT record",
                              err);
        }
        if (parse_hot(c->p, c->end, &r, &next, &f) != RD_OK) {
            if (cur_parse_fail(c, &f, err) < 0) {
                return -1;
            }
            continue;
        }
        switch (r.kind) {
        case EL_REC_BLOCK: {
            uint64_t tb = c->prev_tb + (uint64_t)el_unzigzag(r.a);
            const Tb *b;

            if (__builtin_expect(c->fresh, 0)) {
                /* version 2: the chunk's first block is where it says */
                c->fresh = false;
                c->lead = false;
                if (c->ck->first_insn != c->index) {
                    if (c->ck->first_insn == EL_CK_NO_BLOCK) {
                        snprintf(what, sizeof(what), "BLOCK record in a "
                                 "chunk whose header says none starts in "
                                 "it");
                    } else {
                        snprintf(what, sizeof(what), "the chunk's first "
                                 "block starts at instruction %" PRIu64
                                 ", its header says %" PRIu64, c->index,
                                 c->ck->first_insn);
                    }
                    return cur_damage(c, c->p, what, err);
                }
            }
            if (tb >= t->n_tbs) {
                snprintf(what, sizeof(what), "BLOCK refers to TB %" PRIu64
                         ", which is not defined", tb);
                if (cur_missing(c, what, err) < 0) {
                    return -1;
                }
                continue;
            }
            b = &t->tbs[tb];
            if (r.b > b->n) {
                snprintf(what, sizeof(what), "BLOCK of %" PRIu64 " "
                         "instructions of TB %" PRIu64 ", which has %" PRIu32,
                         r.b, tb, b->n);
                return cur_damage(c, c->p, what, err);
            }
            c->prev_tb = tb;
            c->blk = t->tb_pool + b->start;
            c->blk_count = (uint32_t)r.b;
            c->blk_pos = 0;
            /*
             * A record of a compressed chunk has no file offset of its
             * own: it gets the chunk's payload offset plus its position
             * in the decompressed records, unique per record.
             */
            c->blk_offset = c->ck->off + EL_CHUNK_HEADER_SIZE +
                            (uint64_t)(c->p - c->base);
            break;
        }
        case EL_REC_EXIT:
            if (t->sum.state == EL_STATE_COMPLETE &&
                (r.a != c->index ||
                 (!c->seeked && (r.b != c->loads || r.c != c->stores)))) {
                snprintf(what, sizeof(what), "EXIT record says %" PRIu64
                         " instructions, %" PRIu64 " loads, %" PRIu64
                         " stores; the records have %" PRIu64 ", %" PRIu64
                         ", %" PRIu64, r.a, r.b, r.c, c->index, c->loads,
                         c->stores);
                return cur_damage(c, c->p, what, err);
            }
            c->exited = true;
            break;
        case EL_REC_VCPU:
        case EL_REC_SKIP:
            break;
        case EL_REC_REGS:
            snprintf(what, sizeof(what), "REGS record for instruction %"
                     PRIu64 " of a block of %" PRIu32 " whose instructions "
                     "are all out", r.a, c->blk_count);
            return cur_damage(c, c->p, what, err);
        default:
            snprintf(what, sizeof(what), "%s record in a vCPU chunk",
                     rd_kind_name(r.kind));
            return cur_damage(c, c->p, what, err);
        }
        c->p = next;
    }
}

/*
 * Runs for every executed instruction: the most common case, an
 * instruction of the current block whose next record is not one of its
 * accesses, here, without cur_step()'s frame (the same test as there).
 */
int el_cursor_next(ElCursor *c, ElExec *e, ElError *err)
{
    if (__builtin_expect(c->blk_pos < c->blk_count &&
                         c->state == CUR_RUNNING && !c->have_pending &&
                         c->p < c->end, 1)) {
        uint8_t k = *c->p;

        if (k < EL_REC_MEM && k != EL_REC_END && k != EL_REC_SKIP &&
            k != EL_REC_REGS) {
            e->vcpu = c->vcpu;
            e->index = c->index++;
            e->insn = &c->t->insns[c->blk[c->blk_pos++]];
            e->mem = c->mem;
            e->n_mem = 0;
            e->regs = c->regs;
            e->n_regs = 0;
            e->offset = c->blk_offset;
            return 1;
        }
    }
    return cur_step(c, e, err, false);
}

size_t el_cursor_next_plain(ElCursor *c, size_t max, const uint32_t **ids,
                            uint64_t *index, uint64_t *offset)
{
    uint32_t end;
    size_t n;

    if (c->blk_pos >= c->blk_count || c->state != CUR_RUNNING) {
        return 0;
    }
    if (c->have_pending) {
        /* a MEM read ahead (checked) of a later instruction of the block */
        end = c->pending_idx;
    } else if (c->p < c->end && *c->p < EL_REC_MEM && *c->p != EL_REC_END &&
               *c->p != EL_REC_SKIP && *c->p != EL_REC_REGS) {
        /* the block's records are over: none of the rest has accesses */
        end = c->blk_count;
    } else {
        return 0;           /* el_cursor_next() reads what comes */
    }
    if (end <= c->blk_pos) {
        return 0;
    }
    n = end - c->blk_pos;
    if (n > max) {
        n = max;
    }
    *ids = c->blk + c->blk_pos;
    *index = c->index;
    *offset = c->blk_offset;
    c->blk_pos += (uint32_t)n;
    c->index += n;
    return n;
}

/*
 * The chunk to start at for instruction @index: the last of the vCPU's
 * chunks (in seq order) whose first block starts at or before it, or 0.
 */
static uint32_t seek_chunk(const ElCursor *c, uint64_t index)
{
    const ElTrace *t = c->t;
    const Vcpu *v = c->v;
    uint32_t lo = 0, hi = v->n;

    /* first_insn ascends, with EL_CK_NO_BLOCK chunks in between: find the
     * first chunk that starts a block past @index */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2, m = mid;
        uint64_t f;

        /* a chunk with no block start counts as the one before it that
         * has one (a block spans chunks: a few at most) */
        while (m > lo && t->chunks[t->byv[v->first + m]].first_insn ==
                         EL_CK_NO_BLOCK) {
            m--;
        }
        f = t->chunks[t->byv[v->first + m]].first_insn;
        if (f != EL_CK_NO_BLOCK && f > index) {
            hi = m;
        } else {
            lo = mid + 1;
        }
    }
    /* lo: the first chunk past it; go back to one that starts a block */
    while (lo > 0 && t->chunks[t->byv[v->first + lo - 1]].first_insn ==
                     EL_CK_NO_BLOCK) {
        lo--;
    }
    return lo > 0 ? lo - 1 : 0;
}

int el_cursor_seek(ElCursor *c, uint64_t index, ElError *err)
{
    const ElTrace *t = c->t;
    uint32_t k = 0;
    ElExec e;
    int r;

    /* back to a chunk's start, the buffers kept */
    c->ck = NULL;
    c->base = c->p = c->end = NULL;
    c->done_bytes = 0;
    c->prev_tb = c->prev_vaddr = c->prev_pdelta = 0;
    c->blk = NULL;
    c->blk_count = c->blk_pos = 0;
    c->blk_offset = 0;
    c->index = 0;
    c->loads = c->stores = 0;
    c->n_mem = 0;
    c->have_pending = false;
    c->exited = c->tail_lost = c->at_end = c->stream_over = false;
    c->lead = c->fresh = false;
    c->seeked = false;
    c->state = CUR_RUNNING;
    memset(&c->err, 0, sizeof(c->err));

    if (t->local && c->v->seekable && c->v->n > 0) {
        k = seek_chunk(c, index);
    }
    if (k > 0) {
        const Chunk *ck = &t->chunks[t->byv[c->v->first + k]];

        for (uint32_t i = 0; i < k; i++) {
            c->done_bytes += t->chunks[t->byv[c->v->first + i]].slot;
        }
        c->next_chunk = k;
        c->index = ck->first_insn;
        c->lead = true;
        c->seeked = true;
    } else {
        c->next_chunk = 0;
    }
    c->skip_to = index;
    r = cur_step(c, &e, err, true);
    if (r == 0 && c->state == CUR_DONE) {
        return 0;
    }
    return r < 0 ? -1 : 0;
}
