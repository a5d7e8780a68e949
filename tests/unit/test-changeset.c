/* Unit tests for changeset.c: reads stay in the tree, the diff of the
 * changes, read-only and symlinked targets refused before anything is
 * written, and a write that fails part way puts back what was written. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/changeset.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/util.h"

static char *tmp;
static int dfd = -1;

static void put(const char *name, const char *text)
{
	assert_true(write_file_atomic(dfd, name, text, strlen(text), 0644, WRITE_NOSYNC) >= 0);
}

static char *get(const char *name)
{
	char *t = NULL;
	size_t len;
	if (read_file_at(dfd, name, 1 << 20, &t, &len) < 0)
		return NULL;
	return t;
}

static int setup(void **state)
{
	char tmpl[] = "/tmp/acso-cs.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	tmp = xstrdup(tmpl);
	dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(mkdirat(dfd, "d", 0755) == 0);
	put("a.txt", "one\ntwo\n");
	put("d/b.txt", "bee\n");
	return 0;
}

static int teardown(void **state)
{
	close(dfd);
	rm_rf_at(AT_FDCWD, tmp);
	free(tmp);
	return 0;
}

static void test_get_set_diff_commit(void **state)
{
	struct changeset cs = {.dirfd = dfd};
	struct acso_err e = {0};
	const char *t;
	size_t len;
	assert_int_equal(cs_get(&cs, "a.txt", &t, &len, &e), 0);
	assert_string_equal(t, "one\ntwo\n");
	assert_int_equal(cs_get(&cs, "new/c.txt", &t, &len, &e), 0);
	assert_null(t);
	cs_set(&cs, "a.txt", "one\nTWO\n", 8);
	cs_set(&cs, "new/c.txt", "sea\n", 4);
	assert_int_equal(cs_changed(&cs), 2);
	struct buf d = {0};
	cs_diff(&cs, &d);
	assert_non_null(strstr(buf_str(&d), "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n"));
	assert_non_null(strstr(buf_str(&d), "--- /dev/null\n+++ b/new/c.txt\n"));
	buf_free(&d);
	assert_int_equal(cs_commit(&cs, &e), 2);
	char *x = get("a.txt");
	assert_string_equal(x, "one\nTWO\n");
	free(x);
	x = get("new/c.txt");
	assert_string_equal(x, "sea\n");
	free(x);
	cs_free(&cs);
	put("a.txt", "one\ntwo\n");
}

static void test_reads_stay_inside(void **state)
{
	struct changeset cs = {.dirfd = dfd};
	struct acso_err e = {0};
	const char *t;
	size_t len;
	assert_int_equal(symlinkat("/etc/passwd", dfd, "evil"), 0);
	/* an absolute symlink resolves inside the tree: no such file there */
	assert_int_equal(cs_get(&cs, "evil", &t, &len, &e), 0);
	assert_null(t);
	cs_free(&cs);
	unlinkat(dfd, "evil", 0);
}

static void test_refused_before_writing(void **state)
{
	struct changeset cs = {.dirfd = dfd};
	struct acso_err e = {0};
	cs_set(&cs, "a.txt", "changed\n", 8);
	cs_set(&cs, "d/b.txt", "changed\n", 8);
	assert_int_equal(fchmodat(dfd, "d/b.txt", 0444, 0), 0);
	assert_int_equal(cs_commit(&cs, &e), -EACCES);
	assert_string_equal(e.msg, "'d/b.txt' is read-only");
	char *x = get("a.txt");
	assert_string_equal(x, "one\ntwo\n"); /* the first file was not written either */
	free(x);
	assert_int_equal(fchmodat(dfd, "d/b.txt", 0644, 0), 0);
	cs_free(&cs);

	/* a directory that is a symlink out of the tree */
	char out[] = "/tmp/acso-cs-out.XXXXXX";
	assert_non_null(mkdtemp(out));
	assert_int_equal(symlinkat(out, dfd, "link"), 0);
	struct changeset cs2 = {.dirfd = dfd};
	cs_set(&cs2, "link/x.txt", "x\n", 2);
	assert_int_equal(cs_commit(&cs2, &e), -ACSO_E_UNSAFE);
	assert_non_null(strstr(e.msg, "leads out of the tree"));
	cs_free(&cs2);
	_cleanup_free_ char *leaked = path_join(out, "x.txt");
	assert_int_equal(access(leaked, F_OK), -1);
	unlinkat(dfd, "link", 0);
	rm_rf_at(AT_FDCWD, out);
}

static void test_rollback(void **state)
{
	struct changeset cs = {.dirfd = dfd};
	struct acso_err e = {0};
	/* The second file is too big for the file size limit: its write fails
	 * after the first file was written, which must be put back. */
	char big[4096];
	memset(big, 'x', sizeof(big));
	cs_set(&cs, "a.txt", "changed\n", 8);
	cs_set(&cs, "d/b.txt", big, sizeof(big));
	struct rlimit old, lim = {1024, 1024};
	getrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &lim);
	int r = cs_commit(&cs, &e);
	setrlimit(RLIMIT_FSIZE, &old);
	assert_int_equal(r, -EFBIG);
	assert_non_null(strstr(e.msg, "write 'd/b.txt'"));
	char *x = get("a.txt");
	assert_string_equal(x, "one\ntwo\n");
	free(x);
	x = get("d/b.txt");
	assert_string_equal(x, "bee\n");
	free(x);
	cs_free(&cs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_set_diff_commit),
		cmocka_unit_test(test_reads_stay_inside),
		cmocka_unit_test(test_refused_before_writing),
		cmocka_unit_test(test_rollback),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
