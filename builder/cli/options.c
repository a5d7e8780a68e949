/* options.c — the option tables at work: one parser for every command's
 * table (and the global and network rows the driver adds), the help made
 * from the same rows and wrapped to the terminal, and what the command
 * table's flags demand before a command runs (root, the work dir lock). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/err.h"
#include "base/lock.h"
#include "base/util.h"
#include "cli/acso.h"
#include "cli/options.h"
#include "cli/output.h"

static const char *const color_words[] = {"auto", "always", "never", NULL};

#undef OPTS
#define OPTS struct acso_ctx
const struct acso_option global_options[] = {
	OPT_STRING(0, "root", root, "DIR", "read and change the system below DIR instead of / (default /)"),
	OPT_BOOL(0, "json", json, "print reports as JSON"),
	OPT_COUNT('v', "verbose", verbose, "more detail (repeatable)"),
	OPT_SET_INT('q', "quiet", verbose, -1, "only errors and results"),
	OPT_ENUM(0, "color", color_mode, "WHEN", color_words, "auto, always or never (NO_COLOR is honoured)"),
	OPT_BOOL(0, "dry-run", dry_run, "show what would change, change nothing"),
	OPT_STRING(0, "work-dir", work_dir, "DIR", "downloads, trees, logs and state (default ~/.cache/acso)"),
	OPT_STRING(0, "config", config_path, "FILE", "read this config file instead of /etc/acso.conf and ~/.config/acso/acso.conf"),
	OPT_BOOL('h', "help", help, "show help"),
	OPT_END,
};

#undef OPTS
#define OPTS struct net_args
static const struct acso_option mirror_options[] = {
	OPT_STRING(0, "mirror", mirror, "URL", "kernel.org-shaped site root (default https://cdn.kernel.org, config 'mirror')"),
	OPT_END,
};
static const struct acso_option net_options[] = {
	OPT_BOOL(0, "allow-http", allow_http, "allow plain http to a host that is not loopback (config 'allow_http = yes')"),
	OPT_UINT(0, "timeout", timeout, "SECONDS", 1, 3600, "give up on a connection or a stalled transfer after SECONDS (default 30)"),
	OPT_INT(0, "retries", retries, "N", 0, 20, "retry a failed transfer N times, with backoff"),
	OPT_END,
};

/* The tables a command's parse reads, in help order, each with the struct
 * its rows write into (NULL: parse, but store nothing). */
struct opt_set {
	const struct acso_option *rows;
	void *base;
};

/* The driver parses a command's arguments twice: first for the global
 * options (before the configuration is read; opts NULL), then, from the
 * command, for its own (ctx NULL: the globals are not stored again). */
static size_t opt_sets(struct acso_ctx *ctx, const struct acso_command *c, void *opts, struct opt_set *s)
{
	size_t n = 0;
	if (c && c->opts)
		s[n++] = (struct opt_set){c->opts, opts};
	if (c && (c->flags & CMD_MIRROR))
		s[n++] = (struct opt_set){mirror_options, opts && ctx ? &ctx->net : NULL};
	if (c && (c->flags & CMD_NETWORK))
		s[n++] = (struct opt_set){net_options, opts && ctx ? &ctx->net : NULL};
	s[n++] = (struct opt_set){global_options, opts ? NULL : ctx};
	return n;
}

const struct acso_option *command_net_options(unsigned flags, int which)
{
	if (which == 0)
		return (flags & CMD_MIRROR) ? mirror_options : NULL;
	return (flags & CMD_NETWORK) ? net_options : NULL;
}

static void list_words(char *buf, size_t len, const char *const *w)
{
	size_t n = 0, at = 0;
	while (w[n])
		n++;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		at += (size_t)snprintf(buf + at, at < len ? len - at : 0, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", w[i]);
}

/* Store one option's value. 0, or EXIT_USAGE after a message. */
static int apply(const struct acso_option *o, void *base, const char *arg)
{
	void *f = (char *)base + o->off;
	switch (o->kind) {
	case OPTK_BOOL:
		*(bool *)f = true;
		return 0;
	case OPTK_SET_INT:
		*(int *)f = (int)o->min;
		return 0;
	case OPTK_STRING:
		*(const char **)f = arg;
		return 0;
	case OPTK_LIST: {
		struct strv *l = f;
		if (o->max && l->n >= (size_t)o->max) {
			msg_error("--%s: at most %ld", o->name, o->max);
			return EXIT_USAGE;
		}
		strv_push(l, arg);
		return 0;
	}
	case OPTK_UINT: {
		uint32_t v;
		if (parse_u32(arg, 10, &v) < 0 || v < (uint32_t)o->min || v > (uint32_t)o->max)
			break;
		*(uint32_t *)f = v;
		return 0;
	}
	case OPTK_INT: {
		int v;
		if (parse_int(arg, &v) < 0 || v < o->min || v > o->max)
			break;
		*(int *)f = v;
		return 0;
	}
	case OPTK_ENUM:
		for (int i = 0; o->words[i]; i++) {
			if (!strcmp(o->words[i], arg)) {
				*(int *)f = i;
				return 0;
			}
		}
		char words[256];
		list_words(words, sizeof(words), o->words);
		msg_error("--%s '%s': expected %s", o->name, arg, words);
		return EXIT_USAGE;
	case OPTK_COUNT: {
		int *p = f;
		*p = *p < 0 ? 1 : *p + 1;
		return 0;
	}
	case OPTK_CALLBACK:
		return o->cb(base, arg);
	}
	msg_error("--%s '%s': expected a number from %ld to %ld", o->name, arg, o->min, o->max);
	return EXIT_USAGE;
}

/* ---- help, wrapped to the terminal ---- */

int help_width(void)
{
	const char *c = getenv("COLUMNS");
	int v;
	if (c && parse_int(c, &v) == 0 && v > 0)
		return v < 40 ? 40 : v;
	struct winsize ws;
	if (isatty(1) && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col < 40 ? 40 : ws.ws_col;
	return 80;
}

void help_wrap(FILE *f, const char *text, int col, int indent, int width)
{
	const char *p = text;
	bool first = true;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t len = strcspn(p, " ");
		if (!first && col + 1 + (int)len > width) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, len, f);
		col += (int)len;
		p += len;
		first = false;
	}
	fputc('\n', f);
}

#define HELP_COL 31 /* where option help starts: "  -j, --jobs N" padded */

void help_options(FILE *f, const struct acso_option *rows, int width)
{
	for (const struct acso_option *o = rows; o && o->name; o++) {
		if (o->flags & OPTF_HIDDEN)
			continue;
		char left[96];
		int n;
		if (o->short_name)
			n = snprintf(left, sizeof(left), "  -%c, --%s%s%s", o->short_name, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		else
			n = snprintf(left, sizeof(left), "      --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fputs(left, f);
		if (n < HELP_COL - 1) {
			fprintf(f, "%*s", HELP_COL - n, "");
		} else {
			fprintf(f, "\n%*s", HELP_COL, "");
		}
		help_wrap(f, o->help, HELP_COL, HELP_COL, width);
	}
}

void help_command(FILE *f, struct acso_ctx *ctx, const struct acso_command *c)
{
	int w = help_width();
	fprintf(f, "Usage: acso %s [options]%s%s\n\n", c->name, *c->args ? " " : "", c->args);
	help_wrap(f, c->summary, 0, 0, w);
	if (c->description) {
		fputc('\n', f);
		help_wrap(f, c->description, 0, 0, w);
	}
	if (c->flags & CMD_NEEDS_ROOT) {
		fputc('\n', f);
		help_wrap(f, "Changes the system: needs root (or --dry-run, or --root DIR you own).", 0, 0, w);
	}
	struct opt_set s[4];
	size_t n = opt_sets(ctx, c, NULL, s);
	bool any = false;
	for (size_t i = 0; i + 1 < n; i++) {
		if (!s[i].rows[0].name)
			continue;
		if (!any)
			fprintf(f, "\nOptions:\n");
		any = true;
		help_options(f, s[i].rows, w);
	}
	fprintf(f, "\nGlobal options: see 'acso --help'.\n");
}

/* ---- the parse ---- */

enum { KEY_BASE = 1000, KEY_LIST_OPTIONS = 999 };

/* Parse argv against the sets. main_level: stop at the first non-option
 * (the command name) and accept the driver's own --version and
 * --list-commands, whose keys come back through *special. */
static int parse(struct acso_ctx *ctx, const struct acso_command *c, struct opt_set *s, size_t ns,
		 int argc, char **argv, const struct option *extra, bool main_level, int *special,
		 const char **root_opt)
{
	struct option lo[96];
	struct buf shorts = {0};
	size_t n = 0;
	if (main_level)
		buf_append(&shorts, "+", 1);
	for (size_t t = 0; t < ns; t++) {
		for (size_t i = 0; s[t].rows[i].name; i++) {
			const struct acso_option *o = &s[t].rows[i];
			if (n + 4 > ARRAY_SIZE(lo))
				abort(); /* a command table with too many options */
			lo[n++] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL,
						  KEY_BASE + (int)(t * 100 + i)};
			if (o->short_name) {
				char sh[3] = {(char)o->short_name, ':', 0};
				buf_append(&shorts, sh, o->arg ? 2 : 1);
			}
		}
	}
	for (; extra && extra->name; extra++)
		lo[n++] = *extra;
	lo[n] = (struct option){0};

	optind = 0; /* 0, not 1: glibc then re-reads the option string */
	opterr = 0;
	int r = 0, key;
	*special = 0;
	while ((key = getopt_long(argc, argv, buf_str(&shorts), lo, NULL)) != -1) {
		if (key == '?' || key == ':') {
			if (optopt && optopt < 256)
				msg_error("unknown option '-%c'", optopt);
			else
				msg_error("unknown option or missing argument '%s'", argv[optind - 1]);
			if (c)
				msg_hint("run 'acso %s --help'", c->name);
			else
				msg_hint("run 'acso --help'");
			r = EXIT_USAGE;
			break;
		}
		size_t t = 0, i = 0;
		if (key < KEY_BASE && key < 256) {
			/* a short option: find its row */
			bool found = false;
			for (t = 0; t < ns && !found; t++)
				for (i = 0; s[t].rows[i].name; i++)
					if (s[t].rows[i].short_name == key) {
						found = true;
						break;
					}
			t--;
			key = KEY_BASE + (int)(t * 100 + i);
		} else if (key < KEY_BASE) {
			*special = key;
			break;
		} else {
			t = (size_t)(key - KEY_BASE) / 100;
			i = (size_t)(key - KEY_BASE) % 100;
		}
		const struct acso_option *o = &s[t].rows[i];
		if (!s[t].base)
			continue;
		if ((o->flags & OPTF_NEEDS_ROOT) && root_opt)
			*root_opt = o->name;
		r = apply(o, s[t].base, optarg);
		if (r)
			break;
		if (ctx->help)
			break;
	}
	buf_free(&shorts);
	return r;
}

static void list_options(struct opt_set *s, size_t ns)
{
	for (size_t t = 0; t < ns; t++)
		for (const struct acso_option *o = s[t].rows; o->name; o++)
			if (!(o->flags & OPTF_HIDDEN))
				printf("--%s\n", o->name);
}

int driver_parse_main(struct acso_ctx *ctx, int argc, char **argv, const struct option *extra, int *special)
{
	struct opt_set s = {global_options, ctx};
	return parse(ctx, NULL, &s, 1, argc, argv, extra, true, special, NULL);
}

int driver_prescan(struct acso_ctx *ctx, const struct acso_command *c, int argc, char **argv)
{
	static const struct option extra[] = {{"list-options", no_argument, NULL, KEY_LIST_OPTIONS}, {0}};
	struct opt_set s[4];
	size_t ns = opt_sets(ctx, c, NULL, s);
	int special;
	int r = parse(ctx, c, s, ns, argc, argv, extra, false, &special, NULL);
	if (r)
		return r;
	if (special == KEY_LIST_OPTIONS) {
		list_options(s, ns);
		return CMD_HELP_SHOWN;
	}
	if (ctx->help) {
		help_command(stdout, ctx, c);
		return CMD_HELP_SHOWN;
	}
	return 0;
}

bool can_change_system(const struct acso_ctx *ctx)
{
	if (geteuid() == 0)
		return true;
	return strcmp(ctx->root, "/") != 0 && access(ctx->root, W_OK) == 0;
}

/* A word as the shell needs it: quoted when it holds anything but safe
 * characters. */
static void shell_word(struct buf *b, const char *w)
{
	if (*w && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,/:=@+%") == strlen(w)) {
		buf_append(b, w, strlen(w));
		return;
	}
	buf_append(b, "'", 1);
	for (const char *p = w; *p; p++) {
		if (*p == '\'')
			buf_append(b, "'\\''", 4);
		else
			buf_append(b, p, 1);
	}
	buf_append(b, "'", 1);
}

int need_root(const struct acso_ctx *ctx, const char *what)
{
	msg_error("%s%schanges the system and needs root", what ? what : "", what ? " " : "");
	struct buf cmd = {0};
	buf_append(&cmd, "sudo acso", 9);
	for (int i = 1; i < ctx->argc; i++) {
		buf_append(&cmd, " ", 1);
		shell_word(&cmd, ctx->argv[i]);
	}
	msg_hint("run: %s%s", buf_str(&cmd), ctx->cmd && (ctx->cmd->flags & CMD_NEEDS_ROOT) && !what
		 ? "\n      or add --dry-run to see what would change" : "");
	buf_free(&cmd);
	return EXIT_NEED_ROOT;
}

int cmd_options(struct acso_ctx *ctx, int argc, char **argv, void *opts, int *first_pos)
{
	const struct acso_command *c = ctx->cmd;
	struct opt_set s[4];
	static char none; /* a command without options still parses its table */
	size_t ns = opt_sets(ctx, c, opts ? opts : &none, s);
	int special;
	const char *root_opt = NULL;
	int r = parse(ctx, c, s, ns, argc, argv, NULL, false, &special, &root_opt);
	if (r)
		return r;
	int npos = argc - optind;
	if (npos < c->min_args || (c->max_args >= 0 && npos > c->max_args)) {
		msg_error("expected %s%s", *c->args ? "arguments " : "no arguments", c->args);
		msg_hint("run 'acso %s --help'", c->name);
		return EXIT_USAGE;
	}
	*first_pos = optind;
	if (!ctx->dry_run && (c->flags & CMD_NEEDS_ROOT || root_opt) && !can_change_system(ctx)) {
		_cleanup_free_ char *what = root_opt && !(c->flags & CMD_NEEDS_ROOT) ? xasprintf("--%s", root_opt) : NULL;
		return need_root(ctx, what);
	}
	if (!ctx->dry_run && (c->flags & CMD_LOCKS) && ctx->lock_fd < 0) {
		struct acso_err e = {0};
		ctx->lock_fd = lock_work_dir(ctx->work_dir, c->name, &e);
		if (ctx->lock_fd < 0)
			return fail(&e, ctx->lock_fd, "work directory");
	}
	return 0;
}
