/*
 * Micro-benchmark of the per-packet sketch paths and the aggregator's merge
 * costs: ns per pv_hll_add_hash (alone and with pv_hash64 of a 4-byte and a
 * 16-byte key, i.e. an IPv4 / IPv6 address), ns per pv_qs_add_u32 over
 * payload sizes 0..1500 and over microsecond latencies, ns per pv_qs_add of
 * doubles, ns per merge, estimate, quantile and check, and the bytes of each
 * sketch at its default size. Inputs are generated into arrays before any
 * timing; each figure is the best of several runs (the least disturbed by
 * other load). One line per figure, `name value unit`, for scripts/bench.sh.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/hash.h"
#include "shm/hll.h"
#include "shm/quantile.h"

#define N_INPUTS (1u << 20) /* 4-16 MiB per input array: past L2, like traffic */
#define RUNS 7

static volatile uint64_t sink;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rng_unit(uint64_t *s)
{
	return ((double)(rng_next(s) >> 11) + 1.0) / 9007199254740992.0;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p) {
		fprintf(stderr, "bench_sketch: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return p;
}

static void report(const char *name, double value, const char *unit)
{
	printf("%s %.2f %s\n", name, value, unit);
}

struct inputs {
	uint64_t *hashes;
	uint32_t *keys4;
	uint8_t (*keys16)[16];
	uint32_t *sizes;     /* payload sizes 0..1500, mostly small or full */
	uint32_t *latencies; /* microseconds, lognormal */
	double *ratios;      /* doubles, lognormal */
};

static void *hll;
static void *qs_size, *qs_lat, *qs_ratio;

/* Each benchmark runs one pass over its input array; ns per element. */
typedef void (*bench_fn)(const struct inputs *in);

static void b_hll_add(const struct inputs *in)
{
	for (uint32_t i = 0; i < N_INPUTS; i++)
		pv_hll_add_hash(hll, in->hashes[i]);
}

static void b_hash4(const struct inputs *in)
{
	uint64_t x = 0;

	for (uint32_t i = 0; i < N_INPUTS; i++)
		x ^= pv_hash64(&in->keys4[i], 4, PV_HLL_SEED);
	sink = x;
}

static void b_hash16(const struct inputs *in)
{
	uint64_t x = 0;

	for (uint32_t i = 0; i < N_INPUTS; i++)
		x ^= pv_hash64(in->keys16[i], 16, PV_HLL_SEED);
	sink = x;
}

static void b_hll_hash4_add(const struct inputs *in)
{
	for (uint32_t i = 0; i < N_INPUTS; i++)
		pv_hll_add_hash(hll, pv_hash64(&in->keys4[i], 4, PV_HLL_SEED));
}

static void b_hll_hash16_add(const struct inputs *in)
{
	for (uint32_t i = 0; i < N_INPUTS; i++)
		pv_hll_add_hash(hll, pv_hash64(in->keys16[i], 16, PV_HLL_SEED));
}

static void b_qs_u32_sizes(const struct inputs *in)
{
	for (uint32_t i = 0; i < N_INPUTS; i++)
		pv_qs_add_u32(qs_size, in->sizes[i]);
}

static void b_qs_u32_latency(const struct inputs *in)
{
	for (uint32_t i = 0; i < N_INPUTS; i++)
		pv_qs_add_u32(qs_lat, in->latencies[i]);
}

static void b_qs_add_double(const struct inputs *in)
{
	for (uint32_t i = 0; i < N_INPUTS; i++)
		pv_qs_add(qs_ratio, in->ratios[i]);
}

static double time_pass(bench_fn fn, const struct inputs *in)
{
	double best = INFINITY;

	fn(in); /* warm caches and branch predictors */
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_ns();

		fn(in);
		t0 = now_ns() - t0;
		best = t0 < best ? t0 : best;
	}
	return best / N_INPUTS;
}

/* Best-of-RUNS ns per call of op(a, b), repeated `reps` times a run. */
#define TIME_OP(result, reps, stmt)                                                \
	do {                                                                       \
		double best_ = INFINITY;                                           \
		for (int r_ = 0; r_ < RUNS; r_++) {                                \
			double t0_ = now_ns();                                     \
			for (int i_ = 0; i_ < (reps); i_++) {                      \
				stmt;                                              \
			}                                                          \
			t0_ = now_ns() - t0_;                                      \
			best_ = t0_ < best_ ? t0_ : best_;                         \
		}                                                                  \
		(result) = best_ / (reps);                                         \
	} while (0)

int main(void)
{
	struct inputs in;
	uint64_t rng = 12345;
	void *hll2, *qs2;
	double ns;
	uint64_t acc = 0;

	in.hashes = xmalloc(N_INPUTS * sizeof(*in.hashes));
	in.keys4 = xmalloc(N_INPUTS * sizeof(*in.keys4));
	in.keys16 = xmalloc(N_INPUTS * sizeof(*in.keys16));
	in.sizes = xmalloc(N_INPUTS * sizeof(*in.sizes));
	in.latencies = xmalloc(N_INPUTS * sizeof(*in.latencies));
	in.ratios = xmalloc(N_INPUTS * sizeof(*in.ratios));
	for (uint32_t i = 0; i < N_INPUTS; i++) {
		double u = rng_unit(&rng);

		in.hashes[i] = rng_next(&rng);
		in.keys4[i] = (uint32_t)rng_next(&rng);
		for (int k = 0; k < 16; k += 8) {
			uint64_t x = rng_next(&rng);

			memcpy(&in.keys16[i][k], &x, 8);
		}
		/* Internet-like payload mix: empty (ACKs), small, full MSS. */
		in.sizes[i] = u < 0.3 ? 0 : u < 0.7 ? (uint32_t)(rng_next(&rng) % 200)
				  : u < 0.8 ? (uint32_t)(rng_next(&rng) % 1501) : 1448;
		in.latencies[i] = (uint32_t)exp(log(20000.0) +
						1.5 * sqrt(-2.0 * log(rng_unit(&rng))) *
							cos(2.0 * M_PI * rng_unit(&rng)));
		in.ratios[i] = exp(1.0 + sqrt(-2.0 * log(rng_unit(&rng))) *
						 cos(2.0 * M_PI * rng_unit(&rng)));
	}
	hll = xmalloc(PV_HLL_SIZE(PV_HLL_DEFAULT_PRECISION));
	hll2 = xmalloc(PV_HLL_SIZE(PV_HLL_DEFAULT_PRECISION));
	qs_size = xmalloc(PV_QS_SIZE(PV_QS_SIZE_NBUCKETS));
	qs2 = xmalloc(PV_QS_SIZE(PV_QS_SIZE_NBUCKETS));
	qs_lat = xmalloc(PV_QS_SIZE(PV_QS_LATENCY_NBUCKETS));
	qs_ratio = xmalloc(PV_QS_SIZE(PV_QS_RATIO_NBUCKETS));
	pv_hll_init(hll, PV_HLL_DEFAULT_PRECISION);
	pv_hll_init(hll2, PV_HLL_DEFAULT_PRECISION);
	pv_qs_init(qs_size, PV_QS_ALPHA_DEFAULT, PV_QS_SIZE_MIN, PV_QS_SIZE_NBUCKETS);
	pv_qs_init(qs2, PV_QS_ALPHA_DEFAULT, PV_QS_SIZE_MIN, PV_QS_SIZE_NBUCKETS);
	pv_qs_init(qs_lat, PV_QS_ALPHA_DEFAULT, PV_QS_LATENCY_MIN, PV_QS_LATENCY_NBUCKETS);
	pv_qs_init(qs_ratio, PV_QS_ALPHA_DEFAULT, PV_QS_RATIO_MIN, PV_QS_RATIO_NBUCKETS);

	report("hll_add_hash", time_pass(b_hll_add, &in), "ns");
	report("hash64_4B", time_pass(b_hash4, &in), "ns");
	report("hash64_16B", time_pass(b_hash16, &in), "ns");
	report("hll_add_hash64_4B", time_pass(b_hll_hash4_add, &in), "ns");
	report("hll_add_hash64_16B", time_pass(b_hll_hash16_add, &in), "ns");
	report("qs_add_u32_sizes_0_1500", time_pass(b_qs_u32_sizes, &in), "ns");
	report("qs_add_u32_latency_us", time_pass(b_qs_u32_latency, &in), "ns");
	report("qs_add_double", time_pass(b_qs_add_double, &in), "ns");

	/* hll and qs_size are now full of realistic data; merge them into
	 * copies of themselves (the work does not depend on the values). */
	memcpy(hll2, hll, PV_HLL_SIZE(PV_HLL_DEFAULT_PRECISION));
	memcpy(qs2, qs_size, PV_QS_SIZE(PV_QS_SIZE_NBUCKETS));
	TIME_OP(ns, 2000, acc += (uint64_t)pv_hll_merge(hll2, hll));
	report("hll_merge_p14", ns, "ns");
	TIME_OP(ns, 200, acc += pv_hll_estimate(hll));
	report("hll_estimate_p14", ns, "ns");
	TIME_OP(ns, 2000, acc += (uint64_t)pv_hll_check(hll, PV_HLL_SIZE(14)));
	report("hll_check_p14", ns, "ns");
	TIME_OP(ns, 20000, acc += (uint64_t)pv_qs_merge(qs2, qs_size));
	report("qs_merge_size", ns, "ns");
	TIME_OP(ns, 20000, acc += (uint64_t)pv_qs_quantile(qs_size, 0.99));
	report("qs_quantile_p99_size", ns, "ns");
	TIME_OP(ns, 20000,
		acc += (uint64_t)pv_qs_check(qs_size, PV_QS_SIZE(PV_QS_SIZE_NBUCKETS)));
	report("qs_check_size", ns, "ns");
	sink = acc;

	report("hll_bytes_p14", (double)pv_hll_size(PV_HLL_DEFAULT_PRECISION), "bytes");
	report("qs_bytes_size", (double)pv_qs_size(PV_QS_SIZE_NBUCKETS), "bytes");
	report("qs_bytes_latency", (double)pv_qs_size(PV_QS_LATENCY_NBUCKETS), "bytes");
	report("qs_bytes_ratio", (double)pv_qs_size(PV_QS_RATIO_NBUCKETS), "bytes");
	report("qs_bytes_rate", (double)pv_qs_size(PV_QS_RATE_NBUCKETS), "bytes");

	free(in.hashes);
	free(in.keys4);
	free(in.keys16);
	free(in.sizes);
	free(in.latencies);
	free(in.ratios);
	free(hll);
	free(hll2);
	free(qs_size);
	free(qs2);
	free(qs_lat);
	free(qs_ratio);
	return 0;
}
