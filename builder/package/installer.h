/* installer.h — the install step shared by `acso install` and `acso
 * prebuilt`: the checks against the root (not the running release, space
 * on /boot), ONE dpkg -i of the plan (its packages staged inside a system
 * image first) under the work-dir lock, the record in WORK/state, and
 * DKMS's status for the new kernel. Core: never prints; dpkg's lines go
 * to the caller's callback. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "base/util.h"
#include "package/install.h"
#include "package/sign.h"

struct manifest;
/* The packages of the last build: WORK/build/current/manifest.json, and
 * their paths. */
int install_manifest_paths(const char *work_dir, struct manifest *m, struct strv *paths, struct acso_err *e);
/* A package of the plan that the manifest lists must still be what the
 * build wrote (its SHA-256); -ACSO_E_HASH. */
int install_check_manifest(const struct install_plan *p, const struct manifest *m, struct acso_err *e);

/* The running kernel's release in the root (install_running_release), or
 * for "/" this machine's uname. Malloc'ed, or NULL. */
char *install_running_or_host(const char *root, int rootfd);

/* Refuse the running release (-ACSO_E_STATE) and a /boot without room for
 * the plan (-ACSO_E_TOOBIG, *boot_free says what is free). */
int install_preflight(const char *root, int rootfd, const struct install_plan *p, uint64_t *boot_free,
		      struct acso_err *e);

struct install_run {
	/* in */
	enum install_mode mode;
	void (*on_line)(void *priv, const char *line);  /* dpkg's output */
	void *priv;
	/* out */
	bool locked;              /* the work-dir lock was taken (a failure after it is dpkg's) */
	bool record_failed;       /* installed, but /var/lib/acso/installed.json was not written */
	struct acso_err record_err;
	struct sign_install signing; /* Secure Boot: the new kernel signed (sign_install_free) */
};
/* Lock the work dir, run ONE dpkg -i of the plan, record it, and with
 * Secure Boot on sign the new kernel (run->signing). Returns 0, the
 * lock's error, or dpkg's (-ACSO_E_CHILD with its exit status in e). */
int install_run_dpkg(const char *root, const char *work_dir, const struct install_plan *p, struct install_run *run,
		     struct acso_err *e);

/* `dkms status -k RELEASE` in the root, its lines in *lines; *bad: a module
 * is not installed. Returns 0, -ENOENT when the root has no dkms to ask, or
 * the error of running it. */
int install_dkms_status(const char *root, int rootfd, enum install_mode mode, const char *release, struct strv *lines,
			bool *bad);
