/* cmd-status.c — `acso status`: each step of `acso run`, its state, time
 * and log, read from WORK/state/<target>.json. */
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
#include "run/state.h"
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
		if (!ctx->json)
			print_target(st, targets.v[i]);
		rp_json(targets.v[i], st);   /* the record as it is on disk */
	}
	rp_close_object();
	if (!targets.n)
		rp_text("No run recorded in %s\n", ctx->work_dir);
	strv_free(&targets);
	return report_end(rc);
}
