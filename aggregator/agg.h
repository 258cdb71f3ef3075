/*
 * pvaggregator's engine: attaches a sensor's region, merges each window once
 * every live worker has sealed it (or a grace time has passed for a dead
 * one), acknowledges the slots it took, keeps the last N merged windows and a
 * running total, and publishes all of it to reader threads with RCU.
 *
 * Threads and ownership: one merge thread calls pv_agg_step(); any number of
 * RCU-registered reader threads call pv_agg_state_get() under
 * rcu_read_lock() and may use the returned state (and the region it names)
 * until rcu_read_unlock(). A published state is immutable; windows are
 * shared between successive states and freed after a grace period when they
 * leave the history.
 */
#ifndef PV_AGG_H
#define PV_AGG_H

#include <stdbool.h>
#include <stdint.h>
#include <urcu.h>

#include "shm/metrics.h"
#include "shm/region.h"

/* Figures of a merged window that are not in the shards' metrics blocks:
 * deltas of the region's cumulative counters between two merges. */
struct pv_window_extra {
	uint32_t workers;
	uint32_t reserved;
	uint64_t worker_restarts;
	uint64_t interface_drops;
	uint64_t overwritten_unread;
	uint64_t incomplete; /* merged without a dead worker's shard */
	uint64_t corrupt;    /* shard copies refused by pv_metrics_check */
};

struct pv_window {
	uint64_t window_id;  /* first (oldest) window merged */
	uint32_t window_sec;
	uint32_t merged;     /* windows in this view */
	bool live;
	struct pv_window_extra x;
	struct pv_view v;
};

/* dst += src (dst keeps the older window_id); a dst with merged == 0 takes
 * src whole. */
int pv_window_merge(struct pv_window *dst, const struct pv_window *src);

struct pv_agg_state {
	struct rcu_head rcu;
	const struct pv_region *region; /* NULL while no region is attached */
	char sensor[64];
	char source[128];
	uint32_t nwin;                  /* windows held, oldest first */
	struct pv_window **win;
	struct pv_window **evicted;     /* freed with this state */
	uint32_t nevicted;
	struct pv_window total;         /* everything merged since start */
	bool have_total;
	uint64_t merged_count;
	bool finished;                  /* region stopped and fully merged */
	uint32_t history;
	int32_t pid;
};

struct pv_agg_opts {
	const char *instance;
	uint32_t history;
	uint64_t grace_ns;
};

struct pv_agg;

struct pv_agg *pv_agg_alloc(const struct pv_agg_opts *o);
void pv_agg_free(struct pv_agg *a);

/* One round: (re)attach if needed, merge what is ready, publish. Returns
 * the number of windows merged. Never blocks for long. */
int pv_agg_step(struct pv_agg *a);

/* The current state; call under rcu_read_lock(). Never NULL. */
struct pv_agg_state *pv_agg_state_get(struct pv_agg *a);

/* Reads the open windows of every shard now (numbers may move); callable
 * from any RCU reader thread. */
int pv_agg_live(const struct pv_agg_state *s, struct pv_window *out);

#endif
