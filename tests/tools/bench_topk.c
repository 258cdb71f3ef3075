/*
 * Benchmark of the top-K tables (shm/topk.c): nanoseconds per pv_topk_add()
 * on Zipf streams of 4-byte (IPv4), 16-byte (IPv6) and 40-byte (name) keys
 * into a capacity-1024 table, and per pv_topk_merge() of two full tables.
 * Prints one figure per line as `name value unit`, for scripts/bench.sh.
 *
 * The streams are generated before the clock starts: 2 x 10^6 keys laid out
 * contiguously (as a packet's key is in a hot cache line, the loop reads them
 * sequentially) and replayed 5 times, 10^7 adds per figure. The main figures
 * use Zipf s = 1.2 over 10^6 distinct keys: 78 % of the adds hit a counter,
 * 22 % evict one (Space-Saving evicts on every miss once full, and an
 * eviction costs several hits: failed probe, index delete, heap descent).
 * The _s1.0 line is the miss-heavy case, where 57 % of the adds evict.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shm/topk.h"

#define STREAM 2000000u
#define REPEAT 5u
#define CAPACITY 1024u
#define UNIVERSE 1000000u

#include "tests/common/zipf.h"

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* The key of a rank: an address scattered over the space (so that keys do
 * not share prefixes the way ranks do), or a 40-byte host name. */
static void key_of(uint32_t klen, uint32_t rank, uint8_t *out)
{
	uint64_t h = mix(rank + 1);

	if (klen == 40) {
		char name[64];

		/* 44 characters cut to 40; the rank in the first 20 keeps
		 * them distinct. */
		snprintf(name, sizeof(name), "host-%08x.%06u.example-domain.test.net",
			 (unsigned)h, rank);
		memcpy(out, name, 40);
		return;
	}
	for (uint32_t i = 0; i < klen; i++) {
		if (i % 8 == 0)
			h = mix(h + i);
		out[i] = (uint8_t)(h >> (8 * (i % 8)));
	}
	/* The rank itself in the last 4 bytes keeps every key distinct. */
	memcpy(out + klen - 4, &rank, 4);
}

static uint8_t *make_stream(uint32_t klen, double s)
{
	uint8_t *keys = malloc((size_t)STREAM * klen);
	struct zipf z;

	if (!keys) {
		fprintf(stderr, "bench_topk: out of memory\n");
		exit(1);
	}
	zipf_init(&z, UNIVERSE, s);
	for (uint32_t i = 0; i < STREAM; i++)
		key_of(klen, zipf_draw(&z), keys + (size_t)i * klen);
	return keys;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *table_new(uint32_t key_max, uint64_t seed)
{
	void *t = aligned_alloc(64, pv_topk_size(CAPACITY, key_max));

	if (!t) {
		fprintf(stderr, "bench_topk: out of memory\n");
		exit(1);
	}
	pv_topk_init(t, CAPACITY, key_max, seed);
	return t;
}

/* ns per add over STREAM x REPEAT adds; leaves the table filled in *out. */
static double bench_add(uint32_t klen, double s, void **out)
{
	uint8_t *keys = make_stream(klen, s);
	void *t = table_new(klen, 0x1234567);
	double t0, t1;

	t0 = now_ns();
	for (uint32_t r = 0; r < REPEAT; r++)
		for (uint32_t i = 0; i < STREAM; i++)
			pv_topk_add(t, keys + (size_t)i * klen, klen, 1);
	t1 = now_ns();
	if (pv_topk_total(t) != (uint64_t)STREAM * REPEAT) {
		fprintf(stderr, "bench_topk: lost adds\n");
		exit(1);
	}
	free(keys);
	if (out)
		*out = t;
	else
		free(t);
	return (t1 - t0) / ((double)STREAM * REPEAT);
}

/* ns per merge of two full tables (a shard into the running sum). */
static double bench_merge(uint32_t klen)
{
	enum { ROUNDS = 200 };
	void *a, *b;
	double t0, t1;

	rng_state = 777;
	bench_add(klen, 1.1, &a);
	rng_state = 999;
	bench_add(klen, 1.1, &b);
	t0 = now_ns();
	for (int i = 0; i < ROUNDS; i++)
		if (pv_topk_merge(a, b) != 0) {
			fprintf(stderr, "bench_topk: merge failed\n");
			exit(1);
		}
	t1 = now_ns();
	free(a);
	free(b);
	return (t1 - t0) / ROUNDS;
}

int main(void)
{
	rng_state = 12345;
	printf("topk_add_ipv4_ns %.1f ns\n", bench_add(4, 1.2, NULL));
	printf("topk_add_ipv6_ns %.1f ns\n", bench_add(16, 1.2, NULL));
	printf("topk_add_name40_ns %.1f ns\n", bench_add(40, 1.2, NULL));
	printf("topk_add_ipv4_s1.0_ns %.1f ns\n", bench_add(4, 1.0, NULL));
	printf("topk_merge_full_ipv6_ns %.0f ns\n", bench_merge(16));
	printf("topk_merge_full_name40_ns %.0f ns\n", bench_merge(40));
	return 0;
}
