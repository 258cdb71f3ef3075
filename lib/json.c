/*
 * The streaming JSON writer (see json.h): separator and indentation state per
 * open container, and string escaping that validates UTF-8 so the output is
 * valid JSON whatever bytes the strings hold.
 */
#include "lib/json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"

void pv_json_init(struct pv_json *j, FILE *f, unsigned flags)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->flags = flags;
}

static bool pretty(const struct pv_json *j)
{
	return j->flags & PV_JSON_PRETTY;
}

static void put(struct pv_json *j, const char *s)
{
	if (j->err)
		return;
	if (fputs(s, j->f) == EOF)
		j->err = -EIO;
}

static void newline_indent(struct pv_json *j, unsigned depth)
{
	if (!pretty(j))
		return;
	put(j, "\n");
	for (unsigned i = 0; i < depth; i++)
		put(j, "  ");
}

/* Everything that starts a value: checks it is allowed here and writes the
 * separator in front of it (a key already wrote it inside objects). */
static bool value_begin(struct pv_json *j)
{
	if (j->err)
		return false;
	if (j->depth == 0) {
		if (j->done) {
			j->err = PV_ECONFIG; /* a second top-level value */
			return false;
		}
		return true;
	}
	if (j->open[j->depth - 1] == '{') {
		if (!j->want_value) {
			j->err = PV_ECONFIG; /* object member without a key */
			return false;
		}
		j->want_value = false;
		return true;
	}
	if (j->any[j->depth - 1])
		put(j, ",");
	j->any[j->depth - 1] = true;
	newline_indent(j, j->depth);
	return !j->err;
}

static void value_end(struct pv_json *j)
{
	if (j->depth == 0)
		j->done = true;
}

static void begin(struct pv_json *j, char kind)
{
	if (!value_begin(j))
		return;
	if (j->depth >= PV_JSON_DEPTH_MAX) {
		j->err = PV_ECONFIG;
		return;
	}
	put(j, kind == '{' ? "{" : "[");
	j->open[j->depth] = kind;
	j->any[j->depth] = false;
	j->depth++;
}

static void end(struct pv_json *j, char kind)
{
	if (j->err)
		return;
	if (j->depth == 0 || j->open[j->depth - 1] != kind || j->want_value) {
		j->err = PV_ECONFIG; /* unbalanced, or a key without its value */
		return;
	}
	j->depth--;
	if (j->any[j->depth])
		newline_indent(j, j->depth);
	put(j, kind == '{' ? "}" : "]");
	value_end(j);
}

void pv_json_begin_object(struct pv_json *j)
{
	begin(j, '{');
}

void pv_json_end_object(struct pv_json *j)
{
	end(j, '{');
}

void pv_json_begin_array(struct pv_json *j)
{
	begin(j, '[');
}

void pv_json_end_array(struct pv_json *j)
{
	end(j, '[');
}

/* Length of the valid UTF-8 sequence at p (at most left bytes), 0 if the
 * bytes there are not one: overlong forms, surrogates and code points above
 * U+10FFFF are invalid (RFC 3629). */
static size_t utf8_seq_len(const unsigned char *p, size_t left)
{
	unsigned char c = p[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0; /* continuation byte, 0xc0/0xc1, 0xf5.. */
	}
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int pv_json_escape(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n;
		int rc;

		switch (c) {
		case '"':
			rc = fputs("\\\"", f);
			n = 1;
			break;
		case '\\':
			rc = fputs("\\\\", f);
			n = 1;
			break;
		case '\n':
			rc = fputs("\\n", f);
			n = 1;
			break;
		case '\r':
			rc = fputs("\\r", f);
			n = 1;
			break;
		case '\t':
			rc = fputs("\\t", f);
			n = 1;
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				/* DEL is legal JSON but a terminal control. */
				rc = fprintf(f, "\\u%04x", c);
				n = 1;
				break;
			}
			n = utf8_seq_len(p + i, len - i);
			if (n == 0) {
				rc = fputs("\\ufffd", f);
				n = 1;
			} else {
				rc = fwrite(p + i, 1, n, f) == n ? 0 : EOF;
			}
			break;
		}
		if (rc < 0)
			return -EIO;
		i += n;
	}
	return 0;
}

static void write_string(struct pv_json *j, const char *s, size_t len)
{
	put(j, "\"");
	if (!j->err && pv_json_escape(j->f, s, len) < 0)
		j->err = -EIO;
	put(j, "\"");
}

void pv_json_key(struct pv_json *j, const char *key)
{
	if (j->err)
		return;
	if (j->depth == 0 || j->open[j->depth - 1] != '{' || j->want_value) {
		j->err = PV_ECONFIG;
		return;
	}
	if (j->any[j->depth - 1])
		put(j, ",");
	j->any[j->depth - 1] = true;
	newline_indent(j, j->depth);
	if (!key)
		key = "";
	write_string(j, key, strlen(key));
	put(j, pretty(j) ? ": " : ":");
	j->want_value = true;
}

void pv_json_string_len(struct pv_json *j, const char *s, size_t len)
{
	if (!value_begin(j))
		return;
	write_string(j, s ? s : "", s ? len : 0);
	value_end(j);
}

void pv_json_string(struct pv_json *j, const char *s)
{
	pv_json_string_len(j, s, s ? strlen(s) : 0);
}

static void scalar(struct pv_json *j, const char *text)
{
	if (!value_begin(j))
		return;
	put(j, text);
	value_end(j);
}

void pv_json_u64(struct pv_json *j, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	scalar(j, buf);
}

void pv_json_i64(struct pv_json *j, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	scalar(j, buf);
}

void pv_json_double(struct pv_json *j, double v)
{
	char buf[32];

	if (!isfinite(v)) {
		scalar(j, "null");
		return;
	}
	/* The shortest of 15 or 17 significant digits that reads back exactly:
	 * 0.1 stays "0.1", and no value loses precision. pvctl never calls
	 * setlocale(), so the decimal point is '.'. */
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	scalar(j, buf);
}

void pv_json_bool(struct pv_json *j, bool v)
{
	scalar(j, v ? "true" : "false");
}

void pv_json_null(struct pv_json *j)
{
	scalar(j, "null");
}

void pv_json_kv_string(struct pv_json *j, const char *key, const char *s)
{
	pv_json_key(j, key);
	pv_json_string(j, s);
}

void pv_json_kv_u64(struct pv_json *j, const char *key, uint64_t v)
{
	pv_json_key(j, key);
	pv_json_u64(j, v);
}

void pv_json_kv_i64(struct pv_json *j, const char *key, int64_t v)
{
	pv_json_key(j, key);
	pv_json_i64(j, v);
}

void pv_json_kv_bool(struct pv_json *j, const char *key, bool v)
{
	pv_json_key(j, key);
	pv_json_bool(j, v);
}

int pv_json_finish(struct pv_json *j)
{
	if (!j->err && (j->depth != 0 || !j->done))
		j->err = PV_ECONFIG; /* nothing written, or containers left open */
	if (!j->err && pretty(j))
		put(j, "\n");
	if (!j->err && ferror(j->f))
		j->err = -EIO;
	return j->err;
}
