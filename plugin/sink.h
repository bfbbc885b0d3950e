/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where complete text lines go: QEMU's log (qemu_plugin_outs, so that
 * "-d plugin -D FILE" works as with upstream execlog) or a file of our own.
 *
 * Callers hand over whole lines in large batches; each batch reaches the
 * destination in one piece (one qemu_plugin_outs call, a place of its own
 * in the file, claimed with one atomic add, or one writer at a time to a
 * pipe), so lines of different vCPUs never interleave.
 */
#ifndef EXECLOG_SINK_H
#define EXECLOG_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Send output to an open file descriptor (the watcher's way to QEMU's log). */
void el_sink_use_fd(int fd);

/* The file descriptor of outfile=, or -1. */
int el_sink_fd(void);

/* Send output through qemu_plugin_outs(). */
void el_sink_use_outs(void);

/*
 * Send output to @path (created or truncated). Returns 0, or -1 with a
 * message in @err.
 */
int el_sink_open_file(const char *path, char *err, size_t errlen);

/*
 * Write @len bytes of @buf. @buf[len] must be writable: it is borrowed for a
 * NUL terminator and restored. Thread-safe: lock-free into a file (each
 * batch has a place of its own) and through QEMU's log (which takes its
 * own lock per call); to a pipe, FIFO or terminal one batch at a time,
 * under a lock taken once per batch. A failed write is reported once on
 * stderr, with where the trace ends; nothing is written after it.
 */
void el_sink_write(char *buf, size_t len);

/*
 * As el_sink_write(), noting in *@placed where in the file the batch goes
 * (outfile= only; the note is made in the same step as the claim), so that
 * it can be written again there by el_sink_rewrite().
 */
void el_sink_write_placed(char *buf, size_t len, uint64_t *placed);
void el_sink_rewrite(const char *buf, size_t len, uint64_t placed);

/*
 * For the text writer thread (textwriter.h): whether batches have places
 * (outfile= a regular file) and nothing failed yet; claim the place of a
 * batch of @len bytes into *@placed (false, claiming nothing, if a write
 * failed); write a batch at its place.
 */
bool el_sink_positional(void);
bool el_sink_claim(size_t len, uint64_t *placed);
void el_sink_write_at(const char *buf, size_t len, uint64_t placed);

/* Cut the file where the trace ends and close it. */
void el_sink_close(void);

#endif
