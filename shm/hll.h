/*
 * HyperLogLog cardinality sketch placed in memory the caller provides (a slot
 * of the shared-memory region, a copy the aggregator made, a snapshot). It
 * answers "how many distinct keys" per window: distinct source IPs, qnames,
 * DNS clients. Fixed layout, no pointers:
 *
 *   [struct pv_hll_hdr, 16 bytes][2^precision one-byte registers]
 *
 * Writer (one per shard, hot path): pv_hll_add_hash() with
 * pv_hash64(key, len, PV_HLL_SEED) (lib/hash.h); the fixed seed is what makes
 * sketches of different workers, windows and sensors mergeable.
 * Reader: copy the image, pv_hll_check() it, then pv_hll_estimate() and
 * pv_hll_merge(). Every function but pv_hll_check() trusts its arguments to
 * be a sketch made by pv_hll_init() or accepted by pv_hll_check() (the
 * estimate also clamps register values, as a second line of defence).
 * A torn copy of a slot an honest worker is writing always passes the
 * check: registers are single bytes that only grow, so live reads need no
 * retry.
 *
 * Register value of a hash: the top p bits select the register, the value is
 * 1 + the number of leading zeros of the remaining q = 64 - p bits (q + 1 when
 * they are all zero), so a valid register holds 0..q+1. Merge is register max:
 * associative, commutative, idempotent, and the merge of two sketches is
 * byte-for-byte the sketch of the union of their keys.
 *
 * Estimator: Otmar Ertl, "New cardinality estimation algorithms for
 * HyperLogLog sketches" (2017, arXiv:1702.01284), the improved raw estimator
 * (his algorithm 6, the sigma/tau functions). From p = 8 up it is nearly
 * unbiased from n = 0 to far beyond 10^9 with 64-bit hashes (p 4..6 keep a
 * bias of a few percent, small next to their 13-26 % error); it needs
 * neither HLL++'s empirical bias tables (which exist only for some
 * precisions) nor a switch between linear counting and the raw estimate
 * (whose seam shows a bias bump), and costs one pass over the registers.
 * Standard error ~1.04/sqrt(2^p): 0.81 % at the default precision 14.
 *
 * Header fields are native byte order.
 */
#ifndef PV_SHM_HLL_H
#define PV_SHM_HLL_H

#include <stddef.h>
#include <stdint.h>

#define PV_HLL_MAGIC 0x4c4c4856u /* "VHLL" little endian */
/* Bump on any change of layout, register rule or hash (lib/hash.h). */
#define PV_HLL_VERSION 1u
#define PV_HLL_MIN_PRECISION 4u
#define PV_HLL_MAX_PRECISION 18u
#define PV_HLL_DEFAULT_PRECISION 14u
#define PV_HLL_HDR_SIZE 16u

struct pv_hll_hdr {
	uint32_t magic;    /* PV_HLL_MAGIC */
	uint8_t version;   /* PV_HLL_VERSION */
	uint8_t precision; /* p: 2^p registers, 4..18 */
	uint16_t reserved; /* 0 */
	uint32_t nregs;    /* 1 << p, redundant: a second witness checked against p */
	uint32_t reserved2;
};

_Static_assert(sizeof(struct pv_hll_hdr) == PV_HLL_HDR_SIZE, "pv_hll_hdr size");
_Static_assert(_Alignof(struct pv_hll_hdr) <= 8, "pv_hll_hdr alignment");

/* Bytes of a sketch of precision p, usable in layout structs and static
 * asserts; a multiple of 8 for every valid p, so sketches can be packed. */
#define PV_HLL_SIZE(p) ((size_t)PV_HLL_HDR_SIZE + ((size_t)1 << (p)))

_Static_assert(PV_HLL_SIZE(PV_HLL_DEFAULT_PRECISION) == 16400, "default HLL size");

/* PV_HLL_SIZE(precision), or 0 when precision is outside 4..18. */
size_t pv_hll_size(uint8_t precision);

/* Writes an empty sketch of pv_hll_size(precision) bytes at mem (8-byte
 * aligned). A precision outside 4..18 is a programming error: abort(). */
void pv_hll_init(void *mem, uint8_t precision);

/*
 * Hot path, once per packet and key: h from pv_hll_init() and only ever
 * written by this process; hash = pv_hash64(key, len, PV_HLL_SEED).
 * Branch-light: a shift, a count of leading zeros and a byte max.
 */
static inline void pv_hll_add_hash(void *h, uint64_t hash)
{
	const unsigned p = ((const struct pv_hll_hdr *)h)->precision;
	uint8_t *reg = (uint8_t *)h + PV_HLL_HDR_SIZE;
	const uint64_t idx = hash >> (64 - p);
	/* The sentinel bit caps the count at q = 64 - p: value q + 1 for an
	 * all-zero remainder, and clzll never sees 0. */
	const uint64_t w = (hash << p) | ((uint64_t)1 << (p - 1));
	const uint8_t r = (uint8_t)(__builtin_clzll(w) + 1);

	if (r > reg[idx])
		reg[idx] = r;
}

/* Estimated number of distinct hashes added (rounded); 0 for an empty
 * sketch. Register values above q + 1 (possible only in an unchecked copy)
 * are read as q + 1. */
uint64_t pv_hll_estimate(const void *h);

/* dst = register max of dst and src (src may equal dst). PV_ECONFIG when the
 * precisions differ (dst unchanged), else PV_OK. */
int pv_hll_merge(void *dst, const void *src);

/*
 * Validates an untrusted image of len bytes at mem (8-byte aligned): magic
 * (PV_EMAGIC), version (PV_EVERSION), precision in range and len exactly
 * pv_hll_size(precision) (PV_ESIZE), nregs and reserved fields, every
 * register <= 64 - p + 1 (PV_ECORRUPT). Reads nothing outside [mem, mem+len).
 */
int pv_hll_check(const void *mem, size_t len);

uint8_t pv_hll_precision(const void *h);

#endif
