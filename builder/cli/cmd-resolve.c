/* cmd-resolve.c — `acso resolve [RELEASE]`: which upstream release matches
 * the running kernel (or RELEASE), and whether its series is end of life. */
#include <string.h>

#include "cli/cmd-net.h"
#include "cli/commands.h"
#include "source/fetch.h"
#include "base/fileio.h"
#include "base/json.h"
#include "cli/output.h"
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

static struct json_object *jver(bool have, const struct kver *v)
{
	char s[KVER_STR_MAX];
	if (!have)
		return NULL;
	kver_str(v, s);
	return json_object_new_string(s);
}

/* The report, built once (also used by `acso fetch` without VERSION). */
struct json_object *resolve_report(const struct resolve_res *r, const char *mirror)
{
	struct json_object *j = json_object_new_object();
	char s[KVER_STR_MAX], base[KVER_STR_MAX];
	json_object_object_add(j, "given", json_object_new_string(r->id.given));
	json_object_object_add(j, "running", json_object_new_boolean(r->running));
	json_object_object_add(j, "distro", json_object_new_string(r->id.distro));
	kver_series_str(&r->series, s);
	json_object_object_add(j, "series", json_object_new_string(s));
	json_object_object_add(j, "upstream", jver(r->id.upstream_known, &r->id.upstream));
	json_object_object_add(j, "upstream_from", r->id.upstream_from ? json_object_new_string(r->id.upstream_from) : NULL);
	json_object_object_add(j, "upstream_unknown_why",
			       r->id.upstream_unknown_why ? json_object_new_string(r->id.upstream_unknown_why) : NULL);
	json_object_object_add(j, "target", jver(r->have_target, &r->target));
	json_object_object_add(j, "target_from", r->target_from ? json_object_new_string(r->target_from) : NULL);
	if (r->have_target) {
		kver_tarball_base(&r->target, base);
		if (base[0]) {
			_cleanup_free_ char *tn = xasprintf("%s.tar.xz", base);
			_cleanup_free_ char *sn = xasprintf("%s.tar.sign", base);
			_cleanup_free_ char *tu = fetch_series_url(mirror, &r->target, tn);
			_cleanup_free_ char *su = fetch_series_url(mirror, &r->target, sn);
			json_object_object_add(j, "tarball", json_object_new_string(tn));
			json_object_object_add(j, "tarball_url", json_object_new_string(tu));
			json_object_object_add(j, "sign_url", json_object_new_string(su));
		} else {
			json_object_object_add(j, "tarball", NULL);
			json_object_object_add(j, "tarball_url", NULL);
			json_object_object_add(j, "sign_url", NULL);
		}
	} else {
		json_object_object_add(j, "tarball", NULL);
		json_object_object_add(j, "tarball_url", NULL);
		json_object_object_add(j, "sign_url", NULL);
	}
	json_object_object_add(j, "moniker", r->moniker[0] ? json_object_new_string(r->moniker) : NULL);
	json_object_object_add(j, "eol", r->eol_known ? json_object_new_boolean(r->eol) : NULL);
	json_object_object_add(j, "longterm", jver(r->have_longterm, &r->longterm));
	if (r->have_longterm) {
		kver_series_str(&r->longterm, s);
		json_object_object_add(j, "longterm_series", json_object_new_string(s));
	} else {
		json_object_object_add(j, "longterm_series", NULL);
	}
	json_object_object_add(j, "releases_cached", json_object_new_boolean(r->releases_cached));
	return j;
}

static void render_text(struct json_object *j, const struct resolve_res *r)
{
	const char *up = json_str(j, "upstream"), *tg = json_str(j, "target");
	printf("%-10s %s%s\n", "Kernel:", json_str(j, "given"), r->running ? " (running)" : "");
	printf("%-10s %s\n", "Distro:", json_str(j, "distro"));
	printf("%-10s %s\n", "Series:", json_str(j, "series"));
	if (up)
		printf("%-10s %s (from %s)\n", "Upstream:", up, json_str(j, "upstream_from"));
	else
		printf("%-10s unknown (%s)\n", "Upstream:",
		       r->id.upstream_unknown_why ? r->id.upstream_unknown_why : "the release string does not carry the sublevel");
	if (tg)
		printf("%-10s %s%s%s (%s)\n", "Target:", sty(ST_BOLD), tg, sty(ST_RESET), json_str(j, "target_from"));
	else
		printf("%-10s none (offline)\n", "Target:");
	if (json_str(j, "tarball_url"))
		printf("%-10s %s\n", "Tarball:", json_str(j, "tarball_url"));
	else if (tg)
		printf("%-10s none: release candidates and linux-next have no signed tarball\n", "Tarball:");
	if (r->eol_known)
		printf("%-10s %s%s%s\n", "Status:", r->eol ? sty(ST_WARN) : sty(ST_PASS),
		       r->eol ? "end of life" : (r->moniker[0] ? r->moniker : "maintained"), sty(ST_RESET));
	if (json_str(j, "longterm"))
		printf("%-10s %s (series %s)\n", "Longterm:", json_str(j, "longterm"), json_str(j, "longterm_series"));
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
		else if (r == -ACSO_E_HTTP || r == -ACSO_E_UNSAFE)
			msg_hint("check the mirror (--mirror URL), or use --offline");
		return code;
	}
	struct json_object *j = resolve_report(&res, q.mirror);
	if (ctx->json) {
		out_json(j);
	} else {
		render_text(j, &res);
		if (res.eol_known && res.eol) {
			char s[KVER_STR_MAX];
			kver_series_str(&res.series, s);
			msg_warn("series %s is end of life: it gets no more fixes", s);
			if (res.have_longterm)
				msg_hint("the nearest longterm series is %s: 'acso resolve --longterm' or 'acso fetch %s'",
					 json_str(j, "longterm_series"), json_str(j, "longterm"));
		}
	}
	json_object_put(j);
	return out_finish(EXIT_OK);
}
