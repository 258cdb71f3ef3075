/*
 * Tests for pvctl's output (ctl/render.c) and the JSON writer (lib/json.c).
 * The window document is compared byte for byte with the METRICS.md shape
 * (member names, nesting, order, the period arithmetic); strings an attacker
 * controls (sensor ids, worker states) must still give valid JSON, checked by
 * Python's json module as an independent parser, and must not reach a
 * terminal as raw control bytes; the writer's commas, nesting and misuse
 * detection are tested on their own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "ctl/render.h"
#include "lib/err.h"
#include "lib/json.h"

/* --- helpers --- */

struct mem {
	char *buf;
	size_t len;
	FILE *f;
};

static FILE *mem_open(struct mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
	return m->f;
}

/* Closes the stream; the caller frees the returned text. */
static char *mem_text(struct mem *m)
{
	assert_int_equal(fclose(m->f), 0);
	return m->buf;
}

/* Runs Python on text: the script reads the JSON document from stdin and
 * exits non-zero if an assertion in it fails. Returns the exit status. */
static int python_check(const char *text, const char *script)
{
	char cmd[4096];
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "python3 -c '%s'", script);
	p = popen(cmd, "w");
	assert_non_null(p);
	fputs(text, p);
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

static int json_valid(const char *text)
{
	return python_check(text, "import json,sys; json.load(sys.stdin)") == 0;
}

/* A snapshot whose every number is distinct, so a value under the wrong
 * path shows. The caller owns nothing: all parts are static. */
static Pvisor__Snapshot *sample_snapshot(void)
{
	static Pvisor__WindowInfo w = PVISOR__WINDOW_INFO__INIT;
	static Pvisor__DecodeErrors d = PVISOR__DECODE_ERRORS__INIT;
	static Pvisor__Capture c = PVISOR__CAPTURE__INIT;
	static Pvisor__Packets p = PVISOR__PACKETS__INIT;
	static Pvisor__Snapshot s = PVISOR__SNAPSHOT__INIT;

	w.start_ts = 1567706400; /* 2019-09-05 18:00:00 UTC */
	w.length = 60;
	w.windows_merged = 5;
	w.live = 0;
	d.truncated = 8;
	d.malformed = 9;
	c.workers = 2;
	c.worker_restarts = 3;
	c.ring_packets = 1000;
	c.ring_drops = 4;
	c.ring_freezes = 5;
	c.interface_drops = 6;
	c.windows_overwritten_unread = 7;
	c.decode_errors = &d;
	c.crash_skipped = 99;
	p.total = 101;
	p.filtered = 102;
	p.ipv4 = 103;
	p.ipv6 = 104;
	p.tcp = 105;
	p.udp = 106;
	p.other_l4 = 107;
	p.icmp = 108;
	p.fragments = 109;
	p.tcp_syn = 110;
	p.in = 111;
	p.out = 112;
	p.unknown_dir = 113;
	p.deep_samples = 114;
	p.bytes_total = 18446744073709551615ull; /* u64 max survives */
	p.bytes_in = 116;
	p.bytes_out = 117;
	s.schema = 1;
	s.sensor = "edge-1";
	s.window = &w;
	s.capture = &c;
	s.packets = &p;
	return &s;
}

static const char sample_json[] =
	"{\n"
	"  \"schema\": 1,\n"
	"  \"sensor\": \"edge-1\",\n"
	"  \"window\": {\n"
	"    \"start_ts\": 1567706400,\n"
	"    \"length\": 60,\n"
	"    \"windows_merged\": 5,\n"
	"    \"live\": false\n"
	"  },\n"
	"  \"capture\": {\n"
	"    \"workers\": 2,\n"
	"    \"worker_restarts\": 3,\n"
	"    \"ring_packets\": 1000,\n"
	"    \"ring_drops\": 4,\n"
	"    \"ring_freezes\": 5,\n"
	"    \"interface_drops\": 6,\n"
	"    \"windows_overwritten_unread\": 7,\n"
	"    \"decode_errors\": {\n"
	"      \"truncated\": 8,\n"
	"      \"malformed\": 9\n"
	"    }\n"
	"  },\n"
	"  \"packets\": {\n"
	"    \"period\": {\n"
	"      \"start_ts\": 1567706400,\n"
	"      \"length\": 300\n"
	"    },\n"
	"    \"total\": 101,\n"
	"    \"filtered\": 102,\n"
	"    \"ipv4\": 103,\n"
	"    \"ipv6\": 104,\n"
	"    \"tcp\": 105,\n"
	"    \"udp\": 106,\n"
	"    \"other_l4\": 107,\n"
	"    \"icmp\": 108,\n"
	"    \"fragments\": 109,\n"
	"    \"protocol\": {\n"
	"      \"tcp\": {\n"
	"        \"syn\": 110\n"
	"      }\n"
	"    },\n"
	"    \"in\": 111,\n"
	"    \"out\": 112,\n"
	"    \"unknown_dir\": 113,\n"
	"    \"deep_samples\": 114,\n"
	"    \"bytes\": {\n"
	"      \"total\": 18446744073709551615,\n"
	"      \"in\": 116,\n"
	"      \"out\": 117\n"
	"    },\n"
	/* no sketch images in the snapshot: every sketch reads as empty */
	"    \"cardinality\": {\n"
	"      \"src_ips_in\": 0,\n"
	"      \"dst_ips_out\": 0\n"
	"    },\n"
	"    \"top_ipv4\": [],\n"
	"    \"top_ipv6\": [],\n"
	"    \"top_geoLoc\": [],\n"
	"    \"top_ASN\": [],\n"
	"    \"payload_size\": {\n"
	"      \"count\": 0\n"
	"    },\n"
	"    \"rates\": {\n"
	"      \"pps_in\": {\n"
	"        \"live\": 0\n"
	"      },\n"
	"      \"pps_out\": {\n"
	"        \"live\": 0\n"
	"      },\n"
	"      \"pps_total\": {\n"
	"        \"live\": 0\n"
	"      },\n"
	"      \"bytes_in\": {\n"
	"        \"live\": 0\n"
	"      },\n"
	"      \"bytes_out\": {\n"
	"        \"live\": 0\n"
	"      },\n"
	"      \"bytes_total\": {\n"
	"        \"live\": 0\n"
	"      }\n"
	"    }\n"
	"  }\n"
	"}\n";

/* --- the window document --- */

static void test_snapshot_json_exact(void **state)
{
	struct mem m;
	char *text;

	(void)state;
	assert_int_equal(pv_render_snapshot_json(mem_open(&m), sample_snapshot()), 0);
	text = mem_text(&m);
	assert_string_equal(text, sample_json);
	assert_true(json_valid(text));
	free(text);
}

/* Absent sub-messages (a proto3 reply may leave them out) render as zeros
 * with every path still present, and a NULL sensor as "". */
static void test_snapshot_json_absent_parts(void **state)
{
	Pvisor__Snapshot s = PVISOR__SNAPSHOT__INIT;
	struct mem m;
	char *text;

	(void)state;
	s.schema = 1;
	assert_int_equal(pv_render_snapshot_json(mem_open(&m), &s), 0);
	text = mem_text(&m);
	assert_int_equal(
		python_check(text,
			     "import json,sys; d=json.load(sys.stdin); "
			     "assert d[\"sensor\"]==\"\"; "
			     "assert d[\"window\"]=={\"start_ts\":0,\"length\":0,"
			     "\"windows_merged\":0,\"live\":False}; "
			     "assert d[\"capture\"][\"decode_errors\"]=={\"truncated\":0,\"malformed\":0}; "
			     "assert d[\"packets\"][\"protocol\"]=={\"tcp\":{\"syn\":0}}; "
			     "assert d[\"packets\"][\"bytes\"]=={\"total\":0,\"in\":0,\"out\":0}; "
			     "assert d[\"packets\"][\"period\"]=={\"start_ts\":0,\"length\":0}"),
		0);
	free(text);
}

/* The live flag and the period of a single window. */
static void test_snapshot_json_live(void **state)
{
	Pvisor__Snapshot *s = sample_snapshot();
	struct mem m;
	char *text;

	(void)state;
	s->window->live = 1;
	s->window->windows_merged = 1;
	assert_int_equal(pv_render_snapshot_json(mem_open(&m), s), 0);
	text = mem_text(&m);
	assert_non_null(strstr(text, "\"live\": true\n"));
	assert_non_null(strstr(text, "\"period\": {\n      \"start_ts\": 1567706400,\n"
				     "      \"length\": 60\n"));
	free(text);
	s->window->live = 0;
	s->window->windows_merged = 5;
}

/* Sensor ids are untrusted: quotes, backslashes, control bytes, invalid
 * UTF-8 (a lone 0xff, a truncated sequence, a UTF-16 surrogate, a code point
 * above U+10FFFF, an overlong '/') must all give valid JSON; valid UTF-8
 * (é, €, 𝄞) passes through unchanged. */
static void test_json_escape_nasty(void **state)
{
	static const char nasty[] = "q\"b\\n\nt\tc\x01\x1f"
				    "d\x7f|\xff|\xc3|\xed\xa0\x80|\xf4\x90\x80\x80|\xc0\xaf|"
				    "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e";
	Pvisor__Snapshot *s = sample_snapshot();
	struct mem m;
	char *text;

	(void)state;
	s->sensor = (char *)nasty;
	assert_int_equal(pv_render_snapshot_json(mem_open(&m), s), 0);
	text = mem_text(&m);
	assert_non_null(strstr(text,
			       "\"sensor\": \"q\\\"b\\\\n\\nt\\tc\\u0001\\u001fd\\u007f|\\ufffd|"
			       "\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd\\ufffd|"
			       "\\ufffd\\ufffd|\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e\",\n"));
	assert_int_equal(
		python_check(text, "import json,sys; d=json.load(sys.stdin); "
				   "assert d[\"sensor\"].startswith(\"q\\\"b\\\\n\\nt\\tc\\x01\"), d; "
				   "assert d[\"sensor\"].endswith(\"|\\u00e9\\u20ac\\U0001d11e\"), d"),
		0);
	free(text);
	s->sensor = "edge-1";
}

/* Embedded NULs (pv_json_string_len) are escaped, not truncated. */
static void test_json_string_len_nul(void **state)
{
	struct pv_json j;
	struct mem m;
	char *text;

	(void)state;
	pv_json_init(&j, mem_open(&m), PV_JSON_COMPACT);
	pv_json_string_len(&j, "a\0b", 3);
	assert_int_equal(pv_json_finish(&j), 0);
	text = mem_text(&m);
	assert_string_equal(text, "\"a\\u0000b\"");
	free(text);
}

/* --- the JSON writer --- */

static void test_json_commas_nesting_compact(void **state)
{
	struct pv_json j;
	struct mem m;
	char *text;

	(void)state;
	pv_json_init(&j, mem_open(&m), PV_JSON_COMPACT);
	pv_json_begin_object(&j);
	pv_json_kv_u64(&j, "a", 1);
	pv_json_key(&j, "b");
	pv_json_begin_array(&j);
	pv_json_u64(&j, 1);
	pv_json_i64(&j, -2);
	pv_json_begin_object(&j);
	pv_json_end_object(&j);
	pv_json_begin_array(&j);
	pv_json_end_array(&j);
	pv_json_null(&j);
	pv_json_end_array(&j);
	pv_json_key(&j, "c");
	pv_json_begin_object(&j);
	pv_json_key(&j, "d");
	pv_json_begin_array(&j);
	pv_json_string(&j, "x");
	pv_json_end_array(&j);
	pv_json_kv_bool(&j, "e", false);
	pv_json_end_object(&j);
	pv_json_kv_i64(&j, "f", INT64_MIN);
	pv_json_end_object(&j);
	assert_int_equal(pv_json_finish(&j), 0);
	text = mem_text(&m);
	assert_string_equal(text, "{\"a\":1,\"b\":[1,-2,{},[],null],\"c\":{\"d\":[\"x\"],\"e\":false},"
				  "\"f\":-9223372036854775808}");
	assert_true(json_valid(text));
	free(text);
}

static void test_json_pretty_layout(void **state)
{
	struct pv_json j;
	struct mem m;
	char *text;

	(void)state;
	pv_json_init(&j, mem_open(&m), PV_JSON_PRETTY);
	pv_json_begin_object(&j);
	pv_json_key(&j, "list");
	pv_json_begin_array(&j);
	pv_json_u64(&j, 1);
	pv_json_begin_object(&j);
	pv_json_kv_string(&j, "k", "v");
	pv_json_end_object(&j);
	pv_json_end_array(&j);
	pv_json_key(&j, "empty");
	pv_json_begin_object(&j);
	pv_json_end_object(&j);
	pv_json_end_object(&j);
	assert_int_equal(pv_json_finish(&j), 0);
	text = mem_text(&m);
	assert_string_equal(text, "{\n"
				  "  \"list\": [\n"
				  "    1,\n"
				  "    {\n"
				  "      \"k\": \"v\"\n"
				  "    }\n"
				  "  ],\n"
				  "  \"empty\": {}\n"
				  "}\n");
	free(text);
}

static void test_json_doubles(void **state)
{
	struct pv_json j;
	struct mem m;
	char *text;

	(void)state;
	pv_json_init(&j, mem_open(&m), PV_JSON_COMPACT);
	pv_json_begin_array(&j);
	pv_json_double(&j, 0.1);
	pv_json_double(&j, 1.0 / 3.0);
	pv_json_double(&j, -2.5e300);
	pv_json_double(&j, NAN);
	pv_json_double(&j, INFINITY);
	pv_json_end_array(&j);
	assert_int_equal(pv_json_finish(&j), 0);
	text = mem_text(&m);
	assert_string_equal(text, "[0.1,0.33333333333333331,-2.5e+300,null,null]");
	assert_true(json_valid(text));
	free(text);
}

/* Each misuse makes the writer refuse, once, at finish. */
static void test_json_misuse(void **state)
{
	struct pv_json j;
	FILE *f = fopen("/dev/null", "w");

	(void)state;
	assert_non_null(f);

	pv_json_init(&j, f, 0); /* value in an object without a key */
	pv_json_begin_object(&j);
	pv_json_u64(&j, 1);
	pv_json_end_object(&j);
	assert_int_equal(pv_json_finish(&j), PV_ECONFIG);

	pv_json_init(&j, f, 0); /* key inside an array */
	pv_json_begin_array(&j);
	pv_json_key(&j, "k");
	pv_json_end_array(&j);
	assert_int_equal(pv_json_finish(&j), PV_ECONFIG);

	pv_json_init(&j, f, 0); /* ']' closing a '{' */
	pv_json_begin_object(&j);
	pv_json_end_array(&j);
	assert_int_equal(pv_json_finish(&j), PV_ECONFIG);

	pv_json_init(&j, f, 0); /* a key left without its value */
	pv_json_begin_object(&j);
	pv_json_key(&j, "k");
	pv_json_end_object(&j);
	assert_int_equal(pv_json_finish(&j), PV_ECONFIG);

	pv_json_init(&j, f, 0); /* container left open */
	pv_json_begin_array(&j);
	assert_int_equal(pv_json_finish(&j), PV_ECONFIG);

	pv_json_init(&j, f, 0); /* nothing written */
	assert_int_equal(pv_json_finish(&j), PV_ECONFIG);

	pv_json_init(&j, f, 0); /* two top-level values */
	pv_json_u64(&j, 1);
	pv_json_u64(&j, 2);
	assert_int_equal(pv_json_finish(&j), PV_ECONFIG);

	pv_json_init(&j, f, 0); /* nesting deeper than the limit */
	for (int i = 0; i <= PV_JSON_DEPTH_MAX; i++)
		pv_json_begin_array(&j);
	assert_int_equal(pv_json_finish(&j), PV_ECONFIG);

	pv_json_init(&j, f, 0); /* exactly the limit is fine */
	for (int i = 0; i < PV_JSON_DEPTH_MAX; i++)
		pv_json_begin_array(&j);
	for (int i = 0; i < PV_JSON_DEPTH_MAX; i++)
		pv_json_end_array(&j);
	assert_int_equal(pv_json_finish(&j), 0);
	fclose(f);
}

/* A write error is reported, not ignored. */
static void test_json_write_error(void **state)
{
	struct pv_json j;
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	assert_non_null(f);
	setvbuf(f, NULL, _IONBF, 0);
	pv_json_init(&j, f, PV_JSON_PRETTY);
	pv_json_begin_object(&j);
	pv_json_kv_u64(&j, "a", 1);
	pv_json_end_object(&j);
	assert_true(pv_json_finish(&j) < 0);
	fclose(f);
}

/* --- composite and table output --- */

static void test_windows_json(void **state)
{
	Pvisor__Snapshot w1 = PVISOR__SNAPSHOT__INIT, w2 = PVISOR__SNAPSHOT__INIT;
	Pvisor__WindowInfo i1 = PVISOR__WINDOW_INFO__INIT, i2 = PVISOR__WINDOW_INFO__INIT;
	Pvisor__Snapshot *ws[] = {&w1, &w2};
	struct mem m;
	char *text;

	(void)state;
	i1.start_ts = 100;
	i1.length = 10;
	i1.windows_merged = 1;
	i2.start_ts = 110;
	i2.length = 10;
	i2.windows_merged = 1;
	w1.schema = w2.schema = 1;
	w1.window = &i1;
	w2.window = &i2;
	assert_int_equal(pv_render_windows_json(mem_open(&m), sample_snapshot(), ws, 2), 0);
	text = mem_text(&m);
	assert_int_equal(
		python_check(text, "import json,sys; d=json.load(sys.stdin); "
				   "assert list(d)==[\"total\",\"windows\"]; "
				   "assert d[\"total\"][\"packets\"][\"total\"]==101; "
				   "assert [w[\"window\"][\"start_ts\"] for w in d[\"windows\"]]==[100,110]"),
		0);
	free(text);

	/* No windows at all: an empty array, still valid. */
	assert_int_equal(pv_render_windows_json(mem_open(&m), sample_snapshot(), NULL, 0), 0);
	text = mem_text(&m);
	assert_non_null(strstr(text, "\"windows\": []"));
	assert_true(json_valid(text));
	free(text);
}

static void test_snapshot_table(void **state)
{
	Pvisor__Snapshot *s = sample_snapshot();
	struct mem m;
	char *text;

	(void)state;
	s->sensor = "evil\x1b[2Jid";
	assert_int_equal(pv_render_snapshot_table(mem_open(&m), s), 0);
	text = mem_text(&m);
	assert_non_null(strstr(text, "2019-09-05 18:00:00 UTC + 300 s (5 windows of 60 s merged)\n"));
	assert_non_null(strstr(text, "evil\\x1b[2Jid\n"));
	assert_null(strchr(text, '\x1b'));
	/* Labels are the METRICS.md paths, values right-aligned after them. */
	assert_non_null(strstr(text, "\npackets.protocol.tcp.syn                              110\n"));
	assert_non_null(strstr(text, "\ncapture.decode_errors.malformed                         9\n"));
	assert_non_null(strstr(text, "\npackets.bytes.total                  18446744073709551615\n"));
	assert_non_null(strstr(text, "\npackets.unknown_dir                                   113\n"));
	free(text);
	s->sensor = "edge-1";

	/* A start time that is no date prints as a number, never crashes. */
	s->window->start_ts = UINT64_MAX;
	assert_int_equal(pv_render_snapshot_table(mem_open(&m), s), 0);
	text = mem_text(&m);
	assert_non_null(strstr(text, "18446744073709551615 + 300 s"));
	free(text);
	s->window->start_ts = 1567706400;
}

static Pvisor__Status *sample_status(void)
{
	static Pvisor__WorkerStatus w0 = PVISOR__WORKER_STATUS__INIT;
	static Pvisor__WorkerStatus w1 = PVISOR__WORKER_STATUS__INIT;
	static Pvisor__WorkerStatus *ws[] = {&w0, &w1};
	static Pvisor__Status st = PVISOR__STATUS__INIT;

	w0.shard = 0;
	w0.pid = 4242;
	w0.state = "running";
	w0.restarts = 1;
	w0.heartbeat_age_ms = 12;
	w0.ring_packets = 5000;
	w0.ring_drops = 2;
	w0.ring_freezes = 3;
	w1.shard = 1;
	w1.pid = 0;
	w1.state = "de\nad\"";
	w1.heartbeat_age_ms = -1;
	st.schema = 1;
	st.sensor = "edge-1";
	st.instance = "default";
	st.source = "eth0";
	st.mode = "live";
	st.region_state = "running";
	st.window_length = 60;
	st.slots = 4;
	st.supervisor_pid = 100;
	st.aggregator_pid = 200;
	st.interface_drops = 17;
	st.windows_held = 3;
	st.history = 60;
	st.windows_merged_total = 1234;
	st.windows_overwritten_unread = 5;
	st.sensor_finished = 1;
	st.n_workers = 2;
	st.workers = ws;
	return &st;
}

static void test_status_json(void **state)
{
	struct mem m;
	char *text;

	(void)state;
	assert_int_equal(pv_render_status_json(mem_open(&m), sample_status()), 0);
	text = mem_text(&m);
	assert_int_equal(
		python_check(text,
			     "import json,sys; d=json.load(sys.stdin); "
			     "assert d[\"sensor\"]==\"edge-1\" and d[\"instance\"]==\"default\"; "
			     "assert d[\"source\"]==\"eth0\" and d[\"mode\"]==\"live\"; "
			     "assert d[\"region_state\"]==\"running\" and d[\"window_length\"]==60; "
			     "assert d[\"slots\"]==4 and d[\"supervisor_pid\"]==100; "
			     "assert d[\"aggregator_pid\"]==200 and d[\"interface_drops\"]==17; "
			     "assert d[\"windows_held\"]==3 and d[\"history\"]==60; "
			     "assert d[\"windows_merged_total\"]==1234; "
			     "assert d[\"windows_overwritten_unread\"]==5; "
			     "assert d[\"sensor_finished\"] is True; "
			     "w=d[\"workers\"]; assert len(w)==2; "
			     "assert w[0]=={\"shard\":0,\"pid\":4242,\"state\":\"running\",\"restarts\":1,"
			     "\"heartbeat_age_ms\":12,\"ring_packets\":5000,\"ring_drops\":2,"
			     "\"ring_freezes\":3,\"windows_overwritten_unread\":0}; "
			     "assert w[1][\"state\"]==\"de\\nad\\\"\" and w[1][\"heartbeat_age_ms\"]==-1"),
		0);
	free(text);
}

static void test_status_table(void **state)
{
	struct mem m;
	char *text;

	(void)state;
	assert_int_equal(pv_render_status_table(mem_open(&m), sample_status()), 0);
	text = mem_text(&m);
	assert_non_null(strstr(text, "sensor               edge-1\n"));
	assert_non_null(strstr(text, "region state         running\n"));
	assert_non_null(strstr(text, "supervisor pid       100\n"));
	assert_non_null(strstr(text, "windows held         3 / 60 (history)\n"));
	assert_non_null(strstr(text, "windows merged       1234 total\n"));
	assert_non_null(strstr(text, "overwritten unread   5\n"));
	assert_non_null(strstr(text, "shard      pid state    restarts heartbeat_ms"));
	assert_non_null(strstr(text, "\n    0     4242 running         1           12           5000"
				     "            2        3\n"));
	/* The hostile state is shown escaped on its own row, and "never"
	 * stands for a heartbeat that never came. */
	assert_non_null(strstr(text, "\n    1        0 de\\x0aad\""));
	assert_non_null(strstr(text, "never"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_json_exact),
		cmocka_unit_test(test_snapshot_json_absent_parts),
		cmocka_unit_test(test_snapshot_json_live),
		cmocka_unit_test(test_json_escape_nasty),
		cmocka_unit_test(test_json_string_len_nul),
		cmocka_unit_test(test_json_commas_nesting_compact),
		cmocka_unit_test(test_json_pretty_layout),
		cmocka_unit_test(test_json_doubles),
		cmocka_unit_test(test_json_misuse),
		cmocka_unit_test(test_json_write_error),
		cmocka_unit_test(test_windows_json),
		cmocka_unit_test(test_snapshot_table),
		cmocka_unit_test(test_status_json),
		cmocka_unit_test(test_status_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
