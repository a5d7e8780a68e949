/* cmd-publish.c — `acso publish DIR`: write index.json over the kernel
 * packages in DIR (and its subdirectories, one level) and sign it with gpg
 * into index.json.asc. DIR can then be served by any static web server as a
 * prebuilt channel (docs/prebuilt-index.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "base/err.h"
#include "base/fileio.h"
#include "package/index.h"
#include "cli/output.h"
#include "cli/report.h"
#include "package/publish.h"
#include "base/util.h"


struct publish_args {
	const char *key, *gpg_home, *distro, *acs_patch;
	bool no_sign;
};

#define OPTS struct publish_args
const struct acso_option publish_options[] = {
	OPT_STRING(0, "key", key, "ID", "sign with this gpg key (default: gpg's default key)"),
	OPT_STRING(0, "gpg-home", gpg_home, "DIR", "gpg home directory holding the signing key"),
	OPT_STRING(0, "distro", distro, "NAME", "distribution the kernels were built for (default: ID-VERSION_ID of /etc/os-release)"),
	OPT_STRING(0, "acs-patch", acs_patch, "VERSION", "ACS override patch version (default: acso-<acso version>)"),
	OPT_BOOL(0, "no-sign", no_sign, "write index.json only (sign it yourself: gpg --armor --detach-sign)"),
	OPT_END,
};

static int write_and_sign(const char *dir, const struct publish_args *a, const char *text)
{
	struct acso_err e = {0};
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = dfd < 0 ? -errno : write_file_atomic(dfd, "index.json", text, strlen(text), 0644, 0);
	if (r < 0) {
		msg_error("write '%s/index.json': %s", dir, acso_strerror(r));
		return EXIT_FAIL;
	}
	if (!a->no_sign && (r = publish_sign_index(dir, a->gpg_home, a->key, &e)) < 0) {
		fail(&e, r, "sign '%s/index.json'", dir);
		msg_hint("create a signing key (gpg --quick-gen-key), or pass --key ID / --gpg-home DIR");
		return EXIT_FAIL;
	}
	return 0;
}

/* --dry-run: the index itself; else what was written. */
static void render(const struct acso_ctx *ctx, const char *dir, const struct index *ix, const struct publish_args *a,
		   const char *text)
{
	if (ctx->dry_run) {
		fputs(text, stdout);
		return;
	}
	size_t npkg = 0;
	for (size_t i = 0; i < ix->n; i++)
		npkg += ix->k[i].n;
	report_begin(ctx);
	rp_string(RP_JSON, "index", NULL, dir);
	rp_int(RP_JSON, "kernels", NULL, (int64_t)ix->n);
	rp_int(RP_JSON, "packages", NULL, (int64_t)npkg);
	rp_bool(RP_JSON, "signed", NULL, !a->no_sign);
	rp_text("wrote %s/index.json: %zu kernel%s, %zu packages%s\n", dir, ix->n, ix->n == 1 ? "" : "s", npkg,
		a->no_sign ? " (not signed)" : "");
	for (size_t i = 0; i < ix->n; i++)
		rp_text("  %s %s (%s, ACS patch %s)\n", ix->k[i].release, ix->k[i].architecture, ix->k[i].distro,
			ix->k[i].acs_patch);
	if (!a->no_sign)
		rp_text("signature: %s/index.json.asc\n", dir);
}

int cmd_publish(struct acso_ctx *ctx, int argc, char **argv)
{
	struct publish_args a = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &a, &first);
	if (r)
		return r;
	const char *dir = argv[first];
	struct acso_err e = {0};
	_cleanup_free_ char *distro = a.distro ? xstrdup(a.distro) : publish_default_distro(ctx->rootfd);
	if (!distro)
		distro = xstrdup("unknown");
	_cleanup_free_ char *acs = a.acs_patch ? xstrdup(a.acs_patch) : xstrdup("acso-" ACSO_VERSION);
	struct index ix;
	struct strv skipped = {0};
	r = publish_build_index(dir, distro, acs, &ix, &skipped, &e);
	for (size_t i = 0; i < skipped.n; i++)
		msg_warn("%s (skipped)", skipped.v[i]);
	strv_free(&skipped);
	_cleanup_free_ char *text = NULL;
	if (r < 0) {
		index_free(&ix);
		return fail(&e, r, "publish '%s'", dir);
	}
	/* The writer must produce what the reader accepts (plain strings...). */
	if ((r = publish_index_text(&ix, &text, &e)) < 0) {
		index_free(&ix);
		return fail(&e, r, "publish '%s': --distro or --acs-patch", dir);
	}
	r = ctx->dry_run ? 0 : write_and_sign(dir, &a, text);
	if (r == 0)
		render(ctx, dir, &ix, &a, text);
	index_free(&ix);
	return r ? r : report_end(EXIT_OK);
}
