/*
 * pvctl: the operator's command-line client. This file only parses arguments
 * and dispatches; the connection lives in ctl/client.c, the output formats in
 * ctl/render.c and the offline analysis in ctl/analyze.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/analyze.h"
#include "ctl/client.h"
#include "ctl/render.h"
#include "lib/err.h"
#include "lib/parse.h"
#include "lib/version.h"
#include "shm/layout.h"
#include "shm/region.h"

struct global {
	const char *instance;
	const char *run_dir;
};

static void usage_main(FILE *f)
{
	fprintf(f,
		"usage: pvctl [--instance NAME] [--run-dir DIR] COMMAND [OPTIONS]\n"
		"       pvctl -h | --help | --version\n"
		"\n"
		"Operator client for pvisor: asks pvaggregator for its status and merged\n"
		"windows over its control socket ipc://DIR/NAME.ctl.\n"
		"\n"
		"Global options (before the command):\n"
		"  --instance NAME   sensor instance (default: %s)\n"
		"  --run-dir DIR     directory holding the control socket (default: %s)\n"
		"  -h, --help        this help\n"
		"  --version         print the version\n"
		"\n"
		"Commands:\n"
		"  status            sensor, aggregator and worker state\n"
		"  show              one window, the live window, or several merged\n"
		"  analyze FILE      run a private sensor + aggregator on a pcap file\n"
		"\n"
		"'pvctl COMMAND --help' lists a command's options.\n"
		"\n"
		"Exit status: 0 ok; 1 usage error; 2 cannot reach pvaggregator (no socket,\n"
		"timeout); 3 bad data (a reply that does not unpack or has a newer schema,\n"
		"an error reply, a failed analysis); 128+N killed by signal N during\n"
		"analyze (130: Ctrl-C).\n",
		PV_CLIENT_INSTANCE_DEFAULT, PV_CLIENT_RUN_DIR_DEFAULT);
}

static void usage_status(FILE *f)
{
	fputs("usage: pvctl [GLOBAL OPTIONS] status [--json]\n"
	      "\n"
	      "Prints the sensor (id, instance, source, mode, region state, window\n"
	      "length, slots, pids, interface drops), the aggregator's window history\n"
	      "and a table of the workers (shard, pid, state, restarts, heartbeat age,\n"
	      "ring packets, drops, freezes).\n"
	      "\n"
	      "  --json       the status as a JSON object (names as in the proto)\n"
	      "  -h, --help   this help\n",
	      f);
}

static void usage_show(FILE *f)
{
	fputs("usage: pvctl [GLOBAL OPTIONS] show [--window live|N | --merged K] [--top N] [--json]\n"
	      "\n"
	      "Prints one window as a table labelled with the METRICS.md paths, or as\n"
	      "the METRICS.md window document.\n"
	      "\n"
	      "  --window N     the sealed window N steps back (default 0: the newest)\n"
	      "  --window live  the open window, read now (its numbers still move)\n"
	      "  --merged K     the newest K sealed windows merged into one (K >= 1)\n"
	      "  --top N        entries shown per top table (default 10, max 100)\n"
	      "  --json         the window document as JSON\n"
	      "  -h, --help     this help\n"
	      "\n"
	      "--window and --merged exclude each other.\n",
	      f);
}

static void usage_analyze(FILE *f)
{
	fprintf(f,
		"usage: pvctl analyze FILE.pcap [--workers N] [--host-net CIDR,...]\n"
		"                     [--window S] [--bpf EXPR] [--only-hosts CIDR,...]\n"
		"                     [--geo-city FILE] [--geo-asn FILE] [--top N]\n"
		"                     [--json] [--per-window]\n"
		"\n"
		"Runs a private pvsensor --pcap and pvaggregator (found beside pvctl, else\n"
		"in PATH) in a temporary run directory, waits until the whole file is\n"
		"counted and merged, and prints the capture merged into one window.\n"
		"Everything it started is removed at the end, also on error or Ctrl-C.\n"
		"The global --instance and --run-dir do not apply.\n"
		"\n"
		"  --workers N          sensor workers, 1..%u (default: online CPUs)\n"
		"  --host-net CIDR,...  host networks that decide in/out (default: none,\n"
		"                       so every packet counts as unknown_dir)\n"
		"  --window S           window length in seconds, 1..3600 (default:\n"
		"                       pvsensor's)\n"
		"  --bpf EXPR           BPF filter expression (libpcap syntax)\n"
		"  --only-hosts CIDR,.. count only packets from or to these networks\n"
		"  --geo-city FILE      MaxMind City database (top_geoLoc)\n"
		"  --geo-asn FILE       MaxMind ASN/ISP database (top_ASN)\n"
		"  --top N              entries shown per top table (default 10, max 100)\n"
		"  --json               the window document as JSON instead of a table\n"
		"  --per-window         also every window, oldest first; JSON:\n"
		"                       {\"total\": DOC, \"windows\": [DOC, ...]};\n"
		"                       table: each window, then the total\n"
		"  -h, --help           this help\n",
		PV_SHM_MAX_WORKERS);
}

static int usage_error(const char *cmd, void (*usage)(FILE *), const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int usage_error(const char *cmd, void (*usage)(FILE *), const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pvctl%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	usage(stderr);
	return PV_EXIT_USAGE;
}

/* getopt's '?' and ':' results as one message each. */
static int bad_option(const char *cmd, void (*usage)(FILE *), int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return usage_error(cmd, usage, "option %s needs an argument", arg);
	return usage_error(cmd, usage, "unknown option %s", arg);
}

static int report(const struct pv_client_err *e)
{
	fprintf(stderr, "pvctl: %s\n", e->msg);
	return pv_client_exit_code(e);
}

static int output_done(int err)
{
	if (err >= PV_EBASE && err < PV_ELAST) {
		fprintf(stderr, "pvctl: the snapshot's sketch state fails its checks: %s\n",
			pv_strerror(err));
		return PV_EXIT_BAD_DATA;
	}
	if (err || fflush(stdout) == EOF) {
		fprintf(stderr, "pvctl: cannot write the output: %s\n", strerror(errno ? errno : EIO));
		return PV_EXIT_BAD_DATA;
	}
	return PV_EXIT_OK;
}

static int query(const struct global *g, Pvisor__Request__Kind kind, uint32_t index,
		 uint32_t count, Pvisor__Response **resp)
{
	struct pv_client *c = NULL;
	struct pv_client_err e;
	int rc = PV_EXIT_OK;

	if (pv_client_open(&c, g->run_dir, g->instance, 0, &e) ||
	    pv_client_request(c, kind, index, count, resp, &e))
		rc = report(&e);
	pv_client_close(c);
	return rc;
}

static int cmd_status(const struct global *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	Pvisor__Response *r = NULL;
	bool json = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage_status(stdout);
			return PV_EXIT_OK;
		default:
			return bad_option("status", usage_status, c, argv);
		}
	}
	if (optind < argc)
		return usage_error("status", usage_status, "unexpected argument %s", argv[optind]);

	rc = query(g, PVISOR__REQUEST__KIND__STATUS, 0, 0, &r);
	if (rc)
		return rc;
	rc = output_done(json ? pv_render_status_json(stdout, r->status)
			      : pv_render_status_table(stdout, r->status));
	pv_client_response_free(r);
	return rc;
}

static int cmd_show(const struct global *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"window", required_argument, NULL, 'w'},
		{"merged", required_argument, NULL, 'm'},
		{"top", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	Pvisor__Request__Kind kind = PVISOR__REQUEST__KIND__WINDOW;
	Pvisor__Response *r = NULL;
	uint32_t index = 0, count = 0, index_top;
	bool json = false, window_given = false, merged_given = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			window_given = true;
			if (strcmp(optarg, "live") == 0) {
				kind = PVISOR__REQUEST__KIND__LIVE;
			} else if (pv_parse_u32(optarg, 0, UINT32_MAX, &index)) {
				kind = PVISOR__REQUEST__KIND__WINDOW;
			} else {
				return usage_error("show", usage_show,
						   "--window takes \"live\" or a window index "
						   "0, 1, ... (got \"%s\")",
						   optarg);
			}
			break;
		case 'm':
			merged_given = true;
			if (!pv_parse_u32(optarg, 1, UINT32_MAX, &count))
				return usage_error("show", usage_show,
						   "--merged takes a window count >= 1 (got \"%s\")",
						   optarg);
			break;
		case 't':
			if (!pv_parse_u32(optarg, 1, 100, &index_top))
				return usage_error("show", usage_show,
						   "--top takes 1..100 (got \"%s\")", optarg);
			pv_render_set_top(index_top);
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage_show(stdout);
			return PV_EXIT_OK;
		default:
			return bad_option("show", usage_show, c, argv);
		}
	}
	if (optind < argc)
		return usage_error("show", usage_show, "unexpected argument %s", argv[optind]);
	if (window_given && merged_given)
		return usage_error("show", usage_show, "--window and --merged exclude each other");
	if (merged_given)
		kind = PVISOR__REQUEST__KIND__MERGED;

	rc = query(g, kind, index, count, &r);
	if (rc)
		return rc;
	rc = output_done(json ? pv_render_snapshot_json(stdout, r->snapshot)
			      : pv_render_snapshot_table(stdout, r->snapshot));
	pv_client_response_free(r);
	return rc;
}

static int cmd_analyze(int argc, char **argv)
{
	enum { O_WORKERS = 256, O_HOSTNET, O_WINDOW, O_BPF, O_JSON, O_PERWIN, O_TOP, O_ONLY,
	       O_GEOCITY, O_GEOASN };
	static const struct option opts[] = {
		{"workers", required_argument, NULL, O_WORKERS},
		{"host-net", required_argument, NULL, O_HOSTNET},
		{"window", required_argument, NULL, O_WINDOW},
		{"bpf", required_argument, NULL, O_BPF},
		{"json", no_argument, NULL, O_JSON},
		{"per-window", no_argument, NULL, O_PERWIN},
		{"top", required_argument, NULL, O_TOP},
		{"only-hosts", required_argument, NULL, O_ONLY},
		{"geo-city", required_argument, NULL, O_GEOCITY},
		{"geo-asn", required_argument, NULL, O_GEOASN},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct pv_analyze_opts o = {0};
	uint32_t v;
	int c;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_WORKERS:
			if (!pv_parse_u32(optarg, 1, PV_SHM_MAX_WORKERS, &v))
				return usage_error("analyze", usage_analyze,
						   "--workers takes 1..%u (got \"%s\")",
						   PV_SHM_MAX_WORKERS, optarg);
			o.workers = v;
			break;
		case O_HOSTNET:
			o.host_net = optarg;
			break;
		case O_WINDOW:
			if (!pv_parse_u32(optarg, 1, 3600, &v))
				return usage_error("analyze", usage_analyze,
						   "--window takes seconds, 1..3600 (got \"%s\")",
						   optarg);
			o.window_sec = v;
			break;
		case O_BPF:
			o.bpf = optarg;
			break;
		case O_JSON:
			o.json = true;
			break;
		case O_PERWIN:
			o.per_window = true;
			break;
		case O_TOP:
			if (!pv_parse_u32(optarg, 1, 100, &v))
				return usage_error("analyze", usage_analyze,
						   "--top takes 1..100 (got \"%s\")", optarg);
			pv_render_set_top(v);
			break;
		case O_ONLY:
			o.only_hosts = optarg;
			break;
		case O_GEOCITY:
			o.geo_city = optarg;
			break;
		case O_GEOASN:
			o.geo_asn = optarg;
			break;
		case 'h':
			usage_analyze(stdout);
			return PV_EXIT_OK;
		default:
			return bad_option("analyze", usage_analyze, c, argv);
		}
	}
	if (optind >= argc)
		return usage_error("analyze", usage_analyze, "which pcap file?");
	if (optind + 1 < argc)
		return usage_error("analyze", usage_analyze, "unexpected argument %s",
				   argv[optind + 1]);
	o.pcap = argv[optind];
	return pv_analyze_run(&o, stdout);
}

int main(int argc, char **argv)
{
	enum { O_INSTANCE = 256, O_RUNDIR, O_VERSION };
	static const struct option opts[] = {
		{"instance", required_argument, NULL, O_INSTANCE},
		{"run-dir", required_argument, NULL, O_RUNDIR},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, O_VERSION},
		{NULL, 0, NULL, 0},
	};
	struct global g = {
		.instance = PV_CLIENT_INSTANCE_DEFAULT,
		.run_dir = PV_CLIENT_RUN_DIR_DEFAULT,
	};
	const char *cmd;
	int c;

	opterr = 0;
	/* '+': stop at the command; its options are parsed by the command. */
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case O_INSTANCE:
			if (pv_instance_valid(optarg) != 0)
				return usage_error(NULL, usage_main,
						   "invalid instance name \"%s\": use 1-63 "
						   "characters of A-Z a-z 0-9 _ . - (not starting "
						   "with '.')",
						   optarg);
			g.instance = optarg;
			break;
		case O_RUNDIR:
			if (!*optarg)
				return usage_error(NULL, usage_main, "--run-dir is empty");
			g.run_dir = optarg;
			break;
		case 'h':
			usage_main(stdout);
			return PV_EXIT_OK;
		case O_VERSION:
			printf("pvctl %s (schema %u)\n", PV_VERSION, PV_SCHEMA_VERSION);
			return PV_EXIT_OK;
		default:
			return bad_option(NULL, usage_main, c, argv);
		}
	}
	if (optind >= argc)
		return usage_error(NULL, usage_main, "which command?");
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 0; /* full re-initialisation of getopt for the command */

	if (strcmp(cmd, "status") == 0)
		return cmd_status(&g, argc, argv);
	if (strcmp(cmd, "show") == 0)
		return cmd_show(&g, argc, argv);
	if (strcmp(cmd, "analyze") == 0)
		return cmd_analyze(argc, argv);
	return usage_error(NULL, usage_main, "unknown command \"%s\"", cmd);
}
