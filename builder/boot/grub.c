/* grub.c — see grub.h.
 *
 * The GRUB config files are shell, sourced by grub-mkconfig: /etc/default/grub
 * and then every /etc/default/grub.d/NAME.cfg in glob order. We never edit them
 * by regex alone: every candidate set of files is written to a scratch copy
 * and evaluated with /bin/sh the way grub-mkconfig does, and only a candidate
 * whose effective command line holds each parameter exactly once is written
 * to the real files. The code acso adds leaves a parameter that is already
 * right where it is and replaces another value of it in place, so any
 * combination of acso's drop-in and acso's appended block (say after a kill
 * -9 between two renames) still yields each parameter once.
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

#include "base/err.h"
#include "base/fileio.h"
#include "boot/grub.h"
#include "base/spawn.h"
#include "base/util.h"

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
	/* per parameter: 0 not placed yet, 1 placed; have: right somewhere already */
	_cleanup_free_ char *placed = xcalloc(params->n + 1, 1);
	_cleanup_free_ char *have = xcalloc(params->n + 1, 1);
	for (size_t i = 0; add && i < params->n; i++)
		have[i] = cmdline_count_word(cmdline, params->v[i]) > 0;
	for (const char *p = cmdline; p && *p;) {
		p += strspn(p, " \t\n");
		size_t len = strcspn(p, " \t\n");
		const char *word = p;
		size_t wlen = len;
		for (size_t i = 0; i < params->n && len; i++) {
			_cleanup_free_ char *name = xstrndup(params->v[i], name_len(params->v[i]));
			if (!word_is(p, len, name))
				continue;
			bool same = len == strlen(params->v[i]) && !memcmp(p, params->v[i], len);
			/* keep the first right word, or replace the first other
			 * value where it is; every further word of the name goes */
			if (add && !placed[i] && (!have[i] || same)) {
				placed[i] = 1;
				word = params->v[i];
				wlen = strlen(word);
			} else {
				wlen = 0;
			}
			break;
		}
		if (wlen) {
			if (b.len)
				buf_append(&b, " ", 1);
			buf_append(&b, word, wlen);
		}
		p += len;
	}
	for (size_t i = 0; add && i < params->n; i++) {
		if (placed[i])
			continue;
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

/* Shell code that puts each parameter on the command line exactly once,
 * disturbing as little of the user's as it can: a parameter already present
 * with our value, in either variable, stays where the user put it (the first
 * such word is kept); otherwise the first word with another value is
 * replaced where it is; any further word of the same name goes; a parameter
 * found nowhere is appended to GRUB_CMDLINE_LINUX_DEFAULT. A variable is
 * reassigned only when one of its words changed, so its value is otherwise
 * untouched (GRUB_CMDLINE_LINUX also feeds the recovery entries). Words are
 * split with globbing off. */
static void emit_code(struct buf *b, const struct grub_plan *p)
{
	static const char *const vars[] = {"GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT"};
	if (p->set_default_saved)
		buf_printf(b, "GRUB_DEFAULT=saved\n");
	buf_printf(b, "case $- in *f*) acso_noglob= ;; *) acso_noglob=1; set -f ;; esac\n"
		      "for acso_param in");
	for (size_t i = 0; i < p->params.n; i++)
		buf_printf(b, " %s", p->params.v[i]);
	buf_printf(b, "; do\n"
		      "\tacso_name=${acso_param%%%%=*} acso_have= acso_done=\n"
		      "\tfor acso_word in ${GRUB_CMDLINE_LINUX-} ${GRUB_CMDLINE_LINUX_DEFAULT-}; do\n"
		      "\t\t[ \"$acso_word\" != \"$acso_param\" ] || acso_have=1\n"
		      "\tdone\n");
	for (size_t v = 0; v < ARRAY_SIZE(vars); v++)
		buf_printf(b,
			   "\tacso_keep= acso_hit=\n"
			   "\tfor acso_word in ${%s-}; do\n"
			   "\t\tcase $acso_word in\n"
			   "\t\t\"$acso_name\"|\"$acso_name\"=*)\n"
			   "\t\t\tif [ -z \"$acso_done\" ] && { [ -z \"$acso_have\" ] || [ \"$acso_word\" = \"$acso_param\" ]; }; then\n"
			   "\t\t\t\tacso_done=1\n"
			   "\t\t\t\t[ \"$acso_word\" = \"$acso_param\" ] || acso_hit=1\n"
			   "\t\t\t\tacso_word=$acso_param\n"
			   "\t\t\telse\n"
			   "\t\t\t\tacso_hit=1\n"
			   "\t\t\t\tcontinue\n"
			   "\t\t\tfi ;;\n"
			   "\t\tesac\n"
			   "\t\tacso_keep=\"${acso_keep:+$acso_keep }$acso_word\"\n"
			   "\tdone\n"
			   "\t[ -z \"$acso_hit\" ] || %s=$acso_keep\n",
			   vars[v], vars[v]);
	buf_printf(b, "\t[ -n \"$acso_done\" ] ||\n"
		      "\t\tGRUB_CMDLINE_LINUX_DEFAULT=\"${GRUB_CMDLINE_LINUX_DEFAULT:+$GRUB_CMDLINE_LINUX_DEFAULT }$acso_param\"\n"
		      "done\n"
		      "[ -z \"$acso_noglob\" ] || set +f\n"
		      "unset acso_noglob acso_param acso_name acso_have acso_done acso_keep acso_hit acso_word\n");
}

static char *dropin_text(const struct grub_plan *p, bool made_dir)
{
	struct buf b = {0};
	buf_printf(&b, DROPIN_HEAD "%s", made_dir ? DROPIN_MADE_DIR : "");
	buf_printf(&b, ""
		   "# Boot parameters for GPU passthrough, each once: one already right in\n"
		   "# GRUB_CMDLINE_LINUX or GRUB_CMDLINE_LINUX_DEFAULT stays where it is, another\n"
		   "# value is replaced where it is, a missing one is appended to\n"
		   "# GRUB_CMDLINE_LINUX_DEFAULT.\n");
	emit_code(&b, p);
	char *r = xstrdup(buf_str(&b));
	buf_free(&b);
	return r;
}

/* Contents that may be absent (NULL) and may hold NUL bytes. */
static bool same_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	return (!a && !b) || (a && b && alen == blen && !memcmp(a, b, alen));
}

static void set_bytes(char **dst, size_t *dst_len, const char *src, size_t len)
{
	free(*dst);
	*dst = NULL;
	*dst_len = 0;
	if (src) {
		*dst = xmalloc(len + 1);
		memcpy(*dst, src, len);
		(*dst)[len] = '\0';
		*dst_len = len;
	}
}

static void set_cand(struct gfile *f, const char *text, size_t len)
{
	set_bytes(&f->cand, &f->cand_len, text, len);
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
		if (!same_bytes(f->orig, f->orig_len, f->cand, f->cand_len))
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
 * renamed into place: never sourced (not *.cfg), but not ours to keep once
 * their process is gone (a running acso may still be writing its own). */
static void remove_stale_temps(int rootfd, const char *dir)
{
	DIR *d = root_opendir(rootfd, dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *mark = de->d_name[0] == '.' ? strstr(de->d_name, ".acso-tmp.") : NULL;
		uint32_t pid;
		if (mark && parse_u32(mark + strlen(".acso-tmp."), 10, &pid) == 0 && process_gone((pid_t)pid))
			rm_rf_at(dirfd(d), de->d_name);
	}
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
			if (same_bytes(f->orig, f->orig_len, f->cand, f->cand_len) || (pass == 0) != (f->cand == NULL))
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

int grub_set_default(const char *root, const char *entry, struct acso_err *e)
{
	struct strv argv = {0};
	push_prefix(&argv, root);
	strv_push(&argv, "grub-set-default");
	strv_push(&argv, entry);
	struct spawn_opts o = {.log_fd = -1, .quiet = true};
	int r = spawn_check((const char *const *)argv.v, &o, e);
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

/* ---- systemd-boot: /etc/kernel/cmdline ---------------------------------------
 *
 * kernel-install reads one command line from this file. To take back exactly
 * what it added, acso keeps the file from before its first add as
 * cmdline.acso-bak (the backup every replaced file gets) and, in
 * KCMDLINE_RECORD, what it last wrote and which words it added. --remove
 * restores the file (or its absence) when the file is still what acso wrote;
 * after a change of the user's it takes out only acso's words. */

#define KC_MAX ((size_t)64 << 10)
#define KC_RECORD_HEAD "# acso: what `acso grub` wrote to /etc/kernel/cmdline (after the empty line), for `acso grub --remove`\n"
#define KC_WS " \t\n"

enum kc_before { KC_ABSENT, KC_BACKUP, KC_EDITED };
static const char *const kc_before_names[] = {"absent", "backup", "edited"};

struct kc_record {
	enum kc_before before;
	bool made_dir;          /* acso created /etc/kernel */
	struct strv added;      /* the words acso added */
	char *wrote;            /* what acso last wrote */
	size_t wrote_len;
};

static void kc_record_free(struct kc_record *r)
{
	strv_free(&r->added);
	free(r->wrote);
	memset(r, 0, sizeof(*r));
}

static void split_words(const char *text, struct strv *out)
{
	for (const char *p = text; p && *p;) {
		p += strspn(p, KC_WS);
		size_t len = strcspn(p, KC_WS);
		if (len) {
			_cleanup_free_ char *w = xstrndup(p, len);
			strv_push(out, w);
		}
		p += len;
	}
}

/* -ENOENT when there is no record; -ACSO_E_PARSE when it is not acso's. */
static int kc_record_read(int rootfd, struct kc_record *rec, struct acso_err *e)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = root_read_file(rootfd, KCMDLINE_RECORD, KC_MAX + 4096, &text, &len);
	if (r == -ENOENT)
		return r;
	if (r < 0)
		return err_set(e, r, "cannot read '%s': %s", KCMDLINE_RECORD, acso_strerror(r));
	const char *end = len >= strlen(KC_RECORD_HEAD) ? memmem(text, len, "\n\n", 2) : NULL;
	if (!startswith(text, KC_RECORD_HEAD) || !end)
		goto bad;
	bool have_before = false;
	for (char *line = text + strlen(KC_RECORD_HEAD); line <= end;) {
		char *nl = strchr(line, '\n');
		*nl = '\0';
		if (!strcmp(line, "made-dir")) {
			rec->made_dir = true;
		} else if (startswith(line, "added ")) {
			split_words(line + 6, &rec->added);
		} else if (startswith(line, "before ")) {
			for (size_t i = 0; i < ARRAY_SIZE(kc_before_names); i++)
				if (!strcmp(line + 7, kc_before_names[i])) {
					rec->before = (enum kc_before)i;
					have_before = true;
				}
		}
		line = nl + 1;
	}
	if (!have_before)
		goto bad;
	size_t off = (size_t)(end - text) + 2;
	rec->wrote_len = len - off;
	rec->wrote = xmalloc(rec->wrote_len + 1);
	memcpy(rec->wrote, text + off, rec->wrote_len);
	rec->wrote[rec->wrote_len] = '\0';
	return 0;
bad:
	kc_record_free(rec);
	return err_set(e, -ACSO_E_PARSE, "'%s' is not a record acso wrote; move it away", KCMDLINE_RECORD);
}

static char *kc_record_text(const struct kc_record *rec, size_t *len)
{
	struct buf b = {0};
	buf_printf(&b, KC_RECORD_HEAD "before %s\n%sadded", kc_before_names[rec->before],
		   rec->made_dir ? "made-dir\n" : "");
	for (size_t i = 0; i < rec->added.n; i++)
		buf_printf(&b, " %s", rec->added.v[i]);
	buf_printf(&b, "\n\n");
	buf_append(&b, rec->wrote, rec->wrote_len);
	return buf_take(&b, len);
}

/* text without the words in `words`, everything else byte for byte: a
 * word goes with the white space before it (the first word kept loses
 * the white space between it and the words taken out before it). */
static char *remove_words(const char *text, size_t len, const struct strv *words, size_t *out_len)
{
	struct buf b = {0};
	size_t i = strspn(text, KC_WS);
	if (i > len)
		i = len;
	buf_append(&b, text, i); /* leading white space */
	bool kept = false;
	while (i < len) {
		size_t ws = i;
		i += strspn(text + i, KC_WS);
		size_t w0 = i;
		i += strcspn(text + i, KC_WS);
		if (i > len)
			i = len;
		if (w0 >= len) { /* trailing white space */
			buf_append(&b, text + ws, len - ws);
			break;
		}
		_cleanup_free_ char *w = xstrndup(text + w0, i - w0);
		if (strv_has(words, w))
			continue;
		if (kept)
			buf_append(&b, text + ws, w0 - ws);
		buf_append(&b, text + w0, i - w0);
		kept = true;
	}
	return buf_take(&b, out_len);
}

/* What kernel-install uses without /etc/kernel/cmdline: /usr/lib/kernel/cmdline,
 * else /proc/cmdline without the boot loader's BOOT_IMAGE= and initrd=. */
static int kc_default_line(int rootfd, char **out, struct acso_err *e)
{
	int r = root_read_file(rootfd, "/usr/lib/kernel/cmdline", KC_MAX, out, NULL);
	if (r != -ENOENT)
		return r < 0 ? err_set(e, r, "cannot read '/usr/lib/kernel/cmdline': %s", acso_strerror(r)) : 0;
	_cleanup_free_ char *proc = NULL;
	r = root_read_file(rootfd, "/proc/cmdline", KC_MAX, &proc, NULL);
	if (r < 0)
		return err_set(e, r, "cannot read '/proc/cmdline': %s", acso_strerror(r));
	struct strv drop = {0};
	strv_push(&drop, "BOOT_IMAGE=");
	strv_push(&drop, "initrd=");
	*out = cmdline_apply(proc, &drop, false);
	strv_free(&drop);
	return 0;
}

void kcmdline_plan_free(struct kcmdline_plan *p)
{
	free(p->cur);
	free(p->text);
	free(p->record);
	strv_free(&p->words);
	memset(p, 0, sizeof(*p));
}

int kcmdline_prepare(int rootfd, const struct strv *params, bool remove, struct kcmdline_plan *p,
		     struct acso_err *e)
{
	struct kc_record rec = {0};
	_cleanup_free_ char *bak = NULL, *base = NULL, *line = NULL, *same = NULL;
	p->remove = remove;
	size_t bak_len = 0;
	int r = root_read_file(rootfd, KCMDLINE_FILE, KC_MAX, &p->cur, &p->cur_len);
	if (r == -ENOENT)
		p->cur = NULL;
	else if (r == -EFBIG)
		return err_set(e, -ACSO_E_TOOBIG, "'%s' is larger than %zu bytes", KCMDLINE_FILE, KC_MAX);
	else if (r < 0)
		return err_set(e, r, "cannot read '%s': %s", KCMDLINE_FILE, acso_strerror(r));
	r = kc_record_read(rootfd, &rec, e);
	if (r < 0 && r != -ENOENT)
		return r;
	bool have_rec = r == 0;
	if (have_rec && rec.before == KC_BACKUP) {
		r = root_read_file(rootfd, KCMDLINE_FILE ".acso-bak", KC_MAX, &bak, &bak_len);
		if (r < 0 && r != -ENOENT) {
			kc_record_free(&rec);
			return err_set(e, r, "cannot read '%s.acso-bak': %s", KCMDLINE_FILE, acso_strerror(r));
		}
	}
	/* The file as it was before acso: a write that never happened (killed
	 * between the record and the file), or undone by hand. */
	if (have_rec && ((rec.before == KC_ABSENT && !p->cur) ||
			 (rec.before == KC_BACKUP && bak && same_bytes(p->cur, p->cur_len, bak, bak_len)))) {
		have_rec = false;
		p->record_changed = true; /* delete it, or replace it below */
	}
	bool ours = have_rec && same_bytes(p->cur, p->cur_len, rec.wrote, rec.wrote_len);

	if (remove) {
		if (!have_rec) {
			set_bytes(&p->text, &p->text_len, p->cur, p->cur_len);
			goto out;
		}
		for (size_t i = 0; i < rec.added.n; i++)
			strv_push(&p->words, rec.added.v[i]);
		p->record_changed = true;
		if (ours && rec.before == KC_ABSENT) {
			p->undo = KC_UNDO_DELETE;
			p->remove_dir = rec.made_dir;
		} else if (ours && rec.before == KC_BACKUP && bak) {
			p->undo = KC_UNDO_RESTORE;
			set_bytes(&p->text, &p->text_len, bak, bak_len);
		} else {
			p->undo = KC_UNDO_WORDS;
			if (p->cur)
				p->text = remove_words(p->cur, p->cur_len, &rec.added, &p->text_len);
		}
		p->changed = !same_bytes(p->cur, p->cur_len, p->text, p->text_len);
		goto out;
	}

	if (p->cur) {
		base = xstrdup(p->cur);
	} else if ((r = kc_default_line(rootfd, &base, e)) < 0) {
		kc_record_free(&rec);
		return r;
	}
	line = cmdline_apply(base, params, true);
	struct strv none = {0};
	if (p->cur)
		same = cmdline_apply(base, &none, false);
	if (same && !strcmp(same, line)) /* every parameter right already: the file as it is */
		set_bytes(&p->text, &p->text_len, p->cur, p->cur_len);
	else {
		p->text = xasprintf("%s\n", line);
		p->text_len = strlen(p->text);
	}
	for (size_t i = 0; i < params->n; i++)
		strv_push(&p->words, params->v[i]);
	p->changed = !same_bytes(p->cur, p->cur_len, p->text, p->text_len);
	if (!p->changed) {
		p->record_changed = false; /* nothing to write: a left-over record stays until it matters */
		goto out;
	}
	/* The words acso adds: those of the new line the old one did not have,
	 * and those it added before that are still there. */
	struct strv old_words = {0}, new_words = {0}, added = {0};
	split_words(base, &old_words);
	split_words(p->text, &new_words);
	for (size_t i = 0; i < new_words.n; i++)
		if ((!strv_has(&old_words, new_words.v[i]) || (have_rec && strv_has(&rec.added, new_words.v[i]))) &&
		    !strv_has(&added, new_words.v[i]))
			strv_push(&added, new_words.v[i]);
	strv_free(&old_words);
	strv_free(&new_words);
	if (!have_rec) {
		/* acso's first add: keep the file as it is now */
		rec.before = p->cur ? KC_BACKUP : KC_ABSENT;
		rec.made_dir = root_exists(rootfd, "/etc/kernel") == -ENOENT;
		p->backup = p->cur != NULL;
		p->make_dir = rec.made_dir;
	} else if (!ours) {
		/* changed since acso wrote it: an exact undo would lose that */
		rec.before = KC_EDITED;
	}
	strv_free(&rec.added);
	rec.added = added;
	set_bytes(&rec.wrote, &rec.wrote_len, p->text, p->text_len);
	p->record = kc_record_text(&rec, &p->record_len);
	p->record_changed = true;
out:
	kc_record_free(&rec);
	return 0;
}

/* Write one of acso's records under /var/lib/acso, or with NULL text delete
 * it (and /var/lib/acso when that leaves it empty). */
static int put_record(int rootfd, const char *path, const char *text, size_t len, struct acso_err *e)
{
	if (text) {
		int r = root_mkdir_p(rootfd, "/var/lib/acso");
		if (r == 0)
			r = put_file(rootfd, path, text, len, 0);
		return r < 0 ? err_set(e, r, "cannot write '%s': %s", path, acso_strerror(r)) : 0;
	}
	_cleanup_close_ int dfd = root_opendir_fd(rootfd, "/var/lib/acso");
	if (dfd >= 0 && unlinkat(dfd, strrchr(path, '/') + 1, 0) < 0 && errno != ENOENT)
		return err_set(e, -errno, "cannot delete '%s': %s", path, strerror(errno));
	_cleanup_close_ int lib = root_opendir_fd(rootfd, "/var/lib");
	if (lib >= 0)
		unlinkat(lib, "acso", AT_REMOVEDIR); /* only when empty: nothing else of acso's there */
	return 0;
}

int kcmdline_commit(int rootfd, const struct kcmdline_plan *p, struct acso_err *e)
{
	int r;
	if (p->make_dir && (r = root_mkdir_p(rootfd, "/etc/kernel")) < 0)
		return err_set(e, r, "cannot create '/etc/kernel': %s", acso_strerror(r));
	/* In this order, a run killed anywhere leaves a state the next one
	 * reads right: the backup, the record, then the file. */
	if (p->backup) {
		_cleanup_close_ int dfd = root_opendir_fd(rootfd, "/etc/kernel");
		r = dfd < 0 ? dfd : backup_file_at(dfd, "cmdline", 0);
		if (r < 0)
			return err_set(e, r, "cannot write '%s.acso-bak': %s", KCMDLINE_FILE, acso_strerror(r));
	}
	if (p->record_changed && p->record && (r = put_record(rootfd, KCMDLINE_RECORD, p->record, p->record_len, e)) < 0)
		return r;
	if (p->changed) {
		/* no WRITE_BACKUP: cmdline.acso-bak stays the file from before
		 * acso, which is how a record left by a killed run is recognised */
		r = put_file(rootfd, KCMDLINE_FILE, p->text, p->text_len, 0);
		if (r < 0)
			return err_set(e, r, "cannot %s '%s': %s", p->text ? "write" : "delete", KCMDLINE_FILE,
				       acso_strerror(r));
	}
	if (p->remove_dir) {
		_cleanup_close_ int dfd = root_opendir_fd(rootfd, "/etc");
		if (dfd >= 0)
			unlinkat(dfd, "kernel", AT_REMOVEDIR); /* only when empty */
	}
	if (p->record_changed && !p->record)
		return put_record(rootfd, KCMDLINE_RECORD, NULL, 0, e);
	return 0;
}

/* ---- kernelstub, grubby: what acso passed them ------------------------------ */

#define BP_RECORD_HEAD "# acso: the boot parameters acso gave kernelstub or grubby, for `acso grub --remove`\n"

int boot_params_read(int rootfd, struct strv *params, struct acso_err *e)
{
	_cleanup_free_ char *text = NULL;
	int r = root_read_file(rootfd, BOOT_PARAMS_RECORD, KC_MAX, &text, NULL);
	if (r == -ENOENT)
		return r;
	if (r < 0)
		return err_set(e, r, "cannot read '%s': %s", BOOT_PARAMS_RECORD, acso_strerror(r));
	if (!startswith(text, BP_RECORD_HEAD))
		return err_set(e, -ACSO_E_PARSE, "'%s' is not a record acso wrote; move it away", BOOT_PARAMS_RECORD);
	split_words(text + strlen(BP_RECORD_HEAD), params);
	return 0;
}

int boot_params_write(int rootfd, const struct strv *params, struct acso_err *e)
{
	if (!params || !params->n)
		return put_record(rootfd, BOOT_PARAMS_RECORD, NULL, 0, e);
	struct buf b = {0};
	buf_printf(&b, BP_RECORD_HEAD);
	for (size_t i = 0; i < params->n; i++)
		buf_printf(&b, "%s%s", i ? " " : "", params->v[i]);
	buf_printf(&b, "\n");
	int r = put_record(rootfd, BOOT_PARAMS_RECORD, b.data, b.len, e);
	buf_free(&b);
	return r;
}
