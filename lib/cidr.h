/*
 * Sets of IPv4/IPv6 prefixes ("host networks" for direction, later handler
 * filters): parsed from "CIDR,CIDR,..." text once at start-up, matched per
 * packet with a few masked compares (no allocation, no syscalls). A bare
 * address means a host prefix (/32 or /128).
 */
#ifndef PV_CIDR_H
#define PV_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PV_CIDR_MAX 64

struct pv_cidr_set {
	uint32_t n4, n6;
	uint32_t v4_net[PV_CIDR_MAX], v4_mask[PV_CIDR_MAX]; /* host order */
	uint64_t v6_net[PV_CIDR_MAX][2], v6_mask[PV_CIDR_MAX][2];
};

void pv_cidr_set_init(struct pv_cidr_set *s);

/* Adds every prefix of a comma-separated list. Returns 0 or PV_ECONFIG with
 * the offending item in why. */
int pv_cidr_set_parse(struct pv_cidr_set *s, const char *list, char *why, size_t why_len);

/* Adds one prefix (af = 4 or 6, addr in network order). */
int pv_cidr_set_add(struct pv_cidr_set *s, int af, const uint8_t *addr, unsigned plen);

static inline bool pv_cidr_match4(const struct pv_cidr_set *s, const uint8_t a[4])
{
	uint32_t v;

	memcpy(&v, a, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
#endif

	for (uint32_t i = 0; i < s->n4; i++)
		if ((v & s->v4_mask[i]) == s->v4_net[i])
			return true;
	return false;
}

static inline uint64_t pv_cidr_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline bool pv_cidr_match6(const struct pv_cidr_set *s, const uint8_t a[16])
{
	uint64_t hi, lo;

	if (s->n6 == 0)
		return false;
	hi = pv_cidr_be64(a);
	lo = pv_cidr_be64(a + 8);
	for (uint32_t i = 0; i < s->n6; i++)
		if ((hi & s->v6_mask[i][0]) == s->v6_net[i][0] &&
		    (lo & s->v6_mask[i][1]) == s->v6_net[i][1])
			return true;
	return false;
}

static inline bool pv_cidr_match(const struct pv_cidr_set *s, int af, const uint8_t *a)
{
	return af == 4 ? pv_cidr_match4(s, a) : pv_cidr_match6(s, a);
}

#endif
