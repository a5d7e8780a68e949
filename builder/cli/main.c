/* main.c — the driver: global options, configuration, the command table,
 * help generated from that table, and dispatch. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/acso.h"
#include "cli/commands.h"
#include "base/err.h"
#include "base/fileio.h"
#include "cli/output.h"
#include "machine/snapshot.h"
#include "base/util.h"

#define R CMD_NEEDS_ROOT
#define L CMD_LOCKS
#define N CMD_NETWORK

/* The one command table. Order is the order of `acso --help`. */
static const struct acso_command commands[] = {
	{"check", cmd_check, check_options, 0, 0, 0, "",
	 "check virtualization, KVM, IOMMU and ACS support; verdict: ready, ready after override, or blocked",
	 "Reads /proc, /sys and the kernel log (through --root) and reports each item as pass, warn or fail with the fix. Exit 0 ready, 3 ready after the ACS override, 4 blocked."},
	{"groups", cmd_groups, groups_options, 0, 0, 0, "",
	 "list IOMMU groups with device names, and a verdict for each GPU",
	 "Lists every IOMMU group in numeric order. For each GPU: isolated, isolated with its bridge, or shared, with what is in the way and the least invasive pcie_acs_override that would split the group. Exit 0 when every GPU (or --gpu) is isolated, 3 when one shares its group, 1 on error or when it cannot be told."},
	{"verify", cmd_verify, verify_options, 0, 0, 0, "",
	 "after the reboot: prove the ACS kernel is running and the GPU's group is separate",
	 "Checks the running kernel, pcie_acs_override on the command line, the boot log line and each GPU's group; compares with WORK/snapshots/before.tar.gz when it exists. Exit 0 only when the GPU (--gpu, or every GPU) is isolated; 1 otherwise."},
	{"snapshot", cmd_snapshot, snapshot_options, 0, 1, 0, "[FILE]",
	 "capture what acso reads (sysfs groups, PCI config, /proc, kernel log, GRUB files) into an archive",
	 "Default FILE: WORK/snapshots/snapshot-<UTC>.tar.gz (--before: WORK/snapshots/before.tar.gz). The archive unpacks to a tree that --root can replay (or give the archive itself to --root)."},
	{"resolve", cmd_resolve, resolve_options, 0, 1, N, "[RELEASE]",
	 "match the running kernel (or RELEASE) to an upstream kernel.org release", "The latest point release of the series (releases.json, or the series directory for a series no longer listed); says when the series is end of life and names the nearest longterm series."},
	{"fetch", cmd_fetch, fetch_options, 0, 1, L | N, "[VERSION]",
	 "download, verify (sha256sums.asc and .tar.sign) and extract a kernel source tree", "Into WORK/src/linux-VERSION, WORK/src/current pointing at it. Exit codes: 5 checksum or signature does not verify, 6 key not in the keyring."},
	{"verify-signature", cmd_verify_signature, verify_signature_options, 1, 2, 0, "FILE [SIG]",
	 "verify a cleartext-signed or detached-signed file against the keyring",
	 "Exit codes: 0 good, 5 BAD signature, 6 no public key, 7 malformed."},
	{"patch", cmd_patch, patch_options, 0, 0, L, "",
	 "place the ACS override patch (and extra patches) in a kernel source tree", "Applies --patch/--patches in order, all or nothing, then places the override by meaning: its entry just before the { 0 } of pci_dev_acs_enabled[], its code before that table, its documentation entry in kernel-parameters.txt. A tree that already carries pcie_acs_override is left alone. --dry-run prints the unified diff. Then compiles drivers/pci/quirks.o if the tree is configured."},
	{"config", cmd_config, config_options, 0, 0, L, "",
	 "write the kernel configuration: base config, fragments, profile, trim", "Starts from the running kernel's config (or --base), applies kconfig/acso.config, vfio.config, the --profile fragment and --set, optionally trims to the modules in use (--trim), runs make olddefconfig, reports what changed from the base, checks the override's settings survived and compiles drivers/pci/quirks.o."},
	{"build", cmd_build, build_options, 0, 0, L, "",
	 "build the Debian packages (make bindeb-pkg) as a normal user", "Under sudo it builds as SUDO_USER; the packages, with their SHA-256, and manifest.json land in WORK/build/RELEASE/, the log in WORK/logs/. On failure: the first error lines and a diagnosis with the fix."},
	{"install", cmd_install, install_options, 0, -1, R | L, "[DEB...]",
	 "install the built linux-image and linux-headers packages in one transaction", "Without DEB arguments: the packages of the last build. Refuses the running kernel's release and a full /boot; --dry-run shows the plan."},
	{"uninstall", cmd_uninstall, uninstall_options, 0, 1, R | L, "[RELEASE]",
	 "remove the ACS kernel packages and boot parameters acso added", "Only packages acso recorded installing; never the running kernel, never the last kernel."},
	{"publish", cmd_publish, publish_options, 1, 1, 0, "DIR",
	 "write a signed index over a directory of built packages (a prebuilt channel)", "Writes DIR/index.json and signs it with gpg into DIR/index.json.asc (format: docs/prebuilt-index.md). Give options before DIR."},
	{"prebuilt", cmd_prebuilt, prebuilt_options, 0, 1, R | L | N, "[VERSION]",
	 "fetch a prebuilt ACS kernel from a signed index, verify and install it", "No channel is configured by default: give --index URL and --key FILE, or prebuilt_index and prebuilt_key in acso.conf. Exit codes: 5 BAD signature, 6 signed by another key."},
	{"grub", cmd_grub, grub_options, 0, 0, R, "",
	 "register pcie_acs_override= and the IOMMU switch as boot parameters", NULL},
	{"setup", cmd_setup, setup_options, 0, 0, R, "",
	 "install KVM and libvirt, add the user to the libvirt group, turn the IOMMU on", NULL},
	{"run", cmd_run, run_options, 0, 1, N, "[VERSION]",
	 "the whole job: resolve, fetch, patch, config, build, install, boot parameters", NULL},
	{"status", cmd_status, status_options, 0, 1, 0, "[TARGET]",
	 "show each step of `acso run`, its state, time and log", NULL},
	{"clean", cmd_clean, clean_options, 0, 0, L, "",
	 "remove build trees from the work directory, keep verified downloads", NULL},
};

/* Global options: accepted before the command and after it. */
enum {
	G_ROOT = 1000, G_JSON, G_COLOR, G_DRY_RUN, G_WORK_DIR, G_CONFIG, G_HELP,
	G_VERSION, G_LIST_COMMANDS, G_LIST_OPTIONS,
};
static const struct acso_option global_options[] = {
	{"root", G_ROOT, "DIR", "read and change the system below DIR instead of / (default /)"},
	{"json", G_JSON, NULL, "print reports as JSON"},
	{"verbose", 'v', NULL, "more detail (repeatable)"},
	{"quiet", 'q', NULL, "only errors and results"},
	{"color", G_COLOR, "WHEN", "auto, always or never (NO_COLOR is honoured)"},
	{"dry-run", G_DRY_RUN, NULL, "show what would change, change nothing"},
	{"work-dir", G_WORK_DIR, "DIR", "downloads, trees, logs and state (default ~/.cache/acso)"},
	{"config", G_CONFIG, "FILE", "read this config file instead of /etc/acso.conf and ~/.config/acso/acso.conf"},
	{"help", 'h', NULL, "show help"},
	{0},
};

static void print_options(FILE *f, const struct acso_option *opts)
{
	for (const struct acso_option *o = opts; o && o->name; o++) {
		char left[64];
		if (o->key > 0 && o->key < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->key, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-28s %s\n", left, o->help);
	}
}

static void usage_main(FILE *f)
{
	fprintf(f, "Usage: acso [global options] <command> [options] [arguments]\n\n"
		   "acso takes a Linux machine to working GPU passthrough when its GPU shares an\n"
		   "IOMMU group with other devices: it checks the machine, builds and installs a\n"
		   "kernel with the ACS override patch, registers the boot parameters and proves\n"
		   "the result after the reboot.\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-18s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nGlobal options:\n");
	print_options(f, global_options);
	fprintf(f, "      --version                print the version\n");
	fprintf(f, "\nRun 'acso <command> --help' for a command's options. See acso(1).\n"
		   "Exit codes: 0 ok, 1 failure, 2 usage, 3 needs ACS override / GPU shares its group,\n"
		   "4 blocked, 5 bad signature, 6 unknown key, 7 malformed, 8 locked, 9 needs root.\n");
}

static void usage_command(FILE *f, const struct acso_command *c)
{
	fprintf(f, "Usage: acso %s [options]%s%s\n\n%s\n", c->name, *c->args ? " " : "", c->args, c->summary);
	if (c->description)
		fprintf(f, "\n%s\n", c->description);
	if (c->flags & CMD_NEEDS_ROOT)
		fprintf(f, "\nChanges the system: needs root (or --dry-run, or --root DIR you own).\n");
	if (c->opts && c->opts[0].name) {
		fprintf(f, "\nOptions:\n");
		print_options(f, c->opts);
	}
	fprintf(f, "\nGlobal options (also accepted here):\n");
	print_options(f, global_options);
}

/* Apply one global option; returns 0 or EXIT_USAGE. */
static int apply_global(struct acso_ctx *ctx, int key, const char *arg)
{
	switch (key) {
	case G_ROOT:
		ctx->root = arg;
		return 0;
	case G_JSON:
		ctx->json = true;
		return 0;
	case 'v':
		ctx->verbose = ctx->verbose < 0 ? 1 : ctx->verbose + 1;
		return 0;
	case 'q':
		ctx->verbose = -1;
		return 0;
	case G_COLOR:
		if (!strcmp(arg, "auto"))
			ctx->color_mode = COLOR_AUTO;
		else if (!strcmp(arg, "always"))
			ctx->color_mode = COLOR_ALWAYS;
		else if (!strcmp(arg, "never"))
			ctx->color_mode = COLOR_NEVER;
		else {
			msg_error("--color '%s': expected auto, always or never", arg);
			return EXIT_USAGE;
		}
		return 0;
	case G_DRY_RUN:
		ctx->dry_run = true;
		return 0;
	case G_WORK_DIR:
		ctx->work_dir = arg;
		ctx->work_dir_given = true;
		return 0;
	case G_CONFIG:
		ctx->config_path = arg;
		return 0;
	}
	return EXIT_USAGE;
}

static bool is_global_key(int key)
{
	for (const struct acso_option *o = global_options; o->name; o++)
		if (o->key == key)
			return true;
	return false;
}

static void add_long(struct option *lo, size_t *n, struct buf *shorts, const struct acso_option *opts)
{
	for (const struct acso_option *o = opts; o && o->name; o++) {
		lo[(*n)++] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL, o->key};
		if (o->key > 0 && o->key < 256) {
			char s[3] = {(char)o->key, ':', 0};
			buf_append(shorts, s, o->arg ? 2 : 1);
		}
	}
}

int cmd_options(struct acso_ctx *ctx, int argc, char **argv,
		int (*on_opt)(void *priv, int key, const char *arg), void *priv,
		int *first_pos)
{
	const struct acso_command *c = ctx->cmd;
	size_t count = 4;
	for (const struct acso_option *o = c->opts; o && o->name; o++)
		count++;
	for (const struct acso_option *o = global_options; o->name; o++)
		count++;
	struct option lo[64];
	if (count + 1 > ARRAY_SIZE(lo))
		abort(); /* a command table entry with too many options */
	memset(lo, 0, sizeof(lo));
	size_t n = 0;
	struct buf shorts = {0};
	add_long(lo, &n, &shorts, c->opts);
	add_long(lo, &n, &shorts, global_options);
	lo[n++] = (struct option){"list-options", no_argument, NULL, G_LIST_OPTIONS};
	lo[n] = (struct option){0};

	optind = 0; /* 0, not 1: glibc then re-reads the option string (main used "+") */
	opterr = 0;
	int r = 0, key;
	while ((key = getopt_long(argc, argv, buf_str(&shorts), lo, NULL)) != -1) {
		if (key == '?' || key == ':') {
			if (optopt && optopt < 256)
				msg_error("%s: unknown option '-%c'", c->name, optopt);
			else
				msg_error("%s: unknown option or missing argument '%s'", c->name, argv[optind - 1]);
			msg_hint("run 'acso %s --help'", c->name);
			r = EXIT_USAGE;
			break;
		}
		if (key == 'h') {
			usage_command(stdout, c);
			r = CMD_HELP_SHOWN;
			break;
		}
		if (key == G_LIST_OPTIONS) {
			for (size_t i = 0; i < n; i++)
				printf("--%s\n", lo[i].name);
			r = CMD_HELP_SHOWN;
			break;
		}
		if (is_global_key(key)) {
			r = apply_global(ctx, key, optarg);
		} else {
			r = on_opt ? on_opt(priv, key, optarg) : EXIT_USAGE;
		}
		if (r)
			break;
	}
	buf_free(&shorts);
	if (r)
		return r;
	int npos = argc - optind;
	if (npos < c->min_args || (c->max_args >= 0 && npos > c->max_args)) {
		msg_error("%s: expected %s%s", c->name, *c->args ? "arguments " : "no arguments",
			  c->args);
		msg_hint("run 'acso %s --help'", c->name);
		return EXIT_USAGE;
	}
	*first_pos = optind;
	return 0;
}

const char *ctx_conf(const struct acso_ctx *ctx, const char *key, const char *def)
{
	const char *v = conf_get(&ctx->conf, key);
	return v ? v : def;
}

int ctx_conf_bool(const struct acso_ctx *ctx, const char *key, bool *out)
{
	struct acso_err e = {0};
	if (conf_bool(&ctx->conf, key, false, out, &e) == 0)
		return 0;
	fail(&e, e.code, "config");
	msg_hint("set %s = yes or %s = no", key, key);
	return EXIT_USAGE;
}

static const char *home_dir(void)
{
	const char *h = getenv("HOME");
	if (h && *h)
		return h;
	struct passwd *pw = getpwuid(getuid());
	return pw ? pw->pw_dir : "/";
}

/* --root given a snapshot archive: unpacked here, removed at exit. */
static char *replay_dir;
static void remove_replay_dir(void)
{
	if (replay_dir)
		rm_rf_at(AT_FDCWD, replay_dir);
}

static int unpack_root_archive(struct acso_ctx *ctx)
{
	const char *tmp = getenv("TMPDIR");
	replay_dir = xasprintf("%s/acso-root.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(replay_dir))
		return fail(NULL, -errno, "create a directory for '%s'", ctx->root);
	atexit(remove_replay_dir);
	struct acso_err e = {0};
	int r = snapshot_extract(ctx->root, replay_dir, &e);
	if (r < 0)
		return fail(&e, r, "--root '%s'", ctx->root);
	ctx->root = replay_dir;
	return 0;
}

/* Config files, then the work dir and the data dir. */
static int setup_context(struct acso_ctx *ctx)
{
	struct acso_err e = {0};
	int ur;
	if (ctx->config_path) {
		struct stat st;
		if (stat(ctx->config_path, &st) < 0)
			return fail(NULL, -errno, "config '%s'", ctx->config_path);
		if (conf_load(&ctx->conf, ctx->config_path, &e) < 0)
			return fail(&e, e.code, "config");
	} else {
		const char *xdg = getenv("XDG_CONFIG_HOME");
		_cleanup_free_ char *user = xdg && *xdg ? path_join(xdg, "acso/acso.conf")
							: path_join(home_dir(), ".config/acso/acso.conf");
		if (conf_load(&ctx->conf, "/etc/acso.conf", &e) < 0 || conf_load(&ctx->conf, user, &e) < 0)
			return fail(&e, e.code, "config");
	}
	for (size_t i = 0; i < ctx->conf.n; i++)
		if (!conf_key_known(ctx->conf.v[i].key))
			msg_warn("%s: unknown key '%s' (ignored)", ctx->conf.v[i].origin, ctx->conf.v[i].key);

	if (!ctx->work_dir)
		ctx->work_dir = conf_get(&ctx->conf, "work_dir");
	if (!ctx->work_dir) {
		const char *xdg = getenv("XDG_CACHE_HOME");
		ctx->work_dir = xdg && *xdg ? path_join(xdg, "acso") : path_join(home_dir(), ".cache/acso");
	}
	if (ctx->work_dir[0] != '/') {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof(cwd)))
			ctx->work_dir = path_join(cwd, ctx->work_dir);
	}
	if (ctx->color_mode == COLOR_AUTO && conf_get(&ctx->conf, "color")) {
		int r = apply_global(ctx, G_COLOR, conf_get(&ctx->conf, "color"));
		if (r)
			return r;
	}

	/* Data: $ACSO_DATADIR, else next to the binary (a source checkout), else
	 * the installed share directory. */
	const char *dd = getenv("ACSO_DATADIR");
	if (!dd || !*dd) {
		_cleanup_free_ char *exe = NULL;
		dd = ACSO_DATADIR;
		if (self_exe(&exe) == 0) {
			for (int up = 0; up < 2; up++) {
				char *slash = strrchr(exe, '/');
				if (!slash)
					break;
				*slash = '\0';
				_cleanup_free_ char *k = path_join(exe, "keys");
				_cleanup_free_ char *p = path_join(exe, "patches");
				if (access(k, F_OK) == 0 && access(p, F_OK) == 0) {
					dd = xstrdup(exe);
					break;
				}
			}
		}
	}
	ctx->data_dir = dd;

	if (snapshot_is_archive(ctx->root) && (ur = unpack_root_archive(ctx)))
		return ur;
	ctx->rootfd = root_open_dir(ctx->root);
	if (ctx->rootfd < 0) {
		msg_error("--root '%s': %s", ctx->root, acso_strerror(ctx->rootfd));
		msg_hint("give a directory that holds a system tree (sys/, proc/, etc/), or unpack a snapshot");
		return EXIT_FAIL;
	}
	return 0;
}

static const struct acso_command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static struct acso_ctx ctx = {.root = "/", .rootfd = -1};
	size_t nglob = 0;
	for (const struct acso_option *o = global_options; o->name; o++)
		nglob++;
	struct option lo[32];
	if (nglob + 3 > ARRAY_SIZE(lo))
		abort();
	memset(lo, 0, sizeof(lo));
	size_t n = 0;
	for (const struct acso_option *o = global_options; o->name; o++)
		lo[n++] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL, o->key};
	lo[n++] = (struct option){"version", no_argument, NULL, G_VERSION};
	lo[n++] = (struct option){"list-commands", no_argument, NULL, G_LIST_COMMANDS};

	out_init(&ctx);
	int key;
	opterr = 0;
	/* "+": stop at the command name; its own options are parsed by it. */
	while ((key = getopt_long(argc, argv, "+vqh", lo, NULL)) != -1) {
		switch (key) {
		case 'h':
			usage_main(stdout);
			return out_finish(EXIT_OK);
		case G_VERSION:
			printf("acso %s\n", ACSO_VERSION);
			return out_finish(EXIT_OK);
		case G_LIST_COMMANDS:
			for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
				printf("%s\n", commands[i].name);
			return out_finish(EXIT_OK);
		case '?':
			msg_error("unknown option or missing argument '%s'", argv[optind - 1]);
			msg_hint("run 'acso --help'");
			return EXIT_USAGE;
		default: {
			int r = apply_global(&ctx, key, optarg);
			if (r)
				return r;
		}
		}
	}
	int base_verbose = ctx.verbose;
	if (optind >= argc) {
		usage_main(stderr);
		return EXIT_USAGE;
	}
	const struct acso_command *c = find_command(argv[optind]);
	if (!c) {
		msg_error("'%s' is not an acso command", argv[optind]);
		msg_hint("run 'acso --help' for the list");
		return EXIT_USAGE;
	}
	ctx.cmd = c;
	/* Pre-scan the command's arguments for global options that shape the
	 * context (--root, --json, --config, ...): the command parses them again. */
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	for (int i = 1; i < sub_argc; i++) {
		if (!strcmp(sub_argv[i], "--"))
			break;
		if (!strcmp(sub_argv[i], "--help") || !strcmp(sub_argv[i], "-h") || !strcmp(sub_argv[i], "--list-options")) {
			int first;
			int r = cmd_options(&ctx, sub_argc, sub_argv, NULL, NULL, &first);
			return out_finish(r == CMD_HELP_SHOWN ? EXIT_OK : r);
		}
		for (const struct acso_option *o = global_options; o->name; o++) {
			size_t len = strlen(o->name);
			if (strncmp(sub_argv[i], "--", 2) || strncmp(sub_argv[i] + 2, o->name, len))
				continue;
			const char *rest = sub_argv[i] + 2 + len;
			if (*rest == '=' && o->arg)
				apply_global(&ctx, o->key, rest + 1);
			else if (!*rest && o->arg && i + 1 < sub_argc)
				apply_global(&ctx, o->key, sub_argv[i + 1]);
			else if (!*rest && !o->arg)
				apply_global(&ctx, o->key, NULL);
		}
		if (!strcmp(sub_argv[i], "-q") || !strcmp(sub_argv[i], "-v"))
			apply_global(&ctx, sub_argv[i][1], NULL);
	}
	out_init(&ctx);
	int r = setup_context(&ctx);
	if (r)
		return r;
	/* -v/-q were counted in the pre-scan; reset so the command's parse counts once. */
	ctx.verbose = base_verbose;
	r = c->fn(&ctx, sub_argc, sub_argv);
	if (r == CMD_HELP_SHOWN)
		r = EXIT_OK;
	return out_finish(r);
}
