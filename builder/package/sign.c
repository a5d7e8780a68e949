/* sign.c — see sign.h. The image and its directory are opened once, below
 * the root and without following a symlink in the last component; sbsign
 * and sbverify reach them through /proc/self/fd paths of those very
 * descriptors (/proc/PID/fd/N of this process: the children are the same
 * user), so what is checked is what is signed and replaced, and the private
 * key is read by sbsign from its own file and nowhere else. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/spawn.h"
#include "base/util.h"
#include "package/sign.h"

bool sign_is_pe(const unsigned char *head, size_t len)
{
	if (len < 0x40 || head[0] != 'M' || head[1] != 'Z')
		return false;
	uint32_t off = (uint32_t)head[0x3c] | (uint32_t)head[0x3d] << 8 | (uint32_t)head[0x3e] << 16 |
		       (uint32_t)head[0x3f] << 24;
	return off <= len - 4 && !memcmp(head + off, "PE\0\0", 4);
}

/* The certificate as a PEM file sbsign and sbverify can read, in a private
 * temporary directory (*dir, removed by the caller). */
static int cert_pem(int rootfd, const struct mok *m, char **dir, char **path, struct acso_err *e)
{
	_cleanup_free_ char *pem = NULL;
	size_t len = 0;
	int r = mok_cert_pem(rootfd, m, &pem, &len, e);
	if (r < 0)
		return r;
	const char *tmp = getenv("TMPDIR");
	*dir = xasprintf("%s/acso-sign.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(*dir))
		return err_set(e, -errno, "make a temporary directory: %s", strerror(errno));
	*path = path_join(*dir, "cert.pem");
	r = write_file_atomic(AT_FDCWD, *path, pem, len, 0644, WRITE_NOSYNC);
	return r < 0 ? err_set(e, r, "write '%s': %s", *path, acso_strerror(r)) : 0;
}

/* A path a child of ours opens to reach our descriptor fd (and name in it). */
static char *fd_path(int fd, const char *name)
{
	return name ? xasprintf("/proc/%d/fd/%d/%s", (int)getpid(), fd, name)
		    : xasprintf("/proc/%d/fd/%d", (int)getpid(), fd);
}

static int run_quiet(const char *const argv[], struct acso_err *e)
{
	struct buf out = {0};
	struct spawn_opts o = {.log_fd = -1, .capture = &out};
	int status, r = spawn_run(argv, &o, &status);
	buf_free(&out);
	if (r < 0)
		return err_set(e, r, "%s: %s", argv[0], strerror(-r));
	if (status != 0) {
		char how[64];
		spawn_describe(status, how, sizeof(how));
		return err_set(e, -ACSO_E_CHILD, "%s %s", argv[0], how);
	}
	return 0;
}

/* Split "/boot/vmlinuz-X" into an open directory and the name. */
static int open_parts(int rootfd, const char *image, int *dfd, const char **name, int *ifd, struct acso_err *e)
{
	const char *slash = strrchr(image, '/');
	if (image[0] != '/' || !slash || !slash[1])
		return err_set(e, -EINVAL, "'%s' is not an absolute path of a file", image);
	_cleanup_free_ char *dir = slash == image ? xstrdup("/") : xstrndup(image, (size_t)(slash - image));
	*name = slash + 1;
	*dfd = root_opendir_fd(rootfd, dir);
	if (*dfd < 0)
		return err_set(e, *dfd, "'%s': %s", dir, strerror(-*dfd));
	*ifd = openat(*dfd, *name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (*ifd < 0)
		return err_set(e, -errno, "kernel image '%s': %s", image, strerror(errno));
	struct stat st;
	if (fstat(*ifd, &st) < 0 || !S_ISREG(st.st_mode))
		return err_set(e, -ACSO_E_UNSUPPORTED, "kernel image '%s' is not a regular file", image);
	return 0;
}

static int check_pe(int ifd, const char *image, struct acso_err *e)
{
	unsigned char head[4096];
	ssize_t n = pread(ifd, head, sizeof(head), 0);
	if (n < 0)
		return err_set(e, -errno, "read '%s': %s", image, strerror(errno));
	if (!sign_is_pe(head, (size_t)n))
		return err_set(e, -ACSO_E_UNSUPPORTED,
			       "'%s' is not a PE/EFI image: the kernel was built without CONFIG_EFI_STUB, and shim can load only an EFI image", image);
	return 0;
}

/* sbsign into a temporary file beside the image, sbverify it, rename. */
static int sign_replace(int rootfd, int dfd, int ifd, const char *name, const char *image, const struct mok *m,
			const char *cert, struct acso_err *e)
{
	_cleanup_close_ int kfd = root_open(rootfd, m->key, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0);
	if (kfd < 0)
		return err_set(e, kfd, "MOK key '%s': %s", m->key, strerror(-kfd));
	_cleanup_free_ char *tmpname = xasprintf(".%s.acso-tmp.%d", name, (int)getpid());
	_cleanup_free_ char *in = fd_path(ifd, NULL), *out = fd_path(dfd, tmpname), *key = fd_path(kfd, NULL);
	const char *sign[] = {"sbsign", "--key", key, "--cert", cert, "--output", out, in, NULL};
	const char *verify[] = {"sbverify", "--cert", cert, out, NULL};
	int r = run_quiet(sign, e);
	if (r == 0)
		r = run_quiet(verify, e);
	if (r == 0) {
		_cleanup_close_ int tfd = openat(dfd, tmpname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		struct stat st;
		if (tfd < 0 || fstat(ifd, &st) < 0 || fchmod(tfd, st.st_mode & 07777) < 0 || fsync(tfd) < 0)
			r = err_set(e, -errno, "the signed image of '%s': %s", image, strerror(errno));
	}
	if (r == 0 && renameat(dfd, tmpname, dfd, name) < 0)
		r = err_set(e, -errno, "rename the signed image over '%s': %s", image, strerror(errno));
	if (r < 0) {
		unlinkat(dfd, tmpname, 0);
		return r;
	}
	fsync(dfd);
	return 0;
}

int sign_image(int rootfd, const char *image, const struct mok *m, bool dry_run,
	       enum sign_outcome *outcome, struct acso_err *e)
{
	_cleanup_free_ char *sbsign = spawn_which("sbsign"), *sbverify = spawn_which("sbverify");
	if (!sbsign || !sbverify)
		return err_set(e, -ACSO_E_NOTFOUND, "sbsign and sbverify are not installed (apt install sbsigntool)");
	_cleanup_close_ int dfd = -1, ifd = -1;
	const char *name = NULL;
	int r = open_parts(rootfd, image, &dfd, &name, &ifd, e);
	if (r == 0)
		r = check_pe(ifd, image, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *tmpdir = NULL, *cert = NULL;
	r = cert_pem(rootfd, m, &tmpdir, &cert, e);
	if (r == 0) {
		_cleanup_free_ char *in = fd_path(ifd, NULL);
		const char *verify[] = {"sbverify", "--cert", cert, in, NULL};
		struct acso_err ignore = {0};
		*outcome = run_quiet(verify, &ignore) == 0 ? SIGN_ALREADY : SIGN_DONE;
		if (*outcome == SIGN_DONE && !dry_run)
			r = sign_replace(rootfd, dfd, ifd, name, image, m, cert, e);
	}
	if (tmpdir)
		rm_rf_at(AT_FDCWD, tmpdir);
	return r;
}
