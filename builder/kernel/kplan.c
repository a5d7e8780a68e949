/* kplan.c — the config plan of `acso config`. See kplan.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/spawn.h"
#include "base/util.h"
#include "kernel/kmake.h"
#include "kernel/kplan.h"
#include "machine/secureboot.h"

static const char profile_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789_-";

static void note(const struct kplan_in *in, enum kp_note kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note(const struct kplan_in *in, enum kp_note kind, const char *fmt, ...)
{
	if (!in->note)
		return;
	char m[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	in->note(in->priv, kind, m);
}

/* Record where the plan stopped; a code without detail gets its strerror. */
static int stop(struct kplan *p, struct acso_err *e, int code, enum kp_stage stage, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int stop(struct kplan *p, struct acso_err *e, int code, enum kp_stage stage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->what, sizeof(p->what), fmt, ap);
	va_end(ap);
	p->stage = stage;
	if (!e->msg[0])
		err_set(e, code, "%s", acso_strerror(code));
	e->code = code;
	return code;
}

/* The running kernel's release, read through --root. */
static char *running_release(const struct kplan_in *in)
{
	char *rel = NULL;
	if (root_read_attr(in->rootfd, "/proc/sys/kernel/osrelease", &rel) == 0 && *rel)
		return rel;
	free(rel);
	struct utsname u;
	if (in->root_is_host && uname(&u) == 0)
		return xstrdup(u.release);
	return NULL;
}

const char *kplan_profile_base(const char *text)
{
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
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

static const char *profile_base(const char *data_dir, const char *profile)
{
	_cleanup_free_ char *rel = xasprintf("kconfig/%s.config", profile);
	_cleanup_free_ char *path = path_join(data_dir, rel);
	_cleanup_free_ char *text = NULL;
	if (read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL) < 0)
		return NULL;
	return kplan_profile_base(text);
}

/* /boot/config-RELEASE, else /proc/config.gz (gunzipped). */
static int read_running(const struct kplan_in *in, struct kplan *p, char **text, size_t *len,
			struct acso_err *e)
{
	p->base_kind = "running";
	p->base_release = running_release(in);
	if (!p->base_release)
		return err_set(e, -ENOENT, "cannot tell the running kernel's release (no /proc/sys/kernel/osrelease)");
	_cleanup_free_ char *boot = xasprintf("/boot/config-%s", p->base_release);
	if (root_read_file(in->rootfd, boot, KCONFIG_MAX_FILE, text, len) == 0) {
		p->base_path = TAKE_PTR(boot);
		return 0;
	}
	_cleanup_free_ char *gz = NULL;
	size_t gzlen;
	if (root_read_file(in->rootfd, "/proc/config.gz", 4u << 20, &gz, &gzlen) < 0)
		return err_set(e, -ENOENT, "neither '%s' nor '/proc/config.gz' exists", boot);
	struct buf out = {0};
	struct spawn_opts so = {.capture = &out, .input = gz, .input_len = gzlen, .log_fd = -1, .quiet = true};
	static const char *const argv[] = {"gzip", "-dc", NULL};
	int r = spawn_check(argv, &so, e);
	if (r < 0 || out.len > KCONFIG_MAX_FILE) {
		buf_free(&out);
		return r < 0 ? err_wrap(e, r, "'/proc/config.gz'") : err_set(e, -ACSO_E_TOOBIG, "'/proc/config.gz' is too large");
	}
	*len = out.len;
	*text = xstrdup(buf_str(&out));
	buf_free(&out);
	p->base_path = xstrdup("/proc/config.gz");
	return 0;
}

static int read_base(const struct kplan_in *in, struct kplan *p, const char *b, char **text, size_t *len,
		     struct acso_err *e)
{
	if (!strcmp(b, "running"))
		return read_running(in, p, text, len, e);
	if (!strcmp(b, "defconfig") || !strcmp(b, "tinyconfig")) {
		p->base_kind = b;
		if (in->dry_run)
			return err_set(e, -ACSO_E_STATE, "--base %s runs make in the tree; not with --dry-run", b);
		const char *args[] = {b, NULL};
		note(in, KP_INFO, "make %s", b);
		int r = kmake_run(in->src, args, 2, in->log, NULL, e);
		if (r < 0)
			return r;
		_cleanup_free_ char *path = path_join(in->src, ".config");
		r = read_file_at(AT_FDCWD, path, KCONFIG_MAX_FILE, text, len);
		return r < 0 ? err_set(e, r, "read '%s': %s", path, strerror(-r)) : 0;
	}
	p->base_kind = "file";
	p->base_path = xstrdup(b);
	int r = read_file_at(AT_FDCWD, b, KCONFIG_MAX_FILE, text, len);
	if (r < 0)
		return err_set(e, r, "read '%s': %s", b, r == -EFBIG ? "too large for a kernel config" : strerror(-r));
	return 0;
}

static int load_fragment(const char *data_dir, const char *name, struct kc_reqs *reqs, struct acso_err *e)
{
	_cleanup_free_ char *dir = path_join(data_dir, "kconfig");
	_cleanup_free_ char *path = xasprintf("%s/%s.config", dir, name);
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = read_file_at(AT_FDCWD, path, 1u << 20, &text, &len);
	if (r < 0)
		return err_set(e, r, "fragment '%s': %s", path, strerror(-r));
	_cleanup_free_ char *label = xasprintf("%s.config", name);
	return kconfig_parse_fragment(text, len, label, reqs, e);
}

/* The fragments, then BTF off without pahole. A broken fragment stops the
 * plan before the tree is touched. */
static int load_fragments(const struct kplan_in *in, struct kplan *p, struct strv *required, struct acso_err *e)
{
	const char *names[] = {"acso", "vfio", in->profile, NULL};
	for (size_t i = 0; names[i]; i++) {
		if (strspn(names[i], profile_chars) != strlen(names[i]))
			return stop(p, e, -EINVAL, KP_AT_OTHER, "profile '%s': not a profile name", names[i]);
		if (load_fragment(in->data_dir, names[i], &p->reqs, e) < 0)
			return stop(p, e, e->code, i == 2 ? KP_AT_PROFILE : KP_AT_OTHER, "config");
		if (i == 0)
			for (size_t k = 0; k < p->reqs.n; k++)
				strv_push(required, p->reqs.v[k].sym);
		p->fragments[p->nfragments++] = names[i];
	}
	if (!in->pahole)
		kc_reqs_add(&p->reqs, "DEBUG_INFO_BTF", "n", "--set", NULL);
	return 0;
}

/* Debug info off on every series: DEBUG_INFO_NONE exists from 5.18; before,
 * it is DEBUG_INFO=n (the DWARF choice then disappears with it). */
static void debug_rule(struct kplan *p, bool has_none, struct strv *required)
{
	const struct kc_req *q = kc_reqs_find(&p->reqs, "DEBUG_INFO_NONE");
	if (has_none || !q || strcmp(q->val, "y"))
		return;
	_cleanup_free_ char *origin = xstrdup(q->origin);
	kc_reqs_drop(&p->reqs, "DEBUG_INFO_NONE");
	kc_reqs_add(&p->reqs, "DEBUG_INFO", "n", origin,
		    "no debug info; this tree predates DEBUG_INFO_NONE (5.18): DEBUG_INFO off instead");
	if (strv_has(required, "DEBUG_INFO_NONE"))
		strv_push(required, "DEBUG_INFO");
}

/* Module compression kept as the base had it. 6.12 added a MODULE_COMPRESS
 * switch that defaults off (4.19-5.12 had one too); 5.13-6.11 have none. */
static void compress_rule(struct kplan *p, bool has_switch)
{
	static const char *const how[] = {"MODULE_COMPRESS_ZSTD", "MODULE_COMPRESS_XZ", "MODULE_COMPRESS_GZIP"};
	for (size_t i = 0; i < 3; i++) {
		const char *v = kconfig_get(&p->base, how[i]);
		if (!v || strcmp(v, "y"))
			continue;
		_cleanup_free_ char *why = xasprintf("the base compresses modules (%s): kept", how[i] + 16);
		if (has_switch)
			kc_reqs_add(&p->reqs, "MODULE_COMPRESS", "y", "base", why);
		kc_reqs_add(&p->reqs, how[i], "y", "base", why);
		return;
	}
}

/* A base that signs its modules (a distro kernel under lockdown refuses
 * unsigned ones) gets modules signed with the build's own generated key:
 * the distro's key is not in the tree. */
static void signing_rule(struct kplan *p)
{
	const char *v = kconfig_get(&p->base, "MODULE_SIG");
	if (!v || strcmp(v, "y"))
		return;
	static const char why[] = "the base signs modules: signed with the build's own key";
	kc_reqs_add(&p->reqs, "MODULE_SIG", "y", "base", why);
	kc_reqs_add(&p->reqs, "MODULE_SIG_ALL", "y", "base", why);
	kc_reqs_add(&p->reqs, "MODULE_SIG_KEY", "\"certs/signing_key.pem\"", "base", why);
}

static const char *const sb_keyrings[] = {"INTEGRITY_PLATFORM_KEYRING", "INTEGRITY_MACHINE_KEYRING", "LOAD_UEFI_KEYS"};

/* Secure Boot on in the root: the kernel's own modules signed by the
 * build's key, and the MOK trusted for DKMS's modules (NVIDIA): the
 * platform and machine keyrings and the UEFI keys loaded into them, where
 * the series has them (the machine keyring came in 5.18). A request whose
 * dependencies are off is reported as not kept. */
static void secureboot_rule(const struct kplan_in *in, struct kplan *p, const bool has[3])
{
	struct sb_state sb;
	sb_read(in->rootfd, in->root_is_host, &sb);
	if (sb.secure_boot != TRI_YES)
		return;
	static const char sig_why[] = "Secure Boot is on: a lockdown kernel loads only signed modules";
	static const char mok_why[] = "Secure Boot is on: the kernel trusts the MOK that signs DKMS modules";
	if (!kc_reqs_find(&p->reqs, "MODULE_SIG"))
		kc_reqs_add(&p->reqs, "MODULE_SIG", "y", "secureboot", sig_why);
	if (!kc_reqs_find(&p->reqs, "MODULE_SIG_ALL"))
		kc_reqs_add(&p->reqs, "MODULE_SIG_ALL", "y", "secureboot", sig_why);
	for (size_t i = 0; i < 3; i++)
		if (has[i])
			kc_reqs_add(&p->reqs, sb_keyrings[i], "y", "secureboot", mok_why);
}

/* What the series and the base call for, then --set (which wins). */
static void add_rules(const struct kplan_in *in, struct kplan *p, struct strv *required)
{
	static const char *const probe[] = {"DEBUG_INFO_NONE", "MODULE_COMPRESS", "INTEGRITY_PLATFORM_KEYRING",
					    "INTEGRITY_MACHINE_KEYRING", "LOAD_UEFI_KEYS"}; /* the last 3: sb_keyrings */
	bool has[5] = {false};
	kplan_tree_defines(in->src, probe, 5, has);
	debug_rule(p, has[0], required);
	compress_rule(p, has[1]);
	signing_rule(p);
	secureboot_rule(in, p, has + 2);
	for (size_t i = 0; in->sets && i < in->sets->n; i++)
		kc_reqs_add(&p->reqs, in->sets->v[i].sym, in->sets->v[i].val, "--set", NULL);
}

/* A fragment's "m" means at least m: a base's "y" stays (built-in vfio-pci
 * is what makes vfio-pci.ids= work before the GPU driver loads). */
static void apply_requests(struct kconfig *kc, const struct kc_reqs *reqs)
{
	for (size_t i = 0; i < reqs->n; i++) {
		const struct kc_req *q = &reqs->v[i];
		const char *cur = kconfig_get(kc, q->sym);
		if (!strcmp(q->val, "m") && cur && !strcmp(cur, "y") && strcmp(q->origin, "--set"))
			continue;
		kconfig_set(kc, q->sym, q->val);
	}
}

/* The base, read and parsed twice: as it was, and to apply the requests to. */
static int load_base(const struct kplan_in *in, struct kplan *p, struct kconfig *merged, struct acso_err *e)
{
	const char *b = in->base;
	if (!b && in->profile)
		b = profile_base(in->data_dir, in->profile);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (read_base(in, p, b ? b : "running", &text, &len, e) < 0)
		return stop(p, e, e->code, KP_AT_OTHER, "base config");
	p->base_name = b ? b : "base config";
	if (kconfig_parse(&p->base, text, len, p->base_name, e) < 0 ||
	    kconfig_parse(merged, text, len, p->base_name, e) < 0)
		return stop(p, e, e->code, KP_AT_OTHER, "base config");
	for (size_t i = 0; i < p->base.nissues; i++)
		note(in, KP_WARN, "%s", p->base.issues[i].msg);
	return 0;
}

static int write_config(const struct kplan_in *in, struct kplan *p, const struct kconfig *kc, struct acso_err *e)
{
	_cleanup_close_ int sfd = open(in->src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (sfd >= 0 && fstatat(sfd, ".config", &st, AT_SYMLINK_NOFOLLOW) == 0 && !(st.st_mode & 0222))
		return stop(p, e, -EACCES, KP_AT_OTHER, "'%s/.config' is read-only; not replacing it", in->src);
	struct buf b = {0};
	kconfig_render(kc, &b);
	int r = sfd < 0 ? -errno : write_file_atomic(sfd, ".config", b.data ? b.data : "", b.len, 0644, WRITE_BACKUP);
	buf_free(&b);
	return r < 0 ? stop(p, e, r, KP_AT_OTHER, "write '%s/.config'", in->src) : 0;
}

/* localmodconfig starts from .config but may reset what we asked for: ask again. */
static void reapply(const struct kplan_in *in, const struct kc_reqs *reqs, struct acso_err *e)
{
	_cleanup_free_ char *path = path_join(in->src, ".config");
	_cleanup_free_ char *t = NULL;
	size_t tl;
	struct kconfig again;
	if (read_file_at(AT_FDCWD, path, KCONFIG_MAX_FILE, &t, &tl) < 0 ||
	    kconfig_parse(&again, t, tl, ".config", e) < 0)
		return;
	apply_requests(&again, reqs);
	struct buf ab = {0};
	kconfig_render(&again, &ab);
	write_file_atomic(AT_FDCWD, path, ab.data ? ab.data : "", ab.len, 0644, 0);
	buf_free(&ab);
	kconfig_free(&again);
}

static int run_trim(const struct kplan_in *in, struct kplan *p, struct acso_err *e)
{
	_cleanup_free_ char *rel = running_release(in);
	if (!rel)
		return stop(p, e, -ENOENT, KP_AT_OTHER, "--trim");
	if (localmods_collect(in->rootfd, rel, &p->lm, e) < 0)
		return stop(p, e, e->code, KP_AT_OTHER, "--trim");
	if (p->lm.no_modules) {
		note(in, KP_WARN, "--trim: the running kernel '%s' has no loadable modules (no /proc/modules): "
		     "the trimmed config keeps no module, only what the base builds in", rel);
		note(in, KP_HINT, "run --trim on the machine the kernel is for, booted into a modular kernel");
	}
	struct buf ls = {0};
	localmods_lsmod(&p->lm, &ls);
	_cleanup_free_ char *lsmod = path_join(in->logs, "lsmod.txt");
	int r = write_file_atomic(AT_FDCWD, lsmod, ls.data, ls.len, 0644, WRITE_NOSYNC);
	buf_free(&ls);
	_cleanup_free_ char *env0 = xasprintf("LSMOD=%s", lsmod);
	const char *env[] = {env0, NULL};
	const char *args[] = {"localmodconfig", NULL};
	note(in, KP_INFO, "make localmodconfig: keeping %zu modules (%zu loaded, %zu more for PCI devices present)",
	     p->lm.mods.n, p->lm.loaded, p->lm.from_pci);
	if (r < 0)
		return stop(p, e, r, KP_AT_OTHER, "--trim");
	if (kmake_run(in->src, args, 2, in->log, env, e) < 0)
		return stop(p, e, e->code, KP_AT_OTHER, "--trim");
	p->trimmed = true;
	reapply(in, &p->reqs, e);
	return 0;
}

/* Write .config, trim, make olddefconfig, read the result back. */
static int run_make(const struct kplan_in *in, struct kplan *p, const struct kconfig *merged, char **text,
		    size_t *len, struct acso_err *e)
{
	if (write_config(in, p, merged, e) < 0)
		return e->code;
	if (in->trim && run_trim(in, p, e) < 0)
		return e->code;
	static const char *const od[] = {"olddefconfig", NULL};
	note(in, KP_INFO, "make olddefconfig (log: %s)", in->log);
	if (kmake_run(in->src, od, 2, in->log, NULL, e) < 0)
		return stop(p, e, e->code, KP_AT_OTHER, "config");
	_cleanup_free_ char *path = path_join(in->src, ".config");
	int r = read_file_at(AT_FDCWD, path, KCONFIG_MAX_FILE, text, len);
	return r < 0 ? stop(p, e, r, KP_AT_OTHER, "read '%s'", path) : 0;
}

bool kplan_satisfied(const char *want, const char *got)
{
	/* an empty string and "not set" are both met by a symbol that is not
	 * there at all (its menu is off: nothing will use it) */
	if (!got && !strcmp(want, "\"\""))
		return true;
	if (!got)
		got = "n";
	if (!strcmp(want, got))
		return true;
	return !strcmp(want, "m") && !strcmp(got, "y"); /* "at least m"; built in where modules are off */
}

/* Did what was asked for survive? Unknown symbols are told apart from unmet
 * dependencies by the tree's Kconfig files. */
static void check_requests(const struct kplan_in *in, struct kplan *p, const struct strv *required)
{
	size_t n = p->reqs.n, nmissing = 0;
	p->req = xcalloc(n + 1, sizeof(*p->req));
	const char **missing = xcalloc(n + 1, sizeof(*missing));
	bool *known = xcalloc(n + 1, sizeof(*known));
	for (size_t i = 0; i < n; i++) {
		const struct kc_req *q = &p->reqs.v[i];
		p->req[i] = (struct kp_req){.req = q, .got = kconfig_get(&p->fin, q->sym), .status = KP_OK};
		p->req[i].required = strv_has(required, q->sym);
		if (!kplan_satisfied(q->val, p->req[i].got))
			missing[nmissing++] = q->sym;
	}
	if (nmissing && !in->dry_run)
		kplan_tree_defines(in->src, missing, nmissing, known);
	p->required_ok = true;
	for (size_t i = 0, k = 0; i < n; i++) {
		struct kp_req *r = &p->req[i];
		if (in->dry_run) {
			r->status = KP_PLANNED;
			continue;
		}
		if (kplan_satisfied(r->req->val, r->got))
			continue;
		r->status = known[k++] ? KP_CHANGED : KP_UNKNOWN;
		p->nmiss++;
		if (r->status == KP_CHANGED && r->required)
			p->required_ok = false;
	}
	free(missing);
	free(known);
}

int kplan_run(const struct kplan_in *in, struct kplan *p, struct acso_err *e)
{
	*p = (struct kplan){.required_ok = true};
	_cleanup_free_ char *mk = path_join(in->src, "Makefile");
	_cleanup_free_ char *kc = path_join(in->src, "Kconfig");
	if (access(mk, R_OK) < 0 || access(kc, R_OK) < 0)
		return stop(p, e, -ENOENT, KP_AT_TREE, "'%s' is not a kernel source tree: no Makefile and Kconfig",
			    in->src);
	if (!in->dry_run && mkdir_p_at(AT_FDCWD, in->logs, 0755) < 0)
		return stop(p, e, -errno, KP_AT_OTHER, "create '%s'", in->logs);
	struct strv required = {0};
	struct kconfig merged = {0};
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = load_fragments(in, p, &required, e);
	if (r >= 0)
		r = load_base(in, p, &merged, e);
	if (r >= 0) {
		add_rules(in, p, &required);
		apply_requests(&merged, &p->reqs);
		if (in->dry_run) {
			/* no make: what the fragments change in the base, as asked */
			struct buf b = {0};
			kconfig_render(&merged, &b);
			len = b.len;
			text = b.data ? TAKE_PTR(b.data) : xstrdup("");
		} else
			r = run_make(in, p, &merged, &text, &len, e);
	}
	if (r >= 0 && kconfig_parse(&p->fin, text, len, ".config", e) < 0)
		r = stop(p, e, e->code, KP_AT_OTHER, "resulting config");
	if (r >= 0) {
		p->nchanges = kconfig_diff(&p->base, &p->fin, &p->changes);
		check_requests(in, p, &required);
	}
	kconfig_free(&merged);
	strv_free(&required);
	return r < 0 ? r : 0;
}

static const struct kp_req *find_req(const struct kplan *p, const char *sym)
{
	for (size_t i = 0; i < p->reqs.n; i++)
		if (!strcmp(p->reqs.v[i].sym, sym))
			return &p->req[i];
	return NULL;
}

enum kp_change kplan_change_kind(const struct kplan *p, const struct kc_change *c)
{
	const struct kp_req *r = find_req(p, c->sym);
	if (r && (r->status == KP_OK || r->status == KP_PLANNED))
		return KP_CH_ASKED;
	if (c->old && c->new && !strcmp(c->old, "y") && !strcmp(c->new, "m"))
		return KP_CH_DEMOTED;
	return KP_CH_OTHER;
}

bool kplan_kept(const struct kplan *p, size_t i)
{
	const struct kp_req *r = &p->req[i];
	const char *was = kconfig_get(&p->base, r->req->sym);
	if (r->status != KP_OK || !was || !r->got || strcmp(was, r->got))
		return false;
	if (!strcmp(r->req->val, "m") && !strcmp(was, "y"))
		return true;
	return !strcmp(r->req->origin, "base");
}

void kplan_free(struct kplan *p)
{
	free(p->base_release);
	free(p->base_path);
	kconfig_free(&p->base);
	kconfig_free(&p->fin);
	kc_reqs_free(&p->reqs);
	kc_changes_free(p->changes, p->nchanges);
	free(p->req);
	localmods_free(&p->lm);
	*p = (struct kplan){0};
}

/* Mark the symbols that text defines ("config SYM" / "menuconfig SYM"). */
static void scan_text(const char *text, const char *const *syms, size_t n, bool *found)
{
	for (size_t i = 0; i < n; i++) {
		if (found[i])
			continue;
		const char *s = syms[i];
		for (const char *q = text; (q = strstr(q, s)); q++) {
			const char *end = q + strlen(s);
			if (*end && *end != '\n' && *end != ' ' && *end != '\t')
				continue;
			const char *ls = q;
			while (ls > text && ls[-1] != '\n')
				ls--;
			while (*ls == ' ' || *ls == '\t')
				ls++;
			if ((startswith(ls, "config ") || startswith(ls, "menuconfig ")) &&
			    (size_t)(q - ls) == strcspn(ls, " ") + 1) {
				found[i] = true;
				break;
			}
		}
	}
}

static void scan_dir(int dfd, const char *const *syms, size_t n, bool *found, int depth)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		unsigned char t = de->d_type;
		struct stat st;
		if (t == DT_UNKNOWN && fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			t = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
		if (t == DT_DIR && depth < 32 && strcmp(name, ".git") && strcmp(name, "Documentation")) {
			int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				scan_dir(sub, syms, n, found, depth + 1);
		} else if (t == DT_REG && startswith(name, "Kconfig")) {
			_cleanup_free_ char *text = NULL;
			size_t len;
			if (read_file_at(dirfd(d), name, 4u << 20, &text, &len) == 0)
				scan_text(text, syms, n, found);
		}
	}
	closedir(d);
}

void kplan_tree_defines(const char *src, const char *const *syms, size_t n, bool *found)
{
	int fd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		scan_dir(fd, syms, n, found, 0);
}
