/* user.c — see user.h. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/user.h"
#include "base/fileio.h"
#include "base/util.h"

static void fill(struct acso_user *u, const struct passwd *pw)
{
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	snprintf(u->home, sizeof(u->home), "%s", pw->pw_dir);
}

int user_invoking(struct acso_user *u, struct acso_err *e)
{
	memset(u, 0, sizeof(*u));
	u->uid = geteuid();
	u->gid = getegid();
	const char *su = getenv("SUDO_USER");
	if (u->uid == 0 && su && *su && strcmp(su, "root")) {
		struct passwd *pw = getpwnam(su);
		if (!pw || pw->pw_uid == 0)
			return err_set(e, -ENOENT, "SUDO_USER '%s' is not a user of this system", su);
		fill(u, pw);
		u->sudo = true;
		return 0;
	}
	struct passwd *pw = getpwuid(u->uid);
	if (pw)
		fill(u, pw);
	return 0;
}

char *user_sudo_work_dir(const struct acso_user *u, const char *default_dir, const char *root_home)
{
	if (!u->sudo || !root_home || !startswith(default_dir, root_home))
		return NULL;
	_cleanup_free_ char *cache = path_join(u->home, ".cache");
	return path_join(cache, "acso");
}
