/* hostsetup.h — the seed guide's first steps for `acso setup`: which KVM
 * and libvirt packages this release still lacks and the apt-get that
 * installs them, whether the user is in the libvirt group and the usermod
 * that adds them; both through chroot for an image root. Core: never
 * prints; the commands' output goes to log_fd. */
#pragma once
#include <stdbool.h>

#include "base/err.h"
#include "base/util.h"

struct setup_plan {
	/* packages */
	char *distro;             /* os-release's name for the system */
	bool vm_tools;            /* in: also ovmf and virt-manager (the VM's UEFI firmware, a GUI) */
	struct strv pkgs;         /* what this release calls for */
	struct strv missing;      /* ... and dpkg does not list as installed */
	struct strv apt;          /* apt-get install -y MISSING; empty: nothing to install */
	/* the group */
	int member;               /* 1 in the group, 0 not, -1 no such group */
	struct strv usermod;      /* usermod -a -G libvirt USER; empty: a member already */
};
void setup_plan_free(struct setup_plan *p);

/* Packages: read ROOT's os-release and dpkg status. Returns 0,
 * -ACSO_E_UNSUPPORTED for a system without apt (p->distro names it), or
 * the error of reading os-release. */
int setup_plan_packages(const char *root, int rootfd, struct setup_plan *p, struct acso_err *e);

/* Is user a member of group per ROOT/etc/group? -1: no such group. */
int etc_group_has(int rootfd, const char *group, const char *user);

/* The libvirt group for user. */
void setup_plan_group(const char *root, int rootfd, const char *user, struct setup_plan *p);

/* Run p->apt (non-interactive) or p->usermod. */
int setup_run(const struct strv *argv, int log_fd, struct acso_err *e);
