#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static const char *log_prog = "pvisor";
static enum pv_log_level log_max = PV_LOG_INFO;

void pv_log_init(const char *prog, enum pv_log_level max)
{
	log_prog = prog;
	log_max = max;
}

void pv_log(enum pv_log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	va_list ap;

	if (lvl > log_max)
		return;
	flockfile(stderr);
	fprintf(stderr, "%s[%d]: %s: ", log_prog, (int)getpid(), names[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}
