/*
 * Space-Saving top-K tables in caller memory (see topk.h for the layout and
 * the guarantee). The writer side (pv_topk_add) is the per-packet path of
 * every worker; the reader side (check, list, merge) runs in the aggregator
 * and in remote collectors, on bytes that may be torn or hostile, so check
 * validates every fact that list and merge lean on.
 *
 * The model. A table of capacity m stands for m counters. n of them carry a
 * key (entries); the other m - n are "phantom" counters whose value is the
 * header's floor F. Write mu for the smallest of the m counters: F while
 * n < m, the heap root's count once n == m. These invariants hold after
 * init, every add and every merge, and pv_topk_check() verifies each of them:
 *   (J)  sum of entry counts + (m - n) * F <= N         (N = header total)
 *   (K0) every entry count >= F
 *   (K1) for a listed key: count - error <= f <= count   (f = true weight)
 *   (K2) for a key not in the table: f <= mu
 *   (K3) every entry error <= mu (and <= its count)
 * K1/K2 are about the stream and cannot be checked; the others can. They give
 * the guarantee: mu is the least of m counters whose sum is at most N, so
 * mu <= N/m; an absent key has f <= mu <= N/m (K2); a listed key overshoots
 * by count - f <= error <= mu <= N/m (K1, K3).
 *
 * Add (Space-Saving). A hit adds the weight to the count. A miss takes the
 * smallest counter - a phantom (count F) while n < m, else the heap root -
 * and gives it to the new key with count mu + w and error mu: the key's true
 * weight is at most mu + w (K2 held before), and the evicted key, if any, had
 * f <= mu <= the new minimum. Every step adds w to both sides of J.
 *
 * Merge. The mergeable-summaries merge of Agarwal, Cormode, Huang, Phillips,
 * Wei and Yi (PODS 2012), entered and left through the correspondence between
 * Space-Saving and Misra-Gries. Each side's MG view is a(x) = count(x) - mu
 * for its entries (its smallest counter drops to 0) and 0 for other keys; the
 * MG merge adds the views per key, g = a + b, subtracts the (m+1)-th largest
 * g and keeps the keys with what is left (at most m). Converting back, each
 * kept key needs an upper bound of its true weight: the sum of the two sides'
 * upper bounds U(x) = (count_a(x) or mu_a) + (count_b(x) or mu_b) is one, and
 * U = g + mu_a + mu_b, so "the m largest g" are "the m largest U". The MG
 * estimate plus its share of the deficit, g - delta + floor(D'/m), would do
 * too, but is never below U (D' >= D_a + D_b + (m+1) delta and each side's
 * D >= m mu): we store the tighter U. So, over the union of both sides' keys:
 *     keep the m largest U (ties by key bytes: deterministic, and harmless
 *     as a tie at the cut is a key whose U is the floor anyway);
 *     count = U, error = U - L with L the sum of the sides' lower bounds
 *     (count - error, or 0 where absent);
 *     floor = max(mu_a + mu_b, largest U not kept); total = N_a + N_b.
 * Why the invariants survive (hence the guarantee for the union, N/m with
 * N = N_a + N_b, after any number of merges in any order):
 *   K1: U and L are sums of upper and lower bounds (K1, K2 of each side).
 *   K2: a key now absent was in neither table (f <= mu_a + mu_b) or was
 *       dropped (f <= its U); both are <= floor, and the new minimum is
 *       >= floor (kept counts are the largest U, each >= mu_a + mu_b).
 *   K3: U - L is the sum of each side's error (or mu where absent), so it is
 *       <= mu_a + mu_b <= the new minimum.
 *   J:  kept counts + (m - n') floor = kept g + n'(mu_a + mu_b) +
 *       (m - n') floor <= all g + m (mu_a + mu_b) (if n' < m nothing was
 *       dropped and floor = mu_a + mu_b), and each side's J says
 *       sum a + m mu <= its N.
 * Every quantity is symmetric in the two sides, so merge(a, b) and
 * merge(b, a) keep the same keys with the same counts and errors; the result
 * is laid out canonically (entries by count desc then key, heap ascending,
 * index filled in entry order), so equal seeds give identical bytes. With an
 * empty side U is the other side's count: the same list comes back. A table
 * merged with itself has every count and error exactly doubled.
 */
#include "shm/topk.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The hash is inlined here (same XXH3 as libxxhash's exported one): a call
 * per packet per table costs more than the hash of a short key. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "lib/err.h"

static_assert(PV_TOPK_SIZE(1, 1) == 192, "size formula: 112 + 16 + 32 + 8, rounded to 64");
static_assert(PV_TOPK_SLOTS(1024) == 2048 && PV_TOPK_SLOTS(1000) == 2048, "slots formula");
static_assert(PV_TOPK_SLOTS(1025) == 4096 && PV_TOPK_SLOTS(PV_TOPK_MAX_CAPACITY) == (2u << 20),
	      "slots formula");
static_assert(PV_TOPK_STRIDE(4) == 32 && PV_TOPK_STRIDE(16) == 48, "stride formula");
static_assert(PV_TOPK_SIZE(PV_TOPK_MAX_CAPACITY, PV_TOPK_MAX_KEY) < ((uint64_t)1 << 31),
	      "the largest table's offsets fit in size_t everywhere");
static_assert(PV_TOPK_MAX_KEY <= UINT16_MAX, "key_len is 16 bits");

/* Pointers into one table, derived from its (trusted or checked) header. */
struct view {
	struct pv_topk_hdr *h;
	struct pv_topk_node *node;
	uint8_t *ent;
	uint32_t *idx;
	uint32_t stride;
	uint32_t mask;
};

static inline void view_of(struct view *v, const void *t)
{
	struct pv_topk_hdr *h = (struct pv_topk_hdr *)t;

	v->h = h;
	v->node = (struct pv_topk_node *)((uint8_t *)t + PV_TOPK_HEAP_OFF);
	v->ent = (uint8_t *)(v->node + h->capacity);
	v->stride = h->stride;
	v->idx = (uint32_t *)(v->ent + (size_t)h->capacity * h->stride);
	v->mask = h->index_mask;
}

static inline struct pv_topk_entry *entry_at(const struct view *v, uint32_t j)
{
	return (struct pv_topk_entry *)(v->ent + (size_t)j * v->stride);
}

/*
 * Key equality for the hot path: addresses (4 and 16 bytes) and short names
 * in two overlapping loads each instead of a call to memcmp.
 */
static inline bool key_eq(const uint8_t *a, const uint8_t *b, uint32_t len)
{
	uint64_t x, y, x2, y2;
	uint32_t u, w, u2, w2;

	if (len > 16)
		return memcmp(a, b, len) == 0;
	if (len >= 8) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		memcpy(&x2, a + len - 8, 8);
		memcpy(&y2, b + len - 8, 8);
		return ((x ^ y) | (x2 ^ y2)) == 0;
	}
	if (len >= 4) {
		memcpy(&u, a, 4);
		memcpy(&w, b, 4);
		memcpy(&u2, a + len - 4, 4);
		memcpy(&w2, b + len - 4, 4);
		return ((u ^ w) | (u2 ^ w2)) == 0;
	}
	for (uint32_t i = 0; i < len; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* memcpy for the hot path, by the same overlapping loads. */
static inline void key_copy(uint8_t *dst, const uint8_t *src, uint32_t len)
{
	uint64_t x, x2;
	uint32_t u, u2;

	if (len > 16) {
		memcpy(dst, src, len);
	} else if (len >= 8) {
		memcpy(&x, src, 8);
		memcpy(&x2, src + len - 8, 8);
		memcpy(dst, &x, 8);
		memcpy(dst + len - 8, &x2, 8);
	} else if (len >= 4) {
		memcpy(&u, src, 4);
		memcpy(&u2, src + len - 4, 4);
		memcpy(dst, &u, 4);
		memcpy(dst + len - 4, &u2, 4);
	} else {
		for (uint32_t i = 0; i < len; i++)
			dst[i] = src[i];
	}
}

static inline uint32_t key_hash(const void *key, uint32_t len, uint64_t seed)
{
	return (uint32_t)XXH3_64bits_withSeed(key, len, seed);
}

/* The smallest of the m counters (mu in the comment on top). */
static inline uint64_t table_min(const struct view *v)
{
	return v->h->n < v->h->capacity ? v->h->floor : v->node[0].count;
}

size_t pv_topk_size(uint32_t capacity, uint32_t key_max)
{
	if (capacity < 1 || capacity > PV_TOPK_MAX_CAPACITY || key_max < 1 ||
	    key_max > PV_TOPK_MAX_KEY)
		return 0;
	return PV_TOPK_SIZE(capacity, key_max);
}

void pv_topk_init(void *mem, uint32_t capacity, uint32_t key_max, uint64_t seed)
{
	size_t size = pv_topk_size(capacity, key_max);
	struct pv_topk_hdr *h = mem;

	assert(size != 0 && ((uintptr_t)mem & 7) == 0);
	memset(mem, 0, size);
	h->magic = PV_TOPK_MAGIC;
	h->version = PV_TOPK_VERSION;
	h->capacity = capacity;
	h->key_max = key_max;
	h->stride = (uint32_t)PV_TOPK_STRIDE(key_max);
	h->index_mask = (uint32_t)PV_TOPK_SLOTS(capacity) - 1;
	h->seed = seed;
}

/*
 * ---- heap: 4-ary, min on count; each entry knows its node's position ----
 * Node i has children 4i+1 .. 4i+4 and parent (i-1)/4: half the depth of a
 * binary heap, and the four counts compared at each level share a line.
 */

static inline void heap_place(const struct view *v, uint32_t pos, struct pv_topk_node nd)
{
	v->node[pos] = nd;
	entry_at(v, nd.entry)->heap = pos;
}

/*
 * The smallest child of pos (its position in *best, its count in *bc), or
 * false for a leaf. A full sibling group (every level but the last) is
 * reduced without branches: the smallest child is as likely left as right,
 * and a mispredicted branch per level would cost more than the compares.
 */
static inline bool min_child(const struct pv_topk_node *node, uint32_t n, uint32_t pos,
			     uint32_t *best, uint64_t *bc)
{
	uint32_t c = 4 * pos + 1;

	if (c + 3 < n) {
		uint64_t c0 = node[c].count, c1 = node[c + 1].count;
		uint64_t c2 = node[c + 2].count, c3 = node[c + 3].count;
		uint32_t i01 = c + (c1 < c0), i23 = c + 2 + (c3 < c2);
		uint64_t m01 = c1 < c0 ? c1 : c0, m23 = c3 < c2 ? c3 : c2;
		/* All ones if the right pair wins; masks, not a ?:, so the
		 * compiler keeps it free of branches. */
		uint64_t hi = -(uint64_t)(m23 < m01);

		*best = i01 ^ ((i01 ^ i23) & (uint32_t)hi);
		*bc = m01 ^ ((m01 ^ m23) & hi);
		return true;
	}
	if (c >= n)
		return false;
	*best = c;
	*bc = node[c].count;
	for (uint32_t k = c + 1; k < n; k++)
		if (node[k].count < *bc) {
			*best = k;
			*bc = node[k].count;
		}
	return true;
}

/*
 * Moves the node at pos down to where its (grown) count belongs. Ties stop
 * the descent: a node never passes a child with an equal count.
 */
static void sift_down(const struct view *v, uint32_t pos)
{
	struct pv_topk_node *node = v->node;
	struct pv_topk_node nd = node[pos];
	uint32_t n = v->h->n, best;
	uint64_t bc;

	while (min_child(node, n, pos, &best, &bc) && bc < nd.count) {
		heap_place(v, pos, node[best]);
		pos = best;
	}
	heap_place(v, pos, nd);
}

static void sift_up(const struct view *v, uint32_t pos)
{
	struct pv_topk_node *node = v->node;
	struct pv_topk_node nd = node[pos];

	while (pos > 0) {
		uint32_t p = (pos - 1) / 4;

		if (node[p].count <= nd.count)
			break;
		heap_place(v, pos, node[p]);
		pos = p;
	}
	heap_place(v, pos, nd);
}

/* ---- index: linear probing, backward-shift deletion (no tombstones, so
 * probe lengths never degrade however many evictions a window sees) ---- */

static uint32_t index_free_slot(const struct view *v, uint32_t hash)
{
	uint32_t i = hash & v->mask;

	while (v->idx[i] != 0)
		i = (i + 1) & v->mask;
	return i;
}

/* Removes entry j's slot; returns the one slot the shifts left empty. */
static uint32_t index_delete(const struct view *v, uint32_t j, uint32_t hash)
{
	uint32_t *idx = v->idx;
	uint32_t mask = v->mask;
	uint32_t hole = hash & mask, k;

	while (idx[hole] != j + 1)
		hole = (hole + 1) & mask;
	k = hole;
	for (;;) {
		uint32_t x, home;

		k = (k + 1) & mask;
		x = idx[k];
		if (x == 0)
			break;
		home = entry_at(v, x - 1)->hash & mask;
		/* x may fill the hole if the hole lies on its probe path,
		 * i.e. cyclically within [home, k). */
		if (((k - home) & mask) >= ((k - hole) & mask)) {
			idx[hole] = x;
			hole = k;
		}
	}
	idx[hole] = 0;
	return hole;
}

/* ---- writer ---- */

/* A key not in the table: take the smallest counter (Space-Saving). slot is
 * the empty index slot that ended the failed lookup. */
static void add_miss(const struct view *v, const void *key, uint32_t key_len, uint32_t hash,
		     uint32_t slot, uint64_t weight)
{
	struct pv_topk_hdr *h = v->h;
	struct pv_topk_entry *e;
	uint32_t j, hole;

	if (h->n < h->capacity) {
		uint64_t f = h->floor;

		j = h->n++;
		e = entry_at(v, j);
		e->count = f + weight;
		e->error = f;
		e->hash = hash;
		e->key_len = (uint16_t)key_len;
		key_copy(e->key, key, key_len);
		v->idx[slot] = j + 1;
		v->node[j] = (struct pv_topk_node){.count = f + weight, .entry = j};
		e->heap = j;
		sift_up(v, j);
		return;
	}
	/*
	 * Full: evict the root. Its index slot goes first. The backward shift
	 * empties exactly one slot and fills none that was empty, so the new
	 * key's first empty slot is that one if it opened on the probe path
	 * the failed lookup walked (home .. slot), else still slot.
	 */
	j = v->node[0].entry;
	e = entry_at(v, j);
	hole = index_delete(v, j, e->hash);
	if (((hole - hash) & v->mask) < ((slot - hash) & v->mask))
		slot = hole;
	e->error = e->count;
	e->count += weight;
	e->hash = hash;
	e->key_len = (uint16_t)key_len;
	key_copy(e->key, key, key_len);
	v->idx[slot] = j + 1;
	v->node[0].count = e->count;
	sift_down(v, 0);
}

void pv_topk_add(void *t, const void *key, uint32_t key_len, uint64_t weight)
{
	struct view v;
	uint32_t hash, i;

	view_of(&v, t);
	if (key_len > v.h->key_max)
		key_len = v.h->key_max;
	hash = key_hash(key, key_len, v.h->seed);
	v.h->total += weight;
	for (i = hash & v.mask;; i = (i + 1) & v.mask) {
		uint32_t x = v.idx[i];
		struct pv_topk_entry *e;

		if (x == 0)
			break;
		e = entry_at(&v, x - 1);
		if (e->hash == hash && e->key_len == key_len && key_eq(e->key, key, key_len)) {
			uint32_t pos = e->heap;

			e->count += weight;
			v.node[pos].count = e->count;
			/* Hot keys sit in the leaves (3/4 of the nodes): no
			 * child, nothing to do. */
			if (4 * pos + 1 < v.h->n)
				sift_down(&v, pos);
			return;
		}
	}
	add_miss(&v, key, key_len, hash, i, weight);
}

/* ---- reader ---- */

uint64_t pv_topk_total(const void *t)
{
	return ((const struct pv_topk_hdr *)t)->total;
}

uint32_t pv_topk_capacity(const void *t)
{
	return ((const struct pv_topk_hdr *)t)->capacity;
}

/*
 * Probe steps check may spend walking the index, per entry. At load <= 1/2
 * linear probing averages half a step per key, so an honest table stays far
 * below this; one above it was built from keys crafted against its seed (or
 * forged), and refusing it keeps check linear in the capacity instead of
 * quadratic. Tables of up to this many entries are never refused: their
 * quadratic worst case is cheap.
 */
#define CHECK_PROBE_PER_ENTRY 64u

int pv_topk_check(const void *mem, size_t len)
{
	const struct pv_topk_hdr *h = mem;
	struct view v;
	uint64_t mu, sum = 0, budget, tail;
	uint32_t cap, n, used = 0;

	if (!mem || len < sizeof(*h))
		return PV_ETRUNCATED;
	if (((uintptr_t)mem & 7) != 0)
		return PV_ESIZE;
	if (h->magic != PV_TOPK_MAGIC)
		return PV_EMAGIC;
	if (h->version != PV_TOPK_VERSION)
		return PV_EVERSION;
	cap = h->capacity;
	if (pv_topk_size(cap, h->key_max) == 0 || h->stride != PV_TOPK_STRIDE(h->key_max) ||
	    (uint64_t)h->index_mask + 1 != PV_TOPK_SLOTS(cap))
		return PV_ESIZE;
	if (len < pv_topk_size(cap, h->key_max))
		return PV_ETRUNCATED;
	if (h->reserved0 != 0 || h->reserved1 != 0 || h->n > cap)
		return PV_ECORRUPT;
	for (size_t i = sizeof(*h); i < PV_TOPK_HEAP_OFF; i++)
		if (((const uint8_t *)mem)[i] != 0)
			return PV_ECORRUPT;

	/* From here every array access below index n / the mask is inside. */
	view_of(&v, mem);
	n = h->n;
	mu = table_min(&v);

	/* Heap: node i -> entry -> heap == i makes node->entry injective on
	 * [0, n), hence a permutation, so every entry's heap field is < n. */
	for (uint32_t i = 0; i < n; i++) {
		struct pv_topk_node nd = v.node[i];

		if (nd.zero != 0 || nd.entry >= n || entry_at(&v, nd.entry)->heap != i)
			return PV_ECORRUPT;
		if (i > 0 && v.node[(i - 1) / 4].count > nd.count)
			return PV_ECORRUPT;
	}
	for (uint32_t j = 0; j < n; j++) {
		const struct pv_topk_entry *e = entry_at(&v, j);
		uint64_t c = e->count;

		if (c != v.node[e->heap].count)
			return PV_ECORRUPT;
		if (e->key_len > h->key_max || e->hash != key_hash(e->key, e->key_len, h->seed))
			return PV_ECORRUPT;
		if (c < h->floor || e->error > c || e->error > mu)
			return PV_ECORRUPT;
		if (__builtin_add_overflow(sum, c, &sum))
			return PV_ECORRUPT;
	}
	if (__builtin_mul_overflow((uint64_t)(cap - n), h->floor, &tail) ||
	    __builtin_add_overflow(sum, tail, &sum) || sum > h->total)
		return PV_ECORRUPT;

	/* Index: exactly n non-empty slots, each naming an entry ... */
	for (uint32_t s = 0; s <= v.mask; s++) {
		uint32_t x = v.idx[s];

		if (x == 0)
			continue;
		if (x > n)
			return PV_ECORRUPT;
		used++;
	}
	if (used != n)
		return PV_ECORRUPT;
	/* ... and each entry found by a lookup from its home slot, before any
	 * other entry with the same key: then the n slots hold n distinct
	 * entries, every probe path is unbroken (so adds and backward-shift
	 * deletes work) and no key is counted twice. */
	budget = (uint64_t)(n < CHECK_PROBE_PER_ENTRY ? n : CHECK_PROBE_PER_ENTRY) * n + n;
	for (uint32_t j = 0; j < n; j++) {
		const struct pv_topk_entry *e = entry_at(&v, j);
		uint32_t s = e->hash & v.mask;

		for (;; s = (s + 1) & v.mask) {
			uint32_t x = v.idx[s];
			const struct pv_topk_entry *o;

			if (x == 0 || budget-- == 0)
				return PV_ECORRUPT;
			if (x == j + 1)
				break;
			o = entry_at(&v, x - 1);
			if (o->hash == e->hash && o->key_len == e->key_len &&
			    memcmp(o->key, e->key, e->key_len) == 0)
				return PV_ECORRUPT;
		}
	}
	return PV_OK;
}

/* Listing order: estimate descending, then key bytes, a prefix first. */
static int key_cmp(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int item_cmp(const struct pv_topk_item *a, const struct pv_topk_item *b)
{
	if (a->estimate != b->estimate)
		return a->estimate > b->estimate ? -1 : 1;
	return key_cmp(a->key, a->key_len, b->key, b->key_len);
}

static int item_qsort_cmp(const void *a, const void *b)
{
	return item_cmp(a, b);
}

/* out[0..k) as a heap with the item that lists last at the root. */
static void worst_sift_down(struct pv_topk_item *out, uint32_t k, uint32_t pos)
{
	struct pv_topk_item it = out[pos];

	for (;;) {
		uint32_t c = 2 * pos + 1;

		if (c >= k)
			break;
		if (c + 1 < k && item_cmp(&out[c + 1], &out[c]) > 0)
			c++;
		if (item_cmp(&out[c], &it) <= 0)
			break;
		out[pos] = out[c];
		pos = c;
	}
	out[pos] = it;
}

uint32_t pv_topk_list(const void *t, struct pv_topk_item *out, uint32_t max)
{
	struct view v;
	uint32_t n, k;

	view_of(&v, t);
	n = v.h->n;
	k = n < max ? n : max;
	if (k == 0)
		return 0;
	for (uint32_t j = 0; j < n; j++) {
		const struct pv_topk_entry *e = entry_at(&v, j);
		struct pv_topk_item it = {
		    .key = e->key,
		    .key_len = e->key_len,
		    .estimate = e->count,
		    .error = e->error,
		};

		if (j < k) {
			out[j] = it;
			if (j + 1 == k && k < n)
				for (uint32_t p = k / 2; p-- > 0;)
					worst_sift_down(out, k, p);
		} else if (item_cmp(&it, &out[0]) < 0) {
			out[0] = it;
			worst_sift_down(out, k, 0);
		}
	}
	qsort(out, k, sizeof(*out), item_qsort_cmp);
	return k;
}

/* ---- merge ---- */

struct cand {
	const uint8_t *key; /* into dst or src, both unchanged until the end */
	uint32_t key_len;
	uint32_t hash; /* with dst's seed */
	uint64_t up;   /* U: the sum of the sides' upper bounds, the new count */
	uint64_t lo;   /* L: the sum of the sides' lower bounds */
};

/* Both the cut and the final layout order: U desc, then key bytes. */
static int cand_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;

	if (a->up != b->up)
		return a->up > b->up ? -1 : 1;
	return key_cmp(a->key, a->key_len, b->key, b->key_len);
}

/* The entry holding key in a valid table, or UINT32_MAX. */
static uint32_t lookup(const struct view *v, const uint8_t *key, uint32_t len, uint32_t hash)
{
	for (uint32_t i = hash & v->mask;; i = (i + 1) & v->mask) {
		uint32_t x = v->idx[i];
		const struct pv_topk_entry *e;

		if (x == 0)
			return UINT32_MAX;
		e = entry_at(v, x - 1);
		if (e->hash == hash && e->key_len == len && memcmp(e->key, key, len) == 0)
			return x - 1;
	}
}

int pv_topk_merge(void *dst, const void *src)
{
	struct view a, b, r;
	struct cand *cand = NULL;
	void *scratch = NULL;
	uint64_t mu_a, mu_b, total, floor;
	uint32_t m, nc, kept;
	size_t size;
	int rc;

	view_of(&a, dst);
	view_of(&b, src);
	if (a.h->capacity != b.h->capacity || a.h->key_max != b.h->key_max)
		return PV_ECONFIG;
	if (__builtin_add_overflow(a.h->total, b.h->total, &total))
		return -EOVERFLOW;
	m = a.h->capacity;
	size = pv_topk_size(m, a.h->key_max);
	cand = malloc(((size_t)a.h->n + b.h->n + 1) * sizeof(*cand));
	scratch = aligned_alloc(64, size);
	if (!cand || !scratch) {
		rc = -ENOMEM;
		goto out;
	}
	mu_a = table_min(&a);
	mu_b = table_min(&b);

	/* The union of keys with both bounds. dst's entry j is candidate j, so
	 * src's keys find theirs through dst's index. With J on both sides no
	 * sum below exceeds N_a + N_b, which fits. */
	nc = a.h->n;
	for (uint32_t j = 0; j < nc; j++) {
		const struct pv_topk_entry *e = entry_at(&a, j);
		uint64_t c = e->count;

		cand[j] = (struct cand){.key = e->key, .key_len = e->key_len, .hash = e->hash,
					.up = c + mu_b, .lo = c - e->error};
	}
	for (uint32_t j = 0; j < b.h->n; j++) {
		const struct pv_topk_entry *e = entry_at(&b, j);
		uint64_t c = e->count;
		uint32_t hash = a.h->seed == b.h->seed ? e->hash
						       : key_hash(e->key, e->key_len, a.h->seed);
		uint32_t at = lookup(&a, e->key, e->key_len, hash);

		if (at == UINT32_MAX) {
			cand[nc++] = (struct cand){.key = e->key, .key_len = e->key_len,
						   .hash = hash, .up = mu_a + c,
						   .lo = c - e->error};
		} else {
			cand[at].up += c - mu_b;
			cand[at].lo += c - e->error;
		}
	}

	/* Keep the m largest U; the floor bounds what is left out. */
	qsort(cand, nc, sizeof(*cand), cand_cmp);
	kept = nc < m ? nc : m;
	floor = mu_a + mu_b;
	if (nc > m && cand[m].up > floor)
		floor = cand[m].up;

	/* Canonical layout: entries in the sorted order, the heap its reverse
	 * (an ascending array is a min-heap), the index filled in entry order. */
	pv_topk_init(scratch, m, a.h->key_max, a.h->seed);
	view_of(&r, scratch);
	r.h->total = total;
	r.h->floor = floor;
	r.h->n = kept;
	for (uint32_t i = 0; i < kept; i++) {
		const struct cand *c = &cand[i];
		struct pv_topk_entry *e = entry_at(&r, i);
		uint32_t pos = kept - 1 - i;

		e->count = c->up;
		e->error = c->up > c->lo ? c->up - c->lo : 0;
		e->hash = c->hash;
		e->key_len = (uint16_t)c->key_len;
		memcpy(e->key, c->key, c->key_len);
		e->heap = pos;
		r.node[pos] = (struct pv_topk_node){.count = c->up, .entry = i};
		r.idx[index_free_slot(&r, c->hash)] = i + 1;
	}
	memcpy(dst, scratch, size);
	rc = PV_OK;
out:
	free(scratch);
	free(cand);
	return rc;
}
