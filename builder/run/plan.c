/* plan.c — see plan.h. Moved out of cli/cmd-run.c so that the resume rules
 * (which steps, done or not, the attempt key, who runs what) are reached by
 * tests/unit/test-run.c. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"
#include "boot/pick.h"
#include "machine/acssupport.h"
#include "run/plan.h"

static const struct run_step build_steps[] = {
	{"resolve", false, false}, {"fetch", false, false}, {"patch", false, false}, {"config", false, false},
	{"build", false, true}, {"snapshot", true, false}, {"install", true, false}, {"grub", true, false},
	{"vfio", true, false}, /* --vfio only: the last */
};
static const struct run_step prebuilt_steps[] = {
	{"snapshot", true, false}, {"prebuilt", true, false}, {"grub", true, false},
	{"vfio", true, false},
};

const struct run_step *run_steps(bool prebuilt, size_t *n)
{
	*n = (prebuilt ? ARRAY_SIZE(prebuilt_steps) : ARRAY_SIZE(build_steps)) - 1;
	return prebuilt ? prebuilt_steps : build_steps;
}

const struct run_step *run_steps_vfio(bool prebuilt, size_t *n)
{
	const struct run_step *s = run_steps(prebuilt, n);
	(*n)++;
	return s;
}

int run_find_step(const struct run_step *steps, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(steps[i].name, name))
			return (int)i;
	return -1;
}

/* ---- the state record ----------------------------------------------------- */

struct json_object *run_step_rec(struct json_object *st, const char *name)
{
	struct json_object *steps = NULL, *rec = NULL;
	json_object_object_get_ex(st, "steps", &steps);
	if (steps && json_object_object_get_ex(steps, name, &rec) && json_object_is_type(rec, json_type_object))
		return rec;
	return NULL;
}

const char *run_jstr(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

struct json_object *run_outputs(struct json_object *st, const char *name)
{
	struct json_object *rec = run_step_rec(st, name), *out = NULL;
	if (rec && json_object_object_get_ex(rec, "outputs", &out))
		return out;
	return NULL;
}

bool run_step_done(struct json_object *st, const char *name)
{
	const char *state = run_jstr(run_step_rec(st, name), "state");
	return state && !strcmp(state, "done");
}

char *run_digest(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return xasprintf("%016llx", (unsigned long long)h);
}

/* A step is cut off (kill -9, power loss) between finishing its work and
 * the run recording it: its record still says running. Run again with the
 * same inputs, that attempt goes on under its key, and `acso build` reports
 * the build it finished instead of building again under the next Debian
 * version. Any other run of the step (first, after a failure, forced by
 * --from/--only, changed inputs) is a new attempt with a new key. */
char *run_attempt_key(struct json_object *rec, const char *inputs, bool forced)
{
	const char *state = run_jstr(rec, "state"), *was = run_jstr(rec, "inputs"), *key = run_jstr(rec, "reuse_key");
	if (!forced && state && !strcmp(state, "running") && was && !strcmp(was, inputs) && key)
		return xstrdup(key);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	_cleanup_free_ char *seed = xasprintf("%s %lld.%09ld %d", inputs, (long long)ts.tv_sec, ts.tv_nsec, (int)getpid());
	return run_digest(seed);
}

static bool path_is(const char *p, mode_t type)
{
	struct stat sb;
	return p && stat(p, &sb) == 0 && (sb.st_mode & S_IFMT) == type;
}

/* The build's manifest and each package it lists. A package's "file" is a
 * name in the manifest's directory (manifest.c refuses a '/'), not a path
 * from our cwd. */
static bool build_intact(struct json_object *out)
{
	const char *manifest = run_jstr(out, "manifest");
	if (!manifest || manifest[0] != '/' || !path_is(manifest, S_IFREG))
		return false;
	_cleanup_free_ char *dir = xstrdup(manifest);
	*strrchr(dir, '/') = '\0';
	struct json_object *pk = NULL;
	if (!json_object_object_get_ex(out, "packages", &pk) || !json_object_is_type(pk, json_type_array) ||
	    json_object_array_length(pk) == 0)
		return false;
	for (size_t i = 0; i < json_object_array_length(pk); i++) {
		const char *file = run_jstr(json_object_array_get_idx(pk, i), "file");
		if (!file || strchr(file, '/'))
			return false;
		_cleanup_free_ char *p = path_join(dir, file);
		if (!path_is(p, S_IFREG))
			return false;
	}
	return true;
}

bool run_outputs_intact(const char *name, struct json_object *out)
{
	if (!strcmp(name, "fetch"))
		return path_is(run_jstr(out, "source_dir"), S_IFDIR);
	if (!strcmp(name, "build"))
		return build_intact(out);
	if (!strcmp(name, "snapshot"))
		return path_is(run_jstr(out, "path"), S_IFREG);
	return true;
}

/* ---- a step's arguments --------------------------------------------------- */

static int tree_args(const struct run_plan_opts *o, struct json_object *st, bool drop, const char *name,
		     struct strv *a, const char **why)
{
	const char *src = run_jstr(run_outputs(st, "fetch"), "source_dir");
	if (!src) {
		*why = "the fetch step reported no source_dir";
		return -1;
	}
	strv_pushf(a, "--source-dir=%s", src);
	if (!strcmp(name, "config") && o->base)
		strv_pushf(a, "--base=%s", o->base);
	if (!strcmp(name, "config") && o->profile)
		strv_pushf(a, "--profile=%s", o->profile);
	if (!strcmp(name, "config") && o->trim)
		strv_push(a, "--trim");
	for (size_t i = 0; !strcmp(name, "config") && o->set && i < o->set->n; i++)
		strv_pushf(a, "--set=%s", o->set->v[i]);
	if (!strcmp(name, "build") && o->allow_root && !drop)
		strv_push(a, "--allow-root");
	return 0;
}

static int grub_args(const struct run_plan_opts *o, struct json_object *st, struct strv *a, const char **why)
{
	if (o->acs)
		strv_pushf(a, "--acs=%s", o->acs);
	if (o->gpu)
		strv_pushf(a, "--gpu=%s", o->gpu);
	if (o->vfio)
		strv_push(a, "--vfio");
	if (o->iommu_pt)
		strv_push(a, "--iommu-pt");
	/* Secure Boot: never the default before verify passes; the running
	 * kernel carries the override: no new kernel to boot once */
	if ((o->once || o->secure_boot) && !o->register_only) {
		const char *rel = run_jstr(run_outputs(st, o->prebuilt ? "prebuilt" : "install"), "release");
		if (!rel) {
			*why = "the install step reported no release for --once";
			return -1;
		}
		strv_pushf(a, "--once=%s", rel);
		strv_push(a, "--set-default-saved");
	}
	return 0;
}

const char *run_mok_not_enrolled(const struct run_plan_opts *o, struct json_object *st)
{
	struct json_object *signed_ = NULL;
	if (!o->secure_boot ||
	    !json_object_object_get_ex(run_outputs(st, o->prebuilt ? "prebuilt" : "install"), "signed", &signed_))
		return NULL;
	const char *w = run_jstr(signed_, "mok_enrolled");
	return w && strcmp(w, "enrolled") ? w : NULL;
}

static void push_all(struct strv *a, const struct strv *more)
{
	for (size_t i = 0; more && i < more->n; i++)
		strv_push(a, more->v[i]);
}

int run_step_args(const struct run_plan_opts *o, struct json_object *st, bool drop, const char *name,
		  struct strv *a, const char **why)
{
	const char *target = run_jstr(run_outputs(st, "resolve"), "target");
	if (!strcmp(name, "resolve")) {
		if (o->version) {
			strv_push(a, "--version");
			strv_push(a, o->version);
		}
		push_all(a, o->net);
	} else if (!strcmp(name, "fetch")) {
		if (!target) {
			*why = "the resolve step reported no target version";
			return -1;
		}
		push_all(a, o->net);
		for (size_t i = 0; o->keyring && i < o->keyring->n; i++)
			strv_pushf(a, "--keyring=%s", o->keyring->v[i]);
		strv_push(a, target);
	} else if (!strcmp(name, "patch") || !strcmp(name, "config") || !strcmp(name, "build")) {
		return tree_args(o, st, drop, name, a, why);
	} else if (!strcmp(name, "snapshot")) {
		strv_push(a, "--before");
	} else if (!strcmp(name, "prebuilt")) {
		push_all(a, o->net_nomirror);
		if (o->version)
			strv_push(a, o->version);
	} else if (!strcmp(name, "grub")) {
		return grub_args(o, st, a, why);
	} else if (!strcmp(name, "vfio")) {
		/* the new kernel's initramfs: the one booted next */
		const char *rel = run_jstr(run_outputs(st, o->prebuilt ? "prebuilt" : "install"), "release");
		if (rel)
			strv_pushf(a, "--kernel=%s", rel);
		if (o->gpu)
			strv_push(a, o->gpu);
	}
	return 0;
}

static struct json_object *strv_json(const struct strv *s)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < s->n; i++)
		json_object_array_add(a, json_object_new_string(s->v[i]));
	return a;
}

char *run_inputs(const struct strv *args, const char *prev_outputs)
{
	struct json_object *in = json_object_new_object();
	json_object_object_add(in, "args", strv_json(args));
	_cleanup_free_ char *pd = run_digest(prev_outputs);
	json_object_object_add(in, "previous", json_object_new_string(pd));
	char *s = xstrdup(json_object_to_json_string_ext(in, JSON_C_TO_STRING_PLAIN));
	json_object_put(in);
	return s;
}

bool run_step_makes_kernel(const char *name)
{
	static const char *const makers[] = {"resolve", "fetch", "patch", "config", "build", "install", "prebuilt"};
	for (size_t i = 0; i < ARRAY_SIZE(makers); i++)
		if (!strcmp(makers[i], name))
			return true;
	return false;
}

void run_decide(const struct run_step *s, size_t i, int from, bool have_from, int only, bool register_only,
		struct json_object *st, const char *inputs, struct run_decision *d)
{
	memset(d, 0, sizeof(*d));
	if (register_only && run_step_makes_kernel(s->name)) {
		d->action = RA_NOT_NEEDED;
		return;
	}
	if (only >= 0 && (int)i != only) {
		d->action = (int)i < only && !run_step_done(st, s->name) ? RA_BLOCKED : RA_NOT_ONLY;
		return;
	}
	struct json_object *rec = run_step_rec(st, s->name);
	bool done = run_step_done(st, s->name) && run_jstr(rec, "inputs") && !strcmp(run_jstr(rec, "inputs"), inputs) &&
		    run_outputs_intact(s->name, run_outputs(st, s->name));
	d->forced = (have_from && (int)i >= from) || only == (int)i;
	d->key = s->keyed ? run_attempt_key(rec, inputs, d->forced) : NULL;
	d->action = done && !d->forced ? RA_SKIP : RA_RUN;
}

bool run_register_only(const struct acs_support *sup, bool force_build, char *why, size_t whylen)
{
	if (force_build || sup->supported != TRI_YES)
		return false;
	switch (sup->evidence) {
	case ACS_EV_KALLSYMS:
	case ACS_EV_SYSTEM_MAP:
		snprintf(why, whylen, "%s names the patch's symbol %s", sup->source, sup->symbol);
		break;
	default:
		snprintf(why, whylen, "the %s says \"PCIe ACS overrides enabled\"", sup->source);
		break;
	}
	return true;
}

const char *run_default_acs(int rootfd, const char *gpu, char **resolved, char *why, size_t whylen)
{
	static const char *const refusals[] = {
		[PICK_IOMMU_OFF] = "no IOMMU groups are visible",
		[PICK_NO_SUCH_GPU] = "the --gpu address is no GPU",
		[PICK_NO_GPU] = "the machine shows no GPU",
		[PICK_AMBIGUOUS] = "several GPUs and nothing says which one (give --gpu)",
		[PICK_NO_COMMON] = "several GPUs share their groups and no one override fits all (give --gpu)",
		[PICK_GPU_NO_GROUP] = "the GPU is in no IOMMU group",
		[PICK_NO_SPLIT] = "no override splits the GPU's group",
	};
	struct boot_request rq = {.acs = "auto", .intel_iommu = 0, .gpu = gpu};
	struct strv params = {0};
	struct gpu_pick pick = {0};
	struct acso_err e = {0};
	int r = boot_params_decide(rootfd, &rq, &params, &pick, &e);
	strv_free(&params);
	*resolved = NULL;
	const char *mode = "downstream";
	if (r == 0 && pick.acs && *pick.acs) {
		mode = "auto";
		*resolved = xstrdup(pick.acs);
		snprintf(why, whylen, "GPU %s shares its IOMMU group; %s is the least invasive override that splits it",
			 pick.gpu[0] ? pick.gpu : "of this machine", pick.acs);
	} else if (r == 0) {
		snprintf(why, whylen, "no GPU shares its IOMMU group: the default");
	} else if (r == -ACSO_E_STATE && pick.status < ARRAY_SIZE(refusals) && refusals[pick.status]) {
		snprintf(why, whylen, "the groups cannot choose (%s): the default", refusals[pick.status]);
	} else {
		snprintf(why, whylen, "the groups could not be read (%s): the default", e.msg[0] ? e.msg : "error");
	}
	gpu_pick_free(&pick);
	return mode;
}

/* ---- who runs the steps --------------------------------------------------- */

void run_privileges(uid_t euid, bool image, bool root_writable, const char *sudo_uid, const char *sudo_gid,
		    long long work_dir_uid, struct run_privs *p)
{
	memset(p, 0, sizeof(*p));
	/* Root changes the system; an image we can write needs no root. */
	p->can_priv = euid == 0 || (image && root_writable);
	uint32_t uid = 0, gid = 0;
	if (euid != 0 || !sudo_uid || !sudo_gid || parse_u32(sudo_uid, 10, &uid) < 0 ||
	    parse_u32(sudo_gid, 10, &gid) < 0 || uid == 0)
		return;
	/* sudo builds as SUDO_USER, in a work dir of theirs */
	if (work_dir_uid >= 0 && work_dir_uid != (long long)uid) {
		p->not_owner = true;
		p->uid = uid;
		return;
	}
	p->drop = true;
	p->uid = uid;
	p->gid = gid;
}

/* ---- the record of a step as it runs -------------------------------------- */

static char *now_iso(void)
{
	time_t t = time(NULL);
	struct tm tm;
	char b[32];
	gmtime_r(&t, &tm);
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(b);
}

struct json_object *run_record_start(struct json_object *st, const char *name, const char *inputs, const char *key,
				     const struct strv *argv, const char *log)
{
	struct json_object *steps = NULL;
	json_object_object_get_ex(st, "steps", &steps);
	struct json_object *rec = json_object_new_object();
	_cleanup_free_ char *started = now_iso();
	json_object_object_add(rec, "state", json_object_new_string("running"));
	json_object_object_add(rec, "inputs", json_object_new_string(inputs));
	if (key)
		json_object_object_add(rec, "reuse_key", json_object_new_string(key));
	json_object_object_add(rec, "argv", strv_json(argv));
	json_object_object_add(rec, "started", json_object_new_string(started));
	json_object_object_add(rec, "log", json_object_new_string(log));
	json_object_object_add(steps, name, rec);
	return rec;
}

struct json_object *run_parse_report(const char *out, size_t len)
{
	if (!out || len > RUN_REPORT_MAX || len != strlen(out))
		return NULL;
	struct json_object *report = json_tokener_parse(out);
	if (report && !json_object_is_type(report, json_type_object)) {
		json_object_put(report);
		report = NULL;
	}
	return report;
}

void run_record_end(struct json_object *rec, double seconds, struct json_object *report, const char *how)
{
	json_object_object_add(rec, "seconds", json_object_new_double((double)(long)(seconds * 10) / 10));
	_cleanup_free_ char *fin = now_iso();
	json_object_object_add(rec, "finished", json_object_new_string(fin));
	if (report) {
		json_object_object_add(rec, "outputs", report);
		json_object_object_add(rec, "state", json_object_new_string("done"));
		return;
	}
	json_object_object_add(rec, "state", json_object_new_string("failed"));
	if (how)
		json_object_object_add(rec, "exit", json_object_new_string(how));
}
