/* diff.c — see diff.h: the extra patches parsed and applied by libgit2 on
 * an in-memory tree, all or nothing. */
#include <errno.h>
#include <string.h>

#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/repository.h>

#include "base/err.h"
#include "base/util.h"
#include "kernel/changeset.h"
#include "kernel/diff.h"

/* libgit2's last message, or what failed when it left none. */
static const char *git_why(const char *fallback)
{
	const git_error *ge = git_error_last();
	return ge && ge->message && ge->message[0] ? ge->message : fallback;
}

/* An empty repository whose objects live in memory only. */
static int mem_repo(git_repository **repo, struct acso_err *e)
{
	git_odb *odb = NULL;
	git_odb_backend *mem = NULL;
	*repo = NULL;
	if (git_odb_new(&odb) < 0 || git_mempack_new(&mem) < 0 || git_odb_add_backend(odb, mem, 1) < 0 ||
	    git_repository_new(repo) < 0) {
		git_odb_free(odb);
		return err_set(e, -ENOMEM, "libgit2: %s", git_why("cannot make an in-memory repository"));
	}
	git_repository_set_odb(*repo, odb);
	git_odb_free(odb); /* the repository holds it (and the backend) */
	return 0;
}

/* The path of a "--- "/"+++ " line without its first directory (a/, b/)
 * and without a diff -u timestamp; NULL for /dev/null. */
static char *side_path(const char *l, const char *end)
{
	const char *p = l + 4, *q = p;
	while (q < end && *q != '\t' && *q != '\n')
		q++;
	while (q > p && q[-1] == ' ')
		q--;
	if ((size_t)(q - p) == 9 && !memcmp(p, "/dev/null", 9))
		return NULL;
	const char *slash = memchr(p, '/', (size_t)(q - p));
	return slash ? xstrndup(slash + 1, (size_t)(q - slash - 1)) : xstrndup(p, (size_t)(q - p));
}

/* libgit2 reads git's patch format, where every file starts with a
 * "diff --git" line; plain unified diffs (diff -u, quilt, many mailing
 * list patches) have none. Add it before each "--- "/"+++ " pair that
 * lacks one (with the mode line git writes for a created or deleted
 * file), and write that pair as git does (no diff -u timestamps). No
 * other line is touched: libgit2 parses the result. */
/* For a "--- "/"+++ " pair at minus/plus without a "diff --git" line:
 * write the header git would have written. false when both are /dev/null. */
static bool git_header(struct buf *b, const char *minus, const char *plus, const char *end)
{
	_cleanup_free_ char *o = side_path(minus, end), *n = side_path(plus, end);
	const char *name = n ? n : o;
	if (!name)
		return false;
	/* git names a created or deleted file's mode; its ---/+++ lines carry
	 * no diff -u timestamp */
	buf_printf(b, "diff --git a/%s b/%s\n%s", name, name,
		   !o ? "new file mode 100644\n" : !n ? "deleted file mode 100644\n" : "");
	buf_printf(b, "--- %s%s\n+++ %s%s\n", o ? "a/" : "/dev/null", o ? o : "", n ? "b/" : "/dev/null",
		   n ? n : "");
	return true;
}

static const char *next_line(const char *l, const char *end)
{
	const char *nl = memchr(l, '\n', (size_t)(end - l));
	return nl ? nl + 1 : end;
}

static char *gitify(const char *text, size_t len, size_t *outlen)
{
	struct buf b = {0};
	const char *end = text + len;
	bool header = false;
	for (const char *l = text, *next; l < end; l = next) {
		next = next_line(l, end);
		if (end - l >= 11 && !memcmp(l, "diff --git ", 11)) {
			header = true;
		} else if (end - l >= 4 && !memcmp(l, "--- ", 4) && end - next >= 4 && !memcmp(next, "+++ ", 4)) {
			bool had = header;
			header = false;
			if (!had && git_header(&b, l, next, end)) {
				next = next_line(next, end); /* both lines rewritten */
				continue;
			}
		}
		buf_append(&b, l, (size_t)(next - l));
	}
	*outlen = b.len;
	return b.data ? b.data : xstrdup("");
}

/* How many files a (gitified) patch announces. */
static size_t count_headers(const char *g, size_t len)
{
	size_t n = 0;
	const char *end = g + len;
	for (const char *l = g; l < end;) {
		n += (size_t)(end - l) >= 11 && !memcmp(l, "diff --git ", 11);
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		l = nl ? nl + 1 : end;
	}
	return n;
}

/* A path from a patch that stays inside the tree. */
static bool path_ok(const char *p)
{
	if (!p || !*p || p[0] == '/')
		return false;
	for (const char *c = p; c; c = strchr(c, '/')) {
		c += *c == '/';
		if (!strncmp(c, "..", 2) && (c[2] == '/' || !c[2]))
			return false;
		if (!strncmp(c, ".git", 4) && (c[4] == '/' || !c[4]))
			return false;
	}
	return true;
}

/* The files a patch touches, into paths; what it holds, into rep. */
static int collect(git_diff *d, const char *name, struct strv *paths, struct diff_patch_report *rep,
		   struct acso_err *e)
{
	size_t nd = git_diff_num_deltas(d);
	if (!nd)
		return err_set(e, -ACSO_E_PARSE, "%s: no unified diff found", name);
	rep->files = xcalloc(nd + 1, sizeof(*rep->files));
	for (size_t i = 0; i < nd; i++) {
		const git_diff_delta *dl = git_diff_get_delta(d, i);
		const char *sides[2] = {dl->status == GIT_DELTA_ADDED ? NULL : dl->old_file.path,
					dl->status == GIT_DELTA_DELETED ? NULL : dl->new_file.path};
		for (int s = 0; s < 2; s++) {
			if (!sides[s])
				continue;
			if (!path_ok(sides[s]))
				return err_set(e, -ACSO_E_UNSAFE, "%s: path '%s' leaves the tree or is not normal", name,
					       sides[s]);
			if (!strv_has(paths, sides[s]))
				strv_push(paths, sides[s]);
		}
		if (dl->flags & GIT_DIFF_FLAG_BINARY)
			return err_set(e, -ACSO_E_UNSUPPORTED, "%s: binary patch for '%s'", name, sides[1] ? sides[1] : sides[0]);
		git_patch *p = NULL;
		if (git_patch_from_diff(&p, d, i) < 0)
			return err_set(e, -ACSO_E_PARSE, "%s: %s", name, git_why("cannot read a file's hunks"));
		struct diff_file_report *fr = &rep->files[rep->nf++];
		fr->path = xstrdup(sides[1] ? sides[1] : sides[0]);
		fr->nh = git_patch_num_hunks(p);

		fr->hunks = xcalloc(fr->nh + 1, sizeof(*fr->hunks));
		for (size_t h = 0; h < fr->nh; h++) {
			const git_diff_hunk *gh;
			if (git_patch_get_hunk(&gh, NULL, p, h) == 0)
				fr->hunks[h] = (struct diff_hunk_report){gh->old_start, gh->old_lines};
		}
		git_patch_free(p);
	}
	return 0;
}

/* The tree of the touched files as they are in cs now. */
static int build_tree(git_repository *repo, struct changeset *cs, const struct strv *paths, git_tree **tree,
		      struct acso_err *e)
{
	git_index *idx = NULL;
	git_oid oid;
	int r = git_index_new(&idx) < 0 ? err_set(e, -ENOMEM, "libgit2: %s", git_why("no index")) : 0;
	for (size_t i = 0; r == 0 && i < paths->n; i++) {
		const char *text;
		size_t len;
		if ((r = cs_get(cs, paths->v[i], &text, &len, e)) < 0 || !text)
			continue;
		git_index_entry ent = {.mode = GIT_FILEMODE_BLOB, .path = paths->v[i]};
		if (git_blob_create_from_buffer(&ent.id, repo, text, len) < 0 || git_index_add(idx, &ent) < 0)
			r = err_set(e, -EINVAL, "'%s': libgit2: %s", paths->v[i], git_why("cannot hold the file"));
	}
	if (r == 0 && (git_index_write_tree_to(&oid, idx, repo) < 0 || git_tree_lookup(tree, repo, &oid) < 0))
		r = err_set(e, -ENOMEM, "libgit2: %s", git_why("cannot write the tree"));
	git_index_free(idx);
	return r;
}

/* Which file libgit2 is at, for the message when a hunk does not apply. */
static int on_delta(const git_diff_delta *d, void *payload)
{
	*(const char **)payload = d->new_file.path ? d->new_file.path : d->old_file.path;
	return 0;
}

static int apply_one(git_repository *repo, git_tree **tree, git_diff *d, const char *name, struct acso_err *e)
{
	const char *at = NULL;
	git_apply_options o;
	git_apply_options_init(&o, GIT_APPLY_OPTIONS_VERSION);
	o.delta_cb = on_delta;
	o.payload = &at;
	git_index *post = NULL;
	git_oid oid;
	/* libgit2 would replace a file that a patch "creates" */
	for (size_t i = 0; i < git_diff_num_deltas(d); i++) {
		const git_diff_delta *dl = git_diff_get_delta(d, i);
		git_tree_entry *te = NULL;
		if (dl->status == GIT_DELTA_ADDED && git_tree_entry_bypath(&te, *tree, dl->new_file.path) == 0) {
			git_tree_entry_free(te);
			return err_set(e, -EEXIST, "%s: creates '%s', which already exists", name, dl->new_file.path);
		}
	}
	if (git_apply_to_tree(&post, repo, *tree, d, &o) < 0) {
		git_index_free(post);
		return err_set(e, -ACSO_E_PARSE, "%s: does not apply to '%s': %s", name, at ? at : "?",
			       git_why("its context is not in the file"));
	}
	git_tree *next = NULL;
	int r = git_index_write_tree_to(&oid, post, repo) < 0 || git_tree_lookup(&next, repo, &oid) < 0
		? err_set(e, -ENOMEM, "libgit2: %s", git_why("cannot write the tree")) : 0;
	git_index_free(post);
	if (r == 0) {
		git_tree_free(*tree);
		*tree = next;
	}
	return r;
}

/* Every touched path's text in the final tree, into cs. */
static int take_results(git_repository *repo, git_tree *tree, struct changeset *cs, const struct strv *paths,
			struct acso_err *e)
{
	for (size_t i = 0; i < paths->n; i++) {
		git_tree_entry *te = NULL;
		if (git_tree_entry_bypath(&te, tree, paths->v[i]) < 0) {
			cs_set(cs, paths->v[i], NULL, 0);
			continue;
		}
		git_blob *b = NULL;
		int r = git_blob_lookup(&b, repo, git_tree_entry_id(te));
		git_tree_entry_free(te);
		if (r < 0)
			return err_set(e, -ENOMEM, "libgit2: %s", git_why("a blob went missing"));
		cs_set(cs, paths->v[i], git_blob_rawcontent(b), (size_t)git_blob_rawsize(b));
		git_blob_free(b);
	}
	return 0;
}

int diff_apply_all(struct changeset *cs, const struct diff_patch_in *in, size_t n,
		   struct diff_patch_report *rep, size_t *failed, enum diff_stage *stage, struct acso_err *e)
{
	git_libgit2_init();
	git_diff **d = xcalloc(n + 1, sizeof(*d));
	struct strv paths = {0};
	git_repository *repo = NULL;
	git_tree *tree = NULL;
	int r = 0;
	*stage = DIFF_PARSE;
	for (size_t i = 0; i < n && r == 0; i++) {
		*failed = i;
		if (memmem(in[i].text, in[i].len, "\r\n", 2))
			r = err_set(e, -ACSO_E_PARSE, "%s: CRLF line endings (a kernel tree has LF): convert the "
				    "patch (dos2unix)", in[i].name);
		else {
			size_t glen;
			_cleanup_free_ char *g = gitify(in[i].text, in[i].len, &glen);
			if (git_diff_from_buffer(&d[i], g, glen) < 0)
				r = err_set(e, -ACSO_E_PARSE, "%s: %s", in[i].name, git_why("not a unified diff"));
			else if (git_diff_num_deltas(d[i]) < count_headers(g, glen))
				/* libgit2 drops a last file header with nothing after it */
				r = err_set(e, -ACSO_E_PARSE, "%s: a file header without its diff (is the patch cut "
					    "short?)", in[i].name);
			else
				r = collect(d[i], in[i].name, &paths, &rep[i], e);
		}
	}
	if (r == 0) {
		*stage = DIFF_READ;
		r = mem_repo(&repo, e);
		if (r == 0)
			r = build_tree(repo, cs, &paths, &tree, e);
	}
	if (r == 0)
		*stage = DIFF_APPLY;
	for (size_t i = 0; i < n && r == 0; i++) {
		*failed = i;
		r = apply_one(repo, &tree, d[i], in[i].name, e);
	}
	/* only now, with every patch applied, does cs change */
	if (r == 0)
		r = take_results(repo, tree, cs, &paths, e);
	git_tree_free(tree);
	git_repository_free(repo);
	for (size_t i = 0; i < n; i++)
		git_diff_free(d[i]);
	free(d);
	strv_free(&paths);
	git_libgit2_shutdown();
	return r;
}

void diff_patch_report_free(struct diff_patch_report *r)
{
	for (size_t i = 0; i < r->nf; i++) {
		free(r->files[i].path);
		free(r->files[i].hunks);
	}
	free(r->files);
	memset(r, 0, sizeof(*r));
}

int diff_unified(const char *path, const char *a, size_t alen, const char *b, size_t blen,
		 int context, struct buf *out)
{
	git_libgit2_init();
	git_diff_options o;
	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
	o.context_lines = (uint32_t)context;
	git_patch *p = NULL;
	git_buf gb = GIT_BUF_INIT;
	int r = git_patch_from_buffers(&p, a, a ? alen : 0, a ? path : NULL, b, b ? blen : 0, b ? path : NULL, &o);
	if (r == 0)
		r = git_patch_to_buf(&gb, p);
	if (r == 0)
		buf_append(out, gb.ptr, gb.size);
	git_buf_dispose(&gb);
	git_patch_free(p);
	git_libgit2_shutdown();
	return r < 0 ? -ENOMEM : 0;
}
