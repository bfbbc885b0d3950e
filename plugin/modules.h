/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * format=bin, user mode: the guest's file mappings (its program and every
 * shared object) as MODULE records, found at translation time.
 *
 * QEMU 10.0's linux-user has no qemu_plugin_start_code() or
 * qemu_plugin_path_to_binary() (../shared facts), and neither API says
 * where shared objects are: instead, when a TB's code lies outside every
 * mapping seen so far, its HOST address (qemu_plugin_insn_haddr; in
 * linux-user the host address is the guest address plus QEMU's guest_base)
 * is looked up in /proc/self/maps, and the mappings of that file around it
 * are recorded, translated back to guest addresses. Never on the execution
 * path: once per file (and per anonymous code mapping, remembered as none).
 */
#ifndef EXECLOG_MODULES_H
#define EXECLOG_MODULES_H

#include <stdint.h>

/*
 * The TB at guest @pc, whose first instruction is at host address @haddr,
 * is being translated (under the binary writer's static lock): record the
 * file mapped there if it is new.
 */
void el_modules_note(uint64_t pc, const void *haddr);

#endif
