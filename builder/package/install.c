/* install.c — the plan, checks and records behind `acso install` and
 * `acso uninstall`. Running dpkg is the command layer's job. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <time.h>

#include <json-c/json.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/json.h"
#include "package/install.h"

#define STATE_MAX (1u << 20)
#define STATE_FILE "installed.json"
/* root's, below --root: the user-writable work dir is never trusted for it */
#define LEDGER_DIR "/var/lib/acso"

void install_plan_free(struct install_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].path);
		deb_info_free(&p->v[i].info);
	}
	free(p->v);
	strv_free(&p->skipped);
	memset(p, 0, sizeof(*p));
}

int install_plan_build(struct install_plan *p, char *const *paths, size_t n, bool with_libc_dev,
		       bool with_dbg, struct acso_err *e)
{
	memset(p, 0, sizeof(*p));
	int r = 0;
	bool have_image = false;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct deb_info info;
		r = deb_read(paths[i], &info, e);
		if (r < 0) {
			err_wrap(e, r, "'%s'", paths[i]);
			break;
		}
		char rel[128];
		enum deb_kind k = deb_kind(info.package, rel, sizeof(rel));
		if (k == DEB_OTHER) {
			r = err_set(e, -ACSO_E_UNSUPPORTED, "'%s': '%s' is not a kernel image or headers package",
				    paths[i], info.package);
		} else if ((k == DEB_LIBC_DEV && !with_libc_dev) || (k == DEB_DBG && !with_dbg)) {
			strv_pushf(&p->skipped, "%s (pass %s)", info.package,
				   k == DEB_LIBC_DEV ? "--with-libc-dev" : "--with-dbg");
		} else if (*rel && *p->release && strcmp(rel, p->release)) {
			r = err_set(e, -ACSO_E_STATE, "packages of two kernel releases: '%s' and '%s'", p->release, rel);
		} else if (*p->architecture && strcmp(info.architecture, p->architecture)) {
			r = err_set(e, -ACSO_E_STATE, "packages of two architectures: '%s' and '%s'", p->architecture,
				    info.architecture);
		} else {
			if (*rel)
				snprintf(p->release, sizeof(p->release), "%s", rel);
			snprintf(p->architecture, sizeof(p->architecture), "%s", info.architecture);
			p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
			struct install_pkg *ip = &p->v[p->n++];
			ip->path = xstrdup(paths[i]);
			ip->info = info;
			ip->kind = k;
			memset(&info, 0, sizeof(info));
			if (k == DEB_IMAGE) {
				have_image = true;
				/* vmlinuz, System.map and config as packaged, plus an initramfs. */
				p->boot_needed = ip->info.size * 2 + (64u << 20);
				/* The image first: the order dpkg configures them does not
				 * matter within one transaction, but reads better. */
				struct install_pkg t = p->v[0];
				p->v[0] = *ip;
				*ip = t;
			}
		}
		deb_info_free(&info);
	}
	if (r == 0 && !have_image)
		r = err_set(e, -ACSO_E_NOTFOUND, "no linux-image package among the packages given");
	if (r < 0)
		install_plan_free(p);
	return r;
}

char *install_running_release(int rootfd)
{
	char *s = NULL;
	if (root_read_attr(rootfd, "/proc/sys/kernel/osrelease", &s) < 0)
		return NULL;
	return s;
}

int install_check_running(const struct install_plan *p, const char *running, struct acso_err *e)
{
	if (running && !strcmp(running, p->release))
		return err_set(e, -ACSO_E_STATE,
			       "'%s' is the release of the running kernel: dpkg would replace the files it runs from", running);
	return 0;
}

int install_boot_free(int rootfd, uint64_t *bytes, struct acso_err *e)
{
	int fd = root_opendir_fd(rootfd, "/boot");
	if (fd < 0)
		fd = root_opendir_fd(rootfd, "/");
	if (fd < 0)
		return err_set(e, fd, "/boot: %s", acso_strerror(fd));
	struct statvfs v;
	int r = fstatvfs(fd, &v);
	int err = errno;
	close(fd);
	if (r < 0)
		return err_set(e, -err, "/boot: %s", strerror(err));
	*bytes = (uint64_t)v.f_bavail * v.f_frsize;
	return 0;
}

enum install_mode install_mode_for(const char *root, int rootfd)
{
	if (!strcmp(root, "/"))
		return INSTALL_HOST;
	return root_exists(rootfd, "/usr/bin/dpkg") == 0 ? INSTALL_CHROOT : INSTALL_DPKG_ROOT;
}

void install_dpkg_argv(enum install_mode mode, const char *root, const char *action,
		       char *const *items, size_t n, struct strv *argv)
{
	if (mode == INSTALL_CHROOT) {
		strv_push(argv, "chroot");
		strv_push(argv, root);
	}
	strv_push(argv, "dpkg");
	if (mode == INSTALL_DPKG_ROOT)
		strv_pushf(argv, "--root=%s", root);
	strv_push(argv, action);
	for (size_t i = 0; i < n; i++)
		strv_push(argv, items[i]);
}

int install_boot_kernels(int rootfd, struct strv *releases)
{
	int fd = root_opendir_fd(rootfd, "/boot");
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)))
		if (startswith(de->d_name, "vmlinuz-") && de->d_name[8]) {
			strv_push(releases, de->d_name + 8);
			n++;
		}
	closedir(d);
	return n;
}

/* installed.json */

void installed_free(struct installed_state *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].release);
		free(s->v[i].root);
		free(s->v[i].installed_at);
		strv_free(&s->v[i].packages);
		strv_free(&s->v[i].versions);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Release names of [0-9A-Za-z.+~-] with acso's local version: what a
 * `make bindeb-pkg LOCALVERSION=-acso` tree names its packages. */
static bool acso_release(const char *rel)
{
	return rel[0] >= '0' && rel[0] <= '9' && strstr(rel, "-acso") &&
	       strspn(rel, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+~-") == strlen(rel);
}

bool installed_name_ok(const char *release, const char *package)
{
	if (!acso_release(release))
		return false;
	_cleanup_free_ char *image = xasprintf("linux-image-%s", release);
	_cleanup_free_ char *headers = xasprintf("linux-headers-%s", release);
	_cleanup_free_ char *dbg = xasprintf("linux-image-%s-dbg", release);
	return !strcmp(package, image) || !strcmp(package, headers) || !strcmp(package, dbg);
}

int installed_load(int rootfd, struct installed_state *s, struct acso_err *e)
{
	memset(s, 0, sizeof(*s));
	const char *path = LEDGER_DIR "/" STATE_FILE;
	_cleanup_free_ char *text = NULL;
	int r = root_read_file(rootfd, path, STATE_MAX, &text, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return err_set(e, r, "'%s': %s", path, acso_strerror(r));
	json_object *o = json_tokener_parse(text), *a;
	if (!o || !json_object_object_get_ex(o, "installed", &a) || !json_object_is_type(a, json_type_array)) {
		json_object_put(o);
		return err_set(e, -ACSO_E_PARSE, "'%s': not an acso state file", path);
	}
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *eo = json_object_array_get_idx(a, i), *pk;
		const char *rel = json_str(eo, "release"), *root = json_str(eo, "root");
		if (!rel || !root || !json_object_object_get_ex(eo, "packages", &pk) ||
		    !json_object_is_type(pk, json_type_array)) {
			json_object_put(o);
			installed_free(s);
			return err_set(e, -ACSO_E_PARSE, "'%s': entry %zu is incomplete", path, i + 1);
		}
		s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
		struct installed_entry *en = &s->v[s->n++];
		memset(en, 0, sizeof(*en));
		en->release = xstrdup(rel);
		en->root = xstrdup(root);
		en->installed_at = xstrdup(json_str(eo, "installed_at") ? json_str(eo, "installed_at") : "");
		for (size_t j = 0; j < json_object_array_length(pk); j++) {
			json_object *po = json_object_array_get_idx(pk, j);
			const char *name = json_str(po, "package"), *ver = json_str(po, "version");
			if (!name)
				continue;
			/* the names go to dpkg --purge as root: only what acso installs */
			if (!installed_name_ok(rel, name)) {
				/* worded before the put: name and rel live in o */
				err_set(e, -ACSO_E_UNSAFE, "'%s': '%s' of release '%s' is not a package acso installs",
					path, name, rel);
				json_object_put(o);
				installed_free(s);
				return -ACSO_E_UNSAFE;
			}
			strv_push(&en->packages, name);
			strv_push(&en->versions, ver ? ver : "");
		}
	}
	json_object_put(o);
	return 0;
}

int installed_save(int rootfd, const struct installed_state *s, struct acso_err *e)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	for (size_t i = 0; i < s->n; i++) {
		const struct installed_entry *en = &s->v[i];
		json_object *eo = json_object_new_object(), *pk = json_object_new_array();
		json_object_object_add(eo, "release", json_object_new_string(en->release));
		json_object_object_add(eo, "root", json_object_new_string(en->root));
		json_object_object_add(eo, "installed_at", json_object_new_string(en->installed_at));
		for (size_t j = 0; j < en->packages.n; j++) {
			json_object *po = json_object_new_object();
			json_object_object_add(po, "package", json_object_new_string(en->packages.v[j]));
			json_object_object_add(po, "version", json_object_new_string(en->versions.v[j]));
			json_object_array_add(pk, po);
		}
		json_object_object_add(eo, "packages", pk);
		json_object_array_add(a, eo);
	}
	json_object_object_add(o, "installed", a);
	_cleanup_free_ char *text = xasprintf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	static const char *const dirs[] = {"/var", "/var/lib", LEDGER_DIR};
	int dfd = -1;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_close_ int up = root_opendir_fd(rootfd, i ? dirs[i - 1] : "/");
		int r = up < 0 ? up : mkdirat(up, strrchr(dirs[i], '/') + 1, 0755) < 0 && errno != EEXIST ? -errno : 0;
		if (dfd >= 0)
			close(dfd);
		dfd = r < 0 ? r : root_opendir_fd(rootfd, dirs[i]);
		if (dfd < 0)
			return err_set(e, dfd, "'%s': %s", dirs[i], acso_strerror(dfd));
	}
	int r = write_file_atomic(dfd, STATE_FILE, text, strlen(text), 0644, 0);
	close(dfd);
	if (r < 0)
		return err_set(e, r, "write '%s/%s': %s", LEDGER_DIR, STATE_FILE, acso_strerror(r));
	return 0;
}

struct installed_entry *installed_find(struct installed_state *s, const char *root, const char *release)
{
	for (size_t i = s->n; i-- > 0;)
		if (!strcmp(s->v[i].root, root) && (!release || !strcmp(s->v[i].release, release)))
			return &s->v[i];
	return NULL;
}

void installed_remove(struct installed_state *s, struct installed_entry *en)
{
	size_t i = (size_t)(en - s->v);
	free(en->release);
	free(en->root);
	free(en->installed_at);
	strv_free(&en->packages);
	strv_free(&en->versions);
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
	s->n--;
}

void installed_record(struct installed_state *s, const char *root, const struct install_plan *p)
{
	struct installed_entry *old = installed_find(s, root, p->release);
	if (old)
		installed_remove(s, old);
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	struct installed_entry *en = &s->v[s->n++];
	memset(en, 0, sizeof(*en));
	en->release = xstrdup(p->release);
	en->root = xstrdup(root);
	en->installed_at = iso_utc_dup(time(NULL));
	for (size_t i = 0; i < p->n; i++) {
		strv_push(&en->packages, p->v[i].info.package);
		strv_push(&en->versions, p->v[i].info.version);
	}
}

enum uninstall_verdict uninstall_check(int rootfd, bool live, struct installed_state *st, const char *root,
				       const char *want, struct installed_entry **en)
{
	*en = installed_find(st, root, want);
	if (!*en)
		return UNINSTALL_NOT_OURS;
	_cleanup_free_ char *running = install_running_release(rootfd);
	struct utsname u;
	if (!running && live && uname(&u) == 0)
		running = xstrdup(u.release);
	if (running && !strcmp(running, (*en)->release))
		return UNINSTALL_RUNNING;
	struct strv kernels = {0};
	int r = install_boot_kernels(rootfd, &kernels);
	size_t others = 0;
	for (size_t i = 0; i < kernels.n; i++)
		if (strcmp(kernels.v[i], (*en)->release))
			others++;
	strv_free(&kernels);
	return r < 0 || others == 0 ? UNINSTALL_LAST_KERNEL : UNINSTALL_OK;
}

bool installed_none_left(const struct installed_state *st, const char *root, const struct installed_entry *except)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->v[i].root, root) && &st->v[i] != except)
			return false;
	return true;
}
