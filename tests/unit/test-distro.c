/* Unit tests for source/distro.c (`fetch --source distro`): which package
 * and tarball a root's distribution has for a series, and the refusal to
 * install into an image. Fixture roots are built in a temp dir. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/util.h"
#include "source/distro.h"

static char *root;
static int rootfd = -1;

static void put(const char *rel, const char *text)
{
	_cleanup_free_ char *dir = xstrdup(rel);
	*strrchr(dir, '/') = '\0';
	int dfd = root_open_dir(root);
	assert_true(dfd >= 0);
	assert_int_equal(mkdir_p_at(dfd, dir + 1, 0755), 0);
	assert_true(write_file_atomic(dfd, rel + 1, text, strlen(text), 0644, WRITE_NOSYNC) >= 0);
	close(dfd);
}

static int setup(void **state)
{
	char tmpl[] = "/tmp/acso-unit-distro.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	root = xstrdup(tmpl);
	put("/proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
	rootfd = root_open_dir(root);
	return rootfd < 0;
}

static int teardown(void **state)
{
	close(rootfd);
	rm_rf_at(AT_FDCWD, root);
	free(root);
	return 0;
}

static void test_not_debian(void **state)
{
	put("/etc/os-release", "ID=fedora\nID_LIKE=\"rhel centos\"\n");
	struct distro_src d;
	struct acso_err e = {0};
	assert_int_equal(distro_find(rootfd, NULL, &d, &e), -ACSO_E_UNSUPPORTED);
	assert_string_equal(e.msg, "--source distro knows Debian and Ubuntu, not 'fedora'");
	distro_src_free(&d);
}

static void test_debian(void **state)
{
	put("/etc/os-release", "ID=debian\n");
	struct distro_src d;
	struct acso_err e = {0};
	/* the running series (6.1 from osrelease), not installed yet */
	assert_int_equal(distro_find(rootfd, NULL, &d, &e), 0);
	assert_string_equal(d.id, "debian");
	assert_string_equal(d.pkg, "linux-source-6.1");
	assert_string_equal(d.file, "/usr/src/linux-source-6.1.tar.xz");
	assert_false(d.installed);
	/* an image: acso does not run apt-get inside it */
	assert_int_equal(distro_install(root, &d, -1, &e), -ACSO_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "/usr/src/linux-source-6.1.tar.xz is not installed in"));
	assert_non_null(strstr(e.msg, "(install linux-source-6.1 there)"));
	assert_false(d.installed);
	distro_src_free(&d);
	put("/usr/src/linux-source-6.1.tar.xz", "x");
	assert_int_equal(distro_find(rootfd, NULL, &d, &e), 0);
	assert_true(d.installed);
	distro_src_free(&d);
}

static void test_ubuntu_series(void **state)
{
	/* Linux Mint 21's os-release: its kernels come from Ubuntu's archive */
	put("/etc/os-release", "NAME=\"Linux Mint\"\nID=linuxmint\nID_LIKE=\"ubuntu debian\"\n");
	struct kver want;
	struct acso_err e = {0};
	assert_int_equal(kver_parse("6.8", &want, &e), 0);
	struct distro_src d;
	assert_int_equal(distro_find(rootfd, &want, &d, &e), 0);
	assert_string_equal(d.id, "linuxmint");
	assert_string_equal(d.pkg, "linux-source-6.8.0"); /* ID_LIKE ubuntu: Ubuntu's name */
	distro_src_free(&d);
	put("/etc/os-release", "ID=debian\n");
	assert_int_equal(distro_find(rootfd, &want, &d, &e), 0);
	assert_string_equal(d.pkg, "linux-source-6.8");
	distro_src_free(&d);
	put("/etc/os-release", "ID=ubuntu\n");
	assert_int_equal(distro_find(rootfd, &want, &d, &e), 0);
	assert_string_equal(d.pkg, "linux-source-6.8.0");
	assert_string_equal(d.file, "/usr/src/linux-source-6.8.0/linux-source-6.8.0.tar.bz2");
	assert_false(d.installed);
	distro_src_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_debian),
		cmocka_unit_test(test_debian),
		cmocka_unit_test(test_ubuntu_series),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
