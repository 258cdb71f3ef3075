/*
 * A pvsensor worker: one process per shard. It drops every privilege, then
 * reads packets (its TPACKET_V3 ring live, or the pcap file offline keeping
 * the packets whose symmetric flow hash maps to its shard), decodes them and
 * counts them into the open window of its own shard. Windows rotate on packet
 * time, and on the wall clock when the link is idle (live). On SIGTERM it
 * drains what the ring holds, seals its window and exits.
 *
 * Everything the worker needs is set up by the supervisor before fork()
 * (region mapping, ring socket and mapping, pcap file descriptor, compiled
 * filter, host networks) and inherited: the worker opens nothing with
 * privilege, and a restarted worker resumes from the shard's resume point.
 */
#ifndef PV_SENSOR_WORKER_H
#define PV_SENSOR_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/cidr.h"
#include "sensor/geo.h"
#include "sensor/privs.h"
#include "sensor/ring.h"
#include "shm/region.h"

struct bpf_program;

struct pv_worker_cfg {
	struct pv_region *region;
	uint32_t shard;
	uint32_t workers;
	uint32_t window_sec;
	int mode;                       /* enum pv_region_mode */
	struct pv_ring *ring;           /* live */
	int pcap_fd;                    /* offline: this shard's own open file */
	const struct bpf_program *bpf;  /* offline filter, NULL if none */
	const struct pv_cidr_set *hostnets;
	const struct pv_cidr_set *only_hosts; /* NULL: no filter */
	const struct pv_geo *geo;             /* NULL: no geo/ASN */
	bool geoloc_notfound, asn_notfound;
	struct pv_user user;
	uint64_t hash_seed;
	bool wait_ack;                  /* offline: never overwrite an unacked window */
	bool restarted;                 /* resume from the shard's resume point */
};

/*
 * Resume bookkeeping in the shard header (pos_* in shm/layout.h), shared by
 * the live and the offline loops. pv_pos_start: a run of packets (a ring
 * block, or the file) starts at index first with none begun yet. A packet is
 * begun (pos_begun = i) before it is handled and done (pos_done = i + 1)
 * after. pv_pos_resume, for a restarted worker: the index to go on from;
 * a packet begun but never done (the one its predecessor died on) is
 * skipped, and *crashed says so.
 */
static inline void pv_pos_start(struct pv_shard_hdr *sh, uint64_t first)
{
	sh->pos_done = first;
	sh->pos_begun = UINT64_MAX;
}

static inline uint64_t pv_pos_resume(const struct pv_shard_hdr *sh, bool *crashed)
{
	*crashed = sh->pos_held && sh->pos_begun == sh->pos_done;
	return sh->pos_done + (*crashed ? 1 : 0);
}

/* Runs the worker to completion; returns the process exit status. */
int pv_worker_run(const struct pv_worker_cfg *cfg);

/* The link type (enum pv_linktype) for a libpcap DLT, or -1. */
int pv_linktype_from_dlt(int dlt);

#endif
