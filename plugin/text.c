/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * format=text: the lines upstream execlog prints, the same options, the
 * same filters.
 *
 * Translation time (vcpu_tb_trans) decides which instructions are logged and
 * formats each one's static text once ("0xPC, 0xOPCODE, \"DISAS\""). At run
 * time the instruction callback commits the vCPU's pending line and starts
 * the next, the memory callback appends to it; lines leave in large batches
 * (vcpu.h, sink.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "devcache.h"
#include "insncache.h"
#include "regs.h"
#include "shm.h"
#include "sink.h"
#include "text.h"
#include "textwriter.h"
#include "execlog/textfmt.h"
#include "vcpu.h"
#include "watcher.h"
#include "window.h"

static const ElOptions *opts;
static bool filtering;          /* any ifilter= or afilter= */
static bool windowed;           /* any window option (window.h) */
static bool system_mode;

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

/*
 * With a window (window.h): an instruction that the filters log, if the
 * window says so. One outside it leaves the pending line as it is (it is
 * the vCPU's last logged line, printed at exit), except with reg=, where
 * it ends the line after the registers' changes (what the instruction
 * that follows shows in the full log).
 */
static inline void insn_exec_win(unsigned int vcpu_index, const ElInsn *insn,
                                 bool check_regs)
{
    bool was = check_regs && el_win_logging(vcpu_index);
    bool logged = el_win_step(vcpu_index, EL_WIN_ELIGIBLE |
                              el_win_flags(opts, insn->pc));
    ElVcpu *v;

    if (!logged && !check_regs) {
        return;                 /* the common case while tracing is off */
    }
    v = el_vcpu_get(vcpu_index);
    if (__builtin_expect(v == NULL, 0)) {
        return;
    }
    if (logged) {
        if (check_regs && !was && v->regs && v->len == v->committed) {
            /*
             * The window opens here for this vCPU: the registers as it
             * finds them are what the line's changes are seen against
             * (as in the full log, where each instruction's start looks).
             */
            el_regs_check(v->regs, v);
            v->len = v->committed;
        }
        end_line(v, check_regs);
        start_line(v, insn);
    } else {
        /* not printed again at exit: the window's lines are its slice */
        end_line(v, true);
    }
}

static void vcpu_insn_exec_win(unsigned int vcpu_index, void *udata)
{
    insn_exec_win(vcpu_index, udata, false);
}

static void vcpu_insn_exec_win_regs(unsigned int vcpu_index, void *udata)
{
    insn_exec_win(vcpu_index, udata, true);
}

/* An instruction the filters do not log, at start= or stop=. */
static void vcpu_trigger_win(unsigned int vcpu_index, void *udata)
{
    el_win_step(vcpu_index, (unsigned)(uintptr_t)udata);
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

/* values=on: "=0xVALUE", as many digits as the access has bytes * 2 */
static inline void append_value(ElVcpu *v, qemu_plugin_meminfo_t info)
{
    uint8_t le[16];
    uint64_t lo, hi;
    unsigned shift = qemu_plugin_mem_size_shift(info);

    el_mem_value(info, &lo, &hi);
    for (int i = 0; i < 8; i++) {
        le[i] = (uint8_t)(lo >> (8 * i));
        le[8 + i] = (uint8_t)(hi >> (8 * i));
    }
    el_vcpu_reserve(v, EL_FMT_VALUE_MAX);
    v->len += el_fmt_value(v->buf + v->len, le,
                           (size_t)1 << (shift < 4 ? shift : 4));
}

static inline void mem_access(unsigned int vcpu_index,
                              qemu_plugin_meminfo_t info, uint64_t vaddr,
                              bool values)
{
    ElVcpu *v;
    struct qemu_plugin_hwaddr *hw;
    int is_store;

    if (windowed && !el_win_logging(vcpu_index)) {
        return;
    }
    v = el_vcpu_get(vcpu_index);
    if (__builtin_expect(v == NULL, 0)) {
        return;
    }
    is_store = qemu_plugin_mem_is_store(info);
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
            ElDevSlot *s = el_dev_lookup(vcpu_index, hw, paddr,
                                         &fresh);

            dev = s ? s->name : qemu_plugin_hwaddr_device_name(hw);
        }
        dlen = strlen(dev);
        el_vcpu_reserve(v, EL_FMT_MEM_MAX + 2 + dlen);
        v->len += el_fmt_mem(v->buf + v->len, is_store, paddr);
        if (values) {
            append_value(v, info);
            el_vcpu_reserve(v, 2 + dlen);
        }
        v->len += el_fmt_device(v->buf + v->len, dev, dlen);
    } else {
        el_vcpu_reserve(v, EL_FMT_MEM_MAX);
        v->len += el_fmt_mem(v->buf + v->len, is_store, vaddr);
        if (values) {
            append_value(v, info);
        }
    }
}

static void vcpu_mem(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
                     uint64_t vaddr, void *udata)
{
    (void)udata;
    mem_access(vcpu_index, info, vaddr, false);
}

static void vcpu_mem_values(unsigned int vcpu_index,
                            qemu_plugin_meminfo_t info, uint64_t vaddr,
                            void *udata)
{
    (void)udata;
    mem_access(vcpu_index, info, vaddr, true);
}

/* ------------------------------------------------------------------------ */
/* Translation time.                                                        */

static void vcpu_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    bool skip = filtering;
    bool watch_regs = opts->n_regs > 0;
    bool regs_this = watch_regs;
    bool regs_next = false;
    bool rdisas = opts->rdisas && watch_regs;

    (void)id;
    if (windowed && !el_win_translate_tb(tb)) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
        char *disas = qemu_plugin_insn_disas(insn);
        const char *d = disas ? disas : "";
        unsigned trigger = windowed ? el_win_flags(opts, vaddr) : 0;

        if (skip && el_match_ifilter(opts, d)) {
            skip = false;
        }
        if (skip && el_match_afilter(opts, vaddr)) {
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
            if (trigger) {
                qemu_plugin_register_vcpu_insn_exec_cb(
                    insn, vcpu_trigger_win, QEMU_PLUGIN_CB_NO_REGS,
                    (void *)(uintptr_t)trigger);
            }
        } else {
            uint8_t bytes[EL_INSN_MAX_BYTES];
            size_t size = el_insn_bytes(insn, bytes, sizeof(bytes));
            const ElInsn *info = el_insn_cache_get(vaddr, bytes, size, d,
                                                   NULL);

            if (info) {
                qemu_plugin_register_vcpu_mem_cb(insn, opts->values ?
                                                 vcpu_mem_values : vcpu_mem,
                                                 QEMU_PLUGIN_CB_NO_REGS,
                                                 QEMU_PLUGIN_MEM_RW, NULL);
                if (windowed) {
                    qemu_plugin_register_vcpu_insn_exec_cb(
                        insn, regs_this ? vcpu_insn_exec_win_regs :
                        vcpu_insn_exec_win, regs_this ?
                        QEMU_PLUGIN_CB_R_REGS : QEMU_PLUGIN_CB_NO_REGS,
                        (void *)info);
                } else if (regs_this) {
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
    ElVcpu *v = el_vcpu_create(vcpu_index, true);

    (void)id;
    if (v && !v->regs) {
        v->regs = el_regs_init(opts);
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
    /* every batch written before the last lines, and before the file is cut */
    el_textw_stop();
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

static void plugin_exit(qemu_plugin_id_t id, void *p)
{
    (void)id;
    (void)p;
    text_write_all(el_vcpu_count(), el_vcpu_get);
    el_watch_clean_exit();
    el_win_exit_report();
}

/*
 * Every callback of this front end; also after QEMU dropped them all
 * (qemu_plugin_reset: window.h).
 */
static void register_callbacks(qemu_plugin_id_t id)
{
    qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
    qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans);
    qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
}

int el_text_install(qemu_plugin_id_t id, const qemu_info_t *info,
                    const ElOptions *options, char *err, size_t errlen)
{
    opts = options;
    filtering = el_options_filtering(opts);
    windowed = el_options_window(opts);
    el_win_init(id, opts, register_callbacks);
    el_insn_cache_set_bytes(opts->bytes);
    system_mode = info->system_emulation;
    if (opts->outfile) {
        if (el_sink_open_file(opts->outfile, err, errlen) != 0) {
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
        int out_fd = opts->outfile ? el_sink_fd() : el_watch_find_qemu_log();

        if (out_fd >= 0 && (!el_shm_init() || !el_vcpu_share() ||
                            el_watch_start(out_fd, watcher_write_all) != 0)) {
            el_watch_missing();
        }
    }
    /* after the watcher's fork: it has no writer thread, and needs none */
    el_textw_start();
    register_callbacks(id);
    return 0;
}
