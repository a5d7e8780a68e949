/* cmd-status.c — `acso status`: each step of `acso run`, its state, time
 * and log, read from WORK/state/<target>.json. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include "cli/commands.h"
#include "base/fileio.h"
#include "cli/output.h"
#include "run/state.h"
#include "base/util.h"

const struct acso_option status_options[] = {
	{0},
};

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static void print_target(struct json_object *st, const char *target)
{
	printf("%sTarget %s%s\n", sty(ST_BOLD), target, sty(ST_RESET));
	struct json_object *steps = NULL;
	json_object_object_get_ex(st, "steps", &steps);
	if (!steps || !json_object_object_length(steps)) {
		printf("  no step has run yet\n");
		return;
	}
	printf("  %-9s %-8s %-20s %8s  %s\n", "STEP", "STATE", "FINISHED", "SECONDS", "LOG");
	json_object_object_foreach(steps, name, rec) {
		const char *state = jstr(rec, "state");
		struct json_object *secs = NULL;
		json_object_object_get_ex(rec, "seconds", &secs);
		enum style c = !state ? ST_DIM : !strcmp(state, "done") ? ST_PASS : !strcmp(state, "failed") ? ST_FAIL : ST_WARN;
		char sbuf[32] = "-";
		if (secs)
			snprintf(sbuf, sizeof(sbuf), "%.1f", json_object_get_double(secs));
		const char *fin = jstr(rec, "finished");
		printf("  %-9s %s%-8s%s %-20s %8s  %s\n", name, sty(c), state ? state : "?", sty(ST_RESET),
		       fin ? fin : (state && !strcmp(state, "running") ? "(running or interrupted)" : "-"), sbuf,
		       jstr(rec, "log") ? jstr(rec, "log") : "-");
	}
}

int cmd_status(struct acso_ctx *ctx, int argc, char **argv)
{
	int first;
	int r = cmd_options(ctx, argc, argv, NULL, NULL, &first);
	if (r)
		return r;
	struct strv targets = {0};
	if (first < argc) {
		if (!state_target_valid(argv[first])) {
			msg_error("status: '%s' is not a target name", argv[first]);
			return EXIT_USAGE;
		}
		strv_push(&targets, argv[first]);
	} else if (state_list(ctx->work_dir, &targets) < 0) {
		return fail(NULL, -1, "status: cannot list '%s/state'", ctx->work_dir);
	}
	struct json_object *all = json_object_new_object();
	int rc = EXIT_OK;
	for (size_t i = 0; i < targets.n; i++) {
		_cleanup_free_ char *path = state_path(ctx->work_dir, targets.v[i]);
		if (first < argc && access(path, F_OK) != 0) {
			msg_error("status: no run recorded for target '%s' in '%s'", targets.v[i], ctx->work_dir);
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
			msg_warn("status: '%s' is not a valid state record ('acso run' will start over)", path);
			continue;
		}
		if (!ctx->json)
			print_target(st, targets.v[i]);
		json_object_object_add(all, targets.v[i], st);
	}
	if (ctx->json) {
		struct json_object *j = json_object_new_object();
		json_object_object_add(j, "work_dir", json_object_new_string(ctx->work_dir));
		json_object_object_add(j, "targets", all);
		out_json(j);
		json_object_put(j);
	} else {
		if (!targets.n)
			printf("No run recorded in %s\n", ctx->work_dir);
		json_object_put(all);
	}
	strv_free(&targets);
	return rc;
}
