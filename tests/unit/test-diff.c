/* Unit tests for diff.c: parsing unified diffs (good and broken), applying
 * them exactly, with offsets, with fuzz only when asked, and writing diffs
 * that apply back (round trip). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "kernel/diff.h"
#include "base/err.h"
#include "base/util.h"

static const char base[] = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n";

static const char patch1[] =
	"From: someone\nSubject: [PATCH] change four\n\n--- stat lines are ignored\n"
	"diff --git a/dir/f.txt b/dir/f.txt\n"
	"--- a/dir/f.txt\n+++ b/dir/f.txt\n"
	"@@ -2,5 +2,5 @@\n two\n three\n-four\n+FOUR\n five\n six\n";

static int apply(const char *patch, const char *old, int fuzz, char **out,
		 struct diff_hunk_report *rep, struct acso_err *e)
{
	struct diff_patch p;
	int r = diff_parse(patch, strlen(patch), "t.patch", &p, e);
	if (r < 0)
		return r;
	struct buf b = {0};
	r = diff_apply_file(&p, &p.f[0], old, old ? strlen(old) : 0, fuzz, &b, rep, e);
	diff_patch_free(&p);
	if (r == 0)
		*out = xstrdup(buf_str(&b));
	buf_free(&b);
	return r;
}

static void test_parse_ok(void **state)
{
	struct acso_err e = {0};
	struct diff_patch p;
	/* a "--- " line in the message followed by "+++"-less text is an error
	 * only when it looks like a header: here "--- stat" is followed by
	 * "diff --git", so leave it out of this patch */
	const char *t = strstr(patch1, "diff --git");
	assert_int_equal(diff_parse(t, strlen(t), "t.patch", &p, &e), 0);
	assert_int_equal(p.nf, 1);
	assert_string_equal(p.f[0].old_path, "dir/f.txt");
	assert_string_equal(p.f[0].new_path, "dir/f.txt");
	assert_int_equal(p.f[0].nh, 1);
	assert_int_equal(p.f[0].h[0].old_start, 2);
	assert_int_equal(p.f[0].h[0].n, 6);
	assert_false(p.f[0].crlf);
	diff_patch_free(&p);
}

static void test_apply_exact_and_offset(void **state)
{
	struct acso_err e = {0};
	struct diff_hunk_report rep[1];
	char *out = NULL;
	const char *t = strstr(patch1, "diff --git");
	assert_int_equal(apply(t, base, 0, &out, rep, &e), 0);
	assert_string_equal(out, "one\ntwo\nthree\nFOUR\nfive\nsix\nseven\n");
	assert_int_equal(rep[0].offset, 0);
	assert_int_equal(rep[0].fuzz, 0);
	assert_int_equal(rep[0].at_line, 2);
	free(out);

	/* Three lines added on top: found 3 lines later, reported. */
	_cleanup_free_ char *moved = xasprintf("a\nb\nc\n%s", base);
	assert_int_equal(apply(t, moved, 0, &out, rep, &e), 0);
	assert_int_equal(rep[0].offset, 3);
	assert_int_equal(rep[0].at_line, 5);
	assert_string_equal(out, "a\nb\nc\none\ntwo\nthree\nFOUR\nfive\nsix\nseven\n");
	free(out);
}

static void test_fuzz_only_when_asked(void **state)
{
	struct acso_err e = {0};
	struct diff_hunk_report rep[1];
	char *out = NULL;
	const char *t = strstr(patch1, "diff --git");
	const char *changed = "one\nTWO\nthree\nfour\nfive\nsix\nseven\n";
	assert_int_equal(apply(t, changed, 0, &out, rep, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "hunk 1 (line 4) does not apply to 'dir/f.txt'"));
	assert_non_null(strstr(e.msg, "line 2 is 'TWO' where the patch expects 'two'"));
	assert_non_null(strstr(e.msg, "--fuzz"));
	assert_int_equal(apply(t, changed, 1, &out, rep, &e), 0);
	assert_int_equal(rep[0].fuzz, 1);
	assert_string_equal(out, "one\nTWO\nthree\nFOUR\nfive\nsix\nseven\n");
	free(out);
	/* the removed line itself never fuzzes */
	assert_int_equal(apply(t, "one\ntwo\nthree\nfour!\nfive\nsix\n", 3, &out, rep, &e), -ACSO_E_PARSE);
}

static void test_crlf_patch(void **state)
{
	struct acso_err e = {0};
	char *out = NULL;
	const char *p = "--- a/dir/f.txt\r\n+++ b/dir/f.txt\r\n@@ -1,2 +1,2 @@\r\n one\r\n-two\r\n+TWO\r\n";
	assert_int_equal(apply(p, base, 0, &out, NULL, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "CRLF"));
	/* the same patch applies to a CRLF file */
	assert_int_equal(apply(p, "one\r\ntwo\r\n", 0, &out, NULL, &e), 0);
	assert_string_equal(out, "one\r\nTWO\r\n");
	free(out);
}

static void test_bad_patches(void **state)
{
	struct acso_err e = {0};
	char *out = NULL;
	static const struct {
		const char *patch;
		int code;
		const char *msg;
	} bad[] = {
		{"just some text\n", -ACSO_E_PARSE, "no unified diff found"},
		{"", -ACSO_E_PARSE, "no unified diff found"},
		{"--- a/x\nhello\n", -ACSO_E_PARSE, "t.patch:1: '--- ' header not followed by '+++ '"},
		{"--- a/x\n", -ACSO_E_PARSE, "not followed by '+++ '"},
		{"--- a/x\n+++ b/x\n@@ -1 +1 @\n", -ACSO_E_PARSE, "t.patch:3: malformed hunk header"},
		{"--- a/x\n+++ b/x\n@@ -a,1 +1 @@\n", -ACSO_E_PARSE, "malformed hunk header"},
		{"--- a/x\n+++ b/x\n", -ACSO_E_PARSE, "no hunk for 'x'"},
		{"--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n", -ACSO_E_PARSE, "truncated"},
		{"--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n+d\n", -ACSO_E_PARSE, "more lines than its header"},
		{"--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n?b\n", -ACSO_E_PARSE, "unexpected line in hunk"},
		{"@@ -1 +1 @@\n-a\n+b\n", -ACSO_E_PARSE, "hunk without a '--- '"},
		{"--- a/../etc/passwd\n+++ b/../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n", -ACSO_E_UNSAFE, "leaves the tree"},
		{"--- a//etc/passwd\n+++ b//etc/passwd\n@@ -1 +1 @@\n-a\n+b\n", -ACSO_E_UNSAFE, "absolute path"},
		{"--- x\n+++ x\n@@ -1 +1 @@\n-a\n+b\n", -ACSO_E_PARSE, "no leading directory"},
		{"--- /dev/null\n+++ /dev/null\n@@ -0,0 +1 @@\n+b\n", -ACSO_E_PARSE, "both sides"},
		{"--- \"a/x\"\n+++ \"b/x\"\n@@ -1 +1 @@\n-a\n+b\n", -ACSO_E_UNSUPPORTED, "quoted"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err_clear(&e);
		int r = apply(bad[i].patch, "a\n", 0, &out, NULL, &e);
		if (r != bad[i].code || !strstr(e.msg, bad[i].msg))
			fail_msg("case %zu: got %d '%s'", i, r, e.msg);
	}
	/* A NUL byte */
	struct diff_patch p;
	assert_int_equal(diff_parse("--- a/x\0", 8, "t.patch", &p, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "NUL"));
}

static void test_new_file_and_eof(void **state)
{
	struct acso_err e = {0};
	char *out = NULL;
	assert_int_equal(apply("--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+hello\n+world\n\\ No newline at end of file\n",
			       NULL, 0, &out, NULL, &e), 0);
	assert_string_equal(out, "hello\nworld");
	free(out);
	/* creating over an existing file is refused */
	assert_int_equal(apply("--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+x\n", "old\n", 0, &out, NULL, &e), -EEXIST);
	/* patching a missing file */
	assert_int_equal(apply("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", NULL, 0, &out, NULL, &e), -ACSO_E_NOTFOUND);
	/* blank context lines whose leading space was stripped by an editor */
	assert_int_equal(apply("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n\n-b\n+c\n", "a\n\nb\n", 0, &out, NULL, &e), 0);
	assert_string_equal(out, "a\n\nc\n");
	free(out);
}

static void test_two_hunks_in_order(void **state)
{
	struct acso_err e = {0};
	char *out = NULL;
	struct diff_hunk_report rep[2];
	const char *p = "--- a/x\n+++ b/x\n@@ -1,2 +1,3 @@\n one\n+1.5\n two\n@@ -6,2 +7,2 @@\n six\n-seven\n+SEVEN\n";
	assert_int_equal(apply(p, base, 0, &out, rep, &e), 0);
	assert_string_equal(out, "one\n1.5\ntwo\nthree\nfour\nfive\nsix\nSEVEN\n");
	free(out);
	/* the second hunk may not match before the end of the first */
	const char *q = "--- a/x\n+++ b/x\n@@ -3,1 +3,1 @@\n-three\n+3\n@@ -1,1 +1,1 @@\n-one\n+1\n";
	assert_int_equal(apply(q, base, 0, &out, rep, &e), -ACSO_E_PARSE);
	assert_non_null(strstr(e.msg, "hunk 2"));
}

static void roundtrip(const char *a, const char *b)
{
	struct buf d = {0};
	struct acso_err e = {0};
	int h = diff_unified("p/q.c", a, a ? strlen(a) : 0, b, b ? strlen(b) : 0, 3, &d);
	if (a && b && !strcmp(a, b)) {
		assert_int_equal(h, 0);
		assert_int_equal(d.len, 0);
		buf_free(&d);
		return;
	}
	assert_true(h > 0);
	char *out = NULL;
	if (apply(buf_str(&d), a, 0, &out, NULL, &e) != 0)
		fail_msg("diff does not apply: %s\n%s", e.msg, buf_str(&d));
	assert_string_equal(out, b ? b : "");
	free(out);
	buf_free(&d);
}

static void test_unified_roundtrip(void **state)
{
	roundtrip(base, base);
	roundtrip(base, "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\n");
	roundtrip(base, "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n");
	roundtrip(base, "one\ntwo\nthree\nfour\nfive\nsix\nseven");
	roundtrip("a", "b");
	roundtrip(NULL, "new\nfile\n");
	roundtrip("", "x\n");
	/* two changes far apart make two hunks */
	struct buf big = {0}, big2 = {0};
	for (int i = 0; i < 200; i++) {
		buf_printf(&big, "line %d\n", i);
		if (i == 20)
			buf_printf(&big2, "inserted A\n");
		if (i != 150)
			buf_printf(&big2, "line %d\n", i);
	}
	struct buf d = {0};
	assert_int_equal(diff_unified("f", buf_str(&big), big.len, buf_str(&big2), big2.len, 3, &d), 2);
	assert_non_null(strstr(buf_str(&d), "@@ -18,6 +18,7 @@\n"));
	assert_non_null(strstr(buf_str(&d), "-line 150\n"));
	roundtrip(buf_str(&big), buf_str(&big2));
	roundtrip(buf_str(&big2), buf_str(&big));
	/* pseudo-random edits */
	unsigned seed = 7;
	for (int round = 0; round < 30; round++) {
		struct buf x = {0}, y = {0};
		for (int i = 0; i < 60; i++) {
			seed = seed * 1103515245 + 12345;
			int r = (seed >> 16) % 10;
			buf_printf(&x, "l%d\n", i % 13);
			if (r == 0)
				continue;
			if (r == 1)
				buf_printf(&y, "new%d\n", i);
			buf_printf(&y, "l%d\n", i % 13);
		}
		roundtrip(buf_str(&x), buf_str(&y));
		buf_free(&x);
		buf_free(&y);
	}
	buf_free(&d);
	buf_free(&big);
	buf_free(&big2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_apply_exact_and_offset),
		cmocka_unit_test(test_fuzz_only_when_asked),
		cmocka_unit_test(test_crlf_patch),
		cmocka_unit_test(test_bad_patches),
		cmocka_unit_test(test_new_file_and_eof),
		cmocka_unit_test(test_two_hunks_in_order),
		cmocka_unit_test(test_unified_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
