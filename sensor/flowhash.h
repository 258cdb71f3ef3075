/*
 * Symmetric flow hash: both directions of a flow hash alike, as the kernel's
 * PACKET_FANOUT_HASH does, so offline (--pcap) workers split a capture the
 * way live workers are fed. Fragments hash on addresses only (their later
 * pieces carry no ports). Per-packet: no allocation, no syscalls.
 */
#ifndef PV_FLOWHASH_H
#define PV_FLOWHASH_H

#include <stdint.h>
#include <string.h>
#include <xxhash.h>

#include "sensor/decode.h"

static inline uint64_t pv_flow_hash_sym(const struct pv_pkt *p, uint64_t seed)
{
	uint8_t key[40];
	unsigned alen = p->l3 == 4 ? 4 : 16;
	const uint8_t *a = p->src, *b = p->dst;
	uint16_t pa = 0, pb = 0;
	int c;

	if (!p->l3)
		return 0;
	if ((p->flags & PV_PKT_PORTS) && !(p->flags & PV_PKT_FRAG)) {
		pa = p->sport;
		pb = p->dport;
	}
	c = memcmp(a, b, alen);
	if (c > 0 || (c == 0 && pa > pb)) {
		const uint8_t *t = a;
		uint16_t tp = pa;
		a = b;
		b = t;
		pa = pb;
		pb = tp;
	}
	memcpy(key, a, alen);
	memcpy(key + alen, b, alen);
	key[2 * alen] = (p->flags & PV_PKT_FRAG) ? 0 : p->l4proto;
	key[2 * alen + 1] = (uint8_t)(pa >> 8);
	key[2 * alen + 2] = (uint8_t)pa;
	key[2 * alen + 3] = (uint8_t)(pb >> 8);
	key[2 * alen + 4] = (uint8_t)pb;
	return XXH3_64bits_withSeed(key, 2 * alen + 5, seed);
}

#endif
