/*
 * The shared-memory region: the contract between pvsensor's workers (writers,
 * one per shard) and pvaggregator (reader). Fixed layout, no pointers, only
 * offsets and indices; every size is checked at compile time here and at
 * attach time in region.c. Bump PV_SHM_LAYOUT_VERSION on any change.
 *
 *   [region header, 4 KiB]
 *   [shard 0: shard header | slot 0 | slot 1 | ... | slot S-1]
 *   [shard 1 ...] ... [shard N-1]
 *   [ack area, page aligned: written only by the aggregator]
 *
 * A slot = slot header + one metrics block (all counters of one window of one
 * worker). Window id = floor(packet_time / window_sec); a worker writes slot
 * window_id % S.
 *
 * Fields marked (atomic) are read and written with __atomic builtins; the
 * memory order of each access is chosen in region.c. Everything else in a
 * slot is written only by its worker and read by the aggregator under the
 * slot's sequence number (a seqlock: odd while WRITING).
 */
#ifndef PV_SHM_LAYOUT_H
#define PV_SHM_LAYOUT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/hll.h"
#include "shm/quantile.h"
#include "shm/topk.h"

#define PV_SHM_MAGIC 0x314e47524d535650ull /* "PVSMRGN1" little endian */
#define PV_SHM_LAYOUT_VERSION 2u
#define PV_SHM_MAX_WORKERS 64u
#define PV_SHM_MIN_SLOTS 3u
#define PV_SHM_MAX_SLOTS 64u
#define PV_SHM_HDR_SIZE 4096u
#define PV_SHM_PAGE 4096u
#define PV_SHM_NO_WINDOW UINT64_MAX

enum pv_region_state {
	PV_REGION_STARTING = 0,
	PV_REGION_RUNNING = 1,
	PV_REGION_STOPPED = 2, /* sensor exited cleanly; every window sealed */
};

enum pv_region_mode { PV_MODE_LIVE = 0, PV_MODE_PCAP = 1 };

enum pv_shard_state {
	PV_SHARD_IDLE = 0,    /* no worker started yet */
	PV_SHARD_RUNNING = 1, /* a worker owns it */
	PV_SHARD_DEAD = 2,    /* worker crashed; supervisor will restart it */
	PV_SHARD_DONE = 3,    /* worker finished; all its windows sealed */
};

enum pv_slot_state { PV_SLOT_EMPTY = 0, PV_SLOT_WRITING = 1, PV_SLOT_SEALED = 2 };

/* Per window, per worker: what the capture itself saw. */
struct pv_capture_block {
	uint64_t ring_packets; /* PACKET_STATISTICS tp_packets delta */
	uint64_t ring_drops;   /* PACKET_STATISTICS tp_drops delta */
	uint64_t ring_freezes; /* PACKET_STATISTICS tp_freeze_q_cnt delta */
	uint64_t decode_truncated;
	uint64_t decode_malformed;
	uint64_t crash_skipped; /* packets skipped after a worker crash on them */
	uint64_t reserved[2];
};
static_assert(sizeof(struct pv_capture_block) == 64, "capture block size");

/* METRICS.md `packets` counters. */
struct pv_packets_block {
	uint64_t total;
	uint64_t filtered;
	uint64_t ipv4;
	uint64_t ipv6;
	uint64_t tcp;
	uint64_t udp;
	uint64_t other_l4;
	uint64_t icmp;
	uint64_t fragments;
	uint64_t tcp_syn;
	uint64_t in;
	uint64_t out;
	uint64_t unknown_dir;
	uint64_t deep_samples;
	uint64_t bytes_total;
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t reserved[7];
};
static_assert(sizeof(struct pv_packets_block) == 192, "packets block size");

/* Sketch sizes of this layout version (changing one bumps the version). */
#define PV_TOPK_CAP 1024u       /* counters per top-K table */
#define PV_TOPK_NAME_MAX 128u   /* geo / ASN names */
#define PV_HLL_P 14u            /* HyperLogLog precision: 0.8 % standard error */
#define PV_RATE_MAX_SEC 3600u   /* longest window: per-second rate arrays */

/* METRICS.md `packets` sketches; each is a self-describing image placed in
 * this memory by its *_init and validated by its *_check. In a slot the top-K
 * tables start on cache lines: their 4-ary heap keeps sibling groups within
 * one. */
struct pv_packets_sketches {
	/* Top-K first: their sizes are multiples of 64, so each starts on a
	 * cache line of the slot (the block starts on one, asserted below). */
	uint8_t top_ipv4[PV_TOPK_SIZE(PV_TOPK_CAP, 4)];
	uint8_t top_ipv6[PV_TOPK_SIZE(PV_TOPK_CAP, 16)];
	uint8_t top_geo[PV_TOPK_SIZE(PV_TOPK_CAP, PV_TOPK_NAME_MAX)];
	uint8_t top_asn[PV_TOPK_SIZE(PV_TOPK_CAP, PV_TOPK_NAME_MAX)];
	uint8_t src_ips_in[PV_HLL_SIZE(PV_HLL_P)];  /* cardinality.src_ips_in */
	uint8_t dst_ips_out[PV_HLL_SIZE(PV_HLL_P)]; /* cardinality.dst_ips_out */
	uint8_t payload_size[PV_QS_SIZE(PV_QS_SIZE_NBUCKETS)];
};
static_assert(PV_TOPK_SIZE(PV_TOPK_CAP, 4) % 64 == 0 && PV_TOPK_SIZE(PV_TOPK_CAP, 16) % 64 == 0 &&
		      PV_TOPK_SIZE(PV_TOPK_CAP, PV_TOPK_NAME_MAX) % 64 == 0,
	      "top-K tables keep the next one on a cache line");
static_assert(offsetof(struct pv_packets_sketches, dst_ips_out) % 8 == 0, "sketch alignment");
static_assert(offsetof(struct pv_packets_sketches, payload_size) % 8 == 0, "sketch alignment");
static_assert(offsetof(struct pv_packets_sketches, top_ipv4) % 8 == 0, "sketch alignment");
static_assert(offsetof(struct pv_packets_sketches, top_ipv6) % 8 == 0, "sketch alignment");
static_assert(offsetof(struct pv_packets_sketches, top_geo) % 8 == 0, "sketch alignment");
static_assert(offsetof(struct pv_packets_sketches, top_asn) % 8 == 0, "sketch alignment");
static_assert(sizeof(struct pv_packets_sketches) % 8 == 0, "sketch block size");

enum pv_rate_kind {
	PV_RATE_PPS_IN,
	PV_RATE_PPS_OUT,
	PV_RATE_PPS_TOTAL,
	PV_RATE_BYTES_IN,
	PV_RATE_BYTES_OUT,
	PV_RATE_BYTES_TOTAL,
	PV_RATE_N
};

/*
 * Per-second counts of one window, indexed by (packet second - window start).
 * A quantile sketch of per-second rates cannot be built per worker (each sees
 * part of every second): the aggregator sums these arrays across shards and
 * then folds each second into the rate sketches. [first_sec, last_sec] are
 * the packet seconds counted (first_sec = UINT64_MAX: none).
 */
struct pv_rate_secs {
	uint64_t first_sec;
	uint64_t last_sec;
	uint64_t v[PV_RATE_N][PV_RATE_MAX_SEC];
};

/* Everything one worker counts in one window: single writer, no locks. */
struct pv_metrics {
	struct pv_capture_block capture;
	struct pv_packets_block packets;
	struct pv_packets_sketches psk;
	struct pv_rate_secs secs;
};
static_assert(offsetof(struct pv_metrics, psk) % 64 == 0, "sketches start on a cache line");

struct pv_slot_hdr {
	uint64_t seq;       /* (atomic) odd while WRITING, even otherwise */
	uint64_t window_id; /* written under seq */
	uint32_t state;     /* (atomic) enum pv_slot_state */
	uint32_t reserved0;
	uint64_t reserved[5];
};
static_assert(sizeof(struct pv_slot_hdr) == 64, "slot header size");

struct pv_slot {
	struct pv_slot_hdr hdr;
	struct pv_metrics m;
};
/* Slots are placed at a stride of sizeof rounded up to 64 bytes
 * (pv_shm_geometry), so each starts on a cache line. */
static_assert(offsetof(struct pv_slot, m) == 64, "metrics follow the slot header");
static_assert((offsetof(struct pv_slot, m) + offsetof(struct pv_metrics, psk)) % 64 == 0,
	      "slot sketches on a cache line");

struct pv_shard_hdr {
	uint32_t state;        /* (atomic) enum pv_shard_state */
	int32_t pid;           /* (atomic) worker pid, written by the supervisor */
	uint64_t heartbeat_ns; /* (atomic) CLOCK_MONOTONIC, written by the worker */
	/*
	 * (atomic) every window below frontier is sealed by this shard: the
	 * aggregator may merge windows < min(frontier). UINT64_MAX once done.
	 */
	uint64_t frontier;
	uint64_t open_window; /* (atomic) window being written, PV_SHM_NO_WINDOW if none */
	uint64_t restarts;    /* (atomic) written by the supervisor */
	uint64_t overwritten_unread; /* (atomic) slots reused before acked */
	uint64_t ring_packets;       /* (atomic) cumulative PACKET_STATISTICS */
	uint64_t ring_drops;
	uint64_t ring_freezes;
	/*
	 * Resume point after a crash, written by the worker: live, the ring
	 * block it holds (pos_block) and, within it, the index of the packet
	 * being handled (pos_begun, UINT64_MAX: none) and the number fully
	 * counted (pos_done);
	 * offline, pos_begun/pos_done index packets in the file. pos_held is 1
	 * while a block is held. A restarted worker skips what was counted, and
	 * a packet begun but never done (the one that crashed it) is skipped
	 * and counted in crash_skipped rather than crashing it again.
	 */
	uint64_t pos_block;
	uint64_t pos_begun;
	uint64_t pos_done;
	uint64_t pos_held;
	uint64_t reserved[19];
};
static_assert(sizeof(struct pv_shard_hdr) == 256, "shard header size");

struct pv_region_hdr {
	uint64_t magic;
	uint32_t layout_version;
	uint32_t hdr_size;   /* PV_SHM_HDR_SIZE */
	uint64_t total_size; /* bytes of the whole object */
	uint64_t shards_off; /* offset of shard 0 */
	uint64_t shard_size; /* stride between shards */
	uint64_t shard_hdr_size;
	uint64_t slot_size; /* stride between slots; slot 0 at shard_hdr_size */
	uint64_t metrics_size;
	uint64_t ack_off;  /* page-aligned offset of the ack area */
	uint64_t ack_size; /* multiple of PV_SHM_PAGE */
	uint32_t workers;
	uint32_t slots;
	uint32_t window_sec;
	uint32_t mode;        /* enum pv_region_mode */
	uint64_t config_gen;  /* changes on every sensor start */
	uint64_t start_ns;    /* CLOCK_REALTIME at sensor start */
	uint64_t hash_seed;
	uint32_t state;       /* (atomic) enum pv_region_state */
	int32_t supervisor_pid;
	uint64_t iface_drops; /* (atomic) interface rx drops since start */
	uint64_t supervisor_heartbeat_ns; /* (atomic) CLOCK_MONOTONIC */
	char sensor_id[64];   /* NUL-terminated within the array */
	char source[128];     /* interface name or pcap path, NUL-terminated */
	uint8_t reserved[PV_SHM_HDR_SIZE - 336];
};
static_assert(sizeof(struct pv_region_hdr) == PV_SHM_HDR_SIZE, "region header is one page");
static_assert(offsetof(struct pv_region_hdr, reserved) == 336, "region header field layout");

/* Ack area: the aggregator's only writable memory in the region. */
struct pv_ack_hdr {
	int32_t aggregator_pid;  /* (atomic) */
	uint32_t reserved0;
	uint64_t heartbeat_ns;   /* (atomic) CLOCK_MONOTONIC */
	uint64_t reserved[6];
	/* then workers * slots uint64_t acked window ids (PV_SHM_NO_WINDOW = none) */
};
static_assert(sizeof(struct pv_ack_hdr) == 64, "ack header size");

static inline uint64_t pv_shm_round_up(uint64_t v, uint64_t to)
{
	return (v + to - 1) / to * to;
}

/* The layout a header must describe, derived from (workers, slots) only. */
struct pv_shm_geometry {
	uint64_t shards_off, shard_size, shard_hdr_size, slot_size, metrics_size;
	uint64_t ack_off, ack_size, total_size;
};

static inline struct pv_shm_geometry pv_shm_geometry(uint32_t workers, uint32_t slots)
{
	struct pv_shm_geometry g;

	g.shards_off = PV_SHM_HDR_SIZE;
	g.shard_hdr_size = sizeof(struct pv_shard_hdr);
	g.slot_size = pv_shm_round_up(sizeof(struct pv_slot), 64);
	g.metrics_size = sizeof(struct pv_metrics);
	g.shard_size = pv_shm_round_up(g.shard_hdr_size + (uint64_t)slots * g.slot_size, 4096);
	g.ack_off = g.shards_off + (uint64_t)workers * g.shard_size;
	g.ack_size = pv_shm_round_up(sizeof(struct pv_ack_hdr) +
					     (uint64_t)workers * slots * sizeof(uint64_t),
				     PV_SHM_PAGE);
	g.total_size = g.ack_off + g.ack_size;
	return g;
}

#endif
