/* changeset.c — in-memory edits to a tree, written all or nothing. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/changeset.h"
#include "kernel/diff.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/util.h"

static struct cs_file *find(struct changeset *cs, const char *path)
{
	for (size_t i = 0; i < cs->n; i++)
		if (!strcmp(cs->v[i].path, path))
			return &cs->v[i];
	return NULL;
}

static int load(struct changeset *cs, const char *path, struct cs_file **out, struct acso_err *e)
{
	struct cs_file *f = find(cs, path);
	if (f) {
		*out = f;
		return 0;
	}
	_cleanup_free_ char *abs = xasprintf("/%s", path);
	char *text = NULL;
	size_t len = 0;
	int fd = root_open(cs->dirfd, abs, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0 && fd != -ENOENT)
		return err_set(e, fd, "read '%s': %s", path, strerror(-fd));
	if (fd >= 0) {
		int r = read_fd_bounded(fd, CHANGESET_MAX_FILE, &text, &len);
		close(fd);
		if (r < 0)
			return err_set(e, r, "read '%s': %s", path,
				       r == -EFBIG ? "larger than 64 MiB" : strerror(-r));
	}
	cs->v = xrealloc(cs->v, (cs->n + 1) * sizeof(*cs->v));
	f = &cs->v[cs->n++];
	*f = (struct cs_file){.path = xstrdup(path), .old = text, .old_len = len,
			      .existed = text != NULL, .present = text != NULL};
	if (text) {
		f->cur = xmalloc(len + 1);
		memcpy(f->cur, text, len + 1);
		f->cur_len = len;
	}
	*out = f;
	return 0;
}

int cs_get(struct changeset *cs, const char *path, const char **text, size_t *len,
	   struct acso_err *e)
{
	struct cs_file *f;
	int r = load(cs, path, &f, e);
	if (r < 0)
		return r;
	*text = f->present ? f->cur : NULL;
	*len = f->present ? f->cur_len : 0;
	return 0;
}

void cs_set(struct changeset *cs, const char *path, const char *text, size_t len)
{
	struct cs_file *f;
	if (load(cs, path, &f, NULL) < 0) {
		cs->v = xrealloc(cs->v, (cs->n + 1) * sizeof(*cs->v));
		f = &cs->v[cs->n++];
		*f = (struct cs_file){.path = xstrdup(path)};
	}
	char *copy = NULL;
	if (text) {
		copy = xmalloc(len + 1);
		memcpy(copy, text, len);
		copy[len] = 0;
	}
	free(f->cur);
	f->cur = copy;
	f->cur_len = text ? len : 0;
	f->present = text != NULL;
}

static bool changed(const struct cs_file *f)
{
	if (f->present != f->existed)
		return true;
	return f->present && (f->cur_len != f->old_len || memcmp(f->cur, f->old, f->old_len));
}

size_t cs_changed(const struct changeset *cs)
{
	size_t n = 0;
	for (size_t i = 0; i < cs->n; i++)
		n += changed(&cs->v[i]);
	return n;
}

void cs_diff(const struct changeset *cs, struct buf *out)
{
	for (size_t i = 0; i < cs->n; i++) {
		const struct cs_file *f = &cs->v[i];
		if (changed(f))
			diff_unified(f->path, f->existed ? f->old : NULL, f->old_len,
				     f->present ? f->cur : NULL, f->cur_len, 3, out);
	}
}

int cs_check_writable(const struct changeset *cs, struct acso_err *e)
{
	for (size_t i = 0; i < cs->n; i++) {
		const struct cs_file *f = &cs->v[i];
		if (!changed(f))
			continue;
		struct stat st;
		if (f->existed) {
			if (fstatat(cs->dirfd, f->path, &st, AT_SYMLINK_NOFOLLOW) < 0)
				return err_set(e, -errno, "'%s': %s", f->path, strerror(errno));
			if (S_ISLNK(st.st_mode))
				return err_set(e, -ACSO_E_UNSAFE, "'%s' is a symbolic link; not replacing it", f->path);
			if (!(st.st_mode & 0222))
				return err_set(e, -EACCES, "'%s' is read-only", f->path);
		}
		_cleanup_free_ char *dir = xstrdup(f->path);
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = 0;
		const char *d = slash ? dir : ".";
		/* the directory reached by a plain path must be the one inside
		 * the tree: a symlinked directory may not lead the write out */
		struct stat plain, inside;
		_cleanup_free_ char *abs = xasprintf("/%s", slash ? dir : "");
		int ifd = root_opendir_fd(cs->dirfd, abs);
		bool exists = fstatat(cs->dirfd, d, &plain, 0) == 0;
		if (exists && (ifd < 0 || (fstat(ifd, &inside) == 0 &&
		    (plain.st_dev != inside.st_dev || plain.st_ino != inside.st_ino)))) {
			if (ifd >= 0)
				close(ifd);
			return err_set(e, -ACSO_E_UNSAFE, "'%s' leads out of the tree through a symbolic link", d);
		}
		if (ifd >= 0)
			close(ifd);
		if (faccessat(cs->dirfd, d, W_OK, AT_EACCESS) < 0) {
			if (errno == ENOENT && !f->existed)
				continue; /* created with the file */
			return err_set(e, -errno, "directory of '%s': %s", f->path, strerror(errno));
		}
		if (fstatat(cs->dirfd, d, &st, 0) == 0 && !(st.st_mode & 0222))
			return err_set(e, -EACCES, "directory '%s' is read-only", d);
	}
	return 0;
}

/* Put f back as it was before this run. */
static int restore(struct changeset *cs, const struct cs_file *f)
{
	if (f->existed)
		return write_file_atomic(cs->dirfd, f->path, f->old, f->old_len, 0644, 0);
	return unlinkat(cs->dirfd, f->path, 0) < 0 && errno != ENOENT ? -errno : 0;
}

int cs_commit(struct changeset *cs, struct acso_err *e)
{
	int r = cs_check_writable(cs, e);
	if (r < 0)
		return r;
	size_t done = 0;
	for (size_t i = 0; i < cs->n; i++, done++) {
		struct cs_file *f = &cs->v[i];
		if (!changed(f))
			continue;
		if (f->present) {
			const char *slash = strrchr(f->path, '/');
			if (slash && !f->existed) {
				_cleanup_free_ char *dir = xstrndup(f->path, (size_t)(slash - f->path));
				mkdir_p_at(cs->dirfd, dir, 0755);
			}
			r = write_file_atomic(cs->dirfd, f->path, f->cur, f->cur_len, 0644, 0);
		} else
			r = unlinkat(cs->dirfd, f->path, 0) < 0 ? -errno : 0;
		if (r < 0) {
			err_set(e, r, "write '%s': %s", f->path, strerror(-r));
			for (size_t j = 0; j < done; j++)
				if (changed(&cs->v[j]))
					restore(cs, &cs->v[j]);
			return r;
		}
	}
	return (int)cs_changed(cs);
}

int cs_rollback(struct changeset *cs, struct acso_err *e)
{
	int first = 0, n = 0;
	for (size_t i = 0; i < cs->n; i++) {
		const struct cs_file *f = &cs->v[i];
		if (!changed(f))
			continue;
		int r = restore(cs, f);
		if (r < 0 && !first)
			first = err_set(e, r, "put back '%s': %s", f->path, strerror(-r));
		n += r >= 0;
	}
	return first ? first : n;
}

void cs_free(struct changeset *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		free(cs->v[i].path);
		free(cs->v[i].old);
		free(cs->v[i].cur);
	}
	free(cs->v);
	cs->v = NULL;
	cs->n = 0;
}
