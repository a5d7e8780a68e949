/* Unit tests for decompress.c: a compressed file read back as plain bytes,
 * plain data passed through, and corrupt data reported. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <string.h>
#include <unistd.h>

#include "base/decompress.h"
#include "base/err.h"
#include "base/util.h"

static const unsigned char hello_gz[] = {
	0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0x48,
	0xcd, 0xc9, 0xc9, 0xe7, 0x02, 0x00, 0x20, 0x30, 0x3a, 0x36, 0x06, 0x00,
	0x00, 0x00};

/* An fd holding data (a memfd: no files left behind). */
static int fd_of(const void *d, size_t n)
{
	int fd = memfd_create("t", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, d, n), (ssize_t)n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static ssize_t read_all(struct decomp *d, char *out, size_t cap, struct acso_err *e)
{
	size_t got = 0;
	for (;;) {
		ssize_t r = decomp_read(d, out + got, cap - got, e);
		if (r <= 0)
			return r < 0 ? r : (ssize_t)got;
		got += (size_t)r;
	}
}

static void test_gzip(void **state)
{
	struct acso_err e = {0};
	struct decomp *d;
	char out[64];
	_cleanup_close_ int fd = fd_of(hello_gz, sizeof(hello_gz));
	assert_int_equal(decomp_open_fd(fd, &d, &e), 0);
	assert_string_equal(decomp_filter(d), "gzip");
	assert_int_equal(read_all(d, out, sizeof(out), &e), 6);
	assert_memory_equal(out, "hello\n", 6);
	decomp_close(d);
	decomp_close(NULL);
}

static void test_plain_and_corrupt(void **state)
{
	struct acso_err e = {0};
	struct decomp *d;
	char out[64];
	_cleanup_close_ int fd = fd_of("plain text\n", 11);
	assert_int_equal(decomp_open_fd(fd, &d, &e), 0);
	assert_string_equal(decomp_filter(d), "none");
	assert_int_equal(read_all(d, out, sizeof(out), &e), 11);
	decomp_close(d);

	/* cut inside the deflate stream (libarchive does not check the gzip
	 * CRC, so a flipped byte is not enough; the signature catches that) */
	_cleanup_close_ int fd2 = fd_of(hello_gz, 13);
	int r = decomp_open_fd(fd2, &d, &e);
	if (r == 0) {
		assert_true(read_all(d, out, sizeof(out), &e) < 0);
		assert_non_null(strstr(e.msg, "decompress"));
		decomp_close(d);
	} else {
		assert_int_equal(r, -ACSO_E_PARSE);
	}

	_cleanup_close_ int fd3 = fd_of("", 0);
	assert_int_equal(decomp_open_fd(fd3, &d, &e), -ACSO_E_PARSE);
	assert_null(d);
	assert_non_null(strstr(e.msg, "cannot decompress"));
}

static void test_suffix(void **state)
{
	assert_true(decomp_suffix("linux-6.1.tar.xz"));
	assert_true(decomp_suffix("a.gz"));
	assert_true(decomp_suffix("a.tar.zst"));
	assert_false(decomp_suffix("linux-6.1.tar"));
	assert_false(decomp_suffix("sha256sums.asc"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_plain_and_corrupt),
		cmocka_unit_test(test_suffix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
