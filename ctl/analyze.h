/*
 * `pvctl analyze FILE.pcap`: runs a private pvsensor (--pcap) + pvaggregator
 * pair on a capture file and prints the whole capture merged into one window
 * document (and, on request, every window).
 *
 * The pair lives in a fresh temporary run directory under a unique instance
 * name, so it never meets a production sensor. pvctl owns everything it
 * starts: both child processes, the temp directory, the control socket in it
 * and the shm region /dev/shm/pvisor-<instance>. All of it is removed before
 * pv_analyze_run() returns, on success, on error and on SIGINT/SIGTERM (which
 * it catches for the duration of the run and restores afterwards).
 */
#ifndef PV_CTL_ANALYZE_H
#define PV_CTL_ANALYZE_H

#include <stdbool.h>
#include <stdio.h>

#define PV_ANALYZE_FINISH_TIMEOUT_S 600 /* bound on the whole analysis */

struct pv_analyze_opts {
	const char *pcap;         /* the capture file (required) */
	unsigned workers;         /* 0: number of online CPUs */
	unsigned window_sec;      /* 0: pvsensor's default window length */
	const char *host_net;     /* "CIDR,..." for direction, or NULL */
	const char *bpf;          /* BPF expression, or NULL */
	const char *only_hosts;   /* net filter "CIDR,...", or NULL */
	const char *geo_city;     /* MaxMind City DB, or NULL */
	const char *geo_asn;      /* MaxMind ASN/ISP DB, or NULL */
	bool json;                /* JSON documents instead of tables */
	bool per_window;          /* also every window, oldest first */
	unsigned finish_timeout_s; /* 0: PV_ANALYZE_FINISH_TIMEOUT_S */
};

/* Runs the analysis and writes the result to out; errors go to stderr.
 * Returns pvctl's exit status: PV_EXIT_OK, PV_EXIT_UNREACHABLE (the private
 * aggregator could not be reached), PV_EXIT_BAD_DATA (bad reply, a child that
 * failed, the file unreadable, a timeout), or 128 + signal when interrupted
 * (130 for SIGINT). */
int pv_analyze_run(const struct pv_analyze_opts *o, FILE *out);

#endif
