// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * input: reads its standard input (at most 256 bytes, with read(2), so
 * that no guest instruction touches the bytes before walk() does) and
 * walks it once, byte by byte: walk_byte loads the byte and at once uses
 * it as an index into a table (the next load's address depends on it).
 * Two runs whose inputs differ in byte K are the same up to the K-th
 * execution of walk_byte's first instruction. Prints one checksum line.
 */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

static uint32_t table[256];

/*
 * The byte's load, then the table load it decides: kept apart from the
 * loop in a function of its own so that the two are adjacent whatever
 * the compiler does with the loop (check with objdump -d).
 */
__attribute__((noinline)) uint32_t walk_byte(const uint8_t *p)
{
	return table[*p];
}

__attribute__((noinline)) uint32_t walk(const uint8_t *buf, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		h = (h ^ walk_byte(buf + i)) * 16777619u;
	}
	return h;
}

int main(void)
{
	static uint8_t buf[256];
	size_t n = 0;
	ssize_t r;

	for (unsigned i = 0; i < 256; i++) {
		table[i] = i * 2654435761u;
	}
	while (n < sizeof(buf) && (r = read(0, buf + n, sizeof(buf) - n)) > 0) {
		n += (size_t)r;
	}
	printf("input %zu bytes checksum %08x\n", n, walk(buf, n));
	return 0;
}
