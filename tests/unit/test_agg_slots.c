/*
 * Regression: shards whose slots of the same index hold different windows
 * (one worker ran ahead while the aggregator was away). Each window must be
 * merged exactly once, the totals must be the sum of what the workers
 * counted, and the aggregator must reach "finished". Before the fix, the
 * aggregator acknowledged window w in every shard's slot w % S, so two
 * windows sharing a slot index kept un-acknowledging each other: merged over
 * and over, never finished.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <urcu.h>

#include "aggregator/agg.h"
#include "lib/err.h"
#include "shm/metrics.h"
#include "shm/region.h"

static void put(struct pv_region *w, uint32_t shard, uint64_t win, uint64_t total,
		uint64_t next)
{
	struct pv_metrics *m = pv_slot_begin(w, shard, win);

	pv_metrics_init(m, 1);
	m->packets.total = total;
	pv_slot_seal(w, shard, next);
}

static char inst[64];

/* Runs even when an assertion fails: no region is left behind. */
static int teardown(void **state)
{
	(void)state;
	pv_region_unlink(inst);
	return 0;
}

static void test_same_slot_different_windows(void **state)
{
	struct pv_region_params rp = {0};
	struct pv_agg_opts o = {0};
	struct pv_region w;
	struct pv_agg *a;
	struct pv_agg_state *s;
	const uint64_t B = 1000; /* B % 4 == 0: window B + k sits in slot k */

	(void)state;
	snprintf(inst, sizeof(inst), "pvtest-aggslots-%d", (int)getpid());
	rp.instance = inst;
	rp.workers = 2;
	rp.slots = 4;
	rp.window_sec = 1;
	rp.mode = PV_MODE_LIVE;
	rp.owner_uid = (uid_t)-1;
	rp.owner_gid = (gid_t)-1;
	assert_int_equal(pv_region_create(&w, &rp), PV_OK);

	/* Shard 0: windows B+1..B+4 (B+4 reuses slot 0). Shard 1: B..B+3. */
	put(&w, 0, B + 1, 10, B + 2);
	put(&w, 0, B + 2, 20, B + 3);
	put(&w, 0, B + 3, 30, B + 4);
	put(&w, 0, B + 4, 40, UINT64_MAX);
	put(&w, 1, B + 0, 1, B + 1);
	put(&w, 1, B + 1, 2, B + 2);
	put(&w, 1, B + 2, 3, B + 3);
	put(&w, 1, B + 3, 4, UINT64_MAX);
	for (uint32_t i = 0; i < 2; i++)
		pv_store32(&pv_region_shard(&w, i)->state, PV_SHARD_DONE);
	pv_store32(&w.hdr->state, PV_REGION_STOPPED);

	o.instance = inst;
	o.history = 100;
	o.grace_ns = 60000000000ull;
	a = pv_agg_alloc(&o);
	assert_non_null(a);
	for (int i = 0; i < 20; i++)
		pv_agg_step(a);

	rcu_read_lock();
	s = pv_agg_state_get(a);
	/* Windows B..B+4, each once, oldest first. */
	assert_int_equal(s->nwin, 5);
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(s->win[i]->window_id, B + i);
	assert_int_equal(s->win[0]->v.packets.total, 1);
	assert_int_equal(s->win[1]->v.packets.total, 12);
	assert_int_equal(s->win[2]->v.packets.total, 23);
	assert_int_equal(s->win[3]->v.packets.total, 34);
	assert_int_equal(s->win[4]->v.packets.total, 40);
	assert_int_equal(s->total.v.packets.total, 110);
	assert_int_equal(s->merged_count, 5);
	assert_true(s->finished);
	rcu_read_unlock();
	/* Every slot is acknowledged with the window it holds. */
	for (uint32_t i = 0; i < 2; i++)
		for (uint32_t k = 0; k < 4; k++)
			assert_int_equal(*pv_region_ack_word(&w, i, k),
					 pv_region_slot(&w, i, k)->hdr.window_id);

	pv_agg_free(a);
	pv_region_close(&w);
	pv_region_unlink(inst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_same_slot_different_windows, teardown),
	};
	int rc;

	rcu_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return rc;
}
