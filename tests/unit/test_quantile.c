/*
 * Tests for the log-bucket quantile sketch (shm/quantile.h): the relative
 * error guarantee against exact quantiles computed by sorting, over streams
 * of 10^5 values from several distributions and seeds (uniform sizes,
 * lognormal latencies, a Pareto tail, a constant, values below
 * min_indexable, values above the range), what the sketch promises for
 * clamped values, exact count/min/max, the merge laws (shards merged ==
 * one sketch fed everything, commutative, associative, byte for byte), the
 * integer hot path against the general one for every integer 0..70000, the
 * bucket geometry and default sizes, and pv_qs_check() on every kind of bad
 * image (the aggregator copies slots a compromised worker may have written).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "shm/quantile.h"
#include "shm/rate.h"

#ifdef __SANITIZE_ADDRESS__
#define PV_TEST_SAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PV_TEST_SAN 1
#endif
#endif

#ifdef PV_TEST_SAN
#define N_VALUES 30000
#define N_RANDOM_IMAGES 2000
#else
#define N_VALUES 100000
#define N_RANDOM_IMAGES 20000
#endif

#define ALPHA PV_QS_ALPHA_DEFAULT

static const uint64_t seeds[] = {1, 7, 42, 1234, 99991};
#define N_SEEDS (sizeof(seeds) / sizeof(seeds[0]))

/* ---- deterministic random numbers ---- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in (0, 1]. */
static double rng_unit(uint64_t *s)
{
	return ((double)(rng_next(s) >> 11) + 1.0) / 9007199254740992.0;
}

static double rng_normal(uint64_t *s)
{
	return sqrt(-2.0 * log(rng_unit(s))) * cos(2.0 * M_PI * rng_unit(s));
}

/* ---- sketch parameter sets: the sensor's defaults ---- */

struct qs_params {
	const char *name;
	double min_indexable;
	uint32_t nbuckets;
	double max; /* the range the sensor needs covered */
};

static const struct qs_params P_SIZE = {"size", PV_QS_SIZE_MIN, PV_QS_SIZE_NBUCKETS,
					PV_QS_SIZE_MAX};
static const struct qs_params P_LATENCY = {"latency", PV_QS_LATENCY_MIN,
					   PV_QS_LATENCY_NBUCKETS, PV_QS_LATENCY_MAX};
static const struct qs_params P_RATIO = {"ratio", PV_QS_RATIO_MIN, PV_QS_RATIO_NBUCKETS,
					 PV_QS_RATIO_MAX};
static const struct qs_params P_RATE = {"rate", PV_QS_RATE_MIN, PV_QS_RATE_NBUCKETS,
					PV_QS_RATE_MAX};

static void *new_qs(const struct qs_params *p)
{
	void *q = malloc(PV_QS_SIZE(p->nbuckets));

	assert_non_null(q);
	pv_qs_init(q, ALPHA, p->min_indexable, p->nbuckets);
	return q;
}

static size_t qs_len(const void *q)
{
	return PV_QS_SIZE(((const struct pv_qs_hdr *)q)->nbuckets);
}

static void *dup_qs(const void *q)
{
	void *c = malloc(qs_len(q));

	assert_non_null(c);
	memcpy(c, q, qs_len(q));
	return c;
}

/* ---- streams ---- */

enum dist { D_UNIFORM_INT, D_LOGNORMAL, D_PARETO, D_CONSTANT, D_BELOW, D_ABOVE, D_RATIO };

struct stream_case {
	const char *name;
	enum dist dist;
	const struct qs_params *params;
};

static const struct stream_case streams[] = {
	{"uniform ints 0..1500 (sizes)", D_UNIFORM_INT, &P_SIZE},
	{"lognormal latencies (us)", D_LOGNORMAL, &P_LATENCY},
	{"pareto 1.1 tail (us)", D_PARETO, &P_LATENCY},
	{"constant 512", D_CONSTANT, &P_SIZE},
	{"30% below min_indexable, negatives, zeros", D_BELOW, &P_RATIO},
	{"20% above the range", D_ABOVE, &P_SIZE},
	{"lognormal ratios 1e-3..1e4", D_RATIO, &P_RATIO},
};

static double draw(enum dist d, uint64_t *s)
{
	double u;

	switch (d) {
	case D_UNIFORM_INT:
		return (double)(rng_next(s) % 1501);
	case D_LOGNORMAL:
		/* median 20 ms, sigma 1: 1 ms .. 1 s mostly */
		return floor(exp(log(20000.0) + rng_normal(s)));
	case D_PARETO:
		return 1.0 / pow(rng_unit(s), 1.0 / 1.1);
	case D_CONSTANT:
		return 512.0;
	case D_BELOW:
		u = rng_unit(s);
		if (u < 0.05)
			return 0.0;
		if (u < 0.10)
			return -5.0 * rng_unit(s);
		if (u < 0.30)
			return 1e-3 * (1.0 - rng_unit(s));
		return exp(1.0 + 1.5 * rng_normal(s));
	case D_ABOVE:
		if (rng_unit(s) < 0.2)
			return 70000.0 + floor(130000.0 * rng_unit(s));
		return (double)(1 + rng_next(s) % 1500);
	case D_RATIO:
		return exp(log(3.0) + 2.5 * rng_normal(s));
	}
	return 0.0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * The promise of shm/quantile.h, for the exact element x of the rank: in
 * range, relative error alpha; below min_indexable, the exact min; at or
 * above max_indexable (the high bucket), the exact max.
 */
static double worst_in_range; /* largest in-range relative error seen */

static void assert_promise(const void *q, const double *sorted, size_t n, double rank,
			   const char *what)
{
	double exact = sorted[(size_t)floor(rank * (double)(n - 1))];
	double est = pv_qs_quantile(q, rank);
	uint32_t b = pv_qs_bucket_of(q, exact);
	uint32_t nb = ((const struct pv_qs_hdr *)q)->nbuckets;

	if (b == 0) {
		if (est != pv_qs_min(q))
			fail_msg("%s rank %g: low value %g, estimate %.17g != min %.17g", what,
				 rank, exact, est, pv_qs_min(q));
	} else if (b == nb - 1) {
		if (est != pv_qs_max(q))
			fail_msg("%s rank %g: high value %g, estimate %.17g != max %.17g", what,
				 rank, exact, est, pv_qs_max(q));
	} else if (!(fabs(est - exact) <= ALPHA * fabs(exact))) {
		fail_msg("%s rank %g: exact %.17g estimate %.17g rel err %.6g > %g", what, rank,
			 exact, est, fabs(est - exact) / fabs(exact), ALPHA);
	} else if (fabs(est - exact) / fabs(exact) > worst_in_range) {
		worst_in_range = fabs(est - exact) / fabs(exact);
	}
}

static void test_accuracy(void **state)
{
	static const double ranks[] = {0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0};
	double *v = malloc(N_VALUES * sizeof(*v));
	unsigned low_hits = 0, high_hits = 0;

	(void)state;
	assert_non_null(v);
	for (size_t c = 0; c < sizeof(streams) / sizeof(streams[0]); c++) {
		const struct stream_case *sc = &streams[c];

		for (size_t s = 0; s < N_SEEDS; s++) {
			uint64_t rng = seeds[s] * 1000 + c;
			void *q = new_qs(sc->params);
			double prev = -INFINITY;
			char what[128];

			snprintf(what, sizeof(what), "%s, seed %llu", sc->name,
				 (unsigned long long)seeds[s]);
			for (size_t i = 0; i < N_VALUES; i++) {
				v[i] = draw(sc->dist, &rng);
				pv_qs_add(q, v[i]);
			}
			qsort(v, N_VALUES, sizeof(*v), cmp_double);
			assert_int_equal(pv_qs_check(q, qs_len(q)), PV_OK);
			assert_int_equal(pv_qs_count(q), N_VALUES);
			assert_true(pv_qs_min(q) == v[0]);
			assert_true(pv_qs_max(q) == v[N_VALUES - 1]);
			assert_true(pv_qs_quantile(q, 0.0) == v[0]);
			assert_true(pv_qs_quantile(q, 1.0) == v[N_VALUES - 1]);
			for (size_t r = 0; r < sizeof(ranks) / sizeof(ranks[0]); r++)
				assert_promise(q, v, N_VALUES, ranks[r], what);
			/* A dense sweep: every estimate keeps the promise, lies in
			 * [min, max] and never decreases with the rank. */
			for (int r = 0; r <= 2000; r++) {
				double rank = r / 2000.0, est = pv_qs_quantile(q, rank);
				uint32_t b = pv_qs_bucket_of(
					q, v[(size_t)floor(rank * (N_VALUES - 1))]);

				assert_promise(q, v, N_VALUES, rank, what);
				assert_true(est >= prev);
				assert_true(est >= v[0] && est <= v[N_VALUES - 1]);
				prev = est;
				low_hits += b == 0;
				high_hits += b == sc->params->nbuckets - 1;
			}
			/* Clamped values are counted, not lost. */
			{
				uint64_t lo = 0, hi = 0;

				for (size_t i = 0; i < N_VALUES; i++) {
					uint32_t b = pv_qs_bucket_of(q, v[i]);

					lo += b == 0;
					hi += b == sc->params->nbuckets - 1;
				}
				assert_int_equal(pv_qs_low_count(q), lo);
				assert_int_equal(pv_qs_high_count(q), hi);
				if (sc->dist == D_ABOVE)
					assert_true(hi > N_VALUES / 10);
				if (sc->dist == D_BELOW)
					assert_true(lo > N_VALUES / 5);
			}
			free(q);
		}
	}
	print_message("[          ] worst in-range relative error %.6g (alpha %g), "
		      "%u low and %u high ranks\n", worst_in_range, ALPHA, low_hits, high_hits);
	/* The clamped branches of the promise were exercised. */
	assert_true(low_hits > 0);
	assert_true(high_hits > 0);
	free(v);
}

/* Degenerate cases: empty, one value, all values equal, rank out of range. */
static void test_small_sketches(void **state)
{
	void *q = new_qs(&P_LATENCY);

	(void)state;
	assert_true(isnan(pv_qs_quantile(q, 0.5)));
	assert_true(isnan(pv_qs_min(q)));
	assert_true(isnan(pv_qs_max(q)));
	assert_int_equal(pv_qs_count(q), 0);
	pv_qs_add(q, 1234.0);
	assert_true(pv_qs_quantile(q, 0.0) == 1234.0);
	assert_true(pv_qs_quantile(q, 0.5) == 1234.0);
	assert_true(pv_qs_quantile(q, 1.0) == 1234.0);
	assert_true(pv_qs_quantile(q, -3.0) == 1234.0);
	assert_true(pv_qs_quantile(q, 7.0) == 1234.0);
	assert_true(isnan(pv_qs_quantile(q, NAN)));
	pv_qs_add(q, 1000.0);
	pv_qs_add(q, 5000.0);
	/* Middle element 1234: within alpha. */
	assert_true(fabs(pv_qs_quantile(q, 0.5) - 1234.0) <= ALPHA * 1234.0);
	assert_true(pv_qs_quantile(q, 0.0) == 1000.0);
	assert_true(pv_qs_quantile(q, 1.0) == 5000.0);
	assert_int_equal(pv_qs_check(q, qs_len(q)), PV_OK);
	free(q);
}

/* NaN is not a value; -0 is 0; infinities are clamped values. */
static void test_special_values(void **state)
{
	void *q = new_qs(&P_RATIO), *z = new_qs(&P_RATIO);

	(void)state;
	pv_qs_add(q, NAN);
	assert_int_equal(pv_qs_count(q), 0);
	assert_int_equal(pv_qs_nan_count(q), 1);
	assert_true(isnan(pv_qs_quantile(q, 0.5)));
	assert_int_equal(pv_qs_check(q, qs_len(q)), PV_OK);
	pv_qs_add(q, -0.0);
	pv_qs_add(z, NAN);
	pv_qs_add(z, 0.0);
	assert_memory_equal(q, z, qs_len(q));
	pv_qs_add(q, INFINITY);
	pv_qs_add(q, -INFINITY);
	assert_int_equal(pv_qs_count(q), 3);
	assert_int_equal(pv_qs_low_count(q), 2);
	assert_int_equal(pv_qs_high_count(q), 1);
	assert_true(pv_qs_min(q) == -INFINITY);
	assert_true(pv_qs_max(q) == INFINITY);
	assert_true(pv_qs_quantile(q, 0.5) == -INFINITY); /* rank 1 of 3: a low value */
	assert_int_equal(pv_qs_check(q, qs_len(q)), PV_OK);
	free(q);
	free(z);
}

/* add_n(v, n) == n x add(v); n = 0 changes nothing, not even min/max. */
static void test_add_n(void **state)
{
	void *a = new_qs(&P_RATE), *b = new_qs(&P_RATE), *keep;
	static const double vals[] = {0.0, 1.0, 17.0, 12345.0, 1e9, 5e9, NAN};

	(void)state;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		pv_qs_add_n(a, vals[i], 3 + i);
		for (size_t k = 0; k < 3 + i; k++)
			pv_qs_add(b, vals[i]);
	}
	assert_memory_equal(a, b, qs_len(a));
	keep = dup_qs(a);
	pv_qs_add_n(a, -1.0, 0);
	pv_qs_add_n(a, 1e12, 0);
	assert_memory_equal(a, keep, qs_len(a));
	assert_int_equal(pv_qs_check(a, qs_len(a)), PV_OK);
	free(a);
	free(b);
	free(keep);
}

/* Folding per-second counts == one value per second, runs or not. */
static void test_rate_fold(void **state)
{
	static const uint64_t secs[] = {0, 0, 0, 5, 5, 7, 1000000, 0, 3000000000ull, 5, 0};
	const uint32_t n = sizeof(secs) / sizeof(secs[0]);
	void *a = new_qs(&P_RATE), *b = new_qs(&P_RATE);

	(void)state;
	pv_rate_fold(a, secs, n);
	for (uint32_t i = 0; i < n; i++)
		pv_qs_add(b, (double)secs[i]);
	assert_memory_equal(a, b, qs_len(a));
	assert_int_equal(pv_qs_count(a), n);
	assert_int_equal(pv_qs_low_count(a), 5); /* idle seconds are values */
	assert_int_equal(pv_qs_high_count(a), 1); /* 3e9/s is past 1e9 */
	assert_true(pv_qs_quantile(a, 0.0) == 0.0);
	pv_rate_fold(a, secs, 0);
	assert_memory_equal(a, b, qs_len(a));
	free(a);
	free(b);
}

/* The integer hot path lands every integer where the general path does:
 * checked value by value on the whole sketch image, for 0..70000 (past the
 * size sketch's range) under every default parameter set. */
static void test_add_u32_agrees(void **state)
{
	const struct qs_params *ps[] = {&P_SIZE, &P_LATENCY, &P_RATIO, &P_RATE};
	uint64_t rng = 5;

	(void)state;
	for (size_t p = 0; p < sizeof(ps) / sizeof(ps[0]); p++) {
		void *a = new_qs(ps[p]), *b = new_qs(ps[p]);
		size_t len = qs_len(a);

		for (uint32_t v = 0; v <= 70000; v++) {
			pv_qs_add_u32(a, v);
			pv_qs_add(b, (double)v);
			if (memcmp(a, b, len) != 0)
				fail_msg("%s: add_u32(%u) and add(%u.0) differ", ps[p]->name, v, v);
		}
		/* And a sample of the whole u32 range, edges included. */
		for (int i = 0; i < 200000; i++) {
			uint32_t v = i < 3 ? (uint32_t[]){UINT32_MAX, UINT32_MAX - 1, 1u << 31}[i]
					   : (uint32_t)(rng_next(&rng) >> (32 + i % 32));

			pv_qs_add_u32(a, v);
			pv_qs_add(b, (double)v);
		}
		assert_memory_equal(a, b, len);
		assert_int_equal(pv_qs_check(a, len), PV_OK);
		free(a);
		free(b);
	}
}

/* Split one stream over shards at random: the merge of the shards is the
 * sketch of the whole stream, byte for byte; merge order does not matter. */
static void test_merge_laws(void **state)
{
	enum { SHARDS = 4 };

	(void)state;
	for (size_t c = 0; c < sizeof(streams) / sizeof(streams[0]); c++) {
		const struct stream_case *sc = &streams[c];
		uint64_t rng = 77 + c;
		void *whole = new_qs(sc->params), *sh[SHARDS], *m, *m2, *l, *r, *bc;
		size_t len = qs_len(whole);

		for (int i = 0; i < SHARDS; i++)
			sh[i] = new_qs(sc->params);
		for (int i = 0; i < N_VALUES; i++) {
			double v = draw(sc->dist, &rng);

			pv_qs_add(whole, v);
			pv_qs_add(sh[rng_next(&rng) % SHARDS], v);
		}
		/* Left fold and right fold of the shards. */
		m = new_qs(sc->params);
		for (int i = 0; i < SHARDS; i++)
			assert_int_equal(pv_qs_merge(m, sh[i]), PV_OK);
		assert_memory_equal(m, whole, len);
		m2 = dup_qs(sh[SHARDS - 1]);
		for (int i = SHARDS - 2; i >= 0; i--)
			assert_int_equal(pv_qs_merge(m2, sh[i]), PV_OK);
		assert_memory_equal(m2, whole, len);
		assert_int_equal(pv_qs_check(m, len), PV_OK);
		/* (a + b) + c == a + (b + c), with a, b, c = shards 0, 1, 2. */
		l = dup_qs(sh[0]);
		assert_int_equal(pv_qs_merge(l, sh[1]), PV_OK);
		assert_int_equal(pv_qs_merge(l, sh[2]), PV_OK);
		bc = dup_qs(sh[1]);
		assert_int_equal(pv_qs_merge(bc, sh[2]), PV_OK);
		r = dup_qs(sh[0]);
		assert_int_equal(pv_qs_merge(r, bc), PV_OK);
		assert_memory_equal(l, r, len);
		/* a + b == b + a */
		free(l);
		free(r);
		l = dup_qs(sh[0]);
		assert_int_equal(pv_qs_merge(l, sh[3]), PV_OK);
		r = dup_qs(sh[3]);
		assert_int_equal(pv_qs_merge(r, sh[0]), PV_OK);
		assert_memory_equal(l, r, len);
		/* The empty sketch is the identity on both sides. */
		free(r);
		r = new_qs(sc->params);
		assert_int_equal(pv_qs_merge(l, r), PV_OK);
		assert_int_equal(pv_qs_merge(r, l), PV_OK);
		assert_memory_equal(l, r, len);
		free(whole);
		free(m);
		free(m2);
		free(l);
		free(r);
		free(bc);
		for (int i = 0; i < SHARDS; i++)
			free(sh[i]);
	}
}

/* +0 and -0 in different shards still merge to the same bytes either way. */
static void test_merge_signed_zero(void **state)
{
	void *a = new_qs(&P_SIZE), *b = new_qs(&P_SIZE), *ab, *ba;

	(void)state;
	pv_qs_add(a, -0.0);
	pv_qs_add(b, 0.0);
	pv_qs_add(b, 3.0);
	ab = dup_qs(a);
	ba = dup_qs(b);
	assert_int_equal(pv_qs_merge(ab, b), PV_OK);
	assert_int_equal(pv_qs_merge(ba, a), PV_OK);
	assert_memory_equal(ab, ba, qs_len(a));
	free(a);
	free(b);
	free(ab);
	free(ba);
}

static void test_merge_mismatch(void **state)
{
	void *a = new_qs(&P_LATENCY), *keep;
	void *other_alpha = malloc(PV_QS_SIZE(PV_QS_LATENCY_NBUCKETS));
	void *other_min = malloc(PV_QS_SIZE(PV_QS_LATENCY_NBUCKETS));
	void *other_n = malloc(PV_QS_SIZE(PV_QS_LATENCY_NBUCKETS + 1));

	(void)state;
	assert_non_null(other_alpha);
	assert_non_null(other_min);
	assert_non_null(other_n);
	pv_qs_init(other_alpha, 0.02, PV_QS_LATENCY_MIN, PV_QS_LATENCY_NBUCKETS);
	pv_qs_init(other_min, ALPHA, 2.0, PV_QS_LATENCY_NBUCKETS);
	pv_qs_init(other_n, ALPHA, PV_QS_LATENCY_MIN, PV_QS_LATENCY_NBUCKETS + 1);
	pv_qs_add(a, 100.0);
	pv_qs_add(other_alpha, 100.0);
	pv_qs_add(other_min, 100.0);
	pv_qs_add(other_n, 100.0);
	keep = dup_qs(a);
	assert_int_equal(pv_qs_merge(a, other_alpha), PV_ECONFIG);
	assert_int_equal(pv_qs_merge(a, other_min), PV_ECONFIG);
	assert_int_equal(pv_qs_merge(a, other_n), PV_ECONFIG);
	assert_int_equal(pv_qs_merge(other_n, a), PV_ECONFIG);
	assert_memory_equal(a, keep, qs_len(a));
	free(a);
	free(keep);
	free(other_alpha);
	free(other_min);
	free(other_n);
}

/* Counts that would pass 2^64 (crafted images that pass the check one by
 * one) are refused, dst untouched. */
static void test_merge_overflow(void **state)
{
	void *a = new_qs(&P_SIZE), *keep;
	struct pv_qs_hdr *h = a;
	uint64_t *bk = (uint64_t *)((uint8_t *)a + PV_QS_HDR_SIZE);

	(void)state;
	pv_qs_add(a, 100.0);
	bk[pv_qs_bucket_of(a, 100.0)] = 1ull << 63;
	h->count = 1ull << 63;
	assert_int_equal(pv_qs_check(a, qs_len(a)), PV_OK);
	keep = dup_qs(a);
	assert_int_equal(pv_qs_merge(a, keep), PV_ECORRUPT);
	assert_memory_equal(a, keep, qs_len(a));
	h->count = 0;
	bk[pv_qs_bucket_of(a, 100.0)] = 0;
	h->min = INFINITY;
	h->max = -INFINITY;
	h->nan = UINT64_MAX;
	assert_int_equal(pv_qs_check(a, qs_len(a)), PV_OK);
	free(keep);
	keep = dup_qs(a);
	assert_int_equal(pv_qs_merge(a, keep), PV_ECORRUPT);
	assert_memory_equal(a, keep, qs_len(a));
	free(a);
	free(keep);
}

/* The defaults are the exact bucket counts for their ranges: the range's
 * max is counted in range, and max_indexable lies just above it. */
static void test_defaults_cover_ranges(void **state)
{
	const struct qs_params *ps[] = {&P_SIZE, &P_LATENCY, &P_RATIO, &P_RATE};

	(void)state;
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		void *q = new_qs(ps[i]);
		uint32_t n = ps[i]->nbuckets;

		assert_int_equal(pv_qs_buckets_for(ALPHA, ps[i]->min_indexable, ps[i]->max), n);
		assert_int_equal(pv_qs_bucket_of(q, ps[i]->max), n - 2);
		assert_int_equal(pv_qs_bucket_of(q, ps[i]->min_indexable), 1);
		assert_int_equal(pv_qs_bucket_of(q, nextafter(ps[i]->min_indexable, 0)), 0);
		assert_true(pv_qs_max_indexable(q) > ps[i]->max);
		assert_true(pv_qs_max_indexable(q) < ps[i]->max * 1.03);
		print_message("[          ] %-8s %4u buckets, %6zu bytes, range [%g, %.6g)\n",
			      ps[i]->name, n, pv_qs_size(n), ps[i]->min_indexable,
			      pv_qs_max_indexable(q));
		free(q);
	}
	/* ~116 buckets per decade at 1 %: 8 decades of latency. */
	assert_in_range(PV_QS_LATENCY_NBUCKETS, 8 * 115, 8 * 118 + 3);
}

/*
 * Bucket geometry: consecutive buckets share their edges, no bucket spans
 * more than gamma, and any in-range value is within alpha of its bucket's
 * representative (the harmonic mean of the edges), for several alphas.
 */
static void test_bucket_geometry(void **state)
{
	static const double alphas[] = {1e-4, 0.001, 0.01, 0.05, 0.5};
	uint64_t rng = 9;

	(void)state;
	for (size_t a = 0; a < sizeof(alphas) / sizeof(alphas[0]); a++) {
		/* 1e-4 needs ~11600 buckets a decade: fewer decades. */
		double alpha = alphas[a], worst = 0.0, top = alpha < 1e-3 ? 1e2 : 1e6;
		uint32_t n = pv_qs_buckets_for(alpha, 1e-3, top);
		void *q;

		assert_true(n >= 3);
		q = malloc(PV_QS_SIZE(n));
		assert_non_null(q);
		pv_qs_init(q, alpha, 1e-3, n);
		assert_int_equal(pv_qs_check(q, PV_QS_SIZE(n)), PV_OK);
		for (uint32_t b = 1; b + 1 < n; b++) {
			double lo, hi, lo2, hi2;

			pv_qs_bucket_bounds(q, b, &lo, &hi);
			assert_true(lo < hi);
			assert_true((hi - lo) / (hi + lo) <= alpha);
			if (b + 2 < n) {
				pv_qs_bucket_bounds(q, b + 1, &lo2, &hi2);
				assert_true(lo2 == hi);
			}
		}
		for (int i = 0; i < 200000; i++) {
			double v = 1e-3 * exp(rng_unit(&rng) * log(top * 1e3)), lo, hi, rep, err;
			uint32_t b = pv_qs_bucket_of(q, v);

			if (b == 0 || b == n - 1)
				continue;
			pv_qs_bucket_bounds(q, b, &lo, &hi);
			rep = 2.0 * lo * hi / (lo + hi);
			err = fabs(rep - v) / v;
			worst = err > worst ? err : worst;
		}
		if (worst > alpha)
			fail_msg("alpha %g: worst relative error %.17g", alpha, worst);
		print_message("[          ] alpha %-6g %6u buckets for 1e-3..%g, worst error %.6g\n",
			      alpha, n, top, worst);
		free(q);
	}
}

static void test_params(void **state)
{
	(void)state;
	assert_int_equal(pv_qs_params_check(0.01, 1.0, 563), PV_OK);
	assert_int_equal(pv_qs_params_check(NAN, 1.0, 563), PV_ECONFIG);
	assert_int_equal(pv_qs_params_check(0.0, 1.0, 563), PV_ECONFIG);
	assert_int_equal(pv_qs_params_check(-0.01, 1.0, 563), PV_ECONFIG);
	assert_int_equal(pv_qs_params_check(0.6, 1.0, 563), PV_ECONFIG);
	assert_int_equal(pv_qs_params_check(INFINITY, 1.0, 563), PV_ECONFIG);
	assert_int_equal(pv_qs_params_check(0.01, 0.0, 563), PV_ECONFIG);
	assert_int_equal(pv_qs_params_check(0.01, -1.0, 563), PV_ECONFIG);
	assert_int_equal(pv_qs_params_check(0.01, NAN, 563), PV_ECONFIG);
	assert_int_equal(pv_qs_params_check(0.01, INFINITY, 563), PV_ECONFIG);
	assert_int_equal(pv_qs_params_check(0.01, 1e13, 563), PV_ECONFIG);
	assert_int_equal(pv_qs_params_check(0.01, 1.0, 2), PV_ECONFIG);
	assert_int_equal(pv_qs_params_check(0.01, 1.0, 65537), PV_ECONFIG);
	assert_int_equal(pv_qs_params_check(0.01, 1.0, 65536), PV_OK);
	assert_int_equal(pv_qs_size(2), 0);
	assert_int_equal(pv_qs_size(65537), 0);
	assert_int_equal(pv_qs_size(563), PV_QS_SIZE(563));
	assert_int_equal(pv_qs_buckets_for(NAN, 1.0, 10.0), 0);
	assert_int_equal(pv_qs_buckets_for(0.01, 1.0, NAN), 0);
	assert_int_equal(pv_qs_buckets_for(0.01, 1.0, INFINITY), 0);
	assert_int_equal(pv_qs_buckets_for(0.01, 1.0, 0.5), 3);
	assert_int_equal(pv_qs_buckets_for(1e-4, 1e-12, 1e300), 0); /* too many */
	/* Same parameters, same bytes: init is deterministic to the last bit. */
	{
		void *a = new_qs(&P_RATIO), *b = new_qs(&P_RATIO);

		assert_memory_equal(a, b, qs_len(a));
		free(a);
		free(b);
	}
}

/* ---- pv_qs_check on bad images ---- */

/* Check on a heap copy of exactly len bytes: ASan sees any read past it. */
static int check_copy(const void *img, size_t len)
{
	void *c = malloc(len ? len : 1);
	int rc;

	assert_non_null(c);
	memcpy(c, img, len);
	rc = pv_qs_check(c, len);
	free(c);
	return rc;
}

enum field { F_NONE, F_MAGIC, F_VERSION, F_RES0, F_NB, F_OFF, F_MINIDX, F_MULT, F_COUNT,
	     F_MIN, F_MAX, F_ALPHA, F_NAN, F_RES1, F_BUCKET };

struct qs_corruption {
	const char *name;
	enum field field;
	int kind;      /* 0: set to value/ival, 1: add ival, 2: step ival ulps */
	double value;
	int64_t ival;
	long dlen;
	int want;
};

static void apply(void *img, const struct qs_corruption *c)
{
	struct pv_qs_hdr *h = img;
	uint64_t *bk = (uint64_t *)((uint8_t *)img + PV_QS_HDR_SIZE);
	double *d = NULL;
	uint64_t *u = NULL;

	switch (c->field) {
	case F_NONE:
		return;
	case F_MAGIC:
		h->magic = (uint32_t)c->ival;
		return;
	case F_VERSION:
		h->version = (uint16_t)c->ival;
		return;
	case F_RES0:
		h->reserved0 = (uint16_t)c->ival;
		return;
	case F_NB:
		h->nbuckets = c->kind == 1 ? h->nbuckets + (uint32_t)c->ival : (uint32_t)c->ival;
		return;
	case F_OFF:
		h->index_offset += (int32_t)c->ival;
		return;
	case F_MINIDX:
		d = &h->min_indexable;
		break;
	case F_MULT:
		d = &h->multiplier;
		break;
	case F_MIN:
		d = &h->min;
		break;
	case F_MAX:
		d = &h->max;
		break;
	case F_ALPHA:
		d = &h->alpha;
		break;
	case F_COUNT:
		u = &h->count;
		break;
	case F_NAN:
		u = &h->nan;
		break;
	case F_RES1:
		u = &h->reserved1;
		break;
	case F_BUCKET:
		/* ival: bucket (negative: from the end); value: count */
		u = &bk[c->ival >= 0 ? c->ival : (int64_t)h->nbuckets + c->ival];
		*u = (uint64_t)c->value;
		return;
	}
	if (d) {
		if (c->kind == 2)
			*d = nextafter(*d, c->ival > 0 ? INFINITY : -INFINITY);
		else
			*d = c->value;
	} else if (u) {
		*u = c->kind == 1 ? *u + (uint64_t)c->ival : (uint64_t)c->ival;
	}
}

static void test_check_corrupt(void **state)
{
	/* Base image: size sketch holding 10..1000 and one 0 (low bucket). */
	const struct qs_corruption cases[] = {
		{"valid", F_NONE, 0, 0, 0, 0, PV_OK},
		{"one byte short", F_NONE, 0, 0, 0, -1, PV_ESIZE},
		{"one byte long", F_NONE, 0, 0, 0, 1, PV_ESIZE},
		{"one bucket short", F_NONE, 0, 0, 0, -8, PV_ESIZE},
		{"magic", F_MAGIC, 0, 0, 0x12345678, 0, PV_EMAGIC},
		{"version", F_VERSION, 0, 0, 2, 0, PV_EVERSION},
		{"reserved0", F_RES0, 0, 0, 1, 0, PV_ECORRUPT},
		{"reserved1", F_RES1, 0, 0, 1, 0, PV_ECORRUPT},
		{"nbuckets 0", F_NB, 0, 0, 0, 0, PV_ECORRUPT},
		{"nbuckets 2", F_NB, 0, 0, 2, 0, PV_ECORRUPT},
		{"nbuckets 65537", F_NB, 0, 0, 65537, 0, PV_ECORRUPT},
		{"nbuckets 2^32-1", F_NB, 0, 0, 0xffffffff, 0, PV_ECORRUPT},
		{"nbuckets + 1 (len too short)", F_NB, 1, 0, 1, 0, PV_ESIZE},
		{"nbuckets - 1 (len too long)", F_NB, 1, 0, -1, 0, PV_ESIZE},
		{"alpha NaN", F_ALPHA, 0, NAN, 0, 0, PV_ECORRUPT},
		{"alpha inf", F_ALPHA, 0, INFINITY, 0, 0, PV_ECORRUPT},
		{"alpha 0", F_ALPHA, 0, 0.0, 0, 0, PV_ECORRUPT},
		{"alpha negative", F_ALPHA, 0, -0.01, 0, 0, PV_ECORRUPT},
		{"alpha 0.9", F_ALPHA, 0, 0.9, 0, 0, PV_ECORRUPT},
		{"alpha valid but not the one the multiplier says", F_ALPHA, 0, 0.02, 0, 0,
		 PV_ECORRUPT},
		{"min_indexable NaN", F_MINIDX, 0, NAN, 0, 0, PV_ECORRUPT},
		{"min_indexable inf", F_MINIDX, 0, INFINITY, 0, 0, PV_ECORRUPT},
		{"min_indexable 0", F_MINIDX, 0, 0.0, 0, 0, PV_ECORRUPT},
		{"min_indexable negative", F_MINIDX, 0, -1.0, 0, 0, PV_ECORRUPT},
		{"min_indexable other (offset stale)", F_MINIDX, 0, 1000.0, 0, 0, PV_ECORRUPT},
		{"multiplier 1 ulp up", F_MULT, 2, 0, 1, 0, PV_ECORRUPT},
		{"multiplier 1 ulp down", F_MULT, 2, 0, -1, 0, PV_ECORRUPT},
		{"multiplier NaN", F_MULT, 0, NAN, 0, 0, PV_ECORRUPT},
		{"index_offset + 1", F_OFF, 0, 0, 1, 0, PV_ECORRUPT},
		{"index_offset - 1", F_OFF, 0, 0, -1, 0, PV_ECORRUPT},
		{"count + 1", F_COUNT, 1, 0, 1, 0, PV_ECORRUPT},
		{"count - 1", F_COUNT, 1, 0, -1, 0, PV_ECORRUPT},
		{"count 0", F_COUNT, 0, 0, 0, 0, PV_ECORRUPT},
		{"last bucket huge", F_BUCKET, 0, 18446744073709549568.0, -2, 0, PV_ECORRUPT},
		{"nan count is free", F_NAN, 0, 0, 12345, 0, PV_OK},
		{"min NaN", F_MIN, 0, NAN, 0, 0, PV_ECORRUPT},
		{"max NaN", F_MAX, 0, NAN, 0, 0, PV_ECORRUPT},
		{"min -0", F_MIN, 0, -0.0, 0, 0, PV_ECORRUPT},
		{"min > max", F_MIN, 0, 2000.0, 0, 0, PV_ECORRUPT},
		{"min not in the low bucket", F_MIN, 0, 5.0, 0, 0, PV_ECORRUPT},
		{"min below the low values", F_MIN, 0, -100.0, 0, 0, PV_OK},
		{"max in an empty bucket", F_MAX, 0, 3000.0, 0, 0, PV_ECORRUPT},
		{"max below the last value", F_MAX, 0, 500.0, 0, 0, PV_ECORRUPT},
		{"max inf, high bucket empty", F_MAX, 0, INFINITY, 0, 0, PV_ECORRUPT},
		{"max 1 ulp up (same bucket)", F_MAX, 2, 0, 1, 0, PV_OK},
	};
	void *base = new_qs(&P_SIZE);
	size_t len = qs_len(base);
	uint8_t *img = malloc(len + 64);

	(void)state;
	assert_non_null(img);
	pv_qs_add(base, 0.0);
	for (int v = 10; v <= 1000; v++)
		pv_qs_add(base, v);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct qs_corruption *c = &cases[i];
		int rc;

		memset(img, 0, len + 64);
		memcpy(img, base, len);
		apply(img, c);
		rc = check_copy(img, (size_t)((long)len + c->dlen));
		if (rc != c->want)
			fail_msg("case '%s': got %d (%s), want %d (%s)", c->name, rc,
				 pv_strerror(rc), c->want, pv_strerror(c->want));
	}
	for (size_t l = 0; l < PV_QS_HDR_SIZE; l++)
		assert_int_equal(check_copy(base, l), PV_ESIZE);
	/* Two buckets of 2^63 + 1 in place of two ones: the sum wraps to the
	 * right count and min/max still fit. Only the overflow check sees it. */
	{
		uint64_t *bk = (uint64_t *)(img + PV_QS_HDR_SIZE);

		memcpy(img, base, len);
		bk[pv_qs_bucket_of(img, 1000.0)] = (1ull << 63) + 1;
		bk[pv_qs_bucket_of(img, 500.0)] = (1ull << 63) + 1;
		assert_int_equal(check_copy(img, len), PV_ECORRUPT);
	}
	/* Empty sketches must be in the canonical empty state. */
	{
		void *e = new_qs(&P_SIZE);
		struct pv_qs_hdr *h = e;

		assert_int_equal(check_copy(e, len), PV_OK);
		h->min = 0.0;
		assert_int_equal(check_copy(e, len), PV_ECORRUPT);
		h->min = INFINITY;
		h->max = 0.0;
		assert_int_equal(check_copy(e, len), PV_ECORRUPT);
		free(e);
	}
	/* One value: min == max. Two in one bucket: they may differ. */
	{
		void *o = new_qs(&P_SIZE);
		struct pv_qs_hdr *h = o;

		pv_qs_add(o, 100.0);
		assert_int_equal(check_copy(o, len), PV_OK);
		h->max = 100.5;
		assert_int_equal(pv_qs_bucket_of(o, 100.5), pv_qs_bucket_of(o, 100.0));
		assert_int_equal(check_copy(o, len), PV_ECORRUPT);
		pv_qs_add(o, 100.25);
		assert_int_equal(check_copy(o, len), PV_OK);
		h->min = -3.0;  /* both low values now... */
		h->max = -1.0;
		assert_int_equal(check_copy(o, len), PV_ECORRUPT); /* ...not in bucket 0 */
		free(o);
	}
	free(base);
	free(img);
}

/* A value the sketch counts in bucket b. */
static double some_value_in(const void *q, uint32_t b)
{
	double lo, hi;

	if (b == 0)
		return -1.0;
	if (b == ((const struct pv_qs_hdr *)q)->nbuckets - 1)
		return 2.0 * pv_qs_max_indexable(q);
	pv_qs_bucket_bounds(q, b, &lo, &hi);
	return 2.0 * lo * hi / (lo + hi);
}

/*
 * Random images: noise of random lengths, valid headers over random
 * buckets, and valid sketches with a few random bytes flipped. Anything
 * accepted must query and merge cleanly: a fresh sketch with the same
 * parameters merged with it is a byte copy, quantiles are ordered and in
 * [min, max].
 */
static void test_check_random(void **state)
{
	uint64_t rng = 2024;
	void *valid = new_qs(&P_SIZE);
	size_t vlen = qs_len(valid);
	unsigned accepted = 0;

	(void)state;
	for (int v = 0; v < 5000; v++)
		pv_qs_add(valid, (double)(rng_next(&rng) % 2000));
	for (int i = 0; i < N_RANDOM_IMAGES; i++) {
		unsigned mode = i % 3;
		size_t len = mode == 0 ? rng_next(&rng) % (vlen + 64) : vlen;
		uint8_t *img = malloc(len ? len : 1);
		int rc;

		assert_non_null(img);
		for (size_t k = 0; k < len; k++)
			img[k] = (uint8_t)rng_next(&rng);
		if (mode == 1) {
			/* Valid header, sparse small buckets, count fixed up,
			 * min/max in the outer non-empty buckets (mostly). */
			struct pv_qs_hdr *h = (struct pv_qs_hdr *)img;
			uint64_t *bk = (uint64_t *)(img + PV_QS_HDR_SIZE), sum = 0;
			uint32_t first = UINT32_MAX, last = 0;

			memcpy(img, valid, PV_QS_HDR_SIZE);
			for (uint32_t b = 0; b < h->nbuckets; b++) {
				bk[b] = rng_next(&rng) % 16 == 0 ? rng_next(&rng) % 5 : 0;
				sum += bk[b];
				if (bk[b]) {
					first = first == UINT32_MAX ? b : first;
					last = b;
				}
			}
			h->count = sum;
			if (sum == 0) {
				h->min = INFINITY;
				h->max = -INFINITY;
			} else if (rng_next(&rng) % 8) {
				h->min = some_value_in(img, first);
				h->max = some_value_in(img, last);
			}
		} else if (mode == 2) {
			memcpy(img, valid, len);
			for (int f = 0; f < 2; f++)
				img[rng_next(&rng) % len] ^= (uint8_t)(1u << (rng_next(&rng) % 8));
		}
		rc = pv_qs_check(img, len);
		if (mode == 0 && len >= 4 && memcmp(img, valid, 4) != 0)
			assert_int_not_equal(rc, PV_OK);
		if (rc == PV_OK) {
			void *m = new_qs(&P_SIZE);
			double prev = -INFINITY;

			accepted++;
			assert_int_equal(pv_qs_merge(m, img), PV_OK);
			assert_memory_equal(m, img, vlen);
			for (int r = 0; r <= 100; r++) {
				double e = pv_qs_quantile(img, r / 100.0);

				assert_true(e >= prev);
				assert_true(e >= pv_qs_min(img) && e <= pv_qs_max(img));
				prev = e;
			}
			free(m);
		}
		free(img);
	}
	print_message("[          ] %d random images, %u accepted\n", N_RANDOM_IMAGES, accepted);
	free(valid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_defaults_cover_ranges),
		cmocka_unit_test(test_bucket_geometry),
		cmocka_unit_test(test_small_sketches),
		cmocka_unit_test(test_special_values),
		cmocka_unit_test(test_accuracy),
		cmocka_unit_test(test_add_n),
		cmocka_unit_test(test_rate_fold),
		cmocka_unit_test(test_add_u32_agrees),
		cmocka_unit_test(test_merge_laws),
		cmocka_unit_test(test_merge_signed_zero),
		cmocka_unit_test(test_merge_mismatch),
		cmocka_unit_test(test_merge_overflow),
		cmocka_unit_test(test_check_corrupt),
		cmocka_unit_test(test_check_random),
	};

	return cmocka_run_group_tests_name("quantile", tests, NULL, NULL);
}
