/*
 * The metrics of one window: the worker's block in shared memory
 * (struct pv_metrics, shm/layout.h) and the merged view the aggregator keeps
 * and ships (struct pv_view).
 *
 *   worker:     pv_metrics_init() after pv_slot_begin(), then counts
 *   aggregator: copy each shard's slot -> pv_metrics_check() -> merge the
 *               shards with pv_metrics_merge() -> pv_view_add_metrics()
 *               folds the summed per-second counts into rate sketches ->
 *               views of several windows merge with pv_view_merge()
 *
 * Every merge is the sketches' own merge (HLL register max, quantile bucket
 * sums, top-K mergeable-summaries merge), so shards, windows and sensors all
 * combine with the same code.
 */
#ifndef PV_SHM_METRICS_H
#define PV_SHM_METRICS_H

#include "shm/layout.h"

/* Places empty sketches in a zeroed block (pv_slot_begin zeroes it). */
void pv_metrics_init(struct pv_metrics *m, uint64_t seed);

/* Validates every sketch image (a copy out of shared memory is untrusted). */
int pv_metrics_check(const struct pv_metrics *m);

/* For a copy of a window still being written that fails its check (torn
 * between two stores of the writer): put empty sketches in place and, if
 * torn, empty the per-second range, so its counters can still be used. */
void pv_metrics_drop_sketches(struct pv_metrics *m);

/* dst += src: counters, sketches, per-second arrays. Checks both first and
 * returns the check's error without changing dst. */
int pv_metrics_merge(struct pv_metrics *dst, const struct pv_metrics *src);

struct pv_rate_sketches {
	uint8_t qs[PV_RATE_N][PV_QS_SIZE(PV_QS_RATE_NBUCKETS)];
	uint64_t live[PV_RATE_N]; /* the last full second */
	uint64_t live_sec;        /* 1 + the second live[] is of (0: none) */
};

/* A merged window (or several): what pvaggregator keeps and snapshots carry. */
struct pv_view {
	struct pv_capture_block capture;
	struct pv_packets_block packets;
	struct pv_packets_sketches psk;
	struct pv_rate_sketches rates;
};
static_assert(offsetof(struct pv_view, psk) % 8 == 0, "sketches 8-byte aligned");
static_assert(offsetof(struct pv_view, rates) % 8 == 0, "rate sketches 8-byte aligned");
static_assert(sizeof(((struct pv_rate_sketches *)0)->qs[0]) % 8 == 0, "rate sketch stride");

void pv_view_init(struct pv_view *v);
int pv_view_check(const struct pv_view *v);

/* Adds one window's shard-merged block: counters and sketches merge, and
 * every second in [first_sec, last_sec] becomes one value in each rate
 * sketch (seconds without packets count as 0). window_start_sec anchors the
 * per-second arrays. live[] becomes the newest complete second: last_sec,
 * or for an open window the second before now_sec (now_sec 0: sealed). */
int pv_view_add_metrics(struct pv_view *v, const struct pv_metrics *m, uint64_t window_start_sec,
			uint64_t now_sec);

/* dst += src; live[] follows the newer of the two. */
int pv_view_merge(struct pv_view *dst, const struct pv_view *src);

#endif
