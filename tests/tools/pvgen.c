/*
 * pvgen: writes a pcap of realistic mixed traffic (DNS over UDP and TCP, a
 * random-label flood, web-like TCP flows, other UDP, ICMP/ICMPv6 echo, IPv4
 * fragments, ESP, ARP, 802.1Q and QinQ tags, IPv4 and IPv6) and, next to it, a
 * JSON file with the exact answers for the metrics of METRICS.md. The answers
 * come from pvgen's own bookkeeping of what it generated, never from parsing
 * the file back, so they are an independent truth for pvisor's sketches.
 *
 * Deterministic for a seed: one xoshiro256** stream for the traffic, one for
 * the timestamps, no rand(), no clock. See docs/pvgen.md for usage and the
 * truth format.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#define SNAPLEN 65535
#define PKT_MAX 1600   /* largest frame built: 1522 (fragment + QinQ) */
#define EV_MAX 32      /* most packets one event may schedule */
#define POOL_CAP 16384 /* packets in flight (scheduled, not yet written) */
#define TOP_N 50
#define MSS 1400
#define FRAG_CHUNK 1480 /* IPv4 fragment payload, a multiple of 8 */
#define NHOSTS 512
#define NWEB 2000
#define NAMES_PER_ZONE 500
#define ETH_MIN 60 /* frames are padded to the Ethernet minimum (no FCS) */

#define EXIT_USAGE 1
#define EXIT_IO 2

/* ---------------------------------------------------------------- basics */

static void die_io(const char *what, const char *name)
{
	fprintf(stderr, "pvgen: %s %s: %s\n", what, name, strerror(errno));
	exit(EXIT_IO);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "pvgen: out of memory (%zu bytes)\n", n);
		exit(EXIT_IO);
	}
	return p;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p) {
		fprintf(stderr, "pvgen: out of memory (%zu x %zu bytes)\n", n, size);
		exit(EXIT_IO);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = xmalloc(n);
	memcpy(d, s, n);
	return d;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ------------------------------------------------------------------ PRNG */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Independent streams from one seed: the stream number is mixed in first. */
static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, n): multiply-shift, bias below 2^-32. */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi], inclusive. */
static uint32_t rng_range(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + rng_below(r, hi - lo + 1);
}

static double rng_unit(struct rng *r) { return (double)(rng_next(r) >> 11) * 0x1p-53; }

static bool rng_chance(struct rng *r, double p) { return rng_unit(r) < p; }

/* ------------------------------------------------------------------ Zipf */

struct zipf {
	uint32_t n;
	double *cdf;
};

static void zipf_init(struct zipf *z, uint32_t n, double s)
{
	double sum = 0;
	z->n = n;
	z->cdf = xmalloc(n * sizeof(*z->cdf));
	for (uint32_t i = 0; i < n; i++) {
		sum += 1.0 / pow((double)i + 1.0, s);
		z->cdf[i] = sum;
	}
	for (uint32_t i = 0; i < n; i++)
		z->cdf[i] /= sum;
}

/* Rank in [0, n), rank 0 the most frequent. */
static uint32_t zipf_draw(const struct zipf *z, struct rng *r)
{
	double u = rng_unit(r);
	uint32_t lo = 0, hi = z->n - 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (z->cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* ------------------------------------------------------------- addresses */

/* IPv4 is held IPv4-mapped (::ffff:a.b.c.d); no generated IPv6 address is. */
struct addr {
	uint8_t b[16];
};

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
static const uint8_t host6[8] = {0xfd, 0x00, 0x00, 0x01, 0, 0, 0, 0}; /* fd00:1::/64 */

static struct addr addr4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct addr x;
	memcpy(x.b, v4mapped, 12);
	x.b[12] = a;
	x.b[13] = b;
	x.b[14] = c;
	x.b[15] = d;
	return x;
}

static bool addr_is4(const struct addr *a) { return memcmp(a->b, v4mapped, 12) == 0; }

/* The generated host networks: 10.0.0.0/16 and fd00:1::/64. */
static bool addr_host(const struct addr *a)
{
	if (addr_is4(a))
		return a->b[12] == 10 && a->b[13] == 0;
	return memcmp(a->b, host6, 8) == 0;
}

static void addr_fmt(const struct addr *a, char *out, size_t cap)
{
	if (addr_is4(a))
		inet_ntop(AF_INET, a->b + 12, out, (socklen_t)cap);
	else
		inet_ntop(AF_INET6, a->b, out, (socklen_t)cap);
}

static struct addr host6_addr(uint64_t iid)
{
	struct addr x;
	memcpy(x.b, host6, 8);
	for (int i = 0; i < 8; i++)
		x.b[8 + i] = (uint8_t)(iid >> (56 - 8 * i));
	return x;
}

/* A public-looking address outside the host networks. */
static struct addr random_public(struct rng *r, bool v6)
{
	struct addr x;
	if (!v6) {
		if (rng_chance(r, 0.1)) {
			static const uint8_t doc[3][3] = {
			    {192, 0, 2}, {198, 51, 100}, {203, 0, 113}};
			const uint8_t *d = doc[rng_below(r, 3)];
			return addr4(d[0], d[1], d[2], (uint8_t)rng_range(r, 1, 254));
		}
		uint32_t o1;
		do
			o1 = rng_range(r, 1, 223);
		while (o1 == 10 || o1 == 127);
		uint32_t rest = (uint32_t)rng_next(r);
		return addr4((uint8_t)o1, (uint8_t)(rest >> 16), (uint8_t)(rest >> 8),
		             (uint8_t)(1 + rest % 254));
	}
	uint64_t hi = rng_next(r), lo = rng_next(r);
	for (int i = 0; i < 8; i++) {
		x.b[i] = (uint8_t)(hi >> (56 - 8 * i));
		x.b[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
	}
	if (rng_chance(r, 0.5)) { /* 2001:db8::/32 */
		x.b[0] = 0x20;
		x.b[1] = 0x01;
		x.b[2] = 0x0d;
		x.b[3] = 0xb8;
	} else { /* 2a00::/12 */
		x.b[0] = 0x2a;
		x.b[1] &= 0x0f;
	}
	return x;
}

/* ------------------------------------------- address map (exact counting) */

/* Open addressing, linear probing; n == 0 marks an empty slot. */
struct amap_ent {
	struct addr a;
	uint64_t n;
};

struct amap {
	struct amap_ent *t;
	size_t cap, len;
};

static uint64_t addr_hash(const struct addr *a)
{
	uint64_t x, y;
	memcpy(&x, a->b, 8);
	memcpy(&y, a->b + 8, 8);
	uint64_t h = (x * 0x9e3779b97f4a7c15ULL) ^ rotl(y * 0xc2b2ae3d27d4eb4fULL, 31);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static void amap_init(struct amap *m)
{
	m->cap = 1024;
	m->len = 0;
	m->t = xcalloc(m->cap, sizeof(*m->t));
}

static void amap_put(struct amap_ent *t, size_t cap, const struct addr *a, uint64_t n)
{
	size_t mask = cap - 1;
	for (size_t i = addr_hash(a) & mask;; i = (i + 1) & mask) {
		if (t[i].n == 0) {
			t[i].a = *a;
			t[i].n = n;
			return;
		}
	}
}

static void amap_add(struct amap *m, const struct addr *a)
{
	size_t mask = m->cap - 1;
	for (size_t i = addr_hash(a) & mask;; i = (i + 1) & mask) {
		struct amap_ent *e = &m->t[i];
		if (e->n == 0)
			break;
		if (memcmp(e->a.b, a->b, 16) == 0) {
			e->n++;
			return;
		}
	}
	if ((m->len + 1) * 10 > m->cap * 7) {
		size_t ncap = m->cap * 2;
		struct amap_ent *nt = xcalloc(ncap, sizeof(*nt));
		for (size_t i = 0; i < m->cap; i++)
			if (m->t[i].n)
				amap_put(nt, ncap, &m->t[i].a, m->t[i].n);
		free(m->t);
		m->t = nt;
		m->cap = ncap;
	}
	amap_put(m->t, m->cap, a, 1);
	m->len++;
}

static void amap_fini(struct amap *m)
{
	free(m->t);
	m->t = NULL;
}

/* ------------------------------------------------------ string counting */

/* Interned strings with a count each (qname2/qname3 of the name dictionary). */
struct strtab {
	char **s;
	uint64_t *n;
	uint32_t len, cap;
	uint32_t *idx; /* hash slots: index + 1, 0 = empty */
	uint32_t icap;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h;
}

static void strtab_init(struct strtab *t)
{
	t->len = 0;
	t->cap = 256;
	t->s = xmalloc(t->cap * sizeof(*t->s));
	t->n = xcalloc(t->cap, sizeof(*t->n));
	t->icap = 1024;
	t->idx = xcalloc(t->icap, sizeof(*t->idx));
}

static uint32_t strtab_intern(struct strtab *t, const char *s)
{
	uint32_t mask = t->icap - 1;
	uint32_t i = (uint32_t)str_hash(s) & mask;
	for (; t->idx[i]; i = (i + 1) & mask)
		if (strcmp(t->s[t->idx[i] - 1], s) == 0)
			return t->idx[i] - 1;
	if (t->len == t->cap) {
		t->cap *= 2;
		t->s = realloc(t->s, t->cap * sizeof(*t->s));
		t->n = realloc(t->n, t->cap * sizeof(*t->n));
		if (!t->s || !t->n) {
			fprintf(stderr, "pvgen: out of memory\n");
			exit(EXIT_IO);
		}
		memset(t->n + t->len, 0, (t->cap - t->len) * sizeof(*t->n));
	}
	t->s[t->len] = xstrdup(s);
	t->idx[i] = t->len + 1;
	t->len++;
	if (t->len * 2 > t->icap) {
		uint32_t ncap = t->icap * 2;
		uint32_t *ni = xcalloc(ncap, sizeof(*ni));
		for (uint32_t k = 0; k < t->len; k++) {
			uint32_t j = (uint32_t)str_hash(t->s[k]) & (ncap - 1);
			while (ni[j])
				j = (j + 1) & (ncap - 1);
			ni[j] = k + 1;
		}
		free(t->idx);
		t->idx = ni;
		t->icap = ncap;
	}
	return t->len - 1;
}

static void strtab_fini(struct strtab *t)
{
	for (uint32_t i = 0; i < t->len; i++)
		free(t->s[i]);
	free(t->s);
	free(t->n);
	free(t->idx);
}

/*
 * The random-label names are unique by construction and each is counted once
 * (query) or twice (query and reply), so for an exact top list only the
 * TOP_N smallest names of each count can ever matter: kept sorted here.
 */
#define NAME_MAX_LEN 72
struct cand {
	char name[TOP_N][NAME_MAX_LEN];
	uint32_t n;
};

static void cand_add(struct cand *c, const char *name)
{
	if (c->n == TOP_N && strcmp(name, c->name[TOP_N - 1]) >= 0)
		return;
	uint32_t pos = c->n < TOP_N ? c->n : TOP_N - 1;
	while (pos > 0 && strcmp(c->name[pos - 1], name) > 0) {
		memcpy(c->name[pos], c->name[pos - 1], NAME_MAX_LEN);
		pos--;
	}
	snprintf(c->name[pos], NAME_MAX_LEN, "%s", name);
	if (c->n < TOP_N)
		c->n++;
}

/* ------------------------------------------------------------ the packet */

struct pkt {
	uint32_t len;  /* frame length, on the wire and captured */
	uint8_t ipver; /* 0 for non-IP frames, 4 or 6 */
	uint8_t proto; /* IP protocol field (no IPv6 extension headers are built) */
	bool syn, frag;
	uint32_t payload; /* METRICS.md payload_size */
	struct addr src, dst;
	/* DNS transactions whose query / reply message this frame completes */
	uint8_t nxq, nxr;
	uint32_t xq[3], xr[3];
	uint8_t buf[PKT_MAX];
};

struct l2 {
	uint8_t ntags;
	uint16_t tpid[2], vid[2];
};

/* ----------------------------------------------------------------- truth */

struct ctr {
	uint64_t total, ipv4, ipv6, tcp, udp, other_l4, icmp, fragments, syn, in, out, unknown;
	uint64_t bytes_total, bytes_in, bytes_out;
};

enum { RT_TOTAL, RT_IN, RT_OUT, RT_N };

struct qtype_def {
	uint16_t code;
	const char *name;
	uint16_t weight;
};

static const struct qtype_def qtypes[] = {
    {1, "A", 50}, {28, "AAAA", 24}, {65, "HTTPS", 6}, {16, "TXT", 5}, {15, "MX", 4},
    {2, "NS", 3}, {12, "PTR", 3},   {33, "SRV", 2},   {6, "SOA", 2},  {65400, "65400", 1},
};
#define NQTYPES (sizeof(qtypes) / sizeof(qtypes[0]))
enum { QT_A, QT_AAAA, QT_HTTPS, QT_TXT, QT_MX, QT_NS, QT_PTR, QT_SRV, QT_SOA, QT_PRIV };

enum { RC_NOERROR = 0, RC_SERVFAIL = 2, RC_NXDOMAIN = 3, RC_REFUSED = 5 };

#define XACT_TIMEOUT_US 5000000 /* METRICS.md: the default transaction timeout */
#define MAX_DELAY 20000         /* slots between a query and its reply, at most */
#define XRING (1u << 20)        /* transaction slots, far above those in flight */

struct u64vec {
	uint64_t *v;
	size_t n, cap;
};

static void u64vec_push(struct u64vec *a, uint64_t x)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 4096;
		a->v = realloc(a->v, a->cap * sizeof(*a->v));
		if (!a->v) {
			fprintf(stderr, "pvgen: out of memory\n");
			exit(EXIT_IO);
		}
	}
	a->v[a->n++] = x;
}

/* A DNS transaction between its query's frame and its reply's frame. */
struct xslot {
	uint32_t id;
	uint8_t dir;
	bool open;
	uint64_t qts; /* microseconds since the epoch */
};

struct dns_truth {
	uint64_t total, queries, replies, udp, tcp, ipv4, ipv6;
	uint64_t noerror, nxdomain, srvfail, refused, nodata, query_ecs, edns, do_bit, truncated;
	uint64_t xact_total, xact_in, xact_out, late, unanswered;
	struct u64vec lat_in, lat_out; /* reply time - query time, microseconds */
	uint64_t *rsize;               /* histogram of reply message sizes */
	uint64_t rsize_n;
	uint64_t qtype[NQTYPES];
	uint64_t rcode[16];
	struct strtab q2, q3;
	struct cand rnd1, rnd2; /* random-label qname3 counted once / twice */
	uint64_t names_used, flood_names;
	struct amap clients;
};

struct truth {
	struct ctr all;
	struct ctr *win;
	uint64_t win0, nwin;
	uint64_t *sec[RT_N], *secb[RT_N]; /* per second of the duration: packets, bytes */
	uint64_t first_sec, last_sec;
	uint64_t *psize; /* histogram of payload_size, 0..65535 */
	uint64_t psize_n;
	struct amap top, in_src, out_dst;
	struct dns_truth dns;
};

/* ------------------------------------------------------------ generator */

enum profile { PROF_MIXED, PROF_DNS, PROF_FLOOD };

struct dname {
	char name[NAME_MAX_LEN]; /* lowercase, no trailing dot */
	uint32_t zone;
	uint32_t q2, q3; /* strtab ids; q3 UINT32_MAX when the name has no qname3 */
	bool nx;         /* a name that does not exist: always NXDOMAIN */
	bool used;
};

struct hent {
	uint64_t due, seq;
	uint32_t slot;
};

struct opts {
	const char *out, *truth;
	uint64_t packets, seed;
	uint32_t start_ts, duration, window, clients;
	enum profile profile;
	double vlan_frac, v6_frac;
};

struct gen {
	struct opts o;
	struct rng r;  /* traffic */
	struct rng rt; /* timestamps */

	/* endpoints */
	struct addr *cl4, *cl6; /* remote clients, by Zipf rank */
	struct zipf zc;
	struct addr *web4, *web6; /* remote web servers, by Zipf rank */
	struct zipf zw;
	struct addr hosts4[NHOSTS], hosts6[NHOSTS];
	struct addr esp_peers[8];
	uint32_t esp_seq[16]; /* per SPI */

	/* DNS names */
	struct dname *names;
	uint32_t nnames;
	struct zipf zn;
	uint32_t victim_q2;
	uint64_t flood_ctr;

	/* scheduling: packets in flight, written in (due, seq) order */
	struct pkt *pool;
	uint32_t *freel;
	uint32_t nfree;
	struct hent *heap;
	uint32_t nheap;
	uint64_t seq, now, flood_lo, flood_hi;
	struct xslot *xring;
	uint32_t xnext;

	/* timestamps */
	uint64_t *per_sec; /* packets planned for each second of the duration */
	uint32_t ts_sec;   /* second index of the next packet */
	uint64_t ts_k;     /* packets already placed in that second */

	uint8_t noise[4096];
	char text[4096];
	uint16_t ipid;
	struct truth t;
};

static const char *const zones[] = {
    "example.com", "test.com", "shop.example.net", "example.org", "mail.test.org", "api.example.io",
};
#define NZONES (sizeof(zones) / sizeof(zones[0]))
#define VICTIM "victim.com"

static const char *const words[] = {
    "www",  "mail", "api",  "cdn",    "static", "img",   "login",  "m",   "app",
    "ns1",  "ns2",  "smtp", "vpn",    "shop",   "blog",  "dev",    "git", "docs",
    "auth", "news", "wiki", "portal", "files",  "video", "search",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

/* pktvisor's aggregation: www.test.com -> .test.com / www.test.com. */
static void qname_parts(const char *name, char *q2, char *q3, bool *has_q3)
{
	const char *p1 = strrchr(name, '.');
	const char *p2 = NULL, *p3 = NULL;
	*has_q3 = false;
	if (p1)
		for (const char *p = p1 - 1; p >= name; p--)
			if (*p == '.') {
				p2 = p;
				break;
			}
	if (!p2) {
		snprintf(q2, NAME_MAX_LEN, "%s", name);
		return;
	}
	snprintf(q2, NAME_MAX_LEN, "%s", p2);
	for (const char *p = p2 - 1; p >= name; p--)
		if (*p == '.') {
			p3 = p;
			break;
		}
	snprintf(q3, NAME_MAX_LEN, "%s", p3 ? p3 : name);
	*has_q3 = true;
}

static void names_init(struct gen *g)
{
	g->nnames = (uint32_t)(NZONES * NAMES_PER_ZONE);
	g->names = xcalloc(g->nnames, sizeof(*g->names));
	uint32_t n = 0;
	for (uint32_t z = 0; z < NZONES; z++) {
		for (uint32_t k = 0; k < NAMES_PER_ZONE; k++) {
			struct dname *d = &g->names[n++];
			if (k == 0)
				snprintf(d->name, sizeof(d->name), "%s", zones[z]);
			else if (k <= NWORDS)
				snprintf(d->name, sizeof(d->name), "%s.%s", words[k - 1], zones[z]);
			else if (k % 3)
				snprintf(d->name, sizeof(d->name), "host%u.%s", k, zones[z]);
			else
				snprintf(d->name, sizeof(d->name), "%s.node%u.%s",
				         words[k % NWORDS], k, zones[z]);
			d->zone = z;
			d->nx = k > NWORDS && rng_chance(&g->r, 0.08);
		}
	}
	/* Popularity is not the construction order. */
	for (uint32_t i = g->nnames - 1; i > 0; i--) {
		uint32_t j = rng_below(&g->r, i + 1);
		struct dname tmp = g->names[i];
		g->names[i] = g->names[j];
		g->names[j] = tmp;
	}
	for (uint32_t i = 0; i < g->nnames; i++) {
		char q2[NAME_MAX_LEN], q3[NAME_MAX_LEN];
		bool has3;
		qname_parts(g->names[i].name, q2, q3, &has3);
		g->names[i].q2 = strtab_intern(&g->t.dns.q2, q2);
		g->names[i].q3 = has3 ? strtab_intern(&g->t.dns.q3, q3) : UINT32_MAX;
	}
	g->victim_q2 = strtab_intern(&g->t.dns.q2, "." VICTIM);
	zipf_init(&g->zn, g->nnames, 1.0);
}

static void endpoints_init(struct gen *g)
{
	uint32_t n = g->o.clients;
	g->cl4 = xmalloc(n * sizeof(*g->cl4));
	g->cl6 = xmalloc(n * sizeof(*g->cl6));
	for (uint32_t i = 0; i < n; i++) {
		g->cl4[i] = random_public(&g->r, false);
		g->cl6[i] = random_public(&g->r, true);
	}
	zipf_init(&g->zc, n, 1.0);
	g->web4 = xmalloc(NWEB * sizeof(*g->web4));
	g->web6 = xmalloc(NWEB * sizeof(*g->web6));
	for (uint32_t i = 0; i < NWEB; i++) {
		g->web4[i] = random_public(&g->r, false);
		g->web6[i] = random_public(&g->r, true);
	}
	zipf_init(&g->zw, NWEB, 1.1);
	for (uint32_t i = 0; i < NHOSTS; i++) {
		uint32_t v = rng_next(&g->r) & 0xfffff;
		g->hosts4[i] = addr4(10, 0, (uint8_t)(16 + (v >> 8) % 200), (uint8_t)(1 + v % 254));
		/* first IID group non-zero: the text form always starts "fd00:1::" */
		g->hosts6[i] = host6_addr(rng_next(&g->r) | 0x1000000000000000ULL);
	}
	for (uint32_t i = 0; i < 8; i++)
		g->esp_peers[i] = random_public(&g->r, i & 1);
	for (size_t i = 0; i < sizeof(g->noise); i++)
		g->noise[i] = (uint8_t)rng_next(&g->r);
	for (size_t i = 0; i < sizeof(g->text); i++)
		g->text[i] = "abcdefghijklmnopqrstuvwxyz0123456789 =-"[rng_below(&g->r, 39)];
}

static struct addr pick_client(struct gen *g, bool v6)
{
	uint32_t i = zipf_draw(&g->zc, &g->r);
	return v6 ? g->cl6[i] : g->cl4[i];
}

static struct addr pick_client_uniform(struct gen *g, bool v6)
{
	uint32_t i = rng_below(&g->r, g->o.clients);
	return v6 ? g->cl6[i] : g->cl4[i];
}

static struct addr pick_host(struct gen *g, bool v6)
{
	uint32_t i = rng_below(&g->r, NHOSTS);
	return v6 ? g->hosts6[i] : g->hosts4[i];
}

static struct addr pick_dns_server(struct gen *g, bool v6)
{
	switch (rng_below(&g->r, 4)) {
	case 0:
	case 1:
		return v6 ? host6_addr(0x53) : addr4(10, 0, 0, 53);
	case 2:
		return v6 ? host6_addr(0x54) : addr4(10, 0, 0, 54);
	default:
		return v6 ? host6_addr(0x10053) : addr4(10, 0, 1, 53);
	}
}

static struct addr pick_resolver(struct gen *g, bool v6)
{
	static const uint8_t r4[4][4] = {
	    {192, 0, 2, 53}, {198, 51, 100, 53}, {203, 0, 113, 53}, {9, 9, 9, 9}};
	uint32_t i = rng_below(&g->r, 4);
	if (!v6)
		return addr4(r4[i][0], r4[i][1], r4[i][2], r4[i][3]);
	struct addr x = {{0x20, 0x01, 0x0d, 0xb8}};
	x.b[5] = (uint8_t)(0x53 + i);
	x.b[15] = 0x53;
	return x;
}

static struct addr pick_web_local(struct gen *g, bool v6)
{
	uint32_t i = rng_below(&g->r, 16);
	return v6 ? host6_addr(0x800010 + i) : addr4(10, 0, 2, (uint8_t)(10 + i));
}

static struct addr pick_web_remote(struct gen *g, bool v6)
{
	uint32_t i = zipf_draw(&g->zw, &g->r);
	return v6 ? g->web6[i] : g->web4[i];
}

static void pick_l2(struct gen *g, struct l2 *l2)
{
	l2->ntags = 0;
	if (!rng_chance(&g->r, g->o.vlan_frac))
		return;
	if (rng_chance(&g->r, 0.05)) { /* QinQ: S-tag then C-tag */
		l2->ntags = 2;
		l2->tpid[0] = 0x88a8;
		l2->vid[0] = (uint16_t)rng_range(&g->r, 100, 199);
		l2->tpid[1] = 0x8100;
		l2->vid[1] = (uint16_t)rng_range(&g->r, 1, 4094);
	} else {
		l2->ntags = 1;
		l2->tpid[0] = 0x8100;
		l2->vid[0] = (uint16_t)rng_range(&g->r, 1, 4094);
	}
}

static uint16_t rand_port(struct gen *g)
{
	uint16_t p;
	do
		p = (uint16_t)rng_range(&g->r, 1024, 65535);
	while (p == 5353 || p == 5355); /* mDNS, LLMNR: keep DNS-like decoders out */
	return p;
}

/* --------------------------------------------------------- the schedule */

static bool hent_less(const struct hent *a, const struct hent *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

/* A packet to be written at slot `due` (or later, if slots are busy). */
static struct pkt *pkt_new(struct gen *g, uint64_t due)
{
	if (g->nfree == 0) {
		fprintf(stderr, "pvgen: internal error: packet pool exhausted\n");
		abort();
	}
	uint32_t slot = g->freel[--g->nfree];
	struct hent e = {due, g->seq++, slot};
	uint32_t i = g->nheap++;
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (!hent_less(&e, &g->heap[p]))
			break;
		g->heap[i] = g->heap[p];
		i = p;
	}
	g->heap[i] = e;
	struct pkt *p = &g->pool[slot];
	p->nxq = p->nxr = 0;
	return p;
}

static uint32_t heap_pop(struct gen *g)
{
	uint32_t top = g->heap[0].slot;
	struct hent last = g->heap[--g->nheap];
	uint32_t i = 0, n = g->nheap;
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && hent_less(&g->heap[c + 1], &g->heap[c]))
			c++;
		if (!hent_less(&g->heap[c], &last))
			break;
		g->heap[i] = g->heap[c];
		i = c;
	}
	if (n)
		g->heap[i] = last;
	return top;
}

/* ---------------------------------------------------------- frame build */

static uint32_t csum_acc(uint32_t s, const uint8_t *p, size_t n)
{
	while (n > 1) {
		s += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		n -= 2;
	}
	if (n)
		s += (uint32_t)p[0] << 8;
	return s;
}

static uint16_t csum_fin(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t csum_pseudo(const struct addr *src, const struct addr *dst, uint8_t proto,
                            uint32_t len)
{
	uint32_t s = 0;
	if (addr_is4(src)) {
		s = csum_acc(s, src->b + 12, 4);
		s = csum_acc(s, dst->b + 12, 4);
	} else {
		s = csum_acc(s, src->b, 16);
		s = csum_acc(s, dst->b, 16);
	}
	return s + proto + (len >> 16) + (len & 0xffff);
}

/* Transport checksum in place over a complete L4 message. */
static void l4_checksum(const struct addr *src, const struct addr *dst, uint8_t proto, uint8_t *l4,
                        size_t len)
{
	size_t off;
	uint32_t s = 0;
	switch (proto) {
	case 6:
		off = 16;
		s = csum_pseudo(src, dst, proto, (uint32_t)len);
		break;
	case 17:
		off = 6;
		s = csum_pseudo(src, dst, proto, (uint32_t)len);
		break;
	case 58:
		off = 2;
		s = csum_pseudo(src, dst, proto, (uint32_t)len);
		break;
	case 1:
		off = 2;
		break;
	default:
		return;
	}
	l4[off] = 0;
	l4[off + 1] = 0;
	uint16_t c = csum_fin(csum_acc(s, l4, len));
	if (proto == 17 && c == 0)
		c = 0xffff;
	put16(l4 + off, c);
}

static const uint8_t mac_host[6] = {0x02, 0x00, 0x0a, 0x00, 0x00, 0x01};
static const uint8_t mac_gw[6] = {0x02, 0x00, 0x0a, 0x00, 0x00, 0xfe};

static size_t put_eth(uint8_t *b, const struct l2 *l2, uint16_t ethertype, bool from_host)
{
	memcpy(b, from_host ? mac_gw : mac_host, 6);
	memcpy(b + 6, from_host ? mac_host : mac_gw, 6);
	size_t off = 12;
	for (uint8_t i = 0; i < l2->ntags; i++) {
		put16(b + off, l2->tpid[i]);
		put16(b + off + 2, l2->vid[i]);
		off += 4;
	}
	put16(b + off, ethertype);
	return off + 2;
}

static void pkt_pad(struct pkt *p, size_t len)
{
	if (len < ETH_MIN) {
		memset(p->buf + len, 0, ETH_MIN - len);
		len = ETH_MIN;
	}
	p->len = (uint32_t)len;
}

static size_t put_ipv4(struct gen *g, uint8_t *b, const struct addr *src, const struct addr *dst,
                       uint8_t proto, size_t payload_len, uint16_t frag_field, uint16_t id,
                       bool ra_option)
{
	size_t hl = ra_option ? 24 : 20;
	b[0] = (uint8_t)(0x40 | (hl / 4));
	b[1] = 0;
	put16(b + 2, (uint16_t)(hl + payload_len));
	put16(b + 4, id);
	put16(b + 6, frag_field);
	b[8] = (uint8_t)(addr_host(src) ? 64 : rng_range(&g->r, 40, 60));
	b[9] = proto;
	b[10] = b[11] = 0;
	memcpy(b + 12, src->b + 12, 4);
	memcpy(b + 16, dst->b + 12, 4);
	if (ra_option) { /* Router Alert, RFC 2113 */
		b[20] = 0x94;
		b[21] = 0x04;
		b[22] = b[23] = 0;
	}
	put16(b + 10, csum_fin(csum_acc(0, b, hl)));
	return hl;
}

/*
 * One IP packet carrying a complete transport message `l4` (whose checksum is
 * filled in here). Records the truth metadata with it.
 */
static void pkt_ip(struct gen *g, struct pkt *p, const struct l2 *l2, const struct addr *src,
                   const struct addr *dst, uint8_t proto, const uint8_t *l4, size_t l4len,
                   bool ra_option)
{
	bool v4 = addr_is4(src);
	size_t off = put_eth(p->buf, l2, v4 ? 0x0800 : 0x86dd, addr_host(src));
	size_t hl = v4 ? (ra_option ? 24 : 20) : 40;
	if (off + hl + l4len > PKT_MAX) {
		fprintf(stderr, "pvgen: internal error: frame of %zu bytes\n", off + hl + l4len);
		abort();
	}
	if (v4) {
		put_ipv4(g, p->buf + off, src, dst, proto, l4len, proto == 6 ? 0x4000 : 0,
		         g->ipid++, ra_option);
	} else {
		uint8_t *b = p->buf + off;
		uint32_t flow = rng_next(&g->r) & 0xfffff;
		put32(b, 0x60000000u | flow);
		put16(b + 4, (uint16_t)l4len);
		b[6] = proto;
		b[7] = addr_host(src) ? 64 : (uint8_t)rng_range(&g->r, 40, 60);
		memcpy(b + 8, src->b, 16);
		memcpy(b + 24, dst->b, 16);
	}
	uint8_t *t = p->buf + off + hl;
	memcpy(t, l4, l4len);
	l4_checksum(src, dst, proto, t, l4len);
	pkt_pad(p, off + hl + l4len);

	p->ipver = v4 ? 4 : 6;
	p->proto = proto;
	p->frag = false;
	p->syn = proto == 6 && (l4[13] & 0x02);
	p->src = *src;
	p->dst = *dst;
	if (proto == 6)
		p->payload = (uint32_t)(l4len - (size_t)(l4[12] >> 4) * 4);
	else if (proto == 17 || proto == 1 || proto == 58)
		p->payload = (uint32_t)(l4len - 8);
	else
		p->payload = (uint32_t)l4len;
}

/*
 * A UDP datagram too large for one frame, as IPv4 fragments scheduled at the
 * given slots (in order, or last fragment first when `reverse`).
 */
static struct pkt *pkt_frags(struct gen *g, const uint64_t *due, const struct l2 *l2,
                             const struct addr *src, const struct addr *dst, uint8_t *dgram,
                             size_t len, bool reverse)
{
	struct pkt *p = NULL;
	uint32_t nfrag = (uint32_t)((len + FRAG_CHUNK - 1) / FRAG_CHUNK);
	uint16_t id = (uint16_t)rng_next(&g->r);
	l4_checksum(src, dst, 17, dgram, len);
	for (uint32_t k = 0; k < nfrag; k++) {
		uint32_t f = reverse ? nfrag - 1 - k : k;
		size_t off = (size_t)f * FRAG_CHUNK;
		size_t clen = len - off < FRAG_CHUNK ? len - off : FRAG_CHUNK;
		bool more = f + 1 < nfrag;
		p = pkt_new(g, due[k]);
		size_t e = put_eth(p->buf, l2, 0x0800, addr_host(src));
		size_t hl = put_ipv4(g, p->buf + e, src, dst, 17, clen,
		                     (uint16_t)((more ? 0x2000 : 0) | (off / 8)), id, false);
		memcpy(p->buf + e + hl, dgram + off, clen);
		pkt_pad(p, e + hl + clen);
		p->ipver = 4;
		p->proto = 17;
		p->frag = true;
		p->syn = false;
		p->src = *src;
		p->dst = *dst;
		p->payload = (uint32_t)(f == 0 ? clen - 8 : clen);
	}
	return p; /* the last one scheduled: the frame that completes the datagram */
}

static size_t put_udp(uint8_t *b, uint16_t sport, uint16_t dport, const void *data, size_t len)
{
	put16(b, sport);
	put16(b + 2, dport);
	put16(b + 4, (uint16_t)(8 + len));
	put16(b + 6, 0);
	if (data && len)
		memcpy(b + 8, data, len);
	return 8 + len;
}

static const uint8_t *noise(struct gen *g, size_t len)
{
	if (len >= sizeof(g->noise))
		return g->noise;
	return g->noise + rng_below(&g->r, (uint32_t)(sizeof(g->noise) - len));
}

/* ------------------------------------------------------------ DNS wire */

struct wbuf {
	uint8_t *b;
	size_t len, cap;
};

static void wb_need(struct wbuf *w, size_t n)
{
	if (w->len + n > w->cap) {
		fprintf(stderr, "pvgen: internal error: DNS message overflow\n");
		abort();
	}
}

static void wb8(struct wbuf *w, uint8_t v)
{
	wb_need(w, 1);
	w->b[w->len++] = v;
}

static void wb16(struct wbuf *w, uint16_t v)
{
	wb_need(w, 2);
	put16(w->b + w->len, v);
	w->len += 2;
}

static void wb32(struct wbuf *w, uint32_t v)
{
	wb_need(w, 4);
	put32(w->b + w->len, v);
	w->len += 4;
}

static void wbmem(struct wbuf *w, const void *p, size_t n)
{
	wb_need(w, n);
	memcpy(w->b + w->len, p, n);
	w->len += n;
}

static void wb_name(struct wbuf *w, const char *name)
{
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		wb8(w, (uint8_t)l);
		wbmem(w, p, l);
		p += l;
		if (*p == '.')
			p++;
	}
	wb8(w, 0);
}

struct dnsmsg {
	uint16_t id;
	bool qr, tc;
	uint8_t rcode;
	uint32_t len;      /* message size, set by dns_write */
	const char *qname; /* as on the wire: case as sent */
	const char *zone;  /* for the names synthesized in answers */
	uint32_t qt;       /* index into qtypes[] */
	uint8_t nans;
	bool soa; /* SOA in the authority section (negative answers) */
	bool edns, do_bit, ecs, cookie;
	uint16_t udp_size;
	uint8_t ecs_family, ecs_prefix, ecs_scope;
	uint8_t ecs_addr[16];
	size_t txt_len; /* TXT answer payload */
};

static void wb_soa_rdata(struct wbuf *w, const char *zone, struct rng *r)
{
	char n[NAME_MAX_LEN + 16];
	snprintf(n, sizeof(n), "ns1.%s", zone);
	wb_name(w, n);
	snprintf(n, sizeof(n), "hostmaster.%s", zone);
	wb_name(w, n);
	wb32(w, 2024010100u + rng_below(r, 99));
	wb32(w, 7200);
	wb32(w, 3600);
	wb32(w, 1209600);
	wb32(w, 300);
}

static void dns_write(struct gen *g, struct wbuf *w, struct dnsmsg *m)
{
	size_t start = w->len;
	wb16(w, m->id);
	uint16_t flags = 0x0100; /* RD */
	if (m->qr)
		flags |= 0x8000 | 0x0080 | m->rcode; /* QR, RA */
	if (m->tc)
		flags |= 0x0200;
	wb16(w, flags);
	wb16(w, 1);
	wb16(w, m->nans);
	wb16(w, m->soa ? 1 : 0);
	wb16(w, m->edns ? 1 : 0);
	wb_name(w, m->qname);
	wb16(w, qtypes[m->qt].code);
	wb16(w, 1);
	/* answers point at the question name, always at offset 12: 0xc00c */
	char n[NAME_MAX_LEN + 16];
	size_t txt_left = m->txt_len;
	for (uint8_t i = 0; i < m->nans; i++) {
		wb16(w, 0xc00c);
		wb16(w, qtypes[m->qt].code);
		wb16(w, 1);
		wb32(w, rng_range(&g->r, 30, 86400));
		size_t rdlen_at = w->len;
		wb16(w, 0);
		switch (m->qt) {
		case QT_A:
			wbmem(w, noise(g, 4), 4);
			break;
		case QT_AAAA:
			wb32(w, 0x20010db8);
			wbmem(w, noise(g, 12), 12);
			break;
		case QT_TXT: {
			size_t chunk = txt_left / (size_t)(m->nans - i);
			txt_left -= chunk;
			while (chunk) {
				size_t s = chunk > 255 ? 255 : chunk;
				wb8(w, (uint8_t)s);
				wbmem(w,
				      g->text + rng_below(&g->r, (uint32_t)(sizeof(g->text) - 256)),
				      s);
				chunk -= s;
			}
			break;
		}
		case QT_MX:
			wb16(w, (uint16_t)(10 * (i + 1)));
			snprintf(n, sizeof(n), "mx%u.%s", i + 1, m->zone);
			wb_name(w, n);
			break;
		case QT_NS:
			snprintf(n, sizeof(n), "ns%u.%s", i + 1, m->zone);
			wb_name(w, n);
			break;
		case QT_PTR:
			snprintf(n, sizeof(n), "host%u.%s", rng_below(&g->r, 1000), m->zone);
			wb_name(w, n);
			break;
		case QT_SRV:
			wb16(w, 10);
			wb16(w, (uint16_t)rng_range(&g->r, 1, 100));
			wb16(w, 5060);
			snprintf(n, sizeof(n), "sip%u.%s", i + 1, m->zone);
			wb_name(w, n);
			break;
		case QT_SOA:
			wb_soa_rdata(w, m->zone, &g->r);
			break;
		default: /* HTTPS and private types are only ever NODATA */
			abort();
		}
		put16(w->b + rdlen_at, (uint16_t)(w->len - rdlen_at - 2));
	}
	if (m->soa) {
		wb_name(w, m->zone);
		wb16(w, 6);
		wb16(w, 1);
		wb32(w, 300);
		size_t rdlen_at = w->len;
		wb16(w, 0);
		wb_soa_rdata(w, m->zone, &g->r);
		put16(w->b + rdlen_at, (uint16_t)(w->len - rdlen_at - 2));
	}
	if (m->edns) {
		wb8(w, 0); /* root */
		wb16(w, 41);
		wb16(w, m->udp_size);
		wb32(w, m->do_bit ? 0x8000 : 0);
		size_t rdlen_at = w->len;
		wb16(w, 0);
		if (m->ecs) {
			size_t alen = (m->ecs_prefix + 7u) / 8u;
			wb16(w, 8);
			wb16(w, (uint16_t)(4 + alen));
			wb16(w, m->ecs_family);
			wb8(w, m->ecs_prefix);
			wb8(w, m->ecs_scope);
			wbmem(w, m->ecs_addr, alen);
		}
		if (m->cookie) {
			wb16(w, 10);
			wb16(w, 8);
			wbmem(w, noise(g, 8), 8);
		}
		put16(w->b + rdlen_at, (uint16_t)(w->len - rdlen_at - 2));
	}
	m->len = (uint32_t)(w->len - start);
}

/* ------------------------------------------------------ DNS bookkeeping */

enum dir { DIR_IN, DIR_OUT, DIR_INT };

/* One DNS message on the wire (once, however many frames carry it). */
static void dns_account(struct gen *g, const struct dnsmsg *m, bool tcp, bool v6,
                        const struct addr *src, const struct dname *d)
{
	struct dns_truth *t = &g->t.dns;
	t->total++;
	if (m->qr)
		t->replies++;
	else
		t->queries++;
	if (tcp)
		t->tcp++;
	else
		t->udp++;
	if (v6)
		t->ipv6++;
	else
		t->ipv4++;
	if (m->edns)
		t->edns++;
	if (m->edns && m->do_bit)
		t->do_bit++;
	t->qtype[m->qt]++;
	if (m->qr) {
		t->rsize[m->len]++;
		t->rsize_n++;
		t->rcode[m->rcode]++;
		if (m->rcode == RC_NOERROR)
			t->noerror++;
		if (m->rcode == RC_NXDOMAIN)
			t->nxdomain++;
		if (m->rcode == RC_SERVFAIL)
			t->srvfail++;
		if (m->rcode == RC_REFUSED)
			t->refused++;
		if (m->rcode == RC_NOERROR && m->nans == 0)
			t->nodata++;
		if (m->tc)
			t->truncated++;
	} else {
		if (m->ecs)
			t->query_ecs++;
		amap_add(&t->clients, src);
	}
	if (d) {
		t->q2.n[d->q2]++;
		if (d->q3 != UINT32_MAX)
			t->q3.n[d->q3]++;
		/* cardinality.qname: name_use() marks the name */
	} else {
		/* random label: qname2 .victim.com; its qname3 is counted by ev_flood */
		t->q2.n[g->victim_q2]++;
	}
}

static void name_use(struct gen *g, struct dname *d)
{
	if (!d->used) {
		d->used = true;
		g->t.dns.names_used++;
	}
}

/* 0x20 mixed case, as some resolvers send (and servers echo). */
static void mixcase(struct gen *g, char *dst, const char *src)
{
	uint64_t bits = rng_next(&g->r);
	size_t i = 0;
	for (; src[i]; i++) {
		char c = src[i];
		if (c >= 'a' && c <= 'z' && ((bits >> (i & 63)) & 1))
			c = (char)(c - 'a' + 'A');
		dst[i] = c;
	}
	dst[i] = 0;
}

static uint32_t pick_qtype(struct gen *g)
{
	uint32_t x = rng_below(&g->r, 100), acc = 0;
	for (uint32_t i = 0; i < NQTYPES; i++) {
		acc += qtypes[i].weight;
		if (x < acc)
			return i;
	}
	return 0;
}

static void set_answers(struct gen *g, struct dnsmsg *m)
{
	switch (m->qt) {
	case QT_A:
		m->nans = (uint8_t)(rng_chance(&g->r, 0.7) ? 1 : rng_range(&g->r, 2, 4));
		break;
	case QT_AAAA:
		m->nans = (uint8_t)rng_range(&g->r, 1, 2);
		break;
	case QT_TXT:
		m->nans = 1;
		if (!m->txt_len)
			m->txt_len = rng_range(&g->r, 20, 200);
		break;
	case QT_MX:
		m->nans = (uint8_t)rng_range(&g->r, 1, 3);
		break;
	case QT_NS:
		m->nans = 2;
		break;
	case QT_PTR:
	case QT_SOA:
		m->nans = 1;
		break;
	case QT_SRV:
		m->nans = (uint8_t)rng_range(&g->r, 1, 2);
		break;
	default:
		m->nans = 0;
		m->soa = true;
		break;
	}
}

/* A query for a dictionary name, with EDNS / ECS / cookie / 0x20 as drawn. */
static void make_query(struct gen *g, struct dnsmsg *q, char *wire_name, struct dname *d,
                       const struct addr *client)
{
	memset(q, 0, sizeof(*q));
	q->id = (uint16_t)rng_next(&g->r);
	if (rng_chance(&g->r, 0.03))
		mixcase(g, wire_name, d->name);
	else
		strcpy(wire_name, d->name);
	q->qname = wire_name;
	q->zone = zones[d->zone];
	q->qt = pick_qtype(g);
	if (rng_chance(&g->r, 0.6)) {
		q->edns = true;
		q->udp_size = rng_chance(&g->r, 0.7) ? 1232 : 4096;
		q->do_bit = rng_chance(&g->r, 0.2);
		q->cookie = rng_chance(&g->r, 0.3);
		if (rng_chance(&g->r, 0.08)) {
			q->ecs = true;
			if (addr_is4(client)) {
				q->ecs_family = 1;
				q->ecs_prefix = 24;
				memcpy(q->ecs_addr, client->b + 12, 3);
			} else {
				q->ecs_family = 2;
				q->ecs_prefix = 56;
				memcpy(q->ecs_addr, client->b, 7);
			}
		}
	}
}

/* The reply to q: same id, question and case; outcome drawn for the name. */
static void make_reply(struct gen *g, struct dnsmsg *r, const struct dnsmsg *q,
                       const struct dname *d, bool udp)
{
	*r = *q;
	r->qr = true;
	r->cookie = false;
	r->ecs_scope = q->ecs ? q->ecs_prefix : 0;
	double x = rng_unit(&g->r);
	if (d && d->nx) {
		r->rcode = RC_NXDOMAIN;
		r->soa = true;
	} else if (x < 0.03) {
		r->rcode = RC_SERVFAIL;
	} else if (x < 0.05) {
		r->rcode = RC_REFUSED;
	} else {
		r->rcode = RC_NOERROR;
		if (rng_chance(&g->r, 0.06)) {
			r->soa = true; /* NODATA */
		} else if (udp && rng_chance(&g->r, 0.005)) {
			r->tc = true; /* truncated: empty answer, retry over TCP */
		} else {
			set_answers(g, r);
		}
	}
}

/* ------------------------------------------------------------ the events */

/*
 * Every event writes its packets with pkt_new(g, due): the first at g->now,
 * the rest later; delays are in packet slots (time follows the slot rate).
 */

/*
 * Reply latency, drawn in time (mostly 0.2-5 ms, some 5-50 ms, a few up to
 * 300 ms) and turned into slots at the current second's packet rate.
 */
static uint64_t reply_delay(struct gen *g)
{
	double x = rng_unit(&g->r), ms;
	if (x < 0.8)
		ms = 0.2 + 4.8 * rng_unit(&g->r);
	else if (x < 0.98)
		ms = 5.0 + 45.0 * rng_unit(&g->r);
	else
		ms = 50.0 + 250.0 * rng_unit(&g->r);
	double slots = ms / 1000.0 * (double)g->per_sec[g->ts_sec];
	if (slots < 1)
		return 1;
	return slots > MAX_DELAY ? MAX_DELAY : (uint64_t)slots;
}

static void dns_endpoints(struct gen *g, enum dir dir, bool v6, struct addr *cli, struct addr *srv)
{
	switch (dir) {
	case DIR_IN:
		*cli = pick_client(g, v6);
		*srv = pick_dns_server(g, v6);
		break;
	case DIR_OUT:
		*cli = rng_chance(&g->r, 0.5) ? pick_dns_server(g, v6) : pick_host(g, v6);
		*srv = pick_resolver(g, v6);
		break;
	default:
		*cli = pick_host(g, v6);
		*srv = pick_dns_server(g, v6);
		break;
	}
}

static enum dir pick_dns_dir(struct gen *g)
{
	double x = rng_unit(&g->r);
	return x < 0.7 ? DIR_IN : x < 0.9 ? DIR_OUT : DIR_INT;
}

static struct pkt *udp_dns_pkt(struct gen *g, uint64_t due, const struct l2 *l2,
                               const struct addr *src, const struct addr *dst, uint16_t sport,
                               uint16_t dport, struct dnsmsg *m)
{
	uint8_t l4[1500];
	struct wbuf w = {l4 + 8, 0, sizeof(l4) - 8};
	dns_write(g, &w, m);
	put_udp(l4, sport, dport, NULL, w.len);
	struct pkt *p = pkt_new(g, due);
	pkt_ip(g, p, l2, src, dst, 17, l4, 8 + w.len, false);
	return p;
}

/*
 * A transaction: the frame completing the query gets it in xq, the frame
 * completing the reply in xr; the latency is taken when both are written.
 */
static void xact_link(struct gen *g, enum dir dir, struct pkt *q, struct pkt *r)
{
	uint32_t id = ++g->xnext;
	struct xslot *x = &g->xring[id & (XRING - 1)];
	if (x->open || q->nxq == 3 || r->nxr == 3) {
		fprintf(stderr, "pvgen: internal error: transaction table\n");
		abort();
	}
	x->id = id;
	x->dir = (uint8_t)dir;
	x->open = true;
	x->qts = UINT64_MAX;
	q->xq[q->nxq++] = id;
	r->xr[r->nxr++] = id;
}

/* UDP query and (mostly) its reply: at most 2 packets. */
static void ev_dns_udp(struct gen *g, bool answer_allowed)
{
	bool v6 = rng_chance(&g->r, g->o.v6_frac);
	enum dir dir = pick_dns_dir(g);
	struct addr cli, srv;
	struct l2 l2;
	dns_endpoints(g, dir, v6, &cli, &srv);
	pick_l2(g, &l2);
	struct dname *d = &g->names[zipf_draw(&g->zn, &g->r)];
	char wire[NAME_MAX_LEN];
	struct dnsmsg q, r;
	make_query(g, &q, wire, d, &cli);
	uint16_t sport = rand_port(g);
	struct pkt *qp = udp_dns_pkt(g, g->now, &l2, &cli, &srv, sport, 53, &q);
	name_use(g, d);
	dns_account(g, &q, false, v6, &cli, d);
	if (!answer_allowed || rng_chance(&g->r, 0.02)) {
		g->t.dns.unanswered++;
		return;
	}
	make_reply(g, &r, &q, d, true);
	struct pkt *rp = udp_dns_pkt(g, g->now + reply_delay(g), &l2, &srv, &cli, 53, sport, &r);
	dns_account(g, &r, false, v6, &srv, d);
	xact_link(g, dir, qp, rp);
}

/* Unique random label under victim.com: a bijective mix of a counter, base 36. */
static void flood_name(struct gen *g, char *out)
{
	uint64_t x = ++g->flood_ctr + (g->o.seed * 0x9e3779b97f4a7c15ULL);
	x *= 0xbf58476d1ce4e5b9ULL; /* odd: invertible mod 2^64 */
	x ^= x >> 31;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 29;
	char tmp[16];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[x % 36];
		x /= 36;
	} while (x);
	for (int i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	strcpy(out + n, "." VICTIM);
}

/* A random-label query from one of many clients: at most 2 packets. */
static void ev_flood(struct gen *g, bool answer_allowed)
{
	bool v6 = rng_chance(&g->r, g->o.v6_frac);
	struct addr cli = pick_client_uniform(g, v6), srv = pick_dns_server(g, v6);
	struct l2 l2;
	pick_l2(g, &l2);
	char lc[NAME_MAX_LEN], wire[NAME_MAX_LEN];
	flood_name(g, lc);
	if (rng_chance(&g->r, 0.03))
		mixcase(g, wire, lc);
	else
		strcpy(wire, lc);
	struct dnsmsg q;
	memset(&q, 0, sizeof(q));
	q.id = (uint16_t)rng_next(&g->r);
	q.qname = wire;
	q.zone = VICTIM;
	q.qt = rng_chance(&g->r, 0.8) ? QT_A : QT_AAAA;
	if (rng_chance(&g->r, 0.5)) {
		q.edns = true;
		q.udp_size = 1232;
	}
	uint16_t sport = rand_port(g);
	struct pkt *qp = udp_dns_pkt(g, g->now, &l2, &cli, &srv, sport, 53, &q);
	dns_account(g, &q, false, v6, &cli, NULL);
	g->t.dns.flood_names++;
	double x = rng_unit(&g->r);
	if (!answer_allowed || x >= 0.85) {
		g->t.dns.unanswered++;
		cand_add(&g->t.dns.rnd1, lc);
		return;
	}
	struct dnsmsg r = q;
	r.qr = true;
	r.rcode = x < 0.70 ? RC_NXDOMAIN : RC_SERVFAIL;
	r.soa = r.rcode == RC_NXDOMAIN;
	struct pkt *rp = udp_dns_pkt(g, g->now + reply_delay(g), &l2, &srv, &cli, 53, sport, &r);
	dns_account(g, &r, false, v6, &srv, NULL);
	xact_link(g, DIR_IN, qp, rp);
	cand_add(&g->t.dns.rnd2, lc);
}

struct tcpconn {
	struct l2 l2;
	struct addr c, s;
	uint16_t cport, sport;
	uint32_t cseq, sseq;
	bool ts;
	uint32_t tsval;
};

static void tcp_conn_init(struct gen *g, struct tcpconn *t, const struct addr *c,
                          const struct addr *s, uint16_t sport)
{
	pick_l2(g, &t->l2);
	t->c = *c;
	t->s = *s;
	t->cport = rand_port(g);
	t->sport = sport;
	t->cseq = (uint32_t)rng_next(&g->r);
	t->sseq = (uint32_t)rng_next(&g->r);
	t->ts = rng_chance(&g->r, 0.5);
	t->tsval = (uint32_t)rng_next(&g->r);
}

enum { TH_FIN = 0x01, TH_SYN = 0x02, TH_RST = 0x04, TH_PSH = 0x08, TH_ACK = 0x10 };

/* One segment; sequence numbers advance as the segment is built. */
static struct pkt *tcp_seg(struct gen *g, struct tcpconn *t, bool from_client, uint8_t flags,
                           const uint8_t *data, size_t len, uint64_t due)
{
	uint8_t l4[1500];
	size_t hl;
	uint32_t *seq = from_client ? &t->cseq : &t->sseq;
	uint32_t ack = from_client ? t->sseq : t->cseq;
	put16(l4, from_client ? t->cport : t->sport);
	put16(l4 + 2, from_client ? t->sport : t->cport);
	put32(l4 + 4, *seq);
	put32(l4 + 8, (flags & TH_ACK) ? ack : 0);
	l4[13] = flags;
	put16(l4 + 14, from_client ? 64240 : 65160);
	put16(l4 + 16, 0);
	put16(l4 + 18, 0);
	if (flags & TH_SYN) {
		/* MSS 1460, NOP, WS 7, SACK permitted, NOP, NOP */
		static const uint8_t opt[12] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 1, 1};
		memcpy(l4 + 20, opt, sizeof(opt));
		hl = 32;
	} else if (t->ts) {
		l4[20] = 1;
		l4[21] = 1;
		l4[22] = 8;
		l4[23] = 10;
		put32(l4 + 24, t->tsval += 3);
		put32(l4 + 28, t->tsval - 40);
		hl = 32;
	} else {
		hl = 20;
	}
	l4[12] = (uint8_t)((hl / 4) << 4);
	if (len)
		memcpy(l4 + hl, data, len);
	struct pkt *p = pkt_new(g, due);
	pkt_ip(g, p, &t->l2, from_client ? &t->c : &t->s, from_client ? &t->s : &t->c, 6, l4,
	       hl + len, false);
	*seq += (uint32_t)len + ((flags & (TH_SYN | TH_FIN)) ? 1u : 0u);
	return p;
}

static enum dir pick_tcp_dir(struct gen *g, bool v6, struct addr *c, struct addr *s, bool web)
{
	double x = rng_unit(&g->r);
	if (x < 0.55) {
		*c = pick_client(g, v6);
		*s = web ? pick_web_local(g, v6) : pick_dns_server(g, v6);
		return DIR_IN;
	}
	if (x < 0.93) {
		*c = pick_host(g, v6);
		*s = web ? pick_web_remote(g, v6) : pick_resolver(g, v6);
		return DIR_OUT;
	}
	if (x < 0.97 || !web) {
		*c = pick_host(g, v6);
		*s = web ? pick_web_local(g, v6) : pick_dns_server(g, v6);
		return DIR_INT;
	}
	/* transit: neither end is ours (a mirror port sees it anyway) */
	*c = random_public(&g->r, v6);
	*s = pick_web_remote(g, v6);
	return DIR_INT;
}

/* Handshake, request, 1-3 response segments, ACK, FIN/FIN/ACK or RST: <= 11. */
static void ev_web(struct gen *g)
{
	bool v6 = rng_chance(&g->r, g->o.v6_frac);
	struct addr c, s;
	/* TLS ports: the payload is opaque bytes, as encrypted traffic is */
	static const uint16_t ports[] = {443, 443, 443, 8443};
	pick_tcp_dir(g, v6, &c, &s, true);
	struct tcpconn t;
	tcp_conn_init(g, &t, &c, &s, ports[rng_below(&g->r, 4)]);
	uint64_t due = g->now;
	tcp_seg(g, &t, true, TH_SYN, NULL, 0, due);
	tcp_seg(g, &t, false, TH_SYN | TH_ACK, NULL, 0, due += rng_range(&g->r, 1, 60));
	tcp_seg(g, &t, true, TH_ACK, NULL, 0, due += rng_range(&g->r, 1, 60));
	size_t req = rng_range(&g->r, 80, 500);
	tcp_seg(g, &t, true, TH_PSH | TH_ACK, noise(g, req), req, due += rng_range(&g->r, 1, 5));
	uint32_t nresp = rng_range(&g->r, 1, 3);
	for (uint32_t i = 0; i < nresp; i++) {
		size_t len = rng_chance(&g->r, 0.15) ? MSS : rng_range(&g->r, 60, 400);
		uint8_t fl = TH_ACK | (i + 1 == nresp ? TH_PSH : 0);
		tcp_seg(g, &t, false, fl, noise(g, len), len, due += rng_range(&g->r, 1, 60));
	}
	tcp_seg(g, &t, true, TH_ACK, NULL, 0, due += rng_range(&g->r, 1, 30));
	if (rng_chance(&g->r, 0.1)) {
		tcp_seg(g, &t, true, TH_RST | TH_ACK, NULL, 0, due += rng_range(&g->r, 1, 300));
		return;
	}
	tcp_seg(g, &t, true, TH_FIN | TH_ACK, NULL, 0, due += rng_range(&g->r, 1, 300));
	tcp_seg(g, &t, false, TH_FIN | TH_ACK, NULL, 0, due += rng_range(&g->r, 1, 60));
	tcp_seg(g, &t, true, TH_ACK, NULL, 0, due += rng_range(&g->r, 1, 60));
}

struct seg {
	size_t off, len;
};

/*
 * Cut a stream of length-prefixed DNS messages into segments: mostly one
 * message per segment, sometimes two in one, sometimes one message across
 * two segments; nothing above MSS.
 */
static size_t segment_stream(struct gen *g, const size_t *ends, size_t nmsg, struct seg *segs,
                             size_t cap)
{
	size_t n = 0, start = 0;
	for (size_t i = 0; i < nmsg; i++) {
		size_t end = ends[i];
		size_t cut = 0;
		if (i + 1 < nmsg && ends[i + 1] - start <= MSS && rng_chance(&g->r, 0.25))
			end = ends[++i];
		else if (end - start >= 4 && rng_chance(&g->r, 0.2))
			cut = start + rng_range(&g->r, 1, (uint32_t)(end - start - 1));
		size_t bounds[3] = {start, cut ? cut : end, end};
		for (int k = 0; k < (cut ? 2 : 1); k++) {
			for (size_t p = bounds[k]; p < bounds[k + 1];) {
				size_t l = bounds[k + 1] - p > MSS ? MSS : bounds[k + 1] - p;
				if (n == cap)
					abort();
				segs[n].off = p;
				segs[n].len = l;
				n++;
				p += l;
			}
		}
		start = end;
	}
	return n;
}

static size_t seg_of(const struct seg *segs, size_t n, size_t end)
{
	for (size_t i = 0; i < n; i++)
		if (segs[i].off < end && end <= segs[i].off + segs[i].len)
			return i;
	abort();
}

#define TCP_DNS_MAXQ 3
#define TCP_DNS_SEGS 12

/* A DNS-over-TCP connection with 1-3 queries: <= 3 + 12 + 12 + 1 + 3 = 31 packets. */
static void ev_dns_tcp(struct gen *g)
{
	bool v6 = rng_chance(&g->r, g->o.v6_frac);
	struct addr c, s;
	enum dir dir = pick_tcp_dir(g, v6, &c, &s, false);
	struct tcpconn t;
	tcp_conn_init(g, &t, &c, &s, 53);
	uint32_t nq = rng_range(&g->r, 1, TCP_DNS_MAXQ);
	struct dnsmsg q[TCP_DNS_MAXQ], r[TCP_DNS_MAXQ];
	struct dname *d[TCP_DNS_MAXQ];
	char wire[TCP_DNS_MAXQ][NAME_MAX_LEN];
	static uint8_t cs[TCP_DNS_MAXQ * 600], ss[TCP_DNS_MAXQ * 2100];
	struct wbuf wc = {cs, 0, sizeof(cs)}, ws = {ss, 0, sizeof(ss)};
	size_t cend[TCP_DNS_MAXQ], send[TCP_DNS_MAXQ];
	for (uint32_t i = 0; i < nq; i++) {
		d[i] = &g->names[zipf_draw(&g->zn, &g->r)];
		make_query(g, &q[i], wire[i], d[i], &c);
		q[i].id = (uint16_t)(q[i].id + i); /* distinct within the connection */
		make_reply(g, &r[i], &q[i], d[i], false);
		if (!d[i]->nx && r[i].rcode == RC_NOERROR && rng_chance(&g->r, 0.3)) {
			/* what TCP is for: a large answer */
			q[i].qt = r[i].qt = QT_TXT;
			r[i].soa = false;
			r[i].txt_len = rng_range(&g->r, 600, 1900);
			set_answers(g, &r[i]);
		}
	}
	for (uint32_t i = 0; i < nq; i++) {
		size_t at = wc.len;
		wb16(&wc, 0);
		dns_write(g, &wc, &q[i]);
		put16(cs + at, (uint16_t)(wc.len - at - 2));
		cend[i] = wc.len;
		at = ws.len;
		wb16(&ws, 0);
		dns_write(g, &ws, &r[i]);
		put16(ss + at, (uint16_t)(ws.len - at - 2));
		send[i] = ws.len;
	}
	struct seg csegs[TCP_DNS_SEGS], ssegs[TCP_DNS_SEGS];
	size_t nc = segment_stream(g, cend, nq, csegs, TCP_DNS_SEGS);
	size_t ns = segment_stream(g, send, nq, ssegs, TCP_DNS_SEGS);

	uint64_t due = g->now;
	tcp_seg(g, &t, true, TH_SYN, NULL, 0, due);
	tcp_seg(g, &t, false, TH_SYN | TH_ACK, NULL, 0, due += rng_range(&g->r, 1, 60));
	tcp_seg(g, &t, true, TH_ACK, NULL, 0, due += rng_range(&g->r, 1, 60));
	struct pkt *cp[TCP_DNS_SEGS], *sp[TCP_DNS_SEGS];
	for (size_t i = 0; i < nc; i++)
		cp[i] = tcp_seg(g, &t, true, TH_PSH | TH_ACK, cs + csegs[i].off, csegs[i].len,
		                due += rng_range(&g->r, 1, 5));
	for (size_t i = 0; i < ns; i++)
		sp[i] = tcp_seg(g, &t, false, TH_PSH | TH_ACK, ss + ssegs[i].off, ssegs[i].len,
		                due += rng_range(&g->r, 1, 60));
	tcp_seg(g, &t, true, TH_ACK, NULL, 0, due += rng_range(&g->r, 1, 30));
	tcp_seg(g, &t, true, TH_FIN | TH_ACK, NULL, 0, due += rng_range(&g->r, 1, 30));
	tcp_seg(g, &t, false, TH_FIN | TH_ACK, NULL, 0, due += rng_range(&g->r, 1, 60));
	tcp_seg(g, &t, true, TH_ACK, NULL, 0, due += rng_range(&g->r, 1, 60));

	for (uint32_t i = 0; i < nq; i++) {
		name_use(g, d[i]);
		dns_account(g, &q[i], true, v6, &c, d[i]);
		dns_account(g, &r[i], true, v6, &s, d[i]);
		/* a message is complete with the segment holding its last byte */
		xact_link(g, dir, cp[seg_of(csegs, nc, cend[i])], sp[seg_of(ssegs, ns, send[i])]);
	}
}

/* A large datagram as 2-3 IPv4 fragments: a big DNS answer (after its query) or other UDP. */
static void ev_frag(struct gen *g, bool dns_only)
{
	static uint8_t dgram[4600];
	struct l2 l2;
	pick_l2(g, &l2);
	bool reverse = rng_chance(&g->r, 0.1);
	uint64_t due[3];
	if (dns_only || rng_chance(&g->r, 0.5)) {
		struct addr cli = pick_client(g, false), srv = pick_dns_server(g, false);
		struct dname *d;
		do
			d = &g->names[zipf_draw(&g->zn, &g->r)];
		while (d->nx);
		char wire[NAME_MAX_LEN];
		struct dnsmsg q, r;
		make_query(g, &q, wire, d, &cli);
		q.qt = QT_TXT;
		q.edns = true;
		q.udp_size = 4096;
		uint16_t sport = rand_port(g);
		struct pkt *qp = udp_dns_pkt(g, g->now, &l2, &cli, &srv, sport, 53, &q);
		r = q;
		r.qr = true;
		r.rcode = RC_NOERROR;
		r.cookie = false;
		r.ecs_scope = q.ecs ? q.ecs_prefix : 0;
		r.txt_len = rng_range(&g->r, 1700, 4000);
		set_answers(g, &r);
		struct wbuf w = {dgram + 8, 0, sizeof(dgram) - 8};
		dns_write(g, &w, &r);
		put_udp(dgram, 53, sport, NULL, w.len);
		due[0] = g->now + reply_delay(g);
		due[1] = due[0] + 1;
		due[2] = due[0] + 2;
		struct pkt *rp = pkt_frags(g, due, &l2, &srv, &cli, dgram, 8 + w.len, reverse);
		name_use(g, d);
		dns_account(g, &q, false, false, &cli, d);
		dns_account(g, &r, false, false, &srv, d);
		xact_link(g, DIR_IN, qp, rp);
		return;
	}
	struct addr a, b;
	if (rng_chance(&g->r, 0.5)) {
		a = pick_client(g, false);
		b = pick_host(g, false);
	} else {
		a = pick_host(g, false);
		b = pick_client(g, false);
	}
	size_t len = rng_range(&g->r, 1600, 4400);
	put_udp(dgram, rand_port(g), rng_chance(&g->r, 0.5) ? 4500 : rand_port(g),
	        noise(g, len - 8), len - 8);
	due[0] = g->now;
	due[1] = due[0] + rng_range(&g->r, 0, 2);
	due[2] = due[1] + rng_range(&g->r, 0, 2);
	pkt_frags(g, due, &l2, &a, &b, dgram, len, reverse);
}

/* Other UDP: one datagram, often answered; some transit and internal. <= 2. */
static void ev_udp(struct gen *g, bool one)
{
	bool v6 = rng_chance(&g->r, g->o.v6_frac);
	struct addr a, b;
	double x = rng_unit(&g->r);
	if (x < 0.45) {
		a = pick_client(g, v6);
		b = pick_host(g, v6);
	} else if (x < 0.8) {
		a = pick_host(g, v6);
		b = pick_web_remote(g, v6);
	} else if (x < 0.9) {
		a = pick_host(g, v6);
		b = pick_host(g, v6);
	} else {
		a = random_public(&g->r, v6);
		b = pick_client(g, v6);
	}
	struct l2 l2;
	pick_l2(g, &l2);
	/* ports whose dissectors accept opaque bytes (QUIC, syslog, NAT-T, WireGuard) */
	static const uint16_t well_known[] = {443, 443, 514, 4500, 51820};
	uint16_t sport = rand_port(g);
	uint16_t dport = rng_chance(&g->r, 0.6) ? well_known[rng_below(&g->r, 5)] : rand_port(g);
	size_t len =
	    rng_chance(&g->r, 0.05) ? rng_range(&g->r, 900, 1300) : rng_range(&g->r, 16, 160);
	bool ra = !v6 && rng_chance(&g->r, 0.01);
	uint8_t l4[1400];
	put_udp(l4, sport, dport, noise(g, len), len);
	pkt_ip(g, pkt_new(g, g->now), &l2, &a, &b, 17, l4, 8 + len, ra);
	if (one || rng_chance(&g->r, 0.4))
		return;
	len = rng_range(&g->r, 16, 300);
	put_udp(l4, dport, sport, noise(g, len), len);
	pkt_ip(g, pkt_new(g, g->now + reply_delay(g)), &l2, &b, &a, 17, l4, 8 + len, ra);
}

/* Echo request and (mostly) reply, ICMP or ICMPv6: <= 2. */
static void ev_icmp(struct gen *g)
{
	bool v6 = rng_chance(&g->r, g->o.v6_frac);
	struct addr a, b;
	double x = rng_unit(&g->r);
	if (x < 0.5) {
		a = pick_client(g, v6);
		b = pick_host(g, v6);
	} else if (x < 0.9) {
		a = pick_host(g, v6);
		b = pick_web_remote(g, v6);
	} else {
		a = pick_host(g, v6);
		b = pick_host(g, v6);
	}
	struct l2 l2;
	pick_l2(g, &l2);
	size_t len = rng_chance(&g->r, 0.05) ? rng_range(&g->r, 1000, 1400) : 56;
	uint8_t l4[1500];
	uint16_t id = (uint16_t)rng_next(&g->r), sq = (uint16_t)rng_range(&g->r, 1, 500);
	uint8_t proto = v6 ? 58 : 1;
	l4[0] = v6 ? 128 : 8;
	l4[1] = 0;
	put16(l4 + 2, 0);
	put16(l4 + 4, id);
	put16(l4 + 6, sq);
	memcpy(l4 + 8, noise(g, len), len);
	pkt_ip(g, pkt_new(g, g->now), &l2, &a, &b, proto, l4, 8 + len, false);
	if (rng_chance(&g->r, 0.1))
		return;
	l4[0] = v6 ? 129 : 0;
	pkt_ip(g, pkt_new(g, g->now + reply_delay(g)), &l2, &b, &a, proto, l4, 8 + len, false);
}

/* SYN from a fresh random source to one of our addresses; RST or SYN-ACK back: <= 2. */
static void ev_scan(struct gen *g)
{
	bool v6 = rng_chance(&g->r, g->o.v6_frac);
	struct addr src = random_public(&g->r, v6);
	struct addr dst;
	if (v6) {
		dst = host6_addr(rng_next(&g->r) | 0x1000000000000000ULL);
	} else {
		uint32_t v = (uint32_t)rng_next(&g->r);
		dst = addr4(10, 0, (uint8_t)(v >> 8), (uint8_t)(1 + v % 254));
	}
	static const uint16_t ports[] = {22, 23, 80, 443, 445, 3389, 8080, 3306};
	struct tcpconn t;
	tcp_conn_init(g, &t, &src, &dst, ports[rng_below(&g->r, 8)]);
	t.ts = false;
	tcp_seg(g, &t, true, TH_SYN, NULL, 0, g->now);
	double x = rng_unit(&g->r);
	if (x < 0.4)
		tcp_seg(g, &t, false, TH_RST | TH_ACK, NULL, 0, g->now + rng_range(&g->r, 1, 20));
	else if (x < 0.5)
		tcp_seg(g, &t, false, TH_SYN | TH_ACK, NULL, 0, g->now + rng_range(&g->r, 1, 20));
}

/* ESP between our VPN gateway and a few peers: other_l4 that is not ICMP. <= 3. */
static void ev_esp(struct gen *g)
{
	/* even peers are IPv4, odd ones IPv6 */
	uint32_t i = 2 * rng_below(&g->r, 4) + (rng_chance(&g->r, g->o.v6_frac) ? 1 : 0);
	struct addr peer = g->esp_peers[i];
	struct addr gw = addr_is4(&peer) ? addr4(10, 0, 0, 1) : host6_addr(1);
	struct l2 l2;
	pick_l2(g, &l2);
	uint32_t n = rng_range(&g->r, 1, 3);
	uint64_t due = g->now;
	for (uint32_t k = 0; k < n; k++) {
		uint8_t l4[300];
		size_t len = rng_range(&g->r, 60, 220);
		bool out = rng_chance(&g->r, 0.5);
		put32(l4, 0x1000 + i * 2 + (out ? 1u : 0u));
		put32(l4 + 4, ++g->esp_seq[i * 2 + (out ? 1u : 0u)]);
		memcpy(l4 + 8, noise(g, len - 8), len - 8);
		pkt_ip(g, pkt_new(g, due), &l2, out ? &gw : &peer, out ? &peer : &gw, 50, l4, len,
		       false);
		due += rng_range(&g->r, 1, 50);
	}
}

/* ARP who-has and (half the time) the reply: not IP, unknown direction. <= 2. */
static void ev_arp(struct gen *g)
{
	struct l2 l2;
	pick_l2(g, &l2);
	struct addr target = pick_host(g, false);
	for (int k = 0; k < (rng_chance(&g->r, 0.5) ? 2 : 1); k++) {
		struct pkt *p = pkt_new(g, g->now + (uint64_t)k * rng_range(&g->r, 1, 10));
		size_t off = put_eth(p->buf, &l2, 0x0806, k == 1);
		if (k == 0)
			memset(p->buf, 0xff, 6);
		uint8_t *a = p->buf + off;
		put16(a, 1); /* Ethernet */
		put16(a + 2, 0x0800);
		a[4] = 6;
		a[5] = 4;
		put16(a + 6, k == 0 ? 1 : 2);
		const uint8_t *smac = k == 0 ? mac_gw : mac_host;
		memcpy(a + 8, smac, 6);
		if (k == 0) {
			uint8_t gwip[4] = {10, 0, 0, 1};
			memcpy(a + 14, gwip, 4);
			memset(a + 18, 0, 6);
			memcpy(a + 24, target.b + 12, 4);
		} else {
			uint8_t gwip[4] = {10, 0, 0, 1};
			memcpy(a + 14, target.b + 12, 4);
			memcpy(a + 18, mac_gw, 6);
			memcpy(a + 24, gwip, 4);
		}
		pkt_pad(p, off + 28);
		p->ipver = 0;
		p->proto = 0;
		p->syn = p->frag = false;
		p->payload = 0;
	}
}

enum ev {
	EV_DNS_UDP,
	EV_FLOOD,
	EV_WEB,
	EV_UDP,
	EV_ICMP,
	EV_SCAN,
	EV_FRAG,
	EV_ARP,
	EV_ESP,
	EV_DNS_TCP,
	EV_N
};

static const uint32_t ev_max[EV_N] = {2, 2, 11, 2, 2, 2, 4, 2, 3, 31};

static void gen_event(struct gen *g, uint64_t budget)
{
	double w[EV_N] = {0};
	bool flood = g->now >= g->flood_lo && g->now < g->flood_hi;
	switch (g->o.profile) {
	case PROF_MIXED:
		w[EV_DNS_UDP] = 20;
		w[EV_WEB] = 2.5;
		w[EV_UDP] = 6.5;
		w[EV_ICMP] = 2;
		w[EV_SCAN] = 3;
		w[EV_FRAG] = 0.8;
		w[EV_ARP] = 0.2;
		w[EV_ESP] = 0.7;
		w[EV_DNS_TCP] = 0.01;
		w[EV_FLOOD] = flood ? 14 : 0;
		break;
	case PROF_DNS:
		w[EV_DNS_UDP] = 20;
		w[EV_FRAG] = 0.3;
		w[EV_DNS_TCP] = 0.03;
		w[EV_FLOOD] = flood ? 14 : 0;
		break;
	case PROF_FLOOD:
		w[EV_DNS_UDP] = 15;
		w[EV_FLOOD] = 85;
		break;
	}
	double sum = 0;
	for (int i = 0; i < EV_N; i++)
		sum += w[i];
	double x = rng_unit(&g->r) * sum;
	int ev = EV_DNS_UDP;
	for (int i = 0; i < EV_N; i++) {
		if (w[i] > 0 && x < w[i]) {
			ev = i;
			break;
		}
		x -= w[i];
	}
	if (ev_max[ev] > budget) {
		/* the capture's last slots: single packets only */
		if (g->o.profile == PROF_MIXED)
			ev_udp(g, true);
		else if (g->o.profile == PROF_FLOOD)
			ev_flood(g, false);
		else
			ev_dns_udp(g, false);
		return;
	}
	switch (ev) {
	case EV_DNS_UDP:
		ev_dns_udp(g, true);
		break;
	case EV_FLOOD:
		ev_flood(g, true);
		break;
	case EV_WEB:
		ev_web(g);
		break;
	case EV_UDP:
		ev_udp(g, false);
		break;
	case EV_ICMP:
		ev_icmp(g);
		break;
	case EV_SCAN:
		ev_scan(g);
		break;
	case EV_FRAG:
		ev_frag(g, g->o.profile != PROF_MIXED);
		break;
	case EV_ARP:
		ev_arp(g);
		break;
	case EV_ESP:
		ev_esp(g);
		break;
	default:
		ev_dns_tcp(g);
		break;
	}
}

/* ------------------------------------------------------------ timestamps */

/*
 * Packets per second follow a slow sine with random bursts and, in longer
 * captures, a few silent seconds, so the per-second rates have a real spread
 * (and zero seconds that a rate must count).
 */
static void ts_plan(struct gen *g)
{
	uint32_t d = g->o.duration;
	double *w = xmalloc(d * sizeof(*w));
	double total = 0;
	double period = d < 30 ? 10.0 : d / 3.0;
	for (uint32_t s = 0; s < d; s++) {
		double v = 1.0 + 0.5 * sin(2.0 * M_PI * s / period);
		if (rng_chance(&g->rt, 0.08))
			v *= 1.5 + 2.0 * rng_unit(&g->rt);
		if (d >= 20 && s > 0 && s + 1 < d && rng_chance(&g->rt, 0.03))
			v = 0;
		w[s] = v;
		total += v;
	}
	g->per_sec = xcalloc(d, sizeof(*g->per_sec));
	double cum = 0;
	uint64_t prev = 0;
	for (uint32_t s = 0; s < d; s++) {
		cum += w[s];
		uint64_t b = s + 1 == d ? g->o.packets
		                        : (uint64_t)llround((double)g->o.packets * cum / total);
		if (b > g->o.packets)
			b = g->o.packets;
		if (b < prev)
			b = prev;
		g->per_sec[s] = b - prev;
		prev = b;
	}
	free(w);
}

static void ts_next(struct gen *g, uint32_t *sec, uint32_t *usec)
{
	while (g->ts_k >= g->per_sec[g->ts_sec]) {
		g->ts_sec++;
		g->ts_k = 0;
	}
	uint64_t c = g->per_sec[g->ts_sec];
	double u = rng_unit(&g->rt);
	double v = ((double)g->ts_k + u) * 1e6 / (double)c;
	uint32_t us = (uint32_t)v;
	if (us > 999999)
		us = 999999;
	*sec = g->o.start_ts + g->ts_sec;
	*usec = us;
	g->ts_k++;
}

/* ------------------------------------------------------------- emission */

static void ctr_add(struct ctr *c, const struct pkt *p, int dir)
{
	c->total++;
	c->bytes_total += p->len;
	if (p->ipver == 4)
		c->ipv4++;
	else if (p->ipver == 6)
		c->ipv6++;
	if (p->ipver) {
		if (p->proto == 6) {
			c->tcp++;
			if (p->syn)
				c->syn++;
		} else if (p->proto == 17) {
			c->udp++;
		} else {
			c->other_l4++;
			if (p->proto == 1 || p->proto == 58)
				c->icmp++;
		}
		if (p->frag)
			c->fragments++;
	}
	if (dir == RT_IN) {
		c->in++;
		c->bytes_in += p->len;
	} else if (dir == RT_OUT) {
		c->out++;
		c->bytes_out += p->len;
	} else {
		c->unknown++;
	}
}

static void account_xact(struct gen *g, const struct pkt *p, uint64_t ts)
{
	struct dns_truth *d = &g->t.dns;
	for (uint8_t i = 0; i < p->nxq; i++)
		g->xring[p->xq[i] & (XRING - 1)].qts = ts;
	for (uint8_t i = 0; i < p->nxr; i++) {
		struct xslot *x = &g->xring[p->xr[i] & (XRING - 1)];
		if (!x->open || x->id != p->xr[i] || x->qts > ts) {
			fprintf(stderr, "pvgen: internal error: reply before its query\n");
			abort();
		}
		x->open = false;
		uint64_t lat = ts - x->qts;
		if (lat >= XACT_TIMEOUT_US) {
			d->late++;
			continue;
		}
		d->xact_total++;
		if (x->dir == DIR_IN) {
			d->xact_in++;
			u64vec_push(&d->lat_in, lat);
		} else if (x->dir == DIR_OUT) {
			d->xact_out++;
			u64vec_push(&d->lat_out, lat);
		}
	}
}

static void account(struct gen *g, const struct pkt *p, uint32_t sec, uint32_t usec)
{
	struct truth *t = &g->t;
	if (p->nxq || p->nxr)
		account_xact(g, p, (uint64_t)sec * 1000000 + usec);
	int dir = RT_TOTAL; /* = unknown */
	if (p->ipver) {
		bool sh = addr_host(&p->src), dh = addr_host(&p->dst);
		if (dh && !sh)
			dir = RT_IN;
		else if (sh && !dh)
			dir = RT_OUT;
	}
	ctr_add(&t->all, p, dir);
	ctr_add(&t->win[sec / g->o.window - t->win0], p, dir);
	uint64_t s = sec - g->o.start_ts;
	t->sec[RT_TOTAL][s]++;
	t->secb[RT_TOTAL][s] += p->len;
	if (dir != RT_TOTAL) {
		t->sec[dir][s]++;
		t->secb[dir][s] += p->len;
	}
	if (t->all.total == 1)
		t->first_sec = sec;
	t->last_sec = sec;
	if (dir == RT_IN) {
		amap_add(&t->top, &p->src);
		amap_add(&t->in_src, &p->src);
	} else if (dir == RT_OUT) {
		amap_add(&t->top, &p->dst);
		amap_add(&t->out_dst, &p->dst);
	}
	if (p->ipver) {
		t->psize[p->payload]++;
		t->psize_n++;
	}
}

struct pcap_rec {
	uint32_t sec, usec, incl, orig;
};

static void write_pcap_header(FILE *f, const char *name)
{
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t zone;
		uint32_t sigfigs, snaplen, linktype;
	} h = {0xa1b2c3d4, 2, 4, 0, 0, SNAPLEN, 1};
	if (fwrite(&h, sizeof(h), 1, f) != 1)
		die_io("cannot write", name);
}

/* ---------------------------------------------------------- truth JSON */

static void json_ctr(FILE *f, const struct ctr *c, const char *prefix, const char *sep)
{
	const struct {
		const char *k;
		uint64_t v;
	} kv[] = {
	    {"total", c->total},
	    {"ipv4", c->ipv4},
	    {"ipv6", c->ipv6},
	    {"tcp", c->tcp},
	    {"udp", c->udp},
	    {"other_l4", c->other_l4},
	    {"icmp", c->icmp},
	    {"fragments", c->fragments},
	    {"protocol.tcp.syn", c->syn},
	    {"in", c->in},
	    {"out", c->out},
	    {"unknown_dir", c->unknown},
	    {"bytes.total", c->bytes_total},
	    {"bytes.in", c->bytes_in},
	    {"bytes.out", c->bytes_out},
	};
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		fprintf(f, "%s\"%s%s\": %" PRIu64, i ? sep : "", prefix, kv[i].k, kv[i].v);
}

struct topent {
	const char *name;
	uint64_t n;
};

static int topent_cmp(const void *a, const void *b)
{
	const struct topent *x = a, *y = b;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void json_top(FILE *f, struct topent *e, size_t n)
{
	qsort(e, n, sizeof(*e), topent_cmp);
	fputc('[', f);
	for (size_t i = 0; i < n && i < TOP_N; i++)
		fprintf(f, "%s[\"%s\", %" PRIu64 "]", i ? ", " : "", e[i].name, e[i].n);
	fputc(']', f);
}

/* family: 4, 6, or 0 for both */
static void json_top_addrs(FILE *f, const struct amap *m, int family)
{
	struct topent *e = xmalloc((m->len + 1) * sizeof(*e));
	char *names = xmalloc((m->len + 1) * INET6_ADDRSTRLEN);
	size_t n = 0;
	for (size_t i = 0; i < m->cap; i++) {
		const struct amap_ent *x = &m->t[i];
		if (!x->n || (family && (addr_is4(&x->a) ? 4 : 6) != family))
			continue;
		char *s = names + n * INET6_ADDRSTRLEN;
		addr_fmt(&x->a, s, INET6_ADDRSTRLEN);
		e[n].name = s;
		e[n].n = x->n;
		n++;
	}
	json_top(f, e, n);
	free(e);
	free(names);
}

static uint64_t rank_of(uint64_t count, unsigned pct) { return (uint64_t)pct * (count - 1) / 100; }

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static const unsigned pcts[] = {50, 90, 95, 99};

static void json_rate(FILE *f, const uint64_t *per_sec, uint64_t lo, uint64_t n)
{
	uint64_t *v = xmalloc(n * sizeof(*v));
	memcpy(v, per_sec + lo, n * sizeof(*v));
	qsort(v, n, sizeof(*v), u64_cmp);
	fputc('{', f);
	for (size_t i = 0; i < 4; i++)
		fprintf(f, "\"p%u\": %" PRIu64 ", ", pcts[i], v[rank_of(n, pcts[i])]);
	fprintf(f, "\"max\": %" PRIu64 ", \"count\": %" PRIu64 "}", v[n - 1], n);
	free(v);
}

/* Exact quantiles of a histogram over 0..65535 (payload and message sizes). */
static void json_hist(FILE *f, const uint64_t *h, uint64_t count)
{
	if (!count) {
		fputs("{\"count\": 0}", f);
		return;
	}
	uint64_t min = 0, max = 0;
	for (uint64_t v = 0; v < 65536; v++)
		if (h[v]) {
			min = v;
			break;
		}
	for (uint64_t v = 65536; v-- > 0;)
		if (h[v]) {
			max = v;
			break;
		}
	fprintf(f, "{\"count\": %" PRIu64 ", \"min\": %" PRIu64 ", \"max\": %" PRIu64, count, min,
	        max);
	for (size_t i = 0; i < 4; i++) {
		uint64_t r = rank_of(count, pcts[i]), cum = 0, v = 0;
		for (; v < 65536; v++) {
			cum += h[v];
			if (cum > r)
				break;
		}
		fprintf(f, ", \"p%u\": %" PRIu64, pcts[i], v);
	}
	fputc('}', f);
}

/* Exact quantiles of a list of values (sorts it). */
static void json_vec(FILE *f, struct u64vec *a)
{
	if (!a->n) {
		fputs("{\"count\": 0}", f);
		return;
	}
	qsort(a->v, a->n, sizeof(*a->v), u64_cmp);
	fprintf(f, "{\"count\": %zu, \"min\": %" PRIu64 ", \"max\": %" PRIu64, a->n, a->v[0],
	        a->v[a->n - 1]);
	for (size_t i = 0; i < 4; i++)
		fprintf(f, ", \"p%u\": %" PRIu64, pcts[i], a->v[rank_of(a->n, pcts[i])]);
	fputc('}', f);
}

static void json_top_strtab(FILE *f, const struct strtab *s, const struct cand *c1,
                            const struct cand *c2)
{
	size_t cap = s->len + (c1 ? c1->n + c2->n : 0) + 1;
	struct topent *e = xmalloc(cap * sizeof(*e));
	size_t n = 0;
	for (uint32_t i = 0; i < s->len; i++)
		if (s->n[i]) {
			e[n].name = s->s[i];
			e[n].n = s->n[i];
			n++;
		}
	if (c1) {
		for (uint32_t i = 0; i < c1->n; i++)
			e[n++] = (struct topent){c1->name[i], 1};
		for (uint32_t i = 0; i < c2->n; i++)
			e[n++] = (struct topent){c2->name[i], 2};
	}
	json_top(f, e, n);
	free(e);
}

static void json_dns(FILE *f, struct gen *g)
{
	struct dns_truth *d = &g->t.dns;
	const struct {
		const char *k;
		uint64_t v;
	} kv[] = {
	    {"wire_packets.total", d->total},
	    {"wire_packets.queries", d->queries},
	    {"wire_packets.replies", d->replies},
	    {"wire_packets.udp", d->udp},
	    {"wire_packets.tcp", d->tcp},
	    {"wire_packets.ipv4", d->ipv4},
	    {"wire_packets.ipv6", d->ipv6},
	    {"wire_packets.noerror", d->noerror},
	    {"wire_packets.nxdomain", d->nxdomain},
	    {"wire_packets.srvfail", d->srvfail},
	    {"wire_packets.refused", d->refused},
	    {"wire_packets.nodata", d->nodata},
	    {"wire_packets.query_ecs", d->query_ecs},
	    {"wire_packets.edns", d->edns},
	    {"wire_packets.do_bit", d->do_bit},
	    {"wire_packets.truncated", d->truncated},
	    {"xact.counts.total", d->xact_total},
	    {"xact.in.total", d->xact_in},
	    {"xact.out.total", d->xact_out},
	    {"xact.late_replies", d->late},
	    {"queries_unanswered", d->unanswered},
	    {"cardinality.qname", d->names_used + d->flood_names},
	    {"cardinality.clients", (uint64_t)d->clients.len},
	};
	fputs("  \"dns\": {\n", f);
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		fprintf(f, "    \"%s\": %" PRIu64 ",\n", kv[i].k, kv[i].v);
	fputs("    \"xact.in.quantiles_us\": ", f);
	json_vec(f, &d->lat_in);
	fputs(",\n    \"xact.out.quantiles_us\": ", f);
	json_vec(f, &d->lat_out);
	fputs(",\n    \"response_size\": ", f);
	json_hist(f, d->rsize, d->rsize_n);
	fputs(",\n    \"top_qname2\": ", f);
	json_top_strtab(f, &d->q2, NULL, NULL);
	fputs(",\n    \"top_qname3\": ", f);
	json_top_strtab(f, &d->q3, &d->rnd1, &d->rnd2);
	fputs(",\n    \"top_qtype\": ", f);
	struct topent e[NQTYPES + 16];
	size_t n = 0;
	for (size_t i = 0; i < NQTYPES; i++)
		if (d->qtype[i])
			e[n++] = (struct topent){qtypes[i].name, d->qtype[i]};
	json_top(f, e, n);
	fputs(",\n    \"top_rcode\": ", f);
	static const char *const rcn[16] = {"NOERROR",  "FORMERR", "SERVFAIL",
	                                    "NXDOMAIN", "NOTIMP",  "REFUSED"};
	n = 0;
	for (size_t i = 0; i < 16; i++)
		if (d->rcode[i])
			e[n++] = (struct topent){rcn[i] ? rcn[i] : "?", d->rcode[i]};
	json_top(f, e, n);
	fputs(",\n    \"top_clients\": ", f);
	json_top_addrs(f, &d->clients, 0);
	fputs("\n  },\n", f);
}

static const char *const profile_names[] = {"mixed", "dns", "flood"};

static void write_truth(struct gen *g, FILE *f)
{
	struct truth *t = &g->t;
	fprintf(f,
	        "{\n  \"packets_total\": %" PRIu64 ",\n  \"seed\": %" PRIu64
	        ",\n  \"profile\": \"%s\",\n  \"start_ts\": %" PRIu64 ",\n  \"end_ts\": %" PRIu64
	        ",\n  \"duration\": %u,\n  \"window\": %u,\n  \"clients\": %u,\n"
	        "  \"host_net\": \"10.0.0.0/16,fd00:1::/64\",\n  \"packets\": {\n",
	        g->o.packets, g->o.seed, profile_names[g->o.profile], t->first_sec, t->last_sec,
	        g->o.duration, g->o.window, g->o.clients);
	fputs("    ", f);
	json_ctr(f, &t->all, "", ",\n    ");
	fprintf(f, ",\n    \"cardinality.src_ips_in\": %zu,\n    \"cardinality.dst_ips_out\": %zu",
	        t->in_src.len, t->out_dst.len);
	fputs(",\n    \"top_ipv4\": ", f);
	json_top_addrs(f, &t->top, 4);
	fputs(",\n    \"top_ipv6\": ", f);
	json_top_addrs(f, &t->top, 6);
	fputs(",\n    \"payload_size\": ", f);
	json_hist(f, t->psize, t->psize_n);
	fputs(",\n    \"rates\": {\n", f);
	uint64_t lo = t->first_sec - g->o.start_ts, n = t->last_sec - t->first_sec + 1;
	static const char *const rn[RT_N] = {"total", "in", "out"};
	for (int k = 0; k < RT_N; k++) {
		fprintf(f, "      \"pps_%s\": ", rn[k]);
		json_rate(f, t->sec[k], lo, n);
		fputs(",\n", f);
	}
	for (int k = 0; k < RT_N; k++) {
		fprintf(f, "      \"bytes_%s\": ", rn[k]);
		json_rate(f, t->secb[k], lo, n);
		fputs(k + 1 < RT_N ? ",\n" : "\n", f);
	}
	fputs("    }\n  },\n", f);
	json_dns(f, g);
	fputs("  \"windows\": [\n", f);
	uint64_t w0 = t->first_sec / g->o.window, w1 = t->last_sec / g->o.window;
	for (uint64_t w = w0; w <= w1; w++) {
		fprintf(f, "    {\"start_ts\": %" PRIu64 ", ", w * g->o.window);
		json_ctr(f, &t->win[w - t->win0], "packets.", ", ");
		fputs(w < w1 ? "},\n" : "}\n", f);
	}
	fputs("  ]\n}\n", f);
	if (ferror(f))
		die_io("cannot write", g->o.truth);
	if (fclose(f) != 0)
		die_io("cannot write", g->o.truth);
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f)
{
	fputs("usage: pvgen --out FILE.pcap --truth FILE.json [options]\n"
	      "Writes a deterministic pcap of mixed traffic and the exact metric values.\n"
	      "  --packets N         packets to write (default 100000)\n"
	      "  --seed S            PRNG seed (default 1)\n"
	      "  --start-ts EPOCH    first second (default 1700000000)\n"
	      "  --duration SECONDS  capture length (default ceil(packets / 100000), min 1)\n"
	      "  --window SECONDS    window length of the per-window truth (default 60)\n"
	      "  --clients N         remote client addresses per family (default 10000)\n"
	      "  --profile P         mixed (default) | dns | flood\n"
	      "  --vlan-fraction F   share of events with 802.1Q tags (default 0.05)\n"
	      "  --ipv6-fraction F   share of events over IPv6 (default 0.3)\n"
	      "  --help              this text\n"
	      "Host networks of the generated traffic: 10.0.0.0/16,fd00:1::/64.\n"
	      "Exit status: 0 ok, 1 bad usage, 2 I/O error.\n",
	      f);
}

static void bad(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "pvgen: bad %s '%s': %s (see --help)\n", opt, val, why);
	exit(EXIT_USAGE);
}

static uint64_t parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	errno = 0;
	if (*s == '-' || *s == 0)
		bad(opt, s, "not a non-negative integer");
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		bad(opt, s, "not a non-negative integer");
	if (v < min || v > max) {
		char why[96];
		snprintf(why, sizeof(why), "must be in [%" PRIu64 ", %" PRIu64 "]", min, max);
		bad(opt, s, why);
	}
	return v;
}

static double parse_frac(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || *s == 0 || !(v >= 0.0 && v <= 1.0))
		bad(opt, s, "must be a number in [0, 1]");
	return v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	enum {
		O_OUT = 256,
		O_TRUTH,
		O_PACKETS,
		O_SEED,
		O_START,
		O_DUR,
		O_WIN,
		O_CLIENTS,
		O_PROF,
		O_VLAN,
		O_V6,
		O_HELP
	};
	static const struct option lo[] = {
	    {"out", required_argument, NULL, O_OUT},
	    {"truth", required_argument, NULL, O_TRUTH},
	    {"packets", required_argument, NULL, O_PACKETS},
	    {"seed", required_argument, NULL, O_SEED},
	    {"start-ts", required_argument, NULL, O_START},
	    {"duration", required_argument, NULL, O_DUR},
	    {"window", required_argument, NULL, O_WIN},
	    {"clients", required_argument, NULL, O_CLIENTS},
	    {"profile", required_argument, NULL, O_PROF},
	    {"vlan-fraction", required_argument, NULL, O_VLAN},
	    {"ipv6-fraction", required_argument, NULL, O_V6},
	    {"help", no_argument, NULL, O_HELP},
	    {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	o->packets = 100000;
	o->seed = 1;
	o->start_ts = 1700000000;
	o->window = 60;
	o->clients = 10000;
	o->vlan_frac = 0.05;
	o->v6_frac = 0.3;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_OUT:
			o->out = optarg;
			break;
		case O_TRUTH:
			o->truth = optarg;
			break;
		case O_PACKETS:
			o->packets = parse_u64("--packets", optarg, 1, UINT64_C(1) << 36);
			break;
		case O_SEED:
			o->seed = parse_u64("--seed", optarg, 0, UINT64_MAX);
			break;
		case O_START:
			o->start_ts = (uint32_t)parse_u64("--start-ts", optarg, 0, UINT32_MAX - 1);
			break;
		case O_DUR:
			o->duration = (uint32_t)parse_u64("--duration", optarg, 1, 100000000);
			break;
		case O_WIN:
			o->window = (uint32_t)parse_u64("--window", optarg, 1, 86400 * 366);
			break;
		case O_CLIENTS:
			o->clients = (uint32_t)parse_u64("--clients", optarg, 1, 10000000);
			break;
		case O_PROF:
			if (strcmp(optarg, "mixed") == 0)
				o->profile = PROF_MIXED;
			else if (strcmp(optarg, "dns") == 0)
				o->profile = PROF_DNS;
			else if (strcmp(optarg, "flood") == 0)
				o->profile = PROF_FLOOD;
			else
				bad("--profile", optarg, "one of mixed, dns, flood");
			break;
		case O_VLAN:
			o->vlan_frac = parse_frac("--vlan-fraction", optarg);
			break;
		case O_V6:
			o->v6_frac = parse_frac("--ipv6-fraction", optarg);
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			if (optopt)
				fprintf(stderr, "pvgen: option %s needs a value (see --help)\n",
				        argv[optind - 1]);
			else
				fprintf(stderr, "pvgen: unknown option %s (see --help)\n",
				        argv[optind - 1]);
			exit(EXIT_USAGE);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pvgen: unexpected argument '%s' (see --help)\n", argv[optind]);
		exit(EXIT_USAGE);
	}
	if (!o->out || !o->truth) {
		fprintf(stderr, "pvgen: --out and --truth are required (see --help)\n");
		exit(EXIT_USAGE);
	}
	if (!o->duration) {
		uint64_t d = (o->packets + 99999) / 100000;
		o->duration = (uint32_t)(d < 1 ? 1 : d);
	}
	if ((uint64_t)o->start_ts + o->duration > UINT32_MAX) {
		fprintf(
		    stderr,
		    "pvgen: --start-ts + --duration goes past the 32-bit pcap time (see --help)\n");
		exit(EXIT_USAGE);
	}
}

static void gen_init(struct gen *g, const struct opts *o)
{
	memset(g, 0, sizeof(*g));
	g->o = *o;
	rng_seed(&g->r, o->seed, 1);
	rng_seed(&g->rt, o->seed, 2);
	struct truth *t = &g->t;
	strtab_init(&t->dns.q2);
	strtab_init(&t->dns.q3);
	amap_init(&t->dns.clients);
	amap_init(&t->top);
	amap_init(&t->in_src);
	amap_init(&t->out_dst);
	names_init(g);
	endpoints_init(g);
	t->win0 = o->start_ts / o->window;
	t->nwin = ((uint64_t)o->start_ts + o->duration - 1) / o->window - t->win0 + 1;
	t->win = xcalloc(t->nwin, sizeof(*t->win));
	for (int k = 0; k < RT_N; k++) {
		t->sec[k] = xcalloc(o->duration, sizeof(uint64_t));
		t->secb[k] = xcalloc(o->duration, sizeof(uint64_t));
	}
	t->psize = xcalloc(65536, sizeof(*t->psize));
	t->dns.rsize = xcalloc(65536, sizeof(*t->dns.rsize));
	g->xring = xcalloc(XRING, sizeof(*g->xring));
	g->pool = xmalloc(POOL_CAP * sizeof(*g->pool));
	g->freel = xmalloc(POOL_CAP * sizeof(*g->freel));
	g->heap = xmalloc(POOL_CAP * sizeof(*g->heap));
	for (uint32_t i = 0; i < POOL_CAP; i++)
		g->freel[i] = POOL_CAP - 1 - i;
	g->nfree = POOL_CAP;
	if (o->profile == PROF_FLOOD) {
		g->flood_lo = 0;
		g->flood_hi = UINT64_MAX;
	} else {
		g->flood_lo = o->packets * 4 / 10;
		g->flood_hi = o->packets * 7 / 10;
	}
	ts_plan(g);
}

static void gen_fini(struct gen *g)
{
	struct truth *t = &g->t;
	free(g->cl4);
	free(g->cl6);
	free(g->zc.cdf);
	free(g->web4);
	free(g->web6);
	free(g->zw.cdf);
	free(g->names);
	free(g->zn.cdf);
	free(g->pool);
	free(g->freel);
	free(g->heap);
	free(g->per_sec);
	free(t->win);
	for (int k = 0; k < RT_N; k++) {
		free(t->sec[k]);
		free(t->secb[k]);
	}
	free(t->psize);
	free(t->dns.rsize);
	free(t->dns.lat_in.v);
	free(t->dns.lat_out.v);
	free(g->xring);
	amap_fini(&t->top);
	amap_fini(&t->in_src);
	amap_fini(&t->out_dst);
	amap_fini(&t->dns.clients);
	strtab_fini(&t->dns.q2);
	strtab_fini(&t->dns.q3);
}

int main(int argc, char **argv)
{
	struct opts o;
	parse_opts(argc, argv, &o);
	struct gen *g = xmalloc(sizeof(*g));
	gen_init(g, &o);

	/* both files first: a bad --truth path fails before the long part */
	FILE *f = fopen(o.out, "wb");
	if (!f)
		die_io("cannot create", o.out);
	FILE *tf = fopen(o.truth, "w");
	if (!tf)
		die_io("cannot create", o.truth);
	static char fbuf[1 << 22];
	setvbuf(f, fbuf, _IOFBF, sizeof(fbuf));
	write_pcap_header(f, o.out);

	uint64_t n = o.packets;
	for (uint64_t i = 0; i < n; i++) {
		g->now = i;
		/*
		 * A new event only when nothing is due, its packets fit in the
		 * slots left and the pool has room; otherwise the earliest
		 * scheduled packet goes now (the last slots drain the pool).
		 */
		while (g->nheap == 0 ||
		       (g->heap[0].due > i && g->nheap < n - i && g->nheap + EV_MAX <= POOL_CAP)) {
			uint64_t budget = n - i - g->nheap;
			gen_event(g, budget < EV_MAX ? budget : EV_MAX);
		}
		uint32_t slot = heap_pop(g);
		struct pkt *p = &g->pool[slot];
		struct pcap_rec rec;
		ts_next(g, &rec.sec, &rec.usec);
		rec.incl = rec.orig = p->len;
		if (fwrite(&rec, sizeof(rec), 1, f) != 1 || fwrite(p->buf, p->len, 1, f) != 1)
			die_io("cannot write", o.out);
		account(g, p, rec.sec, rec.usec);
		g->freel[g->nfree++] = slot;
	}
	if (fflush(f) != 0 || ferror(f))
		die_io("cannot write", o.out);
	if (fclose(f) != 0)
		die_io("cannot write", o.out);
	write_truth(g, tf);
	gen_fini(g);
	free(g);
	return 0;
}
