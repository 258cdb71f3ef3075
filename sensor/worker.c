#include "sensor/worker.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "sensor/count.h"
#include "sensor/decode.h"
#include "sensor/flowhash.h"
#include "shm/metrics.h"

#define POLL_MS 100
#define HOUSEKEEP_NS 1000000000ull
#define AGG_ALIVE_NS 3000000000ull
#define NS_PER_SEC 1000000000ull
#define GEO_CACHE_ENTRIES 8192

static volatile sig_atomic_t worker_stop;

static void on_stop(int sig)
{
	(void)sig;
	worker_stop = 1;
}

struct wctx {
	const struct pv_worker_cfg *cfg;
	struct pv_region *r;
	struct pv_shard_hdr *sh;
	struct pv_metrics *m;
	uint64_t win_start_ns, win_end_ns;
	uint64_t win_ns;
	uint64_t next_housekeep;
	uint64_t sec_start_ns; /* start of the packet second cc.sec_idx is of */
	struct pv_count_ctx cc;
	struct pv_geo_cache geo;
	int linktype;
};

int pv_linktype_from_dlt(int dlt)
{
	switch (dlt) {
	case DLT_NULL:
		return PV_LINK_NULL;
	case DLT_EN10MB:
		return PV_LINK_ETHERNET;
	case DLT_RAW:
	case 14: /* DLT_RAW on OpenBSD */
	case 101:
		return PV_LINK_RAW;
	case DLT_LOOP:
		return PV_LINK_LOOP;
	case DLT_LINUX_SLL:
		return PV_LINK_SLL;
	case 228:
		return PV_LINK_IPV4;
	case 229:
		return PV_LINK_IPV6;
	case 276:
		return PV_LINK_SLL2;
	default:
		return -1;
	}
}

static bool aggregator_alive(const struct pv_region *r)
{
	const struct pv_ack_hdr *a = pv_region_ack_hdr(r);
	uint64_t hb = __atomic_load_n(&a->heartbeat_ns, __ATOMIC_ACQUIRE);
	uint64_t now = pv_mono_ns();

	return __atomic_load_n(&a->aggregator_pid, __ATOMIC_ACQUIRE) != 0 && hb + AGG_ALIVE_NS > now;
}

/* Offline only: wait until the aggregator took the window the slot holds. */
static void wait_slot_free(struct wctx *c, uint64_t w)
{
	uint32_t idx = (uint32_t)(w % c->r->slots);
	struct pv_slot *s = pv_region_slot(c->r, c->cfg->shard, idx);

	while (!worker_stop && pv_load32(&s->hdr.state) == PV_SLOT_SEALED &&
	       pv_load64(pv_region_ack_word(c->r, c->cfg->shard, idx)) != s->hdr.window_id &&
	       aggregator_alive(c->r)) {
		pv_store64(&c->sh->heartbeat_ns, pv_mono_ns());
		pv_sleep_ms(1);
	}
}

static void window_set(struct wctx *c, uint64_t w, struct pv_metrics *m)
{
	c->m = m;
	c->win_start_ns = w * c->win_ns;
	c->win_end_ns = c->win_start_ns + c->win_ns;
	c->sec_start_ns = 0;
}

static void window_open(struct wctx *c, uint64_t w)
{
	struct pv_metrics *m;

	if (c->cfg->wait_ack)
		wait_slot_free(c, w);
	m = pv_slot_begin(c->r, c->cfg->shard, w);
	pv_metrics_init(m, c->cfg->hash_seed);
	window_set(c, w, m);
}

/* The packet's second changed: index into the per-second rate arrays. A
 * packet older than the window (clock step, reordering) counts in its
 * first second. Runs once per second of traffic, not per packet. */
static void second_enter(struct wctx *c, uint64_t ts_ns)
{
	uint64_t sec = ts_ns / NS_PER_SEC, first = c->win_start_ns / NS_PER_SEC;
	struct pv_rate_secs *r = &c->m->secs;

	if (sec < first)
		sec = first;
	if (sec - first >= PV_RATE_MAX_SEC)
		sec = first + PV_RATE_MAX_SEC - 1;
	c->cc.sec_idx = (uint32_t)(sec - first);
	c->sec_start_ns = sec * NS_PER_SEC;
	if (r->first_sec == UINT64_MAX || sec < r->first_sec)
		r->first_sec = sec;
	if (sec > r->last_sec)
		r->last_sec = sec;
}

/* Packet time moved past the open window: seal it, open the one of ts. */
static void window_rotate(struct wctx *c, uint64_t ts_ns)
{
	uint64_t w = ts_ns / c->win_ns;

	pv_slot_seal(c->r, c->cfg->shard, w);
	window_open(c, w);
}

static void stats_account(struct wctx *c)
{
	struct pv_ring_stats d;

	if (!c->cfg->ring || pv_ring_stats_read(c->cfg->ring, &d) != PV_OK)
		return;
	c->m->capture.ring_packets += d.packets;
	c->m->capture.ring_drops += d.drops;
	c->m->capture.ring_freezes += d.freezes;
	pv_store64(&c->sh->ring_packets, c->sh->ring_packets + d.packets);
	pv_store64(&c->sh->ring_drops, c->sh->ring_drops + d.drops);
	pv_store64(&c->sh->ring_freezes, c->sh->ring_freezes + d.freezes);
}

/* Once a second at most: heartbeat, ring statistics, idle rotation. */
static void housekeep(struct wctx *c, bool idle)
{
	uint64_t now = pv_mono_ns();

	pv_store64(&c->sh->heartbeat_ns, now);
	if (now < c->next_housekeep)
		return;
	c->next_housekeep = now + HOUSEKEEP_NS;
	stats_account(c);
	if (idle && c->cfg->mode == PV_MODE_LIVE) {
		uint64_t wall = pv_real_ns();
		if (wall >= c->win_end_ns)
			window_rotate(c, wall);
	}
}

static inline void handle_packet(struct wctx *c, const uint8_t *frame, uint32_t caplen,
				 uint32_t wirelen, uint64_t ts_ns)
{
	struct pv_pkt p;

	if (__builtin_expect(ts_ns >= c->win_end_ns, 0))
		window_rotate(c, ts_ns);
	pv_decode(c->linktype, frame, caplen, wirelen, &p);
	if (c->cfg->mode == PV_MODE_PCAP && c->cfg->workers > 1 &&
	    pv_flow_hash_sym(&p, c->cfg->hash_seed) % c->cfg->workers != c->cfg->shard)
		return;
	if (__builtin_expect(ts_ns - c->sec_start_ns >= NS_PER_SEC || ts_ns < c->sec_start_ns, 0))
		second_enter(c, ts_ns);
	pv_count_packet(c->m, &p, &c->cc);
}

/* --- live: the TPACKET_V3 ring --- */

static void walk_block(struct wctx *c, struct tpacket_block_desc *bd, uint32_t first)
{
	const struct pv_ring *ring = c->cfg->ring;
	uint32_t n = bd->hdr.bh1.num_pkts;
	uint64_t off = bd->hdr.bh1.offset_to_first_pkt;

	for (uint32_t i = 0; i < n; i++) {
		const struct tpacket3_hdr *h;

		/* The kernel wrote these offsets, but a bad one must not take
		 * us outside the block. */
		if (off < sizeof(*bd) || off + sizeof(*h) > ring->block_size)
			break;
		h = (const struct tpacket3_hdr *)((const uint8_t *)bd + off);
		if (i >= first) {
			uint64_t end = off + h->tp_mac + (uint64_t)h->tp_snaplen;
			__atomic_store_n(&c->sh->pos_begun, i, __ATOMIC_RELAXED);
			if (h->tp_mac < sizeof(*h) || end > ring->block_size)
				c->m->capture.decode_malformed++;
			else
				handle_packet(c, (const uint8_t *)h + h->tp_mac, h->tp_snaplen,
					      h->tp_len,
					      (uint64_t)h->tp_sec * 1000000000ull + h->tp_nsec);
			__atomic_store_n(&c->sh->pos_done, (uint64_t)i + 1, __ATOMIC_RELAXED);
		}
		if (h->tp_next_offset == 0)
			break;
		off += h->tp_next_offset;
	}
}

static int run_live(struct wctx *c)
{
	const struct pv_ring *ring = c->cfg->ring;
	struct pollfd pfd = {.fd = ring->fd, .events = POLLIN | POLLERR};
	uint32_t blk = 0, first = 0;

	c->linktype = ring->linktype;
	if (c->cfg->restarted && c->sh->pos_block < ring->block_nr) {
		blk = (uint32_t)c->sh->pos_block;
		if (c->sh->pos_held) {
			/* Resume inside the block the previous worker held; a packet
			 * it began but never finished is skipped, not retried. */
			bool crashed;
			first = (uint32_t)pv_pos_resume(c->sh, &crashed);
			if (crashed)
				c->m->capture.crash_skipped++;
		}
	}
	while (!worker_stop) {
		struct tpacket_block_desc *bd = pv_ring_block(ring, blk);

		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		      TP_STATUS_USER)) {
			first = 0;
			poll(&pfd, 1, POLL_MS);
			housekeep(c, true);
			continue;
		}
		c->sh->pos_block = blk;
		pv_pos_start(c->sh, first);
		pv_store64(&c->sh->pos_held, 1);
		walk_block(c, bd, first);
		first = 0;
		pv_store64(&c->sh->pos_held, 0);
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		blk = (blk + 1) % ring->block_nr;
		c->sh->pos_block = blk;
		housekeep(c, false);
	}
	/* Clean stop: count what the ring already holds, then seal. */
	for (uint32_t k = 0; k < ring->block_nr; k++) {
		struct tpacket_block_desc *bd = pv_ring_block(ring, blk);
		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		      TP_STATUS_USER))
			break;
		walk_block(c, bd, first);
		first = 0;
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		blk = (blk + 1) % ring->block_nr;
	}
	c->sh->pos_block = blk;
	stats_account(c);
	return 0;
}

/* --- offline: the pcap file --- */

static int run_pcap(struct wctx *c)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t idx = 0, skip = 0;
	pcap_t *pc = NULL;
	FILE *f = NULL;
	int fd, rc;

	fd = dup(c->cfg->pcap_fd);
	if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0 || !(f = fdopen(fd, "rb"))) {
		pv_err("worker %u: cannot reopen the capture file: %s", c->cfg->shard,
		       strerror(errno));
		if (fd >= 0)
			close(fd);
		return 3;
	}
	pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pc) {
		pv_err("worker %u: %s", c->cfg->shard, errbuf);
		fclose(f);
		return 3;
	}
	c->linktype = pv_linktype_from_dlt(pcap_datalink(pc));
	if (c->cfg->restarted) {
		bool crashed;
		skip = pv_pos_resume(c->sh, &crashed);
		if (crashed)
			c->m->capture.crash_skipped++;
	} else {
		pv_pos_start(c->sh, 0);
	}
	pv_store64(&c->sh->pos_held, 1);
	while (!worker_stop && (rc = pcap_next_ex(pc, &h, &data)) == 1) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;

		if (idx < skip) {
			idx++;
			continue;
		}
		__atomic_store_n(&c->sh->pos_begun, idx, __ATOMIC_RELAXED);
		if (!c->cfg->bpf || pcap_offline_filter(c->cfg->bpf, h, data))
			handle_packet(c, data, h->caplen, h->len, ts);
		idx++;
		__atomic_store_n(&c->sh->pos_done, idx, __ATOMIC_RELAXED);
		if ((idx & 4095) == 0)
			pv_store64(&c->sh->heartbeat_ns, pv_mono_ns());
	}
	if (!worker_stop && rc == PCAP_ERROR)
		pv_warn("worker %u: capture file ends badly after %llu packets: %s (counted what "
			"was read)",
			c->cfg->shard, (unsigned long long)idx, pcap_geterr(pc));
	pcap_close(pc);
	return 0;
}

int pv_worker_run(const struct pv_worker_cfg *cfg)
{
	struct wctx c;
	struct sigaction sa;
	char why[256];
	uint64_t w;
	int rc;

	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.r = cfg->region;
	c.sh = pv_region_shard(c.r, cfg->shard);
	c.win_ns = (uint64_t)cfg->window_sec * 1000000000ull;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* If the supervisor dies, seal and leave rather than run orphaned. */
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);

	rc = pv_privs_drop_worker(&cfg->user, why, sizeof(why));
	if (rc != PV_OK) {
		pv_err("worker %u: dropping privileges: %s", cfg->shard, why);
		return 4;
	}
	c.cc.hostnets = cfg->hostnets;
	c.cc.only_hosts = cfg->only_hosts;
	c.cc.geoloc_notfound = cfg->geoloc_notfound;
	c.cc.asn_notfound = cfg->asn_notfound;
	if (cfg->geo) {
		if (pv_geo_cache_init(&c.geo, cfg->geo, GEO_CACHE_ENTRIES) != PV_OK) {
			pv_err("worker %u: no memory for the geo cache", cfg->shard);
			return 4;
		}
		c.cc.geo = &c.geo;
	}
	pv_store64(&c.sh->heartbeat_ns, pv_mono_ns());
	pv_store32(&c.sh->state, PV_SHARD_RUNNING);

	/* A restarted worker continues the window its predecessor left open. */
	c.m = pv_slot_resume(c.r, cfg->shard, &w);
	if (c.m) {
		/* The predecessor may have died inside pv_slot_begin or a sketch
		 * update: keep the counters, put fresh sketches in place if
		 * theirs do not check, so the window still merges. */
		if (pv_metrics_check(c.m) != PV_OK) {
			pv_warn("worker %u: sketches of the resumed window fail their check: "
				"reset (counters kept)",
				cfg->shard);
			pv_metrics_drop_sketches(c.m);
		}
		window_set(&c, w, c.m);
	} else if (cfg->mode == PV_MODE_LIVE) {
		w = pv_real_ns() / c.win_ns;
		pv_slot_seal(c.r, cfg->shard, w);
		window_open(&c, w);
	} else {
		/* Offline, the first packet opens the first window. */
		window_set(&c, 0, NULL);
		c.win_end_ns = 0;
	}
	if (cfg->mode == PV_MODE_PCAP && !c.m) {
		/* handle_packet rotates on the first packet (win_end_ns = 0); give
		 * it a block to seal-from that is never published. */
		static struct pv_metrics scratch;
		c.m = &scratch;
	}

	rc = cfg->mode == PV_MODE_LIVE ? run_live(&c) : run_pcap(&c);
	pv_slot_seal(c.r, cfg->shard, UINT64_MAX);
	pv_store32(&c.sh->state, PV_SHARD_DONE);
	if (cfg->geo)
		pv_geo_cache_fini(&c.geo);
	return rc;
}
