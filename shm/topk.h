/*
 * Top-K sketch (Space-Saving, mergeable) placed in memory the caller provides:
 * the heavy-hitter tables of the metrics block (top IPv4/IPv6 addresses, geo
 * and ASN names, DNS qnames). A worker is the single writer of its tables and
 * calls pv_topk_add() per packet; the aggregator copies sealed windows out of
 * shared memory, runs pv_topk_check() on each copy (a torn or hostile copy is
 * possible), then pv_topk_list() / pv_topk_merge(). Shards, windows and
 * sensors of a fleet all merge with the same pv_topk_merge().
 *
 * Ownership: the module owns no memory. A table is pv_topk_size() bytes at an
 * 8-byte aligned address chosen by the caller, initialised by pv_topk_init()
 * and afterwards only changed through this interface. Nothing in it is a
 * pointer, so any process may map it at any address. Keys returned by
 * pv_topk_list() point into the table and live as long as it is unchanged.
 *
 * Guarantee, for a table of capacity m whose stream (or union of merged
 * streams) has total weight N, with f(x) the true weight of key x:
 *   - every x with f(x) > N/m is in the table;
 *   - a listed x has  estimate - error <= f(x) <= estimate  and
 *     estimate - f(x) <= error <= N/m.
 * It holds after any sequence of adds and merges, in any order.
 *
 * Layout (native byte order, the region's contract; all offsets derive from
 * capacity and key_max, so the header's copies of them are checked, not used
 * blindly):
 *   [struct pv_topk_hdr, 64 bytes][48 zero bytes]
 *   [heap: capacity x struct pv_topk_node] 4-ary min-heap on count
 *   [entries: capacity x stride bytes]     struct pv_topk_entry + key bytes
 *   [index: slots x uint32]                open addressing, linear probing;
 *                                          0 = empty, else entry number + 1;
 *                                          slots = pow2 >= 2 x capacity
 * A hit reads the index slot and the entry, and finds the count there. Every
 * miss on a full table evicts the heap root and sifts the new count down, so
 * the heap is built for that loop: each node carries a copy of its entry's
 * count (compares stay within the heap array), the heap is 4-ary and starts
 * 48 bytes after the header, so the four children of a node (4i+1 .. 4i+4)
 * fill one 64-byte line when the table is 64-byte aligned (8 is enough for
 * correctness). The structs below are the shared-memory contract (tests and
 * the fuzz target build images with them); other modules use the functions.
 */
#ifndef PV_SHM_TOPK_H
#define PV_SHM_TOPK_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define PV_TOPK_MAGIC 0x4b545650u /* "PVTK" little endian */
#define PV_TOPK_VERSION 1u
#define PV_TOPK_MAX_CAPACITY (1u << 20)
#define PV_TOPK_MAX_KEY 1024u

struct pv_topk_hdr {
	uint32_t magic;      /* PV_TOPK_MAGIC */
	uint32_t version;    /* PV_TOPK_VERSION */
	uint32_t capacity;   /* m: number of counters */
	uint32_t key_max;    /* longest key kept; longer keys are truncated */
	uint32_t n;          /* entries in use, <= capacity */
	uint32_t stride;     /* PV_TOPK_STRIDE(key_max) */
	uint32_t index_mask; /* index slots - 1 */
	uint32_t reserved0;  /* 0 */
	uint64_t total;      /* N: every weight added or merged in */
	/*
	 * Upper bound of the true weight of any key not in the table while the
	 * table is not full, and the count a new key starts from (plus its
	 * weight). 0 for a table fed only by adds; a merge raises it to what it
	 * could not keep. See topk.c for the invariants.
	 */
	uint64_t floor;
	uint64_t seed;      /* XXH3 seed of the index hash */
	uint64_t reserved1; /* 0 */
};
static_assert(sizeof(struct pv_topk_hdr) == 64, "topk header size");
static_assert(_Alignof(struct pv_topk_hdr) == 8, "topk header alignment");

struct pv_topk_node {
	uint64_t count; /* copy of the entry's count */
	uint32_t entry; /* entry number */
	uint32_t zero;  /* 0 */
};
static_assert(sizeof(struct pv_topk_node) == 16, "topk heap node size");

struct pv_topk_entry {
	uint64_t count;   /* the estimate */
	uint64_t error;   /* max overestimate of the count */
	uint32_t hash;    /* low 32 bits of XXH3(key, seed): home slot = hash & mask */
	uint32_t heap;    /* position of this entry's node in the heap */
	uint16_t key_len; /* <= key_max */
	uint8_t key[];    /* key_max bytes, padded to the stride */
};
static_assert(offsetof(struct pv_topk_entry, key) == 26, "topk entry key offset");

#define PV_TOPK_HEAP_OFF 112u /* header + padding: sibling groups line-aligned */
#define PV_TOPK_KEY_OFF 26u
#define PV_TOPK_STRIDE(key_max) ((((uint64_t)(key_max)) + PV_TOPK_KEY_OFF + 7u) & ~(uint64_t)7u)

/* Smallest power of two >= 2 x cap (cap >= 1), as a constant expression. */
#define PV_TOPK_P2_1(v) ((v) | ((v) >> 1))
#define PV_TOPK_P2_2(v) (PV_TOPK_P2_1(v) | (PV_TOPK_P2_1(v) >> 2))
#define PV_TOPK_P2_4(v) (PV_TOPK_P2_2(v) | (PV_TOPK_P2_2(v) >> 4))
#define PV_TOPK_P2_8(v) (PV_TOPK_P2_4(v) | (PV_TOPK_P2_4(v) >> 8))
#define PV_TOPK_P2_16(v) (PV_TOPK_P2_8(v) | (PV_TOPK_P2_8(v) >> 16))
#define PV_TOPK_SLOTS(cap) (PV_TOPK_P2_16(2u * (uint64_t)(cap) - 1u) + 1u)

/*
 * Bytes of a table, as a constant expression (usable for array sizes in the
 * metrics block); equals pv_topk_size() for valid parameters. A multiple of
 * 64, so consecutive tables keep their own cache lines.
 */
#define PV_TOPK_SIZE(cap, key_max)                                                                 \
	((size_t)((PV_TOPK_HEAP_OFF + 16u * (uint64_t)(cap) +                                     \
		   (uint64_t)(cap) * PV_TOPK_STRIDE(key_max) + 4u * PV_TOPK_SLOTS(cap) + 63u) &    \
		  ~(uint64_t)63u))

/*
 * Bytes a table of this capacity and key_max needs, or 0 if the parameters
 * are out of range (capacity 1..PV_TOPK_MAX_CAPACITY, key_max
 * 1..PV_TOPK_MAX_KEY).
 */
size_t pv_topk_size(uint32_t capacity, uint32_t key_max);

/*
 * Makes mem (pv_topk_size() bytes, 8-byte aligned; 64 for speed) an empty
 * table. The parameters must be valid (pv_topk_size() != 0): a programmer's
 * error otherwise. seed keys the index hash; any value works, a random one
 * per sensor start keeps crafted keys from clustering the index.
 */
void pv_topk_init(void *mem, uint32_t capacity, uint32_t key_max, uint64_t seed);

/*
 * Counts weight for key: the per-packet path (single writer, no allocation,
 * no syscall; O(1) expected, O(log m) when a counter moves in the heap). A
 * key longer than key_max is counted as its first key_max bytes (so keys that
 * share those bytes share a counter). key must not be NULL. The table is
 * trusted: a table of unknown state (a copy from shm, a restarted worker's
 * slot) must pass pv_topk_check() before it is added to.
 */
void pv_topk_add(void *t, const void *key, uint32_t key_len, uint64_t weight);

/*
 * Validates everything the other functions rely on, reading only
 * [mem, mem + len): header (magic, version, parameters, stride and index size
 * derived from them, len >= pv_topk_size()), n <= capacity, key lengths,
 * stored hashes, the heap (a permutation of the entries, positions stored
 * back, counts equal to the entries', heap order), the index (every entry
 * reachable from its home slot, nothing else in it, no key twice, probe
 * lengths an honest table has) and the counting invariants (floor <= counts,
 * errors bounded, sum of counts consistent with total). Bytes no function
 * reads (stale key tails, unused entries) are not checked. PV_OK, or
 * PV_ETRUNCATED (len too short), PV_EMAGIC, PV_EVERSION, PV_ESIZE (parameters
 * or derived sizes wrong, mem not 8-byte aligned), PV_ECORRUPT (inconsistent
 * content). Linear in the table size.
 */
int pv_topk_check(const void *mem, size_t len);

struct pv_topk_item {
	const uint8_t *key; /* into the table */
	uint32_t key_len;
	uint64_t estimate; /* >= true weight */
	uint64_t error;    /* estimate - true weight <= error */
};

/*
 * Writes the min(max, n) largest entries to out, by estimate descending, then
 * key bytes ascending (memcmp order, a prefix first). Returns how many.
 */
uint32_t pv_topk_list(const void *t, struct pv_topk_item *out, uint32_t max);

/* N: the sum of every weight added or merged in. */
uint64_t pv_topk_total(const void *t);

uint32_t pv_topk_capacity(const void *t);

/*
 * dst = dst (+) src, the mergeable-summaries merge (topk.c explains it and why
 * the guarantee above survives it). Both must be valid tables (init'ed here or
 * passed pv_topk_check()) with the same capacity and key_max, else PV_ECONFIG;
 * their seeds may differ (dst keeps its own). src may be dst. The result does
 * not depend on which side is dst beyond the seed: equal seeds give identical
 * bytes. Allocates O(capacity) temporary memory: -ENOMEM if that fails,
 * -EOVERFLOW if the totals' sum does not fit in 64 bits; dst is unchanged on
 * any error.
 */
int pv_topk_merge(void *dst, const void *src);

#endif
