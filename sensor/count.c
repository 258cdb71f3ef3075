#include "sensor/count.h"

void pv_count_packet(struct pv_metrics *m, const struct pv_pkt *p, const struct pv_cidr_set *hn)
{
	struct pv_packets_block *k = &m->packets;

	k->total++;
	k->deep_samples++;
	k->bytes_total += p->wire_len;
	if (p->err == PV_DEC_TRUNCATED)
		m->capture.decode_truncated++;
	else if (p->err == PV_DEC_MALFORMED)
		m->capture.decode_malformed++;

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

	switch (pv_direction(p, hn)) {
	case PV_DIR_IN:
		k->in++;
		k->bytes_in += p->wire_len;
		break;
	case PV_DIR_OUT:
		k->out++;
		k->bytes_out += p->wire_len;
		break;
	default:
		k->unknown_dir++;
		break;
	}
}
