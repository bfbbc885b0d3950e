/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Memory shared with the watcher process (watcher.c): the text buffers, the
 * binary chunk buffers and the state the watcher needs to write out what
 * QEMU held if QEMU dies without the plugin's exit callback.
 *
 * One anonymous MAP_SHARED reservation (address space, not memory),
 * mapped at install, before the watcher is forked. It is carved from the
 * bottom (state the watcher reads) and from the top (scratch: buffers whose
 * contents a forked guest's child never needs). The allocator's state lives
 * in the mapping itself, so QEMU and the watcher always agree on it.
 * Nothing is freed.
 *
 * A guest's fork (user mode) forks QEMU: the child gets a private copy of
 * the bottom, taken in the parent just before the fork (so the parent,
 * running on, never changes what the child starts from), and zero pages at
 * the top, at the same addresses.
 */
#ifndef EXECLOG_SHM_H
#define EXECLOG_SHM_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Map the shared reservation and follow forks from now on. False if the
 * memory is refused (then el_shm_alloc() always returns NULL).
 */
bool el_shm_init(void);

/*
 * @n zeroed bytes of shared memory, 64-byte aligned, or NULL when there is
 * none or the reservation is used up. Lock-free; never freed.
 */
void *el_shm_alloc(size_t n);

/* The same from the top: memory a forked child gets as zero pages. */
void *el_shm_alloc_scratch(size_t n);

/* Whether @p points into the shared reservation. */
bool el_shm_contains(const void *p);

/* True in a process forked from the one that mapped the memory (a guest's
 * child), once its copy is private. */
bool el_shm_is_fork_child(void);

#endif
