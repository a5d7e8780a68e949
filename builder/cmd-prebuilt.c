/* cmd-prebuilt.c — `acso prebuilt`: not implemented yet. */
#include "commands.h"
#include "output.h"

const struct acso_option prebuilt_options[] = {
	{0},
};

int cmd_prebuilt(struct acso_ctx *ctx, int argc, char **argv)
{
	int first;
	int r = cmd_options(ctx, argc, argv, NULL, NULL, &first);
	if (r)
		return r;
	msg_error("prebuilt: not implemented yet");
	return EXIT_FAIL;
}
