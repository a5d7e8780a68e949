/* cmd-resolve.c — `acso resolve`: not implemented yet. */
#include "commands.h"
#include "output.h"

const struct acso_option resolve_options[] = {
	{0},
};

int cmd_resolve(struct acso_ctx *ctx, int argc, char **argv)
{
	int first;
	int r = cmd_options(ctx, argc, argv, NULL, NULL, &first);
	if (r)
		return r;
	msg_error("resolve: not implemented yet");
	return EXIT_FAIL;
}
