/*
 * HyperLogLog in caller-provided memory: init, estimate (Ertl's improved raw
 * estimator), merge (register max) and validation of untrusted images. The
 * layout and the rationale are in shm/hll.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "shm/hll.h"

/* Highest valid register value: q + 1 with q = 64 - p. */
static unsigned reg_max(unsigned p)
{
	return 64u - p + 1u;
}

size_t pv_hll_size(uint8_t precision)
{
	if (precision < PV_HLL_MIN_PRECISION || precision > PV_HLL_MAX_PRECISION)
		return 0;
	return PV_HLL_SIZE(precision);
}

void pv_hll_init(void *mem, uint8_t precision)
{
	struct pv_hll_hdr *h = mem;
	size_t size = pv_hll_size(precision);

	if (!size) {
		fprintf(stderr, "pv_hll_init: precision %u outside %u..%u\n", precision,
			PV_HLL_MIN_PRECISION, PV_HLL_MAX_PRECISION);
		abort();
	}
	/* Every byte, padding included, so images compare with memcmp. */
	memset(mem, 0, size);
	h->magic = PV_HLL_MAGIC;
	h->version = PV_HLL_VERSION;
	h->precision = precision;
	h->nregs = 1u << precision;
}

uint8_t pv_hll_precision(const void *h)
{
	return ((const struct pv_hll_hdr *)h)->precision;
}

/*
 * sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1), for x = C_0/m, the share of
 * empty registers; +inf at x = 1 makes the estimate of an empty sketch 0.
 * The loop stops when the sum no longer changes in double precision, which
 * happens after ~log2(m) + 60 rounds at worst (x = 1 - 1/m).
 */
static double ertl_sigma(double x)
{
	double y = 1.0, z = x, zp;

	if (x == 1.0)
		return INFINITY;
	do {
		x *= x;
		zp = z;
		z += x * y;
		y += y;
	} while (z != zp);
	return z;
}

/*
 * tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3, for x = 1 - C_{q+1}/m:
 * the correction for saturated registers, 0 unless cardinalities approach
 * 2^64 / m.
 */
static double ertl_tau(double x)
{
	double y = 1.0, z, zp;

	if (x == 0.0 || x == 1.0)
		return 0.0;
	z = 1.0 - x;
	do {
		x = sqrt(x);
		zp = z;
		y *= 0.5;
		z -= (1.0 - x) * (1.0 - x) * y;
	} while (z != zp);
	return z / 3.0;
}

uint64_t pv_hll_estimate(const void *h)
{
	const struct pv_hll_hdr *hdr = h;
	const uint8_t *reg = (const uint8_t *)h + PV_HLL_HDR_SIZE;
	const unsigned p = hdr->precision, q = 64u - p;
	const uint32_t m = 1u << p;
	uint32_t part[4][64] = {{0}}, hist[64]; /* values 0..q+1, q <= 60 */
	double z, mm = (double)m, est;

	/* Four partial histograms: registers of a small or uniform sketch all
	 * hold the same value, and one counter would serialise every
	 * increment through store forwarding. m is a multiple of 16. */
	for (uint32_t i = 0; i < m; i += 4)
		for (unsigned j = 0; j < 4; j++) {
			unsigned r = reg[i + j];

			part[j][r <= q + 1 ? r : q + 1]++;
		}
	for (unsigned k = 0; k < 64; k++)
		hist[k] = part[0][k] + part[1][k] + part[2][k] + part[3][k];
	/* Algorithm 6 of Ertl (2017); alpha_inf = 1 / (2 ln 2). */
	z = mm * ertl_tau(1.0 - (double)hist[q + 1] / mm);
	for (unsigned k = q; k >= 1; k--)
		z = 0.5 * (z + (double)hist[k]);
	z += mm * ertl_sigma((double)hist[0] / mm);
	est = (mm * mm / (2.0 * M_LN2)) / z;
	/* Cannot exceed 2^64 with valid registers; the guard is for the
	 * conversion's sake only. */
	if (!(est < 18446744073709551615.0))
		return UINT64_MAX;
	return (uint64_t)(est + 0.5);
}

/*
 * Blocks of 16 with restrict: the shape the compiler turns into pmaxub at
 * -O2 (a loop of unknown length over maybe-aliased bytes stays scalar, 10x
 * slower). m is a multiple of 16 for every valid precision.
 */
static void max_bytes(uint8_t *restrict d, const uint8_t *restrict s, size_t m)
{
	for (; m >= 16; m -= 16, d += 16, s += 16)
		for (unsigned j = 0; j < 16; j++)
			d[j] = s[j] > d[j] ? s[j] : d[j];
}

int pv_hll_merge(void *dst, const void *src)
{
	const struct pv_hll_hdr *d = dst, *s = src;

	if (d->precision != s->precision || d->nregs != s->nregs)
		return PV_ECONFIG;
	if (dst == src) /* max(x, x) = x; and restrict below needs distinct */
		return PV_OK;
	max_bytes((uint8_t *)dst + PV_HLL_HDR_SIZE, (const uint8_t *)src + PV_HLL_HDR_SIZE,
		  d->nregs);
	return PV_OK;
}

int pv_hll_check(const void *mem, size_t len)
{
	struct pv_hll_hdr h;
	const uint8_t *reg = (const uint8_t *)mem + PV_HLL_HDR_SIZE;
	uint8_t lane[16] = {0}, worst = 0;

	if (len < sizeof(h))
		return PV_ESIZE;
	memcpy(&h, mem, sizeof(h));
	if (h.magic != PV_HLL_MAGIC)
		return PV_EMAGIC;
	if (h.version != PV_HLL_VERSION)
		return PV_EVERSION;
	if (h.precision < PV_HLL_MIN_PRECISION || h.precision > PV_HLL_MAX_PRECISION)
		return PV_ECORRUPT;
	if (len != PV_HLL_SIZE(h.precision))
		return PV_ESIZE;
	if (h.nregs != (1u << h.precision) || h.reserved != 0 || h.reserved2 != 0)
		return PV_ECORRUPT;
	/* The max over all registers, without an early exit, 16 lanes wide
	 * so it vectorises: about a microsecond at p = 14. */
	for (uint32_t i = 0; i < h.nregs; i += 16)
		for (unsigned j = 0; j < 16; j++)
			lane[j] = reg[i + j] > lane[j] ? reg[i + j] : lane[j];
	for (unsigned j = 0; j < 16; j++)
		worst = lane[j] > worst ? lane[j] : worst;
	if (worst > reg_max(h.precision))
		return PV_ECORRUPT;
	return PV_OK;
}
