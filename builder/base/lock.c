/* lock.c — see lock.h. The kernel drops a flock when its holder dies, so a
 * kill -9 never leaves a stale lock; the pid text is only for the message. */
#include <errno.h>
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
	int r = mkdir_p_at(AT_FDCWD, work_dir, 0755);
	if (r < 0)
		return err_set(e, r, "cannot create work directory '%s': %s", work_dir, acso_strerror(r));
	_cleanup_free_ char *path = path_join(work_dir, "lock");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return err_set(e, -errno, "cannot open '%s': %s", path, strerror(errno));
	/* Under sudo root locks a user's work directory: the lock file is the
	 * directory owner's, or the user's own runs could not open it later. */
	struct stat st;
	if (geteuid() == 0 && stat(work_dir, &st) == 0 && st.st_uid != 0)
		(void)!fchown(fd, st.st_uid, st.st_gid);
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
