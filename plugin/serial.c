/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "serial.h"

#include <stdint.h>
#include <string.h>

/* Linux's MAP_SHARED bit, the same on every target (MAP_SHARED_VALIDATE
 * has it too) */
#define GUEST_MAP_SHARED 0x01
/* ipc(2)'s call number of shmat, in the low 16 bits of its first argument */
#define IPC_SHMAT 21

/*
 * The syscalls that make QEMU translate for parallel execution, by target.
 * mmap_args: mmap's flags are its 4th argument; where mmap takes a pointer
 * to its arguments instead (old_mmap), any mmap counts. -1: no such call.
 */
typedef struct Syscalls {
    const char *target;
    int64_t mmap, mmap2, shmat, ipc;
    bool mmap_args;
} Syscalls;

static const Syscalls table[] = {
    /* asm-generic/unistd.h (222 is mmap2 on 32-bit ones: same flags) */
    { "aarch64", 222, -1, 196, -1, true },
    { "aarch64_be", 222, -1, 196, -1, true },
    { "riscv64", 222, -1, 196, -1, true },
    { "riscv32", 222, -1, 196, -1, true },
    { "loongarch64", 222, -1, 196, -1, true },
    { "x86_64", 9, -1, 30, -1, true },
    { "i386", 90, 192, 397, 117, false },
    { "arm", 90, 192, 305, 117, false },
    { "armeb", 90, 192, 305, 117, false },
    { "ppc", 90, 192, 397, 117, true },
    { "ppc64", 90, -1, 397, 117, true },
    { "ppc64le", 90, -1, 397, 117, true },
    { "s390x", 90, -1, 397, 117, false },
};

static const Syscalls *calls;
static bool parallel;               /* atomic */

static void go_parallel(void)
{
    __atomic_store_n(&parallel, true, __ATOMIC_RELEASE);
}

/*
 * Runs before QEMU carries out each guest syscall, in the thread that
 * makes it. The first thread is created by clone() (CLONE_VM), and the
 * new vCPU's init callback (el_serial_code() is then false through the
 * vCPU count) comes after QEMU has switched to parallel code: clone needs
 * no test here.
 */
static void vcpu_syscall(qemu_plugin_id_t id, unsigned int vcpu_index,
                         int64_t num, uint64_t a1, uint64_t a2, uint64_t a3,
                         uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                         uint64_t a8)
{
    (void)id;
    (void)vcpu_index;
    (void)a2;
    (void)a3;
    (void)a5;
    (void)a6;
    (void)a7;
    (void)a8;
    if (__atomic_load_n(&parallel, __ATOMIC_RELAXED)) {
        return;
    }
    if (num == calls->mmap || (num == calls->mmap2 && calls->mmap2 >= 0)) {
        if (!calls->mmap_args && num == calls->mmap) {
            go_parallel();          /* old_mmap: flags are in memory */
        } else if (a4 & GUEST_MAP_SHARED) {
            go_parallel();
        }
    } else if (num == calls->shmat ||
               (calls->ipc >= 0 && num == calls->ipc &&
                (a1 & 0xffff) == IPC_SHMAT)) {
        go_parallel();
    }
}

void el_serial_watch(qemu_plugin_id_t id, const char *target)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (target && strcmp(target, table[i].target) == 0) {
            calls = &table[i];
        }
    }
    if (!calls) {
        go_parallel();
        return;
    }
    qemu_plugin_register_vcpu_syscall_cb(id, vcpu_syscall);
}

bool el_serial_code(void)
{
    return !__atomic_load_n(&parallel, __ATOMIC_ACQUIRE);
}
