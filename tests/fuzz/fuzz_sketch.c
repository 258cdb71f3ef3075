/*
 * libFuzzer target for the sketch images the aggregator copies out of slots
 * a worker may have corrupted: HyperLogLog (shm/hll.h) and the quantile
 * sketch (shm/quantile.h). Input: one flag byte, then the image. The check
 * must never read outside the image; an image it accepts must estimate,
 * answer every quantile and merge without trouble, and the results must
 * obey the sketches' laws, or the target aborts:
 *   - merged into an empty sketch of the same parameters, it is a byte copy;
 *   - HLL: merged into a copy of itself, unchanged (idempotent);
 *   - quantiles: ordered in the rank, inside [min, max], rank 0 and 1 exact;
 *     merged into a copy of itself, still valid (or refused for overflow).
 * Flag bits let the fuzzer get past the cheap outer checks so most runs
 * reach the deep ones: they set the magic and version, cut or zero-pad the
 * image to the length its header declares, recompute the derived fields,
 * and clear the reserved fields.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "shm/hll.h"
#include "shm/quantile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	FL_QUANTILE = 1 << 0, /* else HLL */
	FL_MAGIC = 1 << 1,    /* set magic and version */
	FL_LENGTH = 1 << 2,   /* cut or zero-pad to the declared size */
	FL_DERIVED = 1 << 3,  /* HLL nregs; quantile multiplier, offset, count */
	FL_RESERVED = 1 << 4, /* zero the reserved fields */
};

/* Length the header declares, or 0 when it declares none we can build. */
static size_t declared_len(const uint8_t *img, size_t len, int quantile)
{
	if (quantile) {
		struct pv_qs_hdr h;

		if (len < sizeof(h))
			return 0;
		memcpy(&h, img, sizeof(h));
		return pv_qs_size(h.nbuckets);
	} else {
		struct pv_hll_hdr h;

		if (len < sizeof(h))
			return 0;
		memcpy(&h, img, sizeof(h));
		return pv_hll_size(h.precision);
	}
}

static void patch_hll(uint8_t *img, size_t len, uint8_t flags)
{
	struct pv_hll_hdr *h = (struct pv_hll_hdr *)img;

	if (len < sizeof(*h))
		return;
	if (flags & FL_MAGIC) {
		h->magic = PV_HLL_MAGIC;
		h->version = PV_HLL_VERSION;
	}
	if ((flags & FL_DERIVED) && pv_hll_size(h->precision))
		h->nregs = 1u << h->precision;
	if (flags & FL_RESERVED) {
		h->reserved = 0;
		h->reserved2 = 0;
	}
}

static void patch_qs(uint8_t *img, size_t len, uint8_t flags)
{
	struct pv_qs_hdr *h = (struct pv_qs_hdr *)img;

	if (len < sizeof(*h))
		return;
	if (flags & FL_MAGIC) {
		h->magic = PV_QS_MAGIC;
		h->version = PV_QS_VERSION;
	}
	if (flags & FL_RESERVED) {
		h->reserved0 = 0;
		h->reserved1 = 0;
	}
	if ((flags & FL_DERIVED) &&
	    pv_qs_params_check(h->alpha, h->min_indexable, h->nbuckets) == PV_OK &&
	    len == PV_QS_SIZE(h->nbuckets)) {
		/* Take the derived fields from a real init with these
		 * parameters; the count from the buckets (wrapping freely:
		 * overflow is the check's business). */
		uint64_t tmp[PV_QS_SIZE(3) / sizeof(uint64_t)];
		const struct pv_qs_hdr *t = (const struct pv_qs_hdr *)tmp;
		const uint64_t *bk = (const uint64_t *)(img + PV_QS_HDR_SIZE);
		uint64_t sum = 0;

		pv_qs_init(tmp, h->alpha, h->min_indexable, 3);
		h->multiplier = t->multiplier;
		h->index_offset = t->index_offset;
		for (uint32_t i = 0; i < h->nbuckets; i++)
			sum += bk[i];
		h->count = sum;
		if (sum == 0) {
			h->min = INFINITY;
			h->max = -INFINITY;
		}
	}
}

static void run_hll(uint8_t *img, size_t len)
{
	uint8_t *fresh, *copy;
	volatile uint64_t sink;

	if (pv_hll_check(img, len) != PV_OK)
		return;
	sink = pv_hll_estimate(img);
	(void)sink;
	fresh = malloc(len);
	copy = malloc(len);
	if (!fresh || !copy)
		abort();
	pv_hll_init(fresh, pv_hll_precision(img));
	if (pv_hll_merge(fresh, img) != PV_OK || memcmp(fresh, img, len) != 0)
		abort();
	memcpy(copy, img, len);
	if (pv_hll_merge(copy, img) != PV_OK || memcmp(copy, img, len) != 0)
		abort();
	if (pv_hll_merge(copy, copy) != PV_OK || memcmp(copy, img, len) != 0)
		abort();
	if (pv_hll_check(copy, len) != PV_OK)
		abort();
	free(fresh);
	free(copy);
}

static void run_qs(uint8_t *img, size_t len)
{
	double alpha, min_idx, prev = -INFINITY, mn, mx;
	uint32_t nb;
	uint8_t *fresh, *copy;
	volatile double sink;
	int rc;

	if (pv_qs_check(img, len) != PV_OK)
		return;
	mn = pv_qs_min(img);
	mx = pv_qs_max(img);
	sink = pv_qs_max_indexable(img) + (double)pv_qs_low_count(img) +
	       (double)pv_qs_high_count(img) + (double)pv_qs_nan_count(img);
	(void)sink;
	if (pv_qs_count(img) == 0) {
		if (!isnan(pv_qs_quantile(img, 0.5)))
			abort();
	} else {
		if (pv_qs_quantile(img, 0.0) != mn || pv_qs_quantile(img, 1.0) != mx)
			abort();
		for (int r = 0; r <= 256; r++) {
			double e = pv_qs_quantile(img, r / 256.0);

			if (!(e >= prev && e >= mn && e <= mx))
				abort();
			prev = e;
		}
	}
	pv_qs_params(img, &alpha, &min_idx, &nb);
	fresh = malloc(len);
	copy = malloc(len);
	if (!fresh || !copy)
		abort();
	pv_qs_init(fresh, alpha, min_idx, nb);
	if (pv_qs_merge(fresh, img) != PV_OK || memcmp(fresh, img, len) != 0)
		abort();
	memcpy(copy, img, len);
	rc = pv_qs_merge(copy, img);
	if (rc == PV_OK) {
		if (pv_qs_check(copy, len) != PV_OK)
			abort();
	} else if (rc != PV_ECORRUPT || memcmp(copy, img, len) != 0) {
		abort();
	}
	free(fresh);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t flags, *img;
	size_t len, want;
	int quantile;

	if (size < 1)
		return 0;
	flags = data[0];
	quantile = flags & FL_QUANTILE;
	data++;
	size--;
	len = size;
	if (flags & FL_LENGTH) {
		want = declared_len(data, size, quantile);
		if (want)
			len = want;
	}
	/* Exactly len bytes on the heap, so ASan flags any read past them;
	 * malloc's alignment is what slot copies have. */
	img = calloc(1, len ? len : 1);
	if (!img)
		return 0;
	memcpy(img, data, len < size ? len : size);
	if (quantile) {
		patch_qs(img, len, flags);
		run_qs(img, len);
	} else {
		patch_hll(img, len, flags);
		run_hll(img, len);
	}
	free(img);
	return 0;
}
