/* Unit tests for the foundation: strict numbers, config files, atomic
 * writes, root-relative opens, child processes, the work dir lock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/json.h"
#include "base/lock.h"
#include "base/spawn.h"
#include "base/util.h"

static char *tmpdir(void)
{
	char tmpl[] = "/tmp/acso-unit.XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return xstrdup(d);
}

static void test_parse_numbers(void **state)
{
	uint64_t v;
	uint32_t w;
	int i;
	assert_int_equal(parse_u64("42", 10, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_u64("0x10de", 16, &v), 0);
	assert_int_equal(v, 0x10de);
	assert_int_equal(parse_u64("", 10, &v), -EINVAL);
	assert_int_equal(parse_u64("-1", 10, &v), -EINVAL);
	assert_int_equal(parse_u64("12a", 10, &v), -EINVAL);
	assert_int_equal(parse_u64(" 1", 10, &v), -EINVAL);
	assert_int_equal(parse_u64("99999999999999999999999", 10, &v), -ERANGE);
	assert_int_equal(parse_u64("10", 0, &v), -EINVAL);
	assert_int_equal(parse_u32("4294967296", 10, &w), -ERANGE);
	assert_int_equal(parse_int("-5", &i), 0);
	assert_int_equal(i, -5);
	assert_int_equal(parse_int("+5", &i), -EINVAL);
}

static void test_conf(void **state)
{
	struct conf c = {0};
	struct acso_err e = {0};
	assert_int_equal(conf_parse(&c, "# comment\n\nmirror = http://x/\nwork_dir=\"/tmp/a b\"\nmirror = https://y/\n", "t", &e), 0);
	assert_string_equal(conf_get(&c, "mirror"), "https://y/");
	assert_string_equal(conf_get(&c, "work_dir"), "/tmp/a b");
	assert_null(conf_get(&c, "nope"));
	assert_int_equal(conf_parse(&c, "ok = 1\njunk line\n", "f.conf", &e), -ACSO_E_PARSE);
	assert_string_equal(e.msg, "f.conf:2: expected 'key = value'");
	assert_int_equal(conf_parse(&c, " = 1\n", "f.conf", &e), -ACSO_E_PARSE);
	assert_int_equal(conf_parse(&c, "a b = 1\n", "f.conf", &e), -ACSO_E_PARSE);
	assert_true(conf_key_known("mirror"));
	assert_false(conf_key_known("mirorr"));
	conf_free(&c);
}

/* One yes/no parser for every boolean key: each spelling in any case, the
 * default when unset, and anything else an error naming key and file. */
static void test_conf_bool(void **state)
{
	struct conf c = {0};
	struct acso_err e = {0};
	bool b = true;
	static const char *const yes[] = {"yes", "true", "on", "1", "YES", "True", "On"};
	static const char *const no[] = {"no", "false", "off", "0", "NO", "False", "oFF"};
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		conf_set(&c, "allow_http", yes[i], "t:1");
		assert_int_equal(conf_bool(&c, "allow_http", false, &b, &e), 0);
		assert_true(b);
		conf_set(&c, "allow_http", no[i], "t:1");
		assert_int_equal(conf_bool(&c, "allow_http", true, &b, &e), 0);
		assert_false(b);
	}
	assert_int_equal(conf_bool(&c, "ccache", true, &b, &e), 0);
	assert_true(b); /* unset: the default */
	assert_int_equal(conf_bool(&c, "ccache", false, &b, &e), 0);
	assert_false(b);
	static const char *const bad[] = {"maybe", "", "y", "2", "yes please", "truee"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		conf_set(&c, "ccache", bad[i], "/etc/acso.conf:3");
		b = true;
		assert_int_equal(conf_bool(&c, "ccache", true, &b, &e), -ACSO_E_PARSE);
		assert_non_null(strstr(e.msg, "'ccache' in /etc/acso.conf:3"));
		assert_non_null(strstr(e.msg, "is not a yes/no value"));
	}
	conf_free(&c);
}

/* The helpers that had a copy in several files: ISO-8601 UTC timestamps,
 * the JSON string member, the path of the running binary. */
static void test_shared_helpers(void **state)
{
	char b[ISO_UTC_SIZE];
	assert_true(iso_utc(0, b, sizeof(b)));
	assert_string_equal(b, "1970-01-01T00:00:00Z");
	assert_true(iso_utc(1733420980, b, sizeof(b)));
	assert_string_equal(b, "2024-12-05T17:49:40Z");
	assert_false(iso_utc(1733420980, b, 10)); /* does not fit: "" */
	assert_string_equal(b, "");
	_cleanup_free_ char *d = iso_utc_dup(86400);
	assert_string_equal(d, "1970-01-02T00:00:00Z");

	struct json_object *o = json_tokener_parse("{\"s\": \"x\", \"n\": 1, \"z\": null, \"o\": {}}");
	assert_non_null(o);
	assert_string_equal(json_str(o, "s"), "x");
	assert_null(json_str(o, "n")); /* not a string */
	assert_null(json_str(o, "z"));
	assert_null(json_str(o, "o"));
	assert_null(json_str(o, "missing"));
	assert_null(json_str(NULL, "s"));
	json_object_put(o);

	_cleanup_free_ char *exe = NULL;
	assert_int_equal(self_exe(&exe), 0);
	assert_true(exe[0] == '/' && endswith(exe, "/test-foundation"));
}

static void test_atomic_write(void **state)
{
	_cleanup_free_ char *d = tmpdir();
	int dfd = open(d, O_PATH | O_DIRECTORY);
	assert_true(dfd >= 0);
	assert_int_equal(write_file_atomic(dfd, "f", "one\n", 4, 0640, 0), 1);
	assert_int_equal(write_file_atomic(dfd, "f", "one\n", 4, 0640, 0), 0); /* unchanged: not rewritten */
	assert_int_equal(write_file_atomic(dfd, "f", "two\n", 4, 0600, WRITE_BACKUP), 1);
	char *s;
	size_t n;
	assert_int_equal(read_file_at(dfd, "f", 100, &s, &n), 0);
	assert_string_equal(s, "two\n");
	free(s);
	assert_int_equal(read_file_at(dfd, "f.acso-bak", 100, &s, &n), 0);
	assert_string_equal(s, "one\n");
	free(s);
	struct stat st;
	assert_int_equal(fstatat(dfd, "f", &st, 0), 0);
	assert_int_equal(st.st_mode & 0777, 0640); /* the mode of the replaced file is kept */
	/* A temp file of f left by a writer that is gone (kill -9, power
	 * loss) is removed by the next write of f; a living writer's, and
	 * another file's, are not. */
	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	assert_true(dead > 0);
	waitpid(dead, NULL, 0);
	_cleanup_free_ char *stale = xasprintf(".f.acso-tmp.%d", (int)dead);
	_cleanup_free_ char *live = xasprintf(".f.acso-tmp.%d", (int)getppid());
	_cleanup_free_ char *other = xasprintf(".g.acso-tmp.%d", (int)dead);
	const char *const temps[] = {stale, live, other};
	for (size_t i = 0; i < ARRAY_SIZE(temps); i++) {
		int t = openat(dfd, temps[i], O_WRONLY | O_CREAT | O_EXCL, 0600);
		assert_true(t >= 0);
		close(t);
	}
	assert_int_equal(write_file_atomic(dfd, "f", "three\n", 6, 0600, 0), 1);
	assert_int_equal(faccessat(dfd, stale, F_OK, 0), -1);
	assert_int_equal(faccessat(dfd, live, F_OK, 0), 0);
	assert_int_equal(faccessat(dfd, other, F_OK, 0), 0);
	/* A write into a missing directory fails and leaves nothing. */
	assert_true(write_file_atomic(dfd, "missing/f", "x", 1, 0644, 0) < 0);
	/* Bounded read refuses a larger file. */
	assert_int_equal(read_file_at(dfd, "f", 2, &s, &n), -EFBIG);
	assert_int_equal(rm_rf_at(AT_FDCWD, d), 0);
	assert_int_equal(access(d, F_OK), -1);
	close(dfd);
}

/* mkdir_p_owned gives what it makes to the user, and never follows a
 * symlink planted where a directory should be. */
static void test_mkdir_p_owned(void **state)
{
	_cleanup_free_ char *d = tmpdir();
	_cleanup_free_ char *made = xasprintf("%s/a/b", d);
	uid_t uid = getuid() == 0 ? 65534 : (uid_t)-1;
	assert_int_equal(mkdir_p_owned(made, 0755, uid, uid), 0);
	struct stat st;
	assert_int_equal(stat(made, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	if (uid != (uid_t)-1)
		assert_int_equal(st.st_uid, uid);
	_cleanup_free_ char *target = xasprintf("%s/target", d);
	_cleanup_free_ char *link = xasprintf("%s/a/link", d);
	assert_int_equal(mkdir(target, 0700), 0);
	assert_int_equal(symlink(target, link), 0);
	assert_true(mkdir_p_owned(link, 0755, 65534, 65534) < 0);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_uid, getuid()); /* the link's target was not handed over */
	/* the refusal says why (issue 15, item 1) */
	struct acso_err e = {0};
	assert_int_equal(mkdir_owned_open(link, 0755, 65534, 65534, &e), -ACSO_E_UNSAFE);
	assert_non_null(strstr(e.msg, "'link' in '"));
	assert_non_null(strstr(e.msg, "is a symlink in a directory another user can write"));
	/* a link only we could have made (our own 0700 directory) is followed */
	_cleanup_free_ char *ours = xasprintf("%s/ours", d);
	_cleanup_free_ char *via = xasprintf("%s/ours/sub", d);
	_cleanup_free_ char *landed = xasprintf("%s/target/sub", d);
	assert_int_equal(symlink(target, ours), 0);
	assert_int_equal(mkdir_p_owned(via, 0755, uid, uid), 0);
	assert_int_equal(stat(landed, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* ".." walks up without following anything */
	_cleanup_free_ char *up = xasprintf("%s/a/b/../c", d);
	_cleanup_free_ char *c = xasprintf("%s/a/c", d);
	assert_int_equal(mkdir_p_owned(up, 0755, uid, uid), 0);
	assert_int_equal(stat(c, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* a directory of a third user is refused */
	if (uid != (uid_t)-1) {
		_cleanup_free_ char *third = xasprintf("%s/third", d);
		_cleanup_free_ char *below = xasprintf("%s/third/x", d);
		assert_int_equal(mkdir(third, 0755), 0);
		assert_int_equal(chown(third, 4242, 4242), 0);
		assert_int_equal(mkdir_owned_open(below, 0755, uid, uid, &e), -ACSO_E_UNSAFE);
		assert_non_null(strstr(e.msg, "belongs to uid 4242"));
	}
	assert_int_equal(rm_rf_at(AT_FDCWD, d), 0);
}

static void test_root_relative(void **state)
{
	_cleanup_free_ char *d = tmpdir();
	_cleanup_free_ char *p = path_join(d, "proc");
	assert_int_equal(mkdir_p_at(AT_FDCWD, p, 0755), 0);
	_cleanup_free_ char *f = path_join(d, "proc/cmdline");
	FILE *fp = fopen(f, "w");
	fputs("quiet intel_iommu=on\n", fp);
	fclose(fp);
	/* An absolute symlink inside the root resolves inside the root. */
	_cleanup_free_ char *l = path_join(d, "proc/link");
	assert_int_equal(symlink("/proc/cmdline", l), 0);
	int root = root_open_dir(d);
	assert_true(root >= 0);
	char *s;
	assert_int_equal(root_read_attr(root, "/proc/cmdline", &s), 0);
	assert_string_equal(s, "quiet intel_iommu=on");
	free(s);
	assert_int_equal(root_read_attr(root, "/proc/link", &s), 0);
	assert_string_equal(s, "quiet intel_iommu=on");
	free(s);
	assert_int_equal(root_readlink(root, "/proc/link", &s), 0);
	assert_string_equal(s, "/proc/cmdline");
	free(s);
	assert_int_equal(root_read_attr(root, "/proc/absent", &s), -ENOENT);
	/* sysfs reads follow no symlink and read regular files only. */
	size_t n;
	assert_int_equal(root_read_sysfs(root, "/proc/link", 64, &s, &n), -ACSO_E_UNSAFE);
	assert_int_equal(root_read_sysfs(root, "/proc/cmdline", 64, &s, &n), 0);
	free(s);
	_cleanup_free_ char *fifo = path_join(d, "proc/fifo");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_int_equal(root_read_file(root, "/proc/fifo", 64, &s, &n), -ACSO_E_UNSAFE);
	assert_int_equal(root_read_sysfs(root, "/proc/fifo", 64, &s, &n), -ACSO_E_UNSAFE);
	assert_int_equal(root_read_file(root, "/proc", 64, &s, &n), -EISDIR);
	/* ".." cannot climb out of the root. */
	assert_int_equal(root_exists(root, "/../../../../etc/passwd"), -ENOENT);
	assert_true(root_open_dir("/does/not/exist") < 0);
	close(root);
	rm_rf_at(AT_FDCWD, d);
}

static int lines;
static void count_line(void *priv, const char *line) { lines++; }

static void test_spawn(void **state)
{
	struct buf out = {0};
	struct spawn_opts o = {.log_fd = -1, .capture = &out, .on_line = count_line};
	const char *echo[] = {"sh", "-c", "echo a; echo b; echo err >&2; echo $LC_ALL", NULL};
	int st;
	lines = 0;
	assert_int_equal(spawn_run(echo, &o, &st), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_string_equal(buf_str(&out), "a\nb\nC\n");
	assert_int_equal(lines, 4);
	buf_free(&out);

	const char *missing[] = {"acso-no-such-program", NULL};
	assert_int_equal(spawn_run(missing, &o, &st), -ENOENT);

	struct acso_err e = {0};
	const char *bad[] = {"sh", "-c", "exit 3", NULL};
	assert_int_equal(spawn_check(bad, NULL, &e), -ACSO_E_CHILD);
	assert_string_equal(e.msg, "sh exited with status 3");
	const char *sig[] = {"sh", "-c", "kill -9 $$", NULL};
	assert_int_equal(spawn_check(sig, NULL, &e), -ACSO_E_CHILD);
	assert_non_null(strstr(e.msg, "killed by signal 9"));

	/* The environment is an allow-list. */
	setenv("ACSO_SECRET", "x", 1);
	const char *env[] = {"sh", "-c", "echo ${ACSO_SECRET:-unset} $EXTRA", NULL};
	const char *extra[] = {"EXTRA=yes", NULL};
	struct spawn_opts o2 = {.log_fd = -1, .capture = &out, .env = extra};
	assert_int_equal(spawn_run(env, &o2, &st), 0);
	assert_string_equal(buf_str(&out), "unset yes\n");
	buf_free(&out);

	/* The whole environment, with env's names replaced (not repeated). */
	setenv("ACSO_OVERRIDE", "parent", 1);
	const char *printenv[] = {"env", NULL};
	const char *over[] = {"ACSO_OVERRIDE=child", NULL};
	struct spawn_opts o3 = {.log_fd = -1, .capture = &out, .env = over, .inherit_env = true};
	assert_int_equal(spawn_run(printenv, &o3, &st), 0);
	assert_non_null(strstr(buf_str(&out), "ACSO_SECRET=x\n"));
	assert_non_null(strstr(buf_str(&out), "ACSO_OVERRIDE=child\n"));
	assert_null(strstr(buf_str(&out), "ACSO_OVERRIDE=parent"));
	buf_free(&out);
}

static void test_lock(void **state)
{
	_cleanup_free_ char *d = tmpdir();
	struct acso_err e = {0};
	int fd = lock_work_dir(d, "run", &e);
	assert_true(fd >= 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct acso_err e2 = {0};
		int r = lock_work_dir(d, "fetch", &e2);
		_exit(r == -ACSO_E_LOCKED && strstr(e2.msg, "acso run") ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	unlock_work_dir(fd);
	fd = lock_work_dir(d, "run", &e);
	assert_true(fd >= 0);
	unlock_work_dir(fd);
	rm_rf_at(AT_FDCWD, d);
}

static void test_strerror(void **state)
{
	assert_string_equal(acso_strerror(-ACSO_E_BADSIG), "BAD signature");
	assert_string_equal(acso_strerror(-ENOENT), "No such file or directory");
	struct acso_err e = {0};
	assert_int_equal(err_set(&e, -ACSO_E_HTTP, "HTTP %d", 404), -ACSO_E_HTTP);
	err_wrap(&e, -ACSO_E_HTTP, "fetch '%s'", "u");
	assert_string_equal(e.msg, "fetch 'u': HTTP 404");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_conf_bool),
		cmocka_unit_test(test_shared_helpers),
		cmocka_unit_test(test_atomic_write),
		cmocka_unit_test(test_mkdir_p_owned),
		cmocka_unit_test(test_root_relative),
		cmocka_unit_test(test_spawn),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
