/*
 * Tests for pvsensor's command line (sensor/options.c,
 * pv_sensor_opts_parse): the defaults, every option in its short, long and
 * --opt=value spellings, the range of each number (both ends accepted, one
 * past refused, negatives, non-numbers and values that would wrap a 32-bit
 * unsigned refused), exactly one of -i and --pcap, the not-found filters
 * only with their database, unknown options, missing
 * values and stray arguments (-1 and a message naming the culprit), and
 * --help/--version (1). The parser runs getopt_long, whose state is global:
 * every case parses several command lines in a row, so a parse must not be
 * influenced by the one before it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sensor/supervisor.h"
#include "shm/layout.h"

#define MAXARGS 48
/* The longest window: per-second rate arrays cover one (shm/layout.h). */
#define WINDOW_MAX_S "3600"
#define WINDOW_PAST_S "3601"
_Static_assert(PV_RATE_MAX_SEC == 3600, "update WINDOW_MAX_S and WINDOW_PAST_S");

struct parsed {
	int rc;
	struct pv_sensor_opts o;
	char why[256];
};

/*
 * Parses a NULL-terminated list of arguments (argv[0] added) from a
 * private, writable copy, as main() would see them; --help text goes to
 * /dev/null.
 */
static struct parsed parse_v(const char *const *args)
{
	static char store[MAXARGS][256];
	char *argv[MAXARGS + 1];
	struct parsed p;
	int argc = 0, saved, null;

	memset(&p, 0, sizeof(p));
	snprintf(store[0], sizeof(store[0]), "pvsensor");
	argv[argc++] = store[0];
	for (; *args; args++) {
		assert_true(argc < MAXARGS);
		snprintf(store[argc], sizeof(store[argc]), "%s", *args);
		argv[argc] = store[argc];
		argc++;
	}
	argv[argc] = NULL;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	null = open("/dev/null", O_WRONLY);
	assert_true(saved >= 0 && null >= 0);
	dup2(null, STDOUT_FILENO);
	p.rc = pv_sensor_opts_parse(argc, argv, &p.o, p.why, sizeof(p.why));
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(null);
	return p;
}

#define parse(...) parse_v((const char *const[]){__VA_ARGS__, NULL})

static unsigned default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > (long)PV_SHM_MAX_WORKERS ? PV_SHM_MAX_WORKERS : (unsigned)n;
}

static void expect_ok(const struct parsed *p)
{
	if (p->rc != 0)
		fail_msg("rc %d, want 0: %s", p->rc, p->why);
}

/* -1 with a message mentioning needle. */
static void expect_usage_error(const struct parsed *p, const char *needle)
{
	if (p->rc != -1)
		fail_msg("rc %d, want -1 (usage error)", p->rc);
	if (!p->why[0])
		fail_msg("usage error without a message");
	if (needle && !strstr(p->why, needle))
		fail_msg("message '%s' does not mention '%s'", p->why, needle);
}

static void test_defaults(void **state)
{
	struct parsed p = parse("--pcap", "/tmp/x.pcap");

	(void)state;
	expect_ok(&p);
	assert_string_equal(p.o.pcap, "/tmp/x.pcap");
	assert_null(p.o.iface);
	assert_int_equal(p.o.workers, default_workers());
	assert_null(p.o.bpf);
	assert_null(p.o.host_net);
	assert_int_equal(p.o.window_sec, 60);
	assert_int_equal(p.o.slots, 4);
	assert_string_equal(p.o.instance, "default");
	assert_null(p.o.sensor_id);
	assert_null(p.o.user);
	assert_int_equal(p.o.ring_mb, 32);
	assert_int_equal(p.o.block_tov_ms, 50);
	assert_true(p.o.promisc);
	assert_int_equal(p.o.wait_aggregator_sec, 0);
	assert_int_equal(p.o.verbose, 0);
	assert_false(p.o.quiet);
	assert_null(p.o.only_hosts);
	assert_null(p.o.geo_city);
	assert_null(p.o.geo_asn);
	assert_false(p.o.geoloc_notfound);
	assert_false(p.o.asn_notfound);

	p = parse("-i", "eth0");
	expect_ok(&p);
	assert_string_equal(p.o.iface, "eth0");
	assert_null(p.o.pcap);
	p = parse("--interface=veth1");
	expect_ok(&p);
	assert_string_equal(p.o.iface, "veth1");
	p = parse("-ieth2");
	expect_ok(&p);
	assert_string_equal(p.o.iface, "eth2");
}

static void test_every_option(void **state)
{
	struct parsed p = parse("-i", "eth0", "--workers", "3", "--bpf", "udp port 53",
				"--host-net", "10.0.0.0/8,2001:db8::/32", "--window", "10",
				"--slots", "16", "--instance", "edge-1", "--sensor-id", "pop-ams",
				"--user", "nobody", "--ring-mb", "128", "--block-ms", "20",
				"--no-promisc", "--wait-aggregator", "30", "--verbose", "-v",
				"--only-hosts", "192.0.2.0/24", "--geo-city", "/g/city.mmdb",
				"--geo-asn", "/g/asn.mmdb", "--geoloc-notfound", "--asn-notfound",
				"--quiet");

	(void)state;
	expect_ok(&p);
	assert_string_equal(p.o.iface, "eth0");
	assert_int_equal(p.o.workers, 3);
	assert_string_equal(p.o.bpf, "udp port 53");
	assert_string_equal(p.o.host_net, "10.0.0.0/8,2001:db8::/32");
	assert_int_equal(p.o.window_sec, 10);
	assert_int_equal(p.o.slots, 16);
	assert_string_equal(p.o.instance, "edge-1");
	assert_string_equal(p.o.sensor_id, "pop-ams");
	assert_string_equal(p.o.user, "nobody");
	assert_int_equal(p.o.ring_mb, 128);
	assert_int_equal(p.o.block_tov_ms, 20);
	assert_false(p.o.promisc);
	assert_int_equal(p.o.wait_aggregator_sec, 30);
	assert_int_equal(p.o.verbose, 2);
	assert_true(p.o.quiet);
	assert_string_equal(p.o.only_hosts, "192.0.2.0/24");
	assert_string_equal(p.o.geo_city, "/g/city.mmdb");
	assert_string_equal(p.o.geo_asn, "/g/asn.mmdb");
	assert_true(p.o.geoloc_notfound);
	assert_true(p.o.asn_notfound);

	p = parse("-q", "--pcap", "f");
	expect_ok(&p);
	assert_true(p.o.quiet);

	/* Short spellings, glued values, --opt=value, options after the file. */
	p = parse("-w5", "-vvv", "--pcap=/tmp/a b.pcap", "--window=1", "--slots=3");
	expect_ok(&p);
	assert_int_equal(p.o.workers, 5);
	assert_int_equal(p.o.verbose, 3);
	assert_string_equal(p.o.pcap, "/tmp/a b.pcap");
	assert_int_equal(p.o.window_sec, 1);
	assert_int_equal(p.o.slots, 3);

	/* The last of a repeated option wins. */
	p = parse("--pcap", "f", "-w", "2", "-w", "7", "--instance", "a", "--instance", "b");
	expect_ok(&p);
	assert_int_equal(p.o.workers, 7);
	assert_string_equal(p.o.instance, "b");
}

/* Both ends of every range are accepted. */
static void test_range_ends(void **state)
{
	struct parsed p;

	(void)state;
	p = parse("--pcap", "f", "-w", "1", "--window", "1", "--slots", "3", "--ring-mb", "1",
		  "--block-ms", "1", "--wait-aggregator", "0");
	expect_ok(&p);
	assert_int_equal(p.o.workers, 1);
	assert_int_equal(p.o.window_sec, 1);
	assert_int_equal(p.o.slots, PV_SHM_MIN_SLOTS);
	assert_int_equal(p.o.ring_mb, 1);
	assert_int_equal(p.o.block_tov_ms, 1);
	assert_int_equal(p.o.wait_aggregator_sec, 0);

	p = parse("--pcap", "f", "-w", "64", "--window", WINDOW_MAX_S, "--slots", "64", "--ring-mb",
		  "65536", "--block-ms", "10000", "--wait-aggregator", "3600");
	expect_ok(&p);
	assert_int_equal(p.o.workers, PV_SHM_MAX_WORKERS);
	assert_int_equal(p.o.window_sec, PV_RATE_MAX_SEC);
	assert_int_equal(p.o.slots, PV_SHM_MAX_SLOTS);
	assert_int_equal(p.o.ring_mb, 65536);
	assert_int_equal(p.o.block_tov_ms, 10000);
	assert_int_equal(p.o.wait_aggregator_sec, 3600);
}

static void test_bad_values(void **state)
{
	static const struct {
		const char *opt, *val, *needle;
	} bad[] = {
		{"-w", "0", "--workers"},
		{"--workers", "65", "--workers"},
		{"--workers", "-1", "--workers"},
		{"--workers", "abc", "'abc'"},
		{"--workers", "", "--workers"},
		{"--workers", "3x", "'3x'"},
		{"--workers", "4294967297", "--workers"}, /* 2^32 + 1 must not wrap to 1 */
		{"--workers", "18446744073709551617", "--workers"},
		{"--window", "0", "--window"},
		{"--window", WINDOW_PAST_S, "--window"},
		{"--window", "86400", "--window"},
		{"--window", "-60", "--window"},
		{"--window", "4294967356", "--window"}, /* 2^32 + 60 */
		{"--window", "1.5", "--window"},
		{"--window", "1m", "--window"},
		{"--slots", "2", "--slots"},
		{"--slots", "65", "--slots"},
		{"--slots", "0x4", "--slots"},
		{"--ring-mb", "0", "--ring-mb"},
		{"--ring-mb", "65537", "--ring-mb"},
		{"--block-ms", "0", "--block-ms"},
		{"--block-ms", "10001", "--block-ms"},
		{"--wait-aggregator", "3601", "--wait-aggregator"},
		{"--wait-aggregator", "-1", "--wait-aggregator"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct parsed p = parse("--pcap", "f", bad[i].opt, bad[i].val);
		if (p.rc != -1)
			fail_msg("%s '%s': rc %d, want -1", bad[i].opt, bad[i].val, p.rc);
		expect_usage_error(&p, bad[i].needle);
		/* The --opt=value spelling is checked the same way. */
		if (bad[i].opt[1] == '-') {
			char arg[128];
			snprintf(arg, sizeof(arg), "%s=%s", bad[i].opt, bad[i].val);
			p = parse("--pcap", "f", arg);
			expect_usage_error(&p, bad[i].needle);
		}
	}
}

static void test_source_choice(void **state)
{
	struct parsed p;

	(void)state;
	/* The not-found filters need the database they look in. */
	p = parse("--pcap", "f", "--geoloc-notfound");
	expect_usage_error(&p, "--geo-city");
	p = parse("--pcap", "f", "--asn-notfound", "--geo-city", "c.mmdb");
	expect_usage_error(&p, "--geo-asn");
	p = parse("--pcap", "f", "--asn-notfound", "--geo-asn", "a.mmdb");
	expect_ok(&p);
	p = parse("-w", "2");
	expect_usage_error(&p, "exactly one");
	p = parse("-i", "eth0", "--pcap", "f.pcap");
	expect_usage_error(&p, "exactly one");
	p = parse("--pcap", "a.pcap", "-i", "eth0");
	expect_usage_error(&p, "exactly one");
}

static void test_unknown_and_missing(void **state)
{
	struct parsed p;

	(void)state;
	p = parse("--pcap", "f", "--frobnicate");
	expect_usage_error(&p, "--frobnicate");
	p = parse("--pcap", "f", "-x");
	expect_usage_error(&p, "-x");
	p = parse("-i", "eth0", "--no-promisc=yes");
	expect_usage_error(&p, NULL);
	p = parse("--pcap", "f", "--window");
	expect_usage_error(&p, "--window");
	p = parse("--pcap", "f", "-w");
	expect_usage_error(&p, "-w");
	p = parse("--pcap");
	expect_usage_error(&p, "--pcap");
	p = parse("--pcap", "f", "extra");
	expect_usage_error(&p, "'extra'");
	p = parse("stray", "-i", "eth0");
	expect_usage_error(&p, "'stray'");
}

static void test_help_version(void **state)
{
	struct parsed p;

	(void)state;
	p = parse("--help");
	assert_int_equal(p.rc, 1);
	p = parse("-h");
	assert_int_equal(p.rc, 1);
	/* Help wins even without a source, and over later errors. */
	p = parse("-i", "eth0", "--help", "--window", "0");
	assert_int_equal(p.rc, 1);
	p = parse("--version");
	assert_int_equal(p.rc, 1);
}

/* The usage text names every option (pv_sensor_usage on its own). */
static void test_usage_text(void **state)
{
	static const char *const names[] = {"--interface", "--pcap", "--workers", "--bpf",
					    "--host-net", "--window", "--slots", "--instance",
					    "--sensor-id", "--user", "--ring-mb", "--block-ms",
					    "--no-promisc", "--wait-aggregator", "--verbose",
					    "--quiet", "--only-hosts", "--geo-city", "--geo-asn",
					    "--geoloc-notfound", "--asn-notfound", "--help",
					    "--version"};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	pv_sensor_usage(f);
	fclose(f);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strstr(buf, names[i]))
			fail_msg("usage does not mention %s", names[i]);
	free(buf);
}

/*
 * A parse that stopped inside a cluster of short options ("-hv" returns at
 * h) must not leak into the next one: getopt keeps its position in the
 * cluster across calls unless it is fully reset. An unknown letter inside a
 * cluster is named in the message (not argv[0] or a neighbour). Last in
 * the table: a failure here leaves getopt's state dirty.
 */
static void test_reparse_after_cluster(void **state)
{
	struct parsed p;

	(void)state;
	p = parse("-hv");
	assert_int_equal(p.rc, 1);
	p = parse("--pcap", "f.pcap");
	expect_ok(&p);
	assert_int_equal(p.o.verbose, 0);
	assert_string_equal(p.o.pcap, "f.pcap");

	p = parse("-xv", "--pcap", "f");
	expect_usage_error(&p, "-x");
	p = parse("--pcap", "f", "-vxv");
	expect_usage_error(&p, "-x");
	p = parse("-i", "eth0");
	expect_ok(&p);
	assert_int_equal(p.o.verbose, 0);
	assert_string_equal(p.o.iface, "eth0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_option),
		cmocka_unit_test(test_range_ends),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_source_choice),
		cmocka_unit_test(test_unknown_and_missing),
		cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_usage_text),
		cmocka_unit_test(test_reparse_after_cluster),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
