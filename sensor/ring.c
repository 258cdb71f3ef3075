#include "sensor/ring.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "sensor/decode.h"

#ifndef PACKET_FANOUT_FLAG_UNIQUEID
#define PACKET_FANOUT_FLAG_UNIQUEID 0x2000
#endif

#define RING_BLOCK_SIZE (1u << 20)
#define RING_FRAME_SIZE 2048u

int pv_ring_linktype(const char *ifname, char *why, size_t why_len)
{
	struct ifreq ifr;
	int fd, type;

	memset(&ifr, 0, sizeof(ifr));
	if (strlen(ifname) >= sizeof(ifr.ifr_name)) {
		snprintf(why, why_len, "interface name '%s' too long", ifname);
		return -1;
	}
	strcpy(ifr.ifr_name, ifname);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, why_len, "AF_PACKET socket: %s (pvsensor needs CAP_NET_RAW)",
			 strerror(errno));
		return -1;
	}
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		snprintf(why, why_len, "interface %s: %s", ifname, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	type = ifr.ifr_hwaddr.sa_family;
	switch (type) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
		return PV_LINK_ETHERNET;
	case ARPHRD_NONE:
	case ARPHRD_PPP:
	case ARPHRD_TUNNEL:
	case ARPHRD_TUNNEL6:
	case ARPHRD_IPGRE:
	case ARPHRD_SIT:
		return PV_LINK_RAW;
	default:
		snprintf(why, why_len, "interface %s has link type ARPHRD %d, which pvisor does "
				       "not decode",
			 ifname, type);
		return -1;
	}
}

static int ring_setup(struct pv_ring *r, unsigned ring_mb, unsigned tov_ms, char *why,
		      size_t why_len)
{
	struct tpacket_req3 req;
	unsigned blocks = ring_mb ? ring_mb : 1;
	int v = TPACKET_V3;

	if (setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0) {
		snprintf(why, why_len, "PACKET_VERSION TPACKET_V3: %s", strerror(errno));
		return -errno;
	}
	for (;;) {
		memset(&req, 0, sizeof(req));
		req.tp_block_size = RING_BLOCK_SIZE;
		req.tp_block_nr = blocks;
		req.tp_frame_size = RING_FRAME_SIZE;
		req.tp_frame_nr = (RING_BLOCK_SIZE / RING_FRAME_SIZE) * blocks;
		req.tp_retire_blk_tov = tov_ms;
		req.tp_feature_req_word = 0;
		if (setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) == 0) {
			r->map = mmap(NULL, (size_t)blocks * RING_BLOCK_SIZE,
				      PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, 0);
			if (r->map != MAP_FAILED)
				break;
			r->map = NULL;
			if (errno != ENOMEM || blocks == 1) {
				snprintf(why, why_len, "mmap of %u MiB ring: %s", blocks,
					 strerror(errno));
				return -errno;
			}
			/* Undo the ring before asking for a smaller one. */
			memset(&req, 0, sizeof(req));
			setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req));
		} else if (errno != ENOMEM || blocks == 1) {
			snprintf(why, why_len, "PACKET_RX_RING of %u MiB: %s", blocks,
				 strerror(errno));
			return -errno;
		}
		pv_warn("not enough memory for a %u MiB ring on %s: trying %u MiB", blocks,
			"the capture socket", blocks / 2);
		blocks /= 2;
	}
	if (blocks != ring_mb)
		pv_warn("ring shrunk to %u MiB per worker (asked for %u MiB)", blocks, ring_mb);
	r->block_size = RING_BLOCK_SIZE;
	r->block_nr = blocks;
	r->map_len = (size_t)blocks * RING_BLOCK_SIZE;
	return PV_OK;
}

int pv_ring_open(struct pv_ring *r, const struct pv_ring_params *p, char *why, size_t why_len)
{
	struct sockaddr_ll sll;
	unsigned ifindex;
	int rc, fanout;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->linktype = pv_ring_linktype(p->ifname, why, why_len);
	if (r->linktype < 0)
		return PV_ECONFIG;
	ifindex = if_nametoindex(p->ifname);
	if (ifindex == 0) {
		snprintf(why, why_len, "no interface %s: %s", p->ifname, strerror(errno));
		return -ENODEV;
	}
	/* Protocol 0: the socket receives nothing until bind(), so no packet
	 * slips in before the filter and the ring are in place. */
	r->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (r->fd < 0) {
		rc = -errno;
		snprintf(why, why_len, "AF_PACKET socket: %s (pvsensor needs CAP_NET_RAW)",
			 strerror(errno));
		return rc;
	}
	rc = ring_setup(r, p->ring_mb, p->block_tov_ms, why, why_len);
	if (rc != PV_OK)
		goto fail;
	if (p->bpf) {
		int one = 1;
		if (setsockopt(r->fd, SOL_SOCKET, SO_ATTACH_FILTER, p->bpf, sizeof(*p->bpf)) < 0) {
			rc = -errno;
			snprintf(why, why_len, "attaching the BPF filter: %s", strerror(errno));
			goto fail;
		}
		/* Workers run unprivileged code: they must not be able to drop it. */
		setsockopt(r->fd, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof(one));
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)ifindex;
	if (bind(r->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		rc = -errno;
		snprintf(why, why_len, "bind to %s: %s", p->ifname, strerror(errno));
		goto fail;
	}
	/* type and flags in the high 16 bits, group id in the low 16 */
	if (p->fanout_id < 0)
		fanout = (int)((uint32_t)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG |
					  PACKET_FANOUT_FLAG_UNIQUEID)
			       << 16);
	else
		fanout = (int)(((uint32_t)p->fanout_id & 0xffffu) |
			       ((uint32_t)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16));
	if (setsockopt(r->fd, SOL_PACKET, PACKET_FANOUT, &fanout, sizeof(fanout)) < 0) {
		rc = -errno;
		snprintf(why, why_len, "joining PACKET_FANOUT group on %s: %s", p->ifname,
			 strerror(errno));
		goto fail;
	}
	if (p->fanout_id < 0) {
		socklen_t len = sizeof(fanout);
		if (getsockopt(r->fd, SOL_PACKET, PACKET_FANOUT, &fanout, &len) < 0) {
			rc = -errno;
			snprintf(why, why_len, "reading the fanout group id: %s", strerror(errno));
			goto fail;
		}
		r->fanout_id = fanout & 0xffff;
	} else {
		r->fanout_id = p->fanout_id;
	}
	if (p->promisc) {
		struct packet_mreq mr;
		memset(&mr, 0, sizeof(mr));
		mr.mr_ifindex = (int)ifindex;
		mr.mr_type = PACKET_MR_PROMISC;
		if (setsockopt(r->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
			pv_warn("promiscuous mode on %s: %s (continuing without)", p->ifname,
				strerror(errno));
	}
	return PV_OK;
fail:
	pv_ring_close(r);
	return rc;
}

void pv_ring_close(struct pv_ring *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

int pv_ring_stats_read(const struct pv_ring *r, struct pv_ring_stats *delta)
{
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);

	memset(delta, 0, sizeof(*delta));
	if (getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		return -errno;
	delta->packets = st.tp_packets;
	delta->drops = st.tp_drops;
	delta->freezes = st.tp_freeze_q_cnt;
	return PV_OK;
}
