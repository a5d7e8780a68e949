/* prebuilt.h — the prebuilt channel as `acso prebuilt` uses it: a flat,
 * signed APT repository (package/publish.h) added to a root's apt as a
 * deb822 source whose Signed-By is the channel's pinned key; apt fetches,
 * verifies (gpgv or sqv) and installs, into its own root-owned cache. acso
 * adds one check apt does not make: the channel's Release Date never goes
 * backwards from the last one seen (a rollback to an older, still validly
 * signed repository). Core: never prints; apt's output goes to on_line. */
#pragma once
#include <stdbool.h>
#include <time.h>

#include "base/err.h"
#include "base/util.h"

#define PREBUILT_SOURCE  "/etc/apt/sources.list.d/acso-prebuilt.sources"
#define PREBUILT_KEYRINGS "/etc/apt/keyrings"
#define PREBUILT_DATE    "/var/lib/acso/prebuilt-date"
/* the packages acso installed from the channel (what --purge takes) */
#define PREBUILT_LEDGER  "/var/lib/acso/prebuilt-installed"

/* "6.1" from "6.1.0-13-amd64" / "6.1.192-acso"; malloc'ed, or NULL. */
char *prebuilt_series_of(const char *release);

/* "6.1.192-acso" > "6.1.9-acso": dotted numbers as numbers, the rest as text. */
int prebuilt_release_cmp(const char *a, const char *b);

/* The newest release among releases that want names: a series "6.1"
 * takes 6.1.N, a version "6.1.192" or a release "6.1.192-acso" itself.
 * NULL when none matches. */
const char *prebuilt_pick(const struct strv *releases, const char *want);

/* The keyring file name beneath the root for key data: ".asc" when it is
 * armored, ".gpg" when binary (apt's Signed-By takes either). */
const char *prebuilt_keyring_path(const char *data, size_t len);

/* The deb822 source of the channel at url, pinned to keyring. */
char *prebuilt_source_text(const char *url, const char *keyring);

/* argv of an apt tool run for root ("chroot ROOT apt-get" unless root is
 * "/"), limited to the channel's source when only_channel. */
void prebuilt_apt_argv(const char *root, const char *tool, bool only_channel, struct strv *a);

/* The Date of a Release or InRelease text (RFC 1123, as apt writes and
 * reads it); -ACSO_E_PARSE when there is none or it is malformed. */
int prebuilt_release_date(const char *text, size_t len, time_t *date, struct acso_err *e);

/* The releases of the kernel images and of the headers a Packages text
 * lists for arch (NULL: any). */
void prebuilt_packages_releases(const char *text, size_t len, const char *arch, struct strv *images,
				struct strv *headers);

/* Install the channel in root: key (checked to be an OpenPGP public key)
 * to PREBUILT_KEYRINGS, the source to PREBUILT_SOURCE, both atomically. */
int prebuilt_add_source(int rootfd, const char *url, const char *key_file, struct acso_err *e);

struct prebuilt_apt {
	const char *root;     /* "/" or the image, holding apt */
	int rootfd;
	const struct strv *opts; /* more apt options ("-o", "Acquire::Retries=2"); may be NULL */
	void (*on_line)(void *priv, const char *line); /* apt's output */
	void *priv;
};

/* apt-get update of the channel's source alone (other sources' lists
 * stay), then the rollback check: the Date of the InRelease apt verified
 * against PREBUILT_DATE, which is advanced. Fills the releases of images
 * and headers the channel has for arch (dpkg's architecture in the root)
 * and the Release's Date (ISO 8601). */
int prebuilt_update(const struct prebuilt_apt *pa, struct strv *images, struct strv *headers, char **arch,
		    char **date, struct acso_err *e);

/* apt-get install of names. */
int prebuilt_apt_run(const struct prebuilt_apt *pa, const char *verb, const struct strv *names, struct acso_err *e);

/* What the channel configured in the root offers beyond what is installed
 * from it, from apt's lists of the last update (no network): for each
 * series of an installed channel kernel whose newest release in the
 * channel is newer, "SERIES INSTALLED NEWEST" in newer. -ENOENT when no
 * channel is configured or apt has no lists of it. */
int prebuilt_newer(int rootfd, struct strv *newer, struct acso_err *e);

/* Add names to the ledger / read it (names that are not a kernel's
 * image or headers are dropped). */
int prebuilt_ledger_add(int rootfd, const struct strv *names, struct acso_err *e);
void prebuilt_ledger_read(int rootfd, struct strv *names);

/* Keep of names those dpkg has installed (or their configuration files). */
int prebuilt_installed(const struct prebuilt_apt *pa, struct strv *names, struct acso_err *e);

/* Take the source, its key and the remembered Date away; the ledger too
 * when asked (after a purge: the kernels it names are gone). */
int prebuilt_remove_source(int rootfd, bool ledger, struct acso_err *e);
