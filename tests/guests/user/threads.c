// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * threads: four pthreads do independent work on private buffers and bump
 * shared atomic counters; the main thread joins them and prints a result
 * that does not depend on scheduling.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define NTHREADS 4
#define BUFLEN 512
#define ROUNDS 64

struct worker {
	pthread_t tid;
	unsigned int id;
	uint32_t buf[BUFLEN];
	uint64_t result;
};

static struct worker workers[NTHREADS];
static uint64_t shared_total;	/* updated with atomic adds */
static uint32_t shared_events;	/* updated with atomic increments */

static __attribute__((noinline)) uint32_t step(uint32_t x, unsigned int id)
{
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x + id;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	uint32_t x = 0x9e3779b9u * (w->id + 1);
	uint64_t acc = 0;

	for (int i = 0; i < BUFLEN; i++) {
		x = step(x, w->id);
		w->buf[i] = x;
	}
	for (int r = 0; r < ROUNDS; r++) {
		uint32_t part = 0;

		for (int i = 0; i < BUFLEN; i++) {
			uint32_t v = w->buf[i];

			part += v >> (r & 7);
			w->buf[i] = v ^ (v >> 3) ^ (uint32_t)r;
		}
		acc = acc * 1000003u + part;
		__atomic_fetch_add(&shared_total, part, __ATOMIC_RELAXED);
		__atomic_add_fetch(&shared_events, 1, __ATOMIC_SEQ_CST);
	}
	w->result = acc;
	return NULL;
}

int main(void)
{
	uint64_t combined = 0;

	for (unsigned int i = 0; i < NTHREADS; i++) {
		workers[i].id = i;
		if (pthread_create(&workers[i].tid, NULL, work, &workers[i])) {
			puts("threads: pthread_create failed");
			return 1;
		}
	}
	for (unsigned int i = 0; i < NTHREADS; i++) {
		if (pthread_join(workers[i].tid, NULL)) {
			puts("threads: pthread_join failed");
			return 1;
		}
		combined = combined * 31 + workers[i].result;
	}
	printf("threads result %016llx total %016llx events %u\n",
	       (unsigned long long)combined,
	       (unsigned long long)__atomic_load_n(&shared_total, __ATOMIC_SEQ_CST),
	       __atomic_load_n(&shared_events, __ATOMIC_SEQ_CST));
	return 0;
}
