/* cmd-grub.c — `acso grub`: not implemented yet. */
#include "commands.h"
#include "output.h"

const struct acso_option grub_options[] = {
	{0},
};

int cmd_grub(struct acso_ctx *ctx, int argc, char **argv)
{
	int first;
	int r = cmd_options(ctx, argc, argv, NULL, NULL, &first);
	if (r)
		return r;
	msg_error("grub: not implemented yet");
	return EXIT_FAIL;
}
