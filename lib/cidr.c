#include "lib/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"

void pv_cidr_set_init(struct pv_cidr_set *s)
{
	memset(s, 0, sizeof(*s));
}

static uint64_t mask64(unsigned bits)
{
	if (bits == 0)
		return 0;
	if (bits >= 64)
		return UINT64_MAX;
	return UINT64_MAX << (64 - bits);
}

int pv_cidr_set_add(struct pv_cidr_set *s, int af, const uint8_t *addr, unsigned plen)
{
	if (af == 4) {
		uint32_t m, v;
		if (plen > 32 || s->n4 >= PV_CIDR_MAX)
			return PV_ECONFIG;
		m = plen ? UINT32_MAX << (32 - plen) : 0;
		v = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 | (uint32_t)addr[2] << 8 |
		    addr[3];
		s->v4_mask[s->n4] = m;
		s->v4_net[s->n4] = v & m;
		s->n4++;
		return PV_OK;
	}
	if (af == 6) {
		uint64_t mh, ml;
		if (plen > 128 || s->n6 >= PV_CIDR_MAX)
			return PV_ECONFIG;
		mh = mask64(plen);
		ml = plen > 64 ? mask64(plen - 64) : 0;
		s->v6_mask[s->n6][0] = mh;
		s->v6_mask[s->n6][1] = ml;
		s->v6_net[s->n6][0] = pv_cidr_be64(addr) & mh;
		s->v6_net[s->n6][1] = pv_cidr_be64(addr + 8) & ml;
		s->n6++;
		return PV_OK;
	}
	return PV_ECONFIG;
}

static int parse_one(struct pv_cidr_set *s, const char *item)
{
	char buf[64];
	uint8_t addr[16];
	char *slash, *end;
	unsigned long plen;
	int af;

	if (strlen(item) >= sizeof(buf) || item[0] == 0)
		return PV_ECONFIG;
	strcpy(buf, item);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	if (inet_pton(AF_INET, buf, addr) == 1)
		af = 4;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		af = 6;
	else
		return PV_ECONFIG;
	plen = af == 4 ? 32 : 128;
	if (slash) {
		if (*slash < '0' || *slash > '9')
			return PV_ECONFIG;
		plen = strtoul(slash, &end, 10);
		if (*end || plen > (af == 4 ? 32u : 128u))
			return PV_ECONFIG;
	}
	return pv_cidr_set_add(s, af, addr, (unsigned)plen);
}

int pv_cidr_set_parse(struct pv_cidr_set *s, const char *list, char *why, size_t why_len)
{
	const char *p = list;

	/* An empty list is an empty set; "a," is an empty item like ",a". */
	if (!list || !*list)
		return PV_OK;
	while (p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char item[64];

		if (n == 0 || n >= sizeof(item)) {
			snprintf(why, why_len, "empty or over-long item in host network list '%s'",
				 list);
			return PV_ECONFIG;
		}
		memcpy(item, p, n);
		item[n] = 0;
		if (parse_one(s, item) != PV_OK) {
			snprintf(why, why_len,
				 "'%s' is not an IPv4/IPv6 address or prefix (or more than %d)",
				 item, PV_CIDR_MAX);
			return PV_ECONFIG;
		}
		p = comma ? comma + 1 : NULL;
	}
	return PV_OK;
}
