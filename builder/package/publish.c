/* publish.c — see publish.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/spawn.h"
#include "base/util.h"
#include "package/deb.h"
#include "package/publish.h"

char *publish_default_distro(int rootfd)
{
	_cleanup_free_ char *text = NULL;
	if (root_read_file(rootfd, "/etc/os-release", 64 << 10, &text, NULL) < 0 &&
	    root_read_file(rootfd, "/usr/lib/os-release", 64 << 10, &text, NULL) < 0)
		return NULL;
	char id[64] = "", ver[64] = "";
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *dst = startswith(line, "ID=") ? id : startswith(line, "VERSION_ID=") ? ver : NULL;
		if (!dst)
			continue;
		const char *v = strchr(line, '=') + 1;
		size_t n = 0;
		for (; *v && n < 63; v++)
			if (*v != '"' && *v != '\'')
				dst[n++] = *v;
		dst[n] = '\0';
	}
	if (!*id)
		return NULL;
	return *ver ? xasprintf("%s-%s", id, ver) : xstrdup(id);
}

/* Relative paths of the .deb files in dir and its subdirectories. */
static void find_debs(const char *dir, const char *rel, int depth, struct strv *out)
{
	_cleanup_free_ char *path = rel ? path_join(dir, rel) : xstrdup(dir);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *r = rel ? path_join(rel, de->d_name) : xstrdup(de->d_name);
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode) && endswith(de->d_name, ".deb"))
			strv_push(out, r);
		else if (S_ISDIR(st.st_mode) && depth > 0)
			find_debs(dir, r, depth - 1, out);
	}
	closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The kernel entry for (release, arch), created on first use. */
static struct index_kernel *kernel_for(struct index *ix, const char *release, const char *arch, const char *debver,
				       const char *distro, const char *acs)
{
	for (size_t i = 0; i < ix->n; i++)
		if (!strcmp(ix->k[i].release, release) && !strcmp(ix->k[i].architecture, arch))
			return &ix->k[i];
	ix->k = xrealloc(ix->k, (ix->n + 1) * sizeof(*ix->k));
	struct index_kernel *k = &ix->k[ix->n++];
	memset(k, 0, sizeof(*k));
	k->release = xstrdup(release);
	/* Upstream version: the Debian version up to its first '-' ("~rc" back to "-rc"). */
	k->version = xstrndup(debver, strcspn(debver, "-"));
	char *t = strchr(k->version, '~');
	if (t)
		*t = '-';
	k->architecture = xstrdup(arch);
	k->distro = xstrdup(distro);
	k->acs_patch = xstrdup(acs);
	return k;
}

static void add_pkg(struct index_kernel *k, const char *file, const struct deb_info *d)
{
	k->pkgs = xrealloc(k->pkgs, (k->n + 1) * sizeof(*k->pkgs));
	struct index_pkg *ip = &k->pkgs[k->n++];
	ip->file = xstrdup(file);
	ip->package = xstrdup(d->package);
	ip->version = xstrdup(d->version);
	ip->size = d->size;
	memcpy(ip->sha256, d->sha256, 65);
}

/* Each linux-libc-dev joins the kernel of its architecture and Debian
 * version (consumes libc[]). */
static void join_libc(struct index *ix, struct deb_info *libc, size_t nlibc, const struct strv *libc_files, bool join)
{
	for (size_t i = 0; i < nlibc; i++) {
		for (size_t j = 0; join && j < ix->n; j++) {
			struct index_kernel *k = &ix->k[j];
			if (strcmp(k->architecture, libc[i].architecture) || strcmp(k->pkgs[0].version, libc[i].version))
				continue;
			add_pkg(k, libc_files->v[i], &libc[i]);
		}
		deb_info_free(&libc[i]);
	}
}

int publish_build_index(const char *dir, const char *distro, const char *acs, struct index *ix, struct strv *skipped,
			struct acso_err *e)
{
	memset(ix, 0, sizeof(*ix));
	struct strv files = {0};
	find_debs(dir, NULL, 1, &files);
	if (files.n)
		qsort(files.v, files.n, sizeof(char *), cmp_str);
	int r = 0;
	struct deb_info *libc = NULL;
	struct strv libc_files = {0};
	size_t nlibc = 0;
	for (size_t i = 0; i < files.n && r == 0; i++) {
		if (!index_safe_file(files.v[i])) {
			strv_pushf(skipped, "'%s': a name the index cannot carry", files.v[i]);
			continue;
		}
		_cleanup_free_ char *p = path_join(dir, files.v[i]);
		struct deb_info d;
		r = deb_read(p, &d, e);
		if (r < 0) {
			err_wrap(e, r, "'%s'", p);
			break;
		}
		char rel[128];
		enum deb_kind kind = deb_kind(d.package, rel, sizeof(rel));
		if (kind == DEB_OTHER) {
			strv_pushf(skipped, "'%s': '%s' is not a kernel package", files.v[i], d.package);
		} else if (kind == DEB_LIBC_DEV) {
			/* Joined to the kernel of the same Debian version below. */
			libc = xrealloc(libc, (nlibc + 1) * sizeof(*libc));
			libc[nlibc++] = d;
			strv_push(&libc_files, files.v[i]);
			continue;
		} else {
			struct index_kernel *k = kernel_for(ix, rel, d.architecture, d.version, distro, acs);
			add_pkg(k, files.v[i], &d);
		}
		deb_info_free(&d);
	}
	join_libc(ix, libc, nlibc, &libc_files, r == 0);
	free(libc);
	strv_free(&libc_files);
	strv_free(&files);
	if (r == 0 && ix->n == 0)
		r = err_set(e, -ACSO_E_NOTFOUND, "no linux-image or linux-headers package in '%s'", dir);
	ix->generated = iso_utc_dup(time(NULL));
	return r;
}

int publish_sign_index(const char *dir, const char *gpg_home, const char *key, struct acso_err *e)
{
	_cleanup_free_ char *in = path_join(dir, "index.json");
	_cleanup_free_ char *part = path_join(dir, "index.json.asc.part");
	_cleanup_free_ char *out = path_join(dir, "index.json.asc");
	struct strv argv = {0};
	strv_push(&argv, "gpg");
	strv_push(&argv, "--batch");
	strv_push(&argv, "--yes");
	strv_push(&argv, "--pinentry-mode=loopback");
	if (gpg_home) {
		strv_push(&argv, "--homedir");
		strv_push(&argv, gpg_home);
	}
	if (key) {
		strv_push(&argv, "--local-user");
		strv_push(&argv, key);
	}
	strv_push(&argv, "--armor");
	strv_push(&argv, "--detach-sign");
	strv_push(&argv, "--output");
	strv_push(&argv, part);
	strv_push(&argv, in);
	struct buf msgs = {0};
	int status = 0;
	int r = spawn_run((const char *const *)argv.v, &(struct spawn_opts){.log_fd = -1, .capture = &msgs}, &status);
	strv_free(&argv);
	if (r < 0) {
		buf_free(&msgs);
		return err_set(e, r, "run gpg: %s", acso_strerror(r));
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		char how[64];
		spawn_describe(status, how, sizeof(how));
		unlink(part);
		buf_free(&msgs);
		return err_set(e, -ACSO_E_CHILD, "gpg %s (is there a secret key? see --key, --gpg-home)", how);
	}
	buf_free(&msgs);
	if (rename(part, out) < 0) {
		int err = errno;
		unlink(part);
		return err_set(e, -err, "rename '%s': %s", part, strerror(err));
	}
	return 0;
}


int publish_index_text(const struct index *ix, char **text, struct acso_err *e)
{
	*text = index_to_json(ix);
	struct index check;
	int r = index_parse(*text, strlen(*text), &check, e);
	if (r < 0) {
		free(*text);
		*text = NULL;
		return r;
	}
	index_free(&check);
	return 0;
}
