/*
 * Per-packet accounting: turns one decoded packet (sensor/decode.h) into the
 * counters of the worker's open window (shm/layout.h, struct pv_metrics).
 * Runs on the hot path: plain increments into the worker's own shard, no
 * allocation, no syscalls, no formatting.
 */
#ifndef PV_SENSOR_COUNT_H
#define PV_SENSOR_COUNT_H

#include "lib/cidr.h"
#include "sensor/decode.h"
#include "shm/layout.h"

/* Direction of a packet relative to the host networks (METRICS.md). */
enum pv_dir { PV_DIR_UNKNOWN = 0, PV_DIR_IN = 1, PV_DIR_OUT = 2 };

static inline enum pv_dir pv_direction(const struct pv_pkt *p, const struct pv_cidr_set *hn)
{
	int s, d;

	if (!p->l3)
		return PV_DIR_UNKNOWN;
	s = pv_cidr_match(hn, p->l3, p->src);
	d = pv_cidr_match(hn, p->l3, p->dst);
	if (d && !s)
		return PV_DIR_IN;
	if (s && !d)
		return PV_DIR_OUT;
	return PV_DIR_UNKNOWN;
}

void pv_count_packet(struct pv_metrics *m, const struct pv_pkt *p, const struct pv_cidr_set *hn);

#endif
