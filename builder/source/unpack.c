/* unpack.c — the one-pass extractor (see unpack.h). libarchive is used
 * only here (and by the few modules that must read archives).
 *
 * Threads: the caller's thread feeds compressed bytes into q_in; the
 * decompressor thread turns them into tar bytes in q_tar (xz through
 * liblzma, whose own worker threads decode a multi-block file in parallel:
 * decompression alone is slower than everything else together); the extractor
 * thread parses the tar stream, hashes every byte (tar_data) and writes the
 * entries. Two threads because bare `tar xJf` also runs xz and tar in
 * parallel: verification must not cost a core. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "source/unpack.h"
#include "base/decompress.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/util.h"

#define CHUNK   (512u << 10)
#define QCAP    8

struct chunk {
	char *data;
	size_t len;
};

struct queue {
	struct chunk ring[QCAP];
	size_t head, count;
	bool eof;
};

struct unpack {
	struct unpack_opts o;
	char *stage;
	int stagefd;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct queue q_in, q_tar;
	bool failed;            /* under mu: every thread stops */
	int err;                /* the first error */
	char msg[1024];
	pthread_t dec, ext;
	bool running;
	char *dec_cur, *ext_cur;/* the chunk libarchive is reading */
	struct chunk dec_first; /* the decompressor's first chunk, not yet read */
	uint64_t free_bytes;    /* free space in the staging dir at the start */
	char *pend;             /* the feeder's partial chunk (caller's thread) */
	size_t pend_len;
	atomic_uint_fast64_t entries;
	struct unpack_result res;
};

static void set_fail(struct unpack *u, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_fail(struct unpack *u, int code, const char *fmt, ...)
{
	pthread_mutex_lock(&u->mu);
	if (!u->failed) {
		u->failed = true;
		u->err = code;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(u->msg, sizeof(u->msg), fmt, ap);
		va_end(ap);
	}
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
}

/* 0 pushed, -1 the pipeline failed (data freed). */
static int q_push(struct unpack *u, struct queue *q, char *data, size_t len)
{
	pthread_mutex_lock(&u->mu);
	while (q->count == QCAP && !u->failed)
		pthread_cond_wait(&u->cv, &u->mu);
	if (u->failed) {
		pthread_mutex_unlock(&u->mu);
		free(data);
		return -1;
	}
	q->ring[(q->head + q->count) % QCAP] = (struct chunk){ data, len };
	q->count++;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	return 0;
}

/* 0 a chunk, 1 end of stream, -1 the pipeline failed. */
static int q_pop(struct unpack *u, struct queue *q, struct chunk *c)
{
	pthread_mutex_lock(&u->mu);
	while (q->count == 0 && !q->eof && !u->failed)
		pthread_cond_wait(&u->cv, &u->mu);
	int r;
	if (u->failed) {
		r = -1;
	} else if (q->count) {
		*c = q->ring[q->head];
		q->head = (q->head + 1) % QCAP;
		q->count--;
		pthread_cond_broadcast(&u->cv);
		r = 0;
	} else {
		r = 1;
	}
	pthread_mutex_unlock(&u->mu);
	return r;
}

static void q_close(struct unpack *u, struct queue *q)
{
	pthread_mutex_lock(&u->mu);
	q->eof = true;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
}

static void q_drain(struct queue *q)
{
	while (q->count) {
		free(q->ring[q->head].data);
		q->head = (q->head + 1) % QCAP;
		q->count--;
	}
	q->head = 0;
	q->eof = false;
}

/* ---- decompressor thread ---------------------------------------------- */

/* The common part of both threads' libarchive read callbacks: free the
 * chunk libarchive has finished with (*cur), take the next one from q and
 * keep it in *cur. 0 a chunk, 1 the end, <0 stopped (archive error set). */
static int q_read(struct unpack *u, struct queue *q, char **cur, struct archive *a, struct chunk *c)
{
	free(*cur);
	*cur = NULL;
	int r = q_pop(u, q, c);
	if (r < 0)
		archive_set_error(a, ECANCELED, "stopped");
	else if (r == 0)
		*cur = c->data;
	return r;
}

static ssize_t dec_read(struct archive *a, void *priv, const void **buf)
{
	struct unpack *u = priv;
	struct chunk c;
	if (u->dec_first.data) { /* the chunk dec_main looked at first */
		c = u->dec_first;
		u->dec_first = (struct chunk){0};
		free(u->dec_cur);
		u->dec_cur = c.data;
		*buf = c.data;
		return (ssize_t)c.len;
	}
	int r = q_read(u, &u->q_in, &u->dec_cur, a, &c);
	if (r)
		return r == 1 ? 0 : -1;
	*buf = c.data;
	return (ssize_t)c.len;
}

/* gzip, bzip2 (and anything but xz): libarchive's built-in filters. */
static void dec_archive(struct unpack *u)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	/* Only the compressions kernel.org uses (bzip2: Ubuntu's linux-source),
	 * each only built in: never an external program. */
	decomp_support_builtin(a, DECOMP_XZ | DECOMP_GZIP | DECOMP_BZIP2);
	archive_read_support_format_raw(a);
	if (archive_read_open(a, u, NULL, dec_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ent) != ARCHIVE_OK) {
		set_fail(u, -ACSO_E_PARSE, "decompress: %s", archive_error_string(a) ? archive_error_string(a) : "no data");
		goto out;
	}
	for (;;) {
		char *b = xmalloc(CHUNK);
		la_ssize_t n = archive_read_data(a, b, CHUNK);
		if (n < 0) {
			free(b);
			set_fail(u, -ACSO_E_PARSE, "decompress: %s", archive_error_string(a));
			break;
		}
		if (n == 0) {
			free(b);
			q_close(u, &u->q_tar);
			break;
		}
		if (q_push(u, &u->q_tar, b, (size_t)n) < 0)
			break;
	}
out:
	archive_read_free(a);
}

/* xz: liblzma straight from the input chunks into the output chunks, on
 * as many threads as there are CPUs when the file has several blocks
 * (decompression is the one step that cannot keep up otherwise). */
static void dec_xz(struct unpack *u, struct chunk first)
{
	struct acso_err e = {0};
	struct xzdec *d = NULL;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (xzdec_new(cpus > 1 ? (unsigned)cpus : 1, &d, &e) < 0) {
		free(first.data);
		set_fail(u, e.code, "%s", e.msg);
		return;
	}
	unsigned char *ob = xmalloc(CHUNK), *op = ob;
	size_t oroom = CHUNK;
	struct chunk c = first;
	int r = 0, end = 0;
	while (!end) {
		const unsigned char *ip = (const unsigned char *)c.data;
		size_t ilen = c.len;
		int finish = c.data == NULL;
		/* one input chunk (or, at the end, what is left inside liblzma) */
		while (!end && (ilen || finish)) {
			r = xzdec_run(d, &ip, &ilen, &op, &oroom, finish, &e);
			if (r < 0) {
				set_fail(u, e.code, "%s", e.msg);
				goto out;
			}
			end = r == 1;
			if (oroom == 0 || (end && op > ob)) {
				if (q_push(u, &u->q_tar, (char *)ob, (size_t)(op - ob)) < 0) {
					ob = NULL;
					goto out;
				}
				ob = op = xmalloc(CHUNK);
				oroom = CHUNK;
			}
		}
		free(c.data);
		c = (struct chunk){0};
		if (end)
			break;
		int q = q_pop(u, &u->q_in, &c);
		if (q < 0)
			goto out;
		if (q == 1)
			c = (struct chunk){0}; /* the input ended: finish */
	}
	/* LZMA_CONCATENATED: the end comes only once the input has ended (data
	 * after the last stream is an error of liblzma's, as in xz -dc). */
	q_close(u, &u->q_tar);
out:
	free(c.data);
	free(ob);
	xzdec_free(d);
}

static void *dec_main(void *priv)
{
	struct unpack *u = priv;
	struct chunk first = {0};
	int q = q_pop(u, &u->q_in, &first);
	if (q < 0)
		return NULL;
	if (q == 0 && xzdec_magic(first.data, first.len)) {
		dec_xz(u, first);
		return NULL;
	}
	u->dec_first = q == 0 ? first : (struct chunk){0};
	dec_archive(u);
	free(u->dec_first.data);
	u->dec_first = (struct chunk){0};
	free(u->dec_cur);
	u->dec_cur = NULL;
	return NULL;
}

/* ---- extractor thread ------------------------------------------------- */

static ssize_t ext_read(struct archive *a, void *priv, const void **buf)
{
	struct unpack *u = priv;
	struct chunk c;
	int r = q_read(u, &u->q_tar, &u->ext_cur, a, &c);
	if (r)
		return r == 1 ? 0 : -1;
	if (u->o.tar_data)
		u->o.tar_data(u->o.priv, c.data, c.len);
	u->res.tar_bytes += c.len;
	*buf = c.data;
	return (ssize_t)c.len;
}

static bool has_dotdot(const char *p)
{
	for (const char *s = p; *s;) {
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return true;
		s += n + (s[n] == '/');
	}
	return false;
}

/* Rewrite an entry's path below the top directory; NULL when it is the top
 * directory itself. Fails (set_fail) when it is outside. */
static int strip_top(struct unpack *u, const char *path, const char **rest)
{
	size_t n = strcspn(path, "/");
	if (path[0] == '/') {
		set_fail(u, -ACSO_E_UNSAFE, "extract: '%.200s': absolute path refused", path);
		return -1;
	}
	if (!u->res.top[0]) {
		if (n == 0 || n >= sizeof(u->res.top) || (n == 2 && !strncmp(path, "..", 2)) ||
		    (n == 1 && path[0] == '.')) {
			set_fail(u, -ACSO_E_UNSAFE, "extract: '%.200s': no top-level directory", path);
			return -1;
		}
		memcpy(u->res.top, path, n);
		u->res.top[n] = '\0';
	} else if (n != strlen(u->res.top) || strncmp(path, u->res.top, n)) {
		set_fail(u, -ACSO_E_UNSAFE, "extract: '%.200s': outside the top-level directory '%s'", path, u->res.top);
		return -1;
	}
	const char *r = path + n;
	while (*r == '/')
		r++;
	*rest = *r ? r : NULL;
	return 0;
}

static void ext_run(struct unpack *u, struct archive *a, struct archive *disk, struct strv *links)
{
	struct archive_entry *ent;
	uint64_t total = 0, blocks = 0;
	for (;;) {
		int r = archive_read_next_header(a, &ent);
		if (r == ARCHIVE_EOF)
			return;
		if (r < ARCHIVE_WARN) {
			set_fail(u, -ACSO_E_PARSE, "extract: %s", archive_error_string(a));
			return;
		}
		_cleanup_free_ char *path = xstrdup(archive_entry_pathname(ent) ? archive_entry_pathname(ent) : "");
		mode_t type = archive_entry_filetype(ent);
		const char *hl = archive_entry_hardlink(ent);
		if (!hl && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
			const char *what = type == AE_IFCHR || type == AE_IFBLK ? "device node" :
					   type == AE_IFIFO ? "fifo" : type == AE_IFSOCK ? "socket" : "special file";
			set_fail(u, -ACSO_E_UNSAFE, "extract: '%.200s': %s refused", path, what);
			return;
		}
		const char *rest;
		if (strip_top(u, path, &rest) < 0)
			return;
		if (!rest)
			continue; /* the top directory itself */
		if (has_dotdot(rest)) {
			set_fail(u, -ACSO_E_UNSAFE, "extract: '%.200s': path with '..' refused", path);
			return;
		}
		if (hl) {
			_cleanup_free_ char *target = xstrdup(hl);
			const char *trest;
			if (target[0] == '/' || strip_top(u, target, &trest) < 0 || !trest || has_dotdot(trest)) {
				pthread_mutex_lock(&u->mu);
				u->failed = false; /* replace the detail with the clearer one */
				pthread_mutex_unlock(&u->mu);
				set_fail(u, -ACSO_E_UNSAFE, "extract: '%.200s': hard link to '%.200s' outside the tree refused", path, hl);
				return;
			}
			archive_entry_copy_hardlink(ent, trest);
		}
		int64_t size = archive_entry_size(ent);
		if (size < 0 || (uint64_t)size > u->o.max_entry) {
			set_fail(u, -ACSO_E_TOOBIG, "extract: '%.200s': claims %lld bytes (limit %llu)", path,
				 (long long)size, (unsigned long long)u->o.max_entry);
			return;
		}
		total += (uint64_t)size;
		if (total > u->o.max_total) {
			set_fail(u, -ACSO_E_TOOBIG, "extract: more than %llu bytes in all (limit fetch_max_tree)",
				 (unsigned long long)u->o.max_total);
			return;
		}
		/* What the entries claim, in blocks, before any is written: the
		 * disk is never filled, whatever the archive holds. */
		blocks += ((uint64_t)size + 4095) / 4096 * 4096 + 4096;
		if (blocks + UNPACK_DISK_RESERVE > u->free_bytes) {
			set_fail(u, -ENOSPC, "extract: the tree needs more than the %llu MiB free in '%s' (keeping %llu MiB free)",
				 (unsigned long long)(u->free_bytes >> 20), u->stage,
				 (unsigned long long)(UNPACK_DISK_RESERVE >> 20));
			return;
		}
		if (u->res.entries + 1 > u->o.max_entries) {
			set_fail(u, -ACSO_E_TOOBIG, "extract: more than %llu entries", (unsigned long long)u->o.max_entries);
			return;
		}
		archive_entry_copy_pathname(ent, rest);
		/* No set-user-id, set-group-id or sticky bit, nothing writable by
		 * others, whoever extracts; the owner is the extracting user (no
		 * ARCHIVE_EXTRACT_OWNER), never the archive's root. */
		archive_entry_set_perm(ent, archive_entry_perm(ent) & 0755);
		/* Never write through a symlink this archive made (libarchive's
		 * SECURE_SYMLINKS is the second line of defence). */
		for (size_t i = 0; i < links->n; i++) {
			size_t ln = strlen(links->v[i]);
			if (!strncmp(rest, links->v[i], ln) && rest[ln] == '/') {
				set_fail(u, -ACSO_E_UNSAFE, "extract: '%.200s': write through the symlink '%.200s' refused",
					 path, links->v[i]);
				return;
			}
		}
		if (type == AE_IFLNK && !hl)
			strv_push(links, rest);
		r = archive_read_extract2(a, ent, disk);
		/* A warning from the disk writer is a refusal too. */
		if (r != ARCHIVE_OK) {
			const char *why = archive_error_string(a);
			if (!why)
				why = archive_error_string(disk);
			set_fail(u, r == ARCHIVE_FATAL && archive_errno(a) != ECANCELED ? -ACSO_E_UNSAFE : -ACSO_E_PARSE,
				 "extract: '%.200s': %s", path, why ? why : "failed");
			return;
		}
		u->res.entries++;
		u->res.bytes += (uint64_t)size;
		atomic_store(&u->entries, u->res.entries);
	}
}

static void *ext_main(void *priv)
{
	struct unpack *u = priv;
	/* A private working directory for this thread only: libarchive's
	 * secure flags work on relative paths. */
	if (unshare(CLONE_FS) < 0 || fchdir(u->stagefd) < 0) {
		set_fail(u, -errno, "extract: cannot enter the staging directory: %s", strerror(errno));
		return NULL;
	}
	struct archive *a = archive_read_new();
	struct archive *disk = archive_write_disk_new();
	archive_read_support_format_tar(a);
	archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
				       ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_PERM |
				       ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_NO_OVERWRITE);
	if (archive_read_open(a, u, NULL, ext_read, NULL) != ARCHIVE_OK)
		set_fail(u, -ACSO_E_PARSE, "extract: %s", archive_error_string(a));
	else {
		struct strv links = {0};
		ext_run(u, a, disk, &links);
		strv_free(&links);
	}
	/* The signature covers the whole stream, including what follows the
	 * end-of-archive blocks (padding to the record size): hash the rest,
	 * but only a bounded tail; more is not a kernel tarball. */
	struct chunk c;
	pthread_mutex_lock(&u->mu);
	bool ok = !u->failed;
	pthread_mutex_unlock(&u->mu);
	uint64_t tail = 0;
	while (ok && q_pop(u, &u->q_tar, &c) == 0) {
		tail += c.len;
		if (tail > UNPACK_TAIL_SLACK) {
			free(c.data);
			set_fail(u, -ACSO_E_UNSAFE, "extract: more than %llu bytes after the end of the archive",
				 (unsigned long long)UNPACK_TAIL_SLACK);
			break;
		}
		if (u->o.tar_data)
			u->o.tar_data(u->o.priv, c.data, c.len);
		u->res.tar_bytes += c.len;
		free(c.data);
	}
	archive_write_free(disk);
	archive_read_free(a);
	free(u->ext_cur);
	u->ext_cur = NULL;
	return NULL;
}

/* ---- the pipeline ----------------------------------------------------- */

static int start(struct unpack *u, struct acso_err *e)
{
	u->failed = false;
	u->err = 0;
	u->msg[0] = '\0';
	memset(&u->res, 0, sizeof(u->res));
	atomic_store(&u->entries, 0);
	if (pthread_create(&u->dec, NULL, dec_main, u))
		return err_set(e, -EAGAIN, "cannot start a thread");
	if (pthread_create(&u->ext, NULL, ext_main, u)) {
		set_fail(u, -EAGAIN, "cannot start a thread");
		pthread_join(u->dec, NULL);
		return err_set(e, -EAGAIN, "cannot start a thread");
	}
	u->running = true;
	return 0;
}

static void stop(struct unpack *u)
{
	if (!u->running)
		return;
	set_fail(u, -ECANCELED, "stopped");
	pthread_join(u->dec, NULL);
	pthread_join(u->ext, NULL);
	u->running = false;
	q_drain(&u->q_in);
	q_drain(&u->q_tar);
}

int unpack_begin(const char *stage_dir, const struct unpack_opts *o, struct unpack **out,
		 struct acso_err *e)
{
	struct unpack *u = xcalloc(1, sizeof(*u));
	u->o = *o;
	if (!u->o.max_entry)
		u->o.max_entry = UNPACK_MAX_ENTRY;
	if (!u->o.max_total)
		u->o.max_total = UNPACK_MAX_TOTAL;
	if (!u->o.max_entries)
		u->o.max_entries = UNPACK_MAX_ENTRIES;
	u->stage = xstrdup(stage_dir);
	u->stagefd = open(stage_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (u->stagefd < 0) {
		int r = err_set(e, -errno, "open '%s': %s", stage_dir, strerror(errno));
		free(u->stage);
		free(u);
		return r;
	}
	struct statvfs sv;
	u->free_bytes = fstatvfs(u->stagefd, &sv) == 0 ? (uint64_t)sv.f_bavail * sv.f_frsize : UINT64_MAX;
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->cv, NULL);
	int r = start(u, e);
	if (r < 0) {
		close(u->stagefd);
		free(u->stage);
		free(u);
		return r;
	}
	*out = u;
	return 0;
}

/* The feeder's bytes go in whole CHUNKs (curl hands out 16 KiB at a
 * time): the queue then holds QCAP * CHUNK of compressed input, so a small
 * download is all here, and its SHA-256 known, long before it is all
 * decompressed. */
static int feed_flush(struct unpack *u)
{
	if (!u->pend_len)
		return 0;
	char *c = u->pend;
	size_t k = u->pend_len;
	u->pend = NULL;
	u->pend_len = 0;
	if (q_push(u, &u->q_in, c, k) < 0)
		return u->err ? u->err : -ECANCELED;
	return 0;
}

int unpack_feed(struct unpack *u, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		if (!u->pend)
			u->pend = xmalloc(CHUNK);
		size_t k = CHUNK - u->pend_len < n ? CHUNK - u->pend_len : n;
		memcpy(u->pend + u->pend_len, p, k);
		u->pend_len += k;
		p += k;
		n -= k;
		if (u->pend_len == CHUNK) {
			int r = feed_flush(u);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int unpack_restart(struct unpack *u, struct acso_err *e)
{
	stop(u);
	free(u->pend);
	u->pend = NULL;
	u->pend_len = 0;
	/* Empty the staging directory, keep the directory itself. */
	int r = rm_rf_at(AT_FDCWD, u->stage);
	if (r < 0 || mkdir(u->stage, 0700) < 0)
		return err_set(e, r < 0 ? r : -errno, "cannot empty '%s'", u->stage);
	close(u->stagefd);
	u->stagefd = open(u->stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (u->stagefd < 0)
		return err_set(e, -errno, "open '%s': %s", u->stage, strerror(errno));
	return start(u, e);
}

static void unpack_free(struct unpack *u)
{
	pthread_mutex_destroy(&u->mu);
	pthread_cond_destroy(&u->cv);
	if (u->stagefd >= 0)
		close(u->stagefd);
	free(u->pend);
	free(u->stage);
	free(u);
}

int unpack_end(struct unpack *u, struct unpack_result *res, struct acso_err *e)
{
	if (u->running) {
		feed_flush(u);
		q_close(u, &u->q_in);
		pthread_join(u->dec, NULL);
		pthread_join(u->ext, NULL);
		u->running = false;
	}
	int r = 0;
	if (u->failed)
		r = err_set(e, u->err ? u->err : -EIO, "%s", u->msg);
	else if (!u->res.top[0])
		r = err_set(e, -ACSO_E_PARSE, "extract: the archive is empty");
	q_drain(&u->q_in);
	q_drain(&u->q_tar);
	if (res)
		*res = u->res;
	unpack_free(u);
	return r;
}

void unpack_abort(struct unpack *u)
{
	if (!u)
		return;
	stop(u);
	unpack_free(u);
}

uint64_t unpack_progress(const struct unpack *u)
{
	return atomic_load(&((struct unpack *)u)->entries);
}
