#include "shm/metrics.h"

#include <string.h>

#include "lib/err.h"
#include "shm/rate.h"

static_assert(sizeof(struct pv_capture_block) % sizeof(uint64_t) == 0, "u64 counters");
static_assert(sizeof(struct pv_packets_block) % sizeof(uint64_t) == 0, "u64 counters");

#define TOPK_INIT(field, key, seed) pv_topk_init((field), PV_TOPK_CAP, (key), (seed))

static void sketches_init(struct pv_packets_sketches *k, uint64_t seed)
{
	pv_hll_init(k->src_ips_in, PV_HLL_P);
	pv_hll_init(k->dst_ips_out, PV_HLL_P);
	pv_qs_init(k->payload_size, PV_QS_ALPHA_DEFAULT, PV_QS_SIZE_MIN, PV_QS_SIZE_NBUCKETS);
	TOPK_INIT(k->top_ipv4, 4, seed);
	TOPK_INIT(k->top_ipv6, 16, seed);
	TOPK_INIT(k->top_geo, PV_TOPK_NAME_MAX, seed);
	TOPK_INIT(k->top_asn, PV_TOPK_NAME_MAX, seed);
}

/* Each image must be exactly the sketch this layout places there, not just
 * any valid sketch: a reader relies on capacity and sizes too. */
static int sketches_check(const struct pv_packets_sketches *k)
{
	int rc;

	if ((rc = pv_hll_check(k->src_ips_in, sizeof(k->src_ips_in))) != PV_OK ||
	    (rc = pv_hll_check(k->dst_ips_out, sizeof(k->dst_ips_out))) != PV_OK ||
	    (rc = pv_qs_check(k->payload_size, sizeof(k->payload_size))) != PV_OK ||
	    (rc = pv_topk_check(k->top_ipv4, sizeof(k->top_ipv4))) != PV_OK ||
	    (rc = pv_topk_check(k->top_ipv6, sizeof(k->top_ipv6))) != PV_OK ||
	    (rc = pv_topk_check(k->top_geo, sizeof(k->top_geo))) != PV_OK ||
	    (rc = pv_topk_check(k->top_asn, sizeof(k->top_asn))) != PV_OK)
		return rc;
	if (pv_hll_precision(k->src_ips_in) != PV_HLL_P ||
	    pv_hll_precision(k->dst_ips_out) != PV_HLL_P ||
	    pv_topk_capacity(k->top_ipv4) != PV_TOPK_CAP ||
	    pv_topk_capacity(k->top_ipv6) != PV_TOPK_CAP ||
	    pv_topk_capacity(k->top_geo) != PV_TOPK_CAP ||
	    pv_topk_capacity(k->top_asn) != PV_TOPK_CAP)
		return PV_ECORRUPT;
	return PV_OK;
}

static int sketches_merge(struct pv_packets_sketches *d, const struct pv_packets_sketches *s)
{
	int rc;

	if ((rc = pv_hll_merge(d->src_ips_in, s->src_ips_in)) != PV_OK ||
	    (rc = pv_hll_merge(d->dst_ips_out, s->dst_ips_out)) != PV_OK ||
	    (rc = pv_qs_merge(d->payload_size, s->payload_size)) != PV_OK ||
	    (rc = pv_topk_merge(d->top_ipv4, s->top_ipv4)) != PV_OK ||
	    (rc = pv_topk_merge(d->top_ipv6, s->top_ipv6)) != PV_OK ||
	    (rc = pv_topk_merge(d->top_geo, s->top_geo)) != PV_OK ||
	    (rc = pv_topk_merge(d->top_asn, s->top_asn)) != PV_OK)
		return rc;
	return PV_OK;
}

static void sum_u64(void *dst, const void *src, size_t bytes)
{
	uint64_t *d = dst;
	const uint64_t *s = src;

	for (size_t i = 0; i < bytes / sizeof(uint64_t); i++)
		d[i] += s[i];
}

void pv_metrics_init(struct pv_metrics *m, uint64_t seed)
{
	sketches_init(&m->psk, seed);
	m->secs.first_sec = UINT64_MAX;
	m->secs.last_sec = 0;
}

void pv_metrics_drop_sketches(struct pv_metrics *m)
{
	const struct pv_rate_secs *r = &m->secs;

	sketches_init(&m->psk, 0);
	if (r->first_sec != UINT64_MAX &&
	    (r->last_sec < r->first_sec || r->last_sec - r->first_sec >= PV_RATE_MAX_SEC)) {
		m->secs.first_sec = UINT64_MAX;
		m->secs.last_sec = 0;
	}
}

int pv_metrics_check(const struct pv_metrics *m)
{
	const struct pv_rate_secs *r = &m->secs;

	if (r->first_sec != UINT64_MAX &&
	    (r->last_sec < r->first_sec || r->last_sec - r->first_sec >= PV_RATE_MAX_SEC))
		return PV_ECORRUPT;
	return sketches_check(&m->psk);
}

int pv_metrics_merge(struct pv_metrics *dst, const struct pv_metrics *src)
{
	int rc;

	/* Merging trusts the images' sizes and indices: never merge one that
	 * was not checked (once per window and shard, not per packet). */
	if ((rc = pv_metrics_check(dst)) != PV_OK || (rc = pv_metrics_check(src)) != PV_OK)
		return rc;
	rc = sketches_merge(&dst->psk, &src->psk);
	if (rc != PV_OK)
		return rc;
	sum_u64(&dst->capture, &src->capture, sizeof(dst->capture));
	sum_u64(&dst->packets, &src->packets, sizeof(dst->packets));
	sum_u64(dst->secs.v, src->secs.v, sizeof(dst->secs.v));
	if (src->secs.first_sec < dst->secs.first_sec)
		dst->secs.first_sec = src->secs.first_sec;
	if (src->secs.first_sec != UINT64_MAX && src->secs.last_sec > dst->secs.last_sec)
		dst->secs.last_sec = src->secs.last_sec;
	return PV_OK;
}

void pv_view_init(struct pv_view *v)
{
	memset(v, 0, sizeof(*v));
	sketches_init(&v->psk, 0);
	for (int i = 0; i < PV_RATE_N; i++)
		pv_qs_init(v->rates.qs[i], PV_QS_ALPHA_DEFAULT, PV_QS_RATE_MIN,
			   PV_QS_RATE_NBUCKETS);
}

int pv_view_check(const struct pv_view *v)
{
	for (int i = 0; i < PV_RATE_N; i++) {
		int rc = pv_qs_check(v->rates.qs[i], sizeof(v->rates.qs[i]));
		if (rc != PV_OK)
			return rc;
	}
	return sketches_check(&v->psk);
}

int pv_view_add_metrics(struct pv_view *v, const struct pv_metrics *m, uint64_t window_start_sec,
			uint64_t now_sec)
{
	const struct pv_rate_secs *r = &m->secs;
	int rc;

	if ((rc = pv_metrics_check(m)) != PV_OK)
		return rc;
	rc = sketches_merge(&v->psk, &m->psk);
	if (rc != PV_OK)
		return rc;
	sum_u64(&v->capture, &m->capture, sizeof(v->capture));
	sum_u64(&v->packets, &m->packets, sizeof(v->packets));
	if (r->first_sec == UINT64_MAX)
		return PV_OK;
	if (r->first_sec < window_start_sec || r->last_sec < r->first_sec ||
	    r->last_sec - window_start_sec >= PV_RATE_MAX_SEC)
		return PV_ECORRUPT;
	/* An open window's current second is still filling: leave it out. */
	uint64_t last = r->last_sec;
	if (now_sec && last >= now_sec)
		last = now_sec - 1;
	if (last >= r->first_sec)
		for (int k = 0; k < PV_RATE_N; k++)
			pv_rate_fold(v->rates.qs[k], &r->v[k][r->first_sec - window_start_sec],
				     (uint32_t)(last - r->first_sec + 1));
	if (last >= r->first_sec && last + 1 > v->rates.live_sec) {
		v->rates.live_sec = last + 1;
		for (int k = 0; k < PV_RATE_N; k++)
			v->rates.live[k] = r->v[k][last - window_start_sec];
	}
	return PV_OK;
}

int pv_view_merge(struct pv_view *dst, const struct pv_view *src)
{
	int rc;

	if ((rc = pv_view_check(dst)) != PV_OK || (rc = pv_view_check(src)) != PV_OK)
		return rc;
	rc = sketches_merge(&dst->psk, &src->psk);
	if (rc != PV_OK)
		return rc;
	for (int i = 0; i < PV_RATE_N; i++)
		if ((rc = pv_qs_merge(dst->rates.qs[i], src->rates.qs[i])) != PV_OK)
			return rc;
	sum_u64(&dst->capture, &src->capture, sizeof(dst->capture));
	sum_u64(&dst->packets, &src->packets, sizeof(dst->packets));
	if (src->rates.live_sec > dst->rates.live_sec) {
		dst->rates.live_sec = src->rates.live_sec;
		memcpy(dst->rates.live, src->rates.live, sizeof(dst->rates.live));
	}
	return PV_OK;
}
