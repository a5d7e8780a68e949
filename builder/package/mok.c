/* mok.c — see mok.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/spawn.h"
#include "base/util.h"
#include "package/mok.h"

#define MOK_FILE_MAX (64u << 10)

static const struct {
	const char *key, *cert, *origin;
} known[] = {
	{"/var/lib/shim-signed/mok/MOK.priv", "/var/lib/shim-signed/mok/MOK.der", "ubuntu"},
	{"/var/lib/dkms/mok.key", "/var/lib/dkms/mok.pub", "dkms"},
};

void mok_free(struct mok *m)
{
	free(m->key);
	free(m->cert);
	memset(m, 0, sizeof(*m));
}

int mok_find(int rootfd, struct mok *out, struct acso_err *e)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (root_exists(rootfd, known[i].key) == 0 && root_exists(rootfd, known[i].cert) == 0) {
			out->key = xstrdup(known[i].key);
			out->cert = xstrdup(known[i].cert);
			out->origin = known[i].origin;
			return 0;
		}
	return err_set(e, -ENOENT, "no MOK on this system (%s, %s)", known[0].key, known[1].key);
}

void mok_default_paths(int rootfd, struct mok *out)
{
	size_t i = root_exists(rootfd, "/var/lib/shim-signed") == 0 ? 0 : 1;
	memset(out, 0, sizeof(*out));
	out->key = xstrdup(known[i].key);
	out->cert = xstrdup(known[i].cert);
	out->origin = "acso";
}

static X509 *load_cert(const char *data, size_t len, bool *pem)
{
	const unsigned char *p = (const unsigned char *)data;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	*pem = false;
	if (x)
		return x;
	BIO *b = BIO_new_mem_buf(data, (int)len);
	x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	*pem = x != NULL;
	return x;
}

/* The key file: a regular file of owner_uid's that nobody else can read or
 * write. Opened without following a symlink; its bytes into *data. */
static int read_key_file(int rootfd, const char *path, uid_t owner_uid, char **data, size_t *len,
			 struct acso_err *e)
{
	_cleanup_close_ int fd = root_open(rootfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0);
	if (fd < 0)
		return err_set(e, fd, "MOK key '%s': %s", path, strerror(-fd));
	struct stat st;
	if (fstat(fd, &st) < 0)
		return err_set(e, -errno, "MOK key '%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(e, -ACSO_E_UNSAFE, "MOK key '%s' is not a regular file", path);
	if (st.st_uid != owner_uid)
		return err_set(e, -ACSO_E_UNSAFE, "MOK key '%s' belongs to uid %u, not %u: refusing a key another user could have replaced",
			       path, (unsigned)st.st_uid, (unsigned)owner_uid);
	if (st.st_mode & 077)
		return err_set(e, -ACSO_E_UNSAFE, "MOK key '%s' has mode %04o: a private key readable by others is no longer private (chmod 600 it, or make a new key)",
			       path, (unsigned)(st.st_mode & 07777));
	int r = read_fd_bounded(fd, MOK_FILE_MAX, data, len);
	return r < 0 ? err_set(e, r, "MOK key '%s': %s", path, acso_strerror(r)) : 0;
}

static EVP_PKEY *parse_key(const char *data, size_t len)
{
	BIO *b = BIO_new_mem_buf(data, (int)len);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)"") : NULL;
	BIO_free(b);
	if (!k) {
		const unsigned char *p = (const unsigned char *)data;
		k = d2i_AutoPrivateKey(NULL, &p, (long)len);
	}
	return k;
}

static void describe(X509 *x, struct mok *m)
{
	X509_NAME_oneline(X509_get_subject_name(x), m->subject, sizeof(m->subject));
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	m->sha1[0] = '\0';
	if (X509_digest(x, EVP_sha1(), md, &n) == 1)
		for (unsigned int i = 0; i < n && i < 20; i++)
			snprintf(m->sha1 + 2 * i, 3, "%02x", md[i]);
}

int mok_check(int rootfd, struct mok *m, uid_t owner_uid, struct acso_err *e)
{
	_cleanup_free_ char *cdata = NULL;
	size_t clen = 0;
	int r = root_read_file(rootfd, m->cert, MOK_FILE_MAX, &cdata, &clen);
	if (r < 0)
		return err_set(e, r, "MOK certificate '%s': %s", m->cert, acso_strerror(r));
	X509 *x = load_cert(cdata, clen, &m->cert_pem);
	if (!x)
		return err_set(e, -ACSO_E_PARSE, "MOK certificate '%s' is not an X.509 certificate (DER or PEM)", m->cert);
	describe(x, m);
	if ((X509_get_extension_flags(x) & EXFLAG_XKUSAGE) && !(X509_get_extended_key_usage(x) & XKU_CODE_SIGN)) {
		X509_free(x);
		return err_set(e, -ACSO_E_UNSUPPORTED, "MOK certificate '%s' limits its use and code signing is not among the uses: shim would not accept a kernel signed with it", m->cert);
	}
	char *kdata = NULL;
	size_t klen = 0;
	r = read_key_file(rootfd, m->key, owner_uid, &kdata, &klen, e);
	if (r < 0) {
		X509_free(x);
		return r;
	}
	EVP_PKEY *k = parse_key(kdata, klen);
	OPENSSL_cleanse(kdata, klen);
	free(kdata);
	bool match = k && X509_check_private_key(x, k) == 1;
	EVP_PKEY_free(k);
	X509_free(x);
	if (!k)
		return err_set(e, -ACSO_E_PARSE, "MOK key '%s' is not a private key (PEM or DER, unencrypted)", m->key);
	if (!match)
		return err_set(e, -ACSO_E_PARSE, "MOK key '%s' does not belong to the certificate '%s'", m->key, m->cert);
	return 0;
}

int mok_cert_pem(int rootfd, const struct mok *m, char **pem, size_t *len, struct acso_err *e)
{
	_cleanup_free_ char *data = NULL;
	size_t dlen = 0;
	bool was_pem;
	int r = root_read_file(rootfd, m->cert, MOK_FILE_MAX, &data, &dlen);
	if (r < 0)
		return err_set(e, r, "MOK certificate '%s': %s", m->cert, acso_strerror(r));
	X509 *x = load_cert(data, dlen, &was_pem);
	if (!x)
		return err_set(e, -ACSO_E_PARSE, "MOK certificate '%s' is not an X.509 certificate (DER or PEM)", m->cert);
	BIO *out = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n = out && PEM_write_bio_X509(out, x) == 1 ? BIO_get_mem_data(out, &p) : 0;
	if (n > 0) {
		*pem = xstrndup(p, (size_t)n);
		*len = (size_t)n;
	}
	BIO_free(out);
	X509_free(x);
	return n > 0 ? 0 : err_set(e, -ENOMEM, "OpenSSL could not write the certificate as PEM");
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	int ok = ex && X509_add_ext(x, ex, -1) == 1;
	X509_EXTENSION_free(ex);
	return ok ? 0 : -1;
}

static X509 *make_cert(EVP_PKEY *k, const char *hostname)
{
	_cleanup_free_ char *cn = xasprintf("acso Secure Boot signing key (%s)", hostname && *hostname ? hostname : "localhost");
	X509 *x = X509_new();
	unsigned char serial[16];
	if (!x || RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	ASN1_INTEGER *sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	BN_free(bn);
	int ok = sn && X509_set_serialNumber(x, sn) == 1;
	ASN1_INTEGER_free(sn);
	if (!ok || X509_set_version(x, 2) != 1 || !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), 36500, 0, NULL) || X509_set_pubkey(x, k) != 1)
		goto fail;
	X509_NAME *name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1)
		goto fail;
	if (add_ext(x, NID_basic_constraints, "critical,CA:FALSE") || add_ext(x, NID_key_usage, "digitalSignature") ||
	    add_ext(x, NID_ext_key_usage, "codeSigning") || add_ext(x, NID_subject_key_identifier, "hash"))
		goto fail;
	if (X509_sign(x, k, EVP_sha256()) <= 0)
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

/* Write data to the absolute path p below rootfd, atomically, refusing to
 * replace a file that exists; missing directories are made 0755. */
static int write_new(int rootfd, const char *p, const void *data, size_t len, mode_t mode)
{
	if (root_exists(rootfd, p) == 0)
		return -EEXIST;
	_cleanup_free_ char *dir = xstrdup(p);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return -EINVAL;
	*slash = '\0';
	int r = mkdir_p_at(rootfd, dir + 1, 0755);
	if (r < 0)
		return r;
	_cleanup_close_ int dfd = root_opendir_fd(rootfd, dir);
	if (dfd < 0)
		return dfd;
	r = write_file_atomic(dfd, slash + 1, data, len, mode, 0);
	return r < 0 ? r : 0;
}

int mok_create(int rootfd, struct mok *m, const char *hostname, struct acso_err *e)
{
	if (root_exists(rootfd, m->key) == 0 || root_exists(rootfd, m->cert) == 0)
		return err_set(e, -EEXIST, "'%s' or '%s' exists already: acso never replaces a key", m->key, m->cert);
	EVP_PKEY *k = EVP_RSA_gen(2048);
	X509 *x = k ? make_cert(k, hostname) : NULL;
	if (!x) {
		EVP_PKEY_free(k);
		return err_set(e, -ENOMEM, "OpenSSL could not make the key and certificate");
	}
	unsigned char *der = NULL;
	int dlen = i2d_X509(x, &der);
	BIO *b = BIO_new(BIO_s_secmem());
	int r = -ENOMEM;
	if (dlen > 0 && b && PEM_write_bio_PKCS8PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1) {
		char *kp = NULL;
		long klen = BIO_get_mem_data(b, &kp);
		r = write_new(rootfd, m->key, kp, (size_t)klen, 0600);
		if (r == 0) {
			r = write_new(rootfd, m->cert, der, (size_t)dlen, 0644);
			if (r < 0) /* no key without its certificate */
				unlinkat(rootfd, m->key + 1, 0);
		}
	}
	describe(x, m);
	m->cert_pem = false;
	BIO_free(b);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(k);
	return r < 0 ? err_set(e, r, "write the new MOK '%s': %s", m->key, acso_strerror(r)) : 0;
}

const char *mok_enrol_word(enum mok_enrol st)
{
	static const char *const words[] = {
		[MOK_ENROL_UNKNOWN] = "unknown", [MOK_ENROLLED] = "enrolled", [MOK_PENDING] = "pending",
		[MOK_NOT_ENROLLED] = "not enrolled", [MOK_BLOCKED] = "blocked",
	};
	return (size_t)st < ARRAY_SIZE(words) ? words[st] : "unknown";
}

enum mok_enrol mok_parse_test_key(const char *text)
{
	if (!text)
		return MOK_ENROL_UNKNOWN;
	if (strstr(text, "is already enrolled") || strstr(text, "is already in db"))
		return MOK_ENROLLED;
	if (strstr(text, "is already in the enrollment request"))
		return MOK_PENDING;
	if (strstr(text, "is blocked in"))
		return MOK_BLOCKED;
	if (strstr(text, "is not enrolled"))
		return MOK_NOT_ENROLLED;
	return MOK_ENROL_UNKNOWN;
}

enum mok_enrol mok_enrol_state(const struct mok *m)
{
	_cleanup_free_ char *prog = spawn_which("mokutil");
	if (!prog || m->cert_pem)
		return MOK_ENROL_UNKNOWN;
	struct buf out = {0};
	const char *argv[] = {"mokutil", "--test-key", m->cert, NULL};
	int status;
	enum mok_enrol st = MOK_ENROL_UNKNOWN;
	if (spawn_run(argv, &(struct spawn_opts){.log_fd = -1, .quiet = true, .capture = &out}, &status) == 0)
		st = mok_parse_test_key(buf_str(&out));
	buf_free(&out);
	return st;
}

int mok_import(const struct mok *m, struct acso_err *e)
{
	_cleanup_free_ char *prog = spawn_which("mokutil");
	if (!prog)
		return err_set(e, -ACSO_E_NOTFOUND, "mokutil is not installed (apt install mokutil)");
	if (m->cert_pem)
		return err_set(e, -ACSO_E_UNSUPPORTED, "mokutil takes a DER certificate, and '%s' is PEM", m->cert);
	const char *argv[] = {"mokutil", "--import", m->cert, NULL};
	return spawn_check(argv, &(struct spawn_opts){.log_fd = -1, .keep_stdin = true}, e);
}
