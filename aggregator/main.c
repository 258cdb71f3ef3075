/* pvaggregator: merge a sensor's windows and serve them to pvctl. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aggregator/agg.h"
#include "aggregator/server.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/timeutil.h"
#include "lib/version.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pvaggregator [options]\n"
		"\n"
		"Attaches the shared memory of a pvsensor instance, merges its workers' windows\n"
		"and serves them to pvctl over nng (ipc://RUN-DIR/INSTANCE.ctl).\n"
		"\n"
		"      --instance NAME   sensor instance (default: default)\n"
		"      --run-dir DIR     directory of the control socket (default /run/pvisor)\n"
		"      --history N       sealed windows kept (default 60)\n"
		"      --grace SECONDS   merge without a worker silent this long (default 5)\n"
		"  -v, --verbose         more logging\n"
		"  -q, --quiet           log only warnings and errors\n"
		"  -h, --help            this text\n"
		"      --version         print the version\n");
}

int main(int argc, char **argv)
{
	enum { O_INSTANCE = 256, O_RUNDIR, O_HISTORY, O_GRACE, O_VERSION };
	static const struct option opts[] = {
		{"instance", required_argument, NULL, O_INSTANCE},
		{"run-dir", required_argument, NULL, O_RUNDIR},
		{"history", required_argument, NULL, O_HISTORY},
		{"grace", required_argument, NULL, O_GRACE},
		{"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, O_VERSION},
		{NULL, 0, NULL, 0},
	};
	struct pv_agg_opts o = {.instance = "default", .history = 60, .grace_ns = 5000000000ull};
	const char *run_dir = "/run/pvisor";
	struct pv_server *srv = NULL;
	struct sigaction sa;
	struct pv_agg *agg;
	char url[512], why[256];
	uint32_t v;
	const char *bad = "";
	int c, verbose = 0, quiet = 0, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vqh", opts, NULL)) != -1) {
		switch (c) {
		case O_INSTANCE:
			o.instance = optarg;
			break;
		case O_RUNDIR:
			run_dir = optarg;
			break;
		case O_HISTORY:
			if (!pv_parse_u32(optarg, 1, 10000000, &v)) {
				bad = "--history (1..10000000)";
				goto bad_value;
			}
			o.history = v;
			break;
		case O_GRACE:
			if (!pv_parse_u32(optarg, 1, 86400, &v)) {
				bad = "--grace (1..86400 s)";
				goto bad_value;
			}
			o.grace_ns = (uint64_t)v * 1000000000ull;
			break;
		case 'v':
			verbose++;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case O_VERSION:
			printf("pvaggregator %s (schema %u)\n", PV_VERSION, PV_SCHEMA_VERSION);
			return 0;
		case ':':
			fprintf(stderr, "pvaggregator: option %s needs a value\n", argv[optind - 1]);
			usage(stderr);
			return 1;
		default:
			fprintf(stderr, "pvaggregator: unknown option %s\n", argv[optind - 1]);
			usage(stderr);
			return 1;
		}
		continue;
bad_value:
		fprintf(stderr, "pvaggregator: invalid value '%s' for %s\n", optarg, bad);
		return 1;
	}
	if (optind < argc) {
		fprintf(stderr, "pvaggregator: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	pv_log_init("pvaggregator", verbose ? PV_LOG_DEBUG : quiet ? PV_LOG_WARN : PV_LOG_INFO);
	if (pv_instance_valid(o.instance) != PV_OK) {
		pv_err("invalid instance name '%s' (use [A-Za-z0-9_.-], 1-63 chars)", o.instance);
		return 1;
	}
	if (mkdir(run_dir, 0750) < 0 && errno != EEXIST) {
		pv_err("cannot create run directory %s: %s", run_dir, strerror(errno));
		return 2;
	}
	if ((size_t)snprintf(url, sizeof(url), "ipc://%s/%s.ctl", run_dir, o.instance) >=
	    sizeof(url)) {
		pv_err("run directory path too long");
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rcu_register_thread();
	agg = pv_agg_alloc(&o);
	if (!agg) {
		pv_err("out of memory");
		return 2;
	}
	rc = pv_server_start(&srv, agg, o.instance, url, why, sizeof(why));
	if (rc != PV_OK) {
		pv_err("%s", why);
		pv_agg_free(agg);
		return 2;
	}
	pv_info("serving %s, history %u windows", url, o.history);
	while (!stop) {
		if (pv_agg_step(agg) == 0)
			pv_sleep_ms(50);
	}
	pv_server_stop(srv);
	pv_agg_free(agg);
	rcu_unregister_thread();
	pv_info("stopped");
	return 0;
}
