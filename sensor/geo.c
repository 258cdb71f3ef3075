#include "sensor/geo.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lib/err.h"

static int open_one(MMDB_s *db, const char *path, const char *what, char *why, size_t why_len)
{
	int rc = MMDB_open(path, MMDB_MODE_MMAP, db);

	if (rc != MMDB_SUCCESS) {
		snprintf(why, why_len, "cannot open the %s database %s: %s%s%s", what, path,
			 MMDB_strerror(rc), rc == MMDB_IO_ERROR ? ": " : "",
			 rc == MMDB_IO_ERROR ? strerror(errno) : "");
		return PV_ECONFIG;
	}
	return PV_OK;
}

int pv_geo_open(struct pv_geo *g, const char *city_path, const char *asn_path, char *why,
		size_t why_len)
{
	memset(g, 0, sizeof(*g));
	if (city_path) {
		if (open_one(&g->city, city_path, "GeoIP city", why, why_len) != PV_OK)
			return PV_ECONFIG;
		g->have_city = true;
	}
	if (asn_path) {
		if (open_one(&g->asn, asn_path, "ASN", why, why_len) != PV_OK) {
			pv_geo_close(g);
			return PV_ECONFIG;
		}
		g->have_asn = true;
	}
	return PV_OK;
}

void pv_geo_close(struct pv_geo *g)
{
	if (g->have_city)
		MMDB_close(&g->city);
	if (g->have_asn)
		MMDB_close(&g->asn);
	memset(g, 0, sizeof(*g));
}

static MMDB_lookup_result_s lookup(const MMDB_s *db, int af, const uint8_t *addr)
{
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
	int mmdb_err = 0;

	if (af == 4) {
		memset(&in4, 0, sizeof(in4));
		in4.sin_family = AF_INET;
		memcpy(&in4.sin_addr, addr, 4);
		return MMDB_lookup_sockaddr((MMDB_s *)db, (struct sockaddr *)&in4, &mmdb_err);
	}
	memset(&in6, 0, sizeof(in6));
	in6.sin6_family = AF_INET6;
	memcpy(&in6.sin6_addr, addr, 16);
	return MMDB_lookup_sockaddr((MMDB_s *)db, (struct sockaddr *)&in6, &mmdb_err);
}

/* Appends "/<string at path>" (or the bare string if first) when present. */
static size_t append_str(MMDB_entry_s *e, char *buf, size_t len, size_t off, const char *const *path)
{
	MMDB_entry_data_s d;

	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size == 0)
		return off;
	if (off > 0 && off + 1 < len)
		buf[off++] = '/';
	for (uint32_t i = 0; i < d.data_size && off + 1 < len; i++) {
		char ch = d.utf8_string[i];
		/* '/' separates the parts; control bytes never reach a name. */
		buf[off++] = (ch == '/' || (unsigned char)ch < 0x20) ? '_' : ch;
	}
	buf[off] = 0;
	return off;
}

size_t pv_geo_city_name(const struct pv_geo *g, int af, const uint8_t *addr, char *buf, size_t len)
{
	static const char *const continent[] = {"continent", "code", NULL};
	static const char *const country[] = {"country", "iso_code", NULL};
	static const char *const subdiv[] = {"subdivisions", "0", "iso_code", NULL};
	static const char *const city[] = {"city", "names", "en", NULL};
	MMDB_lookup_result_s r;
	size_t off = 0;

	buf[0] = 0;
	if (!g->have_city || len < 2)
		return 0;
	r = lookup(&g->city, af, addr);
	if (!r.found_entry)
		return 0;
	off = append_str(&r.entry, buf, len, off, continent);
	off = append_str(&r.entry, buf, len, off, country);
	off = append_str(&r.entry, buf, len, off, subdiv);
	off = append_str(&r.entry, buf, len, off, city);
	return off;
}

size_t pv_geo_asn_name(const struct pv_geo *g, int af, const uint8_t *addr, char *buf, size_t len)
{
	static const char *const num[] = {"autonomous_system_number", NULL};
	static const char *const org[] = {"autonomous_system_organization", NULL};
	MMDB_lookup_result_s r;
	MMDB_entry_data_s d;
	int n;

	buf[0] = 0;
	if (!g->have_asn || len < 2)
		return 0;
	r = lookup(&g->asn, af, addr);
	if (!r.found_entry || MMDB_aget_value(&r.entry, &d, num) != MMDB_SUCCESS || !d.has_data)
		return 0;
	if (d.type == MMDB_DATA_TYPE_UINT32)
		n = snprintf(buf, len, "%u", d.uint32);
	else if (d.type == MMDB_DATA_TYPE_UINT16)
		n = snprintf(buf, len, "%u", d.uint16);
	else
		return 0;
	if (n < 0 || (size_t)n >= len)
		return 0;
	return append_str(&r.entry, buf, len, (size_t)n, org);
}

int pv_geo_cache_init(struct pv_geo_cache *c, const struct pv_geo *g, uint32_t entries)
{
	uint32_t n = 1;

	while (n < entries && n < (1u << 24))
		n <<= 1;
	memset(c, 0, sizeof(*c));
	c->e = calloc(n, sizeof(*c->e));
	if (!c->e)
		return -ENOMEM;
	c->g = g;
	c->mask = n - 1;
	return PV_OK;
}

void pv_geo_cache_fini(struct pv_geo_cache *c)
{
	free(c->e);
	memset(c, 0, sizeof(*c));
}

const struct pv_geo_entry *pv_geo_lookup(struct pv_geo_cache *c, int af, const uint8_t *addr)
{
	size_t alen = af == 4 ? 4 : 16;
	struct pv_geo_entry *e = &c->e[XXH3_64bits(addr, alen) & c->mask];
	size_t n;

	if (e->af == af && memcmp(e->addr, addr, alen) == 0) {
		c->hits++;
		return e;
	}
	c->misses++;
	memset(e->addr, 0, sizeof(e->addr));
	memcpy(e->addr, addr, alen);
	e->af = (uint8_t)af;
	n = pv_geo_city_name(c->g, af, addr, e->geo, sizeof(e->geo));
	e->geo_len = (uint8_t)n;
	n = pv_geo_asn_name(c->g, af, addr, e->asn, sizeof(e->asn));
	e->asn_len = (uint8_t)n;
	return e;
}
