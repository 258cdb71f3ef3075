/*
 * AF_PACKET capture with an mmap'd TPACKET_V3 RX ring, one per worker, all
 * in one PACKET_FANOUT group (FANOUT_HASH | FLAG_DEFRAG: both directions of a
 * flow reach the same worker).
 *
 * Ownership: the supervisor opens every ring (it holds CAP_NET_RAW) and keeps
 * the socket and the mapping for the life of the sensor; a worker inherits
 * both across fork(). A worker that crashes is replaced by a new one that
 * inherits the same socket: the ring keeps receiving meanwhile, the fanout
 * group keeps its members (flows do not move between workers), and nothing
 * needs reopening with privilege.
 *
 * Block hand-over follows the kernel's status word: the worker may read a
 * block once block_status has TP_STATUS_USER (acquire) and returns it by
 * storing TP_STATUS_KERNEL (release).
 */
#ifndef PV_SENSOR_RING_H
#define PV_SENSOR_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sock_fprog;

struct pv_ring {
	int fd;
	uint8_t *map;
	size_t map_len;
	uint32_t block_size;
	uint32_t block_nr;
	int linktype;  /* enum pv_linktype of the interface */
	int fanout_id; /* the group joined */
};

struct pv_ring_params {
	const char *ifname;
	unsigned ring_mb;          /* requested ring size per worker */
	unsigned block_tov_ms;     /* block retire timeout */
	const struct sock_fprog *bpf; /* NULL: no filter */
	int fanout_id;             /* -1: let the kernel pick a unique group id */
	bool promisc;
};

/* Link type (enum pv_linktype) for an interface's ARPHRD type, or -1. */
int pv_ring_linktype(const char *ifname, char *why, size_t why_len);

/* Opens, sizes (halving on ENOMEM, and says so), maps, filters, binds and
 * joins the fanout group. On error returns -errno/pv_err with why filled. */
int pv_ring_open(struct pv_ring *r, const struct pv_ring_params *p, char *why, size_t why_len);
void pv_ring_close(struct pv_ring *r);

static inline struct tpacket_block_desc *pv_ring_block(const struct pv_ring *r, uint32_t i)
{
	return (struct tpacket_block_desc *)(r->map + (size_t)i * r->block_size);
}

/* Accumulated PACKET_STATISTICS (the kernel resets them on read). */
struct pv_ring_stats {
	uint64_t packets, drops, freezes;
};
int pv_ring_stats_read(const struct pv_ring *r, struct pv_ring_stats *delta);

#endif
