/*
 * shmsize: shared-memory figures for `make bench`.
 *
 *   shmsize [WORKERS [SLOTS]]    the size of a region for W workers and S slots
 *                                (defaults 1 and 4, pvsensor's), computed with
 *                                the layout's own pv_shm_geometry()
 *   shmsize --region INSTANCE    the same figures read from the header of the
 *                                existing region /dev/shm/pvisor-INSTANCE, plus,
 *                                per worker, how many file records it read and
 *                                for how long (pcap mode; see below)
 *
 * Output: one "name value unit" line per figure: total, header, shard (one
 * worker's shard: shard header + S slots, page rounded), slot, metrics (one
 * window of one worker), ack (the aggregator's area), per_worker =
 * (total - header) / W (a shard plus its share of the ack area).
 *
 * With --region, for each shard i: w<i>_records (pos_done: records of the file
 * the worker read, whether or not its flow hash kept them) and w<i>_seconds =
 * its last heartbeat (CLOCK_MONOTONIC, written every few thousand records)
 * minus the region's creation (start_ns, CLOCK_REALTIME, converted with the
 * current offset between the two clocks). That is the sensor's own time from
 * creating the region to the end of the file, without exec, dynamic linking
 * and the supervisor's exit; it may miss the time of the last few thousand
 * records. Read it after the sensor has exited (every shard DONE).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/timeutil.h"
#include "shm/layout.h"
#include "shm/region.h"

static int arg_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end || v < lo || v > hi)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static void print_geometry(uint32_t workers, uint32_t slots, const struct pv_shm_geometry *g)
{
	printf("workers %u count\n", workers);
	printf("slots %u count\n", slots);
	printf("total %llu bytes\n", (unsigned long long)g->total_size);
	printf("header %llu bytes\n", (unsigned long long)g->shards_off);
	printf("shard %llu bytes\n", (unsigned long long)g->shard_size);
	printf("slot %llu bytes\n", (unsigned long long)g->slot_size);
	printf("metrics %llu bytes\n", (unsigned long long)g->metrics_size);
	printf("ack %llu bytes\n", (unsigned long long)g->ack_size);
	printf("per_worker %llu bytes\n",
	       (unsigned long long)((g->total_size - g->shards_off) / workers));
}

static int from_region(const char *instance)
{
	struct pv_region r;
	struct pv_shm_geometry g;
	char why[256];
	uint64_t offset;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = pv_region_attach(&r, instance, PV_ATTACH_READONLY, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "shmsize: cannot attach /dev/shm/pvisor-%s: %s\n", instance, why);
		return 2;
	}
	/* The header's own sizes, validated by attach; the rest as the layout
	 * defines them for this geometry. */
	g = pv_shm_geometry(r.workers, r.slots);
	g.total_size = r.hdr->total_size;
	g.ack_size = r.hdr->ack_size;
	print_geometry(r.workers, r.slots, &g);

	offset = pv_real_ns() - pv_mono_ns();
	for (uint32_t i = 0; i < r.workers; i++) {
		const struct pv_shard_hdr *sh = pv_region_shard(&r, i);
		uint64_t hb = __atomic_load_n(&sh->heartbeat_ns, __ATOMIC_ACQUIRE);
		uint64_t start_mono = r.hdr->start_ns - offset;
		uint32_t state = __atomic_load_n(&sh->state, __ATOMIC_ACQUIRE);

		printf("w%u_done %u bool\n", i, state == PV_SHARD_DONE ? 1u : 0u);
		printf("w%u_records %llu count\n", i,
		       (unsigned long long)__atomic_load_n(&sh->pos_done, __ATOMIC_RELAXED));
		printf("w%u_seconds %.6f s\n", i,
		       hb > start_mono ? (double)(hb - start_mono) / 1e9 : 0.0);
	}
	pv_region_close(&r);
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t workers = 1, slots = 4;
	struct pv_shm_geometry g;

	if (argc == 3 && strcmp(argv[1], "--region") == 0)
		return from_region(argv[2]);
	if (argc > 3 || (argc > 1 && arg_u32(argv[1], 1, PV_SHM_MAX_WORKERS, &workers)) ||
	    (argc > 2 && arg_u32(argv[2], PV_SHM_MIN_SLOTS, PV_SHM_MAX_SLOTS, &slots))) {
		fprintf(stderr,
			"usage: shmsize [WORKERS (1..%u) [SLOTS (%u..%u)]]\n"
			"       shmsize --region INSTANCE\n",
			PV_SHM_MAX_WORKERS, PV_SHM_MIN_SLOTS, PV_SHM_MAX_SLOTS);
		return 1;
	}
	g = pv_shm_geometry(workers, slots);
	print_geometry(workers, slots, &g);
	return 0;
}
