/* diff.h — unified diffs: parse them, apply them to text in memory (exact
 * context, offsets searched and reported per hunk, fuzz only when asked),
 * and write them (for --dry-run and --emit-diff).
 *
 * Nothing here touches a file: callers hold every file's old and new text
 * (changeset.h) and write only when every hunk of every patch applied.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

struct acso_err;

/* Limits for outside input. */
#define DIFF_MAX_PATCH   (64u << 20)  /* one patch file */
#define DIFF_MAX_LINE    (1u << 20)   /* one line */

struct diff_line {
	char op;            /* ' ', '-', '+' */
	const char *text;   /* into the patch text; without the op, with its EOL */
	size_t len;         /* bytes of text including "\n" (or "\r\n") when present */
};

struct diff_hunk {
	long old_start, old_count, new_start, new_count;
	size_t patch_line;  /* line of the "@@" in the patch, 1-based */
	struct diff_line *l;
	size_t n;
};

struct diff_file {
	char *old_path, *new_path; /* after stripping one component; NULL for /dev/null */
	size_t patch_line;         /* line of the "---" */
	bool crlf;                 /* the patch's own lines end in CRLF */
	struct diff_hunk *h;
	size_t nh;
};

struct diff_patch {
	char *name;         /* for messages */
	char *text;         /* owned copy; lines point into it */
	struct diff_file *f;
	size_t nf;
};

/* Parse a unified diff (git format-patch mails, `diff -u`, `git diff`).
 * Text before the first "--- " is ignored (commit message); every "--- "
 * must be followed by "+++ " and at least one well-formed hunk whose line
 * counts match its body. Paths lose their first component ("a/", "b/"),
 * and may not be absolute or contain "..". -ACSO_E_PARSE /
 * -ACSO_E_UNSAFE with "NAME:LINE: ..." in e. */
int diff_parse(const char *text, size_t len, const char *name, struct diff_patch *out,
	       struct acso_err *e);
void diff_patch_free(struct diff_patch *p);

/* How one hunk applied. */
struct diff_hunk_report {
	long at_line;       /* 1-based line of the old file where it applied */
	long offset;        /* lines away from where the header said */
	int fuzz;           /* context lines ignored at each end (0 = exact) */
};

/* Apply f's hunks in order to old (for a new file old may be NULL, len 0),
 * with at most max_fuzz context lines ignored at each end of a hunk.
 * The result goes to *out; rep (may be NULL) receives f->nh reports.
 * -ACSO_E_PARSE with "hunk N (line L of NAME) does not apply: why" in e. */
int diff_apply_file(const struct diff_patch *p, const struct diff_file *f, const char *old,
		    size_t old_len, int max_fuzz, struct buf *out, struct diff_hunk_report *rep,
		    struct acso_err *e);

/* Append a unified diff of a → b with `context` lines to out, with headers
 * "--- a/PATH" / "+++ b/PATH" (or /dev/null when a or b is NULL).
 * Returns the number of hunks (0: identical). */
int diff_unified(const char *path, const char *a, size_t alen, const char *b, size_t blen,
		 int context, struct buf *out);
