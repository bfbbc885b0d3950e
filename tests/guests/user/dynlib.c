// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dynlib: a dynamically linked (PIE) guest. It calls into its shared
 * libc, prints where that code is (the address of puts and of main, as
 * the guest sees them) and then its own /proc/self/maps (as QEMU's
 * linux-user shows it to the guest), for tests that compare the file
 * mappings a trace records with what the guest saw.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int main(void)
{
	int v[64];
	char line[512];
	FILE *f;
	unsigned sum = 0;

	for (int i = 0; i < 64; i++) {
		v[i] = (i * 37) % 64;
	}
	qsort(v, 64, sizeof(v[0]), cmp);
	for (int i = 0; i < 64; i++) {
		sum += (unsigned)v[i] * (unsigned)i;
	}
	printf("puts=%p main=%p strlen=%p sum=%u\n", (void *)puts,
	       (void *)main, (void *)strlen, sum);
	f = fopen("/proc/self/maps", "r");
	if (!f) {
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		fputs(line, stdout);
	}
	fclose(f);
	puts("dynlib done");
	return 0;
}
