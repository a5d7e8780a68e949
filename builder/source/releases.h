/* releases.h — kernel.org's releases.json and the series directory's
 * sha256sums.asc list: which versions exist, which series are end of life,
 * which are longterm.
 *
 * releases.json lists only the series kernel.org currently maintains;
 * an older series is found through pub/linux/kernel/vN.x/sha256sums.asc,
 * which lists every tarball of that directory. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "source/version.h"

struct acso_err;

#define RELEASES_MAX_SIZE (1u << 20)   /* releases.json is about 4 KiB */
#define SUMS_MAX_SIZE     (8u << 20)   /* vN.x/sha256sums.asc is about 300 KiB */

struct release {
	struct kver ver;
	char moniker[16];   /* "mainline" "stable" "longterm" "linux-next" (or what kernel.org says) */
	bool iseol;
	char *source;       /* URL or NULL */
	char *pgp;          /* URL or NULL */
	long long released; /* seconds since the epoch, 0 unknown */
};

struct releases {
	struct release *v;
	size_t n;
	bool has_latest_stable;
	struct kver latest_stable;
	size_t skipped;     /* entries with a version we do not understand */
};

/* Parse releases.json. -ACSO_E_PARSE (with where, e.g. "releases[2].iseol is
 * not a boolean") for malformed JSON or shapes; -ACSO_E_TOOBIG over
 * RELEASES_MAX_SIZE. Every URL may be null. */
int releases_parse(const char *json, size_t len, struct releases *r, struct acso_err *e);
void releases_free(struct releases *r);
/* The listed release of series X.Y (the highest if several), or NULL. */
const struct release *releases_find_series(const struct releases *r, const struct kver *series);
/* The listed release with exactly this version, or NULL. */
const struct release *releases_find(const struct releases *r, const struct kver *v);
/* The nearest longterm series to `series`: the oldest longterm series that
 * is not older than it, else the newest longterm. NULL when none is listed. */
const struct release *releases_nearest_longterm(const struct releases *r, const struct kver *series);
/* The newest longterm release, or NULL. */
const struct release *releases_latest_longterm(const struct releases *r);

/* A sha256sum list ("HEX  NAME" lines, as in the signed body of
 * sha256sums.asc): the SHA-256 listed for name. 0, -ACSO_E_NOTFOUND, or
 * -ACSO_E_PARSE when name's line is malformed. */
int sums_find(const char *body, const char *name, char hex[65]);
/* The newest linux-X.Y[.Z].tar.xz of `series` listed in a sha256sum list.
 * Returns the number of tarballs of that series found (0: *latest untouched). */
int sums_latest_in_series(const char *body, const struct kver *series, struct kver *latest);
