#include "aggregator/snapshot.h"

#include "lib/version.h"

void pv_snapshot_fill(struct pv_snap_buf *b, const struct pv_window *w, const char *sensor)
{
	const struct pv_packets_block *k = &w->v.packets;
	const struct pv_capture_block *c = &w->v.capture;
	const struct pv_packets_sketches *sk = &w->v.psk;
	Pvisor__Rate *rates[PV_RATE_N];

	pvisor__snapshot__init(&b->snap);
	pvisor__window_info__init(&b->win);
	pvisor__capture__init(&b->cap);
	pvisor__decode_errors__init(&b->de);
	pvisor__packets__init(&b->pk);

	b->snap.schema = PV_SCHEMA_VERSION;
	b->snap.sensor = (char *)sensor;
	b->snap.window = &b->win;
	b->snap.capture = &b->cap;
	b->snap.packets = &b->pk;
	b->snap.sketch_layout = PV_SHM_LAYOUT_VERSION;

	b->win.start_ts = w->window_id * w->window_sec;
	b->win.length = w->window_sec;
	b->win.windows_merged = w->merged;
	b->win.live = w->live;

	b->cap.workers = w->x.workers;
	b->cap.worker_restarts = w->x.worker_restarts;
	b->cap.ring_packets = c->ring_packets;
	b->cap.ring_drops = c->ring_drops;
	b->cap.ring_freezes = c->ring_freezes;
	b->cap.interface_drops = w->x.interface_drops;
	b->cap.windows_overwritten_unread = w->x.overwritten_unread;
	b->cap.crash_skipped = c->crash_skipped;
	b->cap.windows_corrupt = w->x.corrupt;
	b->cap.decode_errors = &b->de;
	b->de.truncated = c->decode_truncated;
	b->de.malformed = c->decode_malformed;

	b->pk.total = k->total;
	b->pk.filtered = k->filtered;
	b->pk.ipv4 = k->ipv4;
	b->pk.ipv6 = k->ipv6;
	b->pk.tcp = k->tcp;
	b->pk.udp = k->udp;
	b->pk.other_l4 = k->other_l4;
	b->pk.icmp = k->icmp;
	b->pk.fragments = k->fragments;
	b->pk.tcp_syn = k->tcp_syn;
	b->pk.in = k->in;
	b->pk.out = k->out;
	b->pk.unknown_dir = k->unknown_dir;
	b->pk.deep_samples = k->deep_samples;
	b->pk.bytes_total = k->bytes_total;
	b->pk.bytes_in = k->bytes_in;
	b->pk.bytes_out = k->bytes_out;

#define IMAGE(dst, field) ((dst).len = sizeof(field), (dst).data = (uint8_t *)(field))
	IMAGE(b->pk.src_ips_in, sk->src_ips_in);
	IMAGE(b->pk.dst_ips_out, sk->dst_ips_out);
	IMAGE(b->pk.top_ipv4, sk->top_ipv4);
	IMAGE(b->pk.top_ipv6, sk->top_ipv6);
	IMAGE(b->pk.top_geo_loc, sk->top_geo);
	IMAGE(b->pk.top_asn, sk->top_asn);
	IMAGE(b->pk.payload_size, sk->payload_size);

	pvisor__rates__init(&b->rates);
	for (int i = 0; i < PV_RATE_N; i++) {
		pvisor__rate__init(&b->rate[i]);
		IMAGE(b->rate[i].quantiles, w->v.rates.qs[i]);
		b->rate[i].live = w->v.rates.live[i];
		rates[i] = &b->rate[i];
	}
#undef IMAGE
	b->rates.pps_in = rates[PV_RATE_PPS_IN];
	b->rates.pps_out = rates[PV_RATE_PPS_OUT];
	b->rates.pps_total = rates[PV_RATE_PPS_TOTAL];
	b->rates.bytes_in = rates[PV_RATE_BYTES_IN];
	b->rates.bytes_out = rates[PV_RATE_BYTES_OUT];
	b->rates.bytes_total = rates[PV_RATE_BYTES_TOTAL];
	b->pk.rates = &b->rates;
}
