/* fetch.h — get a verified kernel source tree into the work directory.
 *
 * From a mirror: the series directory's sha256sums.asc (cleartext-signed,
 * verified) lists the tarball's SHA-256; the tarball's .tar.sign is verified
 * over the uncompressed tar. The download is hashed as it arrives and
 * extracted in the same pass into a staging directory; only when both checks
 * pass does the staging directory become WORK/src/linux-VERSION and
 * WORK/src/current point at it. A verified tarball kept in WORK/downloads is
 * re-extracted (and verified again) without a download.
 * The SHA-256 is compared the moment the download ends: on a mismatch the
 * extraction stops at once and everything it wrote is removed. The staging
 * directory is private (0700) until every check passed; a fetch that fails
 * or is interrupted (SIGINT, SIGTERM, SIGHUP) removes it, and the next
 * fetch removes what a killed one left. What one fetch may download and
 * write is bounded (max_download, max_tree and the free space).
 * There is no way to skip verification. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "source/http.h"
#include "pgp/pgp.h"
#include "source/version.h"

struct acso_err;

#define FETCH_MAX_TARBALL (1ull << 30)  /* linux-6.x.tar.xz: about 140 MB */
#define FETCH_DEFAULT_TARBALL_ROOT "https://cdn.kernel.org/pub/linux/kernel/"
#define FETCH_DEFAULT_RELEASES_URL "https://www.kernel.org/releases.json"

struct fetch_opts {
	const char *mirror;            /* site root, NULL: kernel.org */
	const char *work_dir;
	const struct pgp_keyring *kr;
	struct http_opts http;         /* timeouts, retries, allow_http */
	uint64_t max_download;         /* the tarball's bytes; 0: FETCH_MAX_TARBALL */
	uint64_t max_tree;             /* what extraction may write; 0: UNPACK_MAX_TOTAL */
	/* phase "download"/"read"/"extract": bytes done/total; entries for extract */
	void (*progress)(void *priv, const char *phase, uint64_t done, uint64_t total);
	void *priv;
};

struct fetch_result {
	char version[KVER_STR_MAX];
	char source_dir[4096];
	char tarball[4096];            /* the verified tarball kept in downloads/ */
	char sha256[65];
	char url[4096];                /* where it came from ("" for a local file) */
	bool from_cache;               /* no download: the cached tarball was used */
	bool tar_signed;               /* a .tar.sign was verified */
	struct pgp_signer tar_signer;  /* who signed the .tar.sign */
	bool sums_signed;
	struct pgp_signer sums_signer; /* who signed sha256sums.asc */
	char top[256];                 /* the archive's top directory (stripped) */
	uint64_t entries, bytes;
	char source[32];               /* "kernel.org" "tarball" "distro" */
};

/* The URL of a file in the series directory of v: MIRROR/pub/linux/kernel/vN.x/NAME. */
char *fetch_series_url(const char *mirror, const struct kver *v, const char *name);
/* The releases.json URL for a mirror (NULL: kernel.org's). */
char *fetch_releases_url(const char *mirror);

/* Fetch a release (X.Y or X.Y.Z) from the mirror. */
int fetch_release(const struct kver *v, const struct fetch_opts *o, struct fetch_result *res,
		  struct acso_err *e);

/* A local tarball whose SHA-256 the user gives (sha256 required, except for
 * source_label "distro", which dpkg --verify vouched for). A
 * FILE.sign (or the .tar.sign named by sign, may be NULL) is verified too
 * when present. want may be NULL: the version then comes from the tree's
 * Makefile. source_label names the source in the result ("tarball", "distro"). */
int fetch_local(const char *file, const char *sha256, const char *sign, const struct kver *want,
		const char *source_label, const struct fetch_opts *o, struct fetch_result *res,
		struct acso_err *e);

/* A tag of a git repository (spec "URL@TAG" or "PATH@TAG", split at the
 * last '@'): cloned or fetched into a cached bare repository (WORK/git/),
 * the tag's OpenPGP signature verified with the keyring when the tag is
 * signed (an unsigned tag is used, and res->tar_signed stays false), and the
 * tag's tree checked out into WORK/src/linux-VERSION[-git]. */
int fetch_git(const char *spec, const struct fetch_opts *o, struct fetch_result *res, struct acso_err *e);

/* The version in a tree's top Makefile (VERSION, PATCHLEVEL, SUBLEVEL,
 * EXTRAVERSION). */
int tree_version(int dirfd, struct kver *v, struct acso_err *e);
