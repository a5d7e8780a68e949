/* cmd-uninstall.c — `acso uninstall [RELEASE]`: remove the ACS kernel
 * packages acso installed (never the running kernel, never the last one),
 * and the boot parameters once no ACS kernel is left. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/install-step.h"
#include "cli/commands.h"
#include "base/err.h"
#include "package/install.h"
#include "base/lock.h"
#include "cli/output.h"
#include "base/spawn.h"
#include "base/util.h"

const struct acso_option uninstall_options[] = {
	{0},
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
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return EXIT_FAIL;
	self[n] = '\0';
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
	int r = spawn_run((const char *const *)argv.v, &(struct spawn_opts){.log_fd = -1, .inherit_env = true}, &status);
	strv_free(&argv);
	if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		msg_error("uninstall: 'acso grub --remove' failed");
		msg_hint("the packages are removed; run 'acso grub --remove' by hand");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cmd_uninstall(struct acso_ctx *ctx, int argc, char **argv)
{
	int first;
	int r = cmd_options(ctx, argc, argv, NULL, NULL, &first);
	if (r)
		return r;
	struct acso_err e = {0};
	const char *want = first < argc ? argv[first] : NULL;
	struct installed_state st;
	r = installed_load(ctx->work_dir, &st, &e);
	if (r < 0)
		return fail(&e, r, "uninstall");
	struct installed_entry *en = installed_find(&st, ctx->root, want);
	if (!en) {
		if (want)
			msg_error("uninstall: acso did not install '%s' into '%s'", want, ctx->root);
		else
			msg_error("uninstall: acso installed no kernel into '%s'", ctx->root);
		msg_hint("acso removes only what it installed (WORK/state/installed.json); other kernels: apt purge PACKAGE");
		installed_free(&st);
		return EXIT_FAIL;
	}

	/* Never the running kernel. */
	_cleanup_free_ char *running = install_running_release(ctx->rootfd);
	if (!running && !strcmp(ctx->root, "/")) {
		struct utsname u;
		if (uname(&u) == 0)
			running = xstrdup(u.release);
	}
	if (running && !strcmp(running, en->release)) {
		msg_error("uninstall: '%s' is the running kernel", en->release);
		msg_hint("reboot into another kernel first, then run 'acso uninstall %s'", en->release);
		installed_free(&st);
		return EXIT_FAIL;
	}
	/* Never the last kernel. */
	struct strv kernels = {0};
	r = install_boot_kernels(ctx->rootfd, &kernels);
	size_t others = 0;
	for (size_t i = 0; i < kernels.n; i++)
		if (strcmp(kernels.v[i], en->release))
			others++;
	strv_free(&kernels);
	if (r < 0 || others == 0) {
		msg_error("uninstall: '%s' is the last kernel in '%s/boot'", en->release, strcmp(ctx->root, "/") ? ctx->root : "");
		msg_hint("install another kernel first (apt install linux-image-amd64)");
		installed_free(&st);
		return EXIT_FAIL;
	}

	enum install_mode mode = install_mode_for(ctx->root, ctx->rootfd);
	struct strv dargv = {0};
	install_dpkg_argv(mode, ctx->root, "--purge", en->packages.v, en->packages.n, &dargv);
	if (!ctx->json) {
		printf("%s %s from %s:\n", ctx->dry_run ? "would remove" : "removing", en->release, ctx->root);
		for (size_t i = 0; i < en->packages.n; i++)
			printf("  %s %s\n", en->packages.v[i], en->versions.v[i]);
		fflush(stdout);
	}
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	json_object_object_add(o, "release", json_object_new_string(en->release));
	json_object_object_add(o, "root", json_object_new_string(ctx->root));
	json_object_object_add(o, "dry_run", json_object_new_boolean(ctx->dry_run));
	for (size_t i = 0; i < en->packages.n; i++)
		json_object_array_add(a, json_object_new_string(en->packages.v[i]));
	json_object_object_add(o, "packages", a);

	if (!ctx->dry_run) {
		if (geteuid() != 0) {
			msg_error("uninstall: removing packages needs root");
			msg_hint("run: sudo acso uninstall %s", en->release);
			r = EXIT_NEED_ROOT;
			goto out;
		}
		int lock = lock_work_dir(ctx->work_dir, "acso uninstall", &e);
		if (lock < 0) {
			r = fail(&e, lock, "uninstall");
			goto out;
		}
		int status = 0;
		r = spawn_run((const char *const *)dargv.v,
			      &(struct spawn_opts){.log_fd = -1, .on_line = install_echo_line, .priv = ctx}, &status);
		if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			char how[64] = "could not run";
			if (r == 0)
				spawn_describe(status, how, sizeof(how));
			unlock_work_dir(lock);
			msg_error("uninstall: dpkg --purge %s", how);
			r = EXIT_FAIL;
			goto out;
		}
		installed_remove(&st, en);
		en = NULL;
		r = installed_save(ctx->work_dir, &st, &e);
		unlock_work_dir(lock);
		if (r < 0) {
			r = fail(&e, r, "uninstall: record");
			goto out;
		}
	}
	r = EXIT_OK;
	bool last_acs = true;
	for (size_t i = 0; i < st.n; i++)
		if (!strcmp(st.v[i].root, ctx->root) && (!en || &st.v[i] != en))
			last_acs = false;
	json_object_object_add(o, "last_acs_kernel", json_object_new_boolean(last_acs));
	if (ctx->json)
		out_json(o);
	else if (!ctx->dry_run)
		printf("removed %s\n", json_object_get_string(json_object_object_get(o, "release")));
	if (last_acs)
		r = remove_boot_parameters(ctx);
out:
	json_object_put(o);
	strv_free(&dargv);
	installed_free(&st);
	return r;
}
