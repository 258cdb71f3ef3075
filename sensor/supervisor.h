/*
 * pvsensor's supervisor: parses options, does the few privileged things
 * (create the shm region, open one ring per worker in one fanout group,
 * compile and attach the BPF filter), becomes the service user keeping only
 * CAP_NET_RAW/CAP_NET_ADMIN, forks the workers and watches them: a crashed
 * worker is restarted into the same shard and ring, and counted; SIGTERM or
 * SIGINT makes every worker seal its window before the sensor exits. It
 * parses no packets.
 */
#ifndef PV_SENSOR_SUPERVISOR_H
#define PV_SENSOR_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct pv_sensor_opts {
	const char *iface;
	const char *pcap;
	unsigned workers;
	const char *bpf;
	const char *host_net;
	const char *only_hosts;
	const char *geo_city;
	const char *geo_asn;
	bool geoloc_notfound;
	bool asn_notfound;
	unsigned window_sec;
	unsigned slots;
	const char *instance;
	const char *sensor_id;
	const char *user;
	unsigned ring_mb;
	unsigned block_tov_ms;
	bool promisc;
	unsigned wait_aggregator_sec;
	int verbose;
	bool quiet;
};

/* Fills defaults, parses argv. Returns 0 (run), 1 (help/version printed:
 * exit 0) or -1 (usage error, message in why: exit 1). */
int pv_sensor_opts_parse(int argc, char **argv, struct pv_sensor_opts *o, char *why,
			 size_t why_len);

void pv_sensor_usage(FILE *out);

/* Runs the sensor until it is stopped (live) or the file is read (pcap).
 * Returns the process exit status. */
int pv_supervisor_run(const struct pv_sensor_opts *o);

#endif
