#include "aggregator/server.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/transport/ipc/ipc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator/snapshot.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/version.h"
#include "pvisor.pb-c.h"

#define RECV_TIMEOUT_MS 200
#define MAX_REQUEST 4096

struct pv_server {
	nng_socket sock;
	pthread_t thread;
	struct pv_agg *agg;
	char instance[64];
	volatile int stop;
};

static const char *shard_state_name(uint32_t st)
{
	switch (st) {
	case PV_SHARD_IDLE:
		return "idle";
	case PV_SHARD_RUNNING:
		return "running";
	case PV_SHARD_DEAD:
		return "dead";
	case PV_SHARD_DONE:
		return "done";
	default:
		return "corrupt";
	}
}

static const char *region_state_name(uint32_t st)
{
	switch (st) {
	case PV_REGION_STARTING:
		return "starting";
	case PV_REGION_RUNNING:
		return "running";
	case PV_REGION_STOPPED:
		return "stopped";
	default:
		return "corrupt";
	}
}

/* Everything a response points to, freed at once after packing. */
struct resp_buf {
	Pvisor__Response resp;
	Pvisor__Status status;
	Pvisor__WorkerStatus ws[PV_SHM_MAX_WORKERS];
	Pvisor__WorkerStatus *wsp[PV_SHM_MAX_WORKERS];
	struct pv_snap_buf snap;
	struct pv_window merged;
	struct pv_snap_buf *wins;
	Pvisor__Snapshot **winp;
	char source[128], sensor[64];
};

static void fill_status(struct resp_buf *b, const struct pv_agg_state *s, const char *instance)
{
	Pvisor__Status *st = &b->status;
	const struct pv_region *r = s->region;
	uint64_t now = pv_mono_ns(), overwritten = 0;

	pvisor__status__init(st);
	st->schema = PV_SCHEMA_VERSION;
	st->sensor = (char *)s->sensor;
	st->instance = (char *)instance;
	st->source = (char *)s->source;
	st->windows_held = s->nwin;
	st->history = s->history;
	st->windows_merged_total = s->merged_count;
	st->sensor_finished = s->finished;
	st->aggregator_pid = s->pid;
	st->windows_incomplete = s->total.x.incomplete;
	if (s->nwin) {
		st->oldest_window_ts = s->win[0]->window_id * s->win[0]->window_sec;
		st->newest_window_ts = s->win[s->nwin - 1]->window_id * s->win[s->nwin - 1]->window_sec;
	}
	if (!r) {
		st->region_state = (char *)"absent";
		st->mode = (char *)"";
		return;
	}
	st->region_state = (char *)region_state_name(pv_load32(&r->hdr->state));
	st->mode = (char *)(r->hdr->mode == PV_MODE_PCAP ? "pcap" : "live");
	st->window_length = r->hdr->window_sec;
	st->slots = r->slots;
	st->sensor_start_ts = r->hdr->start_ns / 1000000000ull;
	st->supervisor_pid = r->hdr->supervisor_pid;
	st->interface_drops = pv_load64((uint64_t *)&r->hdr->iface_drops);
	for (uint32_t i = 0; i < r->workers; i++) {
		struct pv_shard_hdr *sh = pv_region_shard(r, i);
		Pvisor__WorkerStatus *w = &b->ws[i];
		uint64_t hb = pv_load64(&sh->heartbeat_ns);

		pvisor__worker_status__init(w);
		w->shard = i;
		w->pid = __atomic_load_n(&sh->pid, __ATOMIC_ACQUIRE);
		w->state = (char *)shard_state_name(pv_load32(&sh->state));
		w->restarts = pv_load64(&sh->restarts);
		w->heartbeat_age_ms = hb ? (int64_t)((now > hb ? now - hb : 0) / 1000000ull) : -1;
		w->ring_packets = pv_load64(&sh->ring_packets);
		w->ring_drops = pv_load64(&sh->ring_drops);
		w->ring_freezes = pv_load64(&sh->ring_freezes);
		w->windows_overwritten_unread = pv_load64(&sh->overwritten_unread);
		overwritten += w->windows_overwritten_unread;
		b->wsp[i] = w;
	}
	st->n_workers = r->workers;
	st->workers = b->wsp;
	st->windows_overwritten_unread = overwritten;
}

static int fail(struct resp_buf *b, int code, const char *msg)
{
	b->resp.code = code;
	b->resp.error = (char *)msg;
	return code;
}

static void handle(struct resp_buf *b, struct pv_agg *a, const char *instance,
		   const Pvisor__Request *rq, char *err, size_t err_len)
{
	struct pv_agg_state *s = pv_agg_state_get(a);

	memcpy(b->sensor, s->sensor, sizeof(b->sensor));
	if (rq->schema > PV_SCHEMA_VERSION) {
		snprintf(err, err_len, "request schema %u is newer than this aggregator's (%u)",
			 rq->schema, PV_SCHEMA_VERSION);
		fail(b, PV_EVERSION, err);
		return;
	}
	switch (rq->kind) {
	case PVISOR__REQUEST__KIND__STATUS:
		fill_status(b, s, instance);
		b->resp.status = &b->status;
		return;
	case PVISOR__REQUEST__KIND__WINDOW:
		if (rq->index >= s->nwin) {
			snprintf(err, err_len, "no sealed window at index %u (%u held)", rq->index,
				 s->nwin);
			fail(b, PV_ENOTFOUND, err);
			return;
		}
		pv_snapshot_fill(&b->snap, s->win[s->nwin - 1 - rq->index], s->sensor);
		b->resp.snapshot = &b->snap.snap;
		return;
	case PVISOR__REQUEST__KIND__MERGED: {
		uint32_t k = rq->count;
		if (k == 0) {
			fail(b, PV_ECONFIG, "merged needs a count of at least 1");
			return;
		}
		if (s->nwin == 0) {
			fail(b, PV_ENOTFOUND, "no sealed window yet");
			return;
		}
		if (k > s->nwin)
			k = s->nwin;
		memset(&b->merged, 0, sizeof(b->merged));
		for (uint32_t i = s->nwin - k; i < s->nwin; i++)
			pv_window_merge(&b->merged, s->win[i]);
		pv_snapshot_fill(&b->snap, &b->merged, s->sensor);
		b->resp.snapshot = &b->snap.snap;
		return;
	}
	case PVISOR__REQUEST__KIND__LIVE:
		if (pv_agg_live(s, &b->merged) != PV_OK) {
			fail(b, PV_ENOTFOUND, "no open window (is the sensor running?)");
			return;
		}
		pv_snapshot_fill(&b->snap, &b->merged, s->sensor);
		b->resp.snapshot = &b->snap.snap;
		return;
	case PVISOR__REQUEST__KIND__TOTAL:
		if (!s->have_total) {
			fail(b, PV_ENOTFOUND, "no sealed window yet");
			return;
		}
		pv_snapshot_fill(&b->snap, &s->total, s->sensor);
		b->resp.snapshot = &b->snap.snap;
		return;
	case PVISOR__REQUEST__KIND__WINDOWS:
		if (s->nwin == 0)
			return;
		b->wins = calloc(s->nwin, sizeof(*b->wins));
		b->winp = calloc(s->nwin, sizeof(*b->winp));
		if (!b->wins || !b->winp) {
			fail(b, -ENOMEM, "out of memory");
			return;
		}
		for (uint32_t i = 0; i < s->nwin; i++) {
			pv_snapshot_fill(&b->wins[i], s->win[i], s->sensor);
			b->winp[i] = &b->wins[i].snap;
		}
		b->resp.n_windows = s->nwin;
		b->resp.windows = b->winp;
		return;
	default:
		snprintf(err, err_len, "unknown request kind %d", (int)rq->kind);
		fail(b, PV_EUNSUPPORTED, err);
		return;
	}
}

int pv_server_handle(struct pv_agg *a, const char *instance, const uint8_t *req, size_t len,
		     uint8_t **resp, size_t *resp_len)
{
	struct resp_buf *b = calloc(1, sizeof(*b));
	Pvisor__Request *rq = NULL;
	char err[256];
	int rc = 0;

	*resp = NULL;
	*resp_len = 0;
	if (!b)
		return -ENOMEM;
	pvisor__response__init(&b->resp);
	b->resp.schema = PV_SCHEMA_VERSION;
	if (len > MAX_REQUEST)
		fail(b, PV_EMALFORMED, "request too large");
	else if (!(rq = pvisor__request__unpack(NULL, len, req)))
		fail(b, PV_EMALFORMED, "cannot decode the request (not a pvisor Request)");
	rcu_read_lock();
	if (rq)
		handle(b, a, instance, rq, err, sizeof(err));
	*resp_len = pvisor__response__get_packed_size(&b->resp);
	*resp = malloc(*resp_len ? *resp_len : 1);
	if (*resp)
		pvisor__response__pack(&b->resp, *resp);
	else
		rc = -ENOMEM;
	rcu_read_unlock();
	if (rq)
		pvisor__request__free_unpacked(rq, NULL);
	free(b->wins);
	free(b->winp);
	free(b);
	return rc;
}

static void *serve(void *arg)
{
	struct pv_server *s = arg;

	rcu_register_thread();
	while (!s->stop) {
		nng_msg *in = NULL, *out = NULL;
		uint8_t *resp;
		size_t len;
		int rv = nng_recvmsg(s->sock, &in, 0);

		if (rv == NNG_ETIMEDOUT)
			continue;
		if (rv != 0) {
			if (rv == NNG_ECLOSED)
				break;
			pv_warn("control socket receive: %s", nng_strerror(rv));
			continue;
		}
		if (pv_server_handle(s->agg, s->instance, nng_msg_body(in), nng_msg_len(in), &resp,
				     &len) != 0) {
			nng_msg_free(in);
			continue;
		}
		nng_msg_free(in);
		if (nng_msg_alloc(&out, 0) == 0 && nng_msg_append(out, resp, len) == 0) {
			rv = nng_sendmsg(s->sock, out, 0);
			if (rv != 0) {
				nng_msg_free(out);
				if (rv != NNG_ECLOSED)
					pv_warn("control socket send: %s", nng_strerror(rv));
			}
		} else if (out) {
			nng_msg_free(out);
		}
		free(resp);
	}
	rcu_unregister_thread();
	return NULL;
}

int pv_server_start(struct pv_server **out, struct pv_agg *a, const char *instance,
		    const char *url, char *why, size_t why_len)
{
	struct pv_server *s = calloc(1, sizeof(*s));
	nng_listener l;
	int rv;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->agg = a;
	snprintf(s->instance, sizeof(s->instance), "%s", instance);
	if ((rv = nng_rep0_open(&s->sock)) != 0) {
		snprintf(why, why_len, "nng rep socket: %s", nng_strerror(rv));
		free(s);
		return PV_ECONFIG;
	}
	nng_socket_set_ms(s->sock, NNG_OPT_RECVTIMEO, RECV_TIMEOUT_MS);
	nng_socket_set_ms(s->sock, NNG_OPT_SENDTIMEO, 2000);
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, MAX_REQUEST);
	if ((rv = nng_listener_create(&l, s->sock, url)) != 0 ||
	    (strncmp(url, "ipc://", 6) == 0 &&
	     (rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, 0660)) != 0) ||
	    (rv = nng_listener_start(l, 0)) != 0) {
		snprintf(why, why_len, "cannot listen on %s: %s", url, nng_strerror(rv));
		nng_close(s->sock);
		free(s);
		return PV_ECONFIG;
	}
	if (pthread_create(&s->thread, NULL, serve, s) != 0) {
		snprintf(why, why_len, "cannot start the server thread");
		nng_close(s->sock);
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return PV_OK;
}

void pv_server_stop(struct pv_server *s)
{
	if (!s)
		return;
	s->stop = 1;
	pthread_join(s->thread, NULL);
	nng_close(s->sock);
	free(s);
}
