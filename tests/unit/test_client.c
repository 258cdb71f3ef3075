/*
 * Tests for pvctl's REQ client (ctl/client.c) against a tiny nng REP server
 * running in a thread on an ipc:// socket in a private temp dir. The server
 * answers in one of several ways (a proper reply, garbage, a newer schema, an
 * error, silence, ...) and the tests check that the client returns the right
 * failure class (which is pvctl's exit code), a message naming the socket,
 * and, for silence, that the configured timeout is honoured.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "ctl/client.h"
#include "lib/err.h"
#include "lib/timeutil.h"

enum mode {
	M_OK,           /* the reply a real aggregator gives, echoing the request */
	M_GARBAGE,      /* bytes that are no protobuf message */
	M_EMPTY,        /* zero bytes: unpacks, but carries no schema */
	M_SCHEMA2,      /* a well-formed reply of a newer schema */
	M_NESTED2,      /* schema 1 reply holding a schema 2 snapshot */
	M_ERROR,        /* code != 0 with an error text */
	M_NO_PAYLOAD,   /* code 0 but without the status/snapshot asked for */
	M_SILENT,       /* takes the request, never answers */
};

struct fx {
	char dir[64];
	char path[128];
	char url[160];
	nng_socket rep;
	pthread_t thread;
	bool running;
	enum mode mode;
	/* what the server saw of the last request */
	int requests;
	uint32_t req_schema;
	Pvisor__Request__Kind req_kind;
	uint32_t req_index, req_count;
};

static void reply_packed(struct fx *f, const Pvisor__Response *r)
{
	nng_msg *m;
	size_t n = pvisor__response__get_packed_size(r);

	if (nng_msg_alloc(&m, n) != 0)
		return;
	pvisor__response__pack(r, nng_msg_body(m));
	if (nng_sendmsg(f->rep, m, 0) != 0)
		nng_msg_free(m);
}

static void reply_bytes(struct fx *f, const void *buf, size_t len)
{
	nng_msg *m;

	if (nng_msg_alloc(&m, len) != 0)
		return;
	memcpy(nng_msg_body(m), buf, len);
	if (nng_sendmsg(f->rep, m, 0) != 0)
		nng_msg_free(m);
}

static void serve_one(struct fx *f, Pvisor__Request *req)
{
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	Pvisor__Response r = PVISOR__RESPONSE__INIT;
	Pvisor__Status st = PVISOR__STATUS__INIT;
	Pvisor__Snapshot s = PVISOR__SNAPSHOT__INIT;
	Pvisor__WindowInfo w = PVISOR__WINDOW_INFO__INIT;

	r.schema = 1;
	st.schema = 1;
	st.sensor = "srv-sensor";
	st.instance = "t";
	st.sensor_finished = 1;
	s.schema = 1;
	s.sensor = "srv-sensor";
	w.start_ts = req->index;          /* echoes, so the test sees them */
	w.windows_merged = req->count;
	s.window = &w;

	switch (f->mode) {
	case M_OK:
		if (req->kind == PVISOR__REQUEST__KIND__STATUS)
			r.status = &st;
		else
			r.snapshot = &s;
		reply_packed(f, &r);
		break;
	case M_GARBAGE:
		reply_bytes(f, garbage, sizeof(garbage));
		break;
	case M_EMPTY:
		reply_bytes(f, "", 0);
		break;
	case M_SCHEMA2:
		r.schema = 2;
		r.snapshot = &s;
		reply_packed(f, &r);
		break;
	case M_NESTED2:
		s.schema = 2;
		r.snapshot = &s;
		reply_packed(f, &r);
		break;
	case M_ERROR:
		r.code = PV_ENOTFOUND;
		r.error = "no window 7 (2 held)\x1b[2J";
		reply_packed(f, &r);
		break;
	case M_NO_PAYLOAD:
		reply_packed(f, &r);
		break;
	case M_SILENT:
		break;
	}
}

static void *server(void *arg)
{
	struct fx *f = arg;
	nng_msg *m;

	/* Ends when the test closes the socket (NNG_ECLOSED). */
	while (nng_recvmsg(f->rep, &m, 0) == 0) {
		Pvisor__Request *req =
			pvisor__request__unpack(NULL, nng_msg_len(m), nng_msg_body(m));

		nng_msg_free(m);
		f->requests++;
		if (!req)
			continue;
		f->req_schema = req->schema;
		f->req_kind = req->kind;
		f->req_index = req->index;
		f->req_count = req->count;
		serve_one(f, req);
		pvisor__request__free_unpacked(req, NULL);
	}
	return NULL;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/pvctl-test-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/t.ctl", f->dir);
	snprintf(f->url, sizeof(f->url), "ipc://%s", f->path);
	*state = f;
	return 0;
}

static void start_server(struct fx *f, enum mode mode)
{
	f->mode = mode;
	assert_int_equal(nng_rep0_open(&f->rep), 0);
	assert_int_equal(nng_listen(f->rep, f->url, NULL, 0), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, server, f), 0);
	f->running = true;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->running) {
		nng_close(f->rep);
		pthread_join(f->thread, NULL);
	}
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Opens a client on the fixture's socket with a short timeout. */
static struct pv_client *open_client(struct fx *f)
{
	struct pv_client *c = NULL;
	struct pv_client_err e;

	assert_int_equal(pv_client_open_url(&c, f->url, 300, &e), 0);
	assert_int_equal(e.fail, PV_CLIENT_FAIL_NONE);
	assert_non_null(c);
	return c;
}

static void test_round_trip_status(void **state)
{
	struct fx *f = *state;
	struct pv_client *c;
	Pvisor__Response *r = (Pvisor__Response *)1;
	struct pv_client_err e;

	start_server(f, M_OK);
	c = open_client(f);
	assert_string_equal(pv_client_get_url(c), f->url);
	assert_int_equal(pv_client_request(c, PVISOR__REQUEST__KIND__STATUS, 0, 0, &r, &e), 0);
	assert_non_null(r);
	assert_non_null(r->status);
	assert_string_equal(r->status->sensor, "srv-sensor");
	assert_true(r->status->sensor_finished);
	assert_int_equal(f->req_schema, 1); /* the client stamps the schema */
	assert_int_equal(f->req_kind, PVISOR__REQUEST__KIND__STATUS);
	assert_int_equal(pv_client_exit_code(&e), PV_EXIT_OK);
	pv_client_response_free(r);
	pv_client_close(c);
}

/* Kind, index and count reach the server; the same socket serves several
 * calls in a row. */
static void test_round_trip_snapshot_args(void **state)
{
	struct fx *f = *state;
	struct pv_client *c;
	Pvisor__Response *r = NULL;
	struct pv_client_err e;

	start_server(f, M_OK);
	c = open_client(f);
	assert_int_equal(pv_client_request(c, PVISOR__REQUEST__KIND__MERGED, 0, 15, &r, &e), 0);
	assert_int_equal(f->req_kind, PVISOR__REQUEST__KIND__MERGED);
	assert_int_equal(f->req_count, 15);
	assert_int_equal(r->snapshot->window->windows_merged, 15);
	pv_client_response_free(r);
	assert_int_equal(pv_client_request(c, PVISOR__REQUEST__KIND__WINDOW, 7, 0, &r, &e), 0);
	assert_int_equal(f->req_kind, PVISOR__REQUEST__KIND__WINDOW);
	assert_int_equal(f->req_index, 7);
	assert_int_equal(r->snapshot->window->start_ts, 7);
	pv_client_response_free(r);
	assert_int_equal(f->requests, 2);
	pv_client_close(c);
}

/* Calls that must fail: the expected code, class and message fragments. */
static void expect_failure(struct fx *f, enum mode mode, Pvisor__Request__Kind kind, int code,
			   enum pv_client_fail cls, const char *frag1, const char *frag2)
{
	struct pv_client *c;
	Pvisor__Response *r = (Pvisor__Response *)1;
	struct pv_client_err e;

	start_server(f, mode);
	c = open_client(f);
	assert_int_equal(pv_client_request(c, kind, 0, 0, &r, &e), code);
	assert_null(r);
	assert_int_equal(e.fail, cls);
	assert_int_equal(e.code, code);
	assert_non_null(strstr(e.msg, f->url));
	if (frag1)
		assert_non_null(strstr(e.msg, frag1));
	if (frag2)
		assert_non_null(strstr(e.msg, frag2));
	assert_null(strchr(e.msg, '\x1b')); /* no terminal control from the peer */
	assert_int_equal(pv_client_exit_code(&e),
			 cls == PV_CLIENT_FAIL_UNREACHABLE ? PV_EXIT_UNREACHABLE : PV_EXIT_BAD_DATA);
	pv_client_close(c);
}

static void test_garbage_reply(void **state)
{
	expect_failure(*state, M_GARBAGE, PVISOR__REQUEST__KIND__STATUS, PV_EMALFORMED,
		       PV_CLIENT_FAIL_BAD_DATA, "bad data", "9-byte reply");
}

static void test_empty_reply(void **state)
{
	expect_failure(*state, M_EMPTY, PVISOR__REQUEST__KIND__STATUS, PV_EMALFORMED,
		       PV_CLIENT_FAIL_BAD_DATA, "no schema", NULL);
}

static void test_newer_schema_refused(void **state)
{
	expect_failure(*state, M_SCHEMA2, PVISOR__REQUEST__KIND__LIVE, PV_EVERSION,
		       PV_CLIENT_FAIL_BAD_DATA, "schema 2", "upgrade pvctl");
}

static void test_newer_nested_schema_refused(void **state)
{
	expect_failure(*state, M_NESTED2, PVISOR__REQUEST__KIND__TOTAL, PV_EVERSION,
		       PV_CLIENT_FAIL_BAD_DATA, "snapshot of schema 2", NULL);
}

static void test_error_reply(void **state)
{
	expect_failure(*state, M_ERROR, PVISOR__REQUEST__KIND__WINDOW, PV_ENOTFOUND,
		       PV_CLIENT_FAIL_REMOTE, "no window 7 (2 held)?[2J", "not found");
}

static void test_missing_payload(void **state)
{
	expect_failure(*state, M_NO_PAYLOAD, PVISOR__REQUEST__KIND__STATUS, PV_EMALFORMED,
		       PV_CLIENT_FAIL_BAD_DATA, "carries no status", NULL);
}

static void test_missing_snapshot(void **state)
{
	expect_failure(*state, M_NO_PAYLOAD, PVISOR__REQUEST__KIND__MERGED, PV_EMALFORMED,
		       PV_CLIENT_FAIL_BAD_DATA, "carries no snapshot", NULL);
}

/* A server that never answers: the call fails after the configured 300 ms,
 * not the 5 s default and not never. */
static void test_silent_server_times_out(void **state)
{
	uint64_t t0, ms;

	t0 = pv_mono_ns();
	expect_failure(*state, M_SILENT, PVISOR__REQUEST__KIND__STATUS, -ETIMEDOUT,
		       PV_CLIENT_FAIL_UNREACHABLE, "no reply", "within 300 ms");
	ms = (pv_mono_ns() - t0) / 1000000u;
	assert_true(ms >= 250);
	assert_true(ms < 3000);
}

/* No socket file: the dial fails at once with ENOENT and a hint that names
 * the instance and the run dir. */
static void test_no_server(void **state)
{
	struct fx *f = *state;
	struct pv_client *c = (struct pv_client *)1;
	struct pv_client_err e;
	uint64_t t0 = pv_mono_ns();

	assert_int_equal(pv_client_open(&c, f->dir, "t", 300, &e), -ENOENT);
	assert_null(c);
	assert_true((pv_mono_ns() - t0) / 1000000u < 1000);
	assert_int_equal(e.fail, PV_CLIENT_FAIL_UNREACHABLE);
	assert_int_equal(pv_client_exit_code(&e), PV_EXIT_UNREACHABLE);
	assert_non_null(strstr(e.msg, "cannot reach pvaggregator at ipc://"));
	assert_non_null(strstr(e.msg, f->path));
	assert_non_null(strstr(e.msg, "No such file or directory"));
	assert_non_null(strstr(e.msg, "--instance t --run-dir "));
}

/* A socket file nobody listens on (an aggregator that crashed): refused,
 * with a message that says so. */
static void test_stale_socket(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct pv_client *c = NULL;
	struct pv_client_err e;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	strcpy(sun.sun_path, f->path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	/* bound but not listening: connect() gets ECONNREFUSED */
	assert_int_equal(pv_client_open_url(&c, f->url, 300, &e), -ECONNREFUSED);
	assert_null(c);
	assert_int_equal(e.fail, PV_CLIENT_FAIL_UNREACHABLE);
	assert_non_null(strstr(e.msg, "nothing listens"));
	close(fd);
}

static void test_url_and_names(void **state)
{
	char buf[160], longdir[200];
	struct pv_client *c = NULL;
	struct pv_client_err e;

	(void)state;
	assert_int_equal(pv_client_url("/run/pvisor", "default", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ipc:///run/pvisor/default.ctl");
	assert_int_equal(pv_client_url("/run/pvisor", "../x", buf, sizeof(buf)), PV_ECONFIG);
	assert_int_equal(pv_client_url("/run/pvisor", "", buf, sizeof(buf)), PV_ECONFIG);
	/* sun_path holds 108 bytes: longer paths are refused up front. */
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	assert_int_equal(pv_client_url(longdir, "x", buf, sizeof(buf)), PV_ECONFIG);
	longdir[100] = '\0'; /* "/ddd…" (100) + "/x.ctl" (6) = 106 < 108 */
	assert_int_equal(pv_client_url(longdir, "x", buf, sizeof(buf)), 0);

	assert_int_equal(pv_client_open(&c, "/run/pvisor", "a/b", 300, &e), PV_ECONFIG);
	assert_null(c);
	assert_non_null(strstr(e.msg, "invalid instance name"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_snapshot_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_nested_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_payload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_server_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_socket, setup, teardown),
		cmocka_unit_test(test_url_and_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
