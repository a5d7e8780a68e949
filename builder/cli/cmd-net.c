/* cmd-net.c — see cmd-net.h. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd-net.h"
#include "base/err.h"
#include "base/fileio.h"
#include "cli/output.h"
#include "base/util.h"

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

int net_setup(const struct acso_ctx *ctx, const char **mirror, struct http_opts *h)
{
	const struct net_args *n = &ctx->net;
	memset(h, 0, sizeof(*h));
	*mirror = n->mirror ? n->mirror : ctx_conf(ctx, "mirror", NULL);
	if (*mirror && !**mirror)
		*mirror = NULL;
	int r = ctx_conf_bool(ctx, "allow_http", &h->allow_http);
	if (r)
		return r;
	h->allow_http = h->allow_http || n->allow_http;
	if (n->timeout)
		h->connect_timeout = h->low_speed_time = (long)n->timeout;
	if (conf_seconds(ctx, "download_deadline", 1, 7 * 86400, &h->deadline) ||
	    conf_seconds(ctx, "download_min_rate", 1, 1L << 30, &h->low_speed_limit))
		return EXIT_USAGE;
	h->retries = n->retries >= 0 ? n->retries : 3;
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

int net_keyring(const struct acso_ctx *ctx, const struct strv *more, struct pgp_keyring **out)
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
	struct strv all = {0};
	const char *conf = ctx_conf(ctx, "keyring", NULL);
	if (conf)
		strv_push(&all, conf);
	for (size_t i = 0; i < more->n; i++)
		strv_push(&all, more->v[i]);
	const size_t m = all.n;
	char **extra = all.v;
	for (size_t i = 0; i < m; i++) {
		if (pgp_keyring_add_path(kr, extra[i], &e) < 0) {
			pgp_keyring_free(kr);
			int rc = fail(&e, e.code, "keyring '%s'", extra[i]);
			strv_free(&all);
			return rc;
		}
	}
	strv_free(&all);
	if (pgp_keyring_count(kr) == 0) {
		pgp_keyring_free(kr);
		msg_error("keyring: no keys (looked in '%s'%s)", keys, m ? " and --keyring" : "");
		msg_hint("install acso's keys/ directory, or give --keyring FILE|DIR");
		return EXIT_FAIL;
	}
	*out = kr;
	return 0;
}

void net_forward(const struct acso_ctx *ctx, struct strv *a, bool mirror)
{
	const struct net_args *n = &ctx->net;
	if (mirror && n->mirror)
		strv_pushf(a, "--mirror=%s", n->mirror);
	if (n->allow_http)
		strv_push(a, "--allow-http");
	if (n->timeout)
		strv_pushf(a, "--timeout=%u", (unsigned)n->timeout);
	if (n->retries >= 0)
		strv_pushf(a, "--retries=%d", n->retries);
}
