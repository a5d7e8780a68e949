/* git.c — libgit2 wrapped: cached bare clones under WORK/git/, refs,
 * signed tags, reading and checking out trees. See git.h. */
#include <errno.h>
#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <git2.h>

#include "base/err.h"
#include "base/fileio.h"
#include "source/git.h"
#include "base/util.h"

/* The sanitizer build's leak checker: libgit2 matches config keys with
 * pcre2's POSIX layer, whose match frames (pcre2 10.42, Debian 12) are never
 * freed. Not ours to fix; keep it from hiding leaks that are. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libpcre2-8.so\n";
}

struct acso_git {
	git_repository *repo;
};

static int git_fail(struct acso_err *e, int code, const char *what)
{
	const git_error *ge = git_error_last();
	return err_set(e, code, "%s: %s", what, ge && ge->message ? ge->message : "libgit2 error");
}

static bool is_loopback_host(const char *h, size_t n)
{
	static const char *const ok[] = {"localhost", "127.0.0.1", "[::1]", NULL};
	for (const char *const *p = ok; *p; p++)
		if (strlen(*p) == n && !strncmp(h, *p, n))
			return true;
	return n > 4 && !strncmp(h, "127.", 4);
}

int acso_git_url_check(const char *url, bool allow_http, struct acso_err *e)
{
	if (startswith(url, "https://") || startswith(url, "ssh://") || startswith(url, "file://") ||
	    url[0] == '/' || startswith(url, "./") || startswith(url, "../"))
		return 0;
	if (startswith(url, "http://")) {
		const char *h = url + 7;
		size_t n = strcspn(h, "/");
		const char *colon = memrchr(h, ':', n);
		if (colon && h[0] != '[')
			n = colon - h;
		else if (h[0] == '[') {
			const char *rb = memchr(h, ']', n);
			if (rb)
				n = rb - h + 1;
		}
		if (allow_http || is_loopback_host(h, n))
			return 0;
		return err_set(e, -ACSO_E_UNSAFE, "'%s' is plain http (use https, or allow_http = yes)", url);
	}
	if (startswith(url, "git://"))
		return err_set(e, -ACSO_E_UNSAFE, "'%s': git:// is neither authenticated nor encrypted", url);
	/* scp-like user@host:path */
	const char *at = strchr(url, '@'), *colon = strchr(url, ':');
	if (at && colon && at < colon && !strstr(url, "://"))
		return 0;
	if (!strstr(url, "://"))
		return 0; /* a relative local path */
	return err_set(e, -ACSO_E_UNSUPPORTED, "'%s': unsupported URL scheme", url);
}

char *acso_git_cache_name(const char *url)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a: a name, not a security check */
	for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	const char *s = strstr(url, "://");
	s = s ? s + 3 : url;
	char readable[48];
	size_t n = 0;
	for (; *s && n < sizeof(readable) - 1; s++)
		readable[n++] = (isalnum((unsigned char)*s) || *s == '.' || *s == '-') ? *s : '_';
	readable[n] = 0;
	return xasprintf("%s-%016llx.git", readable, (unsigned long long)h);
}

static int lib_init(void)
{
	/* git_libgit2_init is reference counted; one per open handle. */
	return git_libgit2_init() < 0 ? -ENOMEM : 0;
}

int acso_git_open_local(const char *path, struct acso_git **out, struct acso_err *e)
{
	if (lib_init() < 0)
		return err_set(e, -ENOMEM, "libgit2 init failed");
	git_repository *repo = NULL;
	if (git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		int r = git_fail(e, -ACSO_E_NOTFOUND, path);
		git_libgit2_shutdown();
		return r;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->repo = repo;
	return 0;
}

int acso_git_open(const char *work_dir, const char *url, bool allow_http,
		  struct acso_git **out, struct acso_err *e)
{
	int r = acso_git_url_check(url, allow_http, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *gitdir = path_join(work_dir, "git");
	r = mkdir_p_at(AT_FDCWD, gitdir, 0755);
	if (r < 0)
		return err_set(e, r, "create '%s': %s", gitdir, strerror(-r));
	_cleanup_free_ char *name = acso_git_cache_name(url);
	_cleanup_free_ char *dir = path_join(gitdir, name);
	if (lib_init() < 0)
		return err_set(e, -ENOMEM, "libgit2 init failed");

	git_repository *repo = NULL;
	struct stat st;
	if (stat(dir, &st) == 0) {
		if (git_repository_open_bare(&repo, dir) < 0) {
			r = git_fail(e, -ACSO_E_STATE, dir);
			goto shutdown;
		}
		git_remote *remote = NULL;
		if (git_remote_lookup(&remote, repo, "origin") < 0) {
			r = git_fail(e, -ACSO_E_STATE, "cache has no origin");
			goto free_repo;
		}
		git_fetch_options fo;
		git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
		fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
		fo.prune = GIT_FETCH_PRUNE;
		static char *specs[] = {"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"};
		git_strarray refspecs = {specs, 2};
		if (git_remote_fetch(remote, &refspecs, &fo, "acso fetch") < 0) {
			r = git_fail(e, -ACSO_E_HTTP, "fetch");
			git_remote_free(remote);
			goto free_repo;
		}
		git_remote_free(remote);
	} else {
		/* Clone into NAME.part, rename when complete: a broken clone is
		 * never mistaken for a cache. */
		_cleanup_free_ char *part = xasprintf("%s.part", dir);
		rm_rf_at(AT_FDCWD, part);
		git_clone_options co;
		git_clone_options_init(&co, GIT_CLONE_OPTIONS_VERSION);
		co.bare = 1;
		co.fetch_opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
		if (git_clone(&repo, url, part, &co) < 0) {
			r = git_fail(e, -ACSO_E_HTTP, "clone");
			rm_rf_at(AT_FDCWD, part);
			goto shutdown;
		}
		git_repository_free(repo);
		repo = NULL;
		if (rename(part, dir) < 0) {
			r = err_set(e, -errno, "rename '%s': %s", part, strerror(errno));
			rm_rf_at(AT_FDCWD, part);
			goto shutdown;
		}
		if (git_repository_open_bare(&repo, dir) < 0) {
			r = git_fail(e, -ACSO_E_STATE, dir);
			goto shutdown;
		}
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->repo = repo;
	return 0;

free_repo:
	git_repository_free(repo);
shutdown:
	git_libgit2_shutdown();
	return r;
}

void acso_git_close(struct acso_git *g)
{
	if (!g)
		return;
	git_repository_free(g->repo);
	free(g);
	git_libgit2_shutdown();
}

static int lookup(struct acso_git *g, const char *ref, git_object **obj, struct acso_err *e)
{
	const char *spec = ref && *ref ? ref : "HEAD";
	int r = git_revparse_single(obj, g->repo, spec);
	if (r == 0)
		return 0;
	/* "v6.1" may only exist as refs/tags/v6.1 in an odd repo; try it. */
	_cleanup_free_ char *full = xasprintf("refs/tags/%s", spec);
	if (git_revparse_single(obj, g->repo, full) == 0)
		return 0;
	return err_set(e, -ACSO_E_NOTFOUND, "no ref '%s' in the repository", spec);
}

static int peel_to(struct acso_git *g, const char *ref, git_object_t type, git_object **out,
		   struct acso_err *e)
{
	git_object *obj = NULL;
	int r = lookup(g, ref, &obj, e);
	if (r < 0)
		return r;
	r = git_object_peel(out, obj, type);
	git_object_free(obj);
	if (r < 0)
		return git_fail(e, -ACSO_E_NOTFOUND, ref ? ref : "HEAD");
	return 0;
}

int acso_git_resolve(struct acso_git *g, const char *ref, char oid[41], struct acso_err *e)
{
	git_object *c = NULL;
	int r = peel_to(g, ref, GIT_OBJECT_COMMIT, &c, e);
	if (r < 0)
		return r;
	git_oid_tostr(oid, 41, git_object_id(c));
	git_object_free(c);
	return 0;
}

int acso_git_tag_signature(struct acso_git *g, const char *tag, struct buf *sig,
			   struct buf *payload, char commit[41], struct acso_err *e)
{
	git_object *obj = NULL, *target = NULL;
	int r = lookup(g, tag, &obj, e);
	if (r < 0)
		return r;
	if (git_object_type(obj) != GIT_OBJECT_TAG) {
		git_object_free(obj);
		return err_set(e, -ACSO_E_UNSAFE, "'%s' is not an annotated tag, so it carries no signature: acso uses "
			       "only a tree it verified (a signed tag, or your own signed with the key you give as --keyring)", tag);
	}
	/* The signature covers the tag object's own name, not the ref that
	 * points at it: a ref v6.6.5 at the genuinely signed v6.6.4 tag would
	 * pass for 6.6.5. The name signed must be the name asked. */
	const char *want = startswith(tag, "refs/tags/") ? tag + strlen("refs/tags/") : tag;
	const char *named = git_tag_name((git_tag *)obj);
	if (!named || strcmp(named, want)) {
		r = err_set(e, -ACSO_E_UNSAFE, "the ref '%s' points at the tag named '%s': the signed name is "
			    "not the one asked", tag, named ? named : "");
		git_object_free(obj);
		return r;
	}
	if (git_object_peel(&target, obj, GIT_OBJECT_COMMIT) < 0) {
		r = git_fail(e, -ACSO_E_NOTFOUND, tag);
		git_object_free(obj);
		return r;
	}
	if (commit)
		git_oid_tostr(commit, 41, git_object_id(target));
	git_object_free(target);
	git_odb *odb = NULL;
	git_odb_object *raw = NULL;
	if (git_repository_odb(&odb, g->repo) < 0 ||
	    git_odb_read(&raw, odb, git_object_id(obj)) < 0) {
		r = git_fail(e, -EIO, "read tag");
		goto out;
	}
	const char *data = git_odb_object_data(raw);
	size_t len = git_odb_object_size(raw);
	/* The signature is the last armored block of the tag message; the
	 * signed payload is everything before it. */
	static const char *const begins[] = {"-----BEGIN PGP SIGNATURE-----",
					     "-----BEGIN SSH SIGNATURE-----", NULL};
	const char *best = NULL;
	for (const char *const *b = begins; *b; b++) {
		size_t bl = strlen(*b);
		for (const char *p = data; p && p + bl <= data + len;) {
			p = memmem(p, data + len - p, *b, bl);
			if (!p)
				break;
			if ((p == data || p[-1] == '\n') && (!best || p > best))
				best = p;
			p++;
		}
	}
	if (!best) {
		r = err_set(e, -ACSO_E_UNSAFE, "tag '%s' is not signed: acso uses only a tree it verified (sign the "
			    "tag and give your key as --keyring)", tag);
		goto out;
	}
	buf_append(payload, data, best - data);
	buf_append(sig, best, data + len - best);
	r = 0;
out:
	git_odb_object_free(raw);
	git_odb_free(odb);
	git_object_free(obj);
	return r;
}

int acso_git_list(struct acso_git *g, const char *ref, const char *dir,
		  struct strv *out, struct acso_err *e)
{
	git_object *t = NULL;
	int r = peel_to(g, ref, GIT_OBJECT_TREE, &t, e);
	if (r < 0)
		return r;
	git_tree *tree = (git_tree *)t, *sub = NULL;
	if (dir && *dir) {
		git_tree_entry *ent = NULL;
		if (git_tree_entry_bypath(&ent, tree, dir) < 0 ||
		    git_tree_entry_type(ent) != GIT_OBJECT_TREE) {
			git_tree_entry_free(ent);
			git_object_free(t);
			return err_set(e, -ACSO_E_NOTFOUND, "no directory '%s' at '%s'", dir,
				       ref ? ref : "HEAD");
		}
		r = git_tree_lookup(&sub, g->repo, git_tree_entry_id(ent));
		git_tree_entry_free(ent);
		if (r < 0) {
			git_object_free(t);
			return git_fail(e, -EIO, dir);
		}
		tree = sub;
	}
	int n = 0;
	for (size_t i = 0; i < git_tree_entrycount(tree); i++) {
		const git_tree_entry *ent = git_tree_entry_byindex(tree, i);
		if (git_tree_entry_type(ent) == GIT_OBJECT_BLOB) {
			strv_push(out, git_tree_entry_name(ent));
			n++;
		}
	}
	git_tree_free(sub);
	git_object_free(t);
	return n;
}

int acso_git_read(struct acso_git *g, const char *ref, const char *path, size_t max,
		  char **out, size_t *len, struct acso_err *e)
{
	git_object *t = NULL;
	int r = peel_to(g, ref, GIT_OBJECT_TREE, &t, e);
	if (r < 0)
		return r;
	git_tree_entry *ent = NULL;
	git_blob *blob = NULL;
	if (git_tree_entry_bypath(&ent, (git_tree *)t, path) < 0 ||
	    git_tree_entry_type(ent) != GIT_OBJECT_BLOB) {
		r = err_set(e, -ACSO_E_NOTFOUND, "no file '%s' at '%s'", path, ref ? ref : "HEAD");
		goto out;
	}
	if (git_blob_lookup(&blob, g->repo, git_tree_entry_id(ent)) < 0) {
		r = git_fail(e, -EIO, path);
		goto out;
	}
	git_object_size_t size = git_blob_rawsize(blob);
	if (size > max) {
		r = err_set(e, -ACSO_E_TOOBIG, "'%s' is larger than %zu bytes", path, max);
		goto out;
	}
	*out = xmalloc(size + 1);
	memcpy(*out, git_blob_rawcontent(blob), size);
	(*out)[size] = 0;
	if (len)
		*len = size;
	r = 0;
out:
	git_blob_free(blob);
	git_tree_entry_free(ent);
	git_object_free(t);
	return r;
}

int acso_git_checkout(struct acso_git *g, const char *ref, const char *dir, struct acso_err *e)
{
	git_object *c = NULL;
	int r = peel_to(g, ref, GIT_OBJECT_COMMIT, &c, e);
	if (r < 0)
		return r;
	if (mkdir(dir, 0755) < 0) {
		r = err_set(e, -errno, "create '%s': %s", dir, strerror(errno));
		goto out;
	}
	git_checkout_options co;
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX;
	co.target_directory = dir;
	if (git_checkout_tree(g->repo, c, &co) < 0) {
		r = git_fail(e, -EIO, "checkout");
		rm_rf_at(AT_FDCWD, dir);
		goto out;
	}
	r = 0;
out:
	git_object_free(c);
	return r;
}
