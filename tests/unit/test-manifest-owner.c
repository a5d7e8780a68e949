/* Unit test for kbplan_collect's hand-over of the manifest to the build user
 * (issue 15, A1): root writes WORK/build/REL/manifest.json in a directory
 * the user owns, then gives the file to the user. The user may swap the name
 * for a symlink between the rename and the chown: the chown must reach the
 * file root wrote, never the link's target. A racing child swaps a symlink
 * to a root-owned decoy in, without pause, while root collects many times:
 * the decoy keeps its owner (a chown by path loses this race in a few
 * rounds). Runs as root, like the fast tier. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/util.h"
#include "kernel/kbplan.h"
#include "package/manifest.h"
#include "unit-tmp.h"

#define ROUNDS 60

static pid_t racer = -1;

static int teardown(void **state)
{
	if (racer > 0) {
		kill(racer, SIGKILL);
		waitpid(racer, NULL, 0);
	}
	return rm_tmp(state);
}

static void test_manifest_chown_never_follows(void **state)
{
	if (geteuid() != 0)
		fail_msg("this test must run as root");
	/* on a disk, not tmpfs: the directory fsync after the rename is the
	 * window a user has in real life */
	char tmpl[] = "/var/tmp/acso-mown.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	g_tmp = xstrdup(tmpl);
	const char *dir = g_tmp;
	unit_put(dir, "decoy", "secret\n");
	unit_put(dir, "src/linux/Makefile", "");
	unit_put(dir, "src/linux/.config", "CONFIG_64BIT=y\n");
	unit_put(dir, "pkg/DEBIAN/control", "Package: linux-image-6.1.1-acso\nVersion: 6.1.1-acso-1\n"
		 "Architecture: amd64\nMaintainer: x <x@example.org>\nDescription: k\n");
	_cleanup_free_ char *pkg = path_join(dir, "pkg"), *deb = path_join(dir, "image.deb");
	const char *argv[] = {"dpkg-deb", "--root-owner-group", "-Zgzip", "--build", pkg, deb, NULL};
	struct acso_err se = {0};
	if (spawn_check(argv, &(struct spawn_opts){.log_fd = -1, .quiet = true}, &se) < 0)
		fail_msg("dpkg-deb: %s", se.msg);
	_cleanup_free_ char *debdata = NULL;
	size_t deblen;
	assert_int_equal(read_file_at(AT_FDCWD, deb, 1 << 20, &debdata, &deblen), 0);
	_cleanup_close_ int srcfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *builddir = path_join(dir, "build");
	assert_int_equal(mkdir(builddir, 0755), 0);
	_cleanup_free_ char *out = xasprintf("%s/build/6.1.1-acso", dir);
	_cleanup_free_ char *decoy = xasprintf("%s/decoy", dir);
	assert_int_equal(mkdir(out, 0755), 0);
	assert_int_equal(chown(out, 65534, 65534), 0);
	racer = fork();
	assert_true(racer >= 0);
	if (racer == 0) {
		int ofd = open(out, O_PATH | O_DIRECTORY);
		for (;;) {
			symlinkat(decoy, ofd, "m.lnk");
			renameat(ofd, "m.lnk", ofd, MANIFEST_NAME);
		}
	}
	struct kbplan p = {0};
	snprintf(p.src, sizeof(p.src), "%s/src/linux", dir);
	p.version = xstrdup("6.1.1");
	p.release = xstrdup("6.1.1-acso");
	p.pkgversion = xstrdup("6.1.1-acso-1");
	p.build_dir = xasprintf("%s/build", dir);
	p.out_dir = xstrdup(out);
	p.config_path = xasprintf("%s/src/linux/.config", dir); /* kept beside the packages */
	p.log_path = xasprintf("%s/build.log", dir);
	struct kbplan_in in = { .localversion = "-acso", .now = time(NULL) - 60 };
	struct kbplan_user u = { .drop = true, .uid = 65534, .gid = 65534, .name = "nobody" };
	struct kbplan_result res = {0};
	int refused = 0, done = 0;
	struct stat st;
	for (int i = 0; i < ROUNDS; i++) {
		assert_true(write_file_atomic(srcfd, "src/linux-image-6.1.1-acso_6.1.1-acso-1_amd64.deb", debdata, deblen,
					      0644, WRITE_NOSYNC) >= 0);
		struct manifest m;
		struct acso_err e = {0};
		int r = kbplan_collect(&p, &in, &u, &res, &m, &e);
		manifest_free(&m);
		if (r == -ACSO_E_UNSAFE && strstr(e.msg, "not the file just written"))
			refused++;
		else if (r == 0)
			done++;
		else
			fail_msg("round %d: %d (%s)", i, r, e.msg);
		assert_int_equal(stat(decoy, &st), 0);
		if (st.st_uid != 0)
			fail_msg("round %d: the decoy was given to uid %u through the user's link", i, (unsigned)st.st_uid);
	}
	print_message("%d rounds: %d handed over, %d refused (the link was there)\n", ROUNDS, done, refused);
	free(p.version);
	free(p.release);
	free(p.pkgversion);
	free(p.build_dir);
	free(p.out_dir);
	free(p.log_path);
	free(p.config_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_manifest_chown_never_follows, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
