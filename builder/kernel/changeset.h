/* changeset.h — edits to files of one tree, held in memory and written all
 * at once: every file atomically, and either every file or none (a failure
 * part way puts back what was already written). Patches, the override and
 * their --dry-run diff all go through one changeset. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/util.h"

struct acso_err;

#define CHANGESET_MAX_FILE (64u << 20) /* one source file read from the tree */

struct cs_file {
	char *path;          /* relative to the tree */
	char *old, *cur;     /* old: as read (NULL if absent); cur: as it will be */
	size_t old_len, cur_len;
	bool existed, present;
};

struct changeset {
	int dirfd;           /* the tree; not owned */
	struct cs_file *v;
	size_t n;
};

/* Current text of path (what it will be after the edits so far).
 * *text is NULL (and 0 returned) when the file does not exist.
 * Reads stay inside the tree (symlinks cannot lead out). */
int cs_get(struct changeset *cs, const char *path, const char **text, size_t *len,
	   struct acso_err *e);
/* Replace path's text (text NULL: delete). */
void cs_set(struct changeset *cs, const char *path, const char *text, size_t len);
/* Files whose text changed. */
size_t cs_changed(const struct changeset *cs);
/* Unified diff of every change (paths a/ and b/), in the order first touched. */
void cs_diff(const struct changeset *cs, struct buf *out);
/* Refuse before writing anything: a changed file that is read-only (mode
 * without any write bit) or a directory we cannot write. */
int cs_check_writable(const struct changeset *cs, struct acso_err *e);
/* Write every changed file atomically; all or nothing. Returns the number
 * of files written. */
int cs_commit(struct changeset *cs, struct acso_err *e);
/* After a commit: put every changed file back as it was read, byte for
 * byte (a file the commit created is removed). Returns the number of files
 * put back, or the first error (the others are still tried). */
int cs_rollback(struct changeset *cs, struct acso_err *e);
void cs_free(struct changeset *cs);
