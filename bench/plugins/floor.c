/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The benchmark's floor: the instrumentation that execlog's format=bin asks
 * QEMU for (plugin/bin.c, vcpu_tb_trans_bin), mode by mode, with callbacks
 * that do nothing. What format=bin costs beyond this is its own work; what
 * this costs beyond plain QEMU is QEMU's (the calls out of generated code,
 * the inline operations, the translation-time hooks).
 *
 * Per translated block, as the recorder without filters or a window:
 * - a callback as the block starts (tb exec);
 * - per instruction, an inline add where the recorder counts inline
 *   (compat.h el_progress_count: API >= 2 a per-vCPU scoreboard; API 1 one
 *   shared counter, only while no second vCPU can run the block: system
 *   mode with one vCPU, user mode while QEMU translates for serial
 *   execution, decided by the recorder's own plugin/serial.c), else a
 *   callback per instruction;
 * - per instruction, a load callback and a store callback (QEMU_PLUGIN_MEM_R
 *   and QEMU_PLUGIN_MEM_W, two registrations) where the recorder splits
 *   them (compat.h EL_MEM_SPLIT: API >= 2), else one QEMU_PLUGIN_MEM_RW
 *   callback (API 1: QEMU 7.2 would run only the first of two).
 * The decision is the recorder's code (compat.h, serial.c), linked in, so
 * that it cannot drift; the per-instruction loop below mirrors
 * vcpu_tb_trans_bin's and must be changed with it.
 *
 * Options: mem=rw or mem=split, to compare the schemes (the default is the
 * recorder's; mem=split on API 1 runs only the load callbacks, see above);
 * regs=on: as format=bin,reg=...
 * (API >= 2): the block's callback and one per instruction after the
 * first read the registers (QEMU_PLUGIN_CB_R_REGS).
 */
#include <stdio.h>
#include <string.h>

#include <qemu-plugin.h>

#include "compat.h"
#include "serial.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static bool system_mode;
static bool system_one_vcpu;
static bool mem_rw = !EL_MEM_SPLIT; /* one callback for both */
static bool regs;                   /* regs=on */
static unsigned vcpus_seen;         /* atomic */
static uint64_t single_counter;     /* API 1: the only vCPU's count */

/* ------------------------------------------------------------------------ */
/* Run time: every block, instruction and access. They do nothing.          */

static void on_block(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    (void)udata;
}

static void on_insn(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    (void)udata;
}

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info,
                   uint64_t vaddr, void *udata)
{
    (void)vcpu;
    (void)info;
    (void)vaddr;
    (void)udata;
}

/* ------------------------------------------------------------------------ */
/* Translation time.                                                        */

/* As bin.c's bin_single_counter: where API 1 may count inline */
static uint64_t *single(void)
{
    bool one = system_mode
                   ? system_one_vcpu
                   : __atomic_load_n(&vcpus_seen, __ATOMIC_ACQUIRE) <= 1 &&
                         el_serial_code();

    return one ? &single_counter : NULL;
}

static void on_tb(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    enum qemu_plugin_cb_flags flags =
        regs ? QEMU_PLUGIN_CB_R_REGS : QEMU_PLUGIN_CB_NO_REGS;
    uint64_t *one;
    bool counted;

    (void)id;
    if (n == 0) {
        return;
    }
    one = single();
    counted = el_progress_count(qemu_plugin_tb_get_insn(tb, 0), one);
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, flags, NULL);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

        if (regs && i > 0) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn,
                                                   QEMU_PLUGIN_CB_R_REGS, NULL);
        }
        if (!counted) {
            qemu_plugin_register_vcpu_insn_exec_cb(
                insn, on_insn, QEMU_PLUGIN_CB_NO_REGS, NULL);
        } else if (i > 0) {
            el_progress_count(insn, one);
        }
        if (mem_rw) {
            qemu_plugin_register_vcpu_mem_cb(
                insn, on_mem, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW, NULL);
        } else {
            qemu_plugin_register_vcpu_mem_cb(
                insn, on_mem, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_R, NULL);
            qemu_plugin_register_vcpu_mem_cb(
                insn, on_mem, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_W, NULL);
        }
    }
}

static void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu_index)
{
    static bool seen[65536];

    (void)id;
    /* user mode: a thread's index used again counts once, as in bin.c */
    if (vcpu_index < 65536 &&
        !__atomic_exchange_n(&seen[vcpu_index], true, __ATOMIC_ACQ_REL)) {
        __atomic_add_fetch(&vcpus_seen, 1, __ATOMIC_ACQ_REL);
    }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
                                           const qemu_info_t *info, int argc,
                                           char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "mem=rw") == 0) {
            mem_rw = true;
        } else if (strcmp(argv[i], "mem=split") == 0) {
            mem_rw = false;
        } else if (strcmp(argv[i], "regs=on") == 0 && EL_HAVE_REGISTERS) {
            regs = true;
        } else {
            fprintf(stderr,
                    "floor: unknown option '%s' (known: mem=split, "
                    "mem=rw%s)\n",
                    argv[i], EL_HAVE_REGISTERS ? ", regs=on" : "");
            return -1;
        }
    }
    system_mode = info->system_emulation;
    system_one_vcpu = system_mode && info->system.max_vcpus == 1;
    el_progress_init();
#if EL_API < 2
    if (!system_mode) {
        el_serial_watch(id, info->target_name);
    }
#endif
    qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb);
    return 0;
}
