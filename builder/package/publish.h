/* publish.h — the writer side of a prebuilt channel (docs/prebuilt-index.md):
 * the index over a directory of kernel packages, its text (checked against
 * the reader), and its detached gpg signature. `acso publish` renders. */
#pragma once
#include "base/err.h"
#include "base/util.h"
#include "package/index.h"

/* "debian-12" (ID-VERSION_ID) from the root's os-release; NULL when none. */
char *publish_default_distro(int rootfd);

/* The index of the .deb files in dir and its subdirectories (one level),
 * sorted by path: one kernel per (release, architecture), linux-libc-dev
 * joined to the kernel of the same Debian version. Files left out are
 * described in skipped ("'x.deb': 'foo' is not a kernel package"). Fails
 * with -ACSO_E_NOTFOUND when no kernel package is found. Free ix with
 * index_free (also on failure). */
int publish_build_index(const char *dir, const char *distro, const char *acs, struct index *ix, struct strv *skipped,
			struct acso_err *e);

/* index.json's text; fails (-ACSO_E_PARSE...) when the reader would not
 * accept it (a --distro or --acs-patch it cannot carry). */
int publish_index_text(const struct index *ix, char **text, struct acso_err *e);

/* dir/index.json.asc: gpg --armor --detach-sign of dir/index.json, written
 * to .part and renamed. gpg_home and key may be NULL (gpg's defaults). */
int publish_sign_index(const char *dir, const char *gpg_home, const char *key, struct acso_err *e);
