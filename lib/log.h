/*
 * Minimal logging to stderr: "prog[pid]: level: message". Not for the
 * per-packet path (it formats strings). Thread-safe through stdio's lock.
 */
#ifndef PV_LOG_H
#define PV_LOG_H

enum pv_log_level { PV_LOG_ERR, PV_LOG_WARN, PV_LOG_INFO, PV_LOG_DEBUG };

void pv_log_init(const char *prog, enum pv_log_level max);
void pv_log(enum pv_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pv_err(...) pv_log(PV_LOG_ERR, __VA_ARGS__)
#define pv_warn(...) pv_log(PV_LOG_WARN, __VA_ARGS__)
#define pv_info(...) pv_log(PV_LOG_INFO, __VA_ARGS__)
#define pv_debug(...) pv_log(PV_LOG_DEBUG, __VA_ARGS__)

#endif
