/*
 * Tests for the HyperLogLog sketch (shm/hll.h): accuracy of Ertl's estimator
 * from 1 to 10^7 distinct keys over several independent key sets, the merge
 * laws the aggregator and fleet collectors rely on (merge = sketch of the
 * union, byte for byte; commutative; associative; idempotent), the register
 * rule at its edges, and pv_hll_check() on every kind of bad image: a
 * compromised worker can write anything into its slot, and the aggregator
 * must refuse it without reading outside the copy. Keys are distinct 64-bit
 * integers hashed with pv_hash64(.., PV_HLL_SEED), as the sensor hashes keys.
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
#include "lib/hash.h"
#include "shm/hll.h"

#ifdef __SANITIZE_ADDRESS__
#define PV_TEST_SAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PV_TEST_SAN 1
#endif
#endif

/* 10^7 keys cost ~60 ms per seed normally; sanitizers slow hashing ~10x. */
#ifdef PV_TEST_SAN
#define MAX_N 1000000ull
#define N_RANDOM_IMAGES 3000
#else
#define MAX_N 10000000ull
#define N_RANDOM_IMAGES 30000
#endif

#define P 14u
#define SZ PV_HLL_SIZE(P)
/* 1.04 / sqrt(2^14): the standard error at the default precision. */
#define STD_ERR (1.04 / 128.0)

static const uint64_t seeds[] = {1, 2, 3, 5, 8, 13, 21, 34};
#define N_SEEDS (sizeof(seeds) / sizeof(seeds[0]))

/* Key i of key set `set`: distinct for distinct (set, i) with i < 2^40. */
static uint64_t key_hash(uint64_t set, uint64_t i)
{
	uint64_t key = (set << 40) | i;

	return pv_hash64(&key, sizeof(key), PV_HLL_SEED);
}

static void feed(void *h, uint64_t set, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++)
		pv_hll_add_hash(h, key_hash(set, i));
}

static uint8_t *new_hll(uint8_t p)
{
	uint8_t *h = malloc(PV_HLL_SIZE(p));

	assert_non_null(h);
	pv_hll_init(h, p);
	return h;
}

static void assert_within(uint64_t est, uint64_t n, const char *what)
{
	double err = fabs((double)est - (double)n);
	double bound = n <= 10 ? 1.0 : 3.0 * STD_ERR * (double)n;

	if (err > bound)
		fail_msg("%s: n %llu estimate %llu, error %.0f > bound %.1f", what,
			 (unsigned long long)n, (unsigned long long)est, err, bound);
}

static void test_size_init(void **state)
{
	(void)state;
	assert_int_equal(pv_hll_size(3), 0);
	assert_int_equal(pv_hll_size(19), 0);
	assert_int_equal(pv_hll_size(0), 0);
	assert_int_equal(pv_hll_size(255), 0);
	assert_int_equal(pv_hll_size(14), 16400);
	for (uint8_t p = PV_HLL_MIN_PRECISION; p <= PV_HLL_MAX_PRECISION; p++) {
		uint8_t *h = new_hll(p);

		assert_int_equal(pv_hll_size(p), PV_HLL_SIZE(p));
		assert_int_equal(PV_HLL_SIZE(p) % 8, 0);
		assert_int_equal(pv_hll_check(h, PV_HLL_SIZE(p)), PV_OK);
		assert_int_equal(pv_hll_precision(h), p);
		assert_int_equal(pv_hll_estimate(h), 0);
		free(h);
	}
}

/* Register value = 1 + leading zeros of the low 64 - p bits, capped at
 * 64 - p + 1; the top p bits choose the register. */
static void test_register_rule(void **state)
{
	uint8_t *h = new_hll(P);
	const uint8_t *reg = h + PV_HLL_HDR_SIZE;
	const unsigned q = 64 - P;

	(void)state;
	pv_hll_add_hash(h, 0);                    /* register 0, all-zero rest */
	assert_int_equal(reg[0], q + 1);
	pv_hll_add_hash(h, UINT64_MAX);           /* last register, rest starts with 1 */
	assert_int_equal(reg[(1u << P) - 1], 1);
	pv_hll_add_hash(h, (5ull << q) | 1);      /* register 5, q - 1 zeros then 1 */
	assert_int_equal(reg[5], q);
	pv_hll_add_hash(h, (5ull << q) | (1ull << (q - 3))); /* smaller: no change */
	assert_int_equal(reg[5], q);
	pv_hll_add_hash(h, (7ull << q) | (1ull << (q - 3)));
	assert_int_equal(reg[7], 3);
	assert_int_equal(pv_hll_check(h, SZ), PV_OK);
	assert_int_equal(pv_hll_estimate(h), 4);
	/* The same at the extreme precisions. */
	for (uint8_t p = PV_HLL_MIN_PRECISION; p <= PV_HLL_MAX_PRECISION; p += 14) {
		uint8_t *g = new_hll(p);

		pv_hll_add_hash(g, 0);
		assert_int_equal(g[PV_HLL_HDR_SIZE], 64 - p + 1);
		assert_int_equal(pv_hll_check(g, PV_HLL_SIZE(p)), PV_OK);
		free(g);
	}
	free(h);
}

/* One pass per key set, the estimate read at every checkpoint: the sketch of
 * the first n keys is exactly the sketch after n adds. */
static void test_accuracy(void **state)
{
	static const uint64_t ns[] = {1,      2,       10,       100,     1000,
				      10000,  100000,  1000000,  10000000};
	uint8_t *h = new_hll(P);
	double worst = 0.0;

	(void)state;
	for (size_t s = 0; s < N_SEEDS; s++) {
		uint64_t done = 0;

		pv_hll_init(h, P);
		for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]) && ns[i] <= MAX_N; i++) {
			uint64_t est;
			char what[64];

			feed(h, seeds[s], done, ns[i]);
			done = ns[i];
			est = pv_hll_estimate(h);
			snprintf(what, sizeof(what), "seed %llu", (unsigned long long)seeds[s]);
			assert_within(est, ns[i], what);
			if (ns[i] > 10) {
				double z = fabs((double)est / (double)ns[i] - 1.0) / STD_ERR;

				worst = z > worst ? z : worst;
			}
			/* Adding the same keys again changes nothing. */
			if (ns[i] <= 1000) {
				uint8_t *again = malloc(SZ);

				assert_non_null(again);
				memcpy(again, h, SZ);
				feed(again, seeds[s], 0, ns[i]);
				assert_memory_equal(again, h, SZ);
				free(again);
			}
		}
	}
	print_message("[          ] worst error %.2f standard errors (bound 3)\n", worst);
	free(h);
}

/* Small sets: exact or off by one, every seed, every n up to 10. */
static void test_tiny_exact(void **state)
{
	uint8_t *h = new_hll(P);

	(void)state;
	for (size_t s = 0; s < N_SEEDS; s++) {
		pv_hll_init(h, P);
		for (uint64_t n = 1; n <= 10; n++) {
			feed(h, seeds[s] + 100, n - 1, n);
			assert_within(pv_hll_estimate(h), n, "tiny");
		}
	}
	free(h);
}

static void test_merge_union_estimate(void **state)
{
	/* A = [0, 600k), B = [400k, 1M): union 1M, intersection 200k. */
	const uint64_t a_to = MAX_N / 10 * 6, b_from = MAX_N / 10 * 4, n = MAX_N;
	uint8_t *a = new_hll(P), *b = new_hll(P);

	(void)state;
	for (size_t s = 0; s < 3; s++) {
		pv_hll_init(a, P);
		pv_hll_init(b, P);
		feed(a, seeds[s], 0, a_to);
		feed(b, seeds[s], b_from, n);
		assert_int_equal(pv_hll_merge(a, b), PV_OK);
		assert_int_equal(pv_hll_check(a, SZ), PV_OK);
		assert_within(pv_hll_estimate(a), n, "merged union");
	}
	free(a);
	free(b);
}

/* sketch(A u B) == sketch(A) (+) sketch(B), byte for byte, at several
 * precisions, with overlapping and disjoint sets. */
static void test_merge_equals_union(void **state)
{
	static const uint8_t ps[] = {4, 10, 14, 18};

	(void)state;
	for (size_t i = 0; i < sizeof(ps); i++) {
		uint8_t p = ps[i];
		uint8_t *a = new_hll(p), *b = new_hll(p), *u = new_hll(p);

		feed(a, 7, 0, 30000);
		feed(b, 7, 20000, 50000);
		feed(b, 9, 0, 1000);
		feed(u, 9, 0, 1000);
		feed(u, 7, 0, 50000);
		assert_int_equal(pv_hll_merge(a, b), PV_OK);
		assert_memory_equal(a, u, PV_HLL_SIZE(p));
		free(a);
		free(b);
		free(u);
	}
}

static void test_merge_commutative_associative(void **state)
{
	uint8_t *a = new_hll(P), *b = new_hll(P), *c = new_hll(P);
	uint8_t *ab = malloc(SZ), *ba = malloc(SZ), *l = malloc(SZ), *r = malloc(SZ);
	uint8_t *bc = malloc(SZ);

	(void)state;
	assert_non_null(ab);
	assert_non_null(ba);
	assert_non_null(l);
	assert_non_null(r);
	assert_non_null(bc);
	feed(a, 11, 0, 40000);
	feed(b, 11, 30000, 90000);
	feed(c, 12, 0, 5000);
	/* a (+) b == b (+) a */
	memcpy(ab, a, SZ);
	assert_int_equal(pv_hll_merge(ab, b), PV_OK);
	memcpy(ba, b, SZ);
	assert_int_equal(pv_hll_merge(ba, a), PV_OK);
	assert_memory_equal(ab, ba, SZ);
	/* (a (+) b) (+) c == a (+) (b (+) c) */
	memcpy(l, ab, SZ);
	assert_int_equal(pv_hll_merge(l, c), PV_OK);
	memcpy(bc, b, SZ);
	assert_int_equal(pv_hll_merge(bc, c), PV_OK);
	memcpy(r, a, SZ);
	assert_int_equal(pv_hll_merge(r, bc), PV_OK);
	assert_memory_equal(l, r, SZ);
	/* Idempotent, also through an aliased call. */
	memcpy(r, l, SZ);
	assert_int_equal(pv_hll_merge(r, r), PV_OK);
	assert_memory_equal(l, r, SZ);
	/* The empty sketch is the identity. */
	pv_hll_init(r, P);
	assert_int_equal(pv_hll_merge(r, l), PV_OK);
	assert_memory_equal(l, r, SZ);
	free(a);
	free(b);
	free(c);
	free(ab);
	free(ba);
	free(l);
	free(r);
	free(bc);
}

static void test_merge_precision_mismatch(void **state)
{
	uint8_t *a = new_hll(14), *b = new_hll(12), *keep = malloc(SZ);

	(void)state;
	assert_non_null(keep);
	feed(a, 1, 0, 100);
	feed(b, 1, 0, 100);
	memcpy(keep, a, SZ);
	assert_int_equal(pv_hll_merge(a, b), PV_ECONFIG);
	assert_memory_equal(a, keep, SZ);
	assert_int_equal(pv_hll_merge(b, a), PV_ECONFIG);
	free(a);
	free(b);
	free(keep);
}

/* Runs pv_hll_check on a heap copy of exactly len bytes, so ASan sees any
 * read past the image. */
static int check_copy(const void *img, size_t len)
{
	void *c = malloc(len ? len : 1);
	int rc;

	assert_non_null(c);
	memcpy(c, img, len);
	rc = pv_hll_check(c, len);
	free(c);
	return rc;
}

struct hll_corruption {
	const char *name;
	size_t off;     /* byte to overwrite */
	uint32_t value; /* written with width `width` */
	unsigned width;
	long dlen;      /* change of the length passed */
	int want;
};

static void test_check_corrupt(void **state)
{
	const size_t regs = PV_HLL_HDR_SIZE, last = SZ - 1;
	const struct hll_corruption cases[] = {
		{"valid", 0, PV_HLL_MAGIC, 4, 0, PV_OK},
		{"one byte short", 0, PV_HLL_MAGIC, 4, -1, PV_ESIZE},
		{"one byte long", 0, PV_HLL_MAGIC, 4, 1, PV_ESIZE},
		{"header only", 0, PV_HLL_MAGIC, 4, -(long)(1u << P), PV_ESIZE},
		{"wrong magic", 0, 0x4c4c4857, 4, 0, PV_EMAGIC},
		{"wrong version", 4, 2, 1, 0, PV_EVERSION},
		{"precision 0", 5, 0, 1, 0, PV_ECORRUPT},
		{"precision 3", 5, 3, 1, 0, PV_ECORRUPT},
		{"precision 19", 5, 19, 1, 0, PV_ECORRUPT},
		{"precision 255", 5, 255, 1, 0, PV_ECORRUPT},
		{"precision 13 (len says 14)", 5, 13, 1, 0, PV_ESIZE},
		{"precision 15 (len says 14)", 5, 15, 1, 0, PV_ESIZE},
		{"reserved", 6, 1, 2, 0, PV_ECORRUPT},
		{"nregs", 8, 1u << 13, 4, 0, PV_ECORRUPT},
		{"nregs zero", 8, 0, 4, 0, PV_ECORRUPT},
		{"reserved2", 12, 0x80000000u, 4, 0, PV_ECORRUPT},
		{"first register q+1", regs, 64 - P + 1, 1, 0, PV_OK},
		{"first register q+2", regs, 64 - P + 2, 1, 0, PV_ECORRUPT},
		{"last register q+2", last, 64 - P + 2, 1, 0, PV_ECORRUPT},
		{"last register 255", last, 255, 1, 0, PV_ECORRUPT},
		{"middle register 64", regs + 5000, 64, 1, 0, PV_ECORRUPT},
	};
	uint8_t *base = new_hll(P), *img = malloc(SZ + 1);

	(void)state;
	assert_non_null(img);
	feed(base, 3, 0, 20000);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hll_corruption *c = &cases[i];
		int rc;

		memcpy(img, base, SZ);
		img[SZ] = 0;
		if (c->width == 1)
			img[c->off] = (uint8_t)c->value;
		else if (c->width == 2) {
			uint16_t v = (uint16_t)c->value;

			memcpy(img + c->off, &v, 2);
		} else
			memcpy(img + c->off, &c->value, 4);
		rc = check_copy(img, (size_t)((long)SZ + c->dlen));
		if (rc != c->want)
			fail_msg("case '%s': got %d (%s), want %d (%s)", c->name, rc,
				 pv_strerror(rc), c->want, pv_strerror(c->want));
	}
	/* Every length short of a header. */
	for (size_t len = 0; len < PV_HLL_HDR_SIZE; len++)
		assert_int_equal(check_copy(base, len), PV_ESIZE);
	free(base);
	free(img);
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * Random images: pure noise of random lengths (refused by the magic), noise
 * behind a valid header (refused or accepted exactly as a reference scan of
 * the registers says), and valid images with a few random bytes flipped.
 * Accepted ones must estimate and merge without trouble.
 */
static void test_check_random(void **state)
{
	uint64_t rng = 42;
	uint8_t *valid = new_hll(10), *fresh = new_hll(10);
	const size_t vsz = PV_HLL_SIZE(10);
	unsigned accepted = 0;

	(void)state;
	feed(valid, 5, 0, 3000);
	for (int i = 0; i < N_RANDOM_IMAGES; i++) {
		unsigned mode = i % 3;
		size_t len = mode == 0 ? rng_next(&rng) % (vsz + 64) : vsz;
		uint8_t *img = malloc(len ? len : 1);
		int rc, want;

		assert_non_null(img);
		for (size_t k = 0; k < len; k++)
			img[k] = (uint8_t)rng_next(&rng);
		if (mode == 1) {
			/* Registers in the valid range 0..55, one in 4096 above
			 * it: about a fifth of these images hold a bad one. */
			memcpy(img, valid, PV_HLL_HDR_SIZE);
			for (size_t k = PV_HLL_HDR_SIZE; k < len; k++) {
				uint64_t r = rng_next(&rng);

				img[k] = r % 4096 == 0 ? (uint8_t)(56 + (r >> 12) % 200)
						       : (uint8_t)((r >> 12) % 56);
			}
			want = PV_OK;
			for (size_t k = PV_HLL_HDR_SIZE; k < len; k++)
				if (img[k] > 64 - 10 + 1)
					want = PV_ECORRUPT;
		} else if (mode == 2) {
			memcpy(img, valid, len);
			for (int f = 0; f < 3; f++)
				img[rng_next(&rng) % len] ^= (uint8_t)(1u << (rng_next(&rng) % 8));
			want = -1; /* anything but a crash */
		} else {
			want = len >= 4 && memcmp(img, valid, 4) == 0 ? -1 : PV_EMAGIC;
			if (len < PV_HLL_HDR_SIZE)
				want = PV_ESIZE;
		}
		rc = pv_hll_check(img, len);
		if (want != -1 && rc != want)
			fail_msg("image %d (mode %u, len %zu): got %d want %d", i, mode, len, rc,
				 want);
		if (rc == PV_OK) {
			uint8_t *m = malloc(vsz);

			assert_non_null(m);
			accepted++;
			memcpy(m, fresh, vsz);
			assert_int_equal(pv_hll_merge(m, img), PV_OK);
			assert_memory_equal(m, img, vsz);
			(void)pv_hll_estimate(img);
			free(m);
		}
		free(img);
	}
	print_message("[          ] %d random images, %u accepted\n", N_RANDOM_IMAGES, accepted);
	free(valid);
	free(fresh);
}

/* An unchecked (live, torn) copy may hold any register byte: the estimate
 * must still be computed without reading outside the histogram. */
static void test_estimate_garbage_registers(void **state)
{
	uint8_t *h = new_hll(P);

	(void)state;
	memset(h + PV_HLL_HDR_SIZE, 0xff, 1u << P);
	(void)pv_hll_estimate(h);
	memset(h + PV_HLL_HDR_SIZE, 64 - P + 1, 1u << P);
	assert_int_equal(pv_hll_check(h, SZ), PV_OK);
	/* All registers saturated: beyond anything countable, but finite. */
	assert_true(pv_hll_estimate(h) > 1000000000000000000ull);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_init),
		cmocka_unit_test(test_register_rule),
		cmocka_unit_test(test_accuracy),
		cmocka_unit_test(test_tiny_exact),
		cmocka_unit_test(test_merge_union_estimate),
		cmocka_unit_test(test_merge_equals_union),
		cmocka_unit_test(test_merge_commutative_associative),
		cmocka_unit_test(test_merge_precision_mismatch),
		cmocka_unit_test(test_check_corrupt),
		cmocka_unit_test(test_check_random),
		cmocka_unit_test(test_estimate_garbage_registers),
	};

	return cmocka_run_group_tests_name("hll", tests, NULL, NULL);
}
