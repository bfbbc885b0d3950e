/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * execlog: log every executed guest instruction with its memory accesses.
 *
 * A drop-in replacement for QEMU's contrib/plugins/execlog: same options,
 * same lines, same filters, written without a lock, an allocation or a
 * printf-family call on the per-instruction and per-access paths.
 *
 * Translation time (vcpu_tb_trans) decides which instructions are logged and
 * formats each one's static text once ("0xPC, 0xOPCODE, \"DISAS\""). At run
 * time the instruction callback commits the vCPU's pending line and starts
 * the next, the memory callback appends to it; lines leave in large batches.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binwriter.h"
#include "compat.h"
#include "devcache.h"
#include "insncache.h"
#include "meta.h"
#include "options.h"
#include "regs.h"
#include "serial.h"
#include "shm.h"
#include "sink.h"
#include "execlog/textfmt.h"
#include "vcpu.h"
#include "watcher.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static ElOptions opts;
static bool filtering;          /* any ifilter= or afilter= */
static bool system_mode;
static bool binary_noted;       /* format=bin: binary= is in the header */

/* ------------------------------------------------------------------------ */
/* Run time: these run for every logged instruction or memory access.      */
/* No locks, no allocation, no printf.                                      */

/*
 * End the pending line, if there is one: with reg=, the watched registers
 * that changed are appended first (what the instruction did to them).
 * Returns whether a line was ended.
 */
static inline bool end_line(ElVcpu *v, bool check_regs)
{
    if (v->len == v->committed) {
        return false;
    }
    if (check_regs && v->regs) {
        el_regs_check(v->regs, v);
    }
    v->buf[v->len++] = '\n';
    v->committed = v->len;
    return true;
}

static inline void start_line(ElVcpu *v, const ElInsn *insn)
{
    el_vcpu_reserve(v, v->prefix_len + insn->text_len + 1);
    memcpy(v->buf + v->len, v->prefix, v->prefix_len);
    memcpy(v->buf + v->len + v->prefix_len, insn->text, insn->text_len);
    v->len += v->prefix_len + insn->text_len;
    v->logged = true;
    v->repeat_at_exit = false;
}

static void vcpu_insn_exec(unsigned int vcpu_index, void *udata)
{
    ElVcpu *v = el_vcpu_get(vcpu_index);

    if (__builtin_expect(v != NULL, 1)) {
        end_line(v, false);
        start_line(v, udata);
    }
}

static void vcpu_insn_exec_with_regs(unsigned int vcpu_index, void *udata)
{
    ElVcpu *v = el_vcpu_get(vcpu_index);

    if (__builtin_expect(v != NULL, 1)) {
        end_line(v, true);
        start_line(v, udata);
    }
}

/* An instruction that is not logged but ends the pending line's changes. */
static void vcpu_insn_exec_only_regs(unsigned int vcpu_index, void *udata)
{
    ElVcpu *v = el_vcpu_get(vcpu_index);

    (void)udata;
    if (__builtin_expect(v != NULL, 1) && end_line(v, true)) {
        v->repeat_at_exit = EL_EXIT_REPEATS_LINE_ENDED_UNLOGGED;
    }
}

/* Each vCPU's I/O region names (devcache.h); the first EL_DEV_VCPUS. */
static ElDevCache dev_caches[EL_DEV_VCPUS];

static inline ElDevCache *dev_cache(unsigned int vcpu_index)
{
    return vcpu_index < EL_DEV_VCPUS ? &dev_caches[vcpu_index] : NULL;
}

static void vcpu_mem(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
                     uint64_t vaddr, void *udata)
{
    ElVcpu *v = el_vcpu_get(vcpu_index);
    struct qemu_plugin_hwaddr *hw;
    int is_store = qemu_plugin_mem_is_store(info);

    (void)udata;
    if (__builtin_expect(v == NULL, 0)) {
        return;
    }
    hw = system_mode ? qemu_plugin_get_hwaddr(info, vaddr) : NULL;
    if (hw) {
        /*
         * QEMU names RAM "RAM" and interns the name on every call (a hash
         * lookup under a lock): ask only for the name of an I/O region,
         * and that once per address (devcache.h).
         */
        uint64_t paddr = qemu_plugin_hwaddr_phys_addr(hw);
        const char *dev = "RAM";
        size_t dlen;

        if (qemu_plugin_hwaddr_is_io(hw)) {
            bool fresh;
            ElDevSlot *s = el_dev_lookup(dev_cache(vcpu_index), hw, paddr,
                                         &fresh);

            dev = s ? s->name : qemu_plugin_hwaddr_device_name(hw);
        }
        dlen = strlen(dev);
        el_vcpu_reserve(v, EL_FMT_MEM_MAX + 2 + dlen);
        v->len += el_fmt_mem(v->buf + v->len, is_store, paddr);
        v->len += el_fmt_device(v->buf + v->len, dev, dlen);
    } else {
        el_vcpu_reserve(v, EL_FMT_MEM_MAX);
        v->len += el_fmt_mem(v->buf + v->len, is_store, vaddr);
    }
}

/*
 * format=bin: the same events, as records (binwriter.h). The writers are
 * found in a flat table (one load per callback); set at vCPU init, before
 * the vCPU runs.
 */
static ElBinVcpu *bin_vcpus[EL_VCPU_MAX];

static inline ElBinVcpu *bin_get(unsigned int vcpu_index)
{
    return vcpu_index < EL_VCPU_MAX ? bin_vcpus[vcpu_index] : NULL;
}

/*
 * A block starts. The count of the one the vCPU leaves is settled: from the
 * inline counter if it was counted that way (compat.h), else it is already
 * in place (bin_insn_exec).
 */
static inline void bin_block(unsigned int vcpu_index, void *udata,
                             bool counted)
{
    ElBinVcpu *w = bin_get(vcpu_index);

    if (__builtin_expect(w != NULL, 1)) {
        uint64_t started = w->open_counted ?
                           el_progress_read(vcpu_index, &w->live, true) : 0;

        el_bin_block(w, (uint32_t)(uintptr_t)udata, started, counted);
    }
}

static void bin_tb_exec_counted(unsigned int vcpu_index, void *udata)
{
#if EL_API < 2
    /*
     * The shared counter is vCPU 0's: serial.h says why no other vCPU runs
     * such a block. Should QEMU ever do so, say it rather than be silent.
     */
    if (__builtin_expect(vcpu_index != 0, 0)) {
        static int warned;

        if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED)) {
            fprintf(stderr, "execlog: vCPU %u ran a block counted for vCPU "
                    "0 only; instruction counts of both may be off\n",
                    vcpu_index);
        }
    }
#endif
    bin_block(vcpu_index, udata, true);
}

static void bin_tb_exec(unsigned int vcpu_index, void *udata)
{
    bin_block(vcpu_index, udata, false);
}

/* Where API 1 cannot count inline (several vCPUs): a callback each. */
static void bin_insn_exec(unsigned int vcpu_index, void *udata)
{
    ElBinVcpu *w = bin_get(vcpu_index);

    if (__builtin_expect(w != NULL, 1)) {
        el_bin_insn(w, (uint32_t)(uintptr_t)udata);
    }
}

/*
 * A memory callback's udata is (TB id << 16 | instruction index). When QEMU
 * re-executes an instruction on its own to redo an access (an MMIO access in
 * the middle of a TB: cpu_io_recompile builds a TB with memory callbacks
 * only), no block starts: the access belongs to the instruction of the
 * current block that started last.
 */
static inline uint32_t bin_mem_index(ElBinVcpu *w, unsigned int vcpu_index,
                                     uintptr_t udata)
{
    if (__builtin_expect((uint32_t)(udata >> 16) != w->last_tb, 0)) {
        uint64_t started = w->open_counted ?
                           el_progress_read(vcpu_index, &w->live, false) :
                           w->open_count;

        return started ? (uint32_t)started - 1u : 0;
    }
    return (uint32_t)(udata & 0xffff);
}

static void bin_mem(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
                    uint64_t vaddr, void *udata)
{
    ElBinVcpu *w = bin_get(vcpu_index);
    struct qemu_plugin_hwaddr *hw;
    uint8_t bits;
    uint32_t device = 0;
    uint64_t paddr = 0;

    if (__builtin_expect(w == NULL, 0)) {
        return;
    }
    /*
     * qemu_plugin_meminfo_t is a plain value: decode each one once. Its
     * bits are QEMU's business, and the few values a guest uses can differ
     * in high and low bits alike: a multiplicative hash spreads them.
     */
    unsigned slot = (uint32_t)(info * 0x9e3779b1u) >>
                    (32 - EL_BIN_MEMINFO_BITS);

    if (__builtin_expect(w->mi_key[slot] == ((uint64_t)info | 1ull << 32),
                         1)) {
        bits = w->mi_bits[slot];
    } else {
        bits = (uint8_t)(qemu_plugin_mem_size_shift(info) &
                         EL_MEM_SIZE_SHIFT_MASK);
        if (qemu_plugin_mem_is_store(info)) {
            bits |= EL_MEM_STORE;
        }
        if (qemu_plugin_mem_is_big_endian(info)) {
            bits |= EL_MEM_BIG_ENDIAN;
        }
        if (qemu_plugin_mem_is_sign_extended(info)) {
            bits |= EL_MEM_SIGN;
        }
        w->mi_key[slot] = (uint64_t)info | 1ull << 32;
        w->mi_bits[slot] = bits;
    }
    hw = system_mode ? qemu_plugin_get_hwaddr(info, vaddr) : NULL;
    if (hw) {
        bits |= EL_MEM_PHYS;
        paddr = qemu_plugin_hwaddr_phys_addr(hw);
        if (qemu_plugin_hwaddr_is_io(hw)) {
            /* the name once per address (devcache.h); its id with it */
            bool fresh;
            ElDevSlot *s = el_dev_lookup(dev_cache(vcpu_index), hw, paddr,
                                         &fresh);

            if (!s) {
                device = el_bin_device(qemu_plugin_hwaddr_device_name(hw));
            } else {
                if (fresh) {
                    s->id = el_bin_device(s->name);
                }
                device = s->id;
            }
        }
    }
    el_bin_mem(w, bin_mem_index(w, vcpu_index, (uintptr_t)udata), bits, vaddr, device,
               paddr);
}

/* ------------------------------------------------------------------------ */
/* Translation time.                                                        */

/*
 * API 1 counts inline only in blocks no second vCPU can run: in system
 * mode with one vCPU, in user mode while QEMU translates for serial
 * execution (serial.h: until the guest's first thread or shared memory).
 * Then the only vCPU's counter, or NULL.
 */
static bool system_one_vcpu;
static unsigned bin_vcpus_seen;    /* atomic */

static uint64_t *bin_single_counter(void)
{
    bool single = system_mode ? system_one_vcpu :
                  __atomic_load_n(&bin_vcpus_seen, __ATOMIC_ACQUIRE) <= 1 &&
                  el_serial_code();

    return single && bin_vcpus[0] ? &bin_vcpus[0]->live : NULL;
}

/*
 * format=bin: define the TB's instructions (once each) and the TB, then ask
 * for a callback at the start of the TB, one per memory access, and count
 * inline as each instruction starts (to know how far the block got; a
 * callback per instruction where that cannot be done).
 */
static void vcpu_tb_trans_bin(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    uint32_t ids[n ? n : 1];
    uint32_t tb_id;
    bool ok = true;
    bool counted;
    uint64_t *single = bin_single_counter();

    (void)id;
    el_bin_static_lock();
    if (!system_mode && !binary_noted) {
        /* QEMU knows the guest program once it runs its first code */
        const char *path = qemu_plugin_path_to_binary();
        char line[1024];

        binary_noted = true;
        if (path) {
            snprintf(line, sizeof(line), "binary=%s\n", path);
            el_bin_meta_append(line);
            free((void *)path);
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
        char *disas = qemu_plugin_insn_disas(insn);
        uint8_t bytes[EL_INSN_MAX_BYTES];
        size_t size = el_insn_bytes(insn, bytes, sizeof(bytes));
        bool created;
        const ElInsn *info = el_insn_cache_get(vaddr, bytes, size,
                                               disas ? disas : "", &created);

        free(disas);
        if (!info) {
            ok = false;
            break;
        }
        if (created) {
            el_bin_def_insn(info->id, info->pc, info->bytes, info->size,
                            info->disas, info->disas_len);
        }
        ids[i] = info->id;
    }
    ok = ok && el_bin_tb(ids, (uint32_t)n, &tb_id);
    el_bin_static_unlock();
    if (!ok) {
        fprintf(stderr, "execlog: out of memory at translation; the trace "
                "is incomplete\n");
        return;
    }

    counted = n > 0 && el_progress_count(qemu_plugin_tb_get_insn(tb, 0),
                                         single);
    qemu_plugin_register_vcpu_tb_exec_cb(tb, counted ? bin_tb_exec_counted :
                                         bin_tb_exec,
                                         QEMU_PLUGIN_CB_NO_REGS,
                                         (void *)(uintptr_t)tb_id);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

        if (!counted) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, bin_insn_exec,
                                                   QEMU_PLUGIN_CB_NO_REGS,
                                                   (void *)(uintptr_t)i);
        } else if (i > 0) {
            el_progress_count(insn, single);
        }
        qemu_plugin_register_vcpu_mem_cb(insn, bin_mem,
                                         QEMU_PLUGIN_CB_NO_REGS,
                                         QEMU_PLUGIN_MEM_RW,
                                         (void *)(((uintptr_t)tb_id << 16) |
                                                  i));
    }
}

static void vcpu_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    bool skip = filtering;
    bool watch_regs = opts.n_regs > 0;
    bool regs_this = watch_regs;
    bool regs_next = false;
    bool rdisas = opts.rdisas && watch_regs;

    (void)id;
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
        char *disas = qemu_plugin_insn_disas(insn);
        const char *d = disas ? disas : "";

        if (skip && el_match_ifilter(&opts, d)) {
            skip = false;
        }
        if (skip && el_match_afilter(&opts, vaddr)) {
            skip = false;
        }
        /*
         * rdisas: an instruction whose operands name a watched register is
         * logged, and registers are checked when the next one starts.
         */
        if (rdisas) {
            regs_next = el_regs_disas_mentions(d);
            if (regs_next) {
                skip = false;
            }
        }

        if (skip) {
            if (regs_this) {
                qemu_plugin_register_vcpu_insn_exec_cb(
                    insn, vcpu_insn_exec_only_regs, QEMU_PLUGIN_CB_R_REGS,
                    NULL);
            }
        } else {
            uint8_t bytes[EL_INSN_MAX_BYTES];
            size_t size = el_insn_bytes(insn, bytes, sizeof(bytes));
            const ElInsn *info = el_insn_cache_get(vaddr, bytes, size, d,
                                                   NULL);

            if (info) {
                qemu_plugin_register_vcpu_mem_cb(insn, vcpu_mem,
                                                 QEMU_PLUGIN_CB_NO_REGS,
                                                 QEMU_PLUGIN_MEM_RW, NULL);
                if (regs_this) {
                    qemu_plugin_register_vcpu_insn_exec_cb(
                        insn, vcpu_insn_exec_with_regs, QEMU_PLUGIN_CB_R_REGS,
                        (void *)info);
                } else {
                    qemu_plugin_register_vcpu_insn_exec_cb(
                        insn, vcpu_insn_exec, QEMU_PLUGIN_CB_NO_REGS,
                        (void *)info);
                }
            }
            skip = filtering;
        }
        if (rdisas) {
            regs_this = regs_next;
        }
        free(disas);
    }
}

static void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu_index)
{
    bool bin = opts.format == EL_FORMAT_BIN;
    ElVcpu *v = el_vcpu_create(vcpu_index, !bin);

    (void)id;
    if (v && bin && !v->bin) {
        v->bin = el_bin_vcpu_new(vcpu_index);
        if (!v->bin) {
            fprintf(stderr, "execlog: out of memory for vCPU %u: its "
                    "instructions are not recorded\n", vcpu_index);
        }
        __atomic_store_n(&bin_vcpus[vcpu_index], v->bin, __ATOMIC_RELEASE);
        __atomic_add_fetch(&bin_vcpus_seen, 1, __ATOMIC_ACQ_REL);
    } else if (v && !v->regs) {
        v->regs = el_regs_init(&opts);
    }
}

/* ------------------------------------------------------------------------ */
/* Exit: all complete lines, then every vCPU's pending line.               */

/*
 * All complete lines, then every vCPU's pending line, as upstream prints
 * them at exit: a line for each vCPU up to the last one that has one (API
 * 1: that logged something; API 4: that was initialised), empty if nothing
 * is pending. Used at exit, and by the watcher when QEMU ended without one.
 */
static void text_write_all(unsigned count, ElVcpu *(*get)(unsigned))
{
    unsigned lines = 0;
    size_t size = 0, len = 0;
    char *out;

    for (unsigned i = 0; i < count; i++) {
        ElVcpu *v = get(i);

        if (v && v->repeat_at_exit && v->len == v->committed &&
            v->committed > 0) {
            /* the last committed line becomes the pending one again */
            size_t start = v->committed - 1;

            while (start > 0 && v->buf[start - 1] != '\n') {
                start--;
            }
            size_t n = v->committed - 1 - start;
            char *line = malloc(n + 1);

            if (line) {
                memcpy(line, v->buf + start, n);
                el_vcpu_reserve(v, n);
                memcpy(v->buf + v->len, line, n);
                v->len += n;
                free(line);
            }
        }
        if (v) {
            el_vcpu_flush(v);
            size += v->len + 1;
            if (EL_EXIT_LINES_FOR_ALL_INITIALISED || v->logged) {
                lines = i + 1;
            }
        }
    }
    out = malloc(size + lines + 1);
    if (!out) {
        fprintf(stderr, "execlog: out of memory at exit; the last line of "
                "each vCPU is lost\n");
        el_sink_close();
        return;
    }
    for (unsigned i = 0; i < lines; i++) {
        ElVcpu *v = get(i);

        if (!v && EL_EXIT_LINES_FOR_ALL_INITIALISED) {
            continue;
        }
        if (v) {
            memcpy(out + len, v->buf, v->len);
            len += v->len;
            v->len = v->committed = 0;
        }
        out[len++] = '\n';
    }
    el_sink_write(out, len);
    free(out);
    el_sink_close();
}

static void watcher_write_all(int fd)
{
    (void)fd;
    for (unsigned i = 0; i < el_vcpu_shared_count(); i++) {
        if (el_vcpu_shared_get(i)) {
            el_vcpu_settle(el_vcpu_shared_get(i));
        }
    }
    text_write_all(el_vcpu_shared_count(), el_vcpu_shared_get);
}

static void watcher_write_bin(int fd)
{
    el_bin_salvage(fd);
}

static void plugin_exit(qemu_plugin_id_t id, void *p)
{
    unsigned count = el_vcpu_count();

    (void)id;
    (void)p;
    if (opts.format == EL_FORMAT_BIN) {
        ElBinVcpu **w = calloc(count ? count : 1, sizeof(*w));

        for (unsigned i = 0; w && i < count; i++) {
            ElVcpu *v = el_vcpu_get(i);

            w[i] = v ? v->bin : NULL;
            if (w[i] && w[i]->open_counted) {
                el_bin_settle(w[i], el_progress_read(i, &w[i]->live, true));
            }
        }
        if (w) {
            el_bin_close(w, count);
        }
        free(w);
        el_watch_clean_exit();
        return;
    }
    text_write_all(count, el_vcpu_get);
    el_watch_clean_exit();
}

static void watcher_missing(void)
{
    fprintf(stderr, "execlog: cannot start the watcher process; if QEMU "
            "ends without the plugin's exit callback, what it holds in "
            "memory then is lost\n");
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
                                           const qemu_info_t *info,
                                           int argc, char **argv)
{
    char err[512];

    if (el_options_parse(&opts, argc, argv, EL_API, err, sizeof(err)) != 0) {
        fprintf(stderr, "execlog: %s\n", err);
        return -1;
    }
    filtering = opts.n_ifilters > 0 || opts.n_afilters > 0;
    system_mode = info->system_emulation;
    if (opts.format == EL_FORMAT_BIN) {
        char *meta = el_meta(info, argc, argv);
        ElBinConfig cfg = {
            .path = opts.outfile,
            .zstd = opts.compress == EL_COMPRESS_ZSTD,
            .system = info->system_emulation,
            .api = EL_API,
            .meta = meta ? meta : "",
        };
        /* chunks in memory the watcher shares, written by a thread */
        bool shared = el_shm_init();
        int r;

        system_one_vcpu = info->system_emulation &&
                          info->system.max_vcpus == 1;
        r = el_bin_open(&cfg, err, sizeof(err));
        free(meta);
        if (r != 0) {
            fprintf(stderr, "execlog: %s\n", err);
            el_options_free(&opts);
            return -1;
        }
        if (!shared || el_watch_start(el_bin_fd(), watcher_write_bin) != 0) {
            watcher_missing();
        }
        el_bin_start_writer();
        el_progress_init();
#if EL_API < 2
        if (!system_mode) {
            el_serial_watch(id, info->target_name);
        }
#endif
        qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
        qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans_bin);
        qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
        return 0;
    }
    if (opts.outfile) {
        if (el_sink_open_file(opts.outfile, err, sizeof(err)) != 0) {
            fprintf(stderr, "execlog: %s\n", err);
            el_options_free(&opts);
            return -1;
        }
    } else {
        el_sink_use_outs();
    }
    /*
     * A watcher writes out what is buffered if QEMU ends without calling
     * plugin_exit(); for "-d plugin" only where QEMU's log can be found.
     */
    {
        int out_fd = opts.outfile ? el_sink_fd() : el_watch_find_qemu_log();

        if (out_fd >= 0 && (!el_shm_init() || !el_vcpu_share() ||
                            el_watch_start(out_fd, watcher_write_all) != 0)) {
            watcher_missing();
        }
    }

    qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
    qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans);
    qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
    return 0;
}
