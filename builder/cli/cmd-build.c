/* cmd-build.c — `acso build`: make bindeb-pkg in the prepared tree as a
 * normal user, with a progress line, a full log, a diagnosis on failure,
 * and the resulting .debs (read back with libarchive) in a manifest. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/install-step.h"
#include "cli/commands.h"
#include "base/user.h"
#include "package/deb.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/hash.h"
#include "kernel/kbuild.h"
#include "base/lock.h"
#include "package/manifest.h"
#include "cli/output.h"
#include "base/spawn.h"
#include "base/util.h"

#define CONFIG_MAX (8u << 20)
#define LOG_TAIL_MAX (16u << 20) /* how much of a failed log is diagnosed */

struct build_args {
	const char *source_dir;
	const char *localversion;
	uint32_t jobs;
	bool ccache, icecc, allow_root;
	const char *distcc;
	const char *reuse_key;
};

static int opt_reuse_key(void *opts, const char *arg)
{
	if (!*arg || strlen(arg) > 128) {
		msg_error("--reuse-key '%s': expected 1 to 128 characters", arg);
		return EXIT_USAGE;
	}
	((struct build_args *)opts)->reuse_key = arg;
	return 0;
}

#define OPTS struct build_args
const struct acso_option build_options[] = {
	OPT_STRING(0, "source-dir", source_dir, "DIR", "the prepared kernel tree (default WORK/src/current)"),
	OPT_STRING(0, "localversion", localversion, "SUFFIX", "release suffix (default -acso; config: localversion)"),
	OPT_UINT('j', "jobs", jobs, "N", 1, 4096, "parallel jobs (default: the CPUs available, or the distcc hosts' slots)"),
	OPT_BOOL(0, "ccache", ccache, "compile through ccache (config: ccache = yes)"),
	OPT_STRING(0, "distcc", distcc, "HOSTS", "compile on distcc hosts, e.g. '127.0.0.1:3632/4 box2/8' (config: distcc)"),
	OPT_BOOL(0, "icecc", icecc, "compile through an existing icecream (icecc) cluster"),
	OPT_BOOL(0, "allow-root", allow_root, "build even as plain root (not recommended)"),
	OPT_CALLBACK(0, "reuse-key", opt_reuse_key, "KEY", "record KEY; if the last build was made with KEY, the same .config and is intact, report it instead (acso run)"),
	OPT_END,
};

/* A localversion is a release suffix: "-acso", "-vfio1". */
static bool valid_localversion(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '+'))
			return false;
	return true;
}

/* Who builds: ourselves, or SUDO_USER when we run under sudo. */
struct builder_user {
	bool drop;
	uid_t uid;
	gid_t gid;
	char name[64];
	char home[PATH_MAX];
};

static int choose_user(struct acso_ctx *ctx, const struct build_args *a, struct builder_user *u)
{
	memset(u, 0, sizeof(*u));
	if (geteuid() != 0)
		return 0;
	struct acso_user who;
	struct acso_err e = {0};
	if (user_invoking(&who, &e) < 0) {
		msg_error("%s", e.msg);
		return EXIT_FAIL;
	}
	if (who.sudo) {
		/* the work dir followed the user already (CMD_SUDO_HOME) */
		u->drop = true;
		u->uid = who.uid;
		u->gid = who.gid;
		snprintf(u->name, sizeof(u->name), "%s", who.name);
		snprintf(u->home, sizeof(u->home), "%s", who.home);
		setenv("HOME", u->home, 1);
		setenv("USER", u->name, 1);
		setenv("LOGNAME", u->name, 1);
		return 0;
	}
	if (!a->allow_root) {
		msg_error("refusing to build the kernel as root");
		msg_hint("run 'acso build' as a normal user (under sudo it builds as SUDO_USER), or pass --allow-root");
		return EXIT_FAIL;
	}
	return 0;
}

/* mkdir -p an absolute directory and hand it to the building user. */
static int make_dir(const char *path, const struct builder_user *u)
{
	return mkdir_p_owned(path, 0755, u->drop ? u->uid : (uid_t)-1, u->drop ? u->gid : (gid_t)-1);
}

struct build_progress {
	struct progress p;
	enum kbuild_phase phase;
	uint64_t objects, estimate;
};

static void on_line(void *priv, const char *line)
{
	struct build_progress *bp = priv;
	if (kbuild_line(line, &bp->phase))
		bp->objects++;
	if (!bp->p.on)
		return;
	double el = now_seconds() - bp->p.start;
	char elapsed[32], eta[32] = "?";
	fmt_duration(el, elapsed, sizeof(elapsed));
	if (bp->objects > 20 && bp->estimate > bp->objects)
		fmt_duration(el * (double)(bp->estimate - bp->objects) / (double)bp->objects, eta, sizeof(eta));
	else if (bp->objects >= bp->estimate && bp->estimate)
		snprintf(eta, sizeof(eta), "soon");
	if (now_seconds() - bp->p.last < 0.2)
		return;
	bp->p.last = now_seconds();
	progress_text(&bp->p, "build: %-8s %llu/~%llu objects  %s  ETA %s", kbuild_phase_name(bp->phase),
		      (unsigned long long)bp->objects, (unsigned long long)bp->estimate, elapsed, eta);
}

/* The tail of a log (the part that holds the failure). */
static char *read_log_tail(const char *path)
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

static void report_failure(const char *what, const char *log_path)
{
	_cleanup_free_ char *text = read_log_tail(log_path);
	struct kbuild_diag d;
	kbuild_diagnose(text, &d);
	msg_error("%s", what);
	for (size_t i = 0; i < d.errors.n; i++)
		fprintf(stderr, "  | %s\n", d.errors.v[i]);
	fprintf(stderr, "  cause: %s\n", d.cause);
	msg_hint("%s", d.fix);
	msg_hint("full log: %s", log_path);
	kbuild_diag_free(&d);
}

/* Count what distcc sent where, from its DISTCC_LOG, into the build log. */
static void summarize_distcc(const char *distcc_log, int log_fd, uint64_t *remote, uint64_t *local)
{
	*remote = *local = 0;
	_cleanup_free_ char *text = read_log_tail(distcc_log);
	for (const char *p = text; p && *p;) {
		size_t len = strcspn(p, "\n");
		_cleanup_free_ char *line = xstrndup(p, len);
		if (strstr(line, " completed ok") && strstr(line, "] compile "))
			(*remote)++;
		else if (strstr(line, "running locally instead") || strstr(line, "(dcc_build_locally)"))
			(*local)++;
		p += len + (p[len] ? 1 : 0);
	}
	dprintf(log_fd, "acso: distcc: %llu jobs compiled on distcc hosts, %llu fell back to local (details: %s)\n",
		(unsigned long long)*remote, (unsigned long long)*local, distcc_log);
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

/* Collect the <name>_<pkgversion>_<arch>.deb files beside the tree into outdir and read each one. */
static int collect_debs(const char *parent, const char *pkgversion, time_t since, const char *outdir,
			struct manifest *m, struct acso_err *e)
{
	DIR *d = opendir(parent);
	if (!d)
		return err_set(e, -errno, "'%s': %s", parent, strerror(errno));
	_cleanup_free_ char *mark = xasprintf("_%s_", pkgversion);
	struct strv names = {0};
	struct dirent *de;
	while ((de = readdir(d)))
		if (endswith(de->d_name, ".deb") && strstr(de->d_name, mark)) {
			/* Only what this build wrote: not a stale -dbg of an old run. */
			struct stat st;
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
			    st.st_mtime + 2 >= since)
				strv_push(&names, de->d_name);
		}
	closedir(d);
	int r = 0;
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

static void print_report(const struct manifest *m, const char *manifest_path, bool reused)
{
	if (m->n == 0)
		return;
	char dur[32];
	fmt_duration(m->seconds, dur, sizeof(dur));
	if (reused)
		printf("%sreused the build of %s%s (Debian version %s) of %s: same key, same .config, packages intact\n",
		       sty(ST_BOLD), m->release, sty(ST_RESET), m->debian_version, m->built_at ? m->built_at : "?");
	else
		printf("%sbuilt %s%s (Debian version %s) in %s, %llu objects compiled\n", sty(ST_BOLD), m->release,
		       sty(ST_RESET), m->debian_version, dur, (unsigned long long)m->objects);
	for (size_t i = 0; i < m->n; i++) {
		char size[32];
		fmt_size(m->pkgs[i].info.size, size, sizeof(size));
		printf("  %-34s %-10s %s\n    %s\n", m->pkgs[i].info.package, size, m->pkgs[i].info.architecture,
		       m->pkgs[i].info.sha256);
	}
	printf("manifest: %s\nlog: %s\n", manifest_path, m->log);
}

/* The report of a build (or of the one reused), as text or JSON. */
static void report(const struct acso_ctx *ctx, const struct manifest *m, const char *manifest_path, bool reused,
		   const char *distcc_log, uint64_t remote, uint64_t local)
{
	if (ctx->json) {
		json_object *o = manifest_to_json(m);
		json_object_object_add(o, "manifest", json_object_new_string(manifest_path));
		json_object_object_add(o, "reused", json_object_new_boolean(reused));
		if (distcc_log) {
			json_object_object_add(o, "distcc_jobs", json_object_new_int64((int64_t)remote));
			json_object_object_add(o, "distcc_local", json_object_new_int64((int64_t)local));
		}
		out_json(o);
		json_object_put(o);
		return;
	}
	print_report(m, manifest_path, reused);
	if (distcc_log)
		printf("distcc: %llu jobs compiled on the hosts, %llu locally\n", (unsigned long long)remote,
		       (unsigned long long)local);
}

/* The last build of this release, if --reuse-key names it: built with that
 * key from the same tree and .config, its packages as the manifest lists
 * them. acso run passes the key of an attempt the run was cut off in: a
 * build that finished before the run could record it is reported, not made
 * again (a rebuild would bump the Debian version). */
static bool reusable(const char *out_dir, const char *key, const char *src, const char *localversion,
		     const char *config_sha256, struct manifest *m)
{
	_cleanup_free_ char *mp = path_join(out_dir, MANIFEST_NAME);
	if (manifest_read(mp, m, NULL) < 0)
		return false;
	bool same = m->reuse_key && !strcmp(m->reuse_key, key) && m->config_sha256 &&
		    !strcmp(m->config_sha256, config_sha256) && m->source_dir && !strcmp(m->source_dir, src) &&
		    m->localversion && !strcmp(m->localversion, localversion);
	if (same && manifest_verify(out_dir, m, NULL) == 0)
		return true;
	manifest_free(m);
	return false;
}

/* Point WORK/build/current at the release's directory. */
static void set_current(const char *build_dir, const char *release)
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

int cmd_build(struct acso_ctx *ctx, int argc, char **argv)
{
	struct build_args a = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &a, &first);
	if (r)
		return r;
	struct acso_err e = {0};
	if (!a.localversion)
		a.localversion = ctx_conf(ctx, "localversion", "-acso");
	if (!valid_localversion(a.localversion)) {
		msg_error("--localversion '%s': expected a suffix of a-z 0-9 - . + such as -acso", a.localversion);
		return EXIT_USAGE;
	}
	if (!a.jobs && ctx_conf(ctx, "jobs", NULL) &&
	    (parse_u32(ctx_conf(ctx, "jobs", NULL), 10, &a.jobs) < 0 || !a.jobs)) {
		msg_error("config 'jobs = %s': expected a positive number", ctx_conf(ctx, "jobs", NULL));
		return EXIT_USAGE;
	}
	if (!a.ccache && (r = ctx_conf_bool(ctx, "ccache", &a.ccache)))
		return r;
	if (!a.distcc)
		a.distcc = ctx_conf(ctx, "distcc", NULL);
	if (a.distcc && a.icecc) {
		msg_error("--distcc and --icecc exclude each other");
		return EXIT_USAGE;
	}
	if (a.distcc && kbuild_distcc_slots(a.distcc, &e) < 0) {
		fail(&e, e.code, "--distcc '%s'", a.distcc);
		return EXIT_USAGE;
	}

	struct builder_user u;
	r = choose_user(ctx, &a, &u);
	if (r)
		return r;

	/* The tree. */
	_cleanup_free_ char *src_arg = a.source_dir ? xstrdup(a.source_dir) : path_join(ctx->work_dir, "src/current");
	char src[PATH_MAX];
	if (!realpath(src_arg, src)) {
		msg_error("source tree '%s': %s", src_arg, strerror(errno));
		msg_hint("fetch and prepare a tree first (acso fetch, acso patch, acso config), or give --source-dir DIR");
		return EXIT_FAIL;
	}
	_cleanup_free_ char *version = NULL, *release = NULL;
	r = kbuild_release(src, a.localversion, &version, &release, &e);
	if (r < 0)
		return fail(&e, r, "source tree '%s'", src);
	_cleanup_free_ char *config_path = path_join(src, ".config");
	_cleanup_free_ char *config = NULL;
	size_t config_len = 0;
	r = read_file_at(AT_FDCWD, config_path, CONFIG_MAX, &config, &config_len);
	if (r < 0) {
		msg_error("'%s': %s", config_path, acso_strerror(r));
		msg_hint("write the configuration first: acso config --source-dir %s", src);
		return EXIT_FAIL;
	}
	char config_sha256[HASH_HEX_MAX];
	hash_buf_hex("sha256", config, config_len, config_sha256);

	_cleanup_free_ char *build_dir = path_join(ctx->work_dir, "build");
	_cleanup_free_ char *out_dir = path_join(build_dir, release);
	struct manifest done = {0};
	if (a.reuse_key && reusable(out_dir, a.reuse_key, src, a.localversion, config_sha256, &done)) {
		_cleanup_free_ char *mp = path_join(out_dir, MANIFEST_NAME);
		if (!ctx->dry_run) {
			int lock = lock_work_dir(ctx->work_dir, "acso build", &e);
			if (lock < 0) {
				manifest_free(&done);
				return fail(&e, lock, "build");
			}
			set_current(build_dir, done.release);
			unlock_work_dir(lock);
		}
		msg_info("build: %s (Debian version %s) was built with this key and is intact: not building it again",
			 done.release, done.debian_version);
		report(ctx, &done, mp, true, NULL, 0, 0);
		manifest_free(&done);
		return EXIT_OK;
	}

	/* Preflight: tools, then disk. */
	struct strv missing = {0};
	if (kbuild_missing_packages(config, "/usr/include", &missing) > 0) {
		struct buf line = {0};
		for (size_t i = 0; i < missing.n; i++)
			buf_printf(&line, " %s", missing.v[i]);
		msg_error("build tools are missing:%s", buf_str(&line));
		msg_hint("install them: sudo apt-get install -y%s", buf_str(&line));
		buf_free(&line);
		strv_free(&missing);
		return EXIT_FAIL;
	}
	strv_free(&missing);

	_cleanup_free_ char *prev_path = path_join(out_dir, MANIFEST_NAME);
	struct manifest prev = {0};
	bool have_prev = manifest_read(prev_path, &prev, NULL) == 0;
	uint64_t estimate = have_prev && prev.objects ? prev.objects : kbuild_estimate_objects(config);
	_cleanup_free_ char *pkgversion = kbuild_pkgversion(version, a.localversion, have_prev ? prev.debian_version : NULL);
	manifest_free(&prev);

	uint64_t need = kbuild_disk_needed(config, kbuild_estimate_objects(config));
	struct statvfs vfs;
	if (statvfs(src, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < need) {
		char have_s[32], need_s[32];
		fmt_size((uint64_t)vfs.f_bavail * vfs.f_frsize, have_s, sizeof(have_s));
		fmt_size(need, need_s, sizeof(need_s));
		msg_error("not enough disk space for '%s': %s free, about %s needed", src, have_s, need_s);
		msg_hint("free space there, or trim the configuration (acso config --trim)");
		return EXIT_FAIL;
	}

	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	_cleanup_free_ char *log_dir = path_join(ctx->work_dir, "logs");
	char stamp[32];
	time_t now = time(NULL);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime(&now));
	/* Two builds in one second get build-<ts>.log and build-<ts>-2.log. */
	for (int i = 2; i < 100; i++) {
		_cleanup_free_ char *p = xasprintf("%s/build-%s.log", log_dir, stamp);
		if (access(p, F_OK) < 0)
			break;
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime(&now));
		snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp), "-%d", i);
	}
	_cleanup_free_ char *log_path = xasprintf("%s/build-%s.log", log_dir, stamp);
	_cleanup_free_ char *distcc_log = a.distcc ? xasprintf("%s/distcc-%s.log", log_dir, stamp) : NULL;
	struct kbuild_opts ko = {
		.src_dir = src, .localversion = a.localversion, .pkgversion = pkgversion,
		.jobs = a.jobs, .cpus = cpus > 0 ? (unsigned)cpus : 1, .ccache = a.ccache,
		.distcc_hosts = a.distcc, .icecc = a.icecc, .nokerneldbg = kbuild_knows_nokerneldbg(src),
		.distcc_log = distcc_log,
	};
	struct strv mk = {0}, env = {0};
	int jobs = kbuild_command(&ko, &mk, &env, &e);
	if (jobs < 0)
		return fail(&e, jobs, "build");
	const char *wrapper = a.distcc ? "distcc" : a.icecc ? "icecc" : NULL;
	if (wrapper) {
		_cleanup_free_ char *w = spawn_which(wrapper);
		if (!w) {
			msg_error("--%s: '%s' is not installed", wrapper, wrapper);
			msg_hint("install it: sudo apt-get install -y %s", a.distcc ? "distcc" : "icecc");
			strv_free(&mk);
			strv_free(&env);
			return EXIT_FAIL;
		}
	}
	if (a.ccache) {
		_cleanup_free_ char *w = spawn_which("ccache");
		if (!w) {
			msg_error("--ccache: 'ccache' is not installed");
			msg_hint("install it: sudo apt-get install -y ccache");
			strv_free(&mk);
			strv_free(&env);
			return EXIT_FAIL;
		}
	}

	struct buf cmdline = {0};
	for (size_t i = 0; i < env.n; i++)
		buf_printf(&cmdline, "%s ", env.v[i]);
	for (size_t i = 0; i < mk.n; i++)
		buf_printf(&cmdline, "%s%s", i ? " " : "", mk.v[i]);
	if (ctx->dry_run) {
		if (ctx->json) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "release", json_object_new_string(release));
			json_object_object_add(o, "debian_version", json_object_new_string(pkgversion));
			json_object_object_add(o, "command", json_object_new_string(buf_str(&cmdline)));
			json_object_object_add(o, "jobs", json_object_new_int(jobs));
			json_object_object_add(o, "objects_estimate", json_object_new_int64((int64_t)estimate));
			json_object_object_add(o, "disk_needed", json_object_new_int64((int64_t)need));
			json_object_object_add(o, "dry_run", json_object_new_boolean(1));
			out_json(o);
			json_object_put(o);
		} else {
			printf("would build %s (Debian version %s) in %s%s%s:\n  %s\n", release, pkgversion, src,
			       u.drop ? " as " : "", u.drop ? u.name : "", buf_str(&cmdline));
		}
		buf_free(&cmdline);
		strv_free(&mk);
		strv_free(&env);
		return EXIT_OK;
	}

	r = make_dir(log_dir, &u);
	if (r == 0)
		r = make_dir(build_dir, &u);
	if (r < 0) {
		msg_error("work directory '%s': %s", ctx->work_dir, acso_strerror(r));
		buf_free(&cmdline);
		strv_free(&mk);
		strv_free(&env);
		return EXIT_FAIL;
	}
	int lock = lock_work_dir(ctx->work_dir, "acso build", &e);
	if (lock < 0) {
		buf_free(&cmdline);
		strv_free(&mk);
		strv_free(&env);
		return fail(&e, lock, "build");
	}
	_cleanup_close_ int log_fd = open(log_path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (log_fd < 0 || (u.drop && fchown(log_fd, u.uid, u.gid) < 0)) {
		msg_error("log '%s': %s", log_path, strerror(errno));
		unlock_work_dir(lock);
		buf_free(&cmdline);
		strv_free(&mk);
		strv_free(&env);
		return EXIT_FAIL;
	}
	dprintf(log_fd, "acso: building %s (%s) in %s, %d jobs%s%s\nacso: %s\n", release, pkgversion, src, jobs,
		u.drop ? ", as " : "", u.drop ? u.name : "", buf_str(&cmdline));
	buf_free(&cmdline);
	msg_info("building %s (Debian version %s), %d jobs; log: %s", release, pkgversion, jobs, log_path);

	struct build_progress bp = {.estimate = estimate};
	progress_start(&bp.p);
	struct spawn_opts so = {
		.env = (const char *const *)env.v, .log_fd = log_fd, .on_line = on_line, .priv = &bp,
		.drop_privs = u.drop, .uid = u.uid, .gid = u.gid,
	};
	double t0 = now_seconds();
	int status = 0;
	r = spawn_run((const char *const *)mk.v, &so, &status);
	double seconds = now_seconds() - t0;
	progress_end(&bp.p);
	strv_free(&mk);
	strv_free(&env);
	dprintf(log_fd, "acso: make finished after %.1f s, %llu objects compiled\n", seconds, (unsigned long long)bp.objects);
	uint64_t remote = 0, local = 0;
	if (distcc_log)
		summarize_distcc(distcc_log, log_fd, &remote, &local);
	if (r < 0) {
		unlock_work_dir(lock);
		msg_error("run 'make': %s", acso_strerror(r));
		if (r == -ENOENT)
			msg_hint("install make: sudo apt-get install -y make");
		else if (u.drop)
			msg_hint("the build runs as '%s': that user needs access to the tree and the work directory", u.name);
		return EXIT_FAIL;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char how[64], what[128];
		spawn_describe(status, how, sizeof(how));
		snprintf(what, sizeof(what), "make bindeb-pkg %s", how);
		report_failure(what, log_path);
		unlock_work_dir(lock);
		return EXIT_FAIL;
	}

	/* The release make really used (CONFIG_LOCALVERSION_AUTO may add to it). */
	_cleanup_free_ char *kr_path = path_join(src, "include/config/kernel.release");
	_cleanup_free_ char *kr = NULL;
	if (read_file_at(AT_FDCWD, kr_path, 256, &kr, NULL) == 0 && *strip_trailing(kr) && strcmp(kr, release)) {
		free(release);
		release = xstrdup(kr);
		free(out_dir);
		out_dir = path_join(build_dir, release);
	}
	struct manifest m = {0};
	m.release = xstrdup(release);
	m.version = xstrdup(version);
	m.localversion = xstrdup(a.localversion);
	m.debian_version = xstrdup(pkgversion);
	m.source_dir = xstrdup(src);
	m.log = xstrdup(log_path);
	m.built_at = iso_utc_dup(now);
	m.config_sha256 = xstrdup(config_sha256);
	m.reuse_key = a.reuse_key ? xstrdup(a.reuse_key) : NULL;
	m.objects = bp.objects;
	m.jobs = (unsigned)jobs;
	m.seconds = seconds;
	_cleanup_free_ char *parent = xstrdup(src);
	*strrchr(parent, '/') = '\0';
	if (!*parent)
		strcpy(parent, "/");
	r = make_dir(out_dir, &u);
	if (r < 0)
		err_set(&e, r, "'%s': %s", out_dir, acso_strerror(r));
	else
		r = collect_debs(parent, pkgversion, now, out_dir, &m, &e);
	if (r == 0)
		r = manifest_write(out_dir, &m, &e);
	if (r == 0 && u.drop) {
		_cleanup_free_ char *mp = path_join(out_dir, MANIFEST_NAME);
		(void)!chown(mp, u.uid, u.gid);
	}
	if (r < 0) {
		manifest_free(&m);
		unlock_work_dir(lock);
		fail(&e, r, "packages");
		msg_hint("full log: %s", log_path);
		return EXIT_FAIL;
	}
	set_current(build_dir, release);
	unlock_work_dir(lock);
	dprintf(log_fd, "acso: %zu packages in %s\n", m.n, out_dir);
	_cleanup_free_ char *manifest_path = path_join(out_dir, MANIFEST_NAME);
	report(ctx, &m, manifest_path, false, distcc_log, remote, local);
	manifest_free(&m);
	return EXIT_OK;
}
