/* kbplan.c — see kbplan.h. Moved out of cli/cmd-build.c so that the rules
 * (who builds, reuse, preflight, where the packages go) are reached by
 * tests/unit/test-kbuild.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/spawn.h"
#include "kernel/kbplan.h"
#include "package/deb.h"

#define CONFIG_MAX (8u << 20)
#define LOG_TAIL_MAX (16u << 20) /* how much of a failed log is diagnosed */

enum kbplan_who kbplan_who(bool root, const char *sudo_user, bool allow_root)
{
	if (!root)
		return KBP_AS_SELF;
	if (sudo_user && *sudo_user && strcmp(sudo_user, "root"))
		return KBP_AS_SUDO_USER;
	return allow_root ? KBP_AS_SELF : KBP_REFUSE_ROOT;
}

bool kbplan_localversion_valid(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '+'))
			return false;
	return true;
}

/* The last build of this release, if --reuse-key names it: built with that
 * key from the same tree and .config, its packages as the manifest lists
 * them. acso run passes the key of an attempt the run was cut off in: a
 * build that finished before the run could record it is reported, not made
 * again (a rebuild would bump the Debian version). */
static bool reusable(const struct kbplan *p, const char *key, const char *localversion, struct manifest *m)
{
	_cleanup_free_ char *mp = path_join(p->out_dir, MANIFEST_NAME);
	if (manifest_read(mp, m, NULL) < 0)
		return false;
	bool same = m->reuse_key && !strcmp(m->reuse_key, key) && m->config_sha256 &&
		    !strcmp(m->config_sha256, p->config_sha256) && m->source_dir && !strcmp(m->source_dir, p->src) &&
		    m->localversion && !strcmp(m->localversion, localversion);
	if (same && manifest_verify(p->out_dir, m, NULL) == 0)
		return true;
	manifest_free(m);
	return false;
}

/* WORK/logs/build-<stamp>.log; two builds in one second get
 * build-<ts>.log and build-<ts>-2.log. */
static void name_logs(struct kbplan *p, const struct kbplan_in *in)
{
	char stamp[32];
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime(&in->now));
	for (int i = 2; i < 100; i++) {
		_cleanup_free_ char *path = xasprintf("%s/build-%s.log", p->log_dir, stamp);
		if (access(path, F_OK) < 0)
			break;
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime(&in->now));
		snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp), "-%d", i);
	}
	p->log_path = xasprintf("%s/build-%s.log", p->log_dir, stamp);
	p->distcc_log = in->distcc ? xasprintf("%s/distcc-%s.log", p->log_dir, stamp) : NULL;
}

/* The tree: resolved, its release, its .config and that config's digest. */
static int plan_tree(const struct kbplan_in *in, struct kbplan *p, char **config, struct acso_err *e)
{
	p->src_arg = in->source_dir ? xstrdup(in->source_dir) : path_join(in->work_dir, "src/current");
	if (!realpath(p->src_arg, p->src)) {
		p->stop = KBP_NO_TREE;
		return err_set(e, -errno, "%s", strerror(errno));
	}
	int r = kbuild_release(p->src, in->localversion, &p->version, &p->release, e);
	if (r < 0) {
		p->stop = KBP_BAD_TREE;
		return r;
	}
	p->config_path = path_join(p->src, ".config");
	size_t config_len = 0;
	r = read_file_at(AT_FDCWD, p->config_path, CONFIG_MAX, config, &config_len);
	if (r < 0) {
		p->stop = KBP_NO_CONFIG;
		return err_set(e, r, "%s", acso_strerror(r));
	}
	hash_buf_hex("sha256", *config, config_len, p->config_sha256);
	return 0;
}

/* Tools, then the disk. */
static int preflight(const struct kbplan_in *in, struct kbplan *p, const char *config, struct acso_err *e)
{
	if (kbuild_missing_packages(config, in->include_dir ? in->include_dir : "/usr/include", &p->missing) > 0) {
		p->stop = KBP_MISSING;
		return err_set(e, -ENOENT, "build tools are missing");
	}
	_cleanup_free_ char *prev_path = path_join(p->out_dir, MANIFEST_NAME);
	struct manifest prev = {0};
	bool have_prev = manifest_read(prev_path, &prev, NULL) == 0;
	p->estimate = have_prev && prev.objects ? prev.objects : kbuild_estimate_objects(config);
	p->pkgversion = kbuild_pkgversion(p->version, in->localversion, have_prev ? prev.debian_version : NULL);
	manifest_free(&prev);

	p->disk_needed = kbuild_disk_needed(config, kbuild_estimate_objects(config));
	struct statvfs vfs;
	if (statvfs(p->src, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < p->disk_needed) {
		p->disk_free = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		p->stop = KBP_NO_SPACE;
		return err_set(e, -ENOSPC, "not enough disk space");
	}
	return 0;
}

/* The make command, and the compiler wrappers it needs installed. */
static int plan_command(const struct kbplan_in *in, struct kbplan *p, struct acso_err *e)
{
	_cleanup_free_ char *trees = xstrdup(p->src);
	*strrchr(trees, '/') = '\0';
	struct kbuild_opts ko = {
		.ccache_basedir = *trees ? trees : NULL, .ccache_dir = getenv("CCACHE_DIR"),
		.src_dir = p->src, .localversion = in->localversion, .pkgversion = p->pkgversion,
		.jobs = in->jobs, .cpus = in->cpus ? in->cpus : 1, .ccache = in->ccache,
		.distcc_hosts = in->distcc, .icecc = in->icecc, .nokerneldbg = kbuild_knows_nokerneldbg(p->src),
		.distcc_log = p->distcc_log,
	};
	p->jobs = kbuild_command(&ko, &p->argv, &p->env, e);
	if (p->jobs < 0) {
		p->stop = KBP_BAD_COMMAND;
		return p->jobs;
	}
	const char *wrappers[] = {in->distcc ? "distcc" : in->icecc ? "icecc" : NULL, in->ccache ? "ccache" : NULL};
	for (size_t i = 0; i < ARRAY_SIZE(wrappers); i++) {
		_cleanup_free_ char *w = wrappers[i] ? spawn_which(wrappers[i]) : NULL;
		if (wrappers[i] && !w) {
			p->wrapper = wrappers[i];
			p->stop = KBP_NO_WRAPPER;
			return err_set(e, -ENOENT, "'%s' is not installed", wrappers[i]);
		}
	}
	struct buf b = {0};
	for (size_t i = 0; i < p->env.n; i++)
		buf_printf(&b, "%s ", p->env.v[i]);
	for (size_t i = 0; i < p->argv.n; i++)
		buf_printf(&b, "%s%s", i ? " " : "", p->argv.v[i]);
	p->cmdline = xstrdup(buf_str(&b));
	buf_free(&b);
	return 0;
}

int kbplan_make(const struct kbplan_in *in, struct kbplan *p, struct acso_err *e)
{
	memset(p, 0, sizeof(*p));
	p->ccache = in->ccache;
	_cleanup_free_ char *config = NULL;
	int r = plan_tree(in, p, &config, e);
	if (r < 0)
		return r;
	p->build_dir = path_join(in->work_dir, "build");
	p->out_dir = path_join(p->build_dir, p->release);
	p->log_dir = path_join(in->work_dir, "logs");
	if (in->reuse_key && reusable(p, in->reuse_key, in->localversion, &p->reused)) {
		p->stop = KBP_REUSE;
		return 0;
	}
	r = preflight(in, p, config, e);
	if (r < 0)
		return r;
	name_logs(p, in);
	r = plan_command(in, p, e);
	if (r < 0)
		return r;
	p->stop = KBP_READY;
	return 0;
}

void kbplan_free(struct kbplan *p)
{
	free(p->src_arg);
	free(p->version);
	free(p->release);
	free(p->pkgversion);
	free(p->config_path);
	free(p->build_dir);
	free(p->out_dir);
	free(p->log_dir);
	free(p->log_path);
	free(p->distcc_log);
	manifest_free(&p->reused);
	strv_free(&p->missing);
	strv_free(&p->argv);
	strv_free(&p->env);
	free(p->cmdline);
	memset(p, 0, sizeof(*p));
}

char *kbplan_log_tail(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return xstrdup("");
	struct stat st;
	if (fstat(fd, &st) < 0)
		return xstrdup("");
	off_t off = st.st_size > (off_t)LOG_TAIL_MAX ? st.st_size - (off_t)LOG_TAIL_MAX : 0;
	if (lseek(fd, off, SEEK_SET) < 0)
		return xstrdup("");
	char *text = NULL;
	if (read_fd_bounded(fd, LOG_TAIL_MAX, &text, NULL) < 0)
		return xstrdup("");
	return text;
}

/* Count what distcc sent where, from its DISTCC_LOG, into the build log. */
static void summarize_distcc(const char *distcc_log, int log_fd, struct kbplan_result *res)
{
	res->distcc = true;
	res->distcc_jobs = res->distcc_local = 0;
	_cleanup_free_ char *text = kbplan_log_tail(distcc_log);
	for (const char *p = text; p && *p;) {
		size_t len = strcspn(p, "\n");
		_cleanup_free_ char *line = xstrndup(p, len);
		if (strstr(line, " completed ok") && strstr(line, "] compile "))
			res->distcc_jobs++;
		else if (strstr(line, "running locally instead") || strstr(line, "(dcc_build_locally)"))
			res->distcc_local++;
		p += len + (p[len] ? 1 : 0);
	}
	dprintf(log_fd, "acso: distcc: %llu jobs compiled on distcc hosts, %llu fell back to local (details: %s)\n",
		(unsigned long long)res->distcc_jobs, (unsigned long long)res->distcc_local, distcc_log);
}

struct line_state {
	enum kbuild_phase phase;
	uint64_t objects;
	kbplan_progress_fn fn;
	void *priv;
};

static void on_line(void *priv, const char *line)
{
	struct line_state *ls = priv;
	if (kbuild_line(line, &ls->phase))
		ls->objects++;
	if (ls->fn)
		ls->fn(ls->priv, ls->phase, ls->objects);
}

int kbplan_run(const struct kbplan *p, const struct kbplan_user *u, int log_fd, kbplan_progress_fn fn,
	       void *priv, struct kbplan_result *res)
{
	memset(res, 0, sizeof(*res));
	dprintf(log_fd, "acso: building %s (%s) in %s, %d jobs%s%s\nacso: %s\n", p->release, p->pkgversion, p->src,
		p->jobs, u->drop ? ", as " : "", u->drop ? u->name : "", p->cmdline);
	struct line_state ls = {.fn = fn, .priv = priv};
	struct spawn_opts so = {
		.env = (const char *const *)p->env.v, .log_fd = log_fd, .on_line = on_line, .priv = &ls,
		.drop_privs = u->drop, .uid = u->uid, .gid = u->gid,
	};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int r = spawn_run((const char *const *)p->argv.v, &so, &res->status);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	res->objects = ls.objects;
	dprintf(log_fd, "acso: make finished after %.1f s, %llu objects compiled\n", res->seconds,
		(unsigned long long)res->objects);
	if (p->distcc_log)
		summarize_distcc(p->distcc_log, log_fd, res);
	return r;
}

/* Move (or copy across file systems) src to dst. */
static int move_file(const char *src, const char *dst)
{
	if (rename(src, dst) == 0)
		return 0;
	if (errno != EXDEV)
		return -errno;
	const char *argv[] = {"cp", "--", src, dst, NULL};
	int r = spawn_check(argv, &(struct spawn_opts){.log_fd = -1, .quiet = true}, NULL);
	if (r < 0)
		return r;
	return unlink(src) < 0 ? -errno : 0;
}

/* The <name>_<pkgversion>_<arch>.deb files in parent this build wrote (not
 * a stale -dbg of an old run). */
static int list_debs(const char *parent, const char *pkgversion, time_t since, struct strv *names,
		     struct acso_err *e)
{
	DIR *d = opendir(parent);
	if (!d)
		return err_set(e, -errno, "'%s': %s", parent, strerror(errno));
	_cleanup_free_ char *mark = xasprintf("_%s_", pkgversion);
	struct dirent *de;
	while ((de = readdir(d)))
		if (endswith(de->d_name, ".deb") && strstr(de->d_name, mark)) {
			struct stat st;
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
			    st.st_mtime + 2 >= since)
				strv_push(names, de->d_name);
		}
	closedir(d);
	return 0;
}

/* Collect the packages beside the tree into outdir and read each one. */
static int collect_debs(const char *parent, const char *pkgversion, time_t since, const char *outdir,
			struct manifest *m, struct acso_err *e)
{
	struct strv names = {0};
	int r = list_debs(parent, pkgversion, since, &names, e);
	for (size_t i = 0; i < names.n && r == 0; i++) {
		_cleanup_free_ char *from = path_join(parent, names.v[i]);
		_cleanup_free_ char *to = path_join(outdir, names.v[i]);
		r = move_file(from, to);
		if (r < 0) {
			err_set(e, r, "move '%s' to '%s': %s", from, outdir, acso_strerror(r));
			break;
		}
		struct deb_info info;
		r = deb_read(to, &info, e);
		if (r < 0) {
			err_wrap(e, r, "'%s'", to);
			break;
		}
		if (strcmp(info.version, pkgversion)) {
			r = err_set(e, -ACSO_E_PARSE, "'%s' says version '%s', not '%s'", to, info.version, pkgversion);
			deb_info_free(&info);
			break;
		}
		manifest_add(m, names.v[i], &info);
	}
	strv_free(&names);
	if (r == 0 && m->n == 0)
		r = err_set(e, -ACSO_E_NOTFOUND, "make succeeded but no package of version '%s' is in '%s'", pkgversion, parent);
	return r;
}

/* The release make really used (CONFIG_LOCALVERSION_AUTO may add to it). */
static void real_release(struct kbplan *p)
{
	_cleanup_free_ char *kr_path = path_join(p->src, "include/config/kernel.release");
	_cleanup_free_ char *kr = NULL;
	if (read_file_at(AT_FDCWD, kr_path, 256, &kr, NULL) == 0 && *strip_trailing(kr) && strcmp(kr, p->release)) {
		free(p->release);
		p->release = xstrdup(kr);
		free(p->out_dir);
		p->out_dir = path_join(p->build_dir, p->release);
	}
}

/* The .config this build compiled, kept beside its packages
 * (KBPLAN_CONFIG_NAME): `acso run --update` configures the next point
 * release from it, whatever becomes of the tree. */
static int keep_config(const struct kbplan *p, int dfd, const struct kbplan_user *u, struct acso_err *e)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	/* dfd: the output directory as mkdir_owned_open checked it, never the
	 * path again (the user owns it and could swap it for a link) */
	int r = read_file_at(AT_FDCWD, p->config_path, CONFIG_MAX, &text, &len);
	if (r == 0)
		r = write_file_atomic(dfd, KBPLAN_CONFIG_NAME, text, len, 0644, 0);
	if (r < 0)
		return err_set(e, r, "keep '%s' in '%s': %s", p->config_path, p->out_dir, acso_strerror(r));
	if (u->drop)
		(void)!fchownat(dfd, KBPLAN_CONFIG_NAME, u->uid, u->gid, AT_SYMLINK_NOFOLLOW);
	return 0;
}

int kbplan_collect(struct kbplan *p, const struct kbplan_in *in, const struct kbplan_user *u,
		   const struct kbplan_result *res, struct manifest *m, struct acso_err *e)
{
	real_release(p);
	memset(m, 0, sizeof(*m));
	m->release = xstrdup(p->release);
	m->version = xstrdup(p->version);
	m->localversion = xstrdup(in->localversion);
	m->debian_version = xstrdup(p->pkgversion);
	m->source_dir = xstrdup(p->src);
	m->log = xstrdup(p->log_path);
	char iso[32];
	iso_utc(in->now, iso, sizeof(iso));
	m->built_at = xstrdup(iso);
	m->config_sha256 = xstrdup(p->config_sha256);
	m->reuse_key = in->reuse_key ? xstrdup(in->reuse_key) : NULL;
	m->objects = res->objects;
	m->jobs = (unsigned)p->jobs;
	m->seconds = res->seconds;
	_cleanup_free_ char *parent = xstrdup(p->src);
	*strrchr(parent, '/') = '\0';
	if (!*parent)
		strcpy(parent, "/");
	_cleanup_close_ int dfd = mkdir_owned_open(p->out_dir, 0755, u->drop ? u->uid : (uid_t)-1,
						   u->drop ? u->gid : (gid_t)-1, e);
	if (dfd < 0)
		return dfd;
	int r = collect_debs(parent, p->pkgversion, in->now, p->out_dir, m, e);
	if (r == 0)
		r = keep_config(p, dfd, u, e);
	if (r == 0)
		r = manifest_write(dfd, p->out_dir, m, e);
	if (r < 0)
		return r;
	if (u->drop) {
		/* The user owns the directory and may swap the manifest for a
		 * link the moment it is renamed: chown what is beneath the
		 * checked directory, never through a link. */
		_cleanup_close_ int mfd = openat(dfd, MANIFEST_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		struct stat st;
		if (mfd < 0 || fstat(mfd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1)
			return err_set(e, -ACSO_E_UNSAFE, "'%s/%s' is not the file just written (replaced by a link?): not given to uid %u",
				       p->out_dir, MANIFEST_NAME, (unsigned)u->uid);
		(void)!fchown(mfd, u->uid, u->gid);
	}
	kbplan_set_current(p->build_dir, p->release);
	return 0;
}

void kbplan_set_current(const char *build_dir, const char *release)
{
	_cleanup_close_ int dfd = open(build_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		remove_dead_temps(dfd, ".current."); /* of a build cut off here */
	_cleanup_free_ char *tmp = xasprintf("%s/.current.%d", build_dir, (int)getpid());
	_cleanup_free_ char *cur = path_join(build_dir, "current");
	unlink(tmp);
	if (symlink(release, tmp) == 0 && rename(tmp, cur) < 0)
		unlink(tmp);
}
