/* Unit tests for unpack.c (one-pass extraction) and the URL policy of
 * http.c: good trees, every refusal, corrupt input, limits, restart, and
 * that tar_data sees exactly the decompressed stream. Fixtures are made at
 * run time with tar, xz and tests/mirror/craft-tar. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/hash.h"
#include "source/http.h"
#include "source/unpack.h"
#include "base/util.h"

static char *dir;

static void sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd;
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
	free(cmd);
}

static int setup(void **state)
{
	char tmpl[] = "/tmp/acso-unpack.XXXXXX";
	dir = xstrdup(mkdtemp(tmpl));
	sh("cd %s && mkdir -p t/linux-1.2.3/sub && printf 'VERSION = 1\\n' > t/linux-1.2.3/Makefile && "
	   "head -c 300000 /dev/urandom > t/linux-1.2.3/sub/blob && ln -s ../Makefile t/linux-1.2.3/sub/link && "
	   "ln t/linux-1.2.3/Makefile t/linux-1.2.3/hard && tar -C t -cf good.tar linux-1.2.3 && xz -k -T1 -1 good.tar && "
	   "xz -k -T2 -1 --block-size=4096 -c good.tar > multi.tar.xz && "
	   "gzip -k good.tar && mkdir -p t2/a t2/b && touch t2/a/x t2/b/y && tar -C t2 -cf two.tar a b && xz -1 two.tar", dir);
	const char *top = getenv("ACSO_TOP") ? getenv("ACSO_TOP") : ".";
	const char *cases[] = { "dotdot", "absolute", "symlink-write", "hardlink-out", "device", "huge" };
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		sh("python3 %s/tests/mirror/craft-tar %s 1.2.3 %s/%s.tar && xz -1 %s/%s.tar", top, cases[i], dir, cases[i], dir, cases[i]);
	return 0;
}

static int teardown(void **state)
{
	rm_rf_at(AT_FDCWD, dir);
	free(dir);
	return 0;
}

struct sink {
	struct hash *h;
	uint64_t n;
};

static void on_tar(void *priv, const void *buf, size_t n)
{
	struct sink *s = priv;
	hash_update(s->h, buf, n);
	s->n += n;
}

/* Extract FILE into a fresh stage; returns the result code, detail in e. */
static int run(const char *file, struct unpack_opts *uo, struct unpack_result *res, struct acso_err *e,
	       char **stage_out)
{
	char *stage = xasprintf("%s/stage-XXXXXX", dir);
	assert_non_null(mkdtemp(stage));
	struct unpack *u;
	assert_int_equal(unpack_begin(stage, uo, &u, e), 0);
	_cleanup_free_ char *p = path_join(dir, file);
	int fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	char b[7777]; /* an odd size: chunks never line up with blocks */
	ssize_t n;
	while ((n = read(fd, b, sizeof(b))) > 0)
		if (unpack_feed(u, b, (size_t)n) < 0)
			break;
	close(fd);
	int r = unpack_end(u, res, e);
	if (stage_out)
		*stage_out = stage;
	else
		free(stage);
	return r;
}

static void test_good(void **state)
{
	/* multi: several xz blocks, decoded by liblzma's threads */
	const char *files[] = { "good.tar.xz", "multi.tar.xz", "good.tar.gz", "good.tar" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct sink s = { .h = hash_new("sha256") };
		struct unpack_opts uo = { .tar_data = on_tar, .priv = &s };
		struct unpack_result res;
		struct acso_err e = {0};
		char *stage;
		assert_int_equal(run(files[i], &uo, &res, &e, &stage), 0);
		assert_string_equal(res.top, "linux-1.2.3");
		assert_int_equal(res.entries, 5);
		_cleanup_free_ char *mk = path_join(stage, "Makefile");
		_cleanup_free_ char *blob = path_join(stage, "sub/blob");
		_cleanup_free_ char *link = path_join(stage, "sub/link");
		_cleanup_free_ char *hard = path_join(stage, "hard");
		struct stat a, b;
		assert_int_equal(stat(mk, &a), 0);
		assert_int_equal(stat(hard, &b), 0);
		assert_int_equal(a.st_ino, b.st_ino);
		assert_int_equal(lstat(link, &a), 0);
		assert_true(S_ISLNK(a.st_mode));
		assert_int_equal(stat(blob, &a), 0);
		assert_int_equal(a.st_size, 300000);
		/* tar_data saw exactly the uncompressed tar */
		char got[HASH_HEX_MAX], want[HASH_HEX_MAX];
		hash_final_hex(s.h, got);
		_cleanup_free_ char *tar = NULL;
		size_t tl;
		_cleanup_free_ char *tp = path_join(dir, "good.tar");
		assert_int_equal(read_file_at(AT_FDCWD, tp, 64 << 20, &tar, &tl), 0);
		assert_int_equal(hash_buf_hex("sha256", tar, tl, want), 0);
		assert_string_equal(got, want);
		assert_int_equal(s.n, tl);
		assert_int_equal(res.tar_bytes, tl);
		rm_rf_at(AT_FDCWD, stage);
		free(stage);
	}
}

static void expect(const char *file, int code, const char *detail, struct unpack_opts *uo)
{
	struct unpack_opts none = {0};
	struct unpack_result res;
	struct acso_err e = {0};
	char *stage;
	int r = run(file, uo ? uo : &none, &res, &e, &stage);
	if (r != code)
		fail_msg("%s: got %d (%s), want %d", file, r, e.msg, code);
	if (!strstr(e.msg, detail))
		fail_msg("%s: '%s' lacks '%s'", file, e.msg, detail);
	rm_rf_at(AT_FDCWD, stage);
	free(stage);
}

static void test_refusals(void **state)
{
	expect("dotdot.tar.xz", -ACSO_E_UNSAFE, "path with '..' refused", NULL);
	expect("absolute.tar.xz", -ACSO_E_UNSAFE, "absolute path refused", NULL);
	expect("symlink-write.tar.xz", -ACSO_E_UNSAFE, "write through the symlink 'out' refused", NULL);
	expect("hardlink-out.tar.xz", -ACSO_E_UNSAFE, "outside the tree refused", NULL);
	expect("device.tar.xz", -ACSO_E_UNSAFE, "device node refused", NULL);
	expect("huge.tar.xz", -ACSO_E_TOOBIG, "claims 1099511627776 bytes", NULL);
	expect("two.tar.xz", -ACSO_E_UNSAFE, "outside the top-level directory 'a'", NULL);
	struct unpack_opts small = { .max_entry = 1000 };
	expect("good.tar.xz", -ACSO_E_TOOBIG, "claims 300000 bytes", &small);
	struct unpack_opts total = { .max_total = 1000, .max_entry = 1 << 20 };
	expect("good.tar.xz", -ACSO_E_TOOBIG, "more than 1000 bytes in all", &total);
	struct unpack_opts few = { .max_entries = 2 };
	expect("good.tar.xz", -ACSO_E_TOOBIG, "more than 2 entries", &few);
}

static void test_corrupt(void **state)
{
	sh("cd %s && head -c 20000 good.tar.xz > trunc.tar.xz && cp good.tar.xz flip.tar.xz && "
	   "printf '\\377' | dd of=flip.tar.xz bs=1 seek=5000 conv=notrunc status=none && "
	   "head -c 5000 /dev/urandom > garbage.bin && : > empty.bin", dir);
	expect("trunc.tar.xz", -ACSO_E_PARSE, "", NULL);
	expect("flip.tar.xz", -ACSO_E_PARSE, "", NULL);
	expect("garbage.bin", -ACSO_E_PARSE, "", NULL);
	expect("empty.bin", -ACSO_E_PARSE, "", NULL);
}

static void test_restart_abort(void **state)
{
	char *stage = xasprintf("%s/stage-XXXXXX", dir);
	assert_non_null(mkdtemp(stage));
	struct unpack *u;
	struct unpack_opts uo = {0};
	struct acso_err e = {0};
	_cleanup_free_ char *good = NULL, *bad = NULL;
	size_t gl, bl;
	_cleanup_free_ char *gp = path_join(dir, "good.tar.xz"), *bp = path_join(dir, "device.tar.xz");
	assert_int_equal(read_file_at(AT_FDCWD, gp, 64 << 20, &good, &gl), 0);
	assert_int_equal(read_file_at(AT_FDCWD, bp, 64 << 20, &bad, &bl), 0);
	assert_int_equal(unpack_begin(stage, &uo, &u, &e), 0);
	unpack_feed(u, bad, bl); /* a bad start, then the whole good file */
	assert_int_equal(unpack_restart(u, &e), 0);
	assert_int_equal(unpack_feed(u, good, gl), 0);
	struct unpack_result res;
	assert_int_equal(unpack_end(u, &res, &e), 0);
	assert_int_equal(res.entries, 5);
	_cleanup_free_ char *null = path_join(stage, "null");
	assert_int_equal(access(null, F_OK), -1);
	/* Abort mid-way frees everything. */
	assert_int_equal(unpack_begin(stage, &uo, &u, &e), 0);
	unpack_feed(u, good, gl / 2);
	unpack_abort(u);
	unpack_abort(NULL);
	assert_int_equal(unpack_begin("/nonexistent/stage", &uo, &u, &e), -ENOENT);
	rm_rf_at(AT_FDCWD, stage);
	free(stage);
}

/* Threads of this process (the pipeline's and liblzma's included). */
static int nthreads(void)
{
	DIR *d = opendir("/proc/self/task");
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A broken block in the middle of a multi-block .xz: the decompressor
 * stops, the writer stops with it (nothing after the break is written),
 * the reason is liblzma's, and no thread is left behind. */
static void test_xz_error_midstream(void **state)
{
	sh("cd %s && test \"$(xz -l multi.tar.xz | awk 'NR==2 {print $2}')\" -gt 20 && cp multi.tar.xz mflip.tar.xz && "
	   "size=$(stat -c %%s multi.tar.xz) && printf '\\377\\377\\377\\377' | "
	   "dd of=mflip.tar.xz bs=1 seek=$((size / 2)) conv=notrunc status=none", dir);
	int before = nthreads();
	struct unpack_opts uo = {0};
	struct unpack_result res;
	struct acso_err e = {0};
	char *stage;
	int r = run("mflip.tar.xz", &uo, &res, &e, &stage);
	if (r != -ACSO_E_PARSE || !strstr(e.msg, "decompress: compressed data is corrupt"))
		fail_msg("got %d (%s)", r, e.msg);
	/* the blob is the last entry: its bytes come after the break */
	_cleanup_free_ char *blob = path_join(stage, "sub/blob");
	struct stat st;
	assert_true(stat(blob, &st) < 0 || st.st_size < 300000);
	assert_int_equal(nthreads(), before);
	rm_rf_at(AT_FDCWD, stage);
	free(stage);
}

/* The writer refuses the first file (larger than max_entry):
 * the decompressor stops too, long before the input is all fed (feeding
 * fails), and no thread is left behind. */
static void test_writer_error_stops_decompressor(void **state)
{
	sh("cd %s && mkdir -p big/linux-1.2.3 && head -c 16000000 /dev/urandom > big/linux-1.2.3/zblob && "
	   "tar -C big -cf - linux-1.2.3 | xz -T2 -0 --block-size=1000000 > big.tar.xz", dir);
	int before = nthreads();
	char *stage = xasprintf("%s/stage-XXXXXX", dir);
	assert_non_null(mkdtemp(stage));
	struct unpack *u;
	struct unpack_opts uo = { .max_entry = 1000 };
	struct acso_err e = {0};
	assert_int_equal(unpack_begin(stage, &uo, &u, &e), 0);
	_cleanup_free_ char *p = path_join(dir, "big.tar.xz");
	int fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	static char b[1 << 16];
	ssize_t n;
	uint64_t fed = 0, size = (uint64_t)lseek(fd, 0, SEEK_END);
	lseek(fd, 0, SEEK_SET);
	int fr = 0;
	while ((n = read(fd, b, sizeof(b))) > 0 && (fr = unpack_feed(u, b, (size_t)n)) == 0)
		fed += (uint64_t)n;
	close(fd);
	struct unpack_result res;
	int r = unpack_end(u, &res, &e);
	if (fr >= 0 || fed >= size / 2)
		fail_msg("fed %llu of %llu bytes (feed %d), then %d (%s)", (unsigned long long)fed,
			 (unsigned long long)size, fr, r, e.msg);
	if (r >= 0 || !strstr(e.msg, "zblob"))
		fail_msg("got %d (%s)", r, e.msg);
	assert_int_equal(nthreads(), before);
	rm_rf_at(AT_FDCWD, stage);
	free(stage);
}

static void test_url_policy(void **state)
{
	struct acso_err e = {0};
	assert_int_equal(http_url_allowed("https://cdn.kernel.org/pub/", false, &e), 0);
	assert_int_equal(http_url_allowed("http://127.0.0.1:8080/x", false, &e), 0);
	assert_int_equal(http_url_allowed("http://127.1.2.3/x", false, &e), 0);
	assert_int_equal(http_url_allowed("http://localhost/x", false, &e), 0);
	assert_int_equal(http_url_allowed("http://[::1]:80/x", false, &e), 0);
	assert_int_equal(http_url_allowed("http://example.org/x", false, &e), -ACSO_E_UNSAFE);
	assert_non_null(strstr(e.msg, "https only"));
	assert_int_equal(http_url_allowed("http://example.org/x", true, &e), 0);
	assert_int_equal(http_url_allowed("http://128.0.0.1/x", false, &e), -ACSO_E_UNSAFE);
	assert_true(http_url_allowed("ftp://example.org/x", true, &e) < 0);
	assert_true(http_url_allowed("file:///etc/passwd", true, &e) < 0);
	assert_int_equal(http_url_allowed("not a url", false, &e), -ACSO_E_PARSE);
	assert_int_equal(http_url_allowed("http://127.0.0.1.evil.example/x", false, &e), -ACSO_E_UNSAFE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_restart_abort),
		cmocka_unit_test(test_xz_error_midstream),
		cmocka_unit_test(test_writer_error_stops_decompressor),
		cmocka_unit_test(test_url_policy),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
