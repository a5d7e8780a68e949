/* main.c — the driver: global options, configuration, the command table,
 * help generated from that table, and dispatch. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
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
#include "base/lock.h"
#include "cli/options.h"
#include "cli/output.h"
#include "base/user.h"
#include "machine/snapshot.h"
#include "base/util.h"

#define R CMD_NEEDS_ROOT
#define L CMD_LOCKS
#define LS CMD_LOCKS_SELF
#define N CMD_NETWORK
#define M CMD_MIRROR
#define SU CMD_SUDO_HOME
#define AU CMD_AS_USER

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
	{"resolve", cmd_resolve, resolve_options, 0, 1, N | M | AU, "[RELEASE]",
	 "match the running kernel (or RELEASE) to an upstream kernel.org release", "The latest point release of the series (releases.json, or the series directory for a series no longer listed); says when the series is end of life and names the nearest longterm series."},
	{"fetch", cmd_fetch, fetch_options, 0, 1, L | N | M | AU, "[VERSION]",
	 "download, verify (sha256sums.asc and .tar.sign) and extract a kernel source tree", "Into WORK/src/linux-VERSION, WORK/src/current pointing at it. Exit codes: 5 checksum or signature does not verify, 6 key not in the keyring."},
	{"verify-signature", cmd_verify_signature, verify_signature_options, 1, 2, 0, "FILE [SIG]",
	 "verify a cleartext-signed or detached-signed file against the keyring",
	 "Exit codes: 0 good, 5 BAD or refused signature, 6 no public key, 7 malformed."},
	{"patch", cmd_patch, patch_options, 0, 0, L | AU, "",
	 "place the ACS override patch (and extra patches) in a kernel source tree", "Applies --patch/--patches in order, all or nothing, then places the override by meaning: its entry just before the { 0 } of pci_dev_acs_enabled[], its code before that table, its documentation entry in kernel-parameters.txt. A tree that already carries pcie_acs_override is left alone. --dry-run prints the unified diff. Then compiles drivers/pci/quirks.o if the tree is configured."},
	{"config", cmd_config, config_options, 0, 0, L | AU, "",
	 "write the kernel configuration: base config, fragments, profile, trim", "Starts from the running kernel's config (or --base), applies kconfig/acso.config, vfio.config, the --profile fragment and --set, optionally trims to the modules in use (--trim), runs make olddefconfig, reports what changed from the base, checks the override's settings survived and compiles drivers/pci/quirks.o."},
	{"build", cmd_build, build_options, 0, 0, LS | SU, "",
	 "build the Debian packages (make bindeb-pkg) as a normal user", "Under sudo it builds as SUDO_USER; the packages, with their SHA-256, and manifest.json land in WORK/build/RELEASE/, the log in WORK/logs/. On failure: the first error lines and a diagnosis with the fix."},
	{"install", cmd_install, install_options, 0, -1, R | LS | SU, "[DEB...]",
	 "install the built linux-image and linux-headers packages in one transaction", "Without DEB arguments: the packages of the last build. Refuses the running kernel's release and a full /boot; --dry-run shows the plan."},
	{"uninstall", cmd_uninstall, uninstall_options, 0, 1, R | LS, "[RELEASE]",
	 "remove the ACS kernel packages and boot parameters acso added", "Only packages acso recorded installing; never the running kernel, never the last kernel."},
	{"sign", cmd_sign, sign_options, 1, 1, R, "RELEASE",
	 "sign /boot/vmlinuz-RELEASE for Secure Boot with the machine's MOK, and enrol the MOK",
	 "Uses the MOK DKMS signs with (Ubuntu's /var/lib/shim-signed/mok/MOK.priv, Debian's /var/lib/dkms/mok.key), or makes one there; sbsign writes the signed image beside the original, sbverify checks it, then it replaces the original. A signed image is left alone. When the MOK is not enrolled, runs mokutil --import (on the running system, with a terminal) and says what MokManager asks at the next boot."},
	{"publish", cmd_publish, publish_options, 1, 1, 0, "DIR",
	 "make a directory of built packages a signed APT repository (a prebuilt channel)", "A flat repository: Packages, Release (Date, Valid-Until), InRelease and Release.gpg signed with gpg, and the public key in DIR/acso-prebuilt.gpg. Give options before DIR."},
	{"prebuilt", cmd_prebuilt, prebuilt_options, 0, 1, R | N, "[VERSION]",
	 "install a prebuilt ACS kernel from a signed APT repository with apt", "No channel is configured by default: give --repo URL and --key FILE, or prebuilt_repo and prebuilt_key in acso.conf. The channel stays an apt source: apt upgrade keeps the kernel current."},
	{"grub", cmd_grub, grub_options, 0, 0, R | L, "",
	 "register pcie_acs_override= and the IOMMU switch as boot parameters", NULL},
	{"vfio", cmd_vfio, vfio_options, 0, 1, R | L, "[GPU]",
	 "hold the GPU's own functions with vfio-pci from boot (modprobe.d, initramfs)",
	 "GPU: its address (default: the one 'acso groups' would choose). Refused when the GPU's group holds more than its functions and bridges, the root disk, the default-route NIC, or (without --force) the boot console's display. Binds by ID, or by address when another device shares an ID; adds the vfio modules to the initramfs and updates it. --remove puts every file back byte for byte."},
	{"setup", cmd_setup, setup_options, 0, 0, R, "",
	 "install KVM and libvirt, add the user to the libvirt group, turn the IOMMU on", NULL},
	{"run", cmd_run, run_options, 0, 1, N | M, "[VERSION]",
	 "the whole job: resolve, fetch, patch, config, build, install, boot parameters", NULL},
	{"status", cmd_status, status_options, 0, 1, 0, "[TARGET]",
	 "show each step of `acso run`, its state, time and log", NULL},
	{"clean", cmd_clean, clean_options, 0, 0, LS | AU, "",
	 "remove build trees from the work directory, keep verified downloads", NULL},
};

static const struct acso_option version_row[] = {
	{.name = "version", .help = "print the version"},
	OPT_END,
};

static void usage_main(FILE *f)
{
	int w = help_width();
	fprintf(f, "Usage: acso [global options] <command> [options] [arguments]\n\n");
	help_wrap(f, "acso takes a Linux machine to working GPU passthrough when its GPU shares an "
		  "IOMMU group with other devices: it checks the machine, builds and installs a "
		  "kernel with the ACS override patch, registers the boot parameters and proves "
		  "the result after the reboot.", 0, 0, w);
	fprintf(f, "\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		fprintf(f, "  %-18s ", commands[i].name);
		help_wrap(f, commands[i].summary, 21, 21, w);
	}
	fprintf(f, "\nGlobal options (before or after the command):\n");
	help_options(f, global_options, w);
	help_options(f, version_row, w);
	fputc('\n', f);
	help_wrap(f, "Run 'acso <command> --help' for a command's options. See acso(1).", 0, 0, w);
	help_wrap(f, "Exit codes: 0 ok, 1 failure, 2 usage, 3 needs ACS override / GPU shares its group, "
		  "4 blocked, 5 bad signature, 6 unknown key, 7 malformed, 8 locked, 9 needs root.", 0, 0, w);
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

static bool has_data(const char *dir)
{
	_cleanup_free_ char *k = path_join(dir, "keys");
	_cleanup_free_ char *p = path_join(dir, "patches");
	return access(k, F_OK) == 0 && access(p, F_OK) == 0;
}

static const char *find_data_dir(void)
{
	_cleanup_free_ char *exe = NULL;
	if (self_exe(&exe) < 0)
		return ACSO_DATADIR;
	char *slash = strrchr(exe, '/');
	if (!slash)
		return ACSO_DATADIR;
	*slash = '\0'; /* the binary's directory */
	if (has_data(exe))
		return xstrdup(exe);
	_cleanup_free_ char *share = path_join(exe, "../share/acso");
	char *real = has_data(share) ? realpath(share, NULL) : NULL;
	if (real)
		return real;
	slash = strrchr(exe, '/');
	if (slash) {
		*slash = '\0';
		if (has_data(exe[0] ? exe : "/"))
			return xstrdup(exe[0] ? exe : "/");
	}
	return ACSO_DATADIR;
}

/* Under sudo the default work dir is SUDO_USER's own ~/.cache/acso (home
 * from the password database): root's would be /root/.cache/acso, which the
 * build, dropped to the user, cannot even enter. */
static struct acso_user sudo_user;
static bool sudo_default_work_dir;

/* A command that writes only the work dir (CMD_AS_USER), under sudo in the
 * user's default work dir, runs as the user: `sudo acso fetch` must not
 * leave a root-owned tree in the user's cache. 0 or an exit code. */
static int sudo_run_as_user(struct acso_ctx *ctx)
{
	if (!sudo_default_work_dir || !(ctx->cmd->flags & CMD_AS_USER))
		return 0;
	const struct acso_user *u = &sudo_user;
	if (initgroups(u->name, u->gid) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0)
		return fail(NULL, -errno, "become SUDO_USER '%s'", u->name);
	if (setuid(0) == 0) /* must be impossible now */
		return fail(NULL, -EPERM, "drop root for SUDO_USER '%s'", u->name);
	setenv("HOME", u->home, 1);
	setenv("USER", u->name, 1);
	setenv("LOGNAME", u->name, 1);
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

	ctx->work_dir_given = ctx->work_dir != NULL;
	if (!ctx->work_dir)
		ctx->work_dir = conf_get(&ctx->conf, "work_dir");
	if (!ctx->work_dir) {
		const char *xdg = getenv("XDG_CACHE_HOME");
		char *def = xdg && *xdg ? path_join(xdg, "acso") : path_join(home_dir(), ".cache/acso");
		/* every command follows sudo (issue 12): `sudo acso run`,
		 * `sudo acso install` and the user's own `acso build` share it */
		struct passwd *rootpw = getpwuid(0);
		char *mine = user_invoking(&sudo_user, NULL) == 0
				     ? user_sudo_work_dir(&sudo_user, def, rootpw ? rootpw->pw_dir : NULL)
				     : NULL;
		sudo_default_work_dir = mine != NULL;
		if (mine)
			free(def);
		ctx->work_dir = mine ? mine : def;
	}
	if (ctx->work_dir[0] != '/') {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof(cwd)))
			ctx->work_dir = path_join(cwd, ctx->work_dir);
	}
	const char *color = conf_get(&ctx->conf, "color");
	if (ctx->color_mode == COLOR_AUTO && color) {
		static const char *const words[] = {"auto", "always", "never"};
		size_t i = 0;
		while (i < ARRAY_SIZE(words) && strcmp(words[i], color))
			i++;
		if (i == ARRAY_SIZE(words)) {
			msg_error("config 'color = %s': expected auto, always or never", color);
			return EXIT_USAGE;
		}
		ctx->color_mode = (int)i;
	}

	/* Data: $ACSO_DATADIR; else beside the binary (a source checkout: keys/
	 * and patches/ in its directory or the one above); else
	 * <exe>/../share/acso, so an installed binary finds the data of its own
	 * prefix (make install PREFIX=/usr, and under DESTDIR); else the
	 * directory compiled in. */
	const char *dd = getenv("ACSO_DATADIR");
	if (!dd || !*dd)
		dd = find_data_dir();
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
	static struct acso_ctx ctx = {.root = "/", .rootfd = -1, .lock_fd = -1, .net.retries = -1};
	enum { KEY_VERSION = 500, KEY_LIST_COMMANDS }; /* above the short options, below the table keys */
	static const struct option extra[] = {
		{"version", no_argument, NULL, KEY_VERSION},
		{"list-commands", no_argument, NULL, KEY_LIST_COMMANDS},
		{0},
	};
	ctx.argc = argc;
	ctx.argv = argv;
	out_init(&ctx);
	int special, r = driver_parse_main(&ctx, argc, argv, extra, &special);
	if (r)
		return r;
	if (ctx.help) {
		usage_main(stdout);
		return out_finish(EXIT_OK);
	}
	if (special == KEY_VERSION) {
		printf("acso %s\n", ACSO_VERSION);
		return out_finish(EXIT_OK);
	}
	if (special == KEY_LIST_COMMANDS) {
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			printf("%s\n", commands[i].name);
		return out_finish(EXIT_OK);
	}
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
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	/* The global options after the command shape the context (--root,
	 * --json, --config, ...): read them before the configuration. */
	r = driver_prescan(&ctx, c, sub_argc, sub_argv);
	if (r)
		return out_finish(r == CMD_HELP_SHOWN ? EXIT_OK : r);
	out_init(&ctx);
	r = setup_context(&ctx);
	if (!r)
		r = sudo_run_as_user(&ctx);
	if (r)
		return r;
	r = c->fn(&ctx, sub_argc, sub_argv);
	if (r == CMD_HELP_SHOWN)
		r = EXIT_OK;
	unlock_work_dir(ctx.lock_fd);
	return out_finish(r);
}
