/* lock.c — see lock.h. The kernel drops a flock when its holder dies, so a
 * kill -9 never leaves a stale lock; the pid text is only for the message. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/lock.h"
#include "base/util.h"

int lock_work_dir(const char *work_dir, const char *what, struct acso_err *e)
{
	/* Walked from "/" without following a symlink another user could have
	 * planted (root locks a user's work directory under sudo), and the lock
	 * made beneath that checked directory, never through a link. */
	char cwd[PATH_MAX];
	_cleanup_free_ char *abs = work_dir[0] == '/' || !getcwd(cwd, sizeof(cwd)) ? xstrdup(work_dir) :
				   path_join(cwd, work_dir);
	_cleanup_close_ int dfd = mkdir_owned_open(abs, 0755, (uid_t)-1, (gid_t)-1, e);
	if (dfd < 0)
		return err_wrap(e, dfd, "work directory '%s'", work_dir);
	_cleanup_free_ char *path = path_join(work_dir, "lock");
	int fd = openat(dfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0644);
	if (fd < 0)
		return err_set(e, errno == ELOOP ? -ACSO_E_UNSAFE : -errno, "cannot open '%s': %s", path,
			       errno == ELOOP ? "it is a symlink (not followed)" : strerror(errno));
	/* A hard link or a fifo planted as the lock would be chowned or hang. */
	struct stat st, dst;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(fd);
		return err_set(e, -ACSO_E_UNSAFE, "cannot use '%s': not a plain file with one link", path);
	}
	/* Under sudo root locks a user's work directory: the lock file is the
	 * directory owner's, or the user's own runs could not open it later. */
	if (geteuid() == 0 && fstat(dfd, &dst) == 0 && dst.st_uid != 0)
		(void)!fchown(fd, dst.st_uid, dst.st_gid);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;
		_cleanup_free_ char *holder = NULL;
		if (err == EWOULDBLOCK && read_fd_bounded(fd, 4096, &holder, NULL) == 0 && *holder) {
			close(fd);
			return err_set(e, -ACSO_E_LOCKED, "'%s' is held by %s", path, strip_trailing(holder));
		}
		close(fd);
		return err_set(e, err == EWOULDBLOCK ? -ACSO_E_LOCKED : -err, "'%s' is locked", path);
	}
	char info[256];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	int n = snprintf(info, sizeof(info), "pid %d (acso %s, since ", (int)getpid(), what);
	n += (int)strftime(info + n, sizeof(info) - (size_t)n, "%Y-%m-%d %H:%M:%S UTC)\n", &tm);
	if (ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, info, (size_t)n, 0);
	return fd;
}

void unlock_work_dir(int fd)
{
	if (fd >= 0) {
		(void)!ftruncate(fd, 0);
		close(fd);
	}
}
