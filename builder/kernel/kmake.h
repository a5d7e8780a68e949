/* kmake.h — run make in a kernel source tree: from an argv vector, niced,
 * as the tree's owner when we run as root (never build as root), output to
 * a log file. Used by patch and config for the drivers/pci/quirks.o check,
 * and for olddefconfig / localmodconfig. */
#pragma once
#include <stdbool.h>

#include "base/util.h"

struct acso_err;

/* A tree that has been configured (has a .config). */
bool kmake_configured(const char *src);

/* make -jJOBS ARGS... in src (nice -n 10), appending to log_path. extra_env
 * may be NULL. On failure e says "make TARGET exited with status N" and the
 * first compiler error line, when there is one. */
int kmake_run(const char *src, const char *const *args, int jobs, const char *log_path,
	      const char *const *extra_env, struct acso_err *e);

/* The cheap check that a placed patch compiles: make drivers/pci/quirks.o. */
int kmake_quirks_check(const char *src, const char *log_path, struct acso_err *e);

/* The tree a command works on: opt (--source-dir) or WORK/src/current. */
char *kmake_source_dir(const char *work_dir, const char *opt);
