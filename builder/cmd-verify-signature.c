/* cmd-verify-signature.c — `acso verify-signature`: not implemented yet. */
#include "commands.h"
#include "output.h"

const struct acso_option verify_signature_options[] = {
	{0},
};

int cmd_verify_signature(struct acso_ctx *ctx, int argc, char **argv)
{
	int first;
	int r = cmd_options(ctx, argc, argv, NULL, NULL, &first);
	if (r)
		return r;
	msg_error("verify-signature: not implemented yet");
	return EXIT_FAIL;
}
