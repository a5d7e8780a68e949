/* kbuild.h — the bindeb-pkg runner's pure parts: the make command line and
 * its environment, the kernel release and Debian version, the build-tool
 * preflight, the object estimate and the diagnosis of a failed build log.
 * Running make is the command layer's job (spawn.h), so all of this is
 * testable without a kernel tree. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

struct acso_err;

struct kbuild_opts {
	const char *src_dir;
	const char *localversion;  /* "-acso" */
	const char *pkgversion;    /* "6.1.192-acso-1" */
	unsigned jobs;             /* 0: from CPUs / distcc hosts */
	unsigned cpus;             /* CPUs available to us */
	bool ccache;
	/* with ccache: the directory holding the release trees (CCACHE_BASEDIR,
	 * so that two trees share hits) and the cache (CCACHE_DIR; NULL:
	 * ccache's default in the building user's home) */
	const char *ccache_basedir, *ccache_dir;
	const char *distcc_hosts;  /* "127.0.0.1:3632/2 host2/8", NULL for none */
	bool icecc;
	bool nokerneldbg;          /* the tree knows pkg.linux-upstream.nokerneldbg */
	const char *distcc_log;    /* DISTCC_LOG file when distcc is used */
};

/* The make argv and the extra environment ("K=V") for bindeb-pkg.
 * Returns the -j value used, or -EINVAL for a malformed --distcc host list. */
int kbuild_command(const struct kbuild_opts *o, struct strv *argv, struct strv *env,
		   struct acso_err *e);

/* Sum of the job slots in a DISTCC_HOSTS list ("h/4 h2" = 4 + 4 for a remote
 * host without a limit, 2 for localhost). -EINVAL when the list is empty or
 * malformed. */
int kbuild_distcc_slots(const char *hosts, struct acso_err *e);

/* Upstream version from the tree's Makefile ("6.1.192"; "6.8.0" for 6.8;
 * EXTRAVERSION "-rc4" gives "6.8.0-rc4"), and the kernel release that
 * `make LOCALVERSION=lv` will produce: version + localversion* files +
 * CONFIG_LOCALVERSION + lv. *version and *release are malloc'ed. */
int kbuild_release(const char *src_dir, const char *localversion, char **version,
		   char **release, struct acso_err *e);

/* Debian version for a build: "<version><localversion>-N", N one more than
 * the N of previous (the last build's Debian version of the same release)
 * or 1. "-rc4" becomes "~rc4" so that it sorts before the release. */
char *kbuild_pkgversion(const char *version, const char *localversion, const char *previous);

/* Does scripts/package know DEB_BUILD_PROFILES=pkg.linux-upstream.nokerneldbg? */
bool kbuild_knows_nokerneldbg(const char *src_dir);

/* Debian packages missing for bindeb-pkg (plus dwarves when the config
 * enables BTF). config may be NULL. include_dir is where headers are looked
 * for ("/usr/include"). Adds package names to missing; returns their count. */
int kbuild_missing_packages(const char *config, const char *include_dir, struct strv *missing);

/* Objects a full build of this configuration compiles, roughly. */
uint64_t kbuild_estimate_objects(const char *config);
/* Disk a build of this configuration needs in the tree, in bytes. */
uint64_t kbuild_disk_needed(const char *config, uint64_t objects);

/* A kbuild output line: counts compiled objects, tracks the phase. */
enum kbuild_phase { KB_PREPARE, KB_COMPILE, KB_LINK, KB_MODULES, KB_PACKAGE };
const char *kbuild_phase_name(enum kbuild_phase p);
/* Returns true when the line is an object compile ("  CC      mm/swap.o"),
 * and moves *phase forward when the line starts a later phase. */
bool kbuild_line(const char *line, enum kbuild_phase *phase);

/* Diagnosis of a failed build from its log. */
enum kbuild_failure {
	KB_FAIL_UNKNOWN,
	KB_FAIL_CERTS,          /* debian/canonical-certs.pem, debian/certs/... */
	KB_FAIL_REVOKED_CERTS,  /* canonical-revoked-certs.pem */
	KB_FAIL_PAHOLE,         /* pahole missing / BTF generation */
	KB_FAIL_TOOL,           /* a build tool or header is missing */
	KB_FAIL_NOSPACE,        /* No space left on device */
};
struct kbuild_diag {
	enum kbuild_failure kind;
	char what[128];         /* the file, tool or package concerned */
	char *cause;            /* one line, malloc'ed */
	char *fix;              /* what to do, malloc'ed */
	struct strv errors;     /* the first real error lines (at most 5) */
};
void kbuild_diagnose(const char *log, struct kbuild_diag *d);
void kbuild_diag_free(struct kbuild_diag *d);
