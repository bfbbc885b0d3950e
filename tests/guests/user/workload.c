// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * workload: the benchmark guest.  argv[1] is the scale (default 1); each
 * unit of scale runs seven passes of a sieve, some array transforms, a small
 * open-addressing hash table and a pointer walk, about 6.5 million
 * instructions with roughly one memory access per three instructions.
 * Prints a checksum.
 *
 * argv[2], the number of threads (default 1, at most MAX_THREADS): with more
 * than one, the main thread first runs the first eighth of the passes alone
 * (so that QEMU translates the hot code before any other thread exists),
 * then starts the others, which start late, and all of them run the
 * remaining passes, pass i on thread i mod THREADS, each on data of its own.
 * Every pass's results are folded in pass order at the end, so the checksum
 * is the same for any number of threads: a run with threads did the same
 * work as one without.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define PASSES 7	/* passes per unit of scale */
#define SIEVE_N 26000
#define ARR_N 4096
#define HASH_BITS 12
#define HASH_SIZE (1u << HASH_BITS)
#define HASH_KEYS 1800
#define WALK_N 2048
#define WALK_STEPS 20480
#define MAX_THREADS 8

struct slot {
	uint32_t key;
	uint32_t val;
};

struct node {
	uint32_t next;
	uint32_t weight;
	uint64_t tally;
};

/* One thread's data */
struct ctx {
	uint8_t composite[SIEVE_N];
	uint32_t arr[ARR_N];
	uint32_t tmp[ARR_N];
	uint16_t hist[256];
	struct slot table[HASH_SIZE];
	struct node nodes[WALK_N];
};

static struct ctx ctxs[MAX_THREADS];

static __attribute__((noinline)) uint32_t sieve(struct ctx *c)
{
	uint8_t *composite = c->composite;
	uint32_t count = 0, sum = 0;

	for (uint32_t i = 0; i < SIEVE_N; i++)
		composite[i] = 0;
	for (uint32_t i = 2; i * i < SIEVE_N; i++)
		if (!composite[i])
			for (uint32_t j = i * i; j < SIEVE_N; j += i)
				composite[j] = 1;
	for (uint32_t i = 2; i < SIEVE_N; i++)
		if (!composite[i]) {
			count++;
			sum += i;
		}
	return count * 65536u + (sum & 0xffff);
}

static __attribute__((noinline)) uint32_t transforms(struct ctx *c,
						     uint32_t seed)
{
	uint32_t *arr = c->arr, *tmp = c->tmp;
	uint16_t *hist = c->hist;
	uint32_t x = seed, acc = 0;

	for (int i = 0; i < ARR_N; i++) {
		x = x * 1664525u + 1013904223u;
		arr[i] = x;
	}
	/* prefix sum */
	for (int i = 1; i < ARR_N; i++)
		arr[i] += arr[i - 1];
	/* reverse into tmp, mixing */
	for (int i = 0; i < ARR_N; i++)
		tmp[ARR_N - 1 - i] = arr[i] ^ (arr[i] >> 11);
	/* 3-point smoothing back into arr */
	for (int i = 1; i < ARR_N - 1; i++)
		arr[i] = (tmp[i - 1] >> 2) + (tmp[i] >> 1) + (tmp[i + 1] >> 2);
	/* byte histogram */
	for (int i = 0; i < 256; i++)
		hist[i] = 0;
	for (int i = 0; i < ARR_N; i++)
		hist[arr[i] & 0xff]++;
	for (int i = 0; i < 256; i++)
		acc = acc * 31 + hist[i];
	return acc;
}

static inline uint32_t slot_of(uint32_t key)
{
	return (key * 2654435769u) >> (32 - HASH_BITS);
}

static __attribute__((noinline)) void ht_put(struct slot *table, uint32_t key,
					     uint32_t val)
{
	uint32_t h = slot_of(key);

	while (table[h].key != 0 && table[h].key != key)
		h = (h + 1) & (HASH_SIZE - 1);
	table[h].key = key;
	table[h].val += val;
}

static __attribute__((noinline)) uint32_t ht_get(const struct slot *table,
						 uint32_t key)
{
	uint32_t h = slot_of(key);

	while (table[h].key != 0) {
		if (table[h].key == key)
			return table[h].val;
		h = (h + 1) & (HASH_SIZE - 1);
	}
	return 0;
}

static inline uint32_t key_of(uint32_t i, uint32_t seed)
{
	return ((i * 40503u) ^ seed) & 0x3ffffu;
}

static __attribute__((noinline)) uint32_t hashing(struct ctx *c, uint32_t seed)
{
	struct slot *table = c->table;
	uint32_t acc = 0;

	for (uint32_t i = 0; i < HASH_SIZE; i++) {
		table[i].key = 0;
		table[i].val = 0;
	}
	for (uint32_t i = 0; i < HASH_KEYS; i++)
		ht_put(table, key_of(i, seed) | 1, i);
	for (uint32_t i = 0; i < 2 * HASH_KEYS; i++)
		acc += ht_get(table, key_of(i, seed) | 1);
	return acc;
}

static __attribute__((noinline)) uint64_t walk(struct ctx *c, uint32_t seed)
{
	struct node *nodes = c->nodes;
	uint64_t acc = 0;
	uint32_t p = seed & (WALK_N - 1);

	/* next = 5 * i + odd (mod 2^k) is a full-period permutation cycle */
	for (uint32_t i = 0; i < WALK_N; i++) {
		nodes[i].next = (5 * i + (seed | 1)) & (WALK_N - 1);
		nodes[i].weight = i ^ seed;
		nodes[i].tally = 0;
	}
	for (uint32_t i = 0; i < WALK_STEPS; i++) {
		struct node *n = &nodes[p];

		acc += n->weight;
		n->tally += acc;
		p = n->next;
	}
	for (uint32_t i = 0; i < WALK_N; i++)
		acc ^= nodes[i].tally;
	return acc;
}

/* Pass @s's four results */
static void pass(struct ctx *c, long s, uint64_t out[4])
{
	uint32_t seed = (uint32_t)s * 0x9e3779b9u + 1;

	out[0] = sieve(c);
	out[1] = transforms(c, seed);
	out[2] = hashing(c, seed);
	out[3] = walk(c, seed);
}

struct share {
	long first, end;	/* passes [first, end) */
	int threads;
	uint64_t (*results)[4];
};

struct worker {
	pthread_t tid;
	int index;
	const struct share *share;
};

/* Thread @index's passes: from share->first on, every threads-th */
static void run_share(const struct share *sh, int index)
{
	for (long s = sh->first + index; s < sh->end; s += sh->threads)
		pass(&ctxs[index], s, sh->results[s]);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	run_share(w->share, w->index);
	return NULL;
}

int main(int argc, char **argv)
{
	long scale = 1, passes;
	int threads = 1;
	uint64_t sum = 0;
	struct worker workers[MAX_THREADS];
	struct share sh;

	if (argc > 1) {
		scale = strtol(argv[1], NULL, 10);
		if (scale < 1)
			scale = 1;
	}
	if (argc > 2) {
		threads = (int)strtol(argv[2], NULL, 10);
		if (threads < 1 || threads > MAX_THREADS) {
			printf("workload: threads must be 1 to %d\n",
			       MAX_THREADS);
			return 1;
		}
	}
	passes = scale * PASSES;
	sh.results = calloc((size_t)passes, sizeof(*sh.results));
	if (!sh.results) {
		puts("workload: out of memory");
		return 1;
	}
	/* alone first: all of it with one thread, else an eighth */
	sh.first = 0;
	sh.end = threads == 1 ? passes : (passes + 7) / 8;
	sh.threads = 1;
	run_share(&sh, 0);
	if (threads > 1) {
		sh.first = sh.end;
		sh.end = passes;
		sh.threads = threads;
		for (int t = 1; t < threads; t++) {
			workers[t].index = t;
			workers[t].share = &sh;
			if (pthread_create(&workers[t].tid, NULL, worker_main,
					   &workers[t])) {
				puts("workload: pthread_create failed");
				return 1;
			}
		}
		run_share(&sh, 0);
		for (int t = 1; t < threads; t++) {
			if (pthread_join(workers[t].tid, NULL)) {
				puts("workload: pthread_join failed");
				return 1;
			}
		}
	}
	for (long s = 0; s < passes; s++)
		for (int k = 0; k < 4; k++)
			sum = sum * 1000003u + sh.results[s][k];
	free(sh.results);
	if (threads > 1)
		printf("workload scale %ld threads %d checksum %016llx\n",
		       scale, threads, (unsigned long long)sum);
	else
		printf("workload scale %ld checksum %016llx\n", scale,
		       (unsigned long long)sum);
	return 0;
}
