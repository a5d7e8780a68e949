/* install-step.h — the install step as `acso install` and `acso prebuilt`
 * show it: package/installer.h's checks and dpkg run, its messages and
 * its report. */
#pragma once
#include "cli/acso.h"
#include "package/install.h"

/* Check the plan against the root, show it, and unless --dry-run run ONE
 * dpkg -i, record it, and report DKMS. Begins and ends the command's report;
 * returns the exit code. */
int install_step(struct acso_ctx *ctx, const struct install_plan *plan);

/* spawn_opts.on_line for dpkg: echo its lines to stderr as "  dpkg | ..."
 * (never stdout, which may carry JSON). priv: the struct acso_ctx. */
void install_echo_line(void *priv, const char *line);
