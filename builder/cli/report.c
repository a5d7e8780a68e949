/* report.c — see report.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/report.h"

#define RP_DEPTH 16

static struct {
	bool json;
	size_t depth;                      /* 0: no report begun */
	struct json_object *stack[RP_DEPTH];
	FILE *out;                         /* text: stdout unless report_text_to() */
} rp;

/* The text stream, and the colours that go with it. */
static FILE *out(void)
{
	return rp.out ? rp.out : stdout;
}

static const char *style(enum style s)
{
	return out() == stderr ? sty_err(s) : sty(s);
}

void report_begin(const struct acso_ctx *ctx)
{
	rp.json = ctx->json;
	rp.depth = 0;
	rp.out = stdout;
	if (rp.json)
		rp.stack[rp.depth++] = json_object_new_object();
}

void report_discard(void)
{
	if (rp.json && rp.depth)
		json_object_put(rp.stack[0]);
	rp.depth = 0;
}

void report_text_to(FILE *f)
{
	rp.out = f;
}

bool report_json(void)
{
	return rp.json;
}

int report_end(int code)
{
	if (rp.json && rp.depth) {
		out_json(rp.stack[0]);
		json_object_put(rp.stack[0]);
		rp.depth = 0;
	}
	return out_finish(code);
}

/* Add v under key to the innermost container (JSON mode only). */
static void add(const char *key, struct json_object *v)
{
	if (!rp.depth) {
		json_object_put(v);
		return;
	}
	struct json_object *top = rp.stack[rp.depth - 1];
	if (json_object_is_type(top, json_type_array))
		json_object_array_add(top, v);
	else
		json_object_object_add(top, key ? key : "", v);
}

static void open_container(const char *key, struct json_object *c)
{
	if (!rp.json) {
		json_object_put(c);
		return;
	}
	if (rp.depth >= RP_DEPTH)
		abort(); /* a report nested deeper than any acso writes */
	add(key, json_object_get(c));
	rp.stack[rp.depth++] = c;
}

static void close_container(void)
{
	if (!rp.json)
		return;
	if (rp.depth <= 1)
		abort(); /* close without open */
	json_object_put(rp.stack[--rp.depth]);
}

void rp_open_object(const char *key) { open_container(key, json_object_new_object()); }
void rp_open_array(const char *key) { open_container(key, json_object_new_array()); }
void rp_close_object(void) { close_container(); }
void rp_close_array(void) { close_container(); }

/* Text: printf(fmt, ...) when the mode says text and a format is given. */
static bool text(enum rp_mode m, const char *fmt)
{
	return !rp.json && (m & RP_TEXT) && fmt;
}

static bool json(enum rp_mode m)
{
	return rp.json && (m & RP_JSON);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
void rp_string(enum rp_mode m, const char *key, const char *fmt, const char *val)
{
	if (json(m))
		add(key, val ? json_object_new_string(val) : NULL);
	else if (text(m, fmt) && val)
		fprintf(out(), fmt, val);
}

void rp_color_string(enum rp_mode m, enum style s, const char *key, const char *fmt, const char *val)
{
	if (json(m))
		add(key, val ? json_object_new_string(val) : NULL);
	else if (text(m, fmt) && val) {
		fputs(style(s), out());
		fprintf(out(), fmt, val);
		fputs(style(ST_RESET), out());
	}
}

void rp_bool(enum rp_mode m, const char *key, const char *fmt, bool val)
{
	if (json(m))
		add(key, json_object_new_boolean(val));
	else if (text(m, fmt))
		fprintf(out(), fmt, val ? "yes" : "no");
}

void rp_int(enum rp_mode m, const char *key, const char *fmt, int64_t val)
{
	if (json(m))
		add(key, json_object_new_int64(val));
	else if (text(m, fmt))
		fprintf(out(), fmt, (long long)val);
}

void rp_uint(enum rp_mode m, const char *key, const char *fmt, uint64_t val)
{
	if (json(m))
		add(key, json_object_new_uint64(val));
	else if (text(m, fmt))
		fprintf(out(), fmt, (unsigned long long)val);
}

void rp_double(enum rp_mode m, const char *key, const char *fmt, double val)
{
	if (json(m))
		add(key, json_object_new_double(val));
	else if (text(m, fmt))
		fprintf(out(), fmt, val);
}

void rp_null(enum rp_mode m, const char *key, const char *fmt)
{
	if (json(m))
		add(key, NULL);
	else if (text(m, fmt))
		fputs(fmt, out());
}
#pragma GCC diagnostic pop

void rp_text(const char *fmt, ...)
{
	if (rp.json)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(out(), fmt, ap);
	va_end(ap);
}

void rp_json(const char *key, struct json_object *o)
{
	if (rp.json)
		add(key, o);
	else
		json_object_put(o);
}
