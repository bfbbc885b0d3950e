/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Linked into the ThreadSanitizer build of each plugin only (make tsan).
 *
 * QEMU is not built with TSan, so TSan cannot see how QEMU hands a newly
 * translated block to the vCPU threads that run it (atomics and RCU in
 * QEMU's own code). Without help, everything a plugin writes at
 * translation time and reads in an execution callback (the per-instruction
 * text, a block's record) is reported as a race. This models exactly that
 * guarantee and nothing more: each callback registered during a
 * translation callback gets a context; when the translation callback
 * returns, that context is released; the callback acquires it before each
 * run. Races between execution callbacks, or with data written elsewhere,
 * stay visible.
 *
 * The plugin's calls of the register functions are redirected here with
 * -Wl,--wrap (meson.build); __real_* are QEMU's.
 */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>

#include <qemu-plugin.h>

void __tsan_acquire(void *addr);
void __tsan_release(void *addr);

typedef struct Published {
    union {
        qemu_plugin_vcpu_udata_cb_t exec;
        qemu_plugin_vcpu_mem_cb_t mem;
    } cb;
    void *udata;
} Published;

/* the contexts registered by this thread's current translation callback */
static __thread GPtrArray *pending;
static qemu_plugin_vcpu_tb_trans_cb_t real_trans;

void __real_qemu_plugin_register_vcpu_tb_trans_cb(
    qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void __real_qemu_plugin_register_vcpu_tb_exec_cb(
    struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
    enum qemu_plugin_cb_flags flags, void *userdata);
void __real_qemu_plugin_register_vcpu_insn_exec_cb(
    struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
    enum qemu_plugin_cb_flags flags, void *userdata);
void __real_qemu_plugin_register_vcpu_mem_cb(
    struct qemu_plugin_insn *insn, qemu_plugin_vcpu_mem_cb_t cb,
    enum qemu_plugin_cb_flags flags, enum qemu_plugin_mem_rw rw,
    void *userdata);

static Published *publish(void *udata)
{
    Published *p = g_new0(Published, 1);

    p->udata = udata;
    if (!pending) {
        pending = g_ptr_array_new();
    }
    g_ptr_array_add(pending, p);
    return p;
}

static void trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    real_trans(id, tb);
    if (pending) {
        for (guint i = 0; i < pending->len; i++) {
            __tsan_release(g_ptr_array_index(pending, i));
        }
        g_ptr_array_set_size(pending, 0);
    }
}

static void exec(unsigned int vcpu, void *udata)
{
    Published *p = udata;

    __tsan_acquire(p);
    p->cb.exec(vcpu, p->udata);
}

static void mem(unsigned int vcpu, qemu_plugin_meminfo_t info,
                uint64_t vaddr, void *udata)
{
    Published *p = udata;

    __tsan_acquire(p);
    p->cb.mem(vcpu, info, vaddr, p->udata);
}

void __wrap_qemu_plugin_register_vcpu_tb_trans_cb(
    qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb)
{
    real_trans = cb;
    __real_qemu_plugin_register_vcpu_tb_trans_cb(id, trans);
}

void __wrap_qemu_plugin_register_vcpu_tb_exec_cb(
    struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
    enum qemu_plugin_cb_flags flags, void *userdata)
{
    Published *p = publish(userdata);

    p->cb.exec = cb;
    __real_qemu_plugin_register_vcpu_tb_exec_cb(tb, exec, flags, p);
}

void __wrap_qemu_plugin_register_vcpu_insn_exec_cb(
    struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
    enum qemu_plugin_cb_flags flags, void *userdata)
{
    Published *p = publish(userdata);

    p->cb.exec = cb;
    __real_qemu_plugin_register_vcpu_insn_exec_cb(insn, exec, flags, p);
}

void __wrap_qemu_plugin_register_vcpu_mem_cb(
    struct qemu_plugin_insn *insn, qemu_plugin_vcpu_mem_cb_t cb,
    enum qemu_plugin_cb_flags flags, enum qemu_plugin_mem_rw rw,
    void *userdata)
{
    Published *p = publish(userdata);

    p->cb.mem = cb;
    __real_qemu_plugin_register_vcpu_mem_cb(insn, mem, flags, rw, p);
}
