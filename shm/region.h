/*
 * The shared-memory region: create (sensor supervisor), attach with full
 * validation (aggregator, pvctl, tests), and the slot protocol between one
 * writer per shard and the reader.
 *
 * Ownership: a struct pv_region is a process-local handle; the mapping it
 * holds is released by pv_region_close(). The region object itself
 * (/dev/shm/pvisor-<instance>) outlives every process: the sensor leaves it
 * in place on exit so a late aggregator can still read the last windows; the
 * next sensor start replaces it (new config_gen), and pv_region_unlink()
 * removes it.
 *
 * Slot protocol (one writer per shard, any number of readers):
 *   writer: pv_slot_begin(w) -> count into the returned metrics -> pv_slot_seal()
 *   reader: pv_slot_copy(w) -> merge the copy -> pv_slot_ack(w)
 * pv_slot_begin() reusing a SEALED slot whose window was never acknowledged
 * counts it in the shard's overwritten_unread: loss is never silent.
 * pv_slot_copy() re-reads the slot's sequence after copying, so a slot reused
 * during the copy is reported (PV_EAGAIN), never merged.
 */
#ifndef PV_SHM_REGION_H
#define PV_SHM_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shm/layout.h"

#define PV_INSTANCE_MAX 64

struct pv_region {
	uint8_t *base;   /* whole region; PROT_READ for readers */
	size_t size;
	uint8_t *ack;    /* ack area mapping (writable for the aggregator) */
	size_t ack_size;
	struct pv_region_hdr *hdr;
	uint32_t workers, slots; /* validated copies: never re-read from shm */
	uint64_t shard_size, slot_size, shard_hdr_size;
	uint64_t ino;    /* inode of the object, to notice replacement */
	bool writer;
	bool ack_rw;     /* ack is its own writable mapping (PV_ATTACH_ACK) */
};

struct pv_region_params {
	const char *instance;
	const char *sensor_id;
	const char *source;
	uint32_t workers;
	uint32_t slots;
	uint32_t window_sec;
	uint32_t mode;       /* enum pv_region_mode */
	uid_t owner_uid;     /* chown to this (-1: leave) */
	gid_t owner_gid;
};

enum pv_attach_flags {
	PV_ATTACH_READONLY = 0,   /* header and shards read-only, no ack writes */
	PV_ATTACH_ACK = 1,        /* also map the ack area writable (aggregator) */
};

/* Object name for an instance ("/pvisor-<instance>"). Instance names are
 * [A-Za-z0-9_.-]{1,63} (not starting with '.'); returns PV_ECONFIG otherwise. */
int pv_region_name(const char *instance, char *buf, size_t len);
int pv_instance_valid(const char *instance);

/* Replaces any existing object of that name, sizes, maps read-write and
 * initialises it (state STARTING). */
int pv_region_create(struct pv_region *r, const struct pv_region_params *p);

/* Opens and validates. On failure, writes a human-readable reason into
 * why (if non-NULL) and returns a pv_err; r is left closed. */
int pv_region_attach(struct pv_region *r, const char *instance, int flags, char *why,
		     size_t why_len);

/* Validates a region image of len bytes in memory (what attach runs on the
 * mapping). Never reads outside [base, base+len). */
int pv_region_validate(const void *base, size_t len, char *why, size_t why_len);

void pv_region_close(struct pv_region *r);
int pv_region_unlink(const char *instance);

/* True if the object behind instance is no longer the one r maps (the
 * sensor restarted and replaced it) or is gone. */
bool pv_region_replaced(const struct pv_region *r, const char *instance);

static inline struct pv_shard_hdr *pv_region_shard(const struct pv_region *r, uint32_t shard)
{
	return (struct pv_shard_hdr *)(r->base + PV_SHM_HDR_SIZE + (uint64_t)shard * r->shard_size);
}

static inline struct pv_slot *pv_region_slot(const struct pv_region *r, uint32_t shard,
					     uint32_t slot)
{
	return (struct pv_slot *)((uint8_t *)pv_region_shard(r, shard) + r->shard_hdr_size +
				  (uint64_t)slot * r->slot_size);
}

static inline struct pv_ack_hdr *pv_region_ack_hdr(const struct pv_region *r)
{
	return (struct pv_ack_hdr *)r->ack;
}

static inline uint64_t *pv_region_ack_word(const struct pv_region *r, uint32_t shard,
					   uint32_t slot)
{
	return (uint64_t *)(r->ack + sizeof(struct pv_ack_hdr)) + (uint64_t)shard * r->slots + slot;
}

/* --- writer side (the worker owning shard) --- */

/* Opens window_id in slot window_id % slots: counts an overwrite if the slot
 * holds a sealed, unacknowledged window, zeroes the metrics, marks WRITING,
 * and publishes open_window. Returns the metrics block to count into. */
struct pv_metrics *pv_slot_begin(struct pv_region *r, uint32_t shard, uint64_t window_id);

/* Seals the shard's open window (release) and advances frontier to next
 * (the next window the worker will write, or UINT64_MAX when done). */
void pv_slot_seal(struct pv_region *r, uint32_t shard, uint64_t next_frontier);

/* After a crash the restarted worker takes the open window back, if any:
 * returns its metrics block (counts so far kept) or NULL. */
struct pv_metrics *pv_slot_resume(struct pv_region *r, uint32_t shard, uint64_t *window_id);

/* --- reader side --- */

/* Copies the sealed metrics of window_id from shard into out. Returns 0,
 * PV_ENOTFOUND (slot not sealed or holds another window) or PV_EAGAIN
 * (slot changed during the copy). */
int pv_slot_copy(const struct pv_region *r, uint32_t shard, uint64_t window_id,
		 struct pv_metrics *out);

/* Best-effort copy of the open (WRITING) window; numbers may move. Returns
 * 0 or PV_ENOTFOUND. */
int pv_slot_copy_live(const struct pv_region *r, uint32_t shard, uint64_t *window_id,
		      struct pv_metrics *out);

/* Records that window_id of shard has been merged (needs PV_ATTACH_ACK). */
void pv_slot_ack(struct pv_region *r, uint32_t shard, uint64_t window_id);

/* Atomic accessors for the fields marked (atomic) in layout.h. */
static inline uint64_t pv_load64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void pv_store64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static inline uint32_t pv_load32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void pv_store32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

#endif
