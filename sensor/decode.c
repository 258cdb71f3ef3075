/*
 * Packet decoder (interface and outcome rules in sensor/decode.h): walks one
 * captured frame from the link header down to the transport header and fills
 * a caller-owned struct pv_pkt. It runs once per packet on every worker, so it
 * allocates nothing, calls nothing outside this file and lib/cursor.h, and
 * reads every byte through the bounds-checked cursor. Two lengths are tracked
 * side by side below the IP header: what the headers declare ("decl") and what
 * was captured (the cursor, already narrowed to decl). A header that does not
 * fit in decl is MALFORMED (the sender lied); one that fits in decl but not in
 * the capture is TRUNCATED (our snaplen or a short frame). Keeping the two
 * apart is what lets a pure snaplen cut never count as malformed.
 */
#include "sensor/decode.h"

#include <string.h>

#include <stddef.h>

#include "lib/cursor.h"

#define ETH_HLEN 14
#define SLL_HLEN 16
#define SLL2_HLEN 20

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100 /* pre-802.1ad vendor QinQ, still seen */

/* Deeper tag stacks than this are not a real network, only a way to make us
 * loop: count them as malformed. */
#define VLAN_MAX_TAGS 8

/* RFC 8200 puts no limit on the chain; real traffic has two or three. */
#define IPV6_MAX_EXT 16

/* BSD address family numbers as they appear in NULL/LOOP link headers: the
 * value of AF_INET6 differs between the BSDs, so all of them are accepted. */
#define BSD_AF_INET 2
#define BSD_AF_INET6_BSD 24     /* NetBSD, OpenBSD, BSD/OS */
#define BSD_AF_INET6_FREEBSD 28 /* FreeBSD, DragonFly */
#define BSD_AF_INET6_DARWIN 30  /* macOS */

/* IPv6 extension headers we walk through. ESP (50) and no-next-header (59)
 * end the walk like a transport would. */
#define EXT_HOPOPTS 0
#define EXT_ROUTING 43
#define EXT_FRAGMENT 44
#define EXT_AH 51
#define EXT_DSTOPTS 60

/*
 * Transport layer. decl is the number of bytes the IP layer declares from
 * here on; the cursor holds what was captured of them. jumbo relaxes the UDP
 * length checks for IPv6 jumbograms, whose UDP length is 0 (RFC 2675); in a
 * first fragment the UDP length covers the whole datagram, so it may exceed
 * decl.
 */
static int decode_l4(struct pv_cursor *c, uint32_t decl, uint8_t proto, int jumbo, struct pv_pkt *p)
{
	uint32_t hlen;
	uint16_t sport, dport, ulen;
	uint8_t off, tflags;

	p->l4proto = proto;
	p->l4_len = decl;

	switch (proto) {
	case PV_IPPROTO_TCP:
		hlen = 20;
		break;
	case PV_IPPROTO_UDP:
	case PV_IPPROTO_ICMP:
	case PV_IPPROTO_ICMPV6:
		hlen = 8;
		break;
	default:
		/* No header we know: everything above IP is payload. */
		p->payload_len = decl;
		return PV_DEC_OK;
	}
	if (decl < hlen)
		return PV_DEC_MALFORMED;
	if (proto != PV_IPPROTO_TCP)
		p->payload_len = decl - hlen;
	if (!pv_cur_need(c, hlen))
		return PV_DEC_TRUNCATED;

	switch (proto) {
	case PV_IPPROTO_TCP:
		sport = pv_rd16(c->pos);
		dport = pv_rd16(c->pos + 2);
		off = c->pos[12];
		tflags = c->pos[13];
		pv_cur_advance(c, 20);
		hlen = (uint32_t)(off >> 4) * 4;
		if (hlen < 20 || hlen > decl)
			return PV_DEC_MALFORMED;
		p->payload_len = decl - hlen;
		pv_cur_skip(c, hlen - 20); /* options */
		if (c->err)
			return PV_DEC_TRUNCATED;
		p->tcp_flags = tflags;
		break;
	case PV_IPPROTO_UDP:
		sport = pv_rd16(c->pos);
		dport = pv_rd16(c->pos + 2);
		ulen = pv_rd16(c->pos + 4);
		pv_cur_advance(c, 8);
		if (!jumbo && ulen < 8)
			return PV_DEC_MALFORMED;
		if (!jumbo && !(p->flags & PV_PKT_FRAG) && ulen > decl)
			return PV_DEC_MALFORMED;
		/* The datagram ends at its own length: bytes between it and
		 * the IP end are not the application's (a DNS parser must not
		 * see them). payload_len stays by IP lengths, as METRICS.md
		 * defines it. */
		if (ulen >= 8)
			pv_cur_limit(c, (size_t)ulen - 8);
		break;
	default: /* ICMP, ICMPv6: type, code, checksum, 4 type-specific bytes */
		sport = dport = 0;
		pv_cur_advance(c, 8);
		break;
	}

	if (proto != PV_IPPROTO_ICMP && proto != PV_IPPROTO_ICMPV6) {
		p->sport = sport;
		p->dport = dport;
		p->flags |= PV_PKT_PORTS;
	}
	p->l4 = 1;
	p->payload = c->pos;
	p->payload_cap = (uint32_t)pv_cur_left(c);
	return PV_DEC_OK;
}

static int decode_ipv4(struct pv_cursor *c, struct pv_pkt *p)
{
	const uint8_t *hdr = c->pos;
	uint8_t vihl, proto;
	uint16_t tot, frag;
	uint32_t ihl;
	uint8_t src[4], dst[4];

	if (!pv_cur_need(c, 1))
		return PV_DEC_TRUNCATED;
	vihl = hdr[0];
	ihl = (uint32_t)(vihl & 0x0f) * 4;
	if (vihl >> 4 != 4 || ihl < 20)
		return PV_DEC_MALFORMED;
	if (!pv_cur_need(c, 20))
		return PV_DEC_TRUNCATED;
	tot = pv_rd16(hdr + 2);
	frag = pv_rd16(hdr + 6);
	proto = hdr[9];
	memcpy(src, hdr + 12, 4);
	memcpy(dst, hdr + 16, 4);
	pv_cur_advance(c, 20);
	if (tot < ihl)
		return PV_DEC_MALFORMED;
	/* Bytes past the total length are link padding (Ethernet minimum
	 * frame), never part of the datagram. */
	pv_cur_limit(c, (size_t)tot - 20);
	pv_cur_skip(c, ihl - 20); /* options */
	if (c->err)
		return PV_DEC_TRUNCATED;

	p->l3 = 4;
	p->l3_ptr = hdr;
	p->ip_len = tot;
	memcpy(p->src, src, 4);
	memcpy(p->dst, dst, 4);

	if (frag & 0x3fff) { /* MF or a fragment offset; DF is bit 0x4000 */
		p->flags |= PV_PKT_FRAG;
		if (frag & 0x1fff) {
			/* A later fragment: the transport header went with
			 * the first one, so all of this is payload. */
			p->l4proto = proto;
			p->l4_len = tot - ihl;
			p->payload_len = tot - ihl;
			return PV_DEC_OK;
		}
		p->flags |= PV_PKT_FRAG_FIRST;
	}
	return decode_l4(c, tot - ihl, proto, 0, p);
}

static int decode_ipv6(struct pv_cursor *c, struct pv_pkt *p)
{
	const uint8_t *hdr = c->pos;
	uint8_t b0, nh, nnh, len;
	uint16_t plen, fo;
	uint32_t decl, hlen;
	int jumbo;

	if (!pv_cur_need(c, 1))
		return PV_DEC_TRUNCATED;
	b0 = hdr[0];
	if (b0 >> 4 != 6)
		return PV_DEC_MALFORMED;
	if (!pv_cur_need(c, 40))
		return PV_DEC_TRUNCATED;
	plen = pv_rd16(hdr + 4);
	nh = hdr[6];
	memcpy(p->src, hdr + 8, 16);
	memcpy(p->dst, hdr + 24, 16);
	pv_cur_advance(c, 40);

	/* Payload length 0 with a hop-by-hop header is a jumbogram (RFC
	 * 2675): the real length sits in an option; what was captured is a
	 * good enough stand-in and saves parsing it. */
	jumbo = plen == 0 && nh == EXT_HOPOPTS;
	if (jumbo) {
		decl = (uint32_t)pv_cur_left(c);
	} else {
		decl = plen;
		pv_cur_limit(c, plen);
	}
	p->l3 = 6;
	p->l3_ptr = hdr;
	p->ip_len = 40 + decl;

	for (int n = 0;; n++) {
		switch (nh) {
		case EXT_HOPOPTS:
		case EXT_ROUTING:
		case EXT_DSTOPTS:
		case EXT_FRAGMENT:
		case EXT_AH:
			break;
		default:
			/* A transport, or ESP / no-next-header, which end
			 * the walk and count as transports without a header
			 * we read. */
			return decode_l4(c, decl, nh, jumbo, p);
		}
		if (n == IPV6_MAX_EXT || decl < 8)
			return PV_DEC_MALFORMED;
		/* Every extension header is at least 8 bytes. */
		if (!pv_cur_need(c, 8))
			return PV_DEC_TRUNCATED;
		nnh = pv_cur_u8(c);
		len = pv_cur_u8(c);
		fo = 0;
		if (nh == EXT_FRAGMENT) {
			hlen = 8;
			fo = pv_cur_u16(c);
			pv_cur_skip(c, 4); /* identification */
		} else {
			if (nh == EXT_AH)
				hlen = ((uint32_t)len + 2) * 4;
			else
				hlen = ((uint32_t)len + 1) * 8;
			if (hlen > decl)
				return PV_DEC_MALFORMED;
			pv_cur_skip(c, hlen - 2);
			if (c->err)
				return PV_DEC_TRUNCATED;
		}
		decl -= hlen;
		if (nh == EXT_FRAGMENT) {
			p->flags |= PV_PKT_FRAG;
			if (fo >> 3) {
				p->l4proto = nnh;
				p->l4_len = decl;
				p->payload_len = decl;
				return PV_DEC_OK;
			}
			p->flags |= PV_PKT_FRAG_FIRST;
		}
		nh = nnh;
	}
}

/* Dispatches on the IP version nibble, for links that carry no type. */
static int decode_ip_any(struct pv_cursor *c, struct pv_pkt *p)
{
	if (!pv_cur_need(c, 1))
		return PV_DEC_TRUNCATED;
	switch (c->pos[0] >> 4) {
	case 4:
		return decode_ipv4(c, p);
	case 6:
		return decode_ipv6(c, p);
	default:
		return PV_DEC_MALFORMED;
	}
}

/* An ethertype, possibly preceded by a stack of 802.1Q / 802.1ad tags. */
static int decode_ethertype(struct pv_cursor *c, uint16_t type, struct pv_pkt *p)
{
	uint16_t tci;

	for (;;) {
		switch (type) {
		case ETHERTYPE_IPV4:
			return decode_ipv4(c, p);
		case ETHERTYPE_IPV6:
			return decode_ipv6(c, p);
		case ETHERTYPE_VLAN:
		case ETHERTYPE_QINQ:
		case ETHERTYPE_QINQ_OLD:
			break;
		default:
			return PV_DEC_OK; /* ARP, LLDP, ...: not IP, not an error */
		}
		if (p->vlan_depth == VLAN_MAX_TAGS)
			return PV_DEC_MALFORMED;
		tci = pv_cur_u16(c);
		type = pv_cur_u16(c);
		if (c->err)
			return PV_DEC_TRUNCATED;
		if (p->vlan_depth < 2)
			p->vlan_id[p->vlan_depth] = tci & 0x0fff;
		p->vlan_depth++;
		p->flags |= PV_PKT_VLAN;
	}
}

/* NULL and LOOP headers: an address family, not an ethertype. */
static int decode_af(struct pv_cursor *c, uint32_t af, struct pv_pkt *p)
{
	switch (af) {
	case BSD_AF_INET:
		return decode_ipv4(c, p);
	case BSD_AF_INET6_BSD:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
		return decode_ipv6(c, p);
	default:
		return PV_DEC_OK;
	}
}

static int is_bsd_af(uint32_t af)
{
	return af == BSD_AF_INET || af == BSD_AF_INET6_BSD || af == BSD_AF_INET6_FREEBSD ||
	       af == BSD_AF_INET6_DARWIN;
}

static int decode_link(int linktype, struct pv_cursor *c, struct pv_pkt *p)
{
	uint16_t type;
	uint32_t af;

	switch (linktype) {
	case PV_LINK_ETHERNET:
		pv_cur_skip(c, ETH_HLEN - 2); /* destination, source MAC */
		type = pv_cur_u16(c);
		if (c->err)
			return PV_DEC_TRUNCATED;
		return decode_ethertype(c, type, p);
	case PV_LINK_SLL:
		/* packet type, ARPHRD, address length, address */
		pv_cur_skip(c, SLL_HLEN - 2);
		type = pv_cur_u16(c);
		if (c->err)
			return PV_DEC_TRUNCATED;
		return decode_ethertype(c, type, p);
	case PV_LINK_SLL2:
		type = pv_cur_u16(c);
		pv_cur_skip(c, SLL2_HLEN - 2);
		if (c->err)
			return PV_DEC_TRUNCATED;
		return decode_ethertype(c, type, p);
	case PV_LINK_RAW:
		return decode_ip_any(c, p);
	case PV_LINK_IPV4:
		return decode_ipv4(c, p);
	case PV_LINK_IPV6:
		return decode_ipv6(c, p);
	case PV_LINK_NULL:
		/* Host order of the capturing machine, which need not be
		 * ours: a value that is not a family is tried swapped. */
		af = pv_cur_u32le(c);
		if (c->err)
			return PV_DEC_TRUNCATED;
		if (!is_bsd_af(af))
			af =
			    (af >> 24) | ((af >> 8) & 0xff00) | ((af << 8) & 0xff0000) | (af << 24);
		return decode_af(c, af, p);
	case PV_LINK_LOOP:
		af = pv_cur_u32(c);
		if (c->err)
			return PV_DEC_TRUNCATED;
		return decode_af(c, af, p);
	default:
		return PV_DEC_MALFORMED;
	}
}

int pv_linktype_supported(int linktype)
{
	switch (linktype) {
	case PV_LINK_NULL:
	case PV_LINK_ETHERNET:
	case PV_LINK_RAW:
	case PV_LINK_LOOP:
	case PV_LINK_SLL:
	case PV_LINK_IPV4:
	case PV_LINK_IPV6:
	case PV_LINK_SLL2:
		return 1;
	default:
		return 0;
	}
}

int pv_decode(int linktype, const uint8_t *frame, uint32_t cap_len, uint32_t wire_len,
              struct pv_pkt *p)
{
	struct pv_cursor c;

	*p = (struct pv_pkt){0};
	p->wire_len = wire_len;
	p->cap_len = cap_len;
	/* An empty frame may come with a NULL pointer; do not even form
	 * NULL + 0 for the cursor. */
	if (cap_len == 0 || frame == NULL) {
		p->err = pv_linktype_supported(linktype) ? PV_DEC_TRUNCATED : PV_DEC_MALFORMED;
		return p->err;
	}
	pv_cur_init(&c, frame, cap_len);
	p->err = (uint8_t)decode_link(linktype, &c, p);
	return p->err;
}

int pv_decode_ip(const uint8_t *ip, uint32_t cap_len, struct pv_pkt *p)
{
	struct pv_cursor c;

	*p = (struct pv_pkt){0};
	p->wire_len = cap_len;
	p->cap_len = cap_len;
	if (cap_len == 0 || ip == NULL) {
		p->err = PV_DEC_TRUNCATED;
		return p->err;
	}
	pv_cur_init(&c, ip, cap_len);
	p->err = (uint8_t)decode_ip_any(&c, p);
	return p->err;
}
