/* prebuilt.c — see prebuilt.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/fileio.h"
#include "package/deb.h"
#include "package/prebuilt.h"
#include "pgp/pgp.h"
#include "source/http.h"

const char *prebuilt_debian_arch(void)
{
	static const struct { const char *machine, *arch; } map[] = {
		{"x86_64", "amd64"}, {"aarch64", "arm64"}, {"i686", "i386"}, {"i586", "i386"},
		{"armv7l", "armhf"}, {"ppc64le", "ppc64el"}, {"s390x", "s390x"}, {"riscv64", "riscv64"},
	};
	struct utsname u;
	if (uname(&u) == 0)
		for (size_t i = 0; i < ARRAY_SIZE(map); i++)
			if (!strcmp(u.machine, map[i].machine))
				return map[i].arch;
	return "amd64";
}

/* "6.1" from "6.1.0-13-amd64" / "6.1.192-acso". */
char *prebuilt_series_of(const char *release)
{
	const char *dot = strchr(release, '.');
	if (!dot)
		return NULL;
	size_t n = (size_t)(dot - release) + 1 + strspn(dot + 1, "0123456789");
	return n > (size_t)(dot - release) + 1 ? xstrndup(release, n) : NULL;
}

/* Fetch index.json and index.json.asc and verify the signature. */
int prebuilt_fetch_index(const char *url, const char *key, const struct http_opts *policy, struct index *ix,
			 bool *bad_sig, struct acso_err *e)
{
	struct pgp_keyring *kr = NULL;
	int r = pgp_keyring_new(&kr);
	if (r == 0)
		r = pgp_keyring_add_path(kr, key, e);
	if (r == 0 && pgp_keyring_count(kr) == 0)
		r = err_set(e, -ACSO_E_NOKEY, "'%s' holds no public key", key);
	if (r < 0) {
		pgp_keyring_free(kr);
		return err_wrap(e, r, "key '%s'", key);
	}
	*bad_sig = false;
	struct buf text = {0}, sig = {0};
	_cleanup_free_ char *sig_url = xasprintf("%s.asc", url);
	struct http_opts ho = *policy;
	ho.max_size = INDEX_MAX;
	r = http_get(url, &ho, &text, e);
	if (r < 0)
		err_wrap(e, r, "'%s'", url);
	if (r == 0) {
		ho.max_size = INDEX_SIG_MAX;
		r = http_get(sig_url, &ho, &sig, e);
		if (r < 0)
			err_wrap(e, r, "'%s'", sig_url);
	}
	if (r == 0) {
		struct pgp_signer who = {0};
		r = pgp_verify_detached(text.data, text.len, sig.data, sig.len, kr, &who, e);
		if (r < 0) {
			*bad_sig = true;
			err_wrap(e, r, "signature of '%s'", url);
		}
	}
	if (r == 0)
		r = index_parse(buf_str(&text), text.len, ix, e);
	buf_free(&text);
	buf_free(&sig);
	pgp_keyring_free(kr);
	return r;
}

/* Download one package into dir, verified: size, SHA-256, and the control
 * fields against the index. Only a verified file gets its final name. */
static int fetch_package(const char *base_url, const struct index_kernel *k, const struct index_pkg *p, int dirfd,
			 const char *dir, const struct http_opts *policy, char **final_path, struct acso_err *e)
{
	const char *name = strrchr(p->file, '/');
	name = name ? name + 1 : p->file;
	_cleanup_free_ char *final = path_join(dir, name);
	_cleanup_free_ char *part_name = xasprintf("%s.part", name);
	_cleanup_free_ char *part = path_join(dir, part_name);
	char hex[65];
	uint64_t size = 0;
	/* Already here and intact: nothing to fetch. */
	if (sha256_file(final, hex, &size, NULL) == 0 && size == p->size && !strcmp(hex, p->sha256)) {
		*final_path = TAKE_PTR(final);
		return 0;
	}
	_cleanup_free_ char *url = xasprintf("%s%s", base_url, p->file);
	struct http_opts ho = *policy;
	ho.max_size = p->size;
	int r = http_download(url, dirfd, part_name, &ho, e);
	if (r < 0) {
		if (r == -ACSO_E_TOOBIG)
			unlinkat(dirfd, part_name, 0);
		return err_wrap(e, r, "'%s'", url);
	}
	r = sha256_file(part, hex, &size, e);
	if (r == 0 && size != p->size)
		r = err_set(e, -ACSO_E_HASH, "'%s': %llu bytes, the index says %llu", url, (unsigned long long)size,
			    (unsigned long long)p->size);
	if (r == 0 && strcmp(hex, p->sha256))
		r = err_set(e, -ACSO_E_HASH, "'%s': SHA-256 %s, the index says %s", url, hex, p->sha256);
	struct deb_info d = {0};
	if (r == 0 && (r = deb_read(part, &d, e)) < 0)
		err_wrap(e, r, "'%s'", url);
	if (r == 0 && (strcmp(d.package, p->package) || strcmp(d.version, p->version) ||
		       strcmp(d.architecture, k->architecture)))
		r = err_set(e, -ACSO_E_STATE, "'%s' is %s %s (%s), the index says %s %s (%s)", url, d.package, d.version,
			    d.architecture, p->package, p->version, k->architecture);
	deb_info_free(&d);
	if (r == 0 && renameat(dirfd, part_name, dirfd, name) < 0)
		r = err_set(e, -errno, "rename '%s': %s", part, strerror(errno));
	if (r < 0) {
		unlinkat(dirfd, part_name, 0); /* nothing unverified stays */
		return r;
	}
	*final_path = TAKE_PTR(final);
	return 0;
}

bool prebuilt_wanted(const struct index_pkg *p)
{
	enum deb_kind kind = deb_kind(p->package, NULL, 0);
	return kind == DEB_IMAGE || kind == DEB_HEADERS;
}

int prebuilt_download(const char *index_url, const struct index_kernel *k, const char *dir,
		      const struct http_opts *policy,
		      struct strv *paths, struct acso_err *e)
{
	_cleanup_free_ char *base = xstrndup(index_url, (size_t)(strrchr(index_url, '/') - index_url) + 1);
	_cleanup_close_ int dfd = mkdir_open(dir, 0755);
	if (dfd < 0)
		return err_set(e, dfd, "'%s': %s", dir, acso_strerror(dfd));
	for (size_t i = 0; i < k->n; i++) {
		if (!prebuilt_wanted(&k->pkgs[i]))
			continue;
		char *p = NULL;
		int r = fetch_package(base, k, &k->pkgs[i], dfd, dir, policy, &p, e);
		if (r < 0)
			return r;
		strv_push(paths, p);
		free(p);
	}
	return 0;
}
