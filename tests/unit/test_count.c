/*
 * Tests for per-packet accounting (sensor/count.c) against METRICS.md's
 * `packets` section: packets built by hand as the decoder would fill them
 * (sensor/decode.h), counted into a zeroed metrics block, and the whole
 * packets and capture blocks compared with what the catalog says they must
 * hold: by IP version, by transport (ICMP is also other_l4; a non-first
 * fragment still counts for its IP protocol), SYN only with a transport
 * header read, wire bytes, decode error counters, and direction: in when
 * only the destination is in the host networks, out when only the source
 * is, unknown_dir otherwise and for every packet without an IP header;
 * packets the only_hosts filter drops count in filtered alone.
 * A seeded random run checks the same rules over many mixed packets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cidr.h"
#include "lib/err.h"
#include "sensor/count.h"
#include "sensor/decode.h"
#include "shm/layout.h"
#include "shm/metrics.h"

#define IPPROTO_GRE_ 47
#define IPPROTO_SCTP_ 132

struct fx {
	struct pv_metrics *m;
	struct pv_cidr_set hn;  /* 10.0.0.0/8, 2001:db8::/32 */
	struct pv_count_ctx cc; /* host networks hn, no filters, no geo */
	struct pv_packets_block want;
	struct pv_capture_block want_cap;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char why[128];

	if (!f)
		return -1;
	f->m = calloc(1, sizeof(*f->m));
	if (!f->m) {
		free(f);
		return -1;
	}
	pv_metrics_init(f->m, 0x1234); /* as a worker does after pv_slot_begin */
	pv_cidr_set_init(&f->hn);
	if (pv_cidr_set_parse(&f->hn, "10.0.0.0/8,2001:db8::/32", why, sizeof(why)) != PV_OK) {
		free(f->m);
		free(f);
		return -1;
	}
	f->cc.hostnets = &f->hn;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	free(f->m);
	free(f);
	return 0;
}

/* An IP packet as pv_decode leaves a complete one. */
static struct pv_pkt pkt_ip(const char *src, const char *dst, uint8_t proto, uint32_t wire)
{
	struct pv_pkt p;
	int af;

	memset(&p, 0, sizeof(p));
	af = strchr(src, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(af, src, p.src) != 1 || inet_pton(af, dst, p.dst) != 1)
		fail_msg("test bug: bad address %s or %s", src, dst);
	p.l3 = af == AF_INET ? 4 : 6;
	p.l4proto = proto;
	p.l4 = 1;
	p.wire_len = wire;
	p.cap_len = wire;
	p.ip_len = wire;
	if (proto == PV_IPPROTO_TCP || proto == PV_IPPROTO_UDP) {
		p.flags |= PV_PKT_PORTS;
		p.sport = 40000;
		p.dport = 53;
	}
	return p;
}

#define PKF(n) {#n, offsetof(struct pv_packets_block, n)}
static const struct {
	const char *name;
	size_t off;
} pk_names[] = {
	PKF(total), PKF(filtered), PKF(ipv4), PKF(ipv6), PKF(tcp), PKF(udp), PKF(other_l4),
	PKF(icmp), PKF(fragments), PKF(tcp_syn), PKF(in), PKF(out), PKF(unknown_dir),
	PKF(deep_samples), PKF(bytes_total), PKF(bytes_in), PKF(bytes_out),
};

/* The packets and capture blocks hold exactly what the test expects. */
static void expect_counts(struct fx *f)
{
	const struct pv_packets_block *k = &f->m->packets;
	const struct pv_capture_block *c = &f->m->capture;

	for (size_t i = 0; i < sizeof(pk_names) / sizeof(pk_names[0]); i++) {
		uint64_t got = *(const uint64_t *)((const uint8_t *)k + pk_names[i].off);
		uint64_t want = *(const uint64_t *)((const uint8_t *)&f->want + pk_names[i].off);
		if (got != want)
			fail_msg("packets.%s = %" PRIu64 ", want %" PRIu64, pk_names[i].name, got,
				 want);
	}
	if (c->decode_truncated != f->want_cap.decode_truncated ||
	    c->decode_malformed != f->want_cap.decode_malformed)
		fail_msg("decode_errors truncated %" PRIu64 " malformed %" PRIu64
			 ", want %" PRIu64 " %" PRIu64,
			 c->decode_truncated, c->decode_malformed, f->want_cap.decode_truncated,
			 f->want_cap.decode_malformed);
	/* Nothing else in either block moves (reserved words included). */
	assert_memory_equal(k, &f->want, sizeof(*k));
	assert_memory_equal(c, &f->want_cap, sizeof(*c));
}

/* Counts p with host networks hn (and no filters). */
static void count_hn(struct fx *f, const struct pv_pkt *p, const struct pv_cidr_set *hn)
{
	struct pv_count_ctx cc = f->cc;

	cc.hostnets = hn;
	pv_count_packet(f->m, p, &cc);
}

/* Counts one packet and adds the catalog's expectation for every packet. */
static void count(struct fx *f, const struct pv_pkt *p)
{
	pv_count_packet(f->m, p, &f->cc);
	f->want.total++;
	f->want.deep_samples++;
	f->want.bytes_total += p->wire_len;
}

static void test_ipv4_udp_in(void **state)
{
	struct fx *f = *state;
	struct pv_pkt p = pkt_ip("192.0.2.1", "10.0.0.5", PV_IPPROTO_UDP, 120);

	count(f, &p);
	f->want.ipv4 = 1;
	f->want.udp = 1;
	f->want.in = 1;
	f->want.bytes_in = 120;
	expect_counts(f);
}

static void test_ipv4_udp_out(void **state)
{
	struct fx *f = *state;
	struct pv_pkt p = pkt_ip("10.255.255.255", "192.0.2.1", PV_IPPROTO_UDP, 80);

	count(f, &p);
	f->want.ipv4 = 1;
	f->want.udp = 1;
	f->want.out = 1;
	f->want.bytes_out = 80;
	expect_counts(f);
}

/* Both ends in the host networks, or neither: unknown, no in/out bytes. */
static void test_direction_unknown(void **state)
{
	struct fx *f = *state;
	struct pv_pkt both = pkt_ip("10.0.0.1", "10.1.2.3", PV_IPPROTO_UDP, 100);
	struct pv_pkt neither = pkt_ip("192.0.2.1", "198.51.100.7", PV_IPPROTO_UDP, 50);
	struct pv_pkt edge = pkt_ip("9.255.255.255", "11.0.0.0", PV_IPPROTO_UDP, 7);

	count(f, &both);
	count(f, &neither);
	count(f, &edge);
	f->want.ipv4 = 3;
	f->want.udp = 3;
	f->want.unknown_dir = 3;
	expect_counts(f);
}

/* No host networks at all (a pcap without --host-net): all unknown. */
static void test_no_host_nets(void **state)
{
	struct fx *f = *state;
	struct pv_cidr_set empty;
	struct pv_pkt a = pkt_ip("192.0.2.1", "10.0.0.5", PV_IPPROTO_UDP, 60);
	struct pv_pkt b = pkt_ip("2001:db8::1", "2001:db9::1", PV_IPPROTO_TCP, 70);

	pv_cidr_set_init(&empty);
	count_hn(f, &a, &empty);
	count_hn(f, &b, &empty);
	f->want.total = 2;
	f->want.deep_samples = 2;
	f->want.bytes_total = 130;
	f->want.ipv4 = 1;
	f->want.ipv6 = 1;
	f->want.udp = 1;
	f->want.tcp = 1;
	f->want.unknown_dir = 2;
	expect_counts(f);
}

static void test_ipv6_tcp_syn(void **state)
{
	struct fx *f = *state;
	struct pv_pkt syn = pkt_ip("2001:db9::1", "2001:db8::53", PV_IPPROTO_TCP, 94);
	struct pv_pkt synack = pkt_ip("2001:db8::53", "2001:db9::1", PV_IPPROTO_TCP, 94);
	struct pv_pkt ack = pkt_ip("2001:db9::1", "2001:db8::53", PV_IPPROTO_TCP, 86);

	syn.tcp_flags = PV_TCP_SYN;
	synack.tcp_flags = PV_TCP_SYN | PV_TCP_ACK;
	ack.tcp_flags = PV_TCP_ACK;
	count(f, &syn);
	count(f, &synack);
	count(f, &ack);
	f->want.ipv6 = 3;
	f->want.tcp = 3;
	f->want.tcp_syn = 2;
	f->want.in = 2;
	f->want.out = 1;
	f->want.bytes_in = 94 + 86;
	f->want.bytes_out = 94;
	expect_counts(f);
}

/* SYN bits are only believed from a TCP header that was fully read. */
static void test_syn_needs_header(void **state)
{
	struct fx *f = *state;
	struct pv_pkt p = pkt_ip("192.0.2.1", "10.0.0.1", PV_IPPROTO_TCP, 54);

	p.l4 = 0;
	p.flags = 0;
	p.tcp_flags = PV_TCP_SYN;
	p.err = PV_DEC_TRUNCATED;
	count(f, &p);
	f->want.ipv4 = 1;
	f->want.tcp = 1;
	f->want.in = 1;
	f->want.bytes_in = 54;
	f->want_cap.decode_truncated = 1;
	expect_counts(f);
}

/* ICMP and ICMPv6 count in icmp and in other_l4 (neither TCP nor UDP). */
static void test_icmp(void **state)
{
	struct fx *f = *state;
	struct pv_pkt v4 = pkt_ip("10.0.0.1", "192.0.2.1", PV_IPPROTO_ICMP, 98);
	struct pv_pkt v6 = pkt_ip("2001:db9::1", "2001:db8::1", PV_IPPROTO_ICMPV6, 118);

	count(f, &v4);
	count(f, &v6);
	f->want.ipv4 = 1;
	f->want.ipv6 = 1;
	f->want.icmp = 2;
	f->want.other_l4 = 2;
	f->want.out = 1;
	f->want.in = 1;
	f->want.bytes_out = 98;
	f->want.bytes_in = 118;
	expect_counts(f);
}

static void test_other_l4(void **state)
{
	struct fx *f = *state;
	struct pv_pkt gre = pkt_ip("192.0.2.1", "198.51.100.1", IPPROTO_GRE_, 200);
	struct pv_pkt sctp = pkt_ip("2001:db8::1", "2001:db8::2", IPPROTO_SCTP_, 300);
	struct pv_pkt none = pkt_ip("192.0.2.1", "198.51.100.1", 59, 20); /* no next header */

	count(f, &gre);
	count(f, &sctp);
	count(f, &none);
	f->want.ipv4 = 2;
	f->want.ipv6 = 1;
	f->want.other_l4 = 3;
	f->want.unknown_dir = 3;
	expect_counts(f);
}

/*
 * Fragments count in fragments and, by the IP protocol field, in their
 * transport: every piece of a UDP datagram is UDP (the later ones have no
 * transport header).
 */
static void test_fragments(void **state)
{
	struct fx *f = *state;
	struct pv_pkt first = pkt_ip("192.0.2.1", "10.0.0.1", PV_IPPROTO_UDP, 1514);
	struct pv_pkt later = pkt_ip("192.0.2.1", "10.0.0.1", PV_IPPROTO_UDP, 600);
	struct pv_pkt v6 = pkt_ip("2001:db8::1", "2001:db9::1", PV_IPPROTO_TCP, 1280);

	first.flags |= PV_PKT_FRAG | PV_PKT_FRAG_FIRST;
	later.flags = PV_PKT_FRAG;
	later.l4 = 0;
	v6.flags = PV_PKT_FRAG;
	v6.l4 = 0;
	v6.tcp_flags = PV_TCP_SYN; /* not believed: no header */
	count(f, &first);
	count(f, &later);
	count(f, &v6);
	f->want.ipv4 = 2;
	f->want.ipv6 = 1;
	f->want.fragments = 3;
	f->want.udp = 2;
	f->want.tcp = 1;
	f->want.in = 2;
	f->want.out = 1;
	f->want.bytes_in = 1514 + 600;
	f->want.bytes_out = 1280;
	expect_counts(f);
}

/* No IP header: total, bytes and unknown_dir only. */
static void test_non_ip(void **state)
{
	struct fx *f = *state;
	struct pv_pkt arp, junk, bad;

	memset(&arp, 0, sizeof(arp));
	arp.wire_len = 60;
	arp.cap_len = 60;
	/* Leftovers a non-IP packet must not be counted by. */
	junk = pkt_ip("192.0.2.1", "10.0.0.1", PV_IPPROTO_TCP, 42);
	junk.l3 = 0;
	junk.tcp_flags = PV_TCP_SYN;
	junk.flags |= PV_PKT_FRAG;
	junk.err = PV_DEC_TRUNCATED;
	memset(&bad, 0, sizeof(bad));
	bad.wire_len = 30;
	bad.cap_len = 30;
	bad.err = PV_DEC_MALFORMED;
	count(f, &arp);
	count(f, &junk);
	count(f, &bad);
	f->want.unknown_dir = 3;
	f->want_cap.decode_truncated = 1;
	f->want_cap.decode_malformed = 1;
	expect_counts(f);
}

/* Decode errors are counted apart, and what was decoded still counts. */
static void test_decode_errors(void **state)
{
	struct fx *f = *state;
	struct pv_pkt t = pkt_ip("192.0.2.1", "10.0.0.1", PV_IPPROTO_UDP, 1500);
	struct pv_pkt m = pkt_ip("10.0.0.1", "192.0.2.1", PV_IPPROTO_UDP, 64);
	struct pv_pkt ok = pkt_ip("10.0.0.1", "192.0.2.1", PV_IPPROTO_UDP, 64);

	t.err = PV_DEC_TRUNCATED;
	t.cap_len = 96; /* snaplen: bytes still count the wire length */
	t.l4 = 0;
	m.err = PV_DEC_MALFORMED;
	count(f, &t);
	count(f, &m);
	count(f, &ok);
	f->want.ipv4 = 3;
	f->want.udp = 3;
	f->want.in = 1;
	f->want.out = 2;
	f->want.bytes_in = 1500;
	f->want.bytes_out = 128;
	f->want_cap.decode_truncated = 1;
	f->want_cap.decode_malformed = 1;
	expect_counts(f);
}

/* IPv6 host prefixes judge IPv6 packets only, and the reverse. */
static void test_direction_families(void **state)
{
	struct fx *f = *state;
	struct pv_cidr_set hn;
	char why[64];
	struct pv_pkt mapped = pkt_ip("::ffff:192.0.2.1", "::ffff:10.0.0.1", PV_IPPROTO_UDP, 10);
	struct pv_pkt v4 = pkt_ip("192.0.2.1", "10.0.0.1", PV_IPPROTO_UDP, 20);
	struct pv_pkt v6 = pkt_ip("2001:db9::1", "2001:db8::1", PV_IPPROTO_UDP, 40);

	pv_cidr_set_init(&hn);
	assert_int_equal(pv_cidr_set_parse(&hn, "::ffff:10.0.0.0/104", why, sizeof(why)), PV_OK);
	count_hn(f, &mapped, &hn); /* in */
	count_hn(f, &v4, &hn);     /* IPv4 10.0.0.1 is not ::ffff:10.0.0.1 */
	count_hn(f, &v6, &f->hn);  /* in */
	count_hn(f, &v4, &f->hn);  /* in */
	f->want.total = 4;
	f->want.deep_samples = 4;
	f->want.bytes_total = 90;
	f->want.ipv4 = 2;
	f->want.ipv6 = 2;
	f->want.udp = 4;
	f->want.in = 3;
	f->want.unknown_dir = 1;
	f->want.bytes_in = 70;
	expect_counts(f);
	/* The helper itself, on the boundaries of the host prefix. */
	v4 = pkt_ip("10.0.0.0", "11.0.0.0", PV_IPPROTO_UDP, 1);
	assert_int_equal(pv_direction(&v4, &f->hn), PV_DIR_OUT);
	v4 = pkt_ip("9.255.255.255", "10.255.255.255", PV_IPPROTO_UDP, 1);
	assert_int_equal(pv_direction(&v4, &f->hn), PV_DIR_IN);
	v4.l3 = 0;
	assert_int_equal(pv_direction(&v4, &f->hn), PV_DIR_UNKNOWN);
}

/*
 * only_hosts: a packet with neither end in the list counts in filtered
 * only (its decode error still counts: the capture saw it); a packet
 * without an IP header cannot match and is filtered too.
 */
static void test_only_hosts_filter(void **state)
{
	struct fx *f = *state;
	struct pv_cidr_set only;
	char why[64];
	struct pv_pkt src_in = pkt_ip("192.0.2.9", "10.0.0.1", PV_IPPROTO_UDP, 100);
	struct pv_pkt dst_in = pkt_ip("10.0.0.1", "192.0.2.255", PV_IPPROTO_TCP, 60);
	struct pv_pkt neither = pkt_ip("198.51.100.1", "10.0.0.1", PV_IPPROTO_UDP, 70);
	struct pv_pkt non_ip;

	memset(&non_ip, 0, sizeof(non_ip));
	non_ip.wire_len = 42;
	non_ip.err = PV_DEC_MALFORMED;
	neither.err = PV_DEC_TRUNCATED;
	pv_cidr_set_init(&only);
	assert_int_equal(pv_cidr_set_parse(&only, "192.0.2.0/24", why, sizeof(why)), PV_OK);
	f->cc.only_hosts = &only;
	count(f, &src_in);
	count(f, &dst_in);
	pv_count_packet(f->m, &neither, &f->cc);
	pv_count_packet(f->m, &non_ip, &f->cc);
	f->want.ipv4 = 2;
	f->want.udp = 1;
	f->want.tcp = 1;
	f->want.in = 1;
	f->want.out = 1;
	f->want.bytes_in = 100;
	f->want.bytes_out = 60;
	f->want.filtered = 2;
	f->want_cap.decode_truncated = 1;
	f->want_cap.decode_malformed = 1;
	expect_counts(f);
}

/* Counters add up across packets: no counter is reset or overwritten. */
static void test_accumulates(void **state)
{
	struct fx *f = *state;
	struct pv_pkt p = pkt_ip("192.0.2.1", "10.0.0.5", PV_IPPROTO_UDP, 1000);

	f->m->packets.total = UINT32_MAX;
	f->m->packets.bytes_total = 1ull << 40;
	f->want.total = UINT32_MAX;
	f->want.bytes_total = 1ull << 40;
	for (int i = 0; i < 1000; i++)
		count(f, &p);
	f->want.ipv4 = 1000;
	f->want.udp = 1000;
	f->want.in = 1000;
	f->want.bytes_in = 1000000;
	expect_counts(f);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Many random packets, checked against the catalog's rules one by one. */
static void test_random_mix(void **state)
{
	struct fx *f = *state;
	static const char *const v4[] = {"10.0.0.1", "10.200.0.9", "192.0.2.1", "198.51.100.2"};
	static const char *const v6[] = {"2001:db8::1", "2001:db8:ffff::2", "2001:db9::1",
					 "fe80::1"};
	static const uint8_t protos[] = {PV_IPPROTO_TCP, PV_IPPROTO_UDP, PV_IPPROTO_ICMP,
					 PV_IPPROTO_ICMPV6, IPPROTO_GRE_, 0};
	uint64_t s = 0x1234567887654321ull;

	for (int i = 0; i < 20000; i++) {
		uint64_t r = xorshift(&s);
		uint32_t kind = r % 3, si = (r >> 4) % 4, di = (r >> 8) % 4;
		uint8_t proto = protos[(r >> 12) % 6];
		uint32_t wire = 20 + (uint32_t)((r >> 16) % 1500);
		struct pv_pkt p;
		bool sin, din;

		if (kind == 2) {
			memset(&p, 0, sizeof(p));
			p.wire_len = wire;
			p.cap_len = wire;
		} else {
			p = pkt_ip(kind ? v6[si] : v4[si], kind ? v6[di] : v4[di], proto, wire);
		}
		p.err = (uint8_t)((r >> 32) % 3);
		if ((r >> 34) & 1)
			p.flags |= PV_PKT_FRAG;
		p.l4 = (uint8_t)((r >> 35) & 1);
		p.tcp_flags = (uint8_t)(r >> 40);
		count(f, &p);

		if (p.err == PV_DEC_TRUNCATED)
			f->want_cap.decode_truncated++;
		if (p.err == PV_DEC_MALFORMED)
			f->want_cap.decode_malformed++;
		if (kind == 2) {
			f->want.unknown_dir++;
			continue;
		}
		if (kind == 0)
			f->want.ipv4++;
		else
			f->want.ipv6++;
		if (p.flags & PV_PKT_FRAG)
			f->want.fragments++;
		if (proto == PV_IPPROTO_TCP) {
			f->want.tcp++;
			if (p.l4 && (p.tcp_flags & PV_TCP_SYN))
				f->want.tcp_syn++;
		} else if (proto == PV_IPPROTO_UDP) {
			f->want.udp++;
		} else {
			f->want.other_l4++;
			if (proto == PV_IPPROTO_ICMP || proto == PV_IPPROTO_ICMPV6)
				f->want.icmp++;
		}
		/* Host nets: 10/8 and 2001:db8::/32 = the first two of each list. */
		sin = si < 2;
		din = di < 2;
		if (din && !sin) {
			f->want.in++;
			f->want.bytes_in += wire;
		} else if (sin && !din) {
			f->want.out++;
			f->want.bytes_out += wire;
		} else {
			f->want.unknown_dir++;
		}
	}
	expect_counts(f);
	/* The catalog's identities. */
	assert_int_equal(f->m->packets.in + f->m->packets.out + f->m->packets.unknown_dir,
			 f->m->packets.total);
	assert_int_equal(f->m->packets.tcp + f->m->packets.udp + f->m->packets.other_l4,
			 f->m->packets.ipv4 + f->m->packets.ipv6);
	assert_true(f->m->packets.bytes_in + f->m->packets.bytes_out <= f->m->packets.bytes_total);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_ipv4_udp_in),
		T(test_ipv4_udp_out),
		T(test_direction_unknown),
		T(test_no_host_nets),
		T(test_ipv6_tcp_syn),
		T(test_syn_needs_header),
		T(test_icmp),
		T(test_other_l4),
		T(test_fragments),
		T(test_non_ip),
		T(test_decode_errors),
		T(test_direction_families),
		T(test_only_hosts_filter),
		T(test_accumulates),
		T(test_random_mix),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
