/* cmd-fetch.c — `acso fetch [VERSION]`: a verified kernel source tree in
 * WORK/src/linux-VERSION (and WORK/src/current), from a kernel.org mirror,
 * a local tarball with its SHA-256, or the distribution's source package. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd-net.h"
#include "cli/commands.h"
#include "cli/distro.h"
#include "source/fetch.h"
#include "base/fileio.h"
#include "cli/output.h"
#include "source/resolve.h"
#include "base/util.h"

enum { O_TARBALL = 400, O_SHA256, O_SOURCE, O_SIGN };

const struct acso_option fetch_options[] = {
	{"keyring", NET_KEYRING, "FILE|DIR", "also trust these keys (repeatable; config 'keyring')"},
	{"tarball", O_TARBALL, "FILE", "use this local tarball instead of downloading (needs --sha256)"},
	{"sha256", O_SHA256, "HEX", "the SHA-256 the --tarball must have"},
	{"sign", O_SIGN, "FILE", "the .tar.sign of --tarball (default: the .tar.sign beside it, if any)"},
	{"source", O_SOURCE, "SRC", "'kernel.org' (default), 'distro' (Debian/Ubuntu linux-source-X.Y) or 'git:URL@TAG' (signed tag verified)"},
	NET_OPTION_ROWS,
	{0},
};

struct opts {
	struct net_args net;
	const char *tarball, *sha256, *source, *sign;
};

static int on_opt(void *priv, int key, const char *arg)
{
	struct opts *o = priv;
	switch (key) {
	case O_TARBALL: o->tarball = arg; return 0;
	case O_SHA256: o->sha256 = arg; return 0;
	case O_SOURCE: o->source = arg; return 0;
	case O_SIGN: o->sign = arg; return 0;
	}
	return net_option(&o->net, key, arg);
}

struct prog {
	struct progress bar;
	const char *name;
};

static void on_progress(void *priv, const char *phase, uint64_t done, uint64_t total)
{
	struct prog *p = priv;
	progress_bytes(&p->bar, p->name, done, total);
}

static struct json_object *signer_json(const char *role, const struct pgp_signer *s)
{
	struct json_object *j = json_object_new_object();
	json_object_object_add(j, "role", json_object_new_string(role));
	json_object_object_add(j, "name", json_object_new_string(s->name));
	json_object_object_add(j, "fingerprint", json_object_new_string(s->fingerprint));
	return j;
}

static struct json_object *report(const struct fetch_result *r, const char *work_dir)
{
	struct json_object *j = json_object_new_object();
	_cleanup_free_ char *cur = xasprintf("%s/src/current", work_dir);
	json_object_object_add(j, "version", json_object_new_string(r->version));
	json_object_object_add(j, "source", json_object_new_string(r->source));
	json_object_object_add(j, "source_dir", json_object_new_string(r->source_dir));
	json_object_object_add(j, "current", json_object_new_string(cur));
	bool git = !strcmp(r->source, "git");
	json_object_object_add(j, "tarball", r->tarball[0] ? json_object_new_string(r->tarball) : NULL);
	json_object_object_add(j, "url", r->url[0] ? json_object_new_string(r->url) : NULL);
	json_object_object_add(j, "sha256", git ? NULL : json_object_new_string(r->sha256));
	json_object_object_add(j, "commit", git ? json_object_new_string(r->sha256) : NULL);
	json_object_object_add(j, "from_cache", json_object_new_boolean(r->from_cache));
	struct json_object *s = json_object_new_array();
	if (r->tar_signed)
		json_object_array_add(s, signer_json(git ? "tag" : "tarball", &r->tar_signer));
	if (r->sums_signed)
		json_object_array_add(s, signer_json("sha256sums", &r->sums_signer));
	json_object_object_add(j, "signers", s);
	json_object_object_add(j, "top_dir", json_object_new_string(r->top));
	json_object_object_add(j, "entries", json_object_new_int64((int64_t)r->entries));
	json_object_object_add(j, "bytes", json_object_new_int64((int64_t)r->bytes));
	return j;
}

static void render_text(const struct fetch_result *r)
{
	char sz[32];
	fmt_size(r->bytes, sz, sizeof(sz));
	bool git = !strcmp(r->source, "git");
	bool unsigned_tag = git && !r->tar_signed;
	printf("%s%s%s linux %s (%s%s)\n", sty(unsigned_tag ? ST_WARN : ST_PASS), unsigned_tag ? "Fetched" : "Verified",
	       sty(ST_RESET), r->version, r->source, r->from_cache ? ", cached tarball" : unsigned_tag ? ", unsigned tag" : "");
	printf("  %-12s %s\n", "tree:", r->source_dir);
	if (git) {
		printf("  %-12s %s at %s\n", "repository:", r->url, r->top);
		printf("  %-12s %s\n", "commit:", r->sha256);
		if (r->tar_signed)
			printf("  %-12s %s (%s)\n", "tag by:", r->tar_signer.name, r->tar_signer.fingerprint);
		return;
	}
	printf("  %-12s %s\n", "tarball:", r->tarball);
	printf("  %-12s %s\n", "sha256:", r->sha256);
	if (r->sums_signed)
		printf("  %-12s %s (%s)\n", "sums by:", r->sums_signer.name, r->sums_signer.fingerprint);
	if (r->tar_signed)
		printf("  %-12s %s (%s)\n", "signed by:", r->tar_signer.name, r->tar_signer.fingerprint);
	printf("  %-12s %llu entries, %s\n", "extracted:", (unsigned long long)r->entries, sz);
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

int cmd_fetch(struct acso_ctx *ctx, int argc, char **argv)
{
	struct opts o = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, on_opt, &o, &first);
	if (r)
		return r;
	const char *given = first < argc ? argv[first] : NULL;
	bool distro = false;
	if (o.source && !strcmp(o.source, "distro"))
		distro = true;
	else if (o.source && strcmp(o.source, "kernel.org") && !startswith(o.source, "git:")) {
		msg_error("fetch: --source '%s': expected 'kernel.org', 'distro' or 'git:URL@TAG'", o.source);
		return EXIT_USAGE;
	}
	if ((o.tarball != NULL) != (o.sha256 != NULL)) {
		msg_error("fetch: --tarball and --sha256 go together");
		msg_hint("a local tarball is used only with the SHA-256 you expect: sha256sum it from a trusted list");
		return EXIT_USAGE;
	}
	if (o.sign && !o.tarball) {
		msg_error("fetch: --sign goes with --tarball");
		return EXIT_USAGE;
	}
	struct fetch_opts fo = { .work_dir = ctx->work_dir };
	r = net_setup(ctx, &o.net, &fo.mirror, &fo.http);
	if (!r)
		r = net_fetch_limits(ctx, &fo.max_download, &fo.max_tree);
	if (r)
		return r;
	struct kver want;
	struct acso_err e = {0};
	if (given && kver_parse(given, &want, &e) < 0) {
		fail(&e, e.code, "fetch");
		msg_hint("give a version such as 6.6.5 or 6.8, or no version to follow 'acso resolve'");
		return EXIT_USAGE;
	}

	_cleanup_free_ char *tn = NULL;
	struct fetch_result res = {0};
	struct prog pg = { .name = "" };
	fo.progress = on_progress;
	fo.priv = &pg;
	struct pgp_keyring *kr = NULL;
	r = net_keyring(ctx, &o.net, &kr);
	if (r)
		return r;
	fo.kr = kr;

	if (distro) {
		r = distro_fetch(ctx, given ? &want : NULL, &fo, &res, &e);
		pgp_keyring_free(kr);
		if (r == DISTRO_DRY_RUN)
			return out_finish(EXIT_OK);
		if (r < 0)
			return fetch_failed(&e, r, "distro");
		goto done;
	}
	if (o.source && startswith(o.source, "git:")) {
		if (ctx->dry_run) {
			printf("would clone or fetch %s into %s/git/, verify the tag's signature and check it out into %s/src/\n",
			       o.source + 4, ctx->work_dir, ctx->work_dir);
			pgp_keyring_free(kr);
			return out_finish(EXIT_OK);
		}
		r = fetch_git(o.source + 4, &fo, &res, &e);
		pgp_keyring_free(kr);
		if (r < 0)
			return fetch_failed(&e, r, o.source);
		if (!res.tar_signed)
			msg_warn("the tag is not signed: the tree is what the repository says, unverified");
		goto done;
	}
	if (o.tarball) {
		if (ctx->dry_run) {
			printf("would verify '%s' (SHA-256 %s) and extract it into %s/src/\n", o.tarball, o.sha256, ctx->work_dir);
			pgp_keyring_free(kr);
			return out_finish(EXIT_OK);
		}
		pg.name = strrchr(o.tarball, '/') ? strrchr(o.tarball, '/') + 1 : o.tarball;
		progress_start(&pg.bar);
		r = fetch_local(o.tarball, o.sha256, o.sign, given ? &want : NULL, "tarball", &fo, &res, &e);
		progress_end(&pg.bar);
		pgp_keyring_free(kr);
		if (r < 0)
			return fetch_failed(&e, r, o.tarball);
		goto done;
	}
	if (!given) {
		/* Follow `acso resolve`: the latest point release of the running series. */
		struct resolve_req q = { .rootfd = ctx->rootfd, .mirror = fo.mirror, .http = fo.http };
		_cleanup_free_ char *cache = path_join(ctx->work_dir, "downloads");
		q.cache_dir = cache;
		struct resolve_res rr;
		r = resolve_run(&q, &rr, &e);
		if (r < 0) {
			pgp_keyring_free(kr);
			return fail(&e, r, "fetch: resolve the running kernel");
		}
		want = rr.target;
		char s[KVER_STR_MAX];
		kver_str(&want, s);
		msg_info("resolved the running kernel %s to %s (%s)", rr.id.given, s, rr.target_from);
	}
	char vs[KVER_STR_MAX], base[KVER_STR_MAX];
	kver_str(&want, vs);
	kver_tarball_base(&want, base);
	tn = xasprintf("%s.tar.xz", base);
	if (ctx->dry_run) {
		_cleanup_free_ char *u = fetch_series_url(fo.mirror, &want, tn);
		printf("would download %s, verify it (sha256sums.asc and .tar.sign) and extract it into %s/src/linux-%s\n",
		       u, ctx->work_dir, vs);
		pgp_keyring_free(kr);
		return out_finish(EXIT_OK);
	}
	pg.name = tn;
	progress_start(&pg.bar);
	r = fetch_release(&want, &fo, &res, &e);
	progress_end(&pg.bar);
	pgp_keyring_free(kr);
	if (r < 0)
		return fetch_failed(&e, r, res.url[0] ? res.url : vs);
done:;
	struct json_object *j = report(&res, ctx->work_dir);
	if (ctx->json)
		out_json(j);
	else
		render_text(&res);
	json_object_put(j);
	return out_finish(EXIT_OK);
}
