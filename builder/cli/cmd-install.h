/* cmd-install.h — the install step shared by `acso install` and
 * `acso prebuilt` (command layer: it prints and returns exit codes). */
#pragma once
#include "cli/acso.h"
#include "package/install.h"

/* Check the plan against the root (running release, /boot space), show it,
 * and unless --dry-run run ONE dpkg -i, record it in WORK/state, and report
 * DKMS. Returns an exit code. */
int install_execute(struct acso_ctx *ctx, struct install_plan *plan);

/* spawn_opts.on_line for dpkg: echo its lines to stderr as "  dpkg | ..."
 * (never stdout, which may carry JSON). priv: the struct acso_ctx. */
void install_echo_line(void *priv, const char *line);
