/* prebuilt.h — a prebuilt channel (docs/prebuilt-index.md) as `acso
 * prebuilt` uses it: the index fetched and its detached signature checked
 * against the channel's key, the running kernel's series and this
 * machine's Debian architecture, and each kernel package downloaded
 * (resumable) and verified — size, SHA-256, control fields — before it gets
 * its final name. Core: never prints. */
#pragma once
#include <stdbool.h>

#include "base/err.h"
#include "base/util.h"
#include "package/index.h"

struct http_opts;

/* Fetch URL and URL.asc, verify the signature with the key file, parse.
 * policy: the transfer policy (http, timeouts, retries); the size limits
 * are this file's. *bad_sig: the failure is the signature's
 * (-ACSO_E_BADSIG, -ACSO_E_NOKEY, or a malformed signature). */
int prebuilt_fetch_index(const char *url, const char *key, const struct http_opts *policy, struct index *ix,
			 bool *bad_sig, struct acso_err *e);

/* This machine's Debian architecture ("amd64" when unknown). */
const char *prebuilt_debian_arch(void);

/* "6.1" from "6.1.0-13-amd64" / "6.1.192-acso"; malloc'ed, or NULL. */
char *prebuilt_series_of(const char *release);

/* The packages acso takes from a channel: the image and the headers. */
bool prebuilt_wanted(const struct index_pkg *p);

/* Download kernel k's wanted packages from the index at index_url into
 * dir; their paths in *paths. Nothing unverified stays behind. */
int prebuilt_download(const char *index_url, const struct index_kernel *k, const char *dir,
		      const struct http_opts *policy, struct strv *paths, struct acso_err *e);
