/* http.h — downloads (the only file that uses libcurl).
 *
 * Policy: https only, except plain http to a loopback address or when the
 * caller says allow_http. Redirects are followed by hand, at most
 * max_redirects, each target checked against the same policy, and an https
 * URL is never redirected to http (whatever allow_http says).
 * Transfers have a connect timeout, a low-speed abort (stalled servers), an
 * overall deadline (a server dripping just above the low-speed limit), a
 * size limit (declared and actual), and retries with backoff for
 * what may be transient (connection failures, cut transfers, 5xx); 4xx is
 * final. A cut transfer resumes with an HTTP Range request. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

struct acso_err;

#define HTTP_DEFAULT_DEADLINE 7200L /* 2 h: 140 MB at 20 KB/s */

struct http_opts {
	bool allow_http;          /* plain http to any host */
	long connect_timeout;     /* seconds; 0: 20 */
	long low_speed_time;      /* seconds under low_speed_limit before abort; 0: 30 */
	long low_speed_limit;     /* bytes/s; 0: 1024 */
	long deadline;            /* seconds for the whole transfer, retries
				   * included; 0: HTTP_DEFAULT_DEADLINE */
	uint64_t max_size;        /* bytes; 0: no limit (callers always set one) */
	int max_redirects;        /* 0: 5; <0: none */
	int retries;              /* extra attempts after the first; -1: 0 */
	double backoff;           /* first pause in seconds, doubled each retry; 0: 1 */
	/* Every byte of the resource, in order, exactly once (for a resumed
	 * .part file the bytes already on disk come first). Nonzero aborts
	 * with that code. */
	int (*data)(void *priv, const void *buf, size_t n);
	/* The server ignored a Range request and is sending everything again:
	 * forget what data() saw. NULL: such a restart is an error. */
	int (*restart)(void *priv);
	/* Bytes done / total (0: unknown), for a progress bar. */
	void (*progress)(void *priv, uint64_t done, uint64_t total);
	void *priv;
};

/* 0 when url may be fetched under the policy, else -ACSO_E_UNSAFE (or
 * -ACSO_E_PARSE for a malformed URL) with the reason in e. */
int http_url_allowed(const char *url, bool allow_http, struct acso_err *e);

/* Download url into dirfd/part (created, or resumed with Range when it
 * exists). The file is left as `part` for the caller to verify and rename.
 * Returns 0, -ACSO_E_HTTP ("HTTP 404"), -ACSO_E_UNSAFE, -ACSO_E_TOOBIG, -errno. */
int http_download(const char *url, int dirfd, const char *part, const struct http_opts *o,
		  struct acso_err *e);

/* Fetch a small resource into memory (at most o->max_size bytes). */
int http_get(const char *url, const struct http_opts *o, struct buf *out, struct acso_err *e);

/* Like http_get, with a cache in dirfd/name (+ name.meta holding the URL,
 * ETag and Last-Modified): a conditional request (If-None-Match /
 * If-Modified-Since); 304 serves the cached copy. *cached tells which.
 * Without network access (offline) the cached copy is returned as is, or
 * -ACSO_E_NOTFOUND when there is none. */
int http_get_cached(const char *url, int dirfd, const char *name, bool offline,
		    const struct http_opts *o, struct buf *out, bool *cached, struct acso_err *e);
