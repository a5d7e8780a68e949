/* Unit tests for user.c: who invoked acso (SUDO_USER behind root, or
 * ourselves) and the work directory that follows the user under sudo.
 * Runs as root, as the whole suite does (tests/README.md). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/user.h"
#include "base/util.h"

static void test_not_under_sudo(void **state)
{
	unsetenv("SUDO_USER");
	struct acso_user u;
	struct acso_err e = {0};
	assert_int_equal(user_invoking(&u, &e), 0);
	assert_false(u.sudo);
	assert_int_equal(u.uid, geteuid());
	struct passwd *pw = getpwuid(geteuid());
	assert_non_null(pw);
	assert_string_equal(u.name, pw->pw_name);
}

static void test_sudo_user(void **state)
{
	assert_int_equal(geteuid(), 0); /* the suite runs as root */
	struct passwd *pw = getpwnam("nobody");
	assert_non_null(pw);
	uid_t nobody = pw->pw_uid;
	gid_t nogroup = pw->pw_gid;
	char *home = xstrdup(pw->pw_dir);
	setenv("SUDO_USER", "nobody", 1);
	struct acso_user u;
	struct acso_err e = {0};
	assert_int_equal(user_invoking(&u, &e), 0);
	assert_true(u.sudo);
	assert_int_equal(u.uid, nobody);
	assert_int_equal(u.gid, nogroup);
	assert_string_equal(u.name, "nobody");
	assert_string_equal(u.home, home);
	free(home);
	unsetenv("SUDO_USER");
}

static void test_sudo_user_root_or_empty(void **state)
{
	struct acso_user u;
	setenv("SUDO_USER", "root", 1);
	assert_int_equal(user_invoking(&u, NULL), 0);
	assert_false(u.sudo);
	setenv("SUDO_USER", "", 1);
	assert_int_equal(user_invoking(&u, NULL), 0);
	assert_false(u.sudo);
	unsetenv("SUDO_USER");
}

static void test_sudo_user_unknown(void **state)
{
	setenv("SUDO_USER", "acso-no-such-user-x", 1);
	struct acso_user u;
	struct acso_err e = {0};
	assert_int_equal(user_invoking(&u, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "SUDO_USER 'acso-no-such-user-x' is not a user of this system"));
	unsetenv("SUDO_USER");
}

static void test_work_dir_follows_sudo(void **state)
{
	struct acso_user u = {.sudo = true};
	snprintf(u.home, sizeof(u.home), "/home/alice");
	char *w = user_sudo_work_dir(&u, "/root/.cache/acso", "/root");
	assert_non_null(w);
	assert_string_equal(w, "/home/alice/.cache/acso");
	free(w);
	/* a work dir that is not root's default stays */
	assert_null(user_sudo_work_dir(&u, "/srv/acso", "/root"));
	/* not under sudo: nothing changes */
	u.sudo = false;
	assert_null(user_sudo_work_dir(&u, "/root/.cache/acso", "/root"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_under_sudo),
		cmocka_unit_test(test_sudo_user),
		cmocka_unit_test(test_sudo_user_root_or_empty),
		cmocka_unit_test(test_sudo_user_unknown),
		cmocka_unit_test(test_work_dir_follows_sudo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
