/* cmd-fetch.c — `acso fetch [VERSION]`: a verified kernel source tree in
 * WORK/src/linux-VERSION (and WORK/src/current), from a kernel.org mirror,
 * a local tarball with its SHA-256, or the distribution's source package. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd-net.h"
#include "cli/commands.h"
#include "source/distro.h"
#include "source/fetch.h"
#include "base/fileio.h"
#include "cli/output.h"
#include "cli/report.h"
#include "source/resolve.h"
#include "base/util.h"

struct opts {
	struct strv keyring;
	const char *tarball, *sha256, *source, *sign;
};

#define OPTS struct opts
const struct acso_option fetch_options[] = {
	OPT_LIST(0, "keyring", keyring, "FILE|DIR", 8, "also trust these keys (repeatable; config 'keyring')"),
	OPT_STRING(0, "tarball", tarball, "FILE", "use this local tarball instead of downloading (needs --sha256)"),
	OPT_STRING(0, "sha256", sha256, "HEX", "the SHA-256 the --tarball must have"),
	OPT_STRING(0, "sign", sign, "FILE", "the .tar.sign of --tarball (default: the .tar.sign beside it, if any)"),
	OPT_STRING(0, "source", source, "SRC", "'kernel.org' (default), 'distro' (Debian/Ubuntu linux-source-X.Y) or 'git:URL@TAG' (signed tag verified)"),
	OPT_END,
};


struct prog {
	struct progress bar;
	const char *name;
};

static void on_progress(void *priv, const char *phase, uint64_t done, uint64_t total)
{
	struct prog *p = priv;
	progress_bytes(&p->bar, p->name, done, total);
}

static void signer(const char *role, const struct pgp_signer *sg)
{
	rp_open_object(NULL);
	rp_string(RP_JSON, "role", NULL, role);
	rp_string(RP_JSON, "name", NULL, sg->name);
	rp_string(RP_JSON, "fingerprint", NULL, sg->fingerprint);
	rp_close_object();
}

static void render_json(const struct fetch_result *r, const char *work_dir)
{
	_cleanup_free_ char *cur = xasprintf("%s/src/current", work_dir);
	bool git = !strcmp(r->source, "git");
	rp_string(RP_JSON, "version", NULL, r->version);
	rp_string(RP_JSON, "source", NULL, r->source);
	rp_string(RP_JSON, "source_dir", NULL, r->source_dir);
	rp_string(RP_JSON, "current", NULL, cur);
	rp_string(RP_JSON, "tarball", NULL, r->tarball[0] ? r->tarball : NULL);
	rp_string(RP_JSON, "url", NULL, r->url[0] ? r->url : NULL);
	rp_string(RP_JSON, "sha256", NULL, git ? NULL : r->sha256);
	rp_string(RP_JSON, "commit", NULL, git ? r->sha256 : NULL);
	rp_bool(RP_JSON, "from_cache", NULL, r->from_cache);
	rp_open_array("signers");
	if (r->tar_signed)
		signer(git ? "tag" : "tarball", &r->tar_signer);
	if (r->sums_signed)
		signer("sha256sums", &r->sums_signer);
	rp_close_array();
	rp_string(RP_JSON, "top_dir", NULL, r->top);
	rp_int(RP_JSON, "entries", NULL, (int64_t)r->entries);
	rp_int(RP_JSON, "bytes", NULL, (int64_t)r->bytes);
}

static void render_text(const struct fetch_result *r)
{
	char sz[32];
	fmt_size(r->bytes, sz, sizeof(sz));
	bool git = !strcmp(r->source, "git");
	rp_text("%sVerified%s linux %s (%s%s)\n", sty(ST_PASS), sty(ST_RESET), r->version, r->source,
		r->from_cache ? ", cached tarball" : "");
	rp_text("  %-12s %s\n", "tree:", r->source_dir);
	if (git) {
		rp_text("  %-12s %s at %s\n", "repository:", r->url, r->top);
		rp_text("  %-12s %s\n", "commit:", r->sha256);
		if (r->tar_signed)
			rp_text("  %-12s %s (%s)\n", "tag by:", r->tar_signer.name, r->tar_signer.fingerprint);
		return;
	}
	rp_text("  %-12s %s\n", "tarball:", r->tarball);
	rp_text("  %-12s %s\n", "sha256:", r->sha256);
	if (r->sums_signed)
		rp_text("  %-12s %s (%s)\n", "sums by:", r->sums_signer.name, r->sums_signer.fingerprint);
	if (r->tar_signed)
		rp_text("  %-12s %s (%s)\n", "signed by:", r->tar_signer.name, r->tar_signer.fingerprint);
	rp_text("  %-12s %llu entries, %s\n", "extracted:", (unsigned long long)r->entries, sz);
}

static int fetch_failed(const struct acso_err *e, int r, const char *what)
{
	int code = fail(e, r, "fetch '%s'", what);
	switch (r) {
	case -ACSO_E_HASH:
	case -ACSO_E_BADSIG:
		msg_hint("nothing was kept: the file is corrupt or was tampered with; try again later or another mirror");
		return EXIT_BADSIG;
	case -ACSO_E_NOKEY:
		msg_hint("if you trust that key, add it with --keyring FILE; nothing was kept");
		return EXIT_NOKEY;
	case -ACSO_E_UNSAFE:
		msg_hint("nothing was kept: acso refuses unsafe downloads and archives");
		break;
	case -ACSO_E_HTTP:
		msg_hint("check the mirror and the network; a partial download is resumed by the next 'acso fetch'");
		break;
	}
	return code;
}

#define DISTRO_DRY_RUN 1

/* --source distro: the core finds, installs and verifies the package; here
 * are --dry-run and the root check. 0, DISTRO_DRY_RUN after saying what
 * would happen, or a negative code with e. */
static int fetch_distro(struct acso_ctx *ctx, const struct kver *want, const struct fetch_opts *fo,
			struct fetch_result *res, struct acso_err *e)
{
	struct distro_src d = {0};
	int r = distro_find(ctx->rootfd, want, &d, e);
	if (r == 0 && !d.installed) {
		if (ctx->dry_run) {
			printf("would run: apt-get install -y %s\n", d.pkg);
			printf("then verify it with dpkg --verify and extract it into %s/src/\n", ctx->work_dir);
			r = DISTRO_DRY_RUN;
		} else if (!strcmp(ctx->root, "/") && geteuid() != 0) {
			msg_error("%s is not installed and installing it needs root", d.pkg);
			msg_hint("run: sudo apt-get install %s", d.pkg);
			r = err_set(e, -EPERM, "needs root to install %s", d.pkg);
		} else {
			r = distro_install(ctx->root, &d, STDERR_FILENO, e);
		}
	}
	if (r == 0 && ctx->dry_run) {
		printf("would verify %s%s with dpkg --verify %s and extract it into %s/src/\n",
		       strcmp(ctx->root, "/") ? ctx->root : "", d.file, d.pkg, ctx->work_dir);
		r = DISTRO_DRY_RUN;
	}
	if (r == 0)
		r = distro_fetch(ctx->root, &d, fo, res, e);
	distro_src_free(&d);
	return r;
}

/* The options that go together; *distro for --source distro. */
static int check_args(const struct opts *o, bool *distro)
{
	*distro = o->source && !strcmp(o->source, "distro");
	if (o->source && !*distro && strcmp(o->source, "kernel.org") && !startswith(o->source, "git:")) {
		msg_error("--source '%s': expected 'kernel.org', 'distro' or 'git:URL@TAG'", o->source);
		return EXIT_USAGE;
	}
	if ((o->tarball != NULL) != (o->sha256 != NULL)) {
		msg_error("--tarball and --sha256 go together");
		msg_hint("a local tarball is used only with the SHA-256 you expect: sha256sum it from a trusted list");
		return EXIT_USAGE;
	}
	if (o->sign && !o->tarball) {
		msg_error("--sign goes with --tarball");
		return EXIT_USAGE;
	}
	return 0;
}

/* Each way to the tree returns 0 (res filled), an exit code, or -1 when a
 * dry run said what it would do. */
#define DRY_RUN_DONE (-1)

static int from_git(const struct acso_ctx *ctx, const char *src, struct fetch_opts *fo, struct fetch_result *res)
{
	struct acso_err e = {0};
	if (ctx->dry_run) {
		printf("would clone or fetch %s into %s/git/, verify the tag's signature and check it out into %s/src/\n",
		       src + 4, ctx->work_dir, ctx->work_dir);
		return DRY_RUN_DONE;
	}
	int r = fetch_git(src + 4, fo, res, &e);
	if (r < 0)
		return fetch_failed(&e, r, src);
	return 0;
}

static int from_tarball(const struct acso_ctx *ctx, const struct opts *o, const struct kver *want,
			struct fetch_opts *fo, struct fetch_result *res, struct prog *pg)
{
	struct acso_err e = {0};
	if (ctx->dry_run) {
		printf("would verify '%s' (SHA-256 %s) and extract it into %s/src/\n", o->tarball, o->sha256, ctx->work_dir);
		return DRY_RUN_DONE;
	}
	pg->name = strrchr(o->tarball, '/') ? strrchr(o->tarball, '/') + 1 : o->tarball;
	progress_start(&pg->bar);
	int r = fetch_local(o->tarball, o->sha256, o->sign, want, "tarball", fo, res, &e);
	progress_end(&pg->bar);
	return r < 0 ? fetch_failed(&e, r, o->tarball) : 0;
}

/* kernel.org: VERSION, or (want NULL) what `acso resolve` says of the
 * running kernel: the latest point release of its series. */
static int from_release(const struct acso_ctx *ctx, const struct kver *given, struct fetch_opts *fo,
			struct fetch_result *res, struct prog *pg)
{
	struct acso_err e = {0};
	struct kver want;
	if (given) {
		want = *given;
	} else {
		struct resolve_req q = { .rootfd = ctx->rootfd, .mirror = fo->mirror, .http = fo->http };
		_cleanup_free_ char *cache = path_join(ctx->work_dir, "downloads");
		q.cache_dir = cache;
		struct resolve_res rr;
		int r = resolve_run(&q, &rr, &e);
		if (r < 0)
			return fail(&e, r, "resolve the running kernel");
		want = rr.target;
		char s[KVER_STR_MAX];
		kver_str(&want, s);
		msg_info("resolved the running kernel %s to %s (%s)", rr.id.given, s, rr.target_from);
	}
	char vs[KVER_STR_MAX], base[KVER_STR_MAX];
	kver_str(&want, vs);
	kver_tarball_base(&want, base);
	_cleanup_free_ char *tn = xasprintf("%s.tar.xz", base);
	if (ctx->dry_run) {
		_cleanup_free_ char *u = fetch_series_url(fo->mirror, &want, tn);
		printf("would download %s, verify it (sha256sums.asc and .tar.sign) and extract it into %s/src/linux-%s\n",
		       u, ctx->work_dir, vs);
		return DRY_RUN_DONE;
	}
	pg->name = tn;
	progress_start(&pg->bar);
	int r = fetch_release(&want, fo, res, &e);
	progress_end(&pg->bar);
	return r < 0 ? fetch_failed(&e, r, res->url[0] ? res->url : vs) : 0;
}

static int from_distro(struct acso_ctx *ctx, const struct kver *want, struct fetch_opts *fo, struct fetch_result *res)
{
	struct acso_err e = {0};
	int r = fetch_distro(ctx, want, fo, res, &e);
	if (r == DISTRO_DRY_RUN)
		return DRY_RUN_DONE;
	return r < 0 ? fetch_failed(&e, r, "distro") : 0;
}


/* The command, with its options in *o (cmd_fetch frees what they hold). */
static int fetch_with(struct acso_ctx *ctx, int argc, char **argv, struct opts *o)
{
	int first;
	bool distro;
	int r = cmd_options(ctx, argc, argv, o, &first);
	if (r || (r = check_args(o, &distro)))
		return r;
	const char *given = first < argc ? argv[first] : NULL;
	struct fetch_opts fo = { .work_dir = ctx->work_dir };
	if ((r = net_setup(ctx, &fo.mirror, &fo.http)) || (r = net_fetch_limits(ctx, &fo.max_download, &fo.max_tree)))
		return r;
	struct kver want;
	struct acso_err e = {0};
	if (given && kver_parse(given, &want, &e) < 0) {
		fail(&e, e.code, "fetch");
		msg_hint("give a version such as 6.6.5 or 6.8, or no version to follow 'acso resolve'");
		return EXIT_USAGE;
	}
	struct fetch_result res = {0};
	struct prog pg = { .name = "" };
	fo.progress = on_progress;
	fo.priv = &pg;
	struct pgp_keyring *kr = NULL;
	if ((r = net_keyring(ctx, &o->keyring, &kr)))
		return r;
	fo.kr = kr;
	const struct kver *w = given ? &want : NULL;
	if (distro)
		r = from_distro(ctx, w, &fo, &res);
	else if (o->source && startswith(o->source, "git:"))
		r = from_git(ctx, o->source, &fo, &res);
	else if (o->tarball)
		r = from_tarball(ctx, o, w, &fo, &res, &pg);
	else
		r = from_release(ctx, w, &fo, &res, &pg);
	pgp_keyring_free(kr);
	if (r == DRY_RUN_DONE)
		return out_finish(EXIT_OK);
	if (r)
		return r;
	report_begin(ctx);
	render_json(&res, ctx->work_dir);
	render_text(&res);
	return report_end(EXIT_OK);
}

int cmd_fetch(struct acso_ctx *ctx, int argc, char **argv)
{
	struct opts o = {0};
	int r = fetch_with(ctx, argc, argv, &o);
	strv_free(&o.keyring); /* filled by the option parser (--keyring) */
	return r;
}
