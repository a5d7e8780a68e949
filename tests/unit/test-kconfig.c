/* Unit tests for kconfig.c: parsing (duplicates, junk, truncation, CRLF),
 * byte-identical rendering of untouched lines, setting and unsetting,
 * strict fragments and --set, the change report. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "kernel/kconfig.h"
#include "base/util.h"

static const char cfg[] =
	"#\n# Automatically generated file; DO NOT EDIT.\n#\n"
	"CONFIG_CC_VERSION_TEXT=\"gcc (Debian 12.2.0-14) 12.2.0\"\n"
	"CONFIG_64BIT=y\n"
	"# CONFIG_PCI_QUIRKS is not set\n"
	"CONFIG_VFIO_PCI=m\n"
	"CONFIG_NR_CPUS=64\n"
	"CONFIG_PHYSICAL_START=0x1000000\n"
	"CONFIG_SYSTEM_TRUSTED_KEYS=\"debian/certs/debian-uefi-certs.pem\"\n"
	"\n# comment with   odd  spacing \n";

static void test_parse_and_render_identical(void **state)
{
	struct kconfig kc;
	struct acso_err e = {0};
	assert_int_equal(kconfig_parse(&kc, cfg, strlen(cfg), ".config", &e), 0);
	assert_int_equal(kc.nissues, 0);
	assert_string_equal(kconfig_get(&kc, "64BIT"), "y");
	assert_string_equal(kconfig_get(&kc, "PCI_QUIRKS"), "n");
	assert_string_equal(kconfig_get(&kc, "VFIO_PCI"), "m");
	assert_string_equal(kconfig_get(&kc, "NR_CPUS"), "64");
	assert_string_equal(kconfig_get(&kc, "SYSTEM_TRUSTED_KEYS"), "\"debian/certs/debian-uefi-certs.pem\"");
	assert_null(kconfig_get(&kc, "NOPE"));
	struct buf b = {0};
	kconfig_render(&kc, &b);
	assert_string_equal(buf_str(&b), cfg);
	buf_free(&b);

	/* edits touch only their lines */
	assert_int_equal(kconfig_set(&kc, "PCI_QUIRKS", "y"), 1);
	assert_int_equal(kconfig_set(&kc, "VFIO_PCI", "m"), 0);
	assert_int_equal(kconfig_set(&kc, "64BIT", "n"), 1);
	assert_int_equal(kconfig_set(&kc, "SYSTEM_TRUSTED_KEYS", "\"\""), 1);
	assert_int_equal(kconfig_set(&kc, "NEW_ONE", "y"), 1);
	kconfig_render(&kc, &b);
	assert_string_equal(buf_str(&b),
		"#\n# Automatically generated file; DO NOT EDIT.\n#\n"
		"CONFIG_CC_VERSION_TEXT=\"gcc (Debian 12.2.0-14) 12.2.0\"\n"
		"# CONFIG_64BIT is not set\n"
		"CONFIG_PCI_QUIRKS=y\n"
		"CONFIG_VFIO_PCI=m\n"
		"CONFIG_NR_CPUS=64\n"
		"CONFIG_PHYSICAL_START=0x1000000\n"
		"CONFIG_SYSTEM_TRUSTED_KEYS=\"\"\n"
		"\n# comment with   odd  spacing \n"
		"CONFIG_NEW_ONE=y\n");
	buf_free(&b);
	kconfig_free(&kc);
}

static void test_issues(void **state)
{
	struct kconfig kc;
	struct acso_err e = {0};
	const char *t = "CONFIG_A=y\nCONFIG_B=m\nthis is junk\nCONFIG_A=m\nCONFIG_C=\"unterminated\nCONFIG_D=y y\nCONFIG_=y\nCONFIG_E";
	assert_int_equal(kconfig_parse(&kc, t, strlen(t), "x.config", &e), 0);
	assert_int_equal(kc.nissues, 7);
	assert_string_equal(kc.issues[0].msg, "x.config:3: not a config line: 'this is junk'");
	assert_string_equal(kc.issues[1].msg, "x.config:4: CONFIG_A assigned again (was y, now m; the last one counts)");
	assert_non_null(strstr(kc.issues[2].msg, "x.config:5: not a config line"));
	assert_non_null(strstr(kc.issues[3].msg, "x.config:6:"));
	assert_non_null(strstr(kc.issues[4].msg, "x.config:7:"));
	assert_non_null(strstr(kc.issues[5].msg, "x.config:8: not a config line"));
	assert_string_equal(kc.issues[6].msg, "x.config:8: the last line has no newline (a truncated file?)");
	assert_string_equal(kconfig_get(&kc, "A"), "m"); /* the last one counts */
	/* junk survives a render untouched; an append ends the cut line first */
	assert_int_equal(kconfig_set(&kc, "A", "y"), 1);
	assert_int_equal(kconfig_set(&kc, "Z", "y"), 1);
	struct buf b = {0};
	kconfig_render(&kc, &b);
	assert_string_equal(buf_str(&b), "CONFIG_A=y\nCONFIG_B=m\nthis is junk\nCONFIG_A=y\nCONFIG_C=\"unterminated\nCONFIG_D=y y\nCONFIG_=y\nCONFIG_E\nCONFIG_Z=y\n");
	buf_free(&b);
	kconfig_free(&kc);

	/* CRLF lines are read; NUL and size limits refuse */
	assert_int_equal(kconfig_parse(&kc, "CONFIG_A=y\r\n", 12, "c", &e), 0);
	assert_string_equal(kconfig_get(&kc, "A"), "y");
	kconfig_free(&kc);
	assert_int_equal(kconfig_parse(&kc, "CONFIG_A=y\0", 11, "c", &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "NUL"));
	assert_int_equal(kconfig_parse(&kc, "x", KCONFIG_MAX_FILE + 1, "c", &e), -ACSO_E_TOOBIG);
}

static void test_fragments_and_set(void **state)
{
	struct kc_reqs r = {0};
	struct acso_err e = {0};
	const char *frag = "# comment\n\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_A=m\n";
	assert_int_equal(kconfig_parse_fragment(frag, strlen(frag), "f.config", &r, &e), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.v[0].sym, "A");
	assert_string_equal(r.v[0].val, "m");
	assert_string_equal(r.v[0].origin, "f.config:5");
	assert_string_equal(r.v[1].val, "n");
	assert_int_equal(kconfig_parse_fragment("CONFIG_X=y\nbogus\n", 17, "g.config", &r, &e), -ACSO_E_PARSE);
	assert_string_equal(e.msg, "g.config:2: not a config line: 'bogus'");
	assert_int_equal(kconfig_parse_assignment("CONFIG_NR_CPUS=8", &r, &e), 0);
	assert_int_equal(kconfig_parse_assignment("LOCALVERSION=\"-acso\"", &r, &e), 0);
	assert_int_equal(r.n, 4);
	assert_string_equal(r.v[3].origin, "--set");
	assert_int_equal(kconfig_parse_assignment("CONFIG_X", &r, &e), -EINVAL);
	assert_int_equal(kconfig_parse_assignment("CONFIG_X-Y=y", &r, &e), -EINVAL);
	assert_int_equal(kconfig_parse_assignment("CONFIG_X=yes please", &r, &e), -EINVAL);
	assert_int_equal(kconfig_parse_assignment("CONFIG_X=\"a\\\"", &r, &e), -EINVAL);
	assert_int_equal(kconfig_parse_assignment("CONFIG_X=0x", &r, &e), -EINVAL);
	assert_int_equal(kconfig_parse_assignment("CONFIG_X=-1", &r, &e), 0);
	kc_reqs_free(&r);
}

static void test_diff(void **state)
{
	struct kconfig a, b;
	struct acso_err e = {0};
	const char *ta = "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\nCONFIG_D=\"x\"\n";
	const char *tb = "CONFIG_A=y\nCONFIG_B=y\n# CONFIG_D is not set\nCONFIG_E=m\n";
	assert_int_equal(kconfig_parse(&a, ta, strlen(ta), "a", &e), 0);
	assert_int_equal(kconfig_parse(&b, tb, strlen(tb), "b", &e), 0);
	struct kc_change *c;
	size_t n = kconfig_diff(&a, &b, &c);
	assert_int_equal(n, 4);
	assert_string_equal(c[0].sym, "B");
	assert_string_equal(c[0].old, "n");
	assert_string_equal(c[0].new, "y");
	assert_string_equal(c[1].sym, "C"); /* m -> gone */
	assert_null(c[1].new);
	assert_string_equal(c[2].sym, "D");
	assert_string_equal(c[2].new, "n");
	assert_string_equal(c[3].sym, "E");
	assert_null(c[3].old);
	kc_changes_free(c, n);
	kconfig_free(&a);
	kconfig_free(&b);
}

/* A request's why: the first sentence of the comment block above it, in
 * its paragraph; a line right below another assignment shares its block. */
static void test_fragment_why(void **state)
{
	struct kc_reqs r = {0};
	struct acso_err e = {0};
	const char *t = "# header of the file.\n\n# Debug info off. It is huge.\n# more\nCONFIG_A=y\n"
			"# CONFIG_B is not set\n\nCONFIG_C=y\n";
	assert_int_equal(kconfig_parse_fragment(t, strlen(t), "f.config", &r, &e), 0);
	assert_string_equal(kc_reqs_find(&r, "A")->why, "Debug info off.");
	assert_string_equal(kc_reqs_find(&r, "B")->why, "Debug info off.");
	assert_null(kc_reqs_find(&r, "C")->why);
	assert_string_equal(kc_reqs_find(&r, "C")->origin, "f.config:8");
	kc_reqs_drop(&r, "A");
	assert_null(kc_reqs_find(&r, "A"));
	assert_int_equal(r.n, 2);
	kc_reqs_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_render_identical),
		cmocka_unit_test(test_issues),
		cmocka_unit_test(test_fragments_and_set),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_fragment_why),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
