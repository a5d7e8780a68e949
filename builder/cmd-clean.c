/* cmd-clean.c — `acso clean`: not implemented yet. */
#include "commands.h"
#include "output.h"

const struct acso_option clean_options[] = {
	{0},
};

int cmd_clean(struct acso_ctx *ctx, int argc, char **argv)
{
	int first;
	int r = cmd_options(ctx, argc, argv, NULL, NULL, &first);
	if (r)
		return r;
	msg_error("clean: not implemented yet");
	return EXIT_FAIL;
}
