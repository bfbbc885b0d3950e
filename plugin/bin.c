/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * format=bin: every executed instruction and access, as records of a
 * binary trace (docs/trace-format.md, binwriter.h).
 *
 * Translation time (vcpu_tb_trans_bin) defines each instruction and TB
 * once; at run time a callback at the start of each block writes a BLOCK
 * record, the block's instructions are counted inline where that is exact
 * (compat.h, serial.h), and a callback per access writes a MEM record.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bin.h"
#include "binregs.h"
#include "binwriter.h"
#include "compat.h"
#include "devcache.h"
#include "insncache.h"
#include "meta.h"
#include "modules.h"
#include "serial.h"
#include "shm.h"
#include "watcher.h"
#include "window.h"

#define BIN_VCPU_MAX 65536

static bool system_mode;
static bool values;             /* values=on */
static bool binary_noted;       /* binary= is in the header */
static const ElOptions *bin_opts;
static bool filtering;          /* ifilter=/afilter=: TBs of logged ones */
static bool windowed;           /* a window option (window.h) */

/* ------------------------------------------------------------------------ */
/* Run time: these run for every block, instruction or memory access.      */
/* No locks, no allocation, no printf.                                      */

/*
 * The writers are found in a flat table, the one registry of this front
 * end (one load per callback); set at vCPU init, before the vCPU runs.
 */
static ElBinVcpu *bin_vcpus[BIN_VCPU_MAX];

static inline ElBinVcpu *bin_get(unsigned int vcpu_index)
{
    return vcpu_index < BIN_VCPU_MAX ? bin_vcpus[vcpu_index] : NULL;
}

/*
 * A block starts. The count of the one the vCPU leaves is settled: from the
 * inline counter if it was counted that way (compat.h), else it is already
 * in place (bin_insn_exec).
 */
static void bin_block_win(ElBinVcpu *w, unsigned int vcpu_index,
                          uint32_t tb, bool counted);

static inline void bin_block(unsigned int vcpu_index, void *udata,
                             bool counted, bool regs)
{
    ElBinVcpu *w = bin_get(vcpu_index);

    if (__builtin_expect(w != NULL, 1)) {
        uint64_t started;

        if (windowed) {
            bin_block_win(w, vcpu_index, (uint32_t)(uintptr_t)udata, counted);
            return;
        }
        started = w->open_counted ?
                  el_progress_read(vcpu_index, &w->live, true) : 0;
        if (regs) {
            /*
             * What the last instruction that started changed (binregs.h);
             * not if the block has no record in this trace (a forked
             * child's first block leaves one of its parent's).
             */
            el_bin_settle(w, started);
            if (w->open_count > 0 && w->count != w->dummy) {
                el_binregs_write(w, vcpu_index, w->open_count - 1);
            }
        }
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
    bin_block(vcpu_index, udata, true, false);
}

static void bin_tb_exec(unsigned int vcpu_index, void *udata)
{
    bin_block(vcpu_index, udata, false, false);
}

/* reg= (API >= 2, so counted inline): registers read at the block's start */
static void bin_tb_exec_counted_regs(unsigned int vcpu_index, void *udata)
{
    bin_block(vcpu_index, udata, true, true);
}

static void bin_tb_exec_regs(unsigned int vcpu_index, void *udata)
{
    bin_block(vcpu_index, udata, false, true);
}

/* reg=: instruction @udata (> 0) of the block starts; the one before ended */
static void bin_insn_regs(unsigned int vcpu_index, void *udata)
{
    ElBinVcpu *w = bin_get(vcpu_index);

    if (__builtin_expect(w != NULL, 1)) {
        el_binregs_write(w, vcpu_index, (uint32_t)(uintptr_t)udata - 1);
    }
}

/* Where API 1 cannot count inline (several vCPUs): a callback each. */
static void bin_insn_exec(unsigned int vcpu_index, void *udata)
{
    ElBinVcpu *w = bin_get(vcpu_index);

    if (__builtin_expect(w != NULL, 1) &&
        (!windowed || el_win_logging(vcpu_index))) {
        el_bin_insn(w, (uint32_t)(uintptr_t)udata);
    }
}

/*
 * With a window (window.h): a callback per instruction the filters log,
 * udata (TB id << 16 | index in the TB | EL_WIN_* << 48). A block's record
 * starts at its first logged instruction: when that is not the TB's first
 * (the window opened inside the block), the record names a TB made of the
 * rest of the block (bin_tail), so that a BLOCK holds only logged
 * instructions and its count stays exact; the window closing inside a
 * block ends the count there.
 */
typedef struct BinWin {
    uint32_t tb;            /* the open block's TB as translated */
    uint32_t base;          /* index in it of the block's first */
    uint32_t next;          /* the index that continues the block */
    bool open;
} __attribute__((aligned(64))) BinWin;

static BinWin bin_win[BIN_VCPU_MAX];

/*
 * The TB of instructions @from.. of TB @tb, defined on first sight. Once
 * per vCPU and window at most (where the window opens): takes the static
 * lock and may allocate.
 */
static uint32_t bin_tail(uint32_t tb, uint32_t from)
{
    uint32_t id = tb;
    bool ok;

    el_bin_static_lock();
    ok = el_bin_tb_tail(tb, from, &id);
    el_bin_static_unlock();
    if (!ok) {
        static int warned;

        if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED)) {
            fprintf(stderr, "execlog: out of memory where the window "
                    "opened; a block's first instructions are recorded as "
                    "if they ran\n");
        }
    }
    return ok ? id : tb;
}

static void bin_win_insn(unsigned int vcpu_index, void *udata)
{
    uintptr_t u = (uintptr_t)udata;
    uint32_t tb = (uint32_t)(u >> 16), i = (uint32_t)(u & 0xffff);
    ElBinVcpu *w;
    BinWin *s;

    if (!el_win_step(vcpu_index, (unsigned)(u >> 48))) {
        return;
    }
    w = bin_get(vcpu_index);
    if (__builtin_expect(w == NULL, 0)) {
        return;
    }
    s = &bin_win[vcpu_index];
    if (i == 0 || !s->open || s->tb != tb || s->next != i) {
        /* the block left may have been counted inline (bin_block_win) */
        uint64_t started = w->open_counted ?
                           el_progress_read(vcpu_index, &w->live, true) : 0;

        el_bin_block(w, i == 0 ? tb : bin_tail(tb, i), started, false);
        s->tb = tb;
        s->base = i;
        s->open = true;
    }
    el_bin_insn(w, i - s->base);
    s->next = i + 1;
}

/*
 * With a window without skip= or limit=, the blocks that hold no start= or
 * stop= instruction are recorded whole or not at all, decided where they
 * start (window.h: el_win_block), and counted as without a window. The
 * inline counter is read at every block start: what a block that is not
 * recorded counted is dropped there.
 */
static void bin_block_win(ElBinVcpu *w, unsigned int vcpu_index,
                          uint32_t tb, bool counted)
{
    uint64_t raw = el_progress_read(vcpu_index, &w->live, true);
    uint64_t started = w->open_counted ? raw : 0;

    bin_win[vcpu_index].open = false;
    if (!el_win_block(vcpu_index)) {
        el_bin_settle(w, started);
        w->open_counted = false;
        return;
    }
    el_bin_block(w, tb, started, counted);
}

/* An instruction the filters do not log, at start= or stop=. */
static void bin_trigger_win(unsigned int vcpu_index, void *udata)
{
    el_win_step(vcpu_index, (unsigned)(uintptr_t)udata);
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

/* A meminfo not in @w's cache: decoded, and cached in @slot. */
static __attribute__((noinline, cold))
uint8_t bin_meminfo(ElBinVcpu *w, unsigned slot, qemu_plugin_meminfo_t info)
{
    uint8_t bits = (uint8_t)(qemu_plugin_mem_size_shift(info) &
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
    return bits;
}

/*
 * One access, the callback registered for its direction (@store), and
 * specialised for system mode (@system: physical address, device) and
 * values=on (@values): constants in each callback below.
 */
static inline __attribute__((always_inline))
void bin_access(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
                uint64_t vaddr, void *udata, bool store, bool values,
                bool system)
{
    ElBinVcpu *w = bin_get(vcpu_index);
    struct qemu_plugin_hwaddr *hw;
    uint8_t bits;
    uint32_t device = 0;
    uint64_t paddr = 0, lo = 0, hi = 0;

    if (__builtin_expect(w == NULL, 0) ||
        (windowed && !el_win_logging(vcpu_index))) {
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
        bits = bin_meminfo(w, slot, info);
    }
    hw = system ? qemu_plugin_get_hwaddr(info, vaddr) : NULL;
    if (system && hw) {
        bits |= EL_MEM_PHYS;
        paddr = qemu_plugin_hwaddr_phys_addr(hw);
        if (qemu_plugin_hwaddr_is_io(hw)) {
            /* the name once per address (devcache.h); its id with it */
            bool fresh;
            ElDevSlot *s = el_dev_lookup(vcpu_index, hw, paddr,
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
    if (values) {
        el_mem_value(info, &lo, &hi);
        bits |= EL_MEM_VALUE;
    }
    if (!system) {
        bits &= (uint8_t)~EL_MEM_PHYS;      /* (so the compiler knows) */
    }
    if (!values) {
        bits &= (uint8_t)~EL_MEM_VALUE;
    }
    el_bin_mem(w, bin_mem_index(w, vcpu_index, (uintptr_t)udata), bits,
               EL_MEM_SPLIT ? store : (bits & EL_MEM_STORE) != 0, vaddr,
               device, paddr, lo, hi);
}

/* The memory callbacks: [system][values][store] */
#define BIN_MEM_CB(name, store, values, system)                             \
    static void name(unsigned int vcpu_index, qemu_plugin_meminfo_t info, \
                     uint64_t vaddr, void *udata)                         \
    {                                                                     \
        bin_access(vcpu_index, info, vaddr, udata, store, values, system); \
    }
BIN_MEM_CB(bin_load, false, false, false)
BIN_MEM_CB(bin_store, true, false, false)
BIN_MEM_CB(bin_load_values, false, true, false)
BIN_MEM_CB(bin_store_values, true, true, false)
BIN_MEM_CB(bin_load_sys, false, false, true)
BIN_MEM_CB(bin_store_sys, true, false, true)
BIN_MEM_CB(bin_load_sys_values, false, true, true)
BIN_MEM_CB(bin_store_sys_values, true, true, true)

static const qemu_plugin_vcpu_mem_cb_t bin_mem_cbs[2][2][2] = {
    { { bin_load, bin_store }, { bin_load_values, bin_store_values } },
    { { bin_load_sys, bin_store_sys },
      { bin_load_sys_values, bin_store_sys_values } },
};

/*
 * Loads and stores of @insn, instruction @at (TB id << 16 | index): a
 * callback for each direction, so that each knows which it is, where QEMU
 * allows it (compat.h: EL_MEM_SPLIT); else the load callback takes both.
 */
static void bin_register_mem(struct qemu_plugin_insn *insn, uintptr_t at)
{
    const qemu_plugin_vcpu_mem_cb_t *cb = bin_mem_cbs[system_mode][values];

    if (!EL_MEM_SPLIT) {
        qemu_plugin_register_vcpu_mem_cb(insn, cb[0], QEMU_PLUGIN_CB_NO_REGS,
                                         QEMU_PLUGIN_MEM_RW, (void *)at);
        return;
    }
    qemu_plugin_register_vcpu_mem_cb(insn, cb[0], QEMU_PLUGIN_CB_NO_REGS,
                                     QEMU_PLUGIN_MEM_R, (void *)at);
    qemu_plugin_register_vcpu_mem_cb(insn, cb[1], QEMU_PLUGIN_CB_NO_REGS,
                                     QEMU_PLUGIN_MEM_W, (void *)at);
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
static unsigned bin_count;         /* atomic: highest index + 1 */

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
 * callback per instruction where that cannot be done). With ifilter= or
 * afilter=, the TB recorded is the list of the instructions they log (a
 * BLOCK holds only logged instructions), and the block's callback sits on
 * its first logged instruction. With a window (window.h), a callback per
 * logged instruction (bin_win_insn), and only while el_win_translate_tb()
 * says so.
 */
static void vcpu_tb_trans_bin(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    uint32_t ids[n ? n : 1];
    int32_t index[n ? n : 1];   /* in the recorded TB; -1: not logged */
    uint32_t m = 0;
    size_t first = n;
    uint32_t tb_id = 0;
    bool ok = true;
    bool counted, per_insn;
    bool regs = el_binregs_on();
    uint64_t *single;

    (void)id;
    el_progress_refresh();
    single = bin_single_counter();
    el_bin_static_lock();
    if (!system_mode && !binary_noted) {
        /* QEMU knows the guest program once it runs its first code */
        char *path = el_path_to_binary();
        char line[1024];

        binary_noted = true;
        if (path) {
            snprintf(line, sizeof(line), "binary=%s\n", path);
            el_bin_meta_append(line);
            free(path);
        }
    }
    if (!system_mode && n > 0) {
        struct qemu_plugin_insn *first = qemu_plugin_tb_get_insn(tb, 0);

        el_modules_note(qemu_plugin_insn_vaddr(first),
                        qemu_plugin_insn_haddr(first));
    }
    if (windowed && !el_win_translate_tb(tb)) {
        el_bin_static_unlock();
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
        char *disas = qemu_plugin_insn_disas(insn);
        const char *d = disas ? disas : "";
        uint8_t bytes[EL_INSN_MAX_BYTES];
        size_t size;
        bool created;
        const ElInsn *info;

        index[i] = -1;
        if (filtering && !el_match_ifilter(bin_opts, d) &&
            !el_match_afilter(bin_opts, vaddr)) {
            free(disas);
            continue;
        }
        size = el_insn_bytes(insn, bytes, sizeof(bytes));
        info = el_insn_cache_get(vaddr, bytes, size, d, &created);
        free(disas);
        if (!info) {
            ok = false;
            break;
        }
        if (created) {
            el_bin_def_insn(info->id, info->pc, info->bytes, info->size,
                            info->disas, info->disas_len);
        }
        if (first == n) {
            first = i;
        }
        index[i] = (int32_t)m;
        ids[m++] = info->id;
    }
    ok = ok && (m == 0 || el_bin_tb(ids, m, &tb_id));
    el_bin_static_unlock();
    if (!ok) {
        fprintf(stderr, "execlog: out of memory at translation; the trace "
                "is incomplete\n");
        return;
    }

    if (windowed && !el_win_counting()) {
        bool trigger = false;

        for (size_t i = 0; i < n && !trigger; i++) {
            trigger = el_win_flags(bin_opts, qemu_plugin_insn_vaddr(
                                   qemu_plugin_tb_get_insn(tb, i))) != 0;
        }
        per_insn = trigger;
    } else {
        per_insn = windowed;
    }
    if (per_insn) {
        for (size_t i = 0; i < n; i++) {
            struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
            uintptr_t flags = el_win_flags(bin_opts,
                                           qemu_plugin_insn_vaddr(insn));

            if (index[i] < 0) {
                if (flags) {
                    qemu_plugin_register_vcpu_insn_exec_cb(
                        insn, bin_trigger_win, QEMU_PLUGIN_CB_NO_REGS,
                        (void *)flags);
                }
                continue;
            }
            uintptr_t at = ((uintptr_t)tb_id << 16) | (uint32_t)index[i];

            qemu_plugin_register_vcpu_insn_exec_cb(
                insn, bin_win_insn, QEMU_PLUGIN_CB_NO_REGS,
                (void *)(at | (flags | EL_WIN_ELIGIBLE) << 48));
            bin_register_mem(insn, at);
        }
        return;
    }
    if (m == 0) {
        return;
    }

    if (first == 0 && regs) {
        /* reg= comes without filters and windows (options.c) */
        counted = el_progress_count(qemu_plugin_tb_get_insn(tb, 0), single);
        qemu_plugin_register_vcpu_tb_exec_cb(tb, counted ?
                                             bin_tb_exec_counted_regs :
                                             bin_tb_exec_regs,
                                             QEMU_PLUGIN_CB_R_REGS,
                                             (void *)(uintptr_t)tb_id);
    } else if (first == 0) {
        counted = el_progress_count(qemu_plugin_tb_get_insn(tb, 0), single);
        qemu_plugin_register_vcpu_tb_exec_cb(tb, counted ?
                                             bin_tb_exec_counted :
                                             bin_tb_exec,
                                             QEMU_PLUGIN_CB_NO_REGS,
                                             (void *)(uintptr_t)tb_id);
    } else {
        /*
         * The block starts at its first logged instruction; its callback
         * is registered before that instruction's count (API 4 runs an
         * instruction's callbacks and inline operations in the order they
         * were registered; API 1 runs callbacks first anyway).
         */
        counted = el_progress_possible(single);
        qemu_plugin_register_vcpu_insn_exec_cb(
            qemu_plugin_tb_get_insn(tb, first), counted ?
            bin_tb_exec_counted : bin_tb_exec, QEMU_PLUGIN_CB_NO_REGS,
            (void *)(uintptr_t)tb_id);
        if (counted) {
            el_progress_count(qemu_plugin_tb_get_insn(tb, first), single);
        }
    }
    for (size_t i = first; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint32_t j = (uint32_t)index[i];

        if (index[i] < 0) {
            continue;
        }
        if (regs && i > 0) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, bin_insn_regs,
                                                   QEMU_PLUGIN_CB_R_REGS,
                                                   (void *)(uintptr_t)i);
        }
        if (!counted) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, bin_insn_exec,
                                                   QEMU_PLUGIN_CB_NO_REGS,
                                                   (void *)(uintptr_t)j);
        } else if (i > first) {
            el_progress_count(insn, single);
        }
        bin_register_mem(insn, ((uintptr_t)tb_id << 16) | j);
    }
}

static void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu_index)
{
    ElBinVcpu *w;

    (void)id;
    if (vcpu_index >= BIN_VCPU_MAX) {
        static int warned;

        if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED)) {
            fprintf(stderr, "execlog: vCPU %u is beyond the %u vCPUs "
                    "execlog can follow; its instructions are not "
                    "recorded\n", vcpu_index, BIN_VCPU_MAX);
        }
        return;
    }
    if (__atomic_load_n(&bin_vcpus[vcpu_index], __ATOMIC_ACQUIRE)) {
        return;         /* user mode: a thread's index used again */
    }
    el_binregs_vcpu_init(vcpu_index);
    w = el_bin_vcpu_new(vcpu_index);
    if (!w) {
        fprintf(stderr, "execlog: out of memory for vCPU %u: its "
                "instructions are not recorded\n", vcpu_index);
        return;
    }
    __atomic_store_n(&bin_vcpus[vcpu_index], w, __ATOMIC_RELEASE);
    __atomic_add_fetch(&bin_vcpus_seen, 1, __ATOMIC_ACQ_REL);
    for (unsigned n = __atomic_load_n(&bin_count, __ATOMIC_RELAXED);
         n < vcpu_index + 1 &&
         !__atomic_compare_exchange_n(&bin_count, &n, vcpu_index + 1, false,
                                      __ATOMIC_RELEASE, __ATOMIC_RELAXED);) {
    }
}

/* Exit: every open block settled, then the trace closed. */
static void plugin_exit(qemu_plugin_id_t id, void *p)
{
    unsigned count = __atomic_load_n(&bin_count, __ATOMIC_ACQUIRE);
    ElBinVcpu **w = calloc(count ? count : 1, sizeof(*w));

    (void)id;
    (void)p;
    for (unsigned i = 0; w && i < count; i++) {
        w[i] = bin_vcpus[i];
        if (w[i] && w[i]->open_counted) {
            el_bin_settle(w[i], el_progress_read_any(i, &w[i]->live));
        }
    }
    if (w) {
        el_bin_close(w, count);
    } else {
        fprintf(stderr, "execlog: out of memory at exit; the trace stays "
                "marked incomplete\n");
    }
    free(w);
    el_watch_clean_exit();
    el_win_exit_report();
}

static void watcher_write_bin(int fd)
{
    el_bin_salvage(fd);
}

/*
 * Every callback of this front end; also after QEMU dropped them all
 * (qemu_plugin_reset: window.h).
 */
static void register_callbacks(qemu_plugin_id_t id)
{
    qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
    qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans_bin);
    qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
}

int el_bin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                   const ElOptions *opts, int argc, char **argv,
                   char *err, size_t errlen)
{
    char *meta = el_meta(info, argc, argv);
    ElBinConfig cfg = {
        .path = opts->outfile,
        .zstd = opts->compress == EL_COMPRESS_ZSTD,
        .system = info->system_emulation,
        .api = EL_API,
        .meta = meta ? meta : "",
        .min_reader = opts->values || opts->n_regs ? EL_MIN_READER_VALUES : 1,
        .partial = el_options_filtering(opts) || el_options_window(opts),
    };
    /* chunks in memory the watcher shares, written by a thread */
    bool shared = el_shm_init();
    int r;

    system_mode = info->system_emulation;
    values = opts->values;
    el_binregs_init(opts);
    bin_opts = opts;
    filtering = el_options_filtering(opts);
    windowed = el_options_window(opts);
    el_win_init(id, opts, register_callbacks);
    system_one_vcpu = info->system_emulation && info->system.max_vcpus == 1;
    r = el_bin_open(&cfg, err, errlen);
    free(meta);
    if (r != 0) {
        return -1;
    }
    if (!shared || el_watch_start(el_bin_fd(), watcher_write_bin) != 0) {
        el_watch_missing();
    }
    el_bin_start_writer();
    el_progress_init();
#if EL_API < 2
    if (!system_mode) {
        el_serial_watch(id, info->target_name);
    }
#endif
    register_callbacks(id);
    return 0;
}
