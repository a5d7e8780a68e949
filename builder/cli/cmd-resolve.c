/* cmd-resolve.c — `acso resolve [RELEASE]`: which upstream release matches
 * the running kernel (or RELEASE), and whether its series is end of life. */
#include <string.h>

#include "cli/cmd-net.h"
#include "cli/commands.h"
#include "source/fetch.h"
#include "base/fileio.h"
#include "cli/output.h"
#include "cli/report.h"
#include "source/resolve.h"
#include "base/util.h"

struct opts {
	const char *series, *version;
	bool longterm, offline;
};

#define OPTS struct opts
const struct acso_option resolve_options[] = {
	OPT_STRING(0, "series", series, "X.Y", "use this series instead of the running kernel's"),
	OPT_STRING(0, "version", version, "X.Y.Z", "target exactly this release"),
	OPT_BOOL(0, "longterm", longterm, "target the nearest longterm series instead"),
	OPT_BOOL(0, "offline", offline, "contact no mirror: report what the version strings say (and a cached releases.json)"),
	OPT_END,
};


/* The version as text into buf, or NULL when not known. */
static const char *ver_or_null(bool have, const struct kver *v, char buf[KVER_STR_MAX])
{
	if (!have)
		return NULL;
	kver_str(v, buf);
	return buf;
}

static void render_tarball(const struct resolve_res *r, const char *mirror, const char *target)
{
	char base[KVER_STR_MAX] = "";
	if (r->have_target)
		kver_tarball_base(&r->target, base);
	_cleanup_free_ char *tn = base[0] ? xasprintf("%s.tar.xz", base) : NULL;
	_cleanup_free_ char *sn = base[0] ? xasprintf("%s.tar.sign", base) : NULL;
	_cleanup_free_ char *tu = tn ? fetch_series_url(mirror, &r->target, tn) : NULL;
	_cleanup_free_ char *su = sn ? fetch_series_url(mirror, &r->target, sn) : NULL;
	rp_string(RP_JSON, "tarball", NULL, tn);
	rp_string(RP_ANY, "tarball_url", "Tarball:   %s\n", tu);
	rp_string(RP_JSON, "sign_url", NULL, su);
	if (!tu && target)
		rp_text("Tarball:   none: release candidates and linux-next have no signed tarball\n");
}

/* The report, each field once: JSON, or the text lines "Kernel: ..." */
static void render(const struct resolve_res *r, const char *mirror, char lt[KVER_STR_MAX], char lts[KVER_STR_MAX])
{
	char series[KVER_STR_MAX], ub[KVER_STR_MAX], tb[KVER_STR_MAX];
	rp_string(RP_ANY, "given", "Kernel:    %s", r->id.given);
	rp_bool(RP_JSON, "running", NULL, r->running);
	rp_text("%s\n", r->running ? " (running)" : "");
	rp_string(RP_ANY, "distro", "Distro:    %s", r->id.distro);
	rp_string(RP_ANY, "distro_label", " (%s)", r->id.label[0] ? r->id.label : NULL);
	rp_text("\n");
	kver_series_str(&r->series, series);
	rp_string(RP_ANY, "series", "Series:    %s\n", series);
	const char *up = ver_or_null(r->id.upstream_known, &r->id.upstream, ub);
	rp_string(RP_ANY, "upstream", "Upstream:  %s", up);
	rp_string(RP_JSON, "upstream_from", NULL, r->id.upstream_from);
	rp_string(RP_JSON, "upstream_unknown_why", NULL, r->id.upstream_unknown_why);
	if (up)
		rp_text(" (from %s)\n", r->id.upstream_from);
	else
		rp_text("Upstream:  unknown (%s)\n",
			r->id.upstream_unknown_why ? r->id.upstream_unknown_why : "the release names no upstream version");
	const char *tg = ver_or_null(r->have_target, &r->target, tb);
	rp_string(RP_JSON, "target", NULL, tg);
	rp_string(RP_JSON, "target_from", NULL, r->target_from);
	if (tg)
		rp_text("Target:    %s%s%s (%s)\n", sty(ST_BOLD), tg, sty(ST_RESET), r->target_from);
	else
		rp_text("Target:    none (offline)\n");
	render_tarball(r, mirror, tg);
	rp_string(RP_JSON, "moniker", NULL, r->moniker[0] ? r->moniker : NULL);
	if (r->eol_known)
		rp_bool(RP_JSON, "eol", NULL, r->eol);
	else
		rp_null(RP_JSON, "eol", NULL);
	if (r->eol_known)
		rp_text("Status:    %s%s%s\n", r->eol ? sty(ST_WARN) : sty(ST_PASS),
			r->eol ? "end of life" : (r->moniker[0] ? r->moniker : "maintained"), sty(ST_RESET));
	rp_string(RP_ANY, "longterm", "Longterm:  %s", ver_or_null(r->have_longterm, &r->longterm, lt));
	if (r->have_longterm)
		kver_series_str(&r->longterm, lts);
	rp_string(RP_ANY, "longterm_series", " (series %s)\n", r->have_longterm ? lts : NULL);
	rp_bool(RP_JSON, "releases_cached", NULL, r->releases_cached);
}

int cmd_resolve(struct acso_ctx *ctx, int argc, char **argv)
{
	struct opts o = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &o, &first);
	if (r)
		return r;
	struct resolve_req q = {
		.given = first < argc ? argv[first] : NULL,
		.rootfd = ctx->rootfd,
		.series = o.series,
		.version = o.version,
		.longterm = o.longterm,
		.offline = o.offline,
	};
	r = net_setup(ctx, &q.mirror, &q.http);
	if (r)
		return r;
	_cleanup_free_ char *cache = path_join(ctx->work_dir, "downloads");
	q.cache_dir = cache;
	struct resolve_res res;
	struct acso_err e = {0};
	r = resolve_run(&q, &res, &e);
	if (r < 0) {
		int code = fail(&e, r, "resolve%s%s%s", q.given ? " '" : "", q.given ? q.given : "", q.given ? "'" : "");
		if (r == -ACSO_E_PARSE)
			msg_hint("give a release such as 6.1.0-21-amd64, 6.8.1 or 'Ubuntu 5.3.0-24.26-generic 5.3.13'");
		else if (r == -ACSO_E_UNSUPPORTED)
			msg_hint("run acso on the Linux machine whose GPU is to be passed through");
		else if (r == -ACSO_E_HTTP || r == -ACSO_E_UNSAFE)
			msg_hint("check the mirror (--mirror URL), or use --offline");
		return code;
	}
	char lt[KVER_STR_MAX], lts[KVER_STR_MAX];
	report_begin(ctx);
	render(&res, q.mirror, lt, lts);
	if (!ctx->json && res.eol_known && res.eol) {
		char s[KVER_STR_MAX];
		kver_series_str(&res.series, s);
		msg_warn("series %s is end of life: it gets no more fixes", s);
		if (res.have_longterm)
			msg_hint("the nearest longterm series is %s: 'acso resolve --longterm' or 'acso fetch %s'", lts, lt);
	}
	return report_end(EXIT_OK);
}
