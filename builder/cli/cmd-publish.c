/* cmd-publish.c — `acso publish DIR`: write index.json over the kernel
 * packages in DIR (and its subdirectories, one level) and sign it with gpg
 * into index.json.asc. DIR can then be served by any static web server as a
 * prebuilt channel (docs/prebuilt-index.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "package/deb.h"
#include "base/err.h"
#include "base/fileio.h"
#include "package/index.h"
#include "cli/output.h"
#include "base/spawn.h"
#include "base/util.h"


struct publish_args {
	const char *key, *gpg_home, *distro, *acs_patch;
	bool no_sign;
};

#define OPTS struct publish_args
const struct acso_option publish_options[] = {
	OPT_STRING(0, "key", key, "ID", "sign with this gpg key (default: gpg's default key)"),
	OPT_STRING(0, "gpg-home", gpg_home, "DIR", "gpg home directory holding the signing key"),
	OPT_STRING(0, "distro", distro, "NAME", "distribution the kernels were built for (default: ID-VERSION_ID of /etc/os-release)"),
	OPT_STRING(0, "acs-patch", acs_patch, "VERSION", "ACS override patch version (default: acso-<acso version>)"),
	OPT_BOOL(0, "no-sign", no_sign, "write index.json only (sign it yourself: gpg --armor --detach-sign)"),
	OPT_END,
};

/* "debian-12" from the root's /etc/os-release. */
static char *os_release_distro(int rootfd)
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

static int build_index(const char *dir, const char *distro, const char *acs, struct index *ix, struct acso_err *e)
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
			msg_warn("'%s': a name the index cannot carry (skipped)", files.v[i]);
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
			msg_warn("'%s': '%s' is not a kernel package (skipped)", files.v[i], d.package);
		} else if (kind == DEB_LIBC_DEV) {
			/* Joined to the kernel of the same Debian version below. */
			libc = xrealloc(libc, (nlibc + 1) * sizeof(*libc));
			libc[nlibc++] = d;
			strv_push(&libc_files, files.v[i]);
			continue;
		} else {
			struct index_kernel *k = kernel_for(ix, rel, d.architecture, d.version, distro, acs);
			k->pkgs = xrealloc(k->pkgs, (k->n + 1) * sizeof(*k->pkgs));
			struct index_pkg *ip = &k->pkgs[k->n++];
			ip->file = xstrdup(files.v[i]);
			ip->package = xstrdup(d.package);
			ip->version = xstrdup(d.version);
			ip->size = d.size;
			memcpy(ip->sha256, d.sha256, 65);
		}
		deb_info_free(&d);
	}
	for (size_t i = 0; i < nlibc; i++) {
		for (size_t j = 0; r == 0 && j < ix->n; j++) {
			struct index_kernel *k = &ix->k[j];
			if (strcmp(k->architecture, libc[i].architecture) || strcmp(k->pkgs[0].version, libc[i].version))
				continue;
			k->pkgs = xrealloc(k->pkgs, (k->n + 1) * sizeof(*k->pkgs));
			struct index_pkg *ip = &k->pkgs[k->n++];
			ip->file = xstrdup(libc_files.v[i]);
			ip->package = xstrdup(libc[i].package);
			ip->version = xstrdup(libc[i].version);
			ip->size = libc[i].size;
			memcpy(ip->sha256, libc[i].sha256, 65);
		}
		deb_info_free(&libc[i]);
	}
	free(libc);
	strv_free(&libc_files);
	strv_free(&files);
	if (r == 0 && ix->n == 0)
		r = err_set(e, -ACSO_E_NOTFOUND, "no linux-image or linux-headers package in '%s'", dir);
	ix->generated = iso_utc_dup(time(NULL));
	return r;
}

static int sign_index(const char *dir, const struct publish_args *a, struct acso_err *e)
{
	_cleanup_free_ char *in = path_join(dir, "index.json");
	_cleanup_free_ char *part = path_join(dir, "index.json.asc.part");
	_cleanup_free_ char *out = path_join(dir, "index.json.asc");
	struct strv argv = {0};
	strv_push(&argv, "gpg");
	strv_push(&argv, "--batch");
	strv_push(&argv, "--yes");
	strv_push(&argv, "--pinentry-mode=loopback");
	if (a->gpg_home) {
		strv_push(&argv, "--homedir");
		strv_push(&argv, a->gpg_home);
	}
	if (a->key) {
		strv_push(&argv, "--local-user");
		strv_push(&argv, a->key);
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

int cmd_publish(struct acso_ctx *ctx, int argc, char **argv)
{
	struct publish_args a = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &a, &first);
	if (r)
		return r;
	const char *dir = argv[first];
	struct acso_err e = {0};
	_cleanup_free_ char *distro = a.distro ? xstrdup(a.distro) : os_release_distro(ctx->rootfd);
	if (!distro)
		distro = xstrdup("unknown");
	_cleanup_free_ char *acs = a.acs_patch ? xstrdup(a.acs_patch) : xstrdup("acso-" ACSO_VERSION);
	struct index ix;
	r = build_index(dir, distro, acs, &ix, &e);
	if (r < 0) {
		index_free(&ix);
		return fail(&e, r, "publish '%s'", dir);
	}
	_cleanup_free_ char *text = index_to_json(&ix);
	/* The writer must produce what the reader accepts (plain strings...). */
	struct index check;
	r = index_parse(text, strlen(text), &check, &e);
	if (r < 0) {
		index_free(&ix);
		return fail(&e, r, "publish '%s': --distro or --acs-patch", dir);
	}
	index_free(&check);
	size_t npkg = 0;
	for (size_t i = 0; i < ix.n; i++)
		npkg += ix.k[i].n;
	if (ctx->dry_run) {
		fputs(text, stdout);
		index_free(&ix);
		return EXIT_OK;
	}
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = dfd < 0 ? -errno : write_file_atomic(dfd, "index.json", text, strlen(text), 0644, 0);
	if (r < 0) {
		index_free(&ix);
		msg_error("write '%s/index.json': %s", dir, acso_strerror(r));
		return EXIT_FAIL;
	}
	if (!a.no_sign) {
		r = sign_index(dir, &a, &e);
		if (r < 0) {
			index_free(&ix);
			fail(&e, r, "sign '%s/index.json'", dir);
			msg_hint("create a signing key (gpg --quick-gen-key), or pass --key ID / --gpg-home DIR");
			return EXIT_FAIL;
		}
	}
	if (ctx->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "index", json_object_new_string(dir));
		json_object_object_add(o, "kernels", json_object_new_int((int)ix.n));
		json_object_object_add(o, "packages", json_object_new_int((int)npkg));
		json_object_object_add(o, "signed", json_object_new_boolean(!a.no_sign));
		out_json(o);
		json_object_put(o);
	} else {
		printf("wrote %s/index.json: %zu kernel%s, %zu packages%s\n", dir, ix.n, ix.n == 1 ? "" : "s", npkg,
		       a.no_sign ? " (not signed)" : "");
		for (size_t i = 0; i < ix.n; i++)
			printf("  %s %s (%s, ACS patch %s)\n", ix.k[i].release, ix.k[i].architecture, ix.k[i].distro,
			       ix.k[i].acs_patch);
		if (!a.no_sign)
			printf("signature: %s/index.json.asc\n", dir);
	}
	index_free(&ix);
	return EXIT_OK;
}
