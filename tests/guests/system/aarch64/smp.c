// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * smp.elf: two-vCPU bare-metal guest (run with -smp 2).  CPU 0 starts CPU 1
 * with PSCI CPU_ON; each CPU works on its own buffer and stack; CPU 1
 * prints a line and publishes its result with a store-release; CPU 0 waits
 * with load-acquire, prints both results and powers off.
 */
#include "guest.h"

#define WORDS 64

static uint8_t stack1[8192] __attribute__((aligned(16)));
static uint64_t buf0[WORDS] __attribute__((aligned(16)));
static uint64_t buf1[WORDS] __attribute__((aligned(16)));
static uint64_t cpu1_result;
static uint32_t cpu1_done;

static __attribute__((noinline)) uint64_t work(volatile uint64_t *buf,
					       uint64_t seed)
{
	uint64_t acc = seed;

	for (unsigned int i = 0; i < WORDS; i++)
		buf[i] = seed * (i + 1) ^ (seed >> (i & 7));
	for (unsigned int r = 0; r < 8; r++)
		for (unsigned int i = 0; i < WORDS; i++) {
			buf[i] += buf[(i + r + 1) % WORDS] >> 1;
			acc = acc * 33 + buf[i];
		}
	return acc;
}

void secondary_main(void)
{
	uint64_t r = work(buf1, 0x1111);

	uart_puts("cpu1: running\n");
	cpu1_result = r;
	__atomic_store_n(&cpu1_done, 1, __ATOMIC_RELEASE);
}

int main(void)
{
	uint64_t r0, ret;

	uart_init();
	uart_puts("cpu0: starting cpu1\n");
	ret = psci_call(PSCI_CPU_ON_64, 1, (uintptr_t)secondary_entry,
			(uintptr_t)(stack1 + sizeof(stack1)));
	if (ret != 0) {
		uart_puts("cpu0: CPU_ON failed ");
		uart_puthex(ret, 16);
		uart_puts("\n");
		return 1;
	}
	r0 = work(buf0, 0x2222);
	while (!__atomic_load_n(&cpu1_done, __ATOMIC_ACQUIRE))
		__asm__ volatile("yield");
	uart_puts("cpu0: cpu1 done, results ");
	uart_puthex(r0, 16);
	uart_puts(" ");
	uart_puthex(cpu1_result, 16);
	uart_puts("\ncpu0: powering off\n");
	return 0;
}
