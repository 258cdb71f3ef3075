/*
 * Per-packet accounting: turns one decoded packet (sensor/decode.h) into the
 * counters and sketches of the worker's open window (struct pv_metrics,
 * shm/layout.h). Runs on the hot path: plain increments and sketch updates
 * into the worker's own shard; no allocation, no syscalls, no formatting
 * (geo names come formatted from the worker's cache, built on a miss).
 */
#ifndef PV_SENSOR_COUNT_H
#define PV_SENSOR_COUNT_H

#include <stdbool.h>

#include "lib/cidr.h"
#include "sensor/decode.h"
#include "sensor/geo.h"
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

/* What the accounting needs besides the packet. Filters (METRICS.md, net
 * handler filters): a packet that does not pass counts in `filtered` only. */
struct pv_count_ctx {
	const struct pv_cidr_set *hostnets;
	const struct pv_cidr_set *only_hosts; /* NULL: no filter; else src or dst must match */
	struct pv_geo_cache *geo;             /* NULL: no geo/ASN tables */
	bool geoloc_notfound;                 /* keep only packets with an address the city DB lacks */
	bool asn_notfound;                    /* same for the ASN DB */
	uint32_t sec_idx;                     /* packet second - window start (< PV_RATE_MAX_SEC) */
};

void pv_count_packet(struct pv_metrics *m, const struct pv_pkt *p, struct pv_count_ctx *c);

#endif
