/* pvsensor: capture (or read a pcap file) and count into shared memory. */
#include <stdio.h>

#include "lib/log.h"
#include "sensor/supervisor.h"

int main(int argc, char **argv)
{
	struct pv_sensor_opts o;
	char why[256];
	int rc;

	rc = pv_sensor_opts_parse(argc, argv, &o, why, sizeof(why));
	if (rc > 0)
		return 0;
	if (rc < 0) {
		fprintf(stderr, "pvsensor: %s\n", why);
		pv_sensor_usage(stderr);
		return 1;
	}
	pv_log_init("pvsensor", o.verbose ? PV_LOG_DEBUG : o.quiet ? PV_LOG_WARN : PV_LOG_INFO);
	return pv_supervisor_run(&o);
}
