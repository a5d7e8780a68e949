/* distro.h — `acso fetch --source distro`: the distribution's own kernel
 * source (Debian/Ubuntu linux-source-X.Y through apt), for users who want
 * their distro's patches plus ACS. apt verified the package; dpkg --verify
 * checks the tarball still matches what dpkg installed. Core: never prints
 * or exits; the command decides about --dry-run and root and says so. */
#pragma once
#include <stdbool.h>

#include "source/fetch.h"
#include "source/version.h"

struct acso_err;

/* The source package of a series on this root. */
struct distro_src {
	char id[64];     /* os-release ID */
	char *pkg;       /* linux-source-X.Y (Debian) or linux-source-X.Y.0 (Ubuntu) */
	char *file;      /* its tarball, a root path: /usr/src/linux-source-... */
	bool installed;  /* the tarball is there */
};
/* Find the package for want (a series X.Y, or NULL: the running kernel's)
 * on ROOT. -ACSO_E_UNSUPPORTED on a system that is not Debian-like. */
int distro_find(int rootfd, const struct kver *want, struct distro_src *d, struct acso_err *e);
/* apt-get install d->pkg (its output to log_fd); only for root "/": in an
 * image -ACSO_E_NOTFOUND says to install it there. The caller checks that
 * it runs as root. */
int distro_install(const char *root, struct distro_src *d, int log_fd, struct acso_err *e);
/* dpkg --verify the installed package, then unpack its tarball as a
 * fetch_local source ("distro") into the work dir. */
int distro_fetch(const char *root, const struct distro_src *d, const struct fetch_opts *fo,
		 struct fetch_result *res, struct acso_err *e);
void distro_src_free(struct distro_src *d);
