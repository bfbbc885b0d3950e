/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The name of the I/O region behind a physical address, remembered per vCPU.
 *
 * qemu_plugin_hwaddr_device_name() interns the region's name under a global
 * glib lock, and for an unnamed region formats (allocates) one first: too
 * much for every I/O access. Each vCPU keeps a small direct-mapped cache of
 * what QEMU answered, keyed by the exact physical address (not the page:
 * several small regions can share a page, e.g. virtio-mmio transports).
 *
 * Which region an address belongs to changes only when the guest remaps a
 * device (a PCI BAR moved, a region switched on or off). QEMU tells a plugin
 * nothing when that happens, so an entry is asked again after
 * EL_DEV_RECHECK hits: after a remap, at most that many accesses to one
 * address may still carry the old name, and the lock is taken for one I/O
 * access in EL_DEV_RECHECK. A change between RAM and I/O is always seen
 * (qemu_plugin_hwaddr_is_io() is asked on every access: lock-free).
 *
 * Only the vCPU's own thread touches its cache: no lock, no allocation.
 */
#ifndef EXECLOG_DEVCACHE_H
#define EXECLOG_DEVCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qemu-plugin.h>

#define EL_DEV_BITS 5
#define EL_DEV_SLOTS (1u << EL_DEV_BITS)
#define EL_DEV_RECHECK 1024
#define EL_DEV_VCPUS 4096       /* vCPUs with a cache (others ask QEMU) */

typedef struct ElDevSlot {
    uint64_t paddr;
    const char *name;           /* NULL: empty */
    uint32_t id;                /* format=bin: the name's DEVICE id */
    uint32_t left;              /* hits before QEMU is asked again */
} ElDevSlot;

typedef struct ElDevCache {
    ElDevSlot slot[EL_DEV_SLOTS];
} ElDevCache;

/* The caches of the first EL_DEV_VCPUS vCPUs (devcache.c). */
extern ElDevCache el_dev_caches[EL_DEV_VCPUS];

/*
 * The slot for vCPU @vcpu's I/O access @hw at @paddr, filled from QEMU on
 * a miss (and then *@fresh is set, for the caller to fill in id), or NULL
 * for a vCPU without a cache.
 */
static inline ElDevSlot *el_dev_lookup(unsigned int vcpu,
                                       struct qemu_plugin_hwaddr *hw,
                                       uint64_t paddr, bool *fresh)
{
    ElDevCache *c;
    ElDevSlot *s;

    *fresh = false;
    if (__builtin_expect(vcpu >= EL_DEV_VCPUS, 0)) {
        return NULL;
    }
    c = &el_dev_caches[vcpu];
    s = &c->slot[(uint32_t)((paddr ^ (paddr >> 32)) * 0x9e3779b1u) >>
                 (32 - EL_DEV_BITS)];
    if (__builtin_expect(s->name != NULL && s->paddr == paddr &&
                         s->left > 0, 1)) {
        s->left--;
        return s;
    }
    s->paddr = paddr;
    s->name = qemu_plugin_hwaddr_device_name(hw);
    if (!s->name) {
        s->name = "?";
    }
    s->left = EL_DEV_RECHECK;
    *fresh = true;
    return s;
}

#endif
