/*
 * Operations on the metrics block of one window (shm/layout.h): merge of two
 * blocks (sum of counters; sketches join in later layout versions). Used by
 * the aggregator over shards and windows, and by remote collectors.
 */
#ifndef PV_SHM_METRICS_H
#define PV_SHM_METRICS_H

#include "shm/layout.h"

/* dst += src, counter by counter. */
void pv_metrics_merge(struct pv_metrics *dst, const struct pv_metrics *src);

#endif
