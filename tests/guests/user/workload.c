// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * workload: the benchmark guest.  argv[1] is the scale (default 1); each
 * unit of scale runs one pass of a sieve, some array transforms and a small
 * open-addressing hash table, about 6.5 million instructions with roughly
 * one memory access per three instructions.  Prints a checksum.
 */
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

static uint8_t composite[SIEVE_N];
static uint32_t arr[ARR_N];
static uint32_t tmp[ARR_N];
static uint16_t hist[256];

struct slot {
	uint32_t key;
	uint32_t val;
};
static struct slot table[HASH_SIZE];

struct node {
	uint32_t next;
	uint32_t weight;
	uint64_t tally;
};
static struct node nodes[WALK_N];

static __attribute__((noinline)) uint32_t sieve(void)
{
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

static __attribute__((noinline)) uint32_t transforms(uint32_t seed)
{
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

static __attribute__((noinline)) void ht_put(uint32_t key, uint32_t val)
{
	uint32_t h = slot_of(key);

	while (table[h].key != 0 && table[h].key != key)
		h = (h + 1) & (HASH_SIZE - 1);
	table[h].key = key;
	table[h].val += val;
}

static __attribute__((noinline)) uint32_t ht_get(uint32_t key)
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

static __attribute__((noinline)) uint32_t hashing(uint32_t seed)
{
	uint32_t acc = 0;

	for (uint32_t i = 0; i < HASH_SIZE; i++) {
		table[i].key = 0;
		table[i].val = 0;
	}
	for (uint32_t i = 0; i < HASH_KEYS; i++)
		ht_put(key_of(i, seed) | 1, i);
	for (uint32_t i = 0; i < 2 * HASH_KEYS; i++)
		acc += ht_get(key_of(i, seed) | 1);
	return acc;
}

static __attribute__((noinline)) uint64_t walk(uint32_t seed)
{
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

int main(int argc, char **argv)
{
	long scale = 1;
	uint64_t sum = 0;

	if (argc > 1) {
		scale = strtol(argv[1], NULL, 10);
		if (scale < 1)
			scale = 1;
	}
	for (long s = 0; s < scale * PASSES; s++) {
		uint32_t seed = (uint32_t)s * 0x9e3779b9u + 1;

		sum = sum * 1000003u + sieve();
		sum = sum * 1000003u + transforms(seed);
		sum = sum * 1000003u + hashing(seed);
		sum = sum * 1000003u + walk(seed);
	}
	printf("workload scale %ld checksum %016llx\n", scale,
	       (unsigned long long)sum);
	return 0;
}
