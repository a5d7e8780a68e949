/* grub-eval.c — the GRUB config files read and evaluated the way
 * grub-mkconfig does (see grub.h and the top of grub.c): /etc/default/grub and
 * then every /etc/default/grub.d/NAME.cfg in glob order, sourced by /bin/sh in
 * a scratch copy; acso's own drop-in and appended blocks recognised so that a
 * plan starts from the files without them.
 *
 * These files are shell: `GRUB_DISTRIBUTOR=\`lsb_release ...\`` runs a
 * command on every Debian and Ubuntu system. Only the running system's own
 * files (--root /) are sourced as grub-mkconfig does. Those of any other
 * root (an image, a snapshot, a replayed tree) belong to whoever made it:
 * they are sourced in a sandbox, where what they run cannot change or
 * reach the host: a mount namespace with every mount read-only, no
 * network, as nobody when acso is root (a user namespace when it is not).
 * Where no sandbox can be made they are refused, never run bare. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/mount.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/spawn.h"
#include "base/util.h"
#include "boot/boot-int.h"
#include "boot/cmdline.h"
#include "boot/grub.h"

#define GRUB_FILE_MAX ((size_t)1 << 20) /* one config file */
#define GRUB_FILES_MAX 256             /* files in grub.d */
#define EVAL_OUT_MAX ((size_t)4 << 20)

/* ---- evaluation with /bin/sh ------------------------------------------- */

/* Fixed script: the file names arrive as arguments, never in the text.
 * Like grub-mkconfig: `set -e`, source each existing file in order. The
 * values after each file are printed NUL-separated, then every exported
 * variable (set -a exports each assignment). */
static const char eval_script[] =
	"set -e\n"
	"set -a\n"
	"for acso_eval_f in \"$@\"; do\n"
	"  if [ -e \"$acso_eval_f\" ]; then . \"./$acso_eval_f\"; fi\n"
	"  printf '%s\\0%s\\0' \"${GRUB_CMDLINE_LINUX-}\" \"${GRUB_CMDLINE_LINUX_DEFAULT-}\"\n"
	"done\n"
	"exec env -0\n";

void grub_eval_free(struct grub_eval *ev)
{
	strv_free(&ev->files);
	strv_free(&ev->after_linux);
	strv_free(&ev->after_default);
	strv_free(&ev->vars);
	free(ev->cmdline);
	memset(ev, 0, sizeof(*ev));
}

const char *grub_eval_var(const struct grub_eval *ev, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < ev->vars.n; i++)
		if (!strncmp(ev->vars.v[i], name, n) && ev->vars.v[i][n] == '=')
			return ev->vars.v[i] + n + 1;
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first line of a memfd's text (the shell's complaint). */
static char *first_line_of(int fd)
{
	_cleanup_free_ char *text = NULL;
	if (lseek(fd, 0, SEEK_SET) < 0 || read_fd_bounded(fd, 1 << 16, &text, NULL) < 0)
		return xstrdup("");
	/* read_fd_bounded refuses over-long output; the first line is enough */
	text[strcspn(text, "\n")] = '\0';
	return xstrdup(text);
}

/* Who the sandbox runs as when acso is root. */
struct sandbox_user {
	uid_t uid;
	gid_t gid;
};

/* In the evaluating child, just before exec: a mount namespace of its own
 * with every mount read-only and no set-id programs (device nodes stay:
 * `2>/dev/null` is in every Debian /etc/default/grub), no network; then, as
 * root, the drop to nobody (no user namespace needed, so it also works
 * where unprivileged ones are turned off); as a normal user, a user
 * namespace first, which is what allows the mount namespace. What the
 * files run reads what nobody (or the user) may read and writes nothing. */
static int sandbox_enter(void *arg)
{
	const struct sandbox_user *u = arg;
	bool root = geteuid() == 0;
	int ns = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | (root ? 0 : CLONE_NEWUSER);
	if (unshare(ns) < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID};
	if (syscall(SYS_mount_setattr, AT_FDCWD, "/", AT_RECURSIVE, &a, sizeof(a)) < 0)
		return -errno;
	if (root && (setgroups(0, NULL) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0))
		return -errno;
	return 0;
}

/* Evaluate files (paths relative to dir) in order; foreign: in the sandbox. */
static int eval_files(const char *dir, const struct strv *rel, bool foreign, struct grub_eval *ev,
		      struct acso_err *e)
{
	struct strv argv = {0};
	strv_push(&argv, "/bin/sh");
	strv_push(&argv, "-c");
	strv_push(&argv, eval_script);
	strv_push(&argv, "acso-grub-eval");
	for (size_t i = 0; i < rel->n; i++)
		strv_push(&argv, rel->v[i]);
	struct buf out = {0};
	_cleanup_close_ int errfd = memfd_create("acso-grub-eval", MFD_CLOEXEC);
	struct spawn_opts o = {.cwd = dir, .capture = &out, .log_fd = errfd, .quiet = true};
	struct passwd *pw = foreign ? getpwnam("nobody") : NULL;
	struct sandbox_user su = {.uid = pw ? pw->pw_uid : 65534, .gid = pw ? pw->pw_gid : 65534};
	if (foreign) {
		o.pre_exec = sandbox_enter;
		o.pre_exec_arg = &su;
	}
	int status = 0;
	int r = spawn_run((const char *const *)argv.v, &o, &status);
	strv_free(&argv);
	if (r < 0 && foreign) {
		buf_free(&out);
		return err_set(e, -ACSO_E_UNSAFE,
			       "the GRUB files of another root are shell that may run commands, and no sandbox "
			       "to evaluate them in could be made (namespaces: %s): not sourced on this host",
			       acso_strerror(r));
	}
	if (r < 0) {
		buf_free(&out);
		return err_set(e, r, "cannot run /bin/sh: %s", acso_strerror(r));
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		_cleanup_free_ char *why = errfd >= 0 ? first_line_of(errfd) : xstrdup("");
		char how[64];
		spawn_describe(status, how, sizeof(how));
		buf_free(&out);
		return err_set(e, -ACSO_E_PARSE, "not valid shell: /bin/sh %s%s%s%s", how,
			       foreign ? " (sourced in a read-only sandbox without network: the files are not this system's)" : "",
			       *why ? ": " : "", why);
	}
	if (out.len > EVAL_OUT_MAX) {
		buf_free(&out);
		return err_set(e, -ACSO_E_TOOBIG, "evaluation printed more than %zu bytes", EVAL_OUT_MAX);
	}
	/* Split the NUL-separated records. */
	size_t pos = 0, rec = 0;
	const char *d = out.data ? out.data : "";
	while (pos < out.len) {
		const char *s = d + pos;
		size_t len = strnlen(s, out.len - pos);
		if (pos + len >= out.len)
			break; /* no terminator: not ours */
		if (rec < 2 * rel->n) {
			strv_push(rec % 2 ? &ev->after_default : &ev->after_linux, s);
		} else if (startswith(s, "GRUB_")) {
			strv_push(&ev->vars, s);
		}
		rec++;
		pos += len + 1;
	}
	buf_free(&out);
	if (rec < 2 * rel->n)
		return err_set(e, -ACSO_E_PARSE, "the shell evaluation ended early");
	if (ev->vars.n)
		qsort(ev->vars.v, ev->vars.n, sizeof(char *), cmp_str);
	const char *lin = grub_eval_var(ev, "GRUB_CMDLINE_LINUX");
	const char *def = grub_eval_var(ev, "GRUB_CMDLINE_LINUX_DEFAULT");
	_cleanup_free_ char *both = xasprintf("%s %s", lin ? lin : "", def ? def : "");
	struct strv none = {0};
	ev->cmdline = cmdline_apply(both, &none, false); /* normalise white space */
	return 0;
}

/* ---- the files ---------------------------------------------------------- */

void gset_free(struct gset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].path);
		free(s->v[i].orig);
		free(s->v[i].clean);
		free(s->v[i].cand);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Remove acso's appended blocks; returns a new buffer. */
static char *strip_blocks(const char *text, size_t len, size_t *out_len)
{
	struct buf b = {0};
	size_t pos = 0;
	while (pos < len) {
		const char *s = text + pos;
		size_t rest = len - pos;
		bool at_line = pos == 0 || text[pos - 1] == '\n';
		bool nl = false;
		size_t blen = 0;
		if (at_line && rest >= strlen(BLOCK_BEGIN) && !memcmp(s, BLOCK_BEGIN, strlen(BLOCK_BEGIN)))
			blen = strlen(BLOCK_BEGIN);
		else if (at_line && rest >= strlen(BLOCK_BEGIN_NL) && !memcmp(s, BLOCK_BEGIN_NL, strlen(BLOCK_BEGIN_NL)))
			blen = strlen(BLOCK_BEGIN_NL), nl = true;
		const char *end = blen ? memmem(s, rest, BLOCK_END, strlen(BLOCK_END)) : NULL;
		if (end) {
			if (nl && b.len && b.data[b.len - 1] == '\n')
				b.len--;
			pos = (size_t)(end - text) + strlen(BLOCK_END);
			continue;
		}
		size_t ll = strcspn(s, "\n");
		if (ll > rest)
			ll = rest;
		if (ll < rest)
			ll++;
		buf_append(&b, s, ll);
		pos += ll;
	}
	return buf_take(&b, out_len);
}

static bool is_our_dropin(const char *text)
{
	return text && startswith(text, DROPIN_HEAD);
}

static int gset_add(struct gset *s, int rootfd, const char *path, struct acso_err *e)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	struct gfile *f = &s->v[s->n++];
	memset(f, 0, sizeof(*f));
	f->path = xstrdup(path);
	int r = root_read_file(rootfd, path, GRUB_FILE_MAX, &f->orig, &f->orig_len);
	if (r == -ENOENT) {
		f->orig = NULL;
		return 0;
	}
	if (r == -EFBIG)
		return err_set(e, -ACSO_E_TOOBIG, "'%s' is larger than %zu bytes", path, GRUB_FILE_MAX);
	if (r < 0)
		return err_set(e, r, "cannot read '%s': %s", path, acso_strerror(r));
	if (!strcmp(path, GRUB_DROPIN)) {
		if (!is_our_dropin(f->orig))
			return err_set(e, -ACSO_E_UNSAFE, "'%s' was not written by acso; move it away first", path);
		return 0; /* clean: absent */
	}
	f->clean = strip_blocks(f->orig, f->orig_len, &f->clean_len);
	return 0;
}

/* /etc/default/grub, then grub.d/NAME.cfg sorted as the C locale's glob does,
 * plus our drop-in's slot. */
int gset_load(struct gset *s, int rootfd, struct acso_err *e)
{
	struct stat rst, hst;
	s->foreign = fstat(rootfd, &rst) < 0 || stat("/", &hst) < 0 || rst.st_dev != hst.st_dev || rst.st_ino != hst.st_ino;
	int r = gset_add(s, rootfd, GRUB_DEFAULT_FILE, e);
	if (r < 0)
		return r;
	struct strv names = {0};
	int dfd = root_opendir_fd(rootfd, GRUB_DROPIN_DIR);
	if (dfd >= 0) {
		DIR *d = fdopendir(dfd);
		if (!d) {
			close(dfd);
			return err_set(e, -errno, "cannot list '%s': %s", GRUB_DROPIN_DIR, strerror(errno));
		}
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.' || !endswith(de->d_name, ".cfg") || !strcmp(de->d_name, "99-acso.cfg"))
				continue;
			if (names.n >= GRUB_FILES_MAX) {
				closedir(d);
				strv_free(&names);
				return err_set(e, -ACSO_E_TOOBIG, "more than %d files in '%s'", GRUB_FILES_MAX, GRUB_DROPIN_DIR);
			}
			strv_push(&names, de->d_name);
		}
		closedir(d);
	} else if (dfd != -ENOENT) {
		return err_set(e, dfd, "cannot open '%s': %s", GRUB_DROPIN_DIR, acso_strerror(dfd));
	}
	strv_push(&names, "99-acso.cfg");
	qsort(names.v, names.n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < names.n && r >= 0; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", GRUB_DROPIN_DIR, names.v[i]);
		r = gset_add(s, rootfd, p, e);
	}
	strv_free(&names);
	return r;
}

struct gfile *gset_find(struct gset *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].path, path))
			return &s->v[i];
	return NULL;
}

/* Write the files' current, clean or planned contents into a scratch
 * tree and evaluate them. */
int eval_set(const struct gset *s, enum which w, bool grubd, struct grub_eval *ev, struct acso_err *e)
{
	const char *tmpdir = getenv("TMPDIR");
	_cleanup_free_ char *tmpl = xasprintf("%s/acso-grub.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(tmpl))
		return err_set(e, -errno, "cannot create a scratch directory: %s", strerror(errno));
	int r = 0;
	struct strv rel = {0};
	_cleanup_close_ int dfd = open(tmpl, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* nobody (the sandbox) reads the copies: its cwd is this directory */
	if (dfd < 0 || mkdir_p_at(dfd, "etc/default/grub.d", 0755) < 0 ||
	    (s->foreign && (chmod(tmpl, 0755) < 0 || fchmodat(dfd, "etc", 0755, 0) < 0 ||
			    fchmodat(dfd, "etc/default", 0755, 0) < 0 || fchmodat(dfd, "etc/default/grub.d", 0755, 0) < 0)))
		r = err_set(e, -EIO, "cannot prepare scratch directory '%s'", tmpl);
	for (size_t i = 0; i < s->n && r == 0; i++) {
		const struct gfile *f = &s->v[i];
		const char *text = w == W_ORIG ? f->orig : w == W_CLEAN ? f->clean : f->cand;
		size_t len = w == W_ORIG ? f->orig_len : w == W_CLEAN ? f->clean_len : f->cand_len;
		if (!text)
			continue;
		if (!grubd && strcmp(f->path, GRUB_DEFAULT_FILE))
			continue;
		r = write_file_atomic(dfd, f->path + 1, text, len, 0644, WRITE_NOSYNC);
		if (r < 0) {
			r = err_set(e, r, "cannot write scratch copy of '%s': %s", f->path, acso_strerror(r));
			break;
		}
		r = 0;
		strv_push(&rel, f->path + 1);
		strv_push(&ev->files, f->path);
	}
	if (r == 0)
		r = eval_files(tmpl, &rel, s->foreign, ev, e);
	strv_free(&rel);
	if (dfd >= 0)
		rm_rf_at(dfd, "etc");
	rmdir(tmpl);
	return r;
}

bool grub_reads_dropins(int rootfd)
{
	static const char *const progs[] = {"/usr/sbin/grub-mkconfig", "/usr/sbin/grub2-mkconfig",
					    "/sbin/grub-mkconfig", "/sbin/grub2-mkconfig"};
	for (size_t i = 0; i < ARRAY_SIZE(progs); i++) {
		_cleanup_free_ char *text = NULL;
		if (root_read_file(rootfd, progs[i], (size_t)4 << 20, &text, NULL) == 0)
			return strstr(text, "default/grub.d") != NULL;
	}
	return true;
}

int grub_effective_var(int rootfd, const char *name, char **out, struct acso_err *e)
{
	*out = NULL;
	struct gset s = {0};
	struct grub_eval ev = {0};
	int r = gset_load(&s, rootfd, e);
	if (r == 0 && !gset_find(&s, GRUB_DEFAULT_FILE)->orig)
		r = err_set(e, -ACSO_E_NOTFOUND, "'%s' does not exist: is GRUB installed?", GRUB_DEFAULT_FILE);
	if (r == 0)
		r = eval_set(&s, W_ORIG, grub_reads_dropins(rootfd), &ev, e);
	if (r == 0 && grub_eval_var(&ev, name))
		*out = xstrdup(grub_eval_var(&ev, name));
	grub_eval_free(&ev);
	gset_free(&s);
	return r < 0 ? r : 0;
}
