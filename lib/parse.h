/* Parsing of command-line and config numbers, shared by every program. */
#ifndef PV_PARSE_H
#define PV_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* Decimal digits only (no sign, no spaces, no suffix), within [min, max]:
 * true and *out set, or false and *out untouched. */
bool pv_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

#endif
