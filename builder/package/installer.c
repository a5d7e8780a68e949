/* installer.c — see installer.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "base/fileio.h"
#include "base/lock.h"
#include "base/spawn.h"
#include "package/installer.h"
#include "package/manifest.h"

int install_manifest_paths(const char *work_dir, struct manifest *m, struct strv *paths, struct acso_err *e)
{
	_cleanup_free_ char *dir = path_join(work_dir, "build/current");
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

int install_check_manifest(const struct install_plan *p, const struct manifest *m, struct acso_err *e)
{
	for (size_t i = 0; i < p->n; i++)
		for (size_t j = 0; j < m->n; j++)
			if (!strcmp(p->v[i].info.package, m->pkgs[j].info.package) &&
			    strcmp(p->v[i].info.sha256, m->pkgs[j].info.sha256))
				return err_set(e, -ACSO_E_HASH, "'%s' changed since the build: SHA-256 %s, manifest says %s",
					       p->v[i].path, p->v[i].info.sha256, m->pkgs[j].info.sha256);
	return 0;
}

char *install_running_or_host(const char *root, int rootfd)
{
	char *running = install_running_release(rootfd);
	struct utsname u;
	if (!running && !strcmp(root, "/") && uname(&u) == 0)
		running = xstrdup(u.release);
	return running;
}

int install_preflight(const char *root, int rootfd, const struct install_plan *p, uint64_t *boot_free,
		      struct acso_err *e)
{
	_cleanup_free_ char *running = install_running_or_host(root, rootfd);
	int r = install_check_running(p, running, e);
	if (r < 0)
		return r;
	*boot_free = 0;
	if ((r = install_boot_free(rootfd, boot_free, e)) < 0)
		return r;
	if (*boot_free < p->boot_needed)
		return err_set(e, -ACSO_E_TOOBIG, "not enough space on /boot");
	return 0;
}

/* Copy the packages into the image so that dpkg inside the chroot sees
 * them: ROOT/var/cache/acso/install/<name>. Fills inside[] with the paths as
 * seen from inside. */
static int stage_in_image(const char *root, const struct install_plan *p, struct strv *inside, struct acso_err *e)
{
	_cleanup_free_ char *stage = path_join(root, "var/cache/acso/install");
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

static int dpkg_install(const char *root, const struct install_plan *p, const struct install_run *run,
			struct acso_err *e)
{
	struct strv items = {0}, dargv = {0};
	int r = 0, status = 0;
	if (run->mode == INSTALL_CHROOT) {
		r = stage_in_image(root, p, &items, e);
	} else {
		for (size_t i = 0; i < p->n; i++)
			strv_push(&items, p->v[i].path);
	}
	if (r == 0) {
		install_dpkg_argv(run->mode, root, "-i", items.v, items.n, &dargv);
		r = spawn_run((const char *const *)dargv.v,
			      &(struct spawn_opts){.log_fd = -1, .on_line = run->on_line, .priv = run->priv}, &status);
		if (r < 0)
			err_set(e, r, "run '%s': %s", dargv.v[0], acso_strerror(r));
	}
	if (run->mode == INSTALL_CHROOT) {
		_cleanup_free_ char *stage = path_join(root, "var/cache/acso/install");
		rm_rf_at(AT_FDCWD, stage);
	}
	strv_free(&items);
	strv_free(&dargv);
	if (r == 0 && (!WIFEXITED(status) || WEXITSTATUS(status))) {
		char how[64];
		spawn_describe(status, how, sizeof(how));
		r = err_set(e, -ACSO_E_CHILD, "dpkg %s", how);
	}
	return r;
}

int install_run_dpkg(const char *root, const char *work_dir, const struct install_plan *p, struct install_run *run,
		     struct acso_err *e)
{
	int lock = lock_work_dir(work_dir, "acso install", e);
	if (lock < 0)
		return lock;
	run->locked = true;
	int r = dpkg_install(root, p, run, e);
	if (r < 0) {
		unlock_work_dir(lock);
		return r;
	}
	struct installed_state st;
	int rfd = root_open_dir(root);
	r = rfd < 0 ? err_set(&run->record_err, rfd, "'%s': %s", root, acso_strerror(rfd))
		    : installed_load(rfd, &st, &run->record_err);
	if (r == 0) {
		installed_record(&st, root, p);
		r = installed_save(rfd, &st, &run->record_err);
		installed_free(&st);
	}
	if (rfd >= 0)
		close(rfd);
	unlock_work_dir(lock);
	run->record_failed = r < 0;
	sign_installed(root, p->release, &run->signing);
	return 0;
}

int install_dkms_status(const char *root, int rootfd, enum install_mode mode, const char *release, struct strv *lines,
			bool *bad)
{
	*bad = false;
	if (mode == INSTALL_DPKG_ROOT || root_exists(rootfd, "/usr/sbin/dkms") < 0)
		return -ENOENT; /* a bare tree has no dkms to ask */
	struct strv argv = {0};
	if (mode == INSTALL_CHROOT) {
		strv_push(&argv, "chroot");
		strv_push(&argv, root);
	}
	strv_push(&argv, "dkms");
	strv_push(&argv, "status");
	strv_push(&argv, "-k");
	strv_push(&argv, release);
	struct buf out = {0};
	int status = 0;
	int r = spawn_run((const char *const *)argv.v, &(struct spawn_opts){.log_fd = -1, .capture = &out}, &status);
	strv_free(&argv);
	char *save = NULL;
	for (char *line = r == 0 && out.data ? strtok_r(out.data, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		strv_push(lines, line);
		if (!strstr(line, "installed"))
			*bad = true;
	}
	buf_free(&out);
	return r < 0 ? r : 0;
}
