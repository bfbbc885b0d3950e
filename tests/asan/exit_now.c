/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Preloaded into QEMU 7.2 user mode in the ASan tier only (tests/tiers.sh).
 *
 * With a sanitizer runtime preloaded, qemu-aarch64 deadlocks in exit() once
 * it has opened a plugin: a library destructor (p11-kit's) waits for
 * glibc's setlocale lock, whose reader count has gone below zero. Measured
 * with gcc's and clang's ASan runtimes and no plugin of ours
 * (-plugin /nonexistent.so). QEMU calls exit() there only to give up
 * (a plugin refused to load); a guest's end is an _exit(). So exit() here
 * flushes stdio and ends the process without running destructors.
 */
#include <stdio.h>
#include <unistd.h>

__attribute__((visibility("default"))) void exit(int status)
{
    fflush(NULL);
    _exit(status);
}
