/* distro.c — see distro.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/spawn.h"
#include "base/util.h"
#include "source/distro.h"

/* Debian, Ubuntu or one of their derivatives (ID_LIKE); *ubuntu: Ubuntu or
 * a derivative of it (Linux Mint, Pop!_OS, Zorin: ID_LIKE="ubuntu debian"),
 * which ship Ubuntu's linux-source packages. */
static bool os_is_debian_like(int rootfd, char *id, size_t idn, bool *ubuntu)
{
	*ubuntu = false;
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
			if (!strcmp(v, "ubuntu"))
				*ubuntu = true;
		} else if (!strcmp(line, "ID_LIKE") && (strstr(v, "debian") || strstr(v, "ubuntu"))) {
			like = true;
			if (strstr(v, "ubuntu"))
				*ubuntu = true;
		}
	}
	return like;
}

int distro_find(int rootfd, const struct kver *want, struct distro_src *d, struct acso_err *e)
{
	memset(d, 0, sizeof(*d));
	bool ubuntu;
	if (!os_is_debian_like(rootfd, d->id, sizeof(d->id), &ubuntu))
		return err_set(e, -ACSO_E_UNSUPPORTED, "--source distro knows Debian and Ubuntu, not '%s'", d->id);
	struct kver series;
	if (want) {
		series = *want;
	} else {
		_cleanup_free_ char *rel = NULL;
		struct kident k;
		int r = root_read_attr(rootfd, "/proc/sys/kernel/osrelease", &rel);
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
	if (root_exists(rootfd, deb_file) == 0)
		ubuntu = false, d->installed = true;
	else if (root_exists(rootfd, ubu_file) == 0)
		ubuntu = true, d->installed = true;
	d->pkg = xstrdup(ubuntu ? ubu_pkg : deb_pkg);
	d->file = xstrdup(ubuntu ? ubu_file : deb_file);
	return 0;
}

int distro_install(const char *root, struct distro_src *d, int log_fd, struct acso_err *e)
{
	if (strcmp(root, "/"))
		return err_set(e, -ACSO_E_NOTFOUND, "%s is not installed in '%s' (install %s there)", d->file, root, d->pkg);
	const char *argv[] = { "apt-get", "install", "-y", "--no-install-recommends", d->pkg, NULL };
	const char *env[] = { "DEBIAN_FRONTEND=noninteractive", NULL };
	struct spawn_opts so = { .env = env, .log_fd = log_fd };
	int r = spawn_check(argv, &so, e);
	if (r < 0)
		return err_wrap(e, r, "apt-get install %s", d->pkg);
	d->installed = true;
	return 0;
}

int distro_fetch(const char *root, const struct distro_src *d, const struct fetch_opts *fo,
		 struct fetch_result *res, struct acso_err *e)
{
	bool root_is_slash = !strcmp(root, "/");
	const char *pkg = d->pkg, *file = d->file;
	/* dpkg compares the file with the checksum it recorded at install. */
	struct buf out = {0};
	const char *argv_root[] = { "dpkg", "--root", root, "--verify", pkg, NULL };
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
	_cleanup_free_ char *path = root_is_slash ? xstrdup(file) : path_join(root, file + 1);
	return fetch_local(path, NULL, NULL, NULL, "distro", fo, res, e);
}

void distro_src_free(struct distro_src *d)
{
	free(d->pkg);
	free(d->file);
	memset(d, 0, sizeof(*d));
}
