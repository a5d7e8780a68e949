/* cmd-patch.c — `acso patch`: not implemented yet. */
#include "commands.h"
#include "output.h"

const struct acso_option patch_options[] = {
	{0},
};

int cmd_patch(struct acso_ctx *ctx, int argc, char **argv)
{
	int first;
	int r = cmd_options(ctx, argc, argv, NULL, NULL, &first);
	if (r)
		return r;
	msg_error("patch: not implemented yet");
	return EXIT_FAIL;
}
