#include "aggregator/agg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "shm/metrics.h"

#define COPY_RETRIES 4
#define REPLACE_CHECK_NS 500000000ull

struct pv_agg {
	struct pv_agg_opts o;
	struct pv_region region;
	bool attached;
	struct pv_agg_state *cur;   /* published (rcu) */
	/* cumulative region counters at the previous merge */
	uint64_t last_restarts, last_iface_drops, last_overwritten;
	uint64_t next_check_ns;
	char last_why[256];
	struct pv_metrics scratch; /* one shard's copy */
	struct pv_metrics sum;     /* the shards of one window */
};

int pv_window_merge(struct pv_window *dst, const struct pv_window *src)
{
	int rc;

	if (dst->merged == 0) {
		*dst = *src;
		return PV_OK;
	}
	rc = pv_view_merge(&dst->v, &src->v);
	if (rc != PV_OK)
		return rc;
	if (src->window_id < dst->window_id)
		dst->window_id = src->window_id;
	dst->merged += src->merged;
	if (src->x.workers > dst->x.workers)
		dst->x.workers = src->x.workers;
	dst->x.worker_restarts += src->x.worker_restarts;
	dst->x.interface_drops += src->x.interface_drops;
	dst->x.overwritten_unread += src->x.overwritten_unread;
	dst->x.incomplete += src->x.incomplete;
	dst->x.corrupt += src->x.corrupt;
	return PV_OK;
}

static void state_free(struct pv_agg_state *s)
{
	for (uint32_t i = 0; i < s->nevicted; i++)
		free(s->evicted[i]);
	free(s->evicted);
	free(s->win);
	free(s);
}

static void state_free_rcu(struct rcu_head *h)
{
	state_free(caa_container_of(h, struct pv_agg_state, rcu));
}

static struct pv_agg_state *state_new(const struct pv_agg *a)
{
	struct pv_agg_state *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->win = calloc(a->o.history + 1, sizeof(*s->win));
	if (!s->win) {
		free(s);
		return NULL;
	}
	s->history = a->o.history;
	s->pid = getpid();
	return s;
}

/* Publishes next in place of the current state; the old one (and the
 * windows it alone held, listed in its evicted[]) go after a grace period. */
static void state_publish(struct pv_agg *a, struct pv_agg_state *next)
{
	struct pv_agg_state *old = rcu_xchg_pointer(&a->cur, next);

	if (old)
		call_rcu(&old->rcu, state_free_rcu);
}

/* A copy of the current state with the same windows, to be changed and
 * published. Windows it drops are recorded in the *old* state's evicted
 * list by the caller. */
static struct pv_agg_state *state_clone(const struct pv_agg *a)
{
	const struct pv_agg_state *c = a->cur;
	struct pv_agg_state *s = state_new(a);

	if (!s)
		return NULL;
	memcpy(s->sensor, c->sensor, sizeof(s->sensor));
	memcpy(s->source, c->source, sizeof(s->source));
	s->region = c->region;
	s->nwin = c->nwin;
	memcpy(s->win, c->win, c->nwin * sizeof(*s->win));
	s->total = c->total;
	s->have_total = c->have_total;
	s->merged_count = c->merged_count;
	s->finished = c->finished;
	return s;
}

struct pv_agg *pv_agg_alloc(const struct pv_agg_opts *o)
{
	struct pv_agg *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->o = *o;
	if (a->o.history < 1)
		a->o.history = 1;
	a->cur = state_new(a);
	if (!a->cur) {
		free(a);
		return NULL;
	}
	return a;
}

void pv_agg_free(struct pv_agg *a)
{
	struct pv_agg_state *s;

	if (!a)
		return;
	s = rcu_xchg_pointer(&a->cur, NULL);
	synchronize_rcu();
	rcu_barrier(); /* run the pending frees of older states */
	if (s) {
		for (uint32_t i = 0; i < s->nwin; i++)
			free(s->win[i]);
		state_free(s);
	}
	if (a->attached) {
		struct pv_ack_hdr *ah = pv_region_ack_hdr(&a->region);
		__atomic_store_n(&ah->aggregator_pid, 0, __ATOMIC_RELEASE);
		pv_region_close(&a->region);
	}
	free(a);
}

struct pv_agg_state *pv_agg_state_get(struct pv_agg *a)
{
	return rcu_dereference(a->cur);
}

static void detach(struct pv_agg *a)
{
	struct pv_agg_state *s = state_clone(a);

	if (s) {
		s->region = NULL;
		s->finished = false;
		state_publish(a, s);
	}
	/* No reader may still use the old mapping. */
	synchronize_rcu();
	pv_region_close(&a->region);
	a->attached = false;
}

static void try_attach(struct pv_agg *a)
{
	char why[256] = "";
	struct pv_agg_state *s;
	struct pv_region_hdr *h;
	int rc;

	rc = pv_region_attach(&a->region, a->o.instance, PV_ATTACH_ACK, why, sizeof(why));
	if (rc != PV_OK) {
		if (strcmp(why, a->last_why) != 0) {
			pv_log(rc == -ENOENT ? PV_LOG_INFO : PV_LOG_WARN, "waiting for the sensor: %s",
			       why);
			snprintf(a->last_why, sizeof(a->last_why), "%s", why);
		}
		return;
	}
	a->last_why[0] = 0;
	a->attached = true;
	h = a->region.hdr;
	a->last_restarts = 0;
	a->last_overwritten = 0;
	a->last_iface_drops = 0;
	for (uint32_t i = 0; i < a->region.workers; i++) {
		struct pv_shard_hdr *sh = pv_region_shard(&a->region, i);
		a->last_restarts += pv_load64(&sh->restarts);
		a->last_overwritten += pv_load64(&sh->overwritten_unread);
	}
	a->last_iface_drops = pv_load64(&h->iface_drops);
	s = state_clone(a);
	if (!s)
		return;
	s->region = &a->region;
	memcpy(s->sensor, h->sensor_id, sizeof(s->sensor));
	s->sensor[sizeof(s->sensor) - 1] = 0;
	memcpy(s->source, h->source, sizeof(s->source));
	s->source[sizeof(s->source) - 1] = 0;
	s->finished = false;
	state_publish(a, s);
	pv_info("attached /dev/shm/pvisor-%s: sensor '%s', %s %s, %u workers, %u slots, %u s "
		"windows",
		a->o.instance, s->sensor, h->mode == PV_MODE_PCAP ? "file" : "interface", s->source,
		a->region.workers, a->region.slots, h->window_sec);
}

/* Everything below the returned window id is sealed by every shard that
 * counts; *dead_skipped tells whether a dead shard was left out. */
static uint64_t merge_frontier(struct pv_agg *a, bool *dead_skipped)
{
	uint64_t f = UINT64_MAX, now = pv_mono_ns();

	*dead_skipped = false;
	for (uint32_t i = 0; i < a->region.workers; i++) {
		struct pv_shard_hdr *sh = pv_region_shard(&a->region, i);
		uint32_t st = pv_load32(&sh->state);
		uint64_t fr = pv_load64(&sh->frontier);
		uint64_t hb = pv_load64(&sh->heartbeat_ns);

		if (st != PV_SHARD_DONE && (st == PV_SHARD_DEAD || st == PV_SHARD_RUNNING) &&
		    hb + a->o.grace_ns < now) {
			*dead_skipped = true;
			continue;
		}
		if (fr < f)
			f = fr;
	}
	return f;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Sealed windows below frontier not acknowledged yet, ascending, unique. */
static uint32_t ready_windows(struct pv_agg *a, uint64_t frontier, uint64_t *out, uint32_t cap)
{
	uint32_t n = 0, u = 0;

	for (uint32_t i = 0; i < a->region.workers; i++)
		for (uint32_t k = 0; k < a->region.slots && n < cap; k++) {
			struct pv_slot *s = pv_region_slot(&a->region, i, k);
			uint64_t w = __atomic_load_n(&s->hdr.window_id, __ATOMIC_RELAXED);
			if (pv_load32(&s->hdr.state) != PV_SLOT_SEALED || w >= frontier)
				continue;
			if (pv_load64(pv_region_ack_word(&a->region, i, k)) == w)
				continue;
			out[n++] = w;
		}
	qsort(out, n, sizeof(*out), cmp_u64);
	for (uint32_t i = 0; i < n; i++)
		if (u == 0 || out[u - 1] != out[i])
			out[u++] = out[i];
	return u;
}

/* Copies, checks and sums one shard's block of window w (or its open
 * window when live). Returns true if it was added to a->sum. */
static bool take_shard(struct pv_metrics *scratch, struct pv_metrics *sum,
		       const struct pv_region *r, uint32_t shard, uint64_t w, bool live, bool *have,
		       uint64_t *corrupt)
{
	int rc = PV_EAGAIN;

	if (live) {
		uint64_t lw;
		/* The worker keeps writing: a copy can be torn between two of
		 * its stores. Try again a few times; if it stays torn, its
		 * counters are still good, its sketches are left out. */
		for (int t = 0; t < COPY_RETRIES; t++) {
			rc = pv_slot_copy_live(r, shard, &lw, scratch);
			if (rc != PV_OK || lw != w)
				return false;
			if (pv_metrics_check(scratch) == PV_OK)
				break;
			if (t == COPY_RETRIES - 1)
				pv_metrics_drop_sketches(scratch);
		}
	} else {
		for (int t = 0; t < COPY_RETRIES && rc == PV_EAGAIN; t++)
			rc = pv_slot_copy(r, shard, w, scratch);
		if (rc != PV_OK)
			return false;
	}
	if (pv_metrics_check(scratch) != PV_OK) {
		/* A torn live read is expected now and then; a sealed block
		 * that fails its check is not, and is counted. */
		if (!live) {
			pv_warn("window %llu of worker %u fails its check: not merged",
				(unsigned long long)w, shard);
			(*corrupt)++;
		}
		return false;
	}
	if (!*have) {
		memcpy(sum, scratch, sizeof(*sum));
		*have = true;
		return true;
	}
	if (pv_metrics_merge(sum, scratch) != PV_OK) {
		(*corrupt)++;
		return false;
	}
	return true;
}

static bool merge_window(struct pv_agg *a, uint64_t w, bool dead_skipped, struct pv_window *out)
{
	const struct pv_region_hdr *h = a->region.hdr;
	uint64_t restarts = 0, overwritten = 0, drops;
	bool have = false;

	memset(out, 0, offsetof(struct pv_window, v));
	out->window_id = w;
	out->window_sec = h->window_sec;
	out->merged = 1;
	out->x.workers = a->region.workers;
	for (uint32_t i = 0; i < a->region.workers; i++) {
		struct pv_slot *sl = pv_region_slot(&a->region, i, (uint32_t)(w % a->region.slots));

		take_shard(&a->scratch, &a->sum, &a->region, i, w, false, &have, &out->x.corrupt);
		/* Acknowledge only a slot that holds this sealed window: the same
		 * slot index of another shard may hold another window, still to
		 * be merged (acking it would hide it, and its own merge would in
		 * turn un-ack this one). */
		if (pv_load32(&sl->hdr.state) == PV_SLOT_SEALED &&
		    __atomic_load_n(&sl->hdr.window_id, __ATOMIC_RELAXED) == w)
			pv_slot_ack(&a->region, i, w);
	}
	pv_view_init(&out->v);
	if (have && pv_view_add_metrics(&out->v, &a->sum, w * h->window_sec, 0) != PV_OK) {
		out->x.corrupt++;
		pv_view_init(&out->v);
		have = false;
	}
	for (uint32_t i = 0; i < a->region.workers; i++) {
		struct pv_shard_hdr *sh = pv_region_shard(&a->region, i);
		restarts += pv_load64(&sh->restarts);
		overwritten += pv_load64(&sh->overwritten_unread);
	}
	drops = pv_load64((uint64_t *)&h->iface_drops);
	out->x.worker_restarts = restarts - a->last_restarts;
	out->x.overwritten_unread = overwritten - a->last_overwritten;
	out->x.interface_drops = drops >= a->last_iface_drops ? drops - a->last_iface_drops : 0;
	out->x.incomplete = dead_skipped ? 1 : 0;
	a->last_restarts = restarts;
	a->last_overwritten = overwritten;
	a->last_iface_drops = drops;
	return have;
}

static bool region_finished(struct pv_agg *a)
{
	if (pv_load32(&a->region.hdr->state) != PV_REGION_STOPPED)
		return false;
	for (uint32_t i = 0; i < a->region.workers; i++)
		if (pv_load64(&pv_region_shard(&a->region, i)->frontier) != UINT64_MAX)
			return false;
	return true;
}

int pv_agg_step(struct pv_agg *a)
{
	uint64_t ready[PV_SHM_MAX_WORKERS * PV_SHM_MAX_SLOTS];
	uint64_t frontier, now = pv_mono_ns();
	struct pv_agg_state *s = NULL, *old;
	struct pv_ack_hdr *ah;
	uint32_t n, merged = 0;
	bool dead_skipped, finished;

	if (!a->attached) {
		try_attach(a);
		if (!a->attached)
			return 0;
	} else if (now >= a->next_check_ns) {
		a->next_check_ns = now + REPLACE_CHECK_NS;
		/* The sensor restarted with a new region: finish the old one first. */
		if (region_finished(a) && a->cur->finished &&
		    pv_region_replaced(&a->region, a->o.instance)) {
			pv_info("the sensor replaced its region: re-attaching");
			detach(a);
			return 0;
		}
	}
	ah = pv_region_ack_hdr(&a->region);
	__atomic_store_n(&ah->aggregator_pid, getpid(), __ATOMIC_RELEASE);
	pv_store64(&ah->heartbeat_ns, now);

	frontier = merge_frontier(a, &dead_skipped);
	n = ready_windows(a, frontier, ready, sizeof(ready) / sizeof(ready[0]));
	finished = n == 0 && region_finished(a);
	if (n == 0 && finished == a->cur->finished)
		return 0;

	old = a->cur;
	s = state_clone(a);
	if (!s)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		struct pv_window *w = malloc(sizeof(*w));
		if (!w)
			break;
		merge_window(a, ready[i], dead_skipped, w);
		pv_window_merge(&s->total, w);
		s->have_total = true;
		s->merged_count++;
		if (s->nwin == s->history) {
			/* The oldest leaves the history: freed with the old state. */
			struct pv_window **ev = realloc(old->evicted,
							(old->nevicted + 1) * sizeof(*ev));
			if (!ev) {
				free(w);
				break;
			}
			old->evicted = ev;
			old->evicted[old->nevicted++] = s->win[0];
			memmove(s->win, s->win + 1, (s->nwin - 1) * sizeof(*s->win));
			s->nwin--;
		}
		s->win[s->nwin++] = w;
		merged++;
	}
	s->finished = finished;
	state_publish(a, s);
	return (int)merged;
}

int pv_agg_live(const struct pv_agg_state *s, struct pv_window *out)
{
	const struct pv_region *r = s->region;
	struct pv_metrics *buf = NULL;
	uint64_t w = 0, corrupt = 0;
	bool have = false, any = false;

	memset(out, 0, offsetof(struct pv_window, v));
	if (!r)
		return PV_ENOTFOUND;
	/* The newest open window across shards is the live one. */
	for (uint32_t i = 0; i < r->workers; i++) {
		uint64_t ow = pv_load64(&pv_region_shard(r, i)->open_window);
		if (ow != PV_SHM_NO_WINDOW && (!any || ow > w)) {
			w = ow;
			any = true;
		}
	}
	if (!any)
		return PV_ENOTFOUND;
	out->window_id = w;
	out->window_sec = r->hdr->window_sec;
	out->live = true;
	out->merged = 1;
	out->x.workers = r->workers;
	/* Called from server threads: scratch space of our own. */
	buf = malloc(2 * sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	for (uint32_t i = 0; i < r->workers; i++)
		take_shard(&buf[0], &buf[1], r, i, w, true, &have, &corrupt);
	pv_view_init(&out->v);
	if (have)
		pv_view_add_metrics(&out->v, &buf[1], w * r->hdr->window_sec,
				    pv_real_ns() / 1000000000ull);
	free(buf);
	return PV_OK;
}
