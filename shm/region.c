#include "shm/region.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/timeutil.h"

static void why_set(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void why_set(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

int pv_instance_valid(const char *instance)
{
	size_t n;

	if (!instance)
		return PV_ECONFIG;
	n = strlen(instance);
	if (n == 0 || n >= PV_INSTANCE_MAX || instance[0] == '.')
		return PV_ECONFIG;
	for (size_t i = 0; i < n; i++) {
		char c = instance[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return PV_ECONFIG;
	}
	return PV_OK;
}

int pv_region_name(const char *instance, char *buf, size_t len)
{
	if (pv_instance_valid(instance) != PV_OK)
		return PV_ECONFIG;
	if ((size_t)snprintf(buf, len, "/pvisor-%s", instance) >= len)
		return PV_ECONFIG;
	return PV_OK;
}

static void handle_fill(struct pv_region *r, uint8_t *base, size_t size, uint32_t workers,
			uint32_t slots)
{
	struct pv_shm_geometry g = pv_shm_geometry(workers, slots);

	r->base = base;
	r->size = size;
	r->hdr = (struct pv_region_hdr *)base;
	r->workers = workers;
	r->slots = slots;
	r->shard_size = g.shard_size;
	r->slot_size = g.slot_size;
	r->shard_hdr_size = g.shard_hdr_size;
}

int pv_region_create(struct pv_region *r, const struct pv_region_params *p)
{
	char name[PV_INSTANCE_MAX + 16];
	struct pv_shm_geometry g;
	struct pv_region_hdr *h;
	struct stat st;
	uint8_t *base = MAP_FAILED;
	int fd = -1, rc;

	memset(r, 0, sizeof(*r));
	if (pv_region_name(p->instance, name, sizeof(name)) != PV_OK)
		return PV_ECONFIG;
	if (p->workers < 1 || p->workers > PV_SHM_MAX_WORKERS || p->slots < PV_SHM_MIN_SLOTS ||
	    p->slots > PV_SHM_MAX_SLOTS || p->window_sec < 1)
		return PV_ECONFIG;
	g = pv_shm_geometry(p->workers, p->slots);

	if (shm_unlink(name) < 0 && errno != ENOENT)
		return -errno;
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (p->owner_uid != (uid_t)-1 && fchown(fd, p->owner_uid, p->owner_gid) < 0) {
		rc = -errno;
		goto fail;
	}
	if (fchmod(fd, 0640) < 0 || ftruncate(fd, (off_t)g.total_size) < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	base = mmap(NULL, g.total_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	close(fd);
	fd = -1;

	handle_fill(r, base, g.total_size, p->workers, p->slots);
	r->ack = base + g.ack_off;
	r->ack_size = g.ack_size;
	r->ino = (uint64_t)st.st_ino;
	r->writer = true;

	h = r->hdr;
	h->magic = PV_SHM_MAGIC;
	h->layout_version = PV_SHM_LAYOUT_VERSION;
	h->hdr_size = PV_SHM_HDR_SIZE;
	h->total_size = g.total_size;
	h->shards_off = g.shards_off;
	h->shard_size = g.shard_size;
	h->shard_hdr_size = g.shard_hdr_size;
	h->slot_size = g.slot_size;
	h->metrics_size = g.metrics_size;
	h->ack_off = g.ack_off;
	h->ack_size = g.ack_size;
	h->workers = p->workers;
	h->slots = p->slots;
	h->window_sec = p->window_sec;
	h->mode = p->mode;
	h->start_ns = pv_real_ns();
	h->config_gen = h->start_ns ^ ((uint64_t)getpid() << 32);
	h->hash_seed = h->config_gen * 0x9e3779b97f4a7c15ull;
	h->supervisor_pid = getpid();
	snprintf(h->sensor_id, sizeof(h->sensor_id), "%s", p->sensor_id ? p->sensor_id : "");
	snprintf(h->source, sizeof(h->source), "%s", p->source ? p->source : "");
	for (uint32_t i = 0; i < p->workers; i++) {
		struct pv_shard_hdr *sh = pv_region_shard(r, i);
		sh->frontier = 0;
		sh->open_window = PV_SHM_NO_WINDOW;
		for (uint32_t s = 0; s < p->slots; s++)
			*pv_region_ack_word(r, i, s) = PV_SHM_NO_WINDOW;
	}
	pv_store32(&h->state, PV_REGION_STARTING);
	return PV_OK;
fail:
	if (fd >= 0)
		close(fd);
	shm_unlink(name);
	return rc;
}

/* Checks a header for an object of len bytes; reads only *h. */
static int hdr_check(const struct pv_region_hdr *h, size_t len, char *why, size_t why_len)
{
	struct pv_shm_geometry g;

	if (h->magic != PV_SHM_MAGIC) {
		why_set(why, why_len, "not a pvisor region (magic %#" PRIx64 ")", h->magic);
		return PV_EMAGIC;
	}
	if (h->layout_version != PV_SHM_LAYOUT_VERSION) {
		why_set(why, why_len,
			"region layout version %u, this build reads version %u: run matching "
			"pvsensor and pvaggregator versions",
			h->layout_version, PV_SHM_LAYOUT_VERSION);
		return PV_EVERSION;
	}
	if (h->hdr_size != PV_SHM_HDR_SIZE) {
		why_set(why, why_len, "header size %u, expected %u", h->hdr_size, PV_SHM_HDR_SIZE);
		return PV_ESIZE;
	}
	if (h->workers < 1 || h->workers > PV_SHM_MAX_WORKERS || h->slots < PV_SHM_MIN_SLOTS ||
	    h->slots > PV_SHM_MAX_SLOTS) {
		why_set(why, why_len, "region claims %u workers and %u slots per shard (limits 1..%u, %u..%u)",
			h->workers, h->slots, PV_SHM_MAX_WORKERS, PV_SHM_MIN_SLOTS,
			PV_SHM_MAX_SLOTS);
		return PV_ECORRUPT;
	}
	if (h->window_sec < 1 || h->window_sec > 86400 || h->mode > PV_MODE_PCAP) {
		why_set(why, why_len, "region header corrupt (window %u s, mode %u)", h->window_sec,
			h->mode);
		return PV_ECORRUPT;
	}
	g = pv_shm_geometry(h->workers, h->slots);
	if (h->shards_off != g.shards_off || h->shard_size != g.shard_size ||
	    h->shard_hdr_size != g.shard_hdr_size || h->slot_size != g.slot_size ||
	    h->metrics_size != g.metrics_size || h->ack_off != g.ack_off ||
	    h->ack_size != g.ack_size || h->total_size != g.total_size) {
		why_set(why, why_len,
			"region offsets/sizes do not match layout version %u for %u workers x %u "
			"slots",
			PV_SHM_LAYOUT_VERSION, h->workers, h->slots);
		return PV_ESIZE;
	}
	if (len != g.total_size) {
		why_set(why, why_len, "region object is %zu bytes, its header says %" PRIu64, len,
			g.total_size);
		return PV_ESIZE;
	}
	if (!memchr(h->sensor_id, 0, sizeof(h->sensor_id)) ||
	    !memchr(h->source, 0, sizeof(h->source))) {
		why_set(why, why_len, "region header strings are not terminated");
		return PV_ECORRUPT;
	}
	return PV_OK;
}

int pv_region_validate(const void *base, size_t len, char *why, size_t why_len)
{
	if (len < sizeof(struct pv_region_hdr)) {
		why_set(why, why_len, "region is %zu bytes, shorter than its %zu-byte header", len,
			sizeof(struct pv_region_hdr));
		return PV_ETRUNCATED;
	}
	return hdr_check(base, len, why, why_len);
}

int pv_region_attach(struct pv_region *r, const char *instance, int flags, char *why,
		     size_t why_len)
{
	char name[PV_INSTANCE_MAX + 16];
	struct pv_region_hdr snap;
	uint8_t *base = MAP_FAILED, *ack = MAP_FAILED;
	struct stat st;
	size_t size = 0;
	int fd = -1, rc;

	memset(r, 0, sizeof(*r));
	if (pv_region_name(instance, name, sizeof(name)) != PV_OK) {
		why_set(why, why_len, "invalid instance name '%s' (use [A-Za-z0-9_.-], 1-63 chars)",
			instance ? instance : "");
		return PV_ECONFIG;
	}
	fd = shm_open(name, (flags & PV_ATTACH_ACK) ? O_RDWR | O_CLOEXEC : O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		if (errno == ENOENT)
			why_set(why, why_len,
				"no region /dev/shm%s: is pvsensor running with --instance %s?", name,
				instance);
		else
			why_set(why, why_len, "cannot open /dev/shm%s: %s (run as the sensor's user "
					      "or group)",
				name, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		why_set(why, why_len, "fstat /dev/shm%s: %s", name, strerror(errno));
		goto fail;
	}
	size = (size_t)st.st_size;
	if (size < sizeof(struct pv_region_hdr)) {
		why_set(why, why_len, "region /dev/shm%s is %zu bytes, shorter than its header", name,
			size);
		rc = PV_ETRUNCATED;
		goto fail;
	}
	base = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		rc = -errno;
		why_set(why, why_len, "mmap /dev/shm%s: %s", name, strerror(errno));
		goto fail;
	}
	/*
	 * Validate a private snapshot and build the handle from it: a writer
	 * can change the shared header between two reads of the same field.
	 */
	memcpy(&snap, base, sizeof(snap));
	rc = hdr_check(&snap, size, why, why_len);
	if (rc != PV_OK)
		goto fail;
	handle_fill(r, base, size, snap.workers, snap.slots);
	r->ack_size = pv_shm_geometry(r->workers, r->slots).ack_size;
	if (flags & PV_ATTACH_ACK) {
		ack = mmap(NULL, r->ack_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			   (off_t)pv_shm_geometry(r->workers, r->slots).ack_off);
		if (ack == MAP_FAILED) {
			rc = -errno;
			why_set(why, why_len, "mmap ack area of /dev/shm%s: %s", name,
				strerror(errno));
			goto fail;
		}
		r->ack = ack;
		r->ack_rw = true;
	} else {
		r->ack = base + pv_shm_geometry(r->workers, r->slots).ack_off;
	}
	r->ino = (uint64_t)st.st_ino;
	close(fd);
	return PV_OK;
fail:
	if (base != MAP_FAILED)
		munmap(base, size);
	if (fd >= 0)
		close(fd);
	memset(r, 0, sizeof(*r));
	return rc;
}

void pv_region_close(struct pv_region *r)
{
	if (r->ack_rw)
		munmap(r->ack, r->ack_size);
	if (r->base)
		munmap(r->base, r->size);
	memset(r, 0, sizeof(*r));
}

int pv_region_unlink(const char *instance)
{
	char name[PV_INSTANCE_MAX + 16];

	if (pv_region_name(instance, name, sizeof(name)) != PV_OK)
		return PV_ECONFIG;
	if (shm_unlink(name) < 0)
		return -errno;
	return PV_OK;
}

bool pv_region_replaced(const struct pv_region *r, const char *instance)
{
	char name[PV_INSTANCE_MAX + 16], path[PV_INSTANCE_MAX + 32];
	struct stat st;

	if (pv_region_name(instance, name, sizeof(name)) != PV_OK)
		return true;
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	if (stat(path, &st) < 0)
		return true;
	return (uint64_t)st.st_ino != r->ino;
}

/* --- slot protocol --- */

struct pv_metrics *pv_slot_begin(struct pv_region *r, uint32_t shard, uint64_t window_id)
{
	struct pv_shard_hdr *sh = pv_region_shard(r, shard);
	uint32_t idx = (uint32_t)(window_id % r->slots);
	struct pv_slot *s = pv_region_slot(r, shard, idx);
	uint64_t seq;

	if (pv_load32(&s->hdr.state) == PV_SLOT_SEALED &&
	    pv_load64(pv_region_ack_word(r, shard, idx)) != s->hdr.window_id)
		pv_store64(&sh->overwritten_unread, sh->overwritten_unread + 1);

	/* Make seq odd (and different) before touching anything a reader copies. */
	seq = s->hdr.seq;
	seq += (seq & 1) ? 2 : 1;
	__atomic_store_n(&s->hdr.seq, seq, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&s->hdr.state, PV_SLOT_WRITING, __ATOMIC_RELAXED);
	__atomic_store_n(&s->hdr.window_id, window_id, __ATOMIC_RELAXED);
	memset(&s->m, 0, sizeof(s->m));
	pv_store64(&sh->open_window, window_id);
	return &s->m;
}

void pv_slot_seal(struct pv_region *r, uint32_t shard, uint64_t next_frontier)
{
	struct pv_shard_hdr *sh = pv_region_shard(r, shard);
	uint64_t w = sh->open_window;

	if (w != PV_SHM_NO_WINDOW) {
		struct pv_slot *s = pv_region_slot(r, shard, (uint32_t)(w % r->slots));
		__atomic_store_n(&s->hdr.state, PV_SLOT_SEALED, __ATOMIC_RELAXED);
		/* Release: the counts and state above are visible before seq is even. */
		pv_store64(&s->hdr.seq, (s->hdr.seq | 1) + 1);
		pv_store64(&sh->open_window, PV_SHM_NO_WINDOW);
	}
	pv_store64(&sh->frontier, next_frontier);
}

struct pv_metrics *pv_slot_resume(struct pv_region *r, uint32_t shard, uint64_t *window_id)
{
	struct pv_shard_hdr *sh = pv_region_shard(r, shard);
	uint64_t w = pv_load64(&sh->open_window);
	struct pv_slot *s;

	if (w == PV_SHM_NO_WINDOW)
		return NULL;
	s = pv_region_slot(r, shard, (uint32_t)(w % r->slots));
	if (pv_load32(&s->hdr.state) != PV_SLOT_WRITING || s->hdr.window_id != w)
		return NULL;
	*window_id = w;
	return &s->m;
}

int pv_slot_copy(const struct pv_region *r, uint32_t shard, uint64_t window_id,
		 struct pv_metrics *out)
{
	struct pv_slot *s;
	uint64_t seq1, seq2;

	if (shard >= r->workers)
		return PV_ENOTFOUND;
	s = pv_region_slot(r, shard, (uint32_t)(window_id % r->slots));
	seq1 = pv_load64(&s->hdr.seq);
	if ((seq1 & 1) || pv_load32(&s->hdr.state) != PV_SLOT_SEALED ||
	    __atomic_load_n(&s->hdr.window_id, __ATOMIC_RELAXED) != window_id)
		return PV_ENOTFOUND;
	memcpy(out, &s->m, sizeof(*out));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	seq2 = __atomic_load_n(&s->hdr.seq, __ATOMIC_RELAXED);
	return seq1 == seq2 ? PV_OK : PV_EAGAIN;
}

int pv_slot_copy_live(const struct pv_region *r, uint32_t shard, uint64_t *window_id,
		      struct pv_metrics *out)
{
	struct pv_shard_hdr *sh;
	struct pv_slot *s;
	uint64_t w;

	if (shard >= r->workers)
		return PV_ENOTFOUND;
	sh = pv_region_shard(r, shard);
	w = pv_load64(&sh->open_window);
	if (w == PV_SHM_NO_WINDOW)
		return PV_ENOTFOUND;
	s = pv_region_slot(r, shard, (uint32_t)(w % r->slots));
	if (__atomic_load_n(&s->hdr.window_id, __ATOMIC_RELAXED) != w)
		return PV_ENOTFOUND;
	memcpy(out, &s->m, sizeof(*out));
	*window_id = w;
	return PV_OK;
}

void pv_slot_ack(struct pv_region *r, uint32_t shard, uint64_t window_id)
{
	if (shard >= r->workers || !r->ack || !(r->writer || r->ack_rw))
		return;
	pv_store64(pv_region_ack_word(r, shard, (uint32_t)(window_id % r->slots)), window_id);
}
