/* sign.h — an installed kernel image signed for Secure Boot with the MOK:
 * sbsign writes the signed image beside the original, sbverify checks it
 * against the certificate, and only then is it renamed over the original,
 * so /boot never holds a half-signed image. An image that sbverify already
 * accepts is left alone. sbsigntool is the field's tool for this (Ubuntu's
 * and Debian's own signing uses it). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "machine/secureboot.h"
#include "package/mok.h"

struct acso_err;

#define PATH_MAX_SIGN 4096

enum sign_outcome {
	SIGN_DONE,          /* signed now (or would be, with dry_run) */
	SIGN_ALREADY,       /* sbverify accepted it already: left alone */
};

/* Does the image start like a PE/COFF file ("MZ", then "PE\0\0" at the
 * offset stored at 0x3c)? An x86 bzImage is one when built with
 * CONFIG_EFI_STUB; without it there is nothing shim could load. */
bool sign_is_pe(const unsigned char *head, size_t len);

/* Sign root/image (an absolute path below the root, "/boot/vmlinuz-REL")
 * with m (checked by mok_check before). With dry_run only the checks run
 * (PE image, already signed?). Errors: -ENOENT (no image), -ACSO_E_UNSUPPORTED
 * (not a PE image), -ACSO_E_NOTFOUND (sbsign/sbverify missing: install
 * sbsigntool), -ACSO_E_CHILD (sbsign failed, e.g. /boot full; the original
 * is untouched and the temporary file removed). */
int sign_image(int rootfd, const char *image, const struct mok *m, bool dry_run,
	       enum sign_outcome *out, struct acso_err *e);

/* `acso sign RELEASE` and the install step: the whole job on one release. */
struct sign_job {
	/* in */
	const char *release;  /* "6.1.192-acso": /boot/vmlinuz-RELEASE */
	bool dry_run;
	bool live;            /* the root is the running system: mokutil may be asked */
	uid_t owner_uid;      /* who must own the key (geteuid(): root on a real system) */
	const char *hostname; /* for a new key's name */
	/* out */
	struct sb_state sb;
	struct mok mok;       /* the key used (or, with dry_run and none, the one to make) */
	bool created;         /* the MOK was made now (or would be, with dry_run) */
	char image[PATH_MAX_SIGN];
	enum sign_outcome outcome;
	enum mok_enrol enrol; /* MOK_ENROL_UNKNOWN unless live */
};
/* A release is a file name: not empty, no '/', not "." or "..", printable. */
bool sign_release_ok(const char *release);
/* Read the Secure Boot state, find (or make) the MOK, check it, sign the
 * image, ask whether the MOK is enrolled. j->mok is filled as far as the
 * job got; sign_job_free() either way. Errors: -EINVAL (a bad release),
 * mok_check's, sign_image's, mok_create's. */
int sign_job_run(int rootfd, struct sign_job *j, struct acso_err *e);
void sign_job_free(struct sign_job *j);

/* The kernel hook that keeps acso's kernels signed when a package is
 * reinstalled: /etc/kernel/postinst.d/zz-acso-sign below the root, which
 * runs `acso sign "$1"` for releases with "-acso" in them. Written
 * atomically, mode 0755. Returns 1 when it was written (with dry_run:
 * would be), 0 when it was there already, or an error. */
#define SIGN_HOOK_PATH "/etc/kernel/postinst.d/zz-acso-sign"
int sign_hook_install(int rootfd, bool dry_run, struct acso_err *e);

/* The install step's signing (after dpkg, as root): with Secure Boot on in
 * the root, the new kernel signed (sign_job_run) and the kernel hook
 * written; with it off, nothing. */
struct sign_install {
	bool secure_boot;     /* on in the root: the rest was tried */
	int rc;               /* 0, or sign_job_run's / sign_hook_install's error (in err) */
	struct sign_job job;  /* the key, the outcome, the enrolment */
	int hook;             /* sign_hook_install's 1 / 0 */
	struct acso_err err;
};
void sign_installed(const char *root, const char *release, struct sign_install *s);
void sign_install_free(struct sign_install *s);
