/*
 * Tests for the prefix sets (lib/cidr.h) behind --host-net: parsing of
 * "CIDR,CIDR,..." lists (IPv4, IPv6, bare addresses as host prefixes, /0,
 * full-length prefixes, mixed lists), refusal of every malformed list with
 * PV_ECONFIG and a message naming the item, and matching exactly at the
 * edges of each prefix: its first and last address are in, the addresses
 * just before and just after are out, including prefixes that end inside
 * either 64-bit half of an IPv6 address. IPv4 and IPv6 are separate
 * families: an IPv4-mapped IPv6 address is an IPv6 address like any other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cidr.h"
#include "lib/err.h"

static struct pv_cidr_set *set_parse(const char *list)
{
	struct pv_cidr_set *s = malloc(sizeof(*s));
	char why[256] = "";
	int rc;

	assert_non_null(s);
	pv_cidr_set_init(s);
	rc = pv_cidr_set_parse(s, list, why, sizeof(why));
	if (rc != PV_OK) {
		free(s);
		fail_msg("'%s' refused: %s", list, why);
	}
	return s;
}

/* Matches text (an IPv4 or IPv6 address) against s in its own family. */
static bool in_set(const struct pv_cidr_set *s, const char *text)
{
	uint8_t a[16];

	memset(a, 0, sizeof(a));
	if (inet_pton(AF_INET, text, a) == 1)
		return pv_cidr_match(s, 4, a);
	if (inet_pton(AF_INET6, text, a) == 1)
		return pv_cidr_match(s, 6, a);
	fail_msg("test bug: '%s' is not an address", text);
	return false;
}

static void expect_in(const struct pv_cidr_set *s, const char *const *addrs)
{
	for (; *addrs; addrs++)
		if (!in_set(s, *addrs))
			fail_msg("%s should match", *addrs);
}

static void expect_out(const struct pv_cidr_set *s, const char *const *addrs)
{
	for (; *addrs; addrs++)
		if (in_set(s, *addrs))
			fail_msg("%s should not match", *addrs);
}

/* Refused with PV_ECONFIG and a message quoting needle. */
static void expect_refused(const char *list, const char *needle)
{
	struct pv_cidr_set s;
	char why[512] = "";
	int rc;

	pv_cidr_set_init(&s);
	rc = pv_cidr_set_parse(&s, list, why, sizeof(why));
	if (rc != PV_ECONFIG)
		fail_msg("'%s': rc %d (n4 %u, n6 %u), want PV_ECONFIG", list, rc, s.n4, s.n6);
	if (!why[0])
		fail_msg("'%s' refused without a reason", list);
	if (needle && !strstr(why, needle))
		fail_msg("'%s': reason '%s' does not name '%s'", list, why, needle);
}

static void test_empty_set(void **state)
{
	struct pv_cidr_set s;
	static const char *const out[] = {"0.0.0.0", "10.0.0.1", "255.255.255.255", "::",
					  "2001:db8::1", NULL};

	(void)state;
	memset(&s, 0x5a, sizeof(s));
	pv_cidr_set_init(&s);
	assert_int_equal(s.n4, 0);
	assert_int_equal(s.n6, 0);
	expect_out(&s, out);
}

static void test_ipv4_list(void **state)
{
	struct pv_cidr_set *s = set_parse("10.0.0.0/8,192.168.1.0/24,172.16.0.0/12");
	static const char *const in[] = {
		"10.0.0.0", "10.255.255.255", "10.1.2.3", "192.168.1.0", "192.168.1.255",
		"172.16.0.0", "172.31.255.255", NULL,
	};
	static const char *const out[] = {
		"9.255.255.255", "11.0.0.0", "192.168.0.255", "192.168.2.0", "172.15.255.255",
		"172.32.0.0", "0.0.0.0", "255.255.255.255", "::a00:1", "::ffff:10.0.0.1", NULL,
	};

	(void)state;
	assert_int_equal(s->n4, 3);
	assert_int_equal(s->n6, 0);
	expect_in(s, in);
	expect_out(s, out);
	free(s);
}

static void test_ipv6_list(void **state)
{
	struct pv_cidr_set *s = set_parse("2001:db8::/32,fe80::/10");
	static const char *const in[] = {
		"2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8:1::53",
		"fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL,
	};
	static const char *const out[] = {
		"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::",
		"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fec0::", "::", "32.1.13.184", NULL,
	};

	(void)state;
	assert_int_equal(s->n4, 0);
	assert_int_equal(s->n6, 2);
	expect_in(s, in);
	expect_out(s, out);
	free(s);
}

/* Prefixes ending at and around the boundary of the two 64-bit halves. */
static void test_ipv6_word_boundaries(void **state)
{
	struct pv_cidr_set *s;

	(void)state;
	s = set_parse("2001:db8:0:1::/64");
	expect_in(s, (const char *const[]){"2001:db8:0:1::", "2001:db8:0:1:ffff:ffff:ffff:ffff",
					   NULL});
	expect_out(s, (const char *const[]){"2001:db8:0:0:ffff:ffff:ffff:ffff", "2001:db8:0:2::",
					    NULL});
	free(s);

	s = set_parse("2001:db8::/63");
	expect_in(s, (const char *const[]){"2001:db8::", "2001:db8:0:1:ffff:ffff:ffff:ffff",
					   NULL});
	expect_out(s, (const char *const[]){"2001:db8:0:2::",
					    "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", NULL});
	free(s);

	s = set_parse("2001:db8::8000:0:0:0/65");
	expect_in(s, (const char *const[]){"2001:db8::8000:0:0:0", "2001:db8::ffff:ffff:ffff:ffff",
					   NULL});
	expect_out(s, (const char *const[]){"2001:db8::7fff:ffff:ffff:ffff", "2001:db8:0:1::",
					    NULL});
	free(s);

	s = set_parse("2001:db8::10/127");
	expect_in(s, (const char *const[]){"2001:db8::10", "2001:db8::11", NULL});
	expect_out(s, (const char *const[]){"2001:db8::f", "2001:db8::12", NULL});
	free(s);

	s = set_parse("8000::/1");
	expect_in(s, (const char *const[]){"8000::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
					   NULL});
	expect_out(s, (const char *const[]){"7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::",
					    NULL});
	free(s);
}

static void test_ipv4_odd_lengths(void **state)
{
	struct pv_cidr_set *s;

	(void)state;
	s = set_parse("128.0.0.0/1");
	expect_in(s, (const char *const[]){"128.0.0.0", "255.255.255.255", NULL});
	expect_out(s, (const char *const[]){"127.255.255.255", "0.0.0.0", NULL});
	free(s);

	s = set_parse("192.0.2.64/31");
	expect_in(s, (const char *const[]){"192.0.2.64", "192.0.2.65", NULL});
	expect_out(s, (const char *const[]){"192.0.2.63", "192.0.2.66", NULL});
	free(s);

	s = set_parse("100.64.0.0/10");
	expect_in(s, (const char *const[]){"100.64.0.0", "100.127.255.255", NULL});
	expect_out(s, (const char *const[]){"100.63.255.255", "100.128.0.0", NULL});
	free(s);
}

/* A bare address is a host prefix; so are explicit /32 and /128. */
static void test_host_prefixes(void **state)
{
	static const char *const lists[] = {"192.0.2.1,2001:db8::1",
					    "192.0.2.1/32,2001:db8::1/128"};

	(void)state;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		struct pv_cidr_set *s = set_parse(lists[i]);

		assert_int_equal(s->n4, 1);
		assert_int_equal(s->n6, 1);
		assert_int_equal(s->v4_mask[0], UINT32_MAX);
		assert_int_equal(s->v6_mask[0][0], UINT64_MAX);
		assert_int_equal(s->v6_mask[0][1], UINT64_MAX);
		expect_in(s, (const char *const[]){"192.0.2.1", "2001:db8::1", NULL});
		expect_out(s, (const char *const[]){"192.0.2.0", "192.0.2.2", "2001:db8::",
						    "2001:db8::2", "::ffff:192.0.2.1", NULL});
		free(s);
	}
}

/* /0 matches every address of its own family and none of the other. */
static void test_zero_prefix(void **state)
{
	struct pv_cidr_set *s;

	(void)state;
	s = set_parse("0.0.0.0/0");
	expect_in(s, (const char *const[]){"0.0.0.0", "255.255.255.255", "10.0.0.1", NULL});
	expect_out(s, (const char *const[]){"::", "2001:db8::1", NULL});
	free(s);

	s = set_parse("::/0");
	expect_in(s, (const char *const[]){"::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
					   "::ffff:10.0.0.1", NULL});
	expect_out(s, (const char *const[]){"0.0.0.0", "10.0.0.1", NULL});
	free(s);

	/* Host bits of a /0 do not matter. */
	s = set_parse("10.1.2.3/0,2001:db8::1/0");
	expect_in(s, (const char *const[]){"1.2.3.4", "::1", NULL});
	free(s);
}

/* Bits beyond the prefix length are ignored, not refused. */
static void test_host_bits_masked(void **state)
{
	struct pv_cidr_set *s = set_parse("10.1.2.3/8,2001:db8:1:2:3:4:5:6/32");

	(void)state;
	assert_int_equal(s->v4_net[0], 0x0a000000u);
	expect_in(s, (const char *const[]){"10.0.0.0", "10.255.255.255", "2001:db8::", NULL});
	expect_out(s, (const char *const[]){"11.0.0.0", "2001:db9::", NULL});
	free(s);
}

static void test_mixed(void **state)
{
	struct pv_cidr_set *s = set_parse("10.0.0.0/8,2001:db8::/32,192.0.2.1,::1,0.0.0.0/32");

	(void)state;
	assert_int_equal(s->n4, 3);
	assert_int_equal(s->n6, 2);
	expect_in(s, (const char *const[]){"10.9.8.7", "2001:db8::53", "192.0.2.1", "::1",
					   "0.0.0.0", NULL});
	expect_out(s, (const char *const[]){"192.0.2.2", "::2", "0.0.0.1", "11.0.0.0", NULL});
	free(s);
}

/* Parsing adds to what the set already holds. */
static void test_parse_appends(void **state)
{
	struct pv_cidr_set *s = set_parse("10.0.0.0/8");
	char why[128];

	(void)state;
	assert_int_equal(pv_cidr_set_parse(s, "2001:db8::/32,192.168.0.0/16", why, sizeof(why)),
			 PV_OK);
	assert_int_equal(s->n4, 2);
	assert_int_equal(s->n6, 1);
	expect_in(s, (const char *const[]){"10.0.0.1", "192.168.3.4", "2001:db8::1", NULL});
	free(s);
}

/* An IPv4-mapped address is plain IPv6: no cross-family matching. */
static void test_v4_mapped_not_special(void **state)
{
	struct pv_cidr_set *s;

	(void)state;
	s = set_parse("::ffff:10.0.0.0/104");
	assert_int_equal(s->n4, 0);
	assert_int_equal(s->n6, 1);
	expect_in(s, (const char *const[]){"::ffff:10.0.0.0", "::ffff:10.255.255.255", NULL});
	expect_out(s, (const char *const[]){"10.0.0.1", "::ffff:11.0.0.0", "::10.0.0.1", NULL});
	free(s);

	s = set_parse("::ffff:192.0.2.1");
	assert_int_equal(s->n4, 0);
	assert_int_equal(s->n6, 1);
	expect_in(s, (const char *const[]){"::ffff:192.0.2.1", NULL});
	expect_out(s, (const char *const[]){"192.0.2.1", NULL});
	free(s);

	s = set_parse("10.0.0.0/8");
	expect_out(s, (const char *const[]){"::ffff:10.0.0.1", "::10.0.0.1", "a00::", NULL});
	free(s);
}

static void test_bad_items(void **state)
{
	static const char *const bad[] = {
		"foo", "10.0.0", "256.0.0.1", "10.0.0.0.0", "1.2.3.-4", "::g", "2001:db8:::1",
		"1:2:3:4:5:6:7:8:9", "10.0.0.0 /8", " 10.0.0.0/8", "10.0.0.0/8 ", "0x0a000001",
		"/8", "10.0.0.0/8/8", "localhost",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(bad[i], NULL);
	/* The message names the bad item, even in the middle of a list. */
	expect_refused("10.0.0.0/8,bogus,192.0.2.1", "'bogus'");
}

static void test_bad_prefix_lengths(void **state)
{
	static const char *const bad[] = {
		"10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/", "10.0.0.0/8x",
		"10.0.0.0/ 8", "10.0.0.0/4294967304", "10.0.0.0/99999999999999999999999",
		"2001:db8::/129", "2001:db8::/", "::/-0", "::/1a", "::/18446744073709551617",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(bad[i], NULL);
}

static void test_empty_items(void **state)
{
	(void)state;
	expect_refused(",10.0.0.0/8", "empty");
	expect_refused("10.0.0.0/8,,192.0.2.1", "empty");
	expect_refused(",", "empty");
}

/* "10.0.0.0/8," has an empty last item: refused like an empty first one. */
static void test_trailing_comma(void **state)
{
	(void)state;
	expect_refused("10.0.0.0/8,", NULL);
	expect_refused("10.0.0.0/8,2001:db8::/32,", NULL);
}

static void test_overlong_item(void **state)
{
	char item[200];

	(void)state;
	/* A valid address padded with a long prefix of leading zeros. */
	snprintf(item, sizeof(item), "10.0.0.0/%0100d", 8);
	expect_refused(item, NULL);
	memset(item, 'a', sizeof(item) - 1);
	item[sizeof(item) - 1] = 0;
	expect_refused(item, NULL);
}

/* PV_CIDR_MAX prefixes per family; one more is refused. */
static void test_too_many(void **state)
{
	char *list = malloc(PV_CIDR_MAX * 48 + 64);
	struct pv_cidr_set s;
	char why[256];
	size_t n = 0;

	(void)state;
	assert_non_null(list);
	for (int i = 0; i < PV_CIDR_MAX; i++)
		n += (size_t)sprintf(list + n, "%s10.%d.0.0/16", i ? "," : "", i);
	pv_cidr_set_init(&s);
	assert_int_equal(pv_cidr_set_parse(&s, list, why, sizeof(why)), PV_OK);
	assert_int_equal(s.n4, PV_CIDR_MAX);
	/* The other family has its own room. */
	for (int i = 0; i < PV_CIDR_MAX; i++)
		n += (size_t)sprintf(list + n, ",2001:db8:%x::/48", i);
	pv_cidr_set_init(&s);
	assert_int_equal(pv_cidr_set_parse(&s, list, why, sizeof(why)), PV_OK);
	assert_int_equal(s.n4, PV_CIDR_MAX);
	assert_int_equal(s.n6, PV_CIDR_MAX);
	assert_true(pv_cidr_match6(&s, (const uint8_t[16]){0x20, 0x01, 0x0d, 0xb8, 0, 0x3f}));

	sprintf(list + n, ",192.0.2.1");
	expect_refused(list, "192.0.2.1");
	sprintf(list + n, ",2001:db8:ffff::/48");
	expect_refused(list, "2001:db8:ffff::/48");
	free(list);
}

static void test_add_direct(void **state)
{
	struct pv_cidr_set s;
	static const uint8_t a4[4] = {192, 0, 2, 255};
	static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0xff};

	(void)state;
	pv_cidr_set_init(&s);
	assert_int_equal(pv_cidr_set_add(&s, 4, a4, 33), PV_ECONFIG);
	assert_int_equal(pv_cidr_set_add(&s, 6, a6, 129), PV_ECONFIG);
	assert_int_equal(pv_cidr_set_add(&s, 5, a4, 8), PV_ECONFIG);
	assert_int_equal(pv_cidr_set_add(&s, 0, a4, 8), PV_ECONFIG);
	assert_int_equal(s.n4 + s.n6, 0);
	assert_int_equal(pv_cidr_set_add(&s, 4, a4, 24), PV_OK);
	assert_int_equal(pv_cidr_set_add(&s, 6, a6, 64), PV_OK);
	assert_int_equal(s.v4_net[0], 0xc0000200u);
	assert_int_equal(s.v4_mask[0], 0xffffff00u);
	assert_int_equal(s.v6_net[0][0], 0x20010db800000000ull);
	assert_int_equal(s.v6_net[0][1], 0);
	expect_in(&s, (const char *const[]){"192.0.2.0", "2001:db8::", NULL});
	expect_out(&s, (const char *const[]){"192.0.3.0", "2001:db8:0:1::", NULL});
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_set),
		cmocka_unit_test(test_ipv4_list),
		cmocka_unit_test(test_ipv6_list),
		cmocka_unit_test(test_ipv6_word_boundaries),
		cmocka_unit_test(test_ipv4_odd_lengths),
		cmocka_unit_test(test_host_prefixes),
		cmocka_unit_test(test_zero_prefix),
		cmocka_unit_test(test_host_bits_masked),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_parse_appends),
		cmocka_unit_test(test_v4_mapped_not_special),
		cmocka_unit_test(test_bad_items),
		cmocka_unit_test(test_bad_prefix_lengths),
		cmocka_unit_test(test_empty_items),
		cmocka_unit_test(test_trailing_comma),
		cmocka_unit_test(test_overlong_item),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_add_direct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
