/* cmd-run.c — `acso run`: the whole job, resumable.
 *
 * Each step runs this same binary as a child with an argv vector
 * (`acso --work-dir W --root R <step> ... --json`), so the orchestrator
 * depends only on each command's documented CLI and JSON report. After each
 * step the state file WORK/state/<target>.json is rewritten atomically with
 * the step's inputs (its argv and a digest of the previous step's report),
 * its report, timings and log path. A step whose inputs are unchanged and
 * whose outputs are intact is skipped, so a run killed anywhere resumes at
 * the step that was running. The steps take the work directory lock
 * themselves; the run holds its own lock (WORK/state/lock) against a second
 * concurrent run. Which steps run, with which arguments, and who runs
 * them is run/plan.c's; this file spawns the steps and words the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/user.h"
#include "cli/cmd-net.h"
#include "base/fileio.h"
#include "base/interrupt.h"
#include "base/lock.h"
#include "base/spawn.h"
#include "base/util.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/report.h"
#include "machine/acssupport.h"
#include "machine/secureboot.h"
#include "machine/sysinfo.h"
#include "run/plan.h"
#include "run/state.h"

struct run_opts {
	const char *from, *only, *acs, *target, *base, *profile, *gpu;
	struct strv set, keyring;
	bool prebuilt, iommu_pt, allow_root, once, build, trim, vfio, update, no_ccache;
};

/* --list-steps (hidden, for the bash completion of --from and --only). */
static int opt_list_steps(void *opts, const char *arg)
{
	size_t n = 0;
	const struct run_step *steps = run_steps(false, &n);
	for (size_t i = 0; i < n; i++)
		printf("%s\n", steps[i].name);
	printf("%s\n", "prebuilt");
	printf("%s\n", "vfio");
	return CMD_HELP_SHOWN;
}

#define OPTS struct run_opts
const struct acso_option run_options[] = {
	OPT_STRING(0, "from", from, "STEP", "run again from STEP on, even if done"),
	OPT_STRING(0, "only", only, "STEP", "run only STEP (the steps before it must be done)"),
	OPT_BOOL(0, "prebuilt", prebuilt, "install a prebuilt ACS kernel from a signed APT channel instead of building"),
	OPT_BOOL(0, "build", build, "build even when the running kernel already carries the override"),
	OPT_BOOL(0, "update", update, "if the last build's series has a newer point release, rebuild it with that build's .config"),
	OPT_BOOL(0, "no-ccache", no_ccache, "build without ccache (default: through ccache when installed; config: ccache)"),
	OPT_STRING(0, "acs", acs, "MODE", "pcie_acs_override= value for the boot step (default: auto when the GPU shares its group, else downstream)"),
	OPT_STRING(0, "gpu", gpu, "ADDR", "the GPU for --acs auto and --vfio (default: the one 'acso groups' would choose)"),
	OPT_BOOL(0, "iommu-pt", iommu_pt, "also add iommu=pt"),
	OPT_BOOL(0, "vfio", vfio, "hold the GPU with vfio-pci from boot: vfio-pci.ids= at boot, acso vfio last"),
	OPT_BOOL(0, "once", once, "boot the new kernel only once (grub-reboot); make it the default with 'acso verify --make-default'"),
	OPT_STRING(0, "base", base, "BASE", "config step: base configuration (running, defconfig, tinyconfig or a FILE)"),
	OPT_STRING(0, "profile", profile, "NAME", "config step: also apply kconfig/NAME.config (e.g. qemu)"),
	OPT_LIST(0, "set", set, "CONFIG_X=V", 64, "config step: set one symbol after the fragments (repeatable)"),
	OPT_BOOL(0, "trim", trim, "config step: keep only modules in use (localmodconfig)"),
	OPT_LIST(0, "keyring", keyring, "FILE|DIR", 8, "fetch step: also trust these keys (repeatable)"),
	OPT_STRING(0, "target", target, "NAME", "name of the state record (default: VERSION, or 'auto')"),
	OPT_BOOL(0, "allow-root", allow_root, "let the build run as root (plain root, or a work directory that is not SUDO_USER's)"),
	{"list-steps", 0, NULL, "print the step names", OPTK_CALLBACK, 0, 0, 0, NULL, opt_list_steps, OPTF_HIDDEN},
	OPT_END,
};

/* What the run did with a step, for the report. */
struct step_done {
	const char *name;
	const char *action;  /* skipped, not-needed, not-only, would-run, ran, failed */
	bool will_run;       /* it runs (or ran) in this run */
	const char *why;     /* when it does not: why */
	struct strv argv;    /* would-run: the command */
};

struct runner {
	struct acso_ctx *ctx;
	struct run_opts *o;
	struct run_plan_opts po;
	const struct run_step *steps;
	size_t nsteps;
	int from, only;
	int argc;
	char **argv;
	char *self;
	struct json_object *st;
	const char *target;
	struct run_privs pv;
	struct strv user_env;    /* HOME, USER, LOGNAME of the user the build steps run as */
	struct step_done *done;
	size_t ndone;
	int ran, skipped;
	char *needs_root;        /* the command to continue with as root */
	char support_why[256];   /* register_only: the evidence */
	char acs_why[256];       /* why the boot step registers the mode it does */
	char *acs_resolved;      /* --acs auto: the override the groups chose */
	const char *ccache_why;  /* why the build does or does not use ccache */
	struct run_update up;    /* --update: the build it starts from */
	const char *up_state;    /* --update: "rebuilding", "resuming", "current" */
	char *up_to;             /* ... the release it rebuilds (or the newest, when current) */
	bool dry_stale;          /* --dry-run of an update: a step before would run */
};

static void full_argv(struct runner *rn, const char *name, const struct strv *args, struct strv *argv)
{
	strv_push(argv, rn->self);
	strv_pushf(argv, "--work-dir=%s", rn->ctx->work_dir);
	strv_pushf(argv, "--root=%s", rn->ctx->root);
	if (rn->ctx->config_path)
		strv_pushf(argv, "--config=%s", rn->ctx->config_path);
	strv_push(argv, name);
	/* options before positional arguments: the driver's option parser
	 * stops at the first positional one */
	strv_push(argv, "--json");
	for (size_t i = 0; i < args->n; i++)
		strv_push(argv, args->v[i]);
}

/* Last lines of a log, for the failure message. */
static void show_tail(const char *log, int lines)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	_cleanup_close_ int fd = open(log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	if (end > 16384)
		lseek(fd, end - 16384, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	if (read_fd_bounded(fd, 16384, &text, &len) < 0 || !len)
		return;
	char *p = text + len;
	int n = 0;
	while (p > text && n <= lines)
		if (*--p == '\n' && p + 1 < text + len)
			n++;
	if (*p == '\n')
		p++;
	fprintf(stderr, "%s", p);
	if (len && text[len - 1] != '\n')
		fputc('\n', stderr);
}

static char *shell_quote(const char *s)
{
	if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@") == strlen(s))
		return xstrdup(s);
	struct buf b = {0};
	buf_append(&b, "'", 1);
	for (; *s; s++) {
		if (*s == '\'')
			buf_printf(&b, "'\\''");
		else
			buf_append(&b, s, 1);
	}
	buf_append(&b, "'", 1);
	char *r = xstrdup(buf_str(&b));
	buf_free(&b);
	return r;
}

/* ---- the run -------------------------------------------------------------- */

/* Under sudo the work dir is the user's: what root makes in it (the state,
 * the snapshot) is given to the user, who runs acso there without sudo
 * next (the privileged steps' logs stay root's: a record of what root did).
 * Never through a symlink. */
static void give_to_user(struct runner *rn, const char *path)
{
	size_t wl = strlen(rn->ctx->work_dir);
	if (rn->pv.drop && path && !strncmp(path, rn->ctx->work_dir, wl) && path[wl] == '/' &&
	    fchownat(AT_FDCWD, path, rn->pv.uid, rn->pv.gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
		msg_warn("cannot give '%s' to uid %u", path, (unsigned)rn->pv.uid);
}

static int save_state(struct runner *rn, struct acso_err *e)
{
	int r = state_save(rn->ctx->work_dir, rn->target, rn->st, e);
	_cleanup_free_ char *sp = state_path(rn->ctx->work_dir, rn->target);
	give_to_user(rn, sp);
	return r;
}

/* A step's outputs that root wrote into the user's work dir: the snapshot
 * (and the directory it made for it). */
static void give_outputs(struct runner *rn, const struct run_step *s)
{
	const char *p = run_jstr(run_outputs(rn->st, s->name), "path");
	if (!s->privileged || !p || strcmp(s->name, "snapshot"))
		return;
	give_to_user(rn, p);
	_cleanup_free_ char *dir = xstrdup(p);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		give_to_user(rn, dir);
	}
}

/* The step's log, WORK/logs/<target>/<step>.log, the user's for the build
 * steps. */
static int open_log(struct runner *rn, const struct run_step *s, char **log)
{
	_cleanup_free_ char *logdir = xasprintf("%s/logs/%s", rn->ctx->work_dir, rn->target);
	*log = xasprintf("%s/%s.log", logdir, s->name);
	/* root in the user's tree: never through a link the user planted */
	struct acso_err e = {0};
	_cleanup_close_ int dfd = rn->pv.drop ? mkdir_owned_open(logdir, 0755, rn->pv.uid, rn->pv.gid, &e)
					       : mkdir_open(logdir, 0755);
	if (dfd < 0) {
		fail(&e, dfd, "create '%s'", logdir);
		if (dfd == -ACSO_E_UNSAFE)
			msg_hint("root does not follow links in a directory the user can write: remove the link, or give --work-dir its real path");
		return -1;
	}
	int lfd = openat(dfd, strrchr(*log, '/') + 1, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (lfd < 0)
		return fail(NULL, -errno, "open '%s'", *log), -1;
	if (rn->pv.drop && !s->privileged && fchown(lfd, rn->pv.uid, rn->pv.gid) < 0)
		msg_warn("cannot give '%s' to uid %u", *log, (unsigned)rn->pv.uid);
	return lfd;
}

/* What a step shows while it runs: its progress lines (PROGRESS_LINE_PREFIX,
 * output.h) on the run's status line, redrawn on a tty; elsewhere (a log, a
 * CI) as plain lines, the first at once and then one every
 * RUN_PLAIN_EVERY seconds. */
#define RUN_PLAIN_EVERY 10.0
struct step_view {
	const char *name;
	struct progress bar;   /* on: a tty */
	bool plain;            /* plain lines */
	double last_plain;
};

static void on_step_line(void *priv, const char *line)
{
	struct step_view *v = priv;
	if (!startswith(line, PROGRESS_LINE_PREFIX))
		return;
	const char *text = line + strlen(PROGRESS_LINE_PREFIX);
	/* the step's own name leads most of its lines ("build: compile ...") */
	size_t nl = strlen(v->name);
	if (!strncmp(text, v->name, nl) && text[nl] == ':' && text[nl + 1] == ' ')
		text += nl + 2;
	if (v->bar.on) {
		progress_text(&v->bar, "    %s: %.70s", v->name, text);
		return;
	}
	double t = now_seconds();
	if (v->plain && (!v->last_plain || t - v->last_plain >= RUN_PLAIN_EVERY)) {
		v->last_plain = t;
		msg_info("    %s: %s", v->name, text);
	}
}

/* Ctrl-C (or SIGTERM, SIGHUP) while a step ran: recorded, and how to go on. */
static int step_interrupted(struct runner *rn, const struct run_step *s, struct json_object *rec, double secs,
			    int sig, const char *log)
{
	struct acso_err e = {0};
	run_record_end(rec, secs, NULL, "was interrupted");
	save_state(rn, &e);
	msg_error("interrupted (%s) in step '%s'", strsignal(sig), s->name);
	msg_hint("log: %s; run 'acso run' again: it resumes at '%s'", log, s->name);
	return 128 + sig;
}

/* A step that ended without a report: recorded, worded; its exit code. */
static int step_failed(struct runner *rn, const struct run_step *s, struct json_object *rec, double secs,
		       int status, const char *log)
{
	struct acso_err e = {0};
	char how[64];
	spawn_describe(status, how, sizeof(how));
	run_record_end(rec, secs, NULL, how);
	save_state(rn, &e);
	msg_error("step '%s' failed: acso %s %s", s->name, s->name, how);
	show_tail(log, 15);
	msg_hint("full log: %s; fix the cause and run 'acso run' again: it resumes at '%s'", log, s->name);
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAIL;
	return code >= 2 && code <= 9 ? code : EXIT_FAIL;
}

/* Run one step; returns 0 or an exit code. */
static int run_step(struct runner *rn, const struct run_step *s, struct strv *argv, const char *inputs, const char *key)
{
	struct acso_err e = {0};
	_cleanup_free_ char *log = NULL;
	_cleanup_close_ int lfd = open_log(rn, s, &log);
	if (lfd < 0)
		return EXIT_FAIL;
	struct json_object *rec = run_record_start(rn->st, s->name, inputs, key, argv, log);
	int r = save_state(rn, &e);
	if (r < 0)
		return fail(&e, r, "run");
	struct step_view view = {.name = s->name};
	if (!rn->ctx->json) {
		msg_info("%s==>%s %s", sty_err(ST_BOLD), sty_err(ST_RESET), s->name);
		msg_info("    log: %s", log);
		progress_start(&view.bar);
		view.plain = !view.bar.on && rn->ctx->verbose >= 0;
	}
	struct buf out = {0};
	double t0 = now_seconds();
	bool drop = rn->pv.drop && !s->privileged;
	/* acso's own children: they need the same config paths (XDG_*),
	 * NO_COLOR and ACSO_DATADIR the user gave us; their progress comes
	 * as plain lines */
	struct strv env = {0};
	for (size_t k = 0; drop && k < rn->user_env.n; k++)
		strv_push(&env, rn->user_env.v[k]);
	strv_pushf(&env, "%s=1", PROGRESS_LINES_ENV);
	struct spawn_opts so = {
		.inherit_env = true, .env = (const char *const *)env.v,
		.log_fd = lfd, .capture = &out, .drop_privs = drop, .uid = rn->pv.uid, .gid = rn->pv.gid,
		.on_line = on_step_line, .priv = &view,
	};
	int status = 0;
	struct interrupt_guard ig;
	interrupt_begin(&ig);
	r = spawn_run((const char *const *)argv->v, &so, &status);
	int sig = interrupted();
	interrupt_end(&ig);
	progress_end(&view.bar);
	strv_free(&env);
	double secs = now_seconds() - t0;
	struct json_object *report = NULL;
	if (r == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && !(report = run_parse_report(out.data, out.len))) {
		status = 1 << 8; /* as "exited with status 1" */
		dprintf(lfd, "acso run: step '%s' printed no JSON report\n", s->name);
	}
	buf_free(&out);
	if (r < 0) {
		run_record_end(rec, secs, NULL, NULL);
		save_state(rn, &e);
		return fail(NULL, r, "start step '%s'", s->name);
	}
	if (!report && sig)
		return step_interrupted(rn, s, rec, secs, sig, log);
	if (!report)
		return step_failed(rn, s, rec, secs, status, log);
	run_record_end(rec, secs, report, NULL);
	give_outputs(rn, s);
	if ((r = save_state(rn, &e)) < 0)
		return fail(&e, r, "run");
	if (sig) {
		/* the step finished before it saw the signal: stop before the next */
		msg_error("interrupted (%s) after step '%s'", strsignal(sig), s->name);
		msg_hint("run 'acso run' again: it goes on after '%s'", s->name);
		return 128 + sig;
	}
	return 0;
}

/* The step program: this binary. ACSO_RUN_STEP_PROGRAM exists only for
 * the test suite (tests/integration/run.sh), which puts a stub there. */
static int find_self(struct runner *rn)
{
	const char *stub = getenv("ACSO_RUN_STEP_PROGRAM");
	if (stub && *stub) {
		rn->self = xstrdup(stub);
		return 0;
	}
	int r = self_exe(&rn->self);
	return r < 0 ? fail(NULL, r, "cannot find my own binary") : 0;
}

/* Who runs the steps (run_privileges decides): the one place this command
 * reads SUDO_*. */
static void plan_privileges(struct runner *rn)
{
	struct acso_ctx *ctx = rn->ctx;
	bool image = strcmp(ctx->root, "/") != 0;
	struct stat sb;
	long long owner = stat(ctx->work_dir, &sb) == 0 ? (long long)sb.st_uid : -1;
	/* who invoked acso is base/user's decision; run_privileges takes it */
	struct acso_user who;
	char su[16] = "", sg[16] = "";
	bool sudo = user_invoking(&who, NULL) == 0 && who.sudo;
	if (sudo) {
		snprintf(su, sizeof(su), "%u", (unsigned)who.uid);
		snprintf(sg, sizeof(sg), "%u", (unsigned)who.gid);
	}
	run_privileges(geteuid(), image, image && access(ctx->root, W_OK) == 0, sudo ? su : NULL,
		       sudo ? sg : NULL, owner, &rn->pv);
	if (rn->pv.not_owner) {
		msg_warn("work directory '%s' does not belong to SUDO_USER (uid %u): the build steps run as root",
			 ctx->work_dir, (unsigned)rn->pv.uid);
		msg_hint("give --work-dir a directory of yours, e.g. --work-dir ~%s/.cache/acso, or add --allow-root to build as root",
			 who.name);
		/* The steps must see plain root: with SUDO_USER, acso build
		 * would drop to that user in a tree root made. */
		unsetenv("SUDO_USER");
		unsetenv("SUDO_UID");
		unsetenv("SUDO_GID");
		return;
	}
	if (!rn->pv.drop)
		return;
	if (!ctx->dry_run)
		(void)!mkdir_p_owned(ctx->work_dir, 0755, rn->pv.uid, rn->pv.gid);
	/* sudo's HOME is root's, where the user cannot even read a config
	 * file: the build steps get the user's */
	struct passwd *pw = getpwuid(rn->pv.uid);
	if (pw) {
		strv_pushf(&rn->user_env, "HOME=%s", pw->pw_dir);
		strv_pushf(&rn->user_env, "USER=%s", pw->pw_name);
		strv_pushf(&rn->user_env, "LOGNAME=%s", pw->pw_name);
	}
}

static void record(struct runner *rn, const char *name, const char *action, const char *why, const struct strv *argv)
{
	rn->done = xrealloc(rn->done, (rn->ndone + 1) * sizeof(*rn->done));
	struct step_done *d = &rn->done[rn->ndone++];
	*d = (struct step_done){.name = name, .action = action, .will_run = !why, .why = why};
	for (size_t i = 0; argv && i < argv->n; i++)
		strv_push(&d->argv, argv->v[i]);
}

/* The privileged steps need root: say how to go on. */
static void stop_for_root(struct runner *rn, const struct run_step *s)
{
	struct buf b = {0};
	buf_printf(&b, "sudo %s --work-dir ", rn->self);
	_cleanup_free_ char *qw = shell_quote(rn->ctx->work_dir);
	buf_printf(&b, "%s", qw);
	for (int k = 0; k < rn->argc; k++) {
		_cleanup_free_ char *q = shell_quote(rn->argv[k]);
		buf_printf(&b, " %s", q);
	}
	msg_error("step '%s' changes the system and needs root", s->name);
	msg_hint("the unprivileged steps are done; continue with:");
	fprintf(stderr, "  %s\n", buf_str(&b));
	rn->needs_root = xstrdup(buf_str(&b));
	buf_free(&b);
}

/* With --dry-run: the command the step would run. */
static void would_run(struct runner *rn, const struct run_step *s, const struct strv *full)
{
	struct buf b = {0};
	for (size_t k = 0; k < full->n; k++) {
		_cleanup_free_ char *q = shell_quote(full->v[k]);
		buf_printf(&b, "%s%s", k ? " " : "", q);
	}
	rp_text("%-9s would run: %s\n", s->name, buf_str(&b));
	buf_free(&b);
	record(rn, s->name, "would-run", NULL, full);
}

enum { STEP_NEXT, STEP_STOP };

/* Step i: decide, then skip, show or run it. STEP_STOP with *rc set ends the run. */
static int one_step(struct runner *rn, size_t i, const char *prev_outputs, int *rc)
{
	const struct run_step *s = &rn->steps[i];
	struct strv args = {0}, full = {0};
	const char *why = NULL;
	if (rn->po.register_only && run_step_makes_kernel(s->name)) {
		if (rn->ctx->dry_run)
			rp_text("%-9s not needed: the running kernel carries the override\n", s->name);
		record(rn, s->name, "not-needed", "the running kernel already carries the override", NULL);
		return STEP_NEXT;
	}
	if (rn->only >= 0 && (int)i != rn->only) {
		if ((int)i < rn->only && !run_step_done(rn->st, s->name)) {
			msg_error("--only %s: step '%s' before it is not done", rn->o->only, s->name);
			*rc = EXIT_FAIL;
			return STEP_STOP;
		}
		record(rn, s->name, "not-only", "--only names another step", NULL);
		return STEP_NEXT;
	}
	if (rn->dry_stale || run_step_args(&rn->po, rn->st, rn->pv.drop, s->name, &args, &why) < 0) {
		strv_free(&args);
		if (rn->ctx->dry_run) {
			rp_text("%-9s would run once the steps before it are done\n", s->name);
			record(rn, s->name, "would-run", NULL, NULL);
			return STEP_NEXT;
		}
		msg_error("step '%s': %s", s->name, why);
		msg_hint("run 'acso run --from %s' to redo the step before it", rn->steps[i ? i - 1 : 0].name);
		*rc = EXIT_FAIL;
		return STEP_STOP;
	}
	full_argv(rn, s->name, &args, &full);
	_cleanup_free_ char *inputs = run_inputs(&args, prev_outputs);
	strv_free(&args);
	struct run_decision d;
	run_decide(s, i, rn->from, rn->o->from != NULL, rn->only, rn->po.register_only, rn->st, inputs, &d);
	if (d.key)
		strv_pushf(&full, "--reuse-key=%s", d.key);
	int ret = STEP_NEXT;
	if (d.action == RA_SKIP) {
		if (rn->ctx->dry_run)
			rp_text("%-9s done: same inputs, outputs intact\n", s->name);
		record(rn, s->name, "skipped", "done with the same inputs, its outputs intact", NULL);
		rn->skipped++;
	} else if (rn->ctx->dry_run) {
		would_run(rn, s, &full);
		/* the steps after an update's resolve take the release it finds */
		rn->dry_stale = rn->up_state && !strcmp(rn->up_state, "rebuilding");
	} else if (s->privileged && !rn->pv.can_priv) {
		stop_for_root(rn, s);
		*rc = EXIT_NEED_ROOT;
		ret = STEP_STOP;
	} else {
		int r = run_step(rn, s, &full, inputs, d.key);
		record(rn, s->name, r ? "failed" : "ran", NULL, NULL);
		if (!r && !strcmp(s->name, "resolve"))
			run_update_resolved(rn->st);
		if (r) {
			*rc = r;
			ret = STEP_STOP;
		} else
			rn->ran++;
	}
	strv_free(&full);
	free(d.key);
	return ret;
}

static int run_all(struct runner *rn)
{
	int rc = EXIT_OK;
	_cleanup_free_ char *prev = xstrdup("");
	for (size_t i = 0; i < rn->nsteps; i++) {
		if (one_step(rn, i, prev, &rc) == STEP_STOP)
			break;
		struct json_object *out = run_outputs(rn->st, rn->steps[i].name);
		free(prev);
		prev = xstrdup(out ? json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN) : "");
	}
	return rc;
}

/* --update: what it found, and the configuration it starts from. */
static void render_update(struct runner *rn)
{
	if (!rn->up_state)
		return;
	const struct run_update *u = &rn->up;
	rp_open_object("update");
	rp_string(RP_JSON, "state", NULL, rn->up_state);
	rp_string(RP_JSON, "series", NULL, u->series);
	rp_string(RP_JSON, "from", NULL, u->previous);
	rp_string(RP_JSON, "to", NULL, rn->up_to);
	if (strcmp(rn->up_state, "current")) {
		rp_text("%s %s with the configuration of %s\n", rn->up_state, rn->up_to, u->previous);
		rp_string(RP_ANY, "config", "  config: %s", u->config);
		rp_string(RP_ANY, "config_from", " (%s)\n", u->config_from);
	} else {
		rp_text("%s is the newest %s release: nothing to rebuild\n", u->previous, u->series);
	}
	rp_close_object();
}

static int render(struct runner *rn, int rc)
{
	rp_string(RP_JSON, "target", NULL, rn->target);
	rp_bool(RP_JSON, "register_only", NULL, rn->po.register_only);
	if (rn->po.register_only)
		rp_string(RP_JSON, "register_only_why", NULL, rn->support_why);
	rp_string(RP_JSON, "acs", NULL, rn->po.acs);
	if (rn->acs_resolved)
		rp_string(RP_JSON, "acs_override", NULL, rn->acs_resolved);
	if (rn->acs_why[0])
		rp_string(RP_JSON, "acs_why", NULL, rn->acs_why);
	render_update(rn);
	rp_bool(RP_JSON, "ccache", NULL, rn->po.ccache);
	rp_string(RP_JSON, "ccache_why", NULL, rn->ccache_why);
	if (!rn->needs_root) {
		_cleanup_free_ char *sp = state_path(rn->ctx->work_dir, rn->target);
		rp_string(RP_JSON, "state_file", NULL, sp);
	}
	rp_open_array("steps");
	for (size_t i = 0; i < rn->ndone; i++) {
		rp_open_object(NULL);
		rp_string(RP_JSON, "name", NULL, rn->done[i].name);
		rp_string(RP_JSON, "action", NULL, rn->done[i].action);
		rp_bool(RP_JSON, "will_run", NULL, rn->done[i].will_run);
		if (rn->done[i].why)
			rp_string(RP_JSON, "why", NULL, rn->done[i].why);
		if (rn->done[i].argv.n) {
			rp_open_array("argv");
			for (size_t k = 0; k < rn->done[i].argv.n; k++)
				rp_string(RP_JSON, NULL, NULL, rn->done[i].argv.v[k]);
			rp_close_array();
		}
		rp_close_object();
	}
	rp_close_array();
	if (rn->needs_root) {
		rp_string(RP_JSON, "needs_root", NULL, rn->needs_root);
		return report_end(rc);
	}
	rp_int(RP_JSON, "ran", NULL, rn->ran);
	rp_int(RP_JSON, "skipped", NULL, rn->skipped);
	rp_bool(RP_JSON, "dry_run", NULL, rn->ctx->dry_run);
	if (rc == EXIT_OK && !rn->ctx->dry_run) {
		if (!rn->ran)
			rp_text("Nothing to do: every step is done and its outputs are intact ('acso status' shows them)\n");
		else
			rp_text("Done: %d step%s ran, %d skipped\n", rn->ran, rn->ran == 1 ? "" : "s", rn->skipped);
		if (rn->only < 0) {
			const char *rel = run_jstr(run_outputs(rn->st, rn->o->prebuilt ? "prebuilt" : "install"), "release");
			const char *mok = run_mok_not_enrolled(&rn->po, rn->st);
			if (mok && strcmp(mok, "pending")) { /* Secure Boot: shim would refuse the kernel */
				rp_string(RP_ANY, "mok_enrolled", "Not yet: the MOK that signed the kernel is %s; "
					  "do not reboot into it before it is:\n", mok);
				rp_text("  sudo acso sign %s   (enrols it with mokutil --import)\n", rel ? rel : "RELEASE");
			} else
				rp_text("Next: reboot%s%s, then run 'acso verify'\n", rel && !rn->po.register_only ? " into " : "",
					rel && !rn->po.register_only ? rel : "");
		}
	}
	return report_end(rc);
}

/* The steps asked for, the target named: 0 or a usage error. */
static int plan_run(struct runner *rn)
{
	struct run_opts *o = rn->o;
	rn->steps = o->vfio ? run_steps_vfio(o->prebuilt, &rn->nsteps) : run_steps(o->prebuilt, &rn->nsteps);
	rn->from = 0;
	rn->only = -1;
	if (o->from && (rn->from = run_find_step(rn->steps, rn->nsteps, o->from)) < 0) {
		msg_error("--from '%s': not a step of this run", o->from);
		return EXIT_USAGE;
	}
	if (o->only && (rn->only = run_find_step(rn->steps, rn->nsteps, o->only)) < 0) {
		msg_error("--only '%s': not a step of this run", o->only);
		return EXIT_USAGE;
	}
	if (o->update && (rn->po.version || o->prebuilt || o->from || o->only)) {
		msg_error("--update rebuilds the target's last build: not with %s",
			  rn->po.version ? "a VERSION" : o->prebuilt ? "--prebuilt" : o->from ? "--from" : "--only");
		msg_hint("name another target with --target NAME");
		return EXIT_USAGE;
	}
	rn->target = o->target ? o->target : rn->po.version ? rn->po.version : "auto";
	if (!state_target_valid(rn->target)) {
		msg_error("target '%s': use letters, digits and . _ + - only", rn->target);
		return EXIT_USAGE;
	}
	return 0;
}

/* The run's own lock (WORK/state/lock, the user's too); -1 with --dry-run. */
static int lock_run(struct runner *rn, int *lock)
{
	struct acso_err e = {0};
	*lock = -1;
	if (rn->ctx->dry_run)
		return 0;
	_cleanup_free_ char *lockdir = path_join(rn->ctx->work_dir, "state");
	int r = rn->pv.drop ? mkdir_owned_open(lockdir, 0755, rn->pv.uid, rn->pv.gid, &e) : 0;
	if (r > 0)
		close(r);
	*lock = r < 0 ? r : lock_work_dir(lockdir, "run", &e);
	if (*lock >= 0)
		return 0;
	int code = fail(&e, *lock, "run");
	if (*lock == -ACSO_E_LOCKED)
		msg_hint("wait for it to finish ('acso status' shows its progress)");
	return code;
}

static void runner_free(struct runner *rn)
{
	for (size_t i = 0; i < rn->ndone; i++)
		strv_free(&rn->done[i].argv);
	free(rn->done);
	free(rn->needs_root);
	free(rn->acs_resolved);
	run_update_free(&rn->up);
	free(rn->up_to);
	json_object_put(rn->st);
	free(rn->self);
	strv_free(&rn->user_env);
}

/* The build compiles through ccache when it is installed, unless
 * --no-ccache or config ccache = no: the first build fills the cache that
 * makes the rebuild of the next point release cheap. */
static int plan_ccache(struct runner *rn)
{
	bool yes = false;
	int conf = -1;
	if (ctx_conf(rn->ctx, "ccache", NULL)) {
		int r = ctx_conf_bool(rn->ctx, "ccache", &yes);
		if (r)
			return r;
		conf = yes;
	}
	_cleanup_free_ char *have = spawn_which("ccache");
	rn->po.ccache = !rn->po.prebuilt && run_ccache(rn->o->no_ccache, conf, have != NULL, &rn->ccache_why);
	return 0;
}

/* --update: the resolve that says whether the build's series has a newer
 * release runs as a step would (this binary, its JSON report), unrecorded. */
static int probe_newest(struct runner *rn, char **newest)
{
	struct strv args = {0}, full = {0};
	run_update_probe_args(&rn->po, &rn->up, &args);
	full_argv(rn, "resolve", &args, &full);
	strv_free(&args);
	struct buf out = {0};
	int status = 0;
	struct spawn_opts so = {
		.inherit_env = true, .env = (const char *const *)rn->user_env.v, .log_fd = -1, .quiet = true,
		.capture = &out, .drop_privs = rn->pv.drop, .uid = rn->pv.uid, .gid = rn->pv.gid,
	};
	int r = spawn_run((const char *const *)full.v, &so, &status);
	strv_free(&full);
	struct json_object *rep = r == 0 && WIFEXITED(status) && !WEXITSTATUS(status) ? run_parse_report(out.data, out.len) : NULL;
	buf_free(&out);
	const char *t = run_report_target(rep);
	*newest = t ? xstrdup(t) : NULL;
	json_object_put(rep);
	if (*newest)
		return 0;
	msg_error("--update: cannot tell the newest %s release ('acso resolve --series %s' failed)", rn->up.series, rn->up.series);
	msg_hint("run 'acso resolve --series %s' to see why", rn->up.series);
	return EXIT_FAIL;
}

/* --update: from which build, to which release. The update is recorded in
 * the state (in memory; saved with the first step) when newer. */
static int plan_update(struct runner *rn)
{
	const char *why = NULL;
	if (!rn->o->update)
		return 0;
	if (run_update_base(rn->st, &rn->up, &why) < 0) {
		msg_error("--update: target '%s': %s", rn->target, why);
		msg_hint("run 'acso run' without --update to build it (again)");
		return EXIT_FAIL;
	}
	if (rn->up.to) {
		rn->up_state = "resuming";
		rn->up_to = xstrdup(rn->up.to);
	} else {
		int r = probe_newest(rn, &rn->up_to);
		if (r)
			return r;
		int newer = run_update_newer(&rn->up, rn->up_to);
		rn->up_state = newer > 0 ? "rebuilding" : "current";
		if (newer > 0)
			run_update_record(rn->st, &rn->up, rn->up_to);
	}
	if (strcmp(rn->up_state, "current"))
		msg_info("update: %s %s with the configuration of %s (%s, %s)", rn->up_state, rn->up_to,
			 rn->up.previous, rn->up.config, rn->up.config_from);
	return 0;
}

/* What the run makes and registers, said before it starts: the kernel
 * (built, or the running one carries the override) and the override mode. */
static void plan_kernel_and_mode(struct runner *rn)
{
	struct acso_ctx *ctx = rn->ctx;
	struct sysinfo si = {0};
	sysinfo_read(ctx->rootfd, strcmp(ctx->root, "/") == 0, &si);
	struct acs_support sup;
	acs_support_detect(ctx->rootfd, si.release, si.log_acs_enabled, si.log_acs_unknown_param, &sup);
	rn->po.register_only = run_register_only(&sup, rn->o->build, rn->support_why, sizeof(rn->support_why));
	if (rn->po.register_only)
		msg_info("the running kernel %s already carries the ACS override (%s): no kernel to build, "
			 "registering the boot parameters only (--build builds anyway)",
			 si.release ? si.release : "", rn->support_why);
	sysinfo_free(&si);
	if (rn->o->acs) {
		rn->po.acs = rn->o->acs;
		return;
	}
	rn->po.acs = run_default_acs(ctx->rootfd, rn->o->gpu, &rn->acs_resolved, rn->acs_why, sizeof(rn->acs_why));
	msg_info("boot: --acs %s%s%s: %s", rn->po.acs, rn->acs_resolved ? " = " : "",
		 rn->acs_resolved ? rn->acs_resolved : "", rn->acs_why);
}

int cmd_run(struct acso_ctx *ctx, int argc, char **argv)
{
	struct run_opts o = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &o, &first);
	if (r)
		return r;
	struct strv net = {0}, net_nomirror = {0};
	net_forward(ctx, &net, true);
	net_forward(ctx, &net_nomirror, false);
	struct runner rn = {
		.ctx = ctx, .o = &o, .argc = argc, .argv = argv,
		.po = {.version = first < argc ? argv[first] : NULL, .net = &net, .net_nomirror = &net_nomirror, .acs = o.acs, .base = o.base,
		       .profile = o.profile, .prebuilt = o.prebuilt, .iommu_pt = o.iommu_pt,
		       .allow_root = o.allow_root, .once = o.once, .gpu = o.gpu, .set = &o.set,
		       .keyring = &o.keyring, .trim = o.trim, .vfio = o.vfio},
	};
	struct sb_state sb; /* Secure Boot: the new kernel boots once until verify passes */
	sb_read(ctx->rootfd, !strcmp(ctx->root, "/"), &sb);
	rn.po.secure_boot = sb.secure_boot == TRI_YES;
	int lock = -1;
	if ((r = plan_run(&rn)) || (r = find_self(&rn)))
		goto out;
	plan_privileges(&rn);
	plan_kernel_and_mode(&rn);
	if ((r = lock_run(&rn, &lock)))
		goto out;
	bool garbage = false;
	rn.st = state_load(ctx->work_dir, rn.target, &garbage);
	if (garbage) {
		_cleanup_free_ char *sp = state_path(ctx->work_dir, rn.target);
		msg_warn("'%s' was not a valid state record: moved aside to .bad, starting over", sp);
	}
	if ((r = plan_update(&rn)) || (r = plan_ccache(&rn)))
		goto out;
	report_begin(ctx);
	r = render(&rn, run_all(&rn));
out:
	runner_free(&rn);
	unlock_work_dir(lock);
	strv_free(&net);
	strv_free(&net_nomirror);
	strv_free(&o.set);
	strv_free(&o.keyring);
	return r;
}
