/* diff.h — the extra patches, through libgit2: parse them
 * (git_diff_from_buffer), apply them in order (git_apply_to_tree) to an
 * in-memory tree of the files they touch, and hand back each file's new
 * text; write a file's change as a unified diff (--dry-run, --emit-diff).
 * acso keeps no diff parser of its own. Kernel trees here are plain
 * directories, not git repositories: the tree libgit2 applies to is built
 * in memory (a mempack object database) from the changeset's files, so
 * nothing touches the disk and a patch that fails leaves the changeset as
 * it was — all patches or none. The only file that includes libgit2's
 * headers besides source/git.c. */
#pragma once
#include <stddef.h>

#include "base/util.h"

struct acso_err;
struct changeset;

#define DIFF_MAX_PATCH (64u << 20) /* one patch file */

struct diff_patch_in {
	const char *name;      /* for messages: "FILE", "URL:patches/x.patch" */
	const char *text;
	size_t len;
};

/* What a patch holds, per file and hunk (as its headers say). */
struct diff_hunk_report {
	long long at_line;     /* the hunk's first line in the file before the patch */
	long long lines;       /* lines it covers there */
};
struct diff_file_report {
	char *path;
	struct diff_hunk_report *hunks;
	size_t nh;
};
struct diff_patch_report {
	struct diff_file_report *files;
	size_t nf;
};

enum diff_stage { DIFF_PARSE, DIFF_READ, DIFF_APPLY };

/* Parse every patch, then apply them in order; only when every one
 * applied are the results put into cs (cs_set; a deleted file as NULL).
 * rep (n entries, zeroed by the caller) gets what each patch holds. On
 * failure cs is unchanged, *failed names the patch, *stage the stage, and
 * e says why (-ACSO_E_PARSE: it does not parse; -ACSO_E_CONFLICT: it does
 * not apply). */
int diff_apply_all(struct changeset *cs, const struct diff_patch_in *in, size_t n,
		   struct diff_patch_report *rep, size_t *failed, enum diff_stage *stage, struct acso_err *e);
void diff_patch_report_free(struct diff_patch_report *r);

/* Append a unified diff of a -> b (NULL: the file does not exist) with
 * a/ and b/ prefixes, as `patch -p1` and `git apply` take it. */
int diff_unified(const char *path, const char *a, size_t alen, const char *b, size_t blen,
		 int context, struct buf *out);
