/* cmd-install.c — `acso install [DEB...]`: the kernel image and headers in
 * one dpkg transaction (so DKMS builds for the new kernel), after the
 * checks; recorded in WORK/state/installed.json. */
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "cli/commands.h"
#include "cli/install-step.h"
#include "cli/output.h"
#include "package/installer.h"
#include "package/manifest.h"

enum { O_LIBC = 256, O_DBG };

const struct acso_option install_options[] = {
	{"with-libc-dev", O_LIBC, NULL, "also install linux-libc-dev (replaces the distribution's kernel headers for user space)"},
	{"with-dbg", O_DBG, NULL, "also install the -dbg package (debug symbols, large)"},
	{0},
};

struct install_args {
	bool libc, dbg;
};

static int on_opt(void *priv, int key, const char *arg)
{
	struct install_args *a = priv;
	if (key == O_LIBC)
		a->libc = true;
	else if (key == O_DBG)
		a->dbg = true;
	else
		return EXIT_USAGE;
	return 0;
}

int cmd_install(struct acso_ctx *ctx, int argc, char **argv)
{
	struct install_args a = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, on_opt, &a, &first);
	if (r)
		return r;
	struct acso_err e = {0};
	const char *su = getenv("SUDO_USER");
	struct passwd *pw = geteuid() == 0 && su && *su ? getpwnam(su) : NULL;
	if (pw && pw->pw_uid != 0)
		work_dir_follow_sudo(ctx, pw->pw_dir);
	struct strv paths = {0};
	struct manifest m = {0};
	bool from_manifest = first >= argc;
	if (from_manifest) {
		r = install_manifest_paths(ctx->work_dir, &m, &paths, &e);
		if (r < 0) {
			fail(&e, r, "install: the last build's packages");
			msg_hint("build first (acso build), or name the packages: acso install DEB...");
			return EXIT_FAIL;
		}
	} else {
		for (int i = first; i < argc; i++)
			strv_push(&paths, argv[i]);
	}
	struct install_plan plan;
	r = install_plan_build(&plan, paths.v, paths.n, a.libc, a.dbg, &e);
	strv_free(&paths);
	if (r == 0 && from_manifest)
		r = install_check_manifest(&plan, &m, &e);
	manifest_free(&m);
	if (r < 0) {
		if (plan.v)
			install_plan_free(&plan);
		return fail(&e, r, "install");
	}

	r = install_step(ctx, &plan);
	install_plan_free(&plan);
	return r;
}
