/*
 * cmocka tests for the Space-Saving top-K tables (shm/topk.c). Tiny tables
 * are checked against Space-Saving and merge results computed by hand (the
 * arithmetic is in the comments). Larger cases feed Zipf streams (several
 * exponents, 10^5..10^6 distinct keys, 10^6 items) of
 * 4-byte, 16-byte and 1..255-byte keys, count the exact truth per key here,
 * and assert the guarantee of topk.h for every key: listed keys overestimate
 * by at most their error and by at most N/m, and every key above N/m is
 * listed - for single tables, for merges of shards split by key hash and
 * round-robin, for merges in both orders and groupings, with empty tables and
 * with themselves, and for adds after merges. A table holding phantom
 * counters (a floor while not full), which honest tables never reach but
 * check accepts, gets its own hand-computed case. pv_topk_check() is fed
 * targeted corruptions of every field (each must be refused with its code),
 * every short length, and random byte flips (a flipped table that still
 * passes must list and merge into tables that pass again); every buffer
 * handed to check is exactly as long as claimed so the sanitizer build sees
 * any over-read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "lib/err.h"
#include "shm/topk.h"

/* 10^6 items per stream; the sanitizer build runs the same sizes well
 * within its time budget. */
#define STREAM_ITEMS 1000000u

/* ---- tables ---- */

static void *tk_new(uint32_t cap, uint32_t km, uint64_t seed)
{
	size_t size = pv_topk_size(cap, km);
	void *t;

	assert_true(size != 0);
	t = aligned_alloc(64, size);
	assert_non_null(t);
	pv_topk_init(t, cap, km, seed);
	return t;
}

static size_t tk_size(const void *t)
{
	const struct pv_topk_hdr *h = t;

	return pv_topk_size(h->capacity, h->key_max);
}

static void *tk_dup(const void *t)
{
	size_t size = tk_size(t);
	void *c = aligned_alloc(64, size);

	assert_non_null(c);
	memcpy(c, t, size);
	return c;
}

static void adds(void *t, const char *key, uint64_t weight)
{
	pv_topk_add(t, key, (uint32_t)strlen(key), weight);
}

/* Layout access for the corruption cases, from the header's contract. */
static struct pv_topk_node *tk_nodes(void *t)
{
	return (struct pv_topk_node *)((uint8_t *)t + PV_TOPK_HEAP_OFF);
}

static struct pv_topk_entry *tk_entry(void *t, uint32_t j)
{
	struct pv_topk_hdr *h = t;
	uint8_t *ent = (uint8_t *)(tk_nodes(t) + h->capacity);

	return (struct pv_topk_entry *)(ent + (size_t)j * h->stride);
}

static uint32_t *tk_index(void *t)
{
	struct pv_topk_hdr *h = t;

	return (uint32_t *)((uint8_t *)tk_entry(t, 0) + (size_t)h->capacity * h->stride);
}

/* One listed entry, expected. */
struct want {
	const char *key;
	uint64_t estimate;
	uint64_t error;
};

static void assert_list(const void *t, const struct want *w, uint32_t nw)
{
	struct pv_topk_item it[64];
	uint32_t k = pv_topk_list(t, it, 64);

	assert_int_equal(k, nw);
	for (uint32_t i = 0; i < nw; i++) {
		assert_int_equal(it[i].key_len, strlen(w[i].key));
		assert_memory_equal(it[i].key, w[i].key, it[i].key_len);
		assert_int_equal(it[i].estimate, w[i].estimate);
		assert_int_equal(it[i].error, w[i].error);
	}
	assert_int_equal(pv_topk_check(t, tk_size(t)), PV_OK);
}

/* ---- streams: Zipf ranks and keys derived from them ---- */

#include "tests/common/zipf.h"

enum ktype { K_IPV4, K_IPV6, K_NAME };

static const uint32_t key_max_of[] = {[K_IPV4] = 4, [K_IPV6] = 16, [K_NAME] = 255};

static uint8_t filler[512];

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/*
 * The key of a rank. IPv4: 10.0.0.0 + rank; IPv6: 2001:db8:: + rank. Names:
 * 1..255 bytes, length chosen by the rank, starting with the rank's
 * little-endian bytes (all of them if the name is shorter than 4 bytes, which
 * only ranks that fit allow), so each rank has one name and names decode back.
 */
static uint32_t key_of(enum ktype kt, uint32_t rank, uint8_t *out)
{
	switch (kt) {
	case K_IPV4: {
		uint32_t a = 0x0a000000u + rank;

		out[0] = (uint8_t)(a >> 24);
		out[1] = (uint8_t)(a >> 16);
		out[2] = (uint8_t)(a >> 8);
		out[3] = (uint8_t)a;
		return 4;
	}
	case K_IPV6:
		memset(out, 0, 16);
		out[0] = 0x20;
		out[1] = 0x01;
		out[2] = 0x0d;
		out[3] = 0xb8;
		out[12] = (uint8_t)(rank >> 24);
		out[13] = (uint8_t)(rank >> 16);
		out[14] = (uint8_t)(rank >> 8);
		out[15] = (uint8_t)rank;
		return 16;
	case K_NAME: {
		uint64_t h = mix(rank);
		uint32_t len = 1 + (uint32_t)(h % 255), need = 1;

		while (need < 4 && (rank >> (8 * need)) != 0)
			need++;
		if (len < need)
			len = need;
		for (uint32_t i = 0; i < len && i < 4; i++)
			out[i] = (uint8_t)(rank >> (8 * i));
		if (len > 4)
			memcpy(out + 4, filler + ((h >> 8) & 255), len - 4);
		return len;
	}
	}
	return 0;
}

static uint32_t rank_of(enum ktype kt, const uint8_t *k, uint32_t len)
{
	uint32_t r = 0;

	switch (kt) {
	case K_IPV4:
		assert_int_equal(len, 4);
		return (((uint32_t)k[0] << 24) | ((uint32_t)k[1] << 16) | ((uint32_t)k[2] << 8) |
			k[3]) -
		       0x0a000000u;
	case K_IPV6:
		assert_int_equal(len, 16);
		return ((uint32_t)k[12] << 24) | ((uint32_t)k[13] << 16) | ((uint32_t)k[14] << 8) |
		       k[15];
	case K_NAME:
		for (uint32_t i = 0; i < len && i < 4; i++)
			r |= (uint32_t)k[i] << (8 * i);
		return r;
	}
	return UINT32_MAX;
}

struct stream {
	uint32_t *ranks;
	uint32_t items;
	uint32_t universe;
	double s;
};

/* Exponents and universes of the generated streams, one per seed. */
static const struct {
	double s;
	uint32_t universe;
} stream_params[] = {
    {1.0, 1000000}, {1.1, 1000000}, {1.2, 100000}, {1.05, 500000}, {1.15, 200000},
};
#define N_STREAMS (sizeof(stream_params) / sizeof(stream_params[0]))

static struct stream streams[N_STREAMS];

static int streams_setup(void **state)
{
	(void)state;
	rng_state = 42;
	for (size_t i = 0; i < sizeof(filler); i++)
		filler[i] = (uint8_t)('a' + rng_next() % 26);
	for (size_t i = 0; i < N_STREAMS; i++) {
		struct stream *st = &streams[i];
		struct zipf z;

		rng_state = 1000 + i;
		st->items = STREAM_ITEMS;
		st->universe = stream_params[i].universe;
		st->s = stream_params[i].s;
		st->ranks = malloc(sizeof(uint32_t) * st->items);
		if (!st->ranks)
			return -1;
		zipf_init(&z, st->universe, st->s);
		for (uint32_t j = 0; j < st->items; j++)
			st->ranks[j] = zipf_draw(&z);
	}
	return 0;
}

static int streams_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_STREAMS; i++)
		free(streams[i].ranks);
	return 0;
}

/* Exact weight per rank, the ground truth. */
struct truth {
	uint64_t *f;
	uint32_t universe;
	uint64_t n;
};

static void truth_init(struct truth *tr, uint32_t universe)
{
	tr->f = calloc(universe, sizeof(*tr->f));
	assert_non_null(tr->f);
	tr->universe = universe;
	tr->n = 0;
}

static void truth_fini(struct truth *tr)
{
	free(tr->f);
}

/* Which items of a stream a feed takes. */
enum pick { P_ALL, P_HASH, P_RR };

static int picked(enum pick p, uint32_t part, uint32_t parts, uint32_t item, const uint8_t *key,
		  uint32_t len)
{
	switch (p) {
	case P_ALL:
		return 1;
	case P_HASH:
		return XXH64(key, len, 7) % parts == part;
	case P_RR:
		return item % parts == part;
	}
	return 0;
}

/* Adds the picked items of st to t (if t) and to tr (if tr), weight w. */
static void feed(void *t, struct truth *tr, const struct stream *st, enum ktype kt, enum pick p,
		 uint32_t part, uint32_t parts, uint64_t w)
{
	uint8_t key[256];

	for (uint32_t i = 0; i < st->items; i++) {
		uint32_t r = st->ranks[i];
		uint32_t len = key_of(kt, r, key);

		if (!picked(p, part, parts, i, key, len))
			continue;
		if (t)
			pv_topk_add(t, key, len, w);
		if (tr) {
			tr->f[r] += w;
			tr->n += w;
		}
	}
}

/*
 * The guarantee of topk.h against the truth, for every key of the universe,
 * plus the listing order and check.
 */
static void verify(const void *t, const struct truth *tr, enum ktype kt)
{
	uint32_t m = pv_topk_capacity(t);
	uint64_t n = pv_topk_total(t);
	struct pv_topk_item *it = calloc(m, sizeof(*it));
	uint8_t *seen = calloc(tr->universe, 1);
	uint32_t k;

	assert_non_null(it);
	assert_non_null(seen);
	assert_int_equal(n, tr->n);
	assert_int_equal(pv_topk_check(t, tk_size(t)), PV_OK);
	k = pv_topk_list(t, it, m);
	assert_true(k <= m);
	for (uint32_t i = 0; i < k; i++) {
		uint32_t r = rank_of(kt, it[i].key, it[i].key_len);
		uint64_t f;

		assert_true(r < tr->universe);
		assert_false(seen[r]);
		seen[r] = 1;
		f = tr->f[r];
		assert_true(it[i].estimate >= f);
		assert_true(it[i].estimate - it[i].error <= f);
		assert_true(it[i].error <= it[i].estimate);
		assert_true((it[i].estimate - f) * m <= n);
		assert_true(it[i].error * m <= n);
		if (i > 0)
			assert_true(it[i - 1].estimate >= it[i].estimate);
	}
	for (uint32_t r = 0; r < tr->universe; r++)
		if (tr->f[r] * m > n)
			assert_true(seen[r]);
	free(seen);
	free(it);
}

static void assert_same_list(const void *a, const void *b)
{
	uint32_t m = pv_topk_capacity(a);
	struct pv_topk_item *x = calloc(m, sizeof(*x)), *y = calloc(m, sizeof(*y));
	uint32_t kx, ky;

	assert_non_null(x);
	assert_non_null(y);
	kx = pv_topk_list(a, x, m);
	ky = pv_topk_list(b, y, m);
	assert_int_equal(kx, ky);
	for (uint32_t i = 0; i < kx; i++) {
		assert_int_equal(x[i].key_len, y[i].key_len);
		assert_memory_equal(x[i].key, y[i].key, x[i].key_len);
		assert_int_equal(x[i].estimate, y[i].estimate);
		assert_int_equal(x[i].error, y[i].error);
	}
	assert_int_equal(pv_topk_total(a), pv_topk_total(b));
	free(x);
	free(y);
}

/* ---- size and layout ---- */

static void test_size(void **state)
{
	static const uint32_t caps[] = {1, 2, 3, 4, 7, 64, 1000, 1024, 1025, 4096, 65535};
	static const uint32_t kms[] = {1, 4, 6, 16, 40, 255, 1024};

	(void)state;
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		for (size_t j = 0; j < sizeof(kms) / sizeof(kms[0]); j++) {
			size_t s = pv_topk_size(caps[i], kms[j]);

			assert_int_equal(s, PV_TOPK_SIZE(caps[i], kms[j]));
			assert_int_equal(s % 64, 0);
			assert_true(s >= 64 + (size_t)caps[i] * (16 + 18 + kms[j]) +
					     4 * 2 * (size_t)caps[i]);
		}
	/* Usable as an array size (the metrics block declares them so). */
	{
		struct {
			uint8_t t[PV_TOPK_SIZE(1024, 16)];
		} blk;
		assert_int_equal(sizeof(blk.t), pv_topk_size(1024, 16));
	}
	assert_int_equal(pv_topk_size(0, 4), 0);
	assert_int_equal(pv_topk_size(4, 0), 0);
	assert_int_equal(pv_topk_size(PV_TOPK_MAX_CAPACITY + 1, 4), 0);
	assert_int_equal(pv_topk_size(4, PV_TOPK_MAX_KEY + 1), 0);
	assert_int_not_equal(pv_topk_size(PV_TOPK_MAX_CAPACITY, PV_TOPK_MAX_KEY), 0);
}

static void test_empty(void **state)
{
	void *t = tk_new(16, 8, 1);
	struct pv_topk_item it[4];

	(void)state;
	assert_int_equal(pv_topk_check(t, tk_size(t)), PV_OK);
	assert_int_equal(pv_topk_list(t, it, 4), 0);
	assert_int_equal(pv_topk_total(t), 0);
	assert_int_equal(pv_topk_capacity(t), 16);
	adds(t, "x", 1);
	assert_int_equal(pv_topk_list(t, it, 0), 0);
	free(t);
}

/* ---- exact Space-Saving on tiny tables ---- */

static void test_exact_not_full(void **state)
{
	void *t = tk_new(4, 8, 3);

	(void)state;
	/* Below capacity Space-Saving is exact: errors 0. */
	adds(t, "a", 1);
	adds(t, "b", 1);
	adds(t, "a", 1);
	adds(t, "c", 5);
	adds(t, "a", 1);
	static const struct want w[] = {{"c", 5, 0}, {"a", 3, 0}, {"b", 1, 0}};
	assert_list(t, w, 3);
	assert_int_equal(pv_topk_total(t), 9);
	free(t);
}

static void test_exact_evictions(void **state)
{
	void *t = tk_new(4, 8, 5);

	(void)state;
	/*
	 * a10 b6 c3 d1 fill the table. e1: min is d(1) -> e = 1+1, error 1.
	 * f1: min is e(2) -> f = 3, error 2. c1: hit, c = 4. g5: min is f(3)
	 * -> g = 8, error 3. h2: min is c(4) -> h = 6, error 4. b3: hit,
	 * b = 9. Weights chosen so no eviction has a tie.
	 */
	adds(t, "a", 10);
	adds(t, "b", 6);
	adds(t, "c", 3);
	adds(t, "d", 1);
	adds(t, "e", 1);
	static const struct want w1[] = {{"a", 10, 0}, {"b", 6, 0}, {"c", 3, 0}, {"e", 2, 1}};
	assert_list(t, w1, 4);
	adds(t, "f", 1);
	adds(t, "c", 1);
	adds(t, "g", 5);
	static const struct want w2[] = {{"a", 10, 0}, {"g", 8, 3}, {"b", 6, 0}, {"c", 4, 0}};
	assert_list(t, w2, 4);
	adds(t, "h", 2);
	adds(t, "b", 3);
	static const struct want w3[] = {{"a", 10, 0}, {"b", 9, 0}, {"g", 8, 3}, {"h", 6, 4}};
	assert_list(t, w3, 4);
	/* Sum of counts = N in plain Space-Saving: 10+9+8+6 = 33. */
	assert_int_equal(pv_topk_total(t), 33);
	free(t);
}

static void test_exact_tie(void **state)
{
	void *t = tk_new(4, 8, 7);
	struct pv_topk_item it[4];
	int ones = 0;

	(void)state;
	/* a b c d e with weight 1: e evicts one of the four minima. */
	adds(t, "a", 1);
	adds(t, "b", 1);
	adds(t, "c", 1);
	adds(t, "d", 1);
	adds(t, "e", 1);
	assert_int_equal(pv_topk_list(t, it, 4), 4);
	assert_int_equal(it[0].key_len, 1);
	assert_int_equal(it[0].key[0], 'e');
	assert_int_equal(it[0].estimate, 2);
	assert_int_equal(it[0].error, 1);
	for (int i = 1; i < 4; i++) {
		assert_true(it[i].key[0] >= 'a' && it[i].key[0] <= 'd');
		assert_int_equal(it[i].estimate, 1);
		assert_int_equal(it[i].error, 0);
		if (i > 1)
			assert_true(it[i - 1].key[0] < it[i].key[0]);
		ones++;
	}
	assert_int_equal(ones, 3);
	assert_int_equal(pv_topk_check(t, tk_size(t)), PV_OK);
	free(t);
}

static void test_capacity_one(void **state)
{
	void *t = tk_new(1, 4, 9);

	(void)state;
	adds(t, "a", 2);
	adds(t, "b", 1); /* evicts a: b = 3, error 2 */
	adds(t, "b", 1);
	static const struct want w[] = {{"b", 4, 2}};
	assert_list(t, w, 1);
	free(t);
}

static void test_list_order(void **state)
{
	void *t = tk_new(8, 8, 11);
	struct pv_topk_item it[8];

	(void)state;
	/* Equal estimates list by key bytes, a prefix (and "") first. */
	adds(t, "b", 2);
	adds(t, "ab", 2);
	pv_topk_add(t, "", 0, 2);
	adds(t, "a", 2);
	adds(t, "z", 3);
	adds(t, "y", 1);
	static const struct want w[] = {{"z", 3, 0}, {"", 2, 0}, {"a", 2, 0},
					{"ab", 2, 0}, {"b", 2, 0}, {"y", 1, 0}};
	assert_list(t, w, 6);
	/* A shorter listing is the prefix of the full one. */
	for (uint32_t max = 1; max <= 6; max++) {
		assert_int_equal(pv_topk_list(t, it, max), max);
		for (uint32_t i = 0; i < max; i++) {
			assert_int_equal(it[i].key_len, strlen(w[i].key));
			assert_memory_equal(it[i].key, w[i].key, it[i].key_len);
		}
	}
	free(t);
}

static void test_truncation(void **state)
{
	void *t = tk_new(8, 8, 13);
	struct pv_topk_item it[8];

	(void)state;
	/* Longer than key_max: counted as the first key_max bytes. */
	adds(t, "abcdefghij", 1);
	adds(t, "abcdefghXYZ", 2);
	adds(t, "abcdefgh", 1);
	adds(t, "abcdefg", 1);
	assert_int_equal(pv_topk_list(t, it, 8), 2);
	assert_int_equal(it[0].key_len, 8);
	assert_memory_equal(it[0].key, "abcdefgh", 8);
	assert_int_equal(it[0].estimate, 4);
	assert_int_equal(it[1].key_len, 7);
	assert_int_equal(it[1].estimate, 1);
	assert_int_equal(pv_topk_check(t, tk_size(t)), PV_OK);
	free(t);
}

static void test_deterministic(void **state)
{
	const struct stream *st = &streams[2];
	void *a = tk_new(256, 16, 21), *b = tk_new(256, 16, 21);

	(void)state;
	feed(a, NULL, st, K_IPV6, P_ALL, 0, 1, 1);
	feed(b, NULL, st, K_IPV6, P_ALL, 0, 1, 1);
	assert_memory_equal(a, b, tk_size(a));
	free(a);
	free(b);
}

/* ---- accuracy against the truth ---- */

static void run_accuracy(enum ktype kt)
{
	for (size_t i = 0; i < N_STREAMS; i++) {
		const struct stream *st = &streams[i];
		void *t = tk_new(1024, key_max_of[kt], 0x5eed0000u + i);
		struct truth tr;

		truth_init(&tr, st->universe);
		feed(t, &tr, st, kt, P_ALL, 0, 1, 1);
		verify(t, &tr, kt);
		truth_fini(&tr);
		free(t);
	}
}

static void test_accuracy_ipv4(void **state)
{
	(void)state;
	run_accuracy(K_IPV4);
}

static void test_accuracy_ipv6(void **state)
{
	(void)state;
	run_accuracy(K_IPV6);
}

static void test_accuracy_names(void **state)
{
	(void)state;
	run_accuracy(K_NAME);
}

static void test_accuracy_weighted(void **state)
{
	const struct stream *st = &streams[3];
	void *t = tk_new(512, 255, 77);
	struct truth tr;
	uint8_t key[256];

	(void)state;
	/* Weights as for "by bytes" tables: 40..1500 per item. */
	truth_init(&tr, st->universe);
	for (uint32_t i = 0; i < st->items; i++) {
		uint32_t r = st->ranks[i];
		uint32_t len = key_of(K_NAME, r, key);
		uint64_t w = 40 + mix(i) % 1461;

		pv_topk_add(t, key, len, w);
		tr.f[r] += w;
		tr.n += w;
	}
	verify(t, &tr, K_NAME);
	truth_fini(&tr);
	free(t);
}

/* ---- merge ---- */

static void test_merge_hand_exact(void **state)
{
	void *a = tk_new(4, 8, 1), *b = tk_new(4, 8, 1);

	(void)state;
	/*
	 * Two exact tables (mu = 0 on both): U = a7 d4 b3 c1 e1, lower bounds
	 * the same. Keep the 4 largest, c before e by key; the floor is e's
	 * U = 1. Every error is 0. N = 16.
	 */
	adds(a, "a", 5);
	adds(a, "b", 3);
	adds(a, "c", 1);
	adds(b, "a", 2);
	adds(b, "d", 4);
	adds(b, "e", 1);
	assert_int_equal(pv_topk_merge(a, b), PV_OK);
	static const struct want w[] = {{"a", 7, 0}, {"d", 4, 0}, {"b", 3, 0}, {"c", 1, 0}};
	assert_list(a, w, 4);
	assert_int_equal(pv_topk_total(a), 16);
	assert_int_equal(((struct pv_topk_hdr *)a)->floor, 1);
	/* Adds go on as Space-Saving: e evicts c(1): 2, error 1 (true 2). */
	adds(a, "e", 1);
	static const struct want w2[] = {{"a", 7, 0}, {"d", 4, 0}, {"b", 3, 0}, {"e", 2, 1}};
	assert_list(a, w2, 4);
	free(a);
	free(b);
}

static void test_merge_hand_errors(void **state)
{
	void *a = tk_new(4, 8, 1), *b = tk_new(4, 8, 2);
	void *a2, *b2;

	(void)state;
	/*
	 * A: a10 b6 c3 d1, then e1 evicts d: e2 (error 1); N = 21, mu = 2.
	 * B: a1 f5, exact; N = 6, mu = 0. Upper bounds U: a 10+1 = 11,
	 * f 2+5 = 7 (A's mu for the absent side), b 6+0, c 3+0, e 2+0.
	 * Keep a f b c; e's U = 2 is the floor (= mu_a + mu_b too).
	 * Lower bounds: a 10+1 -> error 0; f 0+5 -> error 2 (true 5);
	 * b 6, c 3 exact. N = 27.
	 */
	adds(a, "a", 10);
	adds(a, "b", 6);
	adds(a, "c", 3);
	adds(a, "d", 1);
	adds(a, "e", 1);
	adds(b, "a", 1);
	adds(b, "f", 5);
	a2 = tk_dup(a);
	b2 = tk_dup(b);
	assert_int_equal(pv_topk_merge(a, b), PV_OK);
	static const struct want w[] = {{"a", 11, 0}, {"f", 7, 2}, {"b", 6, 0}, {"c", 3, 0}};
	assert_list(a, w, 4);
	assert_int_equal(pv_topk_total(a), 27);
	assert_int_equal(((struct pv_topk_hdr *)a)->floor, 2);
	/* The other way round: same list (different seed, so not bytes). */
	assert_int_equal(pv_topk_merge(b2, a2), PV_OK);
	assert_list(b2, w, 4);
	free(a);
	free(b);
	free(a2);
	free(b2);
}

static void test_merge_hand_cut(void **state)
{
	void *a = tk_new(3, 8, 1), *b = tk_new(3, 8, 1), *c = tk_new(2, 8, 1), *d = tk_new(2, 8, 1);

	(void)state;
	/*
	 * Capacity 3, sides not full (mu = 0): U = a5 b1 c1 d1. Keep a b c
	 * (by key among the 1s); the floor is the largest U left out, d's 1.
	 * Counts stay exact: the sum of the bounds, not the MG estimate
	 * g - delta + floor(D'/m) = 4 + 2 = 6 for a.
	 */
	adds(a, "a", 5);
	adds(a, "b", 1);
	adds(b, "d", 1);
	adds(b, "c", 1);
	assert_int_equal(pv_topk_merge(a, b), PV_OK);
	static const struct want w[] = {{"a", 5, 0}, {"b", 1, 0}, {"c", 1, 0}};
	assert_list(a, w, 3);
	assert_int_equal(((struct pv_topk_hdr *)a)->floor, 1);
	assert_int_equal(pv_topk_total(a), 8);
	/* b grows; d comes back, evicts c(1) and counts 1 + 1, error 1. */
	adds(a, "b", 1);
	adds(a, "d", 1);
	static const struct want w2[] = {{"a", 5, 0}, {"b", 2, 0}, {"d", 2, 1}};
	assert_list(a, w2, 3);
	/*
	 * The same at capacity 2: now both sides are full, so each side's
	 * minimum (1) bounds the keys it does not hold. U: a 5+1, b 1+1,
	 * c 1+1, d 1+1; keep a and b; floor max(1 + 1, 2) = 2; errors
	 * U - L: a 6-5, b 2-1.
	 */
	adds(c, "a", 5);
	adds(c, "b", 1);
	adds(d, "d", 1);
	adds(d, "c", 1);
	assert_int_equal(pv_topk_merge(c, d), PV_OK);
	static const struct want w3[] = {{"a", 6, 1}, {"b", 2, 1}};
	assert_list(c, w3, 2);
	assert_int_equal(((struct pv_topk_hdr *)c)->floor, 2);
	free(a);
	free(b);
	free(c);
	free(d);
}

static void test_floor_phantoms(void **state)
{
	void *t = tk_new(4, 8, 1), *b = tk_new(4, 8, 2);
	struct pv_topk_hdr *h = t;

	(void)state;
	/*
	 * A table that is not full but has a floor: 4 phantom counters of 3
	 * for a stream of 12 whose keys it does not hold. (Adds and merges
	 * of honest tables never leave one - a merge result is full or has
	 * floor 0 - but check accepts it, so list, add and merge must keep
	 * the invariants for it too.)
	 */
	h->floor = 3;
	h->total = 12;
	assert_int_equal(pv_topk_check(t, tk_size(t)), PV_OK);
	/* A new key takes a phantom: 3 + 1, error 3. */
	adds(t, "x", 1);
	static const struct want w[] = {{"x", 4, 3}};
	assert_list(t, w, 1);
	/*
	 * Merge with an exact B = x2 y1 (mu 0). U: x 4+2, y 3+1 (t's floor
	 * bounds y on its side); L: x 1+2, y 0+1; errors 3 and 3. Two keys
	 * kept of 4: the floor stays mu_t + mu_b = 3.
	 */
	adds(b, "x", 2);
	adds(b, "y", 1);
	assert_int_equal(pv_topk_merge(t, b), PV_OK);
	static const struct want w2[] = {{"x", 6, 3}, {"y", 4, 3}};
	assert_list(t, w2, 2);
	assert_int_equal(h->floor, 3);
	assert_int_equal(pv_topk_total(t), 16);
	/* J is tight here: 6 + 4 + 2 phantoms x 3 = 16. One less in total
	 * and the phantoms no longer fit: refused. */
	h->total = 15;
	assert_int_equal(pv_topk_check(t, tk_size(t)), PV_ECORRUPT);
	free(t);
	free(b);
}

static void test_merge_mismatch(void **state)
{
	void *a = tk_new(8, 8, 1), *b = tk_new(16, 8, 1), *c = tk_new(8, 9, 1);

	(void)state;
	adds(a, "x", 1);
	assert_int_equal(pv_topk_merge(a, b), PV_ECONFIG);
	assert_int_equal(pv_topk_merge(a, c), PV_ECONFIG);
	assert_int_equal(pv_topk_merge(b, a), PV_ECONFIG);
	assert_int_equal(pv_topk_total(a), 1);
	/* Totals that do not add up in 64 bits: refused, dst unchanged. */
	free(c);
	c = tk_new(8, 8, 1);
	pv_topk_add(c, "y", 1, UINT64_MAX);
	{
		void *before = tk_dup(a);

		assert_int_equal(pv_topk_merge(a, c), -EOVERFLOW);
		assert_memory_equal(a, before, tk_size(a));
		free(before);
	}
	free(a);
	free(b);
	free(c);
}

/* Builds shard tables of st split by pick into parts; truth of the union. */
static void build_shards(void **sh, uint32_t parts, const struct stream *st, enum ktype kt,
			 enum pick p, uint32_t cap, const uint64_t *seeds, struct truth *tr)
{
	truth_init(tr, st->universe);
	for (uint32_t i = 0; i < parts; i++) {
		sh[i] = tk_new(cap, key_max_of[kt], seeds[i]);
		feed(sh[i], NULL, st, kt, p, i, parts, 1);
	}
	feed(NULL, tr, st, kt, P_ALL, 0, 1, 1);
}

static void run_merge_two(const struct stream *st, enum ktype kt, enum pick p)
{
	static const uint64_t same[] = {99, 99};
	static const uint64_t diff[] = {99, 12345};
	void *sh[2];
	struct truth tr;

	for (int pass = 0; pass < 2; pass++) {
		void *ab, *ba;

		build_shards(sh, 2, st, kt, p, 1024, pass ? diff : same, &tr);
		ab = tk_dup(sh[0]);
		ba = tk_dup(sh[1]);
		assert_int_equal(pv_topk_merge(ab, sh[1]), PV_OK);
		assert_int_equal(pv_topk_merge(ba, sh[0]), PV_OK);
		verify(ab, &tr, kt);
		verify(ba, &tr, kt);
		assert_same_list(ab, ba);
		if (!pass)
			assert_memory_equal(ab, ba, tk_size(ab));
		free(ab);
		free(ba);
		free(sh[0]);
		free(sh[1]);
		truth_fini(&tr);
	}
}

static void test_merge_split_hash(void **state)
{
	(void)state;
	run_merge_two(&streams[0], K_IPV4, P_HASH);
	run_merge_two(&streams[4], K_NAME, P_HASH);
}

static void test_merge_split_rr(void **state)
{
	(void)state;
	run_merge_two(&streams[1], K_IPV6, P_RR);
	run_merge_two(&streams[2], K_NAME, P_RR);
}

static void test_merge_assoc(void **state)
{
	static const uint64_t seeds[] = {5, 6, 7};
	const struct stream *st = &streams[3];
	void *sh[3], *l, *r, *bc;
	struct truth tr;

	(void)state;
	build_shards(sh, 3, st, K_IPV4, P_HASH, 1024, seeds, &tr);
	/* (a + b) + c */
	l = tk_dup(sh[0]);
	assert_int_equal(pv_topk_merge(l, sh[1]), PV_OK);
	assert_int_equal(pv_topk_merge(l, sh[2]), PV_OK);
	/* a + (b + c) */
	bc = tk_dup(sh[1]);
	assert_int_equal(pv_topk_merge(bc, sh[2]), PV_OK);
	r = tk_dup(sh[0]);
	assert_int_equal(pv_topk_merge(r, bc), PV_OK);
	verify(l, &tr, K_IPV4);
	verify(r, &tr, K_IPV4);
	free(l);
	free(r);
	free(bc);
	for (int i = 0; i < 3; i++)
		free(sh[i]);
	truth_fini(&tr);
}

static void test_merge_many(void **state)
{
	enum { PARTS = 16 };
	uint64_t seeds[PARTS];
	const struct stream *st = &streams[1];
	void *sh[PARTS], *acc;
	struct truth tr;

	(void)state;
	/* Windows of a day folded one by one, and a pairwise tree. */
	for (int i = 0; i < PARTS; i++)
		seeds[i] = 1000 + (uint64_t)i;
	build_shards(sh, PARTS, st, K_NAME, P_RR, 1024, seeds, &tr);
	acc = tk_new(1024, 255, 3);
	for (int i = 0; i < PARTS; i++) {
		assert_int_equal(pv_topk_merge(acc, sh[i]), PV_OK);
		assert_int_equal(pv_topk_check(acc, tk_size(acc)), PV_OK);
	}
	verify(acc, &tr, K_NAME);
	for (int w = 1; w < PARTS; w *= 2)
		for (int i = 0; i + w < PARTS; i += 2 * w)
			assert_int_equal(pv_topk_merge(sh[i], sh[i + w]), PV_OK);
	verify(sh[0], &tr, K_NAME);
	free(acc);
	for (int i = 0; i < PARTS; i++)
		free(sh[i]);
	truth_fini(&tr);
}

static void test_merge_empty(void **state)
{
	const struct stream *st = &streams[0];
	void *t = tk_new(1024, 16, 31), *e = tk_new(1024, 16, 32), *x, *y;
	struct truth tr;

	(void)state;
	truth_init(&tr, st->universe);
	feed(t, &tr, st, K_IPV6, P_ALL, 0, 1, 1);
	x = tk_dup(t);
	assert_int_equal(pv_topk_merge(x, e), PV_OK);
	assert_same_list(x, t);
	verify(x, &tr, K_IPV6);
	y = tk_dup(e);
	assert_int_equal(pv_topk_merge(y, t), PV_OK);
	assert_same_list(y, t);
	/* Empty with empty stays empty. */
	assert_int_equal(pv_topk_merge(e, e), PV_OK);
	assert_int_equal(pv_topk_total(e), 0);
	assert_int_equal(pv_topk_check(e, tk_size(e)), PV_OK);
	free(t);
	free(e);
	free(x);
	free(y);
	truth_fini(&tr);
}

static void test_merge_self(void **state)
{
	const struct stream *st = &streams[4];
	void *t = tk_new(1024, 4, 41), *orig, *copy;
	struct pv_topk_item *a = calloc(1024, sizeof(*a)), *b = calloc(1024, sizeof(*b));
	struct truth tr;
	uint32_t ka, kb;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	truth_init(&tr, st->universe);
	feed(t, &tr, st, K_IPV4, P_ALL, 0, 1, 1);
	orig = tk_dup(t);
	copy = tk_dup(t);
	/* In place (src == dst) and from a copy: the same, exactly doubled. */
	assert_int_equal(pv_topk_merge(t, t), PV_OK);
	assert_int_equal(pv_topk_merge(copy, orig), PV_OK);
	assert_memory_equal(t, copy, tk_size(t));
	ka = pv_topk_list(orig, a, 1024);
	kb = pv_topk_list(t, b, 1024);
	assert_int_equal(ka, kb);
	for (uint32_t i = 0; i < ka; i++) {
		assert_memory_equal(a[i].key, b[i].key, 4);
		assert_int_equal(2 * a[i].estimate, b[i].estimate);
		assert_int_equal(2 * a[i].error, b[i].error);
	}
	for (uint32_t r = 0; r < tr.universe; r++)
		tr.f[r] *= 2;
	tr.n *= 2;
	verify(t, &tr, K_IPV4);
	free(t);
	free(orig);
	free(copy);
	free(a);
	free(b);
	truth_fini(&tr);
}

static void test_merge_then_add(void **state)
{
	static const uint64_t seeds[] = {8, 9};
	const struct stream *st = &streams[2], *st2 = &streams[0];
	void *sh[2];
	struct truth tr, tr2;

	(void)state;
	/* A merged table keeps counting as Space-Saving with the guarantee. */
	build_shards(sh, 2, st, K_IPV4, P_HASH, 1024, seeds, &tr);
	assert_int_equal(pv_topk_merge(sh[0], sh[1]), PV_OK);
	truth_init(&tr2, st2->universe);
	memcpy(tr2.f, tr.f, sizeof(*tr.f) * st->universe);
	tr2.n = tr.n;
	feed(sh[0], &tr2, st2, K_IPV4, P_ALL, 0, 1, 1);
	verify(sh[0], &tr2, K_IPV4);
	free(sh[0]);
	free(sh[1]);
	truth_fini(&tr);
	truth_fini(&tr2);
}

/* ---- check ---- */

/* A full table (cap 64, keys 16 bytes) with evictions behind it. */
static void *valid_full(uint64_t seed)
{
	void *t = tk_new(64, 16, seed);
	struct zipf z;
	uint8_t key[16];

	rng_state = seed;
	zipf_init(&z, 1000, 1.1);
	for (int i = 0; i < 5000; i++)
		pv_topk_add(t, key, key_of(K_IPV6, zipf_draw(&z), key), 1 + (uint64_t)(i % 3));
	assert_int_equal(((struct pv_topk_hdr *)t)->n, 64);
	assert_int_equal(pv_topk_check(t, tk_size(t)), PV_OK);
	return t;
}

/* check on an exactly-sized heap copy of len bytes of t. */
static int check_len(const void *t, size_t len)
{
	void *exact;
	int rc;

	/* malloc: 16-aligned, and exactly len bytes for the sanitizer. */
	exact = malloc(len ? len : 1);
	assert_non_null(exact);
	memcpy(exact, t, len);
	rc = pv_topk_check(exact, len);
	free(exact);
	return rc;
}

typedef void (*mutate_fn)(void *t);

#define H(t) ((struct pv_topk_hdr *)(t))

static void m_magic(void *t) { H(t)->magic ^= 1; }
static void m_version(void *t) { H(t)->version = 2; }
static void m_cap0(void *t) { H(t)->capacity = 0; }
static void m_cap_big(void *t) { H(t)->capacity = 128; }
static void m_cap_huge(void *t) { H(t)->capacity = UINT32_MAX; }
static void m_keymax0(void *t) { H(t)->key_max = 0; }
static void m_keymax_big(void *t) { H(t)->key_max = 30; }
static void m_stride(void *t) { H(t)->stride += 8; }
static void m_mask(void *t) { H(t)->index_mask = 255; }
static void m_reserved0(void *t) { H(t)->reserved0 = 1; }
static void m_reserved1(void *t) { H(t)->reserved1 = 1; }
static void m_n_over(void *t) { H(t)->n = 65; }
static void m_n_under(void *t) { H(t)->n = 63; }
static void m_total(void *t) { H(t)->total = 10; }
static void m_floor(void *t) { H(t)->floor = UINT64_MAX / 2; }
static void m_node_entry(void *t) { tk_nodes(t)[5].entry = 64; }
static void m_node_zero(void *t) { tk_nodes(t)[5].zero = 1; }
static void m_node_dup(void *t) { tk_nodes(t)[5].entry = tk_nodes(t)[6].entry; }
static void m_heap_pos(void *t) { tk_entry(t, 3)->heap = 64; }
static void m_heap_pos2(void *t) { tk_entry(t, 3)->heap ^= 1; }
static void m_key_len(void *t) { tk_entry(t, 7)->key_len = 17; }
static void m_key_len2(void *t) { tk_entry(t, 7)->key_len = 0xffff; }
static void m_key_byte(void *t) { tk_entry(t, 7)->key[3] ^= 0x40; }
static void m_hash(void *t) { tk_entry(t, 7)->hash ^= 0x10000; }
static void m_error_big(void *t) { tk_entry(t, 9)->error = UINT64_MAX; }

/* The node with the largest count. */
static uint32_t max_node(void *t)
{
	uint32_t best = 0;

	for (uint32_t i = 1; i < H(t)->n; i++)
		if (tk_nodes(t)[i].count > tk_nodes(t)[best].count)
			best = i;
	return best;
}

static void m_heap_order(void *t)
{
	/* Swap the root with the largest node, positions kept consistent:
	 * only the heap order is wrong. */
	struct pv_topk_node *nd = tk_nodes(t);
	uint32_t b = max_node(t);
	struct pv_topk_node x = nd[0];

	assert_true(nd[b].count > nd[0].count);
	nd[0] = nd[b];
	nd[b] = x;
	tk_entry(t, nd[0].entry)->heap = 0;
	tk_entry(t, nd[b].entry)->heap = b;
}

static void m_error_mu(void *t)
{
	/* An error above the table minimum but below the entry's count. */
	struct pv_topk_entry *e = tk_entry(t, tk_nodes(t)[max_node(t)].entry);

	e->error = tk_nodes(t)[0].count + 1;
	assert_true(e->error <= tk_nodes(t)[max_node(t)].count);
}

static void m_count_floor(void *t)
{
	H(t)->floor = tk_nodes(t)[0].count + 1;
}

static void m_sum(void *t)
{
	/* Raise one count (a leaf's, entry and heap copy alike): heap order
	 * and errors still fine, J broken. */
	struct pv_topk_node *nd = &tk_nodes(t)[63];

	nd->count += H(t)->total;
	tk_entry(t, nd->entry)->count = nd->count;
}

static void m_count_copy(void *t)
{
	/* The entry's count and its heap copy disagree. */
	struct pv_topk_node *nd = &tk_nodes(t)[63];

	tk_entry(t, nd->entry)->count = nd->count + 1;
}

static void m_idx_range(void *t)
{
	uint32_t *idx = tk_index(t);

	for (uint32_t s = 0;; s++)
		if (idx[s] != 0) {
			idx[s] = 65;
			return;
		}
}

static void m_idx_extra(void *t)
{
	uint32_t *idx = tk_index(t);

	for (uint32_t s = 0;; s++)
		if (idx[s] == 0) {
			idx[s] = 1;
			return;
		}
}

static void m_idx_missing(void *t)
{
	uint32_t *idx = tk_index(t);

	for (uint32_t s = 0;; s++)
		if (idx[s] != 0) {
			idx[s] = 0;
			return;
		}
}

static void m_idx_moved(void *t)
{
	/* Move an entry's slot to just before its home: unreachable. */
	uint32_t *idx = tk_index(t);
	uint32_t mask = H(t)->index_mask;

	for (uint32_t s = 0; s <= mask; s++)
		if (idx[s] != 0) {
			uint32_t home = tk_entry(t, idx[s] - 1)->hash & mask;
			uint32_t to = (home - 1) & mask;

			if (idx[to] != 0)
				continue;
			idx[to] = idx[s];
			idx[s] = 0;
			return;
		}
	fail_msg("no slot to move");
}

static void m_idx_swap_all(void *t)
{
	/* Every slot names another entry. */
	uint32_t *idx = tk_index(t);

	for (uint32_t s = 0; s <= H(t)->index_mask; s++)
		if (idx[s] != 0)
			idx[s] = idx[s] % 64 + 1;
}

static void m_dup_key(void *t)
{
	/* Entry 8 becomes a copy of entry 7's key (hash and all), reached
	 * through a rebuilt index: only the duplicate rule can catch it. */
	struct pv_topk_hdr *h = t;
	struct pv_topk_entry *a = tk_entry(t, 7), *b = tk_entry(t, 8);
	uint32_t *idx = tk_index(t);

	b->key_len = a->key_len;
	memcpy(b->key, a->key, a->key_len);
	b->hash = a->hash;
	memset(idx, 0, 4 * ((size_t)h->index_mask + 1));
	for (uint32_t j = 0; j < h->n; j++) {
		uint32_t s = tk_entry(t, j)->hash & h->index_mask;

		while (idx[s] != 0)
			s = (s + 1) & h->index_mask;
		idx[s] = j + 1;
	}
}

static const struct {
	const char *name;
	mutate_fn fn;
	int want;
} mutations[] = {
    {"magic", m_magic, PV_EMAGIC},
    {"version", m_version, PV_EVERSION},
    {"capacity 0", m_cap0, PV_ESIZE},
    {"capacity grown", m_cap_big, PV_ESIZE},
    {"capacity huge", m_cap_huge, PV_ESIZE},
    {"key_max 0", m_keymax0, PV_ESIZE},
    {"key_max grown", m_keymax_big, PV_ESIZE},
    {"stride", m_stride, PV_ESIZE},
    {"index mask", m_mask, PV_ESIZE},
    {"reserved0", m_reserved0, PV_ECORRUPT},
    {"reserved1", m_reserved1, PV_ECORRUPT},
    {"n > capacity", m_n_over, PV_ECORRUPT},
    {"n shrunk", m_n_under, PV_ECORRUPT},
    {"total below counts", m_total, PV_ECORRUPT},
    {"floor above counts", m_floor, PV_ECORRUPT},
    {"node entry out of range", m_node_entry, PV_ECORRUPT},
    {"node padding", m_node_zero, PV_ECORRUPT},
    {"node entry twice", m_node_dup, PV_ECORRUPT},
    {"heap order", m_heap_order, PV_ECORRUPT},
    {"heap position out of range", m_heap_pos, PV_ECORRUPT},
    {"heap position wrong", m_heap_pos2, PV_ECORRUPT},
    {"key_len > key_max", m_key_len, PV_ECORRUPT},
    {"key_len 0xffff", m_key_len2, PV_ECORRUPT},
    {"key byte (hash mismatch)", m_key_byte, PV_ECORRUPT},
    {"stored hash", m_hash, PV_ECORRUPT},
    {"error > count", m_error_big, PV_ECORRUPT},
    {"error > table minimum", m_error_mu, PV_ECORRUPT},
    {"count below floor", m_count_floor, PV_ECORRUPT},
    {"counts above total", m_sum, PV_ECORRUPT},
    {"heap count copy differs", m_count_copy, PV_ECORRUPT},
    {"index entry out of range", m_idx_range, PV_ECORRUPT},
    {"index extra slot", m_idx_extra, PV_ECORRUPT},
    {"index slot missing", m_idx_missing, PV_ECORRUPT},
    {"index slot before home", m_idx_moved, PV_ECORRUPT},
    {"index names other entries", m_idx_swap_all, PV_ECORRUPT},
    {"duplicate key", m_dup_key, PV_ECORRUPT},
};

static void test_check_targeted(void **state)
{
	void *t = valid_full(0xc0ffee);
	size_t size = tk_size(t);

	(void)state;
	for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
		void *c = tk_dup(t);
		int rc;

		mutations[i].fn(c);
		rc = check_len(c, size);
		if (rc != mutations[i].want)
			fail_msg("mutation '%s': check gave %d (%s), want %d", mutations[i].name,
				 rc, pv_strerror(rc), mutations[i].want);
		free(c);
	}
	free(t);
}

static void test_check_short(void **state)
{
	void *t = valid_full(0xbeef);
	size_t size = tk_size(t);

	(void)state;
	/* Every length short of the table: refused, nothing read past it. */
	for (size_t len = 0; len < size; len++) {
		int rc = check_len(t, len);

		assert_true(rc == PV_ETRUNCATED);
	}
	assert_int_equal(check_len(t, size), PV_OK);
	assert_int_equal(pv_topk_check(NULL, size), PV_ETRUNCATED);
	/* Misaligned: refused rather than read with misaligned loads. */
	{
		uint8_t *buf = aligned_alloc(64, size + 64);

		assert_non_null(buf);
		memcpy(buf + 4, t, size);
		assert_int_equal(pv_topk_check(buf + 4, size), PV_ESIZE);
		free(buf);
	}
	free(t);
}

/* A table that passed check must list, merge and merge into itself into
 * tables that pass check again. */
static void exercise_passing(const void *t)
{
	uint32_t cap = pv_topk_capacity(t);
	struct pv_topk_item *it = calloc(cap, sizeof(*it));
	const struct pv_topk_hdr *h = t;
	void *fresh, *self;
	int rc;

	assert_non_null(it);
	assert_true(pv_topk_list(t, it, cap) <= cap);
	fresh = tk_new(cap, h->key_max, 1);
	adds(fresh, "fresh", 3);
	rc = pv_topk_merge(fresh, t);
	assert_true(rc == PV_OK || rc == -EOVERFLOW);
	assert_int_equal(pv_topk_check(fresh, tk_size(fresh)), PV_OK);
	self = tk_dup(t);
	rc = pv_topk_merge(self, self);
	assert_true(rc == PV_OK || rc == -EOVERFLOW);
	assert_int_equal(pv_topk_check(self, tk_size(self)), PV_OK);
	free(fresh);
	free(self);
	free(it);
}

static void test_check_flips(void **state)
{
	void *t = valid_full(0xf11);
	size_t size = tk_size(t);
	int passed = 0, iters = 4000;

	(void)state;
	rng_state = 777;
	for (int i = 0; i < iters; i++) {
		uint8_t *c = tk_dup(t);
		int flips = 1 + (int)(rng_next() % 4);

		for (int f = 0; f < flips; f++) {
			/* A quarter of the flips hit the header. */
			size_t at = rng_next() % 4 == 0 ? rng_next() % 64 : rng_next() % size;

			c[at] ^= (uint8_t)(1u << (rng_next() % 8));
		}
		if (check_len(c, size) == PV_OK) {
			passed++;
			exercise_passing(c);
		}
		free(c);
	}
	/* Flips in unused bytes (stale key tails, padding) must pass. */
	assert_true(passed > 0 && passed < iters);
	free(t);
}

/* Keys whose index home slot is the same, for a table of this seed/mask. */
static uint32_t colliding_keys(uint8_t (*keys)[8], uint32_t want, uint64_t seed, uint32_t mask)
{
	uint32_t got = 0;

	for (uint64_t x = 0; got < want; x++) {
		memcpy(keys[got], &x, 8);
		if (((uint32_t)XXH3_64bits_withSeed(keys[got], 8, seed) & mask) == 5)
			got++;
	}
	return got;
}

static void test_check_clustered(void **state)
{
	uint8_t(*keys)[8] = calloc(512, 8);
	void *small = tk_new(64, 8, 1234), *big = tk_new(512, 8, 99);

	(void)state;
	assert_non_null(keys);
	/* 64 keys on one home slot: slow to probe, but a small table is still
	 * accepted (its quadratic worst case is cheap) and works. */
	colliding_keys(keys, 64, 1234, 127);
	for (int r = 0; r < 3; r++)
		for (uint32_t i = 0; i < 64; i++)
			pv_topk_add(small, keys[i], 8, 1);
	assert_int_equal(pv_topk_total(small), 192);
	assert_int_equal(pv_topk_check(small, tk_size(small)), PV_OK);
	exercise_passing(small);
	/* 512 of them in a big table: over the probe budget, refused. */
	colliding_keys(keys, 512, 99, 1023);
	for (uint32_t i = 0; i < 512; i++)
		pv_topk_add(big, keys[i], 8, 1);
	assert_int_equal(pv_topk_check(big, tk_size(big)), PV_ECORRUPT);
	free(keys);
	free(small);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_size),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_exact_not_full),
	    cmocka_unit_test(test_exact_evictions),
	    cmocka_unit_test(test_exact_tie),
	    cmocka_unit_test(test_capacity_one),
	    cmocka_unit_test(test_list_order),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_deterministic),
	    cmocka_unit_test(test_accuracy_ipv4),
	    cmocka_unit_test(test_accuracy_ipv6),
	    cmocka_unit_test(test_accuracy_names),
	    cmocka_unit_test(test_accuracy_weighted),
	    cmocka_unit_test(test_merge_hand_exact),
	    cmocka_unit_test(test_merge_hand_errors),
	    cmocka_unit_test(test_merge_hand_cut),
	    cmocka_unit_test(test_floor_phantoms),
	    cmocka_unit_test(test_merge_mismatch),
	    cmocka_unit_test(test_merge_split_hash),
	    cmocka_unit_test(test_merge_split_rr),
	    cmocka_unit_test(test_merge_assoc),
	    cmocka_unit_test(test_merge_many),
	    cmocka_unit_test(test_merge_empty),
	    cmocka_unit_test(test_merge_self),
	    cmocka_unit_test(test_merge_then_add),
	    cmocka_unit_test(test_check_targeted),
	    cmocka_unit_test(test_check_short),
	    cmocka_unit_test(test_check_flips),
	    cmocka_unit_test(test_check_clustered),
	};

	return cmocka_run_group_tests(tests, streams_setup, streams_teardown);
}
