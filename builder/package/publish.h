/* publish.h — the writer side of the prebuilt channel: a flat, signed APT
 * repository over a directory of kernel packages (docs/guide.md, "Prebuilt
 * kernels"). The formats are apt's own and written by apt's own tools:
 * apt-ftparchive writes Packages and Release, gzip and xz compress, gpg
 * signs InRelease and Release.gpg and exports the public key users pin.
 * `acso publish` renders. Core: never prints. */
#pragma once
#include <stdbool.h>

#include "base/err.h"
#include "base/util.h"

#define PUBLISH_KEY_FILE "acso-prebuilt.gpg"
#define PUBLISH_VALID_DAYS 30
/* the metapackages' folder in the repository (made by publish) */
#define PUBLISH_META_DIR "acso-meta"

struct publish_opts {
	const char *gpg_home;  /* NULL: gpg's default */
	const char *key;       /* NULL: the first secret key of gpg_home */
	unsigned valid_days;   /* Valid-Until = Date + this many days (> 0) */
	unsigned keep;         /* > 0: keep only the newest N releases per architecture */
};

struct publish_result {
	struct strv releases;  /* "6.1.192-acso amd64", newest first */
	struct strv pruned;    /* files --keep removed, relative to dir */
	struct strv skipped;   /* "'x.deb': 'foo' is not a kernel package" */
	char *date, *valid_until; /* the Release's fields */
	char *key;             /* the key that signed (as given, or its fingerprint) */
};
void publish_result_free(struct publish_result *res);

/* The kernel releases in dir and its subdirectories (one level) as
 * "RELEASE ARCH", newest first, and the files of each in files[i] (joined
 * by '\n'). Non-kernel packages are described in skipped. Fails with
 * -ACSO_E_NOTFOUND when there is none. */
int publish_scan(const char *dir, struct strv *releases, struct strv *files, struct strv *skipped,
		 struct acso_err *e);

/* Make dir a flat APT repository: prune (o->keep), the metapackages
 * linux-image-acso-SERIES and linux-headers-acso-SERIES (depending on the
 * newest release of each series and architecture), Packages, Packages.gz,
 * Packages.xz, Release (Date, Valid-Until, hashes), InRelease,
 * Release.gpg and PUBLISH_KEY_FILE. Everything is made in a private
 * directory inside dir and renamed into place only when all of it,
 * signatures included, was made: a failed publish leaves the repository
 * as it was (files --keep removed stay removed). */
int publish_repo(const char *dir, const struct publish_opts *o, struct publish_result *res, struct acso_err *e);
