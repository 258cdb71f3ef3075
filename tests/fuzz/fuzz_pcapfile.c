/*
 * libFuzzer target: a capture file as pvsensor --pcap reads it. The bytes go
 * through libpcap's reader (from memory), each record through pv_decode with
 * the file's link type and pv_count_packet into a metrics block with real
 * sketches, as a worker counts. Nothing may crash, whatever the file says
 * about link types, snap lengths or record lengths; the block must still pass
 * its check afterwards.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/cidr.h"
#include "lib/err.h"
#include "sensor/count.h"
#include "sensor/decode.h"
#include "sensor/worker.h"
#include "shm/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pv_metrics *m;
	static struct pv_cidr_set hn;
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pv_count_ctx cc = {0};
	struct pcap_pkthdr *h;
	const u_char *pkt;
	pcap_t *pc;
	FILE *f;
	int lt, n = 0;

	if (!m) {
		m = aligned_alloc(64, (sizeof(*m) + 63) / 64 * 64);
		if (!m)
			abort();
		pv_cidr_set_init(&hn);
		pv_cidr_set_parse(&hn, "10.0.0.0/8,fd00::/8", NULL, 0);
	}
	pv_metrics_init(m, 1);
	if (size == 0 || !(f = fmemopen((void *)data, size, "rb")))
		return 0;
	pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pc) {
		fclose(f);
		return 0;
	}
	lt = pv_linktype_from_dlt(pcap_datalink(pc));
	cc.hostnets = &hn;
	while (n++ < 10000 && pcap_next_ex(pc, &h, &pkt) == 1) {
		struct pv_pkt p;

		/* What libpcap hands over: caplen bytes at pkt, len claimed. */
		pv_decode(lt, pkt, h->caplen, h->len, &p);
		/* as the worker: unsigned packet time, index within the window */
		cc.sec_idx = (uint32_t)((uint64_t)h->ts.tv_sec % 60);
		pv_count_packet(m, &p, &cc);
	}
	pcap_close(pc);
	if (pv_metrics_check(m) != PV_OK)
		abort();
	return 0;
}
