/* cmd-install.c — `acso install [DEB...]`: the kernel image and headers in
 * one dpkg transaction (so DKMS builds for the new kernel), after the
 * checks; recorded in ROOT/var/lib/acso/installed.json. */
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


struct install_args {
	bool libc, dbg;
};

#define OPTS struct install_args
const struct acso_option install_options[] = {
	OPT_BOOL(0, "with-libc-dev", libc, "also install linux-libc-dev (replaces the distribution's kernel headers for user space)"),
	OPT_BOOL(0, "with-dbg", dbg, "also install the -dbg package (debug symbols, large)"),
	OPT_END,
};

int cmd_install(struct acso_ctx *ctx, int argc, char **argv)
{
	struct install_args a = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &a, &first);
	if (r)
		return r;
	struct acso_err e = {0};
	struct strv paths = {0};
	struct manifest m = {0};
	bool from_manifest = first >= argc;
	if (from_manifest) {
		r = install_manifest_paths(ctx->work_dir, &m, &paths, &e);
		if (r < 0) {
			fail(&e, r, "the last build's packages");
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
