// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * values: stores known constants of 1, 2, 4 and 8 bytes into vals[], each
 * with one store, loads them back and prints their sum. The tests read
 * the constants from this file (the VAL_* lines) and the address of
 * vals[] from the binary's symbol table; offsets into vals[] are
 * VAL_*_OFF.
 */
#include <stdint.h>
#include <stdio.h>

#define VAL_8 0xa5
#define VAL_8_OFF 0
#define VAL_16 0x8001
#define VAL_16_OFF 2
#define VAL_32 0xfffffff0
#define VAL_32_OFF 4
#define VAL_64 0x0123456789abcdef
#define VAL_64_OFF 8
#define VAL_64N 0xfffffffffffffffe
#define VAL_64N_OFF 16

uint8_t vals[32] __attribute__((aligned(16)));

/* global, so that the compiler keeps them whole and under these names */
void store_all(volatile uint8_t *v);
uint64_t load_all(volatile uint8_t *v);

__attribute__((noinline)) void store_all(volatile uint8_t *v)
{
	*(volatile uint8_t *)(v + VAL_8_OFF) = VAL_8;
	*(volatile uint16_t *)(v + VAL_16_OFF) = VAL_16;
	*(volatile uint32_t *)(v + VAL_32_OFF) = VAL_32;
	*(volatile uint64_t *)(v + VAL_64_OFF) = VAL_64;
	*(volatile uint64_t *)(v + VAL_64N_OFF) = VAL_64N;
}

__attribute__((noinline)) uint64_t load_all(volatile uint8_t *v)
{
	return *(volatile uint8_t *)(v + VAL_8_OFF) +
	       *(volatile uint16_t *)(v + VAL_16_OFF) +
	       *(volatile uint32_t *)(v + VAL_32_OFF) +
	       *(volatile uint64_t *)(v + VAL_64_OFF) +
	       *(volatile uint64_t *)(v + VAL_64N_OFF);
}

int main(void)
{
	store_all(vals);
	printf("values %016llx\n", (unsigned long long)load_all(vals));
	return 0;
}
