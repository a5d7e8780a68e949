/* cmd-build.c — `acso build`: make bindeb-pkg in the prepared tree as a
 * normal user, with a progress line, a full log, a diagnosis on failure,
 * and the resulting .debs (read back with libarchive) in a manifest. The
 * plan and the work are kernel/kbplan.c's; this file words them. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/lock.h"
#include "base/spawn.h"
#include "base/util.h"
#include "cli/install-step.h"
#include "cli/commands.h"
#include "base/user.h"
#include "cli/output.h"
#include "cli/report.h"
#include "kernel/kbplan.h"

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

/* The options completed from the configuration, and checked together. */
static int settle_args(struct acso_ctx *ctx, struct build_args *a, struct acso_err *e)
{
	if (!a->localversion)
		a->localversion = ctx_conf(ctx, "localversion", "-acso");
	if (!kbplan_localversion_valid(a->localversion)) {
		msg_error("--localversion '%s': expected a suffix of a-z 0-9 - . + such as -acso", a->localversion);
		return EXIT_USAGE;
	}
	if (!a->jobs && ctx_conf(ctx, "jobs", NULL) &&
	    (parse_u32(ctx_conf(ctx, "jobs", NULL), 10, &a->jobs) < 0 || !a->jobs)) {
		msg_error("config 'jobs = %s': expected a positive number", ctx_conf(ctx, "jobs", NULL));
		return EXIT_USAGE;
	}
	int r;
	if (!a->ccache && (r = ctx_conf_bool(ctx, "ccache", &a->ccache)))
		return r;
	if (!a->distcc)
		a->distcc = ctx_conf(ctx, "distcc", NULL);
	if (a->distcc && a->icecc) {
		msg_error("--distcc and --icecc exclude each other");
		return EXIT_USAGE;
	}
	if (a->distcc && kbuild_distcc_slots(a->distcc, e) < 0) {
		fail(e, e->code, "--distcc '%s'", a->distcc);
		return EXIT_USAGE;
	}
	return 0;
}

/* Who builds: ourselves, or the invoking user under sudo (base/user
 * decides who that is). */
struct builder_user {
	struct kbplan_user k;
	char name[64];
	char home[PATH_MAX];
};

static int choose_user(struct acso_ctx *ctx, const struct build_args *a, struct builder_user *u)
{
	memset(u, 0, sizeof(*u));
	u->k.name = u->name;
	struct acso_user who = {0};
	struct acso_err e = {0};
	if (geteuid() == 0 && user_invoking(&who, &e) < 0) {
		msg_error("%s", e.msg);
		return EXIT_FAIL;
	}
	enum kbplan_who w = kbplan_who(geteuid() == 0, who.sudo ? who.name : NULL, a->allow_root);
	if (w == KBP_REFUSE_ROOT) {
		msg_error("refusing to build the kernel as root");
		msg_hint("run 'acso build' as a normal user (under sudo it builds as SUDO_USER), or pass --allow-root");
		return EXIT_FAIL;
	}
	if (w == KBP_AS_SELF)
		return 0;
	/* the work dir followed the user already (the driver's CMD_SUDO_HOME) */
	u->k.drop = true;
	u->k.uid = who.uid;
	u->k.gid = who.gid;
	snprintf(u->name, sizeof(u->name), "%s", who.name);
	snprintf(u->home, sizeof(u->home), "%s", who.home);
	setenv("HOME", u->home, 1);
	setenv("USER", u->name, 1);
	setenv("LOGNAME", u->name, 1);
	return 0;
}

/* mkdir -p an absolute directory and hand it to the building user. */
static int make_dir(const char *path, const struct kbplan_user *u)
{
	return mkdir_p_owned(path, 0755, u->drop ? u->uid : (uid_t)-1, u->drop ? u->gid : (gid_t)-1);
}

struct build_progress {
	struct progress p;
	uint64_t estimate;
	int phase;      /* the last shown, + 1 (0: none yet) */
};

static void on_progress(void *priv, enum kbuild_phase phase, uint64_t objects)
{
	struct build_progress *bp = priv;
	if (!bp->p.on)
		return;
	double el = now_seconds() - bp->p.start;
	char elapsed[32], eta[32] = "?";
	fmt_duration(el, elapsed, sizeof(elapsed));
	if (objects > 20 && bp->estimate > objects)
		fmt_duration(el * (double)(bp->estimate - objects) / (double)objects, eta, sizeof(eta));
	else if (objects >= bp->estimate && bp->estimate)
		snprintf(eta, sizeof(eta), "soon");
	/* a new phase is shown at once */
	if (now_seconds() - bp->p.last < 0.2 && bp->phase == (int)phase + 1)
		return;
	bp->p.last = now_seconds();
	bp->phase = (int)phase + 1;
	progress_text(&bp->p, "build: %-8s %llu/~%llu objects  %s  ETA %s", kbuild_phase_name(phase),
		      (unsigned long long)objects, (unsigned long long)bp->estimate, elapsed, eta);
}

static void report_failure(const char *what, const char *log_path)
{
	_cleanup_free_ char *text = kbplan_log_tail(log_path);
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

/* The manifest's fields: in JSON its own tree, in text a summary. */
static void rp_manifest(const struct manifest *m, bool reused)
{
	if (report_json()) {
		json_object *o = manifest_to_json(m);
		json_object_object_foreach(o, k, v)
			rp_json(k, json_object_get(v));
		json_object_put(o);
		return;
	}
	char dur[32];
	fmt_duration(m->seconds, dur, sizeof(dur));
	if (reused)
		rp_text("%sreused the build of %s%s (Debian version %s) of %s: same key, same .config, packages intact\n",
			sty(ST_BOLD), m->release, sty(ST_RESET), m->debian_version, m->built_at ? m->built_at : "?");
	else
		rp_text("%sbuilt %s%s (Debian version %s) in %s, %llu objects compiled\n", sty(ST_BOLD), m->release,
			sty(ST_RESET), m->debian_version, dur, (unsigned long long)m->objects);
	for (size_t i = 0; i < m->n; i++) {
		char size[32];
		fmt_size(m->pkgs[i].info.size, size, sizeof(size));
		rp_text("  %-34s %-10s %s\n    %s\n", m->pkgs[i].info.package, size, m->pkgs[i].info.architecture,
			m->pkgs[i].info.sha256);
	}
}

/* The report of a build (or of the one reused), as text or JSON. */
static int report(const struct acso_ctx *ctx, const struct manifest *m, const char *out_dir, bool reused,
		  const struct kbplan_result *res, bool ccache)
{
	_cleanup_free_ char *manifest_path = path_join(out_dir, MANIFEST_NAME);
	bool text = m->n > 0; /* a manifest without packages has no text */
	report_begin(ctx);
	if (text || report_json())
		rp_manifest(m, reused);
	rp_string(text ? RP_ANY : RP_JSON, "manifest", "manifest: %s\n", manifest_path);
	if (text)
		rp_text("log: %s\n", m->log);
	rp_bool(RP_JSON, "reused", NULL, reused);
	rp_bool(RP_JSON, "ccache", NULL, ccache);
	if (res && ccache)
		rp_text("compiled through ccache (CCACHE_BASEDIR: the trees' directory, so the next point release hits)\n");
	if (res && res->distcc) {
		rp_uint(RP_ANY, "distcc_jobs", "distcc: %llu jobs compiled on the hosts, ", res->distcc_jobs);
		rp_uint(RP_ANY, "distcc_local", "%llu locally\n", res->distcc_local);
	}
	return report_end(EXIT_OK);
}

/* Where the plan stopped, worded. */
static int plan_failed(const struct kbplan *p, struct acso_err *e)
{
	switch (p->stop) {
	case KBP_NO_TREE:
		msg_error("source tree '%s': %s", p->src_arg, e->msg);
		msg_hint("fetch and prepare a tree first (acso fetch, acso patch, acso config), or give --source-dir DIR");
		return EXIT_FAIL;
	case KBP_BAD_TREE:
		return fail(e, e->code, "source tree '%s'", p->src);
	case KBP_NO_CONFIG:
		msg_error("'%s': %s", p->config_path, e->msg);
		msg_hint("write the configuration first: acso config --source-dir %s", p->src);
		return EXIT_FAIL;
	case KBP_MISSING: {
		struct buf line = {0};
		for (size_t i = 0; i < p->missing.n; i++)
			buf_printf(&line, " %s", p->missing.v[i]);
		msg_error("build tools are missing:%s", buf_str(&line));
		msg_hint("install them: sudo apt-get install -y%s", buf_str(&line));
		buf_free(&line);
		return EXIT_FAIL;
	}
	case KBP_NO_SPACE: {
		char have_s[32], need_s[32];
		fmt_size(p->disk_free, have_s, sizeof(have_s));
		fmt_size(p->disk_needed, need_s, sizeof(need_s));
		msg_error("not enough disk space for '%s': %s free, about %s needed", p->src, have_s, need_s);
		msg_hint("free space there, or trim the configuration (acso config --trim)");
		return EXIT_FAIL;
	}
	case KBP_NO_WRAPPER:
		msg_error("--%s: '%s' is not installed", p->wrapper, p->wrapper);
		msg_hint("install it: sudo apt-get install -y %s", p->wrapper);
		return EXIT_FAIL;
	default:
		return fail(e, e->code, "build");
	}
}

/* The last build had this key: point current at it and report it. */
static int report_reused(struct acso_ctx *ctx, const struct kbplan *p)
{
	struct acso_err e = {0};
	if (!ctx->dry_run) {
		int lock = lock_work_dir(ctx->work_dir, "acso build", &e);
		if (lock < 0)
			return fail(&e, lock, "build");
		kbplan_set_current(p->build_dir, p->reused.release);
		unlock_work_dir(lock);
	}
	msg_info("build: %s (Debian version %s) was built with this key and is intact: not building it again",
		 p->reused.release, p->reused.debian_version);
	return report(ctx, &p->reused, p->out_dir, true, NULL, p->ccache);
}

static int report_dry_run(const struct acso_ctx *ctx, const struct kbplan *p, const struct builder_user *u)
{
	report_begin(ctx);
	rp_string(RP_ANY, "release", "would build %s", p->release);
	rp_string(RP_ANY, "debian_version", " (Debian version %s)", p->pkgversion);
	rp_text(" in %s%s%s:\n", p->src, u->k.drop ? " as " : "", u->k.drop ? u->name : "");
	rp_string(RP_ANY, "command", "  %s\n", p->cmdline);
	rp_int(RP_JSON, "jobs", NULL, p->jobs);
	rp_uint(RP_JSON, "objects_estimate", NULL, p->estimate);
	rp_uint(RP_JSON, "disk_needed", NULL, p->disk_needed);
	rp_bool(RP_JSON, "dry_run", NULL, true);
	return report_end(EXIT_OK);
}

/* make, with the progress line; 0 when it succeeded. */
static int run_make(const struct kbplan *p, const struct builder_user *u, int log_fd, struct kbplan_result *res)
{
	msg_info("building %s (Debian version %s), %d jobs; log: %s", p->release, p->pkgversion, p->jobs, p->log_path);
	struct build_progress bp = {.estimate = p->estimate};
	progress_start(&bp.p);
	int r = kbplan_run(p, &u->k, log_fd, on_progress, &bp, res);
	progress_end(&bp.p);
	if (r < 0) {
		msg_error("run 'make': %s", acso_strerror(r));
		if (r == -ENOENT)
			msg_hint("install make: sudo apt-get install -y make");
		else if (u->k.drop)
			msg_hint("the build runs as '%s': that user needs access to the tree and the work directory", u->name);
		return EXIT_FAIL;
	}
	if (!WIFEXITED(res->status) || WEXITSTATUS(res->status) != 0) {
		char how[64], what[128];
		spawn_describe(res->status, how, sizeof(how));
		snprintf(what, sizeof(what), "make bindeb-pkg %s", how);
		report_failure(what, p->log_path);
		return EXIT_FAIL;
	}
	return 0;
}

/* Build under the work directory's lock, then collect and report. */
static int execute(struct acso_ctx *ctx, struct kbplan *p, const struct kbplan_in *in, const struct builder_user *u)
{
	struct acso_err e = {0};
	int r = make_dir(p->log_dir, &u->k);
	if (r == 0)
		r = make_dir(p->build_dir, &u->k);
	if (r < 0) {
		msg_error("work directory '%s': %s", ctx->work_dir, acso_strerror(r));
		return EXIT_FAIL;
	}
	int lock = lock_work_dir(ctx->work_dir, "acso build", &e);
	if (lock < 0)
		return fail(&e, lock, "build");
	_cleanup_close_ int log_fd = open(p->log_path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (log_fd < 0 || (u->k.drop && fchown(log_fd, u->k.uid, u->k.gid) < 0)) {
		msg_error("log '%s': %s", p->log_path, strerror(errno));
		unlock_work_dir(lock);
		return EXIT_FAIL;
	}
	struct kbplan_result res;
	struct manifest m = {0};
	r = run_make(p, u, log_fd, &res);
	if (r == 0 && kbplan_collect(p, in, &u->k, &res, &m, &e) < 0) {
		fail(&e, e.code, "packages");
		msg_hint("full log: %s", p->log_path);
		r = EXIT_FAIL;
	}
	unlock_work_dir(lock);
	if (r == 0) {
		dprintf(log_fd, "acso: %zu packages in %s\n", m.n, p->out_dir);
		r = report(ctx, &m, p->out_dir, false, &res, p->ccache);
	}
	manifest_free(&m);
	return r;
}

int cmd_build(struct acso_ctx *ctx, int argc, char **argv)
{
	struct build_args a = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &a, &first);
	if (r)
		return r;
	struct acso_err e = {0};
	struct builder_user u;
	if ((r = settle_args(ctx, &a, &e)) || (r = choose_user(ctx, &a, &u)))
		return r;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct kbplan_in in = {
		.work_dir = ctx->work_dir, .source_dir = a.source_dir, .localversion = a.localversion,
		.reuse_key = a.reuse_key, .jobs = a.jobs, .cpus = cpus > 0 ? (unsigned)cpus : 1,
		.ccache = a.ccache, .icecc = a.icecc, .distcc = a.distcc, .include_dir = "/usr/include",
		.now = time(NULL),
	};
	struct kbplan p;
	if (kbplan_make(&in, &p, &e) < 0)
		r = plan_failed(&p, &e);
	else if (p.stop == KBP_REUSE)
		r = report_reused(ctx, &p);
	else if (ctx->dry_run)
		r = report_dry_run(ctx, &p, &u);
	else
		r = execute(ctx, &p, &in, &u);
	kbplan_free(&p);
	return r;
}
