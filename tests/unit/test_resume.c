/*
 * The resume point a restarted worker reads from its shard header
 * (pv_pos_start / pv_pos_resume, sensor/worker.h), step by step as a worker
 * writes it: a worker killed right after it took a block (or opened the
 * file) must lose nothing; one killed while handling packet i makes its
 * successor skip exactly packet i and say so; one killed between packets
 * skips nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sensor/worker.h"

static void expect(const struct pv_shard_hdr *sh, uint64_t next, bool crashed)
{
	bool c;

	assert_int_equal(pv_pos_resume(sh, &c), next);
	assert_int_equal(c, crashed);
}

static void test_killed_before_first_packet(void **state)
{
	struct pv_shard_hdr sh;

	(void)state;
	memset(&sh, 0, sizeof(sh));
	pv_pos_start(&sh, 7);
	sh.pos_held = 1;
	/* Nothing was begun: packet 7 must be handled, not skipped. */
	expect(&sh, 7, false);
	pv_pos_start(&sh, 0);
	expect(&sh, 0, false);
}

static void test_killed_inside_a_packet(void **state)
{
	struct pv_shard_hdr sh;

	(void)state;
	memset(&sh, 0, sizeof(sh));
	pv_pos_start(&sh, 3);
	sh.pos_held = 1;
	sh.pos_begun = 3; /* packets 3.. as the worker loop writes them */
	sh.pos_done = 4;
	sh.pos_begun = 4; /* begun, never done: the one that crashed it */
	expect(&sh, 5, true);
}

static void test_killed_between_packets(void **state)
{
	struct pv_shard_hdr sh;

	(void)state;
	memset(&sh, 0, sizeof(sh));
	pv_pos_start(&sh, 0);
	sh.pos_held = 1;
	sh.pos_begun = 9;
	sh.pos_done = 10;
	expect(&sh, 10, false);
}

static void test_nothing_held(void **state)
{
	struct pv_shard_hdr sh;

	(void)state;
	memset(&sh, 0, sizeof(sh)); /* a fresh region */
	expect(&sh, 0, false);
	sh.pos_begun = 5;
	sh.pos_done = 5; /* stale values of a returned block */
	expect(&sh, 5, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_killed_before_first_packet),
		cmocka_unit_test(test_killed_inside_a_packet),
		cmocka_unit_test(test_killed_between_packets),
		cmocka_unit_test(test_nothing_held),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
