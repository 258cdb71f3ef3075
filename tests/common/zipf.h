/*
 * Test streams shared by the top-K tests and benchmarks: a splitmix64
 * generator and Zipf-distributed ranks by rejection-inversion (Hormann and
 * Derflinger 1996). Header-only, one generator state per program (tests are
 * single-threaded where they draw).
 */
#ifndef PV_TESTS_ZIPF_H
#define PV_TESTS_ZIPF_H

#include <math.h>
#include <stdint.h>

static uint64_t rng_state;

static inline uint64_t rng_next(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline double rng_unit(void)
{
	return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

/*
 * Zipf sampler by rejection-inversion (Hormann and Derflinger 1996): O(1)
 * per draw with no table, so 10^6-key universes cost nothing to set up.
 */
struct zipf {
	double s, hx1, hn, sdiv;
	uint32_t n;
};

static inline double zh1(double x)
{
	return fabs(x) > 1e-8 ? log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

static inline double zh2(double x)
{
	return fabs(x) > 1e-8 ? expm1(x) / x : 1 + x * 0.5 * (1 + x * (1.0 / 3) * (1 + 0.25 * x));
}

static inline double zhint(const struct zipf *z, double x)
{
	double lx = log(x);

	return zh2((1 - z->s) * lx) * lx;
}

static inline double zh(const struct zipf *z, double x)
{
	return exp(-z->s * log(x));
}

static inline double zhinv(const struct zipf *z, double x)
{
	double t = x * (1 - z->s);

	if (t < -1)
		t = -1;
	return exp(zh1(t) * x);
}

static inline void zipf_init(struct zipf *z, uint32_t n, double s)
{
	z->s = s;
	z->n = n;
	z->hx1 = zhint(z, 1.5) - 1;
	z->hn = zhint(z, n + 0.5);
	z->sdiv = 2 - zhinv(z, zhint(z, 2.5) - zh(z, 2));
}

/* A rank in [0, n): 0 is the most frequent. */
static inline uint32_t zipf_draw(const struct zipf *z)
{
	for (;;) {
		double u = z->hn + rng_unit() * (z->hx1 - z->hn);
		double x = zhinv(z, u);
		double k = floor(x + 0.5);

		if (k < 1)
			k = 1;
		else if (k > z->n)
			k = z->n;
		if (k - x <= z->sdiv || u >= zhint(z, k + 0.5) - zh(z, k))
			return (uint32_t)k - 1;
	}
}

#endif
