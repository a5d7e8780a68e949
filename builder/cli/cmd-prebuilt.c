/* cmd-prebuilt.c — `acso prebuilt [VERSION]`: fetch a channel's signed
 * index, verify its signature natively (pgp.h) against the channel's key,
 * pick the kernel for the running series (or VERSION) and architecture,
 * download its packages (resumable), verify size, SHA-256 and the control
 * fields of each, and install them through the same code as `acso install`.
 * No channel is configured by default. */
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "cli/commands.h"
#include "cli/install-step.h"
#include "cli/output.h"
#include "cli/report.h"
#include "package/install.h"
#include "package/installer.h"
#include "package/prebuilt.h"
#include "source/http.h"


struct prebuilt_args {
	const char *index, *key, *arch;
};

#define OPTS struct prebuilt_args
const struct acso_option prebuilt_options[] = {
	OPT_STRING(0, "index", index, "URL", "the channel's index.json (config: prebuilt_index); its signature is URL.asc"),
	OPT_STRING(0, "key", key, "FILE", "the channel's OpenPGP public key (config: prebuilt_key)"),
	OPT_STRING(0, "arch", arch, "ARCH", "Debian architecture to pick (default: this machine's)"),
	OPT_END,
};

static int verify_code(int r)
{
	if (r == -ACSO_E_BADSIG)
		return EXIT_BADSIG;
	if (r == -ACSO_E_NOKEY)
		return EXIT_NOKEY;
	if (r == -ACSO_E_PARSE || r == -ACSO_E_UNSUPPORTED)
		return EXIT_MALFORMED;
	return EXIT_FAIL;
}

/* The signed index of the channel; prints why when it fails. Returns an exit code. */
static int channel_index(const char *url, const char *key, const struct http_opts *policy, struct index *ix)
{
	struct acso_err e = {0};
	bool bad_sig = false;
	int r = prebuilt_fetch_index(url, key, policy, ix, &bad_sig, &e);
	if (r == 0)
		return EXIT_OK;
	int code = bad_sig ? verify_code(r) : EXIT_FAIL;
	fail(&e, r, "prebuilt");
	if (code == EXIT_BADSIG || code == EXIT_NOKEY)
		msg_hint("the index is not signed by the channel's key: nothing was downloaded or installed");
	return code;
}

/* VERSION, or the running kernel's series. NULL (with a message) when unknown. */
static char *wanted_version(struct acso_ctx *ctx, int argc, char **argv, int first)
{
	if (first < argc)
		return xstrdup(argv[first]);
	_cleanup_free_ char *running = install_running_or_host(ctx->root, ctx->rootfd);
	char *want = running ? prebuilt_series_of(running) : NULL;
	if (!want) {
		msg_error("cannot tell the running kernel's series");
		msg_hint("name the version: acso prebuilt 6.1");
	}
	return want;
}

static int report_dry_run(const struct acso_ctx *ctx, const struct index_kernel *k)
{
	report_begin(ctx);
	rp_string(RP_JSON, "release", NULL, k->release);
	rp_string(RP_JSON, "architecture", NULL, k->architecture);
	rp_bool(RP_JSON, "dry_run", NULL, true);
	rp_text("would download and install %s:\n", k->release);
	rp_open_array("packages");
	for (size_t i = 0; i < k->n; i++)
		if (prebuilt_wanted(&k->pkgs[i])) {
			rp_string(RP_ANY, NULL, "  %-34s ", k->pkgs[i].package);
			rp_text("%s  %s\n", k->pkgs[i].version, k->pkgs[i].sha256);
		}
	rp_close_array();
	return report_end(EXIT_OK);
}

/* Download k's packages and install them through the install step. */
static int download_install(struct acso_ctx *ctx, const char *url, const struct index_kernel *k,
			    const struct http_opts *policy)
{
	struct acso_err e = {0};
	struct strv paths = {0};
	_cleanup_free_ char *dir = xasprintf("%s/downloads/prebuilt/%s", ctx->work_dir, k->release);
	int r = prebuilt_download(url, k, dir, policy, &paths, &e);
	if (r < 0) {
		strv_free(&paths);
		fail(&e, r, "prebuilt");
		msg_hint("nothing was installed; a package that does not match its signed index is not used");
		return EXIT_FAIL;
	}
	struct install_plan plan;
	r = install_plan_build(&plan, paths.v, paths.n, false, false, &e);
	strv_free(&paths);
	if (r < 0)
		return fail(&e, r, "prebuilt");
	r = install_step(ctx, &plan);
	install_plan_free(&plan);
	return r;
}

int cmd_prebuilt(struct acso_ctx *ctx, int argc, char **argv)
{
	struct prebuilt_args a = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &a, &first);
	if (r)
		return r;
	struct acso_err e = {0};
	const char *url = a.index ? a.index : ctx_conf(ctx, "prebuilt_index", NULL);
	const char *key = a.key ? a.key : ctx_conf(ctx, "prebuilt_key", NULL);
	bool allow_http;
	if ((r = ctx_conf_bool(ctx, "allow_http", &allow_http)))
		return r;
	allow_http = allow_http || ctx->net.allow_http;
	if (!url || !key) {
		msg_error("no prebuilt channel is configured");
		msg_hint("pass --index URL --key FILE, or set prebuilt_index and prebuilt_key in acso.conf (see docs/guide.md)");
		return EXIT_FAIL;
	}
	struct index ix;
	/* the driver's --timeout and --retries (2 retries unless given) for
	 * every transfer of this command */
	struct http_opts policy = {.allow_http = allow_http, .retries = ctx->net.retries >= 0 ? ctx->net.retries : 2};
	if (ctx->net.timeout)
		policy.connect_timeout = policy.low_speed_time = (long)ctx->net.timeout;
	if ((r = channel_index(url, key, &policy, &ix)))
		return r;
	_cleanup_free_ char *want = wanted_version(ctx, argc, argv, first);
	const struct index_kernel *k = want ? index_pick(&ix, want, a.arch ? a.arch : prebuilt_debian_arch(), &e) : NULL;
	if (!want)
		r = EXIT_FAIL;
	else if (!k)
		r = fail(&e, -ACSO_E_NOTFOUND, "prebuilt");
	else {
		msg_info("prebuilt: %s (%s, built for %s, ACS patch %s) from %s", k->release, k->architecture, k->distro,
			 k->acs_patch, url);
		r = ctx->dry_run ? report_dry_run(ctx, k) : download_install(ctx, url, k, &policy);
	}
	index_free(&ix);
	return r;
}
