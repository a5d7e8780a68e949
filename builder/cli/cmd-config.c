/* cmd-config.c — `acso config`: base config (the running kernel's, a
 * defconfig, tinyconfig or a file), then kconfig/acso.config, vfio.config,
 * the profile's fragment and --set, then optionally --trim
 * (localmodconfig), then make olddefconfig; a report of what changed from
 * the base, a check that what was asked for survived, and a compile check
 * of drivers/pci/quirks.o. The plan is the core's (kernel/kplan.h): this
 * file parses, calls it and renders its report. */
#include <string.h>

#include "cli/commands.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/spawn.h"
#include "base/util.h"
#include "kernel/kcheck.h"
#include "cli/output.h"
#include "cli/report.h"
#include "kernel/kmake.h"
#include "kernel/kplan.h"

struct opts {
	const char *source_dir, *base, *profile;
	struct kc_reqs sets;
	bool trim, no_compile, bad;
};

static int opt_profile(void *opts, const char *arg)
{
	if (!*arg || strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(arg)) {
		msg_error("--profile '%s': a profile name is lower-case letters, digits, '-' and '_'", arg);
		return EXIT_USAGE;
	}
	((struct opts *)opts)->profile = arg;
	return 0;
}

static int opt_set(void *opts, const char *arg)
{
	struct acso_err e = {0};
	if (kconfig_parse_assignment(arg, &((struct opts *)opts)->sets, &e) < 0) {
		msg_error("--set %s", e.msg);
		return EXIT_USAGE;
	}
	return 0;
}

#define OPTS struct opts
const struct acso_option config_options[] = {
	OPT_STRING(0, "source-dir", source_dir, "DIR", "kernel tree to configure (default WORK/src/current)"),
	OPT_STRING(0, "base", base, "BASE", "running (default: /boot/config-RELEASE or /proc/config.gz), defconfig, tinyconfig or a FILE"),
	OPT_CALLBACK(0, "profile", opt_profile, "NAME", "also apply kconfig/NAME.config (e.g. qemu)"),
	OPT_CALLBACK(0, "set", opt_set, "CONFIG_X=V", "set one symbol after the fragments (repeatable)"),
	OPT_BOOL(0, "trim", trim, "localmodconfig: keep only modules in use and those of present PCI devices"),
	OPT_BOOL(0, "no-compile-check", no_compile, "skip compiling drivers/pci/quirks.o afterwards"),
	OPT_END,
};

static void on_note(void *priv, enum kp_note kind, const char *m)
{
	if (kind == KP_WARN)
		msg_warn("%s", m);
	else if (kind == KP_HINT)
		msg_hint("%s", m);
	else
		msg_info("%s", m);
}

/* Text: the base's values kept on purpose, then the requests not met. */
static void text_kept(const struct kplan *p)
{
	bool any = false, missed = false;
	for (size_t i = 0; i < p->reqs.n; i++) {
		const struct kc_req *q = p->req[i].req;
		if (!kplan_kept(p, i))
			continue;
		rp_text("%s  CONFIG_%s: %s kept (%s: %s)\n", any ? "" : "kept from the base:\n", q->sym, p->req[i].got,
			q->origin, !strcmp(q->val, "m") ? "asks at least m" : q->why ? q->why : "as the base had it");
		any = true;
	}
	for (size_t i = 0; i < p->reqs.n; i++) {
		const struct kp_req *r = &p->req[i];
		if (r->status != KP_CHANGED && r->status != KP_UNKNOWN)
			continue;
		rp_text("%s  CONFIG_%s: asked %s (%s), got %s%s\n", missed ? "" : "not kept:\n", r->req->sym,
			r->req->val, r->req->origin, r->got ? r->got : "nothing",
			r->status == KP_UNKNOWN ? ": no such symbol in this kernel" : ": its dependencies are not met");
		missed = true;
	}
}

/* The warnings for requests that did not survive (stderr, before the report). */
static void warn_requests(const struct kplan *p)
{
	for (size_t i = 0; i < p->reqs.n; i++) {
		const struct kp_req *r = &p->req[i];
		if (r->status == KP_CHANGED)
			msg_warn("CONFIG_%s: asked %s (%s), got %s: its dependencies are not met", r->req->sym,
				 r->req->val, r->req->origin, r->got ? r->got : "nothing");
		else if (r->status == KP_UNKNOWN)
			msg_warn("CONFIG_%s (%s): this kernel has no such symbol", r->req->sym, r->req->origin);
	}
}

static void render_base(const struct kplan *p)
{
	rp_open_object("base");
	rp_string(RP_ANY, "kind", "base: %s", p->base_kind);
	if (p->base_release)
		rp_string(RP_JSON, "release", NULL, p->base_release);
	if (p->base_path)
		rp_string(RP_ANY, "path", " %s", p->base_path);
	rp_text("\n");
	rp_close_object();
	rp_open_array("fragments");
	for (size_t i = 0; i < p->nfragments; i++)
		rp_string(RP_ANY, NULL, i ? ", %s.config" : "fragments: %s.config", p->fragments[i]);
	rp_text("\n");
	rp_close_array();
	rp_open_array("issues");
	for (size_t i = 0; i < p->base.nissues; i++)
		rp_string(RP_JSON, NULL, NULL, p->base.issues[i].msg);
	rp_close_array();
}

static void render_trim(const struct kplan *p)
{
	if (!p->trimmed) {
		rp_null(RP_JSON, "trim", NULL);
		return;
	}
	const struct localmods *lm = &p->lm;
	rp_open_object("trim");
	rp_uint(RP_JSON, "modules_kept", NULL, lm->mods.n);
	rp_uint(RP_JSON, "loaded", NULL, lm->loaded);
	rp_uint(RP_JSON, "pci_devices", NULL, lm->pci_devices);
	rp_uint(RP_JSON, "from_pci", NULL, lm->from_pci);
	rp_bool(RP_JSON, "running_kernel_has_modules", NULL, !lm->no_modules);
	rp_close_object();
	if (lm->no_modules)
		rp_text("trim: kept no module (the running kernel has no loadable modules)\n");
	else
		rp_text("trim: kept %zu modules (%zu loaded now, %zu more for the %zu PCI devices present)\n",
			lm->mods.n, lm->loaded, lm->from_pci, lm->pci_devices);
}

static void change_line(const struct kplan *p, const struct kc_change *c, bool why)
{
	const struct kc_req *q = why ? kc_reqs_find(&p->reqs, c->sym) : NULL;
	rp_text("  CONFIG_%s: %s → %s", c->sym, c->old ? c->old : "(none)", c->new ? c->new : "(none)");
	if (q)
		rp_text(" (%s%s%s)", q->origin, q->why ? ": " : "", q->why ? q->why : "");
	rp_text("\n");
}

/* Text: what acso changed on purpose and why, what it kept, what it could
 * not keep, what make demoted; the other changes only with -v. */
static void text_changes(const struct acso_ctx *ctx, const struct kplan *p)
{
	size_t count[3] = {0};
	for (size_t i = 0; i < p->nchanges; i++)
		count[kplan_change_kind(p, &p->changes[i])]++;
	static const char *const head[] = {"on purpose:\n", "demoted (y → m) by make olddefconfig:\n", NULL};
	for (int k = KP_CH_ASKED; k <= KP_CH_DEMOTED; k++) {
		if (count[k])
			rp_text("%s", head[k]);
		for (size_t i = 0; count[k] && i < p->nchanges; i++)
			if (kplan_change_kind(p, &p->changes[i]) == (enum kp_change)k)
				change_line(p, &p->changes[i], k == KP_CH_ASKED);
		if (k == KP_CH_ASKED)
			text_kept(p);
	}
	if (!count[KP_CH_OTHER])
		return;
	rp_text("other changes by make olddefconfig: %zu%s\n", count[KP_CH_OTHER],
		ctx->verbose > 0 ? "" : " (-v or --json for all)");
	for (size_t i = 0; ctx->verbose > 0 && i < p->nchanges; i++)
		if (kplan_change_kind(p, &p->changes[i]) == KP_CH_OTHER)
			change_line(p, &p->changes[i], false);
}

static void render_changes(const struct acso_ctx *ctx, const struct kplan *p)
{
	rp_text("%s %zu symbol(s)%s\n", ctx->dry_run ? "would change" : "changed from the base:", p->nchanges,
		ctx->dry_run ? " (before olddefconfig; nothing written)" : "");
	rp_open_array("changes");
	for (size_t i = 0; i < p->nchanges; i++) {
		const struct kc_change *c = &p->changes[i];
		_cleanup_free_ char *s = xasprintf("CONFIG_%s", c->sym);
		rp_open_object(NULL);
		rp_string(RP_JSON, "symbol", NULL, s);
		rp_string(RP_JSON, "old", NULL, c->old);
		rp_string(RP_JSON, "new", NULL, c->new);
		rp_close_object();
	}
	rp_close_array();
	text_changes(ctx, p);
}

static void render_requests(const struct acso_ctx *ctx, const struct kplan *p)
{
	static const char *const status[] = {"planned", "ok", "changed", "unknown"};
	rp_open_array("requested");
	for (size_t i = 0; i < p->reqs.n; i++) {
		const struct kp_req *r = &p->req[i];
		_cleanup_free_ char *s = xasprintf("CONFIG_%s", r->req->sym);
		rp_open_object(NULL);
		rp_string(RP_JSON, "symbol", NULL, s);
		rp_string(RP_JSON, "want", NULL, r->req->val);
		rp_string(RP_JSON, "got", NULL, r->got);
		rp_string(RP_JSON, "origin", NULL, r->req->origin);
		rp_string(RP_JSON, "status", NULL, status[r->status]);
		rp_string(RP_JSON, "why", NULL, r->req->why);
		rp_close_object();
	}
	rp_close_array();
	rp_bool(RP_JSON, "required_ok", NULL, p->required_ok);
	if (!ctx->dry_run)
		rp_text("requested settings: %zu of %zu kept%s\n", p->reqs.n - p->nmiss, p->reqs.n,
			p->required_ok ? "" : "; the override's required settings did NOT survive");
}

static int render(struct acso_ctx *ctx, const struct kplan *p, const struct kplan_in *in, json_object *jc,
		  const char *cstate, const char *why)
{
	report_begin(ctx);
	render_base(p);
	rp_string(RP_JSON, "source_dir", NULL, in->src);
	rp_bool(RP_JSON, "dry_run", NULL, ctx->dry_run);
	rp_string(RP_JSON, "profile", NULL, in->profile);
	if (!ctx->dry_run)
		render_trim(p);
	render_changes(ctx, p);
	render_requests(ctx, p);
	rp_json("compile_check", jc);
	rp_text("compile check: %s%s%s\n", cstate, why ? ": " : "", why ? why : "");
	int ret = EXIT_OK;
	if (!p->required_ok) {
		msg_error("settings the override needs were reset by olddefconfig (see the warnings above)");
		ret = EXIT_FAIL;
	} else if (!strcmp(cstate, "failed")) {
		msg_hint("drivers/pci/quirks.o does not compile with this config; see %s", in->log);
		ret = EXIT_FAIL;
	}
	return report_end(ret);
}

int cmd_config(struct acso_ctx *ctx, int argc, char **argv)
{
	struct opts o = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &o, &first);
	if (r) {
		kc_reqs_free(&o.sets);
		return r;
	}
	_cleanup_free_ char *src = kmake_source_dir(ctx->work_dir, o.source_dir);
	_cleanup_free_ char *logs = path_join(ctx->work_dir, "build/logs");
	_cleanup_free_ char *log = path_join(logs, "config.log");
	_cleanup_free_ char *pahole = spawn_which("pahole");
	const char *profile = o.profile ? o.profile : ctx_conf(ctx, "profile", NULL);
	struct kplan_in in = {
		.src = src, .data_dir = ctx->data_dir, .base = o.base, .profile = profile, .sets = &o.sets,
		.trim = o.trim, .dry_run = ctx->dry_run, .pahole = pahole != NULL, .rootfd = ctx->rootfd,
		.root_is_host = !strcmp(ctx->root, "/"), .logs = logs, .log = log, .note = on_note,
	};
	struct kplan p;
	struct acso_err e = {0};
	r = kplan_run(&in, &p, &e);
	kc_reqs_free(&o.sets);
	if (r < 0) {
		int ret = fail(&e, r, "%s", p.what);
		if (p.stage == KP_AT_TREE && !o.source_dir)
			msg_hint("run 'acso fetch' first, or name a tree with --source-dir DIR");
		if (p.stage == KP_AT_PROFILE)
			msg_hint("profiles are the files kconfig/NAME.config in '%s'", ctx->data_dir);
		kplan_free(&p);
		return ret;
	}
	warn_requests(&p);
	const char *cstate, *why = NULL;
	if (o.no_compile)
		why = "--no-compile-check";
	else if (ctx->dry_run)
		why = "--dry-run";
	else if (!p.required_ok)
		why = "required settings are missing";
	if (!why)
		msg_info("compiling drivers/pci/quirks.o (log: %s)", log);
	json_object *jc = compile_check(src, log, why, &cstate, &e);
	if (!strcmp(cstate, "failed"))
		why = e.msg;
	r = render(ctx, &p, &in, jc, cstate, why);
	kplan_free(&p);
	return r;
}
