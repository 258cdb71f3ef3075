/*
 * Conversion of a merged window (aggregator/agg.h) into the wire Snapshot
 * (proto/pvisor.proto). The nested messages live in the caller's
 * struct pv_snap_buf and the sketch images point into the window: nothing is
 * allocated, and the Snapshot is valid as long as the buffer, the window and
 * the sensor string are.
 */
#ifndef PV_AGG_SNAPSHOT_H
#define PV_AGG_SNAPSHOT_H

#include "aggregator/agg.h"
#include "pvisor.pb-c.h"

struct pv_snap_buf {
	Pvisor__Snapshot snap;
	Pvisor__WindowInfo win;
	Pvisor__Capture cap;
	Pvisor__DecodeErrors de;
	Pvisor__Packets pk;
	Pvisor__Rates rates;
	Pvisor__Rate rate[PV_RATE_N];
};

void pv_snapshot_fill(struct pv_snap_buf *b, const struct pv_window *w, const char *sensor);

#endif
