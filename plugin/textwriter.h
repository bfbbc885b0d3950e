/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * format=text with outfile=: a thread of its own writes each vCPU's full
 * batches of lines, so that the vCPU does not wait for the kernel to copy
 * them. A vCPU hands over its buffer and goes on in its other one (vcpu.c,
 * el_vcpu_flush); it has at most one batch with the writer, and waits for
 * that one only when it has filled the other buffer too. The batch's place
 * in the file is claimed by the vCPU, in order, when it hands it over
 * (sink.h), so batches may be written in any order. Without the thread (a
 * pipe, QEMU's log, the watcher, a guest's forked child) batches are
 * written by the vCPU as before.
 */
#ifndef EXECLOG_TEXTWRITER_H
#define EXECLOG_TEXTWRITER_H

#include <stdbool.h>

struct ElVcpu;

/* Start the thread (after the watcher is forked). False if it did not. */
bool el_textw_start(void);

/* Whether batches go to the thread. */
bool el_textw_running(void);

/* @v's batch (inflight_buf, inflight_len, at inflight_at) to the thread. */
void el_textw_hand(struct ElVcpu *v);

/* Until @v's batch with the thread, if any, is written. */
void el_textw_wait(struct ElVcpu *v);

/* Every batch handed over written, and the thread ended (at exit). */
void el_textw_stop(void);

#endif
