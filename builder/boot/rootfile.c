/* rootfile.c — see boot-int.h: the files the boot steps write under the
 * root (atomic, a missing directory made whole), and the programs they look
 * for there. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/util.h"
#include "boot/boot-int.h"

/* Make the missing directory dir (grub.d) with the file base already in
 * it: a staging directory renamed into place. A power cut leaves either no
 * directory (the next run still knows that acso makes it, and says so in
 * the drop-in) or the directory with the file, never an empty one. 1 when
 * done, 0 when the directory appeared meanwhile (write into it), -errno. */
int put_file_in_new_dir(int rootfd, const char *dir, const char *base, const char *text, size_t len)
{
	_cleanup_free_ char *up = xstrndup(dir, (size_t)(strrchr(dir, '/') - dir));
	const char *name = strrchr(dir, '/') + 1;
	_cleanup_close_ int ufd = root_opendir_fd(rootfd, *up ? up : "/");
	if (ufd < 0)
		return ufd;
	_cleanup_free_ char *stage = xasprintf(".%s.acso-tmp.%d", name, (int)getpid());
	rm_rf_at(ufd, stage);
	if (mkdirat(ufd, stage, 0755) < 0)
		return -errno;
	_cleanup_close_ int sfd = openat(ufd, stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int r = sfd < 0 ? -errno : write_file_atomic(sfd, base, text, len, 0644, 0);
	if (r >= 0 && renameat(ufd, stage, ufd, name) < 0)
		r = errno == EEXIST || errno == ENOTEMPTY ? 0 : -errno;
	else if (r >= 0)
		r = 1;
	if (r <= 0)
		rm_rf_at(ufd, stage);
	else
		fsync(ufd);
	return r;
}

/* Write (or, for NULL text, delete) one root path through its directory. */
int put_file(int rootfd, const char *path, const char *text, size_t len, unsigned flags)
{
	_cleanup_free_ char *dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
	const char *base = strrchr(path, '/') + 1;
	_cleanup_close_ int dfd = root_opendir_fd(rootfd, *dir ? dir : "/");
	if (dfd == -ENOENT && text) {
		int r = put_file_in_new_dir(rootfd, dir, base, text, len);
		if (r != 0)
			return r < 0 ? r : 0;
		dfd = root_opendir_fd(rootfd, dir);
	}
	if (dfd < 0)
		return text ? dfd : (dfd == -ENOENT ? 0 : dfd);
	if (!text) {
		if (unlinkat(dfd, base, 0) < 0 && errno != ENOENT)
			return -errno;
		fsync(dfd);
		return 0;
	}
	int r = write_file_atomic(dfd, base, text, len, 0644, flags);
	return r < 0 ? r : 0;
}

/* mkdir -p of a root path, each parent resolved inside the root. */
int root_mkdir_p(int rootfd, const char *path)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		char *slash = strrchr(p, '/');
		_cleanup_free_ char *parent = xstrndup(p, (size_t)(slash - p));
		_cleanup_close_ int pfd = root_opendir_fd(rootfd, *parent ? parent : "/");
		if (pfd < 0)
			return pfd;
		if (mkdirat(pfd, slash + 1, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = c;
		if (!c)
			return 0;
	}
}

/* Contents that may be absent (NULL) and may hold NUL bytes. */
bool same_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	return (!a && !b) || (a && b && alen == blen && !memcmp(a, b, alen));
}

void set_bytes(char **dst, size_t *dst_len, const char *src, size_t len)
{
	free(*dst);
	*dst = NULL;
	*dst_len = 0;
	if (src) {
		*dst = xmalloc(len + 1);
		memcpy(*dst, src, len);
		(*dst)[len] = '\0';
		*dst_len = len;
	}
}

bool root_has_prog(int rootfd, const char *name)
{
	static const char *const dirs[] = {"/usr/sbin", "/usr/bin", "/sbin", "/bin"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dirs[i], name);
		if (root_exists(rootfd, p) == 0)
			return true;
	}
	return false;
}
