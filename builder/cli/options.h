/* options.h — the driver's side of the option tables (options.c): the
 * global options, the help made from the tables, the two parses. Commands
 * use cmd_options() (acso.h) only. */
#pragma once
#include <getopt.h>
#include <stdio.h>

#include "cli/acso.h"

extern const struct acso_option global_options[];
/* The --mirror rows (which 0) or the transfer rows (which 1) a command's
 * flags give it, or NULL. */
const struct acso_option *command_net_options(unsigned flags, int which);

/* Columns for help: $COLUMNS, else the terminal's width (stdout), else 80. */
int help_width(void);
/* Print text from column col, wrapping at width with later lines indented. */
void help_wrap(FILE *f, const char *text, int col, int indent, int width);
/* The rows as "  -j, --jobs N   help..." with hanging indents. */
void help_options(FILE *f, const struct acso_option *rows, int width);
void help_command(FILE *f, struct acso_ctx *ctx, const struct acso_command *c);

/* The global options before the command name; extra rows (--version ...)
 * come back through *special. 0 or an exit code. */
int driver_parse_main(struct acso_ctx *ctx, int argc, char **argv, const struct option *extra, int *special);
/* The global options after the command name, before the configuration is
 * read; handles --help and --list-options (CMD_HELP_SHOWN). */
int driver_prescan(struct acso_ctx *ctx, const struct acso_command *c, int argc, char **argv);
