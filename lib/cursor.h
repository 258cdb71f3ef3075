/*
 * A bounds-checked read cursor with a sticky error (after Knot's wire_ctx):
 * reads past the end set err = PV_ETRUNCATED and return 0; every read after
 * an error is a no-op returning 0, so a parser checks c->err once at the end
 * of a step. Multi-byte reads are big endian (network order) and tolerate any
 * alignment. Header-only: used on the per-packet path.
 */
#ifndef PV_CURSOR_H
#define PV_CURSOR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/err.h"

struct pv_cursor {
	const uint8_t *base;
	const uint8_t *pos;
	const uint8_t *end;
	int err;
};

static inline void pv_cur_init(struct pv_cursor *c, const uint8_t *p, size_t len)
{
	c->base = p;
	c->pos = p;
	c->end = p + len;
	c->err = PV_OK;
}

static inline size_t pv_cur_left(const struct pv_cursor *c)
{
	return c->err ? 0 : (size_t)(c->end - c->pos);
}

static inline size_t pv_cur_offset(const struct pv_cursor *c)
{
	return (size_t)(c->pos - c->base);
}

static inline int pv_cur_need(struct pv_cursor *c, size_t n)
{
	if (c->err)
		return 0;
	if ((size_t)(c->end - c->pos) < n) {
		c->err = PV_ETRUNCATED;
		return 0;
	}
	return 1;
}

static inline uint8_t pv_cur_u8(struct pv_cursor *c)
{
	if (!pv_cur_need(c, 1))
		return 0;
	return *c->pos++;
}

static inline uint16_t pv_cur_u16(struct pv_cursor *c)
{
	uint16_t v;

	if (!pv_cur_need(c, 2))
		return 0;
	v = (uint16_t)((uint16_t)c->pos[0] << 8 | c->pos[1]);
	c->pos += 2;
	return v;
}

static inline uint32_t pv_cur_u32(struct pv_cursor *c)
{
	uint32_t v;

	if (!pv_cur_need(c, 4))
		return 0;
	v = (uint32_t)c->pos[0] << 24 | (uint32_t)c->pos[1] << 16 | (uint32_t)c->pos[2] << 8 |
	    c->pos[3];
	c->pos += 4;
	return v;
}

/* Unchecked big-endian loads for fields inside a range a successful
 * pv_cur_need() has just vouched for: one length check per header instead
 * of one per field on the per-packet path. */
static inline uint16_t pv_rd16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

/* Advances past bytes pv_cur_need() has checked. */
static inline void pv_cur_advance(struct pv_cursor *c, size_t n)
{
	c->pos += n;
}

/* Little-endian 16/32 for the few host-order link headers (BSD NULL). */
static inline uint32_t pv_cur_u32le(struct pv_cursor *c)
{
	uint32_t v;

	if (!pv_cur_need(c, 4))
		return 0;
	v = (uint32_t)c->pos[3] << 24 | (uint32_t)c->pos[2] << 16 | (uint32_t)c->pos[1] << 8 |
	    c->pos[0];
	c->pos += 4;
	return v;
}

static inline void pv_cur_skip(struct pv_cursor *c, size_t n)
{
	if (pv_cur_need(c, n))
		c->pos += n;
}

/* Copies n bytes out; on a short read leaves dst untouched. */
static inline void pv_cur_copy(struct pv_cursor *c, void *dst, size_t n)
{
	const uint8_t *s = c->pos;

	if (!pv_cur_need(c, n))
		return;
	memcpy(dst, s, n);
	c->pos += n;
}

/* Narrows the readable end to pos + n if that is shorter (declared length
 * smaller than what was captured). Never extends. */
static inline void pv_cur_limit(struct pv_cursor *c, size_t n)
{
	if (!c->err && (size_t)(c->end - c->pos) > n)
		c->end = c->pos + n;
}

#endif
