/* Clock helpers shared by the processes (never called per packet). */
#ifndef PV_TIMEUTIL_H
#define PV_TIMEUTIL_H

#include <stdint.h>
#include <time.h>

static inline uint64_t pv_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t pv_mono_ns(void) { return pv_clock_ns(CLOCK_MONOTONIC); }
static inline uint64_t pv_real_ns(void) { return pv_clock_ns(CLOCK_REALTIME); }

/* Sleeps for up to ms milliseconds; a signal ends the sleep early (the
 * supervisor relies on that to see SIGCHLD at once). */
void pv_sleep_ms(unsigned ms);

#endif
