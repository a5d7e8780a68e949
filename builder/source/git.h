/* git.h — the only door to libgit2: a cached bare mirror of a repository,
 * refs resolved, tags' signatures handed out for verification, trees read
 * or checked out. Callers never see a libgit2 type.
 *
 * Typical use (fetch --source git:URL@TAG):
 *
 *   struct acso_git *g;
 *   acso_git_open(work_dir, url, false, &g, &e);     // clone or fetch into WORK/git/
 *   acso_git_tag_signature(g, "v6.1", &sig, &payload, commit, &e); // verify with the pgp API
 *   acso_git_checkout(g, commit, "/work/src/linux-6.1", &e);
 *   acso_git_close(g);
 *
 * URLs: https://..., ssh://... or user@host:path, file:// or a local path.
 * http:// only to a loopback address unless allow_http; git:// is refused
 * (unauthenticated and unencrypted).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

struct acso_err;
struct acso_git;

/* Refuse URLs we do not fetch from (see above). 0 or -ACSO_E_UNSAFE. */
int acso_git_url_check(const char *url, bool allow_http, struct acso_err *e);

/* Directory name (under WORK/git/) of the cache for url: readable and
 * unique ("host_path-<16 hex>.git"); malloc'ed. */
char *acso_git_cache_name(const char *url);

/* Clone url as a bare repository into WORK/git/<cache name>, or fetch into
 * it when it is already there (all branches and tags). A clone is made in
 * NAME.part and renamed when complete; a fetch that fails returns its error
 * and leaves the cache as it was (acso_git_open_local can still read it). */
int acso_git_open(const char *work_dir, const char *url, bool allow_http,
		  struct acso_git **out, struct acso_err *e);
/* Open an existing repository (bare or with a work tree) without fetching. */
int acso_git_open_local(const char *path, struct acso_git **out, struct acso_err *e);
void acso_git_close(struct acso_git *g);

/* Resolve a ref ("v6.1", "main", "origin/main", a full or short commit id,
 * NULL = HEAD) to the commit it names (tags are peeled): 40 hex digits +
 * NUL into oid. -ACSO_E_NOTFOUND when there is no such ref. */
int acso_git_resolve(struct acso_git *g, const char *ref, char oid[41], struct acso_err *e);

/* For an annotated tag: the ASCII-armored signature (sig), the exact bytes
 * it signs (payload: the tag object up to the signature) and the commit the
 * tag object names (commit, 40 hex + NUL; may be NULL): check that commit
 * out, not the ref again. -ACSO_E_UNSAFE if tag is not an annotated tag,
 * carries no signature, or when the tag object's own name (the one its
 * signature covers) is not tag (a "refs/tags/" prefix aside). */
int acso_git_tag_signature(struct acso_git *g, const char *tag, struct buf *sig,
			   struct buf *payload, char commit[41], struct acso_err *e);

/* Names of the blobs directly in dir ("" = top) of the tree at ref, sorted
 * (git order), pushed onto out. */
int acso_git_list(struct acso_git *g, const char *ref, const char *dir,
		  struct strv *out, struct acso_err *e);

/* Read path at ref into *out (malloc'ed, NUL-terminated); -ACSO_E_TOOBIG
 * over max bytes, -ACSO_E_NOTFOUND when absent or not a file. */
int acso_git_read(struct acso_git *g, const char *ref, const char *path, size_t max,
		  char **out, size_t *len, struct acso_err *e);

/* Write the tree at ref into dir, which must not exist yet (it is created;
 * on failure it is removed again). */
int acso_git_checkout(struct acso_git *g, const char *ref, const char *dir, struct acso_err *e);
