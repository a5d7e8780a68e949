/* grub.c — see grub.h: the change to /etc/default/grub* planned, written
 * and rolled back (the drop-in, else the appended block, and the pending
 * mark until grub.cfg is regenerated).
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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/util.h"
#include "boot/boot-int.h"
#include "boot/cmdline.h"
#include "boot/grub.h"

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

static void set_cand(struct gfile *f, const char *text, size_t len)
{
	set_bytes(&f->cand, &f->cand_len, text, len);
}

/* Each parameter exactly once, with our value. */
static int check_effective(const struct grub_plan *p, const struct grub_eval *ev, char *bad, size_t badlen)
{
	for (size_t i = 0; i < p->params.n; i++) {
		_cleanup_free_ char *name = xstrndup(p->params.v[i], cmdline_name_len(p->params.v[i]));
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
	if (p->remove) {
		/* the backup of acso's own drop-in is acso's too: left behind it
		 * would keep the grub.d acso made from being empty */
		_cleanup_free_ char *bak = xasprintf("%s.acso-bak", GRUB_DROPIN);
		int r = put_file(rootfd, bak, NULL, 0, 0);
		if (r < 0)
			return err_set(e, r, "cannot remove '%s': %s", bak, acso_strerror(r));
	}
	if (p->remove_dir) {
		_cleanup_close_ int dfd = root_opendir_fd(rootfd, "/etc/default");
		if (dfd >= 0)
			unlinkat(dfd, "grub.d", AT_REMOVEDIR); /* only when empty */
	}
	return 0;
}
