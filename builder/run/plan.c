/* plan.c — see plan.h. Moved out of cli/cmd-run.c so that the resume rules
 * (which steps, done or not, the attempt key, who runs what) are reached by
 * tests/unit/test-run.c. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/hash.h"
#include "boot/pick.h"
#include "kernel/kbplan.h"
#include "machine/acssupport.h"
#include "run/plan.h"
#include "source/version.h"

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

static struct json_object *update_rec(struct json_object *st)
{
	struct json_object *u = NULL;
	if (st && json_object_object_get_ex(st, "update", &u) && json_object_is_type(u, json_type_object))
		return u;
	return NULL;
}

/* The config step's choices: the ones given (any of --base, --profile,
 * --trim, --set replaces them all), else the ones its record was run with,
 * so that a plain run neither reconfigures nor rebuilds a target made with
 * them. An update's .config is the base unless --base is given. Always in
 * the same order: recorded and new arguments compare equal. */
static void config_choices(const struct run_plan_opts *o, struct json_object *st, struct strv *a)
{
	const char *base = o->base, *profile = o->profile;
	bool trim = o->trim;
	struct strv set = {0};
	for (size_t i = 0; o->set && i < o->set->n; i++)
		strv_pushf(&set, "--set=%s", o->set->v[i]);
	struct json_object *argv = NULL;
	if (!base && !profile && !trim && !set.n &&
	    json_object_object_get_ex(run_step_rec(st, "config"), "argv", &argv) &&
	    json_object_is_type(argv, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(argv); i++) {
			const char *v = json_object_get_string(json_object_array_get_idx(argv, i));
			if (!v)
				continue;
			if (startswith(v, "--base="))
				base = v + strlen("--base=");
			else if (startswith(v, "--profile="))
				profile = v + strlen("--profile=");
			else if (!strcmp(v, "--trim"))
				trim = true;
			else if (startswith(v, "--set="))
				strv_push(&set, v);
		}
	}
	const char *ubase = run_jstr(update_rec(st), "config");
	if (ubase && !o->base)
		base = ubase;
	if (base)
		strv_pushf(a, "--base=%s", base);
	if (profile)
		strv_pushf(a, "--profile=%s", profile);
	if (trim)
		strv_push(a, "--trim");
	for (size_t i = 0; i < set.n; i++)
		strv_push(a, set.v[i]);
	strv_free(&set);
}

static int tree_args(const struct run_plan_opts *o, struct json_object *st, bool drop, const char *name,
		     struct strv *a, const char **why)
{
	const char *src = run_jstr(run_outputs(st, "fetch"), "source_dir");
	if (!src) {
		*why = "the fetch step reported no source_dir";
		return -1;
	}
	strv_pushf(a, "--source-dir=%s", src);
	if (!strcmp(name, "config"))
		config_choices(o, st, a);
	if (!strcmp(name, "build") && o->allow_root && !drop)
		strv_push(a, "--allow-root");
	if (!strcmp(name, "build") && o->ccache)
		strv_push(a, "--ccache");
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
		const char *series = run_jstr(update_rec(st), "series");
		if (o->version) {
			strv_push(a, "--version");
			strv_push(a, o->version);
		} else if (series) { /* an update follows its build's series */
			strv_push(a, "--series");
			strv_push(a, series);
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

/* The packages install reported (by SHA-256) are ones the build made.
 * Install's inputs are the snapshot's report, and a snapshot taken before
 * a rebuild's install can come out byte for byte as the last one: the
 * packages, new, must still be installed. A report without hashes tells
 * nothing. */
static bool install_is_build(struct json_object *st)
{
	struct json_object *ip = NULL, *bp = NULL;
	if (!json_object_object_get_ex(run_outputs(st, "install"), "packages", &ip) ||
	    !json_object_is_type(ip, json_type_array))
		return true;
	if (!json_object_object_get_ex(run_outputs(st, "build"), "packages", &bp) ||
	    !json_object_is_type(bp, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(ip); i++) {
		const char *sha = run_jstr(json_object_array_get_idx(ip, i), "sha256");
		bool found = !sha;
		for (size_t k = 0; !found && k < json_object_array_length(bp); k++) {
			const char *b = run_jstr(json_object_array_get_idx(bp, k), "sha256");
			found = b && !strcmp(b, sha);
		}
		if (!found)
			return false;
	}
	return true;
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
	/* an update recorded and not yet resolved: the resolve step, whose
	 * inputs are the same, runs again; the new target changes the inputs
	 * of every step after it */
	const char *to = run_jstr(update_rec(st), "to"), *was = run_jstr(run_outputs(st, "resolve"), "target");
	bool stale = !strcmp(s->name, "resolve") && to && (!was || strcmp(was, to));
	bool done = !stale && run_step_done(st, s->name) && run_jstr(rec, "inputs") &&
		    !strcmp(run_jstr(rec, "inputs"), inputs) && run_outputs_intact(s->name, run_outputs(st, s->name)) &&
		    (strcmp(s->name, "install") || install_is_build(st));
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

/* ---- staying current ------------------------------------------------------ */

static bool same_sha256(const char *path, const char *want)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	char hex[HASH_HEX_MAX];
	return want && read_file_at(AT_FDCWD, path, (size_t)8 << 20, &text, &len) == 0 &&
	       hash_buf_hex("sha256", text, len, hex) == 0 && !strcmp(hex, want);
}

/* The last finished build's .config: the copy it kept beside its packages,
 * else its tree's .config if that is still the one it compiled. */
static int build_config(struct json_object *out, struct run_update *u, const char **why)
{
	const char *manifest = run_jstr(out, "manifest"), *src = run_jstr(out, "source_dir");
	if (manifest && manifest[0] == '/' && strrchr(manifest, '/') != manifest) {
		_cleanup_free_ char *dir = xstrndup(manifest, (size_t)(strrchr(manifest, '/') - manifest));
		_cleanup_free_ char *kept = path_join(dir, KBPLAN_CONFIG_NAME);
		if (path_is(kept, S_IFREG)) {
			u->config = TAKE_PTR(kept);
			u->config_from = "kept by the build";
			return 0;
		}
	}
	_cleanup_free_ char *tree = src && src[0] == '/' ? path_join(src, ".config") : NULL;
	if (tree && path_is(tree, S_IFREG) && same_sha256(tree, run_jstr(out, "config_sha256"))) {
		u->config = TAKE_PTR(tree);
		u->config_from = "the build's tree";
		return 0;
	}
	*why = "the .config the last build compiled is gone (neither kept beside its packages nor in its tree)";
	return -1;
}

int run_update_base(struct json_object *st, struct run_update *u, const char **why)
{
	memset(u, 0, sizeof(*u));
	struct json_object *out = run_outputs(st, "build"), *up = update_rec(st);
	const char *version = run_jstr(out, "version"), *release = run_jstr(out, "release");
	if (!run_step_done(st, "build") || !version || !release) {
		const char *to = run_jstr(up, "to"), *cfg = run_jstr(up, "config");
		if (!to || !cfg || !run_jstr(up, "series") || !run_jstr(up, "from")) {
			*why = "no build of this target has finished";
			return -1;
		}
		u->to = xstrdup(to);
		u->series = xstrdup(run_jstr(up, "series"));
		u->previous = xstrdup(run_jstr(up, "from"));
		u->release = xstrdup(run_jstr(up, "from_release") ? run_jstr(up, "from_release") : u->previous);
		u->config = xstrdup(cfg);
		u->config_from = run_jstr(up, "config_from") ? run_jstr(up, "config_from") : "recorded";
		return 0;
	}
	struct kver v;
	struct acso_err e = {0};
	if (kver_parse(version, &v, &e) < 0 || v.kind != KVER_RELEASE) {
		*why = "the last build's version is no stable release";
		return -1;
	}
	if (build_config(out, u, why) < 0)
		return -1;
	u->series = xasprintf("%u.%u", v.major, v.minor);
	u->previous = xstrdup(version);
	u->release = xstrdup(release);
	return 0;
}

void run_update_free(struct run_update *u)
{
	free(u->series);
	free(u->previous);
	free(u->release);
	free(u->config);
	free(u->to);
	memset(u, 0, sizeof(*u));
}

void run_update_record(struct json_object *st, const struct run_update *u, const char *to)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "series", json_object_new_string(u->series));
	json_object_object_add(o, "from", json_object_new_string(u->previous));
	json_object_object_add(o, "from_release", json_object_new_string(u->release));
	json_object_object_add(o, "to", json_object_new_string(to));
	json_object_object_add(o, "config", json_object_new_string(u->config));
	json_object_object_add(o, "config_from", json_object_new_string(u->config_from));
	json_object_object_add(st, "update", o);
}

void run_update_resolved(struct json_object *st)
{
	struct json_object *up = update_rec(st);
	const char *got = run_jstr(run_outputs(st, "resolve"), "target");
	if (up && got)
		json_object_object_add(up, "to", json_object_new_string(got));
}

int run_update_newer(const struct run_update *u, const char *newest)
{
	struct kver a, b;
	struct acso_err e = {0};
	if (!newest || kver_parse(newest, &b, &e) < 0 || kver_parse(u->previous, &a, &e) < 0)
		return -1;
	return kver_cmp(&b, &a) > 0;
}

bool run_ccache(bool no_opt, int conf, bool installed, const char **why)
{
	if (no_opt)
		*why = "--no-ccache";
	else if (conf == 0)
		*why = "config: ccache = no";
	else if (!installed)
		*why = "ccache is not installed";
	else
		*why = conf == 1 ? "config: ccache = yes" : "installed";
	return !no_opt && conf != 0 && installed;
}

const char *run_report_target(struct json_object *report)
{
	return run_jstr(report, "target");
}

void run_update_probe_args(const struct run_plan_opts *o, const struct run_update *u, struct strv *a)
{
	strv_push(a, "--series");
	strv_push(a, u->series);
	push_all(a, o->net);
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
