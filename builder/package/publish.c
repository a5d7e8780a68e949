/* publish.c — see publish.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/spawn.h"
#include "base/util.h"
#include "package/deb.h"
#include "package/prebuilt.h"
#include "package/publish.h"

/* The files of the repository, in the order they are renamed into place:
 * InRelease last, so that apt never sees a signature over files that are
 * not there yet. */
static const char *const repo_files[] = {
	"Packages", "Packages.gz", "Packages.xz", PUBLISH_KEY_FILE, "Release", "Release.gpg", "InRelease",
};

void publish_result_free(struct publish_result *res)
{
	strv_free(&res->releases);
	strv_free(&res->pruned);
	strv_free(&res->skipped);
	free(res->date);
	free(res->valid_until);
	free(res->key);
	memset(res, 0, sizeof(*res));
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
		if (de->d_name[0] == '.' || (!rel && !strcmp(de->d_name, PUBLISH_META_DIR)))
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

/* "RELEASE ARCH" entries, newest release first, then by architecture. */
static int cmp_release_arch(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	int c = prebuilt_release_cmp(y, x);
	return c ? c : strcmp(x, y);
}

int publish_scan(const char *dir, struct strv *releases, struct strv *files, struct strv *skipped,
		 struct acso_err *e)
{
	struct strv debs = {0};
	find_debs(dir, NULL, 1, &debs);
	/* first pass: the kernels; second: linux-libc-dev joins the kernel of
	 * its version (it is published, never installed by acso) */
	struct strv keys = {0}, vers = {0}, lists = {0};
	struct strv libc = {0}, libcver = {0};
	int r = 0;
	for (size_t i = 0; i < debs.n && r == 0; i++) {
		_cleanup_free_ char *p = path_join(dir, debs.v[i]);
		struct deb_info d;
		if ((r = deb_read(p, &d, e)) < 0) {
			err_wrap(e, r, "'%s'", p);
			break;
		}
		char rel[128];
		enum deb_kind kind = deb_kind(d.package, rel, sizeof(rel));
		if (kind == DEB_OTHER) {
			strv_pushf(skipped, "'%s': '%s' is not a kernel package (published as it is)", debs.v[i], d.package);
		} else if (kind == DEB_LIBC_DEV) {
			strv_pushf(&libc, "%s %s", d.architecture, debs.v[i]);
			strv_push(&libcver, d.version);
		} else {
			_cleanup_free_ char *key = xasprintf("%s %s", rel, d.architecture);
			size_t j = 0;
			while (j < keys.n && strcmp(keys.v[j], key))
				j++;
			if (j == keys.n) {
				strv_push(&keys, key);
				strv_push(&vers, d.version);
				strv_push(&lists, debs.v[i]);
			} else {
				_cleanup_free_ char *l = xasprintf("%s\n%s", lists.v[j], debs.v[i]);
				free(lists.v[j]);
				lists.v[j] = TAKE_PTR(l);
			}
		}
		deb_info_free(&d);
	}
	for (size_t i = 0; i < libc.n && r == 0; i++) {
		const char *sp = strchr(libc.v[i], ' ');
		for (size_t j = 0; j < keys.n; j++) {
			const char *arch = strchr(keys.v[j], ' ') + 1;
			if ((size_t)(sp - libc.v[i]) != strlen(arch) || strncmp(libc.v[i], arch, strlen(arch)) ||
			    strcmp(vers.v[j], libcver.v[i]))
				continue;
			_cleanup_free_ char *l = xasprintf("%s\n%s", lists.v[j], sp + 1);
			free(lists.v[j]);
			lists.v[j] = TAKE_PTR(l);
		}
	}
	if (r == 0 && !keys.n)
		r = err_set(e, -ACSO_E_NOTFOUND, "no linux-image or linux-headers package in '%s'", dir);
	if (r == 0) {
		/* sort keys and carry their file lists along */
		struct strv order = {0};
		for (size_t j = 0; j < keys.n; j++)
			strv_pushf(&order, "%s\t%s", keys.v[j], lists.v[j]);
		qsort(order.v, order.n, sizeof(char *), cmp_release_arch);
		for (size_t j = 0; j < order.n; j++) {
			char *tab = strchr(order.v[j], '\t');
			*tab = '\0';
			strv_push(releases, order.v[j]);
			strv_push(files, tab + 1);
		}
		strv_free(&order);
	}
	strv_free(&debs);
	strv_free(&keys);
	strv_free(&vers);
	strv_free(&lists);
	strv_free(&libc);
	strv_free(&libcver);
	return r;
}

/* --keep N: the files of every release beyond the newest N of its
 * architecture are removed (and leave releases/files). */
static int prune(const char *dir, unsigned keep, struct strv *releases, struct strv *files, struct strv *pruned,
		 struct acso_err *e)
{
	struct strv kr = {0}, kf = {0}, seen = {0};
	int r = 0;
	for (size_t i = 0; i < releases->n; i++) {
		const char *arch = strchr(releases->v[i], ' ') + 1;
		unsigned n = 0;
		for (size_t j = 0; j < seen.n; j++)
			n += !strcmp(seen.v[j], arch);
		strv_push(&seen, arch);
		if (n < keep) {
			strv_push(&kr, releases->v[i]);
			strv_push(&kf, files->v[i]);
			continue;
		}
		_cleanup_free_ char *list = xstrdup(files->v[i]);
		for (char *f = strtok(list, "\n"); f; f = strtok(NULL, "\n")) {
			_cleanup_free_ char *p = path_join(dir, f);
			if (unlink(p) < 0 && errno != ENOENT && r == 0)
				r = err_set(e, -errno, "remove '%s': %s", p, strerror(errno));
			strv_push(pruned, f);
		}
	}
	strv_free(&seen);
	strv_free(releases);
	strv_free(files);
	*releases = kr;
	*files = kf;
	return r;
}

/* The last line a tool printed: its reason when it fails. */
static void keep_last(void *priv, const char *line)
{
	if (*line) {
		free(*(char **)priv);
		*(char **)priv = xstrdup(line);
	}
}

/* Run argv in cwd; its stdout in out (may be NULL). 0, or -ACSO_E_CHILD
 * with the program's last words in e. */
static int run_tool(const char *const *argv, const char *cwd, struct buf *out, struct acso_err *e)
{
	_cleanup_free_ char *last = NULL;
	int status = 0;
	struct spawn_opts so = {.cwd = cwd, .log_fd = -1, .capture = out, .on_line = keep_last, .priv = &last};
	int r = spawn_run(argv, &so, &status);
	if (r < 0)
		return err_set(e, r, "run %s: %s", argv[0], acso_strerror(r));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	char how[64];
	spawn_describe(status, how, sizeof(how));
	return err_set(e, -ACSO_E_CHILD, "%s %s%s%s", argv[0], how, last ? ": " : "", last ? last : "");
}

/* gpg's argv start: batch mode, the home directory. */
static void gpg_argv(struct strv *a, const struct publish_opts *o)
{
	strv_push(a, "gpg");
	strv_push(a, "--batch");
	strv_push(a, "--yes");
	strv_push(a, "--pinentry-mode=loopback");
	if (o->gpg_home) {
		strv_push(a, "--homedir");
		strv_push(a, o->gpg_home);
	}
}

/* The signing key: o->key, else the fingerprint of the first secret key
 * (the one gpg would sign with), so the key exported is the key that signs. */
static int signing_key(const struct publish_opts *o, char **key, struct acso_err *e)
{
	if (o->key) {
		*key = xstrdup(o->key);
		return 0;
	}
	struct strv a = {0};
	gpg_argv(&a, o);
	strv_push(&a, "--with-colons");
	strv_push(&a, "--list-secret-keys");
	struct buf out = {0};
	int r = run_tool((const char *const *)a.v, NULL, &out, e);
	strv_free(&a);
	*key = NULL;
	/* gpg's machine-readable listing: "sec:..." then "fpr:::::::::FPR:" */
	bool in_sec = false;
	for (char *line = r == 0 ? strtok((char *)buf_str(&out), "\n") : NULL; line && !*key;
	     line = strtok(NULL, "\n")) {
		if (startswith(line, "sec:"))
			in_sec = true;
		else if (in_sec && startswith(line, "fpr:")) {
			char *f = line;
			for (int i = 0; i < 9 && f; i++)
				f = strchr(f + 1, ':');
			if (f && f[1] && strchr(f + 1, ':'))
				*key = xstrndup(f + 1, strcspn(f + 1, ":"));
		}
	}
	buf_free(&out);
	if (r == 0 && !*key)
		r = err_set(e, -ACSO_E_NOKEY, "gpg has no secret key%s%s", o->gpg_home ? " in " : "",
			    o->gpg_home ? o->gpg_home : "");
	return r;
}

static int save(int dfd, const char *name, const struct buf *b, struct acso_err *e)
{
	int r = write_file_atomic(dfd, name, b->data ? b->data : "", b->len, 0644, 0);
	return r < 0 ? err_set(e, r, "write '%s': %s", name, acso_strerror(r)) : 0;
}

/* A field of the Release text we made ("Date"). */
static char *release_field(const char *text, const char *name)
{
	size_t n = strlen(name);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, name, n) && l[n] == ':')
			return xstrndup(l + n + 2, strcspn(l + n + 2, "\n"));
	return NULL;
}

/* Packages, its compressed forms, Release, its signatures and the key,
 * made in the directory stage_rel of dir (the packages are dir's). */
static int make_files(const char *dir, int sfd, const char *stage_rel, const struct publish_opts *o,
		      struct publish_result *res, struct acso_err *e)
{
	_cleanup_free_ char *stage = path_join(dir, stage_rel);
	struct buf pk = {0}, rel = {0};
	const char *scan[] = {"apt-ftparchive", "packages", ".", NULL};
	const char *gzip[] = {"gzip", "-9nk", "Packages", NULL}, *xz[] = {"xz", "-k", "Packages", NULL};
	int r = run_tool(scan, dir, &pk, e);
	if (r == 0 && (r = save(sfd, "Packages", &pk, e)) == 0 && (r = run_tool(gzip, stage, NULL, e)) == 0)
		r = run_tool(xz, stage, NULL, e);
	if (r == 0) {
		/* only the index files: an older Release or InRelease is not
		 * Release's business */
		struct strv a = {0};
		strv_push(&a, "apt-ftparchive");
		strv_push(&a, "-oAPT::FTPArchive::Release::Default-Patterns=false");
		strv_push(&a, "-oAPT::FTPArchive::Release::Patterns::=Packages*");
		strv_push(&a, "-oAPT::FTPArchive::Release::Origin=acso");
		strv_push(&a, "-oAPT::FTPArchive::Release::Label=acso prebuilt ACS override kernels");
		strv_pushf(&a, "-oAPT::FTPArchive::Release::ValidTime=%llu", (unsigned long long)o->valid_days * 86400);
		strv_push(&a, "release");
		strv_push(&a, ".");
		r = run_tool((const char *const *)a.v, stage, &rel, e);
		strv_free(&a);
	}
	if (r == 0 && (r = save(sfd, "Release", &rel, e)) == 0) {
		res->date = release_field(buf_str(&rel), "Date");
		res->valid_until = release_field(buf_str(&rel), "Valid-Until");
		r = signing_key(o, &res->key, e);
	}
	/* InRelease (clear-signed), Release.gpg (detached), the public key */
	static const char *const what[][3] = {
		{"--clearsign", NULL, "InRelease"}, {"--armor", "--detach-sign", "Release.gpg"}, {"--export", NULL, PUBLISH_KEY_FILE}};
	for (size_t i = 0; i < ARRAY_SIZE(what) && r == 0; i++) {
		struct strv a = {0};
		gpg_argv(&a, o);
		strv_push(&a, "--output");
		strv_push(&a, what[i][2]);
		if (i < 2) {
			strv_push(&a, "--local-user");
			strv_push(&a, res->key);
		}
		strv_push(&a, what[i][0]);
		if (what[i][1])
			strv_push(&a, what[i][1]);
		strv_push(&a, i < 2 ? "Release" : res->key);
		r = run_tool((const char *const *)a.v, stage, NULL, e);
		strv_free(&a);
		struct stat st;
		if (r == 0 && (fstatat(sfd, what[i][2], &st, AT_SYMLINK_NOFOLLOW) < 0 || !st.st_size))
			r = err_set(e, -ACSO_E_NOKEY, "gpg wrote no %s for key '%s'", what[i][2], res->key);
	}
	buf_free(&pk);
	buf_free(&rel);
	return r;
}

/* The file of kind (linux-image-/linux-headers-) among a release's files. */
static const char *file_of(const char *files, const char *prefix, char *out, size_t n)
{
	for (const char *f = files; f && *f;) {
		size_t len = strcspn(f, "\n");
		const char *base = memrchr(f, '/', len);
		base = base ? base + 1 : f;
		if (startswith(base, prefix) && len < n) {
			memcpy(out, f, len);
			out[len] = '\0';
			return out;
		}
		f = f[len] ? f + len + 1 : NULL;
	}
	return NULL;
}

/* One metapackage NAME-acso-SERIES depending on the newest release's
 * package of kind ("image"/"headers"), built with dpkg-deb into meta/. */
static int build_meta(const char *dir, const char *kind, const char *series, const char *rel, const char *file,
		      const char *stage, struct strv *made, struct acso_err *e)
{
	_cleanup_free_ char *path = path_join(dir, file);
	struct deb_info d;
	int r = deb_read(path, &d, e);
	if (r < 0)
		return err_wrap(e, r, "'%s'", path);
	_cleanup_free_ char *name = xasprintf("linux-%s-acso-%s", kind, series);
	_cleanup_free_ char *deb = xasprintf("%s/%s/%s_%s_%s.deb", dir, PUBLISH_META_DIR, name, d.version, d.architecture);
	_cleanup_free_ char *tree = xasprintf("%s/meta-%s", stage, name);
	_cleanup_free_ char *debian = path_join(tree, "DEBIAN");
	_cleanup_free_ char *ctl = xasprintf("Package: %s\nVersion: %s\nArchitecture: %s\n"
					     "Maintainer: acso publish <nobody@invalid>\nSection: kernel\nPriority: optional\n"
					     "Depends: linux-%s-%s (= %s)\n"
					     "Description: ACS override kernel %s, the newest %s release of the channel\n"
					     " Installed by acso prebuilt; apt upgrade follows the channel's newest\n"
					     " %s kernel through it.\n",
					     name, d.version, d.architecture, kind, rel, d.version, kind, series, series);
	_cleanup_close_ int fd = -1;
	if ((r = mkdir_p_at(AT_FDCWD, debian, 0755)) < 0 ||
	    (fd = open(debian, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (r = write_file_atomic(fd, "control", ctl, strlen(ctl), 0644, WRITE_NOSYNC)) < 0) {
		r = r < 0 ? r : -errno;
		deb_info_free(&d);
		return err_set(e, r, "'%s': %s", debian, acso_strerror(r));
	}
	const char *argv[] = {"dpkg-deb", "--root-owner-group", "-Zxz", "--build", tree, deb, NULL};
	r = run_tool(argv, NULL, NULL, e);
	if (r == 0)
		strv_push(made, strrchr(deb, '/') + 1);
	deb_info_free(&d);
	return r;
}

/* The metapackages of each series and architecture (linux-image-acso-6.1
 * and linux-headers-acso-6.1, depending on the newest 6.1 release): a
 * kernel installed through them is kept current by apt upgrade, as Debian's
 * linux-image-amd64 does. Metapackages of other versions are removed. */
static int make_meta(const char *dir, const char *stage, const struct strv *releases, const struct strv *files,
		     struct acso_err *e)
{
	_cleanup_free_ char *mdir = path_join(dir, PUBLISH_META_DIR);
	int r = mkdir_p_at(AT_FDCWD, mdir, 0755);
	if (r < 0)
		return err_set(e, r, "'%s': %s", mdir, acso_strerror(r));
	struct strv seen = {0}, made = {0};
	for (size_t i = 0; i < releases->n && r == 0; i++) {
		/* releases are newest first: the first of a series+arch is its newest */
		_cleanup_free_ char *rel = xstrndup(releases->v[i], strcspn(releases->v[i], " "));
		_cleanup_free_ char *series = prebuilt_series_of(rel);
		_cleanup_free_ char *key = xasprintf("%s %s", series ? series : "", strchr(releases->v[i], ' ') + 1);
		if (!series || strv_has(&seen, key))
			continue;
		strv_push(&seen, key);
		char f[512];
		static const char *const kinds[] = {"image", "headers"};
		for (size_t k = 0; k < 2 && r == 0; k++) {
			_cleanup_free_ char *prefix = xasprintf("linux-%s-%s_", kinds[k], rel);
			if (file_of(files->v[i], prefix, f, sizeof(f)))
				r = build_meta(dir, kinds[k], series, rel, f, stage, &made, e);
		}
	}
	DIR *d = r == 0 ? opendir(mdir) : NULL;
	for (struct dirent *de; d && (de = readdir(d));)
		if (endswith(de->d_name, ".deb") && !strv_has(&made, de->d_name))
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
	strv_free(&seen);
	strv_free(&made);
	return r;
}

int publish_repo(const char *dir, const struct publish_opts *o, struct publish_result *res, struct acso_err *e)
{
	memset(res, 0, sizeof(*res));
	struct strv files = {0};
	int r = publish_scan(dir, &res->releases, &files, &res->skipped, e);
	if (r == 0 && o->keep)
		r = prune(dir, o->keep, &res->releases, &files, &res->pruned, e);
	/* scanned again below, after the pruning */
	strv_free(&files);
	strv_free(&res->releases);
	strv_free(&res->skipped);
	if (r < 0)
		return r;
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_set(e, -errno, "'%s': %s", dir, strerror(errno));
	/* the stage: a private directory named after us, so that what a killed
	 * publish left is recognised and removed by the next */
	remove_dead_temps(dfd, ".acso-publish-");
	_cleanup_free_ char *stage = xasprintf(".acso-publish-%ld", (long)getpid());
	if (mkdirat(dfd, stage, 0755) < 0)
		return err_set(e, -errno, "create '%s/%s': %s", dir, stage, strerror(errno));
	_cleanup_close_ int sfd = openat(dfd, stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_free_ char *stage_path = path_join(dir, stage);
	r = sfd < 0 ? err_set(e, -errno, "'%s': %s", stage_path, strerror(errno)) : 0;
	if (r == 0 && (r = publish_scan(dir, &res->releases, &files, &res->skipped, e)) == 0)
		r = make_meta(dir, stage_path, &res->releases, &files, e);
	strv_free(&files);
	if (r == 0)
		r = make_files(dir, sfd, stage, o, res, e);
	for (size_t i = 0; i < ARRAY_SIZE(repo_files) && r == 0; i++)
		if (renameat(sfd, repo_files[i], dfd, repo_files[i]) < 0)
			r = err_set(e, -errno, "rename '%s' into '%s': %s", repo_files[i], dir, strerror(errno));
	if (r == 0)
		fsync(dfd);
	rm_rf_at(dfd, stage);
	return r;
}
