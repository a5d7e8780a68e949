/* user.h — who invoked acso: under sudo the user behind it (SUDO_USER, from
 * the password database), else ourselves. The one place that reads SUDO_*. */
#pragma once
#include <stdbool.h>
#include <limits.h>
#include <sys/types.h>

struct acso_err;

struct acso_user {
	bool sudo;              /* running as root for another user */
	uid_t uid;
	gid_t gid;
	char name[64];
	char home[PATH_MAX];
};

/* Fill *u. Under sudo (effective uid 0, SUDO_USER set and not root) the user
 * SUDO_USER names; -ENOENT with a message in e when the password database has
 * no such user (or it maps to uid 0). Otherwise the effective user, sudo
 * false (name and home empty when the database does not know it). */
int user_invoking(struct acso_user *u, struct acso_err *e);

/* The work directory a command uses when none was given: the invoking
 * user's under sudo (every command, issue 12), so that `sudo acso run` and
 * `sudo acso install` work where the user's own `acso build` does, and the
 * build, dropped to the user, can enter it (root's ~ is 0700). default_dir is the
 * directory computed from $HOME (root's under sudo); returns a new string,
 * or NULL to keep default_dir. */
char *user_sudo_work_dir(const struct acso_user *u, const char *default_dir, const char *root_home);
