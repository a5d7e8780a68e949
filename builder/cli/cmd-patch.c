/* cmd-patch.c — `acso patch`: extra patches (files, or a repository of
 * them), then the ACS override placed by meaning, all in memory; written
 * only when everything applied (all or nothing), or shown as a diff with
 * --dry-run; then a compile check of drivers/pci/quirks.o. The work is
 * kernel/kpatch.c's; this file words it. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/util.h"
#include "cli/commands.h"
#include "kernel/kcheck.h"
#include "cli/output.h"
#include "cli/report.h"
#include "kernel/kmake.h"
#include "kernel/kpatch.h"

struct patch_src {
	bool repo;
	const char *spec;
};

struct opts {
	const char *source_dir;
	struct patch_src *src;
	size_t nsrc;
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
	OPT_STRING(0, "emit-diff", emit_diff, "FILE", "also write the whole change as a plain patch file"),
	OPT_BOOL(0, "no-compile-check", no_compile, "skip compiling drivers/pci/quirks.o afterwards"),
	OPT_BOOL(0, "allow-http", allow_http, "let --patches fetch over plain http"),
	OPT_END,
};

static void on_fetch(void *priv, const char *where)
{
	msg_info("fetching patches from '%s'", where);
}

/* Where the work stopped, worded; nothing was written. */
static int prepare_failed(const struct kpatch *k, const struct kpatch_in *in, bool default_src, struct acso_err *e)
{
	const char *code_file = k->frags.code_file;
	switch (k->stop) {
	case KP_NO_TREE: {
		int ret = fail(NULL, e->code, "source tree '%s'", in->src);
		if (default_src)
			msg_hint("run 'acso fetch' first, or name a tree with --source-dir DIR");
		return ret;
	}
	case KP_FRAGMENTS:
		return fail(e, e->code, "override fragments");
	case KP_NOT_KERNEL:
		return fail(NULL, -ENOENT, "'%s' is not a kernel source tree: no '%s'", in->src, code_file);
	case KP_READ_FILE:
		msg_error("read '%s': %s", in->sources[k->failed].spec, e->msg);
		return EXIT_FAIL;
	case KP_SOURCE:
		return fail(e, e->code, "patches '%s'", in->sources[k->failed].spec);
	case KP_PARSE:
	case KP_APPLY:
		fail(e, e->code, "patch");
		msg_hint("nothing was written; fix or drop the patch ('git apply --check' tells the same)");
		return EXIT_FAIL;
	case KP_TREE_READ:
		return fail(e, e->code, "source tree '%s'", in->src);
	case KP_CODE_REMOVED:
		return fail(NULL, -ENOENT, "'%s': a patch removed '%s'", in->src, code_file);
	case KP_PLACE:
		fail(e, e->code, "place the ACS override in '%s/%s'", in->src, code_file);
		msg_hint("acso places the override by meaning and could not make sense of this tree; "
			 "nothing was written");
		return EXIT_FAIL;
	default:
		return fail(e, e->code, "patch");
	}
}

/* What each patch changed, file by file, with its hunks' lines. */
static void rp_patches(const struct kpatch *k)
{
	rp_open_array("patches");
	for (size_t i = 0; i < k->npatches; i++) {
		const struct kpatch_report *p = &k->patches[i];
		rp_open_object(NULL);
		rp_string(RP_ANY, "name", "patch '%s'\n", p->name);
		rp_open_array("files");
		for (size_t j = 0; j < p->d.nf; j++) {
			const struct diff_file_report *f = &p->d.files[j];
			rp_open_object(NULL);
			rp_string(RP_ANY, "path", "  %s:", f->path);
			rp_open_array("hunks");
			for (size_t h = 0; h < f->nh; h++) {
				rp_open_object(NULL);
				rp_text(" hunk %zu", h + 1);
				rp_int(RP_ANY, "line", " at line %lld", f->hunks[h].at_line);
				rp_int(RP_JSON, "lines", NULL, f->hunks[h].lines);
				rp_text("%s", h + 1 < f->nh ? "," : "\n");
				rp_close_object();
			}
			rp_close_array();
			rp_close_object();
		}
		rp_close_array();
		rp_close_object();
	}
	rp_close_array();
}

/* Where the override went (or that it was there already). */
static void rp_override(const struct kpatch *k, const char *(*S)(enum style))
{
	const struct quirks_result *qr = &k->qr;
	const struct quirks_fragments *fr = &k->frags;
	bool placed = qr->state == QUIRKS_PLACED;
	rp_open_object("override");
	rp_string(RP_JSON, "state", NULL, quirks_state_name(qr->state));
	rp_string(RP_JSON, "file", NULL, fr->code_file);
	rp_string(RP_JSON, "table", NULL, fr->table);
	if (placed) {
		rp_text("override: %splaced%s in %s: code at line %zu, entry at line %zu of %s[] (line %zu)\n",
			S(ST_PASS), S(ST_RESET), fr->code_file, qr->code_line, qr->entry_line, fr->table, qr->table_line);
		rp_uint(RP_JSON, "table_line", NULL, qr->table_line);
		rp_uint(RP_JSON, "entry_line", NULL, qr->entry_line);
		rp_uint(RP_JSON, "code_line", NULL, qr->code_line);
		rp_string(RP_JSON, "callback", NULL, qr->callback ? qr->callback : "");
		rp_text("  callback: %s\n", qr->callback ? qr->callback : "?");
	} else {
		rp_text("override: already in the tree (%s); nothing to do\n", qr->state == QUIRKS_ALREADY_ACSO ?
			"placed by an earlier acso run" : "from another patch or a vendor tree");
	}
	rp_string(RP_JSON, "documentation", NULL, quirks_doc_name(qr->doc));
	if (qr->doc == QDOC_PLACED) {
		rp_uint(RP_JSON, "doc_line", NULL, qr->doc_line);
		rp_text("  documentation: %s line %zu\n", fr->doc_file, qr->doc_line);
	} else if (qr->doc == QDOC_MISSING_FILE)
		rp_text("  documentation: no %s in this tree\n", fr->doc_file);
	rp_close_object();
}

/* The compile check: only where it means something. */
static json_object *check(struct acso_ctx *ctx, const struct opts *o, const char *src, char **log,
			  const char **cstate, const char **why, struct acso_err *e)
{
	*why = NULL;
	if (o->no_compile)
		*why = "--no-compile-check";
	else if (ctx->dry_run)
		*why = "--dry-run";
	else if (!kmake_configured(src))
		*why = "the tree is not configured yet ('acso config' compiles drivers/pci/quirks.o)";
	else {
		_cleanup_free_ char *logs = path_join(ctx->work_dir, "build/logs");
		mkdir_p_at(AT_FDCWD, logs, 0755);
		*log = path_join(logs, "patch-compile-check.log");
	}
	if (!*why)
		msg_info("compiling drivers/pci/quirks.o (log: %s)", *log);
	json_object *jc = compile_check(src, *log, *why, cstate, e);
	if (!strcmp(*cstate, "failed"))
		*why = e->msg;
	return jc;
}

/* Write the diff file and the tree: -1 when that failed (worded). */
static int write_out(struct acso_ctx *ctx, const struct opts *o, struct kpatch *k, const char *src, int *written)
{
	struct acso_err e = {0};
	*written = 0;
	if (o->emit_diff) {
		int w = write_file_atomic(AT_FDCWD, o->emit_diff, k->diff.data ? k->diff.data : "", k->diff.len, 0644, 0);
		if (w < 0)
			return fail(NULL, w, "write diff '%s'", o->emit_diff), -1;
	}
	if (ctx->dry_run)
		return 0;
	*written = cs_commit(&k->cs, &e);
	if (*written < 0) {
		fail(&e, e.code, "patch '%s'", src);
		msg_hint("nothing was changed in the tree");
		return -1;
	}
	return 0;
}

static int render(struct acso_ctx *ctx, const struct opts *o, struct kpatch *k, const char *src, int written)
{
	struct acso_err e = {0};
	_cleanup_free_ char *log = NULL;
	const char *cstate, *why;
	json_object *jc = check(ctx, o, src, &log, &cstate, &why, &e);
	bool failed = !strcmp(cstate, "failed");
	/* a tree that does not compile is put back as it was */
	struct acso_err re = {0};
	int restored = failed && written > 0 ? cs_rollback(&k->cs, &re) : 0;
	report_begin(ctx);
	if (ctx->dry_run && !report_json()) {
		fwrite(k->diff.data ? k->diff.data : "", 1, k->diff.len, stdout);
		/* stdout is the diff alone (redirect it to a file and it
		 * applies); the report goes to stderr */
		report_text_to(stderr);
	}
	const char *(*S)(enum style) = ctx->dry_run ? sty_err : sty;
	rp_string(RP_JSON, "source_dir", NULL, src);
	rp_bool(RP_JSON, "dry_run", NULL, ctx->dry_run);
	rp_patches(k);
	rp_override(k, S);
	rp_open_array("files_changed");
	for (size_t i = 0; i < k->changed.n; i++)
		rp_string(RP_JSON, NULL, NULL, k->changed.v[i]);
	rp_close_array();
	if (ctx->dry_run)
		rp_text("dry run: %zu file(s) would change, nothing written\n", cs_changed(&k->cs));
	else
		rp_text("wrote %d file(s) in %s\n", written, src);
	if (o->emit_diff)
		rp_string(RP_ANY, "emitted_diff", "diff written to %s\n", o->emit_diff);
	rp_int(RP_JSON, "files_written", NULL, written);
	rp_json("compile_check", jc);
	rp_text("compile check: %s%s%s%s%s\n",
		!strcmp(cstate, "passed") ? S(ST_PASS) : failed ? S(ST_FAIL) : "", cstate,
		S(ST_RESET), why ? ": " : "", why ? why : "");
	if (ctx->dry_run)
		rp_string(RP_JSON, "diff", NULL, k->diff.data ? k->diff.data : "");
	if (failed) {
		rp_int(RP_JSON, "files_restored", NULL, restored < 0 ? 0 : restored);
		if (restored >= 0)
			rp_text("put back %d file(s) as they were: the tree is unchanged\n", restored);
	}
	int ret = failed ? EXIT_FAIL : EXIT_OK;
	if (restored < 0)
		fail(&re, re.code, "patch '%s'", src);
	if (ret)
		msg_hint("the override or a patch does not compile in this tree%s; see %s",
			 restored > 0 ? " (it was taken out again)" : "", log);
	return report_end(ret);
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
	_cleanup_free_ char *src = kmake_source_dir(ctx->work_dir, o.source_dir);
	_cleanup_free_ char *frag_dir = path_join(ctx->data_dir, "patches/acs-override");
	struct kpatch_source *sources = xcalloc(o.nsrc + 1, sizeof(*sources));
	for (size_t i = 0; i < o.nsrc; i++)
		sources[i] = (struct kpatch_source){o.src[i].repo, o.src[i].spec};
	bool allow_http;
	if ((r = ctx_conf_bool(ctx, "allow_http", &allow_http))) {
		free(sources);
		free(o.src);
		return r;
	}
	struct kpatch_in in = {
		.src = src, .frag_dir = frag_dir, .work_dir = ctx->work_dir, .sources = sources, .nsources = o.nsrc,
		.allow_http = o.allow_http || allow_http,
		.on_fetch = on_fetch,
	};
	struct kpatch k;
	int written = 0;
	if (kpatch_prepare(&in, &k, &e) < 0)
		r = prepare_failed(&k, &in, !o.source_dir, &e);
	else if (write_out(ctx, &o, &k, src, &written) < 0)
		r = EXIT_FAIL;
	else
		r = render(ctx, &o, &k, src, written);
	kpatch_free(&k);
	free(sources);
	free(o.src);
	return r;
}
