/* plan.h — `acso run`'s decisions, without printing: the steps of a run,
 * each step's arguments from the reports of the steps before it, whether a
 * step is done (same inputs, outputs intact) or runs again, the key a
 * build attempt goes on under, who runs the steps (the privilege plan), and
 * the step's record in the state (state.h) as it starts and ends. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/util.h"

struct json_object;

#define RUN_REPORT_MAX ((size_t)8 << 20) /* a step's JSON report */

struct run_step {
	const char *name;
	bool privileged; /* changes the system: root, or an image we may write */
	bool keyed;      /* gets --reuse-key: the key of this attempt (run_attempt_key) */
};

/* The steps of a run: building, or installing a prebuilt kernel. */
const struct run_step *run_steps(bool prebuilt, size_t *n);
/* The same, then vfio (acso vfio) last: a run with --vfio. */
const struct run_step *run_steps_vfio(bool prebuilt, size_t *n);
/* Index of the step called name, -1 when the run has none. */
int run_find_step(const struct run_step *steps, size_t n, const char *name);

/* What the run was asked for, as far as the steps' arguments go. */
struct run_plan_opts {
	const char *version;     /* the positional VERSION, or NULL */
	const char *acs, *base, *profile;
	/* the network options given to acso run, passed on to the steps that
	 * contact a server: with --mirror (resolve, fetch), without (prebuilt) */
	const struct strv *net, *net_nomirror;
	const char *gpu;         /* --gpu ADDR: the boot step's GPU */
	const struct strv *set;  /* --set CONFIG_X=V, for the config step */
	const struct strv *keyring; /* --keyring, for the fetch step */
	bool prebuilt, iommu_pt, allow_root, once, trim;
	bool vfio;               /* --vfio: vfio-pci.ids= at boot, and acso vfio last */
	bool ccache;             /* the build step compiles through ccache */
	bool register_only;      /* the running kernel carries the override: no build */
	bool secure_boot;        /* on in the root: the new kernel boots once (grub-reboot) until verify */
};

/* With Secure Boot on: the install step's word for its MOK ("not
 * enrolled", "pending", ...) when it is not "enrolled", else NULL. The
 * run stops before the reboot then: shim would refuse the kernel. */
const char *run_mok_not_enrolled(const struct run_plan_opts *o, struct json_object *st);

/* ---- the state record of a step ---- */
struct json_object *run_step_rec(struct json_object *st, const char *name);
struct json_object *run_outputs(struct json_object *st, const char *name);
/* A string member of o, NULL when o is NULL or the member is not a string. */
const char *run_jstr(struct json_object *o, const char *key);
/* Is the step's record "done"? */
bool run_step_done(struct json_object *st, const char *name);
/* Are the outputs a step reported still there (fetch's tree, build's
 * manifest and every package it lists, snapshot's file)? */
bool run_outputs_intact(const char *name, struct json_object *out);

/* FNV-1a of s in 16 hex digits: detects a changed report, not a security
 * property. */
char *run_digest(const char *s);
/* The key a keyed step runs with: the record's own key when it was cut
 * off running with the same inputs and is not forced, a new one otherwise. */
char *run_attempt_key(struct json_object *rec, const char *inputs, bool forced);

/* The step's own arguments (after its name; options first, then the
 * positional ones) from the options and the reports in st. -1 with *why
 * when a report lacks what this step needs. drop: the build runs as the
 * invoking user. */
int run_step_args(const struct run_plan_opts *o, struct json_object *st, bool drop,
		  const char *name, struct strv *a, const char **why);
/* The inputs of a step, as recorded: its args and a digest of the previous
 * step's outputs. malloc'ed. */
char *run_inputs(const struct strv *args, const char *prev_outputs);

/* What the run does with step i. */
enum run_action {
	RA_RUN,        /* run it */
	RA_SKIP,       /* done with the same inputs, outputs intact */
	RA_NOT_ONLY,   /* --only names another step */
	RA_BLOCKED,    /* --only: this step before it is not done */
	RA_NOT_NEEDED, /* the running kernel carries the override: no kernel to make */
};
struct run_decision {
	enum run_action action;
	bool forced;   /* --from / --only names it: runs even if done */
	char *key;     /* keyed steps: the attempt key */
};
/* from: index of --from (0 without), only: index of --only (-1 without).
 * register_only: the running kernel carries the override, the steps that
 * make and install a kernel are RA_NOT_NEEDED. */
void run_decide(const struct run_step *s, size_t i, int from, bool have_from, int only, bool register_only,
		struct json_object *st, const char *inputs, struct run_decision *d);
/* Is the step one that makes or installs a kernel (skipped when the running
 * kernel already carries the override)? */
bool run_step_makes_kernel(const char *name);

/* ---- does the run build at all ---- */
struct acs_support;
/* The run registers the parameters only when the running kernel (of the
 * root) carries the override, unless force_build (--build). why: the
 * evidence in words ("/proc/kallsyms names pcie_acs_overrides"), for the
 * run to say, when it returns true. */
bool run_register_only(const struct acs_support *sup, bool force_build, char *why, size_t whylen);

/* The override the boot step registers when --acs is not given (what
 * `acso check` recommends): "auto" when the chosen GPU (gpu, or NULL: see
 * gpu_pick) shares its group, the least invasive override `acso groups`
 * computes, with that override in *resolved; otherwise "downstream"
 * (*resolved NULL). why: the reason in words. Reads the IOMMU groups below
 * rootfd; never fails. */
const char *run_default_acs(int rootfd, const char *gpu, char **resolved, char *why, size_t whylen);

/* ---- staying current: acso run --update ---- */
/* A rebuild of the newest point release of the series the target's last
 * finished build followed, configured from that build's own .config. Its
 * record, st["update"], keeps the series (the resolve step's --series) and
 * that .config (the config step's --base) for every later run of the
 * target, so that a plain run after the rebuild resumes it, then does
 * nothing. */
struct run_update {
	char *series;        /* "6.1" */
	char *previous;      /* "6.1.191": the version the last finished build built */
	char *release;       /* "6.1.191-acso" */
	char *config;        /* its .config */
	const char *config_from; /* where that was: "kept by the build" or "the build's tree" */
	char *to;            /* the update recorded but its build not done: the version it rebuilds */
};
/* From the state: the last finished build (the build step done, its
 * manifest's directory holding its .config, or its tree's .config with
 * the manifest's SHA-256); or, while an update's build is not done, the
 * update recorded (u->to set). -1 with *why when there is neither. */
int run_update_base(struct json_object *st, struct run_update *u, const char **why);
void run_update_free(struct run_update *u);
/* st["update"]: u's series, previous version and .config, and the version to. */
void run_update_record(struct json_object *st, const struct run_update *u, const char *to);
/* The target of `acso resolve`'s JSON report, NULL when it has none. */
const char *run_report_target(struct json_object *report);
/* The resolve step ran during an update: st["update"]'s "to" becomes what
 * it resolved (a release may have come out since the update looked). */
void run_update_resolved(struct json_object *st);
/* >0 when newest (a version string) is newer than u's previous build, 0
 * when not, -1 when it is no version. */
int run_update_newer(const struct run_update *u, const char *newest);
/* Whether the build step compiles through ccache: not with no_opt
 * (--no-ccache) or conf 0 (config ccache = no; -1 unset, 1 yes), else when
 * it is installed. *why in words. */
bool run_ccache(bool no_opt, int conf, bool installed, const char **why);
/* The arguments of the resolve that finds the newest release of u's series. */
void run_update_probe_args(const struct run_plan_opts *o, const struct run_update *u, struct strv *a);

/* ---- who runs the steps ---- */
struct run_privs {
	bool can_priv;      /* the privileged steps may run */
	bool drop;          /* the build steps run as uid:gid */
	bool not_owner;     /* under sudo, but the work dir is not SUDO_USER's: all as root */
	uid_t uid;
	gid_t gid;
};
/* euid: ours; image: --root is not "/", root_writable: we may write it;
 * sudo_uid/sudo_gid: SUDO_UID/SUDO_GID (NULL when unset); work_dir_uid:
 * the work dir's owner, or -1 when it does not exist. */
void run_privileges(uid_t euid, bool image, bool root_writable, const char *sudo_uid, const char *sudo_gid,
		    long long work_dir_uid, struct run_privs *p);

/* ---- the record of a step as it runs ---- */
/* Mark name running in st: its inputs, key, argv, start time, log. Returns the record. */
struct json_object *run_record_start(struct json_object *st, const char *name, const char *inputs, const char *key,
				     const struct strv *argv, const char *log);
/* The step's stdout as its report: a JSON object, NULL when it is not one. */
struct json_object *run_parse_report(const char *out, size_t len);
/* The end of a step: seconds, finish time, and either its report (done;
 * takes it) or how it failed (how NULL: no exit description). */
void run_record_end(struct json_object *rec, double seconds, struct json_object *report, const char *how);
