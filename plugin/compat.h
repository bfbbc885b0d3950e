/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one place where the plugin API generations differ.
 *
 * API 1 (QEMU 6.0 - 8.2) and API 4 (QEMU 9.2 - 10.x) are told apart by the
 * QEMU_PLUGIN_VERSION of the qemu-plugin.h this file is compiled against; a
 * plugin must be built against the header of the generation it declares.
 */
#ifndef EXECLOG_COMPAT_H
#define EXECLOG_COMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <qemu-plugin.h>

/*
 * Tested: API 1 (QEMU 7.2) and API 4 (QEMU 10.0). API 2, 3 (QEMU 9.0, 9.1)
 * and 5 (QEMU 10.1, 10.2) use the same calls as far as execlog goes.
 */
#if QEMU_PLUGIN_VERSION < 1 || QEMU_PLUGIN_VERSION > 5
#error "execlog builds against plugin API 1 to 5 (QEMU 6.0 to 10.2)"
#endif

#define EL_API QEMU_PLUGIN_VERSION

/*
 * Functions that some QEMU of a generation lacks are optional: the plugin
 * refers to them weakly, so that it still loads where QEMU does not export
 * them (the reference is then NULL), and calls them only through the el_*
 * wrappers below, which say "unknown" instead.
 *
 * QEMU 10.0.x linux-user (API 4) exports none of qemu_plugin_path_to_binary,
 * _start_code, _end_code and _entry_code: its linux-user/meson.build adds
 * plugin-api.c under a config name that 10.0 no longer defines. Every other
 * qemu_plugin_* function the plugin imports is exported by every QEMU it is
 * tested on, user and system mode (tests/e2e/symbols.sh checks that what the
 * built plugins import strongly is what those QEMUs export). A function is
 * added here, and called only through a wrapper, as soon as some QEMU of the
 * generation is known to lack it.
 */
#pragma weak qemu_plugin_path_to_binary
#pragma weak qemu_plugin_start_code
#pragma weak qemu_plugin_end_code
#pragma weak qemu_plugin_entry_code

/*
 * The guest program's path (user mode; to be released with free()), or
 * NULL: system mode, or a QEMU without qemu_plugin_path_to_binary.
 */
static inline char *el_path_to_binary(void)
{
    if (!qemu_plugin_path_to_binary) {
        return NULL;
    }
    return (char *)qemu_plugin_path_to_binary();
}

/* reg= and rdisas= need the register API (API >= 2). */
#define EL_HAVE_REGISTERS (QEMU_PLUGIN_VERSION >= 2)

/* Memory values of loads and stores (API >= 4). */
#define EL_HAVE_MEM_VALUE (QEMU_PLUGIN_VERSION >= 4)

/*
 * values=on: the value the access loaded or stored, as a number split in
 * 64-bit halves (@hi is 0 for accesses of up to 8 bytes). API >= 4 only;
 * options.c refuses values=on below.
 */
static inline void el_mem_value(qemu_plugin_meminfo_t info, uint64_t *lo,
                                uint64_t *hi)
{
#if EL_HAVE_MEM_VALUE
    qemu_plugin_mem_value v = qemu_plugin_mem_get_value(info);

    *hi = 0;
    switch (v.type) {
    case QEMU_PLUGIN_MEM_VALUE_U8:
        *lo = v.data.u8;
        break;
    case QEMU_PLUGIN_MEM_VALUE_U16:
        *lo = v.data.u16;
        break;
    case QEMU_PLUGIN_MEM_VALUE_U32:
        *lo = v.data.u32;
        break;
    case QEMU_PLUGIN_MEM_VALUE_U64:
        *lo = v.data.u64;
        break;
    default:
        *lo = v.data.u128.low;
        *hi = v.data.u128.high;
        break;
    }
#else
    (void)info;
    *lo = *hi = 0;
#endif
}

/*
 * qemu_plugin_reset(id, cb): flush the translated code and drop all of the
 * plugin's callbacks, then call @cb (which registers what it needs again),
 * at the next point where every vCPU is stopped. The window (window.c)
 * uses it to instrument nothing while tracing is off. QEMU 7.2's (API 1)
 * is broken: its plugin_reset_destroy() takes plugin.lock twice and
 * releases it never, so any other thread that takes it (a new vCPU, a
 * thread's exit) then waits forever. QEMU 10.0's (API 4, plugins/loader.c)
 * takes and releases it once and flushes in an exclusive section
 * (async_safe_run_on_cpu, tb_flush): used from API 4 on. Without it, every
 * instruction keeps its callbacks while tracing is off, and they return at
 * once.
 */
#define EL_HAVE_RESET (QEMU_PLUGIN_VERSION >= 4)

static inline void el_reset(qemu_plugin_id_t id,
                            void (*cb)(qemu_plugin_id_t id))
{
#if EL_HAVE_RESET
    qemu_plugin_reset(id, cb);
#else
    (void)id;
    (void)cb;
#endif
}

/*
 * Whether an instruction can have a load callback and a store callback of
 * its own. QEMU 7.2 (API 1) runs an access's memory callbacks in order and
 * stops at the first registered for the other direction
 * (plugins/core.c, qemu_plugin_vcpu_mem_cb: "break"), so of a load and a
 * store callback only the first registered would ever run. There one
 * callback takes both, and the direction comes from the meminfo. From API
 * 2 (QEMU 9.0) the callbacks are emitted per access at translation, each
 * one only for the directions it asked for.
 */
#define EL_MEM_SPLIT (QEMU_PLUGIN_VERSION >= 2)

/*
 * What upstream execlog prints at exit: API 1's execlog keeps a line for
 * every vCPU index up to the highest that logged an instruction; API 4's has
 * one for every vCPU that was initialised. Either way an empty pending line
 * prints as an empty line.
 */
#define EL_EXIT_LINES_FOR_ALL_INITIALISED (QEMU_PLUGIN_VERSION >= 2)

/*
 * API 4's execlog, after a line was ended by an instruction that is not
 * logged itself (reg= with filters), keeps that line's text and prints it
 * once more at exit if nothing else was logged on that vCPU since.
 */
#define EL_EXIT_REPEATS_LINE_ENDED_UNLOGGED (QEMU_PLUGIN_VERSION >= 2)

/*
 * Copy up to @len bytes of the instruction into @dst; return how many were
 * copied (never more than the instruction's size).
 */
static inline size_t el_insn_bytes(const struct qemu_plugin_insn *insn,
                                   void *dst, size_t len)
{
    size_t size = qemu_plugin_insn_size(insn);

    if (len > size) {
        len = size;
    }
#if QEMU_PLUGIN_VERSION >= 3
    return qemu_plugin_insn_data(insn, dst, len);
#else
    memcpy(dst, qemu_plugin_insn_data(insn), len);
    return len;
#endif
}

/*
 * format=bin counts how many instructions of a block started with an
 * inline operation on each instruction (no callback), read and reset when
 * the vCPU's next block starts.
 *
 * API >= 2: a per-vCPU scoreboard, for any number of vCPUs. API 1's inline
 * operations add to one address for all vCPUs: usable only while a single
 * vCPU runs, with @single the counter to add to (else the plugin falls back
 * to a callback per instruction). Returns whether the instruction counts.
 */
#if QEMU_PLUGIN_VERSION >= 2
static struct qemu_plugin_scoreboard *el_progress_board;

/*
 * vCPU 0's counter, vCPU i's at base + i: QEMU keeps a scoreboard in one
 * array (plugins/api.c, qemu_plugin_scoreboard_find), and a block's
 * callback finds its counter there without a call into QEMU. The array
 * moves only when QEMU grows it for a new vCPU, in an exclusive section
 * that also flushes every TB (plugins/core.c,
 * plugin_grow_scoreboards__locked): every block that runs afterwards was
 * translated afterwards, and el_progress_refresh() at each translation
 * sees the new place before any such block can run. NULL: ask QEMU each
 * time (before the first translation, or if the layout is not the one
 * expected: el_progress_odd).
 */
static uint64_t *el_progress_base;
static bool el_progress_odd;

static inline void el_progress_init(void)
{
    el_progress_board = qemu_plugin_scoreboard_new(sizeof(uint64_t));
}

/* At every translation, before its block can run. */
static inline void el_progress_refresh(void)
{
    int n = qemu_plugin_num_vcpus();
    uint64_t *base;

    if (!el_progress_board || n < 1 ||
        __atomic_load_n(&el_progress_odd, __ATOMIC_RELAXED)) {
        return;
    }
    base = qemu_plugin_scoreboard_find(el_progress_board, 0);
    if ((uint64_t *)qemu_plugin_scoreboard_find(el_progress_board,
                                                (unsigned)n - 1) !=
        base + (n - 1)) {
        __atomic_store_n(&el_progress_odd, true, __ATOMIC_RELAXED);
        base = NULL;
    }
    if (base != __atomic_load_n(&el_progress_base, __ATOMIC_RELAXED)) {
        __atomic_store_n(&el_progress_base, base, __ATOMIC_RELEASE);
    }
}

static inline bool el_progress_count(struct qemu_plugin_insn *insn,
                                     uint64_t *single)
{
    (void)single;
    if (!el_progress_board) {
        return false;
    }
    qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
        insn, QEMU_PLUGIN_INLINE_ADD_U64,
        qemu_plugin_scoreboard_u64(el_progress_board), 1);
    return true;
}

/* Would el_progress_count() count (without registering anything)? */
static inline bool el_progress_possible(uint64_t *single)
{
    (void)single;
    return el_progress_board != NULL;
}

/*
 * How many started, and start again from 0 (@take) or not. Only in a
 * block's callbacks (el_progress_base); elsewhere el_progress_read_any().
 */
static inline uint64_t el_progress_read(unsigned vcpu, uint64_t *single,
                                        bool take)
{
    uint64_t *base = __atomic_load_n(&el_progress_base, __ATOMIC_ACQUIRE);
    uint64_t *p = base ? base + vcpu :
                  qemu_plugin_scoreboard_find(el_progress_board, vcpu);
    uint64_t n = *p;

    (void)single;
    if (take) {
        *p = 0;
    }
    return n;
}
/* el_progress_read(@take) anywhere (at exit: no block runs then). */
static inline uint64_t el_progress_read_any(unsigned vcpu, uint64_t *single)
{
    uint64_t *p = qemu_plugin_scoreboard_find(el_progress_board, vcpu);
    uint64_t n = *p;

    (void)single;
    *p = 0;
    return n;
}
#else
static inline void el_progress_init(void)
{
}

static inline void el_progress_refresh(void)
{
}

static inline bool el_progress_count(struct qemu_plugin_insn *insn,
                                     uint64_t *single)
{
    if (!single) {
        return false;
    }
    qemu_plugin_register_vcpu_insn_exec_inline(insn,
                                               QEMU_PLUGIN_INLINE_ADD_U64,
                                               single, 1);
    return true;
}

static inline bool el_progress_possible(uint64_t *single)
{
    return single != NULL;
}

static inline uint64_t el_progress_read(unsigned vcpu, uint64_t *single,
                                        bool take)
{
    uint64_t n = *single;

    (void)vcpu;
    if (take) {
        *single = 0;
    }
    return n;
}

static inline uint64_t el_progress_read_any(unsigned vcpu, uint64_t *single)
{
    return el_progress_read(vcpu, single, true);
}
#endif

#endif
