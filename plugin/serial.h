/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whether QEMU user mode still translates code for serial execution.
 *
 * API 1 (QEMU 6.0 - 8.2) can count a block's instructions inline only into
 * one address shared by all vCPUs (compat.h), so format=bin counts inline
 * only in blocks that no second vCPU can ever run. In user mode QEMU marks
 * the code it translates for parallel execution (CF_PARALLEL) from the
 * moment the guest creates its first thread, maps shared memory
 * (mmap MAP_SHARED) or attaches System V shared memory (shmat), and a TB is
 * found only by a vCPU that looks for the same mode: blocks translated
 * before that moment are never run again (QEMU 7.2, linux-user/syscall.c
 * do_fork, mmap.c target_mmap, do_shmat). Shared memory may come long
 * before the first thread; blocks translated after it are run by every
 * thread started later. So inline counting stops at the first of those
 * events, seen in a syscall callback before QEMU carries out the syscall.
 *
 * Syscall numbers differ per target: where execlog does not know a
 * target's numbers, it counts with a callback per instruction from the
 * start (exact, slower).
 */
#ifndef EXECLOG_SERIAL_H
#define EXECLOG_SERIAL_H

#include <stdbool.h>

#include <qemu-plugin.h>

/*
 * User mode: start watching the guest's syscalls (@target: QEMU's
 * info->target_name). Call at install, before any vCPU runs.
 */
void el_serial_watch(qemu_plugin_id_t id, const char *target);

/* True while code translated now runs on one vCPU only. Lock-free. */
bool el_serial_code(void);

#endif
