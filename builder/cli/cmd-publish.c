/* cmd-publish.c — `acso publish DIR`: make DIR, a directory of built kernel
 * packages (and its subdirectories, one level), a flat signed APT
 * repository that any static web server can host: Packages (+ .gz, .xz),
 * Release with a Date and a Valid-Until, InRelease and Release.gpg signed
 * with the publisher's gpg key, and that key exported for users to pin.
 * Publishing again after adding a build's packages adds the new release and
 * keeps the old ones; --keep N prunes to the newest N per architecture. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/report.h"
#include "package/publish.h"

struct publish_args {
	const char *key, *gpg_home;
	uint32_t valid_days, keep;
};

#define OPTS struct publish_args
const struct acso_option publish_options[] = {
	OPT_STRING(0, "key", key, "ID", "sign with this gpg key (default: the first secret key)"),
	OPT_STRING(0, "gpg-home", gpg_home, "DIR", "gpg home directory holding the signing key (default: $GNUPGHOME)"),
	OPT_UINT(0, "valid-days", valid_days, "N", 1, 3650, "Release is valid for N days (default 30)"),
	OPT_UINT(0, "keep", keep, "N", 1, 1000, "keep only the newest N releases per architecture"),
	OPT_END,
};

static void render(const struct acso_ctx *ctx, const char *dir, const struct publish_result *res)
{
	report_begin(ctx);
	rp_string(RP_JSON, "repo", NULL, dir);
	rp_bool(RP_JSON, "dry_run", NULL, ctx->dry_run);
	rp_text("%s %s: a flat APT repository of %zu kernel%s\n", ctx->dry_run ? "would publish" : "published", dir,
		res->releases.n, res->releases.n == 1 ? "" : "s");
	rp_open_array("releases");
	for (size_t i = 0; i < res->releases.n; i++)
		rp_string(RP_ANY, NULL, "  %s\n", res->releases.v[i]);
	rp_close_array();
	rp_open_array("pruned");
	for (size_t i = 0; i < res->pruned.n; i++)
		rp_string(RP_ANY, NULL, "  removed %s\n", res->pruned.v[i]);
	rp_close_array();
	if (ctx->dry_run)
		return;
	rp_string(RP_ANY, "date", "Date:        %s\n", res->date);
	rp_string(RP_ANY, "valid_until", "Valid-Until: %s\n", res->valid_until);
	rp_string(RP_ANY, "key", "signed by:   %s\n", res->key);
	_cleanup_free_ char *kf = xasprintf("%s/%s", dir, PUBLISH_KEY_FILE);
	rp_string(RP_ANY, "key_file", "public key:  %s (users pin it: acso prebuilt --key)\n", kf);
}

int cmd_publish(struct acso_ctx *ctx, int argc, char **argv)
{
	struct publish_args a = {.valid_days = PUBLISH_VALID_DAYS};
	int first;
	int r = cmd_options(ctx, argc, argv, &a, &first);
	if (r)
		return r;
	const char *dir = argv[first];
	struct acso_err e = {0};
	struct publish_result res = {0};
	/* acso's children get an allow-listed environment: gpg's home is passed on */
	struct publish_opts o = {.gpg_home = a.gpg_home ? a.gpg_home : getenv("GNUPGHOME"), .key = a.key, .valid_days = a.valid_days, .keep = a.keep};
	if (ctx->dry_run) {
		/* what would be published (and pruned), nothing written */
		struct strv files = {0};
		r = publish_scan(dir, &res.releases, &files, &res.skipped, &e);
		for (size_t i = a.keep; r == 0 && a.keep && i < res.releases.n; i++)
			strv_pushf(&res.pruned, "%s (with --keep)", res.releases.v[i]);
		strv_free(&files);
	} else {
		r = publish_repo(dir, &o, &res, &e);
	}
	for (size_t i = 0; i < res.skipped.n; i++)
		msg_warn("%s", res.skipped.v[i]);
	if (r < 0) {
		fail(&e, r, "publish '%s'", dir);
		if (r == -ACSO_E_NOKEY || r == -ACSO_E_CHILD)
			msg_hint("create a signing key (gpg --quick-gen-key), or pass --key ID / --gpg-home DIR; "
				 "apt-ftparchive comes with apt-utils");
		publish_result_free(&res);
		return EXIT_FAIL;
	}
	render(ctx, dir, &res);
	publish_result_free(&res);
	return report_end(EXIT_OK);
}
