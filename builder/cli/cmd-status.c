/* cmd-status.c — `acso status`: each step of `acso run`, its state, time
 * and log, read from WORK/state/<target>.json; and whether a newer stable
 * release of the series the ACS kernel follows is out — in the prebuilt
 * channel (apt's lists of its last update) or at kernel.org (the
 * releases.json resolve cached). Only reads: no network. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include "cli/commands.h"
#include "base/fileio.h"
#include "base/json.h"
#include "cli/output.h"
#include "cli/report.h"
#include "package/prebuilt.h"
#include "run/plan.h"
#include "run/state.h"
#include "source/releases.h"
#include "base/util.h"

const struct acso_option status_options[] = {
	OPT_END,
};

static void print_target(struct json_object *st, const char *target)
{
	rp_text("%sTarget %s%s\n", sty(ST_BOLD), target, sty(ST_RESET));
	struct json_object *steps = NULL;
	json_object_object_get_ex(st, "steps", &steps);
	if (!steps || !json_object_object_length(steps)) {
		rp_text("  no step has run yet\n");
		return;
	}
	rp_text("  %-9s %-8s %-20s %8s  %s\n", "STEP", "STATE", "FINISHED", "SECONDS", "LOG");
	json_object_object_foreach(steps, name, rec) {
		const char *state = json_str(rec, "state");
		struct json_object *secs = NULL;
		json_object_object_get_ex(rec, "seconds", &secs);
		enum style c = !state ? ST_DIM : !strcmp(state, "done") ? ST_PASS : !strcmp(state, "failed") ? ST_FAIL : ST_WARN;
		char sbuf[32] = "-";
		if (secs)
			snprintf(sbuf, sizeof(sbuf), "%.1f", json_object_get_double(secs));
		const char *fin = json_str(rec, "finished");
		rp_text("  %-9s %s%-8s%s %-20s %8s  %s\n", name, sty(c), state ? state : "?", sty(ST_RESET),
		       fin ? fin : (state && !strcmp(state, "running") ? "(running or interrupted)" : "-"), sbuf,
		       json_str(rec, "log") ? json_str(rec, "log") : "-");
	}
}

/* One newer release: from "channel" or "kernel.org"; command: what
 * rebuilds it (NULL: apt installs it). */
static void rp_newer(const char *from, const char *series, const char *have, const char *newer, const char *what,
		     const char *command)
{
	rp_open_object(NULL);
	rp_string(RP_JSON, "from", NULL, from);
	rp_string(RP_JSON, "series", NULL, series);
	rp_string(RP_JSON, "installed", NULL, have);
	rp_string(RP_JSON, "newer", NULL, newer);
	if (command)
		rp_string(RP_JSON, "command", NULL, command);
	rp_close_object();
	rp_text("%s%s%s: %s is newer than %s %s%s%s\n", sty(ST_WARN), from, sty(ST_RESET), newer, have, what,
		command ? command : "", command ? " rebuilds it with the same configuration" : "");
}

/* The newer releases the channel (prebuilt) or kernel.org (a build's
 * resolved target, per target) has for the series the ACS kernel follows. */
static void report_updates(struct acso_ctx *ctx, const struct strv *built)
{
	struct acso_err e = {0};
	struct strv chan = {0};
	int r = prebuilt_newer(ctx->rootfd, &chan, &e);
	if (r < 0 && r != -ENOENT)
		msg_warn("the prebuilt channel's lists: %s", e.msg[0] ? e.msg : acso_strerror(r));
	_cleanup_free_ char *path = path_join(ctx->work_dir, "downloads/releases.json");
	_cleanup_free_ char *json = NULL;
	size_t len = 0;
	struct releases rel = {0};
	bool have_rel = built->n && read_file_at(AT_FDCWD, path, RELEASES_MAX_SIZE, &json, &len) == 0 &&
			releases_parse(json, len, &rel, &e) == 0;
	rp_open_array("updates");
	for (size_t i = 0; i < chan.n; i++) {
		char s[64], have[128], best[128];
		if (sscanf(chan.v[i], "%63s %127s %127s", s, have, best) == 3)
			rp_newer("channel", s, have, best, "(installed): apt update && apt upgrade installs it", NULL);
	}
	for (size_t i = 0; have_rel && i < built->n; i++) {
		/* "TARGET VERSION": the version a run resolved and built */
		const char *sp = strchr(built->v[i], ' ');
		struct kver v, series;
		if (!sp || kver_parse(sp + 1, &v, &e) < 0)
			continue;
		series = v;
		series.sub = 0;
		const struct release *latest = releases_find_series(&rel, &series);
		if (!latest || kver_cmp(&latest->ver, &v) <= 0)
			continue;
		char a[KVER_STR_MAX], b[KVER_STR_MAX], sname[32];
		kver_str(&v, a);
		kver_str(&latest->ver, b);
		snprintf(sname, sizeof(sname), "%u.%u", v.major, v.minor);
		/* the target auto is the default of acso run */
		int tl = (int)(sp - built->v[i]);
		bool dflt = tl == 4 && !strncmp(built->v[i], "auto", 4);
		_cleanup_free_ char *what = xasprintf("(target %.*s): ", tl, built->v[i]);
		_cleanup_free_ char *cmd = xasprintf("acso run --update%s%.*s", dflt ? "" : " --target ", dflt ? 0 : tl,
						     built->v[i]);
		rp_newer("kernel.org", sname, a, b, what, cmd);
	}
	rp_close_array();
	if (have_rel)
		releases_free(&rel);
	strv_free(&chan);
}

int cmd_status(struct acso_ctx *ctx, int argc, char **argv)
{
	int first;
	int r = cmd_options(ctx, argc, argv, NULL, &first);
	if (r)
		return r;
	struct strv targets = {0};
	if (first < argc) {
		if (!state_target_valid(argv[first])) {
			msg_error("'%s' is not a target name", argv[first]);
			return EXIT_USAGE;
		}
		strv_push(&targets, argv[first]);
	} else if (state_list(ctx->work_dir, &targets) < 0) {
		return fail(NULL, -1, "cannot list '%s/state'", ctx->work_dir);
	}
	struct strv versions = {0};
	report_begin(ctx);
	rp_string(RP_JSON, "work_dir", NULL, ctx->work_dir);
	rp_open_object("targets");
	int rc = EXIT_OK;
	for (size_t i = 0; i < targets.n; i++) {
		_cleanup_free_ char *path = state_path(ctx->work_dir, targets.v[i]);
		if (first < argc && access(path, F_OK) != 0) {
			msg_error("no run recorded for target '%s' in '%s'", targets.v[i], ctx->work_dir);
			rc = EXIT_FAIL;
			continue;
		}
		/* status only reads: a garbage file is reported, not moved */
		_cleanup_free_ char *text = NULL;
		struct json_object *st = NULL;
		if (read_file_at(AT_FDCWD, path, STATE_FILE_MAX, &text, NULL) == 0)
			st = json_tokener_parse(text);
		if (!state_shape_ok(st)) {
			json_object_put(st);
			msg_warn("'%s' is not a valid state record ('acso run' will start over)", path);
			continue;
		}
		const char *built = run_jstr(run_outputs(st, "install"), "release")
					    ? run_jstr(run_outputs(st, "resolve"), "target") : NULL;
		if (built)
			strv_pushf(&versions, "%s %s", targets.v[i], built);
		if (!ctx->json)
			print_target(st, targets.v[i]);
		rp_json(targets.v[i], st);   /* the record as it is on disk */
	}
	rp_close_object();
	if (!targets.n)
		rp_text("No run recorded in %s\n", ctx->work_dir);
	report_updates(ctx, &versions);
	strv_free(&versions);
	strv_free(&targets);
	return report_end(rc);
}
