/* Unit tests for deb.c (reading .deb files with libarchive) and
 * manifest.c (manifest.json beside the built packages). Packages are made
 * with dpkg-deb and ar; broken ones by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "package/deb.h"
#include "base/err.h"
#include "base/fileio.h"
#include "package/install.h"
#include "package/manifest.h"
#include "package/publish.h"
#include "base/spawn.h"
#include "base/util.h"

static char *dir;

static void put(const char *name, const char *text)
{
	_cleanup_free_ char *p = path_join(dir, name);
	_cleanup_free_ char *parent = xstrdup(p);
	*strrchr(parent, '/') = '\0';
	assert_int_equal(mkdir_p_at(AT_FDCWD, parent, 0755), 0);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void run(const char *const argv[])
{
	struct acso_err e = {0};
	if (spawn_check(argv, &(struct spawn_opts){.log_fd = -1, .quiet = true, .cwd = dir}, &e) < 0)
		fail_msg("%s: %s", argv[0], e.msg);
}

/* A real package made by dpkg-deb, with a given control text and compressor. */
static char *make_deb(const char *name, const char *control, const char *comp)
{
	_cleanup_free_ char *pkgdir = xasprintf("%s/pkg-%s", dir, name);
	rm_rf_at(AT_FDCWD, pkgdir);
	_cleanup_free_ char *ctl = xasprintf("pkg-%s/DEBIAN/control", name);
	put(ctl, control);
	_cleanup_free_ char *f = xasprintf("pkg-%s/boot/vmlinuz-x", name);
	put(f, "kernel");
	char *out = xasprintf("%s/%s.deb", dir, name);
	_cleanup_free_ char *zopt = xasprintf("-Z%s", comp);
	const char *argv[] = {"dpkg-deb", "--root-owner-group", zopt, "--build", pkgdir, out, NULL};
	run(argv);
	return out;
}

static const char *CONTROL =
	"Package: linux-image-6.1.192-acso\nSource: linux-upstream\nVersion: 6.1.192-acso-1\n"
	"Architecture: amd64\nMaintainer: x <x@example.org>\nDescription: Linux kernel\n multi-line\n";

static int setup(void **state)
{
	char tmpl[] = "/tmp/acso-unit.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	dir = xstrdup(tmpl);
	return 0;
}

static int teardown(void **state)
{
	rm_rf_at(AT_FDCWD, dir);
	free(dir);
	return 0;
}

static void test_read_real(void **state)
{
	static const char *const comps[] = {"xz", "gzip", "zstd", "none"};
	for (size_t i = 0; i < ARRAY_SIZE(comps); i++) {
		_cleanup_free_ char *name = xasprintf("ok-%s", comps[i]);
		_cleanup_free_ char *p = make_deb(name, CONTROL, comps[i]);
		struct deb_info d;
		struct acso_err e = {0};
		if (deb_read(p, &d, &e) < 0)
			fail_msg("%s: %s", comps[i], e.msg);
		assert_string_equal(d.package, "linux-image-6.1.192-acso");
		assert_string_equal(d.version, "6.1.192-acso-1");
		assert_string_equal(d.architecture, "amd64");
		assert_string_equal(d.source, "linux-upstream");
		struct stat st;
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(d.size, (uint64_t)st.st_size);
		/* The same digest as sha256sum's. */
		const char *argv[] = {"sha256sum", p, NULL};
		struct buf out = {0};
		assert_int_equal(spawn_check(argv, &(struct spawn_opts){.log_fd = -1, .capture = &out}, NULL), 0);
		assert_memory_equal(buf_str(&out), d.sha256, 64);
		buf_free(&out);
		deb_info_free(&d);
	}
}

static void expect_bad(const char *path, int code, const char *msg_part)
{
	struct deb_info d;
	struct acso_err e = {0};
	assert_int_equal(deb_read(path, &d, &e), code);
	if (msg_part && !strstr(e.msg, msg_part))
		fail_msg("'%s' lacks '%s'", e.msg, msg_part);
	assert_null(d.package);
}

static void test_read_bad(void **state)
{
	_cleanup_free_ char *missing = path_join(dir, "none.deb");
	expect_bad(missing, -ENOENT, NULL);
	expect_bad(dir, -ACSO_E_PARSE, "not a regular file");
	put("text.deb", "this is not an archive\n");
	_cleanup_free_ char *text = path_join(dir, "text.deb");
	expect_bad(text, -ACSO_E_PARSE, "not a Debian package");
	put("empty.deb", "");
	_cleanup_free_ char *empty = path_join(dir, "empty.deb");
	expect_bad(empty, -ACSO_E_PARSE, "not a Debian package");

	/* Hand-made ar archives: (what is wrong, members, expected detail). */
	put("x/data", "hello\n");
	put("ct/other", "x\n");
	put("cv/control", "Package: a\nArchitecture: amd64\n");
	put("control.tar.xz", "not xz at all");
	const char *tar1[] = {"tar", "-C", "ct", "-czf", "noctl.tar.gz", "./other", NULL};
	run(tar1);
	const char *tar2[] = {"tar", "-C", "cv", "-czf", "control.tar.gz", "./control", NULL};
	run(tar2);
	const char *tar3[] = {"mv", "noctl.tar.gz", "ct/control.tar.gz", NULL};
	run(tar3);
	static const struct { const char *binary, *m1, *m2, *detail; } cases[] = {
		{NULL, "x/data", NULL, "debian-binary"},                          /* no debian-binary first */
		{"2.0\n", "debian-binary", NULL, "no control.tar"},                /* no control.tar */
		{"2.0\n", "debian-binary", "ct/control.tar.gz", "no control file"},/* control.tar without control */
		{"2.0\n", "debian-binary", "control.tar.xz", "control.tar"},       /* control.tar is garbage */
		{"2.0\n", "debian-binary", "control.tar.gz", "no Version"},        /* control without Version */
		{"3.0\n", "debian-binary", "control.tar.gz", "debian-binary"},     /* another format */
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (cases[i].binary)
			put("debian-binary", cases[i].binary);
		_cleanup_free_ char *name = xasprintf("bad%zu.deb", i);
		const char *ar[] = {"ar", "rc", name, cases[i].m1, cases[i].m2, NULL};
		run(ar);
		_cleanup_free_ char *p = path_join(dir, name);
		expect_bad(p, -ACSO_E_PARSE, cases[i].detail);
	}
}

static void test_control(void **state)
{
	struct deb_info d = {0};
	struct acso_err e = {0};
	assert_int_equal(deb_parse_control("Package: a\nVersion: 1\nArchitecture: all\n\nPackage: b\n", &d, &e), 0);
	assert_string_equal(d.package, "a");
	deb_info_free(&d);
	assert_int_equal(deb_parse_control("Package: a\nPackage: b\nVersion: 1\nArchitecture: all\n", &d, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "twice"));
	deb_info_free(&d);
	assert_int_equal(deb_parse_control("Package: a b\nVersion: 1\nArchitecture: all\n", &d, &e), -ACSO_E_PARSE);
	deb_info_free(&d);
	assert_int_equal(deb_parse_control("Package a\n", &d, &e), -ACSO_E_PARSE);
	deb_info_free(&d);
	assert_int_equal(deb_parse_control("Version: 1\nArchitecture: all\n", &d, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "no Package"));
	deb_info_free(&d);
	assert_int_equal(deb_parse_control("Package: a\nVersion: 1\n", &d, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "no Architecture"));
	deb_info_free(&d);
}

static void test_kind(void **state)
{
	char rel[64];
	assert_int_equal(deb_kind("linux-image-6.1.192-acso", rel, sizeof(rel)), DEB_IMAGE);
	assert_string_equal(rel, "6.1.192-acso");
	assert_int_equal(deb_kind("linux-headers-6.1.192-acso", rel, sizeof(rel)), DEB_HEADERS);
	assert_string_equal(rel, "6.1.192-acso");
	assert_int_equal(deb_kind("linux-image-6.1.192-acso-dbg", rel, sizeof(rel)), DEB_DBG);
	assert_string_equal(rel, "6.1.192-acso");
	assert_int_equal(deb_kind("linux-libc-dev", rel, sizeof(rel)), DEB_LIBC_DEV);
	assert_int_equal(deb_kind("linux-image-amd64", rel, sizeof(rel)), DEB_OTHER);
	assert_int_equal(deb_kind("linux-image-", rel, sizeof(rel)), DEB_OTHER);
	assert_int_equal(deb_kind("bash", NULL, 0), DEB_OTHER);
}

static void test_manifest(void **state)
{
	_cleanup_free_ char *p = make_deb("m", CONTROL, "xz");
	struct manifest m = {.release = xstrdup("6.1.192-acso"), .version = xstrdup("6.1.192"),
			     .localversion = xstrdup("-acso"), .debian_version = xstrdup("6.1.192-acso-1"),
			     .reuse_key = xstrdup("0123456789abcdef"), .config_sha256 = xstrdup("c0ffee"),
			     .objects = 968, .jobs = 4, .seconds = 1.5};
	struct deb_info d;
	assert_int_equal(deb_read(p, &d, NULL), 0);
	manifest_add(&m, "m.deb", &d);
	struct acso_err e = {0};
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(manifest_write(dfd, dir, &m, &e), 0);
	_cleanup_free_ char *mp = path_join(dir, MANIFEST_NAME);
	struct manifest back;
	assert_int_equal(manifest_read(mp, &back, &e), 0);
	assert_string_equal(back.release, "6.1.192-acso");
	assert_string_equal(back.debian_version, "6.1.192-acso-1");
	assert_int_equal(back.objects, 968);
	assert_int_equal(back.jobs, 4);
	assert_string_equal(back.reuse_key, "0123456789abcdef");
	assert_string_equal(back.config_sha256, "c0ffee");
	assert_int_equal(back.n, 1);
	assert_string_equal(back.pkgs[0].file, "m.deb");
	assert_string_equal(back.pkgs[0].info.sha256, m.pkgs[0].info.sha256);
	assert_int_equal(back.pkgs[0].info.size, m.pkgs[0].info.size);
	/* the packages as listed: intact; one changed or gone is named */
	assert_int_equal(manifest_verify(dir, &back, &e), 0);
	FILE *f = fopen(p, "a");
	assert_non_null(f);
	fputc('x', f);
	fclose(f);
	assert_int_equal(manifest_verify(dir, &back, &e), -ACSO_E_HASH);
	assert_non_null(strstr(e.msg, "m.deb' changed since the build"));
	assert_int_equal(unlink(p), 0);
	assert_int_equal(manifest_verify(dir, &back, &e), -ENOENT);
	manifest_free(&back);
	manifest_free(&m);

	_cleanup_free_ char *missing = path_join(dir, "nope.json");
	assert_int_equal(manifest_read(missing, &back, &e), -ENOENT);
	static const char *const bad[] = {
		"[]", "{", "{\"packages\": []}", "{\"release\": \"r\"}",
		"{\"release\": \"r\", \"packages\": [{\"file\": \"a.deb\"}]}",
		"{\"release\": \"r\", \"packages\": [{\"file\": \"../a.deb\", \"package\": \"p\", \"version\": \"1\", "
		"\"architecture\": \"amd64\", \"size\": 1, \"sha256\": \"" "0000000000000000000000000000000000000000000000000000000000000000\"}]}",
		"{\"release\": \"r\", \"packages\": [{\"file\": \"a.deb\", \"package\": \"p\", \"version\": \"1\", "
		"\"architecture\": \"amd64\", \"size\": 1, \"sha256\": \"XYZ\"}]}",
		"{\"release\": \"r\", \"packages\": [{\"file\": \"a.deb\", \"package\": \"p\", \"version\": \"1\", "
		"\"architecture\": \"amd64\", \"size\": -1, \"sha256\": \"" "0000000000000000000000000000000000000000000000000000000000000000\"}]}",
		"{\"release\": \"r\", \"packages\": []} trailing",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		put("bad.json", bad[i]);
		_cleanup_free_ char *bp = path_join(dir, "bad.json");
		if (manifest_read(bp, &back, &e) != -ACSO_E_PARSE)
			fail_msg("accepted bad manifest %zu: %s", i, bad[i]);
		assert_null(back.release);
	}
}

/* A package of the channel: make_deb, moved to dir/chan/REL. */
static void chan_deb(const char *rel, const char *pkg, const char *version, const char *arch)
{
	_cleanup_free_ char *ctl = xasprintf("Package: %s\nVersion: %s\nArchitecture: %s\n"
					     "Maintainer: x <x@example.org>\nDescription: d\n", pkg, version, arch);
	_cleanup_free_ char *built = make_deb("c", ctl, "gzip");
	_cleanup_free_ char *to = xasprintf("%s/chan/%s", dir, rel);
	_cleanup_free_ char *parent = xstrdup(to);
	*strrchr(parent, '/') = '\0';
	assert_int_equal(mkdir_p_at(AT_FDCWD, parent, 0755), 0);
	assert_int_equal(rename(built, to), 0);
}

static void test_publish_scan(void **state)
{
	_cleanup_free_ char *chan = path_join(dir, "chan");
	struct strv rel = {0}, files = {0}, skipped = {0};
	struct acso_err e = {0};
	/* nothing to publish */
	assert_int_equal(mkdir_p_at(AT_FDCWD, chan, 0755), 0);
	assert_int_equal(publish_scan(chan, &rel, &files, &skipped, &e), -ACSO_E_NOTFOUND);

	chan_deb("b/linux-headers-6.1.192-acso_6.1.192-acso-1_amd64.deb", "linux-headers-6.1.192-acso", "6.1.192-acso-1", "amd64");
	chan_deb("a/linux-image-6.1.192-acso_6.1.192-acso-1_amd64.deb", "linux-image-6.1.192-acso", "6.1.192-acso-1", "amd64");
	chan_deb("linux-image-6.1.9-acso_6.1.9-acso-1_amd64.deb", "linux-image-6.1.9-acso", "6.1.9-acso-1", "amd64");
	chan_deb("linux-libc-dev_6.1.192-acso-1_amd64.deb", "linux-libc-dev", "6.1.192-acso-1", "amd64");
	chan_deb("linux-libc-dev_6.2.1-1_amd64.deb", "linux-libc-dev", "6.2.1-1", "amd64");
	chan_deb("linux-image-7.0.0-rc2-acso_7.0.0~rc2-1_arm64.deb", "linux-image-7.0.0-rc2-acso", "7.0.0~rc2-1", "arm64");
	chan_deb("hello_1.0_amd64.deb", "hello", "1.0", "amd64");
	chan_deb("a/deep/er/linux-image-9.9.9_9.9.9-1_amd64.deb", "linux-image-9.9.9", "9.9.9-1", "amd64");

	assert_int_equal(publish_scan(chan, &rel, &files, &skipped, &e), 0);
	/* one entry per release and architecture, newest first (6.1.192 > 6.1.9) */
	assert_int_equal(rel.n, 3);
	assert_string_equal(rel.v[0], "7.0.0-rc2-acso arm64");
	assert_string_equal(rel.v[1], "6.1.192-acso amd64");
	assert_string_equal(rel.v[2], "6.1.9-acso amd64");
	/* image, headers and the linux-libc-dev of the same Debian version */
	assert_non_null(strstr(files.v[1], "a/linux-image-6.1.192-acso_6.1.192-acso-1_amd64.deb"));
	assert_non_null(strstr(files.v[1], "b/linux-headers-6.1.192-acso_6.1.192-acso-1_amd64.deb"));
	assert_non_null(strstr(files.v[1], "linux-libc-dev_6.1.192-acso-1_amd64.deb"));
	assert_null(strstr(files.v[1], "6.2.1"));
	/* too deep: not seen; not a kernel: said */
	assert_int_equal(skipped.n, 1);
	assert_string_equal(skipped.v[0], "'hello_1.0_amd64.deb': 'hello' is not a kernel package (published as it is)");
	strv_free(&rel);
	strv_free(&files);
	strv_free(&skipped);
}

static void test_uninstall_check(void **state)
{
	_cleanup_free_ char *root = path_join(dir, "uroot");
	put("uroot/boot/vmlinuz-6.1.0-13-amd64", "k");
	put("uroot/boot/vmlinuz-6.1.192-acso", "k");
	put("uroot/proc/sys/kernel/osrelease", "6.1.0-13-amd64\n");
	struct installed_entry v[2] = {
		{.release = (char *)"6.1.192-acso", .root = root},
		{.release = (char *)"6.6.5-acso", .root = (char *)"/elsewhere"},
	};
	struct installed_state st = {.v = v, .n = 2};
	struct installed_entry *en;
	int fd = root_open_dir(root);
	assert_true(fd >= 0);
	/* the last one acso installed into this root, another kernel boots */
	assert_int_equal(uninstall_check(fd, false, &st, root, NULL, &en), UNINSTALL_OK);
	assert_ptr_equal(en, &v[0]);
	/* only what acso recorded for this root */
	assert_int_equal(uninstall_check(fd, false, &st, root, "6.6.5-acso", &en), UNINSTALL_NOT_OURS);
	assert_null(en);
	/* never the running kernel */
	put("uroot/proc/sys/kernel/osrelease", "6.1.192-acso\n");
	assert_int_equal(uninstall_check(fd, false, &st, root, "6.1.192-acso", &en), UNINSTALL_RUNNING);
	/* never the last kernel in /boot */
	put("uroot/proc/sys/kernel/osrelease", "6.1.0-13-amd64\n");
	_cleanup_free_ char *other = path_join(root, "boot/vmlinuz-6.1.0-13-amd64");
	assert_int_equal(unlink(other), 0);
	assert_int_equal(uninstall_check(fd, false, &st, root, NULL, &en), UNINSTALL_LAST_KERNEL);
	close(fd);
	/* the boot parameters go when no entry for the root is left */
	assert_true(installed_none_left(&st, root, &v[0]));
	assert_false(installed_none_left(&st, root, NULL));
	assert_false(installed_none_left(&st, "/elsewhere", &v[0]));
}

/* The ledger lives root's, beneath the root; its names go to dpkg --purge
 * as root, so only acso's own packages load (issue 15, item 3). */
static void test_installed_ledger(void **state)
{
	assert_true(installed_name_ok("6.1.192-acso", "linux-image-6.1.192-acso"));
	assert_true(installed_name_ok("6.1.192-acso", "linux-headers-6.1.192-acso"));
	assert_true(installed_name_ok("6.1.192-acso", "linux-image-6.1.192-acso-dbg"));
	assert_false(installed_name_ok("6.1.192-acso", "--force-remove-essential"));
	assert_false(installed_name_ok("6.1.192-acso", "libc6"));
	assert_false(installed_name_ok("6.1.192-acso", "linux-libc-dev"));
	assert_false(installed_name_ok("6.1.192-acso", "linux-image-6.1.0-13-amd64"));
	assert_false(installed_name_ok("6.1.0-13-amd64", "linux-image-6.1.0-13-amd64"));
	assert_false(installed_name_ok("-acso", "linux-image--acso"));
	assert_false(installed_name_ok("6.1 -acso", "linux-image-6.1 -acso"));

	_cleanup_free_ char *root = path_join(dir, "lroot");
	put("lroot/etc/hostname", "x\n");
	int fd = root_open_dir(root);
	assert_true(fd >= 0);
	struct acso_err e = {0};
	struct installed_state st;
	assert_int_equal(installed_load(fd, &st, &e), 0); /* none yet */
	assert_int_equal(st.n, 0);
	struct installed_entry v = {.release = (char *)"6.1.192-acso", .root = root, .installed_at = (char *)""};
	strv_push(&v.packages, "linux-image-6.1.192-acso");
	strv_push(&v.versions, "6.1.192-1");
	struct installed_state one = {.v = &v, .n = 1};
	assert_int_equal(installed_save(fd, &one, &e), 0);
	strv_free(&v.packages);
	strv_free(&v.versions);
	_cleanup_free_ char *ledger = path_join(root, "var/lib/acso/installed.json");
	struct stat sb;
	assert_int_equal(stat(ledger, &sb), 0);
	assert_int_equal(installed_load(fd, &st, &e), 0);
	assert_int_equal(st.n, 1);
	assert_string_equal(st.v[0].packages.v[0], "linux-image-6.1.192-acso");
	installed_free(&st);
	/* a hostile ledger: refused whole, nothing of it reaches dpkg */
	put("lroot/var/lib/acso/installed.json",
	    "{\"installed\":[{\"release\":\"6.1.192-acso\",\"root\":\"/\",\"packages\":["
	    "{\"package\":\"linux-image-6.1.192-acso\"},{\"package\":\"--force-remove-essential\"},"
	    "{\"package\":\"libc6\"}]}]}\n");
	assert_int_equal(installed_load(fd, &st, &e), -ACSO_E_UNSAFE);
	assert_non_null(strstr(e.msg, "'--force-remove-essential'"));
	assert_int_equal(st.n, 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_real),
		cmocka_unit_test(test_read_bad),
		cmocka_unit_test(test_control),
		cmocka_unit_test(test_kind),
		cmocka_unit_test(test_manifest),
		cmocka_unit_test(test_publish_scan),
		cmocka_unit_test(test_uninstall_check),
		cmocka_unit_test(test_installed_ledger),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
