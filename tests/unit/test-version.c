/* Unit tests for version.c: parsing, comparing, tarball names, and the
 * identification of running kernels from what they say about themselves. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/util.h"
#include "source/version.h"

static struct kver V(const char *s)
{
	struct kver v;
	assert_int_equal(kver_parse(s, &v, NULL), 0);
	return v;
}

static void test_parse(void **state)
{
	char b[KVER_STR_MAX];
	struct kver v = V("6.8");
	assert_int_equal(v.major, 6); assert_int_equal(v.minor, 8); assert_int_equal(v.sub, 0);
	kver_str(&v, b); assert_string_equal(b, "6.8");
	kver_release_str(&v, b); assert_string_equal(b, "6.8.0");
	v = V("6.8.0");
	kver_str(&v, b); assert_string_equal(b, "6.8");
	v = V("5.10.1");
	kver_str(&v, b); assert_string_equal(b, "5.10.1");
	kver_series_str(&v, b); assert_string_equal(b, "5.10");
	kver_series_dir(&v, b); assert_string_equal(b, "v5.x");
	kver_tarball_base(&v, b); assert_string_equal(b, "linux-5.10.1");
	v = V("7.3-rc4");
	assert_int_equal(v.kind, KVER_RC); assert_int_equal(v.rc, 4);
	kver_str(&v, b); assert_string_equal(b, "7.3-rc4");
	kver_release_str(&v, b); assert_string_equal(b, "7.3.0-rc4");
	kver_tarball_base(&v, b); assert_string_equal(b, "");
	v = V("next-20260925");
	assert_int_equal(v.kind, KVER_NEXT);
	kver_str(&v, b); assert_string_equal(b, "next-20260925");
	v = V("6.8"); kver_tarball_base(&v, b); assert_string_equal(b, "linux-6.8");
}

static void test_garbage(void **state)
{
	static const char *const bad[] = {
		"", "6", "6.", ".8", "6..8", "6.8.", "6.8.1.2", "v6.8", "6.8a", "-6.8", "+6.8",
		"06.8", "6.08", "6.8.01", "0.1", "6.8-rc", "6.8-rc0", "6.8.1-rc1", "6.8-rc01",
		"next-", "next-2026", "next-202609251", "next-x0260925", "99999.1", "6.65536",
		"6.8 ", " 6.8", "6.8\n", "6.8-acso", "linux-6.8", "\xff\xfe",
	};
	struct acso_err e = {0};
	struct kver v;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (kver_parse(bad[i], &v, &e) != -ACSO_E_PARSE)
			fail_msg("'%s' was accepted", bad[i]);
	}
	assert_non_null(strstr(e.msg, "is not a kernel version"));
	assert_int_equal(kver_parse(NULL, &v, &e), -ACSO_E_PARSE);
	assert_int_equal(kver_parse_series("6.8", &v, NULL), 0);
	assert_int_equal(kver_parse_series("6.8.1", &v, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "is not a kernel series"));
	assert_int_equal(kver_parse_series(NULL, &v, NULL), -ACSO_E_PARSE);
	assert_int_equal(kver_parse_series("x", &v, NULL), -ACSO_E_PARSE);
}

static void test_compare(void **state)
{
	struct kver a, b;
	a = V("5.10"); b = V("5.4"); assert_true(kver_cmp(&a, &b) > 0);
	a = V("6.8"); b = V("6.8.0"); assert_int_equal(kver_cmp(&a, &b), 0);
	a = V("6.8.1"); b = V("6.8"); assert_true(kver_cmp(&a, &b) > 0);
	a = V("7.3-rc4"); b = V("7.3"); assert_true(kver_cmp(&a, &b) < 0);
	a = V("7.3-rc4"); b = V("7.3-rc10"); assert_true(kver_cmp(&a, &b) < 0);
	a = V("7.3-rc4"); b = V("7.2.30"); assert_true(kver_cmp(&a, &b) > 0);
	a = V("next-20260925"); b = V("9.9"); assert_true(kver_cmp(&a, &b) > 0);
	assert_true(kver_cmp(&b, &a) < 0);
	b = V("next-20250101"); assert_true(kver_cmp(&a, &b) > 0);
	a = V("6.1.192"); b = V("6.1.99"); assert_true(kver_cmp(&a, &b) > 0);
	assert_true(kver_same_series(&a, &b));
	b = V("6.10"); assert_false(kver_same_series(&a, &b));
	b = V("next-20250101"); assert_false(kver_same_series(&a, &b));
}

static void test_tarball_names(void **state)
{
	struct kver v;
	char b[KVER_STR_MAX];
	assert_int_equal(kver_from_tarball("linux-6.8.tar.xz", &v), 0);
	kver_str(&v, b); assert_string_equal(b, "6.8");
	assert_int_equal(kver_from_tarball("linux-6.1.192.tar.xz", &v), 0);
	assert_int_equal(v.sub, 192);
	assert_int_equal(kver_from_tarball("linux-6.8.0.tar.xz", &v), -ACSO_E_PARSE);
	assert_int_equal(kver_from_tarball("linux-6.8.tar.gz", &v), -ACSO_E_PARSE);
	assert_int_equal(kver_from_tarball("linux-7.3-rc4.tar.xz", &v), -ACSO_E_PARSE);
	assert_int_equal(kver_from_tarball("patch-6.8.xz", &v), -ACSO_E_PARSE);
	assert_int_equal(kver_from_tarball("linux-.tar.xz", &v), -ACSO_E_PARSE);
	assert_int_equal(kver_from_tarball("linux-6.8.1.tar.xz.sign", &v), -ACSO_E_PARSE);
}

static void ident(const char *rel, const char *ver, const char *sig, const char *distro,
		  const char *series, const char *upstream)
{
	struct kident k;
	struct acso_err e = {0};
	char b[KVER_STR_MAX];
	if (kident_parse(rel, ver, sig, &k, &e) != 0)
		fail_msg("'%s': %s", rel, e.msg);
	assert_string_equal(k.distro, distro);
	kver_series_str(&k.series, b);
	assert_string_equal(b, series);
	if (upstream) {
		assert_true(k.upstream_known);
		kver_str(&k.upstream, b);
		assert_string_equal(b, upstream);
	} else {
		assert_false(k.upstream_known);
	}
}

static void test_ident(void **state)
{
	ident("5.3.0-24-generic", NULL, NULL, "ubuntu", "5.3", NULL);
	ident("5.3.0-24-generic", NULL, "Ubuntu 5.3.0-24.26-generic 5.3.13", "ubuntu", "5.3", "5.3.13");
	ident("Ubuntu 5.3.0-24.26-generic 5.3.13", NULL, NULL, "ubuntu", "5.3", "5.3.13");
	ident("6.1.0-21-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.90-1 (2024-05-03)", NULL, "debian", "6.1", "6.1.90");
	ident("6.1.0-21-amd64", NULL, NULL, "debian", "6.1", NULL);
	ident("#1 SMP PREEMPT_DYNAMIC Debian 6.1.90-1 (2024-05-03)", NULL, NULL, "debian", "6.1", "6.1.90");
	ident("Linux version 6.1.0-21-amd64 (debian-kernel@lists.debian.org) (gcc-12) #1 SMP PREEMPT_DYNAMIC Debian 6.1.90-1 (2024-05-03)",
	      NULL, NULL, "debian", "6.1", "6.1.90");
	ident("6.12.9+bpo-amd64", "#1 SMP Debian 6.12.9-1~bpo12+1 (2025-01-19)", NULL, "debian", "6.12", "6.12.9");
	ident("6.11.4-301.fc41.x86_64", NULL, NULL, "fedora", "6.11", "6.11.4");
	ident("6.11.6-arch1-1", NULL, NULL, "arch", "6.11", "6.11.6");
	ident("6.8.0-acso", NULL, NULL, "upstream", "6.8", "6.8");
	ident("6.6.5", NULL, NULL, "upstream", "6.6", "6.6.5");
	ident("7.3.0-rc4", NULL, NULL, "upstream", "7.3", "7.3-rc4");
	ident("6.1.0-18-cloud-amd64", NULL, NULL, "debian", "6.1", NULL);
	ident("5.15.0-91-lowlatency", "#101-Ubuntu SMP", NULL, "ubuntu", "5.15", NULL);
	ident("4.18.0-513.el8.x86_64", NULL, NULL, "rhel", "4.18", NULL);
	/* Issue 17: a non-zero sublevel is the upstream one on every
	 * distribution; X.Y.0 on an enterprise kernel is a frozen base. Real
	 * release strings, each from public material (found through the
	 * project's code search, which gives a file's text but not its
	 * repository and path, so each is named by what it quotes), or named in
	 * issue 17 and its brief. Fedora 40, quoted in issue 17. */
	ident("6.9.7-200.fc40.x86_64", NULL, NULL, "fedora", "6.9", "6.9.7");
	/* Nutanix CE AHV: a blog post on the ACS override on a Lenovo m75s
	 * ("使用しているkernelはNutanix CEのAHVに付属の4.19.84-2.el7.nutanix.20190916.276.x86_64") */
	ident("4.19.84-2.el7.nutanix.20190916.276.x86_64", NULL, NULL, "rhel", "4.19", "4.19.84");
	/* Nutanix AHV in a test harness: AHV_KERNEL = "vmlinuz-4.19.84-2.el7.nutanix.20190916.123.x86_64" */
	ident("4.19.84-2.el7.nutanix.20190916.123.x86_64", NULL, NULL, "rhel", "4.19", "4.19.84");
	/* Nutanix CE grub.cfg: 'Nutanix Community Edition AHV (4.4.77-1.el7.nutanix.20191030.415.x86_64)' */
	ident("4.4.77-1.el7.nutanix.20191030.415.x86_64", NULL, NULL, "rhel", "4.4", "4.4.77");
	/* Oracle UEK: `uname -r` in a LibreNMS install note, and a btrfs list
	 * report ("Linux sm07b 5.4.17-2136.311.6.1.el8uek.x86_64 #2 SMP") */
	ident("5.4.17-2102.201.3.el8uek.x86_64", NULL, NULL, "rhel", "5.4", "5.4.17");
	ident("5.4.17-2136.311.6.1.el8uek.x86_64", NULL, NULL, "rhel", "5.4", "5.4.17");
	ident("5.4.17-2136.300.7.el8uek.x86_64", NULL, NULL, "rhel", "5.4", "5.4.17"); /* the brief's example */
	/* Amazon Linux 2: KASLD's results ("Kernel release: 4.14.171-136.231.amzn2.x86_64"),
	 * an iperf3 JSON log ("Linux ... 5.4.129-63.229.amzn2.x86_64 #1 SMP") */
	ident("4.14.171-136.231.amzn2.x86_64", NULL, NULL, "upstream", "4.14", "4.14.171");
	ident("5.4.129-63.229.amzn2.x86_64", NULL, NULL, "upstream", "5.4", "5.4.129");
	ident("4.14.336-257.562.amzn2.x86_64", NULL, NULL, "upstream", "4.14", "4.14.336"); /* the brief's example */
	/* RHEL / CentOS / CentOS Stream X.Y.0: a frozen base, upstream unknown.
	 * 3.10.0-1062.el7.x86_64 is the HOLO_KERNEL beside the AHV one above. */
	ident("3.10.0-1160.el7.x86_64", NULL, NULL, "rhel", "3.10", NULL);
	ident("3.10.0-1062.el7.x86_64", NULL, NULL, "rhel", "3.10", NULL);
	ident("4.18.0-513.el8", NULL, NULL, "rhel", "4.18", NULL);       /* the brief's examples */
	ident("5.14.0-362.el9", NULL, NULL, "rhel", "5.14", NULL);
	/* Oracle UEK 7, X.Y.0 too: a shell simulator's `uname` ("Linux
	 * 5.15.0-206.153.7.el8uek.x86_64 Oracle Linux 8.9"); Oracle's own
	 * 5.15.0 base, so unknown like RHEL's */
	ident("5.15.0-206.153.7.el8uek.x86_64", NULL, NULL, "rhel", "5.15", NULL);
	/* Virtuozzo 7 (OpenVZ): a hosting provider's uname -a ("Linux
	 * s97-74-232-20.secureserver.net 3.10.0-1160.80.1.vz7.191.4 #1 SMP"),
	 * and a vulnerability scanner's OS fingerprints ("3.10.0-327.36.1.vz7.20.18") */
	ident("3.10.0-1160.80.1.vz7.191.4", NULL, NULL, "rhel", "3.10", NULL);
	ident("3.10.0-327.36.1.vz7.20.18", NULL, NULL, "rhel", "3.10", NULL);
	struct kident why;
	assert_int_equal(kident_parse("3.10.0-1160.el7.x86_64", NULL, NULL, &why, NULL), 0);
	assert_non_null(why.upstream_unknown_why);
	assert_non_null(strstr(why.upstream_unknown_why, "frozen base"));
	assert_int_equal(kident_parse("4.19.84-2.el7.nutanix.20190916.276.x86_64", NULL, NULL, &why, NULL), 0);
	assert_null(why.upstream_unknown_why);

	static const char *const bad[] = { "", "garbage", "6", "x.y.z", "6.8garbage", "Ubuntu nonsense",
					   "#1 SMP nothing here", "Linux version " };
	struct kident k;
	struct acso_err e = {0};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (kident_parse(bad[i], NULL, NULL, &k, &e) != -ACSO_E_PARSE)
			fail_msg("'%s' was accepted", bad[i]);
	assert_int_equal(kident_parse(NULL, NULL, NULL, &k, &e), -ACSO_E_PARSE);
	assert_int_equal(kident_parse("5.3.0-24-generic", NULL, "garbage", &k, &e), -ACSO_E_PARSE);
	char longrel[300];
	memset(longrel, 'a', sizeof(longrel) - 1);
	longrel[299] = '\0';
	memcpy(longrel, "6.1.0-", 6);
	assert_int_equal(kident_parse(longrel, NULL, NULL, &k, &e), -ACSO_E_PARSE);
}

/* Every line of tests/data/version-lines/lines.tsv: real version lines
 * (their sources in the file) and what acso must make of each. */
static void test_real_lines(void **state)
{
	char *text;
	size_t len;
	assert_int_equal(read_file_at(AT_FDCWD, "tests/data/version-lines/lines.tsv", 1 << 20, &text, &len), 0);
	size_t n = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[7];
		size_t nf = 0;
		for (char *c = line; nf < 7; c++) {
			f[nf++] = c;
			c = strchr(c, '\t');
			if (!c)
				break;
			*c = '\0';
		}
		if (nf != 7)
			fail_msg("lines.tsv: %zu fields in '%s'", nf, line);
		if (!strcmp(f[0], "release"))
			continue; /* the header */
		const char *ver = strcmp(f[1], "-") ? f[1] : NULL;
		struct kident k;
		struct acso_err e = {0};
		int r = kident_parse(f[0], ver, NULL, &k, &e);
		n++;
		if (f[2][0] == '!') {
			int want = !strcmp(f[2], "!unsupported") ? -ACSO_E_UNSUPPORTED : -ACSO_E_PARSE;
			if (r != want)
				fail_msg("'%s': %d, expected %s", f[0], r, f[2]);
			assert_true(e.msg[0] != '\0');
			continue;
		}
		if (r != 0)
			fail_msg("'%s': %s", f[0], e.msg);
		char b[KVER_STR_MAX];
		kver_series_str(&k.series, b);
		if (strcmp(k.distro, f[2]) || strcmp(k.label, strcmp(f[3], "-") ? f[3] : "") || strcmp(b, f[4]))
			fail_msg("'%s': distro '%s' label '%s' series %s, expected '%s' '%s' %s", f[0], k.distro,
				 k.label, b, f[2], f[3], f[4]);
		if (!strcmp(f[5], "-")) {
			if (k.upstream_known || !k.upstream_unknown_why)
				fail_msg("'%s': upstream known, or unknown without a reason", f[0]);
			continue;
		}
		kver_str(&k.upstream, b);
		if (!k.upstream_known || strcmp(b, f[5]))
			fail_msg("'%s': upstream %s, expected %s (%s)", f[0], k.upstream_known ? b : "unknown", f[5],
				 k.upstream_unknown_why ? k.upstream_unknown_why : "no reason");
	}
	assert_true(n >= 30);
	free(text);
}

/* Bad input: two kernel versions, an epoch where it does not belong,
 * garbage; and an unknown upstream always says why, never "no sublevel"
 * when the line simply did not name one. */
static void test_ident_bad_lines(void **state)
{
	struct kident k;
	struct acso_err e = {0};
	/* two "Debian" words that disagree: refused alone, unknown beside a release */
	assert_int_equal(kident_parse("#1 SMP Debian 6.1.38-4 Debian 6.1.90-1 (2024-05-03)", NULL, NULL, &k, &e),
			 -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "two different kernel versions"));
	assert_int_equal(kident_parse("6.1.0-11-amd64", "#1 SMP Debian 6.1.38-4 Debian 6.1.90-1 (2024-05-03)", NULL, &k, &e), 0);
	assert_false(k.upstream_known);
	assert_non_null(strstr(k.upstream_unknown_why, "two different"));
	/* the same version twice is one version */
	assert_int_equal(kident_parse("6.1.0-11-amd64", "#1 SMP Debian 6.1.38-4 Debian 6.1.38-4", NULL, &k, &e), 0);
	assert_true(k.upstream_known);
	/* only the compiler says Debian: no kernel version, and the reason says so */
	assert_int_equal(kident_parse("Linux version 6.1.0-11-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC", NULL, NULL, &k, &e), 0);
	assert_string_equal(k.distro, "debian");
	assert_false(k.upstream_known);
	assert_non_null(strstr(k.upstream_unknown_why, "names no kernel package version"));
	/* a /proc/version cut before '#' has no uname -v part at all */
	assert_int_equal(kident_parse("6.1.0-11-amd64", "Linux version 6.1.0-11-amd64 (gcc-12 (Debian 6.1.38-4))", NULL, &k, &e), 0);
	assert_false(k.upstream_known);
	/* Debian's release alone: why names uname -v */
	assert_int_equal(kident_parse("6.1.0-11-amd64", NULL, NULL, &k, &e), 0);
	assert_non_null(strstr(k.upstream_unknown_why, "uname -v"));
	/* epochs: "1:" is one; garbage around it is not a version */
	static const char *const bad[] = { "#1 SMP Debian 1:", "#1 SMP Debian :6.1.38-4", "#1 SMP Debian 1::6.1.38-4",
					   "#1 SMP Debian 99999999999:6.1.38-4", "#1 SMP Debian 1:6", "#1 SMP Debian 1:6.1",
					   "#1 SMP PMX", "#1 SMPDebian 6.1.38-4", "#1 SMP Debian 6.1.38" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (kident_parse(bad[i], NULL, NULL, &k, &e) != -ACSO_E_PARSE)
			fail_msg("'%s' was accepted", bad[i]);
	/* WSL 1 is said to be no Linux kernel */
	assert_int_equal(kident_parse("4.4.0-19041-Microsoft", NULL, NULL, &k, &e), -ACSO_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "not a Linux kernel"));
	/* SLE's X.Y.0 is a frozen base */
	assert_int_equal(kident_parse("6.4.0-150600.23.53-default", NULL, NULL, &k, &e), 0);
	assert_non_null(strstr(k.upstream_unknown_why, "frozen base"));
	/* Ubuntu X.Y.0 without a signature: the reason names version_signature */
	assert_int_equal(kident_parse("5.15.0-91-generic", NULL, NULL, &k, &e), 0);
	assert_non_null(strstr(k.upstream_unknown_why, "version_signature"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_tarball_names),
		cmocka_unit_test(test_ident),
		cmocka_unit_test(test_real_lines),
		cmocka_unit_test(test_ident_bad_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
