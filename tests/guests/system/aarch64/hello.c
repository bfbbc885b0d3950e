// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hello.elf: single-vCPU bare-metal guest.  Prints a message on the PL011
 * (polling the flag register before each write), does 1/2/4/8-byte RAM
 * loads and stores over a small buffer, prints a checksum and powers off
 * with PSCI SYSTEM_OFF.
 */
#include "guest.h"

#define BUF_BYTES 128

static union {
	uint8_t b[BUF_BYTES];
	uint16_t h[BUF_BYTES / 2];
	uint32_t w[BUF_BYTES / 4];
	uint64_t d[BUF_BYTES / 8];
} buf __attribute__((aligned(16)));

static __attribute__((noinline)) uint64_t ram_work(void)
{
	volatile uint8_t *b = buf.b;
	volatile uint16_t *h = buf.h;
	volatile uint32_t *w = buf.w;
	volatile uint64_t *d = buf.d;
	uint64_t sum = 0;

	for (unsigned int i = 0; i < BUF_BYTES; i++)
		b[i] = (uint8_t)(i * 37 + 11);
	for (unsigned int i = 0; i < BUF_BYTES / 2; i++)
		h[i] = (uint16_t)(h[i] * 3 + i);
	for (unsigned int i = 0; i < BUF_BYTES / 4; i++)
		w[i] = w[i] ^ (w[(i + 1) % (BUF_BYTES / 4)] >> 3);
	for (unsigned int i = 0; i < BUF_BYTES / 8; i++)
		d[i] = d[i] + (d[BUF_BYTES / 8 - 1 - i] << 1);
	for (unsigned int i = 0; i < BUF_BYTES; i++)
		sum = sum * 31 + b[i];
	for (unsigned int i = 0; i < BUF_BYTES / 2; i++)
		sum += h[i];
	for (unsigned int i = 0; i < BUF_BYTES / 4; i++)
		sum ^= (uint64_t)w[i] << (i & 31);
	for (unsigned int i = 0; i < BUF_BYTES / 8; i++)
		sum += d[i];
	return sum;
}

int main(void)
{
	uint64_t sum;

	uart_init();
	uart_puts("hello from execlog aarch64 system guest\n");
	sum = ram_work();
	uart_puts("checksum ");
	uart_puthex(sum, 16);
	uart_puts("\npowering off\n");
	return 0;
}
