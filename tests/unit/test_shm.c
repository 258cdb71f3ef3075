/*
 * Tests for the shared-memory region (shm/): create and attach round trips,
 * attach refusing every kind of bad object with the right code and a message
 * an operator can act on, pv_region_validate on crafted in-memory images, the
 * slot protocol (copy, resume, overwritten-unread accounting, seqlock copies
 * racing a writer) and the metrics merge. The region is the only contract
 * between an unprivileged aggregator and the sensor, so every way an object
 * in /dev/shm can be wrong gets its own case. Each test uses an instance name
 * unique to the process and removes what it created in teardown, so a
 * failing assertion never leaves objects behind for the next run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/timeutil.h"
#include "shm/layout.h"
#include "shm/metrics.h"
#include "shm/region.h"

#define N_U64 (sizeof(struct pv_metrics) / sizeof(uint64_t))

struct fx {
	char inst[PV_INSTANCE_MAX];
	struct pv_region w;  /* writer handle (pv_region_create) */
	struct pv_region w2; /* second writer, for replacement */
	struct pv_region rd; /* reader handle (pv_region_attach) */
	char why[256];
};

static unsigned fx_counter;

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->inst, sizeof(f->inst), "pvtest-shm-%d-%u", (int)getpid(), fx_counter++);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	pv_region_close(&f->rd);
	pv_region_close(&f->w2);
	pv_region_close(&f->w);
	pv_region_unlink(f->inst);
	free(f);
	return 0;
}

static void fx_create(struct fx *f, struct pv_region *r, uint32_t workers, uint32_t slots)
{
	struct pv_region_params p = {
		.instance = f->inst,
		.sensor_id = "sensor-test",
		.source = "eth-test0",
		.workers = workers,
		.slots = slots,
		.window_sec = 10,
		.mode = PV_MODE_LIVE,
		.owner_uid = (uid_t)-1,
		.owner_gid = (gid_t)-1,
	};

	assert_int_equal(pv_region_create(r, &p), PV_OK);
}

static void fx_attach(struct fx *f, struct pv_region *r, int flags)
{
	f->why[0] = '\0';
	if (pv_region_attach(r, f->inst, flags, f->why, sizeof(f->why)) != PV_OK)
		fail_msg("attach %s: %s", f->inst, f->why);
}

/*
 * Attach must refuse with want, explain itself (needle names the problem),
 * and leave the handle closed: for a read-only client and for the
 * aggregator alike.
 */
static void expect_refused(struct fx *f, const char *what, int want, const char *needle)
{
	static const int flags[] = {PV_ATTACH_READONLY, PV_ATTACH_ACK};

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		struct pv_region r;
		int rc;

		memset(&r, 0xa5, sizeof(r));
		memset(f->why, 0, sizeof(f->why));
		rc = pv_region_attach(&r, f->inst, flags[i], f->why, sizeof(f->why));
		if (rc != want)
			fail_msg("%s (flags %d): rc %d (%s), want %d (%s); why '%s'", what,
				 flags[i], rc, pv_strerror(rc), want, pv_strerror(want), f->why);
		if (f->why[0] == '\0')
			fail_msg("%s: refused without a reason", what);
		if (needle && !strstr(f->why, needle))
			fail_msg("%s: reason '%s' does not mention '%s'", what, f->why, needle);
		if (r.base != NULL || r.ack != NULL)
			fail_msg("%s: handle not left closed", what);
	}
}

/* Replaces the object behind f->inst with exactly these bytes. */
static void obj_write(struct fx *f, const void *buf, size_t len)
{
	char name[PV_INSTANCE_MAX + 16];
	int fd;

	assert_int_equal(pv_region_name(f->inst, name, sizeof(name)), PV_OK);
	shm_unlink(name);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)len), 0);
	if (len > 0) {
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		assert_true(p != MAP_FAILED);
		memcpy(p, buf, len);
		munmap(p, len);
	}
	close(fd);
}

static void obj_resize(struct fx *f, size_t len)
{
	char name[PV_INSTANCE_MAX + 16];
	int fd;

	assert_int_equal(pv_region_name(f->inst, name, sizeof(name)), PV_OK);
	fd = shm_open(name, O_RDWR, 0);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)len), 0);
	close(fd);
}

/*
 * A valid image built from layout.h alone, not by pv_region_create: a second
 * opinion on the layout, and a buffer tests can corrupt freely.
 */
static uint8_t *image_build(uint32_t workers, uint32_t slots, size_t *len)
{
	struct pv_shm_geometry g = pv_shm_geometry(workers, slots);
	struct pv_region_hdr *h;
	uint8_t *img = calloc(1, g.total_size);

	assert_non_null(img);
	h = (struct pv_region_hdr *)img;
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
	h->workers = workers;
	h->slots = slots;
	h->window_sec = 60;
	h->mode = PV_MODE_PCAP;
	strcpy(h->sensor_id, "crafted");
	strcpy(h->source, "/tmp/crafted.pcap");
	*len = g.total_size;
	return img;
}

/* Validates a private copy of exactly len bytes so ASan sees any over-read. */
static int validate_exact(const void *img, size_t len, char *why, size_t why_len)
{
	void *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, img, len);
	rc = pv_region_validate(copy, len, why, why_len);
	free(copy);
	return rc;
}

static uint64_t *metrics_u64(struct pv_metrics *m)
{
	return (uint64_t *)m;
}

/* --- create / attach round trips --- */

static void check_handle(const struct pv_region *r, uint32_t workers, uint32_t slots)
{
	struct pv_shm_geometry g = pv_shm_geometry(workers, slots);
	const struct pv_region_hdr *h = r->hdr;

	assert_ptr_equal(h, r->base);
	assert_int_equal(r->workers, workers);
	assert_int_equal(r->slots, slots);
	assert_int_equal(r->size, g.total_size);
	assert_int_equal(r->shard_size, g.shard_size);
	assert_int_equal(r->slot_size, g.slot_size);
	assert_int_equal(r->shard_hdr_size, g.shard_hdr_size);
	assert_int_equal(r->ack_size, g.ack_size);
	assert_true(r->ino != 0);

	assert_true(h->magic == PV_SHM_MAGIC);
	assert_int_equal(h->layout_version, PV_SHM_LAYOUT_VERSION);
	assert_int_equal(h->hdr_size, PV_SHM_HDR_SIZE);
	assert_int_equal(h->total_size, g.total_size);
	assert_int_equal(h->shards_off, PV_SHM_HDR_SIZE);
	assert_int_equal(h->shard_size, g.shard_size);
	assert_int_equal(h->shard_hdr_size, sizeof(struct pv_shard_hdr));
	/* slots start on cache lines: the stride is sizeof rounded up to 64 */
	assert_int_equal(h->slot_size, (sizeof(struct pv_slot) + 63) / 64 * 64);
	assert_int_equal(h->metrics_size, sizeof(struct pv_metrics));
	assert_int_equal(h->ack_off, g.ack_off);
	assert_int_equal(h->ack_size, g.ack_size);
	assert_int_equal(h->workers, workers);
	assert_int_equal(h->slots, slots);
	assert_int_equal(h->window_sec, 10);
	assert_int_equal(h->mode, PV_MODE_LIVE);
	assert_int_equal(h->supervisor_pid, getpid());
	assert_int_equal(pv_load32(&h->state), PV_REGION_STARTING);
	assert_true(h->start_ns != 0);
	assert_string_equal(h->sensor_id, "sensor-test");
	assert_string_equal(h->source, "eth-test0");

	/* Geometry invariants the mmap of the ack area and the strides rely on. */
	assert_int_equal(g.shard_size % PV_SHM_PAGE, 0);
	assert_int_equal(g.ack_off % PV_SHM_PAGE, 0);
	assert_int_equal(g.ack_size % PV_SHM_PAGE, 0);
	assert_true(g.shard_hdr_size + slots * g.slot_size <= g.shard_size);
	assert_true(g.ack_size >= sizeof(struct pv_ack_hdr) + (uint64_t)workers * slots * 8);
	assert_int_equal(g.ack_off, PV_SHM_HDR_SIZE + (uint64_t)workers * g.shard_size);
	assert_int_equal(g.total_size, g.ack_off + g.ack_size);

	for (uint32_t i = 0; i < workers; i++) {
		struct pv_shard_hdr *sh = pv_region_shard(r, i);
		assert_int_equal(pv_load32(&sh->state), PV_SHARD_IDLE);
		assert_true(pv_load64(&sh->open_window) == PV_SHM_NO_WINDOW);
		assert_int_equal(pv_load64(&sh->frontier), 0);
		assert_int_equal(pv_load64(&sh->overwritten_unread), 0);
		for (uint32_t s = 0; s < slots; s++) {
			struct pv_slot *sl = pv_region_slot(r, i, s);
			assert_int_equal(pv_load32(&sl->hdr.state), PV_SLOT_EMPTY);
			assert_int_equal(pv_load64(&sl->hdr.seq) & 1, 0);
			assert_true(pv_load64(pv_region_ack_word(r, i, s)) == PV_SHM_NO_WINDOW);
		}
	}
	/* The last ack word ends inside the mapping. */
	assert_true((uint8_t *)(pv_region_ack_word(r, workers - 1, slots - 1) + 1) <=
		    r->ack + r->ack_size);
}

static void test_create_attach_readonly(void **state)
{
	struct fx *f = *state;

	fx_create(f, &f->w, 3, 5);
	check_handle(&f->w, 3, 5);
	assert_true(f->w.writer);
	fx_attach(f, &f->rd, PV_ATTACH_READONLY);
	check_handle(&f->rd, 3, 5);
	assert_false(f->rd.writer);
	assert_true(f->rd.ino == f->w.ino);
	/* Read-only clients read the ack area through the main mapping. */
	assert_ptr_equal(f->rd.ack, f->rd.base + pv_shm_geometry(3, 5).ack_off);

	/* Both handles map the same object. */
	f->w.hdr->config_gen = 0x1122334455667788ull;
	assert_true(f->rd.hdr->config_gen == 0x1122334455667788ull);
}

static void test_create_attach_ack(void **state)
{
	struct fx *f = *state;
	struct pv_region ag;

	fx_create(f, &f->w, 2, 4);
	fx_attach(f, &ag, PV_ATTACH_ACK);
	check_handle(&ag, 2, 4);
	/* The ack area is its own writable mapping, outside the read-only one. */
	assert_true(ag.ack < ag.base || ag.ack >= ag.base + ag.size);

	pv_slot_ack(&ag, 1, 4 * 7 + 2);
	assert_true(pv_load64(pv_region_ack_word(&f->w, 1, 2)) == 4 * 7 + 2);
	assert_true(pv_load64(pv_region_ack_word(&f->w, 0, 2)) == PV_SHM_NO_WINDOW);
	/* An out-of-range shard is ignored, not written past the ack area. */
	pv_slot_ack(&ag, 2, 1);
	pv_region_ack_hdr(&ag)->aggregator_pid = 4242;
	assert_int_equal(pv_region_ack_hdr(&f->w)->aggregator_pid, 4242);
	pv_region_close(&ag);
	assert_null(ag.base);
}

static void test_create_rejects_params(void **state)
{
	struct fx *f = *state;
	struct pv_region_params p = {
		.instance = f->inst,
		.workers = 1,
		.slots = 3,
		.window_sec = 1,
		.owner_uid = (uid_t)-1,
		.owner_gid = (gid_t)-1,
	};
	struct pv_region r;

	p.workers = 0;
	assert_int_equal(pv_region_create(&r, &p), PV_ECONFIG);
	p.workers = PV_SHM_MAX_WORKERS + 1;
	assert_int_equal(pv_region_create(&r, &p), PV_ECONFIG);
	p.workers = 1;
	p.slots = PV_SHM_MIN_SLOTS - 1;
	assert_int_equal(pv_region_create(&r, &p), PV_ECONFIG);
	p.slots = PV_SHM_MAX_SLOTS + 1;
	assert_int_equal(pv_region_create(&r, &p), PV_ECONFIG);
	p.slots = 3;
	p.window_sec = 0;
	assert_int_equal(pv_region_create(&r, &p), PV_ECONFIG);
	p.window_sec = 1;
	p.instance = "../etc";
	assert_int_equal(pv_region_create(&r, &p), PV_ECONFIG);

	/* Limits themselves are accepted; NULL strings become empty ones. */
	p.instance = f->inst;
	p.workers = PV_SHM_MAX_WORKERS;
	p.slots = PV_SHM_MAX_SLOTS;
	assert_int_equal(pv_region_create(&f->w, &p), PV_OK);
	assert_string_equal(f->w.hdr->sensor_id, "");
	fx_attach(f, &f->rd, PV_ATTACH_READONLY);
	assert_int_equal(f->rd.workers, PV_SHM_MAX_WORKERS);
	assert_int_equal(f->rd.slots, PV_SHM_MAX_SLOTS);
}

/* --- attach refusing bad objects --- */

static void test_attach_enoent(void **state)
{
	struct fx *f = *state;

	expect_refused(f, "missing object", -ENOENT, f->inst);
	assert_non_null(strstr(f->why, "no region"));
}

static void test_attach_short_object(void **state)
{
	struct fx *f = *state;
	size_t len;
	uint8_t *img = image_build(1, 3, &len);
	static const size_t sizes[] = {0, 1, 8, 100, PV_SHM_HDR_SIZE - 1};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		obj_write(f, img, sizes[i]);
		expect_refused(f, "short object", PV_ETRUNCATED, "shorter than");
	}
	free(img);
}

static void test_attach_foreign(void **state)
{
	struct fx *f = *state;
	size_t len;
	uint8_t *img = image_build(1, 3, &len);
	uint8_t *junk = malloc(len);
	unsigned seed = 12345;

	assert_non_null(junk);
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		junk[i] = (uint8_t)(seed >> 16);
	}
	obj_write(f, junk, len);
	expect_refused(f, "random bytes", PV_EMAGIC, "not a pvisor region");

	/* A zeroed object, as left by a crash between ftruncate and init. */
	memset(junk, 0, len);
	obj_write(f, junk, len);
	expect_refused(f, "zeroed object", PV_EMAGIC, "magic");

	/* Every field right but the magic, off by one bit. */
	((struct pv_region_hdr *)img)->magic ^= 1ull << 63;
	obj_write(f, img, len);
	expect_refused(f, "wrong magic", PV_EMAGIC, "not a pvisor region");
	free(junk);
	free(img);
}

static void test_attach_wrong_version(void **state)
{
	struct fx *f = *state;
	size_t len;
	uint8_t *img = image_build(1, 3, &len);
	static const uint32_t versions[] = {0, PV_SHM_LAYOUT_VERSION + 1, UINT32_MAX};

	/* Crafted objects, then a created region patched in place. */
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		((struct pv_region_hdr *)img)->layout_version = versions[i];
		obj_write(f, img, len);
		expect_refused(f, "other layout version", PV_EVERSION, "layout version");
	}
	free(img);
	fx_create(f, &f->w, 2, 3);
	f->w.hdr->layout_version = PV_SHM_LAYOUT_VERSION + 1;
	expect_refused(f, "patched layout version", PV_EVERSION, "version");
}

static void test_attach_bad_counts(void **state)
{
	struct fx *f = *state;
	static const struct {
		uint32_t workers, slots;
	} bad[] = {
		{0, 3},
		{PV_SHM_MAX_WORKERS + 1, 3},
		{UINT32_MAX, 3},
		{1, 0},
		{1, PV_SHM_MIN_SLOTS - 1},
		{1, PV_SHM_MAX_SLOTS + 1},
		{0, 0},
	};

	fx_create(f, &f->w, 1, 3);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f->w.hdr->workers = bad[i].workers;
		f->w.hdr->slots = bad[i].slots;
		expect_refused(f, "worker/slot count", PV_ECORRUPT, "workers");
	}
	f->w.hdr->workers = 1;
	f->w.hdr->slots = 3;

	f->w.hdr->window_sec = 0;
	expect_refused(f, "window 0 s", PV_ECORRUPT, "window");
	f->w.hdr->window_sec = 10;
	f->w.hdr->mode = PV_MODE_PCAP + 1;
	expect_refused(f, "unknown mode", PV_ECORRUPT, "mode");
	f->w.hdr->mode = PV_MODE_LIVE;
	fx_attach(f, &f->rd, PV_ATTACH_READONLY);
}

static void test_attach_geometry_fields(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
		{"shards_off", offsetof(struct pv_region_hdr, shards_off)},
		{"shard_size", offsetof(struct pv_region_hdr, shard_size)},
		{"shard_hdr_size", offsetof(struct pv_region_hdr, shard_hdr_size)},
		{"slot_size", offsetof(struct pv_region_hdr, slot_size)},
		{"metrics_size", offsetof(struct pv_region_hdr, metrics_size)},
		{"ack_off", offsetof(struct pv_region_hdr, ack_off)},
		{"ack_size", offsetof(struct pv_region_hdr, ack_size)},
		{"total_size", offsetof(struct pv_region_hdr, total_size)},
	};
	static const uint64_t deltas[] = {8, 4096, (uint64_t)-64};

	fx_create(f, &f->w, 2, 3);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		uint64_t *field = (uint64_t *)((uint8_t *)f->w.hdr + fields[i].off);
		uint64_t orig = *field;

		for (size_t d = 0; d < sizeof(deltas) / sizeof(deltas[0]); d++) {
			*field = orig + deltas[d];
			expect_refused(f, fields[i].name, PV_ESIZE, "offsets/sizes");
		}
		*field = 0;
		expect_refused(f, fields[i].name, PV_ESIZE, "offsets/sizes");
		*field = orig;
	}
	/*
	 * A header describing a bigger region (3 workers) over a 2-worker object:
	 * every offset consistent with itself, only the count is a lie.
	 */
	f->w.hdr->workers = 3;
	expect_refused(f, "workers vs geometry", PV_ESIZE, "3 workers");
	f->w.hdr->workers = 2;

	f->w.hdr->hdr_size = PV_SHM_HDR_SIZE * 2;
	expect_refused(f, "hdr_size", PV_ESIZE, "header size");
	f->w.hdr->hdr_size = PV_SHM_HDR_SIZE;
	fx_attach(f, &f->rd, PV_ATTACH_READONLY);
}

static void test_attach_object_size(void **state)
{
	struct fx *f = *state;
	size_t total;

	fx_create(f, &f->w, 2, 3);
	total = f->w.size;
	/* Truncated: the header is intact and claims more than exists. */
	obj_resize(f, total - PV_SHM_PAGE);
	expect_refused(f, "truncated object", PV_ESIZE, "bytes");
	obj_resize(f, total - 1);
	expect_refused(f, "truncated by one byte", PV_ESIZE, "bytes");
	obj_resize(f, PV_SHM_HDR_SIZE);
	expect_refused(f, "header only", PV_ESIZE, "bytes");
	/* Extended: a reader must not trust a size the header does not state. */
	obj_resize(f, total + 1);
	expect_refused(f, "extended by one byte", PV_ESIZE, "bytes");
	obj_resize(f, total + 16 * PV_SHM_PAGE);
	expect_refused(f, "extended object", PV_ESIZE, "bytes");
	obj_resize(f, total);
	fx_attach(f, &f->rd, PV_ATTACH_READONLY);
}

static void test_attach_unterminated_strings(void **state)
{
	struct fx *f = *state;

	fx_create(f, &f->w, 1, 3);
	memset(f->w.hdr->sensor_id, 'x', sizeof(f->w.hdr->sensor_id));
	expect_refused(f, "unterminated sensor_id", PV_ECORRUPT, "not terminated");
	f->w.hdr->sensor_id[sizeof(f->w.hdr->sensor_id) - 1] = '\0';
	fx_attach(f, &f->rd, PV_ATTACH_READONLY);
	pv_region_close(&f->rd);

	memset(f->w.hdr->source, 'y', sizeof(f->w.hdr->source));
	expect_refused(f, "unterminated source", PV_ECORRUPT, "not terminated");
	f->w.hdr->source[0] = '\0';
	fx_attach(f, &f->rd, PV_ATTACH_READONLY);
}

static void test_attach_bad_instance_names(void **state)
{
	struct fx *f = *state;
	char long_name[PV_INSTANCE_MAX + 1];
	const char *bad[] = {"", "../x", ".hidden", "a/b", "/abs",
			     "a b", "a\nb", "\xc3\xa9", long_name};
	struct pv_region r;

	memset(long_name, 'a', PV_INSTANCE_MAX);
	long_name[PV_INSTANCE_MAX] = '\0';
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f->why[0] = '\0';
		memset(&r, 0xa5, sizeof(r));
		if (pv_region_attach(&r, bad[i], PV_ATTACH_READONLY, f->why, sizeof(f->why)) !=
		    PV_ECONFIG)
			fail_msg("instance '%s' accepted", bad[i]);
		assert_non_null(strstr(f->why, "invalid instance name"));
		assert_null(r.base);
		assert_int_equal(pv_region_unlink(bad[i]), PV_ECONFIG);
		assert_true(pv_region_replaced(&r, bad[i]));
	}
	assert_int_equal(pv_region_attach(&r, NULL, PV_ATTACH_READONLY, f->why, sizeof(f->why)),
			 PV_ECONFIG);
	assert_int_equal(pv_instance_valid(NULL), PV_ECONFIG);

	/* 63 characters is the longest valid name: refused only for being absent. */
	long_name[PV_INSTANCE_MAX - 1] = '\0';
	assert_int_equal(pv_instance_valid(long_name), PV_OK);
	assert_int_equal(pv_region_attach(&r, long_name, PV_ATTACH_READONLY, f->why,
					  sizeof(f->why)),
			 -ENOENT);
	assert_int_equal(pv_instance_valid("a.b-c_D9"), PV_OK);
}

/* --- pv_region_validate on buffers --- */

static void test_validate_buffers(void **state)
{
	struct fx *f = *state;
	size_t len;
	uint8_t *img = image_build(2, 4, &len);
	struct pv_region_hdr *h = (struct pv_region_hdr *)img;
	char small[12];

	assert_int_equal(validate_exact(img, len, f->why, sizeof(f->why)), PV_OK);
	/* No reason buffer, or a tiny one: still no crash, still terminated. */
	assert_int_equal(validate_exact(img, 0, NULL, 0), PV_ETRUNCATED);
	memset(small, 'z', sizeof(small));
	assert_int_equal(validate_exact(img, 10, small, sizeof(small)), PV_ETRUNCATED);
	assert_non_null(memchr(small, '\0', sizeof(small)));
	assert_int_equal(validate_exact(img, 10, f->why, 0), PV_ETRUNCATED);

	assert_int_equal(validate_exact(img, sizeof(*h) - 1, f->why, sizeof(f->why)),
			 PV_ETRUNCATED);
	assert_non_null(strstr(f->why, "shorter"));
	/* A bare header (the shards cut off) is a size problem, not a crash. */
	assert_int_equal(validate_exact(img, sizeof(*h), f->why, sizeof(f->why)), PV_ESIZE);
	assert_int_equal(validate_exact(img, len - 8, f->why, sizeof(f->why)), PV_ESIZE);
	assert_non_null(strstr(f->why, "bytes"));

	h->magic = 0x4d5a;
	assert_int_equal(validate_exact(img, len, f->why, sizeof(f->why)), PV_EMAGIC);
	h->magic = PV_SHM_MAGIC;
	h->layout_version = 7;
	assert_int_equal(validate_exact(img, len, f->why, sizeof(f->why)), PV_EVERSION);
	assert_non_null(strstr(f->why, "version 7"));
	h->layout_version = PV_SHM_LAYOUT_VERSION;
	h->slots = 2;
	assert_int_equal(validate_exact(img, len, f->why, sizeof(f->why)), PV_ECORRUPT);
	h->slots = 4;
	h->ack_size += PV_SHM_PAGE;
	assert_int_equal(validate_exact(img, len, f->why, sizeof(f->why)), PV_ESIZE);
	h->ack_size -= PV_SHM_PAGE;
	memset(h->source, 'q', sizeof(h->source));
	assert_int_equal(validate_exact(img, len, f->why, sizeof(f->why)), PV_ECORRUPT);
	h->source[3] = '\0';
	assert_int_equal(validate_exact(img, len, f->why, sizeof(f->why)), PV_OK);

	/* The hand-built image and pv_region_create agree on the layout. */
	fx_create(f, &f->w, 2, 4);
	assert_int_equal(f->w.size, len);
	assert_int_equal(memcmp(&f->w.hdr->total_size, &h->total_size,
				offsetof(struct pv_region_hdr, workers) -
					offsetof(struct pv_region_hdr, total_size)),
			 0);
	assert_int_equal(validate_exact(f->w.base, f->w.size, f->why, sizeof(f->why)), PV_OK);
	free(img);
}

/* --- slot protocol --- */

static void test_slot_round_trip(void **state)
{
	struct fx *f = *state;
	struct pv_metrics *m, want, out;
	struct pv_slot *s;

	fx_create(f, &f->w, 2, 3);
	fx_attach(f, &f->rd, PV_ATTACH_READONLY);

	m = pv_slot_begin(&f->w, 1, 1000);
	assert_ptr_equal(m, &pv_region_slot(&f->w, 1, 1000 % 3)->m);
	memset(&want, 0, sizeof(want));
	for (unsigned i = 0; i < 5; i++) {
		m->packets.total++;
		m->packets.bytes_total += 300;
	}
	m->capture.ring_drops = 2;
	m->packets.reserved[6] = 77; /* the last u64 of the block travels too */
	want.packets.total = 5;
	want.packets.bytes_total = 1500;
	want.capture.ring_drops = 2;
	want.packets.reserved[6] = 77;
	pv_slot_seal(&f->w, 1, 1001);

	memset(&out, 0xff, sizeof(out));
	assert_int_equal(pv_slot_copy(&f->rd, 1, 1000, &out), PV_OK);
	assert_memory_equal(&out, &want, sizeof(want));
	s = pv_region_slot(&f->rd, 1, 1000 % 3);
	assert_int_equal(pv_load32(&s->hdr.state), PV_SLOT_SEALED);
	assert_int_equal(pv_load64(&s->hdr.seq) & 1, 0);
	assert_true(s->hdr.window_id == 1000);

	/* Shards are separate; out-of-range shards are refused. */
	assert_int_equal(pv_slot_copy(&f->rd, 0, 1000, &out), PV_ENOTFOUND);
	assert_int_equal(pv_slot_copy(&f->rd, 2, 1000, &out), PV_ENOTFOUND);
	assert_int_equal(pv_slot_copy(&f->rd, UINT32_MAX, 1000, &out), PV_ENOTFOUND);

	/* Reusing the slot starts from zero, not from the old window's counts. */
	m = pv_slot_begin(&f->w, 1, 1003);
	for (size_t i = 0; i < N_U64; i++)
		assert_true(metrics_u64(m)[i] == 0);
	m->packets.udp = 9;
	pv_slot_seal(&f->w, 1, 1004);
	assert_int_equal(pv_slot_copy(&f->rd, 1, 1003, &out), PV_OK);
	assert_true(out.packets.udp == 9 && out.packets.total == 0);
	assert_int_equal(pv_slot_copy(&f->rd, 1, 1000, &out), PV_ENOTFOUND);
}

static void test_slot_copy_writing(void **state)
{
	struct fx *f = *state;
	struct pv_metrics *m, out;
	uint64_t w = 0;

	fx_create(f, &f->w, 1, 3);
	fx_attach(f, &f->rd, PV_ATTACH_READONLY);

	/* EMPTY slot, then WRITING slot: nothing to merge yet. */
	assert_int_equal(pv_slot_copy(&f->rd, 0, 0, &out), PV_ENOTFOUND);
	assert_int_equal(pv_slot_copy_live(&f->rd, 0, &w, &out), PV_ENOTFOUND);
	m = pv_slot_begin(&f->w, 0, 42);
	m->packets.tcp = 3;
	assert_int_equal(pv_load64(&pv_region_slot(&f->rd, 0, 0)->hdr.seq) & 1, 1);
	assert_int_equal(pv_slot_copy(&f->rd, 0, 42, &out), PV_ENOTFOUND);

	/* The live view sees the open window as it moves. */
	assert_int_equal(pv_slot_copy_live(&f->rd, 0, &w, &out), PV_OK);
	assert_true(w == 42 && out.packets.tcp == 3);
	m->packets.tcp = 4;
	assert_int_equal(pv_slot_copy_live(&f->rd, 0, &w, &out), PV_OK);
	assert_true(out.packets.tcp == 4);
	assert_int_equal(pv_slot_copy_live(&f->rd, 1, &w, &out), PV_ENOTFOUND);

	pv_slot_seal(&f->w, 0, 43);
	assert_int_equal(pv_slot_copy(&f->rd, 0, 42, &out), PV_OK);
	assert_true(out.packets.tcp == 4);
	assert_int_equal(pv_slot_copy_live(&f->rd, 0, &w, &out), PV_ENOTFOUND);
}

static void test_slot_copy_other_window(void **state)
{
	struct fx *f = *state;
	struct pv_metrics out;
	const uint32_t S = 4;

	fx_create(f, &f->w, 1, S);
	fx_attach(f, &f->rd, PV_ATTACH_READONLY);
	pv_slot_begin(&f->w, 0, 10)->packets.icmp = 1;
	pv_slot_seal(&f->w, 0, 11);

	/* Same slot index (10 % 4 == 2), different window: never confused. */
	assert_int_equal(pv_slot_copy(&f->rd, 0, 10 + S, &out), PV_ENOTFOUND);
	assert_int_equal(pv_slot_copy(&f->rd, 0, 10 - S, &out), PV_ENOTFOUND);
	assert_int_equal(pv_slot_copy(&f->rd, 0, 10 + 1000 * S, &out), PV_ENOTFOUND);
	assert_int_equal(pv_slot_copy(&f->rd, 0, 11, &out), PV_ENOTFOUND);
	assert_int_equal(pv_slot_copy(&f->rd, 0, 10, &out), PV_OK);
	assert_true(out.packets.icmp == 1);
}

static void test_slot_frontier(void **state)
{
	struct fx *f = *state;
	struct pv_shard_hdr *sh;

	fx_create(f, &f->w, 2, 3);
	fx_attach(f, &f->rd, PV_ATTACH_READONLY);
	sh = pv_region_shard(&f->rd, 1);

	assert_true(pv_load64(&sh->open_window) == PV_SHM_NO_WINDOW);
	assert_true(pv_load64(&sh->frontier) == 0);
	pv_slot_begin(&f->w, 1, 500);
	assert_true(pv_load64(&sh->open_window) == 500);
	assert_true(pv_load64(&sh->frontier) == 0);
	pv_slot_seal(&f->w, 1, 501);
	assert_true(pv_load64(&sh->open_window) == PV_SHM_NO_WINDOW);
	assert_true(pv_load64(&sh->frontier) == 501);

	/* A gap (no packets for a while) moves the frontier over empty windows. */
	pv_slot_begin(&f->w, 1, 510);
	pv_slot_seal(&f->w, 1, 511);
	assert_true(pv_load64(&sh->frontier) == 511);
	/* Idle: no window open, the frontier still advances. */
	pv_slot_seal(&f->w, 1, 520);
	assert_true(pv_load64(&sh->frontier) == 520);
	assert_true(pv_load64(&sh->open_window) == PV_SHM_NO_WINDOW);
	/* Done. */
	pv_slot_seal(&f->w, 1, UINT64_MAX);
	assert_true(pv_load64(&sh->frontier) == UINT64_MAX);
	/* The other shard did not move. */
	assert_true(pv_load64(&pv_region_shard(&f->rd, 0)->frontier) == 0);
}

static void test_slot_resume(void **state)
{
	struct fx *f = *state;
	struct pv_metrics *m, *again, out;
	uint64_t w = 0, before_seq;

	fx_create(f, &f->w, 2, 3);
	fx_attach(f, &f->rd, PV_ATTACH_READONLY);

	assert_null(pv_slot_resume(&f->w, 0, &w));
	m = pv_slot_begin(&f->w, 0, 77);
	m->packets.total = 11;
	m->capture.decode_malformed = 1;
	before_seq = pv_load64(&pv_region_slot(&f->w, 0, 77 % 3)->hdr.seq);

	/* Worker dies here: no seal. Its replacement picks up the same block. */
	w = 0;
	again = pv_slot_resume(&f->w, 0, &w);
	assert_ptr_equal(again, m);
	assert_true(w == 77);
	assert_true(again->packets.total == 11 && again->capture.decode_malformed == 1);
	assert_true(pv_load64(&pv_region_slot(&f->w, 0, 77 % 3)->hdr.seq) == before_seq);
	assert_null(pv_slot_resume(&f->w, 1, &w));

	again->packets.total++;
	again->capture.crash_skipped = 1;
	pv_slot_seal(&f->w, 0, 78);
	assert_int_equal(pv_slot_copy(&f->rd, 0, 77, &out), PV_OK);
	assert_true(out.packets.total == 12 && out.capture.decode_malformed == 1 &&
		    out.capture.crash_skipped == 1);
	assert_null(pv_slot_resume(&f->w, 0, &w));

	/* open_window pointing at a slot that is not WRITING it: nothing to take. */
	pv_store64(&pv_region_shard(&f->w, 0)->open_window, 77);
	assert_null(pv_slot_resume(&f->w, 0, &w));
	pv_store64(&pv_region_shard(&f->w, 0)->open_window, 80);
	assert_null(pv_slot_resume(&f->w, 0, &w));
}

static uint64_t overwritten(struct fx *f, uint32_t shard)
{
	return pv_load64(&pv_region_shard(&f->rd, shard)->overwritten_unread);
}

static void test_overwritten_unread(void **state)
{
	struct fx *f = *state;
	const uint32_t S = 3;
	const uint64_t w0 = 9;

	fx_create(f, &f->w, 2, S);
	fx_attach(f, &f->rd, PV_ATTACH_READONLY);
	for (uint64_t w = w0; w < w0 + S; w++) {
		pv_slot_begin(&f->w, 0, w);
		pv_slot_seal(&f->w, 0, w + 1);
		assert_true(overwritten(f, 0) == 0);
	}
	/* w0 + S reuses w0's slot: w0 was sealed and never acknowledged. */
	pv_slot_begin(&f->w, 0, w0 + S);
	assert_true(overwritten(f, 0) == 1);
	pv_slot_seal(&f->w, 0, w0 + S + 1);
	pv_slot_begin(&f->w, 0, w0 + S + 1);
	assert_true(overwritten(f, 0) == 2);
	assert_true(overwritten(f, 1) == 0);
}

static void test_overwritten_acked(void **state)
{
	struct fx *f = *state;
	struct pv_region ag;
	struct pv_metrics out;
	const uint32_t S = 3;

	fx_create(f, &f->w, 1, S);
	fx_attach(f, &ag, PV_ATTACH_ACK);
	for (uint64_t w = 100; w < 100 + 4 * S; w++) {
		pv_slot_begin(&f->w, 0, w)->packets.total = w;
		pv_slot_seal(&f->w, 0, w + 1);
		assert_int_equal(pv_slot_copy(&ag, 0, w, &out), PV_OK);
		assert_true(out.packets.total == w);
		pv_slot_ack(&ag, 0, w);
	}
	assert_true(pv_load64(&pv_region_shard(&ag, 0)->overwritten_unread) == 0);

	/* An ack for a previous occupant of the slot does not cover the new one. */
	pv_slot_begin(&f->w, 0, 100 + 4 * S);
	pv_slot_seal(&f->w, 0, 101 + 4 * S);
	pv_slot_begin(&f->w, 0, 100 + 5 * S);
	assert_true(pv_load64(&pv_region_shard(&ag, 0)->overwritten_unread) == 1);
	pv_region_close(&ag);
}

static void test_overwritten_not_sealed(void **state)
{
	struct fx *f = *state;
	const uint32_t S = 3;

	fx_create(f, &f->w, 1, S);
	fx_attach(f, &f->rd, PV_ATTACH_READONLY);
	/* EMPTY slots: first use of each is free. */
	for (uint64_t w = 0; w < S; w++) {
		pv_slot_begin(&f->w, 0, w);
		assert_true(overwritten(f, 0) == 0);
		/* WRITING slot reused (a worker restarted without resuming). */
		pv_slot_begin(&f->w, 0, w + S);
		assert_true(overwritten(f, 0) == 0);
		pv_slot_begin(&f->w, 0, w + 2 * S);
		assert_true(overwritten(f, 0) == 0);
	}
}

/* --- seqlock copies against a live writer --- */

struct race {
	struct pv_region *w;
	uint32_t slots;
	uint64_t deadline_ns;
	int reader_ready; /* (atomic) */
	int done;         /* (atomic) */
	uint64_t attempts; /* (atomic) copies the reader started */
	uint64_t written;
};

static uint64_t race_value(uint64_t w)
{
	return w * 0x9e3779b97f4a7c15ull + 1;
}

static void *race_writer(void *arg)
{
	struct race *rc = arg;
	uint64_t w = 5, a0;

	while (!__atomic_load_n(&rc->reader_ready, __ATOMIC_ACQUIRE))
		;
	for (uint64_t i = 0; i < 200000; i++, w += rc->slots) {
		struct pv_metrics *m = pv_slot_begin(rc->w, 0, w);
		uint64_t v = race_value(w);
		volatile uint64_t *u = (volatile uint64_t *)m;

		for (size_t k = 0; k < N_U64; k++)
			u[k] = v;
		pv_slot_seal(rc->w, 0, w + 1);
		rc->written++;
		/*
		 * Wait (bounded) for the reader to start a copy of this window,
		 * then overwrite it under that copy: the reader gets successes
		 * and retries on any machine, not only whichever its speed allows.
		 */
		a0 = __atomic_load_n(&rc->attempts, __ATOMIC_RELAXED);
		for (int spin = 0; spin < 20000; spin++)
			if (__atomic_load_n(&rc->attempts, __ATOMIC_RELAXED) != a0)
				break;
		/* Every fourth window stays sealed long enough for a whole copy
		 * of the block (~700 KiB with the sketches), as a real window
		 * stays sealed for a window length: successes, not only retries. */
		if ((i & 3) == 0) {
			struct timespec ts = {0, 300000};
			nanosleep(&ts, NULL);
		}
		if ((i & 1023) == 0 && pv_mono_ns() > rc->deadline_ns)
			break;
	}
	__atomic_store_n(&rc->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int copy_check(const struct pv_region *rd, struct pv_slot *s, uint64_t *bad_w)
{
	struct pv_metrics out;
	uint64_t w = __atomic_load_n(&s->hdr.window_id, __ATOMIC_RELAXED);
	int rc = pv_slot_copy(rd, 0, w, &out);

	if (rc == PV_OK) {
		for (size_t k = 0; k < N_U64; k++) {
			if (metrics_u64(&out)[k] != race_value(w)) {
				*bad_w = w;
				return 1;
			}
		}
	}
	return rc;
}

static void test_copy_concurrent(void **state)
{
	struct fx *f = *state;
	struct race rc = {.w = &f->w, .slots = 3};
	struct pv_slot *s;
	pthread_t th;
	uint64_t ok = 0, again = 0, notfound = 0, bad = 0, bad_w = 0, tries = 0;
	int r;

	fx_create(f, &f->w, 1, rc.slots);
	fx_attach(f, &f->rd, PV_ATTACH_READONLY);
	s = pv_region_slot(&f->rd, 0, 5 % rc.slots);
	rc.deadline_ns = pv_mono_ns() + 3000000000ull;
	assert_int_equal(pthread_create(&th, NULL, race_writer, &rc), 0);
	__atomic_store_n(&rc.reader_ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&rc.done, __ATOMIC_ACQUIRE) && pv_mono_ns() < rc.deadline_ns) {
		__atomic_store_n(&rc.attempts, ++tries, __ATOMIC_RELAXED);
		r = copy_check(&f->rd, s, &bad_w);
		if (r == PV_OK)
			ok++;
		else if (r == PV_EAGAIN)
			again++;
		else if (r == PV_ENOTFOUND)
			notfound++;
		else
			bad++;
	}
	assert_int_equal(pthread_join(th, NULL), 0);
	print_message("[          ] %llu windows written; copies: %llu ok, %llu retry, "
		      "%llu not sealed, %llu inconsistent\n",
		      (unsigned long long)rc.written, (unsigned long long)ok,
		      (unsigned long long)again, (unsigned long long)notfound,
		      (unsigned long long)bad);
	if (bad)
		fail_msg("%llu torn copies returned as OK (last window %llu)",
			 (unsigned long long)bad, (unsigned long long)bad_w);
	assert_true(rc.written >= 1);
	assert_true(ok >= 1);
	/* The writer is gone: the last window is sealed and must copy cleanly. */
	assert_int_equal(copy_check(&f->rd, s, &bad_w), PV_OK);
}

/* --- merge --- */

static void test_metrics_merge(void **state)
{
	/* ~1 MiB each with the sketches: not on the stack. */
	struct pv_metrics *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	uint64_t *ca = (uint64_t *)&a->capture, *cb = (uint64_t *)&b->capture;
	uint64_t *pa = (uint64_t *)&a->packets, *pb = (uint64_t *)&b->packets;
	size_t nc = sizeof(a->capture) / 8, np = sizeof(a->packets) / 8;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	pv_metrics_init(a, 1);
	pv_metrics_init(b, 2);
	/* Every counter of both counter blocks sums. */
	for (size_t i = 0; i < nc; i++) {
		ca[i] = i * 1000 + 1;
		cb[i] = i + 7;
	}
	for (size_t i = 0; i < np; i++) {
		pa[i] = i * 1000 + 1;
		pb[i] = i + 7;
	}
	/* Per-second arrays sum too; the second range is the union. */
	a->secs.first_sec = 100;
	a->secs.last_sec = 101;
	b->secs.first_sec = 99;
	b->secs.last_sec = 100;
	a->secs.v[PV_RATE_PPS_TOTAL][1] = 5;
	b->secs.v[PV_RATE_PPS_TOTAL][1] = 6;
	assert_int_equal(pv_metrics_check(a), PV_OK);
	assert_int_equal(pv_metrics_merge(a, b), PV_OK);
	for (size_t i = 0; i < nc; i++)
		assert_true(ca[i] == i * 1001 + 8);
	for (size_t i = 0; i < np; i++)
		assert_true(pa[i] == i * 1001 + 8);
	assert_true(a->secs.v[PV_RATE_PPS_TOTAL][1] == 11);
	assert_true(a->secs.first_sec == 99 && a->secs.last_sec == 101);
	/* b is an input only. */
	for (size_t i = 0; i < np; i++)
		assert_true(pb[i] == i + 7);

	/* Counters wrap modulo 2^64 like the per-worker counters they sum. */
	a->packets.total = UINT64_MAX;
	b->packets.total = 2;
	assert_int_equal(pv_metrics_merge(a, b), PV_OK);
	assert_true(a->packets.total == 1);

	/* A block whose sketch images are not in place fails its check and
	 * does not merge. */
	memset(&b->psk, 0, sizeof(b->psk));
	assert_int_not_equal(pv_metrics_check(b), PV_OK);
	free(a);
	free(b);
}

/* --- replacement --- */

static void test_region_replaced(void **state)
{
	struct fx *f = *state;

	fx_create(f, &f->w, 1, 3);
	fx_attach(f, &f->rd, PV_ATTACH_READONLY);
	assert_false(pv_region_replaced(&f->rd, f->inst));
	assert_false(pv_region_replaced(&f->w, f->inst));

	assert_int_equal(pv_region_unlink(f->inst), PV_OK);
	assert_true(pv_region_replaced(&f->rd, f->inst));
	assert_int_equal(pv_region_unlink(f->inst), -ENOENT);

	/* The sensor restarts: a new object under the same name. */
	fx_create(f, &f->w2, 1, 3);
	assert_true(pv_region_replaced(&f->rd, f->inst));
	assert_true(pv_region_replaced(&f->w, f->inst));
	assert_false(pv_region_replaced(&f->w2, f->inst));
	/* The old mapping still reads the old object. */
	assert_true(f->rd.hdr->config_gen == f->w.hdr->config_gen);
	pv_region_close(&f->rd);
	fx_attach(f, &f->rd, PV_ATTACH_READONLY);
	assert_false(pv_region_replaced(&f->rd, f->inst));
	assert_true(f->rd.hdr->config_gen == f->w2.hdr->config_gen);
}

/* --- robustness of the handle --- */

/*
 * PV_ATTACH_READONLY promises "no ack writes" and pv_slot_ack() guards on
 * r->ack, but a read-only handle's ack points into its PROT_READ mapping:
 * acking through it must be a no-op, not a SIGSEGV. Run in a child so a
 * crash is reported as a failure instead of taking the test binary down.
 */
static void test_ack_readonly_handle(void **state)
{
	struct fx *f = *state;
	pid_t pid;
	int st = 0;

	fx_create(f, &f->w, 1, 3);
	fx_attach(f, &f->rd, PV_ATTACH_READONLY);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka's handlers would resume the test runner in the child. */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		pv_slot_ack(&f->rd, 0, 3);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		fail_msg("pv_slot_ack on a read-only handle killed the process (signal %d)",
			 WTERMSIG(st));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(pv_load64(pv_region_ack_word(&f->w, 0, 0)) == PV_SHM_NO_WINDOW);
}

struct flip {
	uint32_t *workers;
	int stop; /* (atomic) */
};

static void *flipper(void *arg)
{
	struct flip *fl = arg;

	while (!__atomic_load_n(&fl->stop, __ATOMIC_RELAXED)) {
		__atomic_store_n(fl->workers, 2, __ATOMIC_RELAXED);
		__atomic_store_n(fl->workers, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * The handle must describe what was validated even if the header changes
 * under the reader (a compromised or buggy worker owns a writable mapping):
 * attach may fail, but a handle it returns must never claim more shards
 * than the object it validated holds.
 */
static void test_attach_header_race(void **state)
{
	struct fx *f = *state;
	struct flip fl;
	pthread_t th;
	uint64_t deadline = pv_mono_ns() + 2000000000ull;
	unsigned attached = 0, refused = 0, inconsistent = 0, tries;

	fx_create(f, &f->w, 1, 3);
	fl.workers = &f->w.hdr->workers;
	fl.stop = 0;
	assert_int_equal(pthread_create(&th, NULL, flipper, &fl), 0);
	for (tries = 0; tries < 100000 && pv_mono_ns() < deadline; tries++) {
		struct pv_region r;

		if (pv_region_attach(&r, f->inst, PV_ATTACH_READONLY, NULL, 0) != PV_OK) {
			refused++;
			continue;
		}
		attached++;
		if (pv_shm_geometry(r.workers, r.slots).total_size == r.size) {
			pv_region_close(&r);
			continue;
		}
		/*
		 * pv_region_close() would trust r.ack, which such a handle places
		 * past the mapping, and unmap a page that is not its own.
		 */
		inconsistent++;
		munmap(r.base, r.size);
	}
	__atomic_store_n(&fl.stop, 1, __ATOMIC_RELAXED);
	assert_int_equal(pthread_join(th, NULL), 0);
	f->w.hdr->workers = 1;
	print_message("[          ] %u attaches: %u ok, %u refused, %u inconsistent\n", tries,
		      attached, refused, inconsistent);
	if (inconsistent)
		fail_msg("%u handles claim a geometry bigger than the validated object",
			 inconsistent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_create_attach_readonly),
		T(test_create_attach_ack),
		T(test_create_rejects_params),
		T(test_attach_enoent),
		T(test_attach_short_object),
		T(test_attach_foreign),
		T(test_attach_wrong_version),
		T(test_attach_bad_counts),
		T(test_attach_geometry_fields),
		T(test_attach_object_size),
		T(test_attach_unterminated_strings),
		T(test_attach_bad_instance_names),
		T(test_validate_buffers),
		T(test_slot_round_trip),
		T(test_slot_copy_writing),
		T(test_slot_copy_other_window),
		T(test_slot_frontier),
		T(test_slot_resume),
		T(test_overwritten_unread),
		T(test_overwritten_acked),
		T(test_overwritten_not_sealed),
		T(test_copy_concurrent),
		T(test_metrics_merge),
		T(test_region_replaced),
		T(test_ack_readonly_handle),
		T(test_attach_header_race),
#undef T
	};

	return cmocka_run_group_tests_name("shm", tests, NULL, NULL);
}
