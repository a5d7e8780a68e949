/* install.h — install and remove the ACS kernel packages: which packages
 * go in (image + headers in ONE dpkg transaction so DKMS builds, not
 * linux-libc-dev or -dbg unless asked), the safety checks (not the running
 * release, space on /boot, never the last kernel), how dpkg is run for a
 * system image (--root), and the record of what acso installed
 * (ROOT/var/lib/acso/installed.json). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "package/deb.h"
#include "base/util.h"

struct acso_err;

struct install_pkg {
	char *path;
	struct deb_info info;
	enum deb_kind kind;
};

struct install_plan {
	struct install_pkg *v;     /* what goes in, image first */
	size_t n;
	struct strv skipped;       /* "linux-libc-dev (pass --with-libc-dev)" */
	char release[128];
	char architecture[32];
	uint64_t boot_needed;      /* bytes on /boot, estimated */
};

/* Read each .deb and build the plan. Errors: a path that does not exist or
 * is not a .deb, a package that is not a kernel package, packages of two
 * releases or architectures, no linux-image package. */
int install_plan_build(struct install_plan *p, char *const *paths, size_t n, bool with_libc_dev,
		       bool with_dbg, struct acso_err *e);
void install_plan_free(struct install_plan *p);

/* The running kernel's release as seen in the root: /proc/sys/kernel/osrelease
 * inside rootfd (a snapshot or the live /proc). Malloc'ed, or NULL. */
char *install_running_release(int rootfd);

/* Refuse the release of the running kernel (-ACSO_E_STATE). */
int install_check_running(const struct install_plan *p, const char *running, struct acso_err *e);

/* Free bytes on /boot in the root (or on / when /boot is no directory). */
int install_boot_free(int rootfd, uint64_t *bytes, struct acso_err *e);

/* How dpkg reaches the root: the host itself, a system image with its own
 * dpkg (chroot), or a bare tree (dpkg --root, for throwaway roots). */
enum install_mode { INSTALL_HOST, INSTALL_CHROOT, INSTALL_DPKG_ROOT };
enum install_mode install_mode_for(const char *root, int rootfd);

/* The dpkg argv: "-i" with package paths (as seen from inside the root for
 * chroot), or "--purge" with package names. */
void install_dpkg_argv(enum install_mode mode, const char *root, const char *action,
		       char *const *items, size_t n, struct strv *argv);

/* Kernel releases with a /boot/vmlinuz-<release> in the root. */
int install_boot_kernels(int rootfd, struct strv *releases);

/* The record of what acso installed: ROOT/var/lib/acso/installed.json,
 * beneath --root and root's (never the user-writable work dir: its names
 * go to dpkg --purge as root). Loading refuses an entry with a package
 * installed_name_ok does not accept. */
struct installed_entry {
	char *release, *root, *installed_at;
	struct strv packages;   /* names */
	struct strv versions;   /* parallel to packages */
};
struct installed_state {
	struct installed_entry *v;
	size_t n;
};
int installed_load(int rootfd, struct installed_state *s, struct acso_err *e);
int installed_save(int rootfd, const struct installed_state *s, struct acso_err *e);
/* Is package one acso installs for release: linux-image-REL,
 * linux-headers-REL or linux-image-REL-dbg, REL a release with acso's
 * "-acso" local version (never an option, never another package)? */
bool installed_name_ok(const char *release, const char *package);
/* Add or replace the entry for (root, release); takes nothing from p. */
void installed_record(struct installed_state *s, const char *root, const struct install_plan *p);
/* The entry for (root, release), or with release NULL the last one for root. */
struct installed_entry *installed_find(struct installed_state *s, const char *root, const char *release);
void installed_remove(struct installed_state *s, struct installed_entry *entry);
void installed_free(struct installed_state *s);

/* What `acso uninstall` may remove: the entry acso recorded for release want
 * (NULL: the last one for root), never the running kernel, never the last
 * kernel in /boot. live: root is the running system (uname is the fallback
 * for the running release). *en is the entry when one was found. */
enum uninstall_verdict { UNINSTALL_OK, UNINSTALL_NOT_OURS, UNINSTALL_RUNNING, UNINSTALL_LAST_KERNEL };
enum uninstall_verdict uninstall_check(int rootfd, bool live, struct installed_state *st, const char *root,
				       const char *want, struct installed_entry **en);
/* Is no entry for root left but `except` (NULL: none)? Then the boot
 * parameters go too. */
bool installed_none_left(const struct installed_state *st, const char *root, const struct installed_entry *except);
