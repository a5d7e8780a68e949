/* cmd-patch.c — `acso patch`: extra patches (files, or a repository of
 * them), then the ACS override placed by meaning, all in memory; written
 * only when everything applied (all or nothing), or shown as a diff with
 * --dry-run; then a compile check of drivers/pci/quirks.o. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/changeset.h"
#include "cli/commands.h"
#include "kernel/diff.h"
#include "base/err.h"
#include "base/fileio.h"
#include "source/git.h"
#include "kernel/kcheck.h"
#include "kernel/kmake.h"
#include "cli/output.h"
#include "kernel/quirks.h"
#include "base/util.h"


struct patch_src {
	bool repo;
	const char *spec;
};

struct opts {
	const char *source_dir;
	struct patch_src *src;
	size_t nsrc;
	int fuzz;
	const char *emit_diff;
	bool no_compile;
	bool allow_http;
};

/* --patch and --patches go into one list: they apply in the order given. */
static int add_src(struct opts *o, bool repo, const char *arg)
{
	o->src = xrealloc(o->src, (o->nsrc + 1) * sizeof(*o->src));
	o->src[o->nsrc++] = (struct patch_src){repo, arg};
	return 0;
}
static int opt_patch(void *o, const char *arg) { return add_src(o, false, arg); }
static int opt_patches(void *o, const char *arg) { return add_src(o, true, arg); }

#define OPTS struct opts
const struct acso_option patch_options[] = {
	OPT_STRING(0, "source-dir", source_dir, "DIR", "kernel tree to patch (default WORK/src/current)"),
	OPT_CALLBACK(0, "patch", opt_patch, "FILE", "apply this unified diff first (repeatable, in order)"),
	OPT_CALLBACK(0, "patches", opt_patches, "SPEC", "apply every *.patch of git:URL[@REF] or PATH[@REF], sorted by name"),
	OPT_INT(0, "fuzz", fuzz, "N", 0, 3, "let a hunk ignore up to N context lines at each end (default 0)"),
	OPT_STRING(0, "emit-diff", emit_diff, "FILE", "also write the whole change as a plain patch file"),
	OPT_BOOL(0, "no-compile-check", no_compile, "skip compiling drivers/pci/quirks.o afterwards"),
	OPT_BOOL(0, "allow-http", allow_http, "let --patches fetch over plain http"),
	OPT_END,
};

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

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Split "SPEC@REF" where REF is a git ref (no '/' after it, no ':'). */
static char *split_ref(const char *spec, char **ref)
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

static int load_from_git(struct acso_git *g, const char *ref, const char *label,
			 struct loaded_list *out, struct acso_err *e)
{
	struct strv names = {0};
	const char *dir = "";
	int r = acso_git_list(g, ref, "", &names, e);
	size_t npatch = 0;
	for (size_t i = 0; r >= 0 && i < names.n; i++)
		npatch += endswith(names.v[i], ".patch");
	if (r >= 0 && npatch == 0) {
		/* the repository may keep them under patches/ */
		strv_free(&names);
		struct acso_err e2 = {0};
		if (acso_git_list(g, ref, "patches", &names, &e2) >= 0)
			dir = "patches/";
	}
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

static int load_sources(struct acso_ctx *ctx, const struct opts *o, struct loaded_list *out)
{
	struct acso_err e = {0};
	for (size_t i = 0; i < o->nsrc; i++) {
		const struct patch_src *s = &o->src[i];
		if (!s->repo) {
			char *text;
			size_t len;
			int r = read_file_at(AT_FDCWD, s->spec, DIFF_MAX_PATCH, &text, &len);
			if (r < 0) {
				msg_error("read '%s': %s", s->spec, r == -EFBIG ? "larger than 64 MiB" : strerror(-r));
				return EXIT_FAIL;
			}
			add_loaded(out, xstrdup(s->spec), text, len);
			continue;
		}
		_cleanup_free_ char *ref = NULL;
		bool is_git = startswith(s->spec, "git:");
		_cleanup_free_ char *where = split_ref(is_git ? s->spec + 4 : s->spec, &ref);
		struct stat st;
		int r;
		if (!is_git && stat(where, &st) == 0 && S_ISDIR(st.st_mode)) {
			struct acso_git *g = NULL;
			_cleanup_free_ char *dotgit = path_join(where, ".git");
			_cleanup_free_ char *head = path_join(where, "HEAD");
			if (access(dotgit, F_OK) == 0 || access(head, F_OK) == 0) {
				r = acso_git_open_local(where, &g, &e);
				if (r == 0)
					r = load_from_git(g, ref, where, out, &e);
				acso_git_close(g);
			} else if (ref) {
				return fail(NULL, -EINVAL, "patches '%s': '@%s' given, but '%s' is not a git repository",
					    s->spec, ref, where);
			} else
				r = load_dir(where, where, out, &e);
		} else if (is_git) {
			struct acso_git *g = NULL;
			bool allow;
			if ((r = ctx_conf_bool(ctx, "allow_http", &allow)))
				return r;
			allow = allow || o->allow_http;
			msg_info("fetching patches from '%s'", where);
			r = acso_git_open(ctx->work_dir, where, allow, &g, &e);
			if (r == 0)
				r = load_from_git(g, ref, where, out, &e);
			acso_git_close(g);
		} else {
			r = err_set(&e, -ENOENT, "no such directory (use git:URL for a remote repository)");
		}
		if (r < 0)
			return fail(&e, r, "patches '%s'", s->spec);
	}
	return 0;
}

/* Apply one parsed patch to the changeset; fills a JSON report. */
static int apply_patch(struct changeset *cs, const struct diff_patch *p, int fuzz,
		       json_object *jfiles, struct acso_err *e)
{
	for (size_t i = 0; i < p->nf; i++) {
		const struct diff_file *f = &p->f[i];
		const char *src = f->old_path ? f->old_path : f->new_path;
		const char *old;
		size_t old_len;
		int r = cs_get(cs, src, &old, &old_len, e);
		if (r < 0)
			return err_wrap(e, r, "%s", p->name);
		if (!f->old_path)
			old = old ? old : "";
		struct buf out = {0};
		struct diff_hunk_report *rep = xcalloc(f->nh, sizeof(*rep));
		r = diff_apply_file(p, f, f->old_path ? old : (old_len ? old : NULL), old_len, fuzz, &out, rep, e);
		if (r < 0) {
			free(rep);
			return r;
		}
		if (f->new_path)
			cs_set(cs, f->new_path, out.data ? out.data : "", out.len);
		if (f->old_path && (!f->new_path || strcmp(f->old_path, f->new_path)))
			cs_set(cs, f->old_path, NULL, 0);
		buf_free(&out);
		json_object *jf = json_object_new_object();
		json_object_object_add(jf, "path", json_object_new_string(f->new_path ? f->new_path : f->old_path));
		json_object *jh = json_object_new_array();
		for (size_t k = 0; k < f->nh; k++) {
			json_object *h = json_object_new_object();
			json_object_object_add(h, "line", json_object_new_int64(rep[k].at_line));
			json_object_object_add(h, "offset", json_object_new_int64(rep[k].offset));
			json_object_object_add(h, "fuzz", json_object_new_int(rep[k].fuzz));
			json_object_array_add(jh, h);
		}
		json_object_object_add(jf, "hunks", jh);
		json_object_array_add(jfiles, jf);
		free(rep);
	}
	return 0;
}

static void print_patch_report(FILE *out, const char *(*S)(enum style), json_object *jp)
{
	for (size_t i = 0; i < json_object_array_length(jp); i++) {
		json_object *p = json_object_array_get_idx(jp, i), *files, *name;
		json_object_object_get_ex(p, "name", &name);
		json_object_object_get_ex(p, "files", &files);
		fprintf(out, "patch '%s'\n", json_object_get_string(name));
		for (size_t j = 0; j < json_object_array_length(files); j++) {
			json_object *f = json_object_array_get_idx(files, j), *path, *hunks;
			json_object_object_get_ex(f, "path", &path);
			json_object_object_get_ex(f, "hunks", &hunks);
			fprintf(out, "  %s:", json_object_get_string(path));
			for (size_t k = 0; k < json_object_array_length(hunks); k++) {
				json_object *h = json_object_array_get_idx(hunks, k), *l, *off, *fz;
				json_object_object_get_ex(h, "line", &l);
				json_object_object_get_ex(h, "offset", &off);
				json_object_object_get_ex(h, "fuzz", &fz);
				fprintf(out, " hunk %zu at line %d", k + 1, json_object_get_int(l));
				if (json_object_get_int(off))
					fprintf(out, " %s(offset %+d)%s", S(ST_WARN), json_object_get_int(off), S(ST_RESET));
				if (json_object_get_int(fz))
					fprintf(out, " %s(fuzz %d)%s", S(ST_WARN), json_object_get_int(fz), S(ST_RESET));
				fprintf(out, "%s", k + 1 < json_object_array_length(hunks) ? "," : "\n");
			}
		}
	}
}

int cmd_patch(struct acso_ctx *ctx, int argc, char **argv)
{
	struct opts o = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &o, &first);
	if (r) {
		free(o.src);
		return r;
	}
	struct acso_err e = {0};
	_cleanup_free_ char *log = NULL;
	_cleanup_free_ char *src = kmake_source_dir(ctx->work_dir, o.source_dir);
	_cleanup_free_ char *frag_dir = path_join(ctx->data_dir, "patches/acs-override");
	struct quirks_fragments frags;
	struct loaded_list loaded = {0};
	struct diff_patch *parsed = NULL;
	struct changeset cs = {.dirfd = -1};
	json_object *report = json_object_new_object();
	int ret = EXIT_FAIL;

	_cleanup_close_ int dirfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		ret = fail(NULL, -errno, "source tree '%s'", src);
		if (!o.source_dir)
			msg_hint("run 'acso fetch' first, or name a tree with --source-dir DIR");
		goto out_nofrags;
	}
	if (quirks_load_fragments(frag_dir, &frags, &e) < 0) {
		ret = fail(&e, e.code, "override fragments");
		goto out_nofrags;
	}
	if (faccessat(dirfd, frags.code_file, F_OK, 0) < 0) {
		ret = fail(NULL, -ENOENT, "'%s' is not a kernel source tree: no '%s'", src, frags.code_file);
		goto out;
	}
	cs.dirfd = dirfd;

	/* Every patch is loaded and parsed before anything is applied. */
	if ((ret = load_sources(ctx, &o, &loaded)) != 0)
		goto out;
	ret = EXIT_FAIL;
	parsed = xcalloc(loaded.n + 1, sizeof(*parsed));
	for (size_t i = 0; i < loaded.n; i++)
		if (diff_parse(loaded.v[i].text, loaded.v[i].len, loaded.v[i].name, &parsed[i], &e) < 0) {
			fail(&e, e.code, "patch");
			goto out;
		}
	json_object *jpatches = json_object_new_array();
	json_object_object_add(report, "source_dir", json_object_new_string(src));
	json_object_object_add(report, "dry_run", json_object_new_boolean(ctx->dry_run));
	json_object_object_add(report, "patches", jpatches);
	for (size_t i = 0; i < loaded.n; i++) {
		json_object *jp = json_object_new_object(), *jf = json_object_new_array();
		json_object_object_add(jp, "name", json_object_new_string(loaded.v[i].name));
		json_object_object_add(jp, "files", jf);
		json_object_array_add(jpatches, jp);
		if (apply_patch(&cs, &parsed[i], o.fuzz, jf, &e) < 0) {
			fail(&e, e.code, "patch");
			msg_hint("nothing was written; fix or drop the patch (or allow inexact context with --fuzz N)");
			goto out;
		}
	}

	/* Then the override, on top of what the patches made. */
	const char *code, *doc;
	size_t code_len, doc_len;
	if (cs_get(&cs, frags.code_file, &code, &code_len, &e) < 0 ||
	    cs_get(&cs, frags.doc_file, &doc, &doc_len, &e) < 0) {
		fail(&e, e.code, "source tree '%s'", src);
		goto out;
	}
	struct quirks_result qr;
	if (!code) {
		fail(NULL, -ENOENT, "'%s': a patch removed '%s'", src, frags.code_file);
		goto out;
	}
	if (quirks_place(&frags, code, code_len, doc, doc_len, &qr, &e) < 0) {
		fail(&e, e.code, "place the ACS override in '%s/%s'", src, frags.code_file);
		msg_hint("acso places the override by meaning and could not make sense of this tree; "
			 "nothing was written");
		goto out;
	}
	if (qr.code)
		cs_set(&cs, frags.code_file, qr.code, qr.code_len);
	if (qr.doc_text)
		cs_set(&cs, frags.doc_file, qr.doc_text, qr.doc_len);
	json_object *jo = json_object_new_object();
	json_object_object_add(jo, "state", json_object_new_string(quirks_state_name(qr.state)));
	json_object_object_add(jo, "file", json_object_new_string(frags.code_file));
	json_object_object_add(jo, "table", json_object_new_string(frags.table));
	if (qr.state == QUIRKS_PLACED) {
		json_object_object_add(jo, "table_line", json_object_new_int64((int64_t)qr.table_line));
		json_object_object_add(jo, "entry_line", json_object_new_int64((int64_t)qr.entry_line));
		json_object_object_add(jo, "code_line", json_object_new_int64((int64_t)qr.code_line));
		json_object_object_add(jo, "callback", json_object_new_string(qr.callback ? qr.callback : ""));
	}
	json_object_object_add(jo, "documentation", json_object_new_string(quirks_doc_name(qr.doc)));
	if (qr.doc == QDOC_PLACED)
		json_object_object_add(jo, "doc_line", json_object_new_int64((int64_t)qr.doc_line));
	json_object_object_add(report, "override", jo);

	struct buf diff = {0};
	cs_diff(&cs, &diff);
	json_object *jchanged = json_object_new_array();
	for (size_t i = 0; i < cs.n; i++)
		if (cs.v[i].present != cs.v[i].existed || (cs.v[i].present &&
		    (cs.v[i].cur_len != cs.v[i].old_len || memcmp(cs.v[i].cur, cs.v[i].old, cs.v[i].old_len))))
			json_object_array_add(jchanged, json_object_new_string(cs.v[i].path));
	json_object_object_add(report, "files_changed", jchanged);

	if (o.emit_diff) {
		int w = write_file_atomic(AT_FDCWD, o.emit_diff, diff.data ? diff.data : "", diff.len, 0644, 0);
		if (w < 0) {
			fail(NULL, w, "write diff '%s'", o.emit_diff);
			buf_free(&diff);
			quirks_result_free(&qr);
			goto out;
		}
		json_object_object_add(report, "emitted_diff", json_object_new_string(o.emit_diff));
	}
	int written = 0;
	if (!ctx->dry_run) {
		written = cs_commit(&cs, &e);
		if (written < 0) {
			fail(&e, e.code, "patch '%s'", src);
			msg_hint("nothing was changed in the tree");
			buf_free(&diff);
			quirks_result_free(&qr);
			goto out;
		}
	}
	json_object_object_add(report, "files_written", json_object_new_int(written));

	/* The compile check: only where it means something. */
	const char *cstate, *why = NULL;
	if (o.no_compile)
		why = "--no-compile-check";
	else if (ctx->dry_run)
		why = "--dry-run";
	else if (!kmake_configured(src))
		why = "the tree is not configured yet ('acso config' compiles drivers/pci/quirks.o)";
	else {
		_cleanup_free_ char *logs = path_join(ctx->work_dir, "build/logs");
		mkdir_p_at(AT_FDCWD, logs, 0755);
		log = path_join(logs, "patch-compile-check.log");
	}
	if (!why)
		msg_info("compiling drivers/pci/quirks.o (log: %s)", log);
	json_object *jc = compile_check(src, log, why, &cstate, &e);
	if (!strcmp(cstate, "failed"))
		why = e.msg;
	json_object_object_add(report, "compile_check", jc);

	if (ctx->json) {
		if (ctx->dry_run)
			json_object_object_add(report, "diff", json_object_new_string(diff.data ? diff.data : ""));
		out_json(report);
	} else {
		if (ctx->dry_run)
			fwrite(diff.data ? diff.data : "", 1, diff.len, stdout);
		/* with --dry-run stdout is the diff alone (redirect it to a
		 * file and it applies); the report goes to stderr */
		FILE *out = ctx->dry_run ? stderr : stdout;
		const char *(*S)(enum style) = ctx->dry_run ? sty_err : sty;
		print_patch_report(out, S, jpatches);
		if (qr.state == QUIRKS_PLACED)
			fprintf(out, "override: %splaced%s in %s: code at line %zu, entry at line %zu of %s[] (line %zu)\n"
			       "  callback: %s\n",
			       S(ST_PASS), S(ST_RESET), frags.code_file, qr.code_line, qr.entry_line,
			       frags.table, qr.table_line, qr.callback ? qr.callback : "?");
		else
			fprintf(out, "override: already in the tree (%s); nothing to do\n",
			       qr.state == QUIRKS_ALREADY_ACSO ? "placed by an earlier acso run" : "from another patch or a vendor tree");
		if (qr.doc == QDOC_PLACED)
			fprintf(out, "  documentation: %s line %zu\n", frags.doc_file, qr.doc_line);
		else if (qr.doc == QDOC_MISSING_FILE)
			fprintf(out, "  documentation: no %s in this tree\n", frags.doc_file);
		if (ctx->dry_run)
			fprintf(out, "dry run: %zu file(s) would change, nothing written\n", cs_changed(&cs));
		else
			fprintf(out, "wrote %d file(s) in %s\n", written, src);
		if (o.emit_diff)
			fprintf(out, "diff written to %s\n", o.emit_diff);
		fprintf(out, "compile check: %s%s%s%s%s\n",
		       !strcmp(cstate, "passed") ? S(ST_PASS) : !strcmp(cstate, "failed") ? S(ST_FAIL) : "",
		       cstate, S(ST_RESET), why ? ": " : "", why ? why : "");
	}
	ret = !strcmp(cstate, "failed") ? EXIT_FAIL : EXIT_OK;
	if (ret)
		msg_hint("the override or a patch does not compile in this tree; see %s", log);
	buf_free(&diff);
	quirks_result_free(&qr);
	ret = out_finish(ret);
out:
	quirks_fragments_free(&frags);
out_nofrags:
	for (size_t i = 0; i < loaded.n; i++) {
		free(loaded.v[i].name);
		free(loaded.v[i].text);
		if (parsed)
			diff_patch_free(&parsed[i]);
	}
	free(loaded.v);
	free(parsed);
	cs_free(&cs);
	json_object_put(report);
	free(o.src);
	return ret;
}
