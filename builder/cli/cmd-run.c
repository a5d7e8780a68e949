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
 * concurrent run.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd-net.h"
#include "base/user.h"
#include "cli/commands.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/json.h"
#include "base/lock.h"
#include "cli/output.h"
#include "base/spawn.h"
#include "run/state.h"
#include "base/util.h"

#define STEP_REPORT_MAX ((size_t)8 << 20)

struct run_opts {
	const char *from, *only, *acs, *target, *base, *profile;
	bool prebuilt, iommu_pt, allow_root, once;
};

struct step {
	const char *name;
	bool privileged; /* changes the system: root, or an image we may write */
	bool keyed;      /* gets --reuse-key: the key of this attempt (see attempt_key) */
};
static const struct step build_steps[] = {
	{"resolve", false, false}, {"fetch", false, false}, {"patch", false, false}, {"config", false, false},
	{"build", false, true}, {"snapshot", true, false}, {"install", true, false}, {"grub", true, false},
};
static const struct step prebuilt_steps[] = {
	{"snapshot", true, false}, {"prebuilt", true, false}, {"grub", true, false},
};

/* --list-steps (hidden, for the bash completion of --from and --only). */
static int opt_list_steps(void *opts, const char *arg)
{
	for (size_t i = 0; i < ARRAY_SIZE(build_steps); i++)
		printf("%s\n", build_steps[i].name);
	printf("%s\n", "prebuilt");
	return CMD_HELP_SHOWN;
}

#define OPTS struct run_opts
const struct acso_option run_options[] = {
	OPT_STRING(0, "from", from, "STEP", "run again from STEP on, even if done"),
	OPT_STRING(0, "only", only, "STEP", "run only STEP (the steps before it must be done)"),
	OPT_BOOL(0, "prebuilt", prebuilt, "install a prebuilt ACS kernel from a signed index instead of building"),
	OPT_STRING(0, "acs", acs, "MODE", "pcie_acs_override= value for the boot step (default downstream)"),
	OPT_BOOL(0, "iommu-pt", iommu_pt, "also add iommu=pt"),
	OPT_BOOL(0, "once", once, "boot the new kernel only once (grub-reboot); make it the default with 'acso verify --make-default'"),
	OPT_STRING(0, "base", base, "BASE", "config step: base configuration (running, defconfig, tinyconfig or a FILE)"),
	OPT_STRING(0, "profile", profile, "NAME", "config step: also apply kconfig/NAME.config (e.g. qemu)"),
	OPT_STRING(0, "target", target, "NAME", "name of the state record (default: VERSION, or 'auto')"),
	OPT_BOOL(0, "allow-root", allow_root, "let the build run as root (plain root, or a work directory that is not SUDO_USER's)"),
	{"list-steps", 0, NULL, "print the step names", OPTK_CALLBACK, 0, 0, 0, NULL, opt_list_steps, OPTF_HIDDEN},
	OPT_END,
};

/* ---- the state record ----------------------------------------------------- */

static struct json_object *step_rec(struct json_object *st, const char *name)
{
	struct json_object *steps = NULL, *rec = NULL;
	json_object_object_get_ex(st, "steps", &steps);
	if (steps && json_object_object_get_ex(steps, name, &rec) && json_object_is_type(rec, json_type_object))
		return rec;
	return NULL;
}

static struct json_object *outputs_of(struct json_object *st, const char *name)
{
	struct json_object *rec = step_rec(st, name), *out = NULL;
	if (rec && json_object_object_get_ex(rec, "outputs", &out))
		return out;
	return NULL;
}

/* FNV-1a: detects a changed report; not a security property. */
static char *digest(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return xasprintf("%016llx", (unsigned long long)h);
}

/* The key a keyed step is run with. A step is cut off (kill -9, power
 * loss) between finishing its work and the run recording it: its record
 * still says running. Run again with the same inputs, that attempt goes on
 * under its key, and `acso build` reports the build it finished instead of
 * building again under the next Debian version. Any other run of the step
 * (first, after a failure, forced by --from/--only, changed inputs) is a
 * new attempt with a new key. */
static char *attempt_key(struct json_object *rec, const char *inputs, bool forced)
{
	const char *state = json_str(rec, "state"), *was = json_str(rec, "inputs"), *key = json_str(rec, "reuse_key");
	if (!forced && state && !strcmp(state, "running") && was && !strcmp(was, inputs) && key)
		return xstrdup(key);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	_cleanup_free_ char *seed = xasprintf("%s %lld.%09ld %d", inputs, (long long)ts.tv_sec, ts.tv_nsec, (int)getpid());
	return digest(seed);
}

static bool path_is(const char *p, mode_t type)
{
	struct stat sb;
	return p && stat(p, &sb) == 0 && (sb.st_mode & S_IFMT) == type;
}

/* Are the outputs a step reported still there? */
static bool outputs_intact(const char *name, struct json_object *out)
{
	if (!strcmp(name, "fetch"))
		return path_is(json_str(out, "source_dir"), S_IFDIR);
	if (!strcmp(name, "build")) {
		const char *manifest = json_str(out, "manifest");
		if (!manifest || manifest[0] != '/' || !path_is(manifest, S_IFREG))
			return false;
		/* A package's "file" is a name in the manifest's directory
		 * (manifest.c refuses a '/'), not a path from our cwd. */
		_cleanup_free_ char *dir = xstrdup(manifest);
		*strrchr(dir, '/') = '\0';
		struct json_object *pk = NULL;
		if (!json_object_object_get_ex(out, "packages", &pk) || !json_object_is_type(pk, json_type_array) ||
		    json_object_array_length(pk) == 0)
			return false;
		for (size_t i = 0; i < json_object_array_length(pk); i++) {
			const char *file = json_str(json_object_array_get_idx(pk, i), "file");
			if (!file || strchr(file, '/'))
				return false;
			_cleanup_free_ char *p = path_join(dir, file);
			if (!path_is(p, S_IFREG))
				return false;
		}
		return true;
	}
	if (!strcmp(name, "snapshot"))
		return path_is(json_str(out, "path"), S_IFREG);
	return true;
}

/* ---- a step's command line ------------------------------------------------ */

struct runner {
	struct acso_ctx *ctx;
	struct run_opts *o;
	const char *version;     /* the positional VERSION, or NULL */
	char *self;
	struct json_object *st;
	const char *target;
	bool drop;
	uid_t uid;
	gid_t gid;
	struct strv user_env;    /* HOME, USER, LOGNAME of the user the build steps run as */
};

/* The step's own arguments (after its name; options first, then the
 * positional ones), from the options and the
 * reports of the steps before it. NULL with *why when a report lacks what
 * this step needs. */
static int step_args(struct runner *rn, const char *name, struct strv *a, const char **why)
{
	struct json_object *st = rn->st;
	const char *src = json_str(outputs_of(st, "fetch"), "source_dir");
	const char *target = json_str(outputs_of(st, "resolve"), "target");
	if (!strcmp(name, "resolve")) {
		if (rn->version) {
			strv_push(a, "--version");
			strv_push(a, rn->version);
		}
		net_forward(rn->ctx, a, true);
	} else if (!strcmp(name, "fetch")) {
		if (!target) {
			*why = "the resolve step reported no target version";
			return -1;
		}
		net_forward(rn->ctx, a, true);
		strv_push(a, target);
	} else if (!strcmp(name, "patch") || !strcmp(name, "config") || !strcmp(name, "build")) {
		if (!src) {
			*why = "the fetch step reported no source_dir";
			return -1;
		}
		strv_pushf(a, "--source-dir=%s", src);
		if (!strcmp(name, "config") && rn->o->base)
			strv_pushf(a, "--base=%s", rn->o->base);
		if (!strcmp(name, "config") && rn->o->profile)
			strv_pushf(a, "--profile=%s", rn->o->profile);
		if (!strcmp(name, "build") && rn->o->allow_root && !rn->drop)
			strv_push(a, "--allow-root");
	} else if (!strcmp(name, "snapshot")) {
		strv_push(a, "--before");
	} else if (!strcmp(name, "prebuilt")) {
		net_forward(rn->ctx, a, false);
		if (rn->version)
			strv_push(a, rn->version);
	} else if (!strcmp(name, "grub")) {
		if (rn->o->acs)
			strv_pushf(a, "--acs=%s", rn->o->acs);
		if (rn->o->iommu_pt)
			strv_push(a, "--iommu-pt");
		if (rn->o->once) {
			const char *rel = json_str(outputs_of(st, rn->o->prebuilt ? "prebuilt" : "install"), "release");
			if (!rel) {
				*why = "the install step reported no release for --once";
				return -1;
			}
			strv_pushf(a, "--once=%s", rel);
			strv_push(a, "--set-default-saved");
		}
	}
	return 0;
}

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

static int find_step(const struct step *steps, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(steps[i].name, name))
			return (int)i;
	return -1;
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

/* Run one step; returns 0 or an exit code. */
static int run_step(struct runner *rn, const struct step *s, struct strv *argv, const char *inputs, const char *key)
{
	struct acso_err e = {0};
	struct json_object *steps = NULL;
	json_object_object_get_ex(rn->st, "steps", &steps);
	_cleanup_free_ char *logdir = xasprintf("%s/logs/%s", rn->ctx->work_dir, rn->target);
	_cleanup_free_ char *log = xasprintf("%s/%s.log", logdir, s->name);
	int r = rn->drop ? mkdir_p_owned(logdir, 0755, rn->uid, rn->gid) : mkdir_p_at(AT_FDCWD, logdir, 0755);
	if (r < 0)
		return fail(NULL, r, "create '%s'", logdir);
	_cleanup_close_ int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (lfd < 0)
		return fail(NULL, -errno, "open '%s'", log);
	if (rn->drop && !s->privileged && fchown(lfd, rn->uid, rn->gid) < 0)
		msg_warn("cannot give '%s' to uid %u", log, (unsigned)rn->uid);

	struct json_object *rec = json_object_new_object();
	_cleanup_free_ char *started = iso_utc_dup(time(NULL));
	json_object_object_add(rec, "state", json_object_new_string("running"));
	json_object_object_add(rec, "inputs", json_object_new_string(inputs));
	if (key)
		json_object_object_add(rec, "reuse_key", json_object_new_string(key));
	json_object_object_add(rec, "argv", json_from_strv(argv));
	json_object_object_add(rec, "started", json_object_new_string(started));
	json_object_object_add(rec, "log", json_object_new_string(log));
	json_object_object_add(steps, s->name, rec);
	if ((r = state_save(rn->ctx->work_dir, rn->target, rn->st, &e)) < 0)
		return fail(&e, r, "run");

	if (!rn->ctx->json)
		msg_info("%s==>%s %s", sty_err(ST_BOLD), sty_err(ST_RESET), s->name);
	struct buf out = {0};
	double t0 = now_seconds();
	struct spawn_opts so = {
		/* acso's own children: they need the same config paths (XDG_*),
		 * NO_COLOR and ACSO_DATADIR the user gave us */
		.inherit_env = true,
		.env = rn->drop && !s->privileged && rn->user_env.n ? (const char *const *)rn->user_env.v : NULL,
		.log_fd = lfd,
		.capture = &out,
		.drop_privs = rn->drop && !s->privileged,
		.uid = rn->uid,
		.gid = rn->gid,
	};
	int status = 0;
	r = spawn_run((const char *const *)argv->v, &so, &status);
	double secs = now_seconds() - t0;
	json_object_object_add(rec, "seconds", json_object_new_double((double)(long)(secs * 10) / 10));
	_cleanup_free_ char *fin = iso_utc_dup(time(NULL));
	json_object_object_add(rec, "finished", json_object_new_string(fin));
	if (r < 0) {
		buf_free(&out);
		json_object_object_add(rec, "state", json_object_new_string("failed"));
		state_save(rn->ctx->work_dir, rn->target, rn->st, &e);
		return fail(NULL, r, "start step '%s'", s->name);
	}
	struct json_object *report = NULL;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (out.len <= STEP_REPORT_MAX && out.len == strlen(buf_str(&out)))
			report = json_tokener_parse(buf_str(&out));
		if (!report || !json_object_is_type(report, json_type_object)) {
			json_object_put(report);
			report = NULL;
			status = 1 << 8; /* as "exited with status 1" */
			dprintf(lfd, "acso run: step '%s' printed no JSON report\n", s->name);
		}
	}
	buf_free(&out);
	if (!report) {
		char how[64];
		spawn_describe(status, how, sizeof(how));
		json_object_object_add(rec, "state", json_object_new_string("failed"));
		json_object_object_add(rec, "exit", json_object_new_string(how));
		state_save(rn->ctx->work_dir, rn->target, rn->st, &e);
		msg_error("step '%s' failed: acso %s %s", s->name, s->name, how);
		show_tail(log, 15);
		msg_hint("full log: %s; fix the cause and run 'acso run' again: it resumes at '%s'", log, s->name);
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAIL;
		return code >= 2 && code <= 9 ? code : EXIT_FAIL;
	}
	json_object_object_add(rec, "outputs", report);
	json_object_object_add(rec, "state", json_object_new_string("done"));
	if ((r = state_save(rn->ctx->work_dir, rn->target, rn->st, &e)) < 0)
		return fail(&e, r, "run");
	return 0;
}

int cmd_run(struct acso_ctx *ctx, int argc, char **argv)
{
	struct run_opts o = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &o, &first);
	if (r)
		return r;
	struct runner rn = {.ctx = ctx, .o = &o, .version = first < argc ? argv[first] : NULL};
	const struct step *steps = o.prebuilt ? prebuilt_steps : build_steps;
	size_t nsteps = o.prebuilt ? ARRAY_SIZE(prebuilt_steps) : ARRAY_SIZE(build_steps);
	int from = 0, only = -1;
	if (o.from && (from = find_step(steps, nsteps, o.from)) < 0) {
		msg_error("--from '%s': not a step of this run", o.from);
		return EXIT_USAGE;
	}
	if (o.only && (only = find_step(steps, nsteps, o.only)) < 0) {
		msg_error("--only '%s': not a step of this run", o.only);
		return EXIT_USAGE;
	}
	rn.target = o.target ? o.target : rn.version ? rn.version : "auto";
	if (!state_target_valid(rn.target)) {
		msg_error("target '%s': use letters, digits and . _ + - only", rn.target);
		return EXIT_USAGE;
	}

	/* The step program: this binary. ACSO_RUN_STEP_PROGRAM exists only for
	 * the test suite (tests/integration/run.sh), which puts a stub there. */
	const char *stub = getenv("ACSO_RUN_STEP_PROGRAM");
	if (stub && *stub) {
		rn.self = xstrdup(stub);
	} else {
		int se = self_exe(&rn.self);
		if (se < 0)
			return fail(NULL, se, "cannot find my own binary");
	}

	/* Privileges: root changes the system; sudo builds as SUDO_USER. An
	 * image we can write needs no root. */
	bool image = strcmp(ctx->root, "/") != 0;
	(void)image;
	bool can_priv = can_change_system(ctx);
	struct acso_user who;
	uid_t uid = 0;
	gid_t gid = 0;
	if (user_invoking(&who, NULL) == 0 && who.sudo) {
		uid = who.uid;
		gid = who.gid;
		struct stat sb;
		if (stat(ctx->work_dir, &sb) == 0 && sb.st_uid != uid) {
			msg_warn("work directory '%s' does not belong to SUDO_USER (uid %u): the build steps run as root",
				 ctx->work_dir, uid);
			msg_hint("give --work-dir a directory of yours, e.g. --work-dir ~%s/.cache/acso, or add --allow-root to build as root",
				 who.name);
			/* The steps must see plain root: with SUDO_USER, acso build
			 * would drop to that user in a tree root made. */
			unsetenv("SUDO_USER");
			unsetenv("SUDO_UID");
			unsetenv("SUDO_GID");
		} else {
			if (!ctx->dry_run)
				(void)!mkdir_p_owned(ctx->work_dir, 0755, uid, gid);
			rn.drop = true;
			rn.uid = uid;
			rn.gid = gid;
			/* sudo's HOME is root's, where the user cannot even read a
			 * config file: the build steps get the user's */
			struct passwd *pw = getpwuid(uid);
			if (pw) {
				strv_pushf(&rn.user_env, "HOME=%s", pw->pw_dir);
				strv_pushf(&rn.user_env, "USER=%s", pw->pw_name);
				strv_pushf(&rn.user_env, "LOGNAME=%s", pw->pw_name);
			}
		}
	}

	struct acso_err e = {0};
	_cleanup_free_ char *lockdir = path_join(ctx->work_dir, "state");
	int lock = -1;
	if (!ctx->dry_run) {
		/* the state directory (and so its lock) is the user's too */
		if (rn.drop)
			(void)!mkdir_p_owned(lockdir, 0755, rn.uid, rn.gid);
		lock = lock_work_dir(lockdir, "run", &e);
		if (lock < 0) {
			strv_free(&rn.user_env);
			free(rn.self);
			int code = fail(&e, lock, "run");
			if (lock == -ACSO_E_LOCKED)
				msg_hint("wait for it to finish ('acso status' shows its progress)");
			return code;
		}
	}
	bool garbage = false;
	rn.st = state_load(ctx->work_dir, rn.target, &garbage);
	if (garbage) {
		_cleanup_free_ char *sp = state_path(ctx->work_dir, rn.target);
		msg_warn("'%s' was not a valid state record: moved aside to .bad, starting over", sp);
	}

	int rc = EXIT_OK;
	int ran = 0, skipped = 0;
	struct json_object *report = json_object_new_array();
	const char *prev_outputs = "";
	_cleanup_free_ char *prev_hold = NULL;
	for (size_t i = 0; i < nsteps; i++) {
		const struct step *s = &steps[i];
		struct json_object *rec = step_rec(rn.st, s->name);
		char *pd = NULL, *inputs = NULL;
		_cleanup_free_ char *key = NULL;
		if (only >= 0 && (int)i != only) {
			if ((int)i < only && (!rec || strcmp(json_str(rec, "state") ? json_str(rec, "state") : "", "done"))) {
				msg_error("--only %s: step '%s' before it is not done", o.only, s->name);
				rc = EXIT_FAIL;
				break;
			}
			goto next;
		}
		struct strv args = {0}, full = {0};
		const char *why = NULL;
		if (step_args(&rn, s->name, &args, &why) < 0) {
			if (ctx->dry_run) {
				printf("%-9s would run once the steps before it are done\n", s->name);
				strv_free(&args);
				goto next;
			}
			msg_error("step '%s': %s", s->name, why);
			msg_hint("run 'acso run --from %s' to redo the step before it", steps[i ? i - 1 : 0].name);
			strv_free(&args);
			rc = EXIT_FAIL;
			break;
		}
		full_argv(&rn, s->name, &args, &full);
		struct json_object *in = json_object_new_object();
		json_object_object_add(in, "args", json_from_strv(&args));
		pd = digest(prev_outputs);
		json_object_object_add(in, "previous", json_object_new_string(pd));
		inputs = xstrdup(json_object_to_json_string_ext(in, JSON_C_TO_STRING_PLAIN));
		json_object_put(in);
		strv_free(&args);

		bool done = rec && json_str(rec, "state") && !strcmp(json_str(rec, "state"), "done") &&
			    json_str(rec, "inputs") && !strcmp(json_str(rec, "inputs"), inputs) &&
			    outputs_intact(s->name, outputs_of(rn.st, s->name));
		bool forced = (o.from && (int)i >= from) || only == (int)i;
		key = s->keyed ? attempt_key(rec, inputs, forced) : NULL;
		if (key)
			strv_pushf(&full, "--reuse-key=%s", key);
		struct json_object *jr = json_object_new_object();
		json_object_object_add(jr, "step", json_object_new_string(s->name));
		if (done && !forced) {
			json_object_object_add(jr, "action", json_object_new_string("skipped"));
			json_object_array_add(report, jr);
			skipped++;
			strv_free(&full);
			goto next;
		}
		if (ctx->dry_run) {
			_cleanup_free_ char *cmd = NULL;
			struct buf b = {0};
			for (size_t k = 0; k < full.n; k++) {
				_cleanup_free_ char *q = shell_quote(full.v[k]);
				buf_printf(&b, "%s%s", k ? " " : "", q);
			}
			cmd = xstrdup(buf_str(&b));
			buf_free(&b);
			if (!ctx->json)
				printf("%-9s would run: %s\n", s->name, cmd);
			json_object_object_add(jr, "action", json_object_new_string("would-run"));
			json_object_object_add(jr, "argv", json_from_strv(&full));
			json_object_array_add(report, jr);
			strv_free(&full);
			goto next;
		}
		if (s->privileged && !can_priv) {
			json_object_put(jr);
			strv_free(&full);
			struct buf b = {0};
			buf_printf(&b, "sudo %s --work-dir ", rn.self);
			_cleanup_free_ char *qw = shell_quote(ctx->work_dir);
			buf_printf(&b, "%s", qw);
			for (int k = 0; k < argc; k++) {
				_cleanup_free_ char *q = shell_quote(argv[k]);
				buf_printf(&b, " %s", q);
			}
			msg_error("step '%s' changes the system and needs root", s->name);
			msg_hint("the unprivileged steps are done; continue with:");
			fprintf(stderr, "  %s\n", buf_str(&b));
			if (ctx->json) {
				struct json_object *j = json_object_new_object();
				json_object_object_add(j, "target", json_object_new_string(rn.target));
				json_object_object_add(j, "steps", json_object_get(report));
				json_object_object_add(j, "needs_root", json_object_new_string(buf_str(&b)));
				out_json(j);
				json_object_put(j);
			}
			buf_free(&b);
			rc = EXIT_NEED_ROOT;
			free(pd);
			free(inputs);
			goto out;
		}
		r = run_step(&rn, s, &full, inputs, key);
		strv_free(&full);
		json_object_object_add(jr, "action", json_object_new_string(r ? "failed" : "ran"));
		json_object_array_add(report, jr);
		if (r) {
			rc = r;
			free(pd);
			free(inputs);
			break;
		}
		ran++;
next:
		free(pd);
		free(inputs);
		struct json_object *out = outputs_of(rn.st, s->name);
		free(prev_hold);
		prev_hold = xstrdup(out ? json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN) : "");
		prev_outputs = prev_hold;
	}
	if (ctx->json) {
		struct json_object *j = json_object_new_object();
		json_object_object_add(j, "target", json_object_new_string(rn.target));
		_cleanup_free_ char *sp = state_path(ctx->work_dir, rn.target);
		json_object_object_add(j, "state_file", json_object_new_string(sp));
		json_object_object_add(j, "steps", json_object_get(report));
		json_object_object_add(j, "ran", json_object_new_int(ran));
		json_object_object_add(j, "skipped", json_object_new_int(skipped));
		json_object_object_add(j, "dry_run", json_object_new_boolean(ctx->dry_run));
		out_json(j);
		json_object_put(j);
	} else if (rc == EXIT_OK && !ctx->dry_run) {
		if (!ran)
			printf("Nothing to do: every step is done and its outputs are intact ('acso status' shows them)\n");
		else
			printf("Done: %d step%s ran, %d skipped\n", ran, ran == 1 ? "" : "s", skipped);
		if (only < 0) {
			const char *rel = json_str(outputs_of(rn.st, o.prebuilt ? "prebuilt" : "install"), "release");
			printf("Next: reboot%s%s, then run 'acso verify'\n", rel ? " into " : "", rel ? rel : "");
		}
	}
out:
	json_object_put(report);
	json_object_put(rn.st);
	free(rn.self);
	strv_free(&rn.user_env);
	unlock_work_dir(lock);
	return rc;
}
