/*
 * libFuzzer target for the reader side of the region contract: the input is
 * a region image as pvaggregator would find it in /dev/shm. It must get
 * through pv_region_validate() without reading outside the image, and when
 * validation passes, a read-only handle built from the validated geometry
 * (as attach builds it) must let pv_slot_copy() and pv_slot_copy_live() walk
 * every shard and slot, whatever the slot headers say, without leaving the
 * image either. The last byte of the header's reserved area is a flag byte
 * (validation ignores it, so a dumped region is a seed as is): its bits let
 * the fuzzer skip the magic, version and geometry checks and get the image
 * length right, so most executions reach the slot code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "shm/layout.h"
#include "shm/metrics.h"
#include "shm/region.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FLAG_OFF (PV_SHM_HDR_SIZE - 1)

enum {
	FL_MAGIC = 1 << 0,    /* set a valid magic */
	FL_VERSION = 1 << 1,  /* set the layout version */
	FL_GEOMETRY = 1 << 2, /* derive every size/offset from workers x slots */
	FL_LENGTH = 1 << 3,   /* cut or zero-pad the image to its total_size */
	FL_WRITER = 1 << 4,   /* also run the restarted-worker path on the copy */
	FL_SHORT_WHY = 1 << 5 /* a reason buffer too small for any message */
};

static int counts_ok(uint32_t workers, uint32_t slots)
{
	return workers >= 1 && workers <= PV_SHM_MAX_WORKERS && slots >= PV_SHM_MIN_SLOTS &&
	       slots <= PV_SHM_MAX_SLOTS;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The image length to validate: the input's, unless FL_LENGTH asks for the
 * one the header (or its counts) describes and that is a sane size. */
static size_t image_len(const uint8_t *data, size_t size, uint8_t flags)
{
	uint64_t max = pv_shm_geometry(PV_SHM_MAX_WORKERS, PV_SHM_MAX_SLOTS).total_size;
	uint32_t workers = rd32(data + offsetof(struct pv_region_hdr, workers));
	uint32_t slots = rd32(data + offsetof(struct pv_region_hdr, slots));
	uint64_t want = rd64(data + offsetof(struct pv_region_hdr, total_size));

	if (!(flags & FL_LENGTH))
		return size;
	if ((flags & FL_GEOMETRY) && counts_ok(workers, slots))
		want = pv_shm_geometry(workers, slots).total_size;
	if (want < sizeof(struct pv_region_hdr) || want > max)
		return size;
	return (size_t)want;
}

static void patch(uint8_t *img, uint8_t flags)
{
	struct pv_region_hdr *h = (struct pv_region_hdr *)img;

	if (flags & FL_MAGIC)
		h->magic = PV_SHM_MAGIC;
	if (flags & FL_VERSION)
		h->layout_version = PV_SHM_LAYOUT_VERSION;
	if ((flags & FL_GEOMETRY) && counts_ok(h->workers, h->slots)) {
		struct pv_shm_geometry g = pv_shm_geometry(h->workers, h->slots);

		h->hdr_size = PV_SHM_HDR_SIZE;
		h->shards_off = g.shards_off;
		h->shard_size = g.shard_size;
		h->shard_hdr_size = g.shard_hdr_size;
		h->slot_size = g.slot_size;
		h->metrics_size = g.metrics_size;
		h->ack_off = g.ack_off;
		h->ack_size = g.ack_size;
		h->total_size = g.total_size;
	}
}

/* What pv_region_attach() does with a validated mapping, minus the mmap. */
static void handle_from_image(struct pv_region *r, uint8_t *img, size_t len)
{
	const struct pv_region_hdr *h = (const struct pv_region_hdr *)img;
	struct pv_shm_geometry g = pv_shm_geometry(h->workers, h->slots);

	memset(r, 0, sizeof(*r));
	r->base = img;
	r->size = len;
	r->hdr = (struct pv_region_hdr *)img;
	r->workers = h->workers;
	r->slots = h->slots;
	r->shard_size = g.shard_size;
	r->slot_size = g.slot_size;
	r->shard_hdr_size = g.shard_hdr_size;
	r->ack = img + g.ack_off;
	r->ack_size = g.ack_size;
}

static void read_all(const struct pv_region *r)
{
	struct pv_metrics out, sum;
	uint64_t w;
	volatile uint64_t sink;

	memset(&sum, 0, sizeof(sum));
	sink = (uint64_t)pv_region_ack_hdr(r)->aggregator_pid;
	for (uint32_t i = 0; i < r->workers; i++) {
		const struct pv_shard_hdr *sh = pv_region_shard(r, i);

		sink = pv_load64(&sh->frontier) ^ pv_load64(&sh->overwritten_unread);
		for (uint32_t s = 0; s < r->slots; s++) {
			const struct pv_slot *sl = pv_region_slot(r, i, s);
			uint64_t acked = pv_load64(pv_region_ack_word(r, i, s));

			w = sl->hdr.window_id;
			if (pv_slot_copy(r, i, w, &out) == PV_OK)
				pv_metrics_merge(&sum, &out);
			/* Ids the slot does not hold, some mapping elsewhere. */
			(void)pv_slot_copy(r, i, w + 1, &out);
			(void)pv_slot_copy(r, i, acked, &out);
			(void)pv_slot_copy(r, i, pv_load64(&sh->open_window), &out);
		}
		if (pv_slot_copy_live(r, i, &w, &out) == PV_OK)
			pv_metrics_merge(&sum, &out);
	}
	/* Shards past the validated count are refused, never indexed. */
	if (pv_slot_copy(r, r->workers, 0, &out) != PV_ENOTFOUND ||
	    pv_slot_copy_live(r, r->workers, &w, &out) != PV_ENOTFOUND)
		abort();
	sink = sum.packets.total;
	(void)sink;
}

/* A restarted worker trusts open_window from the image: it must stay inside. */
static void run_writer(struct pv_region *r)
{
	struct pv_metrics out;

	r->writer = true;
	for (uint32_t i = 0; i < r->workers; i++) {
		uint64_t w = 0;
		struct pv_metrics *m = pv_slot_resume(r, i, &w);

		if (m) {
			m->packets.total++;
			pv_slot_seal(r, i, w + 1);
			if (pv_slot_copy(r, i, w, &out) != PV_OK)
				abort();
		}
		w = pv_load64(&pv_region_shard(r, i)->frontier);
		if (w == PV_SHM_NO_WINDOW)
			w = 0;
		m = pv_slot_begin(r, i, w);
		m->packets.udp = 1;
		pv_slot_seal(r, i, w + 1);
		if (pv_slot_copy(r, i, w, &out) != PV_OK || out.packets.udp != 1)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	size_t why_len = sizeof(why);
	struct pv_region r;
	uint8_t *img;
	size_t len;
	uint8_t flags;
	int rc;

	if (size < sizeof(struct pv_region_hdr)) {
		/* Exactly size bytes, so ASan flags any read past them. */
		img = malloc(size ? size : 1);
		if (!img)
			return 0;
		memcpy(img, data, size);
		if (pv_region_validate(img, size, why, why_len) != PV_ETRUNCATED)
			abort();
		free(img);
		return 0;
	}
	flags = data[FLAG_OFF];
	len = image_len(data, size, flags);
	/* malloc: 16-byte aligned, as a mapping is page aligned; no slack past len. */
	img = malloc(len);
	if (!img)
		return 0;
	memcpy(img, data, len < size ? len : size);
	if (len > size)
		memset(img + size, 0, len - size);
	patch(img, flags);
	if (flags & FL_SHORT_WHY)
		why_len = 4;
	memset(why, 'x', sizeof(why));
	rc = pv_region_validate(img, len, why, why_len);
	if (rc != PV_OK) {
		if (!memchr(why, '\0', why_len) || why[0] == '\0')
			abort();
		free(img);
		return 0;
	}
	handle_from_image(&r, img, len);
	read_all(&r);
	if (flags & FL_WRITER)
		run_writer(&r);
	free(img);
	return 0;
}
