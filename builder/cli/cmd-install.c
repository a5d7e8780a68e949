/* cmd-install.c — `acso install [DEB...]`: the kernel image and headers in
 * one dpkg transaction (so DKMS builds for the new kernel), after the
 * checks; recorded in WORK/state/installed.json. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "base/err.h"
#include "base/fileio.h"
#include "package/install.h"
#include "cli/cmd-install.h"
#include "base/lock.h"
#include "package/manifest.h"
#include "cli/output.h"
#include "base/spawn.h"
#include "base/util.h"


struct install_args {
	bool libc, dbg;
};

#define OPTS struct install_args
const struct acso_option install_options[] = {
	OPT_BOOL(0, "with-libc-dev", libc, "also install linux-libc-dev (replaces the distribution's kernel headers for user space)"),
	OPT_BOOL(0, "with-dbg", dbg, "also install the -dbg package (debug symbols, large)"),
	OPT_END,
};

/* The packages of the last build: WORK/build/current/manifest.json. */
static int manifest_paths(const struct acso_ctx *ctx, struct manifest *m, struct strv *paths, struct acso_err *e)
{
	_cleanup_free_ char *dir = path_join(ctx->work_dir, "build/current");
	_cleanup_free_ char *mp = path_join(dir, MANIFEST_NAME);
	int r = manifest_read(mp, m, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < m->n; i++) {
		_cleanup_free_ char *p = path_join(dir, m->pkgs[i].file);
		strv_push(paths, p);
	}
	return 0;
}

/* A package of the manifest must still be what the build wrote. */
static int check_against_manifest(const struct install_plan *p, const struct manifest *m, struct acso_err *e)
{
	for (size_t i = 0; i < p->n; i++)
		for (size_t j = 0; j < m->n; j++)
			if (!strcmp(p->v[i].info.package, m->pkgs[j].info.package) &&
			    strcmp(p->v[i].info.sha256, m->pkgs[j].info.sha256))
				return err_set(e, -ACSO_E_HASH, "'%s' changed since the build: SHA-256 %s, manifest says %s",
					       p->v[i].path, p->v[i].info.sha256, m->pkgs[j].info.sha256);
	return 0;
}

static json_object *plan_json(const struct acso_ctx *ctx, const struct install_plan *p)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array(), *sk = json_object_new_array();
	json_object_object_add(o, "release", json_object_new_string(p->release));
	json_object_object_add(o, "root", json_object_new_string(ctx->root));
	json_object_object_add(o, "dry_run", json_object_new_boolean(ctx->dry_run));
	for (size_t i = 0; i < p->n; i++) {
		json_object *po = json_object_new_object();
		json_object_object_add(po, "file", json_object_new_string(p->v[i].path));
		json_object_object_add(po, "package", json_object_new_string(p->v[i].info.package));
		json_object_object_add(po, "version", json_object_new_string(p->v[i].info.version));
		json_object_object_add(po, "architecture", json_object_new_string(p->v[i].info.architecture));
		json_object_object_add(po, "size", json_object_new_int64((int64_t)p->v[i].info.size));
		json_object_object_add(po, "sha256", json_object_new_string(p->v[i].info.sha256));
		json_object_array_add(a, po);
	}
	json_object_object_add(o, "packages", a);
	for (size_t i = 0; i < p->skipped.n; i++)
		json_object_array_add(sk, json_object_new_string(p->skipped.v[i]));
	json_object_object_add(o, "skipped", sk);
	return o;
}

void install_echo_line(void *priv, const char *line)
{
	const struct acso_ctx *ctx = priv;
	if (!ctx->json && ctx->verbose >= 0)
		fprintf(stderr, "  dpkg | %s\n", line);
}

/* Copy the packages into the image so that dpkg inside the chroot sees
 * them: ROOT/var/cache/acso/install/<name>. Fills inside[] with the paths as
 * seen from inside. */
static int stage_in_image(const struct acso_ctx *ctx, const struct install_plan *p, struct strv *inside,
			  struct acso_err *e)
{
	_cleanup_free_ char *stage = path_join(ctx->root, "var/cache/acso/install");
	int r = mkdir_p_at(AT_FDCWD, stage, 0755);
	if (r < 0)
		return err_set(e, r, "'%s': %s", stage, acso_strerror(r));
	for (size_t i = 0; i < p->n; i++) {
		const char *base = strrchr(p->v[i].path, '/');
		base = base ? base + 1 : p->v[i].path;
		_cleanup_free_ char *to = path_join(stage, base);
		const char *argv[] = {"cp", "--", p->v[i].path, to, NULL};
		r = spawn_check(argv, &(struct spawn_opts){.log_fd = -1}, e);
		if (r < 0)
			return r;
		strv_pushf(inside, "/var/cache/acso/install/%s", base);
	}
	return 0;
}

/* DKMS status for the new kernel, when the root has dkms. */
static void report_dkms(const struct acso_ctx *ctx, enum install_mode mode, const char *release, json_object *o)
{
	if (mode == INSTALL_DPKG_ROOT || root_exists(ctx->rootfd, "/usr/sbin/dkms") < 0)
		return; /* a bare tree has no dkms to ask */
	struct strv argv = {0};
	if (mode == INSTALL_CHROOT) {
		strv_push(&argv, "chroot");
		strv_push(&argv, ctx->root);
	}
	strv_push(&argv, "dkms");
	strv_push(&argv, "status");
	strv_push(&argv, "-k");
	strv_push(&argv, release);
	struct buf out = {0};
	int status = 0;
	bool ran = spawn_run((const char *const *)argv.v, &(struct spawn_opts){.log_fd = -1, .capture = &out}, &status) == 0;
	strv_free(&argv);
	json_object *a = json_object_new_array();
	bool bad = false;
	for (char *line = strtok(out.data, "\n"); ran && line; line = strtok(NULL, "\n")) {
		json_object_array_add(a, json_object_new_string(line));
		if (!strstr(line, "installed"))
			bad = true;
		if (!ctx->json)
			printf("  dkms: %s\n", line);
	}
	if (!ctx->json && ran && !out.len)
		printf("  dkms: no DKMS modules for %s\n", release);
	if (bad) {
		msg_warn("a DKMS module is not installed for '%s'", release);
		msg_hint("fix it before rebooting (a failed NVIDIA module is the usual black screen): dkms status; dkms autoinstall -k %s", release);
	}
	json_object_object_add(o, "dkms", a);
	buf_free(&out);
}

int install_execute(struct acso_ctx *ctx, struct install_plan *plan)
{
	struct acso_err e = {0};
	_cleanup_free_ char *running = install_running_release(ctx->rootfd);
	if (!running && !strcmp(ctx->root, "/")) {
		struct utsname u;
		if (uname(&u) == 0)
			running = xstrdup(u.release);
	}
	int r = install_check_running(plan, running, &e);
	if (r < 0) {
		fail(&e, r, "install");
		msg_hint("boot another kernel first, or build with another --localversion or version");
		return EXIT_FAIL;
	}
	uint64_t boot_free = 0;
	r = install_boot_free(ctx->rootfd, &boot_free, &e);
	if (r < 0)
		return fail(&e, r, "install");
	if (boot_free < plan->boot_needed) {
		char f[32], n[32];
		fmt_size(boot_free, f, sizeof(f));
		fmt_size(plan->boot_needed, n, sizeof(n));
		msg_error("not enough space on /boot: %s free, about %s needed", f, n);
		msg_hint("remove old kernels (apt autoremove --purge, or acso uninstall RELEASE)");
		return EXIT_FAIL;
	}

	enum install_mode mode = install_mode_for(ctx->root, ctx->rootfd);
	json_object *o = plan_json(ctx, plan);
	if (!ctx->json) {
		printf("%s %s%s%s into %s in one dpkg transaction:\n", ctx->dry_run ? "would install" : "installing",
		       sty(ST_BOLD), plan->release, sty(ST_RESET), ctx->root);
		for (size_t i = 0; i < plan->n; i++) {
			char sz[32];
			fmt_size(plan->v[i].info.size, sz, sizeof(sz));
			printf("  %-34s %-18s %s\n", plan->v[i].info.package, plan->v[i].info.version, sz);
		}
		for (size_t i = 0; i < plan->skipped.n; i++)
			printf("  skipped: %s\n", plan->skipped.v[i]);
		fflush(stdout);
	}
	if (ctx->dry_run) {
		if (ctx->json)
			out_json(o);
		json_object_put(o);
		return EXIT_OK;
	}
	int lock = lock_work_dir(ctx->work_dir, "acso install", &e);
	if (lock < 0) {
		json_object_put(o);
		return fail(&e, lock, "install");
	}
	struct strv items = {0};
	if (mode == INSTALL_CHROOT) {
		r = stage_in_image(ctx, plan, &items, &e);
	} else {
		for (size_t i = 0; i < plan->n; i++)
			strv_push(&items, plan->v[i].path);
	}
	struct strv dargv = {0};
	int status = 0;
	if (r == 0) {
		install_dpkg_argv(mode, ctx->root, "-i", items.v, items.n, &dargv);
		r = spawn_run((const char *const *)dargv.v,
			      &(struct spawn_opts){.log_fd = -1, .on_line = install_echo_line, .priv = ctx}, &status);
		if (r < 0)
			err_set(&e, r, "run '%s': %s", dargv.v[0], acso_strerror(r));
	}
	if (mode == INSTALL_CHROOT) {
		_cleanup_free_ char *stage = path_join(ctx->root, "var/cache/acso/install");
		rm_rf_at(AT_FDCWD, stage);
	}
	strv_free(&items);
	if (r == 0 && (!WIFEXITED(status) || WEXITSTATUS(status))) {
		char how[64];
		spawn_describe(status, how, sizeof(how));
		r = err_set(&e, -ACSO_E_CHILD, "dpkg %s", how);
	}
	strv_free(&dargv);
	if (r < 0) {
		unlock_work_dir(lock);
		json_object_put(o);
		fail(&e, r, "install '%s'", plan->release);
		msg_hint("read dpkg's messages above; 'dpkg --audit' shows half-installed packages");
		return EXIT_FAIL;
	}
	struct installed_state st;
	r = installed_load(ctx->work_dir, &st, &e);
	if (r == 0) {
		installed_record(&st, ctx->root, plan);
		r = installed_save(ctx->work_dir, &st, &e);
		installed_free(&st);
	}
	unlock_work_dir(lock);
	if (r < 0)
		msg_warn("packages installed, but the record failed: %s", e.msg);
	report_dkms(ctx, mode, plan->release, o);
	if (ctx->json) {
		out_json(o);
	} else {
		printf("installed %s\n", plan->release);
		msg_hint("next: register the boot parameters (acso grub), then reboot into %s", plan->release);
	}
	json_object_put(o);
	return EXIT_OK;
}

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
		r = manifest_paths(ctx, &m, &paths, &e);
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
		r = check_against_manifest(&plan, &m, &e);
	manifest_free(&m);
	if (r < 0) {
		if (plan.v)
			install_plan_free(&plan);
		return fail(&e, r, "install");
	}

	r = install_execute(ctx, &plan);
	install_plan_free(&plan);
	return r;
}
