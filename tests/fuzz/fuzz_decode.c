/*
 * libFuzzer target for the packet decoder (sensor/decode.c). The first input
 * byte picks the link type (index into the table below, modulo its size), the
 * rest is the captured frame; the same bytes are then fed to pv_decode_ip, so
 * the fuzzer reaches the IP layer without having to grow a link header first.
 * Besides the sanitizers, it checks the promises decode.h makes to callers:
 * the outcome is one of the three codes, and whatever a decoded layer points
 * at lies inside the frame.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sensor/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Seed files in tests/fuzz/corpus/fuzz_decode/ start with an index here: do
 * not reorder. */
static const int links[] = {
    PV_LINK_ETHERNET, PV_LINK_SLL,  PV_LINK_SLL2, PV_LINK_RAW,
    PV_LINK_IPV4,     PV_LINK_IPV6, PV_LINK_NULL, PV_LINK_LOOP,
};

static void check(const struct pv_pkt *p, const uint8_t *frame, size_t len)
{
	if (p->err > PV_DEC_MALFORMED)
		abort();
	if (p->l3 != 0 && p->l3 != 4 && p->l3 != 6)
		abort();
	if (p->l3 && (p->l3_ptr < frame || p->l3_ptr >= frame + len))
		abort();
	if (p->l4 && (p->payload < frame || p->payload > frame + len ||
	              p->payload_cap > (size_t)(frame + len - p->payload)))
		abort();
	if (!p->l4 && (p->flags & PV_PKT_PORTS))
		abort();
	if (p->l4 && p->payload_len > p->l4_len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pv_pkt p;
	int link;

	if (size < 1)
		return 0;
	link = links[data[0] % (sizeof(links) / sizeof(links[0]))];
	pv_decode(link, data + 1, (uint32_t)(size - 1), (uint32_t)(size - 1), &p);
	check(&p, data + 1, size - 1);
	pv_decode_ip(data + 1, (uint32_t)(size - 1), &p);
	check(&p, data + 1, size - 1);
	return 0;
}
