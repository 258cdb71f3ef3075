/*
 * libFuzzer target for the aggregator's request handler
 * (aggregator/server.c, pv_server_handle): the bytes any local client can
 * send to the control socket. On the first input it plays a sensor once: a
 * region with a unique instance name, two shards, three sealed windows and
 * an open one, merged by a pv_agg holding two, so every request kind has
 * something to answer (and something to refuse). Then each input goes to the
 * handler, and besides the sanitizers the target checks the contract: the
 * handler returns 0, its answer unpacks as a Response of schema 1, an error
 * carries a message, and the error code follows from what the request
 * unpacks to (not a Request: PV_EMALFORMED; newer schema: PV_EVERSION;
 * unknown kind: PV_EUNSUPPORTED). The region is removed at exit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <urcu.h>

#include "aggregator/agg.h"
#include "aggregator/server.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "pvisor.pb-c.h"
#include "shm/metrics.h"
#include "shm/region.h"

#define MAX_REQUEST 4096 /* aggregator/server.c */
#define BASE_W 170000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pv_region region;
static struct pv_agg *agg;
static char inst[PV_INSTANCE_MAX];

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_request: %s\n", what);
		abort();
	}
}

static void teardown(void)
{
	pv_agg_free(agg);
	agg = NULL;
	pv_region_close(&region);
	pv_region_unlink(inst);
}

static void window(uint32_t shard, uint64_t w, uint64_t next)
{
	struct pv_metrics *m = pv_slot_begin(&region, shard, w);

	pv_metrics_init(m, region.hdr->hash_seed);
	m->packets.total = 10 * (w - BASE_W) + shard + 1;
	m->packets.ipv4 = m->packets.total;
	m->packets.udp = m->packets.total;
	m->packets.bytes_total = 100 * m->packets.total;
	m->capture.decode_truncated = shard;
	if (next != PV_SHM_NO_WINDOW)
		pv_slot_seal(&region, shard, next);
}

static void setup(void)
{
	struct pv_region_params p = {
		.sensor_id = "fuzz",
		.source = "/tmp/fuzz.pcap",
		.workers = 2,
		.slots = 4,
		.window_sec = 10,
		.mode = PV_MODE_PCAP,
		.owner_uid = (uid_t)-1,
		.owner_gid = (gid_t)-1,
	};
	struct pv_agg_opts o = {.history = 2, .grace_ns = 3600 * 1000000000ull};

	pv_log_init("fuzz_request", PV_LOG_ERR);
	rcu_register_thread();
	snprintf(inst, sizeof(inst), "pvfuzz-req-%d", (int)getpid());
	p.instance = inst;
	o.instance = inst;
	check(pv_region_create(&region, &p) == PV_OK, "cannot create the region");
	atexit(teardown);
	for (uint32_t s = 0; s < 2; s++) {
		struct pv_shard_hdr *sh = pv_region_shard(&region, s);
		pv_store64(&sh->heartbeat_ns, pv_mono_ns());
		pv_store32(&sh->state, PV_SHARD_RUNNING);
		for (uint64_t w = BASE_W; w < BASE_W + 3; w++)
			window(s, w, w + 1);
		window(s, BASE_W + 3, PV_SHM_NO_WINDOW); /* open: LIVE */
	}
	pv_store32(&region.hdr->state, PV_REGION_RUNNING);
	agg = pv_agg_alloc(&o);
	check(agg != NULL, "pv_agg_alloc");
	check(pv_agg_step(agg) == 3, "the three sealed windows are not merged");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = NULL;
	size_t out_len = 0;
	Pvisor__Request *rq = NULL;
	Pvisor__Response *r;

	if (!agg)
		setup();
	check(pv_server_handle(agg, inst, data, size, &out, &out_len) == 0,
	      "pv_server_handle did not return 0");
	check(out != NULL, "no response buffer");
	r = pvisor__response__unpack(NULL, out_len, out);
	free(out);
	check(r != NULL, "the response does not unpack");
	check(r->schema == 1, "response schema is not 1");
	check(r->code == 0 ? r->error[0] == 0 : r->error[0] != 0,
	      "error message does not match the code");

	if (size <= MAX_REQUEST)
		rq = pvisor__request__unpack(NULL, size, data);
	if (!rq) {
		check(r->code == PV_EMALFORMED, "undecodable request not PV_EMALFORMED");
	} else if (rq->schema > 1) {
		check(r->code == PV_EVERSION, "newer schema not PV_EVERSION");
	} else if ((int)rq->kind < PVISOR__REQUEST__KIND__STATUS ||
		   (int)rq->kind > PVISOR__REQUEST__KIND__WINDOWS) {
		check(r->code == PV_EUNSUPPORTED, "unknown kind not PV_EUNSUPPORTED");
	} else {
		switch (rq->kind) {
		case PVISOR__REQUEST__KIND__STATUS:
			check(r->code == 0 && r->status && r->status->windows_held == 2,
			      "status");
			break;
		case PVISOR__REQUEST__KIND__WINDOW:
			check(rq->index < 2 ? r->code == 0 && r->snapshot != NULL
					    : r->code == PV_ENOTFOUND,
			      "window");
			break;
		case PVISOR__REQUEST__KIND__MERGED:
			check(rq->count ? r->code == 0 && r->snapshot &&
						  r->snapshot->window->windows_merged ==
							  (rq->count < 2 ? 1 : 2)
					: r->code == PV_ECONFIG,
			      "merged");
			break;
		case PVISOR__REQUEST__KIND__LIVE:
		case PVISOR__REQUEST__KIND__TOTAL:
			check(r->code == 0 && r->snapshot != NULL, "live/total");
			break;
		case PVISOR__REQUEST__KIND__WINDOWS:
			check(r->code == 0 && r->n_windows == 2, "windows");
			break;
		default:
			break;
		}
	}
	if (rq)
		pvisor__request__free_unpacked(rq, NULL);
	pvisor__response__free_unpacked(r, NULL);
	return 0;
}
