/* distro.h — `acso fetch --source distro`: the distribution's own kernel
 * source (Debian/Ubuntu linux-source-X.Y through apt), for users who want
 * their distro's patches plus ACS. apt verified the package; dpkg --verify
 * checks the tarball still matches what dpkg installed. */
#pragma once
#include "cli/acso.h"
#include "source/fetch.h"

#define DISTRO_DRY_RUN 1

/* 0 with res filled, DISTRO_DRY_RUN after printing what would happen,
 * or a negative code with e. want: a series X.Y or NULL (the running one). */
int distro_fetch(struct acso_ctx *ctx, const struct kver *want, const struct fetch_opts *fo,
		 struct fetch_result *res, struct acso_err *e);
