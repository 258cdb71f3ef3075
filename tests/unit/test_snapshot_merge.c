/*
 * Snapshots carry the full sketch state: a remote reader that has only the
 * wire messages can merge windows itself and gets exactly what the
 * aggregator's own merge gives. Two workers count synthetic packets into
 * three windows through the real per-packet path (pv_count_packet); the
 * aggregator merges them; the test asks for every window (WINDOWS) and for
 * all three merged (MERGED 3) over the request handler, merges the windows'
 * images itself with the sketch functions, and compares: HLL and quantile
 * images byte for byte, top-K lists entry for entry, counters exactly. The
 * expected packet totals come from the loop that fed the workers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <urcu.h>

#include "aggregator/agg.h"
#include "aggregator/server.h"
#include "lib/err.h"
#include "lib/version.h"
#include "pvisor.pb-c.h"
#include "sensor/count.h"
#include "shm/metrics.h"
#include "shm/region.h"

#define WINDOW_SEC 10u
#define BASE_W 170000000ull
#define NWIN 3u
#define PER_WINDOW 3000u

static char instance[64];

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/* Inbound IPv4 UDP packets from a Zipf-ish set of clients to 10.0.0.1. */
static void feed(struct pv_metrics *m, struct pv_count_ctx *cc, uint64_t seed, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct pv_pkt p;
		uint64_t r = lcg(&seed);
		uint32_t client = (uint32_t)(r % 7 == 0 ? r % 5000 : r % 40);

		memset(&p, 0, sizeof(p));
		p.l3 = 4;
		p.l4proto = PV_IPPROTO_UDP;
		p.l4 = 1;
		p.wire_len = 60 + (uint32_t)(r % 900);
		p.payload_len = p.wire_len - 42;
		p.src[0] = 198;
		p.src[1] = 51;
		p.src[2] = (uint8_t)(client >> 8);
		p.src[3] = (uint8_t)client;
		p.dst[0] = 10;
		p.dst[3] = 1;
		cc->sec_idx = i % WINDOW_SEC;
		pv_count_packet(m, &p, cc);
	}
}

static Pvisor__Response *ask(struct pv_agg *a, Pvisor__Request__Kind kind, uint32_t count)
{
	Pvisor__Request rq = PVISOR__REQUEST__INIT;
	uint8_t buf[64], *resp;
	size_t len, rlen;
	Pvisor__Response *r;

	rq.schema = PV_SCHEMA_VERSION;
	rq.kind = kind;
	rq.count = count;
	len = pvisor__request__pack(&rq, buf);
	assert_int_equal(pv_server_handle(a, instance, buf, len, &resp, &rlen), 0);
	r = pvisor__response__unpack(NULL, rlen, resp);
	free(resp);
	assert_non_null(r);
	assert_int_equal(r->code, 0);
	return r;
}

/* An 8-byte aligned copy of an image. */
static void *image(const ProtobufCBinaryData *b)
{
	void *m = aligned_alloc(8, (b->len + 7) / 8 * 8);

	assert_non_null(m);
	memcpy(m, b->data, b->len);
	return m;
}

static void merge_into(void **acc, const ProtobufCBinaryData *b, int (*merge)(void *, const void *))
{
	void *img = image(b);

	if (!*acc) {
		*acc = img;
		return;
	}
	assert_int_equal(merge(*acc, img), PV_OK);
	free(img);
}

static void same_bytes(const void *mine, const ProtobufCBinaryData *theirs)
{
	assert_memory_equal(mine, theirs->data, theirs->len);
}

static void same_top(const void *mine, const ProtobufCBinaryData *theirs)
{
	struct pv_topk_item a[64], b[64];
	void *t = image(theirs);
	uint32_t na, nb;

	assert_int_equal(pv_topk_check(t, theirs->len), PV_OK);
	na = pv_topk_list(mine, a, 64);
	nb = pv_topk_list(t, b, 64);
	assert_true(na > 0);
	assert_int_equal(na, nb);
	for (uint32_t i = 0; i < na; i++) {
		assert_int_equal(a[i].key_len, b[i].key_len);
		assert_memory_equal(a[i].key, b[i].key, a[i].key_len);
		assert_int_equal(a[i].estimate, b[i].estimate);
		assert_int_equal(a[i].error, b[i].error);
	}
	assert_int_equal(pv_topk_total(mine), pv_topk_total(t));
	free(t);
}

/* Runs even when an assertion fails: no region is left behind. */
static int teardown(void **state)
{
	(void)state;
	pv_region_unlink(instance);
	return 0;
}

static void test_remote_merge_equals_aggregator_merge(void **state)
{
	struct pv_region_params rp = {0};
	struct pv_agg_opts o = {0};
	struct pv_cidr_set hn;
	struct pv_count_ctx cc = {0};
	struct pv_region w;
	struct pv_agg *a;
	Pvisor__Response *all, *merged;
	void *hll = NULL, *qs = NULL, *top4 = NULL, *rate = NULL;
	uint64_t total = 0;

	(void)state;
	snprintf(instance, sizeof(instance), "pvtest-snapmerge-%d", (int)getpid());
	rp.instance = instance;
	rp.sensor_id = "t";
	rp.source = "synthetic";
	rp.workers = 2;
	rp.slots = 4;
	rp.window_sec = WINDOW_SEC;
	rp.mode = PV_MODE_PCAP;
	rp.owner_uid = (uid_t)-1;
	rp.owner_gid = (gid_t)-1;
	assert_int_equal(pv_region_create(&w, &rp), PV_OK);

	pv_cidr_set_init(&hn);
	assert_int_equal(pv_cidr_set_parse(&hn, "10.0.0.0/8", NULL, 0), PV_OK);
	cc.hostnets = &hn;
	for (uint32_t k = 0; k < NWIN; k++) {
		for (uint32_t s = 0; s < 2; s++) {
			struct pv_metrics *m = pv_slot_begin(&w, s, BASE_W + k);
			pv_metrics_init(m, 77);
			m->secs.first_sec = (BASE_W + k) * WINDOW_SEC;
			m->secs.last_sec = m->secs.first_sec + WINDOW_SEC - 1;
			feed(m, &cc, 1000 * k + s + 1, PER_WINDOW + 100 * s);
			total += PER_WINDOW + 100 * s;
			pv_slot_seal(&w, s, k + 1 < NWIN ? BASE_W + k + 1 : UINT64_MAX);
		}
	}
	for (uint32_t s = 0; s < 2; s++)
		pv_store32(&pv_region_shard(&w, s)->state, PV_SHARD_DONE);
	pv_store32(&w.hdr->state, PV_REGION_STOPPED);

	o.instance = instance;
	o.history = 10;
	o.grace_ns = 60000000000ull;
	a = pv_agg_alloc(&o);
	assert_non_null(a);
	for (int i = 0; i < 10; i++)
		pv_agg_step(a);

	all = ask(a, PVISOR__REQUEST__KIND__WINDOWS, 0);
	merged = ask(a, PVISOR__REQUEST__KIND__MERGED, NWIN);
	assert_int_equal(all->n_windows, NWIN);
	assert_int_equal(merged->snapshot->packets->total, total);
	assert_int_equal(merged->snapshot->sketch_layout, PV_SHM_LAYOUT_VERSION);

	/* The remote reader's merge, from the wire alone, in window order. */
	uint64_t sum = 0;
	for (size_t i = 0; i < all->n_windows; i++) {
		const Pvisor__Packets *p = all->windows[i]->packets;
		sum += p->total;
		merge_into(&hll, &p->src_ips_in, pv_hll_merge);
		merge_into(&qs, &p->payload_size, pv_qs_merge);
		merge_into(&top4, &p->top_ipv4, pv_topk_merge);
		merge_into(&rate, &p->rates->pps_total->quantiles, pv_qs_merge);
	}
	assert_int_equal(sum, total);
	same_bytes(hll, &merged->snapshot->packets->src_ips_in);
	same_bytes(qs, &merged->snapshot->packets->payload_size);
	same_bytes(rate, &merged->snapshot->packets->rates->pps_total->quantiles);
	same_top(top4, &merged->snapshot->packets->top_ipv4);
	/* Every packet was inbound: the payload sketch counted each one. */
	assert_int_equal(pv_qs_count(qs), total);
	/* Per-second rates: NWIN windows of WINDOW_SEC seconds each. */
	assert_int_equal(pv_qs_count(rate), NWIN * WINDOW_SEC);

	free(hll);
	free(qs);
	free(top4);
	free(rate);
	pvisor__response__free_unpacked(all, NULL);
	pvisor__response__free_unpacked(merged, NULL);
	pv_agg_free(a);
	pv_region_close(&w);
	pv_region_unlink(instance);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_remote_merge_equals_aggregator_merge, teardown),
	};
	int rc;

	rcu_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return rc;
}
