/* fetch.c — the fetch pipeline (see fetch.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "source/fetch.h"
#include "base/fileio.h"
#include "source/git.h"
#include "base/hash.h"
#include "base/interrupt.h"
#include "source/releases.h"
#include "source/unpack.h"
#include "base/util.h"

char *fetch_series_url(const char *mirror, const struct kver *v, const char *name)
{
	char dir[KVER_STR_MAX];
	kver_series_dir(v, dir);
	if (!mirror || !*mirror)
		return xasprintf("%s%s/%s", FETCH_DEFAULT_TARBALL_ROOT, dir, name);
	size_t n = strlen(mirror);
	return xasprintf("%s%spub/linux/kernel/%s/%s", mirror, mirror[n - 1] == '/' ? "" : "/", dir, name);
}

char *fetch_releases_url(const char *mirror)
{
	if (!mirror || !*mirror)
		return xstrdup(FETCH_DEFAULT_RELEASES_URL);
	size_t n = strlen(mirror);
	return xasprintf("%s%sreleases.json", mirror, mirror[n - 1] == '/' ? "" : "/");
}

/* ---- tree version ------------------------------------------------------- */

static bool mk_var(const char *text, const char *key, char *out, size_t outn)
{
	size_t kl = strlen(key);
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		if (n > kl && !strncmp(p, key, kl) && (p[kl] == ' ' || p[kl] == '=')) {
			const char *v = p + kl;
			while (*v == ' ' || *v == '\t')
				v++;
			if (*v != '=')
				goto next;
			v++;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t vl = (size_t)(p + n - v);
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r'))
				vl--;
			if (vl >= outn)
				return false;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return true;
		}
next:
		p += n + (p[n] == '\n');
	}
	return false;
}

int tree_version(int dirfd, struct kver *v, struct acso_err *e)
{
	_cleanup_free_ char *mk = NULL;
	size_t len;
	char a[16], b[16], c[16], x[32], s[64];
	int r = read_file_at(dirfd, "Makefile", 1 << 20, &mk, &len);
	if (r < 0)
		return err_set(e, r, "the tree has no top Makefile: %s", acso_strerror(r));
	if (!mk_var(mk, "VERSION", a, sizeof(a)) || !mk_var(mk, "PATCHLEVEL", b, sizeof(b)) ||
	    !mk_var(mk, "SUBLEVEL", c, sizeof(c)))
		return err_set(e, -ACSO_E_PARSE, "the top Makefile names no VERSION/PATCHLEVEL/SUBLEVEL");
	if (!mk_var(mk, "EXTRAVERSION", x, sizeof(x)))
		x[0] = '\0';
	if (x[0] && startswith(x, "-rc"))
		snprintf(s, sizeof(s), "%s.%s%s", a, b, x);
	else
		snprintf(s, sizeof(s), "%s.%s.%s", a, b, c);
	if (kver_parse(s, v, NULL) < 0)
		return err_set(e, -ACSO_E_PARSE, "the top Makefile says '%s', not a kernel version", s);
	return 0;
}

/* ---- the one pass ------------------------------------------------------- */

struct pass {
	const struct fetch_opts *o;
	struct hash *sha;          /* SHA-256 of the compressed file */
	const struct pgp_sig *sig; /* NULL: no .tar.sign */
	struct pgp_verify *ver;    /* fed from the extractor thread */
	struct unpack *up;
	uint64_t fed;
	int feed_err;
	struct acso_err *e;
};

static void on_tar(void *priv, const void *buf, size_t n)
{
	struct pass *p = priv;
	if (p->ver)
		pgp_verify_update(p->ver, buf, n);
}

static int on_data(void *priv, const void *buf, size_t n)
{
	struct pass *p = priv;
	hash_update(p->sha, buf, n);
	p->fed += n;
	int r = unpack_feed(p->up, buf, n);
	if (r < 0)
		p->feed_err = r;
	return r;
}

static int pass_reset_verify(struct pass *p)
{
	if (p->ver) {
		pgp_verify_end(p->ver, p->o->kr, NULL, NULL);
		p->ver = NULL;
	}
	if (p->sig && pgp_verify_begin(p->sig, &p->ver, p->e) < 0)
		return -1;
	return 0;
}

static int on_restart(void *priv)
{
	struct pass *p = priv;
	hash_free(p->sha);
	p->sha = hash_new("sha256");
	p->fed = 0;
	if (unpack_restart(p->up, p->e) < 0)
		return -1;
	return pass_reset_verify(p);
}

static void on_progress(void *priv, uint64_t done, uint64_t total)
{
	struct pass *p = priv;
	if (p->o->progress)
		p->o->progress(p->o->priv, "download", done, total);
}

/* A private staging directory beside the final one (named after this
 * process, so that the next fetch removes it if we are cut off). */
static char *make_stage(const char *src_dir, const char *name, struct acso_err *e)
{
	_cleanup_free_ char *prefix = xasprintf(".%s.stage-", name);
	_cleanup_close_ int dfd = open(src_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		remove_dead_temps(dfd, prefix);
	char *t = xasprintf("%s/%s%d-XXXXXX", src_dir, prefix, (int)getpid());
	if (!mkdtemp(t)) {
		err_set(e, -errno, "create a staging directory in '%s': %s", src_dir, strerror(errno));
		free(t);
		return NULL;
	}
	/* mkdtemp made it 0700: nobody else sees what is extracted before it
	 * is verified (commit_tree opens it up). */
	return t;
}

/* Remove path in a detached grandchild: an old kernel tree (1.2 GB) takes
 * minutes to delete, and the fetch has nothing to wait for. What the child
 * does not finish (a reboot), the next fetch removes (remove_dead_temps).
 * Without a child, it is removed here. */
static void remove_detached(const char *path)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (fork() == 0) {
			/* no pipe of the caller's stays open behind it */
			int null = open("/dev/null", O_RDWR | O_CLOEXEC);
			for (int fd = 0; fd < 3 && null >= 0; fd++)
				dup2(null, fd);
			for (int fd = 3; fd < 1024; fd++) /* close_range: glibc 2.34 */
				close(fd);
			setsid();
			rm_rf_at(AT_FDCWD, path);
		}
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, NULL, 0) < 0)
		rm_rf_at(AT_FDCWD, path);
}

/* Move stage to src_dir/name (replacing an older tree) and point
 * src_dir/current at it, atomically. */
static int commit_tree(const char *src_dir, const char *stage, const char *name, struct acso_err *e)
{
	_cleanup_free_ char *final = path_join(src_dir, name);
	_cleanup_free_ char *old = xasprintf("%s/.%s.old-%ld", src_dir, name, (long)getpid());
	_cleanup_free_ char *old_prefix = xasprintf(".%s.old-", name);
	_cleanup_close_ int dfd = open(src_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		/* what a fetch cut off between these renames left */
		remove_dead_temps(dfd, old_prefix);
		remove_dead_temps(dfd, ".current.");
	}
	/* Verified: the tree may now be read by others (the build user). */
	if (chmod(stage, 0755) < 0)
		return err_set(e, -errno, "chmod '%s': %s", stage, strerror(errno));
	bool had_old = false;
	if (rename(final, old) == 0)
		had_old = true;
	else if (errno != ENOENT)
		return err_set(e, -errno, "move the old '%s' aside: %s", final, strerror(errno));
	if (rename(stage, final) < 0) {
		int r = -errno;
		if (had_old)
			rename(old, final);
		return err_set(e, r, "rename '%s' to '%s': %s", stage, final, strerror(-r));
	}
	_cleanup_free_ char *tmp = xasprintf("%s/.current.%ld", src_dir, (long)getpid());
	_cleanup_free_ char *cur = path_join(src_dir, "current");
	unlink(tmp);
	if (symlink(name, tmp) < 0 || rename(tmp, cur) < 0) {
		int r = -errno;
		unlink(tmp);
		return err_set(e, r, "update '%s': %s", cur, strerror(-r));
	}
	if (dfd >= 0)
		fsync(dfd);
	if (had_old)
		remove_detached(old);
	return 0;
}

/* Say which signature check failed and why. */
static int sig_fail(int r, const char *what, const struct pgp_signer *who, struct acso_err *e)
{
	if (r == -ACSO_E_BADSIG)
		return err_set(e, r, "%s check failed: BAD signature by %s (%s)", what,
			       who->name[0] ? who->name : "?", who->fingerprint[0] ? who->fingerprint : who->keyid);
	if (r == -ACSO_E_NOKEY)
		return err_set(e, r, "%s check failed: signed by key %s, which is not in the keyring", what,
			       who->fingerprint[0] ? who->fingerprint : (who->keyid[0] ? who->keyid : "?"));
	return err_wrap(e, r, "%s check failed", what);
}

struct src {
	int fd;             /* a local file, or -1 */
	const char *url;    /* else download from here into dl_dir/part */
	int dl_dirfd;
	const char *part;
	uint64_t size;
};

/* Run the pass over one source into a fresh staging dir; on success the
 * staging dir is committed as src/<name>. */
static int one_pass(const struct src *s, const struct pgp_sig *sig, const char *want_sha,
		    const struct kver *want, const struct fetch_opts *o, struct fetch_result *res,
		    struct acso_err *e)
{
	_cleanup_free_ char *src_dir = path_join(o->work_dir, "src");
	int r = mkdir_p_at(AT_FDCWD, src_dir, 0755);
	if (r < 0)
		return err_set(e, r, "create '%s': %s", src_dir, acso_strerror(r));
	_cleanup_free_ char *name = NULL;
	char vname[KVER_STR_MAX] = "tree";
	if (want)
		kver_str(want, vname);
	_cleanup_free_ char *stage = make_stage(src_dir, vname, e);
	if (!stage)
		return e ? e->code : -EIO;

	struct pass p = { .o = o, .sha = hash_new("sha256"), .sig = sig, .e = e };
	struct unpack_opts uo = { .tar_data = on_tar, .priv = &p, .max_total = o->max_tree };
	uint64_t max_dl = o->max_download ? o->max_download : FETCH_MAX_TARBALL;
	struct interrupt_guard ig;
	interrupt_begin(&ig);
	if (pass_reset_verify(&p) < 0) {
		r = e->code;
		goto out_stage;
	}
	r = unpack_begin(stage, &uo, &p.up, e);
	if (r < 0)
		goto out_stage;

	int tr = 0;
	struct acso_err te = {0};
	if (s->fd >= 0) {
		char *b = xmalloc(1 << 20);
		for (;;) {
			if (interrupted())
				break;
			ssize_t n = read(s->fd, b, 1 << 20);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				tr = err_set(&te, -errno, "read: %s", strerror(errno));
				break;
			}
			if (n == 0)
				break;
			if (p.fed + (uint64_t)n > max_dl) {
				tr = err_set(&te, -ACSO_E_TOOBIG, "larger than %llu bytes (limit fetch_max_download)",
					     (unsigned long long)max_dl);
				break;
			}
			if (on_data(&p, b, (size_t)n) < 0)
				break;
			if (o->progress)
				o->progress(o->priv, "read", p.fed, s->size);
		}
		free(b);
	} else {
		struct http_opts h = o->http;
		h.max_size = max_dl;
		h.data = on_data;
		h.restart = on_restart;
		h.progress = on_progress;
		h.priv = &p;
		tr = http_download(s->url, s->dl_dirfd, s->part, &h, &te);
		if (tr < 0 && p.feed_err)
			tr = 0; /* the pipeline stopped the transfer: its error says why */
		if (tr == -ACSO_E_TOOBIG)
			unlinkat(s->dl_dirfd, s->part, 0); /* never resumed: it is not the tarball */
	}
	if (interrupted()) {
		unpack_abort(p.up);
		p.up = NULL;
		r = err_set(e, -EINTR, "interrupted by signal %d: what was extracted is removed%s", interrupted(),
			    s->fd < 0 ? " (the partial download is kept for the next fetch)" : "");
		goto out_stage;
	}
	/* The whole file is here: its SHA-256 decides before the extraction
	 * goes on (a small file may decompress to far more). */
	char got[HASH_HEX_MAX];
	hash_final_hex(p.sha, got);
	p.sha = NULL;
	if (tr < 0) {
		unpack_abort(p.up);
		p.up = NULL;
		r = err_set(e, tr, "%s", te.msg);
		goto out_stage;
	}
	if (!p.feed_err && want_sha && !hash_hex_equal(got, want_sha)) {
		unpack_abort(p.up);
		p.up = NULL;
		r = err_set(e, -ACSO_E_HASH, "SHA-256 check failed: the file has %s, expected %s", got, want_sha);
		goto out_bad;
	}

	struct unpack_result ur;
	struct acso_err ue = {0};
	int xr = unpack_end(p.up, &ur, &ue);
	p.up = NULL;
	struct pgp_signer who = {0};
	int sr = 0;
	if (p.ver) {
		sr = pgp_verify_end_as(p.ver, o->kr, PGP_ROLE_RELEASE, &who, e);
		p.ver = NULL;
	}

	/* Report in this order: the SHA-256, the signature, the extraction (a
	 * tampered file explains a broken archive, not the reverse). */
	if (want_sha && !hash_hex_equal(got, want_sha)) {
		r = err_set(e, -ACSO_E_HASH, "SHA-256 check failed: the file has %s, expected %s", got, want_sha);
		goto out_bad;
	}
	if (sig && sr < 0) {
		r = sig_fail(sr, ".tar.sign", &who, e);
		goto out_bad;
	}
	if (xr < 0) {
		r = err_set(e, xr, "%s", ue.msg);
		goto out_bad;
	}
	/* The tree must be the version asked for. */
	{
		_cleanup_close_ int sfd = open(stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct kver tv;
		r = tree_version(sfd, &tv, e);
		if (r < 0)
			goto out_stage;
		if (want && kver_cmp(&tv, want)) {
			char a[KVER_STR_MAX];
			kver_str(&tv, a);
			r = err_set(e, -ACSO_E_PARSE, "the tree is version %s, not %s", a, vname);
			goto out_stage;
		}
		kver_str(&tv, res->version);
		kver_str(&tv, vname);
	}
	name = xasprintf("linux-%s%s", vname, !strcmp(res->source, "distro") ? "-distro" : "");
	/* A downloaded file becomes the cached, verified tarball. */
	if (s->fd < 0) {
		_cleanup_free_ char *final = xstrndup(s->part, strlen(s->part) - 5);
		if (renameat(s->dl_dirfd, s->part, s->dl_dirfd, final) < 0) {
			r = err_set(e, -errno, "rename '%s': %s", s->part, strerror(errno));
			goto out_stage;
		}
	}
	r = commit_tree(src_dir, stage, name, e);
	if (r < 0)
		goto out_stage;
	interrupt_end(&ig);
	snprintf(res->source_dir, sizeof(res->source_dir), "%s/%s", src_dir, name);
	snprintf(res->sha256, sizeof(res->sha256), "%s", got);
	snprintf(res->top, sizeof(res->top), "%s", ur.top);
	res->entries = ur.entries;
	res->bytes = ur.bytes;
	if (sig) {
		res->tar_signed = true;
		res->tar_signer = who;
	}
	return 0;

out_bad:
	/* Verified bad: the partial download is worthless, do not resume it. */
	if (s->fd < 0)
		unlinkat(s->dl_dirfd, s->part, 0);
out_stage:
	if (p.up)
		unpack_abort(p.up);
	if (p.ver)
		pgp_verify_end(p.ver, o->kr, NULL, NULL);
	hash_free(p.sha);
	rm_rf_at(AT_FDCWD, stage);
	interrupt_end(&ig);
	return r;
}

static int read_small(int dirfd, const char *name, size_t max, char **out, size_t *len)
{
	return read_file_at(dirfd, name, max, out, len);
}
/* A small file (sha256sums.asc, a .tar.sign) into memory, NUL-terminated,
 * with its own size limit. */
static int get_small(const char *url, struct http_opts h, size_t max, char **out, size_t *len,
		     struct acso_err *e)
{
	struct buf b = {0};
	h.max_size = max;
	int r = http_get(url, &h, &b, e);
	if (r < 0) {
		buf_free(&b);
		return err_wrap(e, r, "'%s'", url);
	}
	buf_str(&b);
	*out = b.data;
	*len = b.len;
	return 0;
}


int fetch_release(const struct kver *v, const struct fetch_opts *o, struct fetch_result *res,
		  struct acso_err *e)
{
	char vs[KVER_STR_MAX], base[KVER_STR_MAX], sdir[KVER_STR_MAX];
	kver_str(v, vs);
	kver_tarball_base(v, base);
	kver_series_dir(v, sdir);
	snprintf(res->source, sizeof(res->source), "kernel.org");
	if (v->kind != KVER_RELEASE)
		return err_set(e, -ACSO_E_UNSUPPORTED, "%s has no signed tarball (release candidates and linux-next are git snapshots)", vs);
	_cleanup_free_ char *dl = path_join(o->work_dir, "downloads");
	_cleanup_close_ int dlfd = mkdir_open(dl, 0755);
	if (dlfd < 0)
		return err_set(e, dlfd, "create '%s': %s", dl, acso_strerror(dlfd));
	int r;

	_cleanup_free_ char *tarname = xasprintf("%s.tar.xz", base);
	_cleanup_free_ char *signame = xasprintf("%s.tar.sign", base);
	_cleanup_free_ char *partname = xasprintf("%s.tar.xz.part", base);
	_cleanup_free_ char *sumsname = xasprintf("%s-sha256sums.asc", sdir);
	_cleanup_free_ char *url = fetch_series_url(o->mirror, v, tarname);
	_cleanup_free_ char *sign_url = fetch_series_url(o->mirror, v, signame);
	_cleanup_free_ char *sums_url = fetch_series_url(o->mirror, v, "sha256sums.asc");
	snprintf(res->url, sizeof(res->url), "%s", url);

	/* A cached tarball is used only with its sums and signature files, and
	 * is verified again as it is extracted. */
	struct stat st;
	bool cached = fstatat(dlfd, tarname, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
	_cleanup_free_ char *sums = NULL, *sigdata = NULL;
	size_t sums_len = 0, sig_len = 0;
	if (cached && (read_small(dlfd, sumsname, SUMS_MAX_SIZE, &sums, &sums_len) < 0 ||
		       read_small(dlfd, signame, PGP_MAX_SIGFILE, &sigdata, &sig_len) < 0)) {
		free(sums);
		free(sigdata);
		sums = sigdata = NULL;
		cached = false;
	}
	struct http_opts h = o->http;
	if (!cached) {
		r = get_small(sums_url, h, SUMS_MAX_SIZE, &sums, &sums_len, e);
		if (r < 0)
			return r;
		r = get_small(sign_url, h, PGP_MAX_SIGFILE, &sigdata, &sig_len, e);
		if (r < 0)
			return r;
	}

	/* 1. sha256sums.asc: signed, and listing the tarball. */
	_cleanup_free_ char *body = NULL;
	size_t body_len;
	r = pgp_verify_cleartext_as(sums, sums_len, o->kr, PGP_ROLE_SUMS, &body, &body_len, &res->sums_signer, e);
	if (r < 0)
		return sig_fail(r, "sha256sums.asc", &res->sums_signer, e);
	res->sums_signed = true;
	char want_sha[65];
	r = sums_find(body, tarname, want_sha);
	if (r == -ACSO_E_NOTFOUND)
		return err_set(e, r, "SHA-256 check failed: sha256sums.asc does not list '%s'", tarname);
	if (r < 0)
		return err_set(e, r, "SHA-256 check failed: sha256sums.asc has a malformed line for '%s'", tarname);

	/* 2. The .tar.sign, parsed before any byte of the tarball is used. */
	struct pgp_sig *sig = NULL;
	r = pgp_sig_parse(sigdata, sig_len, &sig, e);
	if (r < 0)
		return err_wrap(e, r, ".tar.sign check failed: '%s'", signame);

	/* 3. One pass over the tarball: hash, decompress, hash, extract. */
	struct src s = { .fd = -1, .url = url, .dl_dirfd = dlfd, .part = partname };
	_cleanup_close_ int tfd = -1;
	if (cached) {
		tfd = openat(dlfd, tarname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (tfd < 0) {
			pgp_sig_free(sig);
			return err_set(e, -errno, "open '%s': %s", tarname, strerror(errno));
		}
		s.fd = tfd;
		s.size = (uint64_t)st.st_size;
		res->from_cache = true;
	}
	bool resumed = !cached && fstatat(dlfd, partname, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_size > 0;
	r = one_pass(&s, sig, want_sha, v, o, res, e);
	if (r == -ACSO_E_HASH && resumed) {
		/* The .part an earlier attempt left (an endless or a hostile
		 * stream, another mirror) is gone now: one fresh download. */
		err_clear(e);
		r = one_pass(&s, sig, want_sha, v, o, res, e);
	}
	pgp_sig_free(sig);
	if (r < 0) {
		if (cached && (r == -ACSO_E_HASH || r == -ACSO_E_BADSIG))
			unlinkat(dlfd, tarname, 0); /* a cached file that no longer verifies */
		return r;
	}
	/* Keep what verified it, for the next re-extraction. */
	if (!cached) {
		write_file_atomic(dlfd, sumsname, sums, sums_len, 0644, 0);
		write_file_atomic(dlfd, signame, sigdata, sig_len, 0644, 0);
	}
	snprintf(res->tarball, sizeof(res->tarball), "%s/%s", dl, tarname);
	return 0;
}

int fetch_local(const char *file, const char *sha256, const char *sign, const struct kver *want,
		const char *source_label, const struct fetch_opts *o, struct fetch_result *res,
		struct acso_err *e)
{
	snprintf(res->source, sizeof(res->source), "%s", source_label);
	/* Only the distro source may come without a SHA-256: dpkg vouched for it. */
	bool need_sha = strcmp(source_label, "distro") != 0;
	if (need_sha && (!sha256 || strlen(sha256) != 64 || strspn(sha256, "0123456789abcdefABCDEF") != 64))
		return err_set(e, -EINVAL, "a local tarball needs its SHA-256 (64 hex digits)");
	_cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "open '%s': %s", file, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return err_set(e, -EINVAL, "'%s' is not a regular file", file);
	/* A signature beside the file is verified too. */
	_cleanup_free_ char *auto_sign = NULL;
	if (!sign && endswith(file, ".tar.xz")) {
		auto_sign = xasprintf("%.*s.tar.sign", (int)(strlen(file) - 7), file);
		if (access(auto_sign, F_OK) == 0)
			sign = auto_sign;
	}
	struct pgp_sig *sig = NULL;
	if (sign) {
		_cleanup_free_ char *sd = NULL;
		size_t sl;
		int r = read_file_at(AT_FDCWD, sign, PGP_MAX_SIGFILE, &sd, &sl);
		if (r < 0)
			return err_set(e, r, "read '%s': %s", sign, acso_strerror(r));
		r = pgp_sig_parse(sd, sl, &sig, e);
		if (r < 0)
			return err_wrap(e, r, ".tar.sign check failed: '%s'", sign);
	}
	struct src s = { .fd = fd, .size = (uint64_t)st.st_size };
	char lower[65] = "";
	for (int i = 0; sha256 && i < 65; i++)
		lower[i] = (char)(sha256[i] | (sha256[i] ? 0x20 : 0));
	int r = one_pass(&s, sig, sha256 ? lower : NULL, want, o, res, e);
	pgp_sig_free(sig);
	if (r < 0)
		return r;
	char *abs = realpath(file, NULL);
	snprintf(res->tarball, sizeof(res->tarball), "%s", abs ? abs : file);
	free(abs);
	return 0;
}

/* Check ref's tree out into a staging dir and commit it as a tree; tag is
 * what the report names. */
static int git_tree(struct acso_git *g, const char *ref, const char *tag, const struct fetch_opts *o,
		    struct fetch_result *res, struct acso_err *e)
{
	char oid[41];
	_cleanup_close_ int sfd = -1;
	_cleanup_free_ char *name = NULL;
	int r = acso_git_resolve(g, ref, oid, e);
	if (r < 0)
		return r;
	snprintf(res->sha256, sizeof(res->sha256), "%s", oid); /* the commit, for the report */
	_cleanup_free_ char *src_dir = path_join(o->work_dir, "src");
	r = mkdir_p_at(AT_FDCWD, src_dir, 0755);
	if (r < 0)
		return err_set(e, r, "create '%s': %s", src_dir, acso_strerror(r));
	_cleanup_free_ char *stage = make_stage(src_dir, "git", e);
	if (!stage)
		return e->code;
	rmdir(stage); /* checkout creates it */
	r = acso_git_checkout(g, oid, stage, e);
	if (r < 0)
		goto out_stage;
	sfd = open(stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct kver tv;
	r = tree_version(sfd, &tv, e);
	if (r < 0)
		goto out_stage;
	kver_str(&tv, res->version);
	name = xasprintf("linux-%s-git", res->version);
	r = commit_tree(src_dir, stage, name, e);
	if (r < 0)
		goto out_stage;
	snprintf(res->source_dir, sizeof(res->source_dir), "%s/%s", src_dir, name);
	snprintf(res->top, sizeof(res->top), "%s", tag);
	return 0;
out_stage:
	rm_rf_at(AT_FDCWD, stage);
	return r;
}

int fetch_git(const char *spec, const struct fetch_opts *o, struct fetch_result *res, struct acso_err *e)
{
	snprintf(res->source, sizeof(res->source), "git");
	const char *at = strrchr(spec, '@');
	if (!at || at == spec || !at[1] || strchr(at, '/'))
		return err_set(e, -EINVAL, "'%s': expected git:URL@TAG or git:PATH@TAG", spec);
	_cleanup_free_ char *url = xstrndup(spec, (size_t)(at - spec));
	const char *tag = at + 1;
	snprintf(res->url, sizeof(res->url), "%s", url);
	struct acso_git *g = NULL;
	int r = acso_git_open(o->work_dir, url, o->http.allow_http, &g, e);
	if (r < 0)
		return r;
	struct buf sig = {0}, payload = {0};
	char commit[41] = "";
	r = acso_git_tag_signature(g, tag, &sig, &payload, commit, e);
	if (r == 0) {
		struct pgp_signer who = {0};
		r = pgp_verify_detached_as(payload.data, payload.len, sig.data, sig.len, o->kr, PGP_ROLE_RELEASE,
					   &who, e);
		if (r < 0) {
			sig_fail(r, "tag signature", &who, e);
			goto out;
		}
		res->tar_signed = true;
		res->tar_signer = who;
	} else {
		goto out; /* an unsigned tag too: nothing unverified is used */
	}
	/* A signed tag: the commit its verified object names, not the ref again. */
	r = git_tree(g, commit[0] ? commit : tag, tag, o, res, e);
out:
	buf_free(&sig);
	buf_free(&payload);
	acso_git_close(g);
	return r;
}
