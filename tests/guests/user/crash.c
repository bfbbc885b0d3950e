// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crash: does a little work, prints a line, then stores to address 0x10
 * from crash_here() with no SIGSEGV handler installed, so the process is
 * killed by SIGSEGV.  The faulting instruction is the store in crash_here.
 */
#include <stdint.h>
#include <stdio.h>

#define CRASH_ADDR 0x10

static uint32_t data[256];

/* GCC warns about dereferencing a small constant address; that is the point. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
__attribute__((noinline)) void crash_here(uint32_t v)
{
	*(volatile uint32_t *)CRASH_ADDR = v;
}
#pragma GCC diagnostic pop

static __attribute__((noinline)) uint32_t work(void)
{
	uint32_t acc = 1;

	for (int i = 0; i < 256; i++)
		data[i] = (uint32_t)i * 40503u;
	for (int r = 0; r < 4; r++)
		for (int i = 0; i < 256; i++) {
			data[i] += data[(i + 1) & 255] ^ (uint32_t)r;
			acc = acc * 33 + data[i];
		}
	return acc;
}

int main(void)
{
	uint32_t acc = work();

	printf("crash: about to fault, acc %08x\n", acc);
	fflush(stdout);
	crash_here(acc);
	puts("crash: still alive (unexpected)");
	return 1;
}
