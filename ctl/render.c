/*
 * Renderers for pvctl (see render.h). The JSON document's member order and
 * names are those of METRICS.md; the table labels are the same paths, so
 * what an operator reads in a table is what they query in JSON.
 */
#include "ctl/render.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/summary.h"
#include "lib/err.h"

/* Absent sub-messages (proto3 leaves them NULL) read as all zeros. */
static unsigned top_shown = PV_TOP_SHOWN_DEFAULT;

void pv_render_set_top(unsigned n)
{
	top_shown = n < 1 ? 1 : n > PV_TOP_SHOWN_MAX ? PV_TOP_SHOWN_MAX : n;
}

static const Pvisor__WindowInfo no_window = PVISOR__WINDOW_INFO__INIT;
static const Pvisor__Capture no_capture = PVISOR__CAPTURE__INIT;
static const Pvisor__DecodeErrors no_decode_errors = PVISOR__DECODE_ERRORS__INIT;
static const Pvisor__Packets no_packets = PVISOR__PACKETS__INIT;

static const Pvisor__WindowInfo *win_of(const Pvisor__Snapshot *s)
{
	return s->window ? s->window : &no_window;
}

static const Pvisor__Capture *cap_of(const Pvisor__Snapshot *s)
{
	return s->capture ? s->capture : &no_capture;
}

static const Pvisor__DecodeErrors *dec_of(const Pvisor__Capture *c)
{
	return c->decode_errors ? c->decode_errors : &no_decode_errors;
}

static const Pvisor__Packets *pkt_of(const Pvisor__Snapshot *s)
{
	return s->packets ? s->packets : &no_packets;
}

static int file_status(FILE *f)
{
	return ferror(f) ? -EIO : PV_OK;
}

/* --- JSON --- */

static void period_value(struct pv_json *j, const Pvisor__WindowInfo *w)
{
	pv_json_begin_object(j);
	pv_json_kv_u64(j, "start_ts", w->start_ts);
	/* Both factors are 32-bit: the product cannot overflow 64 bits. */
	pv_json_kv_u64(j, "length", (uint64_t)w->length * w->windows_merged);
	pv_json_end_object(j);
}

/* The summary of a snapshot's sketches (heap: ~60 KiB), or the check error. */
static int summary_new(const Pvisor__Snapshot *s, struct pv_packets_summary **out)
{
	struct pv_packets_summary *m = malloc(sizeof(*m));
	int rc;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	rc = pv_packets_summarize(s->packets, top_shown, m);
	if (rc != PV_OK) {
		free(m);
		return rc;
	}
	*out = m;
	return PV_OK;
}

static void quant_value(struct pv_json *j, const struct pv_quant *q, bool exact_extra)
{
	pv_json_begin_object(j);
	if (q->count) {
		pv_json_key(j, "p50");
		pv_json_double(j, q->p50);
		pv_json_key(j, "p90");
		pv_json_double(j, q->p90);
		pv_json_key(j, "p95");
		pv_json_double(j, q->p95);
		pv_json_key(j, "p99");
		pv_json_double(j, q->p99);
		if (exact_extra) {
			pv_json_key(j, "min");
			pv_json_double(j, q->min);
		}
		pv_json_key(j, "max");
		pv_json_double(j, q->max);
	}
	if (exact_extra)
		pv_json_kv_u64(j, "count", q->count);
}

static void top_value(struct pv_json *j, const struct pv_top_list *t)
{
	pv_json_begin_array(j);
	for (uint32_t i = 0; i < t->n; i++) {
		pv_json_begin_object(j);
		pv_json_key(j, "name");
		pv_json_string_len(j, t->e[i].name, t->e[i].name_len);
		pv_json_kv_u64(j, "estimate", t->e[i].estimate);
		pv_json_end_object(j);
	}
	pv_json_end_array(j);
}

static void sketches_value(struct pv_json *j, const struct pv_packets_summary *m)
{
	pv_json_key(j, "cardinality");
	pv_json_begin_object(j);
	pv_json_kv_u64(j, "src_ips_in", m->src_ips_in);
	pv_json_kv_u64(j, "dst_ips_out", m->dst_ips_out);
	pv_json_end_object(j);
	for (int k = 0; k < PV_TOP_N; k++) {
		pv_json_key(j, pv_top_names[k]);
		top_value(j, &m->top[k]);
	}
	pv_json_key(j, "payload_size");
	quant_value(j, &m->payload_size, true);
	pv_json_end_object(j);
	pv_json_key(j, "rates");
	pv_json_begin_object(j);
	for (int k = 0; k < PV_RATE_N; k++) {
		pv_json_key(j, pv_rate_names[k]);
		quant_value(j, &m->rate[k], false);
		pv_json_kv_u64(j, "live", m->rate_live[k]);
		pv_json_end_object(j);
	}
	pv_json_end_object(j);
}

int pv_render_snapshot_value(struct pv_json *j, const Pvisor__Snapshot *s)
{
	const Pvisor__WindowInfo *w = win_of(s);
	const Pvisor__Capture *c = cap_of(s);
	const Pvisor__DecodeErrors *d = dec_of(c);
	const Pvisor__Packets *p = pkt_of(s);
	struct pv_packets_summary *m;
	/* Validate every sketch before writing anything of this value. */
	int rc = summary_new(s, &m);

	if (rc != PV_OK)
		return rc;

	pv_json_begin_object(j);
	pv_json_kv_u64(j, "schema", s->schema);
	pv_json_kv_string(j, "sensor", s->sensor);

	pv_json_key(j, "window");
	pv_json_begin_object(j);
	pv_json_kv_u64(j, "start_ts", w->start_ts);
	pv_json_kv_u64(j, "length", w->length);
	pv_json_kv_u64(j, "windows_merged", w->windows_merged);
	pv_json_kv_bool(j, "live", w->live);
	pv_json_end_object(j);

	pv_json_key(j, "capture");
	pv_json_begin_object(j);
	pv_json_kv_u64(j, "workers", c->workers);
	pv_json_kv_u64(j, "worker_restarts", c->worker_restarts);
	pv_json_kv_u64(j, "ring_packets", c->ring_packets);
	pv_json_kv_u64(j, "ring_drops", c->ring_drops);
	pv_json_kv_u64(j, "ring_freezes", c->ring_freezes);
	pv_json_kv_u64(j, "interface_drops", c->interface_drops);
	pv_json_kv_u64(j, "windows_overwritten_unread", c->windows_overwritten_unread);
	pv_json_key(j, "decode_errors");
	pv_json_begin_object(j);
	pv_json_kv_u64(j, "truncated", d->truncated);
	pv_json_kv_u64(j, "malformed", d->malformed);
	pv_json_end_object(j);
	pv_json_end_object(j);

	pv_json_key(j, "packets");
	pv_json_begin_object(j);
	pv_json_key(j, "period");
	period_value(j, w);
	pv_json_kv_u64(j, "total", p->total);
	pv_json_kv_u64(j, "filtered", p->filtered);
	pv_json_kv_u64(j, "ipv4", p->ipv4);
	pv_json_kv_u64(j, "ipv6", p->ipv6);
	pv_json_kv_u64(j, "tcp", p->tcp);
	pv_json_kv_u64(j, "udp", p->udp);
	pv_json_kv_u64(j, "other_l4", p->other_l4);
	pv_json_kv_u64(j, "icmp", p->icmp);
	pv_json_kv_u64(j, "fragments", p->fragments);
	pv_json_key(j, "protocol");
	pv_json_begin_object(j);
	pv_json_key(j, "tcp");
	pv_json_begin_object(j);
	pv_json_kv_u64(j, "syn", p->tcp_syn);
	pv_json_end_object(j);
	pv_json_end_object(j);
	pv_json_kv_u64(j, "in", p->in);
	pv_json_kv_u64(j, "out", p->out);
	pv_json_kv_u64(j, "unknown_dir", p->unknown_dir);
	pv_json_kv_u64(j, "deep_samples", p->deep_samples);
	pv_json_key(j, "bytes");
	pv_json_begin_object(j);
	pv_json_kv_u64(j, "total", p->bytes_total);
	pv_json_kv_u64(j, "in", p->bytes_in);
	pv_json_kv_u64(j, "out", p->bytes_out);
	pv_json_end_object(j);
	sketches_value(j, m);
	pv_json_end_object(j);

	pv_json_end_object(j);
	free(m);
	return PV_OK;
}

int pv_render_snapshot_json(FILE *f, const Pvisor__Snapshot *s)
{
	struct pv_json j;

	int rc;

	pv_json_init(&j, f, PV_JSON_PRETTY);
	rc = pv_render_snapshot_value(&j, s);
	if (rc != PV_OK)
		return rc;
	return pv_json_finish(&j);
}

int pv_render_windows_json(FILE *f, const Pvisor__Snapshot *total,
			   Pvisor__Snapshot *const *windows, size_t n)
{
	struct pv_json j;

	pv_json_init(&j, f, PV_JSON_PRETTY);
	pv_json_begin_object(&j);
	int rc;

	pv_json_key(&j, "total");
	if ((rc = pv_render_snapshot_value(&j, total)) != PV_OK)
		return rc;
	pv_json_key(&j, "windows");
	pv_json_begin_array(&j);
	for (size_t i = 0; i < n; i++)
		if ((rc = pv_render_snapshot_value(&j, windows[i])) != PV_OK)
			return rc;
	pv_json_end_array(&j);
	pv_json_end_object(&j);
	return pv_json_finish(&j);
}

static void status_value(struct pv_json *j, const Pvisor__Status *st)
{
	pv_json_begin_object(j);
	pv_json_kv_u64(j, "schema", st->schema);
	pv_json_kv_string(j, "sensor", st->sensor);
	pv_json_kv_string(j, "instance", st->instance);
	pv_json_kv_string(j, "source", st->source);
	pv_json_kv_string(j, "mode", st->mode);
	pv_json_kv_string(j, "region_state", st->region_state);
	pv_json_kv_u64(j, "window_length", st->window_length);
	pv_json_kv_u64(j, "slots", st->slots);
	pv_json_kv_u64(j, "sensor_start_ts", st->sensor_start_ts);
	pv_json_kv_i64(j, "supervisor_pid", st->supervisor_pid);
	pv_json_kv_i64(j, "aggregator_pid", st->aggregator_pid);
	pv_json_kv_u64(j, "interface_drops", st->interface_drops);
	pv_json_kv_u64(j, "windows_held", st->windows_held);
	pv_json_kv_u64(j, "history", st->history);
	pv_json_kv_u64(j, "windows_merged_total", st->windows_merged_total);
	pv_json_kv_u64(j, "oldest_window_ts", st->oldest_window_ts);
	pv_json_kv_u64(j, "newest_window_ts", st->newest_window_ts);
	pv_json_kv_u64(j, "windows_overwritten_unread", st->windows_overwritten_unread);
	pv_json_kv_u64(j, "windows_incomplete", st->windows_incomplete);
	pv_json_kv_bool(j, "sensor_finished", st->sensor_finished);
	pv_json_key(j, "workers");
	pv_json_begin_array(j);
	for (size_t i = 0; i < st->n_workers; i++) {
		const Pvisor__WorkerStatus *w = st->workers[i];

		pv_json_begin_object(j);
		pv_json_kv_u64(j, "shard", w->shard);
		pv_json_kv_i64(j, "pid", w->pid);
		pv_json_kv_string(j, "state", w->state);
		pv_json_kv_u64(j, "restarts", w->restarts);
		pv_json_kv_i64(j, "heartbeat_age_ms", w->heartbeat_age_ms);
		pv_json_kv_u64(j, "ring_packets", w->ring_packets);
		pv_json_kv_u64(j, "ring_drops", w->ring_drops);
		pv_json_kv_u64(j, "ring_freezes", w->ring_freezes);
		pv_json_kv_u64(j, "windows_overwritten_unread", w->windows_overwritten_unread);
		pv_json_end_object(j);
	}
	pv_json_end_array(j);
	pv_json_end_object(j);
}

int pv_render_status_json(FILE *f, const Pvisor__Status *st)
{
	struct pv_json j;

	pv_json_init(&j, f, PV_JSON_PRETTY);
	status_value(&j, st);
	return pv_json_finish(&j);
}

/* --- tables --- */

#define LABEL_WIDTH 36

/* Untrusted text for a terminal: control bytes (escape sequences) are shown
 * as \xNN, everything else as is; empty text as "-". Truncates to fit. */
static const char *safe_text(char *buf, size_t len, const char *s)
{
	size_t o = 0;

	if (!s || !*s)
		s = "-";
	for (const unsigned char *p = (const unsigned char *)s; *p && o + 5 < len; p++) {
		if (*p < 0x20 || *p == 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", *p);
		else
			buf[o++] = (char)*p;
	}
	buf[o] = '\0';
	return buf;
}

static void put_text(FILE *f, const char *s)
{
	char buf[512];

	fputs(safe_text(buf, sizeof(buf), s), f);
}

static void row_u64(FILE *f, const char *label, uint64_t v)
{
	fprintf(f, "%-*s %20" PRIu64 "\n", LABEL_WIDTH, label, v);
}

/* "2019-09-05 18:00:00 UTC", or the raw number when it is not a date. */
static void put_utc(FILE *f, uint64_t ts)
{
	struct tm tm;
	char buf[64];
	time_t t;

	if (ts > (uint64_t)INT64_MAX || (time_t)ts < 0) {
		fprintf(f, "%" PRIu64, ts);
		return;
	}
	t = (time_t)ts;
	if (!gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
		fprintf(f, "%" PRIu64, ts);
		return;
	}
	fputs(buf, f);
}

static void row_double(FILE *f, const char *label, double v)
{
	fprintf(f, "%-*s %24.6g\n", LABEL_WIDTH, label, v);
}

static void rows_quant(FILE *f, const char *prefix, const struct pv_quant *q, bool extra)
{
	char l[256];

	if (q->count == 0) {
		snprintf(l, sizeof(l), "%s.count", prefix);
		row_u64(f, l, 0);
		return;
	}
	snprintf(l, sizeof(l), "%s.p50", prefix);
	row_double(f, l, q->p50);
	snprintf(l, sizeof(l), "%s.p90", prefix);
	row_double(f, l, q->p90);
	snprintf(l, sizeof(l), "%s.p95", prefix);
	row_double(f, l, q->p95);
	snprintf(l, sizeof(l), "%s.p99", prefix);
	row_double(f, l, q->p99);
	if (extra) {
		snprintf(l, sizeof(l), "%s.min", prefix);
		row_double(f, l, q->min);
	}
	snprintf(l, sizeof(l), "%s.max", prefix);
	row_double(f, l, q->max);
	if (extra) {
		snprintf(l, sizeof(l), "%s.count", prefix);
		row_u64(f, l, q->count);
	}
}

static void rows_sketches(FILE *f, const struct pv_packets_summary *m)
{
	char l[96];

	row_u64(f, "packets.cardinality.src_ips_in", m->src_ips_in);
	row_u64(f, "packets.cardinality.dst_ips_out", m->dst_ips_out);
	for (int k = 0; k < PV_TOP_N; k++) {
		fprintf(f, "packets.%s%s\n", pv_top_names[k], m->top[k].n ? "" : " (empty)");
		for (uint32_t i = 0; i < m->top[k].n; i++) {
			char name[PV_TOPK_NAME_MAX + 1];
			fputs("  ", f);
			/* untrusted bytes: no terminal control codes */
			for (uint32_t b = 0; b < m->top[k].e[i].name_len; b++) {
				unsigned char ch = (unsigned char)m->top[k].e[i].name[b];
				name[b] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
			}
			name[m->top[k].e[i].name_len] = 0;
			fprintf(f, "%-*s %20" PRIu64 "\n", LABEL_WIDTH - 2, name,
				m->top[k].e[i].estimate);
		}
	}
	rows_quant(f, "packets.payload_size", &m->payload_size, true);
	for (int k = 0; k < PV_RATE_N; k++) {
		snprintf(l, sizeof(l), "packets.rates.%s", pv_rate_names[k]);
		rows_quant(f, l, &m->rate[k], false);
		snprintf(l, sizeof(l), "packets.rates.%s.live", pv_rate_names[k]);
		row_u64(f, l, m->rate_live[k]);
	}
}

int pv_render_snapshot_table(FILE *f, const Pvisor__Snapshot *s)
{
	const Pvisor__WindowInfo *w = win_of(s);
	const Pvisor__Capture *c = cap_of(s);
	const Pvisor__DecodeErrors *d = dec_of(c);
	const Pvisor__Packets *p = pkt_of(s);
	struct pv_packets_summary *m;
	/* Validate every sketch before writing anything of this value. */
	int rc = summary_new(s, &m);

	if (rc != PV_OK)
		return rc;

	fprintf(f, "%-*s ", LABEL_WIDTH, "sensor");
	put_text(f, s->sensor);
	fputc('\n', f);
	fprintf(f, "%-*s ", LABEL_WIDTH, "window");
	put_utc(f, w->start_ts);
	fprintf(f, " + %" PRIu64 " s", (uint64_t)w->length * w->windows_merged);
	if (w->windows_merged != 1)
		fprintf(f, " (%" PRIu32 " windows of %" PRIu32 " s merged)", w->windows_merged,
			w->length);
	if (w->live)
		fputs(" (live, still open)", f);
	fputc('\n', f);

	row_u64(f, "capture.workers", c->workers);
	row_u64(f, "capture.worker_restarts", c->worker_restarts);
	row_u64(f, "capture.ring_packets", c->ring_packets);
	row_u64(f, "capture.ring_drops", c->ring_drops);
	row_u64(f, "capture.ring_freezes", c->ring_freezes);
	row_u64(f, "capture.interface_drops", c->interface_drops);
	row_u64(f, "capture.windows_overwritten_unread", c->windows_overwritten_unread);
	row_u64(f, "capture.decode_errors.truncated", d->truncated);
	row_u64(f, "capture.decode_errors.malformed", d->malformed);

	row_u64(f, "packets.total", p->total);
	row_u64(f, "packets.filtered", p->filtered);
	row_u64(f, "packets.ipv4", p->ipv4);
	row_u64(f, "packets.ipv6", p->ipv6);
	row_u64(f, "packets.tcp", p->tcp);
	row_u64(f, "packets.udp", p->udp);
	row_u64(f, "packets.other_l4", p->other_l4);
	row_u64(f, "packets.icmp", p->icmp);
	row_u64(f, "packets.fragments", p->fragments);
	row_u64(f, "packets.protocol.tcp.syn", p->tcp_syn);
	row_u64(f, "packets.in", p->in);
	row_u64(f, "packets.out", p->out);
	row_u64(f, "packets.unknown_dir", p->unknown_dir);
	row_u64(f, "packets.deep_samples", p->deep_samples);
	row_u64(f, "packets.bytes.total", p->bytes_total);
	row_u64(f, "packets.bytes.in", p->bytes_in);
	row_u64(f, "packets.bytes.out", p->bytes_out);
	rows_sketches(f, m);
	free(m);
	return file_status(f);
}

int pv_render_windows_table(FILE *f, const Pvisor__Snapshot *total,
			    Pvisor__Snapshot *const *windows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "== window %zu of %zu\n", i + 1, n);
		pv_render_snapshot_table(f, windows[i]);
		fputc('\n', f);
	}
	fputs("== total\n", f);
	return pv_render_snapshot_table(f, total);
}

static void label(FILE *f, const char *name)
{
	fprintf(f, "%-*s ", 20, name);
}

static void status_row_text(FILE *f, const char *name, const char *v)
{
	label(f, name);
	put_text(f, v);
	fputc('\n', f);
}

static void status_row_pid(FILE *f, const char *name, int32_t pid)
{
	label(f, name);
	if (pid > 0)
		fprintf(f, "%" PRId32 "\n", pid);
	else
		fputs("-\n", f);
}

int pv_render_status_table(FILE *f, const Pvisor__Status *st)
{
	status_row_text(f, "sensor", st->sensor);
	status_row_text(f, "instance", st->instance);
	status_row_text(f, "source", st->source);
	status_row_text(f, "mode", st->mode);
	status_row_text(f, "region state", st->region_state);
	label(f, "window length");
	fprintf(f, "%" PRIu32 " s\n", st->window_length);
	label(f, "slots");
	fprintf(f, "%" PRIu32 "\n", st->slots);
	label(f, "sensor started");
	if (st->sensor_start_ts)
		put_utc(f, st->sensor_start_ts);
	else
		fputc('-', f);
	fputc('\n', f);
	status_row_pid(f, "supervisor pid", st->supervisor_pid);
	status_row_pid(f, "aggregator pid", st->aggregator_pid);
	label(f, "interface drops");
	fprintf(f, "%" PRIu64 "\n", st->interface_drops);
	label(f, "windows held");
	fprintf(f, "%" PRIu32 " / %" PRIu32 " (history)\n", st->windows_held, st->history);
	label(f, "held windows");
	if (st->windows_held) {
		put_utc(f, st->oldest_window_ts);
		fputs(" .. ", f);
		put_utc(f, st->newest_window_ts);
	} else {
		fputc('-', f);
	}
	fputc('\n', f);
	label(f, "windows merged");
	fprintf(f, "%" PRIu64 " total\n", st->windows_merged_total);
	label(f, "windows incomplete");
	fprintf(f, "%" PRIu64 "\n", st->windows_incomplete);
	label(f, "overwritten unread");
	fprintf(f, "%" PRIu64 "\n", st->windows_overwritten_unread);
	label(f, "sensor finished");
	fputs(st->sensor_finished ? "yes\n" : "no\n", f);

	fputc('\n', f);
	fprintf(f, "%5s %8s %-8s %8s %12s %14s %12s %8s\n", "shard", "pid", "state", "restarts",
		"heartbeat_ms", "ring_packets", "ring_drops", "freezes");
	for (size_t i = 0; i < st->n_workers; i++) {
		const Pvisor__WorkerStatus *w = st->workers[i];
		char hb[24], text[64];

		if (w->heartbeat_age_ms < 0)
			snprintf(hb, sizeof(hb), "never");
		else
			snprintf(hb, sizeof(hb), "%" PRId64, w->heartbeat_age_ms);
		fprintf(f, "%5" PRIu32 " %8" PRId32 " %-8s", w->shard, w->pid,
			safe_text(text, sizeof(text), w->state));
		fprintf(f, " %8" PRIu64 " %12s %14" PRIu64 " %12" PRIu64 " %8" PRIu64 "\n",
			w->restarts, hb, w->ring_packets, w->ring_drops, w->ring_freezes);
	}
	if (st->n_workers == 0)
		fputs("(no workers)\n", f);
	return file_status(f);
}
