/* report.h — one report API: each field of a command's report is stated
 * once and rendered as text or as JSON (the model: iproute2's
 * include/json_print.h, print_string(PRINT_ANY, "key", "fmt", value)).
 *
 *	report_begin(ctx);
 *	rp_string(RP_ANY, "kernel", "Kernel:   %s\n", release);
 *	rp_open_array("items");
 *	for (...) {
 *		rp_open_object(NULL);
 *		rp_color_string(RP_ANY, ST_PASS, "status", "%-4s", "pass");
 *		rp_string(RP_JSON, "id", NULL, id);         // JSON only
 *		rp_text("  %s\n", summary);                 // text only
 *		rp_close_object();
 *	}
 *	rp_close_array();
 *	return report_end(code);
 *
 * With --json the calls build one json-c document, printed by report_end()
 * exactly as out_json() prints (pretty, slashes unescaped); keys appear in the
 * order of the calls. In text mode a call whose mode includes RP_TEXT prints
 * its format to stdout with the value (a NULL string value prints nothing);
 * RP_JSON-only calls print nothing; open/close calls only shape the JSON.
 * A NULL key adds the value to the innermost array. A NULL string value is
 * JSON null. The report state is the process's: one report per command. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

#include "cli/acso.h"
#include "cli/output.h"

enum rp_mode { RP_TEXT = 1, RP_JSON = 2, RP_ANY = RP_TEXT | RP_JSON };

/* Start the command's report: JSON when ctx->json. */
void report_begin(const struct acso_ctx *ctx);
/* In JSON mode print the document (when one was begun); then flush stdout
 * and check it was written (out_finish). Returns code or EXIT_FAIL. */
int report_end(int code);
/* Drop a begun report unprinted: a command that fails after it began its
 * report prints no JSON document. */
void report_discard(void);
/* Text mode: print the text to f instead of stdout (for a command whose
 * stdout is something else, e.g. `acso patch --dry-run`'s diff); colours
 * then follow f. report_begin() resets it to stdout. */
void report_text_to(FILE *f);
/* Whether the report is JSON (what a command asks before text-only work). */
bool report_json(void);

void rp_open_object(const char *key);
void rp_close_object(void);
void rp_open_array(const char *key);
void rp_close_array(void);

void rp_string(enum rp_mode m, const char *key, const char *fmt, const char *val);
/* The value in a colour (sty()) in text; the whole formatted text is coloured. */
void rp_color_string(enum rp_mode m, enum style s, const char *key, const char *fmt, const char *val);
/* Text formats: rp_bool %s ("yes"/"no"), rp_int %lld, rp_uint %llu,
 * rp_double %f and friends. */
void rp_bool(enum rp_mode m, const char *key, const char *fmt, bool val);
void rp_int(enum rp_mode m, const char *key, const char *fmt, int64_t val);
void rp_uint(enum rp_mode m, const char *key, const char *fmt, uint64_t val);
void rp_double(enum rp_mode m, const char *key, const char *fmt, double val);
/* JSON null (the field is stated, its value unknown); text: fmt as is. */
void rp_null(enum rp_mode m, const char *key, const char *fmt);
/* Text only: printf to stdout. */
void rp_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* JSON only: attach a subtree built elsewhere (takes the reference). For
 * reports assembled by a core function that returns json-c. */
void rp_json(const char *key, struct json_object *o);
