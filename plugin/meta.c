/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include "meta.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * QEMU's version: the plugin API does not tell it, but QEMU's binary holds
 * its --version line: "QEMU emulator version X" (system mode) or
 * "qemu-TARGET version X" (user mode).
 */
static void qemu_version(const char *target, bool system, char *out,
                         size_t len)
{
    char key[96];
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    struct stat st;
    const char *map, *hit;

    if (system) {
        snprintf(key, sizeof(key), "QEMU emulator version ");
    } else {
        snprintf(key, sizeof(key), "qemu-%s version ", target);
    }
    snprintf(out, len, "unknown");
    if (fd < 0) {
        return;
    }
    if (fstat(fd, &st) != 0 || st.st_size <= 0) {
        close(fd);
        return;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        return;
    }
    hit = memmem(map, (size_t)st.st_size, key, strlen(key));
    if (hit) {
        const char *v = hit + strlen(key);
        const char *end = map + st.st_size;
        size_t n = 0;

        /* e.g. "7.2.0 (Debian 1:7.2+dfsg-7+deb12u18+b3)" up to the newline */
        while (v + n < end && n + 1 < len && v[n] != '\n' && v[n] != '\0' &&
               v[n] != '%') {
            n++;
        }
        memcpy(out, v, n);
        out[n] = '\0';
    }
    munmap((void *)map, (size_t)st.st_size);
}

char *el_meta(const qemu_info_t *info, int argc, char **argv)
{
    char version[128];
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f) {
        return NULL;
    }
    qemu_version(info->target_name ? info->target_name : "",
                 info->system_emulation, version, sizeof(version));
    fprintf(f, "qemu=%s\n", version);
    fprintf(f, "target=%s\n", info->target_name ? info->target_name : "?");
    fprintf(f, "mode=%s\n", info->system_emulation ? "system" : "user");
    if (info->system_emulation) {
        fprintf(f, "vcpus=%d\nmax_vcpus=%d\n", info->system.smp_vcpus,
                info->system.max_vcpus);
    } else {
        /* binary= comes later: QEMU knows it only once the guest loads */
        fprintf(f, "vcpus=1\n");
    }
    fprintf(f, "options=");
    for (int i = 0; i < argc; i++) {
        fprintf(f, "%s%s", i ? "," : "", argv[i]);
    }
    fprintf(f, "\nplugin=execlog 0.1.0 (plugin API %d)\n", QEMU_PLUGIN_VERSION);
    fclose(f);
    return buf;
}
