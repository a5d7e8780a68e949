/* acso.h — the command layer's shared context, option tables and exit codes.
 * Core modules do not include this file: they take plain arguments. */
#pragma once
#include <stdbool.h>

#include "base/conf.h"

/* Documented exit codes (README "Exit codes", acso(1)). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,          /* error, or (verify) the GPU is not isolated */
	EXIT_USAGE = 2,
	EXIT_NEEDS_OVERRIDE = 3,/* check: ready after ACS override; groups: a GPU shares its group */
	EXIT_BLOCKED = 4,       /* check: blocked (no IOMMU, no virtualization, ...) */
	EXIT_BADSIG = 5,        /* verify-signature: BAD signature */
	EXIT_NOKEY = 6,         /* verify-signature: key not in the keyring */
	EXIT_MALFORMED = 7,     /* verify-signature: not a signature / not parseable */
	EXIT_LOCKED = 8,        /* another acso holds the work directory */
	EXIT_NEED_ROOT = 9,     /* the step needs root; the exact command was printed */
};

enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

struct acso_ctx {
	const char *root;       /* "/" or --root DIR */
	int rootfd;             /* O_PATH fd of root */
	bool json;
	bool dry_run;
	int verbose;            /* -1 with -q, 0 normal, 1+ with -v */
	enum color_mode color_mode;
	bool color;             /* resolved for stdout */
	bool color_err;         /* resolved for stderr */
	const char *work_dir;   /* resolved, absolute */
	bool work_dir_given;    /* --work-dir on the command line */
	const char *data_dir;   /* patches/, kconfig/, keys/ */
	const char *config_path;/* explicit --config */
	struct conf conf;       /* merged config files */
	const struct acso_command *cmd;
};

/* Per-command option. key: a short option character, or >= 256 for long only. */
struct acso_option {
	const char *name;
	int key;
	const char *arg;        /* NULL: no argument; "FILE": required argument */
	const char *help;
};

enum {
	CMD_NEEDS_ROOT = 1 << 0, /* changes the system (when not --dry-run) */
	CMD_LOCKS      = 1 << 1, /* takes the work dir lock */
	CMD_NETWORK    = 1 << 2, /* may contact a mirror */
};

struct acso_command {
	const char *name;
	int (*fn)(struct acso_ctx *ctx, int argc, char **argv);
	const struct acso_option *opts; /* terminated by {0}; may be NULL */
	int min_args, max_args;         /* positional arguments; -1 max = any */
	unsigned flags;
	const char *args;               /* "[FILE]" for the usage line */
	const char *summary;            /* one line */
	const char *description;        /* a short paragraph, may be NULL */
};

/* Parse a command's options (its own and the global ones, which are accepted
 * after the command name too). on_opt is called for each command option;
 * returns 0 to continue or an exit code. On success *first_pos indexes the
 * first positional argument in argv.
 * Returns 0, or an exit code to return right away (EXIT_USAGE after a
 * message, or -1 meaning "help was printed, exit 0"). */
int cmd_options(struct acso_ctx *ctx, int argc, char **argv,
		int (*on_opt)(void *priv, int key, const char *arg), void *priv,
		int *first_pos);
#define CMD_HELP_SHOWN (-1)

/* Config value: the command line wins, then ~/.config, then /etc. */
const char *ctx_conf(const struct acso_ctx *ctx, const char *key, const char *def);
/* A yes/no key of the config (conf_bool), false when unset. 0, or EXIT_USAGE
 * after saying what is wrong with the value and where it was set. */
int ctx_conf_bool(const struct acso_ctx *ctx, const char *key, bool *out);
