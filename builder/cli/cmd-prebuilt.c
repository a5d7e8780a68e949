/* cmd-prebuilt.c — `acso prebuilt [VERSION]`: add the prebuilt channel (a
 * signed APT repository, `acso publish`) to the root's apt as a deb822
 * source pinned to the channel's key, update that source alone, refuse a
 * Release dated before the last one seen, and install the image and the
 * headers of the chosen release with apt-get (in a chroot for --root DIR).
 * apt verifies and downloads into its own root-owned cache: no file a user
 * can write is installed (issue 15 A2). `--remove` takes the channel away,
 * `--purge` also the packages acso installed from it. */
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/report.h"
#include "package/installer.h"
#include "package/prebuilt.h"

struct prebuilt_args {
	const char *repo, *key;
	bool remove, purge;
};

#define OPTS struct prebuilt_args
const struct acso_option prebuilt_options[] = {
	OPT_STRING(0, "repo", repo, "URL", "the channel's APT repository (config: prebuilt_repo)"),
	OPT_STRING(0, "key", key, "FILE", "the channel's OpenPGP public key to pin (config: prebuilt_key)"),
	OPT_BOOL(0, "remove", remove, "take the channel's source and key away"),
	OPT_BOOL(0, "purge", purge, "with --remove: also purge the kernels installed from it"),
	OPT_END,
};

/* apt's own output, shown as it comes. */
static void apt_line(void *priv, const char *line)
{
	(void)priv;
	msg_info("apt: %s", line);
}

/* acso's transfer policy, also for apt: https, or plain http to loopback or
 * with --allow-http (apt verifies either way; http shows what is fetched). */
static int http_policy(struct acso_ctx *ctx, const char *url)
{
	bool allow = ctx->net.allow_http;
	int r = allow ? 0 : ctx_conf_bool(ctx, "allow_http", &allow);
	if (r || allow || !startswith(url, "http://"))
		return r;
	const char *host = url + strlen("http://");
	static const char *const loopback[] = {"127.0.0.1", "localhost", "[::1]"};
	for (size_t i = 0; i < ARRAY_SIZE(loopback); i++)
		if (startswith(host, loopback[i]) && strchr(":/", host[strlen(loopback[i])] ? host[strlen(loopback[i])] : '/'))
			return 0;
	msg_error("'%s': plain http to a host that is not loopback", url);
	msg_hint("use https, or pass --allow-http (config 'allow_http = yes'): apt still checks the signature");
	return EXIT_FAIL;
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

static void render_argv(const char *key, const struct strv *a)
{
	rp_open_array(key);
	rp_text("  ");
	for (size_t i = 0; i < a->n; i++)
		rp_string(RP_ANY, NULL, i ? " %s" : "%s", a->v[i]);
	rp_text("\n");
	rp_close_array();
}

/* --dry-run: the source file and the apt commands, nothing changed. */
static int dry_run(struct acso_ctx *ctx, const char *url, const char *want, const struct strv *opts)
{
	_cleanup_free_ char *src = prebuilt_source_text(url, PREBUILT_KEYRINGS "/acso-prebuilt.asc (or .gpg)");
	struct strv up = {0}, in = {0};
	prebuilt_apt_argv(ctx->root, "apt-get", true, &up);
	prebuilt_apt_argv(ctx->root, "apt-get", false, &in);
	for (size_t i = 0; opts && i < opts->n; i++) {
		strv_push(&up, opts->v[i]);
		strv_push(&in, opts->v[i]);
	}
	strv_push(&up, "-q");
	strv_push(&up, "update");
	strv_push(&in, "-q");
	strv_push(&in, "-y");
	strv_push(&in, "install");
	/* a series: its metapackages; else the newest release that matches */
	_cleanup_free_ char *series = prebuilt_series_of(want);
	if (series && !strcmp(series, want)) {
		strv_pushf(&in, "linux-image-acso-%s", want);
		strv_pushf(&in, "linux-headers-acso-%s", want);
	} else {
		strv_pushf(&in, "linux-image-<newest %s>", want);
		strv_pushf(&in, "linux-headers-<newest %s>", want);
	}
	report_begin(ctx);
	rp_bool(RP_JSON, "dry_run", NULL, true);
	rp_string(RP_JSON, "want", NULL, want);
	rp_text("would write %s%s:\n", strcmp(ctx->root, "/") ? ctx->root : "", PREBUILT_SOURCE);
	rp_string(RP_ANY, "source", "%s", src);
	rp_text("then run:\n");
	render_argv("update", &up);
	render_argv("install", &in);
	strv_free(&up);
	strv_free(&in);
	return report_end(EXIT_OK);
}

static int remove_channel(struct acso_ctx *ctx, const struct prebuilt_apt *pa, bool purge)
{
	struct acso_err e = {0};
	struct strv names = {0};
	prebuilt_ledger_read(ctx->rootfd, &names);
	int r = 0;
	if (purge && names.n && (r = prebuilt_installed(pa, &names, &e)) < 0) {
		strv_free(&names);
		return fail(&e, r, "purge");
	}
	if (purge && names.n && !ctx->dry_run && (r = prebuilt_apt_run(pa, "purge", &names, &e)) < 0) {
		strv_free(&names);
		return fail(&e, r, "purge");
	}
	if (!ctx->dry_run && (r = prebuilt_remove_source(ctx->rootfd, purge, &e)) < 0) {
		strv_free(&names);
		return fail(&e, r, "remove");
	}
	report_begin(ctx);
	rp_bool(RP_JSON, "dry_run", NULL, ctx->dry_run);
	rp_text("%s the channel's source and key\n", ctx->dry_run ? "would remove" : "removed");
	rp_open_array("purged");
	for (size_t i = 0; purge && i < names.n; i++)
		rp_string(RP_ANY, NULL, ctx->dry_run ? "would purge %s\n" : "purged %s\n", names.v[i]);
	rp_close_array();
	if (!purge && names.n)
		rp_text("installed from it, kept: %zu package%s (--purge removes them)\n", names.n, names.n == 1 ? "" : "s");
	strv_free(&names);
	return report_end(EXIT_OK);
}

/* Update the channel, pick the release, install it. */
static int install(struct acso_ctx *ctx, const struct prebuilt_apt *pa, const char *url, const char *key,
		   const char *want)
{
	struct acso_err e = {0};
	int r = prebuilt_add_source(ctx->rootfd, url, key, &e);
	if (r < 0)
		return fail(&e, r, "prebuilt");
	struct strv images = {0}, headers = {0}, names = {0};
	_cleanup_free_ char *arch = NULL, *date = NULL;
	_cleanup_free_ char *series = prebuilt_series_of(want), *meta = xasprintf("acso-%s", want);
	if ((r = prebuilt_update(pa, &images, &headers, &arch, &date, &e)) < 0) {
		fail(&e, r, "prebuilt");
		msg_hint("nothing was installed; apt's reasons are above. To take the channel away: acso prebuilt --remove");
		return EXIT_FAIL;
	}
	const char *rel = prebuilt_pick(&images, want);
	if (!rel) {
		msg_error("the channel has no %s kernel for '%s'", arch, want);
		for (size_t i = 0; i < images.n; i++)
			if (!startswith(images.v[i], "acso-"))
				msg_hint("it has %s", images.v[i]);
		r = EXIT_FAIL;
		goto out;
	}
	msg_info("prebuilt: %s (%s) from %s, Release of %s", rel, arch, url, date);
	/* a series through its metapackages, which apt upgrade follows to the
	 * channel's next release; a version or release as it is */
	const char *by = series && !strcmp(series, want) && strv_has(&images, meta) ? meta : rel;
	strv_pushf(&names, "linux-image-%s", by);
	if (strv_has(&headers, by))
		strv_pushf(&names, "linux-headers-%s", by);
	/* remembered first (with the release's own packages, which the
	 * metapackages pull): a kernel half-installed is still acso's to purge */
	struct strv ledger = {0};
	for (size_t i = 0; i < names.n; i++)
		strv_push(&ledger, names.v[i]);
	strv_pushf(&ledger, "linux-image-%s", rel);
	if (strv_has(&headers, rel))
		strv_pushf(&ledger, "linux-headers-%s", rel);
	r = prebuilt_ledger_add(ctx->rootfd, &ledger, &e);
	strv_free(&ledger);
	if (r < 0 ||
	    (r = prebuilt_apt_run(pa, "install", &names, &e)) < 0) {
		r = fail(&e, r, "install %s", rel);
		goto out;
	}
	report_begin(ctx);
	rp_string(RP_ANY, "release", "installed %s", rel);
	rp_string(RP_ANY, "architecture", " (%s)", arch);
	rp_string(RP_ANY, "date", " from the channel's Release of %s\n", date);
	rp_string(RP_JSON, "repo", NULL, url);
	rp_open_array("packages");
	for (size_t i = 0; i < names.n; i++)
		rp_string(RP_ANY, NULL, "  %s\n", names.v[i]);
	rp_close_array();
	rp_bool(RP_JSON, "follows_series", NULL, by == meta);
	if (by == meta)
		rp_text("apt upgrade installs the channel's next %s release through %s\n", want, names.v[0]);
	r = report_end(EXIT_OK);
out:
	strv_free(&images);
	strv_free(&headers);
	strv_free(&names);
	return r;
}

int cmd_prebuilt(struct acso_ctx *ctx, int argc, char **argv)
{
	struct prebuilt_args a = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &a, &first);
	if (r)
		return r;
	if (a.purge && !a.remove) {
		msg_error("--purge goes with --remove");
		return EXIT_USAGE;
	}
	/* the driver's --timeout and --retries reach apt's transfers */
	struct strv opts = {0};
	if (ctx->net.timeout)
		strv_pushf(&opts, "-oAcquire::http::Timeout=%u", ctx->net.timeout);
	if (ctx->net.retries >= 0)
		strv_pushf(&opts, "-oAcquire::Retries=%d", ctx->net.retries);
	struct prebuilt_apt pa = {.root = ctx->root, .rootfd = ctx->rootfd, .opts = &opts, .on_line = apt_line};
	const char *url = a.repo ? a.repo : ctx_conf(ctx, "prebuilt_repo", NULL);
	const char *key = a.key ? a.key : ctx_conf(ctx, "prebuilt_key", NULL);
	_cleanup_free_ char *want = NULL;
	if (a.remove) {
		r = remove_channel(ctx, &pa, a.purge);
	} else if (!url || !key) {
		msg_error("no prebuilt channel is configured");
		if (ctx_conf(ctx, "prebuilt_index", NULL))
			msg_hint("prebuilt_index (the index.json channel) was removed: a channel is now an APT repository; "
				 "set prebuilt_repo to its URL (see docs/guide.md)");
		else
			msg_hint("pass --repo URL --key FILE, or set prebuilt_repo and prebuilt_key in acso.conf (see docs/guide.md)");
		r = EXIT_FAIL;
	} else if ((r = http_policy(ctx, url))) {
		/* said */
	} else if (!(want = wanted_version(ctx, argc, argv, first))) {
		r = EXIT_FAIL;
	} else {
		r = ctx->dry_run ? dry_run(ctx, url, want, &opts) : install(ctx, &pa, url, key, want);
	}
	strv_free(&opts);
	return r;
}
