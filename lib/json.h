/*
 * A small streaming JSON writer for every JSON pvisor prints (pvctl's window
 * and status documents, the aggregator's JSON output). The caller describes
 * the document as a sequence of calls (begin/end object or array, key, scalar
 * values); the writer places commas, colons, newlines and indentation itself
 * and escapes every string, so untrusted text (sensor ids, qnames) can never
 * produce invalid JSON: quotes, backslashes and control characters are escaped,
 * and bytes that are not valid UTF-8 are written as U+FFFD. Non-finite doubles
 * are written as null.
 *
 * Ownership: struct pv_json is caller-owned (usually on the stack) and only
 * borrows the FILE; it allocates nothing and needs no fini. Errors are sticky
 * (like lib/cursor.h): a misuse (a value in an object without a key, a key in
 * an array, nesting deeper than PV_JSON_DEPTH_MAX, ending what was not begun)
 * or a write error makes every later call a no-op, and pv_json_finish()
 * reports it once.
 */
#ifndef PV_JSON_H
#define PV_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PV_JSON_DEPTH_MAX 32

enum pv_json_flags {
	PV_JSON_COMPACT = 0, /* no whitespace at all: one line */
	PV_JSON_PRETTY = 1,  /* one member per line, 2-space indents, ": " */
};

struct pv_json {
	FILE *f;
	unsigned flags;
	unsigned depth;
	bool want_value;               /* a key was written, its value is due */
	bool done;                     /* the top-level value is complete */
	char open[PV_JSON_DEPTH_MAX];  /* '{' or '[' per open container */
	bool any[PV_JSON_DEPTH_MAX];   /* container has at least one member */
	int err;                       /* sticky pv_err / -errno */
};

void pv_json_init(struct pv_json *j, FILE *f, unsigned flags);

void pv_json_begin_object(struct pv_json *j);
void pv_json_end_object(struct pv_json *j);
void pv_json_begin_array(struct pv_json *j);
void pv_json_end_array(struct pv_json *j);

/* Member name inside an object; the next call must write its value. */
void pv_json_key(struct pv_json *j, const char *key);

/* NULL is written as "" (protobuf strings are never NULL, hand-made ones may
 * be). _len writes exactly len bytes, NULs included (as \u0000). */
void pv_json_string(struct pv_json *j, const char *s);
void pv_json_string_len(struct pv_json *j, const char *s, size_t len);
void pv_json_u64(struct pv_json *j, uint64_t v);
void pv_json_i64(struct pv_json *j, int64_t v);
void pv_json_double(struct pv_json *j, double v);
void pv_json_bool(struct pv_json *j, bool v);
void pv_json_null(struct pv_json *j);

/* Shorthands for "key": value. */
void pv_json_kv_string(struct pv_json *j, const char *key, const char *s);
void pv_json_kv_u64(struct pv_json *j, const char *key, uint64_t v);
void pv_json_kv_i64(struct pv_json *j, const char *key, int64_t v);
void pv_json_kv_bool(struct pv_json *j, const char *key, bool v);

/* Checks that exactly one complete top-level value was written, appends a
 * newline in PRETTY mode, flushes nothing. Returns 0 or the first error
 * (PV_ECONFIG for misuse, -errno / -EIO for a write error). */
int pv_json_finish(struct pv_json *j);

/* Writes s (len bytes) as the inside of a JSON string literal, without the
 * quotes, with the escaping described above. Returns 0 or -EIO. */
int pv_json_escape(FILE *f, const char *s, size_t len);

#endif
