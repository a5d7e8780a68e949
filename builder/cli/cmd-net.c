/* cmd-net.c — see cmd-net.h. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd-net.h"
#include "base/err.h"
#include "base/fileio.h"
#include "cli/output.h"
#include "base/util.h"

int net_option(struct net_args *n, int key, const char *arg)
{
	switch (key) {
	case NET_MIRROR:
		n->mirror = arg;
		return 0;
	case NET_ALLOW_HTTP:
		n->allow_http = true;
		return 0;
	case NET_TIMEOUT:
		n->timeout = arg;
		return 0;
	case NET_RETRIES:
		n->retries = arg;
		return 0;
	case NET_KEYRING:
		if (n->nkeyring == (int)ARRAY_SIZE(n->keyring)) {
			msg_error("--keyring: at most %zu", ARRAY_SIZE(n->keyring));
			return EXIT_USAGE;
		}
		n->keyring[n->nkeyring++] = arg;
		return 0;
	}
	return EXIT_USAGE;
}

/* A whole number from the config file, within [lo, hi]; 0 when unset. */
static int conf_seconds(const struct acso_ctx *ctx, const char *key, long lo, long hi, long *out)
{
	const char *v = ctx_conf(ctx, key, NULL);
	uint64_t n;
	if (!v)
		return 0;
	if (parse_u64(v, 10, &n) < 0 || n < (uint64_t)lo || n > (uint64_t)hi) {
		msg_error("config '%s = %s': expected a whole number from %ld to %ld", key, v, lo, hi);
		return EXIT_USAGE;
	}
	*out = (long)n;
	return 0;
}

/* A size from the config file: bytes, or with a K, M, G or T suffix. */
static int conf_size(const struct acso_ctx *ctx, const char *key, uint64_t *out)
{
	const char *v = ctx_conf(ctx, key, NULL);
	if (!v)
		return 0;
	size_t n = strlen(v);
	static const char units[] = "KMGT";
	const char *u = n ? strchr(units, v[n - 1]) : NULL;
	_cleanup_free_ char *num = xstrndup(v, u && v[n - 1] ? n - 1 : n);
	uint64_t x;
	unsigned shift = u && v[n - 1] ? 10u * (unsigned)(u - units + 1) : 0;
	if (parse_u64(num, 10, &x) < 0 || x == 0 || x > (UINT64_MAX >> shift)) {
		msg_error("config '%s = %s': expected a size in bytes (a K, M, G or T suffix allowed)", key, v);
		return EXIT_USAGE;
	}
	*out = x << shift;
	return 0;
}

int net_fetch_limits(const struct acso_ctx *ctx, uint64_t *max_download, uint64_t *max_tree)
{
	return conf_size(ctx, "fetch_max_download", max_download) ? EXIT_USAGE
	       : conf_size(ctx, "fetch_max_tree", max_tree);
}

int net_setup(const struct acso_ctx *ctx, const struct net_args *n, const char **mirror,
	      struct http_opts *h)
{
	memset(h, 0, sizeof(*h));
	*mirror = n->mirror ? n->mirror : ctx_conf(ctx, "mirror", NULL);
	if (*mirror && !**mirror)
		*mirror = NULL;
	const char *ah = ctx_conf(ctx, "allow_http", "no");
	h->allow_http = n->allow_http || !strcmp(ah, "yes") || !strcmp(ah, "true") || !strcmp(ah, "1");
	uint32_t v;
	if (n->timeout) {
		if (parse_u32(n->timeout, 10, &v) < 0 || v == 0 || v > 3600) {
			msg_error("--timeout '%s': expected seconds from 1 to 3600", n->timeout);
			return EXIT_USAGE;
		}
		h->connect_timeout = h->low_speed_time = (long)v;
	}
	if (conf_seconds(ctx, "download_deadline", 1, 7 * 86400, &h->deadline) ||
	    conf_seconds(ctx, "download_min_rate", 1, 1L << 30, &h->low_speed_limit))
		return EXIT_USAGE;
	h->retries = 3;
	if (n->retries) {
		if (parse_u32(n->retries, 10, &v) < 0 || v > 20) {
			msg_error("--retries '%s': expected a number from 0 to 20", n->retries);
			return EXIT_USAGE;
		}
		h->retries = (int)v;
	}
	if (*mirror) {
		struct acso_err e = {0};
		if (http_url_allowed(*mirror, h->allow_http, &e) < 0) {
			msg_error("mirror '%s': %s", *mirror, e.msg);
			msg_hint("use an https mirror (plain http only to 127.0.0.1, or with --allow-http)");
			return EXIT_USAGE;
		}
	}
	return 0;
}

int net_keyring(const struct acso_ctx *ctx, const struct net_args *n, struct pgp_keyring **out)
{
	struct pgp_keyring *kr;
	struct acso_err e = {0};
	if (pgp_keyring_new(&kr) < 0)
		return fail(NULL, -ENOMEM, "keyring");
	_cleanup_free_ char *keys = path_join(ctx->data_dir, "keys");
	if (access(keys, F_OK) == 0 && pgp_keyring_add_path(kr, keys, &e) < 0) {
		pgp_keyring_free(kr);
		return fail(&e, e.code, "keyring '%s'", keys);
	}
	const char *extra[ARRAY_SIZE(n->keyring) + 1];
	int m = 0;
	const char *conf = ctx_conf(ctx, "keyring", NULL);
	if (conf)
		extra[m++] = conf;
	for (int i = 0; i < n->nkeyring; i++)
		extra[m++] = n->keyring[i];
	for (int i = 0; i < m; i++) {
		if (pgp_keyring_add_path(kr, extra[i], &e) < 0) {
			pgp_keyring_free(kr);
			return fail(&e, e.code, "keyring '%s'", extra[i]);
		}
	}
	if (pgp_keyring_count(kr) == 0) {
		pgp_keyring_free(kr);
		msg_error("keyring: no keys (looked in '%s'%s)", keys, m ? " and --keyring" : "");
		msg_hint("install acso's keys/ directory, or give --keyring FILE|DIR");
		return EXIT_FAIL;
	}
	*out = kr;
	return 0;
}
