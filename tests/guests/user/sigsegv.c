// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sigsegv: faults on purpose several times (stores to an unmapped low
 * address, loads from NULL) and recovers each time from a SIGSEGV handler
 * with siglongjmp, then does some ordinary work and prints one line.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define UNMAPPED_ADDR 0x2000u	/* below mmap_min_addr: never mapped */

static sigjmp_buf recover;
static volatile sig_atomic_t faults;

static void on_segv(int sig)
{
	(void)sig;
	faults++;
	siglongjmp(recover, 1);
}

/* The pointers come in through an opaque path so the compiler emits a
 * real memory access instead of a trap instruction. */
static __attribute__((noinline)) void store_to(volatile uint32_t *p, uint32_t v)
{
	*p = v;
}

static __attribute__((noinline)) uint64_t load_from(volatile uint64_t *p)
{
	return *p;
}

static __attribute__((noinline)) void *opaque(uintptr_t a)
{
	void *p = (void *)a;

	__asm__ volatile("" : "+r"(p));
	return p;
}

/* Ordinary work after the faults. */
static __attribute__((noinline)) uint64_t more_work(uint64_t seed)
{
	uint32_t buf[128];
	uint64_t sum = seed;

	for (unsigned int i = 0; i < 128; i++)
		buf[i] = i * 2654435761u;
	for (unsigned int r = 0; r < 16; r++)
		for (unsigned int i = 0; i < 128; i++) {
			buf[i] ^= buf[(i + r) & 127] >> 7;
			sum += buf[i];
		}
	return sum;
}

int main(void)
{
	struct sigaction sa;
	/* volatile: these live across siglongjmp */
	volatile unsigned int attempts = 0, recovered = 0;
	volatile uint64_t acc = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_segv;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL)) {
		puts("sigsegv: sigaction failed");
		return 1;
	}

	for (unsigned int i = 0; i < 6; i++) {
		attempts++;
		if (sigsetjmp(recover, 1) == 0) {
			if (i & 1)
				acc = acc + load_from(opaque(0));
			else
				store_to(opaque(UNMAPPED_ADDR + 8 * i), i);
			puts("sigsegv: access unexpectedly succeeded");
			return 1;
		}
		recovered++;
	}

	printf("sigsegv attempts %u recovered %u faults %d acc %016llx\n",
	       attempts, recovered, (int)faults, (unsigned long long)more_work(acc));
	return (recovered == 6 && faults == 6) ? 0 : 1;
}
