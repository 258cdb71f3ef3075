#include "sensor/count.h"

#include "lib/hash.h"
#include "shm/hll.h"
#include "shm/quantile.h"
#include "shm/topk.h"

static bool pass_filters(const struct pv_pkt *p, struct pv_count_ctx *c)
{
	if (c->only_hosts && (!p->l3 || (!pv_cidr_match(c->only_hosts, p->l3, p->src) &&
					 !pv_cidr_match(c->only_hosts, p->l3, p->dst))))
		return false;
	if ((c->geoloc_notfound || c->asn_notfound) && c->geo) {
		const struct pv_geo_entry *s, *d;
		bool s_geo, s_asn;

		if (!p->l3)
			return false;
		/* The cache returns a slot that the next lookup may reuse:
		 * take what we need from the first before the second. */
		s = pv_geo_lookup(c->geo, p->l3, p->src);
		s_geo = s->geo_len != 0;
		s_asn = s->asn_len != 0;
		d = pv_geo_lookup(c->geo, p->l3, p->dst);
		if (c->geoloc_notfound && s_geo && d->geo_len)
			return false;
		if (c->asn_notfound && s_asn && d->asn_len)
			return false;
	}
	return true;
}

void pv_count_packet(struct pv_metrics *m, const struct pv_pkt *p, struct pv_count_ctx *c)
{
	struct pv_packets_block *k = &m->packets;
	struct pv_packets_sketches *sk = &m->psk;
	uint64_t (*rate)[PV_RATE_MAX_SEC] = m->secs.v;
	const uint32_t si = c->sec_idx;
	const uint8_t *addr;
	unsigned alen;
	enum pv_dir dir;

	if (p->err == PV_DEC_TRUNCATED)
		m->capture.decode_truncated++;
	else if (p->err == PV_DEC_MALFORMED)
		m->capture.decode_malformed++;
	if ((c->only_hosts || c->geoloc_notfound || c->asn_notfound) && !pass_filters(p, c)) {
		k->filtered++;
		return;
	}

	k->total++;
	k->deep_samples++;
	k->bytes_total += p->wire_len;
	rate[PV_RATE_PPS_TOTAL][si]++;
	rate[PV_RATE_BYTES_TOTAL][si] += p->wire_len;

	if (p->l3 == 4)
		k->ipv4++;
	else if (p->l3 == 6)
		k->ipv6++;
	else {
		k->unknown_dir++;
		return;
	}

	if (p->flags & PV_PKT_FRAG)
		k->fragments++;
	/* Transport by the IP protocol field (after IPv6 extension headers),
	 * so every fragment of a UDP datagram counts as UDP. */
	switch (p->l4proto) {
	case PV_IPPROTO_TCP:
		k->tcp++;
		if (p->l4 && (p->tcp_flags & PV_TCP_SYN))
			k->tcp_syn++;
		break;
	case PV_IPPROTO_UDP:
		k->udp++;
		break;
	case PV_IPPROTO_ICMP:
	case PV_IPPROTO_ICMPV6:
		k->icmp++;
		k->other_l4++;
		break;
	default:
		k->other_l4++;
		break;
	}
	if (p->err != PV_DEC_MALFORMED)
		pv_qs_add_u32(sk->payload_size, p->payload_len);

	dir = pv_direction(p, c->hostnets);
	alen = p->l3 == 4 ? 4 : 16;
	if (dir == PV_DIR_IN) {
		k->in++;
		k->bytes_in += p->wire_len;
		rate[PV_RATE_PPS_IN][si]++;
		rate[PV_RATE_BYTES_IN][si] += p->wire_len;
		addr = p->src;
		pv_hll_add_hash(sk->src_ips_in, pv_hash64(addr, alen, PV_HLL_SEED));
	} else if (dir == PV_DIR_OUT) {
		k->out++;
		k->bytes_out += p->wire_len;
		rate[PV_RATE_PPS_OUT][si]++;
		rate[PV_RATE_BYTES_OUT][si] += p->wire_len;
		addr = p->dst;
		pv_hll_add_hash(sk->dst_ips_out, pv_hash64(addr, alen, PV_HLL_SEED));
	} else {
		k->unknown_dir++;
		return;
	}
	/* pktvisor's rule: the remote end of the flow, by packets. */
	pv_topk_add(p->l3 == 4 ? sk->top_ipv4 : sk->top_ipv6, addr, alen, 1);
	if (c->geo) {
		const struct pv_geo_entry *g = pv_geo_lookup(c->geo, p->l3, addr);
		if (g->geo_len)
			pv_topk_add(sk->top_geo, g->geo, g->geo_len, 1);
		if (g->asn_len)
			pv_topk_add(sk->top_asn, g->asn, g->asn_len, 1);
	}
}
