/* fileio.h — files through the --root prefix, bounded reads, atomic writes.
 *
 * Every system path (/sys, /proc, /boot, /etc, /lib/modules, /var) is opened
 * relative to a root directory fd with openat2(RESOLVE_IN_ROOT), so that
 * absolute symlinks and ".." inside a replayed tree stay inside it.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Open the root directory ("/" or --root DIR). Returns an O_PATH fd or -errno. */
int root_open_dir(const char *root);

/* open() of an absolute system path ("/proc/cmdline") inside rootfd. */
int root_open(int rootfd, const char *path, int flags, mode_t mode);
/* Like root_open but for a directory (O_DIRECTORY|O_RDONLY). */
int root_opendir_fd(int rootfd, const char *path);
/* opendir() inside root: a DIR to readdir() and closedir(), or NULL with
 * errno set. */
#include <dirent.h>
DIR *root_opendir(int rootfd, const char *path);
/* 0 if path exists inside root (no follow of the last component when
 * nofollow), -errno otherwise. */
int root_exists(int rootfd, const char *path);
/* readlink() inside root; *out malloc'ed. */
int root_readlink(int rootfd, const char *path, char **out);

/* Read at most max bytes of a file (sysfs, procfs, config files); -EFBIG if
 * the file is larger. *out is malloc'ed and NUL-terminated. */
int read_fd_bounded(int fd, size_t max, char **out, size_t *len);
/* Both read regular files only (a FIFO, a device node or a socket below
 * the root gives -ACSO_E_UNSAFE without being opened for reading, a
 * directory -EISDIR): a replayed tree must not hang acso or feed it the
 * host's devices. */
int root_read_file(int rootfd, const char *path, size_t max, char **out, size_t *len);
/* The same for a sysfs/procfs attribute, which is never a symlink: a
 * symlink as the last component is not followed (-ACSO_E_UNSAFE). */
int root_read_sysfs(int rootfd, const char *path, size_t max, char **out, size_t *len);
/* One-line attribute ("/proc/sys/kernel/osrelease"), as root_read_file:
 * trailing white space removed. */
int root_read_attr(int rootfd, const char *path, char **out);
/* Plain-path variants (dirfd AT_FDCWD or any directory fd). */
int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len);

enum {
	WRITE_BACKUP  = 1 << 0, /* keep the replaced file as NAME.acso-bak */
	WRITE_NOSYNC  = 1 << 1, /* skip fsync (caches, tests of big files) */
};
/* Atomic write of dirfd/name: temp file in the same directory, write, fsync,
 * rename, fsync the directory. Unchanged content is not rewritten. A
 * symlink at name is replaced, never written or read through. Temp
 * files of earlier writes of name whose process is gone (kill -9, power
 * loss) are removed.
 * Returns 1 when the file was written, 0 when it already had this content,
 * -errno on failure (the old file untouched, the temp file removed). */
int write_file_atomic(int dirfd, const char *name, const void *data, size_t len,
		      mode_t mode, unsigned flags);

/* Keep dirfd/name as name.acso-bak, atomically and with its mode (what
 * WRITE_BACKUP does before replacing a file). A symlink is kept as a
 * symlink, never read through (below --root its target may be a host
 * file); anything but a regular file or a symlink is -ACSO_E_UNSAFE.
 * 1 written, 0 when the backup already had this content or name does not
 * exist, -errno on failure. */
int backup_file_at(int dirfd, const char *name, unsigned flags);

/* What an acso process cut off (kill -9, power loss) left in dirfd: every
 * entry named PREFIX<pid> or PREFIX<pid>-<anything> whose process is gone
 * (or a zombie) is removed, recursively. Entries of living processes stay. */
void remove_dead_temps(int dirfd, const char *prefix);
/* Is process pid gone? A zombie counts as gone: it will never finish what
 * it started. Never true for ourselves. */
bool process_gone(pid_t pid);

/* mkdir -p relative to dirfd. */
int mkdir_p_at(int dirfd, const char *path, mode_t mode);
/* mkdir -p an absolute path; unless uid is (uid_t)-1, every directory it
 * creates, and path itself, is given to uid:gid (root making a directory of
 * SUDO_USER's work directory). Root works inside a tree the user can write:
 * the path is walked one component at a time from "/" (openat2
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, O_NOFOLLOW before Linux 5.6), a
 * symlink is followed only where no other user could have planted it (its
 * directory and the link root's or ours, the directory writable by nobody
 * else), and a directory of a third user (neither root nor uid) is refused:
 * -ACSO_E_UNSAFE. The chown goes through the checked descriptor. */
int mkdir_p_owned(const char *path, mode_t mode, uid_t uid, gid_t gid);
/* The same with the reason in e; returns an O_DIRECTORY fd of path (create
 * the files in it with openat(..., O_NOFOLLOW)) or a negative code. */
struct acso_err;
int mkdir_owned_open(const char *path, mode_t mode, uid_t uid, gid_t gid, struct acso_err *e);
/* Open an existing absolute directory path the same way, without making
 * or chowning anything (root about to remove what is in a user's tree). */
int open_dir_untrusted(const char *path, struct acso_err *e);
/* mkdir -p path, then open it: an O_DIRECTORY fd to use with *at(), or -errno. */
int mkdir_open(const char *path, mode_t mode);
/* rm -rf relative to dirfd, never following symlinks. Missing is not an error. */
int rm_rf_at(int dirfd, const char *path);
/* Join a directory and a name into a malloc'ed path. */
char *path_join(const char *a, const char *b);
/* The path of the running binary (/proc/self/exe), malloc'ed. 0 or -errno. */
int self_exe(char **out);
