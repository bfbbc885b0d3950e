// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * basic: single-threaded deterministic guest.
 *
 * Mixes signed and unsigned loads/stores of 1, 2, 4 and 8 bytes, calls
 * non-inlined functions and does a small table lookup, then prints one
 * checksum line.  Roughly half a million instructions after main().
 */
#include <stdint.h>
#include <stdio.h>

#define N 256
#define ROUNDS 40

static int8_t s8[N];
static uint8_t u8[N];
static int16_t s16[N];
static uint16_t u16[N];
static int32_t s32[N];
static uint32_t u32[N];
static int64_t s64[N];
static uint64_t u64[N];

/* 16-entry nibble substitution table. */
static const uint8_t sbox[16] = {
	0x6, 0xb, 0x0, 0x4, 0x7, 0xe, 0x2, 0xf,
	0x9, 0x8, 0xa, 0xc, 0xd, 0x3, 0x1, 0x5,
};

static __attribute__((noinline)) uint32_t lcg(uint32_t x)
{
	return x * 1103515245u + 12345u;
}

static __attribute__((noinline)) uint8_t subst(uint8_t b)
{
	return (uint8_t)(sbox[b & 0xf] | (sbox[b >> 4] << 4));
}

static __attribute__((noinline)) void fill(uint32_t seed)
{
	uint32_t x = seed;

	for (int i = 0; i < N; i++) {
		x = lcg(x);
		s8[i] = (int8_t)(x >> 24);
		u8[i] = subst((uint8_t)(x >> 16));
		s16[i] = (int16_t)(x >> 8);
		u16[i] = (uint16_t)x;
		s32[i] = (int32_t)(x ^ 0x80000000u);
		u32[i] = x;
		s64[i] = (int64_t)s32[i] * -7;
		u64[i] = ((uint64_t)x << 32) | lcg(x);
	}
}

static __attribute__((noinline)) uint64_t mix(int r)
{
	uint64_t acc = 0;

	for (int i = 0; i < N; i++) {
		int j = (i * 7 + r) & (N - 1);

		/* sign-extending loads */
		acc += (uint64_t)(int64_t)s8[j];
		acc += (uint64_t)(int64_t)s16[j];
		acc += (uint64_t)(int64_t)s32[j];
		/* zero-extending loads */
		acc ^= (uint64_t)u8[i] << (i & 31);
		acc += u16[i];
		acc += u32[j];
		acc = (acc << 5) | (acc >> 59);
		acc += (uint64_t)s64[i] ^ u64[j];

		/* stores of every width */
		s8[i] = (int8_t)(s8[i] + u8[j]);
		u8[j] = subst((uint8_t)(u8[j] ^ (uint8_t)acc));
		s16[j] = (int16_t)(s16[j] - (int16_t)(acc >> 16));
		u16[i] = (uint16_t)(u16[i] * 3u + 1u);
		s32[i] = s32[i] / 3 + (int32_t)(acc >> 40);
		u32[j] ^= (uint32_t)acc;
		s64[j] = s64[j] >> 1;
		u64[i] += acc;
	}
	return acc;
}

int main(void)
{
	uint64_t sum = 0;

	fill(0x12345678u);
	for (int r = 0; r < ROUNDS; r++)
		sum = sum * 31 + mix(r);
	for (int i = 0; i < N; i++)
		sum += (uint64_t)s8[i] + u8[i] + (uint64_t)s16[i] + u16[i] +
		       (uint64_t)s32[i] + u32[i] + (uint64_t)s64[i] + u64[i];
	printf("basic checksum %016llx\n", (unsigned long long)sum);
	return 0;
}
