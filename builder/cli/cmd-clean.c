/* cmd-clean.c — `acso clean`: remove the extracted and built kernel trees
 * from the work directory; verified downloads stay, so the next `acso run`
 * re-extracts (and re-verifies) without downloading again. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/lock.h"
#include "cli/output.h"
#include "base/util.h"


/* cmd_clean passes &all: the struct's only field, at offset 0. */
struct clean_opts {
	bool all;
};

#define OPTS struct clean_opts
const struct acso_option clean_options[] = {
	OPT_BOOL(0, "all", all, "also remove built packages, logs and run state (downloads stay)"),
	OPT_END,
};

int cmd_clean(struct acso_ctx *ctx, int argc, char **argv)
{
	bool all = false;
	int first;
	int r = cmd_options(ctx, argc, argv, &all, &first);
	if (r)
		return r;
	static const char *const trees[] = {"src"};
	static const char *const more[] = {"build", "logs", "state"};
	struct strv gone = {0};
	for (size_t i = 0; i < ARRAY_SIZE(trees); i++)
		strv_push(&gone, trees[i]);
	for (size_t i = 0; all && i < ARRAY_SIZE(more); i++)
		strv_push(&gone, more[i]);

	struct acso_err e = {0};
	int lock = -1, runlock = -1;
	if (!ctx->dry_run) {
		/* neither a command nor a run may be using the trees */
		_cleanup_free_ char *sd = path_join(ctx->work_dir, "state");
		runlock = lock_work_dir(sd, "clean", &e);
		if (runlock >= 0)
			lock = lock_work_dir(ctx->work_dir, "clean", &e);
		if (runlock < 0 || lock < 0) {
			unlock_work_dir(runlock);
			strv_free(&gone);
			return fail(&e, runlock < 0 ? runlock : lock, "clean");
		}
	}
	struct json_object *removed = json_object_new_array();
	int rc = EXIT_OK;
	_cleanup_close_ int wfd = open(ctx->work_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; wfd >= 0 && i < gone.n; i++) {
		if (faccessat(wfd, gone.v[i], F_OK, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		_cleanup_free_ char *p = path_join(ctx->work_dir, gone.v[i]);
		json_object_array_add(removed, json_object_new_string(p));
		if (!ctx->json)
			printf("%s %s\n", ctx->dry_run ? "Would remove" : "Removed", p);
		if (ctx->dry_run)
			continue;
		/* state/ holds the run lock we keep: empty it, keep the lock file */
		if (!strcmp(gone.v[i], "state")) {
			_cleanup_close_ int sfd = openat(wfd, "state", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			r = sfd < 0 ? -errno : 0;
			if (r == 0) {
				struct strv names = {0};
				DIR *d = fdopendir(dup(sfd));
				struct dirent *de;
				while (d && (de = readdir(d)))
					if (de->d_name[0] != '.' && strcmp(de->d_name, "lock"))
						strv_push(&names, de->d_name);
				if (d)
					closedir(d);
				for (size_t k = 0; k < names.n && r == 0; k++)
					r = rm_rf_at(sfd, names.v[k]);
				strv_free(&names);
			}
		} else {
			r = rm_rf_at(wfd, gone.v[i]);
		}
		if (r < 0) {
			rc = fail(NULL, r, "remove '%s'", p);
			break;
		}
	}
	if (ctx->json) {
		struct json_object *j = json_object_new_object();
		json_object_object_add(j, "work_dir", json_object_new_string(ctx->work_dir));
		json_object_object_add(j, "removed", removed);
		json_object_object_add(j, "dry_run", json_object_new_boolean(ctx->dry_run));
		out_json(j);
		json_object_put(j);
	} else {
		if (!json_object_array_length(removed))
			printf("Nothing to clean in %s\n", ctx->work_dir);
		json_object_put(removed);
	}
	strv_free(&gone);
	unlock_work_dir(lock);
	unlock_work_dir(runlock);
	return rc;
}
