/* index.h — the prebuilt channel's index (docs/prebuilt-index.md):
 * index.json beside a detached OpenPGP signature index.json.asc, listing for
 * each kernel its release, upstream version, architecture, the distribution
 * it was built for, the ACS patch version and every package with its size
 * and SHA-256. Parsing is strict: an unknown field, a missing one or a
 * malformed value rejects the whole index. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct acso_err;

#define INDEX_FORMAT "acso-prebuilt/1"
#define INDEX_MAX    (4u << 20)
#define INDEX_SIG_MAX (64u << 10)
#define INDEX_MAX_KERNELS 1024
#define INDEX_MAX_PACKAGES 16
#define INDEX_MAX_PACKAGE_SIZE (2ull << 30)

struct index_pkg {
	char *file;      /* relative to the index's URL: "6.1.192-acso/linux-image-...deb" */
	char *package;
	char *version;
	uint64_t size;
	char sha256[65];
};

struct index_kernel {
	char *release;       /* "6.1.192-acso" */
	char *version;       /* "6.1.192" */
	char *architecture;  /* "amd64" */
	char *distro;        /* "debian-12" */
	char *acs_patch;     /* "acso-0.1.0" */
	struct index_pkg *pkgs;
	size_t n;
};

struct index {
	char *generated;     /* ISO 8601 UTC */
	struct index_kernel *k;
	size_t n;
};

int index_parse(const char *text, size_t len, struct index *ix, struct acso_err *e);
/* Serialised, pretty, with a final newline. Malloc'ed. */
char *index_to_json(const struct index *ix);
void index_free(struct index *ix);

/* Choose the kernel for want ("6.1" series, "6.1.192" version or a release
 * "6.1.192-acso") and arch: the highest version that matches. Errors say
 * what the index has instead (-ACSO_E_NOTFOUND). */
const struct index_kernel *index_pick(const struct index *ix, const char *want, const char *arch,
				      struct acso_err *e);

/* "6.1.192" > "6.1.9"; compares dotted numbers, then the rest as text. */
int index_version_cmp(const char *a, const char *b);
/* A relative file path safe to join to a base URL and a directory. */
int index_safe_file(const char *file);
