/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include "watcher.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sink.h"

static int pipe_w = -1;         /* QEMU's end: its closing wakes the watcher */
static volatile int *clean;     /* shared: set before a clean close */
static int watched_fd = -1;     /* what the watcher writes to */
static void (*watched_write)(int fd);

static int spawn(int out_fd, void (*write_out)(int fd));

/*
 * A guest's fork (user mode) forked QEMU: the child neither keeps its
 * parent's watcher waiting nor goes without one. shm.c gave it a copy of
 * the buffers that a new watcher can share; a format's own fork handler,
 * which runs first, may have pointed it at another file (el_watch_retarget).
 */
static void after_fork_in_child(void)
{
    if (pipe_w < 0) {
        return;
    }
    close(pipe_w);
    pipe_w = -1;
    if (watched_fd >= 0 && spawn(watched_fd, watched_write) != 0) {
        static const char msg[] = "execlog: guest forked: no watcher for "
            "the child; if it ends without the plugin's exit callback, what "
            "it holds then is lost\n";

        (void)!write(2, msg, sizeof(msg) - 1);
    }
}

void el_watch_retarget(int out_fd)
{
    watched_fd = out_fd;
}

/* Close every descriptor from @first on (close_range where the kernel has
 * it, else one by one up to the limit). */
static void close_from(int first)
{
    long max;

    if (close_range((unsigned)first, ~0u, 0) == 0) {
        return;
    }
    max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 1 << 20) {
        max = 1 << 20;
    }
    for (long fd = first; fd < max; fd++) {
        close((int)fd);
    }
}

static void watch(int rd, int out_fd, void (*write_out)(int fd))
{
    char c;
    ssize_t n;

    do {
        n = read(rd, &c, 1);
    } while (n > 0 || (n < 0 && errno == EINTR));
    if (*clean) {
        _exit(0);
    }
    el_sink_use_fd(out_fd);
    write_out(out_fd);
    fprintf(stderr, "execlog: QEMU ended without running the plugin's exit "
            "callback; what it still held was written out\n");
    _exit(0);
}

void el_watch_missing(void)
{
    fprintf(stderr, "execlog: cannot start the watcher process; if QEMU "
            "ends without the plugin's exit callback, what it holds in "
            "memory then is lost\n");
}

int el_watch_start(int out_fd, void (*write_out)(int fd))
{
    if (spawn(out_fd, write_out) != 0) {
        return -1;
    }
    watched_fd = out_fd;
    watched_write = write_out;
    pthread_atfork(NULL, NULL, after_fork_in_child);
    return 0;
}

/* Fork the watcher (twice); on success pipe_w is QEMU's end of its pipe. */
static int spawn(int out_fd, void (*write_out)(int fd))
{
    int p[2];
    pid_t pid;

    clean = mmap(NULL, sizeof(*clean), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (clean == MAP_FAILED) {
        clean = NULL;
        return -1;
    }
    if (pipe2(p, O_CLOEXEC) != 0) {
        return -1;
    }
    /*
     * _Fork: without the pthread_atfork handlers, which are for a guest's
     * fork (shm.c would give the watcher a private copy of the memory it
     * must share).
     */
    pid = _Fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        /* Fork again: the watcher must not be QEMU's child (a guest's
         * wait() would see it). */
        sigset_t all;

        if (_Fork() != 0) {
            _exit(0);
        }
        setsid();
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        close(p[1]);
        /* keep only the pipe (as 3), the output (as 4) and stderr */
        int rd = fcntl(p[0], F_DUPFD, 16);
        int wr = fcntl(out_fd, F_DUPFD, 16);

        if (rd < 0 || wr < 0 || dup2(rd, 3) < 0 || dup2(wr, 4) < 0) {
            _exit(1);
        }
        close_from(5);
        /* not the guest's stdin or stdout: a reader of QEMU's output must
         * see its end when QEMU ends */
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            if (null > 4) {
                close(null);
            }
        }
        watch(3, 4, write_out);
    }
    close(p[0]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    pipe_w = p[1];
    return 0;
}

void el_watch_clean_exit(void)
{
    if (clean && pipe_w >= 0) {
        *clean = 1;
        close(pipe_w);
        pipe_w = -1;
    }
}

/*
 * QEMU's log file, for "-d plugin -D FILE": opened by QEMU before plugins
 * are loaded, it is the one regular file QEMU holds open for writing.
 * Returns its descriptor, 2 (stderr) when QEMU logs plugin output there,
 * or -1 when that cannot be told (or nothing would be logged).
 */
int el_watch_find_qemu_log(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int found = -1, count = 0;
    bool plugin_logged = false;

    if (!d) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        char path[64], line[128];
        int fd = atoi(e->d_name);
        struct stat st;
        FILE *f;
        unsigned flags = 0;

        if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd < 3 ||
            fd == dirfd(d) || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
        f = fopen(path, "r");
        while (f && fgets(line, sizeof(line), f)) {
            if (sscanf(line, "flags: %o", &flags) == 1) {
                break;
            }
        }
        if (f) {
            fclose(f);
        }
        if ((flags & O_ACCMODE) == O_WRONLY) {
            found = fd;
            count++;
        }
    }
    closedir(d);
    if (count == 1) {
        return found;
    }
    if (count > 1) {
        return -1;
    }

    /* No log file: QEMU logs to stderr, if -d asks for plugin output. */
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    char buf[65536];
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

    if (fd >= 0) {
        close(fd);
    }
    if (n > 0) {
        buf[n] = '\0';
        for (char *a = buf; a < buf + n; a += strlen(a) + 1) {
            char *next = a + strlen(a) + 1;

            if ((strcmp(a, "-d") == 0 || strcmp(a, "--d") == 0) &&
                next < buf + n) {
                char items[1024], *save = NULL;

                snprintf(items, sizeof(items), "%s", next);
                for (char *t = strtok_r(items, ",", &save); t;
                     t = strtok_r(NULL, ",", &save)) {
                    plugin_logged |= strcmp(t, "plugin") == 0;
                }
            }
        }
    }
    if (getenv("QEMU_LOG") && strstr(getenv("QEMU_LOG"), "plugin")) {
        plugin_logged = true;
    }
    return plugin_logged ? 2 : -1;
}
