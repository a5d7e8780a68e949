/* acso.h — the command layer's shared context, option tables and exit codes.
 * Core modules do not include this file: they take plain arguments. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/conf.h"
#include "base/util.h"

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
	bool help;              /* --help was given */
	int verbose;            /* -1 with -q, 0 normal, 1+ with -v */
	int color_mode;         /* enum color_mode */
	bool color;             /* resolved for stdout */
	bool color_err;         /* resolved for stderr */
	const char *work_dir;   /* resolved, absolute */
	bool work_dir_given;    /* --work-dir on the command line */
	const char *data_dir;   /* patches/, kconfig/, keys/ */
	const char *config_path;/* explicit --config */
	struct conf conf;       /* merged config files */
	const struct acso_command *cmd;
	struct net_args {               /* CMD_NETWORK / CMD_MIRROR options */
		const char *mirror;     /* --mirror */
		bool allow_http;        /* --allow-http */
		uint32_t timeout;       /* --timeout SECONDS, 0 = not given */
		int retries;            /* --retries N, -1 = not given */
	} net;
	int argc;                       /* the whole command line, for need_root's hint */
	char **argv;
	int lock_fd;                    /* CMD_LOCKS: held until exit */
};

/* Options are declared once, in a static const table per command, each row
 * bound to a field of the command's options struct by offsetof (git's
 * OPT_BOOL/OPT_STRING tables, but constant, so the driver reads the same
 * table for parsing, --help, --list-options and completion). Write the rows
 * with the OPT_* macros below after `#define OPTS struct my_opts`. */
enum opt_kind {
	OPTK_BOOL,      /* bool field = true */
	OPTK_SET_INT,   /* int field = .min (e.g. --no-intel-iommu sets 0) */
	OPTK_STRING,    /* const char * field = the argument */
	OPTK_LIST,      /* struct strv field: each argument appended (at most .max) */
	OPTK_UINT,      /* uint32_t field, from .min to .max */
	OPTK_INT,       /* int field, from .min to .max */
	OPTK_ENUM,      /* int field = index of the argument in .words */
	OPTK_COUNT,     /* int field incremented (from 0 when negative) */
	OPTK_CALLBACK,  /* .cb(opts, arg): 0, or an exit code after a message */
};

enum {
	OPTF_HIDDEN     = 1 << 0, /* accepted, not in --help or completion */
	OPTF_NEEDS_ROOT = 1 << 1, /* given without --dry-run, the command needs root */
};

struct acso_option {
	const char *name;
	int short_name;         /* 'j', or 0 for long only */
	const char *arg;        /* NULL: no argument; "FILE": its name in the help */
	const char *help;
	enum opt_kind kind;
	size_t off;             /* offsetof the field in the options struct */
	long min, max;
	const char *const *words;
	int (*cb)(void *opts, const char *arg);
	unsigned flags;
};

/* The field's type is checked at compile time (as the kernel's
 * BUILD_BUG_ON_ZERO): a table row cannot write an int into a string. */
#define OPT_CHECK_(field, type) \
	(0 * sizeof(struct { int _ : (__builtin_types_compatible_p(__typeof__(((OPTS *)0)->field), type) ? 1 : -1); }))
#define OPT_FIELD_(field, type) (offsetof(OPTS, field) + OPT_CHECK_(field, type))
#define OPT_BOOL(s, name, field, help) \
	{name, s, NULL, help, OPTK_BOOL, OPT_FIELD_(field, bool), 0, 0, NULL, NULL, 0}
#define OPT_SET_INT(s, name, field, value, help) \
	{name, s, NULL, help, OPTK_SET_INT, OPT_FIELD_(field, int), value, value, NULL, NULL, 0}
#define OPT_STRING(s, name, field, arg, help) \
	{name, s, arg, help, OPTK_STRING, OPT_FIELD_(field, const char *), 0, 0, NULL, NULL, 0}
#define OPT_LIST(s, name, field, arg, most, help) \
	{name, s, arg, help, OPTK_LIST, OPT_FIELD_(field, struct strv), 0, most, NULL, NULL, 0}
#define OPT_UINT(s, name, field, arg, lo, hi, help) \
	{name, s, arg, help, OPTK_UINT, OPT_FIELD_(field, uint32_t), lo, hi, NULL, NULL, 0}
#define OPT_INT(s, name, field, arg, lo, hi, help) \
	{name, s, arg, help, OPTK_INT, OPT_FIELD_(field, int), lo, hi, NULL, NULL, 0}
#define OPT_ENUM(s, name, field, arg, wordlist, help) \
	{name, s, arg, help, OPTK_ENUM, OPT_FIELD_(field, int), 0, 0, wordlist, NULL, 0}
#define OPT_COUNT(s, name, field, help) \
	{name, s, NULL, help, OPTK_COUNT, OPT_FIELD_(field, int), 0, 0, NULL, NULL, 0}
#define OPT_CALLBACK(s, name, fn, arg, help) \
	{name, s, arg, help, OPTK_CALLBACK, 0, 0, 0, NULL, fn, 0}
#define OPT_END {0}

enum {
	CMD_NEEDS_ROOT = 1 << 0, /* changes the system: root, unless --dry-run or a --root DIR we own */
	CMD_LOCKS      = 1 << 1, /* the driver holds the work dir lock while it runs (not with --dry-run) */
	CMD_LOCKS_SELF = 1 << 2, /* takes the work dir lock itself, where it writes (build: as the build user) */
	CMD_NETWORK    = 1 << 3, /* contacts servers: --allow-http, --timeout, --retries (ctx->net) */
	CMD_MIRROR     = 1 << 4, /* uses a kernel.org mirror: --mirror (ctx->net.mirror) */
	CMD_SUDO_HOME  = 1 << 5, /* under sudo, the work dir defaults to the invoking user's */
	CMD_AS_USER    = 1 << 6, /* writes only the work dir: under sudo, in the user's default one, runs as the user */
};

struct acso_command {
	const char *name;
	int (*fn)(struct acso_ctx *ctx, int argc, char **argv);
	const struct acso_option *opts; /* terminated by OPT_END; may be NULL */
	int min_args, max_args;         /* positional arguments; -1 max = any */
	unsigned flags;
	const char *args;               /* "[FILE]" for the usage line */
	const char *summary;            /* one line */
	const char *description;        /* a paragraph (wrapped by the help), may be NULL */
};

/* Parse a command's options (its table, the network options its flags give
 * it, and the global ones, which are accepted after the command name too)
 * into *opts, then enforce the command table: root (exit 9 with the command
 * to run), the work dir lock (exit 8). On success *first_pos indexes the
 * first positional argument in argv.
 * Returns 0, or an exit code to return right away (EXIT_USAGE after a
 * message, or CMD_HELP_SHOWN meaning "help was printed, exit 0"). */
int cmd_options(struct acso_ctx *ctx, int argc, char **argv, void *opts, int *first_pos);
#define CMD_HELP_SHOWN (-1)

/* "acso: CMD: WHAT changes the system and needs root" and the exact command
 * to run with sudo; returns EXIT_NEED_ROOT. The one wording for every check. */
int need_root(const struct acso_ctx *ctx, const char *what);
/* Whether this process may change the system below ctx->root: root, or a
 * --root DIR other than / that we can write. */
bool can_change_system(const struct acso_ctx *ctx);

/* Config value: the command line wins, then ~/.config, then /etc. */
const char *ctx_conf(const struct acso_ctx *ctx, const char *key, const char *def);
/* A yes/no key of the config (conf_bool), false when unset. 0, or EXIT_USAGE
 * after saying what is wrong with the value and where it was set. */
int ctx_conf_bool(const struct acso_ctx *ctx, const char *key, bool *out);
