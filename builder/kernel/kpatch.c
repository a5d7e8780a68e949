/* kpatch.c — see kpatch.h. Moved out of cli/cmd-patch.c so that the
 * loading rules (sorted *.patch, patches/ fallback, @REF only for git) and
 * the all-or-nothing application are reached by tests/unit/test-quirks.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "kernel/kpatch.h"
#include "source/git.h"

/* A patch file loaded from somewhere, ready to parse. */
struct loaded {
	char *name;
	char *text;
	size_t len;
};

struct loaded_list {
	struct loaded *v;
	size_t n;
};

static void add_loaded(struct loaded_list *l, char *name, char *text, size_t len)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = (struct loaded){name, text, len};
}

static void loaded_free(struct loaded_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].text);
	}
	free(l->v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *kpatch_split_ref(const char *spec, char **ref)
{
	*ref = NULL;
	const char *at = strrchr(spec, '@');
	const char *slash = strrchr(spec, '/');
	if (at && (!slash || at > slash) && at[1] && !strchr(at, ':')) {
		*ref = xstrdup(at + 1);
		return xstrndup(spec, (size_t)(at - spec));
	}
	return xstrdup(spec);
}

/* The *.patch names at the repository's top, or else under patches/. */
static int list_git(struct acso_git *g, const char *ref, struct strv *names, const char **dir, struct acso_err *e)
{
	*dir = "";
	int r = acso_git_list(g, ref, "", names, e);
	size_t npatch = 0;
	for (size_t i = 0; r >= 0 && i < names->n; i++)
		npatch += endswith(names->v[i], ".patch");
	if (r >= 0 && npatch == 0) {
		strv_free(names);
		struct acso_err e2 = {0};
		if (acso_git_list(g, ref, "patches", names, &e2) >= 0)
			*dir = "patches/";
	}
	return r;
}

static int load_from_git(struct acso_git *g, const char *ref, const char *label,
			 struct loaded_list *out, struct acso_err *e)
{
	struct strv names = {0};
	const char *dir;
	int r = list_git(g, ref, &names, &dir, e);
	if (r < 0) {
		strv_free(&names);
		return r;
	}
	qsort(names.v, names.n, sizeof(char *), cmp_str);
	size_t found = 0;
	for (size_t i = 0; i < names.n; i++) {
		if (!endswith(names.v[i], ".patch"))
			continue;
		_cleanup_free_ char *path = xasprintf("%s%s", dir, names.v[i]);
		char *text;
		size_t len;
		r = acso_git_read(g, ref, path, DIFF_MAX_PATCH, &text, &len, e);
		if (r < 0) {
			strv_free(&names);
			return r;
		}
		add_loaded(out, xasprintf("%s:%s", label, path), text, len);
		found++;
	}
	strv_free(&names);
	if (!found)
		return err_set(e, -ACSO_E_NOTFOUND, "no *.patch files at the top or in patches/");
	return 0;
}

static int load_dir(const char *dir, const char *label, struct loaded_list *out, struct acso_err *e)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "%s", strerror(errno));
	int dfd = dup(fd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d)
		return err_set(e, -errno, "%s", strerror(errno));
	struct strv names = {0};
	for (struct dirent *de; (de = readdir(d));)
		if (endswith(de->d_name, ".patch") && de->d_name[0] != '.')
			strv_push(&names, de->d_name);
	closedir(d);
	if (!names.n) {
		strv_free(&names);
		return err_set(e, -ACSO_E_NOTFOUND, "no *.patch files in it");
	}
	qsort(names.v, names.n, sizeof(char *), cmp_str);
	int r = 0;
	for (size_t i = 0; i < names.n && r == 0; i++) {
		char *text;
		size_t len;
		r = read_file_at(fd, names.v[i], DIFF_MAX_PATCH, &text, &len);
		if (r < 0)
			err_set(e, r, "read '%s': %s", names.v[i], r == -EFBIG ? "too large" : strerror(-r));
		else
			add_loaded(out, xasprintf("%s/%s", label, names.v[i]), text, len);
	}
	strv_free(&names);
	return r;
}

/* A local directory: a git repository (at REF) or a plain directory. */
static int load_local(const char *where, const char *ref, struct loaded_list *out, struct acso_err *e)
{
	_cleanup_free_ char *dotgit = path_join(where, ".git");
	_cleanup_free_ char *head = path_join(where, "HEAD");
	if (access(dotgit, F_OK) == 0 || access(head, F_OK) == 0) {
		struct acso_git *g = NULL;
		int r = acso_git_open_local(where, &g, e);
		if (r == 0)
			r = load_from_git(g, ref, where, out, e);
		acso_git_close(g);
		return r;
	}
	if (ref)
		return err_set(e, -EINVAL, "'@%s' given, but '%s' is not a git repository: %s", ref, where,
			       acso_strerror(-EINVAL));
	return load_dir(where, where, out, e);
}

static int load_repo(const struct kpatch_in *in, const struct kpatch_source *s, struct loaded_list *out,
		     struct acso_err *e)
{
	_cleanup_free_ char *ref = NULL;
	bool is_git = startswith(s->spec, "git:");
	_cleanup_free_ char *where = kpatch_split_ref(is_git ? s->spec + 4 : s->spec, &ref);
	struct stat st;
	if (!is_git && stat(where, &st) == 0 && S_ISDIR(st.st_mode))
		return load_local(where, ref, out, e);
	if (!is_git)
		return err_set(e, -ENOENT, "no such directory (use git:URL for a remote repository)");
	if (in->on_fetch)
		in->on_fetch(in->priv, where);
	struct acso_git *g = NULL;
	int r = acso_git_open(in->work_dir, where, in->allow_http, &g, e);
	if (r == 0)
		r = load_from_git(g, ref, where, out, e);
	acso_git_close(g);
	return r;
}

static int load_sources(const struct kpatch_in *in, struct kpatch *k, struct loaded_list *out, struct acso_err *e)
{
	for (size_t i = 0; i < in->nsources; i++) {
		const struct kpatch_source *s = &in->sources[i];
		k->failed = i;
		if (s->repo) {
			int r = load_repo(in, s, out, e);
			if (r < 0) {
				k->stop = KP_SOURCE;
				return r;
			}
			continue;
		}
		char *text;
		size_t len;
		int r = read_file_at(AT_FDCWD, s->spec, DIFF_MAX_PATCH, &text, &len);
		if (r < 0) {
			k->stop = KP_READ_FILE;
			return err_set(e, r, "%s", r == -EFBIG ? "larger than 64 MiB" : strerror(-r));
		}
		add_loaded(out, xstrdup(s->spec), text, len);
	}
	return 0;
}

/* Every patch is parsed before anything is applied, and the changeset
 * changes only when all of them applied. */
static int apply_all(struct kpatch *k, const struct loaded_list *l, struct acso_err *e)
{
	struct diff_patch_in *in = xcalloc(l->n + 1, sizeof(*in));
	struct diff_patch_report *rep = xcalloc(l->n + 1, sizeof(*rep));
	for (size_t i = 0; i < l->n; i++)
		in[i] = (struct diff_patch_in){l->v[i].name, l->v[i].text, l->v[i].len};
	enum diff_stage stage;
	int r = l->n ? diff_apply_all(&k->cs, in, l->n, rep, &k->failed, &stage, e) : 0;
	if (r < 0)
		k->stop = stage == DIFF_PARSE ? KP_PARSE : stage == DIFF_READ ? KP_TREE_READ : KP_APPLY;
	k->patches = xcalloc(l->n + 1, sizeof(*k->patches));
	for (size_t i = 0; i < l->n; i++)
		k->patches[k->npatches++] = (struct kpatch_report){xstrdup(l->v[i].name), rep[i]};
	free(rep);
	free(in);
	return r;
}

/* Then the override, on top of what the patches made. */
static int place_override(struct kpatch *k, struct acso_err *e)
{
	const struct quirks_fragments *fr = &k->frags;
	const char *code, *doc;
	size_t code_len, doc_len;
	if (cs_get(&k->cs, fr->code_file, &code, &code_len, e) < 0 || cs_get(&k->cs, fr->doc_file, &doc, &doc_len, e) < 0) {
		k->stop = KP_TREE_READ;
		return e->code;
	}
	if (!code) {
		k->stop = KP_CODE_REMOVED;
		return -ENOENT;
	}
	int r = quirks_place(fr, code, code_len, doc, doc_len, &k->qr, e);
	if (r < 0) {
		k->stop = KP_PLACE;
		return r;
	}
	if (k->qr.code)
		cs_set(&k->cs, fr->code_file, k->qr.code, k->qr.code_len);
	if (k->qr.doc_text)
		cs_set(&k->cs, fr->doc_file, k->qr.doc_text, k->qr.doc_len);
	return 0;
}

static int open_tree(const struct kpatch_in *in, struct kpatch *k, struct acso_err *e)
{
	k->dirfd = open(in->src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (k->dirfd < 0) {
		k->stop = KP_NO_TREE;
		return err_set(e, -errno, "%s", strerror(errno));
	}
	int r = quirks_load_fragments(in->frag_dir, &k->frags, e);
	if (r < 0) {
		k->stop = KP_FRAGMENTS;
		return r;
	}
	k->have_frags = true;
	/* a tree before 4.10 documents its parameters in the old file */
	quirks_locate_doc(&k->frags, k->dirfd);
	if (faccessat(k->dirfd, k->frags.code_file, F_OK, 0) < 0) {
		k->stop = KP_NOT_KERNEL;
		return -ENOENT;
	}
	k->cs.dirfd = k->dirfd;
	return 0;
}

int kpatch_prepare(const struct kpatch_in *in, struct kpatch *k, struct acso_err *e)
{
	memset(k, 0, sizeof(*k));
	k->dirfd = -1;
	k->cs.dirfd = -1;
	struct loaded_list l = {0};
	int r = open_tree(in, k, e);
	if (r == 0)
		r = load_sources(in, k, &l, e);
	if (r == 0)
		r = apply_all(k, &l, e);
	loaded_free(&l);
	if (r == 0)
		r = place_override(k, e);
	if (r < 0)
		return r;
	cs_diff(&k->cs, &k->diff);
	for (size_t i = 0; i < k->cs.n; i++) {
		const struct cs_file *f = &k->cs.v[i];
		if (f->present != f->existed ||
		    (f->present && (f->cur_len != f->old_len || memcmp(f->cur, f->old, f->old_len))))
			strv_push(&k->changed, f->path);
	}
	k->stop = KP_DONE;
	return 0;
}

void kpatch_free(struct kpatch *k)
{
	for (size_t i = 0; i < k->npatches; i++) {
		diff_patch_report_free(&k->patches[i].d);
		free(k->patches[i].name);
	}
	free(k->patches);
	quirks_result_free(&k->qr);
	if (k->have_frags)
		quirks_fragments_free(&k->frags);
	cs_free(&k->cs);
	buf_free(&k->diff);
	strv_free(&k->changed);
	if (k->dirfd >= 0)
		close(k->dirfd);
	memset(k, 0, sizeof(*k));
	k->dirfd = -1;
}
