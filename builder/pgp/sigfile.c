/* sigfile.c — see sigfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/decompress.h"
#include "base/fileio.h"
#include "base/util.h"
#include "pgp/sigfile.h"

/* How the signature block of a cleartext-signed file names its issuer (the
 * verifier has already parsed it; this only reads it again for the report). */
static const char *cleartext_issuer(const char *text, size_t len)
{
	static const char begin[] = "\n-----BEGIN PGP SIGNATURE-----";
	const char *b = memmem(text, len, begin, strlen(begin));
	struct pgp_sig *sig;
	struct pgp_signer w;
	if (!b || pgp_sig_parse(b + 1, len - (size_t)(b + 1 - text), &sig, NULL) < 0)
		return NULL;
	pgp_sig_info(sig, &w);
	pgp_sig_free(sig);
	return w.fingerprint[0] ? "fingerprint" : w.keyid[0] ? "keyid" : NULL;
}

/* The detached signature's path when none was given: FILE.sign, FILE.asc,
 * FILE.sig, and for a compressed FILE the same names without the compression
 * suffix (linux-6.1.tar.xz -> linux-6.1.tar.sign). */
static char *find_sig(const char *file)
{
	static const char *const ext[] = {".sign", ".asc", ".sig"};
	_cleanup_free_ char *stem = xstrdup(file);
	if (decomp_suffix(stem))
		*strrchr(stem, '.') = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(ext); i++) {
		char *p = xasprintf("%s%s", file, ext[i]);
		if (access(p, F_OK) == 0)
			return p;
		free(p);
		if (strcmp(stem, file)) {
			p = xasprintf("%s%s", stem, ext[i]);
			if (access(p, F_OK) == 0)
				return p;
			free(p);
		}
	}
	return NULL;
}

/* Does sig cover the uncompressed data of file? True when file is
 * compressed and the signature's name, without .sign/.asc/.sig, does not end
 * with the compression suffix (linux-6.1.tar.sign for linux-6.1.tar.xz). */
static bool over_decompressed(const char *file, const char *sig)
{
	if (!decomp_suffix(file))
		return false;
	const char *suf = strrchr(file, '.');
	_cleanup_free_ char *base = xstrdup(sig);
	char *dot = strrchr(base, '.');
	if (dot && (!strcmp(dot, ".sign") || !strcmp(dot, ".asc") || !strcmp(dot, ".sig")))
		*dot = '\0';
	return !endswith(base, suf);
}

static int verify_detached_file(const char *file, struct pgp_file_check *r, const struct pgp_keyring *kr,
				unsigned role, struct acso_err *e)
{
	_cleanup_free_ char *sigdata = NULL;
	size_t siglen;
	int rc = read_file_at(AT_FDCWD, r->sig, PGP_MAX_SIGFILE, &sigdata, &siglen);
	if (rc == -EFBIG)
		return err_set(e, -ACSO_E_TOOBIG, "signature '%s' is larger than %u bytes", r->sig, PGP_MAX_SIGFILE);
	if (rc < 0)
		return err_set(e, rc, "read '%s': %s", r->sig, acso_strerror(rc));
	struct pgp_sig *sig;
	rc = pgp_sig_parse(sigdata, siglen, &sig, e);
	if (rc < 0)
		return err_wrap(e, rc, "signature '%s'", r->sig);
	pgp_sig_info(sig, &r->who);
	r->have_info = true;
	r->issuer_by = r->who.fingerprint[0] ? "fingerprint" : r->who.keyid[0] ? "keyid" : NULL;

	_cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = err_set(e, -errno, "open '%s': %s", file, strerror(errno));
		pgp_sig_free(sig);
		return rc;
	}
	struct pgp_verify *v;
	rc = pgp_verify_begin(sig, &v, e);
	if (rc < 0) {
		pgp_sig_free(sig);
		return rc;
	}
	struct decomp *d = NULL;
	if (over_decompressed(file, r->sig)) {
		rc = decomp_open_fd(fd, &d, e);
		if (rc == 0)
			r->decompressed = decomp_filter(d);
	}
	static char buf[1 << 17];
	while (rc == 0) {
		ssize_t n = d ? decomp_read(d, buf, sizeof(buf), e) : read(fd, buf, sizeof(buf));
		if (n < 0 && !d && errno == EINTR)
			continue;
		if (n < 0) {
			rc = d ? (int)n : err_set(e, -errno, "read '%s': %s", file, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		pgp_verify_update(v, buf, (size_t)n);
	}
	decomp_close(d);
	if (rc == 0) {
		if (!role)
			role = endswith(r->sig, ".tar.sign") ? PGP_ROLE_RELEASE : PGP_ROLE_ANY;
		r->role = role;
		rc = pgp_verify_end_as(v, kr, role, &r->who, e);
	} else {
		pgp_verify_end(v, NULL, NULL, NULL); /* frees v; result ignored */
	}
	pgp_sig_free(sig);
	return rc;
}

int pgp_check_file(const char *file, const char *sig, const struct pgp_keyring *kr, unsigned role,
		   struct pgp_file_check *c, struct acso_err *e)
{
	memset(c, 0, sizeof(*c));
	c->kind = "unknown";
	c->sig = sig ? xstrdup(sig) : NULL;
	if (!c->sig) {
		/* Cleartext-signed, or a detached signature next to it. */
		_cleanup_free_ char *text = NULL;
		size_t len = 0;
		int r = read_file_at(AT_FDCWD, file, PGP_MAX_CLEARTEXT, &text, &len);
		if (r < 0 && r != -EFBIG)
			return err_set(e, r, "%s", acso_strerror(r));
		if (r == 0 && pgp_is_cleartext(text, len)) {
			c->kind = "cleartext";
			c->role = role ? role : endswith(file, "sha256sums.asc") ? PGP_ROLE_SUMS : PGP_ROLE_ANY;
			r = pgp_verify_cleartext_as(text, len, kr, c->role, NULL, NULL, &c->who, e);
			c->have_info = c->who.hash_algo != 0;
			if (c->have_info)
				c->issuer_by = cleartext_issuer(text, len);
			return r;
		}
		c->sig = find_sig(file);
		if (!c->sig) {
			c->no_signature = true;
			return err_set(e, -ACSO_E_PARSE, "not a cleartext-signed file, and no %s.sign, .asc or .sig next to it",
				       file);
		}
	}
	c->kind = "detached";
	return verify_detached_file(file, c, kr, role, e);
}

void pgp_file_check_free(struct pgp_file_check *c)
{
	free(c->sig);
	c->sig = NULL;
}
