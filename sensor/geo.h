/*
 * GeoIP and ASN lookups (libmaxminddb) for the packets section's top_geoLoc
 * and top_ASN, with a per-worker direct-mapped cache so the per-packet cost
 * is a hash and a compare on a hit.
 *
 * Ownership: the supervisor opens the databases (pv_geo_open) before fork;
 * the mapping is inherited read-only by every worker. Each worker owns its
 * cache (pv_geo_cache_init allocates it once, before the first packet); a
 * miss formats the names once and keeps them in the cache, so strings are
 * built per distinct address, not per packet.
 *
 * Names follow METRICS.md / pktvisor: geo "continent/country/subdivision/city"
 * codes as in the City DB, each missing part left out (e.g. "EU/GB/ENG/London",
 * "EU/SE"); ASN "<number>/<organization>" (just "<number>" without an
 * organization). An address the database does not know has no name.
 */
#ifndef PV_SENSOR_GEO_H
#define PV_SENSOR_GEO_H

#include <maxminddb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PV_GEO_NAME_MAX 128

struct pv_geo {
	MMDB_s city;
	MMDB_s asn;
	bool have_city, have_asn;
};

/* Opens either database (NULL path: not used). A missing or corrupt file is
 * an error with a message naming it. */
int pv_geo_open(struct pv_geo *g, const char *city_path, const char *asn_path, char *why,
		size_t why_len);
void pv_geo_close(struct pv_geo *g);

struct pv_geo_entry {
	uint8_t addr[16];
	uint8_t af;        /* 0: empty slot */
	uint8_t geo_len;   /* 0: not found */
	uint8_t asn_len;
	uint8_t reserved;
	char geo[PV_GEO_NAME_MAX];
	char asn[PV_GEO_NAME_MAX];
};

struct pv_geo_cache {
	const struct pv_geo *g;
	struct pv_geo_entry *e;
	uint32_t mask;
	uint64_t hits, misses;
};

/* entries is rounded up to a power of two. */
int pv_geo_cache_init(struct pv_geo_cache *c, const struct pv_geo *g, uint32_t entries);
void pv_geo_cache_fini(struct pv_geo_cache *c);

/* Names for an address (af 4 or 6; IPv4 in the first 4 bytes). Never NULL. */
const struct pv_geo_entry *pv_geo_lookup(struct pv_geo_cache *c, int af, const uint8_t *addr);

/* Uncached lookups formatting into buf (tests and the cache's miss path).
 * Return the name length, 0 if not found. */
size_t pv_geo_city_name(const struct pv_geo *g, int af, const uint8_t *addr, char *buf,
			size_t len);
size_t pv_geo_asn_name(const struct pv_geo *g, int af, const uint8_t *addr, char *buf,
		       size_t len);

#endif
