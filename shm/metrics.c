#include "shm/metrics.h"

/* Both blocks are arrays of u64 counters in this layout version: sum them
 * as such, so a counter added to the layout is merged without code here. */
static_assert(sizeof(struct pv_metrics) % sizeof(uint64_t) == 0, "counters only");

void pv_metrics_merge(struct pv_metrics *dst, const struct pv_metrics *src)
{
	uint64_t *d = (uint64_t *)dst;
	const uint64_t *s = (const uint64_t *)src;

	for (size_t i = 0; i < sizeof(*dst) / sizeof(uint64_t); i++)
		d[i] += s[i];
}
