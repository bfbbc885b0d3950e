/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The window (window.h says how its options compose).
 *
 * One global order over all vCPUs: the window's state and the number of
 * instructions counted inside it share one 64-bit word, changed only by
 * atomic operations. Each decision is one atomic operation on that word
 * (a load, a fetch-and-add, or a compare-and-swap that opens or closes),
 * and the order of those operations is the global order: an instruction
 * whose operation comes after the one that opened the window is inside
 * it, one whose operation comes after the one that closed it is outside.
 * Without skip= and limit= nothing is counted and an instruction inside
 * the window only loads the word.
 *
 * On API >= 4 (compat.h, EL_HAVE_RESET) QEMU retranslates when the window
 * opens or closes: until start= fires only the blocks holding it carry
 * callbacks; after the window closed, none. A vCPU other than the one
 * that opened the window runs the blocks it had translated without
 * callbacks until QEMU has flushed them (it stops every vCPU for that at
 * the end of their current block): its instructions of that moment are
 * ordered before the start instruction. On API 1 every block keeps its
 * callbacks, and the order is exactly that of the word.
 */
#include "window.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "compat.h"

#define W_OPEN 1u
#define W_CLOSED 2u
#define W_ONE 4u            /* one instruction counted, in bits 2..63 */

ElWinVcpu el_win_vcpus[EL_WIN_VCPU_MAX];

static struct {
    bool enabled;
    bool counting;          /* skip= or limit= */
    uint64_t skip;
    uint64_t limit;         /* UINT64_MAX: none */
    bool has_start, has_stop;
    uint64_t start, stop;
    uint8_t *selected;      /* vcpu=: one byte per index; NULL: all */
    qemu_plugin_id_t id;
    void (*reregister)(qemu_plugin_id_t id);
} win;

static uint64_t word;       /* atomic: W_OPEN | W_CLOSED | count * W_ONE */
static int stop_fired;      /* atomic */

void el_win_init(qemu_plugin_id_t id, const ElOptions *o,
                 void (*reregister)(qemu_plugin_id_t id))
{
    win.enabled = el_options_window(o);
    if (!win.enabled) {
        return;
    }
    win.id = id;
    win.reregister = reregister;
    win.skip = o->skip;
    win.limit = o->limit ? o->limit : UINT64_MAX;
    win.counting = o->skip > 0 || o->limit > 0;
    win.has_start = o->has_start;
    win.has_stop = o->has_stop;
    win.start = o->start;
    win.stop = o->stop;
    if (o->n_vcpus) {
        win.selected = calloc(EL_WIN_VCPU_MAX, 1);
        if (win.selected) {
            for (unsigned i = 0; i < EL_WIN_VCPU_MAX; i++) {
                win.selected[i] = el_match_vcpu(o, i);
            }
        }
    }
    word = o->has_start ? 0 : W_OPEN;
}

bool el_win_enabled(void)
{
    return win.enabled;
}

bool el_win_translate(bool has_start)
{
    uint64_t w = __atomic_load_n(&word, __ATOMIC_ACQUIRE);

    if (!win.enabled || (w & W_OPEN && !(w & W_CLOSED))) {
        return true;
    }
    if (w & W_CLOSED) {
        return false;           /* nothing is ever logged again */
    }
    return EL_HAVE_RESET ? has_start : true;
}

bool el_win_translate_tb(struct qemu_plugin_tb *tb)
{
    bool has_start = false;

    if (!win.enabled) {
        return true;
    }
    if (win.has_start) {
        size_t n = qemu_plugin_tb_n_insns(tb);

        for (size_t i = 0; i < n && !has_start; i++) {
            has_start = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(
                            tb, i)) == win.start;
        }
    }
    return el_win_translate(has_start);
}

static void reregister(qemu_plugin_id_t id)
{
    /* QEMU dropped every callback (and flushed its code): all again */
    win.reregister(id);
}

/*
 * The window opened or closed: on API >= 4 QEMU retranslates everything
 * (once the vCPUs stop), with the instrumentation el_win_translate() asks
 * for now. Not per instruction: once per change of the window, and QEMU
 * allocates there.
 */
static void changed(void)
{
    el_reset(win.id, reregister);
}

/* ---- Run time: for every instruction while the window matters -------- */
/* No locks, no allocation, no printf. */

bool el_win_counting(void)
{
    return win.counting;
}

bool el_win_block(unsigned vcpu)
{
    uint64_t w = __atomic_load_n(&word, __ATOMIC_ACQUIRE);
    bool logged = (w & W_OPEN) && !(w & W_CLOSED) &&
                  (!win.selected || (vcpu < EL_WIN_VCPU_MAX &&
                                     win.selected[vcpu]));

    if (vcpu < EL_WIN_VCPU_MAX) {
        el_win_vcpus[vcpu].logging = logged;
    }
    return logged;
}

/* Is number @idx of the window inside skip/limit, and the last one? */
static inline bool in_slice(uint64_t idx, bool *last)
{
    if (idx < win.skip || idx - win.skip >= win.limit) {
        *last = false;
        return false;
    }
    *last = idx - win.skip + 1 == win.limit;
    return true;
}

bool el_win_step(unsigned vcpu, unsigned flags)
{
    bool counts = (flags & EL_WIN_ELIGIBLE) &&
                  (!win.selected || (vcpu < EL_WIN_VCPU_MAX &&
                                     win.selected[vcpu]));
    uint64_t w = __atomic_load_n(&word, __ATOMIC_ACQUIRE);
    bool logged = false, last = false;

    for (;;) {
        if (w & W_CLOSED) {
            break;
        }
        if (!(w & W_OPEN)) {
            /* waiting for start=: only its instruction opens */
            if (!(flags & EL_WIN_START)) {
                break;
            }
            if (!__atomic_compare_exchange_n(&word, &w,
                                             W_OPEN | (counts ? W_ONE : 0),
                                             false, __ATOMIC_ACQ_REL,
                                             __ATOMIC_ACQUIRE)) {
                continue;       /* w is the word now: decide again */
            }
            logged = counts && in_slice(0, &last);
            if (last) {
                __atomic_fetch_or(&word, W_CLOSED, __ATOMIC_ACQ_REL);
            }
            changed();
            break;
        }
        if (flags & EL_WIN_STOP) {
            /* its number (if it counts) and the close, in one step */
            uint64_t nw = (w + (counts ? W_ONE : 0)) | W_CLOSED;

            if (!__atomic_compare_exchange_n(&word, &w, nw, false,
                                             __ATOMIC_ACQ_REL,
                                             __ATOMIC_ACQUIRE)) {
                continue;
            }
            logged = counts && in_slice(w / W_ONE, &last);
            __atomic_store_n(&stop_fired, 1, __ATOMIC_RELAXED);
            changed();
            break;
        }
        if (!counts) {
            break;
        }
        if (!win.counting) {
            logged = true;
            break;
        }
        w = __atomic_fetch_add(&word, W_ONE, __ATOMIC_ACQ_REL);
        if (w & W_CLOSED) {
            break;
        }
        logged = in_slice(w / W_ONE, &last);
        if (last) {
            __atomic_fetch_or(&word, W_CLOSED, __ATOMIC_ACQ_REL);
            changed();
        }
        break;
    }
    if (vcpu < EL_WIN_VCPU_MAX) {
        el_win_vcpus[vcpu].logging = logged;
    }
    return logged;
}

/* ------------------------------------------------------------------------ */

void el_win_exit_report(void)
{
    uint64_t w = __atomic_load_n(&word, __ATOMIC_ACQUIRE);

    if (!win.enabled) {
        return;
    }
    if (win.has_start && !(w & (W_OPEN | W_CLOSED))) {
        fprintf(stderr, "execlog: start=0x%" PRIx64 " never executed: "
                "nothing was logged\n", win.start);
    } else if (win.has_stop && !(w & W_CLOSED) &&
               !__atomic_load_n(&stop_fired, __ATOMIC_RELAXED)) {
        fprintf(stderr, "execlog: stop=0x%" PRIx64 " never executed after "
                "the window opened: logged to the end\n", win.stop);
    }
}
