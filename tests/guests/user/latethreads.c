// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * latethreads: threads that start late, while others run, and many
 * short-lived ones. The main thread first runs alone for a while (so that
 * QEMU has translated the hot code for one vCPU), then starts a worker,
 * starts a second one while the first runs, and finally starts and joins
 * many short-lived threads, two at a time. All threads run the same hot
 * function, so code translated early is what the late threads run too.
 *
 * With the argument "shared" it first maps shared memory (MAP_SHARED), as
 * programs that use shared memory or semaphores do: QEMU then translates
 * for parallel execution from that point on, long before the first thread.
 * With "many" it ends with a crowd of CROWD threads alive at once (QEMU
 * numbers their vCPUs up to CROWD, past the 16 its per-vCPU plugin
 * scoreboards start with, so that they grow while threads run).
 *
 * The output does not depend on scheduling.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define BUFLEN 256
#define SHORT_LIVED 24
#define CROWD 24

struct worker {
	pthread_t tid;
	unsigned int id;
	unsigned int rounds;
	uint32_t buf[BUFLEN];
	uint64_t result;
};

static struct worker long_lived[2];
static struct worker short_lived[SHORT_LIVED];
static struct worker crowd[CROWD];
static pthread_barrier_t crowd_ready;
static uint64_t shared_total;	/* atomic adds */

static __attribute__((noinline)) uint32_t step(uint32_t x, unsigned int id)
{
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x + id;
}

static __attribute__((noinline)) uint64_t churn(struct worker *w)
{
	uint32_t x = 0x9e3779b9u * (w->id + 1);
	uint64_t acc = 0;

	for (int i = 0; i < BUFLEN; i++) {
		x = step(x, w->id);
		w->buf[i] = x;
	}
	for (unsigned int r = 0; r < w->rounds; r++) {
		uint32_t part = 0;

		for (int i = 0; i < BUFLEN; i++) {
			uint32_t v = w->buf[i];

			part += v >> (r & 7);
			w->buf[i] = v ^ (v >> 3) ^ r;
		}
		acc = acc * 1000003u + part;
		__atomic_fetch_add(&shared_total, part, __ATOMIC_RELAXED);
	}
	return acc;
}

static void *work(void *arg)
{
	struct worker *w = arg;

	w->result = churn(w);
	return NULL;
}

/* a crowd member: all of them alive before any goes on */
static void *crowd_work(void *arg)
{
	struct worker *w = arg;

	w->result = churn(w);
	pthread_barrier_wait(&crowd_ready);
	w->result += churn(w);
	return NULL;
}

static int start(struct worker *w, unsigned int id, unsigned int rounds)
{
	w->id = id;
	w->rounds = rounds;
	if (pthread_create(&w->tid, NULL, work, w)) {
		puts("latethreads: pthread_create failed");
		return -1;
	}
	return 0;
}

static int join(struct worker *w, uint64_t *combined)
{
	if (pthread_join(w->tid, NULL)) {
		puts("latethreads: pthread_join failed");
		return -1;
	}
	*combined = *combined * 31 + w->result;
	return 0;
}

int main(int argc, char **argv)
{
	struct worker alone = { .id = 99, .rounds = 60 };
	uint64_t combined = 0;

	if (argc > 1 && strcmp(argv[1], "shared") == 0) {
		uint32_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED) {
			puts("latethreads: mmap failed");
			return 1;
		}
		m[0] = 1;
	}
	/* alone for a while: the hot code is translated for one vCPU */
	combined = churn(&alone);

	/* a late thread, and another one started while it runs */
	if (start(&long_lived[0], 0, 40)) {
		return 1;
	}
	alone.rounds = 8;
	combined = combined * 31 + churn(&alone);
	if (start(&long_lived[1], 1, 20) || join(&long_lived[1], &combined) ||
	    join(&long_lived[0], &combined)) {
		return 1;
	}

	/* many short-lived threads, two at a time */
	for (unsigned int i = 0; i < SHORT_LIVED; i += 2) {
		if (start(&short_lived[i], 10 + i, 4) ||
		    start(&short_lived[i + 1], 11 + i, 6) ||
		    join(&short_lived[i], &combined) ||
		    join(&short_lived[i + 1], &combined)) {
			return 1;
		}
	}
	if (argc > 1 && strcmp(argv[1], "many") == 0) {
		if (pthread_barrier_init(&crowd_ready, NULL, CROWD)) {
			puts("latethreads: pthread_barrier_init failed");
			return 1;
		}
		for (unsigned int i = 0; i < CROWD; i++) {
			crowd[i].id = 100 + i;
			crowd[i].rounds = 3;
			if (pthread_create(&crowd[i].tid, NULL, crowd_work,
					   &crowd[i])) {
				puts("latethreads: pthread_create failed");
				return 1;
			}
		}
		for (unsigned int i = 0; i < CROWD; i++) {
			if (join(&crowd[i], &combined)) {
				return 1;
			}
		}
	}
	printf("latethreads result %016llx total %016llx\n",
	       (unsigned long long)combined,
	       (unsigned long long)__atomic_load_n(&shared_total,
						    __ATOMIC_SEQ_CST));
	return 0;
}
