/* Unit tests for diff.c: patches parsed and applied by libgit2 on an
 * in-memory tree — git-style and plain unified diffs, new and deleted
 * files, several patches in order, all or nothing (a failure in the 3rd
 * patch leaves the changeset as it was), the refusals (context not at the
 * header's line, paths out of the tree, CRLF, a patch cut short), and the
 * unified diff written for --dry-run applying back (round trip). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/util.h"
#include "kernel/changeset.h"
#include "kernel/diff.h"
#include "unit-tmp.h"

static const char base[] = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n";

static int dfd = -1;

static int setup(void **state)
{
	char tmpl[] = "/tmp/acso-diff.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	g_tmp = xstrdup(tmpl);
	dfd = open(g_tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(mkdirat(dfd, "dir", 0755) == 0);
	assert_true(write_file_atomic(dfd, "dir/f.txt", base, strlen(base), 0644, WRITE_NOSYNC) >= 0);
	assert_true(write_file_atomic(dfd, "g.txt", "gee\n", 4, 0644, WRITE_NOSYNC) >= 0);
	return 0;
}

static int teardown(void **state)
{
	close(dfd);
	return rm_tmp(state);
}

/* Apply patches (NULL-terminated) to a fresh changeset of the tree. */
static int apply(struct changeset *cs, const char *const *patches, size_t *failed, struct acso_err *e)
{
	size_t n = 0;
	while (patches[n])
		n++;
	struct diff_patch_in in[8] = {0};
	struct diff_patch_report rep[8] = {0};
	for (size_t i = 0; i < n; i++)
		in[i] = (struct diff_patch_in){xasprintf("p%zu.patch", i + 1), patches[i], strlen(patches[i])};
	enum diff_stage st;
	*cs = (struct changeset){.dirfd = dfd};
	int r = diff_apply_all(cs, in, n, rep, failed, &st, e);
	for (size_t i = 0; i < n; i++) {
		free((char *)in[i].name);
		diff_patch_report_free(&rep[i]);
	}
	return r;
}

static const char *text_of(struct changeset *cs, const char *path)
{
	const char *t;
	size_t len;
	assert_int_equal(cs_get(cs, path, &t, &len, NULL), 0);
	return t;
}

static const char four[] =
	"From: someone\nSubject: [PATCH] change four\n\n---\n"
	"diff --git a/dir/f.txt b/dir/f.txt\n"
	"--- a/dir/f.txt\n+++ b/dir/f.txt\n"
	"@@ -2,5 +2,5 @@\n two\n three\n-four\n+FOUR\n five\n six\n-- \n2.39.2\n";
/* plain unified diffs: no "diff --git" line */
static const char newfile[] = "--- /dev/null\n+++ b/dir/new.txt\n@@ -0,0 +1,2 @@\n+hello\n+world\n";
static const char delg[] = "--- a/g.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-gee\n";
static const char six[] = "--- a/dir/f.txt\t2026-01-01 00:00:00\n+++ b/dir/f.txt\t2026-01-01 00:00:00\n"
			  "@@ -5,3 +5,3 @@\n five\n-six\n+SIX\n seven\n";

static void test_apply_in_order(void **state)
{
	struct changeset cs;
	struct acso_err e = {0};
	size_t failed;
	const char *const ps[] = {four, newfile, delg, six, NULL};
	int r = apply(&cs, ps, &failed, &e);
	if (r < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(text_of(&cs, "dir/f.txt"), "one\ntwo\nthree\nFOUR\nfive\nSIX\nseven\n");
	assert_string_equal(text_of(&cs, "dir/new.txt"), "hello\nworld\n");
	assert_null(text_of(&cs, "g.txt"));
	assert_int_equal(cs_changed(&cs), 3);
	cs_free(&cs);
}

static void test_report(void **state)
{
	struct diff_patch_in in[] = {{"four.patch", four, strlen(four)}, {"new.patch", newfile, strlen(newfile)}};
	struct diff_patch_report rep[2] = {0};
	struct changeset cs = {.dirfd = dfd};
	struct acso_err e = {0};
	size_t failed;
	enum diff_stage st;
	assert_int_equal(diff_apply_all(&cs, in, 2, rep, &failed, &st, &e), 0);
	assert_int_equal(rep[0].nf, 1);
	assert_string_equal(rep[0].files[0].path, "dir/f.txt");
	assert_int_equal(rep[0].files[0].nh, 1);
	assert_int_equal(rep[0].files[0].hunks[0].at_line, 2);
	assert_int_equal(rep[0].files[0].hunks[0].lines, 5);
	assert_string_equal(rep[1].files[0].path, "dir/new.txt");
	diff_patch_report_free(&rep[0]);
	diff_patch_report_free(&rep[1]);
	cs_free(&cs);
}

/* All or nothing: the 3rd patch's first file applies, its second does
 * not; the changeset holds none of the three. */
static void test_all_or_nothing(void **state)
{
	static const char third[] =
		"diff --git a/g.txt b/g.txt\n--- a/g.txt\n+++ b/g.txt\n@@ -1 +1 @@\n-gee\n+GEE\n"
		"diff --git a/dir/f.txt b/dir/f.txt\n--- a/dir/f.txt\n+++ b/dir/f.txt\n"
		"@@ -1,2 +1,2 @@\n-no such line\n+x\n two\n";
	struct changeset cs;
	struct acso_err e = {0};
	size_t failed = 99;
	const char *const ps[] = {four, newfile, third, NULL};
	assert_true(apply(&cs, ps, &failed, &e) < 0);
	assert_int_equal(failed, 2);
	assert_non_null(strstr(e.msg, "p3.patch: does not apply to 'dir/f.txt'"));
	assert_int_equal(cs_changed(&cs), 0);
	assert_string_equal(text_of(&cs, "g.txt"), "gee\n");
	assert_null(text_of(&cs, "dir/new.txt"));
	cs_free(&cs);
	/* the same set with the 3rd patch cut after its first file's header */
	_cleanup_free_ char *cut = xstrndup(third, (size_t)(strstr(third, "--- a/dir") - third));
	const char *const ps2[] = {four, newfile, cut, NULL};
	assert_true(apply(&cs, ps2, &failed, &e) < 0);
	assert_int_equal(failed, 2);
	assert_non_null(strstr(e.msg, "cut short"));
	assert_int_equal(cs_changed(&cs), 0);
	cs_free(&cs);
}

static void test_refusals(void **state)
{
	static const char offset[] = "--- a/dir/f.txt\n+++ b/dir/f.txt\n@@ -3,3 +3,3 @@\n two\n-three\n+THREE\n four\n";
	static const char escape[] = "--- a/../x\n+++ b/../x\n@@ -1 +1 @@\n-a\n+b\n";
	static const char dotgit[] = "--- /dev/null\n+++ b/.git/config\n@@ -0,0 +1 @@\n+x\n";
	static const char crlf[] = "--- a/g.txt\r\n+++ b/g.txt\r\n@@ -1 +1 @@\r\n-gee\r\n+GEE\r\n";
	static const char garbage[] = "this is not a patch\n";
	static const char missing[] = "--- a/nope.txt\n+++ b/nope.txt\n@@ -1 +1 @@\n-a\n+b\n";
	static const char exists[] = "--- /dev/null\n+++ b/g.txt\n@@ -0,0 +1 @@\n+again\n";
	static const struct {
		const char *patch, *why;
		int code;
	} cases[] = {
		{offset, "hunk at line 3 did not apply", -ACSO_E_PARSE}, /* the context is one line up */
		{escape, "leaves the tree", -ACSO_E_UNSAFE},
		{dotgit, "leaves the tree", -ACSO_E_UNSAFE},
		{crlf, "CRLF line endings", -ACSO_E_PARSE},
		{garbage, "p1.patch: ", -ACSO_E_PARSE},
		{missing, "p1.patch: does not apply to 'nope.txt'", -ACSO_E_PARSE},
		{exists, "p1.patch: creates 'g.txt', which already exists", -EEXIST},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct changeset cs;
		struct acso_err e = {0};
		size_t failed;
		const char *const ps[] = {cases[i].patch, NULL};
		int r = apply(&cs, ps, &failed, &e);
		if (r != cases[i].code || !strstr(e.msg, cases[i].why))
			fail_msg("case %zu: %d '%s'", i, r, e.msg);
		assert_int_equal(cs_changed(&cs), 0);
		cs_free(&cs);
	}
}

/* What --dry-run prints applies back to the same result. */
static void test_unified_roundtrip(void **state)
{
	static const char after[] = "zero\none\ntwo\nthree\nFOUR\nfive\nsix\nseven\neight\n";
	struct buf d = {0};
	assert_int_equal(diff_unified("dir/f.txt", base, strlen(base), after, strlen(after), 3, &d), 0);
	assert_non_null(strstr(buf_str(&d), "--- a/dir/f.txt\n+++ b/dir/f.txt\n"));
	struct changeset cs;
	struct acso_err e = {0};
	size_t failed;
	const char *const ps[] = {buf_str(&d), NULL};
	int r = apply(&cs, ps, &failed, &e);
	if (r < 0)
		fail_msg("%s\n%s", e.msg, buf_str(&d));
	assert_string_equal(text_of(&cs, "dir/f.txt"), after);
	cs_free(&cs);
	buf_free(&d);
	/* a new file and a deleted one */
	assert_int_equal(diff_unified("n.txt", NULL, 0, "x\n", 2, 3, &d), 0);
	assert_non_null(strstr(buf_str(&d), "--- /dev/null\n+++ b/n.txt\n"));
	buf_free(&d);
	assert_int_equal(diff_unified("g.txt", "gee\n", 4, NULL, 0, 3, &d), 0);
	assert_non_null(strstr(buf_str(&d), "--- a/g.txt\n+++ /dev/null\n"));
	buf_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_apply_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unified_roundtrip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
