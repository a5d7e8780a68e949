/* Unit tests for git.c: URL policy, cache names, clone then fetch into the
 * cache, refs, tag signature split, list/read, checkout. The upstream
 * repository is made locally with git(1). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "source/git.h"
#include "base/spawn.h"
#include "base/util.h"

static char *tmp;

static void sh(const char *cwd, const char *const argv[])
{
	static const char *const env[] = {"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t",
					  "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t",
					  "GIT_CONFIG_NOSYSTEM=1", NULL};
	struct spawn_opts o = {.env = env, .cwd = cwd, .log_fd = -1, .quiet = true};
	struct acso_err e = {0};
	assert_int_equal(spawn_check(argv, &o, &e), 0);
}

static void put(const char *dir, const char *name, const char *text)
{
	_cleanup_free_ char *p = path_join(dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static const char fake_sig[] = "-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n";

static int setup(void **state)
{
	char tmpl[] = "/tmp/acso-git.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	tmp = xstrdup(tmpl);
	_cleanup_free_ char *up = path_join(tmp, "up");
	assert_int_equal(mkdir(up, 0755), 0);
	sh(up, (const char *const[]){"git", "init", "-q", "-b", "main", NULL});
	_cleanup_free_ char *pd = path_join(up, "patches");
	assert_int_equal(mkdir(pd, 0755), 0);
	put(pd, "0001-a.patch", "A\n");
	put(pd, "0002-b.patch", "B\n");
	put(up, "README", "hello\n");
	sh(up, (const char *const[]){"git", "add", ".", NULL});
	sh(up, (const char *const[]){"git", "commit", "-q", "-m", "one", NULL});
	/* A tag whose message ends in an armored block: the shape of a
	 * signed tag, without needing a key. */
	_cleanup_free_ char *msg = xasprintf("release one\n%s", fake_sig);
	sh(up, (const char *const[]){"git", "tag", "-a", "v1", "-m", msg, NULL});
	sh(up, (const char *const[]){"git", "tag", "-a", "v1-plain", "-m", "unsigned", NULL});
	sh(up, (const char *const[]){"git", "tag", "light", NULL});
	/* A hostile ref: v2 points at the tag object named v1 (issue 15 C10). */
	sh(up, (const char *const[]){"git", "update-ref", "refs/tags/v2", "v1", NULL});
	return 0;
}

static int teardown(void **state)
{
	rm_rf_at(AT_FDCWD, tmp);
	free(tmp);
	return 0;
}

static void test_url_policy(void **state)
{
	struct acso_err e = {0};
	assert_int_equal(acso_git_url_check("https://git.example/x.git", false, &e), 0);
	assert_int_equal(acso_git_url_check("/srv/x.git", false, &e), 0);
	assert_int_equal(acso_git_url_check("git@host:x.git", false, &e), 0);
	assert_int_equal(acso_git_url_check("http://127.0.0.1:8080/x", false, &e), 0);
	assert_int_equal(acso_git_url_check("http://localhost/x", false, &e), 0);
	assert_int_equal(acso_git_url_check("http://example.org/x", false, &e), -ACSO_E_UNSAFE);
	assert_non_null(strstr(e.msg, "plain http"));
	assert_int_equal(acso_git_url_check("http://example.org/x", true, &e), 0);
	assert_int_equal(acso_git_url_check("git://example.org/x", true, &e), -ACSO_E_UNSAFE);
	assert_int_equal(acso_git_url_check("ftp://example.org/x", true, &e), -ACSO_E_UNSUPPORTED);
}

static void test_cache_name(void **state)
{
	_cleanup_free_ char *a = acso_git_cache_name("https://h/a b/../c.git");
	_cleanup_free_ char *b = acso_git_cache_name("https://h/a_b/../c.git");
	assert_null(strchr(a, '/'));
	assert_true(endswith(a, ".git"));
	assert_string_not_equal(a, b);
}

static void test_clone_fetch_read(void **state)
{
	struct acso_err e = {0};
	_cleanup_free_ char *up = path_join(tmp, "up");
	_cleanup_free_ char *work = path_join(tmp, "work");
	struct acso_git *g = NULL;
	assert_int_equal(acso_git_open(work, up, false, &g, &e), 0);
	char oid[41], oid2[41];
	assert_int_equal(acso_git_resolve(g, "v1", oid, &e), 0);
	assert_int_equal(acso_git_resolve(g, NULL, oid2, &e), 0);
	assert_string_equal(oid, oid2);
	assert_int_equal(acso_git_resolve(g, "nope", oid, &e), -ACSO_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "'nope'"));

	struct buf sig = {0}, payload = {0};
	char commit[41] = "";
	assert_int_equal(acso_git_tag_signature(g, "v1", &sig, &payload, commit, &e), 0);
	assert_string_equal(commit, oid); /* the commit the tag object names */
	assert_string_equal(buf_str(&sig), fake_sig);
	assert_true(startswith(buf_str(&payload), "object "));
	assert_non_null(strstr(buf_str(&payload), "release one\n"));
	assert_null(strstr(buf_str(&payload), "BEGIN PGP"));
	buf_free(&sig);
	buf_free(&payload);
	/* The signed name must be the name asked: a ref v2 at the tag v1 is refused. */
	assert_int_equal(acso_git_tag_signature(g, "v2", &sig, &payload, NULL, &e), -ACSO_E_UNSAFE);
	assert_non_null(strstr(e.msg, "tag named 'v1'"));
	assert_int_equal(sig.len + payload.len, 0);
	assert_int_equal(acso_git_tag_signature(g, "refs/tags/v1", &sig, &payload, NULL, &e), 0);
	buf_free(&sig);
	buf_free(&payload);
	assert_int_equal(acso_git_tag_signature(g, "v1-plain", &sig, &payload, NULL, &e), -ACSO_E_UNSAFE);
	assert_non_null(strstr(e.msg, "not signed"));
	assert_int_equal(acso_git_tag_signature(g, "light", &sig, &payload, NULL, &e), -ACSO_E_UNSAFE);
	assert_non_null(strstr(e.msg, "not an annotated tag"));

	struct strv names = {0};
	assert_int_equal(acso_git_list(g, "v1", "patches", &names, &e), 2);
	assert_string_equal(names.v[0], "0001-a.patch");
	assert_string_equal(names.v[1], "0002-b.patch");
	strv_free(&names);
	assert_int_equal(acso_git_list(g, "v1", "nodir", &names, &e), -ACSO_E_NOTFOUND);

	char *text = NULL;
	size_t len = 0;
	assert_int_equal(acso_git_read(g, "main", "patches/0002-b.patch", 100, &text, &len, &e), 0);
	assert_string_equal(text, "B\n");
	free(text);
	assert_int_equal(acso_git_read(g, "main", "README", 3, &text, &len, &e), -ACSO_E_TOOBIG);
	assert_int_equal(acso_git_read(g, "main", "missing", 3, &text, &len, &e), -ACSO_E_NOTFOUND);

	_cleanup_free_ char *co = path_join(tmp, "co");
	assert_int_equal(acso_git_checkout(g, "v1", co, &e), 0);
	_cleanup_free_ char *readme = path_join(co, "README");
	assert_int_equal(read_file_at(AT_FDCWD, readme, 100, &text, &len), 0);
	assert_string_equal(text, "hello\n");
	free(text);
	/* the target must not exist yet */
	assert_true(acso_git_checkout(g, "v1", co, &e) < 0);
	acso_git_close(g);

	/* A new commit upstream arrives with the second open (fetch). */
	put(up, "README", "two\n");
	sh(up, (const char *const[]){"git", "commit", "-q", "-am", "two", NULL});
	assert_int_equal(acso_git_open(work, up, false, &g, &e), 0);
	assert_int_equal(acso_git_read(g, "main", "README", 100, &text, &len, &e), 0);
	assert_string_equal(text, "two\n");
	free(text);
	acso_git_close(g);

	/* A bad source leaves no cache behind. */
	_cleanup_free_ char *bad = path_join(tmp, "nothing-here");
	assert_true(acso_git_open(work, bad, false, &g, &e) < 0);
	_cleanup_free_ char *name = acso_git_cache_name(bad);
	_cleanup_free_ char *gd = path_join(work, "git");
	_cleanup_free_ char *cache = path_join(gd, name);
	_cleanup_free_ char *part = xasprintf("%s.part", cache);
	assert_int_equal(access(cache, F_OK), -1);
	assert_int_equal(access(part, F_OK), -1);
	/* git:// refused before anything is touched */
	assert_int_equal(acso_git_open(work, "git://x/y", true, &g, &e), -ACSO_E_UNSAFE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_policy),
		cmocka_unit_test(test_cache_name),
		cmocka_unit_test(test_clone_fetch_read),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
