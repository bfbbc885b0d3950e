/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An independent counter for the tests: executed instructions, loads and
 * stores, as QEMU reports them to any plugin. Shares no code with execlog.
 * Loaded into the same QEMU process as execlog, its totals must agree with
 * what execlog logged.
 *
 * Option: out=PATH (required). Writes "instructions: N", "loads: N",
 * "stores: N" lines at exit. A forked child (user mode) counts from the
 * fork on and writes to PATH.PID.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static uint64_t n_insns, n_loads, n_stores;
static const char *out_path;
static int forked;

static void after_fork_in_child(void)
{
    n_insns = n_loads = n_stores = 0;
    forked = 1;
}

static void on_insn(unsigned int vcpu, void *udata)
{
    __atomic_add_fetch(&n_insns, 1, __ATOMIC_RELAXED);
}

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info,
                   uint64_t vaddr, void *udata)
{
    if (qemu_plugin_mem_is_store(info)) {
        __atomic_add_fetch(&n_stores, 1, __ATOMIC_RELAXED);
    } else {
        __atomic_add_fetch(&n_loads, 1, __ATOMIC_RELAXED);
    }
}

static void on_tb(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    for (size_t i = 0; i < qemu_plugin_tb_n_insns(tb); i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn,
                                               QEMU_PLUGIN_CB_NO_REGS, NULL);
        qemu_plugin_register_vcpu_mem_cb(insn, on_mem, QEMU_PLUGIN_CB_NO_REGS,
                                         QEMU_PLUGIN_MEM_RW, NULL);
    }
}

static void on_exit_cb(qemu_plugin_id_t id, void *p)
{
    char child_path[4096];
    FILE *f;

    if (forked) {
        snprintf(child_path, sizeof(child_path), "%s.%d", out_path,
                 (int)getpid());
    }
    f = fopen(forked ? child_path : out_path, "w");
    if (!f) {
        perror(out_path);
        return;
    }
    fprintf(f, "instructions: %llu\nloads: %llu\nstores: %llu\n",
            (unsigned long long)n_insns, (unsigned long long)n_loads,
            (unsigned long long)n_stores);
    fclose(f);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
                                           const qemu_info_t *info,
                                           int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) {
            out_path = argv[i] + 4;
        } else {
            fprintf(stderr, "count: unknown option '%s'\n", argv[i]);
            return -1;
        }
    }
    if (!out_path) {
        fprintf(stderr, "count: out=PATH is required\n");
        return -1;
    }
    pthread_atfork(NULL, NULL, after_fork_in_child);
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb);
    qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
    return 0;
}
