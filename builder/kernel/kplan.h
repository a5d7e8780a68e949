/* kplan.h — the config plan of `acso config`: read the base config (the
 * running kernel's, defconfig, tinyconfig or a file), apply the fragments
 * kconfig/acso.config, vfio.config and the profile's, then --set; optionally
 * --trim (localmodconfig); make olddefconfig; then compare what was asked for
 * with what survived. Never prints: messages for the user go through the
 * caller's note callback, the outcome is in struct kplan. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "kernel/kconfig.h"
#include "machine/localmods.h"

struct acso_err;

enum kp_note { KP_INFO, KP_WARN, KP_HINT };
typedef void (*kp_note_fn)(void *priv, enum kp_note kind, const char *msg);

struct kplan_in {
	const char *src;          /* the kernel tree */
	const char *data_dir;     /* holds kconfig/NAME.config */
	const char *base;         /* running, defconfig, tinyconfig or a FILE; NULL: the
				   * profile's "# acso-base:" line, else running */
	const char *profile;      /* NULL: none */
	const struct kc_reqs *sets; /* --set, applied last (may be NULL) */
	bool trim, dry_run;
	bool pahole;              /* pahole installed: BTF may stay */
	int rootfd;               /* --root, for the running kernel's config and --trim */
	bool root_is_host;        /* --root is /: uname() may stand in for osrelease */
	const char *logs, *log;   /* the log folder and config.log in it */
	kp_note_fn note;          /* progress and warnings (may be NULL) */
	void *priv;
};

/* What became of one requested setting. */
enum kp_status { KP_PLANNED, KP_OK, KP_CHANGED, KP_UNKNOWN };
struct kp_req {
	const struct kc_req *req; /* points into kplan.reqs */
	const char *got;          /* the result's value, NULL when not mentioned */
	enum kp_status status;
	bool required;            /* asked by acso.config: the override needs it */
};

/* Where the plan stopped, for the caller's hint. */
enum kp_stage { KP_DONE, KP_AT_TREE, KP_AT_PROFILE, KP_AT_OTHER };

struct kplan {
	const char *base_kind;    /* "running", "defconfig", "tinyconfig", "file" */
	char *base_release;       /* running: the release read */
	char *base_path;          /* the file read, NULL for defconfig/tinyconfig */
	const char *base_name;    /* the name base issues carry */
	const char *fragments[4]; /* "acso", "vfio", the profile */
	size_t nfragments;
	struct kconfig base, fin; /* the base as read, the result */
	struct kc_reqs reqs;      /* everything asked, in order */
	struct kc_change *changes; /* base → result, sorted by symbol */
	size_t nchanges;
	struct kp_req *req;       /* one per reqs.v[i] */
	size_t nmiss;             /* requests not met (0 with dry_run) */
	bool required_ok;         /* the override's own settings survived */
	bool trimmed;             /* --trim ran */
	struct localmods lm;      /* what --trim kept */
	enum kp_stage stage;      /* on failure: where */
	char what[512];           /* on failure: what failed ("base config", ...) */
};

/* Run the plan (with dry_run: no make, nothing written; the result is the
 * base with the requests applied). On failure returns a negative code, e
 * holds the detail, p->what and p->stage say where. kplan_free() either way. */
int kplan_run(const struct kplan_in *in, struct kplan *p, struct acso_err *e);
void kplan_free(struct kplan *p);

/* What a change from the base is, for the report's order: asked for (a
 * request it meets), a demotion make did on its own (y → m), or any other
 * change make did. */
enum kp_change { KP_CH_ASKED, KP_CH_DEMOTED, KP_CH_OTHER };
enum kp_change kplan_change_kind(const struct kplan *p, const struct kc_change *c);

/* Whether request i kept a base value that a plain edit would have lost:
 * a fragment's "m" met by the base's "y", or a base rule's value (module
 * compression, signing) that the base already had. */
bool kplan_kept(const struct kplan *p, size_t i);

/* A profile's own base: the line "# acso-base: tinyconfig" (or defconfig)
 * in text; NULL when there is none. */
const char *kplan_profile_base(const char *text);

/* Whether the requested value want is met by got (NULL: not mentioned):
 * equal; "m" met by "y"; "" and "n" met by a symbol that is not there. */
bool kplan_satisfied(const char *want, const char *got);

/* Which of syms[0..n) the Kconfig files under src define (a "config SYM" or
 * "menuconfig SYM" line): found[i] set for those. Skips .git and
 * Documentation. */
void kplan_tree_defines(const char *src, const char *const *syms, size_t n, bool *found);
