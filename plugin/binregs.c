/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "binregs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regs.h"

#define BINREGS_VCPU_MAX 65536

typedef struct VcpuRegs {
    ElRegs *regs;
    uint8_t *scratch; /* the entries of the REGS record being made */
} VcpuRegs;

static const ElOptions *opts;
static VcpuRegs *vcpus[BINREGS_VCPU_MAX];

/* Names of the registers the trace defines, by id (under the static lock) */
static char **names;
static uint32_t n_names;

void el_binregs_init(const ElOptions *o)
{
    opts = o->n_regs ? o : NULL;
}

bool el_binregs_on(void)
{
    return opts != NULL;
}

/* The id of register @name, defining it (REG record) on first sight. */
static bool reg_id(const char *name, const uint8_t *value, size_t size,
                   uint32_t *id)
{
    size_t len = strlen(name);
    uint8_t *rec;
    size_t n = 1;
    char **grown;

    for (uint32_t i = 0; i < n_names; i++) {
        if (strcmp(names[i], name) == 0) {
            *id = i;
            return true;
        }
    }
    if (n_names >= EL_REG_MAX_ID || size == 0 || size > EL_REG_MAX_SIZE) {
        return false;
    }
    grown = realloc(names, (n_names + 1) * sizeof(*names));
    rec = malloc(1 + 3 * EL_VARINT_MAX + size + len);
    if (!grown || !rec) {
        free(rec);
        if (grown) {
            names = grown;
        }
        return false;
    }
    names = grown;
    names[n_names] = strdup(name);
    if (!names[n_names]) {
        free(rec);
        return false;
    }
    rec[0] = EL_REC_REG;
    n += el_put_varint(rec + n, n_names);
    n += el_put_varint(rec + n, size);
    memcpy(rec + n, value, size);
    n += size;
    n += el_put_varint(rec + n, len);
    memcpy(rec + n, name, len);
    n += len;
    if (!el_bin_static_rec(rec, n)) {
        free(rec);
        free(names[n_names]);
        return false;
    }
    free(rec);
    *id = n_names++;
    return true;
}

void el_binregs_vcpu_init(unsigned vcpu)
{
    VcpuRegs *v;
    size_t n;

    if (!opts || vcpu >= BINREGS_VCPU_MAX ||
        __atomic_load_n(&vcpus[vcpu], __ATOMIC_ACQUIRE)) {
        return;
    }
    v = calloc(1, sizeof(*v));
    if (!v) {
        goto oom;
    }
    v->regs = el_regs_init(opts);
    if (!v->regs) {
        free(v);
        return; /* no register matched (as format=text: none) */
    }
    n = el_regs_count(v->regs);
    v->scratch = malloc(el_regs_entries_max(v->regs) + 1);
    if (!v->scratch) {
        free(v);
        goto oom;
    }
    el_bin_static_lock();
    for (size_t i = 0; i < n; i++) {
        const char *name;
        const uint8_t *value;
        size_t size;
        uint32_t id;

        if (!el_regs_info(v->regs, i, &name, &value, &size) ||
            !reg_id(name, value, size, &id)) {
            el_bin_static_unlock();
            fprintf(stderr,
                    "execlog: vCPU %u: cannot define a register in "
                    "the trace; its registers are not recorded\n",
                    vcpu);
            free(v->scratch);
            free(v);
            return;
        }
        el_regs_set_id(v->regs, i, id);
    }
    el_bin_static_unlock();
    __atomic_store_n(&vcpus[vcpu], v, __ATOMIC_RELEASE);
    return;
oom:
    fprintf(stderr,
            "execlog: out of memory for vCPU %u's registers: they "
            "are not recorded\n",
            vcpu);
}

/* Runs before every instruction with reg=: no locks, no printf, no
 * allocation. */
void el_binregs_write(ElBinVcpu *w, unsigned vcpu, uint32_t index)
{
    VcpuRegs *v = vcpu < BINREGS_VCPU_MAX ? vcpus[vcpu] : NULL;
    size_t n, k = 1;
    uint8_t *p;

    if (!v) {
        return;
    }
    n = el_regs_diff(v->regs, v->scratch);
    if (n == 0 || !el_bin_room(w, 1 + 2 * EL_VARINT_MAX + n)) {
        return;
    }
    /* the instruction started: the block's count says so already */
    if (index >= w->open_count) {
        w->open_count = index + 1;
        el_put_u16(w->count, (uint16_t)(index + 1));
    }
    p = w->pos;
    k += el_put_varint(p + k, index);
    k += el_put_varint(p + k, n);
    memcpy(p + k, v->scratch, n);
    k += n;
    el_bin_publish(p, EL_REC_REGS);
    w->pos = p + k;
}
