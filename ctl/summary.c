#include "ctl/summary.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "shm/hll.h"
#include "shm/quantile.h"
#include "shm/topk.h"

const char *const pv_rate_names[PV_RATE_N] = {"pps_in",   "pps_out",   "pps_total",
					      "bytes_in", "bytes_out", "bytes_total"};
const char *const pv_top_names[PV_TOP_N] = {"top_ipv4", "top_ipv6", "top_geoLoc", "top_ASN"};

enum img_kind { IMG_HLL, IMG_QS, IMG_TOPK };

/* An 8-byte aligned, checked copy of an image, or NULL when absent. */
static int image_load(const ProtobufCBinaryData *b, enum img_kind kind, void **out)
{
	void *mem;
	int rc;

	*out = NULL;
	if (!b || b->len == 0)
		return PV_OK;
	mem = malloc(b->len);
	if (!mem)
		return -ENOMEM;
	memcpy(mem, b->data, b->len);
	switch (kind) {
	case IMG_HLL:
		rc = pv_hll_check(mem, b->len);
		break;
	case IMG_QS:
		rc = pv_qs_check(mem, b->len);
		break;
	default:
		rc = pv_topk_check(mem, b->len);
		break;
	}
	if (rc != PV_OK) {
		free(mem);
		return rc;
	}
	*out = mem;
	return PV_OK;
}

static int card(const ProtobufCBinaryData *b, uint64_t *out)
{
	void *h;
	int rc = image_load(b, IMG_HLL, &h);

	*out = 0;
	if (rc == PV_OK && h)
		*out = pv_hll_estimate(h);
	free(h);
	return rc;
}

static int quant(const ProtobufCBinaryData *b, struct pv_quant *q)
{
	void *s;
	int rc = image_load(b, IMG_QS, &s);

	memset(q, 0, sizeof(*q));
	if (rc != PV_OK || !s)
		return rc;
	q->count = pv_qs_count(s);
	if (q->count) {
		q->min = pv_qs_min(s);
		q->max = pv_qs_max(s);
		q->p50 = pv_qs_quantile(s, 0.50);
		q->p90 = pv_qs_quantile(s, 0.90);
		q->p95 = pv_qs_quantile(s, 0.95);
		q->p99 = pv_qs_quantile(s, 0.99);
	}
	free(s);
	return PV_OK;
}

/* METRICS.md order: estimate descending, then name (the sketch breaks ties
 * by raw key bytes, which is not the text order of addresses). */
static int top_cmp(const void *x, const void *y)
{
	const struct pv_top_entry *a = x, *b = y;
	uint32_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
	int c;

	if (a->estimate != b->estimate)
		return a->estimate > b->estimate ? -1 : 1;
	c = memcmp(a->name, b->name, n);
	if (c)
		return c;
	return a->name_len < b->name_len ? -1 : a->name_len > b->name_len;
}

static int top(const ProtobufCBinaryData *b, enum pv_top_kind kind, unsigned n,
	       struct pv_top_list *out)
{
	struct pv_topk_item items[PV_TOP_SHOWN_MAX];
	void *t;
	int rc = image_load(b, IMG_TOPK, &t);

	out->n = 0;
	if (rc != PV_OK || !t)
		return rc;
	out->n = pv_topk_list(t, items, n);
	for (uint32_t i = 0; i < out->n; i++) {
		struct pv_top_entry *e = &out->e[i];
		uint32_t len = items[i].key_len;

		e->estimate = items[i].estimate;
		if (kind == PV_TOP_IPV4 || kind == PV_TOP_IPV6) {
			int af = kind == PV_TOP_IPV4 ? AF_INET : AF_INET6;
			uint8_t a[16] = {0};
			memcpy(a, items[i].key, len > 16 ? 16 : len);
			if (!inet_ntop(af, a, e->name, sizeof(e->name)))
				strcpy(e->name, "?");
			e->name_len = (uint32_t)strlen(e->name);
		} else {
			if (len > PV_TOPK_NAME_MAX)
				len = PV_TOPK_NAME_MAX;
			memcpy(e->name, items[i].key, len);
			e->name[len] = 0;
			e->name_len = len;
		}
	}
	free(t);
	qsort(out->e, out->n, sizeof(out->e[0]), top_cmp);
	return PV_OK;
}

int pv_packets_summarize(const Pvisor__Packets *p, unsigned top_n, struct pv_packets_summary *out)
{
	const ProtobufCBinaryData *tops[PV_TOP_N];
	Pvisor__Rate *rates[PV_RATE_N] = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	if (!p)
		return PV_OK;
	if (top_n < 1)
		top_n = 1;
	if (top_n > PV_TOP_SHOWN_MAX)
		top_n = PV_TOP_SHOWN_MAX;
	tops[PV_TOP_IPV4] = &p->top_ipv4;
	tops[PV_TOP_IPV6] = &p->top_ipv6;
	tops[PV_TOP_GEO] = &p->top_geo_loc;
	tops[PV_TOP_ASN] = &p->top_asn;
	if ((rc = card(&p->src_ips_in, &out->src_ips_in)) != PV_OK ||
	    (rc = card(&p->dst_ips_out, &out->dst_ips_out)) != PV_OK ||
	    (rc = quant(&p->payload_size, &out->payload_size)) != PV_OK)
		return rc;
	for (int k = 0; k < PV_TOP_N; k++)
		if ((rc = top(tops[k], (enum pv_top_kind)k, top_n, &out->top[k])) != PV_OK)
			return rc;
	if (p->rates) {
		rates[PV_RATE_PPS_IN] = p->rates->pps_in;
		rates[PV_RATE_PPS_OUT] = p->rates->pps_out;
		rates[PV_RATE_PPS_TOTAL] = p->rates->pps_total;
		rates[PV_RATE_BYTES_IN] = p->rates->bytes_in;
		rates[PV_RATE_BYTES_OUT] = p->rates->bytes_out;
		rates[PV_RATE_BYTES_TOTAL] = p->rates->bytes_total;
	}
	for (int k = 0; k < PV_RATE_N; k++) {
		if (!rates[k])
			continue;
		if ((rc = quant(&rates[k]->quantiles, &out->rate[k])) != PV_OK)
			return rc;
		out->rate_live[k] = rates[k]->live;
	}
	return PV_OK;
}
