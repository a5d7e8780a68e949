/* fileio.c — see fileio.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/util.h"

static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

static int openat2_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, rootfd, rel(path), &how, sizeof(how));
	if (fd >= 0)
		return fd;
	if (errno != ENOSYS)
		return -errno;
	/* Kernels before 5.6: plain openat, still relative to the root. */
	fd = openat(rootfd, rel(path), flags | O_CLOEXEC, mode);
	return fd < 0 ? -errno : fd;
}

int root_open_dir(const char *root)
{
	int fd = open(root && *root ? root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int root_open(int rootfd, const char *path, int flags, mode_t mode)
{
	return openat2_in_root(rootfd, path, flags, mode);
}

int root_opendir_fd(int rootfd, const char *path)
{
	return openat2_in_root(rootfd, path, O_RDONLY | O_DIRECTORY, 0);
}

DIR *root_opendir(int rootfd, const char *path)
{
	int fd = root_opendir_fd(rootfd, path);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		int err = errno;
		close(fd);
		errno = err;
	}
	return d;
}

int root_exists(int rootfd, const char *path)
{
	int fd = openat2_in_root(rootfd, path, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int root_readlink(int rootfd, const char *path, char **out)
{
	/* Resolve the parent inside the root, then readlink the last part. */
	_cleanup_free_ char *copy = xstrdup(rel(path));
	char *slash = strrchr(copy, '/');
	const char *base = copy;
	_cleanup_close_ int dfd = -1;
	if (slash) {
		*slash = '\0';
		base = slash + 1;
		dfd = openat2_in_root(rootfd, copy, O_PATH | O_DIRECTORY, 0);
		if (dfd < 0)
			return dfd;
	}
	char tmp[4096];
	ssize_t n = readlinkat(slash ? dfd : rootfd, base, tmp, sizeof(tmp) - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(tmp) - 1)
		return -ENAMETOOLONG;
	tmp[n] = '\0';
	*out = xstrdup(tmp);
	return 0;
}

int read_fd_bounded(int fd, size_t max, char **out, size_t *len)
{
	struct buf b = {0};
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int r = -errno;
			buf_free(&b);
			return r;
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > max) {
			buf_free(&b);
			return -EFBIG;
		}
		buf_append(&b, chunk, (size_t)n);
	}
	buf_str(&b);
	*out = b.data;
	if (len)
		*len = b.len;
	return 0;
}

/* Open path below root for reading only if it is a regular file. A FIFO
 * would block open() and read() forever, a device node would hand out the
 * host's bytes (and opening some, a watchdog, has effects): the type is
 * checked on an O_PATH descriptor first, which opens nothing, then the file
 * is opened non-blocking and must be the same inode. */
static int open_regular(int rootfd, const char *path, int extra)
{
	_cleanup_close_ int pfd = openat2_in_root(rootfd, path, O_PATH | extra, 0);
	if (pfd < 0)
		return pfd;
	struct stat a, b;
	if (fstat(pfd, &a) < 0)
		return -errno;
	if (S_ISDIR(a.st_mode))
		return -EISDIR;
	if (!S_ISREG(a.st_mode))
		return -ACSO_E_UNSAFE;
	int fd = openat2_in_root(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | extra, 0);
	if (fd < 0)
		return fd;
	if (fstat(fd, &b) < 0 || b.st_dev != a.st_dev || b.st_ino != a.st_ino) {
		close(fd);
		return -ACSO_E_UNSAFE;
	}
	return fd;
}

int root_read_file(int rootfd, const char *path, size_t max, char **out, size_t *len)
{
	_cleanup_close_ int fd = open_regular(rootfd, path, 0);
	if (fd < 0)
		return fd;
	return read_fd_bounded(fd, max, out, len);
}

int root_read_sysfs(int rootfd, const char *path, size_t max, char **out, size_t *len)
{
	_cleanup_close_ int fd = open_regular(rootfd, path, O_NOFOLLOW);
	if (fd < 0)
		return fd;
	return read_fd_bounded(fd, max, out, len);
}

int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return read_fd_bounded(fd, max, out, len);
}

int root_read_attr(int rootfd, const char *path, char **out)
{
	char *s;
	int r = root_read_file(rootfd, path, 4096, &s, NULL);
	if (r < 0)
		return r;
	strip_trailing(s);
	*out = s;
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The file name in dirfd itself, never what a symlink there points at:
 * below --root an absolute link names a host file. */
static int read_nofollow(int dirfd, const char *name, size_t max, char **out, size_t *len)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return read_fd_bounded(fd, max, out, len);
}

static bool same_content(int dirfd, const char *name, const void *data, size_t len)
{
	_cleanup_free_ char *old = NULL;
	size_t olen;
	if (read_nofollow(dirfd, name, len + 1, &old, &olen) < 0)
		return false;
	return olen == len && memcmp(old, data, len) == 0;
}

/* A symlink is kept as the link it was (its target is not read). */
static int backup_link_at(int dirfd, const char *name, const char *bak)
{
	char target[4096];
	ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(target) - 1)
		return -ENAMETOOLONG;
	target[n] = '\0';
	_cleanup_free_ char *tmp = xasprintf(".%s.acso-tmp.%d", bak, (int)getpid());
	unlinkat(dirfd, tmp, 0);
	if (symlinkat(target, dirfd, tmp) < 0)
		return -errno;
	if (renameat(dirfd, tmp, dirfd, bak) < 0) {
		int r = -errno;
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	return 1;
}

int backup_file_at(int dirfd, const char *name, unsigned flags)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	_cleanup_free_ char *bak = xasprintf("%s.acso-bak", name);
	if (S_ISLNK(st.st_mode))
		return backup_link_at(dirfd, name, bak);
	if (!S_ISREG(st.st_mode))
		return -ACSO_E_UNSAFE;
	_cleanup_free_ char *old = NULL;
	size_t olen;
	int r = read_nofollow(dirfd, name, (size_t)64 << 20, &old, &olen);
	if (r < 0)
		return r;
	return write_file_atomic(dirfd, bak, old, olen, st.st_mode & 07777, flags & ~WRITE_BACKUP);
}

bool process_gone(pid_t pid)
{
	if (pid <= 0 || pid == getpid())
		return false;
	if (kill(pid, 0) < 0)
		return errno == ESRCH;
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')'); /* the name may hold spaces and ')' */
	return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

void remove_dead_temps(int dfd, const char *prefix)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	size_t pl = strlen(prefix);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, pl))
			continue;
		const char *num = de->d_name + pl;
		size_t digits = strspn(num, "0123456789");
		uint32_t pid;
		_cleanup_free_ char *pidtext = xstrndup(num, digits);
		if (!digits || (num[digits] && num[digits] != '-') || parse_u32(pidtext, 10, &pid) < 0)
			continue;
		if (process_gone((pid_t)pid))
			rm_rf_at(dirfd(d), de->d_name);
	}
	closedir(d);
}

int write_file_atomic(int dirfd, const char *name, const void *data, size_t len,
		      mode_t mode, unsigned flags)
{
	if (same_content(dirfd, name, data, len))
		return 0;

	_cleanup_free_ char *dir = NULL;
	const char *base = name;
	const char *slash = strrchr(name, '/');
	_cleanup_close_ int pfd = -1;
	if (slash) {
		dir = xstrndup(name, (size_t)(slash - name));
		base = slash + 1;
		pfd = openat(dirfd, *dir ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0)
			return -errno;
	} else {
		pfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
		if (pfd < 0)
			return -errno;
	}

	/* Keep the mode of a file we replace (a symlink is replaced, not
	 * written through). */
	struct stat st;
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
		mode = st.st_mode & 07777;

	/* temp files of earlier writes of this file, cut off before the rename */
	_cleanup_free_ char *stale = xasprintf(".%s.acso-tmp.", base);
	remove_dead_temps(pfd, stale);
	_cleanup_free_ char *tmp = xasprintf(".%s.acso-tmp.%d", base, (int)getpid());
	int fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	int r = write_all(fd, data, len);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && !(flags & WRITE_NOSYNC) && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && (flags & WRITE_BACKUP)) {
		r = backup_file_at(pfd, base, flags);
		r = r < 0 ? r : 0;
	}
	if (r == 0 && renameat(pfd, tmp, pfd, base) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(pfd, tmp, 0);
		return r;
	}
	if (!(flags & WRITE_NOSYNC))
		fsync(pfd);
	return 1;
}

int mkdir_p_at(int dirfd, const char *path, mode_t mode)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdirat(dirfd, p, mode) < 0 && errno != EEXIST)
				return -errno;
			*s = c;
			if (!c)
				break;
		}
	}
	struct stat st;
	if (fstatat(dirfd, path, &st, 0) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* Could someone other than root, us or uid have put a symlink into this
 * directory, or swap its entries? Its owner, or anyone its mode lets write. */
static bool others_can_write(const struct stat *st)
{
	return (st->st_uid != 0 && st->st_uid != geteuid()) || (st->st_mode & 022);
}

/* One component: the directory name in dfd (made when missing), never
 * through a symlink another user could have planted; a symlink in a
 * directory only root (or we) can write is as trustworthy as its directory
 * and is followed by splicing its target into *rest. Returns the
 * component's O_PATH fd, 0 after splicing a link (dfd may then be replaced
 * by "/"), or -errno / -ACSO_E_UNSAFE with the detail in e. */
static int owned_step(int *dfd, const struct stat *dst, const char *name, char **rest, int *links, bool *made,
		      mode_t mode, const char *path, struct acso_err *e)
{
	if (!strcmp(name, "..")) { /* the parent of a directory we checked: no link on the way */
		*made = false;
		int up = openat(*dfd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		return up >= 0 ? up : err_set(e, -errno, "'..' in '%s': %s", path, strerror(errno));
	}
	*made = mode && mkdirat(*dfd, name, mode) == 0;
	if (mode && !*made && errno != EEXIST)
		return err_set(e, -errno, "cannot create '%s' in '%s': %s", name, path, strerror(errno));
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, *dfd, name, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS) /* before 5.6: one plain component, O_NOFOLLOW */
		fd = openat(*dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	int err = errno;
	struct stat lst;
	if (fstatat(*dfd, name, &lst, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(lst.st_mode))
		return err_set(e, -err, "'%s' in '%s': %s", name, path, strerror(err));
	if (others_can_write(dst) || (lst.st_uid != 0 && lst.st_uid != geteuid()))
		return err_set(e, -ACSO_E_UNSAFE,
			       "'%s' in '%s' is a symlink in a directory another user can write: not followed (it could point anywhere, /etc)",
			       name, path);
	char target[PATH_MAX];
	ssize_t n = readlinkat(*dfd, name, target, sizeof(target) - 1);
	if (n <= 0 || ++*links > 40)
		return err_set(e, -ELOOP, "'%s' in '%s': too many symlinks", name, path);
	target[n] = '\0';
	char *spliced = xasprintf("%s/%s", target, *rest);
	free(*rest);
	*rest = spliced;
	if (target[0] == '/') {
		int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root < 0)
			return -errno;
		close(*dfd);
		*dfd = root;
	}
	return 0;
}

/* mode 0: make nothing, only walk */
static int walk_owned(const char *path, mode_t mode, uid_t uid, gid_t gid, struct acso_err *e)
{
	if (path[0] != '/')
		return err_set(e, -EINVAL, "'%s' is not an absolute path", path);
	int dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	char *rest = xstrdup(path), *name = NULL;
	int links = 0, r = 0;
	for (;;) {
		char *p = rest;
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, "/");
		free(name);
		name = xstrndup(p, len);
		char *after = xstrdup(p + len);
		free(rest);
		rest = after;
		if (!strcmp(name, "."))
			continue;
		struct stat dst, st;
		if (fstat(dfd, &dst) < 0) {
			r = -errno;
			break;
		}
		bool made;
		int fd = owned_step(&dfd, &dst, name, &rest, &links, &made, mode, path, e);
		if (fd < 0) {
			r = fd;
			break;
		}
		if (fd == 0)
			continue; /* a trusted link, spliced into rest */
		if (fstat(fd, &st) < 0) {
			r = -errno;
			close(fd);
			break;
		}
		bool last = !rest[strspn(rest, "/")];
		/* a directory of a third user: it could swap what we make in it */
		if (uid != (uid_t)-1 && st.st_uid != 0 && st.st_uid != uid && st.st_uid != geteuid()) {
			r = err_set(e, -ACSO_E_UNSAFE, "'%s' in '%s' belongs to uid %u, neither root nor uid %u", name, path,
				    (unsigned)st.st_uid, (unsigned)uid);
			close(fd);
			break;
		}
		if (uid != (uid_t)-1 && (made || last) && fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0) {
			r = err_set(e, -errno, "cannot give '%s' to uid %u: %s", path, (unsigned)uid, strerror(errno));
			close(fd);
			break;
		}
		close(dfd);
		dfd = fd;
	}
	free(rest);
	free(name);
	if (r < 0) {
		close(dfd);
		return r;
	}
	/* an fd to create files in, relative to the directory we checked */
	int ofd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = ofd < 0 ? -errno : ofd;
	close(dfd);
	return r;
}

int mkdir_owned_open(const char *path, mode_t mode, uid_t uid, gid_t gid, struct acso_err *e)
{
	return walk_owned(path, mode ? mode : 0700, uid, gid, e);
}

int open_dir_untrusted(const char *path, struct acso_err *e)
{
	return walk_owned(path, 0, (uid_t)-1, (gid_t)-1, e);
}

int mkdir_p_owned(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	struct acso_err e = {0};
	int fd = mkdir_owned_open(path, mode, uid, gid, &e);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int mkdir_open(const char *path, mode_t mode)
{
	int r = mkdir_p_at(AT_FDCWD, path, mode);
	if (r < 0)
		return r;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int rm_rf_fd(int dfd)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				int q = rm_rf_fd(sub);
				if (q < 0 && !r)
					r = q;
				if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && !r)
					r = -errno;
				continue;
			}
		}
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && !r)
			r = -errno;
	}
	closedir(d);
	return r;
}

int rm_rf_at(int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(dirfd, path, 0) < 0 ? -errno : 0;
		return -errno;
	}
	int r = rm_rf_fd(fd);
	if (r < 0)
		return r;
	return unlinkat(dirfd, path, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

char *path_join(const char *a, const char *b)
{
	size_t n = strlen(a);
	while (*b == '/')
		b++;
	if (n && a[n - 1] == '/')
		return xasprintf("%s%s", a, b);
	return xasprintf("%s/%s", a, b);
}

int self_exe(char **out)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	*out = NULL;
	if (n <= 0)
		return n < 0 ? -errno : -ENOENT;
	exe[n] = '\0';
	*out = xstrdup(exe);
	return 0;
}
