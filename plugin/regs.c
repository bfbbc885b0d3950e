/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "regs.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "compat.h"
#include "execlog/format.h"
#include "execlog/textfmt.h"

#if EL_HAVE_REGISTERS

typedef struct ElReg {
    struct qemu_plugin_register *handle;
    char *name;             /* lower-cased */
    char *qemu_name;        /* as QEMU gives it */
    size_t namelen;
    uint32_t id;            /* format=bin: its number in the trace */
    GByteArray *last;
    GByteArray *cur;
} ElReg;

struct ElRegs {
    ElReg *reg;
    size_t n;
};

/* Names of all watched registers, for rdisas (read at translation time). */
static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;
static char **names;
static size_t n_names;

static char *lower_dup(const char *s)
{
    char *d = strdup(s);

    for (char *p = d; p && *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    return d;
}

static void remember_name(const char *name)
{
    pthread_mutex_lock(&names_lock);
    for (size_t i = 0; i < n_names; i++) {
        if (strcmp(names[i], name) == 0) {
            pthread_mutex_unlock(&names_lock);
            return;
        }
    }
    char **grown = realloc(names, (n_names + 1) * sizeof(*names));
    if (grown) {
        names = grown;
        names[n_names] = strdup(name);
        if (names[n_names]) {
            n_names++;
        }
    }
    pthread_mutex_unlock(&names_lock);
}

ElRegs *el_regs_init(const ElOptions *o)
{
    GArray *list;
    ElRegs *r;

    if (o->n_regs == 0) {
        return NULL;
    }
    list = qemu_plugin_get_registers();
    r = calloc(1, sizeof(*r));
    if (!list || !r) {
        free(r);
        if (list) {
            g_array_free(list, TRUE);
        }
        return NULL;
    }
    for (guint i = 0; i < list->len; i++) {
        qemu_plugin_reg_descriptor *d =
            &g_array_index(list, qemu_plugin_reg_descriptor, i);
        char *lower = lower_dup(d->name);

        if (!lower) {
            continue;
        }
        for (size_t p = 0; p < o->n_regs; p++) {
            ElReg *grown, *reg;

            if (!el_glob_match(o->regs[p], d->name) &&
                !el_glob_match(o->regs[p], lower)) {
                continue;
            }
            grown = realloc(r->reg, (r->n + 1) * sizeof(*r->reg));
            if (!grown) {
                continue;
            }
            r->reg = grown;
            reg = &r->reg[r->n];
            reg->handle = d->handle;
            reg->name = strdup(lower);
            reg->qemu_name = strdup(d->name);
            reg->namelen = strlen(lower);
            reg->last = g_byte_array_sized_new(64);
            reg->cur = g_byte_array_sized_new(64);
            if (qemu_plugin_read_register(reg->handle, reg->last) <= 0) {
                /* A register QEMU cannot read: leave it out. */
                g_byte_array_free(reg->last, TRUE);
                g_byte_array_free(reg->cur, TRUE);
                free(reg->name);
                free(reg->qemu_name);
                continue;
            }
            r->n++;
            if (o->rdisas) {
                remember_name(lower);
            }
        }
        free(lower);
    }
    g_array_free(list, TRUE);
    if (r->n == 0) {
        free(r->reg);
        free(r);
        return NULL;
    }
    return r;
}

/* Whether @a and @b hold the same @n bytes: the usual sizes without a call */
static inline bool reg_same(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint64_t x[2], y[2];

    switch (n) {
    case 8:
        memcpy(x, a, 8);
        memcpy(y, b, 8);
        return x[0] == y[0];
    case 16:
        memcpy(x, a, 16);
        memcpy(y, b, 16);
        return x[0] == y[0] && x[1] == y[1];
    default:
        return memcmp(a, b, n) == 0;
    }
}

/*
 * Read @reg into its cur array: its size if it differs from the last value
 * (and then cur holds the new value until reg_keep()), else 0. No locks,
 * no allocation (the arrays were sized at init), no printf.
 */
static inline size_t reg_changed(ElReg *reg)
{
    int sz;

    /*
     * Emptied by its public length, not g_byte_array_set_size(), which
     * removes the range (a call, a move) for every instruction.
     */
    reg->cur->len = 0;
    sz = qemu_plugin_read_register(reg->handle, reg->cur);
    if (sz <= 0 || (guint)sz != reg->last->len ||
        reg_same(reg->last->data, reg->cur->data, (size_t)sz)) {
        return 0;
    }
    return (size_t)sz;
}

/* The value reg_changed() read is the last one now. */
static inline void reg_keep(ElReg *reg)
{
    GByteArray *t = reg->last;

    reg->last = reg->cur;
    reg->cur = t;
}

/* Runs before every logged instruction with reg=: no locks, no printf. */
void el_regs_check(ElRegs *r, ElVcpu *v)
{
    for (size_t i = 0; i < r->n; i++) {
        ElReg *reg = &r->reg[i];
        size_t sz = reg_changed(reg);

        if (sz) {
            el_vcpu_reserve(v, 8 + reg->namelen + 2 * sz);
            v->len += el_fmt_reg(v->buf + v->len, reg->name, reg->namelen,
                                 reg->cur->data, sz);
            reg_keep(reg);
        }
    }
}

size_t el_regs_count(const ElRegs *r)
{
    return r ? r->n : 0;
}

bool el_regs_info(const ElRegs *r, size_t i, const char **name,
                  const uint8_t **value, size_t *size)
{
    if (!r || i >= r->n || !r->reg[i].qemu_name) {
        return false;
    }
    *name = r->reg[i].qemu_name;
    *value = r->reg[i].last->data;
    *size = r->reg[i].last->len;
    return true;
}

void el_regs_set_id(ElRegs *r, size_t i, uint32_t id)
{
    if (r && i < r->n) {
        r->reg[i].id = id;
    }
}

size_t el_regs_entries_max(const ElRegs *r)
{
    size_t n = 0;

    for (size_t i = 0; r && i < r->n; i++) {
        n += EL_VARINT_MAX + r->reg[i].last->len;
    }
    return n;
}

/*
 * Runs before every instruction with reg= and format=bin: no locks, no
 * allocation (the arrays were sized at init), no printf. The same reads
 * and comparisons as el_regs_check().
 */
size_t el_regs_diff(ElRegs *r, uint8_t *out)
{
    size_t n = 0;

    for (size_t i = 0; i < r->n; i++) {
        ElReg *reg = &r->reg[i];
        size_t sz = reg_changed(reg);

        if (sz) {
            n += el_put_varint(out + n, reg->id);
            memcpy(out + n, reg->cur->data, sz);
            n += sz;
            reg_keep(reg);
        }
    }
    return n;
}

bool el_regs_disas_mentions(const char *disas)
{
    const char *args = strchr(disas, ' ');
    bool found = false;

    if (!args) {
        return false;
    }
    pthread_mutex_lock(&names_lock);
    for (size_t i = 0; i < n_names && !found; i++) {
        found = strstr(args, names[i]) != NULL;
    }
    pthread_mutex_unlock(&names_lock);
    return found;
}

#else /* !EL_HAVE_REGISTERS: options.c refuses reg= and rdisas= */

size_t el_regs_count(const ElRegs *r)
{
    (void)r;
    return 0;
}

bool el_regs_info(const ElRegs *r, size_t i, const char **name,
                  const uint8_t **value, size_t *size)
{
    (void)r;
    (void)i;
    (void)name;
    (void)value;
    (void)size;
    return false;
}

void el_regs_set_id(ElRegs *r, size_t i, uint32_t id)
{
    (void)r;
    (void)i;
    (void)id;
}

size_t el_regs_entries_max(const ElRegs *r)
{
    (void)r;
    return 0;
}

size_t el_regs_diff(ElRegs *r, uint8_t *out)
{
    (void)r;
    (void)out;
    return 0;
}

ElRegs *el_regs_init(const ElOptions *o)
{
    (void)o;
    return NULL;
}

void el_regs_check(ElRegs *r, ElVcpu *v)
{
    (void)r;
    (void)v;
}

bool el_regs_disas_mentions(const char *disas)
{
    (void)disas;
    return false;
}

#endif
