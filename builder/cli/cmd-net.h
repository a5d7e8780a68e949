/* cmd-net.h — what resolve and fetch (and `acso run`) share in the command
 * layer: the mirror, the download policy and the keyring, from options and
 * the config file. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "cli/acso.h"
#include "source/http.h"
#include "pgp/pgp.h"

struct net_args {
	const char *mirror;       /* --mirror */
	bool allow_http;          /* --allow-http */
	const char *timeout;      /* --timeout SECONDS */
	const char *retries;      /* --retries N */
	const char *keyring[8];   /* --keyring (repeatable) */
	int nkeyring;
};

/* Long-only option keys, shared so the tables read the same. */
enum {
	NET_MIRROR = 300, NET_ALLOW_HTTP, NET_TIMEOUT, NET_RETRIES, NET_KEYRING,
};

/* Handle one of the NET_* options; 0, or EXIT_USAGE after a message. */
int net_option(struct net_args *n, int key, const char *arg);
/* Mirror (option, then config "mirror", then NULL = kernel.org) and the
 * http policy. Returns 0 or EXIT_USAGE after a message. */
int net_setup(const struct acso_ctx *ctx, const struct net_args *n, const char **mirror,
	      struct http_opts *h);
/* The download policy's config keys download_deadline (seconds) and
 * download_min_rate (bytes/s) are read by net_setup; fetch's bounds here:
 * fetch_max_download and fetch_max_tree (bytes, K/M/G/T suffixes), 0 when
 * unset. 0 or EXIT_USAGE after a message. */
int net_fetch_limits(const struct acso_ctx *ctx, uint64_t *max_download, uint64_t *max_tree);
/* DATA_DIR/keys, config "keyring", then every --keyring. Returns 0 or an
 * exit code after a message. */
int net_keyring(const struct acso_ctx *ctx, const struct net_args *n, struct pgp_keyring **kr);

/* `acso resolve`'s report (cmd-resolve.c), embedded by `acso fetch`. */
struct resolve_res;
struct json_object;
struct json_object *resolve_report(const struct resolve_res *r, const char *mirror);

/* The option table rows (to copy into a command's table). */
#define NET_OPTION_ROWS \
	{"mirror", NET_MIRROR, "URL", "kernel.org-shaped site root (default https://cdn.kernel.org, config 'mirror')"}, \
	{"allow-http", NET_ALLOW_HTTP, NULL, "allow plain http to a host that is not loopback (config 'allow_http = yes')"}, \
	{"timeout", NET_TIMEOUT, "SECONDS", "give up on a connection or a stalled transfer after SECONDS (default 30)"}, \
	{"retries", NET_RETRIES, "N", "retry a failed transfer N times, with backoff (default 3)"}
