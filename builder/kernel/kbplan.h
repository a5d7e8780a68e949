/* kbplan.h — `acso build`'s decisions and its work, without printing: who
 * builds, which tree, release and Debian version, whether the last build is
 * reused (--reuse-key), which build tools are missing, whether the disk
 * holds it, the make command; then make itself (progress through a
 * callback, everything in the log) and the .debs collected with their
 * manifest into WORK/build/<release>. kbuild.h holds the pure pieces this
 * is made of. */
#pragma once
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "base/hash.h"
#include "base/util.h"
#include "kernel/kbuild.h"
#include "package/manifest.h"

struct acso_err;

/* Who builds: we ourselves (not root), SUDO_USER under sudo, or nobody:
 * plain root is refused unless allow_root. */
enum kbplan_who { KBP_AS_SELF, KBP_AS_SUDO_USER, KBP_REFUSE_ROOT };
enum kbplan_who kbplan_who(bool root, const char *sudo_user, bool allow_root);

/* A localversion is a release suffix: "-acso", "-vfio1". */
bool kbplan_localversion_valid(const char *s);

struct kbplan_in {
	const char *work_dir;
	const char *source_dir;   /* NULL: WORK/src/current */
	const char *localversion;
	const char *reuse_key;    /* NULL: none */
	unsigned jobs, cpus;
	bool ccache, icecc;
	const char *distcc;       /* hosts, NULL for none */
	const char *include_dir;  /* where build headers are looked for: "/usr/include" */
	time_t now;               /* names the log; the .debs of this build are newer */
};

/* Where a plan stopped (the command words each one). */
enum kbplan_stop {
	KBP_READY,
	KBP_REUSE,        /* the last build has the key, .config and packages: done */
	KBP_NO_TREE,      /* src_arg does not resolve: e.code is -errno */
	KBP_BAD_TREE,     /* no kernel version in src (e) */
	KBP_NO_CONFIG,    /* src/.config unreadable: e.code */
	KBP_MISSING,      /* build tools missing: missing */
	KBP_NO_SPACE,     /* disk_free < disk_needed */
	KBP_BAD_COMMAND,  /* make command (e) */
	KBP_NO_WRAPPER,   /* wrapper (distcc, icecc, ccache) is not installed */
};

struct kbplan {
	enum kbplan_stop stop;
	char *src_arg;            /* the tree as given */
	char src[PATH_MAX];       /* ... resolved */
	char *version, *release, *pkgversion;
	char *config_path;
	char config_sha256[HASH_HEX_MAX];
	char *build_dir, *out_dir, *log_dir, *log_path, *distcc_log;
	struct manifest reused;   /* KBP_REUSE: the build reported */
	struct strv missing;
	uint64_t estimate, disk_needed, disk_free;
	const char *wrapper;
	bool ccache;              /* make compiles (or compiled, KBP_REUSE) through ccache */
	struct strv argv, env;    /* make and its extra environment */
	int jobs;
	char *cmdline;            /* env and argv, as the log and --dry-run show it */
};

/* Plan a build. 0 with p->stop KBP_READY or KBP_REUSE; a negative code with
 * p->stop saying where it stopped. kbplan_free() in every case. */
int kbplan_make(const struct kbplan_in *in, struct kbplan *p, struct acso_err *e);
void kbplan_free(struct kbplan *p);

/* The user the build runs as (drop: not ourselves). */
struct kbplan_user {
	bool drop;
	uid_t uid;
	gid_t gid;
	const char *name;
};

/* Make's progress: the phase and the objects compiled so far. */
typedef void (*kbplan_progress_fn)(void *priv, enum kbuild_phase phase, uint64_t objects);

struct kbplan_result {
	int status;               /* make's wait status */
	double seconds;
	uint64_t objects;
	bool distcc;              /* distcc_jobs/distcc_local are counted */
	uint64_t distcc_jobs, distcc_local;
};

/* Run make as u, its output into log_fd. 0 when make ran (res->status
 * says how it ended), -errno when it could not be started. */
int kbplan_run(const struct kbplan *p, const struct kbplan_user *u, int log_fd, kbplan_progress_fn fn,
	       void *priv, struct kbplan_result *res);

/* The name of the .config a build compiled, kept in WORK/build/<release>. */
#define KBPLAN_CONFIG_NAME "config"

/* After make succeeded: the release make really used, the packages of this
 * build moved into its directory and read back, its .config kept there
 * (KBPLAN_CONFIG_NAME), the manifest written (owned
 * by u), WORK/build/current pointed at it. m is filled (manifest_free()). */
int kbplan_collect(struct kbplan *p, const struct kbplan_in *in, const struct kbplan_user *u,
		   const struct kbplan_result *res, struct manifest *m, struct acso_err *e);

/* Point WORK/build/current at release (atomically; best effort). */
void kbplan_set_current(const char *build_dir, const char *release);

/* The tail of a log (the part that holds the failure): malloc'ed, "" when
 * it cannot be read. */
char *kbplan_log_tail(const char *path);
