/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest's file mappings from /proc/self/maps (see modules.h).
 *
 * A file the guest maps (by QEMU's ELF loader, or by the guest's own
 * dynamic loader through mmap) is a host mapping of that file at the
 * guest address plus guest_base: /proc/self/maps names it. The mappings
 * of one file that an ELF loader makes (its segments, and the PROT_NONE
 * gaps between them, which keep the file's name or are anonymous) are
 * consecutive lines of the same device and inode, with at most anonymous
 * lines between them: those around the one that holds the code make one
 * module, from the first's start to the last's end, with the first's file
 * offset (a bss after the last is not the file's). Other mappings of the same file elsewhere (QEMU's
 * own libc when the guest uses the host's) are not part of it.
 *
 * Runs at translation time under the static lock: allocation and file
 * reading are fine here, and nothing of this runs per instruction.
 */
#define _GNU_SOURCE
#include "modules.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "binwriter.h"

/* Guest ranges looked up already: modules, and code that is no file's. */
typedef struct Range {
    uint64_t start, end;
} Range;

static Range *ranges;
static size_t n_ranges, cap_ranges;
static size_t last_hit;
static bool failed;             /* /proc/self/maps cannot be read */

typedef struct MapLine {
    uint64_t start, end, offset, inode;
    unsigned dev_major, dev_minor;
    bool exec;
    const char *path;           /* NUL-terminated, in the buffer; "" none */
    size_t path_len;
} MapLine;

static bool known(uint64_t pc)
{
    if (last_hit < n_ranges && pc >= ranges[last_hit].start &&
        pc < ranges[last_hit].end) {
        return true;
    }
    for (size_t i = 0; i < n_ranges; i++) {
        if (pc >= ranges[i].start && pc < ranges[i].end) {
            last_hit = i;
            return true;
        }
    }
    return false;
}

static void remember(uint64_t start, uint64_t end)
{
    if (n_ranges == cap_ranges) {
        size_t cap = cap_ranges ? cap_ranges * 2 : 32;
        Range *r = realloc(ranges, cap * sizeof(*r));

        if (!r) {
            return;
        }
        ranges = r;
        cap_ranges = cap;
    }
    ranges[n_ranges].start = start;
    ranges[n_ranges].end = end;
    last_hit = n_ranges++;
}

/* The whole of /proc/self/maps, NUL-terminated (malloc'd), or NULL. */
static char *read_maps(void)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    size_t len = 0, cap = 1 << 16;
    char *buf = NULL;

    if (fd < 0) {
        return NULL;
    }
    for (;;) {
        ssize_t n;

        if (!buf || cap - len < 4096) {
            char *b = realloc(buf, cap *= 2);

            if (!b) {
                free(buf);
                close(fd);
                return NULL;
            }
            buf = b;
        }
        n = read(fd, buf + len, cap - len - 1);
        if (n < 0) {
            free(buf);
            close(fd);
            return NULL;
        }
        if (n == 0) {
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return buf;
}

/* Parse the line at @s (which the parse cuts at its end); false if odd. */
static bool parse_line(char *s, MapLine *m)
{
    char perms[8];
    unsigned long long start, end, offset, inode;
    int pos = 0;
    char *path;
    size_t len;

    if (sscanf(s, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms,
               &offset, &m->dev_major, &m->dev_minor, &inode, &pos) < 7) {
        return false;
    }
    m->start = start;
    m->end = end;
    m->offset = offset;
    m->inode = inode;
    m->exec = strchr(perms, 'x') != NULL;
    path = s + pos;
    len = strlen(path);
    while (len > 0 && (path[len - 1] == ' ' || path[len - 1] == '\n')) {
        path[--len] = '\0';
    }
    m->path = path;
    m->path_len = len;
    return true;
}

static bool same_file(const MapLine *a, const MapLine *b)
{
    return a->inode != 0 && a->inode == b->inode &&
           a->dev_major == b->dev_major && a->dev_minor == b->dev_minor &&
           a->path_len == b->path_len && strcmp(a->path, b->path) == 0;
}

/* No file's: what an ELF loader leaves between a file's segments. */
static bool anonymous(const MapLine *m)
{
    return m->inode == 0 && m->path_len == 0;
}

void el_modules_note(uint64_t pc, const void *haddr)
{
    uintptr_t host = (uintptr_t)haddr;
    uint64_t base;
    char *maps, *s;
    MapLine *lines = NULL;
    size_t n = 0, cap = 0, hit = SIZE_MAX, lo, hi;

    if (!haddr || failed || known(pc)) {
        return;
    }
    base = (uint64_t)host - pc;      /* guest_base (modulo 2^64) */
    maps = read_maps();
    if (!maps) {
        failed = true;
        fprintf(stderr, "execlog: cannot read /proc/self/maps: the trace "
                "has no file mappings (modules)\n");
        return;
    }
    for (s = maps; *s;) {
        char *nl = strchr(s, '\n');
        MapLine m;

        if (nl) {
            *nl = '\0';
        }
        if (parse_line(s, &m)) {
            if (n == cap) {
                MapLine *l = realloc(lines, (cap = cap ? cap * 2 : 256) *
                                            sizeof(*l));

                if (!l) {
                    goto out;
                }
                lines = l;
            }
            if (hit == SIZE_MAX && host >= m.start && host < m.end) {
                hit = n;
            }
            lines[n++] = m;
        }
        if (!nl) {
            break;
        }
        s = nl + 1;
    }
    if (hit == SIZE_MAX) {
        /* not mapped as far as the kernel says: a page's worth is none */
        remember(pc & ~(uint64_t)4095, (pc & ~(uint64_t)4095) + 4096);
        goto out;
    }
    if (lines[hit].inode == 0 || lines[hit].path_len == 0 ||
        lines[hit].path[0] != '/') {
        /* anonymous code (generated by the guest), [vdso], ...: no file */
        remember(lines[hit].start - base, lines[hit].end - base);
        goto out;
    }
    lo = hi = hit;
    for (size_t j = lo; j-- > 0;) {
        if (same_file(&lines[j], &lines[hit])) {
            lo = j;
        } else if (!anonymous(&lines[j])) {
            break;
        }
    }
    for (size_t j = hi + 1; j < n; j++) {
        if (same_file(&lines[j], &lines[hit])) {
            hi = j;
        } else if (!anonymous(&lines[j])) {
            break;
        }
    }
    /* (executable: its code runs, whatever the host mapping's x says) */
    el_bin_def_module(lines[lo].start - base, lines[hi].end - base,
                      lines[lo].offset, EL_MOD_EXEC, lines[hit].path,
                      lines[hit].path_len);
    remember(lines[lo].start - base, lines[hi].end - base);
out:
    free(lines);
    free(maps);
}
