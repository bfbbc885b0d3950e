// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * smpn.elf: every vCPU the board has (run with -smp N, N <= 16). CPU 0
 * works alone first, then starts the others one at a time with PSCI
 * CPU_ON while those started before still run (vCPUs that start late);
 * each works on its own buffer and stack. The last to finish prints how
 * many ran and a combined result that does not depend on scheduling, and
 * powers off.
 */
#include "guest.h"

#define MAX_CPUS 16
#define WORDS 64

static uint8_t stacks[MAX_CPUS][4096] __attribute__((aligned(16)));
static uint64_t bufs[MAX_CPUS][WORDS] __attribute__((aligned(16)));
static uint64_t results[MAX_CPUS];
static uint32_t total;		/* atomic: how many CPUs run, once known */
static uint32_t finished;	/* atomic */

static __attribute__((noinline)) uint64_t work(volatile uint64_t *buf,
					       uint64_t seed, unsigned int rounds)
{
	uint64_t acc = seed;

	for (unsigned int i = 0; i < WORDS; i++)
		buf[i] = seed * (i + 1) ^ (seed >> (i & 7));
	for (unsigned int r = 0; r < rounds; r++)
		for (unsigned int i = 0; i < WORDS; i++) {
			buf[i] += buf[(i + r + 1) % WORDS] >> 1;
			acc = acc * 33 + buf[i];
		}
	return acc;
}

static unsigned int my_cpu(void)
{
	uint64_t mpidr;

	__asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
	return (unsigned int)(mpidr & 0xff);
}

/*
 * The CPU that finishes last prints and powers off; the others power
 * themselves off (nobody spins waiting). CPU 0 sets total before it
 * counts itself, so the last count always sees it.
 */
static void finish(void)
{
	uint32_t n = __atomic_add_fetch(&finished, 1, __ATOMIC_ACQ_REL);
	uint64_t combined = 0;

	if (n != __atomic_load_n(&total, __ATOMIC_ACQUIRE)) {
		psci_cpu_off();
		return;
	}
	for (unsigned int cpu = 0; cpu < n; cpu++)
		combined = combined * 31 + results[cpu];
	uart_puts("smpn: cpus ");
	uart_puthex(n, 2);
	uart_puts(" result ");
	uart_puthex(combined, 16);
	uart_puts("\n");
	psci_system_off();
}

void secondary_main(void)
{
	unsigned int cpu = my_cpu();

	if (cpu >= MAX_CPUS)
		return;
	results[cpu] = work(bufs[cpu], 0x1000 + cpu, 8 + cpu);
	finish();
}

int main(void)
{
	uint64_t r0;
	unsigned int n = 1;

	uart_init();
	/* alone for a while: the shared code is translated before the others
	 * start */
	r0 = work(bufs[0], 0x1000, 16);
	for (unsigned int cpu = 1; cpu < MAX_CPUS; cpu++) {
		uint64_t ret = psci_call(PSCI_CPU_ON_64, cpu,
					 (uintptr_t)secondary_entry,
					 (uintptr_t)(stacks[cpu] + sizeof(stacks[cpu])));

		if (ret != 0)
			break;		/* no such CPU */
		n++;
		/* the next one starts while this one runs */
		r0 ^= work(bufs[0], 0x2000 + cpu, 1);
	}
	results[0] = r0;
	__atomic_store_n(&total, n, __ATOMIC_RELEASE);
	finish();
	return 0;
}
