/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A watcher process that writes out what QEMU still held when
 * it ended without running the plugin's exit callback — killed by a signal
 * (even SIGKILL), or in QEMU 7.2 user mode a guest killed by a signal,
 * which ends QEMU without any plugin exit callback.
 *
 * It is forked at install (twice: it is not QEMU's child, so a guest's
 * wait() never sees it; a guest's forked child gets one of its own),
 * shares the buffers with QEMU (shm.h) and
 * waits for the end of a pipe that only QEMU holds open. At a clean exit
 * the plugin writes everything itself, marks the exit clean and closes the
 * pipe; the watcher then leaves without writing. Nothing of this is on the
 * per-instruction path.
 */
#ifndef EXECLOG_WATCHER_H
#define EXECLOG_WATCHER_H

/*
 * Start the watcher. At QEMU's unclean end it calls @write_out with (its copy
 * of) @out_fd, the sink writing to it. Returns 0, or -1 if no watcher
 * could be started (tracing goes on without).
 */
int el_watch_start(int out_fd, void (*write_out)(int fd));

/*
 * In a guest's forked child (from a pthread_atfork child handler that runs
 * before the watcher's): the child's watcher writes to @out_fd instead.
 */
void el_watch_retarget(int out_fd);

/* Say once on stderr that there is no watcher, and what that means. */
void el_watch_missing(void);

/* The plugin wrote everything: the watcher has nothing to do. */
void el_watch_clean_exit(void);

/* Where QEMU's log goes (see watcher.c), or -1. */
int el_watch_find_qemu_log(void);

#endif
