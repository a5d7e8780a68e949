/* cmd-publish.c — `acso publish`: not implemented yet. */
#include "commands.h"
#include "output.h"

const struct acso_option publish_options[] = {
	{0},
};

int cmd_publish(struct acso_ctx *ctx, int argc, char **argv)
{
	int first;
	int r = cmd_options(ctx, argc, argv, NULL, NULL, &first);
	if (r)
		return r;
	msg_error("publish: not implemented yet");
	return EXIT_FAIL;
}
