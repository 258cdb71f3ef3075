/*
 * Quantile sketch with a relative-error guarantee (DDSketch: Masson, Rim and
 * Lee, "DDSketch: a fast and fully-mergeable quantile sketch with
 * relative-error guarantees", VLDB 2019) over a FIXED array of log-spaced
 * buckets, placed in memory the caller provides (a slot of the shared-memory
 * region, a copy, a snapshot). It holds the distributions of one window:
 * payload sizes, DNS transaction times, reply/query size ratios, per-second
 * rates. Fixed layout, no pointers:
 *
 *   [struct pv_qs_hdr, 80 bytes][nbuckets x u64 counts]
 *
 *   bucket 0            "low": every v < min_indexable (0, negatives, -inf)
 *   buckets 1..n-2      log-spaced, each [lo, hi) with hi/lo <= gamma,
 *                       gamma = (1 + alpha) / (1 - alpha)
 *   bucket n-1          "high": every v >= max_indexable (incl. +inf)
 *   NaN                 not a value: counted in `nan` only, never in count
 *
 * The two outer buckets are the clamped values; pv_qs_low_count() and
 * pv_qs_high_count() read them. The sketch promises, for the element x of
 * rank floor(rank * (count - 1)) in sorted order:
 *   - min_indexable <= x < max_indexable: |estimate - x| <= alpha * |x|;
 *   - x < min_indexable: the estimate is the exact min (exact when every low
 *     value is equal, e.g. zero-byte payloads; a lower bound otherwise);
 *   - x >= max_indexable: the estimate is the exact max (exact when every
 *     high value is equal; an upper bound otherwise);
 *   - rank 0 and rank 1 give the exact min and max, every estimate lies in
 *     [min, max], and estimates never decrease with the rank.
 *
 * Mapping: DDSketch's cubically interpolated mapping. Instead of log(v), the
 * index uses e + P(s) for v = 2^e * (1 + s), P(s) = A s^3 + B s^2 + C s with
 * A = 6/35, B = -3/5, C = 10/7 (P(0) = 0, P(1) = 1, and (1 + s) P'(s) >= C on
 * [0, 1), so every bucket spans at most a factor gamma when the index is
 * scaled by multiplier = 1 / (C ln gamma)). Why this and not log():
 *   - speed: bit operations and three multiply-adds, ~2 ns, no table (a
 *     lookup table would live in process memory and need a lifecycle);
 *   - determinism: no libm call on the write path. Buckets are decided by
 *     IEEE +, *, / only, so every sensor of a fleet, whatever its libm,
 *     computes identical bucket boundaries and merges are exact; the
 *     multiplier is computed the same way (a series for atanh), so
 *     pv_qs_check() can verify it bit for bit on any host.
 * The cost is ~1 % more buckets than the exact log mapping.
 * To absorb the last-ulp rounding of that arithmetic, gamma is built from
 * alpha * (1 - 2^-20): the guarantee above holds for alpha itself.
 *
 * Bucket count for a range [lo, hi] (see pv_qs_buckets_for(), which computes
 * it exactly):  nbuckets ~= 3 + log2(hi / lo) * 7 / (10 ln gamma)
 * For alpha = 1 %: ln gamma = 0.0200, 35.0 buckets per octave, 116.3 per
 * decade (the exact log mapping needs 115.1). The defaults below are the
 * exact counts for the ranges the sensor uses; tests/unit/test_quantile.c
 * checks they still cover them.
 *
 * Writer (one per shard): pv_qs_add_u32() (integers: sizes, microseconds),
 * pv_qs_add() / pv_qs_add_n() (doubles: ratios, rates). Reader: copy the
 * image, pv_qs_check() it, then query and merge. Every function but
 * pv_qs_check() trusts its sketch to come from pv_qs_init() or to have
 * passed pv_qs_check(). Header fields are native byte order.
 *
 * A live (unsealed) copy can fail pv_qs_check() simply because it was torn
 * between a bucket increment and the count increment: readers of live
 * slots must expect PV_ECORRUPT and skip or retry, never trust.
 */
#ifndef PV_SHM_QUANTILE_H
#define PV_SHM_QUANTILE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PV_QS_MAGIC 0x53514456u /* "VDQS" little endian */
/* Bump on any change of layout or mapping. */
#define PV_QS_VERSION 1u
#define PV_QS_HDR_SIZE 80u
#define PV_QS_MIN_BUCKETS 3u
#define PV_QS_MAX_BUCKETS 65536u
#define PV_QS_ALPHA_MIN 1e-4
#define PV_QS_ALPHA_MAX 0.5
#define PV_QS_MIN_INDEXABLE_MIN 1e-12
#define PV_QS_MIN_INDEXABLE_MAX 1e12

/* Defaults of the sensor's sketches, alpha = 1 %; nbuckets exact for the
 * ranges (pv_qs_buckets_for(alpha, min_indexable, max)). */
#define PV_QS_ALPHA_DEFAULT 0.01
/* Sizes in bytes (payload, DNS responses), 1 .. 65535; 0 is a low value. */
#define PV_QS_SIZE_MIN 1.0
#define PV_QS_SIZE_MAX 65535.0
#define PV_QS_SIZE_NBUCKETS 563u
/* Latencies in microseconds, 1 .. 10^8 (100 s). */
#define PV_QS_LATENCY_MIN 1.0
#define PV_QS_LATENCY_MAX 1e8
#define PV_QS_LATENCY_NBUCKETS 934u
/* Reply/query size ratios, 10^-3 .. 10^4. */
#define PV_QS_RATIO_MIN 1e-3
#define PV_QS_RATIO_MAX 1e4
#define PV_QS_RATIO_NBUCKETS 816u
/* Per-second rates (packets, bytes, DNS messages), 1 .. 10^9; 0 is low. */
#define PV_QS_RATE_MIN 1.0
#define PV_QS_RATE_MAX 1e9
#define PV_QS_RATE_NBUCKETS 1050u

/* Exponent shift: keeps e + P(s) positive for every v >= min_indexable, so
 * the index is a truncation, not a floor() call. */
#define PV_QS_EXP_SHIFT 64
#define PV_QS_CUBIC_A (6.0 / 35.0)
#define PV_QS_CUBIC_B (-3.0 / 5.0)
#define PV_QS_CUBIC_C (10.0 / 7.0)

struct pv_qs_hdr {
	/* Everything the write path touches sits in the first 64 bytes. */
	uint32_t magic;       /* PV_QS_MAGIC */
	uint16_t version;     /* PV_QS_VERSION */
	uint16_t reserved0;   /* 0 */
	uint32_t nbuckets;    /* n, including the low and high buckets */
	int32_t index_offset; /* mapped index of min_indexable, minus 1 (derived) */
	double min_indexable; /* smallest value of bucket 1 */
	double multiplier;    /* 1 / (C ln gamma) (derived from alpha) */
	uint64_t count;       /* values in the buckets (NaN excluded) */
	double min;           /* exact; +inf while count == 0 */
	double max;           /* exact; -inf while count == 0 */
	double alpha;         /* relative accuracy asked for */
	uint64_t nan;         /* NaN inputs, dropped */
	uint64_t reserved1;   /* 0 */
};

_Static_assert(sizeof(struct pv_qs_hdr) == PV_QS_HDR_SIZE, "pv_qs_hdr size");
_Static_assert(_Alignof(struct pv_qs_hdr) <= 8, "pv_qs_hdr alignment");
_Static_assert(offsetof(struct pv_qs_hdr, max) + sizeof(double) <= 64, "hot fields in one line");

/* Bytes of a sketch of nbuckets buckets: for layout structs and asserts. */
#define PV_QS_SIZE(nbuckets) ((size_t)PV_QS_HDR_SIZE + (size_t)(nbuckets) * sizeof(uint64_t))

/* PV_QS_SIZE(nbuckets), or 0 when nbuckets is outside 3..65536. */
size_t pv_qs_size(uint32_t nbuckets);

/* PV_OK when pv_qs_init() accepts these parameters, else PV_ECONFIG: alpha in
 * [1e-4, 0.5], min_indexable in [1e-12, 1e12], nbuckets in 3..65536. For
 * validating configuration before anything is placed in memory. */
int pv_qs_params_check(double alpha, double min_indexable, uint32_t nbuckets);

/* Smallest nbuckets whose in-range buckets cover [min_indexable, max]
 * (max lands below the high bucket); 0 when none up to 65536 does or the
 * parameters are invalid. */
uint32_t pv_qs_buckets_for(double alpha, double min_indexable, double max);

/* Writes an empty sketch of pv_qs_size(nbuckets) bytes at mem (8-byte
 * aligned). Parameters refused by pv_qs_params_check() are a programming
 * error: abort(). */
void pv_qs_init(void *mem, double alpha, double min_indexable, uint32_t nbuckets);

/* e + 64 + P(s) for v = 2^e (1 + s): a monotone, piecewise-cubic stand-in for
 * log2(v) + 64, for positive v (+inf maps past every bucket). Any other
 * double gives some value in (-1000, 4200): harmless, never used. Internal
 * to the write path; exposed for tests. */
static inline double pv_qs_log2ish(double v)
{
#ifdef __clang__
	/* A fused multiply-add would round differently from other hosts (GCC
	 * does not contract in ISO C mode, -std=c11). */
#pragma STDC FP_CONTRACT OFF
#endif
	uint64_t b, sb;
	double s;

	memcpy(&b, &v, sizeof(b));
	sb = (b & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
	memcpy(&s, &sb, sizeof(s));
	s -= 1.0;
	return (double)((int)(b >> 52) - 1023 + PV_QS_EXP_SHIFT) +
	       ((PV_QS_CUBIC_A * s + PV_QS_CUBIC_B) * s + PV_QS_CUBIC_C) * s;
}

/* The bucket v is counted in (v not NaN). Exposed for tests and for callers
 * that need to know whether a value is clamped (0 or nbuckets - 1). */
static inline uint32_t pv_qs_bucket_of(const void *q, double v)
{
	const struct pv_qs_hdr *h = q;
	int64_t b;

	/*
	 * No branch on the low case: zero-byte payloads (bare ACKs) make up a
	 * third of some traffic, at random, and a mispredicted branch would
	 * cost more than the whole mapping. Any double (0, negative, NaN, inf)
	 * yields a bounded, defined index here; the select below discards it.
	 * Truncation is floor for every v >= min_indexable: the product is
	 * positive there.
	 */
	b = (int64_t)(pv_qs_log2ish(v) * h->multiplier) - h->index_offset;
	/* Rounding may place a value just above min_indexable one index
	 * below it: keep it out of the low bucket all the same. */
	b = b < 1 ? 1 : b;
	b = b > (int64_t)h->nbuckets - 1 ? (int64_t)h->nbuckets - 1 : b;
	/* A mask, not ?: (which compilers emit as a branch here). */
	return (uint32_t)b & -(uint32_t)(v >= h->min_indexable);
}

/*
 * Hot path for integer values (sizes in bytes, times in microseconds): every
 * u32 is exact as a double and never NaN or -0, so this skips pv_qs_add()'s
 * screening and lands in exactly the bucket pv_qs_add((double)v) would.
 * min/max are updated under branches, not with a min instruction: a store
 * per packet would chain every update through store forwarding.
 */
static inline void pv_qs_add_u32(void *q, uint32_t v)
{
	struct pv_qs_hdr *h = q;
	uint64_t *bk = (uint64_t *)((uint8_t *)q + PV_QS_HDR_SIZE);
	const double d = (double)v;

	bk[pv_qs_bucket_of(q, d)]++;
	h->count++;
	if (d < h->min)
		h->min = d;
	if (d > h->max)
		h->max = d;
}

/* General path: any double. NaN is counted in `nan` only; -0 is stored as
 * +0 (so merged images compare byte for byte). */
void pv_qs_add(void *q, double v);

/* Adds v n times (n = 0: no change at all), e.g. folding per-second rate
 * counts. Counts wrap only past 2^64 additions: not checked here. */
void pv_qs_add_n(void *q, double v, uint64_t n);

/* Estimate of the element of rank floor(rank * (count - 1)), see above. NaN
 * when the sketch is empty or rank is NaN; rank is clamped into [0, 1]. */
double pv_qs_quantile(const void *q, double rank);

uint64_t pv_qs_count(const void *q);
/* Exact min and max of the values added; NaN while the sketch is empty. */
double pv_qs_min(const void *q);
double pv_qs_max(const void *q);
/* Values clamped into the low bucket (v < min_indexable) and into the high
 * one (v >= max_indexable), and NaN inputs dropped. */
uint64_t pv_qs_low_count(const void *q);
uint64_t pv_qs_high_count(const void *q);
uint64_t pv_qs_nan_count(const void *q);
/* Parameters, to init an empty sketch that merges with q. */
void pv_qs_params(const void *q, double *alpha, double *min_indexable, uint32_t *nbuckets);
/* Smallest value counted in the high bucket. */
double pv_qs_max_indexable(const void *q);
/* Edges [lo, hi) of in-range bucket b (1..nbuckets-2), hi / lo <= gamma;
 * bucket 1 starts at min_indexable. For tests and histogram renderers. */
void pv_qs_bucket_bounds(const void *q, uint32_t b, double *lo, double *hi);

/*
 * dst += src: bucket sums, counts, min/max (src may equal dst). PV_ECONFIG
 * when alpha, min_indexable or nbuckets differ; PV_ECORRUPT when a count
 * would pass 2^64 (only possible with crafted images). dst is unchanged on
 * error.
 */
int pv_qs_merge(void *dst, const void *src);

/*
 * Validates an untrusted image of len bytes at mem (8-byte aligned): magic
 * (PV_EMAGIC), version (PV_EVERSION), nbuckets in range and len exactly
 * pv_qs_size(nbuckets) (PV_ESIZE); and, all PV_ECORRUPT: alpha and
 * min_indexable finite and in range, multiplier and index_offset exactly as
 * derived, reserved fields zero, count == sum of the buckets without
 * overflow, min/max +inf/-inf when empty, else not NaN, not -0, min <= max,
 * each in a non-empty bucket that is (or is next to) the first / last one,
 * and two values counted when min != max. Reads nothing outside
 * [mem, mem + len).
 */
int pv_qs_check(const void *mem, size_t len);

#endif
