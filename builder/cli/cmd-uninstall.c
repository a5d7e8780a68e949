/* cmd-uninstall.c — `acso uninstall [RELEASE]`: remove the ACS kernel
 * packages acso installed (never the running kernel, never the last one),
 * and the boot parameters once no ACS kernel is left. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/install-step.h"
#include "cli/commands.h"
#include "base/err.h"
#include "base/fileio.h"
#include "package/install.h"
#include "package/prebuilt.h"
#include "base/lock.h"
#include "cli/output.h"
#include "cli/report.h"
#include "base/spawn.h"
#include "base/util.h"

const struct acso_option uninstall_options[] = {
	OPT_END,
};

/* Does this acso have `grub --remove`? Asked through --list-options so the
 * two commands stay independent. */
static bool grub_remove_exists(const char *self)
{
	const char *argv[] = {self, "grub", "--list-options", NULL};
	struct buf out = {0};
	int status = 0;
	bool yes = spawn_run(argv, &(struct spawn_opts){.log_fd = -1, .capture = &out}, &status) == 0 &&
		   WIFEXITED(status) && WEXITSTATUS(status) == 0 && out.len && strstr(buf_str(&out), "--remove\n");
	buf_free(&out);
	return yes;
}

static int remove_boot_parameters(const struct acso_ctx *ctx)
{
	_cleanup_free_ char *self = NULL;
	if (self_exe(&self) < 0)
		return EXIT_FAIL;
	if (!grub_remove_exists(self)) {
		/* TODO(grub): `acso grub --remove` lands with the grub command. */
		msg_hint("no ACS kernel is left: remove the boot parameters with 'acso grub --remove'");
		return EXIT_OK;
	}
	struct strv argv = {0};
	strv_push(&argv, self);
	strv_push(&argv, "--root");
	strv_push(&argv, ctx->root);
	strv_push(&argv, "--work-dir");
	strv_push(&argv, ctx->work_dir);
	strv_push(&argv, "grub");
	strv_push(&argv, "--remove");
	if (ctx->dry_run)
		strv_push(&argv, "--dry-run");
	int status = 0;
	/* under --json, stdout carries our document only: grub's words go to stderr */
	int r = spawn_run((const char *const *)argv.v,
			  &(struct spawn_opts){.log_fd = ctx->json ? STDERR_FILENO : -1, .inherit_env = true}, &status);
	strv_free(&argv);
	if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		msg_error("'acso grub --remove' failed");
		msg_hint("the packages are removed; run 'acso grub --remove' by hand");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* The refusal of uninstall_check, said; an exit code. */
static int refused(const struct acso_ctx *ctx, enum uninstall_verdict v, const char *want,
		   const struct installed_entry *en)
{
	if (v == UNINSTALL_NOT_OURS) {
		if (want)
			msg_error("acso did not install '%s' into '%s'", want, ctx->root);
		else
			msg_error("acso installed no kernel into '%s'", ctx->root);
		msg_hint("acso removes only what it installed (/var/lib/acso/installed.json); other kernels: apt purge PACKAGE");
		struct strv chan = {0};
		prebuilt_ledger_read(ctx->rootfd, &chan);
		if (chan.n) {
			_cleanup_free_ char *names = strv_join(&chan);
			msg_hint("the kernels from acso's APT channel (%s) are apt's: 'acso prebuilt --remove --purge' "
				 "takes them and the channel away", names);
		}
		strv_free(&chan);
	} else if (v == UNINSTALL_RUNNING) {
		msg_error("'%s' is the running kernel", en->release);
		msg_hint("reboot into another kernel first, then run 'acso uninstall %s'", en->release);
	} else {
		msg_error("'%s' is the last kernel in '%s/boot'", en->release, strcmp(ctx->root, "/") ? ctx->root : "");
		msg_hint("install another kernel first (apt install linux-image-amd64)");
	}
	return EXIT_FAIL;
}

/* dpkg --purge under the work-dir lock, then the record without the entry
 * (*en becomes NULL). An exit code. */
static int purge(const struct acso_ctx *ctx, struct installed_state *st, struct installed_entry **en,
		 const struct strv *dargv)
{
	struct acso_err e = {0};
	int lock = lock_work_dir(ctx->work_dir, "acso uninstall", &e);
	if (lock < 0)
		return fail(&e, lock, "lock");
	int status = 0;
	int r = spawn_run((const char *const *)dargv->v,
			  &(struct spawn_opts){.log_fd = -1, .on_line = install_echo_line, .priv = (void *)ctx}, &status);
	if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		char how[64] = "could not run";
		if (r == 0)
			spawn_describe(status, how, sizeof(how));
		unlock_work_dir(lock);
		msg_error("dpkg --purge %s", how);
		return EXIT_FAIL;
	}
	installed_remove(st, *en);
	*en = NULL;
	r = installed_save(ctx->rootfd, st, &e);
	unlock_work_dir(lock);
	return r < 0 ? fail(&e, r, "record") : 0;
}

int cmd_uninstall(struct acso_ctx *ctx, int argc, char **argv)
{
	int first;
	int r = cmd_options(ctx, argc, argv, NULL, &first);
	if (r)
		return r;
	struct acso_err e = {0};
	const char *want = first < argc ? argv[first] : NULL;
	struct installed_state st;
	if ((r = installed_load(ctx->rootfd, &st, &e)) < 0)
		return fail(&e, r, "uninstall");
	struct installed_entry *en;
	enum uninstall_verdict v = uninstall_check(ctx->rootfd, !strcmp(ctx->root, "/"), &st, ctx->root, want, &en);
	if (v != UNINSTALL_OK) {
		r = refused(ctx, v, want, en);
		installed_free(&st);
		return r;
	}
	_cleanup_free_ char *release = xstrdup(en->release);
	struct strv dargv = {0};
	install_dpkg_argv(install_mode_for(ctx->root, ctx->rootfd), ctx->root, "--purge", en->packages.v,
			  en->packages.n, &dargv);
	report_begin(ctx);
	rp_string(RP_ANY, "release", ctx->dry_run ? "would remove %s" : "removing %s", release);
	rp_string(RP_ANY, "root", " from %s:\n", ctx->root);
	rp_bool(RP_JSON, "dry_run", NULL, ctx->dry_run);
	rp_open_array("packages");
	for (size_t i = 0; i < en->packages.n; i++) {
		rp_string(RP_ANY, NULL, "  %s", en->packages.v[i]);
		rp_text(" %s\n", en->versions.v[i]);
	}
	rp_close_array();
	fflush(stdout);
	r = ctx->dry_run ? 0 : purge(ctx, &st, &en, &dargv);
	strv_free(&dargv);
	if (r == 0) {
		bool last = installed_none_left(&st, ctx->root, en);
		rp_bool(RP_JSON, "last_acs_kernel", NULL, last);
		if (!ctx->dry_run)
			rp_text("removed %s\n", release);
		r = report_end(EXIT_OK);
		if (last)
			r = remove_boot_parameters(ctx);
	}
	installed_free(&st);
	return r;
}
