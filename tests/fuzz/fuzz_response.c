/*
 * libFuzzer target for what pvctl does with the bytes an aggregator sends:
 * the client's decode and checks (ctl/client.c, for every request kind) and,
 * for whatever unpacks, every renderer (ctl/render.c), JSON and table, into
 * /dev/null. Besides the sanitizers it checks that the JSON writer never
 * reports misuse: whatever the message holds, the renderers must produce a
 * complete document.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl/client.h"
#include "ctl/render.h"
#include "lib/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull(void)
{
	static FILE *f;

	if (!f) {
		f = fopen("/dev/null", "w");
		if (!f)
			abort();
	}
	return f;
}

static void must_render(int err)
{
	if (err == PV_ECONFIG) /* the writer's misuse code: a renderer bug */
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const Pvisor__Snapshot empty = PVISOR__SNAPSHOT__INIT;
	FILE *f = devnull();
	Pvisor__Response *r;
	struct pv_client_err e;

	for (int kind = PVISOR__REQUEST__KIND__STATUS; kind <= PVISOR__REQUEST__KIND__WINDOWS;
	     kind++) {
		if (pv_client_decode(data, size, (Pvisor__Request__Kind)kind, "ipc://fuzz", &r,
				     &e) == 0) {
			if (!r || e.fail != PV_CLIENT_FAIL_NONE)
				abort();
			pv_client_response_free(r);
		} else if (r || e.fail == PV_CLIENT_FAIL_NONE || !e.msg[0]) {
			abort();
		}
	}

	/* Render whatever unpacks, checked or not: the renderers must cope with
	 * any message, not only the ones the client lets through. */
	r = pvisor__response__unpack(NULL, size, data);
	if (!r)
		return 0;
	if (r->status) {
		must_render(pv_render_status_json(f, r->status));
		must_render(pv_render_status_table(f, r->status));
	}
	if (r->snapshot) {
		must_render(pv_render_snapshot_json(f, r->snapshot));
		must_render(pv_render_snapshot_table(f, r->snapshot));
	}
	if (r->n_windows || r->snapshot) {
		const Pvisor__Snapshot *total = r->snapshot ? r->snapshot : &empty;

		must_render(pv_render_windows_json(f, total, r->windows, r->n_windows));
		must_render(pv_render_windows_table(f, total, r->windows, r->n_windows));
	}
	pvisor__response__free_unpacked(r, NULL);
	return 0;
}
