/* cmd-config.c — `acso config`: base config (the running kernel's, a
 * defconfig, tinyconfig or a file), then kconfig/acso.config, vfio.config,
 * the profile's fragment and --set, then optionally --trim
 * (localmodconfig), then make olddefconfig; a report of what changed from
 * the base, a check that what was asked for survived, and a compile check
 * of drivers/pci/quirks.o. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli/commands.h"
#include "base/err.h"
#include "base/fileio.h"
#include "kernel/kcheck.h"
#include "kernel/kconfig.h"
#include "kernel/kmake.h"
#include "machine/localmods.h"
#include "cli/output.h"
#include "base/spawn.h"
#include "base/util.h"


struct opts {
	const char *source_dir, *base, *profile;
	struct kc_reqs sets;
	bool trim, no_compile, bad;
};

static int opt_profile(void *opts, const char *arg)
{
	if (!*arg || strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(arg)) {
		msg_error("--profile '%s': a profile name is lower-case letters, digits, '-' and '_'", arg);
		return EXIT_USAGE;
	}
	((struct opts *)opts)->profile = arg;
	return 0;
}

static int opt_set(void *opts, const char *arg)
{
	struct acso_err e = {0};
	if (kconfig_parse_assignment(arg, &((struct opts *)opts)->sets, &e) < 0) {
		msg_error("--set %s", e.msg);
		return EXIT_USAGE;
	}
	return 0;
}

#define OPTS struct opts
const struct acso_option config_options[] = {
	OPT_STRING(0, "source-dir", source_dir, "DIR", "kernel tree to configure (default WORK/src/current)"),
	OPT_STRING(0, "base", base, "BASE", "running (default: /boot/config-RELEASE or /proc/config.gz), defconfig, tinyconfig or a FILE"),
	OPT_CALLBACK(0, "profile", opt_profile, "NAME", "also apply kconfig/NAME.config (e.g. qemu)"),
	OPT_CALLBACK(0, "set", opt_set, "CONFIG_X=V", "set one symbol after the fragments (repeatable)"),
	OPT_BOOL(0, "trim", trim, "localmodconfig: keep only modules in use and those of present PCI devices"),
	OPT_BOOL(0, "no-compile-check", no_compile, "skip compiling drivers/pci/quirks.o afterwards"),
	OPT_END,
};

/* The running kernel's release, read through --root. */
static char *running_release(const struct acso_ctx *ctx)
{
	char *rel = NULL;
	if (root_read_attr(ctx->rootfd, "/proc/sys/kernel/osrelease", &rel) == 0 && *rel)
		return rel;
	free(rel);
	struct utsname u;
	if (!strcmp(ctx->root, "/") && uname(&u) == 0)
		return xstrdup(u.release);
	return NULL;
}

/* A profile may name the base it is meant for with a line
 * "# acso-base: tinyconfig" (or defconfig): then --base defaults to it, so
 * that `--profile qemu` never starts from the running kernel's full config. */
static const char *profile_base(const char *data_dir, const char *profile)
{
	_cleanup_free_ char *rel = xasprintf("kconfig/%s.config", profile);
	_cleanup_free_ char *path = path_join(data_dir, rel);
	_cleanup_free_ char *text = NULL;
	if (read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL) < 0)
		return NULL;
	for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (!startswith(line, "# acso-base:"))
			continue;
		const char *v = line + strlen("# acso-base:");
		v += strspn(v, " \t");
		if (startswith(v, "tinyconfig") && strchr(" \t\n", v[strlen("tinyconfig")]))
			return "tinyconfig";
		if (startswith(v, "defconfig") && strchr(" \t\n", v[strlen("defconfig")]))
			return "defconfig";
	}
	return NULL;
}

static int read_base(struct acso_ctx *ctx, const struct opts *o, const char *src, const char *log,
		     char **text, size_t *len, json_object *jbase, struct acso_err *e)
{
	const char *b = o->base ? o->base : "running";
	if (!strcmp(b, "running")) {
		_cleanup_free_ char *rel = running_release(ctx);
		if (!rel)
			return err_set(e, -ENOENT, "cannot tell the running kernel's release (no /proc/sys/kernel/osrelease)");
		_cleanup_free_ char *boot = xasprintf("/boot/config-%s", rel);
		json_object_object_add(jbase, "kind", json_object_new_string("running"));
		json_object_object_add(jbase, "release", json_object_new_string(rel));
		int r = root_read_file(ctx->rootfd, boot, KCONFIG_MAX_FILE, text, len);
		if (r == 0) {
			json_object_object_add(jbase, "path", json_object_new_string(boot));
			return 0;
		}
		_cleanup_free_ char *gz = NULL;
		size_t gzlen;
		if (root_read_file(ctx->rootfd, "/proc/config.gz", 4u << 20, &gz, &gzlen) < 0)
			return err_set(e, -ENOENT, "neither '%s' nor '/proc/config.gz' exists", boot);
		struct buf out = {0};
		struct spawn_opts so = {.capture = &out, .input = gz, .input_len = gzlen, .log_fd = -1, .quiet = true};
		static const char *const argv[] = {"gzip", "-dc", NULL};
		r = spawn_check(argv, &so, e);
		if (r < 0 || out.len > KCONFIG_MAX_FILE) {
			buf_free(&out);
			return r < 0 ? err_wrap(e, r, "'/proc/config.gz'") : err_set(e, -ACSO_E_TOOBIG, "'/proc/config.gz' is too large");
		}
		*len = out.len;
		*text = xstrdup(buf_str(&out));
		buf_free(&out);
		json_object_object_add(jbase, "path", json_object_new_string("/proc/config.gz"));
		return 0;
	}
	if (!strcmp(b, "defconfig") || !strcmp(b, "tinyconfig")) {
		json_object_object_add(jbase, "kind", json_object_new_string(b));
		if (ctx->dry_run)
			return err_set(e, -ACSO_E_STATE, "--base %s runs make in the tree; not with --dry-run", b);
		const char *args[] = {b, NULL};
		msg_info("make %s", b);
		int r = kmake_run(src, args, 2, log, NULL, e);
		if (r < 0)
			return r;
		_cleanup_free_ char *p = path_join(src, ".config");
		r = read_file_at(AT_FDCWD, p, KCONFIG_MAX_FILE, text, len);
		return r < 0 ? err_set(e, r, "read '%s': %s", p, strerror(-r)) : 0;
	}
	json_object_object_add(jbase, "kind", json_object_new_string("file"));
	json_object_object_add(jbase, "path", json_object_new_string(b));
	int r = read_file_at(AT_FDCWD, b, KCONFIG_MAX_FILE, text, len);
	if (r < 0)
		return err_set(e, r, "read '%s': %s", b, r == -EFBIG ? "too large for a kernel config" : strerror(-r));
	return 0;
}

/* Symbols defined by the tree's Kconfig files: used only to tell "this
 * kernel has no such symbol" from "its dependencies are not met". */
static struct strv *g_wanted;
static bool *g_found;
static int scan_kconfig(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *base = path + ftw->base;
	if (type == FTW_D && (!strcmp(base, ".git") || !strcmp(base, "Documentation")))
		return FTW_SKIP_SUBTREE;
	if (type != FTW_F || !startswith(base, "Kconfig"))
		return FTW_CONTINUE;
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (read_file_at(AT_FDCWD, path, 4u << 20, &text, &len) < 0)
		return FTW_CONTINUE;
	for (size_t i = 0; i < g_wanted->n; i++) {
		if (g_found[i])
			continue;
		const char *s = g_wanted->v[i];
		for (const char *p = text; (p = strstr(p, s)); p++) {
			const char *q = p + strlen(s);
			if (*q && *q != '\n' && *q != ' ' && *q != '\t')
				continue;
			const char *ls = p;
			while (ls > text && ls[-1] != '\n')
				ls--;
			while (*ls == ' ' || *ls == '\t')
				ls++;
			if ((startswith(ls, "config ") || startswith(ls, "menuconfig ")) &&
			    (size_t)(p - ls) == strcspn(ls, " ") + 1) {
				g_found[i] = true;
				break;
			}
		}
	}
	return FTW_CONTINUE;
}

static bool satisfied(const char *want, const char *got)
{
	/* an empty string and "not set" are both met by a symbol that is not
	 * there at all (its menu is off: nothing will use it) */
	if (!got && !strcmp(want, "\"\""))
		return true;
	if (!got)
		got = "n";
	if (!strcmp(want, got))
		return true;
	return !strcmp(want, "m") && !strcmp(got, "y"); /* built in where modules are off */
}

static int load_fragment(const char *data_dir, const char *name, struct kc_reqs *reqs,
			 struct acso_err *e)
{
	_cleanup_free_ char *dir = path_join(data_dir, "kconfig");
	_cleanup_free_ char *p = xasprintf("%s/%s.config", dir, name);
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = read_file_at(AT_FDCWD, p, 1u << 20, &text, &len);
	if (r < 0)
		return err_set(e, r, "fragment '%s': %s", p, strerror(-r));
	_cleanup_free_ char *label = xasprintf("%s.config", name);
	return kconfig_parse_fragment(text, len, label, reqs, e);
}

int cmd_config(struct acso_ctx *ctx, int argc, char **argv)
{
	struct opts o = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &o, &first);
	if (r) {
		kc_reqs_free(&o.sets);
		return r;
	}
	struct acso_err e = {0};
	_cleanup_free_ char *src = kmake_source_dir(ctx->work_dir, o.source_dir);
	_cleanup_free_ char *logs = path_join(ctx->work_dir, "build/logs");
	_cleanup_free_ char *log = path_join(logs, "config.log");
	_cleanup_free_ char *base_text = NULL, *final_text = NULL, *pahole = NULL;
	size_t base_len = 0, final_len = 0;
	struct kconfig base = {0}, merged = {0}, fin = {0};
	struct kc_reqs reqs = {0}, acso_reqs = {0};
	struct localmods lm = {0};
	struct kc_change *changes = NULL;
	size_t nchanges = 0;
	json_object *report = json_object_new_object();
	json_object *jbase = json_object_new_object();
	json_object_object_add(report, "base", jbase);
	int ret = EXIT_FAIL;
	const char *profile = o.profile ? o.profile : ctx_conf(ctx, "profile", NULL);

	_cleanup_free_ char *mk = path_join(src, "Makefile");
	_cleanup_free_ char *kc = path_join(src, "Kconfig");
	if (access(mk, R_OK) < 0 || access(kc, R_OK) < 0) {
		ret = fail(NULL, -ENOENT, "'%s' is not a kernel source tree: no Makefile and Kconfig", src);
		if (!o.source_dir)
			msg_hint("run 'acso fetch' first, or name a tree with --source-dir DIR");
		goto out;
	}
	if (!ctx->dry_run && mkdir_p_at(AT_FDCWD, logs, 0755) < 0) {
		ret = fail(NULL, -errno, "create '%s'", logs);
		goto out;
	}

	/* Fragments first: a broken one stops us before the tree is touched. */
	json_object *jfr = json_object_new_array();
	json_object_object_add(report, "fragments", jfr);
	const char *names[] = {"acso", "vfio", profile, NULL};
	for (size_t i = 0; names[i]; i++) {
		if (strspn(names[i], "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(names[i])) {
			ret = fail(NULL, -EINVAL, "profile '%s': not a profile name", names[i]);
			goto out;
		}
		if (load_fragment(ctx->data_dir, names[i], &reqs, &e) < 0) {
			ret = fail(&e, e.code, "config");
			if (i == 2)
				msg_hint("profiles are the files kconfig/NAME.config in '%s'", ctx->data_dir);
			goto out;
		}
		if (i == 0)
			load_fragment(ctx->data_dir, names[i], &acso_reqs, &e);
		json_object_array_add(jfr, json_object_new_string(names[i]));
	}
	pahole = spawn_which("pahole");
	if (!pahole)
		kconfig_parse_assignment("CONFIG_DEBUG_INFO_BTF=n", &reqs, &e);
	for (size_t i = 0; i < o.sets.n; i++) {
		_cleanup_free_ char *a = xasprintf("%s=%s", o.sets.v[i].sym, o.sets.v[i].val);
		kconfig_parse_assignment(a, &reqs, &e);
	}

	if (!o.base && profile)
		o.base = profile_base(ctx->data_dir, profile);
	if (read_base(ctx, &o, src, log, &base_text, &base_len, jbase, &e) < 0) {
		ret = fail(&e, e.code, "base config");
		goto out;
	}
	const char *bname = o.base ? o.base : "base config";
	if (kconfig_parse(&base, base_text, base_len, bname, &e) < 0 ||
	    kconfig_parse(&merged, base_text, base_len, bname, &e) < 0) {
		ret = fail(&e, e.code, "base config");
		goto out;
	}
	json_object *jissues = json_object_new_array();
	json_object_object_add(report, "issues", jissues);
	for (size_t i = 0; i < base.nissues; i++) {
		msg_warn("%s", base.issues[i].msg);
		json_object_array_add(jissues, json_object_new_string(base.issues[i].msg));
	}
	for (size_t i = 0; i < reqs.n; i++)
		kconfig_set(&merged, reqs.v[i].sym, reqs.v[i].val);

	struct buf mb = {0};
	kconfig_render(&merged, &mb);
	json_object_object_add(report, "source_dir", json_object_new_string(src));
	json_object_object_add(report, "dry_run", json_object_new_boolean(ctx->dry_run));
	json_object_object_add(report, "profile", profile ? json_object_new_string(profile) : NULL);

	if (ctx->dry_run) {
		/* no make: what the fragments change in the base, as asked */
		final_text = TAKE_PTR(mb.data);
		final_len = mb.len;
	} else {
		_cleanup_close_ int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct stat cst;
		if (sfd >= 0 && fstatat(sfd, ".config", &cst, AT_SYMLINK_NOFOLLOW) == 0 && !(cst.st_mode & 0222)) {
			buf_free(&mb);
			ret = fail(NULL, -EACCES, "'%s/.config' is read-only; not replacing it", src);
			goto out;
		}
		r = sfd < 0 ? -errno : write_file_atomic(sfd, ".config", mb.data ? mb.data : "", mb.len, 0644, WRITE_BACKUP);
		buf_free(&mb);
		if (r < 0) {
			ret = fail(NULL, r, "write '%s/.config'", src);
			goto out;
		}
		json_object *jtrim = NULL;
		if (o.trim) {
			_cleanup_free_ char *rel = running_release(ctx);
			if (!rel || localmods_collect(ctx->rootfd, rel, &lm, &e) < 0) {
				ret = fail(&e, rel ? e.code : -ENOENT, "--trim");
				goto out;
			}
			if (lm.no_modules) {
				msg_warn("--trim: the running kernel '%s' has no loadable modules (no /proc/modules): "
					 "the trimmed config keeps no module, only what the base builds in", rel);
				msg_hint("run --trim on the machine the kernel is for, booted into a modular kernel");
			}
			struct buf ls = {0};
			localmods_lsmod(&lm, &ls);
			_cleanup_free_ char *lsmod = path_join(logs, "lsmod.txt");
			r = write_file_atomic(AT_FDCWD, lsmod, ls.data, ls.len, 0644, WRITE_NOSYNC);
			buf_free(&ls);
			_cleanup_free_ char *env0 = xasprintf("LSMOD=%s", lsmod);
			const char *env[] = {env0, NULL};
			const char *args[] = {"localmodconfig", NULL};
			msg_info("make localmodconfig: keeping %zu modules (%zu loaded, %zu more for PCI devices present)",
				 lm.mods.n, lm.loaded, lm.from_pci);
			if (r < 0 || kmake_run(src, args, 2, log, env, &e) < 0) {
				ret = fail(&e, r < 0 ? r : e.code, "--trim");
				goto out;
			}
			jtrim = json_object_new_object();
			json_object_object_add(jtrim, "modules_kept", json_object_new_int((int)lm.mods.n));
			json_object_object_add(jtrim, "loaded", json_object_new_int((int)lm.loaded));
			json_object_object_add(jtrim, "pci_devices", json_object_new_int((int)lm.pci_devices));
			json_object_object_add(jtrim, "from_pci", json_object_new_int((int)lm.from_pci));
			json_object_object_add(jtrim, "running_kernel_has_modules", json_object_new_boolean(!lm.no_modules));
			/* localmodconfig starts from .config but may reset what
			 * we asked for: ask again */
			_cleanup_free_ char *p = path_join(src, ".config");
			_cleanup_free_ char *t = NULL;
			size_t tl;
			struct kconfig again;
			if (read_file_at(AT_FDCWD, p, KCONFIG_MAX_FILE, &t, &tl) == 0 &&
			    kconfig_parse(&again, t, tl, ".config", &e) == 0) {
				for (size_t i = 0; i < reqs.n; i++)
					kconfig_set(&again, reqs.v[i].sym, reqs.v[i].val);
				struct buf ab = {0};
				kconfig_render(&again, &ab);
				write_file_atomic(sfd, ".config", ab.data ? ab.data : "", ab.len, 0644, 0);
				buf_free(&ab);
				kconfig_free(&again);
			}
		}
		json_object_object_add(report, "trim", jtrim);
		static const char *const od[] = {"olddefconfig", NULL};
		msg_info("make olddefconfig (log: %s)", log);
		if (kmake_run(src, od, 2, log, NULL, &e) < 0) {
			ret = fail(&e, e.code, "config");
			goto out;
		}
		_cleanup_free_ char *p = path_join(src, ".config");
		if ((r = read_file_at(AT_FDCWD, p, KCONFIG_MAX_FILE, &final_text, &final_len)) < 0) {
			ret = fail(NULL, r, "read '%s'", p);
			goto out;
		}
	}
	if (kconfig_parse(&fin, final_text, final_len, ".config", &e) < 0) {
		ret = fail(&e, e.code, "resulting config");
		goto out;
	}

	/* What changed from the base. */
	nchanges = kconfig_diff(&base, &fin, &changes);
	json_object *jch = json_object_new_array();
	for (size_t i = 0; i < nchanges; i++) {
		json_object *c = json_object_new_object();
		_cleanup_free_ char *s = xasprintf("CONFIG_%s", changes[i].sym);
		json_object_object_add(c, "symbol", json_object_new_string(s));
		json_object_object_add(c, "old", changes[i].old ? json_object_new_string(changes[i].old) : NULL);
		json_object_object_add(c, "new", changes[i].new ? json_object_new_string(changes[i].new) : NULL);
		json_object_array_add(jch, c);
	}
	json_object_object_add(report, "changes", jch);

	/* Did what was asked for survive? Unknown symbols are told apart from
	 * unmet dependencies by the tree's Kconfig files. */
	struct strv missing = {0};
	for (size_t i = 0; i < reqs.n; i++)
		if (!satisfied(reqs.v[i].val, kconfig_get(&fin, reqs.v[i].sym)))
			strv_push(&missing, reqs.v[i].sym);
	bool *known = xcalloc(missing.n + 1, sizeof(bool));
	if (missing.n && !ctx->dry_run) {
		g_wanted = &missing;
		g_found = known;
		nftw(src, scan_kconfig, 32, FTW_PHYS | FTW_ACTIONRETVAL);
	}
	json_object *jreq = json_object_new_array();
	bool required_ok = true;
	size_t nmiss = 0;
	for (size_t i = 0; i < reqs.n; i++) {
		const struct kc_req *q = &reqs.v[i];
		const char *got = kconfig_get(&fin, q->sym);
		const char *status = "ok";
		if (!satisfied(q->val, got)) {
			bool is_known = ctx->dry_run;
			for (size_t k = 0; k < missing.n; k++)
				if (!strcmp(missing.v[k], q->sym))
					is_known = is_known || known[k];
			status = is_known ? "changed" : "unknown";
			bool acso_need = false;
			for (size_t k = 0; k < acso_reqs.n; k++)
				acso_need |= !strcmp(acso_reqs.v[k].sym, q->sym);
			if (is_known && acso_need && !ctx->dry_run)
				required_ok = false;
			if (!ctx->dry_run) {
				nmiss++;
				if (is_known)
					msg_warn("CONFIG_%s: asked %s (%s), got %s: its dependencies are not met",
						 q->sym, q->val, q->origin, got ? got : "nothing");
				else
					msg_warn("CONFIG_%s (%s): this kernel has no such symbol", q->sym, q->origin);
			}
		}
		json_object *jq = json_object_new_object();
		_cleanup_free_ char *s = xasprintf("CONFIG_%s", q->sym);
		json_object_object_add(jq, "symbol", json_object_new_string(s));
		json_object_object_add(jq, "want", json_object_new_string(q->val));
		json_object_object_add(jq, "got", got ? json_object_new_string(got) : NULL);
		json_object_object_add(jq, "origin", json_object_new_string(q->origin));
		json_object_object_add(jq, "status", json_object_new_string(ctx->dry_run ? "planned" : status));
		json_object_array_add(jreq, jq);
	}
	free(known);
	strv_free(&missing);
	json_object_object_add(report, "requested", jreq);
	json_object_object_add(report, "required_ok", json_object_new_boolean(required_ok));

	/* compile check */
	const char *cstate, *why = NULL;
	if (o.no_compile)
		why = "--no-compile-check";
	else if (ctx->dry_run)
		why = "--dry-run";
	else if (!required_ok)
		why = "required settings are missing";
	if (!why)
		msg_info("compiling drivers/pci/quirks.o (log: %s)", log);
	json_object *jc = compile_check(src, log, why, &cstate, &e);
	if (!strcmp(cstate, "failed"))
		why = e.msg;
	json_object_object_add(report, "compile_check", jc);

	if (ctx->json)
		out_json(report);
	else {
		json_object *jt = NULL;
		json_object_object_get_ex(report, "base", &jt);
		json_object *kind = NULL, *path = NULL;
		json_object_object_get_ex(jt, "kind", &kind);
		json_object_object_get_ex(jt, "path", &path);
		printf("base: %s%s%s\n", json_object_get_string(kind), path ? " " : "", path ? json_object_get_string(path) : "");
		printf("fragments: acso.config, vfio.config%s%s%s\n", profile ? ", " : "", profile ? profile : "",
		       profile ? ".config" : "");
		if (o.trim && !ctx->dry_run && lm.no_modules)
			printf("trim: kept no module (the running kernel has no loadable modules)\n");
		else if (o.trim && !ctx->dry_run)
			printf("trim: kept %zu modules (%zu loaded now, %zu more for the %zu PCI devices present)\n",
			       lm.mods.n, lm.loaded, lm.from_pci, lm.pci_devices);
		size_t shown = ctx->verbose > 0 ? nchanges : (nchanges < 40 ? nchanges : 40);
		printf("%s %zu symbol(s)%s\n", ctx->dry_run ? "would change" : "changed from the base:", nchanges,
		       ctx->dry_run ? " (before olddefconfig; nothing written)" : "");
		for (size_t i = 0; i < shown; i++)
			printf("  CONFIG_%s: %s → %s\n", changes[i].sym, changes[i].old ? changes[i].old : "(none)",
			       changes[i].new ? changes[i].new : "(none)");
		if (shown < nchanges)
			printf("  ... and %zu more (-v or --json for all)\n", nchanges - shown);
		if (!ctx->dry_run)
			printf("requested settings: %zu of %zu kept%s\n", reqs.n - nmiss, reqs.n,
			       required_ok ? "" : "; the override's required settings did NOT survive");
		printf("compile check: %s%s%s\n", cstate, why ? ": " : "", why ? why : "");
	}
	if (!required_ok) {
		msg_error("settings the override needs were reset by olddefconfig (see the warnings above)");
		ret = EXIT_FAIL;
	} else if (!strcmp(cstate, "failed")) {
		msg_hint("drivers/pci/quirks.o does not compile with this config; see %s", log);
		ret = EXIT_FAIL;
	} else
		ret = EXIT_OK;
	ret = out_finish(ret);
out:
	kc_changes_free(changes, nchanges);
	kconfig_free(&base);
	kconfig_free(&merged);
	kconfig_free(&fin);
	kc_reqs_free(&reqs);
	kc_reqs_free(&acso_reqs);
	kc_reqs_free(&o.sets);
	localmods_free(&lm);
	json_object_put(report);
	return ret;
}
