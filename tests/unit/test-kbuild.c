/* Unit tests for kbuild.c: the make command line, release and Debian
 * version, preflight, progress lines and the diagnosis of failed logs; and
 * for kbplan.c: who builds, the plan's stops, reuse of the last build. */
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

#include "base/err.h"
#include "base/fileio.h"
#include "kernel/kbplan.h"
#include "kernel/kbuild.h"
#include "kernel/kcheck.h"
#include "package/deb.h"
#include "package/manifest.h"
#include "base/util.h"
#include "unit-tmp.h"

static char *tmpdir(void)
{
	char tmpl[] = "/tmp/acso-unit.XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return xstrdup(d);
}

static void put(const char *dir, const char *name, const char *text)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	const char *slash = strrchr(name, '/');
	if (slash) {
		_cleanup_free_ char *sub = xstrndup(name, (size_t)(slash - name));
		assert_true(mkdir_p_at(fd, sub, 0755) == 0);
		_cleanup_close_ int sfd = openat(fd, sub, O_RDONLY | O_DIRECTORY);
		assert_true(write_file_atomic(sfd, slash + 1, text, strlen(text), 0644, WRITE_NOSYNC) >= 0);
		return;
	}
	assert_true(write_file_atomic(fd, name, text, strlen(text), 0644, WRITE_NOSYNC) >= 0);
}

static bool has(const struct strv *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], str))
			return true;
	return false;
}

/* kcheck.c: a skipped check says why and runs nothing; a tree where make
 * fails reports "failed" with the log. */
static void test_compile_check(void **state)
{
	struct acso_err e = {0};
	const char *st = NULL;
	json_object *j = compile_check("/nonexistent-acso-tree", "/dev/null", "--dry-run", &st, &e);
	assert_string_equal(st, "skipped");
	assert_string_equal(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
			    "{\"status\":\"skipped\",\"reason\":\"--dry-run\"}");
	json_object_put(j);
	char tmpl[] = "/tmp/acso-unit-kcheck.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	_cleanup_free_ char *log = path_join(tmpl, "check.log");
	j = compile_check(tmpl, log, NULL, &st, &e); /* no Makefile: make fails */
	assert_string_equal(st, "failed");
	json_object *v;
	assert_true(json_object_object_get_ex(j, "log", &v));
	assert_string_equal(json_object_get_string(v), log);
	assert_true(json_object_object_get_ex(j, "reason", &v));
	assert_string_equal(json_object_get_string(v), e.msg);
	json_object_put(j);
	rm_rf_at(AT_FDCWD, tmpl);
}

static void test_command_plain(void **state)
{
	struct strv argv = {0}, env = {0};
	struct kbuild_opts o = {.src_dir = "/s", .localversion = "-acso", .pkgversion = "6.1.192-acso-1", .cpus = 2};
	assert_int_equal(kbuild_command(&o, &argv, &env, NULL), 2);
	assert_string_equal(argv.v[0], "make");
	assert_true(has(&argv, "-j2"));
	assert_true(has(&argv, "bindeb-pkg"));
	assert_true(has(&argv, "LOCALVERSION=-acso"));
	assert_true(has(&argv, "KDEB_PKGVERSION=6.1.192-acso-1"));
	for (size_t i = 0; i < argv.n; i++)
		assert_false(startswith(argv.v[i], "CC="));
	assert_int_equal(env.n, 0); /* nothing added: a plain build is plain make */
	strv_free(&argv);
	strv_free(&env);

	o.jobs = 7;
	o.nokerneldbg = true;
	assert_int_equal(kbuild_command(&o, &argv, &env, NULL), 7);
	assert_true(has(&argv, "-j7"));
	assert_true(has(&env, "DEB_BUILD_PROFILES=pkg.linux-upstream.nokerneldbg"));
	strv_free(&argv);
	strv_free(&env);

	o.jobs = 0;
	o.ccache = true;
	assert_int_equal(kbuild_command(&o, &argv, &env, NULL), 2);
	assert_true(has(&argv, "CC=ccache gcc"));
	/* two release trees share hits: paths relative to their parent, the
	 * cwd not hashed; the cache is ccache's default */
	assert_true(has(&env, "CCACHE_NOHASHDIR=1"));
	assert_false(has(&env, "CCACHE_DIR=/c"));
	strv_free(&argv);
	strv_free(&env);
	o.ccache_basedir = "/w/src";
	o.ccache_dir = "/c";
	assert_int_equal(kbuild_command(&o, &argv, &env, NULL), 2);
	assert_true(has(&env, "CCACHE_BASEDIR=/w/src"));
	assert_true(has(&env, "CCACHE_DIR=/c"));
	strv_free(&argv);
	strv_free(&env);
	o.ccache = false;
	assert_int_equal(kbuild_command(&o, &argv, &env, NULL), 2);
	assert_false(has(&env, "CCACHE_BASEDIR=/w/src"));
	assert_false(has(&env, "CCACHE_NOHASHDIR=1"));
	strv_free(&argv);
	strv_free(&env);
}

static void test_command_distcc(void **state)
{
	struct strv argv = {0}, env = {0};
	struct acso_err e = {0};
	struct kbuild_opts o = {.src_dir = "/s", .localversion = "-acso", .pkgversion = "1-1", .cpus = 2,
				.distcc_hosts = "127.0.0.1:3632/3 box2/8 box3", .distcc_log = "/w/d.log"};
	assert_int_equal(kbuild_command(&o, &argv, &env, &e), 15);
	assert_true(has(&argv, "-j15"));
	assert_true(has(&argv, "CC=distcc gcc"));
	assert_true(has(&env, "DISTCC_HOSTS=127.0.0.1:3632/3 box2/8 box3"));
	assert_true(has(&env, "DISTCC_LOG=/w/d.log"));
	strv_free(&argv);
	strv_free(&env);

	o.ccache = true;
	assert_int_equal(kbuild_command(&o, &argv, &env, &e), 15);
	assert_true(has(&argv, "CC=ccache gcc"));
	assert_true(has(&env, "CCACHE_PREFIX=distcc"));
	strv_free(&argv);
	strv_free(&env);

	o.distcc_hosts = "good/2 b@d";
	assert_int_equal(kbuild_command(&o, &argv, &env, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "'b@d'"));
	strv_free(&argv);
	strv_free(&env);
	assert_int_equal(kbuild_distcc_slots("  ", &e), -EINVAL);
	assert_int_equal(kbuild_distcc_slots("h/0", &e), -EINVAL);
	assert_int_equal(kbuild_distcc_slots("h/x", &e), -EINVAL);
	assert_int_equal(kbuild_distcc_slots("localhost", &e), 2);
	assert_int_equal(kbuild_distcc_slots("@h/5,lzo", &e), 5);

	struct kbuild_opts ic = {.src_dir = "/s", .localversion = "-acso", .pkgversion = "1-1", .cpus = 2, .icecc = true};
	assert_int_equal(kbuild_command(&ic, &argv, &env, &e), 8);
	assert_true(has(&argv, "CC=icecc gcc"));
	strv_free(&argv);
	strv_free(&env);
}

static void test_release(void **state)
{
	_cleanup_free_ char *d = tmpdir();
	char *v = NULL, *r = NULL;
	struct acso_err e = {0};
	assert_int_equal(kbuild_release(d, "-acso", &v, &r, &e), -ENOENT);
	put(d, "Makefile", "# SPDX\nVERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\nNAME = x\n");
	assert_int_equal(kbuild_release(d, "-acso", &v, &r, &e), 0);
	assert_string_equal(v, "6.1.192");
	assert_string_equal(r, "6.1.192-acso");
	free(v);
	free(r);
	put(d, ".config", "CONFIG_X=y\nCONFIG_LOCALVERSION=\"-loc\"\n");
	put(d, "localversion-b", "-b\n");
	put(d, "localversion-a", " -a ");
	assert_int_equal(kbuild_release(d, "-acso", &v, &r, &e), 0);
	assert_string_equal(r, "6.1.192-a-b-loc-acso");
	free(v);
	free(r);
	put(d, "Makefile", "VERSION = 6\nPATCHLEVEL = 8\nSUBLEVEL = 0\nEXTRAVERSION = -rc4\n");
	_cleanup_free_ char *lva = path_join(d, "localversion-a");
	unlink(lva);
	assert_int_equal(kbuild_release(d, "", &v, &r, &e), 0);
	assert_string_equal(v, "6.8.0-rc4");
	free(v);
	free(r);
	put(d, "Makefile", "VERSION = 6\nPATCHLEVEL = 8\nSUBLEVEL = 0\nEXTRAVERSION = $(shell x)\n");
	assert_int_equal(kbuild_release(d, "", &v, &r, &e), -ACSO_E_PARSE);
	put(d, "Makefile", "all:\n\techo\n");
	assert_int_equal(kbuild_release(d, "", &v, &r, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "not a kernel tree"));
	rm_rf_at(AT_FDCWD, d);
}

static void test_pkgversion(void **state)
{
	char *s = kbuild_pkgversion("6.1.192", "-acso", NULL);
	assert_string_equal(s, "6.1.192-acso-1");
	free(s);
	s = kbuild_pkgversion("6.1.192", "-acso", "6.1.192-acso-3");
	assert_string_equal(s, "6.1.192-acso-4");
	free(s);
	s = kbuild_pkgversion("6.1.192", "-acso", "6.1.191-acso-3"); /* another version: start over */
	assert_string_equal(s, "6.1.192-acso-1");
	free(s);
	s = kbuild_pkgversion("6.1.192", "-acso", "6.1.192-acso-x");
	assert_string_equal(s, "6.1.192-acso-1");
	free(s);
	s = kbuild_pkgversion("6.8.0-rc4", "-acso", NULL);
	assert_string_equal(s, "6.8.0~rc4-acso-1");
	free(s);
}

static void test_nokerneldbg(void **state)
{
	_cleanup_free_ char *d = tmpdir();
	assert_false(kbuild_knows_nokerneldbg(d));
	put(d, "scripts/package/mkdebian", "#!/bin/sh\necho old\n");
	assert_false(kbuild_knows_nokerneldbg(d));
	put(d, "scripts/package/debian/rules", "ifeq (,$(filter pkg.linux-upstream.nokerneldbg,$(DEB_BUILD_PROFILES)))\n");
	assert_true(kbuild_knows_nokerneldbg(d));
	assert_false(kbuild_knows_nokerneldbg("/nonexistent"));
	rm_rf_at(AT_FDCWD, d);
}

static void test_missing(void **state)
{
	_cleanup_free_ char *d = tmpdir();
	struct strv m = {0};
	/* An include dir without the headers: both -dev packages are named. */
	int n = kbuild_missing_packages("CONFIG_X=y\n", d, &m);
	assert_true(n >= 2);
	assert_true(has(&m, "libelf-dev"));
	assert_true(has(&m, "libssl-dev"));
	strv_free(&m);
	put(d, "gelf.h", "");
	_cleanup_close_ int fd = open(d, O_RDONLY | O_DIRECTORY);
	assert_int_equal(mkdir_p_at(fd, "openssl", 0755), 0);
	put(d, "openssl/opensslv.h", "");
	/* A PATH without the tools: every program is missing; BTF wants pahole. */
	const char *old = getenv("PATH");
	_cleanup_free_ char *saved = old ? xstrdup(old) : NULL;
	setenv("PATH", d, 1);
	n = kbuild_missing_packages("CONFIG_DEBUG_INFO_BTF=y\n", d, &m);
	if (saved)
		setenv("PATH", saved, 1);
	assert_true(has(&m, "bc"));
	assert_true(has(&m, "flex"));
	assert_true(has(&m, "bison"));
	assert_true(has(&m, "fakeroot"));
	assert_true(has(&m, "dpkg-dev"));
	assert_false(has(&m, "libelf-dev"));
	strv_free(&m);
	rm_rf_at(AT_FDCWD, d);
}

static void test_estimate(void **state)
{
	uint64_t small = kbuild_estimate_objects("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\nCONFIG_S=\"y\"\n");
	assert_int_equal(small, 300 + 2 * 5 / 4); /* A and C; a string "y" is no symbol */
	assert_true(kbuild_estimate_objects(NULL) == 300);
	uint64_t plain = kbuild_disk_needed("CONFIG_A=y\n", 1000);
	uint64_t dbg = kbuild_disk_needed("CONFIG_DEBUG_INFO=y\n", 1000);
	assert_true(dbg > plain);
	assert_int_equal(kbuild_disk_needed("CONFIG_DEBUG_INFO=y\nCONFIG_DEBUG_INFO_NONE=y\n", 1000), plain);
}

static void test_lines(void **state)
{
	enum kbuild_phase ph = KB_PREPARE;
	/* bindeb-pkg runs dpkg-buildpackage first and compiles inside it
	 * (linux v6.1 scripts/Makefile.package, the bindeb-pkg rule): its
	 * lines open the build, they are not the packaging */
	kbuild_line("dpkg-buildpackage -r\"fakeroot -u\" -a$(cat debian/arch)  -b -nc -uc", &ph);
	kbuild_line("dpkg-buildpackage: info: source package linux-upstream", &ph);
	assert_int_equal(ph, KB_PREPARE);
	assert_false(kbuild_line("  HOSTCC  scripts/basic/fixdep", &ph));
	assert_int_equal(ph, KB_PREPARE);
	assert_true(kbuild_line("  CC      mm/swap.o", &ph));
	assert_int_equal(ph, KB_COMPILE);
	/* a multi-object module links while the rest still compiles */
	kbuild_line("  LD [M]  fs/fat/fat.o", &ph);
	assert_int_equal(ph, KB_COMPILE);
	assert_true(kbuild_line("  CC [M]  drivers/vfio/vfio.o", &ph));
	assert_false(kbuild_line("  CC      kernel/bounds.s", &ph));
	assert_false(kbuild_line("  LD      vmlinux", &ph));
	assert_int_equal(ph, KB_LINK);
	kbuild_line("  MODPOST vmlinux.symvers", &ph);
	assert_int_equal(ph, KB_LINK);
	kbuild_line("  MODPOST Module.symvers", &ph);
	assert_int_equal(ph, KB_MODULES);
	kbuild_line("dpkg-deb: building package 'linux-image-6.1.192-acso' in '../x.deb'.", &ph);
	assert_int_equal(ph, KB_PACKAGE);
	kbuild_line("  LD      vmlinux", &ph); /* never backwards */
	assert_int_equal(ph, KB_PACKAGE);
	assert_string_equal(kbuild_phase_name(KB_COMPILE), "compile");
}

static void diag(const char *log, enum kbuild_failure kind, const char *what, const char *fix_part)
{
	struct kbuild_diag d;
	kbuild_diagnose(log, &d);
	assert_int_equal(d.kind, kind);
	if (what)
		assert_string_equal(d.what, what);
	assert_non_null(d.fix);
	if (fix_part && !strstr(d.fix, fix_part))
		fail_msg("fix '%s' lacks '%s'", d.fix, fix_part);
	assert_true(d.errors.n >= 1);
	for (size_t i = 0; i < d.errors.n; i++)
		assert_false(startswith(d.errors.v[i], "make[") && d.errors.n > 1 && i == 0 && kind != KB_FAIL_UNKNOWN);
	kbuild_diag_free(&d);
}

static void test_diagnose(void **state)
{
	diag("  CC      init/main.o\nmake[2]: *** No rule to make target 'debian/canonical-certs.pem', needed by 'certs/x509_certificate_list'.  Stop.\n"
	     "make[1]: *** [scripts/Makefile.build:500: certs] Error 2\n",
	     KB_FAIL_CERTS, "debian/canonical-certs.pem", "SYSTEM_TRUSTED_KEYS \"\"");
	diag("make[2]: *** No rule to make target 'debian/certs/debian-uefi-certs.pem', needed by 'certs/x509_certificate_list'.  Stop.\n",
	     KB_FAIL_CERTS, "debian/certs/debian-uefi-certs.pem", "SYSTEM_TRUSTED_KEYS");
	diag("make[2]: *** No rule to make target 'debian/canonical-revoked-certs.pem', needed by 'certs/x509_revocation_list'.  Stop.\n",
	     KB_FAIL_REVOKED_CERTS, "debian/canonical-revoked-certs.pem", "SYSTEM_REVOCATION_KEYS");
	diag("  BTF     .btf.vmlinux.bin.o\npahole (pahole) is not available\nFailed to generate BTF for vmlinux\n",
	     KB_FAIL_PAHOLE, "dwarves", "dwarves");
	diag("  CC      kernel/time/timeconst.h\n/bin/sh: 1: bc: not found\nmake[2]: *** [Kbuild:24: include/generated/timeconst.h] Error 127\n",
	     KB_FAIL_TOOL, "bc", "apt-get install bc");
	diag("/bin/sh: 1: flex: not found\n", KB_FAIL_TOOL, "flex", "apt-get install flex");
	diag("scripts/sign-file.c:25:10: fatal error: openssl/opensslv.h: No such file or directory\n",
	     KB_FAIL_TOOL, "libssl-dev", "libssl-dev");
	diag("tools/objtool/elf.c:10:10: fatal error: gelf.h: No such file or directory\n", KB_FAIL_TOOL, "libelf-dev", NULL);
	diag("  LD      vmlinux\nld: final link failed: No space left on device\nmake: *** [Makefile:1234: vmlinux] Error 1\n",
	     KB_FAIL_NOSPACE, NULL, "free space");
	diag("drivers/pci/quirks.c:5000:1: error: expected ';' before '}' token\nmake[3]: *** [x] Error 1\n",
	     KB_FAIL_UNKNOWN, NULL, "quirks.c");

	/* The first real error wins over the consequential make lines. */
	struct kbuild_diag d;
	kbuild_diagnose("make[3]: *** [a] Error 1\nfoo.c:1:1: error: bad\nmake[2]: *** [b] Error 2\n", &d);
	assert_int_equal(d.errors.n, 1);
	assert_string_equal(d.errors.v[0], "foo.c:1:1: error: bad");
	kbuild_diag_free(&d);
	/* Only consequential lines: they are shown. */
	kbuild_diagnose("all fine\nmake: *** [Makefile:1: x] Error 2\n", &d);
	assert_int_equal(d.errors.n, 1);
	assert_int_equal(d.kind, KB_FAIL_UNKNOWN);
	kbuild_diag_free(&d);
	/* At most five lines, each bounded. */
	struct buf b = {0};
	for (int i = 0; i < 20; i++)
		buf_printf(&b, "x.c:%d: error: %0500d\n", i, 0);
	kbuild_diagnose(buf_str(&b), &d);
	assert_int_equal(d.errors.n, 5);
	assert_true(strlen(d.errors.v[0]) <= 400);
	kbuild_diag_free(&d);
	buf_free(&b);
	/* An empty log. */
	kbuild_diagnose("", &d);
	assert_int_equal(d.errors.n, 0);
	assert_int_equal(d.kind, KB_FAIL_UNKNOWN);
	kbuild_diag_free(&d);
	/* "xbc: command not found" is not bc. */
	kbuild_diagnose("sh: xbc: command not found\n", &d);
	assert_int_equal(d.kind, KB_FAIL_UNKNOWN);
	kbuild_diag_free(&d);
}

static void test_plan_who(void **state)
{
	assert_int_equal(kbplan_who(false, "alice", false), KBP_AS_SELF);
	assert_int_equal(kbplan_who(false, NULL, false), KBP_AS_SELF);
	assert_int_equal(kbplan_who(true, "alice", false), KBP_AS_SUDO_USER);
	assert_int_equal(kbplan_who(true, "alice", true), KBP_AS_SUDO_USER);
	/* plain root (or sudo from root) is refused unless asked for */
	assert_int_equal(kbplan_who(true, NULL, false), KBP_REFUSE_ROOT);
	assert_int_equal(kbplan_who(true, "", false), KBP_REFUSE_ROOT);
	assert_int_equal(kbplan_who(true, "root", false), KBP_REFUSE_ROOT);
	assert_int_equal(kbplan_who(true, "root", true), KBP_AS_SELF);
	assert_true(kbplan_localversion_valid("-acso"));
	assert_true(kbplan_localversion_valid("-vfio.1+x"));
	assert_false(kbplan_localversion_valid(""));
	assert_false(kbplan_localversion_valid("-ACSO"));
	assert_false(kbplan_localversion_valid("-a b"));
	assert_false(kbplan_localversion_valid("-a/../b"));
}

/* A work dir with a tree work/src/linux-6.1.192 and, when config, its .config. */
static char *plan_work(const char *config)
{
	char *w = tmpdir();
	g_tmp = xstrdup(w);
	_cleanup_free_ char *src = path_join(w, "src/linux-6.1.192");
	assert_int_equal(mkdir_p_at(AT_FDCWD, src, 0755), 0);
	put(src, "Makefile", "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\n");
	if (config)
		put(src, ".config", config);
	return w;
}

/* The manifest of an earlier build with key in work/build/6.1.192-acso. */
static void plan_prior(const char *w, const char *key, const char *config, bool keep_deb)
{
	_cleanup_free_ char *out = path_join(w, "build/6.1.192-acso");
	_cleanup_free_ char *src = path_join(w, "src/linux-6.1.192");
	char real[PATH_MAX];
	assert_non_null(realpath(src, real));
	assert_int_equal(mkdir_p_at(AT_FDCWD, out, 0755), 0);
	const char *deb = "not really a deb";
	put(out, "linux-image_1_amd64.deb", deb);
	struct deb_info info = {.package = xstrdup("linux-image-6.1.192-acso"), .version = xstrdup("6.1.192-acso-1"),
				.architecture = xstrdup("amd64"), .size = strlen(deb)};
	char ds[HASH_HEX_MAX];
	hash_buf_hex("sha256", deb, strlen(deb), ds);
	snprintf(info.sha256, sizeof(info.sha256), "%s", ds);
	char cs[HASH_HEX_MAX];
	hash_buf_hex("sha256", config, strlen(config), cs);
	struct manifest m = {.release = xstrdup("6.1.192-acso"), .version = xstrdup("6.1.192"),
			     .localversion = xstrdup("-acso"), .debian_version = xstrdup("6.1.192-acso-1"),
			     .source_dir = xstrdup(real), .log = xstrdup("/l"), .built_at = xstrdup("2026-01-01T00:00:00Z"),
			     .config_sha256 = xstrdup(cs), .reuse_key = xstrdup(key), .objects = 10, .jobs = 2};
	manifest_add(&m, "linux-image_1_amd64.deb", &info);
	_cleanup_close_ int dfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(manifest_write(dfd, out, &m, NULL), 0);
	manifest_free(&m);
	if (!keep_deb) {
		_cleanup_free_ char *debp = path_join(out, "linux-image_1_amd64.deb");
		assert_int_equal(unlink(debp), 0);
	}
}

static void test_plan_stops(void **state)
{
	struct acso_err e = {0};
	struct kbplan p;
	_cleanup_free_ char *w = plan_work(NULL);
	struct kbplan_in in = {.work_dir = w, .localversion = "-acso", .cpus = 2, .now = 1};
	/* no WORK/src/current */
	assert_true(kbplan_make(&in, &p, &e) < 0);
	assert_int_equal(p.stop, KBP_NO_TREE);
	assert_non_null(strstr(p.src_arg, "/src/current"));
	kbplan_free(&p);
	/* a tree without .config */
	_cleanup_free_ char *src = path_join(w, "src/linux-6.1.192");
	in.source_dir = src;
	assert_true(kbplan_make(&in, &p, &e) < 0);
	assert_int_equal(p.stop, KBP_NO_CONFIG);
	assert_string_equal(p.release, "6.1.192-acso");
	kbplan_free(&p);
	/* not a kernel tree */
	put(src, "Makefile", "all:\n");
	assert_true(kbplan_make(&in, &p, &e) < 0);
	assert_int_equal(p.stop, KBP_BAD_TREE);
	kbplan_free(&p);
	rm_rf_at(AT_FDCWD, w);
}

static void test_plan_reuse(void **state)
{
	struct acso_err e = {0};
	struct kbplan p;
	const char *config = "CONFIG_X=y\n";
	_cleanup_free_ char *w = plan_work(config);
	_cleanup_free_ char *src = path_join(w, "src/linux-6.1.192");
	struct kbplan_in in = {.work_dir = w, .source_dir = src, .localversion = "-acso", .reuse_key = "k1",
			       .cpus = 2, .now = 1};
	plan_prior(w, "k1", config, true);
	assert_int_equal(kbplan_make(&in, &p, &e), 0);
	assert_int_equal(p.stop, KBP_REUSE);
	assert_string_equal(p.reused.debian_version, "6.1.192-acso-1");
	kbplan_free(&p);
	/* another key, no key, another .config, a package gone: no reuse */
	in.reuse_key = "k2";
	kbplan_make(&in, &p, &e);
	assert_int_not_equal(p.stop, KBP_REUSE);
	kbplan_free(&p);
	in.reuse_key = NULL;
	kbplan_make(&in, &p, &e);
	assert_int_not_equal(p.stop, KBP_REUSE);
	kbplan_free(&p);
	in.reuse_key = "k1";
	put(src, ".config", "CONFIG_X=m\n");
	kbplan_make(&in, &p, &e);
	assert_int_not_equal(p.stop, KBP_REUSE);
	kbplan_free(&p);
	put(src, ".config", config);
	plan_prior(w, "k1", config, false);
	kbplan_make(&in, &p, &e);
	assert_int_not_equal(p.stop, KBP_REUSE);
	/* past reuse: the next Debian version follows the last build's */
	if (p.pkgversion)
		assert_string_equal(p.pkgversion, "6.1.192-acso-2");
	kbplan_free(&p);
	rm_rf_at(AT_FDCWD, w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compile_check),
		cmocka_unit_test(test_command_plain),
		cmocka_unit_test(test_command_distcc),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_pkgversion),
		cmocka_unit_test(test_nokerneldbg),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_estimate),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_diagnose),
		cmocka_unit_test(test_plan_who),
		cmocka_unit_test_teardown(test_plan_stops, rm_tmp),
		cmocka_unit_test_teardown(test_plan_reuse, rm_tmp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
