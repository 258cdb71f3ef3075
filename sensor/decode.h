/*
 * Packet decoder: link layer (Ethernet, 802.1Q/QinQ, Linux cooked SLL and
 * SLL2, raw IPv4/IPv6, BSD loopback), IPv4 (options, fragments), IPv6
 * (extension header chain, fragment header), UDP, TCP, ICMP, ICMPv6.
 *
 * Untrusted input: every read goes through a bounds-checked cursor
 * (lib/cursor.h); at each layer the readable range is narrowed to
 * min(captured, declared length). The decoder never allocates, never calls
 * the system, and fills a caller-owned struct pv_pkt; pointers in it point
 * into the caller's frame and live as long as it.
 *
 * Outcome: the decoder decodes as deep as it can. err says why it stopped
 * early: PV_DEC_TRUNCATED (the capture ends before a declared or required
 * length: snaplen, or a short frame) or PV_DEC_MALFORMED (bytes present but
 * invalid: bad version, header length below minimum, total length below
 * header length, ...). Layers decoded before the error stay valid (l3 set
 * means the IP header was fully read, l4 set means the transport header was).
 */
#ifndef PV_SENSOR_DECODE_H
#define PV_SENSOR_DECODE_H

#include <stdint.h>

/* Link types we accept: the pcap LINKTYPE_ numbers (also used live). */
enum pv_linktype {
	PV_LINK_NULL = 0,     /* BSD loopback: 4-byte host-order AF */
	PV_LINK_ETHERNET = 1,
	PV_LINK_RAW = 101,    /* raw IP, version from the first nibble */
	PV_LINK_LOOP = 108,   /* OpenBSD loopback: 4-byte network-order AF */
	PV_LINK_SLL = 113,    /* Linux cooked v1 */
	PV_LINK_IPV4 = 228,
	PV_LINK_IPV6 = 229,
	PV_LINK_SLL2 = 276,   /* Linux cooked v2 */
};

enum pv_dec_err { PV_DEC_OK = 0, PV_DEC_TRUNCATED = 1, PV_DEC_MALFORMED = 2 };

enum pv_pkt_flags {
	PV_PKT_FRAG = 1u << 0,       /* an IP fragment (IPv4 MF/offset or IPv6 frag hdr) */
	PV_PKT_FRAG_FIRST = 1u << 1, /* ... and it is the first one (offset 0) */
	PV_PKT_PORTS = 1u << 2,      /* sport/dport valid (TCP or UDP header read) */
	PV_PKT_VLAN = 1u << 3,       /* at least one 802.1Q or 802.1ad tag */
};

#define PV_IPPROTO_ICMP 1
#define PV_IPPROTO_TCP 6
#define PV_IPPROTO_UDP 17
#define PV_IPPROTO_ICMPV6 58

#define PV_TCP_FIN 0x01
#define PV_TCP_SYN 0x02
#define PV_TCP_RST 0x04
#define PV_TCP_ACK 0x10

struct pv_pkt {
	uint32_t wire_len;  /* original length on the wire */
	uint32_t cap_len;   /* captured bytes */
	uint8_t err;        /* enum pv_dec_err */
	uint8_t l3;         /* 0 = no IP header decoded, 4, 6 */
	uint8_t l4proto;    /* IPPROTO_* of the transport (after IPv6 ext headers) */
	uint8_t l4;         /* 1 if the transport header was fully read */
	uint16_t flags;     /* enum pv_pkt_flags */
	uint8_t tcp_flags;  /* valid if l4 && l4proto == TCP */
	uint8_t vlan_depth; /* number of 802.1Q/802.1ad tags */
	uint16_t vlan_id[2];
	uint16_t sport, dport;   /* host order, valid with PV_PKT_PORTS */
	uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes, rest zero */
	uint32_t ip_len;         /* IP total length as declared (v6: 40 + payload length;
				    a jumbogram: 40 + the captured bytes) */
	uint32_t l4_len;         /* declared bytes from the transport header on (by IP lengths) */
	uint32_t payload_len;    /* declared bytes above the transport header (METRICS.md
				    payload_size), by IP lengths */
	const uint8_t *l3_ptr;   /* IP header in the frame */
	const uint8_t *payload;  /* transport payload in the frame (if l4) */
	uint32_t payload_cap;    /* captured bytes available at payload */
};

/* Decodes one frame. Always fills p (zeroed first); returns p->err. An
 * unsupported link type decodes nothing and returns PV_DEC_MALFORMED, so a
 * wrong link type shows in the malformed counter. */
int pv_decode(int linktype, const uint8_t *frame, uint32_t cap_len, uint32_t wire_len,
	      struct pv_pkt *p);

/* Decodes starting at an IP header: zeroes p and sets wire_len = cap_len. */
int pv_decode_ip(const uint8_t *ip, uint32_t cap_len, struct pv_pkt *p);

/* True if the decoder knows this link type. */
int pv_linktype_supported(int linktype);

#endif
