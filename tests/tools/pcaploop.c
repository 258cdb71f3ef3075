/*
 * pcaploop: the bare libpcap read loop, the "limit" that `make bench` compares
 * every reader of a capture file against. It opens FILE with
 * pcap_open_offline, calls pcap_next_ex for every record and touches each
 * packet's first byte and its length (summed into a volatile sink so the
 * compiler cannot drop the loop), then prints
 *
 *   packets N seconds S pps P
 *
 * S is CLOCK_MONOTONIC wall time from the open to the end of the file. Exit
 * status: 0 ok, 1 usage, 2 the file cannot be read (or ends badly).
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static volatile uint64_t sink;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t packets = 0, sum = 0;
	double t0, secs;
	pcap_t *pc;
	int rc;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: pcaploop FILE\n"
				"  reads FILE with libpcap and prints: packets N seconds S pps P\n");
		return 1;
	}
	t0 = now_s();
	pc = pcap_open_offline(argv[1], errbuf);
	if (!pc) {
		fprintf(stderr, "pcaploop: %s\n", errbuf);
		return 2;
	}
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		sum += h->caplen;
		if (h->caplen > 0)
			sum += data[0];
		packets++;
	}
	secs = now_s() - t0;
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "pcaploop: %s: %s after %llu packets\n", argv[1], pcap_geterr(pc),
			(unsigned long long)packets);
		pcap_close(pc);
		return 2;
	}
	pcap_close(pc);
	sink = sum;
	printf("packets %llu seconds %.6f pps %.0f\n", (unsigned long long)packets, secs,
	       secs > 0 ? (double)packets / secs : 0.0);
	return 0;
}
