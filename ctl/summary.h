/*
 * Reading the sketch images a Snapshot carries (proto/pvisor.proto, Packets
 * fields 20..27): each image is copied into aligned memory, validated with its
 * sketch's *_check (snapshots are untrusted bytes from the network or a
 * socket), and summarised into plain values for the renderers: cardinality
 * estimates, the top entries with their names formatted (addresses here, at
 * read time, never per packet), and quantiles.
 *
 * An absent image (length 0) reads as an empty sketch; a present image that
 * fails its check makes pv_packets_summarize() return its error (pvctl then
 * exits 3, "bad data").
 */
#ifndef PV_CTL_SUMMARY_H
#define PV_CTL_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>

#include "pvisor.pb-c.h"
#include "shm/layout.h"

#define PV_TOP_SHOWN_MAX 100
#define PV_TOP_SHOWN_DEFAULT 10

struct pv_top_entry {
	char name[PV_TOPK_NAME_MAX + 1]; /* raw bytes + NUL (may hold any byte) */
	uint32_t name_len;
	uint64_t estimate;
};

struct pv_top_list {
	uint32_t n;
	struct pv_top_entry e[PV_TOP_SHOWN_MAX];
};

struct pv_quant {
	uint64_t count;
	double min, max, p50, p90, p95, p99;
};

enum pv_top_kind { PV_TOP_IPV4, PV_TOP_IPV6, PV_TOP_GEO, PV_TOP_ASN, PV_TOP_N };

struct pv_packets_summary {
	uint64_t src_ips_in, dst_ips_out;
	struct pv_top_list top[PV_TOP_N];
	struct pv_quant payload_size;
	struct pv_quant rate[PV_RATE_N];
	uint64_t rate_live[PV_RATE_N];
};

/* Fills out from p (NULL: all empty). top_n: entries per table
 * (1..PV_TOP_SHOWN_MAX). Returns 0 or the first check error. */
int pv_packets_summarize(const Pvisor__Packets *p, unsigned top_n, struct pv_packets_summary *out);

/* Names of rates in METRICS.md order: pps_in, pps_out, pps_total, bytes_in, ... */
extern const char *const pv_rate_names[PV_RATE_N];
/* METRICS.md names of the top tables: top_ipv4, top_ipv6, top_geoLoc, top_ASN */
extern const char *const pv_top_names[PV_TOP_N];

#endif
