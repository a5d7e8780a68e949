/* Unit tests for releases.c: releases.json (good, null URLs, malformed,
 * too big) and sha256sum lists (lookup, series fallback). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "source/releases.h"
#include "base/util.h"

static const char good[] =
	"{ \"latest_stable\": { \"version\": \"6.6.5\" },\n"
	"  \"releases\": [\n"
	"  { \"iseol\": false, \"version\": \"6.9-rc2\", \"moniker\": \"mainline\", \"source\": \"https://git/x.tar.gz\", \"pgp\": null,\n"
	"    \"released\": { \"timestamp\": 1711900000, \"isodate\": \"2024-03-31\" } },\n"
	"  { \"iseol\": true, \"version\": \"6.8\", \"moniker\": \"stable\", \"source\": \"https://cdn/linux-6.8.tar.xz\", \"pgp\": null },\n"
	"  { \"iseol\": false, \"version\": \"6.6.5\", \"moniker\": \"stable\", \"source\": \"https://cdn/linux-6.6.5.tar.xz\", \"pgp\": \"https://cdn/linux-6.6.5.tar.sign\" },\n"
	"  { \"iseol\": false, \"version\": \"6.1.192\", \"moniker\": \"longterm\", \"source\": null, \"pgp\": null },\n"
	"  { \"iseol\": false, \"version\": \"5.10.200\", \"moniker\": \"longterm\", \"source\": null, \"pgp\": null },\n"
	"  { \"iseol\": false, \"version\": \"next-20260925\", \"moniker\": \"linux-next\", \"source\": null, \"pgp\": null },\n"
	"  { \"iseol\": false, \"version\": \"weird-1\", \"moniker\": \"future\", \"source\": null }\n"
	"  ] }\n";

static struct kver V(const char *s)
{
	struct kver v;
	assert_int_equal(kver_parse(s, &v, NULL), 0);
	return v;
}

static void test_good(void **state)
{
	struct releases r;
	struct acso_err e = {0};
	char b[KVER_STR_MAX];
	assert_int_equal(releases_parse(good, strlen(good), &r, &e), 0);
	assert_int_equal(r.n, 6);
	assert_int_equal(r.skipped, 1);
	assert_true(r.has_latest_stable);
	kver_str(&r.latest_stable, b);
	assert_string_equal(b, "6.6.5");
	struct kver s = V("6.6");
	const struct release *x = releases_find_series(&r, &s);
	assert_non_null(x);
	kver_str(&x->ver, b);
	assert_string_equal(b, "6.6.5");
	assert_string_equal(x->pgp, "https://cdn/linux-6.6.5.tar.sign");
	s = V("6.8");
	x = releases_find_series(&r, &s);
	assert_non_null(x);
	assert_true(x->iseol);
	assert_null(x->pgp);
	s = V("6.1.192");
	x = releases_find(&r, &s);
	assert_non_null(x);
	assert_null(x->source);
	s = V("5.4");
	assert_null(releases_find_series(&r, &s));
	x = releases_nearest_longterm(&r, &s);
	kver_str(&x->ver, b);
	assert_string_equal(b, "5.10.200");
	s = V("6.2");
	x = releases_nearest_longterm(&r, &s);
	kver_str(&x->ver, b);
	assert_string_equal(b, "6.1.192"); /* nothing newer is longterm: the newest */
	s = V("6.1");
	x = releases_nearest_longterm(&r, &s);
	kver_str(&x->ver, b);
	assert_string_equal(b, "6.1.192");
	s = V("9.9-rc1");
	assert_null(releases_find_series(&r, &s));
	x = releases_latest_longterm(&r);
	kver_str(&x->ver, b);
	assert_string_equal(b, "6.1.192");
	s = V("6.9-rc2");
	assert_non_null(releases_find(&r, &s));
	releases_free(&r);
}

static void expect_bad(const char *json, const char *detail)
{
	struct releases r;
	struct acso_err e = {0};
	int rc = releases_parse(json, strlen(json), &r, &e);
	if (rc != -ACSO_E_PARSE)
		fail_msg("accepted: %s", json);
	if (!strstr(e.msg, detail))
		fail_msg("'%s' lacks '%s'", e.msg, detail);
}

static void test_malformed(void **state)
{
	expect_bad("", "releases.json");
	expect_bad("{", "truncated");
	expect_bad("[]", "not a JSON object");
	expect_bad("{}", "no \"releases\" array");
	expect_bad("{\"releases\": {}}", "no \"releases\" array");
	expect_bad("{\"releases\": [1]}", "releases[0] is not an object");
	expect_bad("{\"releases\": [{}]}", "releases[0].version");
	expect_bad("{\"releases\": [{\"version\": 6}]}", "releases[0].version");
	expect_bad("{\"releases\": [{\"version\": \"6.1\"}]}", ".moniker");
	expect_bad("{\"releases\": [{\"version\": \"6.1\", \"moniker\": \"stable\", \"iseol\": \"no\"}]}", ".iseol is not a boolean");
	expect_bad("{\"releases\": [{\"version\": \"6.1\", \"moniker\": \"stable\", \"source\": 5}]}", ".source");
	expect_bad("{\"releases\": [{\"version\": \"6.1\", \"moniker\": \"stable\", \"pgp\": []}]}", ".pgp");
	expect_bad("{\"releases\": [{\"version\": \"6.1\", \"moniker\": \"a-moniker-far-too-long\"}]}", "too long");
	expect_bad("{\"latest_stable\": 5, \"releases\": []}", "latest_stable");
	expect_bad("{\"releases\": []} x", "trailing data");
	expect_bad("{\"releases\": [{\"version\": \"6.1\", \"moniker\": \"stable\", \"source\": \"ok\"}, 3]}", "releases[1]");
	/* Deep nesting is refused by the tokenizer's depth limit. */
	char deep[200];
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	expect_bad(deep, "releases.json");

	struct releases r;
	struct acso_err e = {0};
	size_t big = RELEASES_MAX_SIZE + 1;
	char *b = xmalloc(big);
	memset(b, ' ', big);
	assert_int_equal(releases_parse(b, big, &r, &e), -ACSO_E_TOOBIG);
	free(b);
}

static const char sums[] =
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  linux-5.4.9.tar.xz\n"
	"1111111111111111111111111111111111111111111111111111111111111111  linux-5.4.10.tar.xz\n"
	"2222222222222222222222222222222222222222222222222222222222222222  linux-5.4.tar.xz\n"
	"3333333333333333333333333333333333333333333333333333333333333333  linux-5.10.1.tar.xz\n"
	"4444444444444444444444444444444444444444444444444444444444444444  patch-5.4.11.xz\n"
	"5555555555555555555555555555555555555555555555555555555555555555  old/linux-5.4.99.tar.xz\n"
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA *linux-5.3.tar.xz\r\n"
	"nothex  linux-5.2.tar.xz\n";

static void test_sums(void **state)
{
	char hex[65];
	assert_int_equal(sums_find(sums, "linux-5.4.10.tar.xz", hex), 0);
	assert_string_equal(hex, "1111111111111111111111111111111111111111111111111111111111111111");
	assert_int_equal(sums_find(sums, "linux-5.4.tar.xz", hex), 0);
	assert_int_equal(hex[0], '2');
	assert_int_equal(sums_find(sums, "linux-5.3.tar.xz", hex), 0);
	assert_int_equal(hex[0], 'a');
	assert_int_equal(sums_find(sums, "linux-5.4.99.tar.xz", hex), -ACSO_E_NOTFOUND);
	assert_int_equal(sums_find(sums, "linux-5.4.1.tar.xz", hex), -ACSO_E_NOTFOUND);
	assert_int_equal(sums_find(sums, "linux-5.2.tar.xz", hex), -ACSO_E_PARSE);
	assert_int_equal(sums_find("", "linux-5.2.tar.xz", hex), -ACSO_E_NOTFOUND);
	struct kver s = V("5.4"), l;
	char b[KVER_STR_MAX];
	assert_int_equal(sums_latest_in_series(sums, &s, &l), 3);
	kver_str(&l, b);
	assert_string_equal(b, "5.4.10");
	s = V("4.19");
	assert_int_equal(sums_latest_in_series(sums, &s, &l), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_sums),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
