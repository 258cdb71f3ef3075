/* pvsensor command line: defaults, parsing and the --help text. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sensor/supervisor.h"
#include "lib/parse.h"
#include "lib/version.h"
#include "shm/layout.h"

void pv_sensor_usage(FILE *out)
{
	fprintf(out,
		"usage: pvsensor -i IFACE [options]       capture live from an interface\n"
		"       pvsensor --pcap FILE [options]    analyse a pcap/pcapng file\n"
		"\n"
		"  -i, --interface IFACE   capture on IFACE (AF_PACKET, TPACKET_V3 rings)\n"
		"      --pcap FILE         read FILE instead; windows follow packet time\n"
		"  -w, --workers N         worker processes (default: online CPUs, max %u)\n"
		"      --bpf EXPR          kernel filter, libpcap syntax (e.g. 'udp port 53')\n"
		"      --host-net CIDR,... host networks for in/out direction (live default:\n"
		"                          the interface's addresses; pcap: none)\n"
		"      --only-hosts CIDR,... count only packets from or to these networks\n"
		"                          (the others count in packets.filtered)\n"
		"      --geo-city FILE     MaxMind City database: enables top_geoLoc\n"
		"      --geo-asn FILE      MaxMind ASN/ISP database: enables top_ASN\n"
		"      --geoloc-notfound   count only packets with an address the city DB lacks\n"
		"      --asn-notfound      count only packets with an address the ASN DB lacks\n"
		"      --window SECONDS    window length (default 60, at most %u)\n"
		"      --slots S           windows kept per worker in shared memory (default 4,\n"
		"                          %u..%u); the aggregator may be down S-1 windows\n"
		"      --instance NAME     names the region /dev/shm/pvisor-NAME (default: default)\n"
		"      --sensor-id ID      sensor name in snapshots (default: host name)\n"
		"      --user USER         run as USER after setup (default: pvisor if it exists,\n"
		"                          else nobody)\n"
		"      --ring-mb MB        ring size per worker (default 32; halved on ENOMEM)\n"
		"      --block-ms MS       ring block retire timeout (default 50)\n"
		"      --no-promisc        do not put the interface in promiscuous mode\n"
		"      --wait-aggregator S pcap: wait up to S s for pvaggregator to attach, then\n"
		"                          never overwrite a window it has not taken (default 0)\n"
		"  -v, --verbose           more logging\n"
		"  -q, --quiet             log only warnings and errors\n"
		"  -h, --help              this text\n"
		"      --version           print the version\n",
		PV_SHM_MAX_WORKERS, PV_RATE_MAX_SEC, PV_SHM_MIN_SLOTS, PV_SHM_MAX_SLOTS);
}

/* Options are unsigned; the parser is the one every program uses. */
static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	uint32_t v;

	if (!pv_parse_u32(s, lo, hi, &v))
		return -1;
	*out = v;
	return 0;
}

int pv_sensor_opts_parse(int argc, char **argv, struct pv_sensor_opts *o, char *why,
			 size_t why_len)
{
	enum { O_PCAP = 256, O_BPF, O_HOSTNET, O_WINDOW, O_SLOTS, O_INSTANCE, O_SENSOR_ID,
	       O_USER, O_RING, O_BLOCK, O_NOPROMISC, O_WAITAGG, O_VERSION, O_ONLYHOSTS,
	       O_GEOCITY, O_GEOASN, O_GEONF, O_ASNNF };
	static const struct option opts[] = {
		{"interface", required_argument, NULL, 'i'},
		{"pcap", required_argument, NULL, O_PCAP},
		{"workers", required_argument, NULL, 'w'},
		{"bpf", required_argument, NULL, O_BPF},
		{"host-net", required_argument, NULL, O_HOSTNET},
		{"window", required_argument, NULL, O_WINDOW},
		{"only-hosts", required_argument, NULL, O_ONLYHOSTS},
		{"geo-city", required_argument, NULL, O_GEOCITY},
		{"geo-asn", required_argument, NULL, O_GEOASN},
		{"geoloc-notfound", no_argument, NULL, O_GEONF},
		{"asn-notfound", no_argument, NULL, O_ASNNF},
		{"slots", required_argument, NULL, O_SLOTS},
		{"instance", required_argument, NULL, O_INSTANCE},
		{"sensor-id", required_argument, NULL, O_SENSOR_ID},
		{"user", required_argument, NULL, O_USER},
		{"ring-mb", required_argument, NULL, O_RING},
		{"block-ms", required_argument, NULL, O_BLOCK},
		{"no-promisc", no_argument, NULL, O_NOPROMISC},
		{"wait-aggregator", required_argument, NULL, O_WAITAGG},
		{"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, O_VERSION},
		{NULL, 0, NULL, 0},
	};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int c;

	memset(o, 0, sizeof(*o));
	o->workers = ncpu < 1 ? 1 : ncpu > (long)PV_SHM_MAX_WORKERS ? PV_SHM_MAX_WORKERS
								    : (unsigned)ncpu;
	o->window_sec = 60;
	o->slots = 4;
	o->instance = "default";
	o->ring_mb = 32;
	o->block_tov_ms = 50;
	o->promisc = true;

	optind = 0; /* glibc's full reset: also forgets a half-read "-hv" cluster */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:w:vqh", opts, NULL)) != -1) {
		const char *bad = NULL;
		switch (c) {
		case 'i':
			o->iface = optarg;
			break;
		case O_PCAP:
			o->pcap = optarg;
			break;
		case 'w':
			if (parse_uint(optarg, 1, PV_SHM_MAX_WORKERS, &o->workers))
				bad = "--workers";
			break;
		case O_BPF:
			o->bpf = optarg;
			break;
		case O_HOSTNET:
			o->host_net = optarg;
			break;
		case O_WINDOW:
			if (parse_uint(optarg, 1, PV_RATE_MAX_SEC, &o->window_sec))
				bad = "--window (1..3600)";
			break;
		case O_ONLYHOSTS:
			o->only_hosts = optarg;
			break;
		case O_GEOCITY:
			o->geo_city = optarg;
			break;
		case O_GEOASN:
			o->geo_asn = optarg;
			break;
		case O_GEONF:
			o->geoloc_notfound = true;
			break;
		case O_ASNNF:
			o->asn_notfound = true;
			break;
		case O_SLOTS:
			if (parse_uint(optarg, PV_SHM_MIN_SLOTS, PV_SHM_MAX_SLOTS, &o->slots))
				bad = "--slots";
			break;
		case O_INSTANCE:
			o->instance = optarg;
			break;
		case O_SENSOR_ID:
			o->sensor_id = optarg;
			break;
		case O_USER:
			o->user = optarg;
			break;
		case O_RING:
			if (parse_uint(optarg, 1, 65536, &o->ring_mb))
				bad = "--ring-mb (1..65536)";
			break;
		case O_BLOCK:
			if (parse_uint(optarg, 1, 10000, &o->block_tov_ms))
				bad = "--block-ms (1..10000)";
			break;
		case O_NOPROMISC:
			o->promisc = false;
			break;
		case O_WAITAGG:
			if (parse_uint(optarg, 0, 3600, &o->wait_aggregator_sec))
				bad = "--wait-aggregator (0..3600)";
			break;
		case 'v':
			o->verbose++;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			pv_sensor_usage(stdout);
			return 1;
		case O_VERSION:
			printf("pvsensor %s (shm layout %u)\n", PV_VERSION, PV_SHM_LAYOUT_VERSION);
			return 1;
		case ':':
			snprintf(why, why_len, "option %s needs a value", argv[optind - 1]);
			return -1;
		default:
			if (optopt > 0 && optopt < 128 && !strchr("iwvqh", optopt))
				snprintf(why, why_len, "unknown option -%c", optopt);
			else
				snprintf(why, why_len, "unknown option %s", argv[optind - 1]);
			return -1;
		}
		if (bad) {
			snprintf(why, why_len, "invalid value '%s' for %s", optarg, bad);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(why, why_len, "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if ((o->geoloc_notfound && !o->geo_city) || (o->asn_notfound && !o->geo_asn)) {
		snprintf(why, why_len, "--geoloc-notfound needs --geo-city, --asn-notfound --geo-asn");
		return -1;
	}
	if (!o->iface == !o->pcap) {
		snprintf(why, why_len, "give exactly one of -i IFACE or --pcap FILE");
		return -1;
	}
	return 0;
}
