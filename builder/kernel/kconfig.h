/* kconfig.h — the project's own .config editor.
 *
 * Reads `CONFIG_X=value` and `# CONFIG_X is not set` lines, keeps every
 * other line as it was, and writes back so that lines it did not change
 * are byte-identical. Duplicate symbols, junk lines and a truncated last
 * line are reported (as issues), not silently dropped. Fragments
 * (kconfig/NAME.config, --set) are parsed strictly.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

struct acso_err;

#define KCONFIG_MAX_FILE (16u << 20)
#define KCONFIG_MAX_LINE (64u << 10)

enum kc_kind { KC_OTHER, KC_SET, KC_UNSET, KC_JUNK };

struct kc_line {
	enum kc_kind kind;
	char *raw;        /* the line as read, with its newline (if it had one) */
	char *sym;        /* "PCI_QUIRKS" (without CONFIG_), for SET/UNSET */
	char *val;        /* "y", "m", "\"str\"", "0x10", ... ; "n" for UNSET */
	bool edited;
};

struct kc_issue {
	size_t line;      /* 1-based */
	char *msg;
};

struct kconfig {
	struct kc_line *v;
	size_t n;
	struct kc_issue *issues;
	size_t nissues;
};

/* Parse a .config. Fails only on what cannot be a config at all (NUL bytes,
 * size limits); junk lines, duplicates and a missing final newline become
 * issues ("NAME:LINE: ..."). */
int kconfig_parse(struct kconfig *kc, const char *text, size_t len, const char *name,
		  struct acso_err *e);
void kconfig_free(struct kconfig *kc);

/* The value that counts (the last assignment, as Kconfig reads it):
 * "y", "m", "n" (for "is not set"), a string with quotes, a number; NULL
 * when the symbol is not mentioned. sym is without CONFIG_. */
const char *kconfig_get(const struct kconfig *kc, const char *sym);

/* Check a value's form: y/m/n, a quoted string with valid escapes, a
 * decimal or 0x hex number. */
bool kconfig_value_ok(const char *val);
bool kconfig_symbol_ok(const char *sym);

/* Set sym to val ("n" writes "# CONFIG_X is not set"): the last line that
 * assigns it is rewritten; otherwise a line is appended. Returns 1 if the
 * text changed, 0 if it already said so. */
int kconfig_set(struct kconfig *kc, const char *sym, const char *val);

/* The whole file; untouched lines exactly as read. */
void kconfig_render(const struct kconfig *kc, struct buf *out);

/* One requested setting, from a fragment or --set. */
struct kc_req {
	char *sym, *val;
	char *origin;     /* "acso.config:12" or "--set" */
	char *why;        /* the fragment's comment above it (its first sentence), or NULL */
};
struct kc_reqs {
	struct kc_req *v;
	size_t n;
};
/* Parse a fragment strictly: blank lines and comments, `CONFIG_X=V`,
 * `# CONFIG_X is not set`; anything else is -ACSO_E_PARSE "NAME:LINE: ...".
 * A request's why is the first sentence of the comment block above it (in
 * the same paragraph: no blank line between).
 * Appends to reqs (a later request for the same symbol replaces the
 * earlier one). */
int kconfig_parse_fragment(const char *text, size_t len, const char *name, struct kc_reqs *reqs,
			   struct acso_err *e);
/* Add (or replace) one request; origin and why are copied, why may be NULL. */
void kc_reqs_add(struct kc_reqs *r, const char *sym, const char *val, const char *origin, const char *why);
/* Drop the request for sym, if there is one. */
void kc_reqs_drop(struct kc_reqs *r, const char *sym);
/* The request for sym, or NULL. */
const struct kc_req *kc_reqs_find(const struct kc_reqs *r, const char *sym);
/* "CONFIG_X=V" or "X=V" from the command line. */
int kconfig_parse_assignment(const char *arg, struct kc_reqs *reqs, struct acso_err *e);
void kc_reqs_free(struct kc_reqs *r);

/* Differences a → b by symbol, sorted: old NULL = not mentioned. */
struct kc_change {
	char *sym;
	const char *old, *new; /* point into a and b */
};
size_t kconfig_diff(const struct kconfig *a, const struct kconfig *b, struct kc_change **out);
void kc_changes_free(struct kc_change *c, size_t n);
