/*
 * Log-bucket quantile sketch (DDSketch with the cubically interpolated
 * mapping) in caller-provided memory: parameters, init, the general add
 * paths, queries, merge, and validation of untrusted images. The layout, the
 * mapping and what the estimates promise are in shm/quantile.h.
 *
 * Everything that decides a bucket or a derived header field uses IEEE
 * +, -, *, / only (no libm), so two hosts always agree bit for bit; libm
 * (ldexp, which is exact) appears only on the query side.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "shm/quantile.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

static uint64_t *buckets(void *q)
{
	return (uint64_t *)((uint8_t *)q + PV_QS_HDR_SIZE);
}

static const uint64_t *cbuckets(const void *q)
{
	return (const uint64_t *)((const uint8_t *)q + PV_QS_HDR_SIZE);
}

static uint64_t dbits(double d)
{
	uint64_t b;

	memcpy(&b, &d, sizeof(b));
	return b;
}

/*
 * ln gamma for gamma = (1 + a) / (1 - a), i.e. 2 atanh(a) = 2 (a + a^3/3 +
 * a^5/5 + ...), with a = alpha shrunk by 2^-20 so the ulp-level rounding of
 * the mapping can never push an error past alpha itself. A series instead of
 * log(): the result is the same on every host, and pv_qs_check() compares
 * the stored multiplier bit for bit. For alpha <= 0.5 each term is at most a
 * quarter of the previous one: ~30 rounds.
 */
static double ln_gamma(double alpha)
{
	const double a = alpha * (1.0 - 1.0 / 1048576.0), a2 = a * a;
	double t = a, sum = a, next;

	for (unsigned k = 1; k < 200; k++) {
		t *= a2;
		next = sum + t / (double)(2 * k + 1);
		if (next == sum)
			break;
		sum = next;
	}
	return 2.0 * sum;
}

static double multiplier_of(double alpha)
{
	/* (1 + s) P'(s) >= C on [0, 1): one index step spans at most
	 * ln(gamma) in ln v when the step is 1 / (C ln gamma) in e + P(s). */
	return 1.0 / (PV_QS_CUBIC_C * ln_gamma(alpha));
}

static int64_t global_index(double v, double mult)
{
	return (int64_t)(pv_qs_log2ish(v) * mult);
}

static int32_t index_offset_of(double min_indexable, double mult)
{
	return (int32_t)(global_index(min_indexable, mult) - 1);
}

/*
 * Inverse of P on [0, 1]: P is increasing (P' >= 26/35) and concave, so
 * Newton from s = t converges quadratically (error 0.09 -> 1e-18 in five
 * steps); a few spare steps and the clamp cost nothing at query time.
 */
static double cubic_inverse(double t)
{
	double s = t;

	for (int i = 0; i < 12; i++) {
		double p = ((PV_QS_CUBIC_A * s + PV_QS_CUBIC_B) * s + PV_QS_CUBIC_C) * s;
		double dp = (3.0 * PV_QS_CUBIC_A * s + 2.0 * PV_QS_CUBIC_B) * s + PV_QS_CUBIC_C;
		double ns = s - (p - t) / dp;

		ns = ns < 0.0 ? 0.0 : ns > 1.0 ? 1.0 : ns;
		if (ns == s)
			break;
		s = ns;
	}
	return s;
}

/* The v with pv_qs_log2ish(v) == y (y > 0): the lower edge of index y * M. */
static double log2ish_inverse(double y)
{
	double e = floor(y);

	return ldexp(1.0 + cubic_inverse(y - e), (int)e - PV_QS_EXP_SHIFT);
}

void pv_qs_bucket_bounds(const void *q, uint32_t b, double *lo, double *hi)
{
	const struct pv_qs_hdr *h = q;
	double g = (double)((int64_t)b + h->index_offset);

	*lo = log2ish_inverse(g / h->multiplier);
	*hi = log2ish_inverse((g + 1.0) / h->multiplier);
	if (b == 1 && *lo < h->min_indexable)
		*lo = h->min_indexable;
}

size_t pv_qs_size(uint32_t nbuckets)
{
	if (nbuckets < PV_QS_MIN_BUCKETS || nbuckets > PV_QS_MAX_BUCKETS)
		return 0;
	return PV_QS_SIZE(nbuckets);
}

int pv_qs_params_check(double alpha, double min_indexable, uint32_t nbuckets)
{
	/* Written so that NaN fails every comparison. */
	if (!(alpha >= PV_QS_ALPHA_MIN && alpha <= PV_QS_ALPHA_MAX))
		return PV_ECONFIG;
	if (!(min_indexable >= PV_QS_MIN_INDEXABLE_MIN &&
	      min_indexable <= PV_QS_MIN_INDEXABLE_MAX))
		return PV_ECONFIG;
	if (!pv_qs_size(nbuckets))
		return PV_ECONFIG;
	return PV_OK;
}

uint32_t pv_qs_buckets_for(double alpha, double min_indexable, double max)
{
	double mult;
	int64_t n;

	if (pv_qs_params_check(alpha, min_indexable, PV_QS_MIN_BUCKETS) != PV_OK)
		return 0;
	if (!(max >= min_indexable))
		return max <= min_indexable ? PV_QS_MIN_BUCKETS : 0;
	if (!(max < INFINITY))
		return 0;
	mult = multiplier_of(alpha);
	/* max's bucket must be n - 2 at most. */
	n = global_index(max, mult) - index_offset_of(min_indexable, mult) + 2;
	if (n < PV_QS_MIN_BUCKETS)
		n = PV_QS_MIN_BUCKETS;
	return n <= PV_QS_MAX_BUCKETS ? (uint32_t)n : 0;
}

void pv_qs_init(void *mem, double alpha, double min_indexable, uint32_t nbuckets)
{
	struct pv_qs_hdr *h = mem;

	if (pv_qs_params_check(alpha, min_indexable, nbuckets) != PV_OK) {
		fprintf(stderr, "pv_qs_init: invalid parameters alpha %g min_indexable %g "
				"nbuckets %u\n", alpha, min_indexable, nbuckets);
		abort();
	}
	/* Every byte, so images compare with memcmp. */
	memset(mem, 0, PV_QS_SIZE(nbuckets));
	h->magic = PV_QS_MAGIC;
	h->version = PV_QS_VERSION;
	h->nbuckets = nbuckets;
	h->alpha = alpha;
	h->min_indexable = min_indexable;
	h->multiplier = multiplier_of(alpha);
	h->index_offset = index_offset_of(min_indexable, h->multiplier);
	h->min = INFINITY;
	h->max = -INFINITY;
}

void pv_qs_add_n(void *q, double v, uint64_t n)
{
	struct pv_qs_hdr *h = q;

	if (n == 0)
		return;
	if (isnan(v)) {
		h->nan += n;
		return;
	}
	v += 0.0; /* -0 + 0 = +0: one zero, so min/max merge byte-exactly */
	buckets(q)[pv_qs_bucket_of(q, v)] += n;
	h->count += n;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void pv_qs_add(void *q, double v)
{
	pv_qs_add_n(q, v, 1);
}

uint64_t pv_qs_count(const void *q)
{
	return ((const struct pv_qs_hdr *)q)->count;
}

double pv_qs_min(const void *q)
{
	const struct pv_qs_hdr *h = q;

	return h->count ? h->min : NAN;
}

double pv_qs_max(const void *q)
{
	const struct pv_qs_hdr *h = q;

	return h->count ? h->max : NAN;
}

uint64_t pv_qs_low_count(const void *q)
{
	return cbuckets(q)[0];
}

uint64_t pv_qs_high_count(const void *q)
{
	return cbuckets(q)[((const struct pv_qs_hdr *)q)->nbuckets - 1];
}

uint64_t pv_qs_nan_count(const void *q)
{
	return ((const struct pv_qs_hdr *)q)->nan;
}

void pv_qs_params(const void *q, double *alpha, double *min_indexable, uint32_t *nbuckets)
{
	const struct pv_qs_hdr *h = q;

	*alpha = h->alpha;
	*min_indexable = h->min_indexable;
	*nbuckets = h->nbuckets;
}

double pv_qs_max_indexable(const void *q)
{
	const struct pv_qs_hdr *h = q;

	return log2ish_inverse((double)((int64_t)h->nbuckets - 1 + h->index_offset) /
			       h->multiplier);
}

double pv_qs_quantile(const void *q, double rank)
{
	const struct pv_qs_hdr *h = q;
	const uint64_t *bk = cbuckets(q);
	uint64_t k, cum = 0;
	double pos, lo, hi, v;
	uint32_t b;

	if (h->count == 0 || isnan(rank))
		return NAN;
	rank = rank < 0.0 ? 0.0 : rank > 1.0 ? 1.0 : rank;
	pos = floor(rank * (double)(h->count - 1));
	k = pos < (double)(h->count - 1) ? (uint64_t)pos : h->count - 1;
	if (k == 0)
		return h->min;
	if (k == h->count - 1)
		return h->max;
	for (b = 0; b < h->nbuckets - 1; b++) {
		cum += bk[b];
		if (cum > k)
			break;
	}
	if (b == 0)
		return h->min;
	if (b == h->nbuckets - 1)
		return h->max;
	pv_qs_bucket_bounds(h, b, &lo, &hi);
	/* The harmonic mean is within (hi - lo) / (hi + lo) <= alpha of both
	 * edges; no estimate can be better than the known min and max. */
	v = 2.0 * lo * hi / (lo + hi);
	return v < h->min ? h->min : v > h->max ? h->max : v;
}

int pv_qs_merge(void *dst, const void *src)
{
	struct pv_qs_hdr *d = dst;
	const struct pv_qs_hdr *s = src;
	const uint64_t scount = s->count, snan = s->nan;
	const double smin = s->min, smax = s->max;
	uint64_t *db = buckets(dst), count, nan;
	const uint64_t *sb = cbuckets(src);

	if (d->nbuckets != s->nbuckets || dbits(d->alpha) != dbits(s->alpha) ||
	    dbits(d->min_indexable) != dbits(s->min_indexable) ||
	    dbits(d->multiplier) != dbits(s->multiplier) || d->index_offset != s->index_offset)
		return PV_ECONFIG;
	/* No bucket can overflow when the total does not: each is <= its
	 * sketch's count. */
	if (__builtin_add_overflow(d->count, scount, &count) ||
	    __builtin_add_overflow(d->nan, snan, &nan))
		return PV_ECORRUPT;
	for (uint32_t i = 0; i < d->nbuckets; i++)
		db[i] += sb[i];
	d->count = count;
	d->nan = nan;
	if (scount) {
		if (smin < d->min)
			d->min = smin;
		if (smax > d->max)
			d->max = smax;
	}
	return PV_OK;
}

/* A double that min/max may hold in a non-empty sketch. */
static int extreme_ok(double v)
{
	return !isnan(v) && dbits(v) != dbits(-0.0);
}

int pv_qs_check(const void *mem, size_t len)
{
	struct pv_qs_hdr h;
	const uint64_t *bk = cbuckets(mem);
	uint64_t sum = 0;
	uint32_t first = UINT32_MAX, last = 0, bmin, bmax;

	if (len < sizeof(h))
		return PV_ESIZE;
	memcpy(&h, mem, sizeof(h));
	if (h.magic != PV_QS_MAGIC)
		return PV_EMAGIC;
	if (h.version != PV_QS_VERSION)
		return PV_EVERSION;
	if (!pv_qs_size(h.nbuckets))
		return PV_ECORRUPT;
	if (len != PV_QS_SIZE(h.nbuckets))
		return PV_ESIZE;
	if (h.reserved0 != 0 || h.reserved1 != 0)
		return PV_ECORRUPT;
	if (pv_qs_params_check(h.alpha, h.min_indexable, h.nbuckets) != PV_OK)
		return PV_ECORRUPT;
	/* Derived fields: recomputed here exactly as pv_qs_init() did (no
	 * libm), so a mismatch is corruption, never a host difference. */
	if (dbits(h.multiplier) != dbits(multiplier_of(h.alpha)) ||
	    h.index_offset != index_offset_of(h.min_indexable, h.multiplier))
		return PV_ECORRUPT;
	for (uint32_t i = 0; i < h.nbuckets; i++) {
		if (!bk[i])
			continue;
		if (__builtin_add_overflow(sum, bk[i], &sum))
			return PV_ECORRUPT;
		if (first == UINT32_MAX)
			first = i;
		last = i;
	}
	if (sum != h.count)
		return PV_ECORRUPT;
	if (h.count == 0) {
		/* The canonical empty state, so merges stay byte-exact. */
		if (dbits(h.min) != dbits(INFINITY) || dbits(h.max) != dbits(-INFINITY))
			return PV_ECORRUPT;
		return PV_OK;
	}
	if (!extreme_ok(h.min) || !extreme_ok(h.max) || h.min > h.max)
		return PV_ECORRUPT;
	/*
	 * min and max were added like any value, so their own buckets are
	 * not empty (and hold two values when min != max share one), and no
	 * value lies below min's bucket or above max's.
	 * The mapping's rounding may order two values a last-ulp apart across
	 * a bucket edge the wrong way, hence one bucket of slack; the low
	 * bucket is an exact comparison and gets none.
	 */
	bmin = pv_qs_bucket_of(&h, h.min);
	bmax = pv_qs_bucket_of(&h, h.max);
	if (!bk[bmin] || !bk[bmax] || (h.min != h.max && bmin == bmax && bk[bmin] < 2))
		return PV_ECORRUPT;
	if (first + 1 < bmin || last > bmax + 1 || (bmin > 0 && first == 0))
		return PV_ECORRUPT;
	return PV_OK;
}
