/*
 * libFuzzer target for the top-K tables (shm/topk.c), both sides of the
 * contract. The first input byte picks the mode:
 *
 *  even: a table image, as the aggregator copies it out of shared memory. It
 *   must get through pv_topk_check() without reading outside the image, and
 *   when check passes, every consumer of a checked table must work and keep
 *   the invariants: pv_topk_list(), pv_topk_merge() into a fresh table, into
 *   a copy of itself and in place, and pv_topk_add() (a restarted worker
 *   writing on), each result passing check again. The second byte holds
 *   flags that repair the header (small capacity and key_max, exact length)
 *   and the structure (hashes, heap, index) so most executions reach the
 *   value invariants (counts, errors, floor, total) instead of dying on the
 *   magic.
 *
 *  odd: a script of adds into two small tables (capacity 8..64, key_max
 *   1..32, so keys get truncated) with the exact truth kept here; both must
 *   pass check, and the tables, their merges in both orders (same lists)
 *   and a table fed everything must keep the guarantee of topk.h against the
 *   truth.
 *
 * Any broken promise aborts, so the fuzzer reports it as a crash.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "lib/err.h"
#include "shm/topk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_topk: broken promise: %s\n", what);
		abort();
	}
}

static size_t tsize(const void *t)
{
	const struct pv_topk_hdr *h = t;

	return pv_topk_size(h->capacity, h->key_max);
}

static void *tnew(uint32_t cap, uint32_t km, uint64_t seed)
{
	size_t size = pv_topk_size(cap, km);
	void *t = aligned_alloc(64, size);

	must(t != NULL, "memory");
	pv_topk_init(t, cap, km, seed);
	return t;
}

static void *tdup(const void *t, size_t size)
{
	void *c = aligned_alloc(64, (size + 63) / 64 * 64);

	must(c != NULL, "memory");
	memcpy(c, t, size);
	return c;
}

/* ---- mode: image ---- */

enum {
	FL_HEADER = 1 << 0, /* valid magic/version/sizes; capacity, key_max small */
	FL_LENGTH = 1 << 1, /* cut or zero-pad the image to its size */
	FL_HASH = 1 << 2,   /* clamp key lengths, recompute stored hashes */
	FL_HEAP = 1 << 3,   /* rebuild the heap from the entries' counts */
	FL_INDEX = 1 << 4,  /* rebuild the index from the entries */
	FL_ADD = 1 << 5,    /* also add to the checked table */
};

static struct pv_topk_node *nodes_of(void *t)
{
	return (struct pv_topk_node *)((uint8_t *)t + PV_TOPK_HEAP_OFF);
}

static struct pv_topk_entry *entry_of(void *t, uint32_t j)
{
	struct pv_topk_hdr *h = t;
	uint8_t *ent = (uint8_t *)(nodes_of(t) + h->capacity);

	return (struct pv_topk_entry *)(ent + (size_t)j * h->stride);
}

static uint32_t *index_of(void *t)
{
	struct pv_topk_hdr *h = t;

	return (uint32_t *)((uint8_t *)entry_of(t, 0) + (size_t)h->capacity * h->stride);
}

/* Structure repairs on a table whose header is already valid. */
static void repair(void *t, uint8_t flags)
{
	struct pv_topk_hdr *h = t;
	struct pv_topk_node *nd = nodes_of(t);
	uint32_t n = h->n;

	if (flags & FL_HASH)
		for (uint32_t j = 0; j < n; j++) {
			struct pv_topk_entry *e = entry_of(t, j);

			e->key_len = (uint16_t)(e->key_len % (h->key_max + 1));
			e->hash = (uint32_t)XXH3_64bits_withSeed(e->key, e->key_len, h->seed);
		}
	if (flags & FL_HEAP) {
		/* Nodes sorted ascending by count: a valid min-heap. */
		for (uint32_t j = 0; j < n; j++)
			nd[j] = (struct pv_topk_node){.count = entry_of(t, j)->count, .entry = j};
		for (uint32_t i = 1; i < n; i++)
			for (uint32_t k = i; k > 0 && nd[k - 1].count > nd[k].count; k--) {
				struct pv_topk_node x = nd[k];

				nd[k] = nd[k - 1];
				nd[k - 1] = x;
			}
		for (uint32_t i = 0; i < n; i++)
			entry_of(t, nd[i].entry)->heap = i;
	}
	if (flags & FL_INDEX) {
		uint32_t *idx = index_of(t);

		memset(idx, 0, 4 * ((size_t)h->index_mask + 1));
		for (uint32_t j = 0; j < n; j++) {
			uint32_t s = entry_of(t, j)->hash & h->index_mask;

			while (idx[s] != 0)
				s = (s + 1) & h->index_mask;
			idx[s] = j + 1;
		}
	}
}

/*
 * Past check, up to this capacity, merge and add results must pass check
 * again unconditionally; above it check may refuse an index that crafted
 * keys clustered beyond what honest tables reach (topk.c: probe budget).
 */
#define ALWAYS_CHECKABLE 64u

static void after_check_ok(const void *img, uint8_t flags, const uint8_t *data, size_t size)
{
	const struct pv_topk_hdr *h = img;
	uint32_t cap = h->capacity, km = h->key_max, k;
	size_t tsz = pv_topk_size(cap, km);
	struct pv_topk_item *it = calloc(cap, sizeof(*it));
	void *fresh, *copy, *copy2;
	int rc;

	must(it != NULL, "memory");
	k = pv_topk_list(img, it, cap);
	must(k == h->n, "list returns n entries");
	for (uint32_t i = 0; i < k; i++) {
		must(it[i].key_len <= km, "listed key within key_max");
		must(it[i].error <= it[i].estimate, "listed error <= estimate");
		if (i > 0)
			must(it[i - 1].estimate >= it[i].estimate, "list order");
	}
	/* A shorter listing is the head of the full one. */
	if (k > 1) {
		struct pv_topk_item *head = calloc(k, sizeof(*head));
		uint32_t max = 1 + (size > 2 ? data[2] : 0) % (k - 1);

		must(head != NULL, "memory");
		must(pv_topk_list(img, head, max) == max, "short list length");
		for (uint32_t i = 0; i < max; i++)
			must(head[i].key == it[i].key && head[i].estimate == it[i].estimate,
			     "short list is the head of the full list");
		free(head);
	}

	/* Merge into a fresh table holding a little of its own. */
	fresh = tnew(cap, km, 0x5eed);
	for (size_t i = 0; i < size && i < 8; i++)
		pv_topk_add(fresh, data + i, 1, 1);
	rc = pv_topk_merge(fresh, img);
	must(rc == PV_OK || rc == -EOVERFLOW, "merge into fresh: ok or overflow");
	must(cap > ALWAYS_CHECKABLE || pv_topk_check(fresh, tsz) == PV_OK,
	     "merge into fresh passes check");

	/* Into a copy of itself, and in place. */
	copy = tdup(img, tsz);
	rc = pv_topk_merge(copy, img);
	must(rc == PV_OK || rc == -EOVERFLOW, "merge into copy: ok or overflow");
	must(cap > ALWAYS_CHECKABLE || pv_topk_check(copy, tsz) == PV_OK,
	     "merge into copy passes check");
	copy2 = tdup(img, tsz);
	rc = pv_topk_merge(copy2, copy2);
	must(rc == PV_OK || rc == -EOVERFLOW, "merge in place: ok or overflow");
	must(cap > ALWAYS_CHECKABLE || pv_topk_check(copy2, tsz) == PV_OK,
	     "merge in place passes check");
	if (rc == PV_OK)
		must(memcmp(copy, copy2, tsz) == 0, "in-place merge equals merge with a copy");

	/* A worker resuming on the checked table: adds keep it valid (weights
	 * kept small so no honest counter can wrap). */
	if ((flags & FL_ADD) && cap <= ALWAYS_CHECKABLE && h->total < (UINT64_MAX >> 2)) {
		void *w = tdup(img, tsz);

		for (size_t i = 0; i + 1 < size && i < 64; i += 2)
			pv_topk_add(w, data + i, 1 + data[i + 1] % 3, data[i + 1] & 7);
		must(pv_topk_check(w, tsz) == PV_OK, "adds to a checked table keep it valid");
		free(w);
	}
	free(fresh);
	free(copy);
	free(copy2);
	free(it);
}

static void run_image(const uint8_t *data, size_t size)
{
	uint8_t flags = size > 0 ? data[0] : 0;
	const uint8_t *img = data + (size > 0);
	size_t len = size - (size > 0), blen = len;
	uint8_t *buf;

	/*
	 * An owned copy from malloc: 16-byte aligned (what check needs) and
	 * exactly blen long, so the sanitizer sees a read past the image.
	 */
	if ((flags & FL_HEADER) && len >= sizeof(struct pv_topk_hdr)) {
		struct pv_topk_hdr h;
		size_t want;

		memcpy(&h, img, sizeof(h));
		h.magic = PV_TOPK_MAGIC;
		h.version = PV_TOPK_VERSION;
		h.capacity = 1 + h.capacity % 64;
		h.key_max = 1 + h.key_max % 32;
		h.stride = (uint32_t)PV_TOPK_STRIDE(h.key_max);
		h.index_mask = (uint32_t)PV_TOPK_SLOTS(h.capacity) - 1;
		h.n %= h.capacity + 1;
		h.reserved0 = 0;
		h.reserved1 = 0;
		want = pv_topk_size(h.capacity, h.key_max);
		if (flags & FL_LENGTH)
			blen = want;
		buf = calloc(1, blen);
		must(buf != NULL, "memory");
		memcpy(buf, img, len < blen ? len : blen);
		memcpy(buf, &h, sizeof(h));
		memset(buf + sizeof(h), 0,
		       (blen < PV_TOPK_HEAP_OFF ? blen : PV_TOPK_HEAP_OFF) - sizeof(h));
		if (blen >= want)
			repair(buf, flags);
	} else {
		buf = malloc(blen ? blen : 1);
		must(buf != NULL, "memory");
		memcpy(buf, img, blen);
	}
	if (pv_topk_check(buf, blen) == PV_OK) {
		must(blen >= tsize(buf), "check passed a short image");
		after_check_ok(buf, flags, data, size);
	}
	free(buf);
}

/* ---- mode: script ---- */

#define MAX_OPS 512
#define MAX_KEY 32

struct truth {
	uint8_t key[MAX_OPS][MAX_KEY];
	uint8_t len[MAX_OPS];
	uint64_t f[MAX_OPS];
	uint32_t n;
	uint64_t total;
};

static uint32_t truth_find(const struct truth *tr, const uint8_t *k, uint32_t len)
{
	for (uint32_t i = 0; i < tr->n; i++)
		if (tr->len[i] == len && memcmp(tr->key[i], k, len) == 0)
			return i;
	return UINT32_MAX;
}

static void truth_add(struct truth *tr, const uint8_t *k, uint32_t len, uint64_t w)
{
	uint32_t i = truth_find(tr, k, len);

	if (i == UINT32_MAX) {
		i = tr->n++;
		memcpy(tr->key[i], k, len);
		tr->len[i] = (uint8_t)len;
		tr->f[i] = 0;
	}
	tr->f[i] += w;
	tr->total += w;
}

/* The guarantee of topk.h, for every key the script used. */
static void verify(const void *t, const struct truth *tr)
{
	uint32_t m = pv_topk_capacity(t);
	uint64_t n = pv_topk_total(t);
	struct pv_topk_item it[64];
	bool listed[MAX_OPS] = {false};
	uint32_t k;

	must(pv_topk_check(t, tsize(t)) == PV_OK, "script table passes check");
	must(n == tr->total, "total is the sum of weights");
	k = pv_topk_list(t, it, 64);
	for (uint32_t i = 0; i < k; i++) {
		uint32_t x = truth_find(tr, it[i].key, it[i].key_len);

		must(x != UINT32_MAX, "listed key was added");
		must(!listed[x], "key listed once");
		listed[x] = true;
		must(it[i].estimate >= tr->f[x], "estimate >= truth");
		must(it[i].estimate - it[i].error <= tr->f[x], "estimate - error <= truth");
		must((it[i].estimate - tr->f[x]) * m <= n, "overestimate <= N/m");
	}
	for (uint32_t x = 0; x < tr->n; x++)
		if (tr->f[x] * m > n)
			must(listed[x], "every key above N/m is listed");
}

static void run_script(const uint8_t *data, size_t size)
{
	uint32_t cap, km, ops = 0;
	struct truth *tr;
	void *a, *b, *all, *ab, *ba;
	struct pv_topk_item x[64], y[64];
	uint32_t kx, ky;
	size_t p = 3;

	if (size < 3)
		return;
	cap = 8 + data[0] % 57;
	km = 1 + data[1] % MAX_KEY;
	tr = calloc(1, sizeof(*tr));
	must(tr != NULL, "memory");
	a = tnew(cap, km, data[2]);
	b = tnew(cap, km, data[2] ^ (data[1] & 1)); /* equal or different seeds */
	all = tnew(cap, km, 7);
	/* op: [bit 7: table B; bits 0-5: key length][weight][key bytes] */
	while (p + 2 <= size && ops < MAX_OPS) {
		uint32_t len = data[p] & 63, use = len < km ? len : km;
		uint64_t w = data[p + 1] < 200 ? 1 + data[p + 1] % 4 : data[p + 1];
		bool to_b = data[p] & 0x80;
		const uint8_t *key;

		p += 2;
		if (p + len > size)
			break;
		key = data + p;
		p += len;
		pv_topk_add(to_b ? b : a, key, len, w);
		pv_topk_add(all, key, len, w);
		truth_add(tr, key, use, w);
		ops++;
	}
	must(pv_topk_check(a, tsize(a)) == PV_OK, "script table A passes check");
	must(pv_topk_check(b, tsize(b)) == PV_OK, "script table B passes check");
	verify(all, tr);
	ab = tdup(a, tsize(a));
	ba = tdup(b, tsize(b));
	must(pv_topk_merge(ab, b) == PV_OK, "merge a+b");
	must(pv_topk_merge(ba, a) == PV_OK, "merge b+a");
	verify(ab, tr);
	verify(ba, tr);
	kx = pv_topk_list(ab, x, 64);
	ky = pv_topk_list(ba, y, 64);
	must(kx == ky, "a+b and b+a list as many");
	for (uint32_t i = 0; i < kx; i++)
		must(x[i].key_len == y[i].key_len && memcmp(x[i].key, y[i].key, x[i].key_len) == 0 &&
			     x[i].estimate == y[i].estimate && x[i].error == y[i].error,
		     "a+b and b+a list the same");
	if (((const struct pv_topk_hdr *)a)->seed == ((const struct pv_topk_hdr *)b)->seed)
		must(memcmp(ab, ba, tsize(ab)) == 0, "a+b and b+a identical with equal seeds");
	free(a);
	free(b);
	free(all);
	free(ab);
	free(ba);
	free(tr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		run_script(data + 1, size - 1);
	else
		run_image(data + 1, size - 1);
	return 0;
}
