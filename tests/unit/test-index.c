/* Unit tests for index.c: the prebuilt index's strict parser, its writer,
 * the safe-path rule, version order and picking an entry. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "package/index.h"
#include "base/util.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define PKG(file, name) "{\"file\": \"" file "\", \"package\": \"" name "\", \"version\": \"6.1.192-acso-1\", \"size\": 100, \"sha256\": \"" SHA "\"}"
#define KERNEL(rel, ver, arch) "{\"release\": \"" rel "\", \"version\": \"" ver "\", \"architecture\": \"" arch "\", " \
	"\"distro\": \"debian-12\", \"acs_patch\": \"acso-0.1.0\", \"packages\": [" PKG("a/linux-image-x.deb", "linux-image-" rel) "]}"
#define INDEX(kernels) "{\"format\": \"acso-prebuilt/1\", \"generated\": \"2026-11-24T07:00:00Z\", \"kernels\": [" kernels "]}"

static void test_parse_good(void **state)
{
	const char *t = INDEX(KERNEL("6.1.192-acso", "6.1.192", "amd64") "," KERNEL("6.1.9-acso", "6.1.9", "amd64"));
	struct index ix;
	struct acso_err e = {0};
	assert_int_equal(index_parse(t, strlen(t), &ix, &e), 0);
	assert_int_equal(ix.n, 2);
	assert_string_equal(ix.k[0].release, "6.1.192-acso");
	assert_string_equal(ix.k[0].distro, "debian-12");
	assert_string_equal(ix.k[0].acs_patch, "acso-0.1.0");
	assert_int_equal(ix.k[0].n, 1);
	assert_int_equal(ix.k[0].pkgs[0].size, 100);
	assert_string_equal(ix.k[0].pkgs[0].sha256, SHA);
	/* Round trip through the writer. */
	char *out = index_to_json(&ix);
	struct index back;
	assert_int_equal(index_parse(out, strlen(out), &back, &e), 0);
	assert_int_equal(back.n, 2);
	assert_string_equal(back.k[1].version, "6.1.9");
	index_free(&back);
	free(out);
	index_free(&ix);
}

static void bad(const char *t, int code, const char *part)
{
	struct index ix;
	struct acso_err e = {0};
	int r = index_parse(t, strlen(t), &ix, &e);
	if (r != code)
		fail_msg("got %d (%s) for %s", r, e.msg, t);
	if (part && !strstr(e.msg, part))
		fail_msg("'%s' lacks '%s'", e.msg, part);
	assert_int_equal(ix.n, 0);
	assert_null(ix.k);
}

static void test_parse_bad(void **state)
{
	bad("", -ACSO_E_PARSE, "not a JSON object");
	bad("[]", -ACSO_E_PARSE, "not a JSON object");
	bad(INDEX("") " x", -ACSO_E_PARSE, "not a JSON object");
	bad("{\"format\": \"acso-prebuilt/2\", \"generated\": \"x\", \"kernels\": []}", -ACSO_E_UNSUPPORTED, "format");
	bad("{\"format\": \"acso-prebuilt/1\", \"generated\": \"x\", \"kernels\": [], \"mirror\": 1}", -ACSO_E_PARSE,
	    "unknown field 'mirror'");
	bad("{\"format\": \"acso-prebuilt/1\", \"kernels\": []}", -ACSO_E_PARSE, "missing field 'generated'");
	bad("{\"format\": \"acso-prebuilt/1\", \"generated\": \"x\"}", -ACSO_E_PARSE, "no kernels");
	/* An unknown field in a kernel and in a package. */
	bad(INDEX("{\"release\": \"r\", \"version\": \"1\", \"architecture\": \"amd64\", \"distro\": \"d\", \"acs_patch\": \"p\", "
		  "\"url\": \"http://x\", \"packages\": [" PKG("a.deb", "p") "]}"), -ACSO_E_PARSE, "unknown field 'url'");
	bad(INDEX("{\"release\": \"r\", \"version\": \"1\", \"architecture\": \"amd64\", \"distro\": \"d\", \"acs_patch\": \"p\", "
		  "\"packages\": [{\"file\": \"a.deb\", \"package\": \"p\", \"version\": \"1\", \"size\": 1, \"sha256\": \"" SHA "\", \"md5\": \"x\"}]}"),
	    -ACSO_E_PARSE, "unknown field 'md5'");
	/* A missing architecture. */
	bad(INDEX("{\"release\": \"r\", \"version\": \"1\", \"distro\": \"d\", \"acs_patch\": \"p\", \"packages\": [" PKG("a.deb", "p") "]}"),
	    -ACSO_E_PARSE, "missing field 'architecture'");
	/* Values. */
	bad(INDEX("{\"release\": \"r x\", \"version\": \"1\", \"architecture\": \"amd64\", \"distro\": \"d\", \"acs_patch\": \"p\", \"packages\": [" PKG("a.deb", "p") "]}"),
	    -ACSO_E_PARSE, "'release' is not a plain string");
	bad(INDEX("{\"release\": \"r\", \"version\": 1, \"architecture\": \"amd64\", \"distro\": \"d\", \"acs_patch\": \"p\", \"packages\": [" PKG("a.deb", "p") "]}"),
	    -ACSO_E_PARSE, "'version'");
	bad(INDEX("{\"release\": \"r\", \"version\": \"1\", \"architecture\": \"amd64\", \"distro\": \"d\", \"acs_patch\": \"p\", \"packages\": []}"),
	    -ACSO_E_PARSE, "no packages");
	bad(INDEX("{\"release\": \"r\", \"version\": \"1\", \"architecture\": \"amd64\", \"distro\": \"d\", \"acs_patch\": \"p\", \"packages\": [" PKG("../a.deb", "p") "]}"),
	    -ACSO_E_PARSE, "not a safe relative path");
	bad(INDEX("{\"release\": \"r\", \"version\": \"1\", \"architecture\": \"amd64\", \"distro\": \"d\", \"acs_patch\": \"p\", "
		  "\"packages\": [{\"file\": \"a.deb\", \"package\": \"p\", \"version\": \"1\", \"size\": 0, \"sha256\": \"" SHA "\"}]}"),
	    -ACSO_E_PARSE, "'size'");
	bad(INDEX("{\"release\": \"r\", \"version\": \"1\", \"architecture\": \"amd64\", \"distro\": \"d\", \"acs_patch\": \"p\", "
		  "\"packages\": [{\"file\": \"a.deb\", \"package\": \"p\", \"version\": \"1\", \"size\": 3000000000, \"sha256\": \"" SHA "\"}]}"),
	    -ACSO_E_PARSE, "'size'");
	bad(INDEX("{\"release\": \"r\", \"version\": \"1\", \"architecture\": \"amd64\", \"distro\": \"d\", \"acs_patch\": \"p\", "
		  "\"packages\": [{\"file\": \"a.deb\", \"package\": \"p\", \"version\": \"1\", \"size\": 1, \"sha256\": \"ABC\"}]}"),
	    -ACSO_E_PARSE, "'sha256'");
	bad(INDEX("{\"release\": \"r\", \"version\": \"1\", \"architecture\": \"amd64\", \"distro\": \"d\", \"acs_patch\": \"p\", "
		  "\"packages\": [{\"file\": \"a.deb\", \"package\": \"p\", \"version\": \"1\", \"size\": 1, \"sha256\": \""
		  "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"}]}"),
	    -ACSO_E_PARSE, "lower-case");
	/* Limits. */
	struct buf b = {0};
	buf_printf(&b, "{\"format\": \"acso-prebuilt/1\", \"generated\": \"x\", \"kernels\": [");
	for (int i = 0; i <= INDEX_MAX_KERNELS; i++)
		buf_printf(&b, "%s" KERNEL("r", "1", "amd64"), i ? "," : "");
	buf_printf(&b, "]}");
	bad(buf_str(&b), -ACSO_E_TOOBIG, "more than");
	buf_free(&b);
	struct index ix;
	assert_int_equal(index_parse("{}", INDEX_MAX + 1, &ix, NULL), -ACSO_E_TOOBIG);
	char nul[] = "{\"a\0\": 1}";
	assert_int_equal(index_parse(nul, sizeof(nul) - 1, &ix, NULL), -ACSO_E_PARSE);
}

static void test_safe_file(void **state)
{
	assert_true(index_safe_file("linux-image-6.1.192-acso_6.1.192-acso-1_amd64.deb"));
	assert_true(index_safe_file("6.1.192-acso/x.deb"));
	assert_false(index_safe_file("/etc/x.deb"));
	assert_false(index_safe_file("../x.deb"));
	assert_false(index_safe_file("a/../x.deb"));
	assert_false(index_safe_file("./x.deb"));
	assert_false(index_safe_file("a//x.deb"));
	assert_false(index_safe_file("x.tar"));
	assert_false(index_safe_file("a b.deb"));
	assert_false(index_safe_file("http://h/x.deb"));
	assert_false(index_safe_file(""));
	assert_true(index_safe_file("..x.deb")); /* a name, not a parent */
}

static void test_version_cmp(void **state)
{
	assert_true(index_version_cmp("6.1.192", "6.1.9") > 0);
	assert_true(index_version_cmp("6.1.9", "6.1.192") < 0);
	assert_int_equal(index_version_cmp("6.1.2", "6.1.2"), 0);
	assert_true(index_version_cmp("6.10.1", "6.9.99") > 0);
	assert_true(index_version_cmp("6.1", "6.1.1") < 0);
}

static void test_pick(void **state)
{
	const char *t = INDEX(KERNEL("6.1.9-acso", "6.1.9", "amd64") "," KERNEL("6.1.192-acso", "6.1.192", "amd64") ","
			      KERNEL("6.10.3-acso", "6.10.3", "amd64") "," KERNEL("6.6.1-acso", "6.6.1", "arm64"));
	struct index ix;
	struct acso_err e = {0};
	assert_int_equal(index_parse(t, strlen(t), &ix, &e), 0);
	const struct index_kernel *k = index_pick(&ix, "6.1", "amd64", &e);
	assert_non_null(k);
	assert_string_equal(k->release, "6.1.192-acso"); /* highest of the series, not 6.10 */
	k = index_pick(&ix, "6.1.9", "amd64", &e);
	assert_string_equal(k->release, "6.1.9-acso");
	k = index_pick(&ix, "6.10.3-acso", "amd64", &e);
	assert_string_equal(k->release, "6.10.3-acso");
	assert_null(index_pick(&ix, "6.6", "amd64", &e));
	assert_non_null(strstr(e.msg, "for arm64 only, not for amd64"));
	assert_null(index_pick(&ix, "5.15", "amd64", &e));
	assert_non_null(strstr(e.msg, "no kernel for '5.15'"));
	assert_null(index_pick(&ix, "6", "amd64", &e)); /* a major alone is no series */
	index_free(&ix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_safe_file),
		cmocka_unit_test(test_version_cmp),
		cmocka_unit_test(test_pick),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
