/* grub.c — see grub.h.
 *
 * The GRUB config files are shell, sourced by grub-mkconfig: /etc/default/grub
 * and then every /etc/default/grub.d/NAME.cfg in glob order. We never edit them
 * by regex alone: every candidate set of files is written to a scratch copy
 * and evaluated with /bin/sh the way grub-mkconfig does, and only a candidate
 * whose effective command line holds each parameter exactly once is written
 * to the real files. The code acso adds removes earlier values of the same
 * parameters before appending its own, so any combination of acso's drop-in
 * and acso's appended block (say after a kill -9 between two renames) still
 * yields each parameter once.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "grub.h"
#include "spawn.h"
#include "util.h"

#define GRUB_FILE_MAX ((size_t)1 << 20) /* one config file */
#define GRUB_FILES_MAX 256             /* files in grub.d */
#define EVAL_OUT_MAX ((size_t)4 << 20)

#define BLOCK_BEGIN "# >>> acso boot parameters (`acso grub --remove` takes this block out)\n"
#define BLOCK_BEGIN_NL "# >>> acso boot parameters, newline added (`acso grub --remove` takes this block out)\n"
#define BLOCK_END "# <<< acso boot parameters\n"
#define DROPIN_HEAD "# Written by acso (`acso grub`); `acso grub --remove` deletes this file.\n"
/* In the drop-in when acso created grub.d: --remove takes the directory too. */
#define DROPIN_MADE_DIR "# acso created /etc/default/grub.d for this file.\n"

/* ---- pcie_acs_override= grammar ---------------------------------------- */

static bool is_hex4(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

int acs_mode_check(const char *mode, struct acso_err *e)
{
	if (!mode || !*mode)
		return err_set(e, -ACSO_E_PARSE, "empty pcie_acs_override mode");
	if (strlen(mode) > 512)
		return err_set(e, -ACSO_E_PARSE, "pcie_acs_override mode is too long");
	int ids = 0;
	_cleanup_free_ char *copy = xstrdup(mode);
	char *save = NULL;
	if (mode[0] == ',' || mode[strlen(mode) - 1] == ',' || strstr(mode, ",,"))
		return err_set(e, -ACSO_E_PARSE, "'%s': empty item", mode);
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "downstream") || !strcmp(t, "multifunction"))
			continue;
		if (startswith(t, "id:") && strlen(t) == 12 && is_hex4(t + 3) && t[7] == ':' && is_hex4(t + 8)) {
			if (++ids > 15)
				return err_set(e, -ACSO_E_PARSE, "'%s': more than 15 ids (the patch accepts at most 15)", mode);
			continue;
		}
		return err_set(e, -ACSO_E_PARSE,
			       "'%s': expected downstream, multifunction or id:vvvv:dddd (4 hex digits each), comma separated",
			       t);
	}
	return 0;
}

const char *cpu_vendor(int rootfd)
{
	_cleanup_free_ char *text = NULL;
	if (root_read_file(rootfd, "/proc/cpuinfo", (size_t)8 << 20, &text, NULL) < 0)
		return "unknown";
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (startswith(line, "vendor_id")) {
			if (strstr(line, "GenuineIntel"))
				return "intel";
			if (strstr(line, "AuthenticAMD") || strstr(line, "HygonGenuine"))
				return "amd";
			return "unknown";
		}
		line = nl ? nl + 1 : NULL;
	}
	return "unknown";
}

/* ---- command-line words ------------------------------------------------- */

static bool word_is(const char *w, size_t len, const char *name)
{
	size_t n = strlen(name);
	return len >= n && !memcmp(w, name, n) && (len == n || w[n] == '=');
}

static size_t name_len(const char *param)
{
	const char *eq = strchr(param, '=');
	return eq ? (size_t)(eq - param) : strlen(param);
}

size_t cmdline_count(const char *cmdline, const char *name)
{
	size_t count = 0;
	for (const char *p = cmdline; p && *p;) {
		p += strspn(p, " \t\n");
		size_t len = strcspn(p, " \t\n");
		if (len && word_is(p, len, name))
			count++;
		p += len;
	}
	return count;
}

size_t cmdline_count_word(const char *cmdline, const char *word)
{
	size_t count = 0, n = strlen(word);
	for (const char *p = cmdline; p && *p;) {
		p += strspn(p, " \t\n");
		size_t len = strcspn(p, " \t\n");
		if (len && len == n && !memcmp(p, word, n))
			count++;
		p += len;
	}
	return count;
}

char *cmdline_apply(const char *cmdline, const struct strv *params, bool add)
{
	struct buf b = {0};
	for (const char *p = cmdline; p && *p;) {
		p += strspn(p, " \t\n");
		size_t len = strcspn(p, " \t\n");
		bool drop = false;
		for (size_t i = 0; i < params->n && len; i++) {
			_cleanup_free_ char *name = xstrndup(params->v[i], name_len(params->v[i]));
			if (word_is(p, len, name))
				drop = true;
		}
		if (len && !drop) {
			if (b.len)
				buf_append(&b, " ", 1);
			buf_append(&b, p, len);
		}
		p += len;
	}
	for (size_t i = 0; add && i < params->n; i++) {
		if (b.len)
			buf_append(&b, " ", 1);
		buf_append(&b, params->v[i], strlen(params->v[i]));
	}
	char *r = xstrdup(buf_str(&b)); /* also "" for an empty buffer */
	buf_free(&b);
	return r;
}

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

/* Evaluate files (paths relative to dir) in order. */
static int eval_files(const char *dir, const struct strv *rel, struct grub_eval *ev, struct acso_err *e)
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
	int status = 0;
	int r = spawn_run((const char *const *)argv.v, &o, &status);
	strv_free(&argv);
	if (r < 0) {
		buf_free(&out);
		return err_set(e, r, "cannot run /bin/sh: %s", acso_strerror(r));
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		_cleanup_free_ char *why = errfd >= 0 ? first_line_of(errfd) : xstrdup("");
		char how[64];
		spawn_describe(status, how, sizeof(how));
		buf_free(&out);
		return err_set(e, -ACSO_E_PARSE, "not valid shell: /bin/sh %s%s%s", how, *why ? ": " : "", why);
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

struct gfile {
	char *path;      /* root path */
	char *orig;      /* content now, NULL when absent */
	size_t orig_len;
	char *clean;     /* content without anything acso added, NULL: absent */
	size_t clean_len;
	char *cand;      /* planned content, NULL: absent */
	size_t cand_len;
	bool written;
};

struct gset {
	struct gfile *v;
	size_t n;
};

static void gset_free(struct gset *s)
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
	*out_len = b.len;
	char *r = xmalloc(b.len + 1);
	if (b.len)
		memcpy(r, b.data, b.len);
	r[b.len] = '\0';
	buf_free(&b);
	return r;
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
static int gset_load(struct gset *s, int rootfd, struct acso_err *e)
{
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

static struct gfile *gset_find(struct gset *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].path, path))
			return &s->v[i];
	return NULL;
}

/* Write the files' current, clean or planned contents into a scratch
 * tree and evaluate them. */
enum which { W_ORIG, W_CLEAN, W_CAND };
static int eval_set(const struct gset *s, enum which w, bool grubd, struct grub_eval *ev, struct acso_err *e)
{
	const char *tmpdir = getenv("TMPDIR");
	_cleanup_free_ char *tmpl = xasprintf("%s/acso-grub.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(tmpl))
		return err_set(e, -errno, "cannot create a scratch directory: %s", strerror(errno));
	int r = 0;
	struct strv rel = {0};
	_cleanup_close_ int dfd = open(tmpl, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || mkdir_p_at(dfd, "etc/default/grub.d", 0755) < 0)
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
		r = eval_files(tmpl, &rel, ev, e);
	strv_free(&rel);
	if (dfd >= 0)
		rm_rf_at(dfd, "etc");
	rmdir(tmpl);
	return r;
}

/* ---- planning ------------------------------------------------------------ */

void grub_plan_free(struct grub_plan *p)
{
	strv_free(&p->params);
	strv_free(&p->changed);
	if (p->priv) {
		gset_free(p->priv);
		free(p->priv);
	}
	free(p->edited);
	free(p->dropin_text);
	grub_eval_free(&p->before);
	grub_eval_free(&p->after);
	memset(p, 0, sizeof(*p));
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

/* Shell code that removes earlier values of the parameters from both
 * variables and appends ours to GRUB_CMDLINE_LINUX_DEFAULT. Words are split
 * with globbing off; GRUB_CMDLINE_LINUX is reassigned only when a word was
 * removed from it, so its value is otherwise untouched. */
static void emit_code(struct buf *b, const struct grub_plan *p)
{
	struct buf pat = {0};
	for (size_t i = 0; i < p->params.n; i++) {
		_cleanup_free_ char *name = xstrndup(p->params.v[i], name_len(p->params.v[i]));
		buf_printf(&pat, "%s%s|%s=*", i ? "|" : "", name, name);
	}
	if (p->set_default_saved)
		buf_printf(b, "GRUB_DEFAULT=saved\n");
	buf_printf(b,
		   "case $- in *f*) acso_noglob= ;; *) acso_noglob=1; set -f ;; esac\n"
		   "acso_keep= acso_hit=\n"
		   "for acso_word in ${GRUB_CMDLINE_LINUX-}; do\n"
		   "\tcase $acso_word in\n"
		   "\t%s) acso_hit=1 ;;\n"
		   "\t*) acso_keep=\"${acso_keep:+$acso_keep }$acso_word\" ;;\n"
		   "\tesac\n"
		   "done\n"
		   "[ -z \"$acso_hit\" ] || GRUB_CMDLINE_LINUX=$acso_keep\n"
		   "acso_keep=\n"
		   "for acso_word in ${GRUB_CMDLINE_LINUX_DEFAULT-}; do\n"
		   "\tcase $acso_word in\n"
		   "\t%s) ;;\n"
		   "\t*) acso_keep=\"${acso_keep:+$acso_keep }$acso_word\" ;;\n"
		   "\tesac\n"
		   "done\n",
		   buf_str(&pat), buf_str(&pat));
	buf_printf(b, "GRUB_CMDLINE_LINUX_DEFAULT=\"${acso_keep:+$acso_keep }");
	for (size_t i = 0; i < p->params.n; i++)
		buf_printf(b, "%s%s", i ? " " : "", p->params.v[i]);
	buf_printf(b, "\"\n"
		      "[ -z \"$acso_noglob\" ] || set +f\n"
		      "unset acso_noglob acso_keep acso_word acso_hit\n");
	buf_free(&pat);
}

static char *dropin_text(const struct grub_plan *p, bool made_dir)
{
	struct buf b = {0};
	buf_printf(&b, DROPIN_HEAD "%s", made_dir ? DROPIN_MADE_DIR : "");
	buf_printf(&b, ""
		   "# Boot parameters for GPU passthrough: earlier values of the same parameters\n"
		   "# are removed from GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT, then\n"
		   "# they are appended to GRUB_CMDLINE_LINUX_DEFAULT.\n");
	emit_code(&b, p);
	char *r = xstrdup(buf_str(&b));
	buf_free(&b);
	return r;
}

static void set_cand(struct gfile *f, const char *text, size_t len)
{
	free(f->cand);
	f->cand = NULL;
	f->cand_len = 0;
	if (text) {
		f->cand = xmalloc(len + 1);
		memcpy(f->cand, text, len);
		f->cand[len] = '\0';
		f->cand_len = len;
	}
}

/* Each parameter exactly once, with our value. */
static int check_effective(const struct grub_plan *p, const struct grub_eval *ev, char *bad, size_t badlen)
{
	for (size_t i = 0; i < p->params.n; i++) {
		_cleanup_free_ char *name = xstrndup(p->params.v[i], name_len(p->params.v[i]));
		size_t c = cmdline_count(ev->cmdline, name);
		bool ours = cmdline_count_word(ev->cmdline, p->params.v[i]) == 1;
		if (c != 1 || !ours) {
			snprintf(bad, badlen, "'%s' appears %zu time%s%s", name, c, c == 1 ? "" : "s",
				 c == 1 ? " with another value" : "");
			return -1;
		}
	}
	if (p->set_default_saved) {
		const char *d = grub_eval_var(ev, "GRUB_DEFAULT");
		if (!d || strcmp(d, "saved")) {
			snprintf(bad, badlen, "GRUB_DEFAULT is '%s', not 'saved'", d ? d : "");
			return -1;
		}
	}
	return 0;
}

int grub_prepare(const char *root, int rootfd, struct grub_plan *p, struct acso_err *e)
{
	(void)root;
	struct gset s = {0};
	int r = gset_load(&s, rootfd, e);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < s.n; i++)
		if (s.v[i].orig && memmem(s.v[i].orig, s.v[i].orig_len, "\r\n", 2))
			p->crlf = true;
	p->pending = root_exists(rootfd, GRUB_PENDING) == 0;
	struct gfile *def = gset_find(&s, GRUB_DEFAULT_FILE);
	struct gfile *drop = gset_find(&s, GRUB_DROPIN);
	bool made_dir = root_exists(rootfd, GRUB_DROPIN_DIR) == -ENOENT ||
			(drop->orig && strstr(drop->orig, DROPIN_MADE_DIR));
	p->remove_dir = made_dir && p->remove;
	if (!def->orig && !p->remove) {
		r = err_set(e, -ACSO_E_NOTFOUND, "'%s' does not exist: is GRUB installed?", GRUB_DEFAULT_FILE);
		goto out;
	}

	/* The system as it is: also proves the files are valid shell. */
	r = eval_set(&s, W_ORIG, p->grubd_read, &p->before, e);
	if (r < 0)
		goto out;

	for (size_t i = 0; i < s.n; i++)
		set_cand(&s.v[i], s.v[i].clean, s.v[i].clean_len);
	if (p->remove) {
		p->method = GRUB_NONE;
		r = eval_set(&s, W_CAND, p->grubd_read, &p->after, e);
		if (r < 0)
			goto out;
	} else {
		char bad[256] = "";
		if (p->grubd_read) {
			p->dropin_text = dropin_text(p, made_dir);
			set_cand(drop, p->dropin_text, strlen(p->dropin_text));
			r = eval_set(&s, W_CAND, true, &p->after, e);
			if (r < 0)
				goto out;
			if (check_effective(p, &p->after, bad, sizeof(bad)) == 0) {
				p->method = GRUB_METHOD_DROPIN;
				goto planned;
			}
			/* A later file assigns the variable again: edit that file. */
			free(p->dropin_text);
			p->dropin_text = NULL;
			set_cand(drop, NULL, 0);
			grub_eval_free(&p->after);
		}
		/* The last file sourced decides: append our block there. */
		struct gfile *target = def;
		for (size_t i = 0; p->grubd_read && i < s.n; i++)
			if (s.v[i].clean && &s.v[i] != drop)
				target = &s.v[i];
		struct buf b = {0};
		bool need_nl = target->clean_len && target->clean[target->clean_len - 1] != '\n';
		buf_append(&b, target->clean, target->clean_len);
		if (need_nl)
			buf_append(&b, "\n", 1);
		buf_printf(&b, "%s", need_nl ? BLOCK_BEGIN_NL : BLOCK_BEGIN);
		emit_code(&b, p);
		buf_printf(&b, BLOCK_END);
		set_cand(target, b.data, b.len);
		buf_free(&b);
		r = eval_set(&s, W_CAND, p->grubd_read, &p->after, e);
		if (r < 0)
			goto out;
		if (check_effective(p, &p->after, bad, sizeof(bad)) < 0) {
			r = err_set(e, -ACSO_E_STATE, "after appending to '%s' the effective command line is still wrong: %s",
				    target->path, bad);
			goto out;
		}
		p->method = GRUB_METHOD_EDIT;
		p->edited = xstrdup(target->path);
	}
planned:
	for (size_t i = 0; i < s.n; i++) {
		struct gfile *f = &s.v[i];
		bool same = (!f->orig && !f->cand) ||
			    (f->orig && f->cand && f->orig_len == f->cand_len && !memcmp(f->orig, f->cand, f->cand_len));
		if (!same)
			strv_push(&p->changed, f->path);
	}
	/* Keep the file contents for commit/rollback. */
	p->priv = xcalloc(1, sizeof(struct gset));
	*(struct gset *)p->priv = s;
	return 0;
out:
	gset_free(&s);
	return r;
}

/* ---- writing ------------------------------------------------------------- */

/* Make the missing directory dir (grub.d) with the file base already in
 * it: a staging directory renamed into place. A power cut leaves either no
 * directory (the next run still knows that acso makes it, and says so in
 * the drop-in) or the directory with the file, never an empty one. 1 when
 * done, 0 when the directory appeared meanwhile (write into it), -errno. */
static int put_file_in_new_dir(int rootfd, const char *dir, const char *base, const char *text, size_t len)
{
	_cleanup_free_ char *up = xstrndup(dir, (size_t)(strrchr(dir, '/') - dir));
	const char *name = strrchr(dir, '/') + 1;
	_cleanup_close_ int ufd = root_opendir_fd(rootfd, *up ? up : "/");
	if (ufd < 0)
		return ufd;
	_cleanup_free_ char *stage = xasprintf(".%s.acso-tmp.%d", name, (int)getpid());
	rm_rf_at(ufd, stage);
	if (mkdirat(ufd, stage, 0755) < 0)
		return -errno;
	_cleanup_close_ int sfd = openat(ufd, stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int r = sfd < 0 ? -errno : write_file_atomic(sfd, base, text, len, 0644, 0);
	if (r >= 0 && renameat(ufd, stage, ufd, name) < 0)
		r = errno == EEXIST || errno == ENOTEMPTY ? 0 : -errno;
	else if (r >= 0)
		r = 1;
	if (r <= 0)
		rm_rf_at(ufd, stage);
	else
		fsync(ufd);
	return r;
}

/* Write (or, for NULL text, delete) one root path through its directory. */
static int put_file(int rootfd, const char *path, const char *text, size_t len, unsigned flags)
{
	_cleanup_free_ char *dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
	const char *base = strrchr(path, '/') + 1;
	_cleanup_close_ int dfd = root_opendir_fd(rootfd, *dir ? dir : "/");
	if (dfd == -ENOENT && text) {
		int r = put_file_in_new_dir(rootfd, dir, base, text, len);
		if (r != 0)
			return r < 0 ? r : 0;
		dfd = root_opendir_fd(rootfd, dir);
	}
	if (dfd < 0)
		return text ? dfd : (dfd == -ENOENT ? 0 : dfd);
	if (!text) {
		if (unlinkat(dfd, base, 0) < 0 && errno != ENOENT)
			return -errno;
		fsync(dfd);
		return 0;
	}
	int r = write_file_atomic(dfd, base, text, len, 0644, flags);
	return r < 0 ? r : 0;
}

/* mkdir -p of a root path, each parent resolved inside the root. */
static int root_mkdir_p(int rootfd, const char *path)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		char *slash = strrchr(p, '/');
		_cleanup_free_ char *parent = xstrndup(p, (size_t)(slash - p));
		_cleanup_close_ int pfd = root_opendir_fd(rootfd, *parent ? parent : "/");
		if (pfd < 0)
			return pfd;
		if (mkdirat(pfd, slash + 1, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = c;
		if (!c)
			return 0;
	}
}

static int set_pending(int rootfd, bool on)
{
	if (!on) {
		_cleanup_close_ int dfd = root_opendir_fd(rootfd, "/var/lib/acso");
		if (dfd >= 0)
			unlinkat(dfd, "grub-pending", 0);
		return 0;
	}
	int r = root_mkdir_p(rootfd, "/var/lib/acso");
	if (r < 0)
		return r;
	static const char text[] = "acso changed /etc/default/grub*; grub.cfg is not regenerated yet\n";
	return put_file(rootfd, GRUB_PENDING, text, sizeof(text) - 1, 0);
}

void grub_pending_clear(int rootfd)
{
	set_pending(rootfd, false);
}

int grub_rollback(int rootfd, struct grub_plan *p, struct acso_err *e)
{
	struct gset *s = p->priv;
	int first = 0;
	for (size_t i = 0; s && i < s->n; i++) {
		struct gfile *f = &s->v[i];
		if (!f->written)
			continue;
		int r = put_file(rootfd, f->path, f->orig, f->orig_len, 0);
		if (r < 0 && !first)
			first = err_set(e, r, "cannot restore '%s': %s", f->path, acso_strerror(r));
		else if (r == 0)
			f->written = false;
	}
	return first;
}

/* Temp files of an atomic write interrupted by kill -9 or power loss
 * (".NAME.acso-tmp.PID"), and staging directories of a grub.d that was not
 * renamed into place: never sourced (not *.cfg), but not ours to keep. */
static void remove_stale_temps(int rootfd, const char *dir)
{
	DIR *d = root_opendir(rootfd, dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] == '.' && strstr(de->d_name, ".acso-tmp."))
			rm_rf_at(dirfd(d), de->d_name);
	closedir(d);
}

int grub_commit(int rootfd, struct grub_plan *p, bool mark_pending, struct acso_err *e)
{
	struct gset *s = p->priv;
	if (!s)
		return err_set(e, -EINVAL, "nothing planned");
	remove_stale_temps(rootfd, "/etc/default");
	remove_stale_temps(rootfd, GRUB_DROPIN_DIR);
	if (p->changed.n && mark_pending) {
		int r = set_pending(rootfd, true);
		if (r < 0)
			return err_set(e, r, "cannot write '%s': %s", GRUB_PENDING, acso_strerror(r));
	}
	/* The drop-in/edit order does not matter for correctness (see the top
	 * of this file); removals go first so a failure leaves less behind. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < s->n; i++) {
			struct gfile *f = &s->v[i];
			bool same = (!f->orig && !f->cand) ||
				    (f->orig && f->cand && f->orig_len == f->cand_len &&
				     !memcmp(f->orig, f->cand, f->cand_len));
			if (same || (pass == 0) != (f->cand == NULL))
				continue;
			f->written = true; /* even a partial failure is rolled back */
			int r = put_file(rootfd, f->path, f->cand, f->cand_len, WRITE_BACKUP);
			if (r < 0) {
				err_set(e, r, "cannot write '%s': %s", f->path, acso_strerror(r));
				struct acso_err e2 = {0};
				if (grub_rollback(rootfd, p, &e2) < 0)
					err_wrap(e, r, "%s; and restoring failed: %s", e->msg, e2.msg);
				return r;
			}
		}
	}
	if (p->remove_dir) {
		_cleanup_close_ int dfd = root_opendir_fd(rootfd, "/etc/default");
		if (dfd >= 0)
			unlinkat(dfd, "grub.d", AT_REMOVEDIR); /* only when empty */
	}
	return 0;
}

/* ---- regeneration, entries, defaults ------------------------------------ */

static bool root_has_prog(int rootfd, const char *name)
{
	static const char *const dirs[] = {"/usr/sbin", "/usr/bin", "/sbin", "/bin"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dirs[i], name);
		if (root_exists(rootfd, p) == 0)
			return true;
	}
	return false;
}

static bool have_prog(const char *root, int rootfd, const char *name)
{
	if (strcmp(root, "/"))
		return root_has_prog(rootfd, name);
	_cleanup_free_ char *p = spawn_which(name);
	return p != NULL;
}

static void push_prefix(struct strv *argv, const char *root)
{
	if (strcmp(root, "/")) {
		strv_push(argv, "chroot");
		strv_push(argv, root);
	}
}

int grub_regen_argv(const char *root, int rootfd, struct strv *argv, struct acso_err *e)
{
	push_prefix(argv, root);
	if (have_prog(root, rootfd, "update-grub")) {
		strv_push(argv, "update-grub");
	} else if (have_prog(root, rootfd, "grub-mkconfig")) {
		strv_push(argv, "grub-mkconfig");
		strv_push(argv, "-o");
		strv_push(argv, "/boot/grub/grub.cfg");
	} else if (have_prog(root, rootfd, "grub2-mkconfig")) {
		strv_push(argv, "grub2-mkconfig");
		strv_push(argv, "-o");
		strv_push(argv, "/boot/grub2/grub.cfg");
	} else {
		strv_free(argv);
		return err_set(e, -ACSO_E_NOTFOUND, "none of update-grub, grub-mkconfig, grub2-mkconfig is installed");
	}
	return 0;
}

/* The id after $menuentry_id_option on a menuentry/submenu line. */
static char *entry_id(const char *line)
{
	const char *p = strstr(line, "$menuentry_id_option");
	if (!p)
		return NULL;
	p += strlen("$menuentry_id_option");
	p += strspn(p, " \t");
	if (*p != '\'')
		return NULL;
	const char *q = strchr(p + 1, '\'');
	return q ? xstrndup(p + 1, (size_t)(q - p - 1)) : NULL;
}

int grub_entry_for(int rootfd, const char *release, char **out, struct acso_err *e)
{
	_cleanup_free_ char *cfg = NULL;
	const char *path = "/boot/grub/grub.cfg";
	int r = root_read_file(rootfd, path, (size_t)16 << 20, &cfg, NULL);
	if (r == -ENOENT) {
		path = "/boot/grub2/grub.cfg";
		r = root_read_file(rootfd, path, (size_t)16 << 20, &cfg, NULL);
	}
	if (r < 0)
		return err_set(e, r, "cannot read '%s': %s", path, acso_strerror(r));
	_cleanup_free_ char *want = xasprintf("gnulinux-%s-advanced-", release);
	_cleanup_free_ char *sub = NULL;
	for (char *line = cfg; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		const char *t = line + strspn(line, " \t");
		if (startswith(t, "submenu ")) {
			free(sub);
			sub = entry_id(t);
		} else if (line[0] == '}') {
			free(sub);
			sub = NULL;
		} else if (startswith(t, "menuentry ")) {
			_cleanup_free_ char *id = entry_id(t);
			if (id && startswith(id, want)) {
				*out = sub ? xasprintf("%s>%s", sub, id) : xstrdup(id);
				return 0;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return err_set(e, -ACSO_E_NOTFOUND, "no boot entry for kernel %s in '%s'", release, path);
}

int grub_make_default(const char *root, int rootfd, const char *release, struct acso_err *e)
{
	_cleanup_free_ char *entry = NULL;
	int r = grub_entry_for(rootfd, release, &entry, e);
	if (r < 0)
		return r;
	struct strv argv = {0};
	push_prefix(&argv, root);
	strv_push(&argv, "grub-set-default");
	strv_push(&argv, entry);
	struct spawn_opts o = {.log_fd = -1, .quiet = true};
	r = spawn_check((const char *const *)argv.v, &o, e);
	strv_free(&argv);
	return r;
}

/* ---- other boot managers -------------------------------------------------- */

enum bootmgr bootmgr_detect(int rootfd)
{
	if (root_has_prog(rootfd, "kernelstub"))
		return BOOT_KERNELSTUB;
	if (root_has_prog(rootfd, "grubby"))
		return BOOT_GRUBBY;
	if (root_exists(rootfd, GRUB_DEFAULT_FILE) == 0)
		return BOOT_GRUB;
	if (root_exists(rootfd, "/etc/kernel/cmdline") == 0 || root_has_prog(rootfd, "kernel-install"))
		return BOOT_SYSTEMD_BOOT;
	return BOOT_UNKNOWN;
}

const char *bootmgr_name(enum bootmgr b)
{
	switch (b) {
	case BOOT_GRUB: return "grub";
	case BOOT_SYSTEMD_BOOT: return "systemd-boot";
	case BOOT_KERNELSTUB: return "kernelstub";
	case BOOT_GRUBBY: return "grubby";
	default: return "unknown";
	}
}

int kernel_cmdline_plan(int rootfd, const struct strv *params, bool remove, char **old, char **new_text,
			struct acso_err *e)
{
	size_t len = 0;
	int r = root_read_file(rootfd, "/etc/kernel/cmdline", 64 << 10, old, &len);
	_cleanup_free_ char *base = NULL;
	if (r == -ENOENT) {
		/* kernel-install falls back to /proc/cmdline without these */
		*old = NULL;
		_cleanup_free_ char *proc = NULL;
		r = root_read_file(rootfd, "/proc/cmdline", 64 << 10, &proc, NULL);
		if (r < 0)
			return err_set(e, r, "cannot read '/proc/cmdline': %s", acso_strerror(r));
		struct strv drop = {0};
		strv_push(&drop, "BOOT_IMAGE=");
		strv_push(&drop, "initrd=");
		base = cmdline_apply(proc, &drop, false);
		strv_free(&drop);
	} else if (r < 0) {
		return err_set(e, r, "cannot read '/etc/kernel/cmdline': %s", acso_strerror(r));
	} else {
		base = xstrdup(*old);
	}
	_cleanup_free_ char *line = cmdline_apply(base, params, !remove);
	*new_text = xasprintf("%s\n", line);
	return 0;
}
