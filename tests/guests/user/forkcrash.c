// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * forkcrash: the process forks a child that works a while and then dies of
 * SIGSEGV (a store through a null pointer, in crash_child); the parent
 * waits for it, reports how the child ended, works on and exits 0.
 */
#include <signal.h>
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

__attribute__((noinline)) void crash_child(volatile unsigned *p, unsigned v)
{
    *p = v;
}

int main(void)
{
    unsigned s = work(1, 10);
    pid_t pid = fork();
    int status = 0;

    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        crash_child((volatile unsigned *)0, work(s, 30));
        _exit(0);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        puts("forkcrash: fork failed");
        return 1;
    }
    s = work(s, 10);
    printf("forkcrash: child %s %d, %08x\n",
           WIFSIGNALED(status) ? "signal" : "exit",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), s);
    return 0;
}
