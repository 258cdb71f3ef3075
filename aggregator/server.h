/*
 * pvaggregator's control server: an nng REP socket (ipc://<run-dir>/<instance>.ctl)
 * answering pvctl's requests (proto/pvisor.proto Request/Response) from the
 * state the merge thread publishes (aggregator/agg.h), read under RCU.
 *
 * Requests are untrusted bytes: pv_server_handle() unpacks and validates
 * them and always produces a Response (an error code and message for bad
 * ones); it is what the fuzz target and the unit tests call directly.
 */
#ifndef PV_AGG_SERVER_H
#define PV_AGG_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "aggregator/agg.h"

struct pv_server;

/* Handles one request; *resp is malloc'd (caller frees). The calling thread
 * must be RCU-registered. Returns 0 or -ENOMEM. */
int pv_server_handle(struct pv_agg *a, const char *instance, const uint8_t *req, size_t len,
		     uint8_t **resp, size_t *resp_len);

/* Listens on url and serves from a thread of its own. */
int pv_server_start(struct pv_server **out, struct pv_agg *a, const char *instance,
		    const char *url, char *why, size_t why_len);
void pv_server_stop(struct pv_server *s);

#endif
