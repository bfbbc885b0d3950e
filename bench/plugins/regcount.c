/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test-only: counts what a plugin asks QEMU to instrument. Linked into a
 * copy of a plugin with -Wl,--wrap=qemu_plugin_register_vcpu_... (meson.build:
 * regcount-execlog-vN, regcount-floor-vN), it passes every registration on
 * to QEMU and counts it by kind; at exit it writes "KIND: N" lines to
 * $REGCOUNT_DIR/REGCOUNT_NAME. QEMU user mode leaves with _exit(), so that
 * is done in the plugin's atexit callback: registering the translation
 * callback (every plugin does) or an atexit callback registers ours instead,
 * which calls the plugin's own first. Loaded into the
 * same QEMU process, the recorder and the floor see the same blocks, so
 * their counts must be equal (tests/e2e/bench.sh): the floor registers what
 * the recorder registers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <qemu-plugin.h>

#ifndef REGCOUNT_NAME
#error "REGCOUNT_NAME: the file to write, in $REGCOUNT_DIR"
#endif

enum {
    TB_CB,        /* tb exec callback, no registers */
    TB_CB_REGS,   /* tb exec callback reading registers */
    INSN_CB,      /* insn exec callback, no registers */
    INSN_CB_REGS, /* insn exec callback reading registers */
    INSN_INLINE,  /* inline operation as an instruction starts */
    MEM_R,
    MEM_W,
    MEM_RW,
    KINDS
};

static const char *const names[KINDS] = {
    "tb_cb",       "tb_cb_regs", "insn_cb", "insn_cb_regs",
    "insn_inline", "mem_r",      "mem_w",   "mem_rw",
};

static uint64_t counts[KINDS]; /* atomic: vCPUs translate in parallel */

static void add(int kind)
{
    __atomic_add_fetch(&counts[kind], 1, __ATOMIC_RELAXED);
}

void __real_qemu_plugin_register_vcpu_tb_exec_cb(
    struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
    enum qemu_plugin_cb_flags flags, void *udata);
void __wrap_qemu_plugin_register_vcpu_tb_exec_cb(
    struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
    enum qemu_plugin_cb_flags flags, void *udata);

void __wrap_qemu_plugin_register_vcpu_tb_exec_cb(
    struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
    enum qemu_plugin_cb_flags flags, void *udata)
{
    add(flags == QEMU_PLUGIN_CB_NO_REGS ? TB_CB : TB_CB_REGS);
    __real_qemu_plugin_register_vcpu_tb_exec_cb(tb, cb, flags, udata);
}

void __real_qemu_plugin_register_vcpu_insn_exec_cb(
    struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
    enum qemu_plugin_cb_flags flags, void *udata);
void __wrap_qemu_plugin_register_vcpu_insn_exec_cb(
    struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
    enum qemu_plugin_cb_flags flags, void *udata);

void __wrap_qemu_plugin_register_vcpu_insn_exec_cb(
    struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
    enum qemu_plugin_cb_flags flags, void *udata)
{
    add(flags == QEMU_PLUGIN_CB_NO_REGS ? INSN_CB : INSN_CB_REGS);
    __real_qemu_plugin_register_vcpu_insn_exec_cb(insn, cb, flags, udata);
}

#if QEMU_PLUGIN_VERSION >= 2
void __real_qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
    struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
    qemu_plugin_u64 entry, uint64_t imm);
void __wrap_qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
    struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
    qemu_plugin_u64 entry, uint64_t imm);

void __wrap_qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
    struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
    qemu_plugin_u64 entry, uint64_t imm)
{
    add(INSN_INLINE);
    __real_qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, op, entry,
                                                               imm);
}
#else
void __real_qemu_plugin_register_vcpu_insn_exec_inline(
    struct qemu_plugin_insn *insn, enum qemu_plugin_op op, void *ptr,
    uint64_t imm);
void __wrap_qemu_plugin_register_vcpu_insn_exec_inline(
    struct qemu_plugin_insn *insn, enum qemu_plugin_op op, void *ptr,
    uint64_t imm);

void __wrap_qemu_plugin_register_vcpu_insn_exec_inline(
    struct qemu_plugin_insn *insn, enum qemu_plugin_op op, void *ptr,
    uint64_t imm)
{
    add(INSN_INLINE);
    __real_qemu_plugin_register_vcpu_insn_exec_inline(insn, op, ptr, imm);
}
#endif

void __real_qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn,
                                             qemu_plugin_vcpu_mem_cb_t cb,
                                             enum qemu_plugin_cb_flags flags,
                                             enum qemu_plugin_mem_rw rw,
                                             void *udata);
void __wrap_qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn,
                                             qemu_plugin_vcpu_mem_cb_t cb,
                                             enum qemu_plugin_cb_flags flags,
                                             enum qemu_plugin_mem_rw rw,
                                             void *udata);

void __wrap_qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn,
                                             qemu_plugin_vcpu_mem_cb_t cb,
                                             enum qemu_plugin_cb_flags flags,
                                             enum qemu_plugin_mem_rw rw,
                                             void *udata)
{
    add(rw == QEMU_PLUGIN_MEM_R   ? MEM_R
        : rw == QEMU_PLUGIN_MEM_W ? MEM_W
                                  : MEM_RW);
    __real_qemu_plugin_register_vcpu_mem_cb(insn, cb, flags, rw, udata);
}

static void regcount_write(void)
{
    const char *dir = getenv("REGCOUNT_DIR");
    char path[4096];
    FILE *f;

    if (!dir) {
        return;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, REGCOUNT_NAME);
    f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "regcount: %s: cannot write\n", path);
        return;
    }
    for (int k = 0; k < KINDS; k++) {
        fprintf(
            f, "%s: %llu\n", names[k],
            (unsigned long long)__atomic_load_n(&counts[k], __ATOMIC_RELAXED));
    }
    fclose(f);
}

/* the plugin's own atexit callback, if it has one */
static qemu_plugin_udata_cb_t plugin_exit_cb;
static void *plugin_exit_udata;

static void regcount_exit(qemu_plugin_id_t id, void *udata)
{
    (void)udata;
    if (plugin_exit_cb) {
        plugin_exit_cb(id, plugin_exit_udata);
    }
    regcount_write();
}

void __real_qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
                                           qemu_plugin_udata_cb_t cb,
                                           void *udata);
void __wrap_qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
                                           qemu_plugin_udata_cb_t cb,
                                           void *udata);

void __wrap_qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
                                           qemu_plugin_udata_cb_t cb,
                                           void *udata)
{
    plugin_exit_cb = cb;
    plugin_exit_udata = udata;
    __real_qemu_plugin_register_atexit_cb(id, regcount_exit, NULL);
}

void __real_qemu_plugin_register_vcpu_tb_trans_cb(
    qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void __wrap_qemu_plugin_register_vcpu_tb_trans_cb(
    qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);

void __wrap_qemu_plugin_register_vcpu_tb_trans_cb(
    qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb)
{
    __real_qemu_plugin_register_atexit_cb(id, regcount_exit, NULL);
    __real_qemu_plugin_register_vcpu_tb_trans_cb(id, cb);
}
