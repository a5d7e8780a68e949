/* cmd-net.h — what resolve and fetch (and `acso run`) share in the command
 * layer: the mirror, the download policy and the keyring, from options and
 * the config file. The options themselves are the driver's (CMD_NETWORK,
 * CMD_MIRROR in the command table): they arrive in ctx->net. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "cli/acso.h"
#include "source/http.h"
#include "pgp/pgp.h"

/* Mirror (option, then config "mirror", then NULL = kernel.org) and the
 * http policy. Returns 0 or EXIT_USAGE after a message. */
int net_setup(const struct acso_ctx *ctx, const char **mirror, struct http_opts *h);
/* The download policy's config keys download_deadline (seconds) and
 * download_min_rate (bytes/s) are read by net_setup; fetch's bounds here:
 * fetch_max_download and fetch_max_tree (bytes, K/M/G/T suffixes), 0 when
 * unset. 0 or EXIT_USAGE after a message. */
int net_fetch_limits(const struct acso_ctx *ctx, uint64_t *max_download, uint64_t *max_tree);
/* DATA_DIR/keys, config "keyring", then every --keyring (extra). Returns 0
 * or an exit code after a message. */
int net_keyring(const struct acso_ctx *ctx, const struct strv *extra, struct pgp_keyring **kr);
/* The network options given to this process, as arguments for a child
 * acso (`acso run` passes them on to resolve and fetch). */
void net_forward(const struct acso_ctx *ctx, struct strv *argv, bool mirror);
