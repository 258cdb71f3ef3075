/*
 * pvctl's REQ client (see client.h): dialling, one request/reply round trip
 * under timeouts, and the checks that decide whether a reply can be used.
 * Every failure message names the socket URL and what the operator can do.
 */
#include "ctl/client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "lib/err.h"
#include "shm/region.h"

#define CLIENT_URL_MAX 160
#define CLIENT_HINT_MAX 200
/* nng drops the connection on a bigger reply (its default is 1 MiB, too small
 * for a WINDOWS reply over a long capture); the peer is a local socket. */
#define CLIENT_RECV_MAX ((size_t)256 << 20)

struct pv_client {
	nng_socket sock;
	unsigned timeout_ms;
	char url[CLIENT_URL_MAX];
};

static int fail(struct pv_client_err *e, enum pv_client_fail kind, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct pv_client_err *e, enum pv_client_fail kind, int code, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		e->fail = kind;
		e->code = code;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

static void ok(struct pv_client_err *e)
{
	if (e) {
		e->fail = PV_CLIENT_FAIL_NONE;
		e->code = 0;
		e->msg[0] = '\0';
	}
}

/* nng's error numbers as -errno, so callers see one error space (lib/err.h). */
static int nng_to_err(int rv)
{
	if (rv & NNG_ESYSERR)
		return -(rv & ~NNG_ESYSERR);
	switch (rv) {
	case NNG_EINTR:
		return -EINTR;
	case NNG_ENOMEM:
		return -ENOMEM;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
		return -EINVAL;
	case NNG_ETIMEDOUT:
		return -ETIMEDOUT;
	case NNG_ECONNREFUSED:
		return -ECONNREFUSED;
	case NNG_ECLOSED:
	case NNG_ECONNSHUT:
		return -EPIPE;
	case NNG_ENOENT:
		return -ENOENT;
	case NNG_EPERM:
		return -EACCES;
	case NNG_EMSGSIZE:
		return -EMSGSIZE;
	case NNG_ECONNABORTED:
		return -ECONNABORTED;
	case NNG_ECONNRESET:
		return -ECONNRESET;
	case NNG_EUNREACHABLE:
		return -EHOSTUNREACH;
	default:
		return -EIO;
	}
}

/* Copies untrusted text for a terminal: control bytes become '?'. */
static void sanitize(char *dst, size_t len, const char *src)
{
	size_t i = 0;

	if (len == 0)
		return;
	for (; src && src[i] && i + 1 < len; i++) {
		unsigned char ch = (unsigned char)src[i];
		dst[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	dst[i] = '\0';
}

int pv_client_url(const char *run_dir, const char *instance, char *buf, size_t len)
{
	struct sockaddr_un sun;
	int n;

	if (!run_dir || !*run_dir || pv_instance_valid(instance) != PV_OK)
		return PV_ECONFIG;
	n = snprintf(buf, len, "ipc://%s/%s.ctl", run_dir, instance);
	if (n < 0 || (size_t)n >= len)
		return PV_ECONFIG;
	/* The part after "ipc://" becomes sun_path, NUL included. */
	if ((size_t)n - strlen("ipc://") >= sizeof(sun.sun_path))
		return PV_ECONFIG;
	return PV_OK;
}

/* nng reports a missing ipc socket file as "connection refused", the same
 * as a stale one nobody listens on; the operator's fix differs (start the
 * aggregator vs. find out why it died), so look at the path. */
static int dial_err(const char *url, int rv)
{
	struct stat st;
	int err = nng_to_err(rv);

	if (err == -ECONNREFUSED && strncmp(url, "ipc://", 6) == 0 && lstat(url + 6, &st) < 0 &&
	    (errno == ENOENT || errno == ENOTDIR))
		return -ENOENT;
	return err;
}

static int dial(struct pv_client **out, const char *url, unsigned timeout_ms, const char *hint,
		struct pv_client_err *e)
{
	struct pv_client *c = NULL;
	bool sock_open = false;
	int rv, err;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		err = fail(e, PV_CLIENT_FAIL_UNREACHABLE, -ENOMEM, "out of memory");
		goto fail;
	}
	if (strlen(url) >= sizeof(c->url)) {
		err = fail(e, PV_CLIENT_FAIL_UNREACHABLE, PV_ECONFIG,
			   "control socket URL too long: %s", url);
		goto fail;
	}
	strcpy(c->url, url);
	c->timeout_ms = timeout_ms ? timeout_ms : PV_CLIENT_TIMEOUT_MS_DEFAULT;

	rv = nng_req0_open(&c->sock);
	if (rv) {
		err = fail(e, PV_CLIENT_FAIL_UNREACHABLE, nng_to_err(rv),
			   "cannot open an nng REQ socket: %s", nng_strerror(rv));
		goto fail;
	}
	sock_open = true;
	if ((rv = nng_socket_set_ms(c->sock, NNG_OPT_RECVTIMEO, (nng_duration)c->timeout_ms)) ||
	    (rv = nng_socket_set_ms(c->sock, NNG_OPT_SENDTIMEO, (nng_duration)c->timeout_ms)) ||
	    (rv = nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, CLIENT_RECV_MAX))) {
		err = fail(e, PV_CLIENT_FAIL_UNREACHABLE, nng_to_err(rv),
			   "cannot set options on the REQ socket: %s", nng_strerror(rv));
		goto fail;
	}
	/* Blocking dial: a missing or dead socket fails here, at once, instead
	 * of turning into a receive timeout later. */
	rv = nng_dial(c->sock, c->url, NULL, 0);
	if (rv) {
		err = dial_err(url, rv);
		if (err == -ENOENT)
			fail(e, PV_CLIENT_FAIL_UNREACHABLE, err,
			     "cannot reach pvaggregator at %s: %s — is pvaggregator running%s?", url,
			     strerror(ENOENT), hint);
		else if (err == -ECONNREFUSED)
			fail(e, PV_CLIENT_FAIL_UNREACHABLE, err,
			     "cannot reach pvaggregator at %s: %s — the socket exists but nothing "
			     "listens on it (a pvaggregator that died?); start pvaggregator%s",
			     url, strerror(ECONNREFUSED), hint);
		else if (err == -EACCES)
			fail(e, PV_CLIENT_FAIL_UNREACHABLE, err,
			     "cannot reach pvaggregator at %s: %s — run pvctl as a member of the "
			     "socket's group (pvisor) or as root",
			     url, strerror(EACCES));
		else
			fail(e, PV_CLIENT_FAIL_UNREACHABLE, err, "cannot reach pvaggregator at %s: %s",
			     url, nng_strerror(rv));
		goto fail;
	}
	ok(e);
	*out = c;
	return PV_OK;
fail:
	if (sock_open)
		nng_close(c->sock);
	free(c);
	return err;
}

int pv_client_open_url(struct pv_client **out, const char *url, unsigned timeout_ms,
		       struct pv_client_err *e)
{
	return dial(out, url, timeout_ms, "", e);
}

int pv_client_open(struct pv_client **out, const char *run_dir, const char *instance,
		   unsigned timeout_ms, struct pv_client_err *e)
{
	char url[CLIENT_URL_MAX], hint[CLIENT_HINT_MAX];

	*out = NULL;
	if (pv_instance_valid(instance) != PV_OK)
		return fail(e, PV_CLIENT_FAIL_UNREACHABLE, PV_ECONFIG,
			    "invalid instance name \"%.64s\": use 1-63 characters of "
			    "A-Z a-z 0-9 _ . - (not starting with '.')",
			    instance ? instance : "");
	if (pv_client_url(run_dir, instance, url, sizeof(url)) != PV_OK)
		return fail(e, PV_CLIENT_FAIL_UNREACHABLE, PV_ECONFIG,
			    "run directory path too long for a control socket: %.200s "
			    "(at most %zu bytes for <run-dir>/<instance>.ctl)",
			    run_dir ? run_dir : "", sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	if (strcmp(run_dir, PV_CLIENT_RUN_DIR_DEFAULT) == 0)
		snprintf(hint, sizeof(hint), " with --instance %s", instance);
	else
		snprintf(hint, sizeof(hint), " with --instance %s --run-dir %.120s", instance,
			 run_dir);
	return dial(out, url, timeout_ms, hint, e);
}

static bool kind_wants_snapshot(Pvisor__Request__Kind kind)
{
	return kind == PVISOR__REQUEST__KIND__WINDOW || kind == PVISOR__REQUEST__KIND__MERGED ||
	       kind == PVISOR__REQUEST__KIND__LIVE || kind == PVISOR__REQUEST__KIND__TOTAL;
}

static int newer_schema(struct pv_client_err *e, const char *url, const char *what,
			uint32_t schema)
{
	return fail(e, PV_CLIENT_FAIL_BAD_DATA, PV_EVERSION,
		    "pvaggregator at %s sent %s of schema %u; this pvctl reads schema %u and "
		    "older — upgrade pvctl",
		    url, what, schema, PV_SCHEMA_VERSION);
}

int pv_client_decode(const void *buf, size_t len, Pvisor__Request__Kind kind, const char *url,
		     Pvisor__Response **out, struct pv_client_err *e)
{
	Pvisor__Response *r = NULL;
	char text[256];
	int err;

	*out = NULL;
	if (!url)
		url = "(unknown)";
	r = pvisor__response__unpack(NULL, len, buf);
	if (!r) {
		err = fail(e, PV_CLIENT_FAIL_BAD_DATA, PV_EMALFORMED,
			   "bad data from %s: the %zu-byte reply is not a pvisor Response — is "
			   "something other than pvaggregator listening there?",
			   url, len);
		goto fail;
	}
	if (r->schema > PV_SCHEMA_VERSION) {
		err = newer_schema(e, url, "a reply", r->schema);
		goto fail;
	}
	if (r->schema == 0) {
		err = fail(e, PV_CLIENT_FAIL_BAD_DATA, PV_EMALFORMED,
			   "bad data from %s: the reply carries no schema version", url);
		goto fail;
	}
	if (r->code != 0) {
		sanitize(text, sizeof(text), r->error);
		err = fail(e, PV_CLIENT_FAIL_REMOTE, r->code, "pvaggregator at %s: %s (%s)", url,
			   text[0] ? text : "error without a message", pv_strerror(r->code));
		goto fail;
	}
	if (r->status && r->status->schema > PV_SCHEMA_VERSION) {
		err = newer_schema(e, url, "a status", r->status->schema);
		goto fail;
	}
	if (r->snapshot && r->snapshot->schema > PV_SCHEMA_VERSION) {
		err = newer_schema(e, url, "a snapshot", r->snapshot->schema);
		goto fail;
	}
	for (size_t i = 0; i < r->n_windows; i++) {
		if (r->windows[i]->schema > PV_SCHEMA_VERSION) {
			err = newer_schema(e, url, "a snapshot", r->windows[i]->schema);
			goto fail;
		}
	}
	if (kind == PVISOR__REQUEST__KIND__STATUS && !r->status) {
		err = fail(e, PV_CLIENT_FAIL_BAD_DATA, PV_EMALFORMED,
			   "bad data from %s: the reply to STATUS carries no status", url);
		goto fail;
	}
	if (kind_wants_snapshot(kind) && !r->snapshot) {
		err = fail(e, PV_CLIENT_FAIL_BAD_DATA, PV_EMALFORMED,
			   "bad data from %s: the reply carries no snapshot", url);
		goto fail;
	}
	ok(e);
	*out = r;
	return PV_OK;
fail:
	if (r)
		pvisor__response__free_unpacked(r, NULL);
	return err;
}

int pv_client_call(struct pv_client *c, Pvisor__Request *req, Pvisor__Response **out,
		   struct pv_client_err *e)
{
	nng_msg *msg = NULL;
	size_t size;
	int rv, err;

	*out = NULL;
	req->schema = PV_SCHEMA_VERSION;
	size = pvisor__request__get_packed_size(req);
	rv = nng_msg_alloc(&msg, size);
	if (rv) {
		err = fail(e, PV_CLIENT_FAIL_UNREACHABLE, nng_to_err(rv), "out of memory");
		goto out;
	}
	pvisor__request__pack(req, nng_msg_body(msg));
	rv = nng_sendmsg(c->sock, msg, 0);
	if (rv) {
		err = nng_to_err(rv);
		if (err == -ETIMEDOUT)
			fail(e, PV_CLIENT_FAIL_UNREACHABLE, err,
			     "cannot send to pvaggregator at %s within %u ms — is it stuck?", c->url,
			     c->timeout_ms);
		else
			fail(e, PV_CLIENT_FAIL_UNREACHABLE, err,
			     "cannot send to pvaggregator at %s: %s", c->url, nng_strerror(rv));
		goto out;
	}
	msg = NULL; /* nng owns it now */
	rv = nng_recvmsg(c->sock, &msg, 0);
	if (rv) {
		msg = NULL;
		err = nng_to_err(rv);
		if (err == -ETIMEDOUT)
			fail(e, PV_CLIENT_FAIL_UNREACHABLE, err,
			     "no reply from pvaggregator at %s within %u ms — is it overloaded or "
			     "stuck?",
			     c->url, c->timeout_ms);
		else
			fail(e, PV_CLIENT_FAIL_UNREACHABLE, err,
			     "no reply from pvaggregator at %s: %s", c->url, nng_strerror(rv));
		goto out;
	}
	err = pv_client_decode(nng_msg_body(msg), nng_msg_len(msg), req->kind, c->url, out, e);
out:
	if (msg)
		nng_msg_free(msg);
	return err;
}

int pv_client_request(struct pv_client *c, Pvisor__Request__Kind kind, uint32_t index,
		      uint32_t count, Pvisor__Response **out, struct pv_client_err *e)
{
	Pvisor__Request req = PVISOR__REQUEST__INIT;

	req.kind = kind;
	req.index = index;
	req.count = count;
	return pv_client_call(c, &req, out, e);
}

void pv_client_response_free(Pvisor__Response *resp)
{
	if (resp)
		pvisor__response__free_unpacked(resp, NULL);
}

const char *pv_client_get_url(const struct pv_client *c)
{
	return c->url;
}

void pv_client_close(struct pv_client *c)
{
	if (!c)
		return;
	nng_close(c->sock);
	free(c);
}

int pv_client_exit_code(const struct pv_client_err *e)
{
	switch (e->fail) {
	case PV_CLIENT_FAIL_NONE:
		return PV_EXIT_OK;
	case PV_CLIENT_FAIL_UNREACHABLE:
		return PV_EXIT_UNREACHABLE;
	case PV_CLIENT_FAIL_BAD_DATA:
	case PV_CLIENT_FAIL_REMOTE:
	default:
		return PV_EXIT_BAD_DATA;
	}
}
