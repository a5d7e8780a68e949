/* manifest.h — manifest.json beside a build's .deb files
 * (WORK/build/<release>/manifest.json): what was built, from which tree,
 * and every package with its size and SHA-256. `acso install` without
 * arguments installs the packages of the last build's manifest. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "package/deb.h"

struct acso_err;
struct json_object;

struct manifest_pkg {
	char *file;          /* base name, in the manifest's directory */
	struct deb_info info;
};

struct manifest {
	char *release;       /* "6.1.192-acso" */
	char *version;       /* upstream "6.1.192" */
	char *localversion;  /* "-acso" */
	char *debian_version;/* "6.1.192-acso-1" */
	char *source_dir;
	char *log;
	char *built_at;      /* ISO 8601 UTC */
	char *config_sha256; /* of the .config it was built from */
	char *reuse_key;     /* the --reuse-key it was built with, or NULL */
	uint64_t objects;    /* objects compiled (the next build's estimate) */
	unsigned jobs;       /* make -j */
	double seconds;
	struct manifest_pkg *pkgs;
	size_t n;
};

#define MANIFEST_NAME "manifest.json"
#define MANIFEST_MAX  (1u << 20)

struct json_object *manifest_to_json(const struct manifest *m);
/* Write manifest.json atomically beneath the directory handle DFD (DIR is
 * its name, for messages): never through a path a user could swap. */
int manifest_write(int dfd, const char *dir, const struct manifest *m, struct acso_err *e);
/* Read a manifest.json; every package needs file, package, version,
 * architecture, size and sha256 (-ACSO_E_PARSE otherwise). */
int manifest_read(const char *path, struct manifest *m, struct acso_err *e);
void manifest_add(struct manifest *m, const char *file, struct deb_info *info); /* takes info */
/* Are the packages of m, a manifest read from dir, still there, each with
 * its recorded size and SHA-256? 0 when they are; -ACSO_E_HASH or -errno
 * with e naming the first that is not. */
int manifest_verify(const char *dir, const struct manifest *m, struct acso_err *e);
void manifest_free(struct manifest *m);
