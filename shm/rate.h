/*
 * Rates ("rate" kind of METRICS.md: quantiles of the per-second rate over a
 * window): a helper that folds per-second counts into a quantile sketch,
 * and the rule that decides where the fold may happen.
 *
 * A rate quantile is a quantile of per-second totals, and a quantile of a
 * sum is not a sum of quantiles. So per-second counts are summed across
 * everything that shares the same seconds before they are folded:
 *   - workers of one sensor: sum their per-second arrays, then fold once;
 *   - windows over time: different seconds, so folded sketches merge
 *     (pv_qs_merge of two windows = the sketch of all their seconds);
 *   - sensors of a fleet: the same seconds again. Merging their folded
 *     sketches gives the distribution of per-sensor rates, not the fleet's
 *     rate; a fleet rate needs the per-second arrays (or must be labelled
 *     as per-sensor).
 * Idle seconds are seconds too: a count of 0 is folded as the value 0 (the
 * sketch's low bucket, reported exactly), or the quantiles would describe
 * only the busy seconds.
 */
#ifndef PV_SHM_RATE_H
#define PV_SHM_RATE_H

#include <stdint.h>

#include "shm/quantile.h"

/*
 * Adds counts[0..nsec) to q, one value per second, as per-second rates
 * (q is a rate sketch: PV_QS_RATE_MIN, PV_QS_RATE_NBUCKETS). Equal counts
 * are added in one pv_qs_add_n() call each run, which makes idle stretches
 * (runs of zeros) cheap; the result is the same as adding them one by one.
 */
static inline void pv_rate_fold(void *q, const uint64_t *counts, uint32_t nsec)
{
	uint32_t i = 0;

	while (i < nsec) {
		uint32_t j = i + 1;

		while (j < nsec && counts[j] == counts[i])
			j++;
		pv_qs_add_n(q, (double)counts[i], j - i);
		i = j;
	}
}

#endif
