/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-replay: run the fuzz target over files, without libFuzzer.
 * Usage: fuzz-replay FILE|DIR...   (a directory: every file in it)
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (!f) {
        fprintf(stderr, "fuzz-replay: cannot open %s\n", path);
        return 1;
    }
    do {
        if (cap - len < 65536) {
            uint8_t *b = realloc(buf, cap = cap * 2 + 65536);

            if (!b) {
                fclose(f);
                free(buf);
                return 1;
            }
            buf = b;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    int files = 0, bad = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;

        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *de;

            while (d && (de = readdir(d)) != NULL) {
                char p[4096];

                if (de->d_name[0] == '.') {
                    continue;
                }
                snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
                bad += run_file(p);
                files++;
            }
            if (d) {
                closedir(d);
            }
        } else {
            bad += run_file(argv[i]);
            files++;
        }
    }
    printf("fuzz-replay: %d inputs run\n", files);
    return bad ? 1 : 0;
}
