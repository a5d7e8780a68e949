/* output.h — everything the command layer prints goes through here:
 * messages to stderr in STYLE.md form, colour, progress lines, JSON. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "cli/acso.h"
#include "base/err.h"
#include "base/util.h" /* now_seconds */

void out_init(struct acso_ctx *ctx);

/* "acso: WHAT: DETAIL" to stderr. */
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "hint: ..." — what to do about it. */
void msg_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Progress/info to stderr, suppressed by -q (and by --json only if noisy). */
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only with -v. */
void msg_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Report a failure at the boundary: "acso: <what>: <detail|strerror>".
 * Returns EXIT_FAIL (or EXIT_LOCKED for a lock error). */
int fail(const struct acso_err *e, int code, const char *what, ...) __attribute__((format(printf, 3, 4)));

/* Colours for stdout text (empty strings when colour is off). */
enum style { ST_RESET, ST_BOLD, ST_PASS, ST_WARN, ST_FAIL, ST_DIM, ST_GPU };
const char *sty(enum style s);
/* Same for stderr. */
const char *sty_err(enum style s);

/* Print a JSON document to stdout (pretty, with a newline). */
void out_json(struct json_object *o);
/* ["a","b"] from a string vector. */
struct strv;
struct json_object *json_from_strv(const struct strv *s);

/* Flush stdout and check it was written; returns code or EXIT_FAIL. */
int out_finish(int code);

/* One-line progress on a tty stderr (no-op otherwise, with -q, or with --json).
 * A step of `acso run` (ACSO_PROGRESS_LINES=1 in its environment) writes
 * each update instead as a plain line "acso-progress: TEXT" on stderr, at
 * most one a second, even with --json: the run shows it on its own line. */
#define PROGRESS_LINE_PREFIX "acso-progress: "
#define PROGRESS_LINES_ENV "ACSO_PROGRESS_LINES"
struct progress {
	bool on;
	bool lines;     /* plain PROGRESS_LINE_PREFIX lines for acso run */
	double start;
	double last;
	double last_line;
	char label[48];  /* lines: the label of the last line written */
	int width;
};
void progress_start(struct progress *p);
/* Bytes: "NAME  12.3 MiB / 140.0 MiB  4.1 MiB/s  ETA 0:31". total 0 = unknown. */
void progress_bytes(struct progress *p, const char *name, uint64_t done, uint64_t total);
/* Free text (already formatted). */
void progress_text(struct progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void progress_end(struct progress *p);
/* "1.2 MiB" */
void fmt_size(uint64_t n, char *buf, size_t len);
/* "1:02:03" / "2:03" */
void fmt_duration(double seconds, char *buf, size_t len);
