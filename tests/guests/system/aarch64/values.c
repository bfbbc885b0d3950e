// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * values.elf: stores known constants of every access size (1, 2, 4, 8 and
 * 16 bytes) into vals[] with one instruction each, loads them back (and
 * one byte sign-extended), prints them and powers off. The tests read the
 * constants from this file (the VAL_* lines) and the address of vals[]
 * from the ELF's symbol table; offsets into vals[] are VAL_*_OFF.
 */
#include "guest.h"

#define VAL_8 0xa5
#define VAL_8_OFF 0
#define VAL_16 0x8001
#define VAL_16_OFF 2
#define VAL_32 0xfffffff0
#define VAL_32_OFF 4
#define VAL_64 0x0123456789abcdef
#define VAL_64_OFF 8
#define VAL_128_LO 0xfedcba9876543210
#define VAL_128_HI 0x0011223344556677
#define VAL_128_OFF 16
#define VAL_64N 0xfffffffffffffffe
#define VAL_64N_OFF 32
#define VAL_S8 0x80
#define VAL_S8_OFF 40

uint8_t vals[64] __attribute__((aligned(16)));

static __attribute__((noinline)) void store_all(void)
{
	uint8_t *v = vals;

	__asm__ volatile("strb %w0, [%1]" : : "r"(VAL_8), "r"(v + VAL_8_OFF)
			 : "memory");
	__asm__ volatile("strh %w0, [%1]" : : "r"(VAL_16), "r"(v + VAL_16_OFF)
			 : "memory");
	__asm__ volatile("str %w0, [%1]" : : "r"(VAL_32), "r"(v + VAL_32_OFF)
			 : "memory");
	__asm__ volatile("str %x0, [%1]" : : "r"(VAL_64), "r"(v + VAL_64_OFF)
			 : "memory");
	__asm__ volatile("stp %x0, %x1, [%2]" : : "r"(VAL_128_LO),
			 "r"(VAL_128_HI), "r"(v + VAL_128_OFF) : "memory");
	__asm__ volatile("str %x0, [%1]" : : "r"(VAL_64N), "r"(v + VAL_64N_OFF)
			 : "memory");
	__asm__ volatile("strb %w0, [%1]" : : "r"(VAL_S8), "r"(v + VAL_S8_OFF)
			 : "memory");
}

static __attribute__((noinline)) uint64_t load_all(void)
{
	uint8_t *v = vals;
	uint64_t a, b, c, d, e, f, g, h;

	__asm__ volatile("ldrb %w0, [%1]" : "=r"(a) : "r"(v + VAL_8_OFF)
			 : "memory");
	__asm__ volatile("ldrh %w0, [%1]" : "=r"(b) : "r"(v + VAL_16_OFF)
			 : "memory");
	__asm__ volatile("ldr %w0, [%1]" : "=r"(c) : "r"(v + VAL_32_OFF)
			 : "memory");
	__asm__ volatile("ldr %x0, [%1]" : "=r"(d) : "r"(v + VAL_64_OFF)
			 : "memory");
	__asm__ volatile("ldp %x0, %x1, [%2]" : "=r"(e), "=r"(f)
			 : "r"(v + VAL_128_OFF) : "memory");
	__asm__ volatile("ldr %x0, [%1]" : "=r"(g) : "r"(v + VAL_64N_OFF)
			 : "memory");
	__asm__ volatile("ldrsb %x0, [%1]" : "=r"(h) : "r"(v + VAL_S8_OFF)
			 : "memory");
	return a + b + c + d + e + f + g + h;
}

int main(void)
{
	uint64_t sum;

	uart_init();
	store_all();
	sum = load_all();
	uart_puts("values ");
	uart_puthex(sum, 16);
	uart_puts("\n");
	return 0;
}
