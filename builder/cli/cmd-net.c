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

int net_setup(const struct acso_ctx *ctx, const struct net_args *n, const char **mirror,
	      struct http_opts *h)
{
	memset(h, 0, sizeof(*h));
	*mirror = n->mirror ? n->mirror : ctx_conf(ctx, "mirror", NULL);
	if (*mirror && !**mirror)
		*mirror = NULL;
	int r = ctx_conf_bool(ctx, "allow_http", &h->allow_http);
	if (r)
		return r;
	h->allow_http = h->allow_http || n->allow_http;
	uint32_t v;
	if (n->timeout) {
		if (parse_u32(n->timeout, 10, &v) < 0 || v == 0 || v > 3600) {
			msg_error("--timeout '%s': expected seconds from 1 to 3600", n->timeout);
			return EXIT_USAGE;
		}
		h->connect_timeout = h->low_speed_time = (long)v;
	}
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
