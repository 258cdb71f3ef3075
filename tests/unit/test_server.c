/*
 * Tests for pvaggregator's merge engine (aggregator/agg.c) and its request
 * handler (aggregator/server.c, pv_server_handle). Each case plays the
 * sensor itself: it creates a region with a unique instance name, writes
 * windows into two shards exactly as a worker does (pv_slot_begin, counters,
 * pv_slot_seal with the next window as frontier; UINT64_MAX, shard DONE and
 * region STOPPED at the end), lets a pv_agg merge them, and asks questions
 * with requests it packs itself. Every expected number comes from arithmetic
 * on what the test wrote: counter f of window w in shard s holds
 * (f + 1) << 32 plus one bit for (w, s), so a sum over the wrong windows or
 * shards shows in the low bits. Requests are untrusted bytes, so garbage,
 * truncated, oversized, future-schema and unknown-kind requests each have a
 * case: the handler must always answer with a Response of schema 1. The
 * region is unlinked in teardown whatever happens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "aggregator/agg.h"
#include "aggregator/server.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "pvisor.pb-c.h"
#include "shm/layout.h"
#include "shm/metrics.h"
#include "shm/region.h"

#define WSEC 10u
#define BASE_W 170000000ull /* 2023-11-14T22:13:20Z in 10 s windows */
#define NSHARDS 2u
#define NSLOTS 8u
#define BIG_GRACE_NS 60000000000ull
#define MAX_REQUEST 4096u   /* aggregator/server.c */

/* --- counters a worker writes, and where a Snapshot reports them --- */

enum where { IN_PACKETS, IN_CAPTURE, IN_DECODE_ERRORS };

enum block { IN_PACKETS_BLOCK, IN_CAPTURE_BLOCK };

struct field {
	const char *name;
	enum block block; /* where the worker counts it */
	size_t off;       /* offset in that block */
	enum where where; /* the protobuf message that reports it */
	size_t pb;        /* offset in that message */
};

#define PK(n)                                                                                  \
	{#n, IN_PACKETS_BLOCK, offsetof(struct pv_packets_block, n), IN_PACKETS,               \
	 offsetof(Pvisor__Packets, n)}
#define CAP(n)                                                                                 \
	{#n, IN_CAPTURE_BLOCK, offsetof(struct pv_capture_block, n), IN_CAPTURE,               \
	 offsetof(Pvisor__Capture, n)}

static const struct field fields[] = {
	PK(total), PK(filtered), PK(ipv4), PK(ipv6), PK(tcp), PK(udp), PK(other_l4),
	PK(icmp), PK(fragments), PK(tcp_syn), PK(in), PK(out), PK(unknown_dir),
	PK(deep_samples), PK(bytes_total), PK(bytes_in), PK(bytes_out),
	CAP(ring_packets), CAP(ring_drops), CAP(ring_freezes), CAP(crash_skipped),
	{"decode_errors.truncated", IN_CAPTURE_BLOCK,
	 offsetof(struct pv_capture_block, decode_truncated), IN_DECODE_ERRORS,
	 offsetof(Pvisor__DecodeErrors, truncated)},
	{"decode_errors.malformed", IN_CAPTURE_BLOCK,
	 offsetof(struct pv_capture_block, decode_malformed), IN_DECODE_ERRORS,
	 offsetof(Pvisor__DecodeErrors, malformed)},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* What a worker counts in field f of window w, shard s (w - BASE_W < 16). */
static uint64_t cval(size_t f, uint64_t w, uint32_t shard)
{
	return ((uint64_t)(f + 1) << 32) | (1ull << ((w - BASE_W) * NSHARDS + shard));
}

/* Counter f in a worker's block or in a merged view (same two blocks). */
static uint64_t *counter(struct pv_capture_block *c, struct pv_packets_block *k, size_t f)
{
	uint8_t *base = fields[f].block == IN_PACKETS_BLOCK ? (uint8_t *)k : (uint8_t *)c;

	return (uint64_t *)(base + fields[f].off);
}

static void counters_fill(struct pv_capture_block *c, struct pv_packets_block *k, uint64_t w,
			  uint32_t shard)
{
	for (size_t f = 0; f < NFIELDS; f++)
		*counter(c, k, f) = cval(f, w, shard);
}

/* Sum a merge of windows [first, first + n) over the shards in mask must show. */
static uint64_t expect_sum(size_t f, uint64_t first, uint32_t n, unsigned mask)
{
	uint64_t v = 0;

	for (uint64_t w = first; w < first + n; w++)
		for (uint32_t s = 0; s < NSHARDS; s++)
			if (mask & (1u << s))
				v += cval(f, w, s);
	return v;
}

static uint64_t snap_field(const Pvisor__Snapshot *s, size_t f)
{
	const void *msg;

	switch (fields[f].where) {
	case IN_PACKETS:
		msg = s->packets;
		break;
	case IN_CAPTURE:
		msg = s->capture;
		break;
	default:
		msg = s->capture ? s->capture->decode_errors : NULL;
		break;
	}
	if (!msg)
		fail_msg("snapshot lacks the message holding %s", fields[f].name);
	return *(const uint64_t *)((const uint8_t *)msg + fields[f].pb);
}

/* A snapshot of windows [first, first + n) merged over the shards in mask. */
static void expect_snap(const Pvisor__Snapshot *s, uint64_t first, uint32_t n, unsigned mask)
{
	assert_non_null(s);
	assert_int_equal(s->schema, 1);
	assert_string_equal(s->sensor, "sensor-test");
	assert_non_null(s->window);
	assert_non_null(s->capture);
	assert_non_null(s->packets);
	assert_int_equal(s->window->start_ts, first * WSEC);
	assert_int_equal(s->window->length, WSEC);
	assert_int_equal(s->window->windows_merged, n);
	assert_false(s->window->live);
	assert_int_equal(s->capture->workers, NSHARDS);
	assert_int_equal(s->capture->windows_corrupt, 0);
	assert_int_equal(s->sketch_layout, PV_SHM_LAYOUT_VERSION);
	assert_true(s->packets->src_ips_in.len > 0 && s->packets->top_ipv4.len > 0);
	for (size_t f = 0; f < NFIELDS; f++) {
		uint64_t got = snap_field(s, f), want = expect_sum(f, first, n, mask);
		if (got != want)
			fail_msg("%s of windows %" PRIu64 "+%u (shards %#x): %#" PRIx64
				 ", want %#" PRIx64,
				 fields[f].name, first - BASE_W, n, mask, got, want);
	}
}

/* --- fixture: a region written like a sensor, and the aggregators --- */

struct fx {
	char inst[PV_INSTANCE_MAX];
	struct pv_region w;
	bool created;
	struct pv_agg *a, *a2;
};

static unsigned fx_counter;

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	rcu_register_thread();
	snprintf(f->inst, sizeof(f->inst), "pvtest-srv-%d-%u", (int)getpid(), fx_counter++);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	pv_agg_free(f->a);
	pv_agg_free(f->a2);
	if (f->created)
		pv_region_close(&f->w);
	pv_region_unlink(f->inst);
	rcu_unregister_thread();
	free(f);
	return 0;
}

static uint64_t stale_ns(void)
{
	uint64_t now = pv_mono_ns();

	return now > 30000000000ull ? now - 30000000000ull : 1;
}

static void fx_create(struct fx *f)
{
	struct pv_region_params p = {
		.instance = f->inst,
		.sensor_id = "sensor-test",
		.source = "/tmp/test.pcap",
		.workers = NSHARDS,
		.slots = NSLOTS,
		.window_sec = WSEC,
		.mode = PV_MODE_PCAP,
		.owner_uid = (uid_t)-1,
		.owner_gid = (gid_t)-1,
	};

	assert_int_equal(pv_region_create(&f->w, &p), PV_OK);
	f->created = true;
	for (uint32_t s = 0; s < NSHARDS; s++) {
		struct pv_shard_hdr *sh = pv_region_shard(&f->w, s);
		__atomic_store_n(&sh->pid, 1000 + (int32_t)s, __ATOMIC_RELEASE);
		pv_store64(&sh->heartbeat_ns, pv_mono_ns());
		pv_store32(&sh->state, PV_SHARD_RUNNING);
	}
	pv_store32(&f->w.hdr->state, PV_REGION_RUNNING);
}

/* Opens window w in shard as a worker does and counts its packets. */
static struct pv_metrics *shard_open(struct fx *f, uint32_t shard, uint64_t w)
{
	struct pv_metrics *m = pv_slot_begin(&f->w, shard, w);

	pv_metrics_init(m, f->w.hdr->hash_seed);
	counters_fill(&m->capture, &m->packets, w, shard);
	return m;
}

/* One sealed window, as a worker writes it; frontier moves to next. */
static void shard_window(struct fx *f, uint32_t shard, uint64_t w, uint64_t next)
{
	shard_open(f, shard, w);
	pv_slot_seal(&f->w, shard, next);
}

/* Windows [first, first + n) in every shard, each sealed with the next. */
static void write_windows(struct fx *f, uint64_t first, uint32_t n)
{
	for (uint32_t s = 0; s < NSHARDS; s++)
		for (uint64_t w = first; w < first + n; w++)
			shard_window(f, s, w, w + 1);
}

/* The sensor's clean exit: every shard done, the region stopped. */
static void sensor_stop(struct fx *f)
{
	for (uint32_t s = 0; s < NSHARDS; s++) {
		pv_slot_seal(&f->w, s, UINT64_MAX);
		pv_store32(&pv_region_shard(&f->w, s)->state, PV_SHARD_DONE);
	}
	pv_store32(&f->w.hdr->state, PV_REGION_STOPPED);
}

static struct pv_agg *agg_new(struct fx *f, uint32_t history, uint64_t grace_ns)
{
	struct pv_agg_opts o = {.instance = f->inst, .history = history, .grace_ns = grace_ns};
	struct pv_agg *a = pv_agg_alloc(&o);

	assert_non_null(a);
	return a;
}

/* Steps until two rounds in a row merge nothing; returns windows merged. */
static int agg_drain(struct pv_agg *a)
{
	int total = 0, idle = 0;

	for (int i = 0; i < 100 && idle < 2; i++) {
		int n = pv_agg_step(a);
		assert_true(n >= 0);
		total += n;
		idle = n == 0 ? idle + 1 : 0;
	}
	return total;
}

/* --- requests and responses --- */

static size_t req_pack(uint8_t *buf, size_t cap, uint32_t schema, int kind, uint32_t index,
		       uint32_t count)
{
	Pvisor__Request rq = PVISOR__REQUEST__INIT;

	rq.schema = schema;
	rq.kind = (Pvisor__Request__Kind)kind;
	rq.index = index;
	rq.count = count;
	assert_true(pvisor__request__get_packed_size(&rq) <= cap);
	return pvisor__request__pack(&rq, buf);
}

/* What every answer must be: handler returns 0, the bytes unpack as a
 * Response of schema 1, and an error always comes with a message. */
static Pvisor__Response *call_raw(struct pv_agg *a, const char *inst, const uint8_t *req,
				  size_t len)
{
	uint8_t *out = NULL;
	size_t out_len = 7;
	Pvisor__Response *r;

	assert_int_equal(pv_server_handle(a, inst, req, len, &out, &out_len), 0);
	assert_non_null(out);
	r = pvisor__response__unpack(NULL, out_len, out);
	free(out);
	if (!r)
		fail_msg("the response to a %zu-byte request does not unpack", len);
	assert_int_equal(r->schema, 1);
	if (r->code != 0) {
		assert_non_null(r->error);
		if (!r->error[0])
			fail_msg("error %d without a message", r->code);
		assert_null(r->status);
		assert_null(r->snapshot);
		assert_int_equal(r->n_windows, 0);
	} else {
		assert_string_equal(r->error, "");
	}
	return r;
}

static Pvisor__Response *ask(struct fx *f, struct pv_agg *a, int kind, uint32_t index,
			     uint32_t count)
{
	uint8_t buf[64];
	size_t n = req_pack(buf, sizeof(buf), 1, kind, index, count);

	return call_raw(a, f->inst, buf, n);
}

static void expect_error(Pvisor__Response *r, int code, const char *needle)
{
	if (r->code != code)
		fail_msg("response code %d (%s), want %d (%s)", r->code, r->error, code,
			 pv_strerror(code));
	if (needle && !strstr(r->error, needle))
		fail_msg("error '%s' does not mention '%s'", r->error, needle);
	pvisor__response__free_unpacked(r, NULL);
}

static Pvisor__Snapshot *expect_snapshot_ok(Pvisor__Response *r)
{
	if (r->code != 0)
		fail_msg("response code %d: %s", r->code, r->error);
	assert_non_null(r->snapshot);
	assert_null(r->status);
	return r->snapshot;
}

static Pvisor__Status *status_get(struct fx *f, struct pv_agg *a, Pvisor__Response **r)
{
	*r = ask(f, a, PVISOR__REQUEST__KIND__STATUS, 0, 0);
	if ((*r)->code != 0)
		fail_msg("status: %d %s", (*r)->code, (*r)->error);
	assert_non_null((*r)->status);
	assert_null((*r)->snapshot);
	assert_int_equal((*r)->status->schema, 1);
	return (*r)->status;
}

/* Standard scene: n windows from BASE_W in both shards, merged. */
static void scene(struct fx *f, uint32_t n, uint32_t history, bool stop)
{
	fx_create(f);
	write_windows(f, BASE_W, n);
	if (stop)
		sensor_stop(f);
	f->a = agg_new(f, history, BIG_GRACE_NS);
	assert_int_equal(agg_drain(f->a), (int)n);
}

/* ------------------------------------------------------------------ */

/* No region yet: every request answers, and says nothing is there. */
static void test_no_region(void **state)
{
	struct fx *f = *state;
	Pvisor__Response *r;
	Pvisor__Status *st;

	f->a = agg_new(f, 5, BIG_GRACE_NS);
	assert_int_equal(pv_agg_step(f->a), 0);
	st = status_get(f, f->a, &r);
	assert_string_equal(st->region_state, "absent");
	assert_string_equal(st->instance, f->inst);
	assert_int_equal(st->n_workers, 0);
	assert_int_equal(st->windows_held, 0);
	assert_int_equal(st->history, 5);
	assert_int_equal(st->windows_merged_total, 0);
	assert_false(st->sensor_finished);
	assert_int_equal(st->aggregator_pid, getpid());
	pvisor__response__free_unpacked(r, NULL);

	expect_error(ask(f, f->a, PVISOR__REQUEST__KIND__WINDOW, 0, 0), PV_ENOTFOUND, NULL);
	expect_error(ask(f, f->a, PVISOR__REQUEST__KIND__MERGED, 0, 1), PV_ENOTFOUND, NULL);
	expect_error(ask(f, f->a, PVISOR__REQUEST__KIND__TOTAL, 0, 0), PV_ENOTFOUND, NULL);
	expect_error(ask(f, f->a, PVISOR__REQUEST__KIND__LIVE, 0, 0), PV_ENOTFOUND, NULL);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__WINDOWS, 0, 0);
	assert_int_equal(r->code, 0);
	assert_int_equal(r->n_windows, 0);
	pvisor__response__free_unpacked(r, NULL);
}

/* STATUS while the sensor runs, then after it stopped. */
static void test_status(void **state)
{
	struct fx *f = *state;
	Pvisor__Response *r;
	Pvisor__Status *st;
	time_t now = time(NULL);

	fx_create(f);
	pv_store64(&pv_region_shard(&f->w, 1)->restarts, 3);
	pv_store64(&pv_region_shard(&f->w, 0)->ring_packets, 111);
	pv_store64(&pv_region_shard(&f->w, 1)->ring_drops, 22);
	pv_store64(&f->w.hdr->iface_drops, 9);
	write_windows(f, BASE_W, 3);
	f->a = agg_new(f, 10, BIG_GRACE_NS);
	assert_int_equal(agg_drain(f->a), 3);

	st = status_get(f, f->a, &r);
	assert_string_equal(st->sensor, "sensor-test");
	assert_string_equal(st->instance, f->inst);
	assert_string_equal(st->source, "/tmp/test.pcap");
	assert_string_equal(st->mode, "pcap");
	assert_string_equal(st->region_state, "running");
	assert_int_equal(st->window_length, WSEC);
	assert_int_equal(st->slots, NSLOTS);
	assert_true(st->sensor_start_ts + 5 >= (uint64_t)now);
	assert_true(st->sensor_start_ts <= (uint64_t)now + 5);
	assert_int_equal(st->supervisor_pid, getpid());
	assert_int_equal(st->aggregator_pid, getpid());
	assert_int_equal(st->interface_drops, 9);
	assert_int_equal(st->n_workers, NSHARDS);
	for (uint32_t s = 0; s < NSHARDS; s++) {
		const Pvisor__WorkerStatus *w = st->workers[s];
		assert_int_equal(w->shard, s);
		assert_int_equal(w->pid, 1000 + (int)s);
		assert_string_equal(w->state, "running");
		assert_true(w->heartbeat_age_ms >= 0 && w->heartbeat_age_ms < 60000);
		assert_int_equal(w->windows_overwritten_unread, 0);
	}
	assert_int_equal(st->workers[0]->restarts, 0);
	assert_int_equal(st->workers[1]->restarts, 3);
	assert_int_equal(st->workers[0]->ring_packets, 111);
	assert_int_equal(st->workers[1]->ring_drops, 22);
	assert_int_equal(st->windows_held, 3);
	assert_int_equal(st->history, 10);
	assert_int_equal(st->windows_merged_total, 3);
	assert_int_equal(st->oldest_window_ts, BASE_W * WSEC);
	assert_int_equal(st->newest_window_ts, (BASE_W + 2) * WSEC);
	assert_int_equal(st->windows_incomplete, 0);
	assert_int_equal(st->windows_overwritten_unread, 0);
	assert_false(st->sensor_finished);
	pvisor__response__free_unpacked(r, NULL);

	/* Stopped, but a shard's frontier is not at the end yet: not finished. */
	pv_store32(&f->w.hdr->state, PV_REGION_STOPPED);
	assert_int_equal(agg_drain(f->a), 0);
	st = status_get(f, f->a, &r);
	assert_string_equal(st->region_state, "stopped");
	assert_false(st->sensor_finished);
	pvisor__response__free_unpacked(r, NULL);

	sensor_stop(f);
	assert_int_equal(agg_drain(f->a), 0);
	st = status_get(f, f->a, &r);
	assert_string_equal(st->region_state, "stopped");
	assert_true(st->sensor_finished);
	assert_int_equal(st->windows_held, 3);
	for (uint32_t s = 0; s < NSHARDS; s++)
		assert_string_equal(st->workers[s]->state, "done");
	pvisor__response__free_unpacked(r, NULL);
}

/* WINDOW: index 0 is the newest; past the last held one, an error. */
static void test_window_index(void **state)
{
	struct fx *f = *state;
	Pvisor__Response *r;

	scene(f, 4, 10, true);
	for (uint32_t i = 0; i < 4; i++) {
		r = ask(f, f->a, PVISOR__REQUEST__KIND__WINDOW, i, 0);
		expect_snap(expect_snapshot_ok(r), BASE_W + 3 - i, 1, 3);
		pvisor__response__free_unpacked(r, NULL);
	}
	expect_error(ask(f, f->a, PVISOR__REQUEST__KIND__WINDOW, 4, 0), PV_ENOTFOUND, "index 4");
	expect_error(ask(f, f->a, PVISOR__REQUEST__KIND__WINDOW, UINT32_MAX, 0), PV_ENOTFOUND,
		     NULL);
}

/* MERGED count K: the newest K windows; 0 refused; more than held = all. */
static void test_merged(void **state)
{
	struct fx *f = *state;
	Pvisor__Response *r;

	scene(f, 4, 10, true);
	for (uint32_t k = 1; k <= 4; k++) {
		r = ask(f, f->a, PVISOR__REQUEST__KIND__MERGED, 0, k);
		expect_snap(expect_snapshot_ok(r), BASE_W + 4 - k, k, 3);
		pvisor__response__free_unpacked(r, NULL);
	}
	r = ask(f, f->a, PVISOR__REQUEST__KIND__MERGED, 0, 5);
	expect_snap(expect_snapshot_ok(r), BASE_W, 4, 3);
	pvisor__response__free_unpacked(r, NULL);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__MERGED, 0, UINT32_MAX);
	expect_snap(expect_snapshot_ok(r), BASE_W, 4, 3);
	pvisor__response__free_unpacked(r, NULL);
	expect_error(ask(f, f->a, PVISOR__REQUEST__KIND__MERGED, 0, 0), PV_ECONFIG, "count");
}

/* TOTAL sums everything; WINDOWS lists every held window, oldest first. */
static void test_total_and_windows(void **state)
{
	struct fx *f = *state;
	Pvisor__Response *r;

	scene(f, 5, 10, true);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__TOTAL, 0, 0);
	expect_snap(expect_snapshot_ok(r), BASE_W, 5, 3);
	pvisor__response__free_unpacked(r, NULL);

	r = ask(f, f->a, PVISOR__REQUEST__KIND__WINDOWS, 0, 0);
	assert_int_equal(r->code, 0);
	assert_null(r->snapshot);
	assert_int_equal(r->n_windows, 5);
	for (uint32_t i = 0; i < 5; i++)
		expect_snap(r->windows[i], BASE_W + i, 1, 3);
	pvisor__response__free_unpacked(r, NULL);
}

/* history = 2: only the newest two are held, TOTAL still covers all. */
static void check_history(struct fx *f, uint32_t n)
{
	Pvisor__Response *r;
	Pvisor__Status *st;

	st = status_get(f, f->a, &r);
	assert_int_equal(st->history, 2);
	assert_int_equal(st->windows_held, 2);
	assert_int_equal(st->windows_merged_total, n);
	assert_int_equal(st->oldest_window_ts, (BASE_W + n - 2) * WSEC);
	assert_int_equal(st->newest_window_ts, (BASE_W + n - 1) * WSEC);
	pvisor__response__free_unpacked(r, NULL);

	r = ask(f, f->a, PVISOR__REQUEST__KIND__WINDOW, 0, 0);
	expect_snap(expect_snapshot_ok(r), BASE_W + n - 1, 1, 3);
	pvisor__response__free_unpacked(r, NULL);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__WINDOW, 1, 0);
	expect_snap(expect_snapshot_ok(r), BASE_W + n - 2, 1, 3);
	pvisor__response__free_unpacked(r, NULL);
	expect_error(ask(f, f->a, PVISOR__REQUEST__KIND__WINDOW, 2, 0), PV_ENOTFOUND, NULL);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__MERGED, 0, 100);
	expect_snap(expect_snapshot_ok(r), BASE_W + n - 2, 2, 3);
	pvisor__response__free_unpacked(r, NULL);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__WINDOWS, 0, 0);
	assert_int_equal(r->n_windows, 2);
	expect_snap(r->windows[0], BASE_W + n - 2, 1, 3);
	expect_snap(r->windows[1], BASE_W + n - 1, 1, 3);
	pvisor__response__free_unpacked(r, NULL);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__TOTAL, 0, 0);
	expect_snap(expect_snapshot_ok(r), BASE_W, n, 3);
	pvisor__response__free_unpacked(r, NULL);
}

/* All five merged in one round (windows evicted before ever published). */
static void test_history_one_round(void **state)
{
	struct fx *f = *state;

	scene(f, 5, 2, true);
	check_history(f, 5);
}

/*
 * One window per round, with a reader holding the first state under
 * rcu_read_lock: the windows that leave the history must stay readable
 * until it unlocks (ASan reports a use after free otherwise).
 */
static void test_history_rounds_rcu(void **state)
{
	struct fx *f = *state;
	struct pv_agg_state *kept;
	uint64_t id0 = 0, id1 = 0, sec0 = 0, merged0 = 0;
	uint32_t nwin_before, nwin_after = 0;
	int steps = 0;
	bool moved;

	fx_create(f);
	f->a = agg_new(f, 2, BIG_GRACE_NS);
	write_windows(f, BASE_W, 2);
	assert_int_equal(agg_drain(f->a), 2);

	/* No assertion inside the read-side section: a failure there would
	 * leave it open and the teardown's grace period would never end. */
	rcu_read_lock();
	kept = pv_agg_state_get(f->a);
	nwin_before = kept->nwin;
	if (nwin_before == 2) {
		const struct pv_window *oldest = kept->win[0];
		for (uint64_t w = BASE_W + 2; w < BASE_W + 5; w++) {
			write_windows(f, w, 1);
			steps += pv_agg_step(f->a);
		}
		/* Read what the three rounds evicted: still ours to read. */
		id0 = oldest->window_id;
		sec0 = oldest->window_sec;
		merged0 = oldest->merged;
		id1 = kept->win[1]->window_id;
		nwin_after = kept->nwin;
	}
	moved = pv_agg_state_get(f->a) != kept;
	rcu_read_unlock();

	assert_int_equal(nwin_before, 2);
	assert_int_equal(steps, 3);
	/* The published state moved on; the one we held did not change. */
	assert_true(moved);
	assert_int_equal(nwin_after, 2);
	assert_int_equal(id0, BASE_W);
	assert_int_equal(sec0, WSEC);
	assert_int_equal(merged0, 1);
	assert_int_equal(id1, BASE_W + 1);

	sensor_stop(f);
	assert_int_equal(agg_drain(f->a), 0);
	check_history(f, 5);
}

/* history 0 is taken as 1. */
static void test_history_zero(void **state)
{
	struct fx *f = *state;
	Pvisor__Response *r;
	Pvisor__Status *st;

	scene(f, 3, 0, true);
	st = status_get(f, f->a, &r);
	assert_int_equal(st->history, 1);
	assert_int_equal(st->windows_held, 1);
	assert_int_equal(st->windows_merged_total, 3);
	pvisor__response__free_unpacked(r, NULL);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__WINDOW, 0, 0);
	expect_snap(expect_snapshot_ok(r), BASE_W + 2, 1, 3);
	pvisor__response__free_unpacked(r, NULL);
}

/* Region counters that change between merges show in the next window. */
static void test_window_extras(void **state)
{
	struct fx *f = *state;
	Pvisor__Response *r;
	Pvisor__Snapshot *s;

	fx_create(f);
	pv_store64(&pv_region_shard(&f->w, 0)->restarts, 4); /* before attach: baseline */
	pv_store64(&f->w.hdr->iface_drops, 100);
	f->a = agg_new(f, 10, BIG_GRACE_NS);
	assert_int_equal(agg_drain(f->a), 0);

	pv_store64(&pv_region_shard(&f->w, 1)->restarts, 2);
	pv_store64(&f->w.hdr->iface_drops, 105);
	write_windows(f, BASE_W, 1);
	assert_int_equal(agg_drain(f->a), 1);
	write_windows(f, BASE_W + 1, 1);
	assert_int_equal(agg_drain(f->a), 1);

	r = ask(f, f->a, PVISOR__REQUEST__KIND__WINDOW, 1, 0);
	s = expect_snapshot_ok(r);
	assert_int_equal(s->capture->worker_restarts, 2);
	assert_int_equal(s->capture->interface_drops, 5);
	pvisor__response__free_unpacked(r, NULL);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__WINDOW, 0, 0);
	s = expect_snapshot_ok(r);
	assert_int_equal(s->capture->worker_restarts, 0);
	assert_int_equal(s->capture->interface_drops, 0);
	pvisor__response__free_unpacked(r, NULL);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__TOTAL, 0, 0);
	s = expect_snapshot_ok(r);
	expect_snap(s, BASE_W, 2, 3);
	assert_int_equal(s->capture->worker_restarts, 2);
	assert_int_equal(s->capture->interface_drops, 5);
	pvisor__response__free_unpacked(r, NULL);
}

/*
 * The aggregator falls behind by more than the ring: window BASE_W is
 * overwritten unread in both shards. The loss is counted (per worker in
 * STATUS, once in the next merged window and in TOTAL), and the rest merge.
 */
static void test_overwritten_unread(void **state)
{
	struct fx *f = *state;
	Pvisor__Response *r;
	Pvisor__Snapshot *s;
	Pvisor__Status *st;

	fx_create(f);
	f->a = agg_new(f, 10, BIG_GRACE_NS);
	assert_int_equal(agg_drain(f->a), 0);
	write_windows(f, BASE_W, NSLOTS + 1);
	assert_int_equal(agg_drain(f->a), NSLOTS);

	st = status_get(f, f->a, &r);
	assert_int_equal(st->windows_overwritten_unread, NSHARDS);
	for (uint32_t i = 0; i < NSHARDS; i++)
		assert_int_equal(st->workers[i]->windows_overwritten_unread, 1);
	assert_int_equal(st->oldest_window_ts, (BASE_W + 1) * WSEC);
	pvisor__response__free_unpacked(r, NULL);

	r = ask(f, f->a, PVISOR__REQUEST__KIND__WINDOW, NSLOTS - 1, 0);
	s = expect_snapshot_ok(r);
	expect_snap(s, BASE_W + 1, 1, 3);
	assert_int_equal(s->capture->windows_overwritten_unread, NSHARDS);
	pvisor__response__free_unpacked(r, NULL);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__WINDOW, 0, 0);
	assert_int_equal(expect_snapshot_ok(r)->capture->windows_overwritten_unread, 0);
	pvisor__response__free_unpacked(r, NULL);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__TOTAL, 0, 0);
	s = expect_snapshot_ok(r);
	expect_snap(s, BASE_W + 1, NSLOTS, 3);
	assert_int_equal(s->capture->windows_overwritten_unread, NSHARDS);
	pvisor__response__free_unpacked(r, NULL);
}

/* --- merge semantics --- */

static uint32_t held(struct pv_agg *a)
{
	uint32_t n;

	rcu_read_lock();
	n = pv_agg_state_get(a)->nwin;
	rcu_read_unlock();
	return n;
}

/* A window is merged only once every shard's frontier passed it. */
static void test_frontier(void **state)
{
	struct fx *f = *state;
	uint64_t w = BASE_W;
	Pvisor__Response *r;

	fx_create(f);
	shard_window(f, 0, w, w + 1);
	pv_slot_seal(&f->w, 1, w); /* shard 1: everything below w sealed, w not yet */
	f->a = agg_new(f, 10, BIG_GRACE_NS);
	assert_int_equal(agg_drain(f->a), 0);
	assert_int_equal(held(f->a), 0);

	pv_slot_seal(&f->w, 1, w + 1); /* shard 1 had no packet in w */
	assert_int_equal(agg_drain(f->a), 1);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__WINDOW, 0, 0);
	expect_snap(expect_snapshot_ok(r), w, 1, 1);
	pvisor__response__free_unpacked(r, NULL);

	/* Both shards write w + 1; shard 0 is still in it. */
	shard_open(f, 0, w + 1);
	shard_window(f, 1, w + 1, w + 2);
	assert_int_equal(agg_drain(f->a), 0);
	pv_slot_seal(&f->w, 0, w + 2);
	assert_int_equal(agg_drain(f->a), 1);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__WINDOW, 0, 0);
	expect_snap(expect_snapshot_ok(r), w + 1, 1, 3);
	pvisor__response__free_unpacked(r, NULL);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__STATUS, 0, 0);
	assert_int_equal(r->status->windows_incomplete, 0);
	pvisor__response__free_unpacked(r, NULL);
}

/*
 * A dead shard (RUNNING or DEAD with a heartbeat older than the grace
 * time) is left out: the window is merged without it and counted
 * incomplete. Within the grace time it is waited for.
 */
static void dead_shard(struct fx *f, uint32_t dead_state)
{
	struct pv_shard_hdr *sh1;
	uint64_t w = BASE_W;
	Pvisor__Response *r;

	fx_create(f);
	sh1 = pv_region_shard(&f->w, 1);
	shard_window(f, 0, w, w + 1);
	pv_slot_seal(&f->w, 1, w);
	pv_store32(&sh1->state, dead_state);
	f->a = agg_new(f, 10, 500000000ull);

	pv_store64(&pv_region_shard(&f->w, 0)->heartbeat_ns, pv_mono_ns());
	pv_store64(&sh1->heartbeat_ns, pv_mono_ns());
	assert_int_equal(pv_agg_step(f->a), 0); /* within grace: waited for */
	assert_int_equal(held(f->a), 0);

	pv_store64(&sh1->heartbeat_ns, stale_ns());
	assert_int_equal(agg_drain(f->a), 1);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__WINDOW, 0, 0);
	expect_snap(expect_snapshot_ok(r), w, 1, 1);
	pvisor__response__free_unpacked(r, NULL);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__STATUS, 0, 0);
	assert_int_equal(r->status->windows_incomplete, 1);
	assert_string_equal(r->status->workers[1]->state,
			    dead_state == PV_SHARD_DEAD ? "dead" : "running");
	pvisor__response__free_unpacked(r, NULL);
}

static void test_dead_shard_running_stale(void **state)
{
	dead_shard(*state, PV_SHARD_RUNNING);
}

static void test_dead_shard_dead(void **state)
{
	dead_shard(*state, PV_SHARD_DEAD);
}

/*
 * A DONE shard is never "dead", however old its heartbeat: its frontier
 * still bounds the merge (here set below its end on purpose).
 */
static void test_done_shard_not_dead(void **state)
{
	struct fx *f = *state;
	struct pv_shard_hdr *sh1;
	Pvisor__Response *r;

	fx_create(f);
	sh1 = pv_region_shard(&f->w, 1);
	write_windows(f, BASE_W, 2);
	pv_slot_seal(&f->w, 1, BASE_W + 1);
	pv_store32(&sh1->state, PV_SHARD_DONE);
	pv_store64(&sh1->heartbeat_ns, stale_ns());
	f->a = agg_new(f, 10, 5000000000ull);
	pv_store64(&pv_region_shard(&f->w, 0)->heartbeat_ns, pv_mono_ns());
	assert_int_equal(agg_drain(f->a), 1);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__STATUS, 0, 0);
	assert_int_equal(r->status->windows_merged_total, 1);
	assert_int_equal(r->status->windows_incomplete, 0);
	assert_string_equal(r->status->workers[1]->state, "done");
	pvisor__response__free_unpacked(r, NULL);
}

/*
 * An aggregator restart: the second one merges only what the first did
 * not acknowledge, and every merged slot carries its window's ack.
 */
static void test_restart_no_double_merge(void **state)
{
	struct fx *f = *state;
	Pvisor__Response *r;
	Pvisor__Status *st;

	fx_create(f);
	write_windows(f, BASE_W, 3);
	shard_window(f, 0, BASE_W + 3, BASE_W + 4); /* shard 1 still at BASE_W + 3 */
	f->a = agg_new(f, 10, BIG_GRACE_NS);
	assert_int_equal(agg_drain(f->a), 3);
	for (uint32_t s = 0; s < NSHARDS; s++)
		for (uint64_t w = BASE_W; w < BASE_W + 3; w++)
			assert_int_equal(pv_load64(pv_region_ack_word(&f->w, s, w % NSLOTS)), w);
	assert_int_equal(pv_load64(pv_region_ack_word(&f->w, 0, (BASE_W + 3) % NSLOTS)),
			 PV_SHM_NO_WINDOW);
	pv_agg_free(f->a);
	f->a = NULL;
	assert_int_equal(pv_region_ack_hdr(&f->w)->aggregator_pid, 0);

	shard_window(f, 1, BASE_W + 3, BASE_W + 4);
	write_windows(f, BASE_W + 4, 1);
	sensor_stop(f);
	f->a2 = agg_new(f, 10, BIG_GRACE_NS);
	assert_int_equal(agg_drain(f->a2), 2);

	st = status_get(f, f->a2, &r);
	assert_int_equal(st->windows_merged_total, 2);
	assert_int_equal(st->windows_held, 2);
	assert_true(st->sensor_finished);
	pvisor__response__free_unpacked(r, NULL);
	r = ask(f, f->a2, PVISOR__REQUEST__KIND__TOTAL, 0, 0);
	expect_snap(expect_snapshot_ok(r), BASE_W + 3, 2, 3);
	pvisor__response__free_unpacked(r, NULL);
	r = ask(f, f->a2, PVISOR__REQUEST__KIND__WINDOWS, 0, 0);
	assert_int_equal(r->n_windows, 2);
	expect_snap(r->windows[0], BASE_W + 3, 1, 3);
	expect_snap(r->windows[1], BASE_W + 4, 1, 3);
	pvisor__response__free_unpacked(r, NULL);
}

/*
 * pv_window_merge: counters summed, the older id kept, the larger worker
 * count, extras summed; into an empty window it is a plain copy.
 */
static void test_window_merge(void **state)
{
	struct pv_window *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct pv_window *d = calloc(1, sizeof(*d));

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(d);
	pv_view_init(&a->v);
	pv_view_init(&b->v);
	counters_fill(&a->v.capture, &a->v.packets, BASE_W + 1, 0);
	counters_fill(&b->v.capture, &b->v.packets, BASE_W, 1);
	a->window_id = 50;
	a->window_sec = 10;
	a->merged = 2;
	a->x = (struct pv_window_extra){.workers = 4, .worker_restarts = 1, .interface_drops = 2,
					.overwritten_unread = 3, .incomplete = 1, .corrupt = 5};
	b->window_id = 48;
	b->window_sec = 10;
	b->merged = 3;
	b->x = (struct pv_window_extra){.workers = 2, .worker_restarts = 10, .interface_drops = 20,
					.overwritten_unread = 30, .incomplete = 0, .corrupt = 50};

	assert_int_equal(pv_window_merge(d, a), PV_OK);
	assert_memory_equal(d, a, sizeof(*a));

	/* An older window into a newer one: the older id is kept. */
	assert_int_equal(pv_window_merge(d, b), PV_OK);
	assert_int_equal(d->window_id, 48);
	assert_int_equal(d->window_sec, 10);
	assert_int_equal(d->merged, 5);
	assert_int_equal(d->x.workers, 4);
	assert_int_equal(d->x.worker_restarts, 11);
	assert_int_equal(d->x.interface_drops, 22);
	assert_int_equal(d->x.overwritten_unread, 33);
	assert_int_equal(d->x.incomplete, 1);
	assert_int_equal(d->x.corrupt, 55);
	for (size_t f = 0; f < NFIELDS; f++)
		assert_int_equal(*counter(&d->v.capture, &d->v.packets, f),
				 cval(f, BASE_W + 1, 0) + cval(f, BASE_W, 1));

	/* A newer one into it: the id stays, the rest adds up again. */
	a->window_id = 60;
	assert_int_equal(pv_window_merge(d, a), PV_OK);
	assert_int_equal(d->window_id, 48);
	assert_int_equal(d->merged, 7);
	assert_int_equal(d->x.workers, 4);
	assert_int_equal(d->x.incomplete, 2);
	assert_int_equal(d->x.corrupt, 60);
	for (size_t f = 0; f < NFIELDS; f++)
		assert_int_equal(*counter(&d->v.capture, &d->v.packets, f),
				 2 * cval(f, BASE_W + 1, 0) + cval(f, BASE_W, 1));
	free(a);
	free(b);
	free(d);
}

/* LIVE: the open windows of every shard, summed, read now. */
static void test_live(void **state)
{
	struct fx *f = *state;
	struct pv_metrics *m0;
	Pvisor__Response *r;
	Pvisor__Snapshot *s;
	uint64_t w = BASE_W + 2;

	fx_create(f);
	write_windows(f, BASE_W, 2);
	m0 = shard_open(f, 0, w);
	shard_open(f, 1, w);
	f->a = agg_new(f, 10, BIG_GRACE_NS);
	assert_int_equal(agg_drain(f->a), 2);

	r = ask(f, f->a, PVISOR__REQUEST__KIND__LIVE, 0, 0);
	s = expect_snapshot_ok(r);
	assert_true(s->window->live);
	s->window->live = false; /* for expect_snap */
	expect_snap(s, w, 1, 3);
	pvisor__response__free_unpacked(r, NULL);

	/* Numbers move while the window is open: read now, not cached. */
	m0->packets.total += 7;
	r = ask(f, f->a, PVISOR__REQUEST__KIND__LIVE, 0, 0);
	s = expect_snapshot_ok(r);
	assert_int_equal(s->packets->total, expect_sum(0, w, 1, 3) + 7);
	pvisor__response__free_unpacked(r, NULL);
	m0->packets.total -= 7;

	/* Shard 0 moves on to w + 1: only the newest open window is live. */
	pv_slot_seal(&f->w, 0, w + 1);
	shard_open(f, 0, w + 1);
	r = ask(f, f->a, PVISOR__REQUEST__KIND__LIVE, 0, 0);
	s = expect_snapshot_ok(r);
	assert_true(s->window->live);
	s->window->live = false;
	expect_snap(s, w + 1, 1, 1);
	pvisor__response__free_unpacked(r, NULL);

	/* Nothing open any more. */
	sensor_stop(f);
	expect_error(ask(f, f->a, PVISOR__REQUEST__KIND__LIVE, 0, 0), PV_ENOTFOUND, NULL);
	assert_int_equal(agg_drain(f->a), 2);
}

/* --- nasty requests --- */

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Whatever the bytes, the answer follows from what they unpack to. */
static void expect_consistent(struct fx *f, const uint8_t *buf, size_t len)
{
	Pvisor__Response *r = call_raw(f->a, f->inst, buf, len);
	Pvisor__Request *rq = len <= MAX_REQUEST ? pvisor__request__unpack(NULL, len, buf) : NULL;

	if (!rq) {
		if (r->code != PV_EMALFORMED)
			fail_msg("%zu bytes that do not unpack: code %d, want PV_EMALFORMED", len,
				 r->code);
	} else if (rq->schema > 1) {
		assert_int_equal(r->code, PV_EVERSION);
	} else if ((int)rq->kind < 0 || (int)rq->kind > PVISOR__REQUEST__KIND__WINDOWS) {
		assert_int_equal(r->code, PV_EUNSUPPORTED);
	} else if (r->code != 0 && r->code != PV_ENOTFOUND && r->code != PV_ECONFIG) {
		fail_msg("valid request (kind %d): code %d", (int)rq->kind, r->code);
	}
	if (rq)
		pvisor__request__free_unpacked(rq, NULL);
	pvisor__response__free_unpacked(r, NULL);
}

/* An empty buffer is a valid proto3 Request with every default: STATUS. */
static void test_empty_request(void **state)
{
	struct fx *f = *state;
	uint8_t one = 0;
	Pvisor__Response *r;

	scene(f, 3, 10, true);
	r = call_raw(f->a, f->inst, &one, 0);
	assert_int_equal(r->code, 0);
	assert_non_null(r->status);
	assert_int_equal(r->status->windows_held, 3);
	pvisor__response__free_unpacked(r, NULL);
}

static void test_garbage(void **state)
{
	struct fx *f = *state;
	uint8_t buf[MAX_REQUEST + 64];

	scene(f, 3, 10, true);
	for (uint64_t seed = 1; seed <= 8; seed++) {
		uint64_t s = seed * 0x9e3779b97f4a7c15ull;
		for (size_t len = 0; len <= 256; len++) {
			for (size_t i = 0; i < len; i++)
				buf[i] = (uint8_t)xorshift(&s);
			expect_consistent(f, buf, len);
		}
		for (size_t len = 300; len <= sizeof(buf); len += 397) {
			for (size_t i = 0; i < len; i++)
				buf[i] = (uint8_t)xorshift(&s);
			expect_consistent(f, buf, len);
		}
	}
}

/* Valid requests with bytes flipped: mostly valid structure, odd values. */
static void test_mutated(void **state)
{
	struct fx *f = *state;
	uint8_t orig[64], buf[64];
	uint64_t s = 42;

	scene(f, 3, 10, true);
	for (int kind = 0; kind <= PVISOR__REQUEST__KIND__WINDOWS; kind++) {
		size_t n = req_pack(orig, sizeof(orig), 1, kind, 300, 70000);
		for (int round = 0; round < 200; round++) {
			memcpy(buf, orig, n);
			for (int k = 0; k < 1 + round % 3; k++)
				buf[xorshift(&s) % n] ^= (uint8_t)(1u << (xorshift(&s) % 8));
			expect_consistent(f, buf, n);
		}
	}
}

static void test_future_schema(void **state)
{
	struct fx *f = *state;
	uint8_t buf[64];
	Pvisor__Response *r;
	size_t n;

	scene(f, 2, 10, true);
	n = req_pack(buf, sizeof(buf), 2, PVISOR__REQUEST__KIND__STATUS, 0, 0);
	expect_error(call_raw(f->a, f->inst, buf, n), PV_EVERSION, "schema 2");
	n = req_pack(buf, sizeof(buf), UINT32_MAX, PVISOR__REQUEST__KIND__TOTAL, 0, 0);
	expect_error(call_raw(f->a, f->inst, buf, n), PV_EVERSION, NULL);
	/* No schema at all (0) is an old client: served. */
	n = req_pack(buf, sizeof(buf), 0, PVISOR__REQUEST__KIND__TOTAL, 0, 0);
	r = call_raw(f->a, f->inst, buf, n);
	expect_snap(expect_snapshot_ok(r), BASE_W, 2, 3);
	pvisor__response__free_unpacked(r, NULL);
}

/*
 * protobuf-c (1.4) keeps an unknown proto3 enum value as its number rather
 * than refusing the message: the handler sees kind 99 and answers
 * PV_EUNSUPPORTED naming it.
 */
static void test_unknown_kind(void **state)
{
	struct fx *f = *state;
	static const int kinds[] = {6, 99, 1000000, -1, INT32_MIN};
	uint8_t buf[64];
	char needle[32];
	size_t n;

	scene(f, 2, 10, true);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		Pvisor__Request *rq;

		n = req_pack(buf, sizeof(buf), 1, kinds[i], 0, 0);
		rq = pvisor__request__unpack(NULL, n, buf);
		assert_non_null(rq);
		assert_int_equal((int)rq->kind, kinds[i]);
		pvisor__request__free_unpacked(rq, NULL);
		snprintf(needle, sizeof(needle), "kind %d", kinds[i]);
		expect_error(call_raw(f->a, f->inst, buf, n), PV_EUNSUPPORTED, needle);
	}
}

/* A valid request grown to len bytes with an unknown field 15. */
static void padded_request(uint8_t *buf, size_t len)
{
	size_t head, plen;

	assert_true(len >= 200 && len < 16384 + 7);
	head = req_pack(buf, len, 1, PVISOR__REQUEST__KIND__STATUS, 0, 0);
	plen = len - head - 3; /* tag + two-byte length */
	buf[head] = (15 << 3) | 2;
	buf[head + 1] = (uint8_t)(0x80 | (plen & 0x7f));
	buf[head + 2] = (uint8_t)(plen >> 7);
	memset(buf + head + 3, 'x', plen);
}

static void test_too_large(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = malloc(16384);
	Pvisor__Request *rq;
	Pvisor__Response *r;

	assert_non_null(buf);
	scene(f, 2, 10, true);
	/* Exactly the limit: served (unknown fields are skipped). */
	padded_request(buf, MAX_REQUEST);
	rq = pvisor__request__unpack(NULL, MAX_REQUEST, buf);
	assert_non_null(rq);
	pvisor__request__free_unpacked(rq, NULL);
	r = call_raw(f->a, f->inst, buf, MAX_REQUEST);
	assert_int_equal(r->code, 0);
	assert_non_null(r->status);
	pvisor__response__free_unpacked(r, NULL);
	/* One byte more, though it would unpack: refused. */
	padded_request(buf, MAX_REQUEST + 1);
	expect_error(call_raw(f->a, f->inst, buf, MAX_REQUEST + 1), PV_EMALFORMED, "too large");
	padded_request(buf, 16384);
	expect_error(call_raw(f->a, f->inst, buf, 16384), PV_EMALFORMED, "too large");
	free(buf);
}

/*
 * WINDOW index 300 is 08 01 | 10 01 | 18 ac 02: a prefix ending on a field
 * boundary is itself a valid request, any other is malformed.
 */
static void test_truncated(void **state)
{
	struct fx *f = *state;
	uint8_t buf[64];
	size_t n;

	scene(f, 3, 10, true);
	n = req_pack(buf, sizeof(buf), 1, PVISOR__REQUEST__KIND__WINDOW, 300, 0);
	assert_int_equal(n, 7);
	for (size_t len = 0; len < n; len++) {
		uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees over-reads */
		Pvisor__Response *r;

		assert_non_null(copy);
		memcpy(copy, buf, len);
		r = call_raw(f->a, f->inst, copy, len);
		switch (len) {
		case 0: /* STATUS */
		case 2:
			assert_int_equal(r->code, 0);
			assert_non_null(r->status);
			break;
		case 4: /* WINDOW index 0 */
			expect_snap(expect_snapshot_ok(r), BASE_W + 2, 1, 3);
			break;
		default:
			assert_int_equal(r->code, PV_EMALFORMED);
			break;
		}
		pvisor__response__free_unpacked(r, NULL);
		free(copy);
	}
	/* The whole request: index 300 of 3 held. */
	expect_error(call_raw(f->a, f->inst, buf, n), PV_ENOTFOUND, "index 300");
	/* Every kind, cut anywhere. */
	for (int kind = 0; kind <= PVISOR__REQUEST__KIND__WINDOWS; kind++) {
		n = req_pack(buf, sizeof(buf), 1, kind, 1, 2);
		for (size_t len = 0; len <= n; len++)
			expect_consistent(f, buf, len);
	}
}

int main(void)
{
	pv_log_init("test_server", PV_LOG_WARN);
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_no_region),
		T(test_status),
		T(test_window_index),
		T(test_merged),
		T(test_total_and_windows),
		T(test_history_one_round),
		T(test_history_rounds_rcu),
		T(test_history_zero),
		T(test_window_extras),
		T(test_overwritten_unread),
		T(test_frontier),
		T(test_dead_shard_running_stale),
		T(test_dead_shard_dead),
		T(test_done_shard_not_dead),
		T(test_restart_no_double_merge),
		cmocka_unit_test(test_window_merge),
		T(test_live),
		T(test_empty_request),
		T(test_garbage),
		T(test_mutated),
		T(test_future_schema),
		T(test_unknown_kind),
		T(test_too_large),
		T(test_truncated),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
