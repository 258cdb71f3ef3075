/*
 * cmocka tests for the packet decoder (sensor/decode.c). Every frame is built
 * here byte by byte with small header writers, and every expected value is
 * arithmetic on the numbers written (header sizes, declared lengths), never a
 * value read back from the decoder. Besides one good frame per link type and
 * protocol, each good frame is also cut at every byte (into a heap buffer of
 * exactly that size, so the sanitizer build catches any over-read): a pure cut
 * must give TRUNCATED or OK with fewer layers, never MALFORMED. The malformed
 * cases cover each length rule the decoder enforces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sensor/decode.h"

/* ---- frame builder ---- */

struct frame {
	uint8_t b[2048];
	size_t n;
};

static const uint8_t SRC4[4] = {192, 0, 2, 1};
static const uint8_t DST4[4] = {198, 51, 100, 7};
static const uint8_t SRC6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
static const uint8_t DST6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};

static void put8(struct frame *f, unsigned v)
{
	assert_true(f->n < sizeof(f->b));
	f->b[f->n++] = (uint8_t)v;
}

static void put16(struct frame *f, unsigned v)
{
	put8(f, v >> 8);
	put8(f, v & 0xff);
}

static void put32(struct frame *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

static void put_bytes(struct frame *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(f, p[i]);
}

static void put_fill(struct frame *f, size_t n, unsigned v)
{
	for (size_t i = 0; i < n; i++)
		put8(f, v);
}

/* Payload bytes with a pattern, so a wrong payload pointer shows. */
static void put_payload(struct frame *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(f, 0xa0 + (unsigned)(i & 0x1f));
}

static void put_eth(struct frame *f, unsigned type)
{
	static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x02};
	static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x01};

	put_bytes(f, dst, 6);
	put_bytes(f, src, 6);
	put16(f, type);
}

/* One tag: TCI (priority 3 in the top bits to check the mask) and the next type. */
static void put_tag(struct frame *f, unsigned vid, unsigned next)
{
	put16(f, 0x6000 | vid);
	put16(f, next);
}

static void put_sll(struct frame *f, unsigned proto)
{
	put16(f, 0); /* packet type: to us */
	put16(f, 1); /* ARPHRD_ETHER */
	put16(f, 6); /* address length */
	put_fill(f, 8, 0x02);
	put16(f, proto);
}

static void put_sll2(struct frame *f, unsigned proto)
{
	put16(f, proto);
	put16(f, 0); /* reserved */
	put32(f, 3); /* ifindex */
	put16(f, 1); /* ARPHRD_ETHER */
	put8(f, 4);  /* packet type: outgoing */
	put8(f, 6);  /* address length */
	put_fill(f, 8, 0x02);
}

/* IPv4 header with ihl 32-bit words (options are NOPs ending in EOL). */
static void put_ip4(struct frame *f, unsigned ihl, unsigned tot, unsigned frag, unsigned proto)
{
	put8(f, 0x40 | ihl);
	put8(f, 0); /* TOS */
	put16(f, tot);
	put16(f, 0x1234); /* id */
	put16(f, frag);
	put8(f, 64); /* TTL */
	put8(f, proto);
	put16(f, 0); /* checksum: not checked */
	put_bytes(f, SRC4, 4);
	put_bytes(f, DST4, 4);
	if (ihl > 5) {
		put_fill(f, ihl * 4 - 20 - 1, 0x01);
		put8(f, 0x00);
	}
}

static void put_ip6(struct frame *f, unsigned plen, unsigned nh)
{
	put32(f, 0x60000000);
	put16(f, plen);
	put8(f, nh);
	put8(f, 64);
	put_bytes(f, SRC6, 16);
	put_bytes(f, DST6, 16);
}

/* Hop-by-hop, routing or destination options: (len + 1) * 8 bytes. */
static void put_ext6(struct frame *f, unsigned nh, unsigned len)
{
	put8(f, nh);
	put8(f, len);
	put_fill(f, (len + 1) * 8 - 2, 0); /* Pad1 options */
}

static void put_frag6(struct frame *f, unsigned nh, unsigned offset8, unsigned more)
{
	put8(f, nh);
	put8(f, 0);
	put16(f, offset8 << 3 | more);
	put32(f, 0xdeadbeef);
}

/* AH: (len + 2) * 4 bytes. */
static void put_ah(struct frame *f, unsigned nh, unsigned len)
{
	put8(f, nh);
	put8(f, len);
	put16(f, 0);
	put32(f, 0x100); /* SPI */
	put_fill(f, (len + 2) * 4 - 8, 0x5a);
}

static void put_udp(struct frame *f, unsigned sport, unsigned dport, unsigned ulen)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, ulen);
	put16(f, 0);
}

static void put_tcp(struct frame *f, unsigned sport, unsigned dport, unsigned doff, unsigned flags)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 1000);
	put32(f, 2000);
	put8(f, doff << 4);
	put8(f, flags);
	put16(f, 65535);
	put16(f, 0);
	put16(f, 0);
	if (doff > 5)
		put_fill(f, doff * 4 - 20, 0x01); /* NOP options */
}

static void put_icmp(struct frame *f, unsigned type, unsigned code)
{
	put8(f, type);
	put8(f, code);
	put16(f, 0);
	put32(f, 0x00010002); /* id, sequence */
}

static int decode(int link, const struct frame *f, struct pv_pkt *p)
{
	return pv_decode(link, f->b, (uint32_t)f->n, (uint32_t)f->n, p);
}

static void assert_v4_addrs(const struct pv_pkt *p)
{
	static const uint8_t zero[12];

	assert_memory_equal(p->src, SRC4, 4);
	assert_memory_equal(p->dst, DST4, 4);
	assert_memory_equal(p->src + 4, zero, 12);
	assert_memory_equal(p->dst + 4, zero, 12);
}

static void assert_v6_addrs(const struct pv_pkt *p)
{
	assert_memory_equal(p->src, SRC6, 16);
	assert_memory_equal(p->dst, DST6, 16);
}

/*
 * Cuts f at every length from 0 to f->n into an exact-size heap buffer.
 * l3_end: offset where the IP header (with options, for IPv6 the fixed 40
 * bytes) ends; l4_end: where the transport header ends; ip_end: where the IP
 * datagram ends (link padding after it).
 */
static void check_cuts(int link, const struct frame *f, size_t l3_end, size_t l4_end, size_t ip_end,
                       unsigned l3)
{
	for (size_t cut = 0; cut <= f->n; cut++) {
		struct pv_pkt p;
		uint8_t *buf = malloc(cut ? cut : 1);
		int err;

		assert_non_null(buf);
		memcpy(buf, f->b, cut);
		err = pv_decode(link, buf, (uint32_t)cut, (uint32_t)f->n, &p);
		assert_int_equal(p.err, err);
		assert_int_equal(p.cap_len, cut);
		assert_int_equal(p.wire_len, f->n);
		if (cut < l4_end) {
			assert_int_equal(err, PV_DEC_TRUNCATED);
			assert_int_equal(p.l4, 0);
			assert_int_equal(p.l3, cut >= l3_end ? l3 : 0);
		} else {
			size_t end = cut < ip_end ? cut : ip_end;

			assert_int_equal(err, PV_DEC_OK);
			assert_int_equal(p.l3, l3);
			assert_int_equal(p.l4, 1);
			assert_ptr_equal(p.payload, buf + l4_end);
			assert_int_equal(p.payload_cap, end - l4_end);
		}
		free(buf);
	}
}

/* ---- Ethernet / IPv4 ---- */

/* 14 eth + 20 IPv4 + 8 UDP + 25 payload. */
static void build_eth_udp4(struct frame *f)
{
	f->n = 0;
	put_eth(f, 0x0800);
	put_ip4(f, 5, 20 + 8 + 25, 0x4000 /* DF */, 17);
	put_udp(f, 0x1234, 53, 8 + 25);
	put_payload(f, 25);
}

static void test_eth_ipv4_udp(void **state)
{
	struct frame f;
	struct pv_pkt p;

	(void)state;
	build_eth_udp4(&f);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.err, PV_DEC_OK);
	assert_int_equal(p.cap_len, 14 + 53);
	assert_int_equal(p.wire_len, 14 + 53);
	assert_int_equal(p.l3, 4);
	assert_ptr_equal(p.l3_ptr, f.b + 14);
	assert_int_equal(p.l4proto, PV_IPPROTO_UDP);
	assert_int_equal(p.l4, 1);
	assert_int_equal(p.flags, PV_PKT_PORTS); /* DF is not a fragment */
	assert_int_equal(p.sport, 0x1234);
	assert_int_equal(p.dport, 53);
	assert_v4_addrs(&p);
	assert_int_equal(p.ip_len, 53);
	assert_int_equal(p.l4_len, 53 - 20);
	assert_int_equal(p.payload_len, 25);
	assert_ptr_equal(p.payload, f.b + 14 + 20 + 8);
	assert_int_equal(p.payload_cap, 25);
	assert_int_equal(p.vlan_depth, 0);
	assert_int_equal(p.vlan_id[0], 0);
	check_cuts(PV_LINK_ETHERNET, &f, 34, 42, f.n, 4);
}

/* TCP with 12 option bytes (doff 8), SYN|ACK, 10 payload bytes. */
static void build_eth_tcp4(struct frame *f)
{
	f->n = 0;
	put_eth(f, 0x0800);
	put_ip4(f, 5, 20 + 32 + 10, 0, 6);
	put_tcp(f, 443, 50000, 8, PV_TCP_SYN | PV_TCP_ACK);
	put_payload(f, 10);
}

static void test_eth_ipv4_tcp(void **state)
{
	struct frame f;
	struct pv_pkt p;

	(void)state;
	build_eth_tcp4(&f);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 4);
	assert_int_equal(p.l4proto, PV_IPPROTO_TCP);
	assert_int_equal(p.l4, 1);
	assert_int_equal(p.flags, PV_PKT_PORTS);
	assert_int_equal(p.tcp_flags, PV_TCP_SYN | PV_TCP_ACK);
	assert_int_equal(p.sport, 443);
	assert_int_equal(p.dport, 50000);
	assert_v4_addrs(&p);
	assert_int_equal(p.ip_len, 62);
	assert_int_equal(p.l4_len, 42);
	assert_int_equal(p.payload_len, 10);
	assert_ptr_equal(p.payload, f.b + 14 + 20 + 32);
	assert_int_equal(p.payload_cap, 10);
	check_cuts(PV_LINK_ETHERNET, &f, 34, 66, f.n, 4);
}

static void test_eth_ipv4_icmp(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_eth(&f, 0x0800);
	put_ip4(&f, 5, 20 + 8 + 56, 0, 1);
	put_icmp(&f, 8, 0);
	put_payload(&f, 56);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 4);
	assert_int_equal(p.l4proto, PV_IPPROTO_ICMP);
	assert_int_equal(p.l4, 1);
	assert_int_equal(p.flags, 0); /* no ports for ICMP */
	assert_int_equal(p.ip_len, 84);
	assert_int_equal(p.l4_len, 64);
	assert_int_equal(p.payload_len, 56);
	assert_int_equal(p.payload_cap, 56);
	check_cuts(PV_LINK_ETHERNET, &f, 34, 42, f.n, 4);
}

/* IHL 7: 8 option bytes before UDP. */
static void test_ipv4_options(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_eth(&f, 0x0800);
	put_ip4(&f, 7, 28 + 8 + 4, 0, 17);
	put_udp(&f, 1000, 2000, 12);
	put_payload(&f, 4);
	assert_int_equal(f.n, 14 + 28 + 8 + 4);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 4);
	assert_int_equal(p.l4, 1);
	assert_int_equal(p.sport, 1000);
	assert_int_equal(p.dport, 2000);
	assert_int_equal(p.ip_len, 40);
	assert_int_equal(p.l4_len, 12);
	assert_int_equal(p.payload_len, 4);
	assert_ptr_equal(p.payload, f.b + 14 + 28 + 8);
	check_cuts(PV_LINK_ETHERNET, &f, 42, 50, f.n, 4);
}

/* First fragment: MF, offset 0; the UDP length covers the whole datagram
 * (1000 bytes) while this fragment carries 8 + 64. */
static void test_ipv4_frag_first(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_eth(&f, 0x0800);
	put_ip4(&f, 5, 20 + 8 + 64, 0x2000, 17);
	put_udp(&f, 5353, 53, 1000);
	put_payload(&f, 64);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.flags, PV_PKT_FRAG | PV_PKT_FRAG_FIRST | PV_PKT_PORTS);
	assert_int_equal(p.l4, 1);
	assert_int_equal(p.l4proto, PV_IPPROTO_UDP);
	assert_int_equal(p.sport, 5353);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.ip_len, 92);
	assert_int_equal(p.l4_len, 72);
	assert_int_equal(p.payload_len, 64);
	assert_int_equal(p.payload_cap, 64);
	check_cuts(PV_LINK_ETHERNET, &f, 34, 42, f.n, 4);
}

/* Later fragment: offset 9 (72 bytes), no MF: no transport header here. */
static void test_ipv4_frag_later(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_eth(&f, 0x0800);
	put_ip4(&f, 5, 20 + 40, 9, 17);
	put_payload(&f, 40);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.flags, PV_PKT_FRAG);
	assert_int_equal(p.l3, 4);
	assert_int_equal(p.l4, 0);
	assert_int_equal(p.l4proto, PV_IPPROTO_UDP);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.ip_len, 60);
	assert_int_equal(p.l4_len, 40);
	assert_int_equal(p.payload_len, 40);
	assert_null(p.payload);

	/* Also with MF set (a middle fragment). */
	f.b[14 + 6] = 0x20;
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.flags, PV_PKT_FRAG);
	assert_int_equal(p.l4, 0);
}

/* A 30-byte datagram padded to the 60-byte Ethernet minimum. */
static void test_ipv4_eth_padding(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_eth(&f, 0x0800);
	put_ip4(&f, 5, 20 + 8 + 2, 0, 17);
	put_udp(&f, 40000, 53, 10);
	put_payload(&f, 2);
	put_fill(&f, 60 - f.n, 0xee);
	assert_int_equal(f.n, 60);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.ip_len, 30);
	assert_int_equal(p.l4_len, 10);
	assert_int_equal(p.payload_len, 2);
	assert_int_equal(p.payload_cap, 2);
	check_cuts(PV_LINK_ETHERNET, &f, 34, 42, 14 + 30, 4);
}

/* A bare TCP ACK (40 bytes) padded to 60; and IPv6 TCP with a 4-byte trailer
 * (an FCS left on by the capture): no UDP length to hide a missing cut. */
static void test_trailer_tcp(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_eth(&f, 0x0800);
	put_ip4(&f, 5, 40, 0x4000, 6);
	put_tcp(&f, 80, 40000, 5, PV_TCP_ACK);
	put_fill(&f, 6, 0xee);
	assert_int_equal(f.n, 60);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.ip_len, 40);
	assert_int_equal(p.l4_len, 20);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(p.payload_cap, 0);
	check_cuts(PV_LINK_ETHERNET, &f, 34, 54, 54, 4);

	f.n = 0;
	put_eth(&f, 0x86dd);
	put_ip6(&f, 20 + 5, 6);
	put_tcp(&f, 80, 40000, 5, PV_TCP_ACK);
	put_payload(&f, 5);
	put_fill(&f, 4, 0xee);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.ip_len, 65);
	assert_int_equal(p.payload_len, 5);
	assert_int_equal(p.payload_cap, 5);
	check_cuts(PV_LINK_ETHERNET, &f, 54, 74, 14 + 65, 6);
}

/* Snaplen below the datagram: headers present, payload cut: OK. */
static void test_ipv4_snaplen(void **state)
{
	struct frame f;
	struct pv_pkt p;

	(void)state;
	build_eth_udp4(&f);
	assert_int_equal(pv_decode(PV_LINK_ETHERNET, f.b, 14 + 20 + 8 + 3, (uint32_t)f.n, &p),
	                 PV_DEC_OK);
	assert_int_equal(p.l4, 1);
	assert_int_equal(p.ip_len, 53);
	assert_int_equal(p.payload_len, 25);
	assert_int_equal(p.payload_cap, 3);
	assert_int_equal(p.wire_len, f.n);
	assert_int_equal(p.cap_len, 14 + 20 + 8 + 3);

	/* Cut inside the TCP options: the transport header is incomplete. */
	build_eth_tcp4(&f);
	assert_int_equal(pv_decode(PV_LINK_ETHERNET, f.b, 14 + 20 + 24, (uint32_t)f.n, &p),
	                 PV_DEC_TRUNCATED);
	assert_int_equal(p.l3, 4);
	assert_int_equal(p.l4proto, PV_IPPROTO_TCP);
	assert_int_equal(p.l4, 0);
	assert_int_equal(p.flags & PV_PKT_PORTS, 0);
}

static void test_ipv4_malformed(void **state)
{
	struct frame f;
	struct pv_pkt p;

	(void)state;
	/* IHL 4 */
	f.n = 0;
	put_eth(&f, 0x0800);
	put_ip4(&f, 4, 40, 0, 17);
	put_fill(&f, 24, 0);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_MALFORMED);
	assert_int_equal(p.l3, 0);

	/* IHL 6 (24 bytes) but total length 22 */
	f.n = 0;
	put_eth(&f, 0x0800);
	put_ip4(&f, 6, 22, 0, 17);
	put_fill(&f, 16, 0);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_MALFORMED);
	assert_int_equal(p.l3, 0);

	/* Ethertype IPv4, version 6 */
	f.n = 0;
	put_eth(&f, 0x0800);
	put_ip6(&f, 8, 17);
	put_udp(&f, 1, 2, 8);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_MALFORMED);

	/* Ethertype IPv4, version 6 with a plausible IHL of 5 */
	build_eth_udp4(&f);
	f.b[14] = 0x65;
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_MALFORMED);
	assert_int_equal(p.l3, 0);
	assert_int_equal(
	    pv_decode(PV_LINK_IPV4, f.b + 14, (uint32_t)f.n - 14, (uint32_t)f.n - 14, &p),
	    PV_DEC_MALFORMED);

	/* Ethertype IPv6, version 4 */
	build_eth_udp4(&f);
	f.b[12] = 0x86;
	f.b[13] = 0xdd;
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_MALFORMED);
	assert_int_equal(p.l3, 0);
}

static void test_tcp_malformed(void **state)
{
	struct frame f;
	struct pv_pkt p;

	(void)state;
	/* data offset 4 */
	f.n = 0;
	put_eth(&f, 0x0800);
	put_ip4(&f, 5, 20 + 20, 0, 6);
	put_tcp(&f, 1, 2, 4, PV_TCP_SYN);
	put_fill(&f, 4, 0);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_MALFORMED);
	assert_int_equal(p.l3, 4);
	assert_int_equal(p.l4, 0);
	assert_int_equal(p.flags & PV_PKT_PORTS, 0);

	/* data offset 10 (40 bytes) in a 30-byte IP payload */
	f.n = 0;
	put_eth(&f, 0x0800);
	put_ip4(&f, 5, 20 + 30, 0, 6);
	put_tcp(&f, 1, 2, 10, PV_TCP_SYN);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_MALFORMED);
	assert_int_equal(p.l4, 0);
	assert_int_equal(p.payload_len, 0);

	/* IP payload of 12 bytes cannot hold a TCP header */
	f.n = 0;
	put_eth(&f, 0x0800);
	put_ip4(&f, 5, 20 + 12, 0, 6);
	put_tcp(&f, 1, 2, 5, 0);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_MALFORMED);
	assert_int_equal(p.l3, 4);
	assert_int_equal(p.l4_len, 12);
	assert_int_equal(p.payload_len, 0);
}

static void test_udp_malformed(void **state)
{
	struct frame f;
	struct pv_pkt p;

	(void)state;
	/* UDP length 7 */
	f.n = 0;
	put_eth(&f, 0x0800);
	put_ip4(&f, 5, 20 + 8, 0, 17);
	put_udp(&f, 1, 2, 7);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_MALFORMED);
	assert_int_equal(p.l3, 4);
	assert_int_equal(p.l4, 0);
	assert_int_equal(p.flags & PV_PKT_PORTS, 0);

	/* UDP length 40 in a 20-byte IP payload (not a fragment) */
	f.n = 0;
	put_eth(&f, 0x0800);
	put_ip4(&f, 5, 20 + 20, 0, 17);
	put_udp(&f, 1, 2, 40);
	put_payload(&f, 12);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_MALFORMED);
	assert_int_equal(p.l4, 0);

	/* IP payload of 4 bytes: no room for a UDP header; payload_len clamps */
	f.n = 0;
	put_eth(&f, 0x0800);
	put_ip4(&f, 5, 20 + 4, 0, 17);
	put_udp(&f, 1, 2, 8);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_MALFORMED);
	assert_int_equal(p.payload_len, 0);

	/* ICMP in 6 bytes */
	f.n = 0;
	put_eth(&f, 0x0800);
	put_ip4(&f, 5, 20 + 6, 0, 1);
	put_icmp(&f, 8, 0);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_MALFORMED);
	assert_int_equal(p.l4, 0);
}

/* A UDP length below the IP payload: the datagram ends at its own length. */
static void test_udp_short_length(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_eth(&f, 0x0800);
	put_ip4(&f, 5, 20 + 8 + 12, 0, 17);
	put_udp(&f, 1, 2, 8 + 5);
	put_payload(&f, 12);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.payload_len, 12); /* by IP lengths */
	assert_int_equal(p.payload_cap, 5);  /* by the datagram */
}

static void test_other_transport(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_eth(&f, 0x0800);
	put_ip4(&f, 5, 20 + 24, 0, 47); /* GRE */
	put_payload(&f, 24);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 4);
	assert_int_equal(p.l4proto, 47);
	assert_int_equal(p.l4, 0);
	assert_int_equal(p.flags, 0);
	assert_int_equal(p.l4_len, 24);
	assert_int_equal(p.payload_len, 24);
}

static void test_non_ip(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_eth(&f, 0x0806); /* ARP */
	put_fill(&f, 28, 0);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 0);
	assert_int_equal(p.l4, 0);

	/* short Ethernet header */
	assert_int_equal(pv_decode(PV_LINK_ETHERNET, f.b, 13, 13, &p), PV_DEC_TRUNCATED);
	assert_int_equal(pv_decode(PV_LINK_ETHERNET, f.b, 0, 0, &p), PV_DEC_TRUNCATED);
	assert_int_equal(pv_decode(PV_LINK_ETHERNET, NULL, 0, 0, &p), PV_DEC_TRUNCATED);
}

/* ---- VLAN ---- */

static void test_vlan_single(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_eth(&f, 0x8100);
	put_tag(&f, 100, 0x0800);
	put_ip4(&f, 5, 20 + 8, 0, 17);
	put_udp(&f, 7, 9, 8);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.flags, PV_PKT_VLAN | PV_PKT_PORTS);
	assert_int_equal(p.vlan_depth, 1);
	assert_int_equal(p.vlan_id[0], 100);
	assert_int_equal(p.vlan_id[1], 0);
	assert_ptr_equal(p.l3_ptr, f.b + 18);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(p.payload_cap, 0);
	check_cuts(PV_LINK_ETHERNET, &f, 38, 46, f.n, 4);
}

static void build_qinq6(struct frame *f)
{
	f->n = 0;
	put_eth(f, 0x88a8);
	put_tag(f, 4094, 0x8100);
	put_tag(f, 1, 0x86dd);
	put_ip6(f, 8 + 3, 17);
	put_udp(f, 53, 33333, 8 + 3);
	put_payload(f, 3);
}

static void test_vlan_qinq(void **state)
{
	struct frame f;
	struct pv_pkt p;

	(void)state;
	build_qinq6(&f);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.flags, PV_PKT_VLAN | PV_PKT_PORTS);
	assert_int_equal(p.vlan_depth, 2);
	assert_int_equal(p.vlan_id[0], 4094);
	assert_int_equal(p.vlan_id[1], 1);
	assert_int_equal(p.l3, 6);
	assert_ptr_equal(p.l3_ptr, f.b + 22);
	assert_int_equal(p.sport, 53);
	assert_int_equal(p.dport, 33333);
	assert_int_equal(p.ip_len, 40 + 11);
	assert_int_equal(p.payload_len, 3);
	assert_v6_addrs(&p);
	check_cuts(PV_LINK_ETHERNET, &f, 62, 70, f.n, 6);
}

static void test_vlan_deep(void **state)
{
	struct frame f;
	struct pv_pkt p;

	(void)state;
	/* 8 tags: decoded, the first two recorded. */
	f.n = 0;
	put_eth(&f, 0x88a8);
	for (unsigned i = 0; i < 7; i++)
		put_tag(&f, 10 + i, 0x8100);
	put_tag(&f, 17, 0x0800);
	put_ip4(&f, 5, 28, 0, 17);
	put_udp(&f, 1, 2, 8);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.vlan_depth, 8);
	assert_int_equal(p.vlan_id[0], 10);
	assert_int_equal(p.vlan_id[1], 11);
	assert_int_equal(p.l4, 1);
	assert_ptr_equal(p.l3_ptr, f.b + 14 + 8 * 4);
	check_cuts(PV_LINK_ETHERNET, &f, 14 + 32 + 20, 14 + 32 + 28, f.n, 4);

	/* 9 tags: malformed. */
	f.n = 0;
	put_eth(&f, 0x8100);
	for (unsigned i = 0; i < 8; i++)
		put_tag(&f, 10 + i, 0x8100);
	put_tag(&f, 18, 0x0800);
	put_ip4(&f, 5, 28, 0, 17);
	put_udp(&f, 1, 2, 8);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_MALFORMED);
	assert_int_equal(p.l3, 0);

	/* A tagged ARP frame is still not an error. */
	f.n = 0;
	put_eth(&f, 0x8100);
	put_tag(&f, 5, 0x0806);
	put_fill(&f, 28, 0);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.vlan_depth, 1);
	assert_int_equal(p.l3, 0);
}

/* ---- IPv6 ---- */

static void test_eth_ipv6_udp(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_eth(&f, 0x86dd);
	put_ip6(&f, 8 + 30, 17);
	put_udp(&f, 40001, 53, 38);
	put_payload(&f, 30);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 6);
	assert_ptr_equal(p.l3_ptr, f.b + 14);
	assert_int_equal(p.l4proto, PV_IPPROTO_UDP);
	assert_int_equal(p.l4, 1);
	assert_int_equal(p.flags, PV_PKT_PORTS);
	assert_int_equal(p.sport, 40001);
	assert_int_equal(p.dport, 53);
	assert_v6_addrs(&p);
	assert_int_equal(p.ip_len, 78);
	assert_int_equal(p.l4_len, 38);
	assert_int_equal(p.payload_len, 30);
	assert_ptr_equal(p.payload, f.b + 62);
	assert_int_equal(p.payload_cap, 30);
	check_cuts(PV_LINK_ETHERNET, &f, 54, 62, f.n, 6);
}

static void test_ipv6_icmpv6(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_ip6(&f, 8 + 16, 58);
	put_icmp(&f, 128, 0);
	put_payload(&f, 16);
	assert_int_equal(decode(PV_LINK_IPV6, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l4proto, PV_IPPROTO_ICMPV6);
	assert_int_equal(p.l4, 1);
	assert_int_equal(p.flags, 0);
	assert_int_equal(p.ip_len, 64);
	assert_int_equal(p.payload_len, 16);
	check_cuts(PV_LINK_IPV6, &f, 40, 48, f.n, 6);
}

/* Hop-by-hop (8) + destination options (16) + fragment (8, first) + UDP. */
static void build_ipv6_chain(struct frame *f)
{
	f->n = 0;
	put_eth(f, 0x86dd);
	put_ip6(f, 8 + 16 + 8 + 8 + 20, 0);
	put_ext6(f, 60, 0);
	put_ext6(f, 44, 1);
	put_frag6(f, 17, 0, 1);
	put_udp(f, 1111, 2222, 500);
	put_payload(f, 20);
}

static void test_ipv6_ext_chain(void **state)
{
	struct frame f;
	struct pv_pkt p;

	(void)state;
	build_ipv6_chain(&f);
	assert_int_equal(decode(PV_LINK_ETHERNET, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 6);
	assert_int_equal(p.l4proto, PV_IPPROTO_UDP);
	assert_int_equal(p.l4, 1);
	assert_int_equal(p.flags, PV_PKT_FRAG | PV_PKT_FRAG_FIRST | PV_PKT_PORTS);
	assert_int_equal(p.sport, 1111);
	assert_int_equal(p.dport, 2222);
	assert_int_equal(p.ip_len, 40 + 60);
	assert_int_equal(p.l4_len, 28);
	assert_int_equal(p.payload_len, 20);
	assert_ptr_equal(p.payload, f.b + 14 + 40 + 32 + 8);
	assert_int_equal(p.payload_cap, 20);
	check_cuts(PV_LINK_ETHERNET, &f, 54, 94, f.n, 6);
}

/* Routing (24) + AH (len 4: 24 bytes) + TCP (doff 5). */
static void test_ipv6_routing_ah(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_ip6(&f, 24 + 24 + 20 + 7, 43);
	put_ext6(&f, 51, 2);
	put_ah(&f, 6, 4);
	put_tcp(&f, 22, 60000, 5, PV_TCP_ACK | PV_TCP_FIN);
	put_payload(&f, 7);
	assert_int_equal(f.n, 40 + 24 + 24 + 20 + 7);
	assert_int_equal(decode(PV_LINK_IPV6, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l4proto, PV_IPPROTO_TCP);
	assert_int_equal(p.l4, 1);
	assert_int_equal(p.tcp_flags, PV_TCP_ACK | PV_TCP_FIN);
	assert_int_equal(p.l4_len, 27);
	assert_int_equal(p.payload_len, 7);
	check_cuts(PV_LINK_IPV6, &f, 40, 108, f.n, 6);
}

static void test_ipv6_frag_later(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_ip6(&f, 8 + 48, 44);
	put_frag6(&f, 6, 185, 1);
	put_payload(&f, 48);
	assert_int_equal(decode(PV_LINK_IPV6, &f, &p), PV_DEC_OK);
	assert_int_equal(p.flags, PV_PKT_FRAG);
	assert_int_equal(p.l3, 6);
	assert_int_equal(p.l4, 0);
	assert_int_equal(p.l4proto, PV_IPPROTO_TCP);
	assert_int_equal(p.ip_len, 96);
	assert_int_equal(p.l4_len, 48);
	assert_int_equal(p.payload_len, 48);
}

static void test_ipv6_esp_none(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_ip6(&f, 8 + 36, 60);
	put_ext6(&f, 50, 0);
	put_payload(&f, 36);
	assert_int_equal(decode(PV_LINK_IPV6, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l4proto, 50);
	assert_int_equal(p.l4, 0);
	assert_int_equal(p.l4_len, 36);
	assert_int_equal(p.payload_len, 36);

	f.n = 0;
	put_ip6(&f, 8, 0);
	put_ext6(&f, 59, 0);
	assert_int_equal(decode(PV_LINK_IPV6, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l4proto, 59);
	assert_int_equal(p.l4, 0);
	assert_int_equal(p.ip_len, 48);
	assert_int_equal(p.payload_len, 0);
}

static void test_ipv6_malformed(void **state)
{
	struct frame f;
	struct pv_pkt p;

	(void)state;
	/* 16 destination-options headers: the most we walk. */
	f.n = 0;
	put_ip6(&f, 16 * 8 + 8, 60);
	for (unsigned i = 0; i < 15; i++)
		put_ext6(&f, 60, 0);
	put_ext6(&f, 17, 0);
	put_udp(&f, 1, 2, 8);
	assert_int_equal(decode(PV_LINK_IPV6, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l4, 1);
	assert_int_equal(p.payload_len, 0);

	/* 17: malformed. */
	f.n = 0;
	put_ip6(&f, 17 * 8 + 8, 60);
	for (unsigned i = 0; i < 16; i++)
		put_ext6(&f, 60, 0);
	put_ext6(&f, 17, 0);
	put_udp(&f, 1, 2, 8);
	assert_int_equal(decode(PV_LINK_IPV6, &f, &p), PV_DEC_MALFORMED);
	assert_int_equal(p.l3, 6);
	assert_int_equal(p.l4, 0);

	/* Extension header longer than the payload length. */
	f.n = 0;
	put_ip6(&f, 16, 0);
	put_ext6(&f, 17, 2); /* 24 bytes */
	assert_int_equal(decode(PV_LINK_IPV6, &f, &p), PV_DEC_MALFORMED);

	/* Payload length 4 with a UDP next header. */
	f.n = 0;
	put_ip6(&f, 4, 17);
	put_udp(&f, 1, 2, 8);
	assert_int_equal(decode(PV_LINK_IPV6, &f, &p), PV_DEC_MALFORMED);
	assert_int_equal(p.payload_len, 0);

	/* Version 4 on an IPv6 link; version 6 on an IPv4 link. */
	build_eth_udp4(&f);
	assert_int_equal(
	    pv_decode(PV_LINK_IPV6, f.b + 14, (uint32_t)f.n - 14, (uint32_t)f.n - 14, &p),
	    PV_DEC_MALFORMED);
	f.n = 0;
	put_ip6(&f, 8, 17);
	put_udp(&f, 1, 2, 8);
	assert_int_equal(decode(PV_LINK_IPV4, &f, &p), PV_DEC_MALFORMED);
}

/* Payload length 0 with hop-by-hop: a jumbogram, the capture stands in. */
static void test_ipv6_jumbo(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_ip6(&f, 0, 0);
	put_ext6(&f, 17, 0);
	put_udp(&f, 9, 10, 0);
	put_payload(&f, 12);
	assert_int_equal(decode(PV_LINK_IPV6, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l4, 1);
	assert_int_equal(p.ip_len, f.n);
	assert_int_equal(p.payload_len, 12);
	assert_int_equal(p.payload_cap, 12);
}

/* ---- cooked, raw, loopback links ---- */

static void build_sll6(struct frame *f)
{
	f->n = 0;
	put_sll(f, 0x86dd);
	put_ip6(f, 20 + 9, 6);
	put_tcp(f, 53, 1053, 5, PV_TCP_ACK);
	put_payload(f, 9);
}

static void test_sll_ipv6(void **state)
{
	struct frame f;
	struct pv_pkt p;

	(void)state;
	build_sll6(&f);
	assert_int_equal(decode(PV_LINK_SLL, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 6);
	assert_ptr_equal(p.l3_ptr, f.b + 16);
	assert_int_equal(p.l4proto, PV_IPPROTO_TCP);
	assert_int_equal(p.l4, 1);
	assert_int_equal(p.sport, 53);
	assert_int_equal(p.dport, 1053);
	assert_int_equal(p.tcp_flags, PV_TCP_ACK);
	assert_int_equal(p.ip_len, 69);
	assert_int_equal(p.payload_len, 9);
	assert_v6_addrs(&p);
	check_cuts(PV_LINK_SLL, &f, 56, 76, f.n, 6);
}

static void test_sll_ipv4(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_sll(&f, 0x0800);
	put_ip4(&f, 5, 30, 0, 17);
	put_udp(&f, 3, 4, 10);
	put_payload(&f, 2);
	assert_int_equal(decode(PV_LINK_SLL, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 4);
	assert_int_equal(p.payload_len, 2);
	check_cuts(PV_LINK_SLL, &f, 36, 44, f.n, 4);
}

static void test_sll2_ipv6(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_sll2(&f, 0x86dd);
	put_ip6(&f, 8 + 100, 17);
	put_udp(&f, 53, 2000, 108);
	put_payload(&f, 100);
	assert_int_equal(decode(PV_LINK_SLL2, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 6);
	assert_ptr_equal(p.l3_ptr, f.b + 20);
	assert_int_equal(p.sport, 53);
	assert_int_equal(p.dport, 2000);
	assert_int_equal(p.ip_len, 148);
	assert_int_equal(p.payload_len, 100);
	assert_v6_addrs(&p);
	check_cuts(PV_LINK_SLL2, &f, 60, 68, f.n, 6);

	/* Non-IP protocol on SLL2. */
	f.n = 0;
	put_sll2(&f, 0x0806);
	put_fill(&f, 28, 0);
	assert_int_equal(decode(PV_LINK_SLL2, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 0);
}

static void test_raw(void **state)
{
	struct frame f = {.n = 0};
	struct pv_pkt p;

	(void)state;
	put_ip4(&f, 5, 28, 0, 17);
	put_udp(&f, 1, 2, 8);
	assert_int_equal(decode(PV_LINK_RAW, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 4);
	assert_ptr_equal(p.l3_ptr, f.b);
	assert_int_equal(decode(PV_LINK_IPV4, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 4);
	check_cuts(PV_LINK_RAW, &f, 20, 28, f.n, 4);
	check_cuts(PV_LINK_IPV4, &f, 20, 28, f.n, 4);

	f.n = 0;
	put_ip6(&f, 8, 17);
	put_udp(&f, 1, 2, 8);
	assert_int_equal(decode(PV_LINK_RAW, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 6);
	check_cuts(PV_LINK_RAW, &f, 40, 48, f.n, 6);

	/* version nibble 5 */
	f.b[0] = 0x50;
	assert_int_equal(decode(PV_LINK_RAW, &f, &p), PV_DEC_MALFORMED);
	assert_int_equal(p.l3, 0);
	assert_int_equal(pv_decode(PV_LINK_RAW, f.b, 1, 1, &p), PV_DEC_MALFORMED);
}

static void put_af_le(struct frame *f, uint32_t af)
{
	put8(f, af & 0xff);
	put8(f, (af >> 8) & 0xff);
	put8(f, (af >> 16) & 0xff);
	put8(f, af >> 24);
}

static void test_null_loop(void **state)
{
	static const uint32_t v6[] = {24, 28, 30};
	struct frame f;
	struct pv_pkt p;

	(void)state;
	/* AF_INET little endian (a little-endian capturing host) */
	f.n = 0;
	put_af_le(&f, 2);
	put_ip4(&f, 5, 28, 0, 17);
	put_udp(&f, 1, 2, 8);
	assert_int_equal(decode(PV_LINK_NULL, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 4);
	assert_ptr_equal(p.l3_ptr, f.b + 4);
	check_cuts(PV_LINK_NULL, &f, 24, 32, f.n, 4);

	/* AF_INET big endian (capturing host of the other byte order) */
	f.n = 0;
	put32(&f, 2);
	put_ip4(&f, 5, 28, 0, 17);
	put_udp(&f, 1, 2, 8);
	assert_int_equal(decode(PV_LINK_NULL, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 4);

	/* LOOP is network order. */
	assert_int_equal(decode(PV_LINK_LOOP, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 4);
	check_cuts(PV_LINK_LOOP, &f, 24, 32, f.n, 4);

	for (unsigned i = 0; i < 3; i++) {
		f.n = 0;
		put_af_le(&f, v6[i]);
		put_ip6(&f, 8, 17);
		put_udp(&f, 1, 2, 8);
		assert_int_equal(decode(PV_LINK_NULL, &f, &p), PV_DEC_OK);
		assert_int_equal(p.l3, 6);
		assert_int_equal(p.l4, 1);

		f.n = 0;
		put32(&f, v6[i]);
		put_ip6(&f, 8, 17);
		put_udp(&f, 1, 2, 8);
		assert_int_equal(decode(PV_LINK_NULL, &f, &p), PV_DEC_OK);
		assert_int_equal(p.l3, 6);
		assert_int_equal(decode(PV_LINK_LOOP, &f, &p), PV_DEC_OK);
		assert_int_equal(p.l3, 6);
	}

	/* Unknown family: not IP, not an error. */
	f.n = 0;
	put_af_le(&f, 7);
	put_fill(&f, 20, 0x45);
	assert_int_equal(decode(PV_LINK_NULL, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 0);
	assert_int_equal(pv_decode(PV_LINK_NULL, f.b, 3, 3, &p), PV_DEC_TRUNCATED);
}

static void test_linktypes(void **state)
{
	static const int ok[] = {0, 1, 101, 108, 113, 228, 229, 276};
	struct frame f;
	struct pv_pkt p;

	(void)state;
	for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_true(pv_linktype_supported(ok[i]));
	assert_false(pv_linktype_supported(105)); /* 802.11 */
	assert_false(pv_linktype_supported(-1));
	assert_false(pv_linktype_supported(2));
	build_eth_udp4(&f);
	assert_int_not_equal(decode(105, &f, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 0);
}

static void test_decode_ip(void **state)
{
	struct frame f;
	struct pv_pkt p;

	(void)state;
	build_eth_udp4(&f);
	memset(&p, 0xff, sizeof(p));
	assert_int_equal(pv_decode_ip(f.b + 14, (uint32_t)f.n - 14, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 4);
	assert_int_equal(p.vlan_depth, 0); /* zeroed, not left over */
	assert_int_equal(p.payload_len, 25);
	assert_int_equal(p.cap_len, f.n - 14);

	build_qinq6(&f);
	assert_int_equal(pv_decode_ip(f.b + 22, (uint32_t)f.n - 22, &p), PV_DEC_OK);
	assert_int_equal(p.l3, 6);
	assert_int_equal(p.vlan_depth, 0);
	assert_int_equal(p.payload_len, 3);

	assert_int_equal(pv_decode_ip(f.b, 0, &p), PV_DEC_TRUNCATED);
	assert_int_equal(pv_decode_ip(f.b + 22, 39, &p), PV_DEC_TRUNCATED);
	assert_int_equal(p.l3, 0);
	f.b[22] = 0x00;
	assert_int_equal(pv_decode_ip(f.b + 22, (uint32_t)f.n - 22, &p), PV_DEC_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eth_ipv4_udp),     cmocka_unit_test(test_eth_ipv4_tcp),
	    cmocka_unit_test(test_eth_ipv4_icmp),    cmocka_unit_test(test_ipv4_options),
	    cmocka_unit_test(test_ipv4_frag_first),  cmocka_unit_test(test_ipv4_frag_later),
	    cmocka_unit_test(test_ipv4_eth_padding), cmocka_unit_test(test_trailer_tcp),
	    cmocka_unit_test(test_ipv4_snaplen),     cmocka_unit_test(test_ipv4_malformed),
	    cmocka_unit_test(test_tcp_malformed),    cmocka_unit_test(test_udp_malformed),
	    cmocka_unit_test(test_udp_short_length), cmocka_unit_test(test_other_transport),
	    cmocka_unit_test(test_non_ip),           cmocka_unit_test(test_vlan_single),
	    cmocka_unit_test(test_vlan_qinq),        cmocka_unit_test(test_vlan_deep),
	    cmocka_unit_test(test_eth_ipv6_udp),     cmocka_unit_test(test_ipv6_icmpv6),
	    cmocka_unit_test(test_ipv6_ext_chain),   cmocka_unit_test(test_ipv6_routing_ah),
	    cmocka_unit_test(test_ipv6_frag_later),  cmocka_unit_test(test_ipv6_esp_none),
	    cmocka_unit_test(test_ipv6_malformed),   cmocka_unit_test(test_ipv6_jumbo),
	    cmocka_unit_test(test_sll_ipv6),         cmocka_unit_test(test_sll_ipv4),
	    cmocka_unit_test(test_sll2_ipv6),        cmocka_unit_test(test_raw),
	    cmocka_unit_test(test_null_loop),        cmocka_unit_test(test_linktypes),
	    cmocka_unit_test(test_decode_ip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
