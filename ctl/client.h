/*
 * pvctl's connection to pvaggregator's control socket: an nng REQ socket
 * dialled to ipc://<run-dir>/<instance>.ctl. One call = one packed
 * Pvisor__Request out, one packed Pvisor__Response back, under send and
 * receive timeouts. The client refuses what it cannot trust: bytes that do not
 * unpack, a schema it does not know (0 or newer than PV_SCHEMA_VERSION), and a
 * reply that lacks what the request kind asks for. An error reply from the
 * aggregator (code != 0) is returned as an error carrying its text.
 *
 * Ownership: pv_client_open() returns a heap handle the caller releases with
 * pv_client_close(). A successful pv_client_call() hands the caller the
 * unpacked response, released with pv_client_response_free(). Every failure
 * fills a caller-provided struct pv_client_err with a complete message that
 * names the socket and what to do, and a class that maps to pvctl's exit code.
 */
#ifndef PV_CTL_CLIENT_H
#define PV_CTL_CLIENT_H

#include <stddef.h>

#include "lib/version.h"
#include "pvisor.pb-c.h"

#define PV_CLIENT_TIMEOUT_MS_DEFAULT 5000
#define PV_CLIENT_RUN_DIR_DEFAULT "/run/pvisor"
#define PV_CLIENT_INSTANCE_DEFAULT "default"

/* pvctl's exit codes; also what analyze returns. */
enum pv_ctl_exit {
	PV_EXIT_OK = 0,
	PV_EXIT_USAGE = 1,       /* unknown command or option, bad number */
	PV_EXIT_UNREACHABLE = 2, /* no socket, refused, timed out */
	PV_EXIT_BAD_DATA = 3,    /* unpack failure, newer schema, error reply, failed sensor */
};

enum pv_client_fail {
	PV_CLIENT_FAIL_NONE = 0,
	PV_CLIENT_FAIL_UNREACHABLE, /* no socket, refused, timeout, I/O, bad path */
	PV_CLIENT_FAIL_BAD_DATA,    /* the reply cannot be trusted or used */
	PV_CLIENT_FAIL_REMOTE,      /* the aggregator answered with an error */
};

struct pv_client_err {
	enum pv_client_fail fail;
	int code;      /* pv_err / -errno; for FAIL_REMOTE the aggregator's code */
	char msg[512]; /* complete sentence for stderr, no trailing newline */
};

struct pv_client;

/* Builds "ipc://<run_dir>/<instance>.ctl" into buf. PV_ECONFIG if the
 * instance name is invalid or the path does not fit an AF_UNIX address. */
int pv_client_url(const char *run_dir, const char *instance, char *buf, size_t len);

/* Dials the aggregator of instance under run_dir (blocking dial, so a missing
 * socket fails here at once). timeout_ms bounds each send and each receive
 * (0: PV_CLIENT_TIMEOUT_MS_DEFAULT). */
int pv_client_open(struct pv_client **out, const char *run_dir, const char *instance,
		   unsigned timeout_ms, struct pv_client_err *e);

/* The same for any nng URL (tests use their own ipc:// paths). */
int pv_client_open_url(struct pv_client **out, const char *url, unsigned timeout_ms,
		       struct pv_client_err *e);

/* Sends req (its schema is set to PV_SCHEMA_VERSION here) and waits for the
 * reply. On success *out holds a response with code 0 whose payload matches
 * req->kind (status for STATUS, snapshot for WINDOW/MERGED/LIVE/TOTAL).
 * On failure *out is NULL and e says why. */
int pv_client_call(struct pv_client *c, Pvisor__Request *req, Pvisor__Response **out,
		   struct pv_client_err *e);

/* Request shorthand: kind with index/count. */
int pv_client_request(struct pv_client *c, Pvisor__Request__Kind kind, uint32_t index,
		      uint32_t count, Pvisor__Response **out, struct pv_client_err *e);

/* Unpacks and checks one reply to a request of kind (what pv_client_call does
 * with the bytes it receives; exposed for the fuzz target and tests). url is
 * only used in messages. */
int pv_client_decode(const void *buf, size_t len, Pvisor__Request__Kind kind, const char *url,
		     Pvisor__Response **out, struct pv_client_err *e);

void pv_client_response_free(Pvisor__Response *resp);

/* The URL the client dialled (for messages). */
const char *pv_client_get_url(const struct pv_client *c);

void pv_client_close(struct pv_client *c);

/* Exit code for a failure class. */
int pv_client_exit_code(const struct pv_client_err *e);

#endif
