// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fork: the process forks a child that does some work of its own and exits;
 * the parent waits for it, does more work, and prints a checksum.
 * Under QEMU user mode the fork forks QEMU too.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile unsigned table[256];

static unsigned work(unsigned seed, int rounds)
{
    unsigned s = seed;

    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 256; i++) {
            table[i] = table[i] * 33 + s + (unsigned)i;
            s ^= table[(i * 7) & 255];
        }
    }
    return s;
}

int main(void)
{
    unsigned s = work(1, 20);
    pid_t pid = fork();
    int status = 0;

    if (pid == 0) {
        _exit((int)(work(s, 50) & 1));
    }
    if (pid > 0) {
        waitpid(pid, &status, 0);
    }
    s = work(s, 20);
    printf("fork: %08x\n", s);
    return 0;
}
