/* cmd-clean.c — `acso clean`: remove the extracted and built kernel trees
 * from the work directory; verified downloads stay, so the next `acso run`
 * re-extracts (and re-verifies) without downloading again. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/lock.h"
#include "cli/output.h"
#include "cli/report.h"
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

/* state/ holds the run lock we keep: empty it, keep the lock file. */
static int empty_state(int wfd)
{
	_cleanup_close_ int sfd = openat(wfd, "state", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (sfd < 0)
		return -errno;
	struct strv names = {0};
	DIR *d = fdopendir(dup(sfd));
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && strcmp(de->d_name, "lock"))
			strv_push(&names, de->d_name);
	if (d)
		closedir(d);
	int r = 0;
	for (size_t k = 0; k < names.n && r == 0; k++)
		r = rm_rf_at(sfd, names.v[k]);
	strv_free(&names);
	return r;
}

/* Neither a command nor a run may be using the trees: both locks. */
static int lock_both(const struct acso_ctx *ctx, int *lock, int *runlock)
{
	struct acso_err e = {0};
	_cleanup_free_ char *sd = path_join(ctx->work_dir, "state");
	*runlock = lock_work_dir(sd, "clean", &e);
	if (*runlock >= 0)
		*lock = lock_work_dir(ctx->work_dir, "clean", &e);
	if (*runlock < 0 || *lock < 0) {
		unlock_work_dir(*runlock);
		return fail(&e, *runlock < 0 ? *runlock : *lock, "clean");
	}
	return 0;
}

int cmd_clean(struct acso_ctx *ctx, int argc, char **argv)
{
	bool all = false;
	int first;
	int r = cmd_options(ctx, argc, argv, &all, &first);
	if (r)
		return r;
	static const char *const gone[] = {"src", "build", "logs", "state"};   /* src; the rest with --all */
	/* root removes nothing through a link another user planted on the
	 * way to the work directory (or in it: rm_rf_at never follows) */
	struct acso_err e = {0};
	_cleanup_close_ int wfd = geteuid() == 0 ? open_dir_untrusted(ctx->work_dir, &e)
						 : open(ctx->work_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (wfd == -ACSO_E_UNSAFE) {
		fail(&e, wfd, "clean");
		msg_hint("give --work-dir the directory's real path");
		return EXIT_FAIL;
	}
	int lock = -1, runlock = -1;
	if (!ctx->dry_run && (r = lock_both(ctx, &lock, &runlock)))
		return r;
	int rc = EXIT_OK;
	size_t nremoved = 0;
	report_begin(ctx);
	rp_string(RP_JSON, "work_dir", NULL, ctx->work_dir);
	rp_open_array("removed");
	for (size_t i = 0; wfd >= 0 && i < (all ? ARRAY_SIZE(gone) : 1); i++) {
		if (faccessat(wfd, gone[i], F_OK, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		_cleanup_free_ char *p = path_join(ctx->work_dir, gone[i]);
		rp_text("%s ", ctx->dry_run ? "Would remove" : "Removed");
		rp_string(RP_ANY, NULL, "%s\n", p);
		nremoved++;
		if (ctx->dry_run)
			continue;
		r = !strcmp(gone[i], "state") ? empty_state(wfd) : rm_rf_at(wfd, gone[i]);
		if (r < 0) {
			rc = fail(NULL, r, "remove '%s'", p);
			break;
		}
	}
	rp_close_array();
	rp_bool(RP_JSON, "dry_run", NULL, ctx->dry_run);
	if (!nremoved)
		rp_text("Nothing to clean in %s\n", ctx->work_dir);
	unlock_work_dir(lock);
	unlock_work_dir(runlock);
	return report_end(rc);
}
