#include "aggregator/snapshot.h"

#include "lib/version.h"

void pv_snapshot_fill(struct pv_snap_buf *b, const struct pv_window *w, const char *sensor)
{
	const struct pv_packets_block *k = &w->m.packets;
	const struct pv_capture_block *c = &w->m.capture;

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
}
