/* commands.h — one entry point and one option table per command file
 * (cmd-<verb>.c). The command table itself is in main.c. */
#pragma once
#include "cli/acso.h"

#define DECLARE_COMMAND(verb) \
	int cmd_##verb(struct acso_ctx *ctx, int argc, char **argv); \
	extern const struct acso_option verb##_options[]

DECLARE_COMMAND(check);
DECLARE_COMMAND(groups);
DECLARE_COMMAND(verify);
DECLARE_COMMAND(snapshot);
DECLARE_COMMAND(resolve);
DECLARE_COMMAND(fetch);
DECLARE_COMMAND(verify_signature);
DECLARE_COMMAND(patch);
DECLARE_COMMAND(config);
DECLARE_COMMAND(build);
DECLARE_COMMAND(install);
DECLARE_COMMAND(uninstall);
DECLARE_COMMAND(sign);
DECLARE_COMMAND(publish);
DECLARE_COMMAND(prebuilt);
DECLARE_COMMAND(grub);
DECLARE_COMMAND(vfio);
DECLARE_COMMAND(setup);
DECLARE_COMMAND(run);
DECLARE_COMMAND(status);
DECLARE_COMMAND(clean);
