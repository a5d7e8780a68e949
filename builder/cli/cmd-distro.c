/* cmd-distro.c — see distro.h. Lives in the command layer: it decides
 * between --dry-run, "needs root" and running apt-get. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/distro.h"
#include "base/err.h"
#include "base/fileio.h"
#include "cli/output.h"
#include "base/spawn.h"
#include "base/util.h"

static bool os_is_debian_like(int rootfd, char *id, size_t idn)
{
	_cleanup_free_ char *t = NULL;
	size_t len;
	if (root_read_file(rootfd, "/etc/os-release", 65536, &t, &len) < 0 &&
	    root_read_file(rootfd, "/usr/lib/os-release", 65536, &t, &len) < 0)
		return false;
	bool like = false;
	snprintf(id, idn, "unknown");
	for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n")) {
		char *v = strchr(line, '=');
		if (!v)
			continue;
		*v++ = '\0';
		if (*v == '"')
			v++, v[strcspn(v, "\"")] = '\0';
		if (!strcmp(line, "ID")) {
			snprintf(id, idn, "%s", v);
			if (!strcmp(v, "debian") || !strcmp(v, "ubuntu"))
				like = true;
		} else if (!strcmp(line, "ID_LIKE") && (strstr(v, "debian") || strstr(v, "ubuntu"))) {
			like = true;
		}
	}
	return like;
}

int distro_fetch(struct acso_ctx *ctx, const struct kver *want, const struct fetch_opts *fo,
		 struct fetch_result *res, struct acso_err *e)
{
	char id[64];
	if (!os_is_debian_like(ctx->rootfd, id, sizeof(id)))
		return err_set(e, -ACSO_E_UNSUPPORTED, "--source distro knows Debian and Ubuntu, not '%s'", id);
	struct kver series;
	if (want) {
		series = *want;
	} else {
		_cleanup_free_ char *rel = NULL;
		struct kident k;
		int r = root_read_attr(ctx->rootfd, "/proc/sys/kernel/osrelease", &rel);
		if (r < 0)
			return err_set(e, r, "read /proc/sys/kernel/osrelease: %s", acso_strerror(r));
		if (kident_parse(rel, NULL, NULL, &k, e) < 0)
			return e->code;
		series = k.series;
	}
	char s[KVER_STR_MAX];
	kver_series_str(&series, s);
	/* Debian: linux-source-X.Y -> /usr/src/linux-source-X.Y.tar.xz;
	 * Ubuntu: linux-source-X.Y.0 -> /usr/src/linux-source-X.Y.0/linux-source-X.Y.0.tar.bz2 */
	_cleanup_free_ char *deb_pkg = xasprintf("linux-source-%s", s);
	_cleanup_free_ char *deb_file = xasprintf("/usr/src/linux-source-%s.tar.xz", s);
	_cleanup_free_ char *ubu_pkg = xasprintf("linux-source-%s.0", s);
	_cleanup_free_ char *ubu_file = xasprintf("/usr/src/linux-source-%s.0/linux-source-%s.0.tar.bz2", s, s);
	const char *pkg = NULL, *file = NULL;
	if (root_exists(ctx->rootfd, deb_file) == 0)
		pkg = deb_pkg, file = deb_file;
	else if (root_exists(ctx->rootfd, ubu_file) == 0)
		pkg = ubu_pkg, file = ubu_file;
	bool root_is_slash = !strcmp(ctx->root, "/");
	if (!file) {
		const char *want_pkg = !strcmp(id, "ubuntu") ? ubu_pkg : deb_pkg;
		if (ctx->dry_run) {
			printf("would run: apt-get install -y %s\n", want_pkg);
			printf("then verify it with dpkg --verify and extract it into %s/src/\n", ctx->work_dir);
			return DISTRO_DRY_RUN;
		}
		if (!root_is_slash)
			return err_set(e, -ACSO_E_NOTFOUND, "%s is not installed in '%s' (install %s there)", deb_file, ctx->root, want_pkg);
		if (geteuid() != 0) {
			msg_error("%s is not installed and installing it needs root", want_pkg);
			msg_hint("run: sudo apt-get install %s", want_pkg);
			return err_set(e, -EPERM, "needs root to install %s", want_pkg);
		}
		const char *argv[] = { "apt-get", "install", "-y", "--no-install-recommends", want_pkg, NULL };
		const char *env[] = { "DEBIAN_FRONTEND=noninteractive", NULL };
		struct spawn_opts so = { .env = env, .log_fd = STDERR_FILENO };
		int r = spawn_check(argv, &so, e);
		if (r < 0)
			return err_wrap(e, r, "apt-get install %s", want_pkg);
		pkg = want_pkg;
		file = !strcmp(id, "ubuntu") ? ubu_file : deb_file;
	}
	if (ctx->dry_run) {
		printf("would verify %s%s with dpkg --verify %s and extract it into %s/src/\n",
		       root_is_slash ? "" : ctx->root, file, pkg, ctx->work_dir);
		return DISTRO_DRY_RUN;
	}
	/* dpkg compares the file with the checksum it recorded at install. */
	struct buf out = {0};
	const char *argv_root[] = { "dpkg", "--root", ctx->root, "--verify", pkg, NULL };
	const char *argv[] = { "dpkg", "--verify", pkg, NULL };
	struct spawn_opts so = { .capture = &out, .log_fd = -1, .quiet = true };
	int status;
	int r = spawn_run(root_is_slash ? argv : argv_root, &so, &status);
	if (r < 0) {
		buf_free(&out);
		return err_set(e, r, "run dpkg --verify: %s", acso_strerror(r));
	}
	const char *rel = file + 1; /* dpkg prints paths with their leading / */
	bool changed = out.len && strstr(buf_str(&out), rel);
	buf_free(&out);
	if (changed || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(e, -ACSO_E_HASH, "dpkg --verify %s: %s does not match what dpkg installed", pkg, file);
	_cleanup_free_ char *path = root_is_slash ? xstrdup(file) : path_join(ctx->root, file + 1);
	return fetch_local(path, NULL, NULL, NULL, "distro", fo, res, e);
}
