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

/* With sbsigntool installed: the image opened (open_parts) and a PE image. */
static int open_image(int rootfd, const char *image, int *dfd, const char **name, int *ifd, struct acso_err *e)
{
	_cleanup_free_ char *sbsign = spawn_which("sbsign"), *sbverify = spawn_which("sbverify");
	if (!sbsign || !sbverify)
		return err_set(e, -ACSO_E_NOTFOUND, "sbsign and sbverify are not installed (apt install sbsigntool)");
	int r = open_parts(rootfd, image, dfd, name, ifd, e);
	return r < 0 ? r : check_pe(*ifd, image, e);
}

int sign_image(int rootfd, const char *image, const struct mok *m, bool dry_run,
	       enum sign_outcome *outcome, struct acso_err *e)
{
	_cleanup_close_ int dfd = -1, ifd = -1;
	const char *name = NULL;
	int r = open_image(rootfd, image, &dfd, &name, &ifd, e);
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

bool sign_release_ok(const char *release)
{
	if (!release || !*release || !strcmp(release, ".") || !strcmp(release, "..") || strlen(release) > 200)
		return false;
	for (const char *c = release; *c; c++)
		if (*c == '/' || (unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f)
			return false;
	return true;
}

/* The image is there and is a PE image; with sbsign installed. Before a
 * key is made, so that a job that cannot sign makes none. */
static int sign_precheck(int rootfd, const char *image, struct acso_err *e)
{
	_cleanup_close_ int dfd = -1, ifd = -1;
	const char *name = NULL;
	return open_image(rootfd, image, &dfd, &name, &ifd, e);
}

int sign_job_run(int rootfd, struct sign_job *j, struct acso_err *e)
{
	j->created = false;
	j->enrol = MOK_ENROL_UNKNOWN;
	sb_read(rootfd, j->live, &j->sb);
	if (!sign_release_ok(j->release))
		return err_set(e, -EINVAL, "'%s' is not a kernel release (a file name such as 6.1.192-acso)",
			       j->release ? j->release : "");
	snprintf(j->image, sizeof(j->image), "/boot/vmlinuz-%s", j->release);
	int r = sign_precheck(rootfd, j->image, e);
	if (r < 0)
		return r;
	if (mok_find(rootfd, &j->mok, e) == -ENOENT) {
		mok_default_paths(rootfd, &j->mok);
		j->created = true;
		if (j->dry_run) {
			j->outcome = SIGN_DONE;
			return 0;
		}
		if ((r = mok_create(rootfd, &j->mok, j->hostname, e)) < 0)
			return r;
	}
	if ((r = mok_check(rootfd, &j->mok, j->owner_uid, e)) < 0)
		return r;
	if ((r = sign_image(rootfd, j->image, &j->mok, j->dry_run, &j->outcome, e)) < 0)
		return r;
	if (j->live)
		j->enrol = mok_enrol_state(&j->mok);
	return 0;
}

void sign_job_free(struct sign_job *j)
{
	mok_free(&j->mok);
}

/* Runs as root from the kernel package's postinst (and postinst.d's other
 * callers: $1 the release, $2 the image). A failure is said, not fatal: a
 * half-configured kernel package helps nobody, and the old kernel stays
 * the default until `acso verify` passes. */
static const char hook_text[] =
	"#!/bin/sh\n"
	"# zz-acso-sign — written by acso (acso sign, acso install): keeps acso's\n"
	"# kernels signed with the machine's MOK for Secure Boot when a kernel\n"
	"# package is installed again. Other kernels are left alone. Remove this\n"
	"# file to stop it.\n"
	"case \"$1\" in\n"
	"*-acso*) ;;\n"
	"*) exit 0 ;;\n"
	"esac\n"
	"if ! command -v acso >/dev/null 2>&1; then\n"
	"\techo \"zz-acso-sign: acso is not on PATH: /boot/vmlinuz-$1 stays unsigned\" >&2\n"
	"\texit 0\n"
	"fi\n"
	"acso sign \"$1\" || echo \"zz-acso-sign: 'acso sign $1' failed: with Secure Boot on, $1 will not boot until it is signed\" >&2\n"
	"exit 0\n";

int sign_hook_install(int rootfd, bool dry_run, struct acso_err *e)
{
	static const char dir[] = "/etc/kernel/postinst.d";
	_cleanup_free_ char *old = NULL;
	size_t len = 0;
	if (root_read_file(rootfd, SIGN_HOOK_PATH, 1u << 16, &old, &len) == 0 && len == sizeof(hook_text) - 1 &&
	    !memcmp(old, hook_text, len))
		return 0;
	if (dry_run)
		return 1;
	int r = mkdir_p_at(rootfd, dir + 1, 0755);
	_cleanup_close_ int dfd = r < 0 ? r : root_opendir_fd(rootfd, dir);
	if (dfd < 0)
		return err_set(e, dfd, "'%s': %s", dir, acso_strerror(dfd));
	r = write_file_atomic(dfd, "zz-acso-sign", hook_text, sizeof(hook_text) - 1, 0755, 0);
	return r < 0 ? err_set(e, r, "write '%s': %s", SIGN_HOOK_PATH, acso_strerror(r)) : 1;
}

void sign_installed(const char *root, const char *release, struct sign_install *s)
{
	memset(s, 0, sizeof(*s));
	_cleanup_close_ int rootfd = root_open_dir(root);
	bool live = !strcmp(root, "/");
	if (rootfd < 0)
		return;
	sb_read(rootfd, live, &s->job.sb);
	if (s->job.sb.secure_boot != TRI_YES)
		return;
	s->secure_boot = true;
	static char host[256];
	gethostname(host, sizeof(host) - 1);
	s->job.release = release;
	s->job.live = live;
	s->job.owner_uid = geteuid();
	s->job.hostname = host;
	s->rc = sign_job_run(rootfd, &s->job, &s->err);
	if (s->rc == 0)
		s->hook = sign_hook_install(rootfd, false, &s->err);
	if (s->hook < 0)
		s->rc = s->hook;
}

void sign_install_free(struct sign_install *s)
{
	sign_job_free(&s->job);
}
